#pragma once
// Internal to api/: one request being routed — its path split into segments, its query, and the
// ways to answer it. Every answer goes through `reply`/`fail`, which label the route for metrics.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/server.hpp"

namespace encore::api {

// The router and its handlers are written against the HTTP layer's types (http/).
using namespace encore::http;

// Lists that grow with use are paged (API.md): ?limit=1..1000 (default 100) and ?cursor=C.
inline constexpr std::size_t page_limit_default = 100;
inline constexpr std::size_t page_limit_max = 1000;
inline constexpr std::size_t page_cursor_bytes_max = 64;  // of the position the cursor encodes

struct page_request {
    std::size_t limit = page_limit_default;
    std::string after;  // the position the cursor names (raw bytes); empty for the first page
};

// The opaque cursor of a page position: lowercase hex of its bytes.
std::string page_cursor(std::string_view position);

struct request_context {
    request_context(http_request r, responder p);

    http_request request;
    responder respond;
    std::string route = std::string(route_label_unnamed);  // the matched template, for metrics
    std::vector<std::string_view> segments;                  // "/a/b" -> {"a", "b"}
    std::string_view query;
    bool answered = false;

    std::string_view segment(std::size_t i) const { return segments.at(i); }
    // The first ?name=value, percent-decoded (the view lives as long as this context).
    std::optional<std::string_view> query_param(std::string_view name) const;
    std::string_view header(std::string_view name) const;
    // The body as a JSON object (an empty body counts as {} when `empty_ok`); on failure the
    // request is answered with 400 and nullopt returned.
    std::optional<nlohmann::json> json_object(bool empty_ok = false);
    // The Idempotency-Key header: "" when absent; nullopt (answered 400) when malformed.
    std::optional<std::string> idempotency_key();
    // ?limit and ?cursor; on a bad value the request is answered with 400 and nullopt returned.
    std::optional<page_request> paging();

    void reply(unsigned status, const nlohmann::json& body);
    // A body already rendered as JSON text.
    void reply_json_text(unsigned status, std::string body);
    void fail(unsigned status, std::string_view code, std::string_view message);
    void send(http_response response);

private:
    mutable bool query_decoded_ = false;
    mutable std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace encore::api
