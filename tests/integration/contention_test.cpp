// Contention over real HTTP: many clients at once on one seat, one wallet, one reservation. Each
// thread has its own connection; a latch releases them together. Catch assertions stay on the
// main thread.

#include <catch2/catch.hpp>

#include <atomic>
#include <latch>
#include <set>
#include <thread>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

// Runs `work(i)` on `count` threads, each with its own client, released together; returns the
// failures (transport errors or exceptions) by thread.
std::vector<std::string> run_together(const server_process& server, int count,
                                      const std::function<void(int, http_client&)>& work) {
    std::vector<std::string> failures(count);
    std::latch connected(count);
    std::latch go(1);
    {
        std::vector<std::jthread> threads;
        for (int i = 0; i < count; ++i) {
            threads.emplace_back([&, i] {
                http_client own(server.host(), server.port(), std::chrono::milliseconds(60'000));
                // Connect before the start so that the burst is the requests, not the handshakes.
                if (auto warm = own.request("GET", "/healthz"); !warm) failures[i] = warm.err().message;
                connected.count_down();
                go.wait();
                if (!failures[i].empty()) return;
                try {
                    work(i, own);
                } catch (const std::exception& e) {
                    failures[i] = e.what();
                }
            });
        }
        connected.wait();
        go.count_down();
    }
    return failures;
}

void require_no_failures(const std::vector<std::string>& failures) {
    for (std::size_t i = 0; i < failures.size(); ++i) {
        INFO("thread " << i << ": " << failures[i]);
        REQUIRE(failures[i].empty());
    }
}

TEST_CASE("200 admitted users hold the same seat at once: exactly one wins", "[contention][holds]") {
    server_process server;
    http_client client(server.host(), server.port());
    constexpr int users = 200;
    const auto concert = create_concert(client, server, concert_body(50, 1'000, users + 10, 3'600));

    // Admit everyone first, in parallel to keep the setup short.
    std::vector<guest> guests(users);
    require_no_failures(run_together(server, 20, [&](int t, http_client& own) {
        for (int i = t; i < users; i += 20) guests[i] = admitted_guest(own, concert);
    }));

    std::vector<http_reply> replies(users);
    require_no_failures(run_together(server, users, [&](int i, http_client& own) {
        replies[i] = hold(own, guests[i], concert, 25);
    }));

    int won = 0;
    int taken = 0;
    int winner = -1;
    for (int i = 0; i < users; ++i) {
        if (replies[i].status == 201) {
            ++won;
            winner = i;
        } else if (replies[i].status == 409 && error_code_of(replies[i]) == "SEAT_TAKEN") {
            ++taken;
        } else {
            INFO("unexpected reply " << describe(replies[i]));
            CHECK(false);
        }
    }
    CHECK(won == 1);
    CHECK(taken == users - 1);
    REQUIRE(winner >= 0);
    CHECK(seat_status(client, guests[0], concert, 25) == "HELD");
    auto mine = reservation(client, guests[winner].user, replies[winner].json().at("reservationId"));
    REQUIRE_STATUS(mine, 200);
    CHECK(mine.json().at("seat") == 25);
    // Nobody else got a reservation.
    int reservations = 0;
    for (int i = 0; i < users; i += 1) {
        reservations += static_cast<int>(
            call(client, "GET", "/users/me/reservations", {}, bearer(guests[i].user.token)).json().at("reservations").size());
    }
    CHECK(reservations == 1);
}

TEST_CASE("500 concurrent charges of 1 by one user make a balance of 500", "[contention][wallet]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto kim = new_user(client);
    constexpr int threads_count = 50;
    constexpr int per_thread = 10;
    std::vector<std::vector<std::int64_t>> balances(threads_count);
    std::vector<std::string> refusals(threads_count);
    require_no_failures(run_together(server, threads_count, [&](int t, http_client& own) {
        for (int i = 0; i < per_thread; ++i) {
            auto reply = charge(own, kim, 1);
            if (reply.status != 200) {
                refusals[t] = describe(reply);
                return;
            }
            balances[t].push_back(reply.json().at("balance").get<std::int64_t>());
        }
    }));
    for (int t = 0; t < threads_count; ++t) {
        INFO("thread " << t << ": " << refusals[t]);
        CHECK(refusals[t].empty());
    }
    CHECK(balance_of(client, kim) == threads_count * per_thread);
    // Every charge saw its own balance: the answers are exactly 1..500, each once.
    std::set<std::int64_t> seen;
    for (const auto& list : balances) seen.insert(list.begin(), list.end());
    CHECK(seen.size() == threads_count * per_thread);
    CHECK(*seen.begin() == 1);
    CHECK(*seen.rbegin() == threads_count * per_thread);
    auto history = call(client, "GET", "/users/me/balance/history", {}, bearer(kim.token));
    CHECK(history.json().at("entries").size() == threads_count * per_thread);
}

TEST_CASE("10 concurrent payments of one reservation: one 201, the rest 409, the money taken once", "[contention][payments]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(50, 7'000));
    const auto g = admitted_guest(client, concert);
    const auto observer = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, g.user, 50'000), 200);
    auto held = hold(client, g, concert, 11);
    REQUIRE_STATUS(held, 201);
    const std::string id = held.json().at("reservationId");

    constexpr int payers = 10;
    std::vector<http_reply> replies(payers);
    require_no_failures(run_together(server, payers, [&](int i, http_client& own) { replies[i] = pay(own, g.user, id); }));
    int paid = 0;
    for (const auto& reply : replies) {
        if (reply.status == 201) {
            ++paid;
            CHECK(reply.json().at("balance") == 43'000);
        } else {
            CHECK_ERROR(reply, 409, "ALREADY_PAID");
        }
    }
    CHECK(paid == 1);
    CHECK(balance_of(client, g.user) == 43'000);
    CHECK(seat_status(client, observer, concert, 11) == "SOLD");
    auto history = call(client, "GET", "/users/me/balance/history", {}, bearer(g.user.token));
    int payments = 0;
    const json history_entries = history.json().at("entries");
    for (const json& e : history_entries) payments += e.at("type") == "PAYMENT" ? 1 : 0;
    CHECK(payments == 1);
}

}  // namespace
}  // namespace encore::test
