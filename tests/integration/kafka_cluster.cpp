#include "tests/integration/kafka_cluster.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http/client.hpp"

#ifndef ENCORE_BINARY
#error "ENCORE_BINARY (the path of the encore executable) must be defined by the build"
#endif

namespace encore::test {
namespace {

using encore::http::http_client;
using clock_type = std::chrono::steady_clock;
constexpr std::string_view serving_prefix = "encore serving on http://";
constexpr std::chrono::milliseconds exit_poll_interval{5};
constexpr std::chrono::milliseconds balance_poll_interval{100};
constexpr std::chrono::milliseconds control_timeout{10'000};
constexpr std::chrono::milliseconds probe_timeout{2'000};

std::mutex live_mutex;
std::vector<const kafka_cluster*> live_clusters;

std::string make_root_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "encore-kafka-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error(std::string("mkdtemp failed: ") + std::strerror(errno));
    return std::string(buffer.data());
}

std::string read_tail(const std::string& path, std::size_t bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "<no stderr file>";
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::size_t>(in.tellg());
    const std::size_t from = size > bytes ? size - bytes : 0;
    in.seekg(static_cast<std::streamoff>(from));
    std::ostringstream text;
    text << in.rdbuf();
    return (from > 0 ? "[...]\n" : "") + text.str();
}

// A unique topic prefix per cluster, so that logs of different tests never mix in one search.
std::string make_prefix() {
    static std::atomic<int> counter{0};
    return "t" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) + ".";
}

}  // namespace

// ---- child_process -------------------------------------------------------------------------------

child_process::child_process(std::string name, std::vector<std::string> args, std::string stderr_path, bool with_stdin)
    : name_(std::move(name)), stderr_path_(std::move(stderr_path)) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    int in[2] = {-1, -1};
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    if (with_stdin && ::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    const int err = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (err < 0) throw std::runtime_error("cannot open " + stderr_path_ + ": " + std::strerror(errno));
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        // The child: only async-signal-safe calls until exec.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(126);
        ::dup2(out[1], STDOUT_FILENO);
        ::dup2(err, STDERR_FILENO);
        if (with_stdin) {
            ::dup2(in[0], STDIN_FILENO);
        } else {
            const int null = ::open("/dev/null", O_RDONLY);
            if (null >= 0) ::dup2(null, STDIN_FILENO);
        }
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(err);
    if (with_stdin) {
        ::close(in[0]);
        stdin_fd_ = in[1];
    }
    pid_ = pid;
    stdout_fd_ = out[0];
}

child_process::~child_process() {
    kill9();
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
}

std::optional<std::string> child_process::read_line(std::chrono::milliseconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
        if (auto nl = buffered_.find('\n'); nl != std::string::npos) {
            std::string line = buffered_.substr(0, nl);
            buffered_.erase(0, nl + 1);
            return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        if (left.count() <= 0 || stdout_fd_ < 0) return std::nullopt;
        pollfd p{stdout_fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return std::nullopt;
        char chunk[512];
        const ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::nullopt;
        buffered_.append(chunk, static_cast<std::size_t>(n));
    }
}

void child_process::write_line(const std::string& line) {
    if (stdin_fd_ < 0) throw std::logic_error(name_ + " has no stdin pipe");
    const std::string data = line + "\n";
    std::size_t written = 0;
    while (written < data.size()) {
        const ssize_t n = ::write(stdin_fd_, data.data() + written, data.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("writing to " + name_ + ": " + std::strerror(errno));
        written += static_cast<std::size_t>(n);
    }
}

int child_process::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            if (WIFSIGNALED(status)) return -WTERMSIG(status);
            return -999;
        }
        if (r < 0 && errno != EINTR) {
            pid_ = -1;
            return -998;
        }
        if (clock_type::now() >= deadline) return -1000;
        std::this_thread::sleep_for(exit_poll_interval);
    }
}

int child_process::stop(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -997;
    ::kill(pid_, SIGTERM);
    const int code = wait_exit(timeout);
    if (code == -1000) kill9();
    return code;
}

void child_process::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::milliseconds(60'000));
}

std::string child_process::stderr_tail(std::size_t bytes) const { return read_tail(stderr_path_, bytes); }

// ---- kafka_server --------------------------------------------------------------------------------

