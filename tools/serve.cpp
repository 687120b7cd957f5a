// `encore serve` (embedded log) and `encore serve --kafka` (one process of a Kafka-mode cluster):
// flags to node_options, one node, until SIGTERM/SIGINT.

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "node/node.hpp"
#include "events/diagnostics.hpp"
#include "events/types.hpp"
#include "tools/subcommands.hpp"

namespace encore::tools {
namespace {

// The largest value --connections-max and --connections-per-client-max take; the descriptor
// limit usually sizes connections_max further down.
constexpr std::uint64_t connections_flag_max = 1'000'000;
// The largest --storage-reserve-mb: a reserve is a safety margin, not a quota.
constexpr std::uint64_t storage_reserve_mb_max = 1u << 20;
constexpr std::uint64_t session_timeout_ms_min = 1'000;
constexpr std::uint64_t session_timeout_ms_max = 300'000;
constexpr unsigned http_threads_max = 64;

const std::vector<std::string> embedded_flags = {"--demo", "--storage-reserve-mb"};
const std::vector<std::string> kafka_flags = {"--node-id", "--topic-prefix", "--kafka-config", "--group-id",
                                              "--session-timeout-ms"};

struct serve_flags {
    std::string data_dir;
    std::string listen = "127.0.0.1:8080";
    std::string admin_key, admin_key_file;
    std::uint32_t partitions = 4;
    std::string token_secret, token_secret_file;
    unsigned http_threads = 2;
    std::uint64_t connections_max = http::connections_max_default;
    std::uint64_t connections_per_client_max = http::connections_per_client_max_default;
    // Embedded log.
    bool demo = false;
    std::uint64_t storage_reserve_mb = encore::embedded_backend{}.free_bytes_reserve >> 20;
    // Kafka mode.
    std::string kafka;
    CLI::Option* kafka_option = nullptr;
    std::string node_id, topic_prefix, group_id;
    kafka_config_flag kafka_config;
    std::uint64_t session_timeout_ms = 6'000;
};

// A secret given on the command line shows in `ps`; `--NAME-file PATH` reads it from a file
// instead (one trailing newline dropped). Both at once is an error (CLI11's excludes).
std::string secret(const std::string& inline_value, const std::string& file, const std::string& name) {
    if (file.empty()) return inline_value;
    std::ifstream in(file);
    if (!in) throw usage_error{"cannot read " + name + "-file " + file};
    std::string value((std::istreambuf_iterator<char>(in)), {});
    if (value.ends_with('\n')) value.pop_back();
    if (value.ends_with('\r')) value.pop_back();
    return value;
}

void add_flags(CLI::App& app, serve_flags& f) {
    text_flag(app, "--data-dir", f.data_dir,
              "the log and read models (Kafka mode: the read models); made 0700, its files 0600", "DIR")
        ->required();
    text_flag(app, "--listen", f.listen, "the HTTP address; port 0 takes a free one", "HOST:PORT");
    auto* admin_key = text_flag(app, "--admin-key", f.admin_key, "the organizer's key, at least 8 characters", "KEY");
    auto* admin_key_file = text_flag(app, "--admin-key-file", f.admin_key_file,
                                     "read the admin key from a file, so that it does not show in `ps`", "PATH");
    admin_key->excludes(admin_key_file);
    number_flag(app, "--partitions", f.partitions, "partitions of the log, fixed for the life of a data directory", 1,
                partitions_max);
    auto* token_secret = text_flag(app, "--token-secret", f.token_secret,
                                   "signs the users' tokens, at least 32 characters; generated on first start and "
                                   "kept in DIR/token-secret when not given (required in Kafka mode)",
                                   "S");
    auto* token_secret_file =
        text_flag(app, "--token-secret-file", f.token_secret_file, "read the token secret from a file", "PATH");
    token_secret->excludes(token_secret_file);
    number_flag(app, "--http-threads", f.http_threads, "threads serving HTTP", 1, http_threads_max);
    number_flag(app, "--connections-max", f.connections_max,
                "connections in all; lowered at start to what RLIMIT_NOFILE allows, after its soft limit is raised "
                "to the hard one",
                1, connections_flag_max);
    number_flag(app, "--connections-per-client-max", f.connections_per_client_max,
                "connections per client address (IPv6: per /64); behind a reverse proxy, raise it to what the proxy "
                "may open",
                1, connections_flag_max);

    switch_flag(app, "--demo", f.demo, "create a demo concert when there is none")->group("Embedded log");
    number_flag(app, "--storage-reserve-mb", f.storage_reserve_mb,
                "while less than this many MiB are free on the log's file system, new commands get 503 "
                "STORAGE_UNAVAILABLE and change nothing",
                0, storage_reserve_mb_max)
        ->group("Embedded log");

    f.kafka_option = text_flag(app, "--kafka", f.kafka, "Kafka mode: the bootstrap servers of the cluster", "BOOTSTRAP")
                         ->group("Kafka mode");
    text_flag(app, "--node-id", f.node_id, "names this process in Kafka client ids and logs [required in Kafka mode]", "ID")
        ->group("Kafka mode");
    text_flag(app, "--topic-prefix", f.topic_prefix, "the topics are <P>commands, <P>events and <P>snapshots", "P")
        ->group("Kafka mode");
    add_kafka_config_flag(app, f.kafka_config);
    f.kafka_config.option->group("Kafka mode");
    text_flag(app, "--group-id", f.group_id, "the consumer group on <P>commands [default: <P>encore-engines]", "G")
        ->group("Kafka mode");
    number_flag(app, "--session-timeout-ms", f.session_timeout_ms,
                "the consumer group's session timeout: how soon a stopped process's partitions move",
                session_timeout_ms_min, session_timeout_ms_max)
        ->group("Kafka mode");
}

encore::node_options node_settings(const serve_flags& f) {
    const bool kafka = f.kafka_option->count() > 0;
    for (const std::string& name : given(kafka ? embedded_flags : kafka_flags))
        throw usage_error{name + (kafka ? " is not for Kafka mode" : " is for Kafka mode only (with --kafka)")};
    encore::node_options o;
    o.data_dir = f.data_dir;
    o.admin_key = secret(f.admin_key, f.admin_key_file, "--admin-key");
    if (o.admin_key.size() < 8) throw usage_error{"--admin-key (or ENCORE_ADMIN_KEY) of at least 8 characters is required"};
    std::tie(o.host, o.port) = split_listen(f.listen);
    o.partitions = f.partitions;
    o.token_secret = secret(f.token_secret, f.token_secret_file, "--token-secret");
    if (kafka && o.token_secret.size() < 32)
        throw usage_error{"--token-secret (or ENCORE_TOKEN_SECRET) of at least 32 characters, shared by every process, is required in Kafka mode"};
    if (!o.token_secret.empty() && o.token_secret.size() < 32) throw usage_error{"--token-secret must be at least 32 characters"};
    o.http_threads = f.http_threads;
    o.connections_max = static_cast<std::size_t>(f.connections_max);
    o.connections_per_client_max = static_cast<std::size_t>(f.connections_per_client_max);
    if (kafka) {
        encore::kafka_backend k;
        k.bootstrap = f.kafka;
        if (f.node_id.empty()) throw usage_error{"--node-id (or ENCORE_NODE_ID) is required in Kafka mode"};
        k.node_id = f.node_id;
        k.topic_prefix = f.topic_prefix;
        k.kafka_config = f.kafka_config.settings();
        k.group_id = f.group_id;
        k.session_timeout_ms = static_cast<int>(f.session_timeout_ms);
        o.backend = k;
    } else {
        o.demo = f.demo;
        encore::embedded_backend embedded;
        embedded.free_bytes_reserve = f.storage_reserve_mb << 20;
        o.backend = embedded;
    }
    return o;
}

int serve(const encore::node_options& o) {
    // Block the stop signals before any thread starts, so that only the wait below receives them.
    sigset_t stop_signals = block_stop_signals();

    auto node = encore::node::start(o);
    if (!node) {
        diag::error("serve", "cannot start", {{"error", node.err().message}});
        return 1;
    }
    if (const auto* k = std::get_if<encore::kafka_backend>(&o.backend)) {
        std::printf("encore serving on http://%s:%u (kafka %s, node %s, %u partitions, data in %s)\n", o.host.c_str(),
                    (*node)->port(), k->bootstrap.c_str(), k->node_id.c_str(), o.partitions, o.data_dir.c_str());
    } else {
        std::printf("encore serving on http://%s:%u (data in %s, %u partitions)\n", o.host.c_str(), (*node)->port(),
                    o.data_dir.c_str(), o.partitions);
    }
    if (!(*node)->demo_concert().empty()) std::printf("demo concert: %s\n", (*node)->demo_concert().c_str());
    std::fflush(stdout);
    // Wait for a stop signal, looking once a second whether the node can still write.
    const timespec check_interval{1, 0};
    for (;;) {
        const int received = sigtimedwait(&stop_signals, nullptr, &check_interval);
        if (received > 0) {
            diag::info("serve", "stopping", {{"signal", received}});
            (*node)->stop();
            return 0;
        }
        if ((*node)->failed()) {
            diag::error("serve", "the log can no longer be written (the Kafka producer stopped after a fatal error); "
                                 "giving the partitions up so that other processes take them over. Restart it.");
            (*node)->stop();
            return 1;
        }
    }
}

}  // namespace

subcommand add_serve(CLI::App& encore) {
    CLI::App* app = encore.add_subcommand("serve", "Runs the service: on the embedded durable log, or with --kafka as one "
                                                   "of several processes sharing a Kafka (or Redpanda) cluster.");
    auto flags = std::make_shared<serve_flags>();
    add_flags(*app, *flags);
    app->footer(
        "Every flag can also be given as its environment variable (shown with each flag). SIGTERM or SIGINT drains "
        "and exits; the process exits 1 if the log can no longer be written, so that the others take its "
        "partitions. Past --connections-max a small reserve still answers /healthz and /readyz.\n"
        "\n"
        "Kafka mode: the topics <P>commands and <P>events (N partitions each) and <P>snapshots (1 partition, "
        "compacted) must exist. The consumer group on <P>commands decides which process writes for which "
        "partition; every process keeps its own read models in DIR and answers any request. --token-secret must be "
        "the same on every process.");
    return {app, [flags] { return serve(node_settings(*flags)); }};
}

}  // namespace encore::tools
