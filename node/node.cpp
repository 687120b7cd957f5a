#include "node/node.hpp"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "http/server.hpp"
#include "http/metrics.hpp"
#include "api/service.hpp"
#include "api/tokens.hpp"
#include "engine/runner/ownership.hpp"
#include "events/codec.hpp"
#include "events/venue.hpp"
#include "events/diagnostics.hpp"
#include "events/ids.hpp"
#include "events/route.hpp"
#include "events/log/embedded_log.hpp"
#include "events/log/kafka_group.hpp"
#include "events/log/kafka_log.hpp"
#include "projections/projector.hpp"

namespace encore {

using namespace encore::api;
using namespace encore::http;
namespace {

// A reader waiting at the end of a partition sees a new record when its fetch returns: a real
// broker answers as soon as data arrives, the mock cluster only when this wait expires, so the
// default 50 ms would be added to every command's answer there. On a real cluster it only makes
// idle fetches more frequent. `--kafka-config fetch.wait.max.ms=N` overrides it.
constexpr int kafka_mode_fetch_wait_max_ms = 10;

// /readyz (API.md): recovered, and the projections within this of the log. A node under load is
// never exactly caught up at the instant of a probe, and must not flap between ready and not.
constexpr std::chrono::milliseconds readiness_lag_max{1'000};

std::uint64_t random_nonzero_id() {
    std::uint64_t v = 0;
    while (v == 0) {
        if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) std::abort();
    }
    return v;
}

create_concert demo_catalog(time_ms now) {
    create_concert c;
    c.concert = concert_id{random_nonzero_id()};
    c.title = "IU 2026 Encore";
    c.venue = "Jamsil Olympic Stadium";
    day_number today = static_cast<day_number>(now / 86'400'000);
    for (int i = 0; i < 3; ++i) c.schedules.push_back({today + 30 + i, 50, 80'000 + 20'000 * i});
    c.queue = {100, 600};
    return c;
}

// The demo's stadium show: sold by grade, in seated sections and a standing floor with entry numbers.
create_concert demo_stadium_catalog(time_ms now) {
    create_concert c;
    c.concert = concert_id{random_nonzero_id()};
    c.title = "IU 2026 Encore: the stadium";
    c.venue = "Jamsil Olympic Stadium";
    venue_layout& v = c.options.sale.venue;
    v.grades = {{"VIP", 198'000}, {"R", 165'000}, {"S", 143'000}};
    v.sections = {{"FLOOR", 0, {}, 300, "G1"},
                  {"A", 1, std::vector<std::uint32_t>(10, 20), 0, "G2"},
                  {"B", 1, {16, 18, 20, 22, 24}, 0, "G2"},
                  {"C", 2, std::vector<std::uint32_t>(12, 24), 0, "G3"}};
    const auto seats = static_cast<std::uint32_t>(layout_seats(v));
    const day_number today = static_cast<day_number>(now / 86'400'000);
    for (int i = 0; i < 2; ++i) {
        c.schedules.push_back({today + 40 + i, seats, 0});
        v.starts_at.push_back((static_cast<time_ms>(today) + 40 + i) * 86'400'000 + 10LL * 3'600'000);  // 19:00 in Seoul
    }
    c.queue = {100, 600};
    c.options.max_tickets_per_user = 4;
    return c;
}

// Opens read models in `dir`, dropping and rebuilding them when `stale` says they were built from
// another log, or when they are ahead of the event log. After a machine crash embedded read models
// may hold events the event log lost (its unsynced, derived tail, which the runners regenerate);
// Kafka-mode models built from another cluster (a mock started afresh) cannot be this one's either.
// A damaged store (a RocksDB checksum, a record that does not decode) is set aside whole, renamed
// `<dir>.bad-<unix ms>` for whoever wants to look at it, and rebuilt from the event log like a stale one.
result<std::unique_ptr<projections::read_models>> open_read_models(const std::string& dir, std::uint32_t partitions,
                                                                   log_stream& events, bool stale) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!stale || !std::filesystem::exists(dir)) {
            // A store of an older layout is rebuilt from the event log, like a stale one.
            auto models = projections::read_models::open(
                {.directory = dir, .partitions = partitions, .sync = false, .rebuild_other_layout = true});
            if (!models && models.err().code == errc::corrupt && attempt == 0) {
                const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch());
                const std::string moved = dir + ".bad-" + std::to_string(now.count());
                std::error_code ec;
                std::filesystem::rename(dir, moved, ec);
                if (ec) return error{errc::io, "cannot set the damaged read models aside (" + models.err().message +
                                                   "): renaming " + dir + ": " + ec.message()};
                diag::warn("node", "the read models are damaged; set aside and rebuilt from the event log",
                           {{"directory", dir}, {"set_aside", moved}, {"error", models.err().message}});
                stale = false;
                continue;
            }
            if (!models) return models.err();
            bool ahead = false;
            for (std::uint32_t p = 0; p < partitions; ++p) ahead |= (*models)->applied_sequence(p) > events.end(p);
            if (!ahead) return models;
            models->reset();
        }
        diag::warn("node", "the read models were built from another log or are ahead of the event log; rebuilding them",
                   {{"directory", dir}});
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        if (ec) return error{errc::io, "cannot remove " + dir + ": " + ec.message()};
        stale = false;
    }
    return error{errc::io, "read models stay ahead of the event log after a rebuild"};
}