kafka_server::kafka_server(std::string node_id, std::string root_dir, std::vector<std::string> argv_prefix)
    : node_id_(std::move(node_id)) {
    data_dir_ = root_dir + "/" + node_id_;
    stderr_path_ = root_dir + "/" + node_id_ + ".stderr";
    argv_ = std::move(argv_prefix);
    for (std::string a : {"--node-id", node_id_.c_str(), "--data-dir", data_dir_.c_str(), "--listen", "127.0.0.1:0"})
        argv_.push_back(std::move(a));
}

kafka_server::~kafka_server() {
    if (std::uncaught_exceptions() > 0) report_log();
}

void kafka_server::start(std::chrono::milliseconds timeout) {
    if (running()) throw std::logic_error("kafka_server::start: " + node_id_ + " is running");
    process_ = std::make_unique<child_process>(node_id_, argv_, stderr_path_, false);
    auto line = process_->read_line(timeout);
    if (!line || !line->starts_with(serving_prefix)) {
        process_->kill9();
        throw std::runtime_error("server " + node_id_ + " did not start (first stdout line: '" + line.value_or("<none>") +
                                 "'); its stderr:\n" + stderr_tail());
    }
    const std::string rest = line->substr(serving_prefix.size());
    const auto colon = rest.find(':');
    const auto space = rest.find(' ');
    if (colon == std::string::npos || space == std::string::npos || space < colon)
        throw std::runtime_error("cannot read the port from '" + *line + "'");
    port_ = static_cast<std::uint16_t>(std::stoul(rest.substr(colon + 1, space - colon - 1)));
}

void kafka_server::kill9() {
    if (process_) process_->kill9();
}

int kafka_server::stop(std::chrono::milliseconds timeout) { return process_ ? process_->stop(timeout) : -997; }

std::optional<int> kafka_server::wait_exit(std::chrono::milliseconds timeout) {
    if (!process_) return std::nullopt;
    const int code = process_->wait_for_exit(timeout);
    if (code == -1000) return std::nullopt;
    return code;
}

std::string kafka_server::stderr_tail(std::size_t bytes) const { return read_tail(stderr_path_, bytes); }

void kafka_server::report_log() const {
    if (log_reported_) return;
    log_reported_ = true;
    std::fprintf(stderr, "---- encore serve --kafka %s stderr (port %u) ----\n%s\n---- end ----\n", node_id_.c_str(),
                 static_cast<unsigned>(port_), stderr_tail().c_str());
}

bool kafka_server::ready() const {
    if (!running()) return false;
    http_client client(host_, port_, probe_timeout);
    auto reply = client.request("GET", "/readyz");
    return reply && reply->status == 200;
}

std::optional<std::set<std::uint32_t>> kafka_server::serving() const {
    if (!running()) return std::nullopt;
    http_client client(host_, port_, probe_timeout);
    auto reply = client.request("GET", "/metrics");
    if (!reply || reply->status != 200) return std::nullopt;
    // encore_partition_serving{partition="3"} 1
    std::set<std::uint32_t> out;
    std::istringstream lines(reply->body);
    const std::string prefix = "encore_partition_serving{partition=\"";
    for (std::string line; std::getline(lines, line);) {
        if (!line.starts_with(prefix)) continue;
        const auto close = line.find('"', prefix.size());
        if (close == std::string::npos) continue;
        if (line.substr(close).ends_with(" 1")) out.insert(static_cast<std::uint32_t>(std::stoul(line.substr(prefix.size(), close - prefix.size()))));
    }
    return out;
}

// ---- kafka_cluster -------------------------------------------------------------------------------

kafka_cluster::kafka_cluster(int servers, kafka_cluster_options options) : options_(std::move(options)) {
    root_dir_ = make_root_dir();
    prefix_ = make_prefix();
    {
        std::lock_guard lock(live_mutex);
        live_clusters.push_back(this);
    }
    try {
        mock_ = std::make_unique<child_process>(
            "kafka-mock",
            std::vector<std::string>{ENCORE_BINARY, "kafka-mock", "--brokers", std::to_string(options_.brokers), "--partitions",
                                     std::to_string(options_.partitions), "--topic-prefix", prefix_},
            root_dir_ + "/kafka-mock.stderr", true);
        auto first = mock_->read_line(options_.start_timeout);
        if (!first || first->empty()) throw std::runtime_error("kafka-mock printed no bootstrap servers:\n" + mock_->stderr_tail());
        bootstrap_ = *first;
        std::vector<std::string> argv = {ENCORE_BINARY, "serve", "--kafka", bootstrap_, "--admin-key", options_.admin_key,
                                         "--token-secret", options_.token_secret, "--partitions",
                                         std::to_string(options_.partitions), "--topic-prefix", prefix_,
                                         "--session-timeout-ms", std::to_string(options_.session_timeout_ms)};
        argv.insert(argv.end(), options_.server_args.begin(), options_.server_args.end());
        server_argv_ = argv;
        for (int i = 0; i < servers; ++i) add_server();
        std::string why;
        if (!wait_balanced(options_.start_timeout, &why)) throw std::runtime_error("the cluster did not settle: " + why);
    } catch (...) {
        report_logs();
        {
            std::lock_guard lock(live_mutex);
            std::erase(live_clusters, this);
        }
        servers_.clear();
        mock_.reset();
        std::error_code ignored;
        std::filesystem::remove_all(root_dir_, ignored);
        throw;
    }
}

