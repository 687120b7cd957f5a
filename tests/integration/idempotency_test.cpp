// Idempotency-Key (API.md "Conventions"): a repeat by the same caller on the same route with the
// same body returns the first outcome, same status and same body, and is applied once, whichever
// partition the command lands in; the same key on another route or with another body is 422
// IDEMPOTENCY_KEY_REUSED and applies nothing.

#include <catch2/catch.hpp>

#include <thread>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

header_list key(const std::string& k) { return {{"Idempotency-Key", k}}; }

TEST_CASE("a repeated charge with the same key answers the same and is applied once", "[idempotency]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto kim = new_user(client);
    const auto lee = new_user(client);

    auto first = charge(client, kim, 1'000, key("charge-1"));
    REQUIRE_STATUS(first, 200);
    auto second = charge(client, kim, 1'000, key("charge-1"));
    CHECK(second.status == first.status);
    CHECK(second.body == first.body);
    CHECK(balance_of(client, kim) == 1'000);

    // A key reused with another body is refused and applies nothing.
    CHECK_ERROR(charge(client, kim, 5, key("charge-1")), 422, "IDEMPOTENCY_KEY_REUSED");
    CHECK(balance_of(client, kim) == 1'000);

    // Another key is another charge; the same key from another user is that user's own.
    CHECK(charge(client, kim, 1'000, key("charge-2")).json().at("balance") == 2'000);
    CHECK(charge(client, lee, 7, key("charge-1")).json().at("balance") == 7);
    CHECK(balance_of(client, lee) == 7);

    // The longest allowed key works; longer, empty or non-printable keys are 400 and apply nothing.
    const std::string longest(64, 'k');
    CHECK_STATUS(charge(client, kim, 1, key(longest)), 200);
    CHECK_STATUS(charge(client, kim, 1, key(longest)), 200);
    CHECK(balance_of(client, kim) == 2'001);
    CHECK_ERROR(charge(client, kim, 1, key(std::string(65, 'k'))), 400, "INVALID_REQUEST");
    CHECK_ERROR(charge(client, kim, 1, key("")), 400, "INVALID_REQUEST");
    CHECK_STATUS(charge(client, kim, 1, key("tab\there")), 400);
    CHECK_STATUS(charge(client, kim, 1, key("caf\xc3\xa9")), 400);
    CHECK(balance_of(client, kim) == 2'001);
    // 400 for a bad key on every command endpoint.
    CHECK_ERROR(call(client, "POST", "/users", "{}", key(std::string(65, 'k'))), 400, "INVALID_REQUEST");

    // The history shows each applied charge once.
    auto history = call(client, "GET", "/users/me/balance/history", {}, bearer(kim.token));
    CHECK(history.json().at("entries").size() == 3);
}

TEST_CASE("concurrent repeats of one key are applied once and all get the first answer", "[idempotency][contention]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto kim = new_user(client);
    constexpr int threads_count = 16;
    std::vector<http_reply> replies(threads_count);
    std::vector<std::string> failures(threads_count);
    {
        std::vector<std::jthread> threads;
        for (int i = 0; i < threads_count; ++i) {
            threads.emplace_back([&, i] {
                try {
                    http_client own(server.host(), server.port());
                    replies[i] = charge(own, kim, 300, key("same-key"));
                } catch (const std::exception& e) {
                    failures[i] = e.what();
                }
            });
        }
    }
    for (int i = 0; i < threads_count; ++i) {
        INFO("thread " << i << ": " << failures[i]);
        REQUIRE(failures[i].empty());
        CHECK_STATUS(replies[i], 200);
        CHECK(replies[i].body == replies[0].body);
    }
    CHECK(balance_of(client, kim) == 300);
}

TEST_CASE("holds, payments and cancellations repeat their first outcome too", "[idempotency]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(50, 1'000));
    const auto g = admitted_guest(client, concert);
    const auto other = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, g.user, 10'000), 200);

    // Hold: the repeat is the same reservation, not SEAT_TAKEN.
    auto held = hold(client, g, concert, 3, concert_date, key("hold-3"));
    REQUIRE_STATUS(held, 201);
    auto held_again = hold(client, g, concert, 3, concert_date, key("hold-3"));
    CHECK(held_again.status == 201);
    CHECK(held_again.body == held.body);
    const std::string id = held.json().at("reservationId");
    auto mine = call(client, "GET", "/users/me/reservations", {}, bearer(g.user.token));
    CHECK(mine.json().at("reservations").size() == 1);

    // Pay: once, whatever the number of repeats.
    auto paid = pay(client, g.user, id, key("pay-3"));
    REQUIRE_STATUS(paid, 201);
    auto paid_again = pay(client, g.user, id, key("pay-3"));
    CHECK(paid_again.status == 201);
    CHECK(paid_again.body == paid.body);
    CHECK(balance_of(client, g.user) == 9'000);
    // Without the key a second payment is a new command: 409.
    CHECK_ERROR(pay(client, g.user, id), 409, "ALREADY_PAID");

    // A refusal is an outcome too: the repeat gets it even after the seat frees.
    auto taken = hold(client, other, concert, 7, concert_date, key("grab-7"));
    REQUIRE_STATUS(taken, 201);
    auto refused = hold(client, g, concert, 7, concert_date, key("no-token"));  // g's token is COMPLETED
    CHECK_ERROR(refused, 403, "QUEUE_TOKEN_EXPIRED");
    auto contested = hold(client, other, concert, 7, concert_date, key("again-7"));
    CHECK_ERROR(contested, 409, "SEAT_TAKEN");
    auto cancelled = cancel(client, other.user, taken.json().at("reservationId"), key("cancel-7"));
    REQUIRE_STATUS(cancelled, 200);
    auto cancelled_again = cancel(client, other.user, taken.json().at("reservationId"), key("cancel-7"));
    CHECK(cancelled_again.status == 200);
    CHECK(cancelled_again.body == cancelled.body);
    auto contested_again = hold(client, other, concert, 7, concert_date, key("again-7"));
    CHECK(contested_again.status == contested.status);
    CHECK(contested_again.body == contested.body);
    CHECK(seat_status(client, other, concert, 7) == "AVAILABLE");
}

TEST_CASE("one key names one request across partitions, in every partition layout", "[idempotency]") {
    const std::uint32_t partitions = GENERATE(1u, 2u, 4u, 7u);
    INFO(partitions << " partitions");
    server_process server({.partitions = partitions});
    http_client client(server.host(), server.port());
    const header_list admin = admin_header(server.admin_key());

    // Six creations with one key make one concert (the id is derived from the key, so each repeat
    // lands in the partition of the first) and all six get the first answer.
    const std::string body = concert_body(10, 1'000).dump();
    auto created = call(client, "POST", "/admin/concerts", body, admin + key("tour"));
    REQUIRE_STATUS(created, 201);
    for (int i = 0; i < 5; ++i) {
        auto again = call(client, "POST", "/admin/concerts", body, admin + key("tour"));
        CHECK(again.status == 201);
        CHECK(again.body == created.body);
    }
    CHECK(call(client, "GET", "/concerts").json().at("concerts").size() == 1);
    CHECK_ERROR(call(client, "POST", "/admin/concerts", concert_body(11, 1'000).dump(), admin + key("tour")), 422,
                "IDEMPOTENCY_KEY_REUSED");
    CHECK(call(client, "GET", "/concerts").json().at("concerts").size() == 1);
    const std::string concert = created.json().at("concertId");
    const std::string other = create_concert(client, server, concert_body(10, 1'000));

    // A charge's key used for a queue join: refused, and the user is not in the queue.
    const auto kim = new_user(client);
    REQUIRE_STATUS(charge(client, kim, 500, key("k1")), 200);
    CHECK_ERROR(call(client, "POST", "/concerts/" + concert + "/queue", {}, bearer(kim.token) + key("k1")), 422,
                "IDEMPOTENCY_KEY_REUSED");
    CHECK(enqueue(client, kim, concert).status == 201);  // a fresh join, not a repeat of one

    // A queue join's key: the repeat answers the same, another concert or a charge is refused.
    const auto lee = new_user(client);
    auto joined = call(client, "POST", "/concerts/" + concert + "/queue", {}, bearer(lee.token) + key("q"));
    REQUIRE(joined.status == 201);
    auto joined_again = call(client, "POST", "/concerts/" + concert + "/queue", {}, bearer(lee.token) + key("q"));
    CHECK(joined_again.status == 201);
    CHECK(joined_again.body == joined.body);
    CHECK_ERROR(call(client, "POST", "/concerts/" + other + "/queue", {}, bearer(lee.token) + key("q")), 422,
                "IDEMPOTENCY_KEY_REUSED");
    CHECK_ERROR(charge(client, lee, 9, key("q")), 422, "IDEMPOTENCY_KEY_REUSED");
    CHECK(balance_of(client, lee) == 0);
    CHECK(enqueue(client, lee, other).status == 201);  // lee was never queued for the other concert

    // Another caller's key is its own.
    CHECK(charge(client, new_user(client), 9, key("q")).status == 200);

    // POST /users: the key itself is the caller. A repeat returns the same user and token.
    auto made = call(client, "POST", "/users", R"({"name":"park"})", key("signup-7f3a"));
    REQUIRE_STATUS(made, 201);
    auto made_again = call(client, "POST", "/users", R"({"name":"park"})", key("signup-7f3a"));
    CHECK(made_again.status == 201);
    CHECK(made_again.body == made.body);
    CHECK_ERROR(call(client, "POST", "/users", R"({"name":"choi"})", key("signup-7f3a")), 422, "IDEMPOTENCY_KEY_REUSED");
    user_account park{made.json().at("userId"), made.json().at("token")};
    CHECK(balance_of(client, park) == 0);
}

}  // namespace
}  // namespace encore::test
