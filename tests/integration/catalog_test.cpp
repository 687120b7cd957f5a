// Catalog (API.md "Catalog"): creating concerts, listing them, and the dates and seat maps behind
// the queue-token checks, in API.md's order.

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

std::size_t concert_count(http_client& client) {
    auto reply = call(client, "GET", "/concerts");
    expect_status(reply, 200, "GET /concerts");
    return reply.json().at("concerts").size();
}

TEST_CASE("POST /admin/concerts creates concerts that GET /concerts lists", "[catalog]") {
    server_process server;
    http_client client(server.host(), server.port());

    auto empty = call(client, "GET", "/concerts");
    REQUIRE_STATUS(empty, 200);
    CHECK(empty.json().at("concerts").empty());

    json body = concert_body();
    body["title"] = "IU 2026";
    body["venue"] = "Jamsil";
    body["schedules"] = json::array({{{"date", "2030-12-25"}, {"seats", 50}, {"price", 80'000}},
                                     {{"date", "2030-12-24"}, {"seats", 100'000}, {"price", 0}}});
    auto created = call(client, "POST", "/admin/concerts", body.dump(), admin_header(server.admin_key()));
    REQUIRE_STATUS(created, 201);
    const std::string first = created.json().at("concertId");

    // queue, holdTtlSeconds and maxHoldsPerUser are optional, and so is the venue.
    json minimal = {{"title", "Minimal"}, {"schedules", json::array({{{"date", "2031-01-01"}, {"seats", 1}, {"price", 5}}})}};
    auto second = call(client, "POST", "/admin/concerts", minimal.dump(), admin_header(server.admin_key()));
    REQUIRE_STATUS(second, 201);
    CHECK(second.json().at("concertId") != first);

    auto listed = call(client, "GET", "/concerts");
    REQUIRE_STATUS(listed, 200);
    const json concerts = listed.json().at("concerts");
    INFO(concerts.dump());
    REQUIRE(concerts.size() == 2);
    const json* iu = nullptr;
    for (const json& c : concerts) {
        if (c.at("concertId") == first) iu = &c;
    }
    REQUIRE(iu != nullptr);
    CHECK(iu->at("title") == "IU 2026");
    CHECK(iu->at("venue") == "Jamsil");
    std::vector<std::string> dates = iu->at("dates").get<std::vector<std::string>>();
    std::sort(dates.begin(), dates.end());
    CHECK(dates == std::vector<std::string>{"2030-12-24", "2030-12-25"});

    // The dates a guest sees: both, with their sizes.
    const auto g = admitted_guest(client, first);
    auto seen = call(client, "GET", "/concerts/" + first + "/dates", {}, g.headers());
    REQUIRE_STATUS(seen, 200);
    CHECK(seen.json().at("concertId") == first);
    std::map<std::string, json> by_date;
    const json seen_dates = seen.json().at("dates");
    for (const json& d : seen_dates) by_date[d.at("date")] = d;
    REQUIRE(by_date.size() == 2);
    CHECK(by_date["2030-12-24"].at("totalSeats") == 100'000);
    CHECK(by_date["2030-12-24"].at("availableSeats") == 100'000);
    CHECK(by_date["2030-12-25"].at("totalSeats") == 50);
    CHECK(by_date["2030-12-25"].at("availableSeats") == 50);

    // The largest date: 100000 seats, numbered 1..100000 in order.
    auto big = call(client, "GET", seats_path(first, "2030-12-24"), {}, g.headers());
    REQUIRE_STATUS(big, 200);
    const json big_seats = big.json().at("seats");
    REQUIRE(big_seats.size() == 100'000);
    bool ascending = true;
    for (std::size_t i = 0; i < big_seats.size(); ++i) ascending = ascending && big_seats[i].at("number") == i + 1;
    CHECK(ascending);
    CHECK(big_seats.back().at("price") == 0);

    // HEAD answers like GET without the body.
    auto head = call(client, "HEAD", "/concerts");
    CHECK_STATUS(head, 200);
    CHECK(head.body.empty());

    // The default hold: 300 s.
    const std::string other = second.json().at("concertId");
    const auto h = admitted_guest(client, other);
    auto held = hold(client, h, other, 1, "2031-01-01");
    REQUIRE_STATUS(held, 201);
    CHECK(instant_ms(held.json().at("expiresAt").get<std::string>()) -
              instant_ms(held.json().at("heldAt").get<std::string>()) ==
          300'000);
    CHECK(held.json().at("price") == 5);
}

TEST_CASE("GET /admin/concerts/{id}: the concert in its creation shape, defaults filled in, that posted again makes the same concert",
          "[catalog][admin]") {
    server_process server;
    http_client client(server.host(), server.port());
    json minimal = {{"title", "Minimal"},
                    {"schedules", json::array({{{"date", "2031-01-02"}, {"seats", 60}, {"price", 5'000}},
                                               {{"date", "2031-01-01"}, {"seats", 10}, {"price", 7'000}, {"seatsPerRow", 5}}})}};
    const std::string id = create_concert(client, server, minimal);
    const std::string path = "/admin/concerts/" + id;

    auto read = call(client, "GET", path, {}, admin_header(server.admin_key()));
    REQUIRE_STATUS(read, 200);
    const json c = read.json();
    INFO(c.dump());
    CHECK(c.at("concertId") == id);
    CHECK(c.at("title") == "Minimal");
    CHECK(c.at("venue") == "");
    // Every default of API.md filled in: the queue, the hold TTL and limits, seats per row.
    CHECK(c.at("queue") == json{{"activeCapacity", 100}, {"activeTtlSeconds", 600}, {"claimSeconds", 600}});
    CHECK(c.at("holdTtlSeconds") == 300);
    CHECK(c.at("maxHoldsPerUser") == 4);
    CHECK(c.at("maxTicketsPerUser") == 8);
    CHECK_FALSE(c.contains("onsaleAt"));
    CHECK_FALSE(c.contains("refundsUntil"));
    CHECK(c.at("paused") == false);
    // The schedules in creation order, each with its seats per row and its status.
    CHECK(c.at("schedules") == json::array({{{"date", "2031-01-02"}, {"seats", 60}, {"price", 5'000}, {"seatsPerRow", 25}, {"status", "ON_SALE"}},
                                            {{"date", "2031-01-01"}, {"seats", 10}, {"price", 7'000}, {"seatsPerRow", 5}, {"status", "ON_SALE"}}}));

    // An ETag: a matching If-None-Match is 304 with no body; the same body gives the same tag.
    const auto etag = read.header("ETag");
    REQUIRE(etag);
    CHECK(etag->front() == '"');
    auto unchanged = call(client, "GET", path, {}, admin_header(server.admin_key()) + header_list{{"If-None-Match", *etag}});
    REQUIRE_STATUS(unchanged, 304);
    CHECK(unchanged.body.empty());
    CHECK(call(client, "GET", path, {}, admin_header(server.admin_key())).header("ETag") == etag);

    // Posted again as it is, the body makes the same concert under another id (and another tag).
    const std::string copy = create_concert(client, server, c);
    CHECK(copy != id);
    auto copied = call(client, "GET", "/admin/concerts/" + copy, {}, admin_header(server.admin_key()));
    REQUIRE_STATUS(copied, 200);
    json same = copied.json();
    CHECK(same.at("concertId") == copy);
    same["concertId"] = id;
    CHECK(same == c);
    CHECK(copied.header("ETag") != etag);

    // Every field set: each read back as it was given.
    json full = concert_body();
    full["venue"] = "Jamsil";
    full["queue"] = {{"activeCapacity", 7}, {"activeTtlSeconds", 120}, {"claimSeconds", 30}};
    full["holdTtlSeconds"] = 90;
    full["maxHoldsPerUser"] = 2;
    full["maxTicketsPerUser"] = 3;
    full["onsaleAt"] = "2030-06-01T11:00:00.000Z";
    full["refundsUntil"] = "2030-12-20T00:00:00.000Z";
    auto full_read = call(client, "GET", "/admin/concerts/" + create_concert(client, server, full), {}, admin_header(server.admin_key()));
    REQUIRE_STATUS(full_read, 200);
    const json f = full_read.json();
    INFO(f.dump());
    for (const char* field : {"venue", "queue", "holdTtlSeconds", "maxHoldsPerUser", "maxTicketsPerUser", "onsaleAt", "refundsUntil"})
        CHECK(f.at(field) == full.at(field));

    // The admin key, and a concert that exists.
    CHECK_STATUS(call(client, "GET", path), 401);
    CHECK_STATUS(call(client, "GET", path, {}, admin_header("not-the-key")), 401);
    auto missing = call(client, "GET", "/admin/concerts/c-00000000000000ff", {}, admin_header(server.admin_key()));
    REQUIRE_STATUS(missing, 404);
    CHECK(error_code_of(missing) == "CONCERT_NOT_FOUND");
    CHECK(error_code_of(call(client, "GET", "/admin/concerts/nonsense", {}, admin_header(server.admin_key()))) == "CONCERT_NOT_FOUND");
}

TEST_CASE("POST /admin/concerts needs the admin key and refuses bad catalogs with 400", "[catalog]") {
    server_process server;
    http_client client(server.host(), server.port());
    const std::string good = concert_body().dump();

    CHECK_ERROR(call(client, "POST", "/admin/concerts", good), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "POST", "/admin/concerts", good, admin_header("wrong-admin-key")), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "POST", "/admin/concerts", good, admin_header(server.admin_key() + "x")), 401,
                "UNAUTHORIZED");
    CHECK_ERROR(call(client, "POST", "/admin/concerts", good, admin_header(server.admin_key().substr(1))), 401,
                "UNAUTHORIZED");
    CHECK_ERROR(call(client, "POST", "/admin/concerts", good, admin_header("")), 401, "UNAUTHORIZED");
    // A user token is no admin key.
    const auto kim = new_user(client);
    CHECK_ERROR(call(client, "POST", "/admin/concerts", good, bearer(kim.token)), 401, "UNAUTHORIZED");
    // The key is checked before the body: a bad body without the key is still 401.
    CHECK_ERROR(call(client, "POST", "/admin/concerts", "{", admin_header("wrong-admin-key")), 401, "UNAUTHORIZED");

    auto with = [](const std::function<void(json&)>& change) {
        json body = concert_body();
        change(body);
        return body.dump();
    };
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"missing title", with([](json& b) { b.erase("title"); })},
        {"empty title", with([](json& b) { b["title"] = ""; })},
        {"title not a string", with([](json& b) { b["title"] = 7; })},
        {"title of 201 bytes", with([](json& b) { b["title"] = std::string(201, 't'); })},
        {"venue not a string", with([](json& b) { b["venue"] = json::array(); })},
        {"seats 0", with([](json& b) { b["schedules"][0]["seats"] = 0; })},
        {"seats 100001", with([](json& b) { b["schedules"][0]["seats"] = 100'001; })},
        {"500001 seats over all dates", with([](json& b) {
             b["schedules"] = json::array();
             for (int day = 20; day <= 24; ++day)
                 b["schedules"].push_back({{"date", "2030-12-" + std::to_string(day)}, {"seats", 100'000}, {"price", 1}});
             b["schedules"].push_back({{"date", "2030-12-25"}, {"seats", 1}, {"price", 1}});
         })},
        {"seats negative", with([](json& b) { b["schedules"][0]["seats"] = -5; })},
        {"seats a string", with([](json& b) { b["schedules"][0]["seats"] = "50"; })},
        {"seats a fraction", with([](json& b) { b["schedules"][0]["seats"] = 1.5; })},
        {"seats missing", with([](json& b) { b["schedules"][0].erase("seats"); })},
        {"price missing", with([](json& b) { b["schedules"][0].erase("price"); })},
        {"price negative", with([](json& b) { b["schedules"][0]["price"] = -1; })},
        {"price a fraction", with([](json& b) { b["schedules"][0]["price"] = 0.5; })},
        {"price above 1000000000", with([](json& b) { b["schedules"][0]["price"] = 1'000'000'001; })},
        {"date missing", with([](json& b) { b["schedules"][0].erase("date"); })},
        {"date 30 February", with([](json& b) { b["schedules"][0]["date"] = "2030-02-30"; })},
        {"date month 13", with([](json& b) { b["schedules"][0]["date"] = "2030-13-01"; })},
        {"date with slashes", with([](json& b) { b["schedules"][0]["date"] = "2030/12/24"; })},
        {"date without dashes", with([](json& b) { b["schedules"][0]["date"] = "20301224"; })},
        {"date with a time", with([](json& b) { b["schedules"][0]["date"] = "2030-12-24T19:00:00Z"; })},
        {"date a number", with([](json& b) { b["schedules"][0]["date"] = 20301224; })},
        {"duplicate dates", with([](json& b) { b["schedules"].push_back(b["schedules"][0]); })},
        {"duplicate dates, other prices",
         with([](json& b) { b["schedules"].push_back({{"date", concert_date}, {"seats", 3}, {"price", 1}}); })},
        {"no schedules", with([](json& b) { b.erase("schedules"); })},
        {"empty schedules", with([](json& b) { b["schedules"] = json::array(); })},
        {"schedules an object", with([](json& b) { b["schedules"] = b["schedules"][0]; })},
        {"a schedule not an object", with([](json& b) { b["schedules"] = json::array({"2030-12-24"}); })},
        {"queue not an object", with([](json& b) { b["queue"] = 100; })},
        {"activeCapacity 0", with([](json& b) { b["queue"]["activeCapacity"] = 0; })},
        {"activeCapacity a string", with([](json& b) { b["queue"]["activeCapacity"] = "100"; })},
        {"activeTtlSeconds 0", with([](json& b) { b["queue"]["activeTtlSeconds"] = 0; })},
        {"holdTtlSeconds 0", with([](json& b) { b["holdTtlSeconds"] = 0; })},
        {"holdTtlSeconds a string", with([](json& b) { b["holdTtlSeconds"] = "300"; })},
        {"holdTtlSeconds a fraction", with([](json& b) { b["holdTtlSeconds"] = 1.5; })},
        {"maxHoldsPerUser 0", with([](json& b) { b["maxHoldsPerUser"] = 0; })},
        {"maxHoldsPerUser negative", with([](json& b) { b["maxHoldsPerUser"] = -1; })},
        {"maxHoldsPerUser huge", with([](json& b) { b["maxHoldsPerUser"] = 18446744073709551615ull; })},
        {"claimSeconds 0", with([](json& b) { b["queue"]["claimSeconds"] = 0; })},
        {"claimSeconds past activeTtlSeconds", with([](json& b) { b["queue"]["claimSeconds"] = 601; })},
        {"maxTicketsPerUser 0", with([](json& b) { b["maxTicketsPerUser"] = 0; })},
        {"maxTicketsPerUser 101", with([](json& b) { b["maxTicketsPerUser"] = 101; })},
        {"refundsUntil a date", with([](json& b) { b["refundsUntil"] = "2030-12-24"; })},
        {"refundsUntil with an offset", with([](json& b) { b["refundsUntil"] = "2030-12-24T19:00:00+09:00"; })},
        {"refundsUntil a number", with([](json& b) { b["refundsUntil"] = 1; })},
        {"seatsPerRow 0", with([](json& b) { b["schedules"][0]["seatsPerRow"] = 0; })},
        {"seatsPerRow 1001", with([](json& b) { b["schedules"][0]["seatsPerRow"] = 1001; })},
        {"body an array", "[]"},
        {"body not JSON", "{\"title\": "},
        {"empty body", ""},
    };
    for (const auto& [why, body] : bad) {
        INFO(why << ": " << body.substr(0, 300));
        CHECK_ERROR(call(client, "POST", "/admin/concerts", body, admin_header(server.admin_key())), 400,
                    "INVALID_REQUEST");
    }
    // Nothing was created by any of them.
    CHECK(concert_count(client) == 0);
    CHECK_STATUS(call(client, "POST", "/admin/concerts", good, admin_header(server.admin_key())), 201);
    CHECK(concert_count(client) == 1);
}

TEST_CASE("a catalog's later options: seats per row, ticket caps and refund deadline", "[catalog][tickets]") {
    server_process server;
    http_client client(server.host(), server.port());
    json body = concert_body(12, 500);
    body["schedules"][0]["seatsPerRow"] = 5;
    body["maxTicketsPerUser"] = 2;
    body["refundsUntil"] = "2030-12-20T18:00:00.000Z";
    const auto concert = create_concert(client, server, body);
    const auto listed = call(client, "GET", "/concerts").json().at("concerts").at(0);
    CHECK(listed.at("maxTicketsPerUser") == 2);
    CHECK(listed.at("refundsUntil") == "2030-12-20T18:00:00.000Z");
    CHECK(listed.at("schedules").at(0).at("seatsPerRow") == 5);
    CHECK(listed.at("schedules").at(0).at("price") == 500);

    const auto g = admitted_guest(client, concert);
    auto seats = call(client, "GET", seats_path(concert), {}, g.headers()).json().at("seats");
    REQUIRE(seats.size() == 12);
    CHECK(seats.at(0).at("row") == 1);
    CHECK(seats.at(4).at("row") == 1);
    CHECK(seats.at(5).at("row") == 2);
    CHECK(seats.at(11).at("row") == 3);

    // Two seats at most, held or bought; a third is 409 TICKET_LIMIT and changes nothing.
    REQUIRE_STATUS(hold(client, g, concert, 1), 201);
    REQUIRE_STATUS(hold(client, g, concert, 2), 201);
    CHECK_ERROR(hold(client, g, concert, 3), 409, "TICKET_LIMIT");
    CHECK(seat_status(client, g, concert, 3) == "AVAILABLE");

    // Without the field a concert caps at 8 tickets (API.md's default) and 25 seats per row.
    const auto plain = create_concert(client, server, concert_body(30, 1, 100, 600, 300, 100));
    const auto p = admitted_guest(client, plain);
    for (std::uint32_t seat = 1; seat <= 8; ++seat) REQUIRE_STATUS(hold(client, p, plain, seat), 201);
    CHECK_ERROR(hold(client, p, plain, 9), 409, "TICKET_LIMIT");
    auto plain_seats = call(client, "GET", seats_path(plain), {}, p.headers()).json().at("seats");
    CHECK(plain_seats.at(24).at("row") == 1);
    CHECK(plain_seats.at(25).at("row") == 2);
}

TEST_CASE("dates and seats need a user token and an ACTIVE queue token, checked in API.md's order", "[catalog][queue]") {
    server_process server;
    http_client client(server.host(), server.port());
    // Capacity 2: the first two users are admitted, the third waits.
    const auto concert = create_concert(client, server, concert_body(50, 1'000, 2));
    const auto other_concert = create_concert(client, server, concert_body(50, 1'000, 100));
    const auto kim = admitted_guest(client, concert);
    const auto lee = admitted_guest(client, concert);
    const auto park = new_user(client);
    auto waiting = enqueue(client, park, concert);
    REQUIRE_STATUS(waiting, 201);
    REQUIRE(waiting.json().at("status") == "WAITING");
    const std::string park_token = waiting.json().at("queueToken");
    const auto kim_elsewhere = enqueue(client, kim.user, other_concert).json().at("queueToken").get<std::string>();

    const std::string dates = "/concerts/" + concert + "/dates";
    const std::string seats = seats_path(concert);
    for (const std::string& target : {dates, seats}) {
        INFO(target);
        CHECK_STATUS(call(client, "GET", target, {}, kim.headers()), 200);
        // 401 comes first, whatever the queue token.
        CHECK_ERROR(call(client, "GET", target), 401, "UNAUTHORIZED");
        CHECK_ERROR(call(client, "GET", target, {}, {{"X-Queue-Token", kim.queue_token}}), 401, "UNAUTHORIZED");
        CHECK_ERROR(call(client, "GET", target, {}, bearer(kim.user.token + "x") + header_list{{"X-Queue-Token", kim.queue_token}}),
                    401, "UNAUTHORIZED");
        // 403 QUEUE_TOKEN_INVALID: missing, forged, another user's, another concert's, a user token.
        CHECK_ERROR(call(client, "GET", target, {}, bearer(kim.user.token)), 403, "QUEUE_TOKEN_INVALID");
        std::string forged = kim.queue_token;
        forged[forged.size() / 2] = forged[forged.size() / 2] == 'a' ? 'b' : 'a';
        CHECK_ERROR(call(client, "GET", target, {}, bearer(kim.user.token) + header_list{{"X-Queue-Token", forged}}), 403,
                    "QUEUE_TOKEN_INVALID");
        CHECK_ERROR(call(client, "GET", target, {}, bearer(kim.user.token) + header_list{{"X-Queue-Token", lee.queue_token}}),
                    403, "QUEUE_TOKEN_INVALID");
        CHECK_ERROR(call(client, "GET", target, {}, bearer(kim.user.token) + header_list{{"X-Queue-Token", kim_elsewhere}}),
                    403, "QUEUE_TOKEN_INVALID");
        CHECK_ERROR(call(client, "GET", target, {}, bearer(kim.user.token) + header_list{{"X-Queue-Token", kim.user.token}}),
                    403, "QUEUE_TOKEN_INVALID");
        // A forged token of a waiting user is still 403, not 429.
        CHECK_ERROR(call(client, "GET", target, {}, bearer(park.token) + header_list{{"X-Queue-Token", forged}}), 403,
                    "QUEUE_TOKEN_INVALID");
        // 429 NOT_YOUR_TURN with Retry-After in seconds.
        auto not_yet = call(client, "GET", target, {}, bearer(park.token) + header_list{{"X-Queue-Token", park_token}});
        CHECK_ERROR(not_yet, 429, "NOT_YOUR_TURN");
        const auto retry = not_yet.header("Retry-After");
        REQUIRE(retry.has_value());
        CHECK(std::stoi(*retry) >= 1);
    }
    // Another concert's dates with this concert's token (and the reverse).
    CHECK_ERROR(call(client, "GET", "/concerts/" + other_concert + "/dates", {}, kim.headers()), 403, "QUEUE_TOKEN_INVALID");

    // 404 DATE_NOT_FOUND for a date the concert does not have, or that is no date at all.
    for (std::string date : {std::string(other_date), std::string("2030-02-30"), std::string("tomorrow"), std::string("2030-12-24x")}) {
        INFO(date);
        CHECK_ERROR(call(client, "GET", seats_path(concert, date), {}, kim.headers()), 404, "DATE_NOT_FOUND");
    }
}

TEST_CASE("the seat map lists seats ascending, filters by status, and dates drop when sold out", "[catalog]") {
    server_process server;
    http_client client(server.host(), server.port());
    json body = concert_body(20, 7'000);
    body["schedules"].push_back({{"date", other_date}, {"seats", 1}, {"price", 9'000}});
    const auto concert = create_concert(client, server, body);
    const auto g = admitted_guest(client, concert);

    auto map = call(client, "GET", seats_path(concert), {}, g.headers());
    REQUIRE_STATUS(map, 200);
    CHECK(map.json().at("concertId") == concert);
    CHECK(map.json().at("date") == concert_date);
    const json seats = map.json().at("seats");
    REQUIRE(seats.size() == 20);
    for (std::size_t i = 0; i < seats.size(); ++i) {
        CHECK(seats[i].at("number") == i + 1);
        CHECK(seats[i].at("status") == "AVAILABLE");
        CHECK(seats[i].at("price") == 7'000);
    }

    REQUIRE_STATUS(hold(client, g, concert, 3), 201);
    REQUIRE_STATUS(hold(client, g, concert, 17), 201);
    auto available = call(client, "GET", seats_path(concert) + "?status=AVAILABLE", {}, g.headers());
    REQUIRE_STATUS(available, 200);
    std::vector<int> numbers;
    const json available_seats = available.json().at("seats");
    for (const json& s : available_seats) {
        CHECK(s.at("status") == "AVAILABLE");
        numbers.push_back(s.at("number"));
    }
    CHECK(numbers.size() == 18);
    CHECK(std::is_sorted(numbers.begin(), numbers.end()));
    CHECK(std::find(numbers.begin(), numbers.end(), 3) == numbers.end());
    CHECK(std::find(numbers.begin(), numbers.end(), 17) == numbers.end());
    auto held = call(client, "GET", seats_path(concert) + "?status=HELD", {}, g.headers());
    REQUIRE_STATUS(held, 200);
    REQUIRE(held.json().at("seats").size() == 2);
    CHECK(held.json().at("seats")[0].at("number") == 3);
    CHECK(held.json().at("seats")[1].at("number") == 17);
    CHECK_ERROR(call(client, "GET", seats_path(concert) + "?status=FREE", {}, g.headers()), 400, "INVALID_REQUEST");

    // Holding the only seat of the second date removes that date from the bookable dates.
    auto dates_before = call(client, "GET", "/concerts/" + concert + "/dates", {}, g.headers());
    REQUIRE(dates_before.json().at("dates").size() == 2);
    REQUIRE_STATUS(hold(client, g, concert, 1, other_date), 201);
    auto dates_after = call(client, "GET", "/concerts/" + concert + "/dates", {}, g.headers());
    REQUIRE_STATUS(dates_after, 200);
    const json left = dates_after.json().at("dates");
    REQUIRE(left.size() == 1);
    CHECK(left[0].at("date") == concert_date);
    CHECK(left[0].at("availableSeats") == 18);
    CHECK(left[0].at("totalSeats") == 20);
}

}  // namespace
}  // namespace encore::test
