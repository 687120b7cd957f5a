// `encore serve --kafka`: one process of a Kafka-mode cluster, until SIGTERM/SIGINT.

#include <csignal>
#include <cstdio>

#include "api/kafka_node.hpp"
#include "events/diagnostics.hpp"
#include "tools/commands.hpp"

namespace encore::tools {

std::vector<std::pair<std::string, std::string>> kafka_config(const arguments& args) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& setting : args.all("--kafka-config")) {
        const auto eq = setting.find('=');
        if (eq == std::string::npos || eq == 0) throw usage_error{"--kafka-config takes key=value, not '" + setting + "'"};
        out.emplace_back(setting.substr(0, eq), setting.substr(eq + 1));
    }
    return out;
}

int serve_kafka(const arguments& args) {
    if (auto bad = args.unknown({"--kafka", "--node-id", "--data-dir", "--listen", "--admin-key", "--partitions", "--token-secret",
                                 "--topic-prefix", "--kafka-config", "--http-threads", "--group-id", "--session-timeout-ms"}))
        throw usage_error{"unknown flag " + *bad + (*bad == "--demo" ? " (not in Kafka mode)" : "")};
    api::kafka_node_options o;
    o.bootstrap = *args.text("--kafka");
    auto node_id = args.text("--node-id");
    if (!node_id || node_id->empty()) throw usage_error{"--node-id (or ENCORE_NODE_ID) is required in Kafka mode"};
    o.node_id = *node_id;
    auto dir = args.text("--data-dir");
    if (!dir) throw usage_error{"--data-dir (or ENCORE_DATA_DIR) is required"};
    o.data_dir = *dir;
    auto admin = args.text("--admin-key");
    if (!admin || admin->size() < 8) throw usage_error{"--admin-key (or ENCORE_ADMIN_KEY) of at least 8 characters is required"};
    o.admin_key = *admin;
    auto secret = args.text("--token-secret");
    if (!secret || secret->size() < 32)
        throw usage_error{"--token-secret (or ENCORE_TOKEN_SECRET) of at least 32 characters, shared by every process, is required in Kafka mode"};
    o.token_secret = *secret;
    std::tie(o.host, o.port) = split_listen(args.text("--listen", "127.0.0.1:8080"));
    o.partitions = static_cast<std::uint32_t>(args.number("--partitions", 4));
    if (o.partitions < 1 || o.partitions > 256) throw usage_error{"--partitions must be 1..256"};
    o.topic_prefix = args.text("--topic-prefix", "");
    o.kafka_config = kafka_config(args);
    o.group_id = args.text("--group-id", "");
    o.session_timeout_ms = static_cast<int>(args.number("--session-timeout-ms", 6'000));
    if (o.session_timeout_ms < 1'000 || o.session_timeout_ms > 300'000) throw usage_error{"--session-timeout-ms must be 1000..300000"};
    o.http_threads = static_cast<unsigned>(args.number("--http-threads", 2));
    if (o.http_threads < 1 || o.http_threads > 64) throw usage_error{"--http-threads must be 1..64"};

    // Block the stop signals before any thread starts, so that only sigwait below receives them.
    sigset_t stop_signals = block_stop_signals();

    auto node = api::kafka_node::start(o);
    if (!node) {
        diag::error("serve", "cannot start", {{"error", node.err().message}});
        return 1;
    }
    std::printf("encore serving on http://%s:%u (kafka %s, node %s, %u partitions, data in %s)\n", o.host.c_str(),
                (*node)->port(), o.bootstrap.c_str(), o.node_id.c_str(), o.partitions, o.data_dir.c_str());
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
            diag::error("serve", "the Kafka producer stopped after a fatal error; leaving the group so that the other "
                                 "processes take this one's partitions over. Restart it.");
            (*node)->stop();
            return 1;
        }
    }
}

}  // namespace encore::tools
