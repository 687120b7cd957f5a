// Users and wallet (API.md "Users and wallet"): every row and error code, against the real server.

#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

// The same token with one character changed: a forgery the signature must catch.
std::string forged(std::string token, std::size_t at) {
    at %= token.size();
    token[at] = token[at] == 'A' ? 'B' : 'A';
    return token;
}

TEST_CASE("POST /users creates a user with a token, and names are optional and at most 64 characters", "[users]") {
    server_process server;
    http_client client(server.host(), server.port());

    auto created = call(client, "POST", "/users", R"({"name": "kim"})");
    REQUIRE_STATUS(created, 201);
    const json body = created.json();
    REQUIRE(body.at("userId").is_string());
    REQUIRE(body.at("token").is_string());
    CHECK_FALSE(body.at("userId").get<std::string>().empty());
    CHECK(created.header("Content-Type").value_or("").starts_with("application/json"));

    SECTION("no body and an empty object both work, and users are distinct") {
        auto a = call(client, "POST", "/users");
        auto b = call(client, "POST", "/users", "{}");
        REQUIRE_STATUS(a, 201);
        REQUIRE_STATUS(b, 201);
        CHECK(a.json().at("userId") != b.json().at("userId"));
        CHECK(a.json().at("userId") != body.at("userId"));
        CHECK(a.json().at("token") != b.json().at("token"));
    }
    SECTION("a name of exactly 64 characters is accepted") {
        CHECK_STATUS(call(client, "POST", "/users", json{{"name", std::string(64, 'n')}}.dump()), 201);
    }
    SECTION("65 characters, a name that is not a string, or a body that is not an object: 400") {
        CHECK_ERROR(call(client, "POST", "/users", json{{"name", std::string(65, 'n')}}.dump()), 400, "INVALID_REQUEST");
        std::string hangul;
        for (int i = 0; i < 65; ++i) hangul += "\xea\xb9\x80";
        CHECK_STATUS(call(client, "POST", "/users", json{{"name", hangul}}.dump()), 400);
        CHECK_STATUS(call(client, "POST", "/users", R"({"name": 42})"), 400);
        CHECK_STATUS(call(client, "POST", "/users", R"({"name": ["kim"]})"), 400);
        CHECK_STATUS(call(client, "POST", "/users", R"(["kim"])"), 400);
        CHECK_STATUS(call(client, "POST", "/users", R"({"name": "kim")"), 400);
    }
}

TEST_CASE("user names are counted in characters: 64 Hangul syllables (192 bytes) are a valid name", "[users]") {
    server_process server;
    http_client client(server.host(), server.port());
    std::string hangul;
    for (int i = 0; i < 64; ++i) hangul += "\xea\xb9\x80";  // 김, 3 bytes in UTF-8
    CHECK_STATUS(call(client, "POST", "/users", json{{"name", hangul}}.dump()), 201);
    std::string mixed = "Kim " + std::string(59, 'x') + "\xea\xb9\x80";  // 64 characters, 66 bytes
    CHECK_STATUS(call(client, "POST", "/users", json{{"name", mixed}}.dump()), 201);
}

