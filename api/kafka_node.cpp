#include "api/kafka_node.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>

#include "api/http_server.hpp"
#include "api/metrics.hpp"
#include "api/service.hpp"
#include "api/tokens.hpp"
#include "engine/runner/ownership.hpp"
#include "engine/runner/partition_runner.hpp"
#include "events/diagnostics.hpp"
#include "events/log/kafka_group.hpp"
#include "events/log/kafka_log.hpp"
#include "projections/projector.hpp"

namespace encore::api {
namespace {

constexpr std::string_view component = "kafka-node";

// A reader waiting at the end of a partition sees a new record when its fetch returns: a real
// broker answers as soon as data arrives, the mock cluster only when this wait expires, so the
// default 50 ms would be added to every command's answer there. On a real cluster it only makes
// idle fetches more frequent. `--kafka-config fetch.wait.max.ms=N` overrides it.
constexpr int kafka_mode_fetch_wait_max_ms = 10;

std::uint64_t random_nonzero_id() {
    std::uint64_t v = 0;
    while (v == 0) {
        if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) std::abort();
    }
    return v;
}

kafka_options log_options(const kafka_node_options& o) {
    kafka_options k;
    k.bootstrap = o.bootstrap;
    k.partitions = o.partitions;
    k.topic_prefix = o.topic_prefix;
    k.client_id = "encore-" + o.node_id;
    k.fetch_wait_max_ms = kafka_mode_fetch_wait_max_ms;
    k.config = o.kafka_config;
    return k;
}

// The read models are this process's own and can be rebuilt from the event topic. Models built
// from another cluster (a mock cluster started afresh, say) are rebuilt: the data directory keeps
// the id of the cluster and the topic prefix they were built from. Models that are ahead of the
// topic (more events applied than it has records) cannot be this cluster's either.
result<std::unique_ptr<projections::read_models>> open_read_models(kafka_log& log, const kafka_node_options& o) {
    const std::string dir = o.data_dir + "/projections";
    const std::string marker = o.data_dir + "/kafka-cluster";
    auto id = log.cluster_id();
    if (!id) return id.err();
    const std::string source = *id + " " + o.topic_prefix + "\n";
    std::string kept;
    if (std::ifstream in(marker); in) kept.assign(std::istreambuf_iterator<char>(in), {});
    for (int attempt = 0; attempt < 2; ++attempt) {
        // Models without a marker, or with another cluster's, are stale; none at all start afresh.
        const bool stale = std::filesystem::exists(dir) && kept != source;
        if (!stale) {
            auto models = projections::read_models::open({dir, o.partitions, false});
            if (!models) return models.err();
            bool ahead = false;
            for (std::uint32_t p = 0; p < o.partitions; ++p) ahead |= (*models)->applied_sequence(p) > log.events().end(p);
            if (!ahead) {
                if (kept != source) {
                    std::ofstream out(marker, std::ios::trunc);
                    out << source;
                    if (!out) return error{errc::io, "cannot write " + marker};
                }
                return models;
            }
            models->reset();
        }
        diag::warn(component, "the read models were built from another cluster or are ahead of the event topic; rebuilding them",
                   {{"directory", dir}, {"cluster", *id}});
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        if (ec) return error{errc::io, "cannot remove " + dir + ": " + ec.message()};
    }
    return error{errc::io, "read models stay ahead of the event topic after a rebuild"};
}

std::optional<error> validate(const kafka_node_options& o) {
    if (o.bootstrap.empty()) return error{errc::invalid, "the Kafka bootstrap servers are required"};
    if (o.node_id.empty()) return error{errc::invalid, "a node id is required in Kafka mode"};
    if (o.token_secret.size() < token_secret_bytes_min)
        return error{errc::invalid, "--token-secret of at least 32 characters, the same on every process, is required in Kafka mode"};
    if (o.data_dir.empty()) return error{errc::invalid, "a data directory is required"};
    return std::nullopt;
}

}  // namespace

struct kafka_node::parts {
    kafka_node_options options;
    std::unique_ptr<kafka_log> log;
    std::unique_ptr<projections::read_models> models;
    std::unique_ptr<token_signer> tokens;
    metrics_registry metrics;
    std::unique_ptr<runner::ownership> owner;
    std::unique_ptr<service> router;
    std::unique_ptr<projections::projector> projector;
    std::unique_ptr<http_server> server;
    std::unique_ptr<kafka_group> group;
    bool stopped = false;

    bool ready() const {
        return group && group->joined() && owner->ready() && projector->caught_up();
    }

