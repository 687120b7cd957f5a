// `encore bench http`: starts a node on a temporary data dir (embedded log, synced group commit)
// and drives it over loopback with its own keep-alive load generator: many connections on one
// Asio thread, a realistic mix of requests. Prints per-route figures and the double-sale check as
// one JSON line on stdout (progress on stderr).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "node/node.hpp"
#include "api/tokens.hpp"
#include "events/log/kafka_mock.hpp"
#include "events/diagnostics.hpp"
#include "http/client.hpp"
#include "bench/support.hpp"
#include "events/types.hpp"

namespace encore::bench {
namespace {

namespace asio = bench::asio;
using bench::clock_type;
using bench::route_stats;
using bench::tcp;

struct bench_user {
    std::string token;
    std::string queue_token;
    std::vector<std::string> held;  // reservation ids this generator saw held
    bool rejoin = false;             // the queue token ended: enqueue before the next hold
};

struct http_bench_settings {
    unsigned seconds = 10;
    unsigned connections = 64;
    unsigned users = 2000;
    std::uint32_t partitions = 4;
    std::uint32_t dates = 20;
    std::uint32_t seats = 2500;
    int hold_share = 50;
};

enum class op { hold, seats, enqueue, pay, charge, balance, count };
const std::vector<std::string> op_names = {"hold", "seat_map", "enqueue", "pay", "charge", "balance"};
// Out of 100: the default mix of one onsale minute, holds first; --hold-share changes the
// holds' part and splits the rest evenly.
struct op_mix {
    int weights[static_cast<std::size_t>(op::count)] = {50, 10, 10, 10, 10, 10};
    static op_mix with_hold_share(int hold) {
        op_mix m;
        int others = static_cast<int>(op::count) - 1;
        m.weights[0] = hold;
        for (int i = 1; i <= others; ++i) m.weights[i] = (100 - hold) / others + (i <= (100 - hold) % others ? 1 : 0);
        return m;
    }
};

struct shared_setup {
    std::string concert;
    std::vector<std::string> dates;
    std::vector<bench_user> users;
    std::uint32_t seats_per_date = 0;
    op_mix mix;
};

// One keep-alive connection issuing requests back to back.
class connection {
public:
    connection(asio::io_context& io, tcp::endpoint at, shared_setup& setup, std::vector<route_stats>& stats,
               clock_type::time_point until, std::uint64_t seed)
        : http_(io, at), setup_(setup), stats_(stats), until_(until), random_(seed) {}

    void start() {
        http_.connect([this](boost::system::error_code ec) {
            if (!ec) next();
        });
    }

private:
    void next() {
        if (clock_type::now() >= until_) return;
        int roll = static_cast<int>(random_() % 100);
        std::size_t o = 0;
        for (; o + 1 < static_cast<std::size_t>(op::count) && roll >= setup_.mix.weights[o]; ++o) roll -= setup_.mix.weights[o];
        current_ = static_cast<op>(o);
        user_ = &setup_.users[random_() % setup_.users.size()];
        // A user whose token ended (they paid, so it is COMPLETED) joins the queue again first;
        // one with nothing to pay reads their balance instead.
        if (user_->rejoin) current_ = op::enqueue;
        if (current_ == op::pay && user_->held.empty()) current_ = op::balance;
        std::string request = build();
        started_ = clock_type::now();
        http_.exchange(std::move(request), [this](boost::system::error_code ec) {
            if (ec) return;
            finish();
            next();
        });
    }

    std::string build() {
        std::string auth = "Authorization: Bearer " + user_->token + "\r\n";
        std::string queue = "X-Queue-Token: " + user_->queue_token + "\r\n";
        const std::string& date = setup_.dates[random_() % setup_.dates.size()];
        switch (current_) {
            case op::hold: {
                auto seat = 1 + random_() % setup_.seats_per_date;
                return bench::post_request("/concerts/" + setup_.concert + "/dates/" + date + "/seats/" + std::to_string(seat) + "/hold", auth + queue, "");
            }
            case op::seats: return bench::get_request("/concerts/" + setup_.concert + "/dates/" + date + "/seats?status=AVAILABLE", auth + queue);
            case op::enqueue: return bench::post_request("/concerts/" + setup_.concert + "/queue", auth, "");
            case op::pay:
                paying_ = user_->held.back();
                return bench::post_request("/reservations/" + paying_ + "/pay", auth, "");
            case op::charge: return bench::post_request("/users/me/balance/charge", auth, R"({"amount":1000})");
            case op::balance:
            case op::count: break;
        }
        return bench::get_request("/users/me/balance", auth);
    }

