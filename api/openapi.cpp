// GET /openapi.json: built once from the route table (route_table.hpp), with a HEAD operation
// for every GET. Each row names its schemas (openapi_schemas.cpp), its auth, its successes and
// its errors by status; what every row of a kind shares (401 for a caller that must be known, the
// Idempotency-Key of commands, 400 BAD_REQUEST and 503 OVERLOADED from the HTTP layer, the path's
// parameters) is added here, not repeated in the table.

#include <algorithm>
#include <cassert>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "api/documents.hpp"
#include "http/server.hpp"
#include "http/metrics.hpp"
#include "api/openapi_schemas.hpp"
#include "api/query_handlers.hpp"
#include "api/route_table.hpp"
#include "api/requests.hpp"
#include "api/web_assets.hpp"
#include "projections/read_models.hpp"

namespace encore::api {
namespace {

using nlohmann::json;
using openapi::schema_ref;

json ref(const char* kind, std::string_view name) {
    return {{"$ref", "#/components/" + std::string(kind) + "/" + std::string(name)}};
}

bool is_command(const route& r) { return r.method != boost::beast::http::verb::get; }

// "get", "post"...: the method as an OpenAPI operation key.
std::string method_key(const route& r) {
    std::string key(boost::beast::http::to_string(r.method));
    for (char& c : key) c = static_cast<char>(c - 'A' + 'a');
    return key;
}

json security(access auth) {
    const json none = json::array();
    switch (auth) {
        case access::none: return json::array();
        case access::user: return json::array({{{"userToken", none}}});
        case access::queue: return json::array({{{"userToken", none}, {"queueToken", none}}});
        case access::admin: return json::array({{{"adminKey", none}}});
        case access::scanner: return json::array({{{"scannerKey", none}}, {{"adminKey", none}}});
        case access::stream:
            return json::array({{{"userToken", none}, {"queueToken", none}},
                                {{"userTokenQuery", none}, {"queueTokenQuery", none}},
                                {{"userToken", none}, {"queueTokenQuery", none}},
                                {{"userTokenQuery", none}, {"queueToken", none}}});
    }
    return json::array();
}

json parameters(const route& r) {
    json list = json::array();
    const std::string path = r.path;
    for (std::size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1))
        list.push_back(ref("parameters", path.substr(open + 1, path.find('}', open) - open - 1)));
    if (r.auth == access::queue) list.push_back(ref("parameters", "QueueTokenHeader"));
    if (r.auth == access::stream) list.push_back(ref("parameters", "QueueTokenHeaderOrQuery"));
    for (const char* name : r.parameters) list.push_back(ref("parameters", name));
    if (is_command(r)) list.push_back(ref("parameters", "IdempotencyKey"));
    return list;
}

// Every error code of the row by status: its own, then what its kind adds.
std::map<int, std::vector<std::string>> error_codes_by_status(const route& r) {
    std::map<int, std::vector<std::string>> by_status;
    auto add = [&](int status, std::string_view codes) {
        std::istringstream words{std::string(codes)};
        for (std::string code; words >> code;) {
            auto& list = by_status[status];
            if (std::find(list.begin(), list.end(), code) == list.end()) list.push_back(code);
        }
    };
    if (r.auth != access::none) add(401, "UNAUTHORIZED");
    for (const errors_at& e : r.errors) add(e.status, e.codes);
    if (*r.request != '\0') add(400, "INVALID_REQUEST"), add(413, "PAYLOAD_TOO_LARGE");
    if (is_command(r)) add(400, "INVALID_REQUEST"), add(422, "IDEMPOTENCY_KEY_REUSED"), add(503, "UNAVAILABLE STORAGE_UNAVAILABLE TIMEOUT");
    add(400, "BAD_REQUEST");
    add(503, "OVERLOADED");
    return by_status;
}

const char* reason_phrase(int status) {
    static const std::map<int, const char*> phrases = {
        {400, "Bad Request"}, {401, "Unauthorized"}, {402, "Payment Required"}, {403, "Forbidden"},
        {404, "Not Found"}, {409, "Conflict"}, {410, "Gone"}, {412, "Precondition Failed"}, {413, "Content Too Large"},
        {422, "Unprocessable Content"}, {429, "Too Many Requests"}, {503, "Service Unavailable"}};
    auto it = phrases.find(status);
    assert(it != phrases.end() && "a status /openapi.json has no phrase for");
    return it->second;
}

json error_doc(int status, const std::vector<std::string>& codes) {
    std::string description = std::string(reason_phrase(status)) + ".";
    for (const std::string& code : codes) {
        assert(std::find(openapi::error_codes().begin(), openapi::error_codes().end(), code) != openapi::error_codes().end());
        description += " `" + code + "`: " + openapi::error_meaning(code) + ".";
    }
    json response = {{"description", description},
                     {"content", {{"application/json", {{"schema", schema_ref("Error")}}}}},
                     {"x-error-codes", codes}};
    if (status == 429 || status == 503) response["headers"] = {{"Retry-After", ref("headers", "RetryAfter")}};
    return response;
}

json success_content(const route& r) {
    switch (r.sends) {
        case content::json: return {{"application/json", {{"schema", schema_ref(r.response)}}}};
        case content::prometheus: return {{std::string(prometheus_content_type), {{"schema", {{"type", "string"}}}}}};
        case content::web_file: {
            const web_asset* asset = find_web_asset(r.path);
            assert(asset != nullptr && "a page /openapi.json lists is not embedded");
            return {{std::string(asset->content_type), {{"schema", {{"type", "string"}}}}}};
        }
        case content::svg: return {{"image/svg+xml", {{"schema", {{"type", "string"}}}}}};
        case content::event_stream:
            return {{std::string(event_stream_content_type),
                     {{"schema", {{"type", "string"},
                                  {"description", "`event: queue` events whose `data` is a QueueStatus object on one line; "
                                                  "`: keep-alive` comments in between"}}},
                      {"example", "event: queue\ndata: {\"status\":\"WAITING\",\"position\":3,\"estimatedWaitSeconds\":40}\n\n"}}}};
    }
    return json::object();
}

json responses(const route& r) {
    auto has = [&r](std::string_view p) { return std::find(r.parameters.begin(), r.parameters.end(), p) != r.parameters.end(); };
    const bool etag = has("IfNoneMatch") || has("IfMatch");
    json out = json::object();
    for (const outcome& success : r.successes) {
        json response = {{"description", success.description}, {"content", success_content(r)}};
        if (etag) response["headers"] = {{"ETag", ref("headers", "ETag")}};
        out[std::to_string(success.status)] = std::move(response);
    }
    if (has("IfNoneMatch")) out["304"] = ref("responses", "NotModified");
    for (const auto& [status, codes] : error_codes_by_status(r)) out[std::to_string(status)] = error_doc(status, codes);
    out["default"] = ref("responses", "OtherErrors");
    return out;
}

json operation(const route& r) {
    json op = {{"operationId", r.operation_id}, {"tags", {r.tag}}, {"summary", r.summary},
               {"security", security(r.auth)}, {"responses", responses(r)}};
    if (json list = parameters(r); !list.empty()) op["parameters"] = std::move(list);
    if (*r.request != '\0') {
        // POST /users takes an empty body as {}: the only body that may be left out.
        const bool required = std::string_view(r.path) != "/users";
        op["requestBody"] = {{"required", required}, {"content", {{"application/json", {{"schema", schema_ref(r.request)}}}}}};
    }
    if (std::string_view(r.path).ends_with("/timeline")) op["x-buckets-max"] = projections::timeline_buckets_max;
    return op;
}

// HEAD of a GET route: the same checks, statuses and headers, no body.
json head_operation(const route& r) {
    json op = operation(r);
    op["operationId"] = std::string(r.operation_id) + "Head";
    op["summary"] = std::string("The headers GET ") + r.path + " would answer, without its body";
    for (auto& [status, response] : op["responses"].items()) {
        if (response.contains("$ref")) {
            if (status == "default") response = {{"description", "Any route: 413, 431 or 500, without a body"}};
            continue;
        }
        response.erase("content");
    }
    return op;
}

json query_parameter(const char* name, const char* description, json schema) {
    return {{"name", name}, {"in", "query"}, {"required", false}, {"description", description}, {"schema", std::move(schema)}};
}

json path_parameter(const char* name, const char* description, json schema) {
    return {{"name", name}, {"in", "path"}, {"required", true}, {"description", description}, {"schema", std::move(schema)}};
}

json header_parameter(const char* name, bool required, const char* description, json schema) {
    return {{"name", name}, {"in", "header"}, {"required", required}, {"description", description}, {"schema", std::move(schema)}};
}

json idempotency_key() {
    json key = header_parameter(
        "Idempotency-Key", false,
        "1..64 printable ASCII characters. A repeat by the same caller on the same route with the same "
        "body returns the first outcome; the same key on another route or with another body is 422 "
        "IDEMPOTENCY_KEY_REUSED. Keys are remembered 24 hours and at most 1000 per caller, the oldest "
        "forgotten first. For POST /users the key itself is the caller: treat it as a secret.",
        {{"type", "string"}, {"minLength", 1}, {"maxLength", idempotency_key_length_max}, {"pattern", "^[\\x20-\\x7E]+$"}});
    key["x-retention-hours"] = 24;
    key["x-keys-per-caller-max"] = 1000;
    return key;
}

json path_parameters() {
    return {{"concertId", path_parameter("concertId", "a concert's id, from GET /concerts", {{"type", "string"}})},
            {"date", path_parameter("date", "a date of the concert, YYYY-MM-DD",
                                    {{"type", "string"}, {"format", "date"}, {"pattern", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}})},
            {"seat", path_parameter("seat", "a seat number, 1..seats of the date",
                                    {{"type", "integer"}, {"minimum", 1}, {"maximum", seats_per_date_max}})},
            {"reservationId", path_parameter("reservationId", "a reservation's id", {{"type", "string"}})},
            {"phase", path_parameter("phase", "a sale phase's name (its `phase`)", {{"type", "string"}, {"minLength", 1}, {"maxLength", phase_name_length_max}})},
            {"ticketId", path_parameter("ticketId", "a ticket's id, t-P-O-N: the N-th seat or place of a reservation", {{"type", "string"}})},
            {"scannerId", path_parameter("scannerId", "a scanner's id, from POST /admin/concerts/{concertId}/scanners", {{"type", "string"}})}};
}

json other_parameters() {
    const json token = {{"type", "string"}};
    return {{"limit", query_parameter("limit", "items per page", {{"type", "integer"}, {"minimum", 1}, {"maximum", page_limit_max}, {"default", page_limit_default}})},
            {"cursor", query_parameter("cursor", "the nextCursor of the previous page (opaque); absent on the last page", token)},
            {"status", query_parameter("status", "only the seats of this status", schema_ref("SeatStatus"))},
            {"grade", query_parameter("grade", "with a venue: only the seats of this grade (400 for a grade it does not have)", {{"type", "string"}})},
            {"section", query_parameter("section", "with a venue: only the seats of this section (400 for a section it does not have)", {{"type", "string"}})},
            {"overview", query_parameter("overview", "true: no seats, only `sections` with the seats or places left in each (what a large venue's page opens on, before it draws one section)",
                                         {{"type", "boolean"}, {"default", false}})},
            {"bucketSeconds", query_parameter("bucketSeconds", "bucket size in seconds: a multiple of 10 from 10 to 86400; buckets are aligned to the epoch",
                                              {{"type", "integer"}, {"minimum", timeline_bucket_seconds_min}, {"maximum", timeline_bucket_seconds_max},
                                               {"multipleOf", 10}, {"default", timeline_bucket_seconds_default}})},
            {"from", query_parameter("from", "RFC 3339 instant: the first bucket is the one holding it (default: the concert's creation); pass nextFrom to go on",
                                     {{"type", "string"}, {"format", "date-time"}})},
            {"to", query_parameter("to", "RFC 3339 instant, after from: the last bucket is the one holding the instant before it (default: the bucket of the latest event)",
                                   {{"type", "string"}, {"format", "date-time"}})},
            {"gate", query_parameter("gate", "a gate of the venue: only the tickets of its sections (and those of no gate)", {{"type", "string"}})},
            {"token", query_parameter("token", "the user token, for clients that cannot send Authorization (EventSource)", token)},
            {"queueToken", query_parameter("queueToken", "the queue token, for clients that cannot send X-Queue-Token (EventSource)", token)},
            {"QueueTokenHeader", header_parameter("X-Queue-Token", true, "the queue token from POST /concerts/{concertId}/queue", token)},
            {"QueueTokenHeaderOrQuery", header_parameter("X-Queue-Token", false, "the queue token; or ?queueToken=", token)},
            {"IfNoneMatch", header_parameter("If-None-Match", false, "an ETag of an earlier answer: 304 with no body while it still matches", token)},
            {"IfMatch", header_parameter("If-Match", false, "the ETag of GET /admin/concerts/{concertId}: the change applies only if the concert has not changed since (else 412)", token)},
            {"IdempotencyKey", idempotency_key()}};
}

json components() {
    json parameters = path_parameters();
    parameters.update(other_parameters());
    const json error = {{"application/json", {{"schema", schema_ref("Error")}}}};
    return {
        {"schemas", openapi::schemas()},
        {"parameters", std::move(parameters)},
        {"headers",
         {{"RetryAfter", {{"description", "seconds to wait before trying again"}, {"schema", {{"type", "integer"}, {"minimum", 1}}}}},
          {"ETag", {{"description", "the version of this answer; send it back as If-None-Match"}, {"schema", {{"type", "string"}}}}}}},
        {"responses",
         {{"NotModified", {{"description", "Not Modified: the If-None-Match still matches; no body"}, {"headers", {{"ETag", ref("headers", "ETag")}}}}},
          {"OtherErrors",
           {{"description", "Any route: 413 `PAYLOAD_TOO_LARGE` (a body over 65536 bytes), 431 `HEADERS_TOO_LARGE` (headers over 8192 bytes), 500 `INTERNAL`"},
            {"content", error},
            {"x-error-codes", {"PAYLOAD_TOO_LARGE", "HEADERS_TOO_LARGE", "INTERNAL"}}}}}},
        {"securitySchemes",
         {{"userToken", {{"type", "http"}, {"scheme", "bearer"}, {"description", "the token of POST /users; missing or forged: 401 UNAUTHORIZED"}}},
          {"userTokenQuery", {{"type", "apiKey"}, {"in", "query"}, {"name", "token"}, {"description", "the user token, on the event stream only"}}},
          {"queueToken", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Queue-Token"}, {"description", "the token of POST /concerts/{concertId}/queue, for one user and one concert"}}},
          {"queueTokenQuery", {{"type", "apiKey"}, {"in", "query"}, {"name", "queueToken"}, {"description", "the queue token, on the event stream only"}}},
          {"adminKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Admin-Key"}, {"description", "the key given at start-up; wrong or missing: 401 UNAUTHORIZED"}}},
          {"scannerKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Scanner-Key"},
                          {"description", "the key of POST /admin/concerts/{concertId}/scanners: checks in tickets of that concert only, at the scanner's gate; "
                                          "removed, it stops working at once (401 UNAUTHORIZED)"}}}}}};
}

