// Operations (API.md "Operations and analysis"): health, readiness, metrics, the OpenAPI
// document, the web pages (the fan's and the organizer's) and analytics.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>
#include <set>
#include <sstream>
#include <tuple>

#include "events/types.hpp"
#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

// Charges of `amounts` as pipelined HTTP/1.1 requests, written in one go by the caller.
std::string pipelined_charges(const user_account& user, std::initializer_list<int> amounts) {
    std::string bytes;
    for (int amount : amounts) {
        const std::string body = json{{"amount", amount}}.dump();
        bytes += "POST /users/me/balance/charge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + user.token +
                 "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                 body;
    }
    return bytes;
}

// Every .js and .css file the server embeds, as the path it is served at (defined below).
std::vector<std::string> web_script_and_style_paths();

TEST_CASE("healthz, readyz and the web pages", "[operations]") {
    server_process server;
    http_client client(server.host(), server.port());

    CHECK_STATUS(call(client, "GET", "/healthz"), 200);
    CHECK_STATUS(call(client, "GET", "/readyz"), 200);

    auto page = call(client, "GET", "/");
    REQUIRE_STATUS(page, 200);
    CHECK(page.header("Content-Type").value_or("").starts_with("text/html"));
    CHECK(page.body.find("<html") != std::string::npos);
    CHECK(page.body.find("</html>") != std::string::npos);
    // A browser must refuse to frame the page, to sniff it, to leak the URL or to load from elsewhere.
    CHECK(page.header("X-Frame-Options") == std::optional<std::string>("DENY"));
    CHECK(page.header("X-Content-Type-Options") == std::optional<std::string>("nosniff"));
    CHECK(page.header("Referrer-Policy") == std::optional<std::string>("no-referrer"));
    const std::string csp = page.header("Content-Security-Policy").value_or("");
    CHECK(csp.find("default-src 'none'") != std::string::npos);
    CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
    CHECK(csp.find("unsafe-inline") == std::string::npos);
    // The organizer's page: the same headers; "/admin" alone is the page, the admin API stays below it.
    auto admin_page = call(client, "GET", "/admin");
    REQUIRE_STATUS(admin_page, 200);
    CHECK(admin_page.header("Content-Type").value_or("").starts_with("text/html"));
    CHECK(admin_page.body.find("<html") != std::string::npos);
    CHECK(admin_page.body.find("/admin.js") != std::string::npos);
    CHECK(admin_page.body != page.body);
    CHECK(admin_page.header("Content-Security-Policy") == std::optional<std::string>(csp));
    CHECK(admin_page.header("X-Frame-Options") == std::optional<std::string>("DENY"));
    CHECK(admin_page.header("Referrer-Policy") == std::optional<std::string>("no-referrer"));
    CHECK_STATUS(call(client, "HEAD", "/admin"), 200);
    for (const char* method : {"POST", "PUT", "DELETE"}) {
        INFO(method << " /admin");
        auto refused = call(client, method, "/admin");
        CHECK_ERROR(refused, 405, "METHOD_NOT_ALLOWED");
        CHECK(refused.header("Allow") == std::optional<std::string>("GET, HEAD"));
    }
    CHECK_ERROR(call(client, "POST", "/admin/concerts", "{}"), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "GET", "/admin/concerts"), 405, "METHOD_NOT_ALLOWED");
    CHECK_ERROR(call(client, "GET", "/admin.html"), 404, "NOT_FOUND");
    // The pages' scripts (ES modules) and styles, every one embedded, served from this origin with
    // the same headers and an ETag.
    for (const std::string& path : web_script_and_style_paths()) {
        INFO(path);
        auto file = call(client, "GET", path);
        REQUIRE_STATUS(file, 200);
        CHECK(file.header("Content-Type").value_or("").starts_with(path.ends_with(".js") ? "text/javascript" : "text/css"));
        CHECK(file.header("Content-Security-Policy") == std::optional<std::string>(csp));
        CHECK(file.header("X-Content-Type-Options") == std::optional<std::string>("nosniff"));
        const std::string etag = file.header("ETag").value_or("");
        REQUIRE_FALSE(etag.empty());
        CHECK_STATUS(call(client, "GET", path, {}, {{"If-None-Match", etag}}), 304);
        CHECK_STATUS(call(client, "POST", path), 405);
    }
}

