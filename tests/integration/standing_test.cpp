// Standing zones (API.md "The venue"): places held all or nothing with SECTION_FULL, a
// reservation with "standing" and no seats, entry numbers in payment order (a refunded number is
// not reused), the seat map's places left, the dates and analytics counting places as seats, the
// export's columns, and `encore audit` passing on the log.

#include <catch2/catch.hpp>

#include "tests/integration/api.hpp"
#include "tests/integration/export_checks.hpp"

#include <filesystem>

namespace encore::test {
namespace {

// FLOOR: 3 standing places of VIP; A: R seats 1..4 (one row). Refunds allowed.
json standing_body() {
    json body = concert_body();
    body.erase("schedules");
    body["title"] = "Floor and stands";
    body["refundsUntil"] = "2099-01-01T00:00:00.000Z";
    body["grades"] = json::array({{{"grade", "VIP"}, {"price", 150'000}}, {{"grade", "R"}, {"price", 90'000}}});
    body["layout"] = {{"sections", json::array({{{"section", "FLOOR"}, {"grade", "VIP"}, {"standing", 3}, {"gate", "G1"}},
                                                {{"section", "A"}, {"grade", "R"}, {"rows", 1}, {"seatsPerRow", 4}}})}};
    body["schedules"] = json::array({{{"date", concert_date}}});
    return body;
}

http_reply places(http_client& client, const guest& g, const std::string& concert, std::uint32_t n) {
    return call(client, "POST", "/concerts/" + concert + "/dates/" + std::string(concert_date) + "/holds",
                json{{"count", n}, {"section", "FLOOR"}}.dump(), g.headers());
}

json floor_of(http_client& client, const guest& g, const std::string& concert) {
    auto map = call(client, "GET", seats_path(concert), {}, g.headers());
    expect_status(map, 200, "GET seats");
    return map.json().at("sections").at(0);
}

}  // namespace

TEST_CASE("a standing zone: places held all or nothing, entry numbers in payment order", "[venue][standing]") {
    server_process server;
    http_client client(server.host(), server.port());
    const std::string concert = create_concert(client, server, standing_body());
    const guest first = admitted_guest(client, concert);
    const guest second = admitted_guest(client, concert);
    for (const guest* g : {&first, &second}) REQUIRE_STATUS(charge(client, g->user, 1'000'000), 200);

    // The seat map lists the zone with its capacity and places left; its seats are A's only.
    const json map = call(client, "GET", seats_path(concert), {}, first.headers()).json();
    CHECK(map.at("seats").size() == 4);
    CHECK(map.at("sections").at(0) ==
          json{{"section", "FLOOR"}, {"grade", "VIP"}, {"price", 150'000}, {"gate", "G1"}, {"standing", 3}, {"available", 3}});

    // The concert in its creation shape lists the zone as it was posted.
    auto shape = call(client, "GET", "/admin/concerts/" + concert, {}, admin_header(server.admin_key()));
    REQUIRE_STATUS(shape, 200);
    CHECK(shape.json().at("layout") == standing_body().at("layout"));

    // Two places: a reservation of no seats, at two VIP prices.
    auto two = places(client, first, concert, 2);
    REQUIRE_STATUS(two, 201);
    INFO(two.json().dump());
    CHECK(two.json().at("seat").is_null());
    CHECK(two.json().at("seats") == json::array());
    CHECK(two.json().at("standing") == json{{"section", "FLOOR"}, {"places", 2}});
    CHECK(two.json().at("entryNumbers") == json::array());
    CHECK(two.json().at("price") == 300'000);
    CHECK(floor_of(client, first, concert).at("available") == 1);
    // Two more do not fit: nothing is held.
    CHECK_ERROR(places(client, second, concert, 2), 409, "SECTION_FULL");
    CHECK(floor_of(client, second, concert).at("available") == 1);
    // The last place, paid first: entry number 1. Then the two: 2 and 3.
    auto one = places(client, second, concert, 1);
    REQUIRE_STATUS(one, 201);
    auto paid_one = pay(client, second.user, one.json().at("reservationId"));
    REQUIRE_STATUS(paid_one, 201);
    auto one_now = reservation(client, second.user, one.json().at("reservationId")).json();
    CHECK(one_now.at("entryNumbers") == json::array({1}));
    REQUIRE_STATUS(pay(client, first.user, two.json().at("reservationId")), 201);
    auto two_now = reservation(client, first.user, two.json().at("reservationId")).json();
    CHECK(two_now.at("status") == "CONFIRMED");
    CHECK(two_now.at("entryNumbers") == json::array({2, 3}));
    // (A payment ends the payer's turn: the seat map is read by another fan from here on.)
    const guest watcher = admitted_guest(client, concert);
    CHECK(floor_of(client, watcher, concert).at("available") == 0);

    // The dates and the analytics count places as seats, of their zone's grade.
    auto dates = call(client, "GET", "/concerts/" + concert + "/dates", {}, watcher.headers()).json();
    INFO(dates.dump());
    CHECK(dates.at("dates").at(0).at("totalSeats") == 7);
    CHECK(dates.at("dates").at(0).at("availableSeats") == 4);
    CHECK(dates.at("dates").at(0).at("grades").at(0) ==
          json{{"grade", "VIP"}, {"price", 150'000}, {"availableSeats", 0}, {"totalSeats", 3}});
    auto analytics = call(client, "GET", "/analytics/concerts/" + concert, {}, admin_header(server.admin_key())).json();
    CHECK(analytics.at("dates").at(0).at("seatsSold") == 3);
    CHECK(analytics.at("dates").at(0).at("grades").at(0).at("seatsSold") == 3);
    CHECK(analytics.at("dates").at(0).at("grades").at(0).at("revenue") == 450'000);

    // A refund frees the place; whoever buys it next gets number 4, not 1.
    REQUIRE_STATUS(call(client, "POST", "/reservations/" + one.json().at("reservationId").get<std::string>() + "/refund", {},
                        bearer(second.user.token)),
                   200);
    CHECK(floor_of(client, watcher, concert).at("available") == 1);
    const guest third = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, third.user, 1'000'000), 200);
    auto again = places(client, third, concert, 1);
    REQUIRE_STATUS(again, 201);
    REQUIRE_STATUS(pay(client, third.user, again.json().at("reservationId")), 201);
    CHECK(reservation(client, third.user, again.json().at("reservationId")).json().at("entryNumbers") == json::array({4}));

    // The export names the zone and the first entry number; the audit passes on the log.
    const std::string db = server.data_dir() + "-export/standing.db";
    std::filesystem::remove_all(server.data_dir() + "-export");
    REQUIRE(run_export("--data-dir " + server.data_dir() + " --format sqlite --out " + db).status == 0);
    const json rows = query(db, "SELECT seat, seat_count, standing_section, entry_first, status FROM reservations WHERE concert_id = '" +
                                    concert + "' ORDER BY entry_first");
    INFO(rows.dump());
    REQUIRE(rows.size() == 3);
    CHECK(rows.at(0) == json{{"seat", nullptr}, {"seat_count", 1}, {"standing_section", "FLOOR"}, {"entry_first", 1}, {"status", "REFUNDED"}});
    CHECK(rows.at(1) == json{{"seat", nullptr}, {"seat_count", 2}, {"standing_section", "FLOOR"}, {"entry_first", 2}, {"status", "CONFIRMED"}});
    CHECK(rows.at(2).at("entry_first") == 4);
    REQUIRE(server.stop() == 0);
    const command_run audit = run_command(std::string(ENCORE_BINARY) + " audit --data-dir " + server.data_dir() + " --json 2>/dev/null");
    INFO(audit.output);
    CHECK(audit.status == 0);
    const json report = json::parse(audit.output, nullptr, false);
    CHECK(report.value("passed", false) == true);
    CHECK(report.value("seats_sold", 0) == 3);  // places count as seats: 1 + 2 + 1 sold, 1 refunded
}

TEST_CASE("a standing zone's places go against maxTicketsPerUser, and a grade alone picks seats", "[venue][standing]") {
    server_process server;
    http_client client(server.host(), server.port());
    json body = standing_body();
    body["maxTicketsPerUser"] = 2;
    const std::string concert = create_concert(client, server, body);
    const guest fan = admitted_guest(client, concert);
    REQUIRE_STATUS(hold(client, fan, concert, 1), 201);
    CHECK_ERROR(places(client, fan, concert, 2), 409, "TICKET_LIMIT");
    // VIP has no seats, only FLOOR's places: a pick by grade finds no section.
    CHECK_ERROR(call(client, "POST", "/concerts/" + concert + "/dates/" + std::string(concert_date) + "/holds",
                     json{{"count", 1}, {"grade", "VIP"}}.dump(), fan.headers()),
                422, "SECTION_NOT_FOUND");
    auto held = places(client, fan, concert, 1);
    REQUIRE_STATUS(held, 201);
    CHECK(floor_of(client, fan, concert).at("available") == 2);
}

}  // namespace encore::test
