#pragma once
// One Encore process in Kafka mode: the same router, projections and HTTP server as the embedded
// node (node.hpp), around a Kafka cluster instead of a local log.
//
// - The command and event logs are the `<prefix>commands` and `<prefix>events` topics, the
//   checkpoints the `<prefix>snapshots` topic (events/log/kafka_log.hpp).
// - Ownership: the process joins the engine group on `<prefix>commands` (events/log/kafka_group)
//   and runs a partition runner for each partition the group assigns to it
//   (engine/runner/ownership); a new owner restores from the latest checkpoint and replays the rest.
// - Every process consumes all of `<prefix>events` into its own read models (RocksDB in
//   `<data_dir>/projections`) and answers any query; a command sent to any process is produced
//   to Kafka and answered when this process's projections show its outcome.
// - Tokens are signed with a secret shared by the cluster (required: there is no local place to
//   keep a generated one that the others could see).
//
// /readyz is 200 once the group has answered this process, its projector has caught up with the
// event log, and every partition assigned to it has a recovered, running runner.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "events/result.hpp"

namespace encore::api {

struct kafka_node_options {
    std::string bootstrap;       // bootstrap.servers of the cluster
    std::string node_id;         // names this process in Kafka client ids and logs
    std::string data_dir;        // this process's read models
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::string admin_key;
    std::string token_secret;    // required; the same on every process of the cluster
    std::uint32_t partitions = 4;
    std::string topic_prefix;
    // Passed to every librdkafka handle after our defaults (`--kafka-config key=value`).
    std::vector<std::pair<std::string, std::string>> kafka_config;
    std::string group_id;        // empty: "<prefix>encore-engines"
    int session_timeout_ms = 6'000;
    unsigned http_threads = 2;
};

class kafka_node {
public:
    static result<std::unique_ptr<kafka_node>> start(const kafka_node_options& options);
    ~kafka_node();
    std::uint16_t port() const;
    // The Kafka producer stopped after a fatal error: this process can no longer write. It should
    // stop, so that the group gives its partitions to the others, and be restarted.
    bool failed() const;
    // Drains HTTP, leaves the group (stopping and checkpointing the owned runners, so that the
    // others take over at once), stops the projector and closes Kafka. Idempotent.
    void stop();

    struct parts;

private:
    explicit kafka_node(std::unique_ptr<parts> p);
    std::unique_ptr<parts> parts_;
};

}  // namespace encore::api
