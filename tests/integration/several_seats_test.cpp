// Several seats in one reservation and best available (API.md "Reservations and payment"):
// POST /concerts/{c}/dates/{d}/holds with {"seats": [...]} or {"count": N}, over HTTP.

#include <catch2/catch.hpp>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

std::string holds_path(const std::string& concert, std::string_view date = concert_date) {
    return "/concerts/" + concert + "/dates/" + std::string(date) + "/holds";
}

http_reply hold_many(http_client& client, const guest& g, const std::string& concert, const json& body) {
    return call(client, "POST", holds_path(concert), body.dump(), g.headers());
}

std::vector<std::uint32_t> seats_in(const json& reservation) { return reservation.at("seats").get<std::vector<std::uint32_t>>(); }

}  // namespace

TEST_CASE("several seats are held in one reservation, paid in one payment and refunded together", "[holds][seats]") {
    server_process server;
    http_client client(server.host(), server.port());
    json body = concert_body(50, 80'000);
    body["refundsUntil"] = "2099-01-01T00:00:00.000Z";
    const auto concert = create_concert(client, server, body);
    const auto g = admitted_guest(client, concert);
    const auto observer = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, g.user, 300'000), 200);

    auto held = hold_many(client, g, concert, {{"seats", {9, 7, 8}}});
    REQUIRE_STATUS(held, 201);
    const json r = held.json();
    CHECK(seats_in(r) == std::vector<std::uint32_t>{7, 8, 9});
    CHECK(r.at("seat") == 7);
    CHECK(r.at("price") == 240'000);
    CHECK(r.at("status") == "HELD");
    const std::string id = r.at("reservationId");
    for (std::uint32_t seat : {7u, 8u, 9u}) CHECK(seat_status(client, observer, concert, seat) == "HELD");
    CHECK(seats_in(reservation(client, g.user, id).json()) == std::vector<std::uint32_t>{7, 8, 9});

    auto paid = pay(client, g.user, id);
    REQUIRE_STATUS(paid, 201);
    CHECK(paid.json().at("amount") == 240'000);
    CHECK(paid.json().at("balance") == 60'000);
    for (std::uint32_t seat : {7u, 8u, 9u}) CHECK(seat_status(client, observer, concert, seat) == "SOLD");
    auto analytics = [&] {
        return call(client, "GET", "/analytics/concerts/" + concert, {}, admin_header(server.admin_key())).json().at("dates").at(0);
    };
    CHECK(analytics().at("seatsSold") == 3);
    CHECK(analytics().at("holdsPlaced") == 1);
    CHECK(analytics().at("holdToPaymentConversion") == 1.0);
    CHECK(analytics().at("refunds") == 0);

    auto refunded = call(client, "POST", "/reservations/" + id + "/refund", {}, bearer(g.user.token));
    REQUIRE_STATUS(refunded, 200);
    CHECK(refunded.json().at("balance") == 300'000);
    const json after = reservation(client, g.user, id).json();
    CHECK(after.at("status") == "REFUNDED");
    CHECK(after.at("refundedAt") == refunded.json().at("refundedAt"));
    CHECK(std::abs(instant_ms(after.at("refundedAt").get<std::string>()) - now_ms()) < 60'000);
    for (std::uint32_t seat : {7u, 8u, 9u}) CHECK(seat_status(client, observer, concert, seat) == "AVAILABLE");
    CHECK(analytics().at("seatsSold") == 0);
    CHECK(analytics().at("revenue") == 0);
    CHECK(analytics().at("refunds") == 1);
    // A seat's history shows the whole reservation's life.
    auto history = call(client, "GET", "/admin/concerts/" + concert + "/dates/" + std::string(concert_date) + "/seats/8/history",
                        {}, admin_header(server.admin_key()));
    REQUIRE_STATUS(history, 200);
    const json entries = history.json().at("entries");
    std::vector<std::string> types;
    for (const json& e : entries) types.push_back(e.at("type"));
    CHECK(types == std::vector<std::string>{"HELD", "SOLD", "REFUNDED"});
}

TEST_CASE("a hold of several seats is all or nothing, and bad lists get 400 and change nothing", "[holds][seats]") {
    server_process server;
    http_client client(server.host(), server.port());
    json body = concert_body(20, 10'000);
    body["maxTicketsPerUser"] = 3;
    const auto concert = create_concert(client, server, body);
    const auto g = admitted_guest(client, concert);
    const auto other = admitted_guest(client, concert);
    REQUIRE_STATUS(hold(client, other, concert, 5), 201);

    CHECK_ERROR(hold_many(client, g, concert, {{"seats", {4, 5}}}), 409, "SEAT_TAKEN");
    CHECK(seat_status(client, other, concert, 4) == "AVAILABLE");
    CHECK_ERROR(hold_many(client, g, concert, {{"seats", {4, 21}}}), 422, "INVALID_SEAT");
    CHECK_ERROR(hold_many(client, g, concert, {{"seats", {1, 2, 3, 4}}}), 409, "TICKET_LIMIT");
    CHECK_ERROR(hold_many(client, g, concert, {{"count", 4}}), 409, "TICKET_LIMIT");

    const json bad_bodies[] = {
        json::object(),
        {{"seats", json::array()}},
        {{"seats", {3, 3}}},
        {{"seats", {1, "2"}}},
        {{"seats", {1.5}}},
        {{"seats", 3}},
        {{"seats", {1, 2}}, {"count", 2}},
        {{"count", 0}},
        {{"count", 101}},
        {{"count", "2"}},
    };
    for (const json& bad : bad_bodies) {
        INFO("body: " << bad.dump());
        CHECK_ERROR(hold_many(client, g, concert, bad), 400, "INVALID_REQUEST");
    }
    json too_many = json::array();
    for (int seat = 1; seat <= 101; ++seat) too_many.push_back(seat);
    CHECK_ERROR(hold_many(client, g, concert, {{"seats", too_many}}), 400, "INVALID_REQUEST");
    CHECK_ERROR(call(client, "POST", holds_path(concert), "not json", g.headers()), 400, "INVALID_REQUEST");
    for (std::uint32_t seat = 1; seat <= 20; ++seat) {
        if (seat != 5) CHECK(seat_status(client, other, concert, seat) == "AVAILABLE");
    }
    // The queue checks come before the body's seats, as for a single hold.
    CHECK_ERROR(call(client, "POST", holds_path(concert), R"({"seats":[1,2]})", bearer(g.user.token)), 403,
                "QUEUE_TOKEN_INVALID");
    CHECK_ERROR(call(client, "POST", holds_path(concert, "2031-01-01"), R"({"seats":[1,2]})", g.headers()), 422,
                "DATE_NOT_BOOKABLE");
    // A list of one seat is a single hold.
    auto one = hold_many(client, g, concert, {{"seats", {12}}});
    REQUIRE_STATUS(one, 201);
    CHECK(seats_in(one.json()) == std::vector<std::uint32_t>{12});
}

TEST_CASE("best available picks adjacent seats in the lowest row without leaving one seat alone", "[holds][best]") {
    server_process server;
    http_client client(server.host(), server.port());
    json body = concert_body(15, 10'000);
    body["schedules"][0]["seatsPerRow"] = 5;  // rows 1-5, 6-10, 11-15
    body["maxHoldsPerUser"] = 10;
    body["maxTicketsPerUser"] = 20;
    const auto concert = create_concert(client, server, body);
    const auto g = admitted_guest(client, concert);
    const auto other = admitted_guest(client, concert);

    auto first = hold_many(client, g, concert, {{"count", 2}});
    REQUIRE_STATUS(first, 201);
    CHECK(seats_in(first.json()) == std::vector<std::uint32_t>{1, 2});
    // Row 1 has 3, 4, 5 free: two of them would leave one alone, so row 2.
    auto second = hold_many(client, other, concert, {{"count", 2}});
    REQUIRE_STATUS(second, 201);
    CHECK(seats_in(second.json()) == std::vector<std::uint32_t>{6, 7});
    // Three fit row 1 exactly.
    auto third = hold_many(client, g, concert, {{"count", 3}});
    REQUIRE_STATUS(third, 201);
    CHECK(seats_in(third.json()) == std::vector<std::uint32_t>{3, 4, 5});
    CHECK_ERROR(hold_many(client, g, concert, {{"count", 6}}), 409, "NO_ADJACENT_SEATS");
    auto fourth = hold_many(client, other, concert, {{"count", 5}});
    REQUIRE_STATUS(fourth, 201);
    CHECK(seats_in(fourth.json()) == std::vector<std::uint32_t>{11, 12, 13, 14, 15});
    CHECK_ERROR(hold_many(client, g, concert, {{"count", 4}}), 409, "NO_ADJACENT_SEATS");
    for (std::uint32_t seat : {1u, 5u, 6u, 11u, 15u}) CHECK(seat_status(client, g, concert, seat) == "HELD");
}

}  // namespace encore::test
