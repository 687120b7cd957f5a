// The concert timeline and the seat history (API.md "Operations and analysis") over HTTP: holds,
// cancels, expiries, payments and the waiting room counted in buckets of partition time, and a
// seat's entries, paged.

#include <catch2/catch.hpp>

#include <cstdio>
#include <ctime>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

// The timeline's buckets, checked to be consecutive multiples of `seconds`, oldest first.
json timeline_of(http_client& client, const server_process& server, const std::string& concert,
                 const std::string& query) {
    auto reply = call(client, "GET", "/analytics/concerts/" + concert + "/timeline" + query, {},
                      admin_header(server.admin_key()));
    expect_status(reply, 200, "timeline");
    return reply.json();
}

struct totals {
    std::int64_t joined = 0, admitted = 0, placed = 0, expired = 0, cancelled = 0, sold = 0, refunds = 0, revenue = 0;
};

totals add_up(const json& buckets, std::int64_t seconds) {
    totals t;
    std::int64_t previous = 0;
    for (const json& b : buckets) {
        const std::int64_t start = instant_ms(b.at("start").get<std::string>());
        CHECK(start % (seconds * 1000) == 0);
        if (previous != 0) CHECK(start == previous + seconds * 1000);
        previous = start;
        t.joined += b.at("queueJoined").get<std::int64_t>();
        t.admitted += b.at("queueAdmitted").get<std::int64_t>();
        t.placed += b.at("holdsPlaced").get<std::int64_t>();
        t.expired += b.at("holdsExpired").get<std::int64_t>();
        t.cancelled += b.at("holdsCancelled").get<std::int64_t>();
        t.sold += b.at("seatsSold").get<std::int64_t>();
        t.refunds += b.at("refunds").get<std::int64_t>();
        t.revenue += b.at("revenue").get<std::int64_t>();
        CHECK(b.contains("waitingAtEnd"));
    }
    return t;
}

// Polls the reservation until it is EXPIRED (the server's own clock expires it).
void wait_expired(http_client& client, const user_account& user, const std::string& id) {
    REQUIRE(eventually(std::chrono::seconds(60), [&] {
        return reservation(client, user, id).json().at("status") == "EXPIRED";
    }, std::chrono::milliseconds(50)));
}

}  // namespace