TEST_CASE("GET /users/me/balance is 0 for a new user and needs a valid user token", "[users][auth]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto kim = new_user(client, "kim");

    auto balance = call(client, "GET", "/users/me/balance", {}, bearer(kim.token));
    REQUIRE_STATUS(balance, 200);
    CHECK(balance.json().at("userId") == kim.id);
    CHECK(balance.json().at("balance") == 0);

    CHECK_ERROR(call(client, "GET", "/users/me/balance"), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "GET", "/users/me/balance", {}, {{"Authorization", "Bearer "}}), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "GET", "/users/me/balance", {}, {{"Authorization", kim.token}}), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "GET", "/users/me/balance", {}, {{"Authorization", "Basic " + kim.token}}), 401,
                "UNAUTHORIZED");
    for (std::size_t at : {std::size_t{0}, std::size_t{5}, kim.token.size() / 2, kim.token.size() - 1}) {
        INFO("forged at character " << at);
        CHECK_ERROR(call(client, "GET", "/users/me/balance", {}, bearer(forged(kim.token, at))), 401, "UNAUTHORIZED");
    }
    CHECK_ERROR(call(client, "GET", "/users/me/balance", {}, bearer(kim.token + "A")), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "GET", "/users/me/balance", {}, bearer(kim.token.substr(0, kim.token.size() - 1))), 401,
                "UNAUTHORIZED");
    CHECK_ERROR(call(client, "GET", "/users/me/balance", {}, bearer(std::string(4096, 'A'))), 401, "UNAUTHORIZED");

    // A queue token is signed by the same server but is not a user token.
    const auto concert = create_concert(client, server, concert_body());
    auto joined = enqueue(client, kim, concert);
    REQUIRE_STATUS(joined, 201);
    CHECK_ERROR(call(client, "GET", "/users/me/balance", {}, bearer(joined.json().at("queueToken"))), 401,
                "UNAUTHORIZED");

    // Tokens in the query are for EventSource on the queue stream only.
    CHECK_ERROR(call(client, "GET", "/users/me/balance?token=" + kim.token), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "POST", "/users/me/balance/charge?token=" + kim.token, R"({"amount": 5})"), 401,
                "UNAUTHORIZED");
    for (const char* target : {"/users/me/balance/history", "/users/me/reservations"}) {
        INFO(target);
        CHECK_ERROR(call(client, "GET", target), 401, "UNAUTHORIZED");
        CHECK_ERROR(call(client, "GET", target, {}, bearer(forged(kim.token, 3))), 401, "UNAUTHORIZED");
    }
}