// What differs between the modes: the log, where the token secret comes from, whether the read
// models are this log's, and who assigns the partitions.
class backend {
public:
    virtual ~backend() = default;
    virtual log_stream& commands() = 0;
    virtual log_stream& events() = 0;
    virtual checkpoint_store& checkpoints() = 0;
    virtual result<std::string> token_secret(const std::string& given) = 0;
    // Whether read models kept in the data dir may have been built from another log.
    virtual result<bool> models_stale() = 0;
    virtual void configure(runner::ownership_options& o, service_config& c) = 0;
    // Starts giving partitions to `owner`.
    virtual result<unit> start_assigning(runner::ownership& owner) = 0;
    virtual bool ready() const = 0;
    // Why no command can be logged now although the process runs (a full disk), or nothing.
    virtual std::optional<std::string> storage_problem() const { return std::nullopt; }
    virtual bool failed() const = 0;
    // Gives the partitions up (Kafka: leaves the group, which revokes them through `owner`).
    virtual void leave() = 0;
    virtual void add_metrics(metrics_registry& metrics) = 0;
    virtual std::string describe() const = 0;
};

class embedded final : public backend {
public:
    static result<std::unique_ptr<backend>> open(const node_options& o, const embedded_backend& b) {
        auto log = embedded_log::open({.directory = o.data_dir + "/log", .partitions = o.partitions, .sync = b.sync,
                                       .free_bytes_reserve = b.free_bytes_reserve});
        if (!log) return log.err();
        return std::unique_ptr<backend>(new embedded(std::move(log).value(), o.partitions, o.data_dir));
    }
    log_stream& commands() override { return log_->commands(); }
    log_stream& events() override { return log_->events(); }
    checkpoint_store& checkpoints() override { return log_->checkpoints(); }
    // A generated secret is kept in a file of its own, `<data_dir>/token-secret` (0600), never in
    // a log record that a tool could print. A data directory of an older version kept it in the
    // log's metadata: it is carried over to the file.
    result<std::string> token_secret(const std::string& given) override {
        if (!given.empty()) return given;
        const std::string path = data_dir_ + "/token-secret";
        if (std::ifstream in(path); in) {
            std::string kept((std::istreambuf_iterator<char>(in)), {});
            if (kept.size() < token_secret_bytes_min) return error{errc::corrupt, path + " holds no valid secret"};
            return kept;
        }
        auto legacy = log_->get_meta("token_secret");
        if (!legacy) return legacy.err();
        std::string secret = legacy->has_value() ? **legacy : generate_secret();
        const std::string temporary = path + ".tmp";
        {
            std::ofstream out(temporary, std::ios::trunc);
            out << secret;
            if (!out.flush()) return error{errc::io, "cannot write " + temporary};
        }
        std::error_code ec;
        std::filesystem::permissions(temporary, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                     std::filesystem::perm_options::replace, ec);
        if (!ec) std::filesystem::rename(temporary, path, ec);
        if (ec) return error{errc::io, "cannot keep the token secret in " + path + ": " + ec.message()};
        return secret;
    }
    result<bool> models_stale() override { return false; }
    void configure(runner::ownership_options&, service_config&) override {}
    result<unit> start_assigning(runner::ownership& owner) override {
        std::vector<std::uint32_t> all(partitions_);
        for (std::uint32_t p = 0; p < partitions_; ++p) all[p] = p;
        owner.assign(all);
        return unit{};
    }
    bool ready() const override { return !log_->storage().refusing; }
    std::optional<std::string> storage_problem() const override {
        embedded_log_storage s = log_->storage();
        if (!s.refusing) return std::nullopt;
        return std::move(s.reason);
    }
    bool failed() const override { return false; }
    void leave() override {}
    void add_metrics(metrics_registry& metrics) override {
        embedded_log* log = log_.get();
        metrics.add_callback_gauge("encore_storage_free_bytes", "Free bytes on the file system of the log",
                                   [log] { return static_cast<double>(log->storage().free_bytes); });
        metrics.add_callback_gauge("encore_storage_reserve_bytes",
                                   "Free bytes the log keeps in reserve: below it new commands are refused",
                                   [log] { return static_cast<double>(log->storage().reserve_bytes); });
        metrics.add_callback_gauge("encore_storage_refusing",
                                   "1 while the log refuses new commands (under the reserve, or after a failed write)",
                                   [log] { return log->storage().refusing ? 1.0 : 0.0; });
        metrics.add_callback_gauge("encore_storage_refused_appends", "Appends the log refused for storage since start",
                                   [log] { return static_cast<double>(log->storage().refused_appends); });
        metrics.add_callback_gauge("encore_storage_write_failures", "Writes of the log that failed since start",
                                   [log] { return static_cast<double>(log->storage().write_failures); });
        metrics.add_callback_gauge("encore_storage_resumed", "Times the log resumed writing after a failed write",
                                   [log] { return static_cast<double>(log->storage().resumed); });
    }
    std::string describe() const override { return "embedded"; }

private:
    embedded(std::unique_ptr<embedded_log> log, std::uint32_t partitions, std::string data_dir)
        : log_(std::move(log)), partitions_(partitions), data_dir_(std::move(data_dir)) {}
    std::unique_ptr<embedded_log> log_;
    std::uint32_t partitions_;
    std::string data_dir_;
};