    void finish() {
        const auto& response = http_.reply();
        stats_[static_cast<std::size_t>(current_)].record(bench::micros_since(started_), response.result_int());
        if (current_ == op::hold && response.result_int() == 201) {
            auto j = nlohmann::json::parse(response.body(), nullptr, false);
            if (j.is_object() && j.contains("reservationId")) user_->held.push_back(j["reservationId"].get<std::string>());
        }
        if ((current_ == op::hold || current_ == op::seats) && response.result_int() == 403) user_->rejoin = true;
        if (current_ == op::enqueue && response.result_int() / 100 == 2) {
            user_->rejoin = false;
            // After a payment the token is COMPLETED; joining again gives a new one.
            auto j = nlohmann::json::parse(response.body(), nullptr, false);
            if (j.is_object() && j.contains("queueToken")) user_->queue_token = j["queueToken"].get<std::string>();
        }
        // Another connection may have paid (and removed) the same reservation meanwhile: remove
        // this one by id, not by position.
        if (current_ == op::pay) std::erase(user_->held, paying_);
    }

    bench::http_connection http_;
    shared_setup& setup_;
    std::vector<route_stats>& stats_;
    clock_type::time_point until_;
    std::mt19937_64 random_;
    op current_ = op::balance;
    bench_user* user_ = nullptr;
    std::string paying_;  // the reservation of the pay request in flight
    clock_type::time_point started_;
};

using bench::must_json;

shared_setup prepare(std::uint16_t port, const http_bench_settings& s, const std::string& admin_key) {
    shared_setup setup;
    setup.seats_per_date = s.seats;
    setup.mix = op_mix::with_hold_share(s.hold_share);
    encore::http::http_client admin("127.0.0.1", port);
    nlohmann::json catalog = {{"title", "bench"}, {"venue", "loopback"}, {"queue", {{"activeCapacity", s.users}, {"activeTtlSeconds", 3600}}},
                              {"holdTtlSeconds", 5}, {"maxHoldsPerUser", 100}, {"schedules", nlohmann::json::array()}};
    for (std::uint32_t d = 0; d < s.dates; ++d) {
        char date[16];
        std::snprintf(date, sizeof date, "2027-01-%02u", d % 28 + 1);
        if (d >= 28) std::snprintf(date, sizeof date, "2027-02-%02u", d % 28 + 1);
        setup.dates.push_back(date);
        catalog["schedules"].push_back({{"date", date}, {"seats", s.seats}, {"price", 1000}});
    }
    setup.concert = must_json(admin.request("POST", "/admin/concerts", catalog.dump(), {{"X-Admin-Key", admin_key}}), 201, "concert")["concertId"];
    setup.users.resize(s.users);
    std::vector<std::thread> workers;
    constexpr unsigned setup_threads = 16;
    for (unsigned t = 0; t < setup_threads; ++t) {
        workers.emplace_back([&, t] {
            encore::http::http_client c("127.0.0.1", port);
            for (unsigned i = t; i < s.users; i += setup_threads) {
                auto& u = setup.users[i];
                u.token = must_json(c.request("POST", "/users", "{}"), 201, "user")["token"];
                encore::http::header_list auth = {{"Authorization", "Bearer " + u.token}};
                must_json(c.request("POST", "/users/me/balance/charge", R"({"amount":100000000})", auth), 200, "charge");
                u.queue_token = must_json(c.request("POST", "/concerts/" + setup.concert + "/queue", "", auth), 201, "queue")["queueToken"];
            }
        });
    }
    for (auto& w : workers) w.join();
    return setup;
}

// Every CONFIRMED reservation, per (date, seat): more than one is a double sale.
std::uint64_t double_sales(std::uint16_t port, const shared_setup& setup, std::uint64_t& confirmed) {
    std::map<std::pair<std::string, std::uint64_t>, int> sold;
    encore::http::http_client c("127.0.0.1", port);
    for (const auto& u : setup.users) {
        auto j = must_json(c.request("GET", "/users/me/reservations", "", {{"Authorization", "Bearer " + u.token}}), 200, "reservations");
        for (const auto& r : j["reservations"]) {
            if (r["status"] == "CONFIRMED") ++sold[{r["date"].get<std::string>(), r["seat"].get<std::uint64_t>()}];
        }
    }
    std::uint64_t doubles = 0;
    confirmed = 0;
    for (const auto& [seat, n] : sold) {
        confirmed += static_cast<std::uint64_t>(n);
        if (n > 1) ++doubles;
    }
    return doubles;
}

constexpr const char* bench_admin_key = bench::admin_key;

// The node under test, embedded or in Kafka mode, and how to stop it.
struct bench_target {
    std::uint16_t port = 0;
    std::string log;  // "embedded" or "kafka-mock"
    std::function<void()> stop;
};

using bench::wait_ready;

bench_target start_embedded(const http_bench_settings& s, const std::string& dir) {
    std::shared_ptr<encore::node> node = bench::start_node(bench::embedded_options(dir, s.partitions), "the node");
    return {node->port(), "embedded", [node] { node->stop(); }};
}

// The mock cluster in this process and one Kafka-mode node on it; ready once the group has
// assigned every partition to the node and it has recovered them.
bench_target start_kafka(const http_bench_settings& s, const std::string& dir, int brokers) {
    auto mock = kafka_mock::start(brokers, s.partitions, "bench.");
    if (!mock) throw std::runtime_error(mock.err().message);
    std::shared_ptr<kafka_mock> cluster = std::move(mock).value();
    encore::node_options o;
    encore::kafka_backend k;
    k.bootstrap = cluster->bootstrap_servers();
    k.node_id = "bench";
    k.topic_prefix = cluster->topic_prefix();
    o.backend = k;
    o.data_dir = dir;
    o.port = 0;
    o.admin_key = bench_admin_key;
    o.token_secret = api::generate_secret();
    o.partitions = s.partitions;
    o.connections_per_client_max = o.connections_max;  // the load generator is one address
    auto started = encore::node::start(o);
    if (!started) throw std::runtime_error(started.err().message);
    std::shared_ptr<encore::node> node = std::move(started).value();
    std::fprintf(stderr, "bench http: mock cluster at %s; waiting for the group to assign the partitions\n",
                 cluster->bootstrap_servers().c_str());
    wait_ready(*node, "the Kafka-mode node");
    return {node->port(), "kafka-mock", [node, cluster]() mutable {
                node->stop();
                node.reset();
                cluster.reset();
            }};
}

}  // namespace

int run_http_bench(const http_bench_options& o) {
    http_bench_settings s;
    s.seconds = o.seconds;
    s.connections = o.connections;
    s.users = o.users;
    s.partitions = o.partitions;
    s.hold_share = static_cast<int>(o.hold_share_percent);
    // keep_data runs the node on that directory and leaves it there, for `encore audit` to read;
    // it must not hold anything yet, so that no earlier data is mixed in or removed.
    const bool keep = !o.keep_data.empty();
    std::filesystem::path dir;
    if (keep) {
        std::error_code ec;
        if (std::filesystem::exists(o.keep_data, ec) && !std::filesystem::is_empty(o.keep_data, ec))
            throw std::runtime_error(o.keep_data + " exists and is not empty");
        dir = o.keep_data;
    } else {
        dir = bench::fresh_data_dir("encore-bench");
    }
    diag::set_level(diag::level::warn);
    bench_target target = o.kafka ? start_kafka(s, dir.string(), static_cast<int>(o.brokers)) : start_embedded(s, dir.string());
    const std::uint16_t port = target.port;
    std::fprintf(stderr, "bench http: preparing %u users on port %u\n", s.users, port);
    shared_setup setup = prepare(port, s, bench_admin_key);
    std::fprintf(stderr, "bench http: %u connections for %u s\n", s.connections, s.seconds);

    asio::io_context io;
    std::vector<route_stats> stats(static_cast<std::size_t>(op::count));
    auto started = clock_type::now();
    auto until = started + std::chrono::seconds(s.seconds);
    std::vector<std::unique_ptr<connection>> connections;
    tcp::endpoint at(asio::ip::make_address("127.0.0.1"), port);
    for (unsigned i = 0; i < s.connections; ++i) {
        connections.push_back(std::make_unique<connection>(io, at, setup, stats, until, 1000 + i));
        connections.back()->start();
    }
    io.run();
    double seconds = std::chrono::duration<double>(clock_type::now() - started).count();
    std::uint64_t confirmed = 0;
    std::uint64_t doubles = double_sales(port, setup, confirmed);
    nlohmann::json result = bench::summarize(stats, op_names, seconds);
    result["benchmark"] = "http";
    result["log"] = target.log;
    result["seconds"] = seconds;
    result["connections"] = s.connections;
    result["partitions"] = s.partitions;
    result["users"] = s.users;
    result["hold_share_percent"] = s.hold_share;
    result["seats_confirmed"] = confirmed;
    result["seats_sold_twice"] = doubles;
    target.stop();
    target = {};  // the node closes its log and read models here
    if (keep) result["data_dir"] = dir.string();
    else std::filesystem::remove_all(dir);
    std::printf("%s\n", result.dump().c_str());
    return doubles == 0 ? 0 : 1;
}

}  // namespace encore::bench
