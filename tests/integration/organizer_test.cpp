// The organizer's controls over HTTP (API.md "Organizer operations"): PATCH with If-Match, dates
// added, seats blocked and released, pause and resume as fans see them, and the change log, kept
// across a restart.

#include <catch2/catch.hpp>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

struct organizer {
    server_process& server;
    http_client& client;
    std::string concert;

    std::string path(std::string_view tail = "") const { return "/admin/concerts/" + concert + std::string(tail); }
    http_reply send(std::string_view method, std::string_view tail, const json& body, const header_list& extra = {}) const {
        return call(client, method, path(tail), body.is_null() ? std::string() : body.dump(),
                    admin_header(server.admin_key()) + extra);
    }
    json read() const {
        auto reply = call(client, "GET", path(), {}, admin_header(server.admin_key()));
        expect_status(reply, 200, "GET " + path());
        return reply.json();
    }
    std::string etag() const { return call(client, "GET", path(), {}, admin_header(server.admin_key())).header("ETag").value_or(""); }
};

}  // namespace

TEST_CASE("PATCH changes a concert's settings, with If-Match against a change in between", "[organizer]") {
    server_process server;
    http_client client(server.host(), server.port());
    organizer o{server, client, create_concert(client, server, concert_body(10, 50'000, 1))};

    const std::string before = o.etag();
    auto patched = o.send("PATCH", "", {{"title", "IU: the encore"}, {"queue", {{"activeCapacity", 3}}}, {"maxTicketsPerUser", 2}},
                          {{"If-Match", before}});
    REQUIRE_STATUS(patched, 200);
    const json body = patched.json();
    INFO(body.dump());
    CHECK(body.at("title") == "IU: the encore");
    CHECK(body.at("queue").at("activeCapacity") == 3);
    CHECK(body.at("queue").at("activeTtlSeconds") == 600);  // what was not named stays
    CHECK(body.at("maxTicketsPerUser") == 2);
    CHECK(body.at("revision") == 1);
    // The answer is the concert as GET shows it, with its new tag.
    CHECK(body == o.read());
    CHECK(patched.header("ETag") == o.etag());
    CHECK(o.etag() != before);
    // The public catalog shows the new title.
    auto listed = call(client, "GET", "/concerts").json().at("concerts");
    CHECK(std::any_of(listed.begin(), listed.end(), [&](const json& c) { return c.at("title") == "IU: the encore"; }));

    // The old tag no longer matches: 412, and nothing changes.
    auto stale = o.send("PATCH", "", {{"title", "late"}}, {{"If-Match", before}});
    REQUIRE_STATUS(stale, 412);
    CHECK(error_code_of(stale) == "PRECONDITION_FAILED");
    CHECK(o.read().at("title") == "IU: the encore");
    // refundsUntil set, then taken away with null.
    REQUIRE_STATUS(o.send("PATCH", "", {{"refundsUntil", "2030-12-20T00:00:00.000Z"}}), 200);
    CHECK(o.read().at("refundsUntil") == "2030-12-20T00:00:00.000Z");
    REQUIRE_STATUS(o.send("PATCH", "", {{"refundsUntil", nullptr}}), 200);
    CHECK_FALSE(o.read().contains("refundsUntil"));

    // Bad bodies are 400 with a reason, and change nothing.
    const std::uint64_t revision = o.read().at("revision");
    for (const json& bad : {json::object(), json{{"titel", "typo"}}, json{{"schedules", json::array()}},
                            json{{"queue", {{"claimSeconds", 601}}}}, json{{"queue", {{"activeCapacity", 0}}}},
                            json{{"holdTtlSeconds", "300"}}, json{{"grades", json::array()}}, json{{"title", ""}}}) {
        INFO(bad.dump());
        auto reply = o.send("PATCH", "", bad);
        CHECK_STATUS(reply, 400);
        CHECK(error_code_of(reply) == "INVALID_REQUEST");
    }
    CHECK(o.read().at("revision") == revision);
    CHECK_STATUS(call(client, "PATCH", o.path(), json{{"title", "x"}}.dump()), 401);
    auto missing = call(client, "PATCH", "/admin/concerts/c-00000000000000ff", json{{"title", "x"}}.dump(),
                        admin_header(server.admin_key()));
    CHECK_STATUS(missing, 404);
}

TEST_CASE("a paused sale: fans wait and cannot hold, and resumed they hold again", "[organizer][queue]") {
    server_process server;
    http_client client(server.host(), server.port());
    organizer o{server, client, create_concert(client, server, concert_body(10, 50'000, 1))};
    const guest first = admitted_guest(client, o.concert);

    auto paused = o.send("POST", "/pause", nullptr);
    REQUIRE_STATUS(paused, 200);
    CHECK(paused.json().at("paused") == true);
    CHECK(o.read().at("paused") == true);
    // Holds are refused, in API.md's place (after the queue token, before the seat).
    auto refused = hold(client, first, o.concert, 1);
    REQUIRE_STATUS(refused, 409);
    CHECK(error_code_of(refused) == "SALES_PAUSED");
    // A new fan joins and waits: the status says paused, with no estimate.
    const user_account second = new_user(client);
    auto joined = enqueue(client, second, o.concert);
    REQUIRE_STATUS(joined, 201);
    const json state = queue_state(client, second, o.concert, joined.json().at("queueToken"));
    INFO(state.dump());
    CHECK(state.at("status") == "WAITING");
    CHECK(state.at("paused") == true);
    CHECK(state.at("estimatedWaitSeconds").is_null());
    // Pausing again changes nothing.
    CHECK_STATUS(o.send("POST", "/pause", nullptr), 200);
    CHECK(o.read().at("revision") == 1);

    auto resumed = o.send("POST", "/resume", nullptr);
    REQUIRE_STATUS(resumed, 200);
    CHECK(resumed.json().at("paused") == false);
    const json after = queue_state(client, first.user, o.concert, first.queue_token);
    CHECK(after.at("paused") == false);
    CHECK(after.at("status") == "ACTIVE");
    CHECK_STATUS(hold(client, first, o.concert, 1), 201);
}

TEST_CASE("blocked seats show BLOCKED, cannot be held, and are released all or nothing", "[organizer][seats]") {
    server_process server;
    http_client client(server.host(), server.port());
    organizer o{server, client, create_concert(client, server, concert_body(10, 50'000))};
    const guest fan = admitted_guest(client, o.concert);
    const std::string blocks = "/dates/" + std::string(concert_date) + "/blocks";

    auto blocked = o.send("POST", blocks, {{"seats", {3, 1}}, {"reason", "camera"}});
    REQUIRE_STATUS(blocked, 200);
    CHECK(blocked.json() == json{{"blocked", {1, 3}}});
    CHECK(seat_status(client, fan, o.concert, 1) == "BLOCKED");
    CHECK(seat_status(client, fan, o.concert, 2) == "AVAILABLE");
    auto dates = call(client, "GET", "/concerts/" + o.concert + "/dates", {}, fan.headers()).json().at("dates");
    CHECK(dates.at(0).at("availableSeats") == 8);
    auto taken = hold(client, fan, o.concert, 3);
    REQUIRE_STATUS(taken, 409);
    CHECK(error_code_of(taken) == "SEAT_TAKEN");
    // A held seat is not blocked, and neither is any other of the request.
    REQUIRE_STATUS(hold(client, fan, o.concert, 5), 201);
    auto held = o.send("POST", blocks, {{"seats", {4, 5}}});
    REQUIRE_STATUS(held, 409);
    CHECK(error_code_of(held) == "SEAT_TAKEN");
    CHECK(seat_status(client, fan, o.concert, 4) == "AVAILABLE");
    // Releasing a seat that is not blocked releases none.
    auto not_blocked = o.send("DELETE", blocks, {{"seats", {1, 2}}});
    REQUIRE_STATUS(not_blocked, 409);
    CHECK(error_code_of(not_blocked) == "NOT_BLOCKED");
    CHECK(seat_status(client, fan, o.concert, 1) == "BLOCKED");
    auto released = o.send("DELETE", blocks, {{"seats", {1}}});
    REQUIRE_STATUS(released, 200);
    CHECK(released.json() == json{{"released", {1}}});
    CHECK(seat_status(client, fan, o.concert, 1) == "AVAILABLE");
    // Bad requests: a seat outside the date, an unknown date, a bad body.
    CHECK(error_code_of(o.send("POST", blocks, {{"seats", {11}}})) == "INVALID_SEAT");
    CHECK(error_code_of(o.send("POST", "/dates/2031-01-01/blocks", {{"seats", {1}}})) == "DATE_NOT_FOUND");
    for (const json& bad : {json::object(), json{{"seats", json::array()}}, json{{"seats", {1, 1}}}, json{{"seats", {0}}},
                            json{{"seats", {"1"}}}, json{{"seats", {1}}, {"why", "x"}}}) {
        INFO(bad.dump());
        CHECK_STATUS(o.send("POST", blocks, bad), 400);
    }
    auto analytics = call(client, "GET", "/analytics/concerts/" + o.concert, {}, admin_header(server.admin_key())).json();
    CHECK(analytics.at("dates").at(0).at("seatsBlocked") == 1);
    CHECK(analytics.at("dates").at(0).at("seatsAvailable") == 8);
}

TEST_CASE("dates added go on sale, and the change log lists every change, also after a restart", "[organizer][catalog]") {
    server_process server;
    http_client client(server.host(), server.port());
    organizer o{server, client, create_concert(client, server, concert_body(10, 50'000))};

    auto added = o.send("POST", "/dates", {{"schedules", {{{"date", "2030-12-23"}, {"seats", 4}, {"price", 70'000}, {"seatsPerRow", 2}}}}});
    REQUIRE_STATUS(added, 201);
    INFO(added.body);
    const json added_body = added.json();
    const json& schedules = added_body.at("schedules");
    REQUIRE(schedules.size() == 2);
    CHECK(schedules.at(1) == json{{"date", "2030-12-23"}, {"seats", 4}, {"price", 70'000}, {"seatsPerRow", 2}, {"status", "ON_SALE"}});
    auto again = o.send("POST", "/dates", {{"schedules", {{{"date", "2030-12-23"}, {"seats", 4}, {"price", 70'000}}}}});
    REQUIRE_STATUS(again, 409);
    CHECK(error_code_of(again) == "DATE_EXISTS");
    CHECK_STATUS(o.send("POST", "/dates", {{"schedules", {{{"date", "2030-12-26"}, {"seats", 500'000}, {"price", 1}}}}}), 400);
    // A fan sees and holds the new date.
    const guest fan = admitted_guest(client, o.concert);
    auto dates = call(client, "GET", "/concerts/" + o.concert + "/dates", {}, fan.headers()).json().at("dates");
    REQUIRE(dates.size() == 2);
    CHECK(dates.at(0).at("date") == "2030-12-23");
    REQUIRE_STATUS(hold(client, fan, o.concert, 4, "2030-12-23"), 201);

    REQUIRE_STATUS(o.send("POST", "/pause", nullptr), 200);
    REQUIRE_STATUS(o.send("POST", "/resume", nullptr), 200);
    REQUIRE_STATUS(o.send("POST", "/dates/" + std::string(concert_date) + "/blocks", {{"seats", {9, 10}}, {"reason", "stage"}}), 200);
    REQUIRE_STATUS(o.send("PATCH", "", {{"holdTtlSeconds", 120}}), 200);

    auto check_log = [](const organizer& o) {
        auto first = o.send("GET", "/changes?limit=3", nullptr);
        REQUIRE_STATUS(first, 200);
        const json page = first.json();
        INFO(page.dump());
        REQUIRE(page.at("changes").size() == 3);
        CHECK(page.at("changes").at(0).at("type") == "DATES_ADDED");
        CHECK(page.at("changes").at(0).at("fields").at("schedules").at(0).at("date") == "2030-12-23");
        CHECK(page.at("changes").at(1).at("type") == "PAUSED");
        CHECK(page.at("changes").at(2).at("type") == "RESUMED");
        REQUIRE(page.contains("nextCursor"));
        auto second = o.send("GET", "/changes?limit=3&cursor=" + page.at("nextCursor").get<std::string>(), nullptr);
        REQUIRE_STATUS(second, 200);
        const json rest = second.json().at("changes");
        REQUIRE(rest.size() == 2);
        CHECK(rest.at(0) .at("type") == "SEATS_BLOCKED");
        CHECK(rest.at(0).at("fields") == json{{"date", concert_date}, {"seats", {9, 10}}, {"reason", "stage"}});
        CHECK(rest.at(1).at("type") == "UPDATED");
        CHECK(rest.at(1).at("fields") == json{{"holdTtlSeconds", 120}});
        CHECK_FALSE(second.json().contains("nextCursor"));
        for (const json& change : page.at("changes")) CHECK(instant_ms(change.at("at").get<std::string>()) > 0);
    };
    check_log(o);
    const json before = o.read();
    // Killed and started again: the read models come back from their store and the event log.
    server.kill9();
    server.restart();
    http_client fresh(server.host(), server.port());
    const organizer again_o{server, fresh, o.concert};
    check_log(again_o);
    CHECK(again_o.read() == before);
    const guest later = admitted_guest(fresh, o.concert);
    CHECK(seat_status(fresh, later, o.concert, 10) == "BLOCKED");
    CHECK_STATUS(call(fresh, "GET", again_o.path("/changes")), 401);
}

}  // namespace encore::test