class kafka final : public backend {
public:
    static result<std::unique_ptr<backend>> open(const node_options& o, const kafka_backend& b) {
        if (b.bootstrap.empty()) return error{errc::invalid, "the Kafka bootstrap servers are required"};
        if (b.node_id.empty()) return error{errc::invalid, "a node id is required in Kafka mode"};
        if (o.token_secret.empty())
            return error{errc::invalid, "a --token-secret, the same on every process, is required in Kafka mode"};
        kafka_options k;
        k.bootstrap = b.bootstrap;
        k.partitions = o.partitions;
        k.topic_prefix = b.topic_prefix;
        k.client_id = "encore-" + b.node_id;
        k.fetch_wait_max_ms = kafka_mode_fetch_wait_max_ms;
        k.config = b.kafka_config;
        auto log = kafka_log::open(k);
        if (!log) return log.err();
        return std::unique_ptr<backend>(new kafka(std::move(log).value(), k, b, o.data_dir));
    }
    log_stream& commands() override { return log_->commands(); }
    log_stream& events() override { return log_->events(); }
    checkpoint_store& checkpoints() override { return log_->checkpoints(); }
    result<std::string> token_secret(const std::string& given) override { return given; }
    // The data directory keeps the id of the cluster and the topic prefix its models were built
    // from; models without that marker, or with another's, are stale.
    result<bool> models_stale() override {
        auto id = log_->cluster_id();
        if (!id) return id.err();
        const std::string marker = data_dir_ + "/kafka-cluster", source = *id + " " + settings_.topic_prefix + "\n";
        std::string kept;
        if (std::ifstream in(marker); in) kept.assign(std::istreambuf_iterator<char>(in), {});
        if (kept == source) return false;
        std::ofstream out(marker, std::ios::trunc);
        out << source;
        if (!out) return error{errc::io, "cannot write " + marker};
        return true;
    }
    void configure(runner::ownership_options& o, service_config& c) override {
        // A new owner must see the log's real ends, not what this process cached.
        o.before_recover = [log = log_.get()] { return log->refresh_ends(); };
        // A copy of a command written twice (a producer's resent batch) is answered as a repeat.
        c.key_every_command = true;
    }
    result<unit> start_assigning(runner::ownership& owner) override {
        kafka_group_options g;
        g.log = settings_;
        g.group_id = backend_.group_id;
        g.session_timeout_ms = backend_.session_timeout_ms;
        kafka_group_listener listener;
        listener.assigned = [&owner](const std::vector<std::uint32_t>& partitions) { owner.assign(partitions); };
        listener.revoked = [&owner](const std::vector<std::uint32_t>& partitions) { owner.revoke(partitions); };
        auto group = kafka_group::join(g, std::move(listener));
        if (!group) return group.err();
        group_ = std::move(group).value();
        return unit{};
    }
    bool ready() const override { return group_ && group_->joined(); }
    bool failed() const override { return log_->fatal(); }
    void leave() override {
        if (group_) group_->leave();
    }
    void add_metrics(metrics_registry& metrics) override {
        metrics.add_callback_gauge("encore_group_rebalances", "Assignments and revocations this process saw",
                                   [this] { return group_ ? static_cast<double>(group_->rebalances()) : 0.0; });
    }
    std::string describe() const override {
        return "kafka " + settings_.bootstrap + ", node " + backend_.node_id +
               (settings_.topic_prefix.empty() ? "" : ", topics " + settings_.topic_prefix + "*");
    }

private:
    kafka(std::unique_ptr<kafka_log> log, kafka_options settings, kafka_backend b, std::string data_dir)
        : log_(std::move(log)), settings_(std::move(settings)), backend_(std::move(b)), data_dir_(std::move(data_dir)) {}
    std::unique_ptr<kafka_log> log_;
    kafka_options settings_;
    kafka_backend backend_;
    std::string data_dir_;
    std::unique_ptr<kafka_group> group_;
};

}  // namespace

