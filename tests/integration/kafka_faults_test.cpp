// Faults in the Kafka cluster under light load, injected through `encore kafka-mock`'s control
// lines: produce and fetch requests that fail, brokers that answer slowly, a broker down for a few
// seconds, and produce answers that arrive after the client gave up (the client sends the batch
// again and the mock writes it twice: repeated commands and events in the log). Requests may slow
// down or fail with 503, but nothing acknowledged is lost and nothing is applied twice.

#include <catch2/catch.hpp>

#include <random>
#include <thread>

#include "tests/integration/kafka_load.hpp"

namespace encore::test {
namespace {

using namespace std::chrono_literals;

constexpr int workers = 3;
// After each fault the load must make this much progress again.
constexpr std::uint64_t progress_per_fault = 15;
constexpr auto progress_wait = 60s;

TEST_CASE("faults in the cluster: nothing acknowledged is lost, nothing is applied twice", "[kafka][faults]") {
    kafka_cluster_options options;
    // A produce unanswered for 2 s is given up and sent again: with answers delayed by 3 s below,
    // the mock writes those batches twice.
    options.server_args = {"--kafka-config", "socket.timeout.ms=2000"};
    kafka_cluster cluster(2, options);
    endpoints at(cluster);
    std::string concert;
    std::map<std::string, guest> observers;
    std::vector<load_record> records(workers);
    {
        http_client client(cluster.server(0).host(), cluster.server(0).port(), 20s);
        concert = create_concert_on(client, cluster.options().admin_key, concert_body(load_seats, load_price, 1'000, 3'600, 3'600, 3));
        observers[concert] = admitted_guest(client, concert);
        for (auto& r : records) r.user = new_user(client);
    }

    std::atomic<std::uint64_t> answered{0};
    std::atomic<bool> stop{false};
    std::vector<std::pair<std::string, bool>> progressed;  // fault, whether the load went on after it
    {
        std::vector<std::jthread> threads;
        std::mt19937_64 rng(std::random_device{}());
        for (int w = 0; w < workers; ++w)
            threads.emplace_back([&, w, s = rng()] { run_load(at, concert, s, records[w], answered, stop); });
        auto after = [&](const std::string& fault, const std::vector<std::string>& lines, std::chrono::milliseconds hold,
                         const std::vector<std::string>& undo) {
            for (const auto& line : lines) {
                const std::string reply = cluster.control(line);
                if (reply != "ok") throw std::runtime_error("kafka-mock refused '" + line + "': " + reply);
            }
            std::this_thread::sleep_for(hold);
            for (const auto& line : undo) {
                const std::string reply = cluster.control(line);
                if (reply != "ok") throw std::runtime_error("kafka-mock refused '" + line + "': " + reply);
            }
            const std::uint64_t from = answered.load();
            progressed.emplace_back(fault, eventually(progress_wait, [&] { return answered.load() >= from + progress_per_fault; }, 5ms));
        };
        REQUIRE(eventually(progress_wait, [&] { return answered.load() >= progress_per_fault; }, 5ms));
        after("produce errors", {"produce-errors 10"}, 0ms, {});
        after("fetch errors", {"fetch-errors 10"}, 0ms, {});
        after("50 ms round trips", {"rtt -1 50"}, 2s, {"rtt -1 0"});
        after("broker 2 down for 3 s", {"broker-down 2"}, 3s, {"broker-up 2"});
        after("produce answers too late", {"broker-errors 1 0 2 0 3000", "broker-errors 2 0 2 0 3000", "broker-errors 3 0 2 0 3000"},
              4s, {});
        stop = true;
    }
    for (const auto& [fault, ok] : progressed) {
        INFO("after " << fault);
        CHECK(ok);
    }
    for (auto& r : records) {
        INFO("user " << r.user.id << ": " << r.unexpected);
        REQUIRE(r.unexpected.empty());
    }
    std::string why;
    if (!cluster.wait_balanced(60s, &why)) FAIL("the cluster did not settle: " << why);

    std::vector<user_account> users;
    for (const auto& r : records) users.push_back(r.user);
    const cluster_view view = settled_view(cluster, users, observers, 30s);
    for (const auto& r : records) {
        INFO("user " << r.user.id << ": " << r.unavailable << " unavailable answers");
        CHECK(view.charges.at(r.user.id) >= r.charged_acknowledged);
        CHECK(view.charges.at(r.user.id) <= r.charged_acknowledged + r.charged_in_doubt);
        for (const auto& id : r.holds_acknowledged) CHECK(view.reservations.count(id) == 1);
        for (const auto& id : r.payments_acknowledged) CHECK(view.reservations.at(id) == "CONFIRMED");
    }
    for (const auto& [seat, count] : view.confirmed_per_seat) {
        INFO(seat);
        CHECK(count == 1);
        CHECK(view.seats.at(seat) == "SOLD");
    }

    // The replay from zero agrees, repeats in the event log included.
    const json state = audited_state(cluster);
    const std::string output = state.at("output");
    INFO(output);
    for (const auto& [user, balance] : view.balances) CHECK(state.at("balances").at(user) == balance);
    for (const auto& [id, status] : view.reservations) CHECK(state.at("reservations").at(id) == status);
    std::uint64_t repeats = 0;
    for (const auto& p : state.at("partitions")) repeats += p.at("repeats").get<std::uint64_t>();
    // Whether the late produce answers met an event batch here depends on timing; the readers' and
    // the audit's handling of a repeat is required where it is made deterministic: unit_kafka's
    // lost produce answer and unit_replay's Kafka audit. Here it is reported.
    std::fprintf(stderr, "faults: %llu repeated events dropped by the readers\n", static_cast<unsigned long long>(repeats));
}

TEST_CASE("a process whose producer fails for good exits, and the others take its partitions", "[kafka][faults]") {
    kafka_cluster cluster(2);
    http_client client(cluster.server(0).host(), cluster.server(0).port(), 20s);
    const user_account kim = new_user(client);
    // The next produce request gets a sequence error: fatal for an idempotent producer, whose
    // every later append fails. The charge below is the next produce request, from process 0.
    // (OUT_OF_ORDER_SEQUENCE_NUMBER = 45.)
    REQUIRE(cluster.control("produce-errors 1 45") == "ok");
    auto refused = charge(client, kim, 100);
    CHECK_STATUS(refused, 503);
    const auto code = cluster.server(0).wait_exit(30s);
    REQUIRE(code.has_value());
    CHECK(*code == 1);

    // Process 1 serves every partition and takes commands for all of them.
    std::string why;
    if (!cluster.wait_balanced(60s, &why)) FAIL("the survivor did not take over: " << why);
    http_client survivor(cluster.server(1).host(), cluster.server(1).port(), 20s);
    std::vector<user_account> users;
    for (int i = 0; i < 12; ++i) {
        users.push_back(new_user(survivor));
        CHECK_STATUS(charge(survivor, users.back(), 10 + i), 200);
    }
    // The refused charge was never written (the broker refused it), so kim has nothing.
    CHECK(balance_of(survivor, kim) == 0);
    // Back after a restart.
    cluster.server(0).start(60s);
    if (!cluster.wait_balanced(60s, &why)) FAIL("the restarted process did not rejoin: " << why);
}

}  // namespace
}  // namespace encore::test
