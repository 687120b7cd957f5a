#include <catch2/catch.hpp>

#include <limits>
#include <sstream>
#include <thread>
#include <vector>

#include "http/metrics.hpp"

using namespace encore::http;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

bool has_line(const std::string& text, const std::string& line) {
    for (const auto& one : lines_of(text)) {
        if (one == line) return true;
    }
    return false;
}

// The value of the series named exactly `series` (name and label block), NaN if absent.
double value_of(const std::string& text, const std::string& series) {
    for (const auto& line : lines_of(text)) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ') {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

TEST_CASE("metrics: counters and gauges render with HELP and TYPE", "[metrics]") {
    metrics_registry registry;
    auto& requests = registry.add_counter("encore_requests_total", "Requests.", {"route", "status"});
    requests.with({"GET /concerts", "200"}).increment();
    requests.with({"GET /concerts", "200"}).increment(2);
    requests.with({"POST /users", "201"}).increment();
    auto& open = registry.add_gauge("encore_open", "Open things.");
    open.with({}).set(5);
    open.with({}).add(-1.5);

    const auto text = registry.render();
    CHECK(has_line(text, "# HELP encore_requests_total Requests."));
    CHECK(has_line(text, "# TYPE encore_requests_total counter"));
    CHECK(has_line(text, R"(encore_requests_total{route="GET /concerts",status="200"} 3)"));
    CHECK(has_line(text, R"(encore_requests_total{route="POST /users",status="201"} 1)"));
    CHECK(has_line(text, "# TYPE encore_open gauge"));
    CHECK(has_line(text, "encore_open 3.5"));
    CHECK(text.back() == '\n');
}

TEST_CASE("metrics: an unlabelled metric shows 0 before its first update", "[metrics]") {
    metrics_registry registry;
    registry.add_counter("encore_nothing_total", "Nothing yet.");
    CHECK(has_line(registry.render(), "encore_nothing_total 0"));
}

TEST_CASE("metrics: histogram buckets are cumulative with +Inf, sum and count", "[metrics]") {
    metrics_registry registry;
    auto& latency = registry.add_histogram("encore_latency_seconds", "Latency.", {"route"},
                                           {0.001, 0.01, 0.1});
    auto& one = latency.with({"a"});
    one.observe(0.0005);
    one.observe(0.001);  // upper bounds are inclusive
    one.observe(0.05);
    one.observe(7);
    const auto text = registry.render();
    CHECK(has_line(text, "# TYPE encore_latency_seconds histogram"));
    CHECK(has_line(text, R"(encore_latency_seconds_bucket{route="a",le="0.001"} 2)"));
    CHECK(has_line(text, R"(encore_latency_seconds_bucket{route="a",le="0.01"} 2)"));
    CHECK(has_line(text, R"(encore_latency_seconds_bucket{route="a",le="0.1"} 3)"));
    CHECK(has_line(text, R"(encore_latency_seconds_bucket{route="a",le="+Inf"} 4)"));
    CHECK(has_line(text, R"(encore_latency_seconds_count{route="a"} 4)"));
    CHECK(value_of(text, R"(encore_latency_seconds_sum{route="a"})") == Approx(7.0515));
}

TEST_CASE("metrics: default latency buckets render as plain decimals", "[metrics]") {
    metrics_registry registry;
    registry.add_histogram("encore_default_seconds", "Default buckets.", {});
    const auto text = registry.render();
    CHECK(has_line(text, R"(encore_default_seconds_bucket{le="0.0005"} 0)"));
    CHECK(has_line(text, R"(encore_default_seconds_bucket{le="2.5"} 0)"));
    CHECK(has_line(text, R"(encore_default_seconds_bucket{le="10"} 0)"));
    CHECK(has_line(text, R"(encore_default_seconds_bucket{le="+Inf"} 0)"));
}

TEST_CASE("metrics: label values and help are escaped", "[metrics]") {
    metrics_registry registry;
    registry.add_counter("encore_escape_total", "Line one\nback\\slash", {"value"})
        .with({"quote\" back\\slash\nnewline"})
        .increment();
    const auto text = registry.render();
    CHECK(has_line(text, R"(# HELP encore_escape_total Line one\nback\\slash)"));
    CHECK(has_line(text, R"(encore_escape_total{value="quote\" back\\slash\nnewline"} 1)"));
}

TEST_CASE("metrics: callback gauges are read at render time", "[metrics]") {
    metrics_registry registry;
    double depth = 3;
    registry.add_callback_gauge("encore_depth", "Depth.", [&depth] { return depth; });
    auto& per_partition = registry.add_gauge("encore_lag", "Lag.", {"partition"});
    per_partition.with_callback({"0"}, [] { return 11.0; });
    CHECK(has_line(registry.render(), "encore_depth 3"));
    CHECK(has_line(registry.render(), R"(encore_lag{partition="0"} 11)"));
    depth = 4.25;
    CHECK(has_line(registry.render(), "encore_depth 4.25"));
}

TEST_CASE("metrics: registering a name twice returns the same family", "[metrics]") {
    metrics_registry registry;
    auto& first = registry.add_counter("encore_shared_total", "Shared.", {"k"});
    auto& second = registry.add_counter("encore_shared_total", "Shared.", {"k"});
    CHECK(&first == &second);
    CHECK(&first.with({"x"}) == &second.with({"x"}));
    // Label values that would collide if joined naively stay distinct.
    auto& pair = registry.add_counter("encore_pair_total", "Pairs.", {"a", "b"});
    CHECK(&pair.with({"x", "yz"}) != &pair.with({"xy", "z"}));
}

TEST_CASE("metrics: concurrent updates are all counted", "[metrics]") {
    metrics_registry registry;
    auto& family = registry.add_counter("encore_concurrent_total", "Concurrent.", {"thread"});
    auto& latency = registry.add_histogram("encore_concurrent_seconds", "Concurrent.", {});
    constexpr int threads = 4;
    constexpr int updates = 20000;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < updates; ++i) {
                family.with({std::to_string(i % 8)}).increment();
                latency.with({}).observe(0.002);
                if (i % 1000 == 0) (void)registry.render();
            }
            (void)t;
        });
    }
    for (auto& worker : workers) worker.join();
    std::uint64_t total = 0;
    for (int k = 0; k < 8; ++k) total += family.with({std::to_string(k)}).value();
    CHECK(total == threads * updates);
    CHECK(has_line(registry.render(), "encore_concurrent_seconds_count " +
                                          std::to_string(threads * updates)));
}
