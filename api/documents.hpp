#pragma once
// Internal to api/: the JSON shapes API.md fixes, and the static documents the server serves.

#include <string>

#include <nlohmann/json.hpp>

#include "events/event.hpp"

namespace encore::api {

// API.md's Reservation object.
nlohmann::json reservation_json(const reservation& r);
// GET /openapi.json: an OpenAPI 3 description of every route.
const std::string& openapi_document();
// GET /: the web page (concerts, waiting room, seat map, hold, pay, wallet).
const std::string& web_page();

}  // namespace encore::api
