// The seat map as browsers read it (API.md "Reservations and payment"): an ETag on every answer,
// 304 without a body for a matching If-None-Match, gzip when asked, and never a stale map after a
// change (read-your-writes).

#include <catch2/catch.hpp>

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

}  // namespace
}  // namespace encore::test
