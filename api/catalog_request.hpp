#pragma once
// Internal to api/: validation of POST /admin/concerts bodies into a CreateConcert command.

#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "events/command.hpp"

namespace encore::api {

// The command (its concert id left 0), or the message of the 400 to answer.
std::variant<create_concert, std::string> parse_catalog(const nlohmann::json& body);

}  // namespace encore::api
