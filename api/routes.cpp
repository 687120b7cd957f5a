// The handlers: validate, authenticate, then either read the read models (queries) or append a
// command and answer when its outcome is projected (commands).

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <openssl/crypto.h>

#include <algorithm>

#include "api/documents.hpp"
#include "api/service_impl.hpp"
#include "events/ids.hpp"
#include "events/time.hpp"

namespace encore::api {

namespace http = boost::beast::http;

namespace {

using handler_fn = void (service::impl::*)(request_context&);

struct route_entry {
    http::verb method;
    std::string_view pattern;  // "/concerts/{}/queue": {} matches one segment
    handler_fn handler;
};

bool matches(std::string_view pattern, const std::vector<std::string_view>& segments) {
    std::size_t i = 0;
    std::size_t pos = 0;
    while (pos < pattern.size()) {
        if (pattern[pos] == '/') {
            ++pos;
            continue;
        }
        auto next = pattern.find('/', pos);
        if (next == std::string_view::npos) next = pattern.size();
        std::string_view part = pattern.substr(pos, next - pos);
        if (i >= segments.size() || (part != "{}" && part != segments[i]) || segments[i].empty()) return false;
        ++i;
        pos = next;
    }
    return i == segments.size();
}

std::optional<std::int64_t> strict_integer(const json& j) {
    if (j.is_number_integer()) return j.get<std::int64_t>();
    if (j.is_number_unsigned()) {
        auto v = j.get<std::uint64_t>();
        if (v <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(v);
    }
    return std::nullopt;
}

std::string_view bearer(std::string_view authorization) {
    constexpr std::string_view prefix = "Bearer ";
    if (authorization.size() <= prefix.size() || authorization.substr(0, prefix.size()) != prefix) return {};
    return authorization.substr(prefix.size());
}

// The pages are served with what a browser needs to refuse framing, MIME sniffing, referrer
// leaks and anything not from this origin. The page's script and style are inline, hence
// 'unsafe-inline' for those two only; nothing else may load or connect elsewhere.
void set_page_security_headers(http_response& page) {
    page.set("Content-Security-Policy",
             "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
             "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    page.set("X-Frame-Options", "DENY");
    page.set("X-Content-Type-Options", "nosniff");
    page.set("Referrer-Policy", "no-referrer");
}
}  // namespace

void service::impl::route(request_context& rc) {
    static const route_entry routes[] = {
        {http::verb::post, "/users", &impl::post_users},
        {http::verb::get, "/users/me/balance", &impl::get_balance},
        {http::verb::post, "/users/me/balance/charge", &impl::post_charge},
        {http::verb::get, "/users/me/balance/history", &impl::get_history},
        {http::verb::get, "/users/me/reservations", &impl::get_my_reservations},
        {http::verb::post, "/admin/concerts", &impl::post_concert},
        {http::verb::get, "/concerts", &impl::get_concerts},
        {http::verb::get, "/concerts/{}/dates", &impl::get_dates},
        {http::verb::get, "/concerts/{}/dates/{}/seats", &impl::get_seats},
        {http::verb::post, "/concerts/{}/queue", &impl::post_queue},
        {http::verb::get, "/concerts/{}/queue", &impl::get_queue},
        {http::verb::get, "/concerts/{}/queue/stream", &impl::get_queue_stream},
        {http::verb::post, "/concerts/{}/dates/{}/seats/{}/hold", &impl::post_hold},
        {http::verb::get, "/reservations/{}", &impl::get_reservation},
        {http::verb::delete_, "/reservations/{}", &impl::delete_reservation},
        {http::verb::post, "/reservations/{}/pay", &impl::post_pay},
        {http::verb::get, "/analytics/concerts/{}", &impl::get_analytics},
    };
    const auto method = rc.request.method();
    const bool get = method == http::verb::get || method == http::verb::head;
    if (method != http::verb::get && method != http::verb::head && method != http::verb::post &&
        method != http::verb::put && method != http::verb::patch && method != http::verb::delete_ &&
        method != http::verb::options) {
        rc.route = "501";
        return rc.fail(501, "NOT_IMPLEMENTED", "this server does not implement the method " + std::string(rc.request.method_string()));
    }
    // The fixed GET-only paths, asked with another method.
    static constexpr std::string_view get_only[] = {"healthz", "readyz", "metrics", "openapi.json"};
    if (!get && (rc.segments.empty() ||
                 (rc.segments.size() == 1 && std::find(std::begin(get_only), std::end(get_only), rc.segments[0]) != std::end(get_only)))) {
        rc.route = "405";
        auto response = error_response(405, "METHOD_NOT_ALLOWED", "this path takes GET and HEAD only");
        response.set(http::field::allow, "GET, HEAD");
        return rc.send(std::move(response));
    }
    if (rc.segments.empty() && get) {
        rc.route = "GET /";
        http_response page(http::status::ok, 11);
        page.set(http::field::content_type, "text/html; charset=utf-8");
        set_page_security_headers(page);
        page.body() = web_page();
        page.prepare_payload();
        return rc.send(std::move(page));
    }
    if (rc.segments.size() == 1 && get) {
        std::string_view s = rc.segments[0];
        if (s == "healthz") return rc.route = "GET /healthz", rc.reply(200, {{"status", "ok"}});
        if (s == "readyz") {
            rc.route = "GET /readyz";
            return config.ready() ? rc.reply(200, {{"status", "ready"}}) : rc.fail(503, "NOT_READY", "recovering or catching up");
        }
        if (s == "metrics") {
            rc.route = "GET /metrics";
            http_response text(http::status::ok, 11);
            text.set(http::field::content_type, prometheus_content_type);
            text.body() = metrics.render();
            text.prepare_payload();
            return rc.send(std::move(text));
        }
        if (s == "openapi.json") {
            rc.route = "GET /openapi.json";
            http_response doc(http::status::ok, 11);
            doc.set(http::field::content_type, json_content_type);
            doc.body() = openapi_document();
            doc.prepare_payload();
            return rc.send(std::move(doc));
        }
    }
    std::string allowed;
    for (const route_entry& r : routes) {
        if (!matches(r.pattern, rc.segments)) continue;
        if (r.method == method || (method == http::verb::head && r.method == http::verb::get)) {
            rc.route = std::string(http::to_string(r.method)) + " " + std::string(r.pattern);
            return (this->*r.handler)(rc);
        }
        if (!allowed.empty()) allowed += ", ";
        allowed += std::string(http::to_string(r.method));
        if (r.method == http::verb::get) allowed += ", HEAD";
    }
    if (!allowed.empty()) {
        rc.route = "405";
        auto response = error_response(405, "METHOD_NOT_ALLOWED", "this path does not take " + std::string(http::to_string(method)));
        response.set(http::field::allow, allowed);
        return rc.send(std::move(response));
    }
    rc.route = "404";
    rc.fail(404, "NOT_FOUND", "no such route");
}

bool service::impl::admin(request_context& rc) {
    std::string_view key = rc.header("X-Admin-Key");
    const std::string& expected = config.admin_key;
    bool ok = key.size() == expected.size() && !expected.empty() && CRYPTO_memcmp(key.data(), expected.data(), key.size()) == 0;
    if (!ok) rc.fail(401, "UNAUTHORIZED", "a valid X-Admin-Key header is required");
    return ok;
}

std::optional<user_id> service::impl::user(request_context& rc) {
    std::string_view token = bearer(rc.header("Authorization"));
    if (token.empty()) {
        if (auto q = rc.query_param("token"); q && rc.route.ends_with("/queue/stream")) token = *q;
    }
    if (auto u = tokens.verify_user_token(token)) return user_id{*u};
    rc.fail(401, "UNAUTHORIZED", "a valid user token is required (Authorization: Bearer <token>)");
    return std::nullopt;
}

// 403 and 429 for the query routes that need an ACTIVE queue token, in API.md's order.
bool service::impl::admitted(request_context& rc, user_id u, concert_id c) {
    std::string_view token = rc.header("X-Queue-Token");
    if (token.empty()) {
        if (auto q = rc.query_param("queueToken"); q && rc.route.ends_with("/queue/stream")) token = *q;
    }
    auto claims = tokens.verify_queue_token(token);
    if (!claims || claims->user != u.value || claims->concert != c.value) {
        rc.fail(403, "QUEUE_TOKEN_INVALID", "the queue token is missing or not valid for this user and concert");
        return false;
    }
    auto q = models.queue(c, u);
    if (!q || q->ticket < claims->ticket) {
        rc.fail(403, "QUEUE_TOKEN_INVALID", "the queue token is not known");
        return false;
    }
    if (q->ticket != claims->ticket || q->status == queue_status::expired || q->status == queue_status::completed) {
        rc.fail(403, "QUEUE_TOKEN_EXPIRED", "the queue token is no longer active");
        return false;
    }
    if (q->status == queue_status::waiting) {
        auto response = error_response(429, "NOT_YOUR_TURN", "still waiting in the queue");
        response.set(http::field::retry_after, std::to_string(std::clamp<std::uint64_t>(q->estimated_wait_seconds, 1, 30)));
        rc.send(std::move(response));
        return false;
    }
    return true;
}

command service::impl::make_command(user_id u, command_body body, std::string idempotency_key) {
    return command{command_meta{config.clock(), u, std::move(idempotency_key), no_position}, std::move(body)};
}

// The queue status body, rendered by hand: a poll is the most frequent request of an onsale. The
// token is included only where API.md returns it (joining); polls and streams leave it out.
std::string service::impl::queue_body(const projections::queue_view& q, concert_id c, user_id u, bool with_token) {
    std::string out = "{";
    if (with_token) out += R"("queueToken":")" + tokens.queue_token(u.value, c.value, q.ticket) + "\",";
    out += R"("status":")";
    out += to_string(q.status);
    out += R"(","position":)" + std::to_string(q.position) + R"(,"estimatedWaitSeconds":)" +
           std::to_string(q.estimated_wait_seconds);
    if (q.status == queue_status::active) out += R"(,"activeUntil":")" + format_instant(q.active_until) + "\"";
    out += '}';
    return out;
}

