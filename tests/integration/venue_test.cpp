// The venue (API.md "The venue"): a concert of grades and seated sections, its seats numbered in
// layout order; the seat map with sections, rows within a section and grade prices (a date's
// override included); best available by grade or by section; the dates and analytics per grade;
// and the concert read back in its creation shape.

#include <catch2/catch.hpp>

#include "tests/integration/api.hpp"
#include "tests/integration/export_checks.hpp"

#include <filesystem>

namespace encore::test {
namespace {

// VIP: section A (2 rows of 3); R: B (rows of 2, 4 and 3 seats) and C (1 row of 5). 20 seats,
// numbered A 1..6, B 7..15, C 16..20. On the second date VIP costs 120,000.
json venue_body() {
    json body = concert_body();
    body.erase("schedules");
    body["title"] = "Stadium";
    body["grades"] = json::array({{{"grade", "VIP"}, {"price", 100'000}}, {{"grade", "R"}, {"price", 60'000}}});
    body["layout"] = {{"sections", json::array({{{"section", "A"}, {"grade", "VIP"}, {"rows", 2}, {"seatsPerRow", 3}, {"gate", "G1"}},
                                                {{"section", "B"}, {"grade", "R"}, {"rows", {2, 4, 3}}},
                                                {{"section", "C"}, {"grade", "R"}, {"rows", 1}, {"seatsPerRow", 5}}})}};
    body["schedules"] = json::array({{{"date", concert_date}, {"startsAt", "2030-12-24T10:00:00.000Z"}},
                                     {{"date", other_date}, {"prices", {{"VIP", 120'000}}}}});
    return body;
}

json seat_map(http_client& client, const guest& g, const std::string& concert, std::string_view date, const std::string& query = "") {
    auto reply = call(client, "GET", seats_path(concert, date) + query, {}, g.headers());
    expect_status(reply, 200, "GET seats" + query);
    return reply.json();
}

http_reply pick(http_client& client, const guest& g, const std::string& concert, const json& body, std::string_view date = concert_date) {
    return call(client, "POST", "/concerts/" + concert + "/dates/" + std::string(date) + "/holds", body.dump(), g.headers());
}

}  // namespace

TEST_CASE("a venue of grades and sections: seat map, picks by grade or section, prices by date", "[venue]") {
    server_process server;
    http_client client(server.host(), server.port());
    const std::string concert = create_concert(client, server, venue_body());
    const guest fan = admitted_guest(client, concert);

    // The seat map: every seat placed in its section, row and seat in row, at its grade's price.
    const json map = seat_map(client, fan, concert, concert_date);
    INFO(map.dump());
    REQUIRE(map.at("seats").size() == 20);
    CHECK(map.at("seats").at(0) == json{{"number", 1}, {"section", "A"}, {"row", 1}, {"seatInRow", 1}, {"grade", "VIP"},
                                        {"status", "AVAILABLE"}, {"price", 100'000}});
    CHECK(map.at("seats").at(6) == json{{"number", 7}, {"section", "B"}, {"row", 1}, {"seatInRow", 1}, {"grade", "R"},
                                        {"status", "AVAILABLE"}, {"price", 60'000}});
    CHECK(map.at("seats").at(9).at("row") == 2);    // seat 10: B's second row (4 seats), its second seat
    CHECK(map.at("seats").at(9).at("seatInRow") == 2);
    CHECK(map.at("sections") == json::array({{{"section", "A"}, {"grade", "VIP"}, {"price", 100'000}, {"gate", "G1"}, {"available", 6}},
                                              {{"section", "B"}, {"grade", "R"}, {"price", 60'000}, {"available", 9}},
                                              {{"section", "C"}, {"grade", "R"}, {"price", 60'000}, {"available", 5}}}));
    // The second date's VIP price.
    CHECK(seat_map(client, fan, concert, other_date).at("seats").at(0).at("price") == 120'000);
    // Filters: a grade, a section; unknown ones are 400.
    CHECK(seat_map(client, fan, concert, concert_date, "?grade=R").at("seats").size() == 14);
    CHECK(seat_map(client, fan, concert, concert_date, "?section=C&status=AVAILABLE").at("seats").size() == 5);
    CHECK_ERROR(call(client, "GET", seats_path(concert) + "?grade=S", {}, fan.headers()), 400, "INVALID_REQUEST");

    // Best available by section: B's rows are 7-8, 9-12 and 13-15; three seats in the second would
    // leave one alone, the third fits them exactly.
    auto in_b = pick(client, fan, concert, {{"count", 3}, {"section", "B"}});
    REQUIRE_STATUS(in_b, 201);
    CHECK(in_b.json().at("seats") == json::array({13, 14, 15}));
    CHECK(in_b.json().at("price") == 180'000);
    // By grade: VIP's first row. And the prices add up across grades for named seats.
    auto vip = pick(client, fan, concert, {{"count", 2}, {"grade", "VIP"}});
    REQUIRE_STATUS(vip, 201);
    CHECK(vip.json().at("seats") == json::array({1, 2}));
    CHECK(vip.json().at("price") == 200'000);
    const guest other = admitted_guest(client, concert);
    auto named = call(client, "POST", "/concerts/" + concert + "/dates/" + std::string(other_date) + "/holds",
                      json{{"seats", {6, 20}}}.dump(), other.headers());
    REQUIRE_STATUS(named, 201);
    CHECK(named.json().at("price") == 120'000 + 60'000);
    // No section of that name, or no room in it.
    CHECK_ERROR(pick(client, other, concert, {{"count", 1}, {"section", "Z"}}), 422, "SECTION_NOT_FOUND");
    CHECK_ERROR(pick(client, other, concert, {{"count", 1}, {"grade", "S"}}), 422, "SECTION_NOT_FOUND");
    CHECK_ERROR(pick(client, other, concert, {{"count", 4}, {"section", "A"}}), 409, "NO_ADJACENT_SEATS");
    CHECK_ERROR(pick(client, other, concert, {{"seats", {1, 2}}, {"grade", "R"}}), 400, "INVALID_REQUEST");
    CHECK_ERROR(pick(client, other, concert, {{"count", 1}, {"grade", "R"}, {"section", "B"}}), 400, "INVALID_REQUEST");

    // The overview a large venue's page opens on: no seats, the sections with what the holds left.
    const json overview = seat_map(client, fan, concert, concert_date, "?overview=true");
    CHECK(overview.at("seats").empty());
    CHECK(overview.at("sections").at(0).at("available") == 4);
    CHECK(overview.at("sections").at(1).at("available") == 6);
    CHECK(overview.at("sections") == seat_map(client, fan, concert, concert_date, "?section=C").at("sections"));
    CHECK(seat_map(client, fan, concert, concert_date, "?overview=false").at("seats").size() == 20);
    CHECK_ERROR(call(client, "GET", seats_path(concert) + "?overview=yes", {}, fan.headers()), 400, "INVALID_REQUEST");

    // The dates, per grade.
    auto dates = call(client, "GET", "/concerts/" + concert + "/dates", {}, fan.headers()).json().at("dates");
    INFO(dates.dump());
    CHECK(dates.at(0).at("grades") == json::array({{{"grade", "VIP"}, {"price", 100'000}, {"availableSeats", 4}, {"totalSeats", 6}},
                                                   {{"grade", "R"}, {"price", 60'000}, {"availableSeats", 11}, {"totalSeats", 14}}}));
    // The catalog lists the grades and each date's prices and start.
    auto listed = call(client, "GET", "/concerts").json().at("concerts");
    auto it = std::find_if(listed.begin(), listed.end(), [&](const json& c) { return c.at("concertId") == concert; });
    REQUIRE(it != listed.end());
    CHECK(it->at("grades") == json::array({{{"grade", "VIP"}, {"price", 100'000}}, {{"grade", "R"}, {"price", 60'000}}}));
    CHECK(it->at("schedules").at(0).at("startsAt") == "2030-12-24T10:00:00.000Z");
    CHECK(it->at("schedules").at(1).at("prices") == json{{"VIP", 120'000}, {"R", 60'000}});
    CHECK(it->at("schedules").at(1).at("price") == 60'000);  // the lowest: "from"
    // Analytics per grade.
    auto analytics = call(client, "GET", "/analytics/concerts/" + concert, {}, admin_header(server.admin_key())).json();
    CHECK(analytics.at("dates").at(0).at("grades").at(0) ==
          json{{"grade", "VIP"}, {"seatsSold", 0}, {"seatsHeld", 2}, {"seatsAvailable", 4}, {"seatsBlocked", 0}, {"revenue", 0}});

    // Read back in its creation shape; posted again, the same venue.
    auto admin = call(client, "GET", "/admin/concerts/" + concert, {}, admin_header(server.admin_key())).json();
    INFO(admin.dump());
    CHECK(admin.at("grades") == venue_body().at("grades"));
    CHECK(admin.at("layout") == venue_body().at("layout"));
    CHECK(admin.at("schedules").at(0) == json{{"date", concert_date}, {"startsAt", "2030-12-24T10:00:00.000Z"}, {"status", "ON_SALE"}});
    CHECK(admin.at("schedules").at(1) == json{{"date", other_date}, {"prices", {{"VIP", 120'000}}}, {"status", "ON_SALE"}});
    const std::string copy = create_concert(client, server, admin);
    auto copied = call(client, "GET", "/admin/concerts/" + copy, {}, admin_header(server.admin_key())).json();
    copied["concertId"] = concert;
    CHECK(copied == admin);

    // A date added has the whole layout at the grades' prices.
    auto added = call(client, "POST", "/admin/concerts/" + concert + "/dates",
                      json{{"schedules", {{{"date", "2030-12-28"}}}}}.dump(), admin_header(server.admin_key()));
    REQUIRE_STATUS(added, 201);
    CHECK_ERROR(call(client, "POST", "/admin/concerts/" + concert + "/dates",
                     json{{"schedules", {{{"date", "2030-12-29"}, {"seats", 5}, {"price", 1}}}}}.dump(), admin_header(server.admin_key())),
                400, "INVALID_REQUEST");
    const json added_map = seat_map(client, fan, concert, "2030-12-28");
    CHECK(added_map.at("seats").size() == 20);
    CHECK(added_map.at("seats").at(19).at("price") == 60'000);

    // The export places every seat as the seat map does.
    const std::string db = server.data_dir() + "-export/venue.db";
    std::filesystem::remove_all(server.data_dir() + "-export");
    REQUIRE(run_export("--data-dir " + server.data_dir() + " --format sqlite --out " + db).status == 0);
    const json seat = query(db, "SELECT section, row, seat_in_row, grade, price FROM seats WHERE concert_id = '" + concert +
                                    "' AND date = '" + std::string(other_date) + "' AND seat = 6").at(0);
    CHECK(seat == json{{"section", "A"}, {"row", 2}, {"seat_in_row", 3}, {"grade", "VIP"}, {"price", 120'000}});
}

TEST_CASE("a venue that cannot be is refused with 400 and a reason", "[venue]") {
    server_process server;
    http_client client(server.host(), server.port());
    auto refused = [&](const std::function<void(json&)>& change) {
        json body = venue_body();
        change(body);
        INFO(body.dump());
        auto reply = call(client, "POST", "/admin/concerts", body.dump(), admin_header(server.admin_key()));
        CHECK_STATUS(reply, 400);
        return reply.json().at("error").at("message").get<std::string>();
    };
    CHECK_THAT(refused([](json& b) { b.erase("grades"); }), Catch::Contains("come together"));
    CHECK_THAT(refused([](json& b) { b["grades"][1]["grade"] = "VIP"; }), Catch::Contains("distinct"));
    CHECK_THAT(refused([](json& b) { b["grades"][0]["grade"] = "V I P"; }), Catch::Contains("letters, digits"));
    CHECK_THAT(refused([](json& b) { b["layout"]["sections"][0]["grade"] = "S"; }), Catch::Contains("must name one of the grades"));
    CHECK_THAT(refused([](json& b) { b["layout"]["sections"][1]["section"] = "A"; }), Catch::Contains("distinct"));
    CHECK_THAT(refused([](json& b) { b["layout"]["sections"][2]["seatsPerRow"] = 1001; }), Catch::Contains("rows"));
    CHECK_THAT(refused([](json& b) { b["layout"]["sections"][0]["standing"] = 2000; }), Catch::Contains("no rows"));
    CHECK_THAT(refused([](json& b) { b["layout"]["sections"][0] = {{"section", "F"}, {"grade", "VIP"}, {"standing", 0}}; }),
               Catch::Contains("standing must be its capacity"));
    CHECK_THAT(refused([](json& b) { b["layout"]["sections"][0] = {{"section", "F"}, {"grade", "VIP"}, {"standing", 99'990}}; }),
               Catch::Contains("at most 100000 seats and standing places"));
    CHECK_THAT(refused([](json& b) { b["schedules"][0]["seats"] = 20; }), Catch::Contains("no seats"));
    CHECK_THAT(refused([](json& b) { b["schedules"][1]["prices"] = {{"S", 1}}; }), Catch::Contains("none of the grades"));
    CHECK_THAT(refused([](json& b) { b["layout"]["sections"][1]["rows"] = json::array(); }), Catch::Contains("rows"));
}

TEST_CASE("a price changed by PATCH: holds placed before keep their price, the revenue by grade counts each at its own", "[venue][organizer]") {
    server_process server;
    http_client client(server.host(), server.port());
    const std::string concert = create_concert(client, server, venue_body());
    const guest early = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, early.user, 1'000'000), 200);
    auto before = hold(client, early, concert, 1);  // VIP at 100,000
    REQUIRE_STATUS(before, 201);
    CHECK(before.json().at("price") == 100'000);

    auto patched = call(client, "PATCH", "/admin/concerts/" + concert,
                        json{{"grades", {{{"grade", "VIP"}, {"price", 130'000}}, {{"grade", "R"}, {"price", 60'000}}}}}.dump(),
                        admin_header(server.admin_key()));
    REQUIRE_STATUS(patched, 200);
    CHECK(patched.json().at("grades").at(0).at("price") == 130'000);
    // The second date's own VIP price stays; the seat map shows the new one at once.
    CHECK(seat_map(client, early, concert, concert_date).at("seats").at(1).at("price") == 130'000);
    CHECK(seat_map(client, early, concert, other_date).at("seats").at(1).at("price") == 120'000);
    auto after = hold(client, early, concert, 2);
    REQUIRE_STATUS(after, 201);
    CHECK(after.json().at("price") == 130'000);
    // Both paid: VIP's revenue is what each paid.
    REQUIRE_STATUS(pay(client, early.user, before.json().at("reservationId")), 201);
    REQUIRE_STATUS(pay(client, early.user, after.json().at("reservationId")), 201);
    auto analytics = call(client, "GET", "/analytics/concerts/" + concert, {}, admin_header(server.admin_key())).json();
    CHECK(analytics.at("dates").at(0).at("grades").at(0).at("revenue") == 230'000);
    CHECK(analytics.at("dates").at(0).at("revenue") == 230'000);
    // Renaming or dropping a grade is not a price change.
    CHECK_ERROR(call(client, "PATCH", "/admin/concerts/" + concert,
                     json{{"grades", {{{"grade", "VVIP"}, {"price", 1}}, {{"grade", "R"}, {"price", 1}}}}}.dump(), admin_header(server.admin_key())),
                400, "INVALID_REQUEST");
    auto changes = call(client, "GET", "/admin/concerts/" + concert + "/changes", {}, admin_header(server.admin_key())).json();
    CHECK(changes.at("changes").at(0).at("fields") == json{{"grades", {{{"grade", "VIP"}, {"price", 130'000}}, {{"grade", "R"}, {"price", 60'000}}}}});
}

}  // namespace encore::test
