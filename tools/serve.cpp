// `encore serve` (embedded log) and `encore serve --kafka` (one process of a Kafka-mode cluster):
// one flag parser, one node, until SIGTERM/SIGINT.

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "node/node.hpp"
#include "events/diagnostics.hpp"
#include "events/types.hpp"
#include "replay/source.hpp"
#include "tools/subcommands.hpp"

namespace encore::tools {
namespace {

const std::set<std::string> common_flags = {"--data-dir",     "--listen",       "--admin-key",         "--admin-key-file",
                                            "--partitions",   "--token-secret", "--token-secret-file", "--http-threads",
                                            "--connections-max", "--connections-per-client-max"};

// A secret given on the command line shows in `ps`; `--NAME-file PATH` reads it from a file
// instead (one trailing newline dropped). Both at once is an error.
std::optional<std::string> secret_flag(const arguments& args, const std::string& name) {
    auto inline_value = args.text(name);
    auto file = args.text(name + "-file");
    if (inline_value && file) throw usage_error{name + " and " + name + "-file are exclusive"};
    if (!file) return inline_value;
    std::ifstream in(*file);
    if (!in) throw usage_error{"cannot read " + name + "-file " + *file};
    std::string value((std::istreambuf_iterator<char>(in)), {});
    if (value.ends_with('\n')) value.pop_back();
    if (value.ends_with('\r')) value.pop_back();
    return value;
}
// The largest value --connections-max and --connections-per-client-max take; the descriptor
// limit usually sizes connections_max further down.
constexpr std::uint64_t connections_flag_max = 1'000'000;

const std::set<std::string> embedded_flags = {"--demo", "--storage-reserve-mb"};
// The largest --storage-reserve-mb: a reserve is a safety margin, not a quota.
constexpr std::uint64_t storage_reserve_mb_max = 1u << 20;
const std::set<std::string> kafka_flags = {"--kafka",        "--node-id",  "--topic-prefix",
                                           "--kafka-config", "--group-id", "--session-timeout-ms"};

encore::kafka_backend kafka_settings(const arguments& args) {
    encore::kafka_backend k;
    k.bootstrap = *args.text("--kafka");
    auto node_id = args.text("--node-id");
    if (!node_id || node_id->empty()) throw usage_error{"--node-id (or ENCORE_NODE_ID) is required in Kafka mode"};
    k.node_id = *node_id;
    k.topic_prefix = args.text("--topic-prefix", "");
    k.kafka_config = kafka_config(args);
    k.group_id = args.text("--group-id", "");
    k.session_timeout_ms = static_cast<int>(args.number("--session-timeout-ms", 6'000));
    if (k.session_timeout_ms < 1'000 || k.session_timeout_ms > 300'000)
        throw usage_error{"--session-timeout-ms must be 1000..300000"};
    return k;
}

encore::node_options node_settings(const arguments& args) {
    const bool kafka = args.text("--kafka").has_value();
    std::set<std::string> known = common_flags;
    known.insert((kafka ? kafka_flags : embedded_flags).begin(), (kafka ? kafka_flags : embedded_flags).end());
    if (auto bad = args.unknown(known)) {
        const bool other_mode = (kafka ? embedded_flags : kafka_flags).contains(*bad);
        throw usage_error{"unknown flag " + *bad + (other_mode ? (kafka ? " (not in Kafka mode)" : " (Kafka mode only)") : "")};
    }
    encore::node_options o;
    auto dir = args.text("--data-dir");
    if (!dir) throw usage_error{"--data-dir (or ENCORE_DATA_DIR) is required"};
    o.data_dir = *dir;
    auto admin = secret_flag(args, "--admin-key");
    if (!admin || admin->size() < 8) throw usage_error{"--admin-key (or ENCORE_ADMIN_KEY) of at least 8 characters is required"};
    o.admin_key = *admin;
    std::tie(o.host, o.port) = split_listen(args.text("--listen", "127.0.0.1:8080"));
    o.partitions = partitions_flag(args).value_or(4);
    o.token_secret = secret_flag(args, "--token-secret").value_or("");
    if (kafka && o.token_secret.size() < 32)
        throw usage_error{"--token-secret (or ENCORE_TOKEN_SECRET) of at least 32 characters, shared by every process, is required in Kafka mode"};
    if (!o.token_secret.empty() && o.token_secret.size() < 32) throw usage_error{"--token-secret must be at least 32 characters"};
    o.http_threads = static_cast<unsigned>(args.number("--http-threads", 2));
    if (o.http_threads < 1 || o.http_threads > 64) throw usage_error{"--http-threads must be 1..64"};
    const auto connections_max = args.number("--connections-max", http::connections_max_default);
    if (connections_max < 1 || connections_max > connections_flag_max)
        throw usage_error{"--connections-max must be 1.." + std::to_string(connections_flag_max)};
    o.connections_max = static_cast<std::size_t>(connections_max);
    const auto per_client = args.number("--connections-per-client-max", http::connections_per_client_max_default);
    if (per_client < 1 || per_client > connections_flag_max)
        throw usage_error{"--connections-per-client-max must be 1.." + std::to_string(connections_flag_max)};
    o.connections_per_client_max = static_cast<std::size_t>(per_client);
    if (kafka) {
        o.backend = kafka_settings(args);
    } else {
        o.demo = args.flag("--demo");
        encore::embedded_backend embedded;
        const auto reserve_mb = args.number("--storage-reserve-mb", embedded.free_bytes_reserve >> 20);
        if (reserve_mb > storage_reserve_mb_max)
            throw usage_error{"--storage-reserve-mb must be 0.." + std::to_string(storage_reserve_mb_max)};
        embedded.free_bytes_reserve = reserve_mb << 20;
        o.backend = embedded;
    }
    return o;
}

}  // namespace

std::pair<std::string, std::uint16_t> split_listen(const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) throw usage_error{"--listen must be HOST:PORT, not '" + listen + "'"};
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    std::string port = listen.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535)
        throw usage_error{"--listen port must be 0..65535, not '" + port + "'"};
    return {host, static_cast<std::uint16_t>(std::stoul(port))};
}

sigset_t block_stop_signals() {
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    return stop_signals;
}

std::vector<std::pair<std::string, std::string>> kafka_config(const arguments& args) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& setting : args.all("--kafka-config")) {
        const auto eq = setting.find('=');
        if (eq == std::string::npos || eq == 0) throw usage_error{"--kafka-config takes key=value, not '" + setting + "'"};
        out.emplace_back(setting.substr(0, eq), setting.substr(eq + 1));
    }
    return out;
}

std::optional<std::uint32_t> partitions_flag(const arguments& args) {
    if (!args.text("--partitions")) return std::nullopt;
    const std::uint64_t n = args.number("--partitions", 0);
    if (n < 1 || n > partitions_max) throw usage_error{"--partitions must be 1.." + std::to_string(partitions_max)};
    return static_cast<std::uint32_t>(n);
}

replay::source open_source(const arguments& args, const std::string& client_id) {
    try {
        if (auto bootstrap = args.text("--kafka")) {
            return replay::source::kafka({.bootstrap = *bootstrap,
                                          .partitions = partitions_flag(args).value_or(0),
                                          .topic_prefix = args.text("--topic-prefix", ""),
                                          .config = kafka_config(args),
                                          .client_id = client_id});
        }
        auto dir = args.text("--data-dir");
        if (!dir) throw usage_error{"--data-dir is required"};
        return replay::source::data_dir(*dir, partitions_flag(args));
    } catch (const replay::wrong_request& e) {
        throw usage_error{e.message};  // a --partitions the log does not have: the caller's mistake
    }
}

int serve(const arguments& args) {
    const encore::node_options o = node_settings(args);
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

}  // namespace encore::tools