// ---- users and wallet ----------------------------------------------------------------------------

void service::impl::post_users(request_context& rc) {
    auto key = rc.idempotency_key();
    if (!key) return;
    auto body = rc.json_object(true);
    if (!body) return;
    std::string name;
    if (auto it = body->find("name"); it != body->end() && !it->is_null()) {
        if (!it->is_string() || utf8_characters(it->get_ref<const std::string&>()) > user_name_length_max)
            return rc.fail(400, "INVALID_REQUEST", "name must be a string of at most 64 characters");
        name = it->get<std::string>();
    }
    // With a key, the key is the caller: the user id is derived from it, so a repeat names the
    // same user (and partition) and is answered with the first outcome.
    user_id u{key->empty() ? config.random_id() : tokens.derived_id("user", *key)};
    command cmd = make_command(u, register_user{name}, *key);
    submit(std::move(cmd), partition_of(u, config.partitions), command_kind::register_user, rc.respond, rc.route);
}

void service::impl::get_balance(request_context& rc) {
    auto u = user(rc);
    if (!u) return;
    rc.reply(200, {{"userId", to_text(*u)}, {"balance", models.balance(*u)}});
}

void service::impl::post_charge(request_context& rc) {
    auto u = user(rc);
    if (!u) return;
    auto key = rc.idempotency_key();
    if (!key) return;
    auto body = rc.json_object();
    if (!body) return;
    auto it = body->find("amount");
    auto amount = it == body->end() ? std::nullopt : strict_integer(*it);
    if (!amount || *amount < charge_amount_min || *amount > charge_amount_max)
        return rc.fail(400, "INVALID_AMOUNT", "amount must be an integer from 1 to 1000000000");
    command cmd = make_command(*u, charge{*amount}, *key);
    submit(std::move(cmd), partition_of(*u, config.partitions), command_kind::charge, rc.respond, rc.route);
}