struct node::parts {
    node_options options;
    std::unique_ptr<backend> log;
    std::unique_ptr<projections::read_models> models;
    std::unique_ptr<token_signer> tokens;
    metrics_registry metrics;
    std::unique_ptr<runner::ownership> owner;
    std::unique_ptr<service> router;
    std::unique_ptr<projections::projector> projector;
    std::unique_ptr<http_server> server;
    std::string demo_concert;
    bool stopped = false;

    bool ready() const { return log->ready() && owner->ready() && projector->within(readiness_lag_max); }
    void add_metrics();
    void add_queue_metrics();
    void add_audit_metrics();
    result<unit> create_demo_concert();
};

void node::parts::add_metrics() {
    // Summed over every runner this process ran, those of partitions it gave up included: it only grows.
    metrics.add_collector("encore_commands_applied_total", "Commands applied by this process's partition runners",
                          metric_kind::counter, {},
                          [this] { return std::vector<collected_sample>{{{}, static_cast<double>(owner->commands_applied())}}; });
    metrics.add_callback_gauge("encore_projection_lag_events", "Event log records not yet projected",
                               [this] { return static_cast<double>(projector->lag()); });
    metrics.add_callback_gauge("encore_queue_waiting_users", "Users waiting in every concert's waiting room",
                               [this] { return static_cast<double>(models->waiting_total()); });
    add_queue_metrics();
    metrics.add_callback_gauge("encore_partitions_owned", "Partitions this process owns and serves",
                               [this] { return static_cast<double>(owner->assigned().size()); });
    metrics.add_callback_gauge("encore_runners_started", "Partition runners recovered and started (takeovers and restarts)",
                               [this] { return static_cast<double>(owner->runners_started()); });
    metrics.add_callback_gauge("encore_runner_failures", "Partition runners or recoveries that failed and were retried",
                               [this] { return static_cast<double>(owner->runner_failures()); });
    metrics.add_callback_gauge("encore_checkpoint_seconds_max", "Longest checkpoint (snapshot and save, off the writer thread)",
                               [this] { return static_cast<double>(owner->checkpoints().max_ms) / 1000.0; });
    metrics.add_callback_gauge("encore_checkpoint_backpressure_seconds_max",
                               "Longest a partition's writer waited for its checkpointer to catch up",
                               [this] { return static_cast<double>(owner->checkpoints().backpressure_ms_max) / 1000.0; });
    metrics.add_callback_gauge("encore_checkpoints_written", "Checkpoints written by the running runners",
                               [this] { return static_cast<double>(owner->checkpoints().written); });
    metrics.add_callback_gauge("encore_checkpoint_bytes_max", "Largest checkpoint of a running runner",
                               [this] { return static_cast<double>(owner->checkpoints().bytes_max); });
    metrics.add_callback_gauge("encore_checkpoints_set_aside",
                               "Checkpoints of the running runners that failed their check (checksum, cut, format) at "
                               "recovery and were set aside; those partitions replayed their log from the start",
                               [this] { return static_cast<double>(owner->checkpoints().set_aside); });
    auto& owned = metrics.add_gauge("encore_partition_serving", "1 if this process owns the partition and its runner runs",
                                    {"partition"});
    for (std::uint32_t p = 0; p < options.partitions; ++p) {
        owned.with_callback({std::to_string(p)}, [this, p] { return owner->serving(p) ? 1.0 : 0.0; });
    }
    add_audit_metrics();
    log->add_metrics(metrics);
}

