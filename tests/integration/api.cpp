#include "tests/integration/api.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace encore::test {

namespace {

std::string without_body_limit(std::string_view body, std::size_t max = 600) {
    if (body.size() <= max) return std::string(body);
    return std::string(body.substr(0, max)) + "...(" + std::to_string(body.size()) + " bytes)";
}

int digits(std::string_view text, std::size_t from, std::size_t count) {
    if (from + count > text.size()) throw std::runtime_error("not an instant: " + std::string(text));
    int v = 0;
    for (std::size_t i = from; i < from + count; ++i) {
        const char c = text[i];
        if (c < '0' || c > '9') throw std::runtime_error("not an instant: " + std::string(text));
        v = v * 10 + (c - '0');
    }
    return v;
}

}  // namespace

http_reply call(http_client& client, std::string_view method, std::string_view target, std::string_view body,
                const header_list& headers) {
    auto reply = client.request(method, target, body, headers);
    if (!reply) {
        throw std::runtime_error(std::string(method) + " " + std::string(target).substr(0, 200) +
                                 " failed: " + reply.err().message);
    }
    return std::move(reply).value();
}

std::string describe(const http_reply& reply) {
    return std::to_string(reply.status) + " " + without_body_limit(reply.body);
}

std::string error_code_of(const http_reply& reply) {
    const json body = reply.json();
    if (body.is_discarded() || !body.is_object()) return "";
    auto e = body.find("error");
    if (e == body.end() || !e->is_object()) return "";
    auto code = e->find("code");
    if (code == e->end() || !code->is_string()) return "";
    return code->get<std::string>();
}

const http_reply& expect_status(const http_reply& reply, unsigned status, std::string_view what) {
    if (reply.status != status) {
        throw std::runtime_error(std::string(what) + ": expected " + std::to_string(status) + ", got " +
                                 describe(reply));
    }
    return reply;
}

header_list bearer(const std::string& user_token) { return {{"Authorization", "Bearer " + user_token}}; }
header_list admin_header(const std::string& key) { return {{"X-Admin-Key", key}}; }
header_list operator+(header_list a, const header_list& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::int64_t instant_ms(std::string_view t) {
    // 2026-12-24T19:00:00.000Z
    if (t.size() != 24 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' ||
        t[19] != '.' || t[23] != 'Z')
        throw std::runtime_error("not an RFC 3339 UTC instant with milliseconds: " + std::string(t));
    using namespace std::chrono;
    const year_month_day day{year{digits(t, 0, 4)}, month{static_cast<unsigned>(digits(t, 5, 2))},
                             std::chrono::day{static_cast<unsigned>(digits(t, 8, 2))}};
    if (!day.ok()) throw std::runtime_error("not a calendar date: " + std::string(t));
    const auto at = sys_days{day} + hours{digits(t, 11, 2)} + minutes{digits(t, 14, 2)} +
                    seconds{digits(t, 17, 2)} + milliseconds{digits(t, 20, 3)};
    return duration_cast<milliseconds>(at.time_since_epoch()).count();
}

std::string instant_text(std::int64_t ms) {
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[96];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(ms % 1000));
    return text;
}

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

user_account new_user(http_client& client, const std::string& name) {
    const json body = name.empty() ? json::object() : json{{"name", name}};
    auto reply = call(client, "POST", "/users", body.dump());
    expect_status(reply, 201, "POST /users");
    const json j = reply.json();
    return {j.at("userId").get<std::string>(), j.at("token").get<std::string>()};
}

std::int64_t balance_of(http_client& client, const user_account& user) {
    auto reply = call(client, "GET", "/users/me/balance", {}, bearer(user.token));
    expect_status(reply, 200, "GET /users/me/balance");
    return reply.json().at("balance").get<std::int64_t>();
}

http_reply charge(http_client& client, const user_account& user, const json& amount, const header_list& extra) {
    return call(client, "POST", "/users/me/balance/charge", json{{"amount", amount}}.dump(),
                bearer(user.token) + extra);
}

