// The audit and the export as libraries (replay/), in this process: a node on a temporary data
// directory sells a seat over HTTP and stops; the audit then replays its log and the export
// writes its tables, with no `encore` process in between; and the audit of a Kafka-mode node's
// topics on the mock cluster, with an event written twice. (tests/integration runs the commands
// themselves, end to end.)

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/ids.hpp"
#include "events/log/kafka_mock.hpp"
#include "http/client.hpp"
#include "node/node.hpp"
#include "replay/audit/replay.hpp"
#include "replay/audit/report.hpp"
#include "replay/export/export.hpp"
#include "replay/source.hpp"
#include "tests/support/temp_directory.hpp"

using namespace encore;
using nlohmann::json;

namespace {

constexpr const char* admin_key = "replay-test-admin-key";
constexpr std::uint32_t partitions = 2;
constexpr std::int64_t price = 70'000;

json call(http::http_client& client, const std::string& method, const std::string& target, const json& body,
          http::header_list headers, unsigned expected) {
    auto reply = client.request(method, target, body.is_null() ? std::string() : body.dump(), headers);
    REQUIRE(reply.ok());
    INFO(method << " " << target << ": " << reply->status << " " << reply->body);
    REQUIRE(reply->status == expected);
    return reply->json();
}

// A node that created a concert, charged a user, holds one seat for them and sold them another,
// then stopped: its data directory.
struct sold_data_dir {
    test::temp_directory dir{"encore-replay"};
    std::string concert;
    std::string user;