    void add_metrics() {
        metrics.add_callback_gauge("encore_commands_applied", "Commands applied by this process's partition runners",
                                   [this] { return static_cast<double>(owner->commands_applied()); });
        metrics.add_callback_gauge("encore_projection_lag_events", "Event log records not yet projected",
                                   [this] { return static_cast<double>(projector->lag()); });
        metrics.add_callback_gauge("encore_queue_waiting_users", "Users waiting in every concert's waiting room",
                                   [this] { return static_cast<double>(models->waiting_total()); });
        metrics.add_callback_gauge("encore_partitions_owned", "Partitions this process owns and serves",
                                   [this] { return static_cast<double>(owner->assigned().size()); });
        metrics.add_callback_gauge("encore_runners_started", "Partition runners recovered and started (takeovers and restarts)",
                                   [this] { return static_cast<double>(owner->runners_started()); });
        metrics.add_callback_gauge("encore_runner_failures", "Partition runners or recoveries that failed and were retried",
                                   [this] { return static_cast<double>(owner->runner_failures()); });
        metrics.add_callback_gauge("encore_group_rebalances", "Assignments and revocations this process saw",
                                   [this] { return group ? static_cast<double>(group->rebalances()) : 0.0; });
        auto& owned = metrics.add_gauge("encore_partition_serving", "1 if this process owns the partition and its runner runs",
                                        {"partition"});
        for (std::uint32_t p = 0; p < options.partitions; ++p) {
            owned.with_callback({std::to_string(p)}, [this, p] { return owner->serving(p) ? 1.0 : 0.0; });
        }
    }
};

kafka_node::kafka_node(std::unique_ptr<parts> p) : parts_(std::move(p)) {}
kafka_node::~kafka_node() { stop(); }
std::uint16_t kafka_node::port() const { return parts_->server->port(); }
bool kafka_node::failed() const { return parts_->log && parts_->log->fatal(); }

result<std::unique_ptr<kafka_node>> kafka_node::start(const kafka_node_options& o) {
    if (auto invalid = validate(o)) return *invalid;
    auto p = std::make_unique<parts>();
    p->options = o;
    std::error_code ec;
    std::filesystem::create_directories(o.data_dir, ec);
    if (ec) return error{errc::io, "cannot create the data directory " + o.data_dir + ": " + ec.message()};

    const kafka_options k = log_options(o);
    auto log = kafka_log::open(k);
    if (!log) return log.err();
    p->log = std::move(log).value();
    p->tokens = std::make_unique<token_signer>(o.token_secret);
    auto models = open_read_models(*p->log, o);
    if (!models) return models.err();
    p->models = std::move(models).value();

    runner::ownership_options owning;
    kafka_log* raw_log = p->log.get();
    // A new owner must see the log's real ends, not what this process cached.
    owning.before_recover = [raw_log] { return raw_log->refresh_ends(); };
    p->owner = std::make_unique<runner::ownership>(o.partitions, p->log->commands(), p->log->events(),
                                                   p->log->checkpoints(), owning, runner::system_time_ms);

    parts* raw = p.get();
    service_config config{o.admin_key, o.partitions, runner::system_time_ms, [raw] { return raw->ready(); },
                          random_nonzero_id};
    config.key_every_command = true;
    p->router = std::make_unique<service>(config, p->log->commands(), *p->models, *p->tokens, p->metrics);
    p->projector = std::make_unique<projections::projector>(
        p->log->events(), *p->models,
        [raw](std::uint32_t partition, std::span<const event> events) { raw->router->on_projected(partition, events); });
    p->add_metrics();

    server_options so;
    so.host = o.host;
    so.port = o.port;
    so.threads = o.http_threads;
    so.metrics = &p->metrics;
    auto server = http_server::start(so, *p->router);
    if (!server) return server.err();
    p->server = std::move(server).value();
    p->projector->start();

    kafka_group_options g;
    g.log = k;
    g.group_id = o.group_id;
    g.session_timeout_ms = o.session_timeout_ms;
    kafka_group_listener listener;
    runner::ownership* owner = p->owner.get();
    listener.assigned = [owner](const std::vector<std::uint32_t>& partitions) { owner->assign(partitions); };
    listener.revoked = [owner](const std::vector<std::uint32_t>& partitions) { owner->revoke(partitions); };
    auto group = kafka_group::join(g, std::move(listener));
    if (!group) return group.err();
    p->group = std::move(group).value();
    diag::info(component, "serving",
               {{"listen", o.host + ":" + std::to_string(p->server->port())}, {"node", o.node_id}, {"bootstrap", o.bootstrap},
                {"partitions", o.partitions}, {"topic_prefix", o.topic_prefix}, {"data_dir", o.data_dir}});
    return std::unique_ptr<kafka_node>(new kafka_node(std::move(p)));
}

void kafka_node::stop() {
    if (!parts_ || parts_->stopped) return;
    parts_->stopped = true;
    if (parts_->server) parts_->server->stop();
    // Leaving revokes the owned partitions through the listener: their runners stop and write
    // checkpoints, then the coordinator hands them to the others without waiting for a timeout.
    if (parts_->group) parts_->group->leave();
    if (parts_->owner) parts_->owner->stop();
    if (parts_->projector) parts_->projector->stop();
    parts_->router.reset();
    parts_->group.reset();
    parts_->log.reset();
    diag::info(component, "stopped", {{"node", parts_->options.node_id}});
}

}  // namespace encore::api
