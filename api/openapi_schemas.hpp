#pragma once
// Internal to api/: the parts of /openapi.json that describe bodies: the schema of every request
// and response body (components.schemas) and the error codes the server sends. openapi.cpp puts
// them together with the routes; both are built once, on the first GET /openapi.json.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace encore::api::openapi {

// Every `error.code` the server can send: the refusals of events/types.hpp (1..refusal_max), then
// the router's and the HTTP layer's own, each once.
const std::vector<std::string>& error_codes();
// What `code` means, in a few words.
std::string error_meaning(std::string_view code);
// components.schemas, by name.
nlohmann::json schemas();
// {"$ref": "#/components/schemas/<name>"}
nlohmann::json schema_ref(std::string_view name);

}  // namespace encore::api::openapi
