#pragma once
// Internal to api/: the JSON shapes API.md fixes, and the static documents the server serves.

#include <string>

#include <nlohmann/json.hpp>

#include "events/event.hpp"
#include "projections/read_models.hpp"

namespace encore::api {

// API.md's Reservation object.
nlohmann::json reservation_json(const reservation& r);
// The queue status body, rendered by hand: a poll is the most frequent request of an onsale.
// `queue_token` is included where API.md returns it (joining) and left out when empty.
std::string queue_body(const projections::queue_view& q, const std::string& queue_token);
// GET /openapi.json: an OpenAPI 3 description of every route.
const std::string& openapi_document();

}  // namespace encore::api
