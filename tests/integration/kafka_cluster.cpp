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
#include "tests/support/run_command.hpp"
#include "tests/support/temp_directory.hpp"

#ifndef ENCORE_BINARY
#error "ENCORE_BINARY (the path of the encore executable) must be defined by the build"
#endif

namespace encore::test {
namespace {

using encore::http::http_client;
using clock_type = std::chrono::steady_clock;
constexpr std::string_view serving_prefix = "encore serving on http://";
constexpr std::chrono::milliseconds balance_poll_interval{100};
constexpr std::chrono::milliseconds control_timeout{10'000};
constexpr std::chrono::milliseconds probe_timeout{2'000};

std::mutex live_mutex;
std::vector<const kafka_cluster*> live_clusters;

// A unique topic prefix per cluster, so that logs of different tests never mix in one search.
std::string make_prefix() {
    static std::atomic<int> counter{0};
    return "t" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) + ".";
}

}  // namespace

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
    const int code = process_->wait_exit(timeout);
    if (code == -1000) return std::nullopt;
    return code;
}

std::string kafka_server::stderr_tail(std::size_t bytes) const { return file_tail(stderr_path_, bytes); }

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
    root_dir_ = make_temp_directory("encore-kafka");
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
    const command_run ran = run_command(command);
    output += ran.output;
    return ran.status;
}

}  // namespace encore::test
