// The router: a request matched against the route table (route_table.hpp) and handed to its row's
// handler; 405 with Allow for a known path asked with another method, 501 for a method served on
// no path, 404. The handlers of the fixed paths (operations::): the health and readiness probes,
// /metrics, /openapi.json and the web pages' files.

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "api/documents.hpp"
#include "api/route_table.hpp"
#include "api/service_impl.hpp"
#include "api/web_assets.hpp"

namespace encore::api {

namespace http = boost::beast::http;

namespace {

// The pages are served with what a browser needs to refuse framing, MIME sniffing, referrer
// leaks and anything not from this origin. The pages' scripts (ES modules) and styles are files of
// their own (web_assets.hpp), so nothing inline runs; nothing may load or connect elsewhere.
void set_page_security_headers(http_response& page) {
    page.set("Content-Security-Policy",
             "default-src 'none'; script-src 'self'; style-src 'self'; "
             "connect-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    page.set("X-Frame-Options", "DENY");
    page.set("X-Content-Type-Options", "nosniff");
    page.set("Referrer-Policy", "no-referrer");
}

// The methods this server implements on some path; any other is 501.
bool implemented(http::verb method) {
    switch (method) {
        case http::verb::get:
        case http::verb::head:
        case http::verb::post:
        case http::verb::put:
        case http::verb::patch:
        case http::verb::delete_:
        case http::verb::options: return true;
        default: return false;
    }
}

}  // namespace

namespace operations {

void health(service::impl&, request_context& rc) { rc.reply(200, {{"status", "ok"}}); }

void readiness(service::impl& s, request_context& rc) {
    if (auto problem = s.config.storage_problem()) return rc.fail(503, "NOT_READY", "storage: " + *problem);
    s.config.ready() ? rc.reply(200, {{"status", "ready"}}) : rc.fail(503, "NOT_READY", "recovering or catching up");
}

void metrics(service::impl& s, request_context& rc) {
    http_response text(http::status::ok, 11);
    text.set(http::field::content_type, prometheus_content_type);
    text.body() = s.metrics.render();
    text.prepare_payload();
    rc.send(std::move(text));
}

void openapi(service::impl&, request_context& rc) {
    http_response doc(http::status::ok, 11);
    doc.set(http::field::content_type, json_content_type);
    doc.body() = openapi_document();
    doc.prepare_payload();
    rc.send(std::move(doc));
}

// One file of the web pages (api/web/, embedded), revalidated by ETag on every load.
void web_file(service::impl&, request_context& rc) {
    const web_asset* asset = find_web_asset(rc.segments.empty() ? "/" : "/" + std::string(rc.segments[0]));
    const bool unchanged = rc.header("If-None-Match") == asset->etag;
    http_response file(unchanged ? http::status::not_modified : http::status::ok, 11);
    file.set(http::field::etag, asset->etag);
    file.set(http::field::cache_control, "no-cache");
    set_page_security_headers(file);
    if (!unchanged) {
        file.set(http::field::content_type, asset->content_type);
        file.body() = asset->body;
        file.prepare_payload();
    }
    rc.send(std::move(file));
}

}  // namespace operations

void service::impl::route(request_context& rc) {
    const auto table = route_table();
    // The metrics label of each row, made once.
    static const std::vector<std::string> labels = [&] {
        std::vector<std::string> made;
        for (const api::route& r : table) made.push_back(route_label(r));
        return made;
    }();
    const auto method = rc.request.method();
    if (!implemented(method)) {
        rc.route = "501";
        return rc.fail(501, "NOT_IMPLEMENTED", "this server does not implement the method " + std::string(rc.request.method_string()));
    }
    std::string allowed;
    for (std::size_t i = 0; i < table.size(); ++i) {
        const api::route& r = table[i];
        if (!route_matches(r, rc.segments)) continue;
        if (r.method == method || (method == http::verb::head && r.method == http::verb::get)) {
            rc.route = labels[i];
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
