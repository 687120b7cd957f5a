// The seat map as browsers read it (API.md "Reservations and payment"): an ETag on every answer,
// 304 without a body for a matching If-None-Match, gzip when asked, and never a stale map after a
// change (read-your-writes).

#include <catch2/catch.hpp>

#include <algorithm>

#include <zlib.h>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

std::string gunzip(const std::string& in) {
    z_stream z{};
    REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
    std::string out;
    char buffer[16384];
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    int status = Z_OK;
    while (status == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(buffer);
        z.avail_out = sizeof buffer;
        status = inflate(&z, Z_NO_FLUSH);
        out.append(buffer, sizeof buffer - z.avail_out);
    }
    inflateEnd(&z);
    REQUIRE(status == Z_STREAM_END);
    return out;
}

TEST_CASE("the seat map sends an ETag, answers a matching If-None-Match with 304 and changes it with the seats",
          "[seats]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(200, 7'000));
    const auto g = admitted_guest(client, concert);

    auto first = call(client, "GET", seats_path(concert), {}, g.headers());
    REQUIRE_STATUS(first, 200);
    const auto etag = first.header("ETag");
    REQUIRE(etag);
    CHECK(etag->front() == '"');
    CHECK(first.header("Vary") == std::optional<std::string>("Accept-Encoding"));
    CHECK_FALSE(first.header("Content-Encoding"));

    auto same = call(client, "GET", seats_path(concert), {}, g.headers() + header_list{{"If-None-Match", *etag}});
    REQUIRE_STATUS(same, 304);
    CHECK(same.body.empty());
    CHECK(same.header("ETag") == etag);
    // Weak comparison, lists and "*", as RFC 9110 says for If-None-Match.
    for (const std::string& header : {"W/" + *etag, "\"other\", " + *etag, std::string("*")}) {
        INFO(header);
        CHECK_STATUS(call(client, "GET", seats_path(concert), {}, g.headers() + header_list{{"If-None-Match", header}}), 304);
    }
    CHECK_STATUS(call(client, "GET", seats_path(concert), {}, g.headers() + header_list{{"If-None-Match", "\"e1v1\""}}), 200);

    // A hold changes the map: the old ETag no longer matches, and the new body shows the hold.
    REQUIRE_STATUS(hold(client, g, concert, 3), 201);
    auto changed = call(client, "GET", seats_path(concert), {}, g.headers() + header_list{{"If-None-Match", *etag}});
    REQUIRE_STATUS(changed, 200);
    REQUIRE(changed.header("ETag"));
    CHECK(changed.header("ETag") != etag);
    CHECK(changed.json().at("seats")[2].at("status") == "HELD");
    // The filtered map has its own rendering and ETag.
    auto available = call(client, "GET", seats_path(concert) + "?status=AVAILABLE", {}, g.headers());
    REQUIRE_STATUS(available, 200);
    CHECK(available.json().at("seats").size() == 199);
    CHECK(available.header("ETag") != changed.header("ETag"));
}

TEST_CASE("the seat map is gzipped for clients that accept it, and the same map otherwise", "[seats]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(2'000, 7'000));
    const auto g = admitted_guest(client, concert);

    auto plain = call(client, "GET", seats_path(concert), {}, g.headers());
    REQUIRE_STATUS(plain, 200);
    auto zipped = call(client, "GET", seats_path(concert), {}, g.headers() + header_list{{"Accept-Encoding", "br, gzip;q=0.8"}});
    REQUIRE_STATUS(zipped, 200);
    CHECK(zipped.header("Content-Encoding") == std::optional<std::string>("gzip"));
    CHECK(zipped.body.size() * 5 < plain.body.size());
    CHECK(gunzip(zipped.body) == plain.body);
    // Either form's ETag revalidates the map.
    const auto zipped_etag = zipped.header("ETag");
    REQUIRE(zipped_etag);
    CHECK_STATUS(call(client, "GET", seats_path(concert), {}, g.headers() + header_list{{"If-None-Match", *zipped_etag}}), 304);

    for (const char* refused : {"gzip;q=0", "identity", "br", "gzip; q=0.000"}) {
        INFO(refused);
        auto r = call(client, "GET", seats_path(concert), {}, g.headers() + header_list{{"Accept-Encoding", refused}});
        REQUIRE_STATUS(r, 200);
        CHECK_FALSE(r.header("Content-Encoding"));
        CHECK(r.body == plain.body);
    }
}