TEST_CASE("POST /users/me/balance/charge adds integer amounts of 1..1000000000 and refuses the rest", "[users][wallet]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto kim = new_user(client);
    const auto lee = new_user(client);

    auto charged = charge(client, kim, 10'000);
    REQUIRE_STATUS(charged, 200);
    CHECK(charged.json().at("userId") == kim.id);
    CHECK(charged.json().at("balance") == 10'000);
    REQUIRE_STATUS(charge(client, kim, 1), 200);
    REQUIRE_STATUS(charge(client, kim, 1'000'000'000), 200);
    const std::int64_t expected = 1'000'010'001;
    CHECK(balance_of(client, kim) == expected);
    CHECK(balance_of(client, lee) == 0);  // one wallet per user

    const std::vector<std::string> bad_bodies = {
        R"({"amount": 0})",          R"({"amount": -1})",       R"({"amount": 1000000001})",
        R"({"amount": 1.5})",        R"({"amount": "10"})",      R"({})",
        R"({"amount": null})",       R"({"amount": true})",     R"({"amount": [10]})",
        R"({"amount": 1e3})",        R"({"amount": 18446744073709551615})",
        R"({"amount": -9223372036854775808})", R"({"amount": 100000000000000000000000})"};
    for (const auto& body : bad_bodies) {
        INFO(body);
        CHECK_ERROR(call(client, "POST", "/users/me/balance/charge", body, bearer(kim.token)), 400, "INVALID_AMOUNT");
    }
    CHECK_STATUS(call(client, "POST", "/users/me/balance/charge", "amount=10", bearer(kim.token)), 400);
    CHECK_STATUS(call(client, "POST", "/users/me/balance/charge", "", bearer(kim.token)), 400);
    CHECK_STATUS(call(client, "POST", "/users/me/balance/charge", "[10]", bearer(kim.token)), 400);
    CHECK_ERROR(call(client, "POST", "/users/me/balance/charge", R"({"amount": 10})"), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "POST", "/users/me/balance/charge", R"({"amount": 10})", bearer(kim.token + "x")), 401,
                "UNAUTHORIZED");
    // None of the refused charges moved money.
    CHECK(balance_of(client, kim) == expected);
}

TEST_CASE("history lists charges and payments newest first with the balance after each", "[users][wallet]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(50, 300));
    const auto g = admitted_guest(client, concert);

    auto empty = call(client, "GET", "/users/me/balance/history", {}, bearer(g.user.token));
    REQUIRE_STATUS(empty, 200);
    CHECK(empty.json().at("entries").empty());
    auto none = call(client, "GET", "/users/me/reservations", {}, bearer(g.user.token));
    REQUIRE_STATUS(none, 200);
    CHECK(none.json().at("reservations").empty());

    REQUIRE_STATUS(charge(client, g.user, 100), 200);
    REQUIRE_STATUS(charge(client, g.user, 250), 200);
    auto held = hold(client, g, concert, 7);
    REQUIRE_STATUS(held, 201);
    const std::string id = held.json().at("reservationId");
    auto second = hold(client, g, concert, 8);
    REQUIRE_STATUS(second, 201);
    REQUIRE_STATUS(pay(client, g.user, id), 201);

    auto history = call(client, "GET", "/users/me/balance/history", {}, bearer(g.user.token));
    REQUIRE_STATUS(history, 200);
    const json entries = history.json().at("entries");
    INFO(entries.dump());
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].at("type") == "PAYMENT");
    CHECK(std::abs(entries[0].at("amount").get<std::int64_t>()) == 300);
    CHECK(entries[0].at("balanceAfter") == 50);
    CHECK(entries[0].at("reservationId") == id);
    CHECK(entries[1].at("type") == "CHARGE");
    CHECK(entries[1].at("amount") == 250);
    CHECK(entries[1].at("balanceAfter") == 350);
    CHECK_FALSE(entries[1].contains("reservationId"));
    CHECK(entries[2].at("type") == "CHARGE");
    CHECK(entries[2].at("amount") == 100);
    CHECK(entries[2].at("balanceAfter") == 100);
    for (const json& e : entries) {
        CHECK(std::abs(instant_ms(e.at("at").get<std::string>()) - now_ms()) < 60'000);
    }
    CHECK(instant_ms(entries[0].at("at").get<std::string>()) >= instant_ms(entries[1].at("at").get<std::string>()));
    CHECK(instant_ms(entries[1].at("at").get<std::string>()) >= instant_ms(entries[2].at("at").get<std::string>()));

    auto mine = call(client, "GET", "/users/me/reservations", {}, bearer(g.user.token));
    REQUIRE_STATUS(mine, 200);
    const json list = mine.json().at("reservations");
    INFO(list.dump());
    REQUIRE(list.size() == 2);
    std::map<std::string, json> by_id;
    for (const json& r : list) by_id[r.at("reservationId")] = r;
    REQUIRE(by_id.count(id) == 1);
    CHECK(by_id[id].at("status") == "CONFIRMED");
    CHECK(by_id[id].at("seat") == 7);
    CHECK(by_id[id].at("price") == 300);
    CHECK(by_id[id].at("concertId") == concert);
    CHECK(by_id[id].at("date") == concert_date);
    CHECK(by_id[id].contains("paidAt"));
    const std::string second_id = second.json().at("reservationId");
    REQUIRE(by_id.count(second_id) == 1);
    CHECK(by_id[second_id].at("status") == "HELD");
    CHECK_FALSE(by_id[second_id].contains("paidAt"));

    // Another user sees none of it.
    const auto other = new_user(client);
    CHECK(call(client, "GET", "/users/me/reservations", {}, bearer(other.token)).json().at("reservations").empty());
    CHECK(call(client, "GET", "/users/me/balance/history", {}, bearer(other.token)).json().at("entries").empty());
}

// Follows nextCursor from the first page to the last; every page holds at most `limit` items.
std::vector<json> all_pages(http_client& client, const std::string& path, const std::string& field,
                            const user_account& user, int limit, int& pages) {
    std::vector<json> items;
    std::string cursor;
    pages = 0;
    for (;;) {
        std::string target = path + "?limit=" + std::to_string(limit) + (cursor.empty() ? "" : "&cursor=" + cursor);
        auto reply = call(client, "GET", target, {}, bearer(user.token));
        REQUIRE_STATUS(reply, 200);
        const json body = reply.json();
        REQUIRE(body.at(field).size() <= static_cast<std::size_t>(limit));
        for (const json& item : body.at(field)) items.push_back(item);
        ++pages;
        REQUIRE(pages < 100);
        if (!body.contains("nextCursor")) break;
        cursor = body.at("nextCursor");
        REQUIRE_FALSE(cursor.empty());
    }
    return items;
}

TEST_CASE("reservations and balance history are paged, newest first, each item once", "[users][paging]") {
    server_process server({.partitions = 3});
    http_client client(server.host(), server.port());
    // Concerts in several partitions, so that one user's reservations are spread over shards.
    std::vector<std::string> concerts;
    for (int i = 0; i < 4; ++i) concerts.push_back(create_concert(client, server, concert_body(40, 10)));
    const auto g = admitted_guest(client, concerts[0]);
    std::set<std::string> made;
    for (std::size_t c = 0; c < concerts.size(); ++c) {
        auto token = call(client, "POST", "/concerts/" + concerts[c] + "/queue", {}, bearer(g.user.token)).json().at("queueToken");
        guest in{g.user, token};
        REQUIRE(eventually(std::chrono::seconds(15), [&] { return queue_state(client, g.user, concerts[c], in.queue_token).at("status") == "ACTIVE"; }));
        // Hold and cancel cycles: each is one more reservation in the list.
        for (std::uint32_t seat = 1; seat <= 6; ++seat) {
            auto held = hold(client, in, concerts[c], seat);
            REQUIRE_STATUS(held, 201);
            made.insert(held.json().at("reservationId").get<std::string>());
            REQUIRE_STATUS(cancel(client, g.user, held.json().at("reservationId")), 200);
        }
    }
    for (int i = 1; i <= 23; ++i) REQUIRE_STATUS(charge(client, g.user, i), 200);

    int pages = 0;
    auto reservations = all_pages(client, "/users/me/reservations", "reservations", g.user, 5, pages);
    CHECK(pages == 5);  // 24 reservations: 5 + 5 + 5 + 5 + 4
    std::set<std::string> seen;
    for (std::size_t i = 0; i < reservations.size(); ++i) {
        seen.insert(reservations[i].at("reservationId").get<std::string>());
        if (i > 0) CHECK(instant_ms(reservations[i - 1].at("heldAt").get<std::string>()) >= instant_ms(reservations[i].at("heldAt").get<std::string>()));
    }
    CHECK(reservations.size() == made.size());
    CHECK(seen == made);
    // The default page is 100 items: all of them, and no cursor.
    auto whole = call(client, "GET", "/users/me/reservations", {}, bearer(g.user.token)).json();
    CHECK(whole.at("reservations").size() == made.size());
    CHECK_FALSE(whole.contains("nextCursor"));

    auto history = all_pages(client, "/users/me/balance/history", "entries", g.user, 10, pages);
    CHECK(pages == 3);
    REQUIRE(history.size() == 23);
    for (std::size_t i = 0; i < history.size(); ++i) CHECK(history[i].at("amount") == 23 - static_cast<int>(i));
    CHECK(all_pages(client, "/users/me/balance/history", "entries", g.user, 1000, pages).size() == 23);
    CHECK(pages == 1);

    // Bad limits and cursors: 400, on both lists.
    for (const std::string path : {"/users/me/reservations", "/users/me/balance/history"}) {
        for (const std::string& bad : std::vector<std::string>{"?limit=0", "?limit=1001", "?limit=-1", "?limit=ten", "?limit=", "?cursor=zz",
                                      "?cursor=abc", "?cursor=", "?cursor=" + std::string(130, 'a')}) {
            INFO(path + bad);
            CHECK_ERROR(call(client, "GET", path + bad, {}, bearer(g.user.token)), 400, "INVALID_REQUEST");
        }
    }
}

}  // namespace
}  // namespace encore::test