// Connection limits, which API.md leaves to the server (http/server.hpp). The figures are
// the defaults; /metrics shows the ones in force (encore_http_connections_limit).
json connection_limits() {
    const server_timeouts timeouts;
    return {{"description",
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
}

json info() {
    return {{"title", "Encore"},
            {"version", "1.0.0"},
            {"description",
             "Event-sourced concert reservations: waiting room, seat holds, wallet payments, refunds.\n\n"
             "JSON in and out; every error body is an `Error`. Money is an integer count of won; dates are YYYY-MM-DD, "
             "instants RFC 3339 UTC with milliseconds. Every GET also answers HEAD. A known path asked with another "
             "method gets 405 `METHOD_NOT_ALLOWED` with an Allow header; a method served on no path, 501 "
             "`NOT_IMPLEMENTED`; an unknown path, 404 `NOT_FOUND`. A successful command is answered once its effect "
             "is durable and visible to this server's queries."},
            {"x-connection-limits", connection_limits()}};
}

json tags() {
    return json::array({{{"name", "users"}, {"description", "Users and their wallets"}},
                        {{"name", "catalog"}, {"description", "Concerts, dates and seat maps"}},
                        {{"name", "queue"}, {"description", "The waiting room of a concert"}},
                        {{"name", "phases"}, {"description", "Sale phases: presales for a list of people, and the claims that prove a place on it"}},
                        {{"name", "reservations"}, {"description", "Holds, payments, cancels and refunds"}},
                        {{"name", "organizer"}, {"description", "The organizer's controls: settings, dates, blocks, pause and the change log (admin key)"}},
                        {{"name", "analytics"}, {"description", "The organizer's figures (admin key)"}},
                        {{"name", "tickets"}, {"description", "A paid reservation's tickets: signed codes (JWS, EdDSA), QR codes and the concert's public key"}},
                        {{"name", "door"}, {"description", "Scanners and check-ins at the door (scanner key or admin key)"}},
                        {{"name", "operations"}, {"description", "Health, readiness, metrics and this document"}},
                        {{"name", "pages"}, {"description", "The web pages and their files"}}});
}

json build() {
    json doc = {{"openapi", "3.0.3"},
                {"info", info()},
                {"servers", json::array({{{"url", "/"}, {"description", "the server that serves this document"}}})},
                {"tags", tags()},
                {"paths", json::object()},
                {"components", components()}};
    for (const route& r : route_table()) {
        json& item = doc["paths"][r.path];
        item[method_key(r)] = operation(r);
        if (r.method == boost::beast::http::verb::get) item["head"] = head_operation(r);
    }
    return doc;
}

}  // namespace

const std::string& openapi_document() {
    static const std::string text = build().dump();
    return text;
}

}  // namespace encore::api