// Every form of the map (whole, a section's, the overview; plain and gzip) as kept in pieces,
// against the same seats as the status filters render them whole.
void check_forms(http_client& client, const guest& g, const std::string& concert, bool venue) {
    const header_list zip = g.headers() + header_list{{"Accept-Encoding", "gzip"}};
    auto plain = call(client, "GET", seats_path(concert), {}, g.headers());
    auto zipped = call(client, "GET", seats_path(concert), {}, zip);
    REQUIRE_STATUS(plain, 200);
    REQUIRE_STATUS(zipped, 200);
    REQUIRE(zipped.header("Content-Encoding") == std::optional<std::string>("gzip"));
    CHECK(gunzip(zipped.body) == plain.body);
    const json whole = plain.json();
    json by_status = json::array();
    for (const char* status : {"AVAILABLE", "HELD", "SOLD", "BLOCKED"}) {
        auto part = call(client, "GET", seats_path(concert) + "?status=" + status, {}, g.headers());
        REQUIRE_STATUS(part, 200);
        const json shown = part.json();
        for (const json& seat : shown.at("seats")) by_status.push_back(seat);
        if (venue) CHECK(shown.at("sections") == whole.at("sections"));
    }
    std::sort(by_status.begin(), by_status.end(), [](const json& a, const json& b) { return a.at("number") < b.at("number"); });
    const json& seats = whole.at("seats");
    REQUIRE(by_status.size() == seats.size());
    for (std::size_t i = 0; i < seats.size(); ++i) {
        INFO("seat " << i + 1 << " in the whole map: " << seats[i].dump() << "; by status: " << by_status[i].dump());
        if (by_status[i] != seats[i]) CHECK(by_status[i] == seats[i]);
    }
    if (!venue) return;
    for (const char* section : {"A", "B", "FLOOR"}) {
        INFO(section);
        auto one = call(client, "GET", seats_path(concert) + "?section=" + section, {}, zip);
        REQUIRE_STATUS(one, 200);
        const json map = json::parse(one.header("Content-Encoding") ? gunzip(one.body) : one.body);
        json expected = json::array();
        for (const json& seat : whole.at("seats"))
            if (seat.at("section") == section) expected.push_back(seat);
        CHECK(map.at("seats") == expected);
        CHECK(map.at("sections") == whole.at("sections"));
    }
    auto overview = call(client, "GET", seats_path(concert) + "?overview=true", {}, zip);
    REQUIRE_STATUS(overview, 200);
    const json shown = json::parse(overview.header("Content-Encoding") ? gunzip(overview.body) : overview.body);
    CHECK(shown == json{{"concertId", concert}, {"date", concert_date}, {"seats", json::array()}, {"sections", whole.at("sections")}});
}

}  // namespace

TEST_CASE("the seat map kept in pieces: after holds, blocks, places and a price change every form is the map the filters show", "[seats]") {
    server_process server;
    http_client client(server.host(), server.port());
    const header_list admin = admin_header(server.admin_key());
    SECTION("a venue: a section a piece") {
        json body = concert_body();
        body.erase("schedules");
        body["grades"] = json::array({{{"grade", "VIP"}, {"price", 100'000}}, {{"grade", "R"}, {"price", 60'000}}});
        body["layout"] = {{"sections", json::array({{{"section", "A"}, {"grade", "VIP"}, {"rows", 3}, {"seatsPerRow", 30}},
                                                    {{"section", "FLOOR"}, {"grade", "VIP"}, {"standing", 10}},
                                                    {{"section", "B"}, {"grade", "R"}, {"rows", {20, 25, 30}}}})}};
        body["schedules"] = json::array({{{"date", concert_date}}});
        const auto concert = create_concert(client, server, body);
        const auto g = admitted_guest(client, concert);
        check_forms(client, g, concert, true);
        REQUIRE_STATUS(hold(client, g, concert, 5), 201);     // A
        REQUIRE_STATUS(hold(client, g, concert, 120), 201);   // B's second row
        REQUIRE_STATUS(call(client, "POST", "/concerts/" + concert + "/dates/" + std::string(concert_date) + "/holds",
                            json{{"count", 2}, {"section", "FLOOR"}}.dump(), g.headers()),
                       201);
        REQUIRE_STATUS(call(client, "POST", "/admin/concerts/" + concert + "/dates/" + std::string(concert_date) + "/blocks",
                            json{{"seats", {91, 92, 160}}, {"reason", "camera"}}.dump(), admin),
                       200);
        check_forms(client, g, concert, true);
        REQUIRE_STATUS(call(client, "PATCH", "/admin/concerts/" + concert,
                            json{{"grades", {{{"grade", "VIP"}, {"price", 110'000}}, {{"grade", "R"}, {"price", 60'000}}}}}.dump(), admin),
                       200);
        check_forms(client, g, concert, true);
        CHECK(call(client, "GET", seats_path(concert) + "?section=A", {}, g.headers()).json().at("seats").at(0).at("price") == 110'000);
    }
    SECTION("without a venue: runs of seats") {
        const auto concert = create_concert(client, server, concert_body(2'500, 7'000));
        const auto g = admitted_guest(client, concert);
        check_forms(client, g, concert, false);
        REQUIRE_STATUS(hold(client, g, concert, 1024), 201);
        REQUIRE_STATUS(hold(client, g, concert, 2500), 201);
        check_forms(client, g, concert, false);
    }
}

}  // namespace encore::test
