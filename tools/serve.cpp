// `encore serve`: one process on the embedded log, until SIGTERM/SIGINT.

#include <csignal>
#include <cstdio>

#include "api/node.hpp"
#include "events/diagnostics.hpp"
#include "tools/commands.hpp"

namespace encore::tools {
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

int serve(const arguments& args) {
    if (auto bad = args.unknown({"--data-dir", "--listen", "--admin-key", "--partitions", "--token-secret", "--demo", "--http-threads"}))
        throw usage_error{"unknown flag " + *bad};
    api::node_options o;
    auto dir = args.text("--data-dir");
    if (!dir) throw usage_error{"--data-dir (or ENCORE_DATA_DIR) is required"};
    o.data_dir = *dir;
    auto admin = args.text("--admin-key");
    if (!admin || admin->size() < 8) throw usage_error{"--admin-key (or ENCORE_ADMIN_KEY) of at least 8 characters is required"};
    o.admin_key = *admin;
    std::tie(o.host, o.port) = split_listen(args.text("--listen", "127.0.0.1:8080"));
    o.partitions = static_cast<std::uint32_t>(args.number("--partitions", 4));
    if (o.partitions < 1 || o.partitions > 256) throw usage_error{"--partitions must be 1..256"};
    o.token_secret = args.text("--token-secret", "");
    o.demo = args.flag("--demo");
    o.http_threads = static_cast<unsigned>(args.number("--http-threads", 2));
    if (o.http_threads < 1 || o.http_threads > 64) throw usage_error{"--http-threads must be 1..64"};

    // Block the stop signals before any thread starts, so that only sigwait below receives them.
    sigset_t stop_signals = block_stop_signals();

    auto node = api::node::start(o);
    if (!node) {
        diag::error("serve", "cannot start", {{"error", node.err().message}});
        return 1;
    }
    std::printf("encore serving on http://%s:%u (data in %s, %u partitions)\n", o.host.c_str(), (*node)->port(),
                o.data_dir.c_str(), o.partitions);
    if (!(*node)->demo_concert().empty()) std::printf("demo concert: %s\n", (*node)->demo_concert().c_str());
    std::fflush(stdout);
    int received = 0;
    sigwait(&stop_signals, &received);
    diag::info("serve", "stopping", {{"signal", received}});
    (*node)->stop();
    return 0;
}

}  // namespace encore::tools
