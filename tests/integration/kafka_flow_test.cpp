// Kafka mode, the way a user sees it: several `encore serve --kafka` processes on the mock cluster
// of `encore kafka-mock`, any of which answers any request. A purchase that hops between processes,
// and kcat reading what a real process wrote.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <sstream>

#include "tests/integration/kafka_load.hpp"
#include "tests/support/run_command.hpp"

namespace encore::test {
namespace {

using namespace std::chrono_literals;


// Waits (30 s at most, returning as soon as it holds) until another process shows what one
// answered, and prints how long that took.
bool eventually_shows(const char* what, const std::function<bool()>& probe) {
    const auto start = std::chrono::steady_clock::now();
    const bool seen = eventually(30s, probe, 10ms);
    const auto waited = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "kafka flow: %s: %s after %.0f ms\n", what, seen ? "seen" : "not seen", waited);
    return seen;
}

TEST_CASE("a purchase through two processes: hold on one, seen and paid on the other", "[kafka]") {
    kafka_cluster cluster(2);
    http_client a(cluster.server(0).host(), cluster.server(0).port());
    http_client b(cluster.server(1).host(), cluster.server(1).port());

    const std::string concert = create_concert_on(a, cluster.options().admin_key, concert_body(50, 30'000));
    // Registered on A, charged on B: one token for the whole cluster.
    const user_account kim = new_user(a, "kim");
    REQUIRE_STATUS(charge(b, kim, 100'000), 200);
    // Read-your-writes holds on B, which answered; A shows it once its projector got there
    // (reported, not asserted: how soon says more about the machine than about Encore).
    CHECK(eventually_shows("A shows B's charge", [&] { return balance_of(a, kim) == 100'000; }));
    // Joined on B; the queue token works on A.
    auto joined = enqueue(b, kim, concert);
    REQUIRE_STATUS(joined, 201);
    REQUIRE(joined.json().at("status") == "ACTIVE");
    const guest g{kim, joined.json().at("queueToken").get<std::string>()};
    const guest observer = admitted_guest(b, concert);

    auto held = hold(a, g, concert, 7);
    REQUIRE_STATUS(held, 201);
    const std::string id = held.json().at("reservationId");
    // The other process shows the hold.
    CHECK(eventually_shows("B shows A's hold", [&] { return seat_status(b, observer, concert, 7) == "HELD"; }));
    CHECK_ERROR(hold(b, observer, concert, 7), 409, "SEAT_TAKEN");

    auto paid = pay(b, kim, id);
    REQUIRE_STATUS(paid, 201);
    CHECK(paid.json().at("balance") == 70'000);

    // Both processes agree on the balance, the history, the reservation and the seat.
    for (http_client* c : {&a, &b}) {
        INFO((c == &a ? "process A" : "process B"));
        CHECK(eventually_shows("the balance after paying", [&] { return balance_of(*c, kim) == 70'000; }));
        CHECK(eventually_shows("the seat SOLD", [&] { return seat_status(*c, observer, concert, 7) == "SOLD"; }));
        auto r = reservation(*c, kim, id);
        REQUIRE_STATUS(r, 200);
        CHECK(r.json().at("status") == "CONFIRMED");
        auto history = call(*c, "GET", "/users/me/balance/history", {}, bearer(kim.token));
        CHECK(history.json().at("entries").size() == 2);
        // QueueLeft follows PaymentConfirmed in the log: the seat may show SOLD a moment before.
        CHECK(eventually_shows("the queue token COMPLETED",
                               [&] { return queue_state(*c, kim, concert, g.queue_token).at("status") == "COMPLETED"; }));
    }
    CHECK_ERROR(pay(a, kim, id), 409, "ALREADY_PAID");
    CHECK(balance_of(a, kim) == 70'000);

    // The log replays to what the processes serve.
    const json state = audited_state(cluster);
    INFO(state.at("output").get<std::string>());
    CHECK(state.at("balances").at(kim.id) == 70'000);
    CHECK(state.at("reservations").at(id) == "CONFIRMED");
    CHECK(state.at("seats").at(concert + "/" + std::string(concert_date) + "/7") == "SOLD");
}

TEST_CASE("the organizer's controls through two processes: If-Match against a change made on the other, pause and blocks seen by both", "[kafka][organizer]") {
    kafka_cluster cluster(2);
    http_client a(cluster.server(0).host(), cluster.server(0).port());
    http_client b(cluster.server(1).host(), cluster.server(1).port());
    const header_list admin = admin_header(cluster.options().admin_key);
    const std::string concert = create_concert_on(a, cluster.options().admin_key, concert_body(20, 30'000));
    const std::string path = "/admin/concerts/" + concert;
    auto read_a = call(a, "GET", path, {}, admin);
    REQUIRE_STATUS(read_a, 200);
    const std::string tag = read_a.header("ETag").value_or("");
    REQUIRE(eventually_shows("B shows the concert", [&] { return call(b, "GET", path, {}, admin).status == 200; }));

    // Changed on B; A's tag is stale. Whether A has seen the change yet (412 from A's view) or not
    // (412 from the engine, whose revision moved), the change is refused and B's title stays.
    REQUIRE_STATUS(call(b, "PATCH", path, json{{"title", "from B"}}.dump(), admin), 200);
    auto stale = call(a, "PATCH", path, json{{"title", "from A"}}.dump(), admin + header_list{{"If-Match", tag}});
    REQUIRE_STATUS(stale, 412);
    CHECK(error_code_of(stale) == "PRECONDITION_FAILED");
    CHECK(eventually_shows("A shows B's title", [&] { return call(a, "GET", path, {}, admin).json().at("title") == "from B"; }));
    CHECK(call(b, "GET", path, {}, admin).json().at("revision") == 1);

    // Paused on A: a fan admitted through B is refused at once (the engine decides), and B's
    // read of the concert says paused.
    const guest fan = admitted_guest(b, concert);
    REQUIRE_STATUS(call(a, "POST", path + "/pause", {}, admin), 200);
    CHECK_ERROR(hold(b, fan, concert, 3), 409, "SALES_PAUSED");
    CHECK(eventually_shows("B shows the pause", [&] { return call(b, "GET", path, {}, admin).json().at("paused") == true; }));
    REQUIRE_STATUS(call(b, "POST", path + "/resume", {}, admin), 200);
    // Blocked on B, seen on A's seat map; held on neither.
    REQUIRE_STATUS(call(b, "POST", path + "/dates/" + std::string(concert_date) + "/blocks", json{{"seats", {3}}}.dump(), admin), 200);
    CHECK_ERROR(hold(a, fan, concert, 3), 409, "SEAT_TAKEN");
    CHECK(eventually_shows("A shows the block", [&] { return seat_status(a, fan, concert, 3) == "BLOCKED"; }));
    auto changes = call(a, "GET", path + "/changes", {}, admin);
    REQUIRE_STATUS(changes, 200);
    const json log = changes.json();
    std::vector<std::string> types;
    for (const json& c : log.at("changes")) types.push_back(c.at("type"));
    CHECK(types == std::vector<std::string>{"UPDATED", "PAUSED", "RESUMED", "SEATS_BLOCKED"});
}

TEST_CASE("a venue with a fan club presale through two processes: the list on one, the claim and the hold on the other", "[kafka][phases]") {
    kafka_cluster cluster(2);
    http_client a(cluster.server(0).host(), cluster.server(0).port());
    const header_list admin = admin_header(cluster.options().admin_key);
    const std::int64_t now = now_ms();
    json body = concert_body();
    body.erase("schedules");
    body["grades"] = json::array({{{"grade", "VIP"}, {"price", 100'000}}, {{"grade", "R"}, {"price", 60'000}}});
    body["layout"] = {{"sections", json::array({{{"section", "FLOOR"}, {"grade", "VIP"}, {"standing", 4}},
                                                {{"section", "A"}, {"grade", "R"}, {"rows", 2}, {"seatsPerRow", 5}}})}};
    body["schedules"] = json::array({{{"date", concert_date}}});
    body["salePhases"] = json::array({{{"phase", "fanclub"}, {"opensAt", instant_text(now - 60'000)}, {"eligibility", "LIST"}, {"grades", {"VIP"}}},
                                      {{"phase", "general"}, {"opensAt", instant_text(now + 3'600'000)}}});
    const std::string concert = create_concert_on(a, cluster.options().admin_key, body);
    // The list is uploaded through A; the hashes A computed are the ones B computes (the same
    // token secret), so a claim through B finds the id.
    auto added = call(a, "POST", "/admin/concerts/" + concert + "/phases/fanclub/eligible", json{{"ids", {"KAFKA-CLUB-0001"}}}.dump(), admin);
    REQUIRE_STATUS(added, 200);
    CHECK(added.json() == json{{"added", 1}, {"total", 1}});
    http_client b(cluster.server(1).host(), cluster.server(1).port());
    REQUIRE(eventually_shows("B shows the concert", [&] { return call(b, "GET", "/admin/concerts/" + concert, {}, admin).status == 200; }));
    const user_account member = new_user(b), other = new_user(b);
    CHECK_ERROR(enqueue(b, other, concert), 403, "NOT_ELIGIBLE");
    auto claimed = call(b, "POST", "/concerts/" + concert + "/phases/fanclub/claim", json{{"id", "KAFKA-CLUB-0001"}}.dump(), bearer(member.token));
    REQUIRE_STATUS(claimed, 200);
    CHECK_ERROR(call(a, "POST", "/concerts/" + concert + "/phases/fanclub/claim", json{{"id", "KAFKA-CLUB-0001"}}.dump(), bearer(other.token)),
                409, "ALREADY_CLAIMED");
    auto joined = enqueue(a, member, concert);
    REQUIRE_STATUS(joined, 201);
    REQUIRE(joined.json().at("status") == "ACTIVE");
    const guest fan{member, joined.json().at("queueToken").get<std::string>()};
    // Standing places of the presale's grade through A; an R seat is not on sale in it.
    auto places = call(a, "POST", "/concerts/" + concert + "/dates/" + std::string(concert_date) + "/holds",
                       json{{"count", 3}, {"section", "FLOOR"}}.dump(), fan.headers());
    REQUIRE_STATUS(places, 201);
    CHECK(places.json().at("standing") == json{{"section", "FLOOR"}, {"places", 3}});
    CHECK_ERROR(hold(b, fan, concert, 1), 409, "GRADE_NOT_ON_SALE");
    REQUIRE_STATUS(charge(b, member, 1'000'000), 200);
    REQUIRE_STATUS(pay(b, member, places.json().at("reservationId")), 201);
    CHECK(eventually_shows("A shows the entry numbers", [&] {
        return reservation(a, member, places.json().at("reservationId")).json().value("entryNumbers", json::array()) == json::array({1, 2, 3});
    }));
    // B's analytics count the places as VIP seats sold.
    CHECK(eventually_shows("B counts the places sold", [&] {
        auto figures = call(b, "GET", "/analytics/concerts/" + concert, {}, admin);
        return figures.status == 200 && figures.json().at("dates").at(0).at("grades").at(0).at("seatsSold") == 3;
    }));
}

TEST_CASE("the door through two processes: a ticket bought on one, its code and a scanner key made on one work on the other, admitted once", "[kafka][door]") {
    kafka_cluster cluster(2);
    http_client a(cluster.server(0).host(), cluster.server(0).port());
    const header_list admin = admin_header(cluster.options().admin_key);
    json body = concert_body();
    body.erase("schedules");
    body["grades"] = json::array({{{"grade", "R"}, {"price", 50'000}}});
    body["layout"] = {{"sections", json::array({{{"section", "A"}, {"grade", "R"}, {"rows", 1}, {"seatsPerRow", 4}, {"gate", "N"}}})}};
    body["schedules"] = json::array({{{"date", concert_date}}});
    const std::string concert = create_concert_on(a, cluster.options().admin_key, body);
    const guest fan = admitted_guest(a, concert);
    REQUIRE_STATUS(charge(a, fan.user, 100'000), 200);
    auto held = hold(a, fan, concert, 2);
    REQUIRE_STATUS(held, 201);
    REQUIRE_STATUS(pay(a, fan.user, held.json().at("reservationId")), 201);
    auto tickets = call(a, "GET", "/reservations/" + held.json().at("reservationId").get<std::string>() + "/tickets", {}, bearer(fan.user.token));
    REQUIRE_STATUS(tickets, 200);
    const std::string code = tickets.json().at("tickets").at(0).at("code");
    auto scanner = call(a, "POST", "/admin/concerts/" + concert + "/scanners", json{{"name", "North 1"}, {"gate", "N"}}.dump(), admin);
    REQUIRE_STATUS(scanner, 201);
    const header_list key = {{"X-Scanner-Key", scanner.json().at("key").get<std::string>()}};
    // B derives the same concert key (the code verifies there) and knows the scanner.
    http_client b(cluster.server(1).host(), cluster.server(1).port());
    CHECK(eventually_shows("B gives the same public key", [&] {
        auto k = call(b, "GET", "/concerts/" + concert + "/ticket-key", {});
        return k.status == 200 && k.json() == call(a, "GET", "/concerts/" + concert + "/ticket-key", {}).json();
    }));
    const json scan = {{"code", code}, {"date", concert_date}};
    http_reply first;
    REQUIRE(eventually_shows("B admits with A's scanner key", [&] {
        first = call(b, "POST", "/admin/concerts/" + concert + "/checkins", scan.dump(), key);
        return first.status != 401;  // until B's read models show the scanner
    }));
    REQUIRE_STATUS(first, 200);
    CHECK(first.json().at("ticket").at("status") == "ADMITTED");
    // The same ticket through A: the partition's owner decided once.
    CHECK_ERROR(call(a, "POST", "/admin/concerts/" + concert + "/checkins", scan.dump(), key), 409, "ALREADY_ADMITTED");
}

TEST_CASE("kcat reads the events a real process wrote, as JSON", "[kafka][kcat]") {
    kafka_cluster cluster(1);
    http_client client(cluster.server(0).host(), cluster.server(0).port());
    const user_account lee = new_user(client, "lee");
    REQUIRE_STATUS(charge(client, lee, 1'234), 200);

    const std::string lines = run_output("kcat -C -t " + cluster.topic_prefix() + "events -b " + cluster.bootstrap() +
                                  " -e -q -f '%k %s\\n' 2>/dev/null");
    INFO(lines);
    bool registered = false, charged = false;
    std::istringstream in(lines);
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        const auto space = line.find(' ');
        REQUIRE(space != std::string::npos);
        const json event = json::parse(line.substr(space + 1), nullptr, false);
        REQUIRE(event.is_object());
        CHECK(event.at("type") == line.substr(0, space));
        CHECK(event.at("record").is_string());  // the exact bytes, base64
        if (event.at("type") == "UserRegistered" && event.at("name") == "lee") registered = true;
        if (event.at("type") == "Charged" && event.at("balance") == 1'234) charged = true;
    }
    CHECK(registered);
    CHECK(charged);
}

}  // namespace
}  // namespace encore::test
