#include "api/node.hpp"

#include <openssl/rand.h>

#include <atomic>
#include <filesystem>

#include "api/http_server.hpp"
#include "api/metrics.hpp"
#include "api/service.hpp"
#include "api/tokens.hpp"
#include "engine/runner/partition_runner.hpp"
#include "events/codec.hpp"
#include "events/diagnostics.hpp"
#include "events/ids.hpp"
#include "events/log/embedded_log.hpp"
#include "events/time.hpp"
#include "projections/projector.hpp"

namespace encore::api {
namespace {

std::uint64_t random_nonzero_id() {
    std::uint64_t v = 0;
    while (v == 0) {
        if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) std::abort();
    }
    return v;
}

result<std::string> token_secret(embedded_log& log, const std::string& given) {
    if (!given.empty()) {
        if (given.size() < token_secret_bytes_min) return error{errc::invalid, "--token-secret must be at least 32 characters"};
        return given;
    }
    auto kept = log.get_meta("token_secret");
    if (!kept) return kept.err();
    if (kept->has_value()) return **kept;
    std::string fresh = generate_secret();
    if (auto put = log.put_meta("token_secret", fresh); !put) return put.err();
    return fresh;
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

// The read models are written without fsync and can be rebuilt from the event log. After a
// machine crash they may hold events the event log lost (its unsynced, derived tail): then they
// are dropped and rebuilt, since the runners will regenerate that tail.
result<std::unique_ptr<projections::read_models>> open_read_models(embedded_log& log, const node_options& o) {
    const std::string dir = o.data_dir + "/projections";
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto models = projections::read_models::open({dir, o.partitions, false});
        if (!models) return models.err();
        bool ahead = false;
        for (std::uint32_t p = 0; p < o.partitions; ++p) ahead |= (*models)->applied_sequence(p) > log.events().end(p);
        if (!ahead) return models;
        diag::warn("node", "read models are ahead of the event log; rebuilding them", {{"directory", dir}});
        models->reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        if (ec) return error{errc::io, "cannot remove " + dir + ": " + ec.message()};
    }
    return error{errc::io, "read models stay ahead of the event log after a rebuild"};
}

}  // namespace

struct node::parts {
    node_options options;
    std::unique_ptr<embedded_log> log;
    std::unique_ptr<projections::read_models> models;
    std::unique_ptr<token_signer> tokens;
    metrics_registry metrics;
    std::unique_ptr<runner::runner_group> runners;
    std::unique_ptr<service> router;
    std::unique_ptr<projections::projector> projector;
    std::unique_ptr<http_server> server;
    std::atomic<bool> recovered{false};
    std::string demo_concert;
    bool stopped = false;
};

node::node(std::unique_ptr<parts> p) : parts_(std::move(p)) {}
node::~node() { stop(); }
std::uint16_t node::port() const { return parts_->server->port(); }
const std::string& node::demo_concert() const { return parts_->demo_concert; }

result<std::unique_ptr<node>> node::start(const node_options& o) {
    auto p = std::make_unique<parts>();
    p->options = o;
    std::error_code ec;
    std::filesystem::create_directories(o.data_dir, ec);
    if (ec) return error{errc::io, "cannot create the data directory " + o.data_dir + ": " + ec.message()};
    auto log = embedded_log::open({.directory = o.data_dir + "/log", .partitions = o.partitions, .sync = o.sync});
    if (!log) return log.err();
    p->log = std::move(log).value();
    auto secret = token_secret(*p->log, o.token_secret);
    if (!secret) return secret.err();
    p->tokens = std::make_unique<token_signer>(*secret);
    auto models = open_read_models(*p->log, o);
    if (!models) return models.err();
    p->models = std::move(models).value();
    p->runners = std::make_unique<runner::runner_group>(o.partitions, p->log->commands(), p->log->events(),
                                                        p->log->checkpoints(), runner::runner_options{},
                                                        runner::system_time_ms);
    parts* raw = p.get();
    service_config config{o.admin_key, o.partitions, runner::system_time_ms,
                          [raw] { return raw->recovered.load() && raw->projector->caught_up() && !raw->runners->failed(); },
                          random_nonzero_id};
    p->router = std::make_unique<service>(config, p->log->commands(), *p->models, *p->tokens, p->metrics);
    p->projector = std::make_unique<projections::projector>(
        p->log->events(), *p->models,
        [raw](std::uint32_t partition, std::span<const event> events) { raw->router->on_projected(partition, events); });
    p->metrics.add_callback_gauge("encore_commands_applied", "Commands applied by this process's partition runners",
                                  [raw] { return static_cast<double>(raw->runners->commands_applied()); });
    p->metrics.add_callback_gauge("encore_projection_lag_events", "Events in the log not yet projected",
                                  [raw] { return static_cast<double>(raw->projector->lag()); });
    p->metrics.add_callback_gauge("encore_queue_waiting_users", "Users waiting in every concert's waiting room",
                                  [raw] { return static_cast<double>(raw->models->waiting_total()); });
    server_options so;
    so.host = o.host;
    so.port = o.port;
    so.threads = o.http_threads;
    so.metrics = &p->metrics;
    auto server = http_server::start(so, *p->router);
    if (!server) return server.err();
    p->server = std::move(server).value();
    p->projector->start();
    if (auto r = p->runners->recover(); !r) return r.err();
    p->runners->start();
    p->recovered = true;
    diag::info("node", "serving", {{"listen", o.host + ":" + std::to_string(p->server->port())}, {"partitions", o.partitions}, {"data_dir", o.data_dir}});
    if (o.demo) {
        auto existing = p->models->concerts();
        if (!existing.empty()) {
            p->demo_concert = to_text(existing.front().config.concert);
        } else {
            create_concert c = demo_catalog(runner::system_time_ms());
            p->demo_concert = to_text(c.concert);
            std::uint32_t partition = partition_of(c.concert, o.partitions);
            auto appended = p->log->commands().append_and_wait(
                partition, {encode(command{command_meta{runner::system_time_ms(), user_id{}, {}, no_position}, c})});
            if (!appended) return appended.err();
        }
    }
    return std::unique_ptr<node>(new node(std::move(p)));
}

void node::stop() {
    if (!parts_ || parts_->stopped) return;
    parts_->stopped = true;
    if (parts_->server) parts_->server->stop();
    if (parts_->projector) parts_->projector->stop();
    if (parts_->runners) parts_->runners->stop();
    parts_->router.reset();
    parts_->log.reset();
    diag::info("node", "stopped");
}

}  // namespace encore::api