// The source of `path` (under the source tree), whole.
std::string source_text(const std::string& path) {
    std::ifstream in(std::string(ENCORE_SOURCE_DIR) + "/" + path, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Every match of the first group of `pattern` in `text`.
std::vector<std::string> captures(const std::string& text, const std::string& pattern) {
    std::vector<std::string> out;
    const std::regex re(pattern);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) out.push_back((*it)[1]);
    return out;
}

// The pages' scripts and styles: every .js and .css file of web_files in api/CMakeLists.txt, the one
// list of what is embedded, as the paths they are served at ("/app.js").
std::vector<std::string> web_script_and_style_paths() {
    std::vector<std::string> paths;
    for (const std::string& name : captures(source_text("api/CMakeLists.txt"), R"re(\bweb/([a-z0-9-]+\.(?:js|css))\b)re")) paths.push_back("/" + name);
    CHECK(paths.size() >= 4);
    return paths;
}

// Path templates match up to the names of their parameters.
std::string path_shape(const std::string& path) { return std::regex_replace(path, std::regex("\\{[^}]*\\}"), "{}"); }

TEST_CASE("the OpenAPI document lists every route, its parameters and every error code", "[operations][openapi]") {
    server_process server;
    http_client client(server.host(), server.port());
    auto doc_reply = call(client, "GET", "/openapi.json");
    REQUIRE_STATUS(doc_reply, 200);
    CHECK(doc_reply.header("Content-Type").value_or("").starts_with("application/json"));
    const json doc = doc_reply.json();
    REQUIRE(doc.is_object());
    REQUIRE(doc.at("openapi").is_string());
    CHECK(doc.at("openapi").get<std::string>().starts_with("3."));
    CHECK(doc.at("info").at("title").is_string());
    CHECK(doc.at("info").at("version").is_string());
    CHECK(doc.at("info").at("x-connection-limits").at("connectionsMax").is_number_integer());
    const json& paths = doc.at("paths");
    std::map<std::string, const json*> by_shape;
    for (const auto& [path, item] : paths.items()) by_shape[path_shape(path)] = &item;
    auto operation = [&](const std::string& method, const std::string& path) -> const json& {
        INFO(method << " " << path);
        auto it = by_shape.find(path_shape(path));
        REQUIRE(it != by_shape.end());
        REQUIRE(it->second->contains(method));
        return it->second->at(method);
    };

    SECTION("every row of API.md, with its method, and no other path") {
        std::vector<std::pair<std::string, std::string>> rows = {
            {"post", "/users"}, {"get", "/users/me/balance"}, {"post", "/users/me/balance/charge"},
            {"get", "/users/me/balance/history"}, {"get", "/users/me/reservations"}, {"post", "/admin/concerts"},
            {"get", "/admin/concerts/{concertId}"}, {"patch", "/admin/concerts/{concertId}"},
            {"post", "/admin/concerts/{concertId}/dates"}, {"post", "/admin/concerts/{concertId}/dates/{date}/blocks"},
            {"delete", "/admin/concerts/{concertId}/dates/{date}/blocks"}, {"post", "/admin/concerts/{concertId}/pause"},
            {"post", "/admin/concerts/{concertId}/resume"}, {"get", "/admin/concerts/{concertId}/changes"},
            {"get", "/concerts"}, {"get", "/concerts/{concertId}/dates"}, {"get", "/concerts/{concertId}/dates/{date}/seats"},
            {"post", "/concerts/{concertId}/queue"}, {"get", "/concerts/{concertId}/queue"},
            {"get", "/concerts/{concertId}/queue/stream"}, {"post", "/concerts/{concertId}/dates/{date}/seats/{seat}/hold"},
            {"post", "/concerts/{concertId}/dates/{date}/holds"}, {"get", "/reservations/{reservationId}"},
            {"delete", "/reservations/{reservationId}"}, {"post", "/reservations/{reservationId}/pay"},
            {"post", "/reservations/{reservationId}/refund"}, {"get", "/analytics/concerts/{concertId}"},
            {"get", "/analytics/concerts/{concertId}/timeline"},
            {"get", "/admin/concerts/{concertId}/dates/{date}/seats/{seat}/history"}, {"get", "/healthz"},
            {"get", "/concerts/{concertId}/phases"}, {"post", "/concerts/{concertId}/phases/{phase}/claim"},
            {"post", "/admin/concerts/{concertId}/phases/{phase}/eligible"}, {"delete", "/admin/concerts/{concertId}/phases/{phase}/claims"},
            {"get", "/readyz"}, {"get", "/metrics"}, {"get", "/openapi.json"}, {"get", "/"}, {"get", "/admin"},
            {"get", "/reservations/{reservationId}/tickets"}, {"get", "/tickets/{ticketId}/qr.svg"},
            {"get", "/concerts/{concertId}/ticket-key"}, {"post", "/admin/concerts/{concertId}/scanners"},
            {"delete", "/admin/concerts/{concertId}/scanners/{scannerId}"}, {"get", "/admin/concerts/{concertId}/dates/{date}/tickets"},
            {"post", "/admin/concerts/{concertId}/checkins"}, {"post", "/admin/concerts/{concertId}/checkins/batch"}, {"get", "/scan"},
            // Beyond API.md, for the organizer's page: the scanners with their keys, admissions per gate.
            {"get", "/admin/concerts/{concertId}/scanners"}, {"get", "/admin/concerts/{concertId}/checkins"},
        };
        for (const std::string& path : web_script_and_style_paths()) rows.emplace_back("get", path);
        std::set<std::string> shapes;
        for (const auto& [method, path] : rows) {
            const json& op = operation(method, path);
            CHECK(op.at("responses").is_object());
            CHECK_FALSE(op.at("responses").empty());
            CHECK(op.at("operationId").is_string());
            CHECK(op.at("security").is_array());
            shapes.insert(path_shape(path));
        }
        CHECK(paths.size() == shapes.size());
    }

    SECTION("every GET is declared with HEAD too, and HEAD answers as GET does, without a body") {
        std::size_t gets = 0;
        for (const auto& [path, item] : paths.items()) {
            if (!item.contains("get")) continue;
            INFO(path);
            ++gets;
            REQUIRE(item.contains("head"));
            CHECK(item.at("head").at("operationId") == item.at("get").at("operationId").get<std::string>() + "Head");
            CHECK(item.at("head").at("responses").size() == item.at("get").at("responses").size());
            if (path.find('{') != std::string::npos || path.ends_with("/stream")) continue;
            const auto get = call(client, "GET", path);
            const auto head = call(client, "HEAD", path);
            CHECK(head.status == get.status);
            CHECK(head.body.empty());
        }
        CHECK(gets >= 20);
    }

    SECTION("the Error enum holds every code the server sends, and each response names only those") {
        const json& enumerated = doc.at("components").at("schemas").at("ErrorCode").at("enum");
        std::set<std::string> codes;
        for (const auto& code : enumerated) codes.insert(code.get<std::string>());
        for (std::uint8_t r = 1; r <= refusal_max; ++r) {
            const std::string code(refusal_code(static_cast<refusal>(r)));
            INFO("refusal " << int(r) << " " << code);
            CHECK(codes.contains(code));
        }
        // Every code the HTTP layer and the handlers pass with a status, in http/'s and api/'s sources.
        std::size_t sent = 0;
        for (const char* folder : {"http", "api"}) {
            for (const auto& entry : std::filesystem::directory_iterator(std::string(ENCORE_SOURCE_DIR) + "/" + folder)) {
                if (entry.path().extension() != ".cpp" || entry.path().filename().string().starts_with("openapi")) continue;
                const std::string text = source_text(std::string(folder) + "/" + entry.path().filename().string());
                for (const std::string& code : captures(text, R"re((?:fail|error_response|push_error|refuse)\(\d{3}, "([A-Z_]+)")re")) {
                    INFO(entry.path().filename().string() << ": " << code);
                    CHECK(codes.contains(code));
                    ++sent;
                }
                for (const std::string& code : captures(text, R"re(return \{\d{3}, "([A-Z_]+)")re")) {
                    INFO(entry.path().filename().string() << ": " << code);
                    CHECK(codes.contains(code));
                    ++sent;
                }
            }
        }
        CHECK(sent >= 30);
        for (const auto& [path, item] : paths.items()) {
            for (const auto& [method, op] : item.items()) {
                for (const auto& [status, response] : op.at("responses").items()) {
                    if (!response.contains("x-error-codes")) continue;
                    for (const auto& code : response.at("x-error-codes")) {
                        INFO(method << " " << path << " " << status << " " << code);
                        CHECK(codes.contains(code.get<std::string>()));
                    }
                }
            }
        }
    }

    SECTION("API.md's errors by status, the Retry-After header, 304, security and parameters") {
        const std::vector<std::tuple<std::string, std::string, std::string, std::string>> errors = {
            {"post", "/users/me/balance/charge", "400", "INVALID_AMOUNT"},
            {"post", "/users/me/balance/charge", "422", "BALANCE_LIMIT"},
            {"post", "/users/me/balance/charge", "503", "STORAGE_UNAVAILABLE"},
            {"post", "/reservations/{r}/pay", "503", "STORAGE_UNAVAILABLE"},
            {"get", "/concerts/{c}/dates/{d}/seats", "404", "DATE_NOT_FOUND"},
            {"post", "/concerts/{c}/queue", "404", "CONCERT_NOT_FOUND"},
            {"get", "/concerts/{c}/queue", "403", "QUEUE_TOKEN_INVALID"},
            {"post", "/concerts/{c}/dates/{d}/seats/{s}/hold", "403", "QUEUE_TOKEN_EXPIRED"},
            {"post", "/concerts/{c}/dates/{d}/seats/{s}/hold", "429", "NOT_YOUR_TURN"},
            {"post", "/concerts/{c}/dates/{d}/seats/{s}/hold", "422", "DATE_NOT_BOOKABLE"},
            {"post", "/concerts/{c}/dates/{d}/seats/{s}/hold", "422", "INVALID_SEAT"},
            {"post", "/concerts/{c}/dates/{d}/seats/{s}/hold", "409", "SEAT_TAKEN"},
            {"post", "/concerts/{c}/dates/{d}/seats/{s}/hold", "409", "HOLD_LIMIT"},
            {"post", "/concerts/{c}/dates/{d}/holds", "409", "NO_ADJACENT_SEATS"},
            {"post", "/concerts/{c}/dates/{d}/holds", "409", "TICKET_LIMIT"},
            {"post", "/concerts/{c}/dates/{d}/holds", "400", "INVALID_REQUEST"},
            {"get", "/reservations/{r}", "404", "RESERVATION_NOT_FOUND"},
            {"delete", "/reservations/{r}", "409", "ALREADY_PAID"},
            {"delete", "/reservations/{r}", "409", "HOLD_EXPIRED"},
            {"post", "/reservations/{r}/refund", "409", "NOT_PAID"},
            {"post", "/reservations/{r}/refund", "409", "ALREADY_REFUNDED"},
            {"post", "/reservations/{r}/refund", "409", "REFUND_NOT_ALLOWED"},
            {"post", "/reservations/{r}/pay", "402", "INSUFFICIENT_BALANCE"},
            {"post", "/reservations/{r}/pay", "409", "RESERVATION_CANCELLED"},
            {"post", "/reservations/{r}/pay", "410", "HOLD_EXPIRED"},
            {"post", "/reservations/{r}/pay", "422", "IDEMPOTENCY_KEY_REUSED"},
            {"get", "/admin/concerts/{c}/dates/{d}/seats/{s}/history", "404", "SEAT_NOT_FOUND"},
            {"get", "/analytics/concerts/{c}", "401", "UNAUTHORIZED"},
            {"get", "/readyz", "503", "NOT_READY"},
        };
        for (const auto& [method, path, status, code] : errors) {
            INFO(method << " " << path << " " << status << " " << code);
            const json& response = operation(method, path).at("responses").at(status);
            const auto& listed = response.at("x-error-codes");
            CHECK(std::find(listed.begin(), listed.end(), code) != listed.end());
            CHECK(response.at("content").at("application/json").at("schema").at("$ref") == "#/components/schemas/Error");
        }
        CHECK(operation("post", "/concerts/{c}/dates/{d}/seats/{s}/hold").at("responses").at("429").at("headers").contains("Retry-After"));
        CHECK(operation("get", "/readyz").at("responses").at("503").at("headers").contains("Retry-After"));
        const json& seat_map = operation("get", "/concerts/{c}/dates/{d}/seats");
        CHECK(seat_map.at("responses").contains("304"));
        CHECK(seat_map.at("responses").at("200").at("headers").contains("ETag"));
        CHECK(operation("get", "/concerts/{c}/queue/stream").at("responses").at("200").at("content").contains("text/event-stream"));
        CHECK(operation("get", "/metrics").at("responses").at("200").at("content").begin().key().starts_with("text/plain; version=0.0.4"));
        CHECK(operation("get", "/admin").at("responses").at("200").at("content").begin().key().starts_with("text/html"));
        CHECK(operation("get", "/users/me/balance").at("security") == json::parse(R"([{"userToken": []}])"));
        CHECK(operation("get", "/concerts/{c}/dates").at("security") == json::parse(R"([{"userToken": [], "queueToken": []}])"));
        CHECK(operation("post", "/admin/concerts").at("security") == json::parse(R"([{"adminKey": []}])"));
        CHECK(operation("get", "/concerts").at("security") == json::array());
        // The Idempotency-Key's limits, which API.md says are in this document.
        const json& key = doc.at("components").at("parameters").at("IdempotencyKey");
        CHECK(key.at("name") == "Idempotency-Key");
        CHECK(key.at("x-retention-hours") == 24);
        CHECK(key.at("x-keys-per-caller-max") == 1000);
        const json& schemas = doc.at("components").at("schemas");
        for (const char* field : {"seats", "refundedAt", "paidAt", "expiresAt"}) CHECK(schemas.at("Reservation").at("properties").contains(field));
        for (const char* field : {"preQueue", "position", "onsaleAt", "estimatedWaitSeconds", "activeUntil"})
            CHECK(schemas.at("QueueStatus").at("properties").contains(field));
        CHECK(schemas.at("DateAnalytics").at("properties").contains("refunds"));
        CHECK(schemas.at("HoldRequest").at("oneOf").size() == 2);
    }
}

TEST_CASE("metrics count requests by route and status and time them by route", "[operations][metrics]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto kim = new_user(client);
    REQUIRE_STATUS(charge(client, kim, 10), 200);
    REQUIRE_STATUS(charge(client, kim, 0), 400);
    REQUIRE_STATUS(call(client, "GET", "/no/such/route"), 404);
    const auto concert = create_concert(client, server, concert_body());
    const auto g = admitted_guest(client, concert);
    REQUIRE_STATUS(hold(client, g, concert, 1), 201);
    // A raw path must never become a route label: the concert id may appear only as the concert's
    // own label.
    REQUIRE_STATUS(call(client, "GET", seats_path(concert), {}, g.headers()), 200);

    // A request is recorded once its answer is fully written, which the server notes just after
    // the client may already have read it: wait (bounded) until the last request shows.
    std::string text;
    auto has_line = [&text](const std::string& pattern) {
        std::regex re(pattern);
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);) {
            if (std::regex_search(line, re)) return true;
        }
        return false;
    };
    const std::string seats_recorded =
        R"(^encore_http_request_duration_seconds_sum\{.*route="GET /concerts/\{[a-zA-Z]*\}/dates/\{[a-zA-Z]*\}/seats".*\} )";
    eventually(std::chrono::seconds(30), [&] {
        auto metrics = call(client, "GET", "/metrics");
        REQUIRE_STATUS(metrics, 200);
        CHECK(metrics.header("Content-Type").value_or("").starts_with("text/plain"));
        text = metrics.body;
        return has_line(seats_recorded);
    });
    INFO(text.substr(0, 6000));
    // Request counters by route and status.
    CHECK(has_line(R"(^encore_http_requests_total\{.*route="POST /users/me/balance/charge".*status="200".*\} [1-9])"));
    CHECK(has_line(R"(^encore_http_requests_total\{.*route="POST /users/me/balance/charge".*status="400".*\} [1-9])"));
    CHECK(has_line(R"(^encore_http_requests_total\{.*route="POST /users".*status="201".*\} [1-9])"));
    CHECK(has_line(R"(^encore_http_requests_total\{.*status="404".*\} [1-9])"));
    CHECK(has_line(R"(^encore_http_requests_total\{.*route="POST /concerts/\{[a-zA-Z]*\}/dates/\{[a-zA-Z]*\}/seats/\{[a-zA-Z]*\}/hold".*status="201".*\} 1)"));
    // Latency histograms by route.
    CHECK(has_line(R"(^# TYPE encore_http_request_duration_seconds histogram)"));
    CHECK(has_line(R"(^encore_http_request_duration_seconds_bucket\{.*route="POST /users/me/balance/charge".*le="\+Inf".*\} [1-9])"));
    CHECK(has_line(R"(^encore_http_request_duration_seconds_count\{.*route="POST /users".*\} [1-9])"));
    CHECK(has_line(R"(^encore_http_request_duration_seconds_sum\{.*route="GET /concerts/\{[a-zA-Z]*\}/dates/\{[a-zA-Z]*\}/seats".*\} )"));
    // Commands applied, log append latency, projection lag, queue lengths.
    CHECK(has_line(R"(^# TYPE encore_commands_applied_total counter)"));
    CHECK(has_line(R"(^encore_commands_applied_total(\{\})? [1-9])"));
    CHECK(has_line(R"(^encore_log_append_seconds_count(\{\})? [1-9])"));
    CHECK(has_line(R"(^encore_projection_lag_events(\{\})? )"));
    CHECK(has_line(R"(^encore_queue_waiting_users(\{\})? )"));
    // Per concert: the waiting room's figures, labelled by the concert's id.
    CHECK(has_line("^encore_queue_waiting\\{concert=\"" + concert + "\"\\} 0$"));
    CHECK(has_line("^encore_queue_active\\{concert=\"" + concert + "\"\\} [0-9]+$"));
    // What an audit would cover, per partition (the server has 2).
    for (const char* family : {"encore_command_log_end_offset", "encore_event_log_end_offset",
                               "encore_projection_applied_sequence"}) {
        INFO(family);
        CHECK(has_line(std::string("^") + family + R"(\{partition="0"\} [0-9]+$)"));
        CHECK(has_line(std::string("^") + family + R"(\{partition="1"\} [0-9]+$)"));
    }
    CHECK(has_line(R"(^encore_checkpoint_seconds_max )"));
    CHECK(has_line(R"(^encore_checkpoint_bytes_max )"));
    CHECK(has_line(R"(^encore_http_connections_limit\{kind="total"\} [1-9])"));
    // Route labels are templates: no id of a path reaches them. A user id appears nowhere.
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("encore_http_")) CHECK(line.find(concert) == std::string::npos);
    }
    CHECK(text.find(kim.id) == std::string::npos);
}

