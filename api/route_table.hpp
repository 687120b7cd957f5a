// The one route table: every method and path the server answers, with its handler and what
// /openapi.json says of it. The router (routes.cpp) matches requests against it and the OpenAPI
// builder (openapi.cpp) documents it; no other file lists routes.

#pragma once

#include <boost/beast/http/verb.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/service.hpp"

namespace encore::api {

struct request_context;

// Who may call: `queue` is a user with the concert's queue token (X-Queue-Token); `stream` the
// same, either also as a query parameter (EventSource sends no headers).
enum class access { none, user, queue, stream, admin, scanner };  // scanner: X-Scanner-Key or X-Admin-Key
// What a success sends: JSON of the row's schema, an embedded web file, the Prometheus text or
// Server-Sent Events.
enum class content { json, web_file, prometheus, event_stream, svg };

struct outcome {
    int status;
    const char* description;
};

struct errors_at {
    int status;
    const char* codes;  // space-separated
};

using route_handler = void (*)(service::impl&, request_context&);

struct route {
    boost::beast::http::verb method;  // a GET route answers HEAD too
    const char* path;                 // OpenAPI's form: each {name} matches one non-empty segment
    route_handler handler;
    // What /openapi.json says of it (openapi.cpp adds what every row of a kind shares: 401 for a
    // caller that must be known, the Idempotency-Key of commands, the HTTP layer's errors, the
    // path's parameters).
    const char* operation_id;
    const char* tag;
    access auth;
    const char* summary;
    const char* request;  // the body's schema (openapi_schemas.cpp), or ""
    std::vector<outcome> successes;
    const char* response;  // the success body's schema (content::json), or ""
    std::vector<errors_at> errors;
    std::vector<const char*> parameters;  // components.parameters beyond the path's and the auth's
    content sends = content::json;
};

// API.md's routes, then the fixed paths (operations and the web pages' files).
std::span<const route> route_table();

// Whether the path's segments match the route's path.
bool route_matches(const route& r, std::span<const std::string_view> segments);

// The route's label in metrics and logs: "GET /concerts/{}/queue" (each path parameter as {}).
std::string route_label(const route& r);

}  // namespace encore::api
