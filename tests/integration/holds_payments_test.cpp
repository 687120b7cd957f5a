// Holds, cancellations and payments (API.md "Reservations and payment"), with the hold errors in
// their documented order, and hold expiry that needs no request to happen.

#include <catch2/catch.hpp>

#include <cstdio>
#include <thread>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

TEST_CASE("a hold answers 201 with the reservation, and the seat map shows it at once", "[holds]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(50, 80'000, 100, 600, 120));
    const auto g = admitted_guest(client, concert);

    const auto before = now_ms();
    auto held = hold(client, g, concert, 12);
    const auto after = now_ms();
    REQUIRE_STATUS(held, 201);
    const json r = held.json();
    CHECK(r.at("reservationId").is_string());
    CHECK(r.at("concertId") == concert);
    CHECK(r.at("date") == concert_date);
    CHECK(r.at("seat") == 12);
    CHECK(r.at("price") == 80'000);
    CHECK(r.at("status") == "HELD");
    CHECK_FALSE(r.contains("paidAt"));
    const auto held_at = instant_ms(r.at("heldAt").get<std::string>());
    const auto expires_at = instant_ms(r.at("expiresAt").get<std::string>());
    CHECK(expires_at - held_at == 120'000);
    CHECK(held_at >= before - 1'000);
    CHECK(held_at <= after + 1'000);

    // Read-your-writes: the very next query sees the hold.
    CHECK(seat_status(client, g, concert, 12) == "HELD");
    auto available = call(client, "GET", seats_path(concert) + "?status=AVAILABLE", {}, g.headers());
    REQUIRE_STATUS(available, 200);
    CHECK(available.json().at("seats").size() == 49);
    auto dates = call(client, "GET", "/concerts/" + concert + "/dates", {}, g.headers());
    CHECK(dates.json().at("dates").at(0).at("availableSeats") == 49);

    // GET /reservations/{id}: the owner sees it; anyone else gets 404.
    const std::string id = r.at("reservationId");
    auto mine = reservation(client, g.user, id);
    REQUIRE_STATUS(mine, 200);
    CHECK(mine.json() == r);
    const auto stranger = new_user(client);
    CHECK_ERROR(reservation(client, stranger, id), 404, "RESERVATION_NOT_FOUND");
    CHECK_ERROR(call(client, "GET", "/reservations/" + id), 401, "UNAUTHORIZED");
    for (std::string bad : {std::string("r-0-0"), std::string("r-1-999999999"), std::string("r-99-1"),
                            std::string("nonsense"), std::string("r--1-5"), id + "0"}) {
        INFO(bad);
        CHECK_ERROR(reservation(client, g.user, bad), 404, "RESERVATION_NOT_FOUND");
        CHECK_ERROR(pay(client, g.user, bad), 404, "RESERVATION_NOT_FOUND");
        CHECK_ERROR(cancel(client, g.user, bad), 404, "RESERVATION_NOT_FOUND");
    }
    // Another user can neither pay for nor cancel it.
    REQUIRE_STATUS(charge(client, stranger, 100'000), 200);
    CHECK_ERROR(pay(client, stranger, id), 404, "RESERVATION_NOT_FOUND");
    CHECK_ERROR(cancel(client, stranger, id), 404, "RESERVATION_NOT_FOUND");
    CHECK(balance_of(client, stranger) == 100'000);
    CHECK(reservation(client, g.user, id).json().at("status") == "HELD");
}

TEST_CASE("hold errors come in API.md's order", "[holds]") {
    server_process server;
    http_client client(server.host(), server.port());
    // Capacity 2 so that a third user waits; 2 holds per user.
    const auto concert = create_concert(client, server, concert_body(50, 1'000, 2, 600, 300, 2));
    const auto other_concert = create_concert(client, server, concert_body());
    const auto kim = admitted_guest(client, concert);
    const auto lee = admitted_guest(client, concert);
    const auto park = new_user(client);
    auto waiting = enqueue(client, park, concert);
    REQUIRE(waiting.json().at("status") == "WAITING");
    const guest park_guest{park, waiting.json().at("queueToken")};
    const auto kim_elsewhere = enqueue(client, kim.user, other_concert).json().at("queueToken").get<std::string>();
    const std::string path = hold_path(concert, concert_date, "5");

    // 401, whatever else is wrong.
    CHECK_ERROR(call(client, "POST", path), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "POST", hold_path(concert, "bad-date", "abc"), {}, {{"X-Queue-Token", kim.queue_token}}), 401,
                "UNAUTHORIZED");
    CHECK_ERROR(call(client, "POST", path, {}, bearer(kim.user.token + "A") + header_list{{"X-Queue-Token", kim.queue_token}}),
                401, "UNAUTHORIZED");
    // 403 QUEUE_TOKEN_INVALID: missing, forged, another user's, another concert's.
    CHECK_ERROR(call(client, "POST", path, {}, bearer(kim.user.token)), 403, "QUEUE_TOKEN_INVALID");
    std::string forged = kim.queue_token;
    forged[forged.size() - 2] = forged[forged.size() - 2] == 'Q' ? 'R' : 'Q';
    CHECK_ERROR(call(client, "POST", path, {}, bearer(kim.user.token) + header_list{{"X-Queue-Token", forged}}), 403,
                "QUEUE_TOKEN_INVALID");
    CHECK_ERROR(call(client, "POST", path, {}, bearer(kim.user.token) + header_list{{"X-Queue-Token", lee.queue_token}}), 403,
                "QUEUE_TOKEN_INVALID");
    CHECK_ERROR(call(client, "POST", path, {}, bearer(kim.user.token) + header_list{{"X-Queue-Token", kim_elsewhere}}), 403,
                "QUEUE_TOKEN_INVALID");
    // 429 NOT_YOUR_TURN before anything about the date or seat.
    auto not_yet = call(client, "POST", hold_path(concert, "bad-date", "abc"), {}, park_guest.headers());
    CHECK_ERROR(not_yet, 429, "NOT_YOUR_TURN");
    REQUIRE(not_yet.header("Retry-After").has_value());
    CHECK(std::stoi(*not_yet.header("Retry-After")) >= 1);
    CHECK_ERROR(hold(client, park_guest, concert, 5), 429, "NOT_YOUR_TURN");
    // 422 DATE_NOT_BOOKABLE before INVALID_SEAT.
    CHECK_ERROR(hold(client, kim, concert, 5, other_date), 422, "DATE_NOT_BOOKABLE");
    CHECK_ERROR(call(client, "POST", hold_path(concert, "2030-02-30", "0"), {}, kim.headers()), 422, "DATE_NOT_BOOKABLE");
    CHECK_ERROR(call(client, "POST", hold_path(concert, "tomorrow", "5"), {}, kim.headers()), 422, "DATE_NOT_BOOKABLE");
    // 422 INVALID_SEAT for numbers outside 1..seats and for anything that is not a number.
    for (std::string seat : {"0", "51", "abc", "-1", "1.5", "4294967297", "99999999999999999999", "5x", "05"}) {
        INFO("seat " << seat);
        CHECK_ERROR(call(client, "POST", hold_path(concert, concert_date, seat), {}, kim.headers()), 422, "INVALID_SEAT");
    }
    CHECK_STATUS(hold(client, kim, concert, 50), 201);  // the last seat exists
    // 409 SEAT_TAKEN: held by this user, by another, or sold.
    CHECK_ERROR(hold(client, kim, concert, 50), 409, "SEAT_TAKEN");
    CHECK_ERROR(hold(client, lee, concert, 50), 409, "SEAT_TAKEN");
    REQUIRE_STATUS(charge(client, lee.user, 10'000), 200);
    auto lee_hold = hold(client, lee, concert, 20);
    REQUIRE_STATUS(lee_hold, 201);
    // 409 HOLD_LIMIT at maxHoldsPerUser; SEAT_TAKEN still comes first.
    CHECK_STATUS(hold(client, kim, concert, 1), 201);
    CHECK_ERROR(hold(client, kim, concert, 2), 409, "HOLD_LIMIT");
    CHECK_ERROR(hold(client, kim, concert, 20), 409, "SEAT_TAKEN");
    // The refused seats stayed free.
    CHECK(seat_status(client, lee, concert, 2) == "AVAILABLE");
    CHECK(seat_status(client, lee, concert, 5) == "AVAILABLE");
    REQUIRE_STATUS(pay(client, lee.user, lee_hold.json().at("reservationId")), 201);
    CHECK(seat_status(client, kim, concert, 20) == "SOLD");
    CHECK_ERROR(hold(client, kim, concert, 20), 409, "SEAT_TAKEN");
    // 403 QUEUE_TOKEN_EXPIRED once COMPLETED (lee paid): before NOT_YOUR_TURN, date and seat checks.
    CHECK_ERROR(hold(client, lee, concert, 3), 403, "QUEUE_TOKEN_EXPIRED");
    CHECK_ERROR(call(client, "POST", hold_path(concert, "bad-date", "abc"), {}, lee.headers()), 403, "QUEUE_TOKEN_EXPIRED");
    // Lee's payment freed a slot: park is admitted now and may hold.
    CHECK_STATUS(hold(client, park_guest, concert, 5), 201);
}

TEST_CASE("DELETE cancels a hold and frees the seat, but paid or expired holds cannot be cancelled", "[holds]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(50, 500, 100, 600, 300));
    const auto short_concert = create_concert(client, server, concert_body(50, 500, 100, 600, 1));
    const auto g = admitted_guest(client, concert);
    const auto observer = admitted_guest(client, concert);

    auto held = hold(client, g, concert, 9);
    REQUIRE_STATUS(held, 201);
    const std::string id = held.json().at("reservationId");
    CHECK_ERROR(cancel(client, g.user, id + "9"), 404, "RESERVATION_NOT_FOUND");
    CHECK_ERROR(call(client, "DELETE", "/reservations/" + id), 401, "UNAUTHORIZED");
    auto cancelled = cancel(client, g.user, id);
    REQUIRE_STATUS(cancelled, 200);
    CHECK(cancelled.json().at("status") == "CANCELLED");
    CHECK(cancelled.json().at("reservationId") == id);
    CHECK(cancelled.json().at("seat") == 9);
    CHECK(seat_status(client, observer, concert, 9) == "AVAILABLE");
    CHECK(reservation(client, g.user, id).json().at("status") == "CANCELLED");
    // The seat can be held again, by anyone.
    CHECK_STATUS(hold(client, observer, concert, 9), 201);
    // Cancelled holds cannot be paid (and are not cancelled twice).
    REQUIRE_STATUS(charge(client, g.user, 10'000), 200);
    CHECK_ERROR(pay(client, g.user, id), 409, "RESERVATION_CANCELLED");
    CHECK(balance_of(client, g.user) == 10'000);
    CHECK(cancel(client, g.user, id).status == 409);

    // Paid: 409 ALREADY_PAID, and the seat stays sold.
    auto bought = hold(client, g, concert, 10);
    REQUIRE_STATUS(bought, 201);
    REQUIRE_STATUS(pay(client, g.user, bought.json().at("reservationId")), 201);
    CHECK_ERROR(cancel(client, g.user, bought.json().at("reservationId")), 409, "ALREADY_PAID");
    CHECK(seat_status(client, observer, concert, 10) == "SOLD");
    CHECK(balance_of(client, g.user) == 9'500);

    // Expired: 409 HOLD_EXPIRED.
    const auto s = admitted_guest(client, short_concert);
    auto brief = hold(client, s, short_concert, 1);
    REQUIRE_STATUS(brief, 201);
    const std::string brief_id = brief.json().at("reservationId");
    REQUIRE(eventually(std::chrono::seconds(30),
                       [&] { return reservation(client, s.user, brief_id).json().at("status") == "EXPIRED"; }));
    CHECK_ERROR(cancel(client, s.user, brief_id), 409, "HOLD_EXPIRED");
}

TEST_CASE("paying confirms the seat, takes the price once and completes the queue token", "[payments]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(50, 80'000, 100, 600, 300));
    const auto g = admitted_guest(client, concert);
    const auto observer = admitted_guest(client, concert);

    auto held = hold(client, g, concert, 33);
    REQUIRE_STATUS(held, 201);
    const std::string id = held.json().at("reservationId");

    // 402 INSUFFICIENT_BALANCE keeps the hold and the money.
    REQUIRE_STATUS(charge(client, g.user, 79'999), 200);
    CHECK_ERROR(pay(client, g.user, id), 402, "INSUFFICIENT_BALANCE");
    CHECK(balance_of(client, g.user) == 79'999);
    CHECK(reservation(client, g.user, id).json().at("status") == "HELD");
    CHECK(seat_status(client, observer, concert, 33) == "HELD");
    CHECK(queue_state(client, g.user, concert, g.queue_token).at("status") == "ACTIVE");
    CHECK_ERROR(call(client, "POST", "/reservations/" + id + "/pay"), 401, "UNAUTHORIZED");

    REQUIRE_STATUS(charge(client, g.user, 20'001), 200);
    auto paid = pay(client, g.user, id);
    REQUIRE_STATUS(paid, 201);
    const json p = paid.json();
    CHECK(p.at("reservationId") == id);
    CHECK(p.at("paymentId").is_string());
    CHECK_FALSE(p.at("paymentId").get<std::string>().empty());
    CHECK(p.at("amount") == 80'000);
    CHECK(p.at("balance") == 20'000);
    CHECK(p.at("status") == "CONFIRMED");
    CHECK(std::abs(instant_ms(p.at("paidAt").get<std::string>()) - now_ms()) < 60'000);

    CHECK(balance_of(client, g.user) == 20'000);
    CHECK(seat_status(client, observer, concert, 33) == "SOLD");
    auto r = reservation(client, g.user, id);
    CHECK(r.json().at("status") == "CONFIRMED");
    CHECK(r.json().at("paidAt") == p.at("paidAt"));
    CHECK(queue_state(client, g.user, concert, g.queue_token).at("status") == "COMPLETED");
    CHECK_ERROR(call(client, "GET", "/concerts/" + concert + "/dates", {}, g.headers()), 403, "QUEUE_TOKEN_EXPIRED");

    // A second payment: 409 ALREADY_PAID, no money taken.
    CHECK_ERROR(pay(client, g.user, id), 409, "ALREADY_PAID");
    CHECK(balance_of(client, g.user) == 20'000);
}

TEST_CASE("a refund until refundsUntil frees the seat, credits the wallet and is counted once", "[payments][refunds]") {
    server_process server;
    http_client client(server.host(), server.port());
    json body = concert_body(50, 80'000, 100, 600, 300);
    body["refundsUntil"] = "2099-01-01T00:00:00.000Z";
    const auto concert = create_concert(client, server, body);
    const auto g = admitted_guest(client, concert);
    const auto observer = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, g.user, 100'000), 200);
    auto refund = [&](const std::string& id, const header_list& h) {
        return call(client, "POST", "/reservations/" + id + "/refund", {}, h);
    };

    auto held = hold(client, g, concert, 7);
    REQUIRE_STATUS(held, 201);
    const std::string id = held.json().at("reservationId");
    CHECK_ERROR(refund(id, bearer(g.user.token)), 409, "NOT_PAID");
    REQUIRE_STATUS(pay(client, g.user, id), 201);
    CHECK_ERROR(refund(id, {}), 401, "UNAUTHORIZED");
    CHECK_ERROR(refund(id, bearer(observer.user.token)), 404, "RESERVATION_NOT_FOUND");
    CHECK_ERROR(refund("r-0-999999", bearer(g.user.token)), 404, "RESERVATION_NOT_FOUND");

    auto refunded = refund(id, bearer(g.user.token) + header_list{{"Idempotency-Key", "refund-7"}});
    REQUIRE_STATUS(refunded, 200);
    const json r = refunded.json();
    CHECK(r.at("status") == "REFUNDED");
    CHECK(r.at("reservationId") == id);
    CHECK(r.at("balance") == 100'000);
    CHECK(std::abs(instant_ms(r.at("refundedAt").get<std::string>()) - now_ms()) < 60'000);
    // Read-your-writes: the balance, the history, the seat and the reservation show it at once.
    CHECK(balance_of(client, g.user) == 100'000);
    const json entries = call(client, "GET", "/users/me/balance/history", {}, bearer(g.user.token)).json().at("entries");
    REQUIRE(entries.size() == 3);
    CHECK(entries.at(0).at("type") == "REFUND");
    CHECK(entries.at(0).at("amount") == 80'000);
    CHECK(entries.at(0).at("balanceAfter") == 100'000);
    CHECK(entries.at(0).at("reservationId") == id);
    CHECK(seat_status(client, observer, concert, 7) == "AVAILABLE");
    CHECK(reservation(client, g.user, id).json().at("status") == "REFUNDED");
    auto analytics = call(client, "GET", "/analytics/concerts/" + concert, {}, admin_header(server.admin_key())).json();
    CHECK(analytics.at("dates").at(0).at("seatsSold") == 0);
    CHECK(analytics.at("dates").at(0).at("revenue") == 0);

    // Once: a repeat with the key is the same answer, without it 409; the money moved once.
    auto again = refund(id, bearer(g.user.token) + header_list{{"Idempotency-Key", "refund-7"}});
    CHECK(again.status == 200);
    CHECK(again.body == refunded.body);
    CHECK_ERROR(refund(id, bearer(g.user.token)), 409, "ALREADY_REFUNDED");
    CHECK_ERROR(pay(client, g.user, id), 409, "ALREADY_REFUNDED");
    CHECK(balance_of(client, g.user) == 100'000);
    // The freed seat can be bought again.
    CHECK(hold(client, observer, concert, 7).status == 201);

    // A concert without refundsUntil takes no refunds.
    const auto strict = create_concert(client, server, concert_body(5, 10));
    const auto s = admitted_guest(client, strict);
    REQUIRE_STATUS(charge(client, s.user, 10), 200);
    auto bought = hold(client, s, strict, 1);
    REQUIRE_STATUS(bought, 201);
    REQUIRE_STATUS(pay(client, s.user, bought.json().at("reservationId")), 201);
    CHECK_ERROR(refund(bought.json().at("reservationId"), bearer(s.user.token)), 409, "REFUND_NOT_ALLOWED");
    CHECK(balance_of(client, s.user) == 0);
}

TEST_CASE("a hold expires with no request at all, and a late payment gets 410", "[holds][expiry]") {
    server_process server;
    http_client client(server.host(), server.port());
    // Holds of 1 s: the hold, placed last, is the only thing meant to run out.
    const auto concert = create_concert(client, server, concert_body(50, 1'000, 100, 3'600, 1));
    const auto g = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, g.user, 5'000), 200);

    auto held = hold(client, g, concert, 4);
    REQUIRE_STATUS(held, 201);
    const auto expires_at = instant_ms(held.json().at("expiresAt").get<std::string>());
    const std::string id = held.json().at("reservationId");
    // Read-your-writes: a seat map answered before expiresAt shows the hold. (On a slow machine
    // the answer may come after expiresAt, when the seat may rightly be free already.)
    const std::string first_seen = seat_status(client, g, concert, 4);
    if (now_ms() < expires_at) CHECK(first_seen == "HELD");

    // Only GETs from here on: nothing but the server's own clock may free the seat.
    std::string status = "HELD";
    const bool freed = eventually(std::chrono::seconds(30), [&] {
        status = seat_status(client, g, concert, 4);
        return status == "AVAILABLE";
    }, std::chrono::milliseconds(10));
    const auto seen_free_at = now_ms();
    INFO("last seat status " << status);
    REQUIRE(freed);
    // API.md promises the seat free within 2 s of expiresAt; how long it took here is reported,
    // not asserted: a loaded machine says nothing about the server.
    std::fprintf(stderr, "hold expiry: seat seen free %lld ms after expiresAt\n",
                 static_cast<long long>(seen_free_at - expires_at));
    CHECK(reservation(client, g.user, id).json().at("status") == "EXPIRED");

    // Paying after expiresAt: 410 HOLD_EXPIRED and no money taken.
    CHECK_ERROR(pay(client, g.user, id), 410, "HOLD_EXPIRED");
    CHECK(balance_of(client, g.user) == 5'000);
    // The seat is free for the next hold.
    CHECK_STATUS(hold(client, g, concert, 4), 201);
}

TEST_CASE("a payment after expiresAt gets 410 even before the expiry was observed", "[payments][expiry]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(50, 1'000, 100, 3'600, 1));
    const auto g = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, g.user, 5'000), 200);
    auto held = hold(client, g, concert, 8);
    REQUIRE_STATUS(held, 201);
    const auto expires_at = instant_ms(held.json().at("expiresAt").get<std::string>());
    // Wait for the wall clock (not for the server) to pass expiresAt, then pay at once.
    REQUIRE(eventually(std::chrono::seconds(30), [&] { return now_ms() > expires_at + 50; },
                       std::chrono::milliseconds(5)));
    CHECK_ERROR(pay(client, g.user, held.json().at("reservationId")), 410, "HOLD_EXPIRED");
    CHECK(balance_of(client, g.user) == 5'000);
    CHECK(eventually(std::chrono::seconds(30), [&] { return seat_status(client, g, concert, 8) == "AVAILABLE"; }));
}


TEST_CASE("payments racing the hold expiry either confirm and take the price or get 410 and take nothing", "[payments][expiry]") {
    server_process server;
    http_client client(server.host(), server.port());
    constexpr int payers = 8;
    const auto concert = create_concert(client, server, concert_body(50, 1'000, 100, 3'600, 1));
    const auto observer = admitted_guest(client, concert);
    std::vector<guest> guests;
    std::vector<std::string> ids;
    std::vector<std::int64_t> deadlines;
    for (int i = 0; i < payers; ++i) {
        guests.push_back(admitted_guest(client, concert));
        expect_status(charge(client, guests.back().user, 5'000), 200, "charge");
    }
    for (int i = 0; i < payers; ++i) {
        auto held = hold(client, guests[i], concert, static_cast<std::uint32_t>(i + 1));
        REQUIRE_STATUS(held, 201);
        ids.push_back(held.json().at("reservationId"));
        deadlines.push_back(instant_ms(held.json().at("expiresAt").get<std::string>()));
    }
    // Pay each one at a different moment around its expiresAt: from 120 ms before to 90 ms after.
    std::vector<http_reply> replies(payers);
    std::vector<std::string> failures(payers);
    {
        std::vector<std::jthread> threads;
        for (int i = 0; i < payers; ++i) {
            threads.emplace_back([&, i] {
                try {
                    http_client own(server.host(), server.port());
                    const auto at = deadlines[i] - 120 + 30 * i;
                    eventually(std::chrono::seconds(30), [&] { return now_ms() >= at; }, std::chrono::milliseconds(1));
                    replies[i] = pay(own, guests[i].user, ids[i]);
                } catch (const std::exception& e) {
                    failures[i] = e.what();
                }
            });
        }
    }
    for (int i = 0; i < payers; ++i) {
        INFO("payer " << i << ": " << failures[i] << " " << describe(replies[i]));
        REQUIRE(failures[i].empty());
        const auto seat = static_cast<std::uint32_t>(i + 1);
        if (replies[i].status == 201) {
            CHECK(balance_of(client, guests[i].user) == 4'000);
            CHECK(reservation(client, guests[i].user, ids[i]).json().at("status") == "CONFIRMED");
            CHECK(seat_status(client, observer, concert, seat) == "SOLD");
        } else {
            CHECK_ERROR(replies[i], 410, "HOLD_EXPIRED");
            CHECK(balance_of(client, guests[i].user) == 5'000);
            CHECK(eventually(std::chrono::seconds(30),
                             [&] { return seat_status(client, observer, concert, seat) == "AVAILABLE"; }));
            CHECK(reservation(client, guests[i].user, ids[i]).json().at("status") == "EXPIRED");
        }
    }
}


TEST_CASE("a hold can be paid after the user's active window ended", "[payments][queue]") {
    server_process server;
    http_client client(server.host(), server.port());
    // Active for 1 s, holds for 5 minutes. The active window, the thing meant to run out, is the
    // last thing made: the hold is the first request after admission. On a machine too slow to
    // send it within the second (403 QUEUE_TOKEN_EXPIRED), a new user tries again.
    const auto concert = create_concert(client, server, concert_body(50, 1'000, 100, 1, 300));
    constexpr int attempts_max = 20;
    guest g;
    http_reply held;
    int attempt = 0;
    for (; attempt < attempts_max; ++attempt) {
        g = admitted_guest(client, concert);
        held = hold(client, g, concert, 2);
        if (held.status != 403 || error_code_of(held) != "QUEUE_TOKEN_EXPIRED") break;
        std::fprintf(stderr, "paid after the active window: the 1 s window ended before the hold; a new user\n");
    }
    INFO(attempt + 1 << " attempts");
    REQUIRE_STATUS(held, 201);
    REQUIRE_STATUS(charge(client, g.user, 1'000), 200);
    REQUIRE(eventually(std::chrono::seconds(30),
                       [&] { return queue_state(client, g.user, concert, g.queue_token).at("status") == "EXPIRED"; }));
    CHECK_ERROR(hold(client, g, concert, 3), 403, "QUEUE_TOKEN_EXPIRED");
    auto paid = pay(client, g.user, held.json().at("reservationId"));
    CHECK_STATUS(paid, 201);
    CHECK(balance_of(client, g.user) == 0);
}

}  // namespace
}  // namespace encore::test