void service::impl::get_history(request_context& rc) {
    auto u = user(rc);
    if (!u) return;
    auto paging = rc.paging();
    if (!paging) return;
    auto page = models.history_page(*u, paging->after, paging->limit);
    json entries = json::array();
    for (const auto& h : page.items) {
        static constexpr std::string_view kinds[] = {"CHARGE", "PAYMENT", "REFUND"};
        json e = {{"type", kinds[static_cast<int>(h.type)]}, {"amount", h.amount}, {"balanceAfter", h.balance_after}, {"at", format_instant(h.at)}};
        if (h.reservation.value != 0) e["reservationId"] = reservation_text(h.reservation);
        entries.push_back(std::move(e));
    }
    json body = {{"entries", std::move(entries)}};
    if (!page.next.empty()) body["nextCursor"] = page_cursor(page.next);
    rc.reply(200, body);
}

void service::impl::get_my_reservations(request_context& rc) {
    auto u = user(rc);
    if (!u) return;
    auto paging = rc.paging();
    if (!paging) return;
    auto page = models.reservations_page(*u, paging->after, paging->limit);
    json list = json::array();
    for (const auto& r : page.items) list.push_back(reservation_json(r));
    json body = {{"reservations", std::move(list)}};
    if (!page.next.empty()) body["nextCursor"] = page_cursor(page.next);
    rc.reply(200, body);
}

}  // namespace encore::api
