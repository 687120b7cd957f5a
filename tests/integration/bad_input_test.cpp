// Bad input (API.md "Conventions": no request, however malformed, may crash the server, hang it,
// or change state). Each request gets its 4xx, and afterwards a balance, the catalog and a seat
// show that nothing changed, and the server still serves.

#include <catch2/catch.hpp>

#include <random>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

// A server with one user (balance 1000), one concert and an admitted guest, and the checks that
// nothing moved.
struct world {
    server_process server;
    http_client client{server.host(), server.port()};
    user_account kim = new_user(client);
    std::string concert = create_concert(client, server, concert_body(10, 100));
    guest g = admitted_guest(client, concert);
    std::int64_t expected_balance = 1'000;

    world() { expect_status(charge(client, kim, 1'000), 200, "charge"); }

    void require_unchanged() {
        http_client fresh(server.host(), server.port());
        REQUIRE_STATUS(call(fresh, "GET", "/healthz"), 200);
        CHECK(balance_of(fresh, kim) == expected_balance);
        CHECK(call(fresh, "GET", "/concerts").json().at("concerts").size() == 1);
        auto map = call(fresh, "GET", seats_path(concert), {}, g.headers());
        REQUIRE_STATUS(map, 200);
        const json map_seats = map.json().at("seats");
        for (const json& s : map_seats) CHECK(s.at("status") == "AVAILABLE");
        CHECK(call(fresh, "GET", "/users/me/reservations", {}, bearer(g.user.token)).json().at("reservations").empty());
    }
};

// Sends bytes on a new connection and reads one reply.
http_reply raw_exchange(const server_process& server, std::string_view bytes) {
    http_client raw(server.host(), server.port());
    if (auto sent = raw.send_raw(bytes); !sent) throw std::runtime_error("send: " + sent.err().message);
    auto reply = raw.read_reply();
    if (!reply) throw std::runtime_error("no reply to raw bytes: " + reply.err().message);
    return std::move(reply).value();
}

std::string request_head(const std::string& line, const std::string& extra_headers = {}) {
    return line + "\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
}

TEST_CASE("malformed and mistyped JSON bodies get 400 and change nothing", "[bad-input]") {
    world w;
    const std::vector<std::string> bodies = {
        "{", "{amount: 10}", "{'amount': 10}", R"({"amount": 10,})", R"({"amount": 10} {"amount": 10})",
        R"("amount")", "null", "[]", "10", "\xff\xfe\x00\x01", R"({"amount": 1e999999})",
        R"({"amount": 10)", std::string(30'000, '[') + std::string(30'000, ']'),
        "{\"amount\": " + std::string(20'000, '[') + std::string(20'000, ']') + "}",
        R"({"amount": {"value": 10}})", R"({"amount": "1e3"})", R"({"amount": 0x10})", R"({"amount": 010})",
        R"({"amount": +10})", R"({"amount": NaN})", R"({"amount": Infinity})"};
    for (const auto& body : bodies) {
        INFO(body.substr(0, 80));
        auto reply = call(w.client, "POST", "/users/me/balance/charge", body, bearer(w.kim.token));
        CHECK_STATUS(reply, 400);
        CHECK_FALSE(error_code_of(reply).empty());
    }
    // A key repeated in one object (either value could be "the" amount), at the top or nested.
    CHECK_ERROR(call(w.client, "POST", "/users/me/balance/charge", R"({"amount": 10, "amount": 1000000})", bearer(w.kim.token)),
                400, "INVALID_REQUEST");
    CHECK_ERROR(call(w.client, "POST", "/admin/concerts",
                     R"({"title": "x", "schedules": [{"date": "2030-12-24", "seats": 5, "seats": 50, "price": 1}]})",
                     admin_header(w.server.admin_key())),
                400, "INVALID_REQUEST");
    // (The same key in two objects of one body is fine: every catalog with two schedules has it.)
    // Invalid UTF-8 inside a string and a wrongly typed name.
    CHECK_STATUS(call(w.client, "POST", "/users", "{\"name\": \"\xff\xfe\"}"), 400);
    CHECK_STATUS(call(w.client, "POST", "/users", R"({"name": {"first": "kim"}})"), 400);
    // Catalogs, holds and payments with bodies they do not expect.
    CHECK_STATUS(call(w.client, "POST", "/admin/concerts", "{\"title\": \"x\", \"schedules\": [{\"date\": \"2030-12-24\", "
                                                          "\"seats\": 5, \"price\": \"free\"}]}",
                      admin_header(w.server.admin_key())),
                 400);
    w.require_unchanged();
}

TEST_CASE("a body over 64 KiB gets 413 and headers over the limit 431, and nothing changes", "[bad-input]") {
    world w;
    // Exactly 64 KiB is allowed.
    std::string exact = R"({"amount": 10})";
    exact.append(64 * 1024 - exact.size(), ' ');
    CHECK_STATUS(call(w.client, "POST", "/users/me/balance/charge", exact, bearer(w.kim.token)), 200);
    w.expected_balance += 10;

    std::string over = R"({"amount": 10, "pad": ")" + std::string(65 * 1024, 'x') + "\"}";
    {
        http_client big(w.server.host(), w.server.port());
        CHECK_ERROR(call(big, "POST", "/users/me/balance/charge", over, bearer(w.kim.token)), 413, "PAYLOAD_TOO_LARGE");
    }
    {
        http_client big(w.server.host(), w.server.port());
        std::string just_over = R"({"amount": 10})";
        just_over.append(64 * 1024 + 1 - just_over.size(), ' ');
        CHECK_STATUS(call(big, "POST", "/users/me/balance/charge", just_over, bearer(w.kim.token)), 413);
    }
    // The same over a chunked body, whose size is not announced.
    {
        std::string chunked = request_head("POST /users/me/balance/charge HTTP/1.1",
                                           "Authorization: Bearer " + w.kim.token +
                                               "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n");
        std::string payload = R"({"amount": 10, "pad": ")" + std::string(70 * 1024, 'y') + "\"}";
        for (std::size_t at = 0; at < payload.size(); at += 8 * 1024) {
            const std::string part = payload.substr(at, 8 * 1024);
            char size[32];
            std::snprintf(size, sizeof size, "%zx\r\n", part.size());
            chunked += size + part + "\r\n";
        }
        chunked += "0\r\n\r\n";
        CHECK_STATUS(raw_exchange(w.server, chunked), 413);
    }
    // A Content-Length that announces too much is refused before the body arrives.
    CHECK_STATUS(raw_exchange(w.server, request_head("POST /users/me/balance/charge HTTP/1.1",
                                                     "Authorization: Bearer " + w.kim.token +
                                                         "\r\nContent-Length: 10000000\r\n")),
                 413);

    // One huge header, and many small ones.
    {
        http_client big(w.server.host(), w.server.port());
        CHECK_ERROR(call(big, "POST", "/users/me/balance/charge", R"({"amount": 10})",
                         bearer(w.kim.token) + header_list{{"X-Pad", std::string(9'000, 'h')}}),
                    431, "HEADERS_TOO_LARGE");
    }
    {
        http_client big(w.server.host(), w.server.port());
        header_list many = bearer(w.kim.token);
        for (int i = 0; i < 300; ++i) many.push_back({"X-Pad-" + std::to_string(i), std::string(40, 'h')});
        CHECK_STATUS(call(big, "POST", "/users/me/balance/charge", R"({"amount": 10})", many), 431);
    }
    w.require_unchanged();
}

TEST_CASE("unknown routes get 404, wrong methods 405 with Allow", "[bad-input]") {
    world w;
    for (const char* target : {"/nope", "/users/me/wallet", "/api/users", "/concerts/x/y/z", "/users/me/balance/charge/now",
                               "/reservations", "/admin/", "/admin/x", "/admin/concerts/x/y", "/healthz/x", "/%00", "/users%2fme%2fbalance"}) {
        INFO(target);
        CHECK_ERROR(call(w.client, "GET", target, {}, bearer(w.kim.token)), 404, "NOT_FOUND");
    }
    struct wrong {
        const char* method;
        std::string target;
        const char* allowed;
    };
    const std::vector<wrong> wrongs = {{"PUT", "/users", "POST"},
                                       {"GET", "/users", "POST"},
                                       {"DELETE", "/concerts", "GET"},
                                       {"GET", "/users/me/balance/charge", "POST"},
                                       {"POST", "/users/me/balance", "GET"},
                                       {"PATCH", "/reservations/r-0-1", "DELETE"},
                                       {"GET", "/reservations/r-0-1/pay", "POST"},
                                       {"DELETE", "/concerts/" + w.concert + "/queue", "POST"},
                                       {"GET", "/admin/concerts", "POST"}};
    for (const auto& x : wrongs) {
        INFO(x.method << " " << x.target);
        auto reply = call(w.client, x.method, x.target, {}, bearer(w.kim.token) + admin_header(w.server.admin_key()));
        CHECK_ERROR(reply, 405, "METHOD_NOT_ALLOWED");
        CHECK(reply.header("Allow").value_or("").find(x.allowed) != std::string::npos);
    }
    // A method HTTP does not know.
    auto odd = raw_exchange(w.server, request_head("BREW /users HTTP/1.1", "Content-Length: 0\r\n"));
    INFO(describe(odd));
    CHECK(odd.status == 501);
    CHECK(error_code_of(odd) == "NOT_IMPLEMENTED");
    // The fixed GET paths asked with another method: 405 naming GET and HEAD.
    for (const char* target : {"/", "/healthz", "/readyz", "/metrics", "/openapi.json"}) {
        INFO(target);
        auto r = call(w.client, "POST", target, "{}");
        CHECK_ERROR(r, 405, "METHOD_NOT_ALLOWED");
        CHECK(r.header("Allow") == std::optional<std::string>("GET, HEAD"));
    }
    w.require_unchanged();
}

TEST_CASE("forged and swapped tokens and keys change nothing", "[bad-input][auth]") {
    world w;
    const std::string path = hold_path(w.concert, concert_date, "1");
    // The queue token as the user token and the reverse.
    CHECK_ERROR(call(w.client, "POST", path, {}, bearer(w.g.queue_token) + header_list{{"X-Queue-Token", w.g.user.token}}),
                401, "UNAUTHORIZED");
    // Another user with the guest's queue token.
    CHECK_ERROR(call(w.client, "POST", path, {}, bearer(w.kim.token) + header_list{{"X-Queue-Token", w.g.queue_token}}),
                403, "QUEUE_TOKEN_INVALID");
    // The admin key is no user token, and a user token is no admin key.
    CHECK_ERROR(call(w.client, "POST", "/users/me/balance/charge", R"({"amount": 5})", bearer(w.server.admin_key())), 401,
                "UNAUTHORIZED");
    CHECK_ERROR(call(w.client, "POST", "/admin/concerts", concert_body().dump(), admin_header(w.kim.token)), 401,
                "UNAUTHORIZED");
    // Two Authorization headers: the server must not pick the valid one behind a bad one... or
    // at least must not charge the wrong user. Whatever it answers, kim's balance is kim's.
    const auto lee = new_user(w.client);
    auto twice = call(w.client, "POST", "/users/me/balance/charge", R"({"amount": 5})",
                      bearer(lee.token) + bearer(w.kim.token));
    if (twice.status == 200) CHECK(twice.json().at("userId") == lee.id);
    if (twice.status == 200) CHECK(balance_of(w.client, lee) == 5);
    // A token of a user this server never made: one character of the id changed is a forgery.
    std::string other = w.kim.token;
    other[2] = other[2] == 'A' ? 'B' : 'A';
    CHECK_ERROR(call(w.client, "POST", "/users/me/balance/charge", R"({"amount": 5})", bearer(other)), 401, "UNAUTHORIZED");
    w.require_unchanged();
}

TEST_CASE("path tricks reach no other route and change nothing", "[bad-input][paths]") {
    world w;
    const std::string catalog = concert_body().dump();
    // Dot segments and their encodings never reach /admin/concerts without the key.
    for (const char* target : {"/concerts/../admin/concerts", "/concerts/%2e%2e/admin/concerts", "/%2e%2e/admin/concerts",
                               "/concerts/%2E%2E/admin/concerts", "/./admin/concerts", "/concerts/..%2fadmin/concerts",
                               "/concerts/%2e%2e%2fadmin%2fconcerts", "//admin/concerts", "/admin//concerts",
                               "/admin/concerts/", "/admin/./concerts", "/admin/concerts/.", "/admin/concerts%00"}) {
        INFO(target);
        auto reply = call(w.client, "POST", target, catalog, bearer(w.kim.token));
        // 405: "/admin/concerts/." is GET /admin/concerts/{concertId}'s path, which takes no POST.
        CHECK((reply.status == 404 || reply.status == 401 || reply.status == 400 || reply.status == 405));
    }
    // Doubled or trailing slashes are not the same path.
    for (const char* target : {"//users/me/balance", "/users//me/balance", "/users/me/balance/", "/users/me//balance"}) {
        INFO(target);
        CHECK_ERROR(call(w.client, "GET", target, {}, bearer(w.kim.token)), 404, "NOT_FOUND");
    }
    for (const char* target : {"//users/me/balance/charge", "/users/me/balance/charge/", "/users//me/balance/charge"}) {
        INFO(target);
        CHECK_ERROR(call(w.client, "POST", target, R"({"amount": 5})", bearer(w.kim.token)), 404, "NOT_FOUND");
    }
    // Very long paths: under the header limit they are just unknown; over it they are refused.
    CHECK_STATUS(call(w.client, "GET", "/concerts/" + std::string(7'000, 'a') + "/dates", {}, w.g.headers()), 403);
    CHECK_ERROR(call(w.client, "GET", "/" + std::string(7'000, 'a'), {}, {}), 404, "NOT_FOUND");
    {
        http_client longer(w.server.host(), w.server.port());
        auto reply = call(longer, "GET", "/" + std::string(20'000, 'a'));
        INFO(describe(reply));
        CHECK((reply.status == 431 || reply.status == 414));
    }
    // A segment of many thousand slashes.
    CHECK_STATUS(call(w.client, "GET", std::string(5'000, '/') + "users/me/balance", {}, bearer(w.kim.token)), 404);
    // NUL bytes and other raw control characters in the request line.
    for (std::string line : {std::string("GET /users/me\0/balance HTTP/1.1", 31), std::string("GET /users/me/balance\0 HTTP/1.1", 31),
                             std::string("GET /users me/balance HTTP/1.1"), std::string("GET /users/\x01me/balance HTTP/1.1"),
                             std::string("GET /users/me/balance\r HTTP/1.1")}) {
        INFO(line);
        auto reply = raw_exchange(w.server, request_head(line, "Authorization: Bearer " + w.kim.token + "\r\n"));
        CHECK_STATUS(reply, 400);
    }
    // A reservation id with a NUL, percent-encoded.
    CHECK_ERROR(call(w.client, "GET", "/reservations/r-0-1%00", {}, bearer(w.kim.token)), 404, "RESERVATION_NOT_FOUND");
    w.require_unchanged();
}

// Users created so far, as /metrics counts POST /users answered 201.
std::uint64_t users_created(world& w) {
    http_client fresh(w.server.host(), w.server.port());
    const std::string body = call(fresh, "GET", "/metrics").body;
    const std::string series = "encore_http_requests_total{route=\"POST /users\",status=\"201\"} ";
    const std::size_t at = body.find(series);
    return at == std::string::npos ? 0 : std::stoull(body.substr(at + series.size()));
}

TEST_CASE("requests whose framing is ambiguous get 400, close the connection and run nothing smuggled", "[bad-input][framing]") {
    world w;
    // Each would carry a second request (a user creation) that a server reading the body as empty
    // would run; none may run, and each connection is closed after the 400.
    const std::string smuggled = "POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
    const std::string charge = "POST /users/me/balance/charge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + w.kim.token + "\r\n";
    const std::string body = R"({"amount": 10})";
    const std::uint64_t users_before = users_created(w);
    const std::vector<std::string> ambiguous = {
        charge + "Transfer-Encoding: gzip\r\n\r\n" + smuggled,
        charge + "Transfer-Encoding: xchunked\r\n\r\n" + smuggled,
        charge + "Transfer-Encoding: chunked, identity\r\n\r\n" + smuggled,
        charge + "Transfer-Encoding: chunked\r\nContent-Length: 14\r\n\r\ne\r\n" + body + "\r\n0\r\n\r\n" + smuggled,
        charge + "Content-Length: 14\r\nContent-Length: 14\r\n\r\n" + body + smuggled,
        "POST /users/me/balance/charge HTTP/1.1\r\nAuthorization: Bearer " + w.kim.token + "\r\nContent-Length: 14\r\n\r\n" + body + smuggled,
        "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" + smuggled,
    };
    for (const std::string& bytes : ambiguous) {
        INFO(bytes.substr(0, 160));
        http_client raw(w.server.host(), w.server.port());
        REQUIRE(raw.send_raw(bytes));
        auto reply = raw.read_reply();
        REQUIRE(reply);
        CHECK(reply->status == 400);
        CHECK_FALSE(reply->keep_alive);
        // Nothing more comes on this connection: the smuggled request was not run.
        auto more = raw.read_reply();
        CHECK_FALSE(more);
    }
    // HTTP/1.0 may leave Host out.
    auto old = raw_exchange(w.server, "GET /healthz HTTP/1.0\r\n\r\n");
    CHECK(old.status == 200);
    w.require_unchanged();
    // And no smuggled request created a user.
    CHECK(users_created(w) == users_before);
}

TEST_CASE("garbage bytes on the socket get 400 and the server keeps serving", "[bad-input][garbage]") {
    world w;
    const auto seed = static_cast<std::uint64_t>(std::random_device{}());
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    std::vector<std::string> garbage = {
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\r\n\r\n",  // a TLS ClientHello
        "GET\r\n\r\n",
        "HELLO WORLD\r\n\r\n",
        "POST /users/me/balance/charge HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n{\"amount\": 10}",
        "POST /users/me/balance/charge HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "POST /users/me/balance/charge HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "POST /users/me/balance/charge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{\"amount\": 10}\r\n0\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n",
    };
    for (int i = 0; i < 20; ++i) {
        std::string bytes(1 + rng() % 2'000, '\0');
        for (char& c : bytes) {
            do {
                c = static_cast<char>(rng() & 0xff);
            } while (c == '\r' || c == '\n');
        }
        // Make the first byte one no method starts with, so the garbage is never a request.
        bytes[0] = '\x01';
        garbage.push_back(bytes + "\r\n\r\n");
    }
    for (const auto& bytes : garbage) {
        INFO("bytes: " << json(std::string(bytes.substr(0, 60))).dump(-1, ' ', true, json::error_handler_t::replace));
        auto reply = raw_exchange(w.server, bytes);
        CHECK_STATUS(reply, 400);
        CHECK_FALSE(reply.keep_alive);
        http_client fresh(w.server.host(), w.server.port());
        CHECK_STATUS(call(fresh, "GET", "/healthz"), 200);
    }
    // Garbage after a good request on the same connection: the good one is answered first.
    {
        http_client raw(w.server.host(), w.server.port());
        REQUIRE(raw.send_raw(request_head("GET /healthz HTTP/1.1") + "\x01\x02garbage\r\n\r\n").ok());
        auto first = raw.read_reply();
        REQUIRE(first.ok());
        CHECK_STATUS(*first, 200);
        auto second = raw.read_reply();
        REQUIRE(second.ok());
        CHECK_STATUS(*second, 400);
    }
    // A connection that sends half a request and goes away leaves nothing behind.
    {
        http_client raw(w.server.host(), w.server.port());
        REQUIRE(raw.send_raw("POST /users/me/balance/charge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + w.kim.token +
                             "\r\nContent-Length: 40\r\n\r\n{\"amount\": 10").ok());
        raw.close();
    }
    w.require_unchanged();
}

}  // namespace
}  // namespace encore::test
