#pragma once
// Internal to api/: who is asking and what the path names, shared by the command handlers and the
// query handlers. Each check answers the request itself (401, 403, 404) when it fails and returns
// nullopt or false, so a handler just returns.

#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/requests.hpp"
#include "api/tokens.hpp"
#include "events/types.hpp"
#include "projections/read_models.hpp"

namespace encore::api {

// A date in a path that does not parse can name no date of any concert.
inline constexpr day_number unparsable_date = INT32_MIN;

// The caller of `Authorization: Bearer <user token>` (or ?token= on the queue stream, which
// EventSource cannot give headers); 401 otherwise.
std::optional<user_id> authenticated_user(request_context& rc, const token_signer& tokens);
// The X-Admin-Key header, compared in constant time; 401 otherwise.
bool admin_authorized(request_context& rc, std::string_view admin_key);
// The claims of `token` if it is a queue token of user `u` for concert `c`; 403
// QUEUE_TOKEN_INVALID otherwise (also when `c` did not parse).
std::optional<queue_claims> queue_claims_for(request_context& rc, const token_signer& tokens, user_id u,
                                             std::optional<concert_id> c, std::string_view token);
// The status of the ticket the claims name: the user's latest ticket's status, EXPIRED for an
// older ticket, nullopt for one the read models do not know (yet).
std::optional<projections::queue_view> ticket_view(const projections::read_models& models, const queue_claims& claims,
                                                   time_ms now);

// A seat number of a path: 1..999,999,999 without leading zeros.
std::optional<std::uint32_t> seat_number(std::string_view text);
// A reservation id of a path that names one of the `partitions`.
std::optional<reservation_id> owned_reservation_id(std::string_view text, std::uint32_t partitions);
// A JSON integer that fits in int64 (not a float, not a string).
std::optional<std::int64_t> strict_integer(const nlohmann::json& j);

}  // namespace encore::api
