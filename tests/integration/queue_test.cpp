// The waiting room (API.md "Waiting room"): tokens, positions, first-come-first-served admission
// as slots free (by payment and by the active TTL), and the event stream.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

std::string status_of(http_client& client, const user_account& user, const std::string& concert,
                      const std::string& token) {
    return queue_state(client, user, concert, token).at("status").get<std::string>();
}

struct queued {
    user_account user;
    std::string token;
};

queued join(http_client& client, const std::string& concert) {
    queued q{new_user(client), {}};
    auto reply = enqueue(client, q.user, concert);
    expect_status(reply, 201, "POST queue");
    q.token = reply.json().at("queueToken").get<std::string>();
    return q;
}

TEST_CASE("POST queue issues a token once (201) and then returns the same one (200)", "[queue]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(50, 100, 1, 600));
    const auto kim = new_user(client);

    auto first = enqueue(client, kim, concert);
    REQUIRE_STATUS(first, 201);
    const json body = first.json();
    CHECK(body.at("status") == "ACTIVE");
    CHECK(body.at("position") == 0);
    REQUIRE(body.contains("activeUntil"));
    const auto active_until = instant_ms(body.at("activeUntil").get<std::string>());
    CHECK(std::abs(active_until - (now_ms() + 600'000)) < 30'000);

    auto again = enqueue(client, kim, concert);
    REQUIRE_STATUS(again, 200);
    CHECK(again.json().at("queueToken") == body.at("queueToken"));
    CHECK(again.json().at("status") == "ACTIVE");

    // A waiting user gets the same token and position back too.
    const auto lee = new_user(client);
    auto waiting = enqueue(client, lee, concert);
    REQUIRE_STATUS(waiting, 201);
    CHECK(waiting.json().at("status") == "WAITING");
    CHECK(waiting.json().at("position") == 1);
    CHECK_FALSE(waiting.json().contains("activeUntil"));
    auto waiting_again = enqueue(client, lee, concert);
    REQUIRE_STATUS(waiting_again, 200);
    CHECK(waiting_again.json().at("queueToken") == waiting.json().at("queueToken"));
    CHECK(waiting_again.json().at("position") == 1);

    // GET queue: status, position, estimatedWaitSeconds.
    auto mine = call(client, "GET", "/concerts/" + concert + "/queue", {},
                     bearer(lee.token) + header_list{{"X-Queue-Token", waiting.json().at("queueToken")}});
    REQUIRE_STATUS(mine, 200);
    CHECK(mine.json().at("status") == "WAITING");
    CHECK(mine.json().at("position") == 1);
    REQUIRE(mine.json().contains("estimatedWaitSeconds"));
    CHECK(mine.json().at("estimatedWaitSeconds").is_number());
    CHECK(mine.json().at("estimatedWaitSeconds").get<double>() >= 0);

    SECTION("errors: 401, 404 CONCERT_NOT_FOUND, 403 QUEUE_TOKEN_INVALID") {
        CHECK_ERROR(call(client, "POST", "/concerts/" + concert + "/queue"), 401, "UNAUTHORIZED");
        CHECK_ERROR(enqueue(client, kim, "c-00000000000000ff"), 404, "CONCERT_NOT_FOUND");
        CHECK_ERROR(enqueue(client, kim, "no-such-concert"), 404, "CONCERT_NOT_FOUND");
        // 401 before 404.
        CHECK_ERROR(call(client, "POST", "/concerts/no-such-concert/queue"), 401, "UNAUTHORIZED");

        const std::string path = "/concerts/" + concert + "/queue";
        const std::string kim_token = body.at("queueToken");
        CHECK_ERROR(call(client, "GET", path, {}, {{"X-Queue-Token", kim_token}}), 401, "UNAUTHORIZED");
        CHECK_ERROR(call(client, "GET", path, {}, bearer(kim.token)), 403, "QUEUE_TOKEN_INVALID");
        std::string forged = kim_token;
        forged[3] = forged[3] == 'x' ? 'y' : 'x';
        CHECK_ERROR(call(client, "GET", path, {}, bearer(kim.token) + header_list{{"X-Queue-Token", forged}}), 403,
                    "QUEUE_TOKEN_INVALID");
        // Another user's token.
        CHECK_ERROR(call(client, "GET", path, {}, bearer(kim.token) + header_list{{"X-Queue-Token", waiting.json().at("queueToken")}}),
                    403, "QUEUE_TOKEN_INVALID");
        // Another concert's token.
        const auto elsewhere = create_concert(client, server, concert_body());
        auto other = enqueue(client, kim, elsewhere);
        REQUIRE_STATUS(other, 201);
        CHECK_ERROR(call(client, "GET", path, {}, bearer(kim.token) + header_list{{"X-Queue-Token", other.json().at("queueToken")}}),
                    403, "QUEUE_TOKEN_INVALID");
        CHECK_ERROR(call(client, "GET", "/concerts/" + elsewhere + "/queue", {},
                         bearer(kim.token) + header_list{{"X-Queue-Token", kim_token}}),
                    403, "QUEUE_TOKEN_INVALID");
    }
}

TEST_CASE("positions are first come, first served and payments free slots for the longest waiting", "[queue]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(50, 100, 2, 600));

    std::vector<queued> users;
    for (int i = 0; i < 5; ++i) users.push_back(join(client, concert));
    const std::vector<std::pair<std::string, int>> expected = {
        {"ACTIVE", 0}, {"ACTIVE", 0}, {"WAITING", 1}, {"WAITING", 2}, {"WAITING", 3}};
    for (std::size_t i = 0; i < users.size(); ++i) {
        INFO("user " << i);
        const json q = queue_state(client, users[i].user, concert, users[i].token);
        CHECK(q.at("status") == expected[i].first);
        CHECK(q.at("position") == expected[i].second);
        if (expected[i].first == "WAITING") {
            CHECK_FALSE(q.contains("activeUntil"));
        } else {
            CHECK(q.contains("activeUntil"));
        }
    }

    // The first user pays: COMPLETED frees a slot; the first waiting user is admitted at once.
    const guest first{users[0].user, users[0].token};
    REQUIRE_STATUS(charge(client, first.user, 100), 200);
    auto held = hold(client, first, concert, 1);
    REQUIRE_STATUS(held, 201);
    REQUIRE_STATUS(pay(client, first.user, held.json().at("reservationId")), 201);
    CHECK(status_of(client, users[0].user, concert, users[0].token) == "COMPLETED");
    // Read-your-writes covers the admission: it was emitted with the payment's outcome.
    CHECK(status_of(client, users[2].user, concert, users[2].token) == "ACTIVE");
    CHECK(queue_state(client, users[2].user, concert, users[2].token).at("position") == 0);
    CHECK(queue_state(client, users[3].user, concert, users[3].token).at("position") == 1);
    CHECK(queue_state(client, users[4].user, concert, users[4].token).at("position") == 2);
    CHECK(status_of(client, users[1].user, concert, users[1].token) == "ACTIVE");

    // The admitted user can now use the seat map; the completed one cannot.
    const guest third{users[2].user, users[2].token};
    CHECK_STATUS(call(client, "GET", seats_path(concert), {}, third.headers()), 200);
    CHECK_ERROR(call(client, "GET", seats_path(concert), {}, first.headers()), 403, "QUEUE_TOKEN_EXPIRED");
    CHECK_ERROR(hold(client, first, concert, 2), 403, "QUEUE_TOKEN_EXPIRED");

    // A completed user may queue again: a new token, at the back of the line.
    auto rejoined = enqueue(client, users[0].user, concert);
    REQUIRE_STATUS(rejoined, 201);
    CHECK(rejoined.json().at("queueToken") != users[0].token);
    CHECK(rejoined.json().at("status") == "WAITING");
    CHECK(rejoined.json().at("position") == 3);
    // The old token stays finished.
    CHECK(status_of(client, users[0].user, concert, users[0].token) != "ACTIVE");
}

TEST_CASE("an active token expires after activeTtlSeconds and the next user is admitted without any request", "[queue]") {
    server_process server;
    http_client client(server.host(), server.port());
    // Capacity 1, active for 1 s: A, then B, then C, each for about a second.
    const auto concert = create_concert(client, server, concert_body(50, 100, 1, 1));
    const auto a = join(client, concert);
    const auto b = join(client, concert);
    const auto c = join(client, concert);
    // A only asks once, below; B and C only read their own status.

    std::string b_status;
    std::string c_status;
    bool c_before_b = false;
    const bool b_admitted = eventually(std::chrono::milliseconds(10'000), [&] {
        c_status = status_of(client, c.user, concert, c.token);
        b_status = status_of(client, b.user, concert, b.token);
        if (c_status == "ACTIVE" && b_status == "WAITING") c_before_b = true;
        return b_status == "ACTIVE" || b_status == "EXPIRED";
    });
    REQUIRE(b_admitted);
    CHECK_FALSE(c_before_b);
    // C is next, after B's second is up.
    const bool c_admitted = eventually(std::chrono::milliseconds(10'000), [&] {
        c_status = status_of(client, c.user, concert, c.token);
        return c_status == "ACTIVE" || c_status == "EXPIRED";
    });
    REQUIRE(c_admitted);
    CHECK(status_of(client, b.user, concert, b.token) != "WAITING");

    // A's token is EXPIRED: 403 QUEUE_TOKEN_EXPIRED on the seat map and on holds.
    CHECK(status_of(client, a.user, concert, a.token) == "EXPIRED");
    const guest expired{a.user, a.token};
    CHECK_ERROR(call(client, "GET", "/concerts/" + concert + "/dates", {}, expired.headers()), 403,
                "QUEUE_TOKEN_EXPIRED");
    CHECK_ERROR(hold(client, expired, concert, 1), 403, "QUEUE_TOKEN_EXPIRED");
    // A may queue again for a new token.
    auto again = enqueue(client, a.user, concert);
    REQUIRE_STATUS(again, 201);
    CHECK(again.json().at("queueToken") != a.token);
}

TEST_CASE("an admitted user who does nothing within claimSeconds is EXPIRED and the next user admitted", "[queue][claim]") {
    server_process server;
    http_client client(server.host(), server.port());
    // Capacity 1, active for 10 minutes, but an admitted turn must be claimed within 1 s.
    json body = concert_body(50, 100, 1, 600);
    body["queue"]["claimSeconds"] = 1;
    const auto concert = create_concert(client, server, body);
    const auto a = join(client, concert);  // ACTIVE at once: the join is its claim
    const auto b = join(client, concert);
    // Behind B, users who claim their turn as soon as they see it. The claim must arrive within
    // the second after admission; on a machine too slow for that, the next one behind tries.
    constexpr int claimers = 5;
    std::vector<queued> behind;
    for (int i = 0; i < claimers; ++i) behind.push_back(join(client, concert));
    // A's 10 minutes would block the others: A buys a seat, which completes its turn and frees the slot.
    REQUIRE_STATUS(charge(client, a.user, 100), 200);
    auto held = hold(client, guest{a.user, a.token}, concert, 1);
    REQUIRE_STATUS(held, 201);
    REQUIRE_STATUS(pay(client, a.user, held.json().at("reservationId")), 201);
    // B is admitted, sends nothing, and lapses after a second; only then is C admitted.
    std::string b_status;
    bool c_before_b = false;
    REQUIRE(eventually(std::chrono::seconds(30), [&] {
        const std::string c_status = status_of(client, behind[0].user, concert, behind[0].token);
        b_status = status_of(client, b.user, concert, b.token);
        if (c_status != "WAITING" && b_status == "WAITING") c_before_b = true;
        return b_status != "WAITING";
    }));
    CHECK_FALSE(c_before_b);
    CHECK((b_status == "ACTIVE" || b_status == "EXPIRED"));
    REQUIRE(eventually(std::chrono::seconds(30), [&] { return status_of(client, b.user, concert, b.token) == "EXPIRED"; }));
    // The next one claims its turn by joining again (what the web page does on admission) and
    // stays ACTIVE past the claim window.
    int claimed = -1;
    for (int i = 0; i < claimers && claimed < 0; ++i) {
        INFO("claimer " << i);
        std::string status;
        REQUIRE(eventually(std::chrono::seconds(30), [&] {
            status = status_of(client, behind[i].user, concert, behind[i].token);
            return status != "WAITING";
        }));
        // Admitted only once the one before has lapsed.
        CHECK(status_of(client, i == 0 ? b.user : behind[i - 1].user, concert, i == 0 ? b.token : behind[i - 1].token) ==
              "EXPIRED");
        if (status == "ACTIVE") {
            auto again = enqueue(client, behind[i].user, concert);
            if (again.status == 200) {
                CHECK(again.json().at("queueToken") == behind[i].token);
                claimed = i;
                break;
            }
            REQUIRE_STATUS(again, 201);  // the turn had lapsed: a new token, at the back
        } else {
            CHECK(status == "EXPIRED");
        }
        std::fprintf(stderr, "claimSeconds: claimer %d did not claim within the second; the next one tries\n", i);
    }
    REQUIRE(claimed >= 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(2'500));
    CHECK(status_of(client, behind[claimed].user, concert, behind[claimed].token) == "ACTIVE");
}

TEST_CASE("the queue event stream sends the status and a new event when the user is admitted", "[queue][sse]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(50, 100, 1, 600));
    const auto first = join(client, concert);
    const auto second = join(client, concert);

    http_client stream(server.host(), server.port());
    auto head = stream.open_event_stream("/concerts/" + concert + "/queue/stream?token=" + second.user.token +
                                         "&queueToken=" + second.token);
    REQUIRE(head.ok());
    REQUIRE_STATUS(*head, 200);
    CHECK(head->header("Content-Type").value_or("").starts_with("text/event-stream"));

    auto event = stream.next_event();
    REQUIRE(event.ok());
    json data = json::parse(event->data, nullptr, false);
    INFO("event data: " << event->data);
    REQUIRE(data.is_object());
    CHECK(data.at("status") == "WAITING");
    CHECK(data.at("position") == 1);

    // The first user pays; the second is admitted and the stream says so.
    const guest g{first.user, first.token};
    REQUIRE_STATUS(charge(client, g.user, 100), 200);
    auto held = hold(client, g, concert, 1);
    REQUIRE_STATUS(held, 201);
    REQUIRE_STATUS(pay(client, g.user, held.json().at("reservationId")), 201);

    std::string status = data.at("status");
    for (int i = 0; i < 5 && status != "ACTIVE"; ++i) {
        auto next = stream.next_event();
        REQUIRE(next.ok());
        INFO("event data: " << next->data);
        data = json::parse(next->data, nullptr, false);
        REQUIRE(data.is_object());
        status = data.at("status");
    }
    CHECK(status == "ACTIVE");
    CHECK(data.at("position") == 0);

    // The first user's own stream ends with COMPLETED, and then the server closes it.
    http_client finished(server.host(), server.port());
    auto done_head = finished.open_event_stream("/concerts/" + concert + "/queue/stream?token=" + first.user.token +
                                                "&queueToken=" + first.token);
    REQUIRE(done_head.ok());
    REQUIRE_STATUS(*done_head, 200);
    auto last = finished.next_event();
    REQUIRE(last.ok());
    CHECK(json::parse(last->data, nullptr, false).at("status") == "COMPLETED");
    CHECK(finished.wait_closed(std::chrono::seconds(30)));

    SECTION("headers work too, and bad tokens are refused before the stream opens") {
        http_client by_header(server.host(), server.port());
        auto opened = by_header.open_event_stream("/concerts/" + concert + "/queue/stream",
                                                  bearer(second.user.token) + header_list{{"X-Queue-Token", second.token}});
        REQUIRE(opened.ok());
        REQUIRE_STATUS(*opened, 200);
        auto e = by_header.next_event();
        REQUIRE(e.ok());
        CHECK(json::parse(e->data, nullptr, false).at("status") == "ACTIVE");

        CHECK_ERROR(call(client, "GET", "/concerts/" + concert + "/queue/stream?queueToken=" + second.token), 401,
                    "UNAUTHORIZED");
        CHECK_ERROR(call(client, "GET", "/concerts/" + concert + "/queue/stream?token=" + second.user.token), 403,
                    "QUEUE_TOKEN_INVALID");
        CHECK_ERROR(call(client, "GET", "/concerts/" + concert + "/queue/stream?token=" + second.user.token +
                                             "&queueToken=" + first.token),
                    403, "QUEUE_TOKEN_INVALID");
        CHECK_ERROR(call(client, "GET", "/concerts/" + concert + "/queue/stream?token=" + second.user.token + "x" +
                                             "&queueToken=" + second.token),
                    401, "UNAUTHORIZED");
    }
}

}  // namespace
}  // namespace encore::test

namespace encore::test {

TEST_CASE("before onsaleAt joiners wait in a pre-queue without positions, and at it they are placed and admitted", "[queue][prequeue]") {
    server_process server;
    http_client client(server.host(), server.port());
    // Everything up to the first stream event happens before onsaleAt: a dozen requests, each
    // acknowledged after an fsync. They take well under a second here, but a CI machine running
    // other tests' fsyncs beside them has taken over 10 s, so they are given 20.
    const std::int64_t started = now_ms();
    const std::int64_t onsale = started + 20'000;
    json body = concert_body(50, 100, 1, 600);
    body["onsaleAt"] = instant_text(onsale);
    const auto concert = create_concert(client, server, body);
    json listed;
    const json concerts = call(client, "GET", "/concerts").json().at("concerts");
    for (const json& c : concerts) {
        if (c.at("concertId") == concert) listed = c;
    }
    CHECK(listed.at("onsaleAt") == instant_text(onsale));
    CHECK(listed.dump().find("eed") == std::string::npos);  // the seed is in no query

    std::vector<queued> early;
    for (int i = 0; i < 3; ++i) {
        early.push_back(join(client, concert));
        const json q = queue_state(client, early.back().user, concert, early.back().token);
        INFO("queue: " << q.dump());
        CHECK(q.at("status") == "WAITING");
        CHECK(q.at("preQueue") == true);
        CHECK(q.at("position").is_null());
        CHECK(q.at("onsaleAt") == instant_text(onsale));
        CHECK(q.at("estimatedWaitSeconds").get<std::int64_t>() >= 1);
    }
    // Joining again is the same token, still unplaced; a hold is not yet anyone's turn.
    auto again = enqueue(client, early[0].user, concert);
    REQUIRE_STATUS(again, 200);
    CHECK(again.json().at("queueToken") == early[0].token);
    CHECK(again.json().at("position").is_null());
    const guest waiting{early[0].user, early[0].token};
    CHECK_ERROR(hold(client, waiting, concert, 1), 429, "NOT_YOUR_TURN");

    http_client stream(server.host(), server.port());
    auto head = stream.open_event_stream("/concerts/" + concert + "/queue/stream?token=" + early[1].user.token +
                                         "&queueToken=" + early[1].token);
    REQUIRE(head.ok());
    REQUIRE_STATUS(*head, 200);
    auto first_event = stream.next_event();
    REQUIRE(first_event.ok());
    CHECK(json::parse(first_event->data).at("preQueue") == true);
    INFO("the requests before onsaleAt took " << now_ms() - started << " ms of their 20,000");
    REQUIRE(now_ms() < onsale);

    // At onsaleAt, with no request needed: one ACTIVE (capacity 1), the others placed 1 and 2.
    REQUIRE(eventually(std::chrono::seconds(60), [&] {
        for (const auto& q : early) {
            if (status_of(client, q.user, concert, q.token) == "ACTIVE") return true;
        }
        return false;
    }));
    CHECK(now_ms() >= onsale);
    std::vector<std::int64_t> positions;
    for (const auto& q : early) {
        const json state = queue_state(client, q.user, concert, q.token);
        CHECK(state.at("preQueue") == false);
        positions.push_back(state.at("position").get<std::int64_t>());
    }
    std::sort(positions.begin(), positions.end());
    CHECK(positions == std::vector<std::int64_t>{0, 1, 2});
    // The stream announced the change, after whatever it sent while the pre-queue waited (its
    // estimate counting down): read on until it does, for 30 s at most.
    bool placed = false;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!placed && std::chrono::steady_clock::now() < give_up) {
        auto next = stream.next_event();
        REQUIRE(next.ok());
        placed = json::parse(next->data).at("preQueue") == false;
    }
    CHECK(placed);
    // A later joiner queues behind the whole pre-queue.
    const auto late = join(client, concert);
    const json late_state = queue_state(client, late.user, concert, late.token);
    CHECK(late_state.at("preQueue") == false);
    CHECK(late_state.at("position") == 3);
}

TEST_CASE("a fan in the pre-queue is told to come back later, the hold and the seat map alike", "[queue][prequeue]") {
    server_process server;
    http_client client(server.host(), server.port());
    // On sale in ten minutes: the wait is longer than Retry-After's largest, 30 s.
    json body = concert_body(50, 100, 1, 600);
    body["onsaleAt"] = instant_text(now_ms() + 600'000);
    const auto concert = create_concert(client, server, body);
    const queued early = join(client, concert);
    const guest waiting{early.user, early.token};

    auto refused_hold = hold(client, waiting, concert, 1);
    CHECK_ERROR(refused_hold, 429, "NOT_YOUR_TURN");
    REQUIRE(refused_hold.header("Retry-After").has_value());
    CHECK(*refused_hold.header("Retry-After") == "30");
    auto refused_map = call(client, "GET", seats_path(concert), {}, waiting.headers());
    CHECK_ERROR(refused_map, 429, "NOT_YOUR_TURN");
    REQUIRE(refused_map.header("Retry-After").has_value());
    CHECK(*refused_map.header("Retry-After") == "30");

    // On sale now, a full waiting room: the second fan waits behind the first, told to retry soon.
    const auto open = create_concert(client, server, concert_body(50, 100, 1, 600));
    const guest first = admitted_guest(client, open);
    const queued second = join(client, open);
    auto behind = hold(client, {second.user, second.token}, open, 1);
    CHECK_ERROR(behind, 429, "NOT_YOUR_TURN");
    REQUIRE(behind.header("Retry-After").has_value());
    const int retry = std::stoi(*behind.header("Retry-After"));
    CHECK(retry >= 1);
    CHECK(retry <= 30);
    REQUIRE_STATUS(hold(client, first, open, 1), 201);
}

}  // namespace encore::test
