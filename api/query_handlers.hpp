#pragma once
// Internal to api/: the query handlers. Each is a function of the read models and the request:
// it authenticates, reads the projections (never the command log, never RocksDB on the request
// path but for wallet history pages) and answers at once, on the HTTP I/O thread that called it.

#include <functional>
#include <string>

#include "api/requests.hpp"
#include "api/seat_maps.hpp"
#include "api/tokens.hpp"
#include "projections/read_models.hpp"

namespace encore::api {

// What the query handlers read. The seat map cache is a memo of the read models (one rendering
// per seat version), so a query stays a function of the models and the request.
struct query_env {
    const projections::read_models& models;
    const token_signer& tokens;
    seat_maps& seat_map_cache;
    std::function<std::int64_t()> clock;  // wall clock in ms: the end of the admission-rate window
    std::string admin_key;
    std::uint32_t partitions = 1;
};

// GET /analytics/concerts/{c}/timeline: ?bucketSeconds (a multiple of 10 from 10 to 86,400,
// default 60), ?from and ?to (RFC 3339 instants, to after from).
inline constexpr std::int64_t timeline_bucket_seconds_default = 60;
inline constexpr std::int64_t timeline_bucket_seconds_min = 10;
inline constexpr std::int64_t timeline_bucket_seconds_max = 86'400;

namespace queries {

void balance(const query_env& env, request_context& rc);          // GET /users/me/balance
void history(const query_env& env, request_context& rc);          // GET /users/me/balance/history
void my_reservations(const query_env& env, request_context& rc);  // GET /users/me/reservations
void concerts(const query_env& env, request_context& rc);         // GET /concerts
void dates(const query_env& env, request_context& rc);            // GET /concerts/{c}/dates
void seats(const query_env& env, request_context& rc);            // GET /concerts/{c}/dates/{d}/seats
void queue(const query_env& env, request_context& rc);            // GET /concerts/{c}/queue
void reservation(const query_env& env, request_context& rc);      // GET /reservations/{r}
void analytics(const query_env& env, request_context& rc);        // GET /analytics/concerts/{c}
void timeline(const query_env& env, request_context& rc);         // GET /analytics/concerts/{c}/timeline
void admin_concert(const query_env& env, request_context& rc);    // GET /admin/concerts/{c}
void concert_changes(const query_env& env, request_context& rc);  // GET /admin/concerts/{c}/changes
void seat_history(const query_env& env, request_context& rc);     // GET /admin/concerts/{c}/dates/{d}/seats/{s}/history
void phases(const query_env& env, request_context& rc);           // GET /concerts/{c}/phases

}  // namespace queries
}  // namespace encore::api