// Per concert, from the read models' mirror: one series per concert in the catalog.
void node::parts::add_queue_metrics() {
    auto figures = [this](bool waiting) {
        std::vector<collected_sample> out;
        for (const auto& q : models->queue_totals())
            out.push_back({{to_text(q.concert)}, static_cast<double>(waiting ? q.waiting : q.active)});
        return out;
    };
    metrics.add_collector("encore_queue_waiting", "Users waiting in the concert's waiting room", metric_kind::gauge,
                          {"concert"}, [figures] { return figures(true); });
    metrics.add_collector("encore_queue_active", "Users admitted to the concert and still active", metric_kind::gauge,
                          {"concert"}, [figures] { return figures(false); });
}

// What `encore audit` would cover, per partition: the command log it replays from offset 0, the
// events it compares byte for byte, and the events the read models it compares have applied.
void node::parts::add_audit_metrics() {
    auto per_partition = [this](auto read) {
        return [this, read] {
            std::vector<collected_sample> out;
            for (std::uint32_t p = 0; p < options.partitions; ++p)
                out.push_back({{std::to_string(p)}, static_cast<double>(read(p))});
            return out;
        };
    };
    metrics.add_collector("encore_command_log_end_offset",
                          "The partition's command log end: the offset its next command gets (commands logged)",
                          metric_kind::gauge, {"partition"},
                          per_partition([this](std::uint32_t p) { return log->commands().end(p); }));
    metrics.add_collector("encore_event_log_end_offset",
                          "The partition's event log end: the offset its next event record gets",
                          metric_kind::gauge, {"partition"},
                          per_partition([this](std::uint32_t p) { return log->events().end(p); }));
    metrics.add_collector("encore_projection_applied_sequence",
                          "The next event sequence the partition's read models expect (events projected)",
                          metric_kind::gauge, {"partition"},
                          per_partition([this](std::uint32_t p) { return models->applied_sequence(p); }));
}

result<unit> node::parts::create_demo_concert() {
    auto existing = models->concerts();
    if (!existing.empty()) {
        demo_concert = to_text(existing.front().config.concert);
        return unit{};
    }
    create_concert c = demo_catalog(runner::system_time_ms());
    demo_concert = to_text(c.concert);
    std::vector<create_concert> catalogs;
    catalogs.push_back(std::move(c));
    catalogs.push_back(demo_stadium_catalog(runner::system_time_ms()));
    for (create_concert& catalog : catalogs) {
        const command create{command_meta{runner::system_time_ms(), user_id{}, {}, no_position}, std::move(catalog)};
        auto appended = log->commands().append_and_wait(route_of(create, options.partitions), {encode(create)});
        if (!appended) return appended.err();
    }
    return unit{};
}

node::node(std::unique_ptr<parts> p) : parts_(std::move(p)) {}
node::~node() { stop(); }
std::uint16_t node::port() const { return parts_->server->port(); }
const std::string& node::demo_concert() const { return parts_->demo_concert; }
bool node::failed() const { return parts_->log && parts_->log->failed(); }
bool node::ready() const { return parts_->ready(); }
http::request_handler& node::handler() { return *parts_->router; }

