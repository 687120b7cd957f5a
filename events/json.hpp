#pragma once
// A rendering of commands and events for people (`encore events`, kcat, audits): ids in their text
// form, dates as YYYY-MM-DD, instants in RFC 3339. One way only: the binary codec is the format.

#include <nlohmann/json.hpp>

#include "events/command.hpp"
#include "events/event.hpp"

namespace encore {

nlohmann::json to_json(const command& c);
nlohmann::json to_json(const event& e);
nlohmann::json to_json(const reservation& r);

}  // namespace encore
