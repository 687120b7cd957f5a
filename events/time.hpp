#pragma once
// Calendar arithmetic and the textual forms API.md fixes: dates `YYYY-MM-DD`, instants RFC 3339
// UTC with milliseconds. Pure functions; no clock is read here.

#include <optional>
#include <string>
#include <string_view>

#include "events/types.hpp"

namespace encore {

// Days since 1970-01-01 for a proleptic Gregorian date; nullopt when the date does not exist.
std::optional<day_number> days_from_civil(int year, unsigned month, unsigned day);
// Parses exactly `YYYY-MM-DD` (years 1970..9999).
std::optional<day_number> parse_date(std::string_view text);
std::string format_date(day_number day);
// `2026-12-24T19:00:00.000Z`.
std::string format_instant(time_ms at);
// Parses an RFC 3339 UTC instant as API.md writes them: `YYYY-MM-DDTHH:MM:SSZ` or with `.mmm`
// milliseconds (years 1970..9999); nullopt for anything else, offsets other than Z included.
std::optional<time_ms> parse_instant(std::string_view text);

}  // namespace encore