result<std::unique_ptr<node>> node::start(const node_options& o) {
    if (o.data_dir.empty()) return error{errc::invalid, "a data directory is required"};
    if (!o.token_secret.empty() && o.token_secret.size() < token_secret_bytes_min)
        return error{errc::invalid, "--token-secret must be at least 32 characters"};
    // Before RocksDB opens its files: they and the connections share the descriptor limit.
    const open_files_figures open_files = raise_open_files_limit();
    auto p = std::make_unique<parts>();
    p->options = o;
    // The data holds the token secret and every user's data: no other local user may read it,
    // whatever the umask. Folders are made 0700 and files 0600 from here on (RocksDB creates its
    // files with the process umask), and the data directory itself is closed to others.
    ::umask(077);
    std::error_code ec;
    std::filesystem::create_directories(o.data_dir, ec);
    if (ec) return error{errc::io, "cannot create the data directory " + o.data_dir + ": " + ec.message()};
    std::filesystem::permissions(o.data_dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace, ec);
    if (ec) return error{errc::io, "cannot restrict the data directory " + o.data_dir + " to its owner: " + ec.message()};
    auto opened = std::visit(
        [&](const auto& b) -> result<std::unique_ptr<backend>> {
            if constexpr (std::is_same_v<std::decay_t<decltype(b)>, embedded_backend>) return embedded::open(o, b);
            else return kafka::open(o, b);
        },
        o.backend);
    if (!opened) return opened.err();
    p->log = std::move(opened).value();
    auto secret = p->log->token_secret(o.token_secret);
    if (!secret) return secret.err();
    p->tokens = std::make_unique<token_signer>(*secret);
    auto stale = p->log->models_stale();
    if (!stale) return stale.err();
    auto models = open_read_models(o.data_dir + "/projections", o.partitions, p->log->events(), *stale);
    if (!models) return models.err();
    p->models = std::move(models).value();

    parts* raw = p.get();
    runner::ownership_options owning;
    service_config config{o.admin_key, o.partitions, runner::system_time_ms, [raw] { return raw->ready(); },
                          [raw] { return raw->log->storage_problem(); }, random_nonzero_id};
    p->log->configure(owning, config);
    p->owner = std::make_unique<runner::ownership>(o.partitions, p->log->commands(), p->log->events(),
                                                   p->log->checkpoints(), owning, runner::system_time_ms);
    p->router = std::make_unique<service>(config, p->log->commands(), *p->models, *p->tokens, p->metrics);
    p->projector = std::make_unique<projections::projector>(
        p->log->events(), *p->models,
        [raw](std::uint32_t partition, std::span<const event> events) { raw->router->on_projected(partition, events); });
    p->add_metrics();

    server_options so;
    so.host = o.host;
    so.port = o.port;
    so.threads = o.http_threads;
    so.connections_max = o.connections_max;
    so.connections_per_client_max = o.connections_per_client_max;
    so.metrics = &p->metrics;
    auto server = http_server::start(so, *p->router);
    if (!server) return server.err();
    p->server = std::move(server).value();
    const connection_limits& limits = p->server->limits();
    diag::info("node", "connection limits",
               {{"open_files_soft_before", open_files.soft_before}, {"open_files_soft", open_files.soft},
                {"open_files_hard", open_files.hard}, {"connections_max", limits.connections_max},
                {"connections_max_configured", limits.connections_max_configured},
                {"connections_per_client_max", limits.connections_per_client_max},
                {"probe_connections_reserve", limits.probe_connections_reserve}});
    p->projector->start();
    if (auto assigning = p->log->start_assigning(*p->owner); !assigning) return assigning.err();
    diag::info("node", "serving",
               {{"listen", o.host + ":" + std::to_string(p->server->port())}, {"log", p->log->describe()},
                {"partitions", o.partitions}, {"data_dir", o.data_dir}});
    if (o.demo) {
        if (auto demo = p->create_demo_concert(); !demo) return demo.err();
    }
    return std::unique_ptr<node>(new node(std::move(p)));
}

void node::stop() {
    if (!parts_ || parts_->stopped) return;
    parts_->stopped = true;
    if (parts_->server) parts_->server->stop();
    // Kafka: leaving revokes the owned partitions through the listener, so their runners stop and
    // write checkpoints before the coordinator hands them to the others, without a timeout.
    if (parts_->log) parts_->log->leave();
    if (parts_->owner) parts_->owner->stop();
    if (parts_->projector) parts_->projector->stop();
    parts_->router.reset();
    parts_->log.reset();
    diag::info("node", "stopped");
}

}  // namespace encore