TEST_CASE("the timeline counts the waiting room, holds, expiries, cancels and sales by bucket", "[analytics][timeline]") {
    server_process server;
    http_client client(server.host(), server.port());
    const std::int64_t created_before = now_ms();
    // One active user at a time; holds last 10 s. The hold meant to expire comes first, so its
    // time runs while the others are made; each of those is cancelled or paid by the very next
    // request, well within its 10 s however loaded the machine.
    const auto concert = create_concert(client, server, concert_body(10, 1'000, 1, 600, 10));
    const auto g = admitted_guest(client, concert);
    const auto second = new_user(client);
    REQUIRE(enqueue(client, second, concert).json().at("status") == "WAITING");
    REQUIRE_STATUS(charge(client, g.user, 5'000), 200);

    auto expiring = hold(client, g, concert, 2);
    REQUIRE_STATUS(expiring, 201);
    auto cancelled = hold(client, g, concert, 3);
    REQUIRE_STATUS(cancelled, 201);
    REQUIRE_STATUS(cancel(client, g.user, cancelled.json().at("reservationId")), 200);
    auto paid = hold(client, g, concert, 1);
    REQUIRE_STATUS(paid, 201);
    REQUIRE_STATUS(pay(client, g.user, paid.json().at("reservationId")), 201);  // admits `second`
    wait_expired(client, g.user, expiring.json().at("reservationId"));

    const std::string path = "/analytics/concerts/" + concert + "/timeline";
    CHECK_ERROR(call(client, "GET", path), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "GET", "/analytics/concerts/c-00000000000000ff/timeline", {}, admin_header(server.admin_key())),
                404, "CONCERT_NOT_FOUND");
    for (const char* bad : {"?bucketSeconds=5", "?bucketSeconds=86410", "?bucketSeconds=15", "?bucketSeconds=abc",
                            "?bucketSeconds=", "?from=yesterday", "?to=2030-01-01",
                            "?from=2030-01-01T00:00:00Z&to=2030-01-01T00:00:00Z"}) {
        INFO(bad);
        CHECK_ERROR(call(client, "GET", path + bad, {}, admin_header(server.admin_key())), 400, "INVALID_REQUEST");
    }

    // Every bucket size adds up to what happened; the default is 60 s.
    const json by_default = timeline_of(client, server, concert, "");
    CHECK(by_default.at("bucketSeconds") == 60);
    for (const char* query : {"", "?bucketSeconds=10", "?bucketSeconds=3600", "?bucketSeconds=86400"}) {
        INFO(query);
        const json body = timeline_of(client, server, concert, query);
        const std::int64_t seconds = body.at("bucketSeconds").get<std::int64_t>();
        const json& buckets = body.at("buckets");
        REQUIRE_FALSE(buckets.empty());
        CHECK_FALSE(body.contains("nextFrom"));
        // The first bucket holds the concert's creation.
        const std::int64_t first = instant_ms(buckets.front().at("start").get<std::string>());
        CHECK(first <= created_before + 5'000);
        CHECK(first + seconds * 1000 > created_before - 5'000);
        const totals t = add_up(buckets, seconds);
        CHECK(t.joined == 2);
        CHECK(t.admitted == 2);
        CHECK(t.placed == 3);
        CHECK(t.cancelled == 1);
        CHECK(t.expired == 1);
        CHECK(t.sold == 1);
        CHECK(t.refunds == 0);
        CHECK(t.revenue == 1'000);
        CHECK(buckets.back().at("waitingAtEnd") == 0);
    }
    // Nobody leaves the waiting room but by admission: each bucket ends with joins - admissions so far.
    const json fine = timeline_of(client, server, concert, "?bucketSeconds=10").at("buckets");
    std::int64_t joined_so_far = 0, admitted_so_far = 0;
    for (const json& b : fine) {
        joined_so_far += b.at("queueJoined").get<std::int64_t>();
        admitted_so_far += b.at("queueAdmitted").get<std::int64_t>();
        CHECK(b.at("waitingAtEnd") == joined_so_far - admitted_so_far);
    }

    // A long range is answered in pages of at most 10,000 buckets, joined by nextFrom.
    const std::string from = "?bucketSeconds=10&from=" + fine.front().at("start").get<std::string>();
    const std::int64_t start_ms = instant_ms(fine.front().at("start").get<std::string>());
    const json first_page = timeline_of(client, server, concert, from + "&to=" + instant_text(start_ms + 150'000'000));
    REQUIRE(first_page.at("buckets").size() == 10'000);
    REQUIRE(first_page.contains("nextFrom"));
    CHECK(instant_ms(first_page.at("nextFrom").get<std::string>()) == start_ms + 100'000'000);
    const json second_page = timeline_of(client, server, concert,
                                         "?bucketSeconds=10&from=" + first_page.at("nextFrom").get<std::string>() +
                                             "&to=" + instant_text(start_ms + 150'000'000));
    CHECK(second_page.at("buckets").size() == 5'000);
    CHECK_FALSE(second_page.contains("nextFrom"));
    // Instants percent-encoded, as URL libraries send them (':' as %3A), name the same range.
    auto encoded = [](std::string text) {
        for (std::size_t at; (at = text.find(':')) != std::string::npos;) text.replace(at, 1, "%3A");
        return text;
    };
    const json encoded_page = timeline_of(client, server, concert,
                                          "?bucketSeconds=10&from=" + encoded(first_page.at("nextFrom").get<std::string>()) +
                                              "&to=" + encoded(instant_text(start_ms + 150'000'000)));
    CHECK(encoded_page == second_page);
    const totals paged = add_up(first_page.at("buckets"), 10);
    CHECK(paged.sold == 1);
    CHECK(paged.placed == 3);
    CHECK(add_up(second_page.at("buckets"), 10).placed == 0);
    CHECK(second_page.at("buckets").front().at("waitingAtEnd") == 0);
}

TEST_CASE("a seat's history lists its holds, cancel, expiry and sale, oldest first, paged", "[analytics][seat-history]") {
    server_process server;
    http_client client(server.host(), server.port());
    // Holds of 10 s: each hold but the one meant to expire is cancelled or paid by the very next
    // request, well within that however loaded the machine.
    const auto concert = create_concert(client, server, concert_body(10, 1'000, 100, 600, 10));
    const auto g = admitted_guest(client, concert);
    const auto other = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, other.user, 5'000), 200);

    std::vector<std::pair<std::string, std::string>> expected;  // type, reservationId
    auto first = hold(client, g, concert, 5);
    REQUIRE_STATUS(first, 201);
    const std::string first_id = first.json().at("reservationId");
    REQUIRE_STATUS(cancel(client, g.user, first_id), 200);
    auto second = hold(client, g, concert, 5);
    REQUIRE_STATUS(second, 201);
    const std::string second_id = second.json().at("reservationId");
    wait_expired(client, g.user, second_id);
    REQUIRE_STATUS(hold(client, other, concert, 6), 201);  // another seat
    auto third = hold(client, other, concert, 5);
    REQUIRE_STATUS(third, 201);
    const std::string third_id = third.json().at("reservationId");
    REQUIRE_STATUS(pay(client, other.user, third_id), 201);
    expected = {{"HELD", first_id}, {"CANCELLED", first_id}, {"HELD", second_id},
                {"EXPIRED", second_id}, {"HELD", third_id}, {"SOLD", third_id}};

    const std::string path = "/admin/concerts/" + concert + "/dates/" + std::string(concert_date) + "/seats/5/history";
    const header_list admin = admin_header(server.admin_key());
    CHECK_ERROR(call(client, "GET", path), 401, "UNAUTHORIZED");
    auto all = call(client, "GET", path, {}, admin);
    REQUIRE_STATUS(all, 200);
    const json entries = all.json().at("entries");
    INFO(all.body);
    CHECK_FALSE(all.json().contains("nextCursor"));
    REQUIRE(entries.size() == expected.size());
    std::int64_t previous = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO(i);
        CHECK(entries[i].at("type") == expected[i].first);
        CHECK(entries[i].at("reservationId") == expected[i].second);
        CHECK(entries[i].at("userId") == (i < 4 ? g.user.id : other.user.id));
        const std::int64_t at = instant_ms(entries[i].at("at").get<std::string>());
        CHECK(at >= previous);
        previous = at;
    }
    // The expiry is at (or just after) expiresAt.
    CHECK(instant_ms(entries[3].at("at").get<std::string>()) >= instant_ms(second.json().at("expiresAt").get<std::string>()));

    // Pages of 4: the first with a cursor, the second the last two without one.
    auto page1 = call(client, "GET", path + "?limit=4", {}, admin);
    REQUIRE_STATUS(page1, 200);
    REQUIRE(page1.json().at("entries").size() == 4);
    const std::string cursor = page1.json().at("nextCursor");
    auto page2 = call(client, "GET", path + "?limit=4&cursor=" + cursor, {}, admin);
    REQUIRE_STATUS(page2, 200);
    REQUIRE(page2.json().at("entries").size() == 2);
    CHECK_FALSE(page2.json().contains("nextCursor"));
    CHECK(page2.json().at("entries")[0] == entries[4]);
    CHECK(page2.json().at("entries")[1] == entries[5]);
    // Page by page, one at a time, the same list.
    json walked = json::array();
    std::string next;
    for (int i = 0; i < 10; ++i) {
        auto page = call(client, "GET", path + "?limit=1" + (next.empty() ? "" : "&cursor=" + next), {}, admin);
        REQUIRE_STATUS(page, 200);
        const json body = page.json();
        for (const json& e : body.at("entries")) walked.push_back(e);
        if (!body.contains("nextCursor")) break;
        next = body.at("nextCursor");
    }
    CHECK(walked == entries);

    for (const char* bad : {"?limit=0", "?limit=1001", "?limit=x", "?cursor=zz", "?cursor=abc"}) {
        INFO(bad);
        CHECK_ERROR(call(client, "GET", path + bad, {}, admin), 400, "INVALID_REQUEST");
    }
    const std::string base = "/admin/concerts/" + concert + "/dates/";
    CHECK_ERROR(call(client, "GET", "/admin/concerts/c-00000000000000ff/dates/" + std::string(concert_date) + "/seats/5/history", {}, admin),
                404, "CONCERT_NOT_FOUND");
    CHECK_ERROR(call(client, "GET", base + std::string(other_date) + "/seats/5/history", {}, admin), 404, "DATE_NOT_FOUND");
    CHECK_ERROR(call(client, "GET", base + "tomorrow/seats/5/history", {}, admin), 404, "DATE_NOT_FOUND");
    for (const char* seat : {"0", "11", "abc"}) {
        INFO(seat);
        CHECK_ERROR(call(client, "GET", base + std::string(concert_date) + "/seats/" + seat + "/history", {}, admin), 404,
                    "SEAT_NOT_FOUND");
    }
    auto untouched = call(client, "GET", base + std::string(concert_date) + "/seats/7/history", {}, admin);
    REQUIRE_STATUS(untouched, 200);
    CHECK(untouched.json().at("entries").empty());
}

TEST_CASE("a refund shows in the seat's history and in the timeline's refunds and revenue", "[analytics][refunds]") {
    server_process server;
    http_client client(server.host(), server.port());
    json body = concert_body(10, 1'000);
    body["refundsUntil"] = "2099-01-01T00:00:00.000Z";
    const auto concert = create_concert(client, server, body);
    const auto g = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, g.user, 5'000), 200);
    auto held = hold(client, g, concert, 2);
    REQUIRE_STATUS(held, 201);
    const std::string id = held.json().at("reservationId");
    REQUIRE_STATUS(pay(client, g.user, id), 201);
    REQUIRE_STATUS(call(client, "POST", "/reservations/" + id + "/refund", {}, bearer(g.user.token)), 200);

    const header_list admin = admin_header(server.admin_key());
    auto history = call(client, "GET", "/admin/concerts/" + concert + "/dates/" + std::string(concert_date) + "/seats/2/history", {}, admin);
    REQUIRE_STATUS(history, 200);
    const json entries = history.json().at("entries");
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].at("type") == "HELD");
    CHECK(entries[1].at("type") == "SOLD");
    CHECK(entries[2].at("type") == "REFUNDED");
    for (const json& e : entries) {
        CHECK(e.at("reservationId") == id);
        CHECK(e.at("userId") == g.user.id);
    }
    // The refund's bucket gives the revenue back: the sum is what the analytics say (0).
    const totals t = add_up(timeline_of(client, server, concert, "?bucketSeconds=10").at("buckets"), 10);
    CHECK(t.sold == 1);
    CHECK(t.refunds == 1);
    CHECK(t.revenue == 0);
    auto analytics = call(client, "GET", "/analytics/concerts/" + concert, {}, admin);
    REQUIRE_STATUS(analytics, 200);
    CHECK(analytics.json().at("dates")[0].at("revenue") == t.revenue);
}

}  // namespace encore::test
