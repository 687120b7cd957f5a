#pragma once
// Kafka mode as a user runs it, for integration tests: `encore kafka-mock` (librdkafka's mock
// cluster in its own process, on loopback TCP) and several `encore serve --kafka` processes on it,
// each with its own temporary data directory and ephemeral HTTP port. Faults are injected through
// the mock's stdin control lines (`broker-down 2`, `produce-errors 5`, `rtt -1 50`...).
//
// Owned by the test's main thread (children get PR_SET_PDEATHSIG, which fires when the thread that
// forked them ends). Each child's stderr goes to a file; when an assertion fails, the Catch
// listener of kafka_main.cpp prints the tail of every live child's log.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <sys/types.h>

#include "tests/support/child_process.hpp"

namespace encore::test {

struct kafka_cluster_options {
    int brokers = 3;
    std::uint32_t partitions = 8;
    std::string admin_key = "kafka-integration-admin";
    std::string token_secret = "kafka-integration-token-secret-0123456789";
    std::chrono::milliseconds start_timeout{60'000};
    std::vector<std::string> server_args;  // more `encore serve --kafka` flags, e.g. --kafka-config
    // The group's session timeout. `serve` defaults to 6 s, the least a real broker accepts by
    // default (group.min.session.timeout.ms). The mock checks sessions once a second and then
    // waits session - 1 s for the members to re-join, and now and then a failover needs a second
    // rebalance round (a member re-joins after that wait): 6 + 1 + 5 + 5 s. With 5 s, even that
    // case stays inside the 15 s the failover test holds the cluster to.
    int session_timeout_ms = 5'000;
};

// `encore serve --kafka` on the cluster's mock.
class kafka_server {
public:
    kafka_server(std::string node_id, std::string root_dir, std::vector<std::string> argv_prefix);
    ~kafka_server();
    const std::string& node_id() const { return node_id_; }
    const std::string& host() const { return host_; }
    std::uint16_t port() const { return port_; }
    bool running() const { return process_ && process_->running(); }
    const std::string& data_dir() const { return data_dir_; }
    // Starts (again, on the same data directory); throws std::runtime_error with the child's
    // stderr if it does not print its serving line in time. Does not wait for /readyz.
    void start(std::chrono::milliseconds timeout);
    void kill9();
    int stop(std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));
    // Waits for the process to exit by itself: its exit code, or nothing after `timeout`.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    std::string stderr_tail(std::size_t bytes = 8192) const;
    void report_log() const;

    // GET /readyz is 200.
    bool ready() const;
    // The partitions this process serves, from GET /metrics (encore_partition_serving).
    std::optional<std::set<std::uint32_t>> serving() const;

private:
    std::string node_id_;
    std::string data_dir_;
    std::string stderr_path_;
    std::vector<std::string> argv_;
    std::string host_ = "127.0.0.1";
    std::uint16_t port_ = 0;
    std::unique_ptr<child_process> process_;
    mutable bool log_reported_ = false;
};

class kafka_cluster {
public:
    // Starts the mock cluster and `servers` processes named n0, n1…, and waits until every one is
    // ready and the group has given every partition to exactly one of them.
    explicit kafka_cluster(int servers, kafka_cluster_options options = {});
    ~kafka_cluster();  // SIGTERM to the servers, then the mock; removes the directory
    kafka_cluster(const kafka_cluster&) = delete;
    kafka_cluster& operator=(const kafka_cluster&) = delete;

    const kafka_cluster_options& options() const { return options_; }
    const std::string& bootstrap() const { return bootstrap_; }
    const std::string& topic_prefix() const { return prefix_; }
    const std::string& root_dir() const { return root_dir_; }
    std::size_t size() const { return servers_.size(); }
    kafka_server& server(std::size_t i) { return *servers_.at(i); }

    // Starts one more process (named n<size>) on a fresh data directory; does not wait for it.
    kafka_server& add_server();
    // One control line to `encore kafka-mock`; returns its answer ("ok" or "error: ...").
    std::string control(const std::string& line);
    // Every running server is ready and the running servers serve every partition exactly once.
    bool balanced(std::string* why = nullptr) const;
    // Polls balanced() until it holds or `timeout` passes.
    bool wait_balanced(std::chrono::milliseconds timeout, std::string* why = nullptr) const;
    // Which running server serves each partition (from /metrics), or -1.
    std::map<std::uint32_t, int> owners() const;
    // `encore audit --kafka` on the cluster; its exit status, output appended to `output`.
    int audit(std::string& output, const std::string& state_json_path = {}) const;

    // Live servers and mock processes of this test process, for the failure listener.
    static std::vector<const kafka_cluster*> live();
    void report_logs() const;

private:
    kafka_cluster_options options_;
    std::string root_dir_;
    std::string prefix_;
    std::string bootstrap_;
    std::unique_ptr<child_process> mock_;
    std::vector<std::string> server_argv_;
    std::vector<std::unique_ptr<kafka_server>> servers_;
    mutable bool logs_reported_ = false;
};

}  // namespace encore::test
