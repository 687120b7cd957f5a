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
// The seats per row of one date of the catalog (schedules[].seatsPerRow, default 25).
std::uint32_t seats_per_row_of(const create_concert& config, day_number day);
// The index in the catalog's schedules of the date `day` (which it has).
std::size_t schedule_index(const create_concert& config, day_number day);
// The venue's grades as API.md shows them: [{grade, price}].
// A concert's sale phases in their creation shape (grades spelled out: all of them by default).
nlohmann::json phases_json(const create_concert& config);
// A refund policy in its creation shape; null when there is none (refundsUntil alone).
nlohmann::json refund_policy_json(const refund_terms& terms);
nlohmann::json phases_json(const std::vector<sale_phase>& phases, const std::vector<grade_price>& venue_grades);
nlohmann::json grades_json(const venue_layout& venue);
// The layout as POST /admin/concerts takes it: {"sections": [...]}.
nlohmann::json layout_json(const venue_layout& venue);

// GET /admin/concerts/{id} (and the answer of PATCH and of POST .../dates): the concert as POST
// /admin/concerts would take it, every default filled in (so the body, posted again, creates the
// same concert under another id), its `revision`, `paused` and each date's `status`. The ETag is
// a hash of the body: the same concert, the same tag, on any node.
struct admin_concert_document {
    std::string body;
    std::string etag;  // quoted
};
admin_concert_document admin_concert_of(const projections::concert_view& concert);

// One entry of GET /admin/concerts/{id}/changes, from the event that made the change:
// {"at", "type", "fields": {the values set}}.
// `venue_grades`: the concert's grades (names never change), for the sale phases' grades.
nlohmann::json change_json(const event& e, const std::vector<grade_price>& venue_grades);

// GET /openapi.json: an OpenAPI 3 description of every route.
const std::string& openapi_document();

}  // namespace encore::api
