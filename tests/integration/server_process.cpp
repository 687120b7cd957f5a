#include "tests/integration/server_process.hpp"

#include <algorithm>
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
#include <sys/resource.h>
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
constexpr std::chrono::milliseconds ready_poll_interval{20};

std::mutex live_mutex;
std::vector<const server_process*> live_servers;

std::string make_root_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "encore-int-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) {
        throw std::runtime_error(std::string("mkdtemp failed: ") + std::strerror(errno));
    }
    return std::string(buffer.data());
}

// Reads one line from `fd` before `deadline`; nullopt on end of file or timeout.
std::optional<std::string> read_line(int fd, clock_type::time_point deadline) {
    std::string line;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        if (left.count() <= 0) return std::nullopt;
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return std::nullopt;
        char c = 0;
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::nullopt;
        if (c == '\n') return line;
        line += c;
    }
}

}  // namespace

server_process::server_process(server_options options) : options_(std::move(options)) {
    root_dir_ = make_root_dir();
    data_dir_ = root_dir_ + "/data";
    stderr_path_ = root_dir_ + "/server.stderr";
    {
        std::lock_guard lock(live_mutex);
        live_servers.push_back(this);
    }
    try {
        start();
    } catch (...) {
        {
            std::lock_guard lock(live_mutex);
            std::erase(live_servers, this);
        }
        if (pid_ > 0) kill9();
        std::error_code ignored;
        std::filesystem::remove_all(root_dir_, ignored);
        throw;
    }
}

server_process::~server_process() {
    if (std::uncaught_exceptions() > 0) report_log();
    if (pid_ > 0) kill9();
    {
        std::lock_guard lock(live_mutex);
        std::erase(live_servers, this);
    }
    if (std::getenv("ENCORE_KEEP_TEST_DATA") == nullptr) {
        std::error_code ignored;
        std::filesystem::remove_all(root_dir_, ignored);
    }
}

std::vector<const server_process*> server_process::live() {
    std::lock_guard lock(live_mutex);
    return live_servers;
}

void server_process::start() {
    if (pid_ > 0) throw std::logic_error("server_process::start: the server is still running");
    std::vector<std::string> args = {ENCORE_BINARY,
                                     "serve",
                                     "--data-dir",
                                     data_dir_,
                                     "--listen",
                                     host_ + ":0",
                                     "--admin-key",
                                     options_.admin_key,
                                     "--partitions",
                                     std::to_string(options_.partitions),
                                     "--http-threads",
                                     std::to_string(options_.http_threads)};
    if (!options_.token_secret.empty()) {
        args.push_back("--token-secret");
        args.push_back(options_.token_secret);
    }
    args.insert(args.end(), options_.extra_flags.begin(), options_.extra_flags.end());
    const rlimit open_files{static_cast<rlim_t>(options_.open_files_limit),
                            static_cast<rlim_t>(options_.open_files_limit)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    const int err = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (err < 0) {
        ::close(out[0]);
        ::close(out[1]);
        throw std::runtime_error("cannot open " + stderr_path_ + ": " + std::strerror(errno));
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(out[0]);
        ::close(out[1]);
        ::close(err);
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        // The child: only async-signal-safe calls until exec.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(126);
        ::dup2(out[1], STDOUT_FILENO);
        ::dup2(err, STDERR_FILENO);
        // The test process may block signals in some threads; the server sets its own mask.
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (open_files.rlim_cur != 0 && ::setrlimit(RLIMIT_NOFILE, &open_files) != 0) ::_exit(125);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(err);
    pid_ = pid;
    stdout_fd_ = out[0];

    const auto deadline = clock_type::now() + options_.start_timeout;
    auto line = read_line(stdout_fd_, deadline);
    if (!line || !line->starts_with(serving_prefix)) {
        kill9();
        throw std::runtime_error("the server did not start (first stdout line: '" + line.value_or("<none>") +
                                 "'); its stderr:\n" + stderr_tail());
    }
    // "encore serving on http://127.0.0.1:PORT (data in ..., N partitions)"
    const std::string rest = line->substr(serving_prefix.size());
    const auto colon = rest.find(':');
    const auto space = rest.find(' ');
    if (colon == std::string::npos || space == std::string::npos || space < colon) {
        kill9();
        throw std::runtime_error("cannot read the port from '" + *line + "'");
    }
    port_ = static_cast<std::uint16_t>(std::stoul(rest.substr(colon + 1, space - colon - 1)));

    http_client client(host_, port_, std::chrono::milliseconds(2'000));
    for (;;) {
        auto reply = client.request("GET", "/readyz");
        if (reply && reply->status == 200) return;
        if (clock_type::now() >= deadline) break;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            ::close(stdout_fd_);
            stdout_fd_ = -1;
            throw std::runtime_error("the server exited while starting; its stderr:\n" + stderr_tail());
        }
        std::this_thread::sleep_for(ready_poll_interval);
    }
    kill9();
    throw std::runtime_error("the server never answered GET /readyz 200; its stderr:\n" + stderr_tail());
}

int server_process::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            if (stdout_fd_ >= 0) ::close(stdout_fd_);
            stdout_fd_ = -1;
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

int server_process::stop() {
    if (pid_ <= 0) throw std::logic_error("server_process::stop: not running");
    ::kill(pid_, SIGTERM);
    const int code = wait_exit(options_.stop_timeout);
    if (code == -1000) kill9();
    return code;
}

void server_process::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::milliseconds(60'000));
}

void server_process::restart() {
    if (pid_ > 0) throw std::logic_error("server_process::restart: stop() or kill9() first");
    start();
}

std::string server_process::stderr_tail(std::size_t bytes) const {
    std::ifstream in(stderr_path_, std::ios::binary);
    if (!in) return "<no stderr file>";
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::size_t>(in.tellg());
    const std::size_t from = size > bytes ? size - bytes : 0;
    in.seekg(static_cast<std::streamoff>(from));
    std::ostringstream text;
    text << in.rdbuf();
    return (from > 0 ? "[...]\n" : "") + text.str();
}

void server_process::report_log() const {
    if (log_reported_) return;
    log_reported_ = true;
    std::fprintf(stderr, "---- encore server stderr (%s, port %u) ----\n%s\n---- end of server stderr ----\n",
                 stderr_path_.c_str(), static_cast<unsigned>(port_), stderr_tail().c_str());
}

}  // namespace encore::test
