// Connection limits of the HTTP server over loopback: per client address, in all with the probe
// reserve past the cap, the short deadline of a connection that never sent a request, and the
// sizing of the cap against the descriptor limit. Clients are told apart by their source address:
// sockets bound to 127.0.0.2, 127.0.0.3... before connecting. No assertion is on time; waits are
// bounded by generous deadlines.

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/client.hpp"
#include "http/metrics.hpp"
#include "http/server.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/raw_connection.hpp"

using namespace encore::http;
using encore::http::http_client;
using encore::test::raw_connection;
using encore::test::eventually;
using namespace std::chrono_literals;

namespace {

constexpr auto wait_max = 10s;

// /healthz and /readyz answer 200, /hello too; anything else 404.
class probe_handler final : public request_handler {
public:
    void handle(http_request request, responder respond) override {
        const std::string target(request.target());
        const std::string path = target.substr(0, target.find('?'));
        if (path == "/healthz" || path == "/readyz" || path == "/hello") {
            respond.send(json_response(200, {{"path", path}}, request.version()), "GET " + path);
        } else {
            respond.send(error_response(404, "NOT_FOUND", "no such route", request.version()), "-");
        }
    }
};

struct limits_server {
    explicit limits_server(server_options options) {
        options.metrics = &metrics;
        // Idle sockets stay open for the whole test unless a test shortens this on purpose.
        if (options.timeouts.first_request_ms == server_timeouts{}.first_request_ms) {
            options.timeouts.first_request_ms = 60s;
        }
        auto started = http_server::start(options, handler);
        REQUIRE(started.ok());
        server = std::move(started.value());
    }
    std::uint16_t port() const { return server->port(); }

    // The value of one series in /metrics, e.g. `encore_http_connections_limit{kind="total"}`.
    double metric(const std::string& series) const {
        const std::string text = metrics.render();
        const std::string prefix = series + " ";
        for (std::size_t at = 0; at < text.size();) {
            const std::size_t end = text.find('\n', at);
            const std::string line = text.substr(at, end - at);
            if (line.rfind(prefix, 0) == 0) return std::stod(line.substr(prefix.size()));
            if (end == std::string::npos) break;
            at = end + 1;
        }
        return -1;
    }

    probe_handler handler;
    metrics_registry metrics;
    std::unique_ptr<http_server> server;
};

raw_connection open_from(const std::string& address, std::uint16_t port) {
    auto opened = raw_connection::open(address, "127.0.0.1", port);
    INFO("from " << address << ": " << (opened.ok() ? std::string() : opened.err().message));
    REQUIRE(opened.ok());
    return std::move(opened).value();
}

unsigned status_from(const std::string& address, std::uint16_t port, const std::string& target) {
    http_client client("127.0.0.1", port);
    client.set_local_address(address);
    auto reply = client.request("GET", target);
    return reply.ok() ? reply->status : 0;
}

}  // namespace

TEST_CASE("http limits: a client over connections_per_client_max is refused, others still served",
          "[http][limits]") {
    server_options options;
    options.connections_per_client_max = 4;
    limits_server fixture(options);
    std::vector<raw_connection> flood;
    for (int i = 0; i < 4; ++i) flood.push_back(open_from("127.0.0.2", fixture.port()));
    REQUIRE(eventually(wait_max, [&] { return fixture.server->connections() == 4; }));

    raw_connection over = open_from("127.0.0.2", fixture.port());
    CHECK(over.closed_by_server(wait_max));
    CHECK(fixture.metric(R"(encore_http_connections_refused_total{reason="per_client"})") == 1);

    CHECK(status_from("127.0.0.3", fixture.port(), "/healthz") == 200);
    CHECK(status_from("127.0.0.3", fixture.port(), "/hello") == 200);
    for (auto& one : flood) CHECK_FALSE(one.closed_by_server(0ms));
    CHECK(fixture.metric(R"(encore_http_connections_limit{kind="per_client"})") == 4);

    // A connection of the flooding client that closes makes room for another of its own.
    flood.front().close();
    CHECK(eventually(wait_max, [&] { return status_from("127.0.0.2", fixture.port(), "/hello") == 200; }));
}

