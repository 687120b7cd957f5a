// The route table: each path and method to a command handler (commands.*), a query handler
// (queries.*) or the event stream (queue_streams.*); the fixed paths (the web pages' files of
// web_assets.hpp: / and the organizer's /admin with their scripts and styles; /healthz, /readyz,
// /metrics, /openapi.json); 404, 405 with Allow, 501.

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <algorithm>

#include "api/documents.hpp"
#include "api/service_impl.hpp"
#include "api/web_assets.hpp"
#include "events/ids.hpp"
#include "events/time.hpp"

namespace encore::api {

namespace http = boost::beast::http;

namespace {

using handler_fn = void (*)(service::impl&, request_context&);

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

// The pages are served with what a browser needs to refuse framing, MIME sniffing, referrer
// leaks and anything not from this origin. The pages' scripts (ES modules) and styles are files of
// their own (web_assets.hpp), so nothing inline runs; nothing may load or connect elsewhere.
void set_page_security_headers(http_response& page) {
    page.set("Content-Security-Policy",
             "default-src 'none'; script-src 'self'; style-src 'self'; "
             "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    page.set("X-Frame-Options", "DENY");
    page.set("X-Content-Type-Options", "nosniff");
    page.set("Referrer-Policy", "no-referrer");
}

// One file of the web page (api/web/, embedded), revalidated by ETag on every load.
http_response web_file(const web_asset& asset, std::string_view if_none_match) {
    const bool unchanged = if_none_match == asset.etag;
    http_response file(unchanged ? http::status::not_modified : http::status::ok, 11);
    file.set(http::field::etag, asset.etag);
    file.set(http::field::cache_control, "no-cache");
    set_page_security_headers(file);
    if (!unchanged) {
        file.set(http::field::content_type, asset.content_type);
        file.body() = asset.body;
        file.prepare_payload();
    }
    return file;
}
}  // namespace

void service::impl::route(request_context& rc) {
    // Captureless lambdas: each entry says whether the route is a command or a query.
    static const route_entry routes[] = {
        {http::verb::post, "/users", [](impl& s, request_context& rc) { commands::post_users(s.commands, rc); }},
        {http::verb::get, "/users/me/balance", [](impl& s, request_context& rc) { queries::balance(s.queries, rc); }},
        {http::verb::post, "/users/me/balance/charge", [](impl& s, request_context& rc) { commands::post_charge(s.commands, rc); }},
        {http::verb::get, "/users/me/balance/history", [](impl& s, request_context& rc) { queries::history(s.queries, rc); }},
        {http::verb::get, "/users/me/reservations", [](impl& s, request_context& rc) { queries::my_reservations(s.queries, rc); }},
        {http::verb::post, "/admin/concerts", [](impl& s, request_context& rc) { commands::post_concert(s.commands, rc); }},
        {http::verb::get, "/concerts", [](impl& s, request_context& rc) { queries::concerts(s.queries, rc); }},
        {http::verb::get, "/concerts/{}/dates", [](impl& s, request_context& rc) { queries::dates(s.queries, rc); }},
        {http::verb::get, "/concerts/{}/dates/{}/seats", [](impl& s, request_context& rc) { queries::seats(s.queries, rc); }},
        {http::verb::post, "/concerts/{}/queue", [](impl& s, request_context& rc) { commands::post_queue(s.commands, rc); }},
        {http::verb::get, "/concerts/{}/queue", [](impl& s, request_context& rc) { queries::queue(s.queries, rc); }},
        {http::verb::get, "/concerts/{}/queue/stream",
         [](impl& s, request_context& rc) {
             if (s.streams.open(rc)) s.housekeeping_wake.notify_all();
         }},
        {http::verb::post, "/concerts/{}/dates/{}/seats/{}/hold", [](impl& s, request_context& rc) { commands::post_hold(s.commands, rc); }},
        {http::verb::post, "/concerts/{}/dates/{}/holds", [](impl& s, request_context& rc) { commands::post_holds(s.commands, rc); }},
        {http::verb::get, "/reservations/{}", [](impl& s, request_context& rc) { queries::reservation(s.queries, rc); }},
        {http::verb::delete_, "/reservations/{}", [](impl& s, request_context& rc) { commands::delete_reservation(s.commands, rc); }},
        {http::verb::post, "/reservations/{}/pay", [](impl& s, request_context& rc) { commands::post_pay(s.commands, rc); }},
        {http::verb::post, "/reservations/{}/refund", [](impl& s, request_context& rc) { commands::post_refund(s.commands, rc); }},
        {http::verb::get, "/analytics/concerts/{}", [](impl& s, request_context& rc) { queries::analytics(s.queries, rc); }},
        {http::verb::get, "/analytics/concerts/{}/timeline", [](impl& s, request_context& rc) { queries::timeline(s.queries, rc); }},
        {http::verb::get, "/admin/concerts/{}/dates/{}/seats/{}/history", [](impl& s, request_context& rc) { queries::seat_history(s.queries, rc); }},
    };
    const auto method = rc.request.method();
    const bool get = method == http::verb::get || method == http::verb::head;
    if (method != http::verb::get && method != http::verb::head && method != http::verb::post &&
        method != http::verb::put && method != http::verb::patch && method != http::verb::delete_ &&
        method != http::verb::options) {
        rc.route = "501";
        return rc.fail(501, "NOT_IMPLEMENTED", "this server does not implement the method " + std::string(rc.request.method_string()));
    }
    // The web pages' files, each at its path (web_assets.hpp). "/admin" alone is the organizer's
    // page; the admin API lives below it (/admin/concerts...) in the route table.
    const web_asset* asset =
        rc.segments.size() <= 1 ? find_web_asset(rc.segments.empty() ? std::string("/") : "/" + std::string(rc.segments[0])) : nullptr;
    // The fixed GET-only paths, asked with another method.
    static constexpr std::string_view get_only[] = {"healthz", "readyz", "metrics", "openapi.json"};
    if (!get && (asset != nullptr ||
                 (rc.segments.size() == 1 && std::find(std::begin(get_only), std::end(get_only), rc.segments[0]) != std::end(get_only)))) {
        rc.route = "405";
        auto response = error_response(405, "METHOD_NOT_ALLOWED", "this path takes GET and HEAD only");
        response.set(http::field::allow, "GET, HEAD");
        return rc.send(std::move(response));
    }
    if (asset != nullptr) {
        rc.route = "GET " + std::string(asset->path);
        return rc.send(web_file(*asset, rc.header("If-None-Match")));
    }
    if (rc.segments.size() == 1 && get) {
        std::string_view s = rc.segments[0];
        if (s == "healthz") return rc.route = "GET /healthz", rc.reply(200, {{"status", "ok"}});
        if (s == "readyz") {
            rc.route = "GET /readyz";
            if (auto problem = config.storage_problem()) return rc.fail(503, "NOT_READY", "storage: " + *problem);
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
            return r.handler(*this, rc);
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

}  // namespace encore::api
