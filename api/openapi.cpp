// GET /openapi.json: built once from a compact table of the routes.

#include <nlohmann/json.hpp>

#include "api/documents.hpp"
#include "api/http_server.hpp"
#include "projections/read_models.hpp"

namespace encore::api {
namespace {

using nlohmann::json;

struct route_doc {
    const char* method;
    const char* path;
    const char* summary;
    const char* auth;  // "", "user", "user+queue", "admin"
    int success;
    std::vector<int> errors;
};

json operation(const route_doc& r) {
    json op = {{"summary", r.summary}, {"responses", json::object()}};
    op["responses"][std::to_string(r.success)] = {{"description", "success"}};
    for (int code : r.errors)
        op["responses"][std::to_string(code)] = {{"description", "error"}, {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
    std::string auth = r.auth;
    json security = json::array();
    if (auth == "user" || auth == "user+queue") security.push_back({{"userToken", json::array()}});
    if (auth == "user+queue") security.back()["queueToken"] = json::array();
    if (auth == "admin") security.push_back({{"adminKey", json::array()}});
    if (!security.empty()) op["security"] = security;
    std::string method = r.method;
    const std::string path = r.path;
    if (method == "get" && (path == "/users/me/reservations" || path == "/users/me/balance/history" ||
                            path.ends_with("/history"))) {
        op["parameters"] = json::array(
            {{{"name", "limit"}, {"in", "query"}, {"required", false},
              {"description", "items per page, 1..1000, default 100"},
              {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"default", 100}}}},
             {{"name", "cursor"}, {"in", "query"}, {"required", false},
              {"description", "the nextCursor of the previous page (opaque); absent on the last page"},
              {"schema", {{"type", "string"}}}}});
        op["responses"]["400"] = {{"description", "a bad limit or cursor"}};
    }
    if (method == "get" && path.ends_with("/timeline")) {
        op["parameters"] = json::array(
            {{{"name", "bucketSeconds"}, {"in", "query"}, {"required", false},
              {"description", "bucket size in seconds: a multiple of 10 from 10 to 86400, default 60; buckets are aligned to the epoch"},
              {"schema", {{"type", "integer"}, {"minimum", 10}, {"maximum", 86400}, {"multipleOf", 10}, {"default", 60}}}},
             {{"name", "from"}, {"in", "query"}, {"required", false},
              {"description", "RFC 3339 instant: the first bucket is the one holding it (default: the concert's creation); pass nextFrom to go on"},
              {"schema", {{"type", "string"}, {"format", "date-time"}}}},
             {{"name", "to"}, {"in", "query"}, {"required", false},
              {"description", "RFC 3339 instant, after from: the last bucket is the one holding the instant before it (default: the bucket of the latest event)"},
              {"schema", {{"type", "string"}, {"format", "date-time"}}}}});
        op["x-buckets-max"] = projections::timeline_buckets_max;
    }
    if (method == "post" || method == "delete") {
        op["parameters"] = json::array({{{"name", "Idempotency-Key"}, {"in", "header"}, {"required", false},
                                         {"description", "1..64 printable ASCII characters. A repeat by the same caller on the same route with the same "
                                                         "body returns the first outcome; the same key on another route or with another body is 422 "
                                                         "IDEMPOTENCY_KEY_REUSED. Keys are remembered 24 hours and at most 1000 per caller, the oldest "
                                                         "forgotten first. For POST /users the key itself is the caller: treat it as a secret."},
                                         {"x-retention-hours", 24}, {"x-keys-per-caller-max", 1000},
                                         {"schema", {{"type", "string"}, {"minLength", 1}, {"maxLength", 64}}}}});
        if (!op["responses"].contains("422"))
            op["responses"]["422"] = {{"description", "IDEMPOTENCY_KEY_REUSED"}, {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
    }
    return op;
}

json build() {
    static const std::vector<route_doc> routes = {
        {"post", "/users", "Create a user and get a user token", "", 201, {400}},
        {"get", "/users/me/balance", "The caller's balance", "user", 200, {401}},
        {"post", "/users/me/balance/charge", "Charge the wallet (amount 1..1000000000)", "user", 200, {400, 401, 422}},
        {"get", "/users/me/balance/history", "Wallet history, newest first", "user", 200, {401}},
        {"get", "/users/me/reservations", "The caller's reservations", "user", 200, {401}},
        {"post", "/admin/concerts", "Create a concert", "admin", 201, {400, 401}},
        {"get", "/concerts", "List concerts", "", 200, {}},
        {"get", "/concerts/{concertId}/dates", "Dates with available seats", "user+queue", 200, {401, 403, 404, 429}},
        {"get", "/concerts/{concertId}/dates/{date}/seats", "Seat map (?status=AVAILABLE filters)", "user+queue", 200, {400, 401, 403, 404, 429}},
        {"post", "/concerts/{concertId}/queue", "Enter the waiting room (200 with the live token if one exists)", "user", 201, {401, 404}},
        {"get", "/concerts/{concertId}/queue", "Queue status, position and estimated wait", "user+queue", 200, {401, 403}},
        {"get", "/concerts/{concertId}/queue/stream", "Server-Sent Events of queue status (?token=&queueToken= for EventSource)", "user+queue", 200, {401, 403}},
        {"post", "/concerts/{concertId}/dates/{date}/seats/{seat}/hold", "Hold a seat", "user+queue", 201, {401, 403, 404, 409, 422, 429}},
        {"get", "/reservations/{reservationId}", "A reservation of the caller", "user", 200, {401, 404}},
        {"delete", "/reservations/{reservationId}", "Cancel a hold", "user", 200, {401, 404, 409}},
        {"post", "/reservations/{reservationId}/pay", "Pay a hold from the wallet", "user", 201, {401, 402, 404, 409, 410}},
        {"post", "/reservations/{reservationId}/refund", "Refund a CONFIRMED reservation until the concert's refundsUntil: the seat is AVAILABLE again and the price credited to the wallet", "user", 200, {401, 404, 409, 422}},
        {"get", "/analytics/concerts/{concertId}", "Sales, holds and queue figures per date", "admin", 200, {401, 404}},
        {"get", "/analytics/concerts/{concertId}/timeline", "The concert's queue, holds, sales and revenue by buckets of partition time, oldest first (at most 10000 buckets; nextFrom when the range goes on)", "admin", 200, {400, 401, 404}},
        {"get", "/admin/concerts/{concertId}/dates/{date}/seats/{seat}/history", "A seat's holds, expiries, cancels, sale and refunds, oldest first", "admin", 200, {400, 401, 404}},
        {"get", "/healthz", "Liveness", "", 200, {}},
        {"get", "/readyz", "Readiness: engine recovered and projections caught up", "", 200, {503}},
        {"get", "/metrics", "Prometheus metrics", "", 200, {}},
        {"get", "/openapi.json", "This document", "", 200, {}},
        {"get", "/", "The fan's web page (HTML; its script and style are /app.js and /app.css)", "", 200, {}},
        {"get", "/app.js", "The fan's web page's script", "", 200, {}},
        {"get", "/app.css", "The fan's web page's style sheet (the organizer's page uses it too)", "", 200, {}},
        {"get", "/admin", "The organizer's web page (HTML; it asks for the admin key and sends it as X-Admin-Key; its script and style are /admin.js and /admin.css, on top of /app.css)", "", 200, {}},
        {"get", "/admin.js", "The organizer's page's script", "", 200, {}},
        {"get", "/admin.css", "The organizer's page's style sheet", "", 200, {}},
    };
    json doc = {{"openapi", "3.0.3"},
                {"info", {{"title", "Encore"}, {"version", "1.0.0"},
                          {"description", "Event-sourced concert reservations: waiting room, seat holds, wallet payments."}}},
                {"paths", json::object()}};
    for (const auto& r : routes) doc["paths"][r.path][r.method] = operation(r);
    // Connection limits, which API.md leaves to the server (api/http_server.hpp). The figures are
    // the defaults; /metrics shows the ones in force (encore_http_connections_limit).
    const server_timeouts timeouts;
    doc["info"]["x-connection-limits"] = {
        {"description",
         "Connections per client address (IPv6: per /64) beyond connectionsPerClientMax are closed at once. "
         "connectionsMax is lowered at start to what the process's descriptor limit allows. Past it, "
         "probeReserve more connections (probeReservePerClient per client) serve only GET or HEAD /healthz and "
         "/readyz, one request each, then close; any other request on them gets 503 OVERLOADED with Retry-After "
         "and the connection closes. Past the reserve a connection is closed at once. A connection that sends "
         "nothing for firstRequestSeconds is closed; an idle keep-alive connection after idleSeconds."},
        {"connectionsMax", connections_max_default},
        {"connectionsPerClientMax", connections_per_client_max_default},
        {"probeReserve", probe_connections_reserve_default},
        {"probeReservePerClient", probe_connections_per_client_max},
        {"firstRequestSeconds", timeouts.first_request_ms.count() / 1000},
        {"idleSeconds", timeouts.idle_ms.count() / 1000},
        {"requestReadSeconds", timeouts.request_read_ms.count() / 1000}};
    json error_object = {{"type", "object"},
                         {"properties", {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}};
    doc["components"]["schemas"]["Error"] = {{"type", "object"}, {"properties", {{"error", error_object}}}};
    doc["components"]["securitySchemes"] = {
        {"userToken", {{"type", "http"}, {"scheme", "bearer"}}},
        {"queueToken", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Queue-Token"}}},
        {"adminKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Admin-Key"}}}};
    return doc;
}

}  // namespace

const std::string& openapi_document() {
    static const std::string text = build().dump();
    return text;
}

}  // namespace encore::api
