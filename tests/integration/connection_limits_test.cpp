// Connection limits of the real `encore serve` (http/server.hpp): started under a low
// RLIMIT_NOFILE, it sizes its connection cap to it, and with the cap filled by idle sockets from
// other client addresses (127.0.0.2, 127.0.0.3: distinct clients on loopback) the probe reserve
// still answers /healthz and /readyz.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/integration/api.hpp"
#include "tests/support/raw_connection.hpp"

namespace encore::test {
namespace {

// The value of one series in a /metrics text, or -1.
double metric_value(const std::string& text, const std::string& series) {
    const std::string prefix = "\n" + series + " ";
    const auto at = text.find(prefix);
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + prefix.size(), text.find('\n', at + prefix.size()) - at - prefix.size()));
}

std::size_t count_closed(std::vector<raw_connection>& connections) {
    std::size_t closed = 0;
    for (auto& one : connections) closed += one.closed_by_server(std::chrono::milliseconds(0)) ? 1 : 0;
    return closed;
}

}  // namespace

TEST_CASE("under a low RLIMIT_NOFILE the cap is sized to it and probes pass a flood of idle sockets",
          "[operations][limits]") {
    // 512 descriptors: 256 kept for RocksDB and the rest, 16 for the probe reserve, 240 for
    // connections.
    constexpr std::uint64_t open_files = 512;
    constexpr std::size_t cap = 240;
    constexpr std::size_t probe_share_per_client = 2;
    server_options options;
    options.open_files_limit = open_files;
    server_process server(options);

    // A keep-alive client admitted before the flood: it is one of the cap, and reads /metrics
    // afterwards.
    http_client watcher(server.host(), server.port());
    REQUIRE(eventually(std::chrono::seconds(10), [&] {
        const auto reply = call(watcher, "GET", "/metrics");
        return reply.status == 200 && metric_value(reply.body, "encore_http_connections_open") == 1;
    }));
    const std::string before = call(watcher, "GET", "/metrics").body;
    CHECK(metric_value(before, R"(encore_http_connections_limit{kind="total"})") == cap);
    CHECK(metric_value(before, R"(encore_http_connections_limit{kind="probe_reserve"})") == 16);
    CHECK(metric_value(before, R"(encore_http_connections_limit{kind="per_client"})") == 256);
    CHECK(metric_value(before, "encore_process_open_files_limit") == open_files);
    CHECK(server.stderr_tail().find("\"connections_max\":240") != std::string::npos);
    const json limits_doc = call(watcher, "GET", "/openapi.json").json().at("info").at("x-connection-limits");
    CHECK(limits_doc.at("connectionsPerClientMax") == 256);
    CHECK(limits_doc.at("probeReserve") == 16);

    // Two clients, 200 idle sockets each: more than the descriptors left for connections.
    const std::vector<std::string> flooders = {"127.0.0.2", "127.0.0.3"};
    std::vector<raw_connection> flood;
    for (int i = 0; i < 400; ++i) {
        auto opened = raw_connection::open(flooders[i % 2], server.host(), server.port());
        INFO("socket " << i << ": " << (opened.ok() ? std::string() : opened.err().message));
        REQUIRE(opened.ok());
        flood.push_back(std::move(opened).value());
    }
    // The cap less the watcher, and each flooder's share of the probe reserve, stay open; the rest
    // is closed at once.
    const std::size_t kept_open = (cap - 1) + probe_share_per_client * flooders.size();
    const std::size_t refused = flood.size() - kept_open;
    CHECK(eventually(std::chrono::seconds(10), [&] { return count_closed(flood) == refused; }));

    // The cap is full, yet the probes answer through the reserve. One probe connection at a time:
    // the previous one is released before the next opens (a client holds two of the reserve).
    const double flooders_in_reserve = static_cast<double>(probe_share_per_client * flooders.size());
    const auto in_reserve = [&](std::string_view target) {
        REQUIRE(eventually(std::chrono::seconds(10), [&] {
            return metric_value(call(watcher, "GET", "/metrics").body, "encore_http_probe_connections_open") ==
                   flooders_in_reserve;
        }));
        http_client prober(server.host(), server.port());
        return call(prober, "GET", target);
    };
    CHECK_STATUS(in_reserve("/healthz"), 200);
    CHECK_STATUS(in_reserve("/readyz"), 200);
    const auto not_a_probe = in_reserve("/concerts");
    CHECK(not_a_probe.status == 503);
    CHECK(error_code_of(not_a_probe) == "OVERLOADED");
    CHECK(count_closed(flood) == refused);

    // The watcher, admitted before the flood, is served as ever.
    const std::string after = call(watcher, "GET", "/metrics").body;
    CHECK(metric_value(after, "encore_http_connections_open") == cap);
    CHECK(metric_value(after, R"(encore_http_connections_refused_total{reason="per_client"})") == refused);
    CHECK(metric_value(after, R"(encore_http_connections_refused_total{reason="not_probe"})") == 1);

    flood.clear();
    CHECK(eventually(std::chrono::seconds(10), [&] {
        http_client late(server.host(), server.port());
        const auto reply = late.request("GET", "/concerts");
        return reply.ok() && reply->status == 200;
    }));
}

}  // namespace encore::test
