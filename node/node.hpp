#pragma once
// One Encore process: a log backend, the partition runners it owns, its read models and projector,
// the router and the HTTP server, wired together and started in the right order. The two modes
// differ only in the backend and in who decides which partitions this process writes for:
//
// - embedded (the default): the command and event logs are RocksDB column families in
//   `<data_dir>/log` (events/log/embedded_log.hpp), and this process owns every partition;
// - Kafka: the `<prefix>commands`, `<prefix>events` and `<prefix>snapshots` topics
//   (events/log/kafka_log.hpp), and the consumer group on `<prefix>commands`
//   (events/log/kafka_group.hpp) assigns partitions to the processes that share the cluster. Every
//   process consumes all of `<prefix>events` into its own read models and answers any query.
//
// In both, `runner::ownership` runs one runner per owned partition (recovered in parallel) and
// restarts one that failed. /readyz is 200 once every owned partition has a recovered, running
// runner, the projections are within a second of the event log and (Kafka) the group has answered.
// `encore serve`, `encore serve --kafka` and the benchmarks run one of these.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "http/server.hpp"
#include "events/result.hpp"

namespace encore {


struct embedded_backend {
    bool sync = true;  // fsync the log (only benchmarks of the engine path turn it off)
    // Free space kept on the log's file system: below it new commands are refused with 503
    // STORAGE_UNAVAILABLE (embedded_log_options::free_bytes_reserve).
    std::uint64_t free_bytes_reserve = std::uint64_t{64} << 20;
};

struct kafka_backend {
    std::string bootstrap;  // bootstrap.servers of the cluster
    std::string node_id;    // names this process in Kafka client ids and logs
    std::string topic_prefix;
    // Passed to every librdkafka handle after our defaults (`--kafka-config key=value`).
    std::vector<std::pair<std::string, std::string>> kafka_config;
    std::string group_id;  // empty: "<prefix>encore-engines"
    int session_timeout_ms = 6'000;
};

struct node_options {
    std::string data_dir;  // embedded: the log and the read models; Kafka: the read models only
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::string admin_key;
    std::uint32_t partitions = 4;
    // Embedded: empty = generated on first start and kept in the data dir. Kafka: required, the
    // same on every process of the cluster (there is no local place the others could read).
    std::string token_secret;
    bool demo = false;  // embedded: create a demo concert when there is none
    unsigned http_threads = 2;
    // HTTP connection limits (http/server.hpp): connections_max is sized down at start to
    // what RLIMIT_NOFILE allows, once its soft limit has been raised to the hard one.
    std::size_t connections_max = http::connections_max_default;
    std::size_t connections_per_client_max = http::connections_per_client_max_default;
    std::variant<embedded_backend, kafka_backend> backend;
};

class node {
public:
    static result<std::unique_ptr<node>> start(const node_options& options);
    ~node();
    std::uint16_t port() const;
    // The demo concert's id in text form, when one was created or found.
    const std::string& demo_concert() const;
    // The log can no longer be written (Kafka: the producer stopped after a fatal error). The
    // process should stop, so that the group gives its partitions to the others, and be restarted.
    bool failed() const;
    // Every owned partition recovered and running, and the projections within a second of the log.
    bool ready() const;
    // The router the HTTP server hands requests to, for driving it without a socket (fuzz/).
    http::request_handler& handler();
    // Drains HTTP, gives up the partitions (their runners stop and write checkpoints; in Kafka
    // mode the group hands them over at once), stops the projector and closes the log. Idempotent.
    void stop();

    struct parts;

private:
    explicit node(std::unique_ptr<parts> p);
    std::unique_ptr<parts> parts_;
};

}  // namespace encore
