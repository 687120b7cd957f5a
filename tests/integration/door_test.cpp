// Tickets and the door over HTTP (API.md "Tickets and the door"): a paid reservation's tickets
// with their signed codes (verified here with OpenSSL and the public key route), the QR code read
// back by a real decoder (zbarimg), scanners and their keys, check-ins online (two gates, one
// admission) and offline batches, revocation by refund, the door's ticket list and the audit.

#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "events/text.hpp"
#include "tests/integration/api.hpp"
#include "tests/support/run_command.hpp"

namespace encore::test {
namespace {

// Section A (grade R, 1 row of 4 seats, gate N) and FLOOR (standing, 4 places, gate S).
json door_concert_body() {
    json body = concert_body();
    body.erase("schedules");
    body["title"] = "Door";
    body["grades"] = json::array({{{"grade", "R"}, {"price", 50'000}}});
    body["layout"] = {{"sections", json::array({{{"section", "A"}, {"grade", "R"}, {"rows", 1}, {"seatsPerRow", 4}, {"gate", "N"}},
                                                {{"section", "FLOOR"}, {"grade", "R"}, {"standing", 4}, {"gate", "S"}}})}};
    body["schedules"] = json::array({{{"date", concert_date}}, {{"date", other_date}}});
    body["refundsUntil"] = "2099-01-01T00:00:00.000Z";
    return body;
}

// A named user admitted to the concert, with money.
guest named_guest(http_client& client, const std::string& concert, const std::string& name) {
    guest g{new_user(client, name), {}};
    auto joined = enqueue(client, g.user, concert);
    expect_status(joined, 201, "POST /concerts/{id}/queue");
    g.queue_token = joined.json().at("queueToken").get<std::string>();
    REQUIRE(joined.json().at("status") == "ACTIVE");
    REQUIRE_STATUS(charge(client, g.user, 1'000'000), 200);
    return g;
}

std::string bought(http_client& client, const guest& g, const std::string& concert, const json& hold, std::string_view date = concert_date) {
    auto held = call(client, "POST", "/concerts/" + concert + "/dates/" + std::string(date) + "/holds", hold.dump(), g.headers());
    REQUIRE_STATUS(held, 201);
    const std::string id = held.json().at("reservationId").get<std::string>();
    REQUIRE_STATUS(pay(client, g.user, id), 201);
    return id;
}

std::string decode_text(std::string_view text) {
    std::string out(text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1), '\0');
    REQUIRE(base64url_decode(text, {reinterpret_cast<std::uint8_t*>(out.data()), out.size()}));
    return out;
}

// A compact JWS verified as any JOSE library would: EdDSA over "header.payload" with the key.
bool signature_verifies(const std::string& code, const std::string& public_key) {
    const auto first = code.find('.'), second = code.rfind('.');
    const std::string key = decode_text(public_key);
    const std::string signature = decode_text(code.substr(second + 1));
    EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(key.data()), key.size());
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    const bool ok = pkey != nullptr && first != second && EVP_DigestVerifyInit(context, nullptr, nullptr, nullptr, pkey) == 1 &&
                    EVP_DigestVerify(context, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                     reinterpret_cast<const unsigned char*>(code.data()), second) == 1;
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(pkey);
    return ok;
}

struct door_scanner {
    std::string id, key;
};

door_scanner add_scanner(http_client& client, const server_process& server, const std::string& concert, const json& body) {
    auto added = call(client, "POST", "/admin/concerts/" + concert + "/scanners", body.dump(), admin_header(server.admin_key()));
    REQUIRE_STATUS(added, 201);
    return {added.json().at("scannerId").get<std::string>(), added.json().at("key").get<std::string>()};
}

http_reply check_in(http_client& client, const std::string& concert, const header_list& key, const json& body) {
    return call(client, "POST", "/admin/concerts/" + concert + "/checkins", body.dump(), key);
}

header_list scanner_header(const door_scanner& s) { return {{"X-Scanner-Key", s.key}}; }

}  // namespace

TEST_CASE("tickets: one per seat or place, signed with the concert's key, as a QR code a decoder reads back", "[door][tickets]") {
    server_process server;
    http_client client(server.host(), server.port());
    const std::string concert = create_concert(client, server, door_concert_body());
    const guest fan = named_guest(client, concert, "Kim Jiwoo");
    const std::string seats = bought(client, fan, concert, {{"seats", {2, 3}}});
    const guest floor = named_guest(client, concert, "Lee Minho");
    const std::string places = bought(client, floor, concert, {{"count", 2}, {"section", "FLOOR"}});

    auto reply = call(client, "GET", "/reservations/" + seats + "/tickets", {}, bearer(fan.user.token));
    REQUIRE_STATUS(reply, 200);
    const json tickets = reply.json().at("tickets");
    INFO(tickets.dump());
    REQUIRE(tickets.size() == 2);
    const json& first = tickets.at(0);
    CHECK(first.at("reservationId") == seats);
    CHECK(first.at("concertId") == concert);
    CHECK(first.at("date") == concert_date);
    CHECK(first.at("seat") == 2);
    CHECK(first.at("section") == "A");
    CHECK(first.at("row") == 1);
    CHECK(first.at("seatInRow") == 2);
    CHECK(first.at("grade") == "R");
    CHECK(first.at("gate") == "N");
    CHECK(first.at("holder") == "Kim Jiwoo");
    CHECK(first.at("status") == "VALID");
    CHECK(tickets.at(1).at("seat") == 3);
    CHECK(tickets.at(0).at("ticketId") != tickets.at(1).at("ticketId"));

    // The code: a JWS with {"alg":"EdDSA"} whose payload names the ticket, verified with the public key.
    const std::string code = first.at("code");
    const auto key = call(client, "GET", "/concerts/" + concert + "/ticket-key", {}).json();
    CHECK(key.at("alg") == "Ed25519");
    CHECK(signature_verifies(code, key.at("publicKey")));
    std::string forged = code;
    forged[code.find('.') + 3] = forged[code.find('.') + 3] == 'A' ? 'B' : 'A';
    CHECK_FALSE(signature_verifies(forged, key.at("publicKey")));
    CHECK(json::parse(decode_text(code.substr(0, code.find('.')))) == json{{"alg", "EdDSA"}});
    const json payload = json::parse(decode_text(code.substr(code.find('.') + 1, code.rfind('.') - code.find('.') - 1)));
    CHECK(payload == json{{"tid", first.at("ticketId")}, {"cid", concert}, {"date", concert_date}, {"seat", 2}, {"sec", "A"}, {"gate", "N"}, {"v", 1}});
    // The same code every time (Ed25519 signatures are deterministic).
    CHECK(call(client, "GET", "/reservations/" + seats + "/tickets", {}, bearer(fan.user.token)).json().at("tickets").at(0).at("code") == code);

    // Standing places: entry numbers in payment order, the zone's gate, no seat.
    const json standing = call(client, "GET", "/reservations/" + places + "/tickets", {}, bearer(floor.user.token)).json().at("tickets");
    REQUIRE(standing.size() == 2);
    CHECK(standing.at(0).at("entryNumber") == 1);
    CHECK(standing.at(1).at("entryNumber") == 2);
    CHECK(standing.at(1).at("section") == "FLOOR");
    CHECK(standing.at(1).at("gate") == "S");
    CHECK(standing.at(1).at("holder") == "Lee Minho");
    CHECK_FALSE(standing.at(1).contains("seat"));
    CHECK_ERROR(call(client, "GET", "/reservations/" + places + "/tickets", {}), 401, "UNAUTHORIZED");

    // The QR code, read back by zbarimg, is the code.
    auto qr = call(client, "GET", "/tickets/" + first.at("ticketId").get<std::string>() + "/qr.svg", {}, bearer(fan.user.token));
    REQUIRE_STATUS(qr, 200);
    CHECK(qr.header("Content-Type").value_or("") == "image/svg+xml");
    const std::filesystem::path svg = std::filesystem::path(server.data_dir()).parent_path() / "ticket.svg";
    std::ofstream(svg) << qr.body;
    // zbarimg reads SVG through ImageMagick, which renders it with rsvg-convert (librsvg2-bin).
    const command_run read = run_command("zbarimg --quiet --raw " + svg.string() + " 2>/dev/null");
    INFO(read.output);
    CHECK(read.status == 0);
    CHECK(read.output == code + "\n");

    // Another user's tickets are not found; a hold not paid has none.
    const guest other = named_guest(client, concert, "Park");
    CHECK_ERROR(call(client, "GET", "/reservations/" + seats + "/tickets", {}, bearer(other.user.token)), 404, "RESERVATION_NOT_FOUND");
    CHECK_ERROR(call(client, "GET", "/tickets/" + first.at("ticketId").get<std::string>() + "/qr.svg", {}, bearer(other.user.token)), 404,
                "TICKET_NOT_FOUND");
    auto hold = call(client, "POST", "/concerts/" + concert + "/dates/" + std::string(concert_date) + "/holds", json{{"seats", {4}}}.dump(),
                     other.headers());
    REQUIRE_STATUS(hold, 201);
    CHECK_ERROR(call(client, "GET", "/reservations/" + hold.json().at("reservationId").get<std::string>() + "/tickets", {}, bearer(other.user.token)),
                409, "NOT_PAID");
    CHECK_ERROR(call(client, "GET", "/concerts/c-0000000000000001/ticket-key", {}), 404, "CONCERT_NOT_FOUND");
}

TEST_CASE("the door: scanners, two gates and one admission, offline batches, revocation and the audit", "[door][checkins]") {
    server_process server;
    http_client client(server.host(), server.port());
    const std::string concert = create_concert(client, server, door_concert_body());
    const header_list admin = admin_header(server.admin_key());
    const guest fan = named_guest(client, concert, "Kim Jiwoo");
    const std::string seats = bought(client, fan, concert, {{"seats", {1, 2}}});
    const guest floor_fan = named_guest(client, concert, "Lee Minho");
    const std::string places = bought(client, floor_fan, concert, {{"count", 2}, {"section", "FLOOR"}});
    auto tickets_of = [&](const guest& g, const std::string& r) {
        return call(client, "GET", "/reservations/" + r + "/tickets", {}, bearer(g.user.token)).json().at("tickets");
    };
    const json seat_tickets = tickets_of(fan, seats), place_tickets = tickets_of(floor_fan, places);
    CHECK(place_tickets.at(0).at("entryNumber") == 1);
    CHECK(place_tickets.at(1).at("entryNumber") == 2);
    CHECK(place_tickets.at(0).at("gate") == "S");
    CHECK_FALSE(place_tickets.at(0).contains("seat"));
    const std::string seat1 = seat_tickets.at(0).at("code"), seat2 = seat_tickets.at(1).at("code");
    const std::string place1 = place_tickets.at(0).at("code"), place2 = place_tickets.at(1).at("code");

    // Scanners: at a gate of the venue; another gate is 400; a key works only for its concert.
    const door_scanner north = add_scanner(client, server, concert, {{"name", "North 1"}, {"gate", "N"}});
    const door_scanner south = add_scanner(client, server, concert, {{"name", "South 1"}, {"gate", "S"}});
    const door_scanner roaming = add_scanner(client, server, concert, {{"name", "Supervisor"}});
    CHECK_ERROR(call(client, "POST", "/admin/concerts/" + concert + "/scanners", json{{"name", "West"}, {"gate", "W"}}.dump(), admin), 400,
                "INVALID_REQUEST");
    CHECK_ERROR(call(client, "POST", "/admin/concerts/" + concert + "/scanners", json{{"gate", "N"}}.dump(), admin), 400, "INVALID_REQUEST");
    const auto listed = call(client, "GET", "/admin/concerts/" + concert + "/scanners", {}, admin).json().at("scanners");
    REQUIRE(listed.size() == 3);
    CHECK(listed.at(0).at("key") == north.key);

    const json at_door = {{"date", concert_date}};
    auto scan = [&](const door_scanner& s, const std::string& code, json extra = json::object()) {
        json body = at_door;
        body["code"] = code;
        body.update(extra);
        return check_in(client, concert, scanner_header(s), body);
    };

    // Admitted once; the same ticket again, at any gate: 409 ALREADY_ADMITTED with when and where.
    auto admitted = scan(north, seat1);
    REQUIRE_STATUS(admitted, 200);
    CHECK(admitted.json().at("result") == "ADMITTED");
    CHECK(admitted.json().at("ticket").at("status") == "ADMITTED");
    CHECK(admitted.json().at("ticket").at("holder") == "Kim Jiwoo");
    auto again = scan(roaming, seat1);
    CHECK_ERROR(again, 409, "ALREADY_ADMITTED");
    CHECK(again.json().at("error").at("gate") == "N");
    CHECK(instant_ms(again.json().at("error").at("admittedAt").get<std::string>()) > 0);
    // The wrong gate, date, a forged code, a key of nothing.
    CHECK_ERROR(scan(north, place1), 409, "WRONG_GATE");
    CHECK_ERROR(scan(south, seat2, {{"date", other_date}}), 409, "WRONG_DATE");
    std::string forged = seat2;
    forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
    CHECK_ERROR(scan(north, forged), 400, "INVALID_TICKET");
    CHECK_ERROR(scan(north, "not a ticket"), 400, "INVALID_TICKET");
    CHECK_ERROR(check_in(client, concert, {{"X-Scanner-Key", north.key + "x"}}, {{"code", seat2}, {"date", concert_date}}), 401, "UNAUTHORIZED");
    CHECK_ERROR(check_in(client, concert, {}, {{"code", seat2}, {"date", concert_date}}), 401, "UNAUTHORIZED");
    CHECK_ERROR(scan(north, seat2, {{"gate", "S"}}), 400, "INVALID_REQUEST");
    // The same scan id again answers its first result.
    REQUIRE_STATUS(scan(roaming, place2, {{"scanId", "r-1"}}), 200);
    auto repeated = scan(roaming, place2, {{"scanId", "r-1"}});
    REQUIRE_STATUS(repeated, 200);
    CHECK(repeated.json().at("again") == true);
    CHECK_ERROR(scan(roaming, place2, {{"scanId", "r-2"}}), 409, "ALREADY_ADMITTED");

    // Two gates scan one ticket at the same instant: one admission.
    std::atomic<int> admissions{0}, refusals{0};
    {
        std::vector<std::thread> gates;
        for (const door_scanner* s : {&north, &roaming, &north, &roaming}) {
            gates.emplace_back([&, s] {
                http_client own(server.host(), server.port());
                auto r = check_in(own, concert, scanner_header(*s), {{"code", seat2}, {"date", concert_date}});
                (r.status == 200 ? admissions : refusals) += 1;
            });
        }
        for (auto& t : gates) t.join();
    }
    CHECK(admissions == 1);
    CHECK(refusals == 3);

    // Offline: a batch uploaded on reconnect, applied in order.
    bought(client, named_guest(client, concert, "Choi"), concert, {{"count", 1}, {"section", "FLOOR"}});
    auto batch = call(client, "POST", "/admin/concerts/" + concert + "/checkins/batch",
                      json{{"scans", json::array({{{"code", place1}, {"date", concert_date}, {"scannedAt", instant_text(now_ms() - 60'000)}, {"scanId", "s-1"}},
                                                  {{"code", place1}, {"date", concert_date}, {"scanId", "s-2"}},
                                                  {{"code", forged}, {"date", concert_date}, {"scanId", "s-3"}},
                                                  {{"code", seat1}, {"date", concert_date}, {"scanId", "s-4"}},
                                                  {{"code", place2}, {"date", other_date}, {"scanId", "s-5"}}})}}.dump(),
                      scanner_header(south));
    REQUIRE_STATUS(batch, 200);
    const json results = batch.json().at("results");
    INFO(results.dump());
    REQUIRE(results.size() == 5);
    CHECK(results.at(0).at("result") == "ADMITTED");
    CHECK(results.at(1).at("result") == "DUPLICATE");
    CHECK(results.at(1).at("first").at("gate") == "S");
    CHECK(results.at(2).at("result") == "INVALID");
    CHECK(results.at(3).at("result") == "DUPLICATE");
    CHECK(results.at(3).at("first").at("gate") == "N");
    CHECK(results.at(4).at("result") == "DUPLICATE");  // admitted before, whatever the date
    CHECK_ERROR(call(client, "POST", "/admin/concerts/" + concert + "/checkins/batch", json{{"scans", json::array()}}.dump(), scanner_header(south)),
                400, "INVALID_REQUEST");

    // A refund revokes; a reservation with an admitted ticket is not refunded.
    CHECK_ERROR(call(client, "POST", "/reservations/" + seats + "/refund", {}, bearer(fan.user.token)), 409, "TICKET_USED");
    const guest late = named_guest(client, concert, "Jung");
    const std::string refunded = bought(client, late, concert, {{"seats", {3}}});
    const std::string refunded_code = tickets_of(late, refunded).at(0).at("code");
    REQUIRE_STATUS(call(client, "POST", "/reservations/" + refunded + "/refund", {}, bearer(late.user.token)), 200);
    CHECK(tickets_of(late, refunded).at(0).at("status") == "REVOKED");
    CHECK_ERROR(scan(north, refunded_code), 410, "TICKET_REVOKED");

    // The door's list: a scanner sees its gate's tickets, the organizer every one.
    auto list = [&](const header_list& key, const std::string& query = "") {
        auto r = call(client, "GET", "/admin/concerts/" + concert + "/dates/" + std::string(concert_date) + "/tickets" + query, {}, key);
        REQUIRE_STATUS(r, 200);
        return r.json().at("tickets");
    };
    const json everyone = list(admin);
    CHECK(everyone.size() == 6);  // seats 1, 2, 3 (revoked) and three FLOOR places
    const json south_list = list(scanner_header(south));
    CHECK(south_list.size() == 3);
    for (const json& t : south_list) CHECK(t.at("gate") == "S");
    CHECK(list(scanner_header(north), "?gate=S").size() == 3);
    CHECK(list(admin, "?limit=1").size() == 2);  // the first reservation's two seats

    // Admissions per gate.
    const json checkins = call(client, "GET", "/admin/concerts/" + concert + "/checkins", {}, admin).json();
    INFO(checkins.dump());
    // Seat 1 at N, a place by the supervisor (no gate), a place at S, seat 2 where the race was won.
    std::uint64_t total = 0;
    for (const json& g : checkins.at("gates")) {
        total += g.at("admitted").get<std::uint64_t>();
        if (g.at("gate") == "S") CHECK(g.at("admitted") == 1);
    }
    CHECK(total == 4);
    REQUIRE_FALSE(checkins.at("buckets").empty());
    const std::string metrics = call(client, "GET", "/metrics", {}).body;
    CHECK(metrics.find("encore_admissions_total{gate=\"S\"} 1\n") != std::string::npos);

    // A removed scanner's key stops working at once.
    REQUIRE_STATUS(call(client, "DELETE", "/admin/concerts/" + concert + "/scanners/" + north.id, {}, admin), 200);
    CHECK_ERROR(scan(north, seat1), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "DELETE", "/admin/concerts/" + concert + "/scanners/" + north.id, {}, admin), 404, "SCANNER_NOT_FOUND");

    // The audit proves no ticket was admitted twice and lists those scanned more than once.
    REQUIRE(server.stop() == 0);
    const command_run audit = run_command(std::string(ENCORE_BINARY) + " audit --data-dir " + server.data_dir() + " --json 2>/dev/null");
    INFO(audit.output);
    REQUIRE(audit.status == 0);
    const json door = json::parse(audit.output).at("door");
    CHECK(door.at("admitted") == 4);
    CHECK(door.at("admitted_twice") == 0);
    // Seat 1 (3 scans), seat 2 (the race: 4), place 1 (2), place 2 (3; the repeat of scan r-1 is not a scan).
    CHECK(door.at("rescanned").size() == 4);
}

}  // namespace encore::test
