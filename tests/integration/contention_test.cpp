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
    auto history = call(client, "GET", "/users/me/balance/history?limit=1000", {}, bearer(kim.token));
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


TEST_CASE("a payment and a cancellation racing on one hold: exactly one wins and the money agrees", "[contention][payments]") {
    server_process server;
    http_client client(server.host(), server.port());
    constexpr int races = 8;
    const auto concert = create_concert(client, server, concert_body(50, 1'000, 100, 3'600, 3'600, races));
    const auto g = admitted_guest(client, concert);
    const auto observer = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, g.user, 100'000), 200);
    std::vector<std::string> ids;
    for (int i = 0; i < races; ++i) {
        auto held = hold(client, g, concert, static_cast<std::uint32_t>(i + 1));
        REQUIRE_STATUS(held, 201);
        ids.push_back(held.json().at("reservationId"));
    }
    std::vector<http_reply> paid(races);
    std::vector<http_reply> cancelled(races);
    require_no_failures(run_together(server, 2 * races, [&](int i, http_client& own) {
        if (i % 2 == 0) {
            paid[i / 2] = pay(own, g.user, ids[i / 2]);
        } else {
            cancelled[i / 2] = cancel(own, g.user, ids[i / 2]);
        }
    }));
    std::int64_t spent = 0;
    for (int i = 0; i < races; ++i) {
        INFO("race " << i << ": pay " << describe(paid[i]) << " / cancel " << describe(cancelled[i]));
        const bool pay_won = paid[i].status == 201;
        const bool cancel_won = cancelled[i].status == 200;
        CHECK(pay_won != cancel_won);
        const auto final_status = reservation(client, g.user, ids[i]).json().at("status");
        const auto seat = seat_status(client, observer, concert, static_cast<std::uint32_t>(i + 1));
        if (pay_won) {
            CHECK(error_code_of(cancelled[i]) == "ALREADY_PAID");
            CHECK(final_status == "CONFIRMED");
            CHECK(seat == "SOLD");
            spent += 1'000;
        } else {
            CHECK(error_code_of(paid[i]) == "RESERVATION_CANCELLED");
            CHECK(final_status == "CANCELLED");
            CHECK(seat == "AVAILABLE");
        }
    }
    CHECK(balance_of(client, g.user) == 100'000 - spent);
}

TEST_CASE("concurrent holds by one user stop exactly at maxHoldsPerUser", "[contention][holds]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(50, 1'000, 100, 3'600, 3'600, 3));
    const auto g = admitted_guest(client, concert);
    constexpr int attempts = 12;
    std::vector<http_reply> replies(attempts);
    require_no_failures(run_together(server, attempts, [&](int i, http_client& own) {
        replies[i] = hold(own, g, concert, static_cast<std::uint32_t>(i + 1));
    }));
    int held = 0;
    for (const auto& reply : replies) {
        if (reply.status == 201) {
            ++held;
        } else {
            CHECK_ERROR(reply, 409, "HOLD_LIMIT");
        }
    }
    CHECK(held == 3);
    auto mine = call(client, "GET", "/users/me/reservations", {}, bearer(g.user.token));
    CHECK(mine.json().at("reservations").size() == 3);
}

TEST_CASE("a crowd joining at once gets one slot each, in one strict line", "[contention][queue]") {
    server_process server;
    http_client client(server.host(), server.port());
    constexpr int crowd = 60;
    constexpr int capacity = 5;
    const auto concert = create_concert(client, server, concert_body(50, 1'000, capacity, 3'600));
    std::vector<user_account> users(crowd);
    for (auto& u : users) u = new_user(client);

    // Everyone joins at once; one user also joins twice at once.
    std::vector<http_reply> joined(crowd + 1);
    require_no_failures(run_together(server, crowd + 1, [&](int i, http_client& own) {
        joined[i] = enqueue(own, users[i % crowd], concert);
    }));
    CHECK(joined[0].json().at("queueToken") == joined[crowd].json().at("queueToken"));
    CHECK(((joined[0].status == 201 && joined[crowd].status == 200) ||
           (joined[0].status == 200 && joined[crowd].status == 201)));

    int active = 0;
    std::set<std::int64_t> positions;
    for (int i = 0; i < crowd; ++i) {
        const json q = queue_state(client, users[i], concert, joined[i].json().at("queueToken"));
        INFO("user " << i << ": " << q.dump());
        if (q.at("status") == "ACTIVE") {
            ++active;
            CHECK(q.at("position") == 0);
        } else {
            REQUIRE(q.at("status") == "WAITING");
            positions.insert(q.at("position").get<std::int64_t>());
        }
    }
    CHECK(active == capacity);
    // The waiting users hold the positions 1..N, each exactly once.
    REQUIRE(positions.size() == crowd - capacity);
    CHECK(*positions.begin() == 1);
    CHECK(*positions.rbegin() == crowd - capacity);
}

}  // namespace
}  // namespace encore::test