TEST_CASE("http limits: with connections_max reached, the probe reserve still serves /healthz and /readyz",
          "[http][limits]") {
    server_options options;
    options.connections_max = 6;
    options.probe_connections_reserve = 3;
    limits_server fixture(options);
    std::vector<raw_connection> idle;
    for (int i = 0; i < 6; ++i) idle.push_back(open_from("127.0.0." + std::to_string(2 + i % 3), fixture.port()));
    REQUIRE(eventually(wait_max, [&] { return fixture.server->connections() == 6; }));

    SECTION("probes are answered, once per connection; anything else gets 503 and close") {
        // One reserve connection at a time: the previous one is released before the next opens
        // (a client holds at most two of the reserve).
        const auto in_reserve = [&](std::string_view method, std::string_view target) {
            REQUIRE(eventually(wait_max, [&] { return fixture.metric("encore_http_probe_connections_open") == 0; }));
            http_client prober("127.0.0.1", fixture.port());
            auto reply = prober.request(method, target, method == "POST" ? "{}" : "");
            REQUIRE(reply.ok());
            return std::move(reply).value();
        };
        const auto health = in_reserve("GET", "/healthz?token=x");
        CHECK(health.status == 200);
        CHECK_FALSE(health.keep_alive);
        CHECK(in_reserve("GET", "/readyz").status == 200);
        CHECK(in_reserve("HEAD", "/readyz").status == 200);
        const auto other = in_reserve("GET", "/hello");
        CHECK(other.status == 503);
        CHECK(other.json()["error"]["code"] == "OVERLOADED");
        CHECK(other.header("Retry-After") == "1");
        CHECK_FALSE(other.keep_alive);
        CHECK(in_reserve("POST", "/healthz").status == 503);
        CHECK(fixture.metric(R"(encore_http_connections_refused_total{reason="not_probe"})") == 2);
        CHECK(fixture.server->connections() == 6);
    }

    SECTION("a client holds at most two of the reserve; past the reserve a connection is closed at once") {
        std::vector<raw_connection> reserve;
        reserve.push_back(open_from("127.0.0.5", fixture.port()));
        reserve.push_back(open_from("127.0.0.5", fixture.port()));
        REQUIRE(eventually(wait_max, 
            [&] { return fixture.metric("encore_http_probe_connections_open") == 2; }));
        raw_connection third_of_client = open_from("127.0.0.5", fixture.port());
        CHECK(third_of_client.closed_by_server(wait_max));
        CHECK(fixture.metric(R"(encore_http_connections_refused_total{reason="per_client"})") == 1);

        CHECK(status_from("127.0.0.6", fixture.port(), "/readyz") == 200);  // the reserve's last one
        REQUIRE(eventually(wait_max, 
            [&] { return fixture.metric("encore_http_probe_connections_open") == 2; }));
        reserve.push_back(open_from("127.0.0.6", fixture.port()));
        REQUIRE(eventually(wait_max, 
            [&] { return fixture.metric("encore_http_probe_connections_open") == 3; }));
        raw_connection past = open_from("127.0.0.7", fixture.port());
        CHECK(past.closed_by_server(wait_max));
        CHECK(fixture.metric(R"(encore_http_connections_refused_total{reason="connections_max"})") == 1);
        for (auto& one : reserve) CHECK_FALSE(one.closed_by_server(0ms));
        for (auto& one : idle) CHECK_FALSE(one.closed_by_server(0ms));
    }

    SECTION("a regular connection that closes makes room again") {
        idle.front().close();
        CHECK(eventually(wait_max, [&] { return status_from("127.0.0.1", fixture.port(), "/hello") == 200; }));
    }
}

TEST_CASE("http limits: a connection that never sends a request is closed before idle keep-alive ones",
          "[http][limits]") {
    server_options options;
    options.timeouts.first_request_ms = 200ms;
    options.timeouts.idle_ms = 60s;
    limits_server fixture(options);
    // A connection that has answered a request. Its own first request must arrive within the
    // 200 ms too, which a busy machine may not give the client: a new connection tries again
    // until wait_max.
    std::unique_ptr<http_client> established;
    REQUIRE(eventually(wait_max, [&] {
        established = std::make_unique<http_client>("127.0.0.1", fixture.port());
        auto first = established->request("GET", "/hello");
        return first.ok() && first->status == 200;
    }));

    raw_connection silent = open_from("127.0.0.2", fixture.port());
    CHECK(silent.closed_by_server(wait_max));

    // The keep-alive connection, idle for longer than the silent one lived, is still the same.
    auto second = established->request("GET", "/hello");
    REQUIRE(second.ok());
    CHECK(second->status == 200);
    CHECK(established->connects() == 1);
}

TEST_CASE("http limits: connections_max is sized to the descriptor limit", "[http][limits]") {
    struct row {
        std::size_t configured;
        std::uint64_t open_files;
        std::size_t expected;  // 0: refused
    };
    // Kept for other files: max(256, open_files / 4); the probe reserve: 16.
    const std::vector<row> rows = {
        {10'000, 1'048'576, 10'000}, {10'000, 20'000, 10'000}, {10'000, 12'000, 8'984},
        {10'000, 1'024, 752},        {10'000, 512, 240},       {100, 1'024, 100},
        {10'000, 273, 1},            {10'000, 272, 0},         {10'000, 64, 0},
    };
    for (const row& r : rows) {
        CAPTURE(r.configured, r.open_files);
        server_options options;
        options.connections_max = r.configured;
        auto sized = size_connection_limits(options, r.open_files);
        if (r.expected == 0) {
            CHECK_FALSE(sized.ok());
            continue;
        }
        REQUIRE(sized.ok());
        CHECK(sized->connections_max == r.expected);
        CHECK(sized->connections_max_configured == r.configured);
        CHECK(sized->open_files_limit == r.open_files);
    }

    SECTION("the server runs with the sized limit and shows it in the metrics") {
        server_options options;
        options.open_files_limit = 1'024;
        limits_server fixture(options);
        CHECK(fixture.server->limits().connections_max == 752);
        CHECK(fixture.metric(R"(encore_http_connections_limit{kind="total"})") == 752);
        CHECK(fixture.metric(R"(encore_http_connections_limit{kind="probe_reserve"})") == 16);
        CHECK(fixture.metric("encore_process_open_files_limit") == 1'024);
    }

    SECTION("a descriptor limit that leaves no connection refuses to start") {
        server_options options;
        options.open_files_limit = 200;
        probe_handler handler;
        CHECK_FALSE(http_server::start(options, handler).ok());
    }
}
