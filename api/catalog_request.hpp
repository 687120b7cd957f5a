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

// PATCH /admin/concerts/{id}: the settings the body sets, checked against the concert as it is
// (`current`), or the message of the 400. Fields that cannot be changed, and unknown ones, are
// named in the message: a misspelt field is never ignored silently.
std::variant<concert_settings, std::string> parse_settings(const nlohmann::json& body, const create_concert& current);

// POST /admin/concerts/{id}/dates: {"schedules": [...]} in the creation shape.
// With a venue, a new date gives its date only: it has the whole layout at the grades' prices.
std::variant<add_dates, std::string> parse_new_dates(const nlohmann::json& body, const create_concert& current);

// POST and DELETE /admin/concerts/{id}/dates/{date}/blocks: {"seats": [...], "reason"?}.
std::variant<block_seats, std::string> parse_blocks(const nlohmann::json& body, bool block);

}  // namespace encore::api