kafka_cluster::~kafka_cluster() {
    if (std::uncaught_exceptions() > 0) report_logs();
    for (auto& s : servers_) {
        if (s->running()) s->stop(std::chrono::milliseconds(20'000));
    }
    if (mock_) mock_->stop(std::chrono::milliseconds(20'000));
    {
        std::lock_guard lock(live_mutex);
        std::erase(live_clusters, this);
    }
    servers_.clear();
    mock_.reset();
    if (std::getenv("ENCORE_KEEP_TEST_DATA") == nullptr) {
        std::error_code ignored;
        std::filesystem::remove_all(root_dir_, ignored);
    }
}

std::vector<const kafka_cluster*> kafka_cluster::live() {
    std::lock_guard lock(live_mutex);
    return live_clusters;
}

void kafka_cluster::report_logs() const {
    if (logs_reported_) return;
    logs_reported_ = true;
    for (const auto& s : servers_) s->report_log();
    if (mock_) std::fprintf(stderr, "---- encore kafka-mock stderr ----\n%s\n---- end ----\n", mock_->stderr_tail(4096).c_str());
}

kafka_server& kafka_cluster::add_server() {
    servers_.push_back(std::make_unique<kafka_server>("n" + std::to_string(servers_.size()), root_dir_, server_argv_));
    servers_.back()->start(options_.start_timeout);
    return *servers_.back();
}

std::string kafka_cluster::control(const std::string& line) {
    mock_->write_line(line);
    auto reply = mock_->read_line(control_timeout);
    if (!reply) throw std::runtime_error("kafka-mock did not answer '" + line + "'");
    return *reply;
}

std::map<std::uint32_t, int> kafka_cluster::owners() const {
    std::map<std::uint32_t, int> out;
    for (std::uint32_t p = 0; p < options_.partitions; ++p) out[p] = -1;
    for (std::size_t i = 0; i < servers_.size(); ++i) {
        auto serving = servers_[i]->serving();
        if (!serving) continue;
        for (std::uint32_t p : *serving) out[p] = static_cast<int>(i);
    }
    return out;
}

bool kafka_cluster::balanced(std::string* why) const {
    std::vector<int> count(options_.partitions, 0);
    for (const auto& s : servers_) {
        if (!s->running()) continue;
        if (!s->ready()) {
            if (why) *why = s->node_id() + " is not ready";
            return false;
        }
        auto serving = s->serving();
        if (!serving) {
            if (why) *why = s->node_id() + " answers no metrics";
            return false;
        }
        for (std::uint32_t p : *serving) ++count.at(p);
    }
    for (std::uint32_t p = 0; p < options_.partitions; ++p) {
        if (count[p] != 1) {
            if (why) *why = "partition " + std::to_string(p) + " is served by " + std::to_string(count[p]) + " processes";
            return false;
        }
    }
    return true;
}

bool kafka_cluster::wait_balanced(std::chrono::milliseconds timeout, std::string* why) const {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
        if (balanced(why)) return true;
        if (clock_type::now() >= deadline) return false;
        std::this_thread::sleep_for(balance_poll_interval);
    }
}

int kafka_cluster::audit(std::string& output, const std::string& state_json_path) const {
    // No --partitions: the audit reads the count from the topics.
    std::string command = std::string(ENCORE_BINARY) + " audit --kafka " + bootstrap_ + " --topic-prefix " + prefix_;
    if (!state_json_path.empty()) command += " --state-json " + state_json_path;
    command += " 2>>" + root_dir_ + "/audit.stderr";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
    char buffer[4096];
    std::size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, got);
    const int status = ::pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace encore::test