json concert_body(std::uint32_t seats, std::int64_t price, std::uint32_t active_capacity,
                  std::uint32_t active_ttl_seconds, std::uint32_t hold_ttl_seconds,
                  std::uint32_t max_holds_per_user) {
    return {{"title", "Integration Night"},
            {"venue", "Loopback Hall"},
            {"schedules", json::array({{{"date", concert_date}, {"seats", seats}, {"price", price}}})},
            {"queue", {{"activeCapacity", active_capacity}, {"activeTtlSeconds", active_ttl_seconds}}},
            {"holdTtlSeconds", hold_ttl_seconds},
            {"maxHoldsPerUser", max_holds_per_user}};
}

std::string create_concert(http_client& client, const std::string& admin_key, const json& body) {
    auto reply = call(client, "POST", "/admin/concerts", body.dump(), admin_header(admin_key));
    expect_status(reply, 201, "POST /admin/concerts");
    return reply.json().at("concertId").get<std::string>();
}

std::string create_concert(http_client& client, const server_process& server, const json& body) {
    return create_concert(client, server.admin_key(), body);
}

http_reply enqueue(http_client& client, const user_account& user, const std::string& concert) {
    return call(client, "POST", "/concerts/" + concert + "/queue", {}, bearer(user.token));
}

json queue_state(http_client& client, const user_account& user, const std::string& concert,
                 const std::string& queue_token) {
    auto reply = call(client, "GET", "/concerts/" + concert + "/queue", {},
                      bearer(user.token) + header_list{{"X-Queue-Token", queue_token}});
    expect_status(reply, 200, "GET /concerts/{id}/queue");
    return reply.json();
}

header_list guest::headers() const { return bearer(user.token) + header_list{{"X-Queue-Token", queue_token}}; }

guest admitted_guest(http_client& client, const std::string& concert, std::chrono::milliseconds timeout) {
    guest g{new_user(client), {}};
    auto joined = enqueue(client, g.user, concert);
    expect_status(joined, 201, "POST /concerts/{id}/queue");
    g.queue_token = joined.json().at("queueToken").get<std::string>();
    if (joined.json().at("status") == "ACTIVE") return g;
    std::string status;
    const bool active = eventually(timeout, [&] {
        status = queue_state(client, g.user, concert, g.queue_token).at("status").get<std::string>();
        return status == "ACTIVE";
    });
    if (!active) throw std::runtime_error("the user was not admitted in time; last status " + status);
    return g;
}

std::string seats_path(const std::string& concert, std::string_view date) {
    return "/concerts/" + concert + "/dates/" + std::string(date) + "/seats";
}

std::string hold_path(const std::string& concert, std::string_view date, std::string_view seat) {
    return seats_path(concert, date) + "/" + std::string(seat) + "/hold";
}

http_reply hold(http_client& client, const guest& g, const std::string& concert, std::uint32_t seat,
                std::string_view date, const header_list& extra) {
    return call(client, "POST", hold_path(concert, date, std::to_string(seat)), {}, g.headers() + extra);
}

std::string seat_status(http_client& client, const guest& observer, const std::string& concert, std::uint32_t seat,
                        std::string_view date) {
    auto reply = call(client, "GET", seats_path(concert, date), {}, observer.headers());
    expect_status(reply, 200, "GET seats");
    const json reply_seats = reply.json().at("seats");
    for (const json& s : reply_seats) {
        if (s.at("number").get<std::uint32_t>() == seat) return s.at("status").get<std::string>();
    }
    throw std::runtime_error("seat " + std::to_string(seat) + " is not in the seat map");
}

http_reply pay(http_client& client, const user_account& user, const std::string& reservation,
               const header_list& extra) {
    return call(client, "POST", "/reservations/" + reservation + "/pay", {}, bearer(user.token) + extra);
}

http_reply cancel(http_client& client, const user_account& user, const std::string& reservation,
                  const header_list& extra) {
    return call(client, "DELETE", "/reservations/" + reservation, {}, bearer(user.token) + extra);
}

http_reply reservation(http_client& client, const user_account& user, const std::string& reservation) {
    return call(client, "GET", "/reservations/" + reservation, {}, bearer(user.token));
}

}  // namespace encore::test
