// Shared pieces of the HTTP benchmarks: see bench_support.hpp.

#include "bench/support.hpp"

#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

namespace encore::bench {

std::filesystem::path fresh_data_dir(const std::string& name) {
    auto dir = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    return dir;
}

encore::node_options embedded_options(const std::string& data_dir, std::uint32_t partitions) {
    encore::node_options o;
    o.data_dir = data_dir;
    o.port = 0;
    o.admin_key = admin_key;
    o.partitions = partitions;
    // The load generator is one client address with many connections: not the abuse the
    // per-client limit is for.
    o.connections_per_client_max = o.connections_max;
    return o;
}

void wait_ready(const encore::node& node, const char* what, std::chrono::milliseconds limit, std::chrono::milliseconds poll) {
    const auto deadline = clock_type::now() + limit;
    while (!node.ready()) {
        if (clock_type::now() > deadline) throw std::runtime_error(std::string(what) + " did not become ready");
        std::this_thread::sleep_for(poll);
    }
}

std::shared_ptr<encore::node> start_node(const encore::node_options& options, const char* what) {
    auto started = encore::node::start(options);
    if (!started) throw std::runtime_error(started.err().message);
    std::shared_ptr<encore::node> node = std::move(started).value();
    wait_ready(*node, what);
    return node;
}

nlohmann::json must_json(result<encore::http::http_reply> r, unsigned expected, const char* what) {
    if (!r || r->status != expected)
        throw std::runtime_error(std::string("setup failed at ") + what + ": " + (r ? r->body : r.err().message));
    return r->json();
}

std::string get_request(std::string_view target, std::string_view headers) {
    std::string out;
    out.reserve(target.size() + headers.size() + 40);
    out.append("GET ").append(target).append(" HTTP/1.1\r\nHost: bench\r\n").append(headers).append("\r\n");
    return out;
}

std::string post_request(std::string_view target, std::string_view headers, std::string_view body) {
    std::string out;
    out.reserve(target.size() + headers.size() + body.size() + 100);
    out.append("POST ").append(target).append(" HTTP/1.1\r\nHost: bench\r\n").append(headers);
    out.append("Content-Type: application/json\r\nContent-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
    out.append(body);
    return out;
}

std::string delete_request(std::string_view target, std::string_view headers) {
    std::string out;
    out.reserve(target.size() + headers.size() + 60);
    out.append("DELETE ").append(target).append(" HTTP/1.1\r\nHost: bench\r\n").append(headers);
    out.append("Content-Length: 0\r\n\r\n");
    return out;
}

http_connection::http_connection(asio::io_context& io, tcp::endpoint at) : socket_(io), at_(at) {}

void http_connection::connect(handler done) {
    boost::system::error_code ignored;
    if (socket_.is_open()) socket_.close(ignored);
    buffer_.clear();
    socket_.async_connect(at_, [done = std::move(done)](boost::system::error_code ec) { done(ec); });
}

void http_connection::exchange(std::string request, handler done) {
    request_ = std::move(request);
    asio::async_write(socket_, asio::buffer(request_), [this, done = std::move(done)](boost::system::error_code ec, std::size_t) mutable {
        if (ec) return done(ec);
        response_ = {};
        beast::http::async_read(socket_, buffer_, response_, [done = std::move(done)](boost::system::error_code ec2, std::size_t) {
            done(ec2);
        });
    });
}

void http_connection::close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
}

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

std::uint32_t micros_since(clock_type::time_point since) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - since).count();
    return static_cast<std::uint32_t>(std::clamp<std::int64_t>(us, 0, UINT32_MAX));
}

double quantile_ms(const std::vector<std::uint32_t>& sorted_us, double q) {
    if (sorted_us.empty()) return 0;
    return static_cast<double>(sorted_us[static_cast<std::size_t>(q * static_cast<double>(sorted_us.size() - 1))]) / 1000.0;
}

nlohmann::json route_json(route_stats& s, double seconds) {
    auto& v = s.latency_us;
    std::sort(v.begin(), v.end());
    nlohmann::json codes = nlohmann::json::object();
    for (auto [code, n] : s.statuses) codes[std::to_string(code)] = n;
    return {{"requests", v.size()},
            {"per_second", seconds > 0 ? static_cast<double>(v.size()) / seconds : 0.0},
            {"p50_ms", quantile_ms(v, 0.5)},
            {"p99_ms", quantile_ms(v, 0.99)},
            {"p999_ms", quantile_ms(v, 0.999)},
            {"statuses", codes}};
}

nlohmann::json summarize(std::vector<route_stats>& stats, const std::vector<std::string>& names, double seconds) {
    nlohmann::json routes = nlohmann::json::object();
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < stats.size(); ++i) {
        if (stats[i].latency_us.empty()) continue;
        total += stats[i].latency_us.size();
        routes[names[i]] = route_json(stats[i], seconds);
    }
    return {{"requests", total}, {"requests_per_second", static_cast<double>(total) / seconds}, {"routes", routes}};
}

}  // namespace encore::bench
