#pragma once
// What the HTTP benchmarks (`bench http`, `bench onsale`) share: the node under test on a
// temporary data dir, raw HTTP/1.1 request text, one async keep-alive connection of the load
// generator, and latency figures in the JSON shape both print.
//
// Threads: everything here but the node runs on the caller's thread; an http_connection belongs
// to one io_context run by one thread (the load generator's).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "node/node.hpp"
#include "events/result.hpp"
#include "http/client.hpp"

namespace encore::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

inline constexpr const char* admin_key = "bench-admin-key";

// ---- the node under test -------------------------------------------------------------------

// `<temp>/<name>-<pid>`, removed first if it exists.
std::filesystem::path fresh_data_dir(const std::string& name);
// An embedded node (synced log) on 127.0.0.1, any free port, the benchmarks' admin key.
encore::node_options embedded_options(const std::string& data_dir, std::uint32_t partitions);
// Polls ready() every `poll` until it holds; throws after `limit`.
void wait_ready(const encore::node& node, const char* what, std::chrono::milliseconds limit = std::chrono::seconds(60),
                std::chrono::milliseconds poll = std::chrono::milliseconds(20));
// Starts a node and waits until it is ready; throws on failure.
std::shared_ptr<encore::node> start_node(const encore::node_options& options, const char* what);

// A reply with the expected status, as JSON; throws "setup failed at <what>" otherwise.
nlohmann::json must_json(result<encore::http::http_reply> r, unsigned expected, const char* what);

// ---- request text --------------------------------------------------------------------------

// `headers` is zero or more complete "Name: value\r\n" lines. Host is added.
std::string get_request(std::string_view target, std::string_view headers);
// Adds Content-Type: application/json and Content-Length.
std::string post_request(std::string_view target, std::string_view headers, std::string_view body);
std::string delete_request(std::string_view target, std::string_view headers);

// ---- one keep-alive connection ------------------------------------------------------------

// Connects, then exchanges one request at a time: write the whole request, read one response.
// Not thread-safe: used from the io_context's one thread.
class http_connection {
public:
    using response = beast::http::response<beast::http::string_body>;
    using handler = std::function<void(boost::system::error_code)>;

    http_connection(asio::io_context& io, tcp::endpoint at);
    void connect(handler done);
    // `request` is kept until `done` runs; reply() is valid from then until the next exchange.
    void exchange(std::string request, handler done);
    response& reply() { return response_; }
    // Closes the socket (an exchange in flight completes with an error); connect() opens it again.
    void close();

private:
    tcp::socket socket_;
    tcp::endpoint at_;
    std::string request_;
    beast::flat_buffer buffer_;
    response response_;
};

// ---- figures -----------------------------------------------------------------------------

// Latencies and statuses of one route.
struct route_stats {
    std::vector<std::uint32_t> latency_us;
    std::map<unsigned, std::uint64_t> statuses;
    void record(std::uint32_t us, unsigned status) {
        latency_us.push_back(us);
        ++statuses[status];
    }
};

// Seconds from `t` to now.
double seconds_since(clock_type::time_point t);
// Microseconds from `since` to now, saturated to 32 bits.
std::uint32_t micros_since(clock_type::time_point since);
// The q-quantile of sorted latencies in ms (nearest rank below); 0 when there are none.
double quantile_ms(const std::vector<std::uint32_t>& sorted_us, double q);
// {"requests", "per_second", "p50_ms", "p99_ms", "p999_ms", "statuses"}; sorts the latencies.
nlohmann::json route_json(route_stats& s, double seconds);
// {"requests", "requests_per_second", "routes": {name: route_json}}, routes without requests
// left out; names[i] names stats[i].
nlohmann::json summarize(std::vector<route_stats>& stats, const std::vector<std::string>& names, double seconds);

}  // namespace encore::bench