TEST_CASE("analytics need the admin key and count sales, holds and the queue per date", "[operations][analytics]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(10, 1'000, 1, 600));
    const auto g = admitted_guest(client, concert);
    const auto waiting = new_user(client);
    REQUIRE(enqueue(client, waiting, concert).json().at("status") == "WAITING");
    REQUIRE_STATUS(charge(client, g.user, 5'000), 200);
    auto a = hold(client, g, concert, 1);
    auto b = hold(client, g, concert, 2);
    auto c = hold(client, g, concert, 3);
    REQUIRE_STATUS(a, 201);
    REQUIRE_STATUS(b, 201);
    REQUIRE_STATUS(c, 201);
    REQUIRE_STATUS(cancel(client, g.user, b.json().at("reservationId")), 200);
    REQUIRE_STATUS(pay(client, g.user, a.json().at("reservationId")), 201);

    const std::string path = "/analytics/concerts/" + concert;
    CHECK_ERROR(call(client, "GET", path), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "GET", path, {}, admin_header("not-the-admin-key")), 401, "UNAUTHORIZED");
    CHECK_ERROR(call(client, "GET", "/analytics/concerts/c-00000000000000ff", {}, admin_header(server.admin_key())), 404,
                "CONCERT_NOT_FOUND");
    auto reply = call(client, "GET", path, {}, admin_header(server.admin_key()));
    REQUIRE_STATUS(reply, 200);
    const json body = reply.json();
    INFO(body.dump());
    REQUIRE(body.at("dates").size() == 1);
    const json& d = body.at("dates")[0];
    CHECK(d.at("date") == concert_date);
    CHECK(d.at("seatsSold") == 1);
    CHECK(d.at("seatsHeld") == 1);
    CHECK(d.at("seatsAvailable") == 8);
    CHECK(d.at("revenue") == 1'000);
    CHECK(d.at("holdsPlaced") == 3);
    CHECK(d.at("holdsCancelled") == 1);
    CHECK(d.at("holdsExpired") == 0);
    CHECK(d.at("holdToPaymentConversion").get<double>() == Approx(1.0 / 3.0));
    // g paid (COMPLETED) and so the waiting user was admitted.
    const json& q = body.at("queue");
    CHECK(q.at("waiting") == 0);
    CHECK(q.at("active") == 1);
    CHECK(q.at("admittedTotal") == 2);
    CHECK(q.contains("medianWaitSeconds"));
}


TEST_CASE("one keep-alive connection serves many requests, and pipelined requests are answered in order", "[operations][http]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto kim = new_user(client);
    for (int i = 0; i < 30; ++i) REQUIRE_STATUS(charge(client, kim, 1), 200);
    CHECK(balance_of(client, kim) == 30);
    CHECK(client.connects() == 1);

    // Three commands written at once: the answers come back in request order.
    http_client raw(server.host(), server.port());
    REQUIRE(raw.send_raw(pipelined_charges(kim, {100, 20, 3})).ok());
    std::vector<std::int64_t> balances;
    for (int i = 0; i < 3; ++i) {
        auto reply = raw.read_reply();
        REQUIRE(reply.ok());
        REQUIRE_STATUS(*reply, 200);
        balances.push_back(reply->json().at("balance").get<std::int64_t>());
    }
    CHECK(balances == std::vector<std::int64_t>{130, 150, 153});
}

// RFC 7230 section 6.3.2: a server may work on pipelined requests in parallel only if they are
// all safe. A query pipelined behind a command on one connection must see the command's effect.
TEST_CASE("a query pipelined behind commands on one connection sees their effect", "[operations][http]") {
    server_process server;
    http_client client(server.host(), server.port());
    const auto kim = new_user(client);
    http_client raw(server.host(), server.port());
    std::string bytes = pipelined_charges(kim, {100, 20, 3});
    bytes += "GET /users/me/balance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kim.token + "\r\n\r\n";
    REQUIRE(raw.send_raw(bytes).ok());
    std::vector<std::int64_t> balances;
    for (int i = 0; i < 4; ++i) {
        auto reply = raw.read_reply();
        REQUIRE(reply.ok());
        REQUIRE_STATUS(*reply, 200);
        balances.push_back(reply->json().at("balance").get<std::int64_t>());
    }
    CHECK(balances == std::vector<std::int64_t>{100, 120, 123, 123});
}


// What a load balancer acts on: a node is taken out after several failed probes in a row
// (Kubernetes' default failureThreshold is 3). So a busy node must never fail that many in a row,
// and failures at all must stay rare: a blip of a few milliseconds, when a projector's gap between
// two batches goes just past the 1 s readiness bound on a loaded machine, removes no node.
constexpr int probes_failed_in_a_row_max = 2;

TEST_CASE("readyz stays 200 while the node is busy writing", "[operations][.serial]") {
    server_process server;
    http_client probe_client(server.host(), server.port());
    REQUIRE(eventually(std::chrono::seconds(10), [&] { return call(probe_client, "GET", "/readyz").status == 200; }));
    constexpr int writers = 8;
    std::atomic<bool> done{false};
    std::atomic<int> writes{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < writers; ++t) {
        threads.emplace_back([&] {
            http_client c(server.host(), server.port());
            const user_account u = new_user(c);
            while (!done.load()) {
                if (charge(c, u, 1).status == 200) ++writes;
            }
        });
    }
    // Probes for 3 s, and on until the node has taken 1,000 writes and answered 100 probes (the
    // load and the sample the test is about), however slowly a busy machine gets there.
    constexpr int writes_min = 1'000;
    constexpr int probes_min = 100;
    int probes = 0, not_ready = 0, in_a_row = 0, most_in_a_row = 0;
    std::string first_refusal;
    const auto start = std::chrono::steady_clock::now();
    const auto at_least_until = start + std::chrono::seconds(3);
    const auto at_most_until = start + std::chrono::seconds(120);
    for (;;) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= at_most_until) break;
        if (now >= at_least_until && writes.load() >= writes_min && probes >= probes_min) break;
        ++probes;
        const http_reply reply = call(probe_client, "GET", "/readyz");
        if (reply.status != 200 && not_ready++ == 0) first_refusal = std::to_string(reply.status) + " " + error_code_of(reply);
        in_a_row = reply.status == 200 ? 0 : in_a_row + 1;
        most_in_a_row = std::max(most_in_a_row, in_a_row);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    done = true;
    for (auto& t : threads) t.join();
    std::fprintf(stderr, "readyz under load: %.1f s, %d writes (%.0f/s), %d probes (%.0f/s), %d not ready, at most %d in a row\n",
                 seconds, writes.load(), writes.load() / seconds, probes, probes / seconds, not_ready, most_in_a_row);
    INFO(probes << " probes, " << not_ready << " not ready (at most " << most_in_a_row << " in a row), " << writes.load()
                << " writes in " << seconds << " s; first: " << first_refusal);
    REQUIRE(writes.load() >= writes_min);
    REQUIRE(probes >= probes_min);
    CHECK(most_in_a_row <= probes_failed_in_a_row_max);
    CHECK(not_ready * 100 <= probes);  // at most 1%
}


// No other local user may read the data directory: the generated token secret signs every token.
TEST_CASE("the data directory is closed to other users and the token secret has a file of its own", "[operations][secrets]") {
    server_process server;
    http_client client(server.host(), server.port());
    const user_account kim = new_user(client);
    REQUIRE_STATUS(charge(client, kim, 1'000), 200);
    server.stop();
    server.restart();  // the kept secret is reused: kim's token still works
    http_client again(server.host(), server.port());
    CHECK(balance_of(again, kim) == 1'000);

    namespace fs = std::filesystem;
    const auto others = fs::perms::group_all | fs::perms::others_all;
    CHECK((fs::status(server.data_dir()).permissions() & others) == fs::perms::none);
    std::size_t files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(server.data_dir())) {
        INFO(entry.path().string());
        CHECK((entry.status().permissions() & others) == fs::perms::none);
        ++files;
    }
    CHECK(files > 10);
    const fs::path secret = fs::path(server.data_dir()) / "token-secret";
    REQUIRE(fs::exists(secret));
    CHECK(fs::file_size(secret) >= 32);
}

}  // namespace
}  // namespace encore::test