    sold_data_dir() {
        node_options options;
        options.data_dir = dir.path("data");
        options.admin_key = admin_key;
        options.partitions = partitions;
        options.port = 0;
        auto started = node::start(options);
        REQUIRE(started.ok());
        std::unique_ptr<node> serving = std::move(started).value();
        http::http_client client("127.0.0.1", serving->port());
        const json concert_body = {{"title", "Replay Night"},
                                   {"venue", "Loopback Hall"},
                                   {"schedules", json::array({{{"date", "2030-12-24"}, {"seats", 10}, {"price", price}}})},
                                   {"queue", {{"activeCapacity", 10}, {"activeTtlSeconds", 600}}}};
        concert = call(client, "POST", "/admin/concerts", concert_body, {{"X-Admin-Key", admin_key}}, 201).at("concertId");
        const json created = call(client, "POST", "/users", json::object(), {}, 201);
        user = created.at("userId");
        const http::header_list bearer = {{"Authorization", "Bearer " + created.at("token").get<std::string>()}};
        call(client, "POST", "/users/me/balance/charge", {{"amount", 100'000}}, bearer, 200);
        const std::string queue_token = call(client, "POST", "/concerts/" + concert + "/queue", json(), bearer, 201).at("queueToken");
        http::header_list admitted = bearer;
        admitted.emplace_back("X-Queue-Token", queue_token);
        // Admission is the partition's next tick: wait for it (generously; this is a loaded machine).
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (call(client, "GET", "/concerts/" + concert + "/queue", json(), admitted, 200).at("status") != "ACTIVE") {
            REQUIRE(std::chrono::steady_clock::now() < deadline);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        const std::string seats = "/concerts/" + concert + "/dates/2030-12-24/seats/";
        // The hold that stays held first: a payment completes the queue token.
        call(client, "POST", seats + "4/hold", json(), admitted, 201);
        const std::string paid = call(client, "POST", seats + "3/hold", json(), admitted, 201).at("reservationId");
        call(client, "POST", "/reservations/" + paid + "/pay", json(), bearer, 201);
        serving->stop();
    }
};

std::vector<json> lines_of(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    std::vector<json> out;
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
}

}  // namespace

TEST_CASE("replay: the audit of a node's data directory passes and counts the money and the seats", "[replay][audit]") {
    sold_data_dir data;
    replay::source log = replay::source::data_dir(data.dir.path("data"), std::nullopt);
    REQUIRE(log.partitions() == partitions);
    replay::audit::options o;
    o.partitions = log.partitions();
    o.threads = 2;
    o.models_directory = data.dir.path("data") + "/projections";
    replay::audit::report r = replay::audit::run(log.commands(), log.events(), o);
    replay::audit::check_durable_ends(data.dir.path("data") + "/log", log.commands(), r);
    INFO(replay::audit::report_json(r).dump());
    CHECK(r.passed());
    CHECK(r.models_compared);
    CHECK(r.model_keys > 0);
    CHECK(r.partitions.size() == partitions);
    CHECK(r.commands >= 7);  // the concert, the user, charge, queue, two holds, pay (and ticks)
    CHECK(r.total.charges == 100'000);
    CHECK(r.total.payments == price);
    CHECK(r.total.balances == 100'000 - price);
    CHECK(r.total.refunds == 0);
    CHECK(r.seats_sold == 1);
    CHECK(r.seats_sold_twice == 0);
    const json as_json = replay::audit::report_json(r);
    CHECK(as_json.at("passed") == true);
    CHECK(as_json.at("per_partition").size() == partitions);
}

TEST_CASE("replay: a source refuses a partition count the log does not have, and a folder with no log", "[replay][source]") {
    sold_data_dir data;
    CHECK_THROWS_AS(replay::source::data_dir(data.dir.path("data"), partitions + 1), replay::wrong_request);
    CHECK_NOTHROW(replay::source::data_dir(data.dir.path("data"), partitions));
    CHECK_THROWS_AS(replay::source::data_dir(data.dir.path("nothing-here"), std::nullopt), replay::unreadable);
}

TEST_CASE("replay: the export writes the sale's rows, and only a concert the log has", "[replay][export]") {
    sold_data_dir data;
    replay::source log = replay::source::data_dir(data.dir.path("data"), std::nullopt);
    replay::export_data::export_options o;
    o.output_format = replay::export_data::format::jsonl;
    o.out = data.dir.path("tables");
    o.progress = false;
    const auto summary = replay::export_data::run(log, o);
    CHECK(summary.concert_found);
    CHECK(summary.events > 0);
    CHECK(summary.rows.at("events") == summary.events);
    CHECK(summary.rows.at("payments") == 1);
    CHECK(summary.rows.at("reservations") == 2);

    const auto payments = lines_of(o.out + "/payments.jsonl");
    REQUIRE(payments.size() == 1);
    CHECK(payments[0].at("amount") == price);
    const auto reservations = lines_of(o.out + "/reservations.jsonl");
    REQUIRE(reservations.size() == 2);
    std::vector<std::string> statuses;
    for (const json& r : reservations) statuses.push_back(r.at("status"));
    std::sort(statuses.begin(), statuses.end());
    CHECK(statuses == std::vector<std::string>{"CONFIRMED", "HELD"});

    replay::source again = replay::source::data_dir(data.dir.path("data"), std::nullopt);
    replay::export_data::export_options other = o;
    other.out = data.dir.path("other");
    other.concert = concert_id{0x1234};
    const auto missing = replay::export_data::run(again, other);
    CHECK_FALSE(missing.concert_found);
}

namespace {

// A Kafka-mode node on librdkafka's mock cluster (in this process) that registered and charged a
// user, then stopped: the topics hold its commands and events.
struct charged_topics {
    std::unique_ptr<kafka_mock> mock;
    test::temp_directory dir{"encore-replay-kafka"};

    charged_topics() {
        auto started_mock = kafka_mock::start(1, 1, "replay.");
        REQUIRE(started_mock.ok());
        mock = std::move(started_mock).value();
        node_options options;
        options.data_dir = dir.path("data");
        options.admin_key = admin_key;
        options.partitions = 1;
        options.port = 0;
        options.token_secret = "replay-test-token-secret-of-32-bytes-or-more";
        kafka_backend k;
        k.bootstrap = mock->bootstrap_servers();
        k.node_id = "replay-test";
        k.topic_prefix = mock->topic_prefix();
        options.backend = k;
        auto started = node::start(options);
        REQUIRE(started.ok());
        std::unique_ptr<node> serving = std::move(started).value();
        // The group assigns the partition after a join round: wait for it (generously, under load).
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!serving->ready()) {
            REQUIRE(std::chrono::steady_clock::now() < deadline);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        http::http_client client("127.0.0.1", serving->port(), std::chrono::seconds(20));
        const json created = call(client, "POST", "/users", json::object(), {}, 201);
        const http::header_list bearer = {{"Authorization", "Bearer " + created.at("token").get<std::string>()}};
        call(client, "POST", "/users/me/balance/charge", {{"amount", 5'000}}, bearer, 200);
        call(client, "POST", "/users/me/balance/charge", {{"amount", 7'000}}, bearer, 200);
        serving->stop();
    }

    replay::source topics() const {
        return replay::source::kafka({.bootstrap = mock->bootstrap_servers(), .partitions = 0,
                                      .topic_prefix = mock->topic_prefix(), .config = {}, .client_id = "replay-test"});
    }
};

replay::audit::report audit_topics(replay::source& s) {
    replay::audit::options o;
    o.partitions = s.partitions();
    o.threads = 1;
    o.read_wait = std::chrono::seconds(2);
    o.repeats_possible = true;
    o.refresh_ends = s.refresh_ends();
    return replay::audit::run(s.commands(), s.events(), o);
}

// The stored record of event partition 0 at `offset`.
std::string event_record_at(replay::source& s, std::uint64_t offset) {
    auto read = s.events().read(0, offset, 1, std::chrono::seconds(10));
    REQUIRE(read.ok());
    REQUIRE(read->size() == 1);
    return read->front().bytes;
}

}  // namespace

TEST_CASE("replay: the audit of Kafka topics drops an event written twice, and fails a second copy that differs",
          "[replay][audit][kafka]") {
    charged_topics cluster;
    {
        replay::source s = cluster.topics();
        const replay::audit::report clean = audit_topics(s);
        INFO(replay::audit::report_json(clean).dump());
        REQUIRE(clean.passed());
        CHECK(clean.total.charges == 12'000);
        CHECK(clean.partitions.at(0).repeats == 0);
        REQUIRE(s.event_ends().at(0) >= 2);
        // A producer's resent batch, as a broker that wrote it twice stores it: the same record again.
        const std::string copy = event_record_at(s, 1);
        REQUIRE(s.events().append_and_wait(0, {copy}).ok());
    }
    {
        replay::source s = cluster.topics();
        const replay::audit::report with_repeat = audit_topics(s);
        INFO(replay::audit::report_json(with_repeat).dump());
        CHECK(with_repeat.passed());
        CHECK(with_repeat.partitions.at(0).repeats == 1);
        CHECK(with_repeat.total.charges == 12'000);
        // A second copy of an event that is not byte for byte the first (its chain link changed):
        // the audit names it.
        std::string changed = event_record_at(s, 1);
        changed[0] = static_cast<char>(changed[0] ^ 0x01);
        REQUIRE(s.events().append_and_wait(0, {changed}).ok());
    }
    replay::source s = cluster.topics();
    const replay::audit::report with_forgery = audit_topics(s);
    INFO(replay::audit::report_json(with_forgery).dump());
    CHECK_FALSE(with_forgery.passed());
    bool named = false;
    for (const replay::audit::failure& f : with_forgery.failures)
        named = named || ((f.check == "events" || f.check == "chain") && f.partition == 0);
    CHECK(named);
}
