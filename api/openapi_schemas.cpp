// The schemas of /openapi.json: every body API.md fixes, with the bounds the handlers check, built
// from small functions (an object is its list of fields), and the error codes with their meanings.

#include "api/openapi_schemas.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

#include "api/gateway.hpp"
#include "http/server.hpp"
#include "api/query_handlers.hpp"
#include "api/requests.hpp"
#include "events/command.hpp"
#include "events/refund_policy.hpp"
#include "events/types.hpp"

namespace encore::api::openapi {
namespace {

using nlohmann::json;

// One property of an object schema; `required` unless marked optional.
struct field {
    const char* name;
    json schema;
    bool required = true;
};
constexpr bool optional = false;

json object(std::vector<field> fields, const char* description = nullptr) {
    json o = {{"type", "object"}, {"properties", json::object()}};
    json required = json::array();
    for (field& f : fields) {
        if (f.required) required.push_back(f.name);
        o["properties"][f.name] = std::move(f.schema);
    }
    if (!required.empty()) o["required"] = std::move(required);
    if (description != nullptr) o["description"] = description;
    return o;
}

json described(json schema, const char* description) {
    if (description != nullptr) schema["description"] = description;
    return schema;
}

json text(const char* description = nullptr) { return described({{"type", "string"}}, description); }

json integer(std::int64_t min, std::int64_t max, const char* description = nullptr) {
    return described({{"type", "integer"}, {"format", "int64"}, {"minimum", min}, {"maximum", max}}, description);
}

json count(const char* description = nullptr) {
    return described({{"type", "integer"}, {"format", "int64"}, {"minimum", 0}}, description);
}

json money(const char* description = nullptr) { return integer(0, balance_max, description); }

json with_default(json schema, std::int64_t value) {
    schema["default"] = value;
    return schema;
}

json nullable(json schema) {
    schema["nullable"] = true;
    return schema;
}

json instant(const char* description = nullptr) {
    return described({{"type", "string"}, {"format", "date-time"}, {"example", "2026-12-24T19:00:00.000Z"}}, description);
}

json date(const char* description = nullptr) {
    return described({{"type", "string"}, {"format", "date"}, {"example", "2026-12-24"}}, description);
}

json names(std::vector<const char*> values, const char* description = nullptr) {
    return described({{"type", "string"}, {"enum", std::move(values)}}, description);
}

json array_of(json items, const char* description = nullptr) {
    return described({{"type", "array"}, {"items", std::move(items)}}, description);
}

json next_cursor() {
    return text("pass as ?cursor= for the next page; absent on the last page");
}

// The router's and the HTTP layer's codes, beside the engine's refusals.
const std::vector<std::pair<std::string, std::string>>& server_codes() {
    static const std::vector<std::pair<std::string, std::string>> codes = {
        {"INVALID_REQUEST", "malformed JSON, a wrong type, a missing field or a value out of bounds; the message says which"},
        {"UNAUTHORIZED", "a missing or forged user token, or a wrong or missing admin key"},
        {"DATE_NOT_FOUND", "the concert has no such date"},
        {"SEAT_NOT_FOUND", "the date has no such seat"},
        {"PHASE_NOT_FOUND", "the concert has no sale phase of that name"},
        {"TICKET_NOT_FOUND", "the caller has no such ticket"},
        {"INVALID_TICKET", "a ticket's code whose format or signature is wrong, or of another concert"},
        {"ALREADY_ADMITTED", "the ticket was admitted before (admittedAt, gate say when and where)"},
        {"WRONG_DATE", "the ticket is for another date than the door admits for"},
        {"WRONG_GATE", "the ticket's section enters by another gate than the scanner's"},
        {"TICKET_REVOKED", "the ticket's reservation was refunded"},
        {"RATE_LIMITED", "too many claims of ids not on a list within the hour: try again after Retry-After seconds"},
        {"NO_ADJACENT_SEATS", "best available: no row has that many adjacent available seats"},
        {"NOT_FOUND", "no such route"},
        {"METHOD_NOT_ALLOWED", "a known path asked with a method it does not serve; the Allow header lists those it does"},
        {"NOT_IMPLEMENTED", "a method this server serves on no path"},
        {"NOT_READY", "the engine is recovering or the projections are catching up"},
        {"OVERLOADED", "too many connections: retry after Retry-After seconds; the connection closes"},
        {"UNAVAILABLE", "the command log is unavailable; retry with the same Idempotency-Key"},
        {"STORAGE_UNAVAILABLE", "the server's storage cannot be written or read now (its disk is nearly full, or failing): a "
                                "command was not logged and changed nothing; retry after Retry-After seconds"},
        {"TIMEOUT", "the command is logged but its outcome is not visible yet; retry with the same Idempotency-Key"},
        {"BAD_REQUEST", "malformed HTTP, ambiguous framing (RFC 9112 section 6.3) or no Host: nothing is applied and the connection closes"},
        {"PAYLOAD_TOO_LARGE", "the request body exceeds " + std::to_string(request_body_bytes_max) + " bytes"},
        {"HEADERS_TOO_LARGE", "the request headers exceed " + std::to_string(request_header_bytes_max) + " bytes"},
        {"INTERNAL", "an unexpected server error"},
    };
    return codes;
}

json error_code_schema() {
    std::string description = "Stable, UPPER_SNAKE_CASE. Each operation lists the codes it can answer with, by status.\n";
    for (const std::string& code : error_codes()) description += "- `" + code + "`: " + error_meaning(code) + "\n";
    return {{"type", "string"}, {"enum", error_codes()}, {"description", description}};
}

void add_user_schemas(json& s) {
    s["NewUser"] = object({{"name", described({{"type", "string"}, {"maxLength", user_name_length_max}, {"nullable", true}},
                                              "at most 64 characters"), optional}},
                          "The body is optional: an empty body is {}.");
    s["UserCreated"] = object({{"userId", text()}, {"token", text("the user token: send it as Authorization: Bearer <token>")}});
    s["Balance"] = object({{"userId", text()}, {"balance", money("won; 0 for a new user")}});
    s["Charge"] = object({{"amount", integer(charge_amount_min, charge_amount_max, "won")}});
    s["WalletEntry"] = object({{"type", names({"CHARGE", "PAYMENT", "REFUND"})},
                               {"amount", count("won, taken (PAYMENT) or added (CHARGE, REFUND)")},
                               {"balanceAfter", money()},
                               {"at", instant()},
                               {"reservationId", text("PAYMENT and REFUND entries"), optional}});
    s["WalletHistory"] = object({{"entries", array_of(schema_ref("WalletEntry"), "newest first")}, {"nextCursor", next_cursor(), optional}});
}

void add_reservation_schemas(json& s) {
    s["ReservationStatus"] = names({"HELD", "CONFIRMED", "EXPIRED", "CANCELLED", "REFUNDED"});
    json seats = array_of(integer(1, seats_per_date_max), "every seat of the reservation, ascending; empty for places of a standing zone");
    seats["minItems"] = 0;
    seats["maxItems"] = seats_per_hold_max;
    s["Reservation"] = object({{"reservationId", text()},
                               {"concertId", text()},
                               {"date", date()},
                               {"seat", nullable(integer(1, seats_per_date_max, "the first of `seats`; null for places of a standing zone"))},
                               {"seats", std::move(seats)},
                               {"price", integer(0, price_max * seats_per_hold_max, "won: the sum of the seats' prices")},
                               {"status", schema_ref("ReservationStatus")},
                               {"heldAt", instant()},
                               {"expiresAt", instant("the hold ends then unless paid: now + holdTtlSeconds when held")},
                               {"paidAt", instant(), optional},
                               {"paymentId", text(), optional},
                               {"refundedAt", instant(), optional},
                               {"refund", object({{"amount", integer(0, price_max * seats_per_hold_max, "won credited to the wallet: price - fee")},
                                                  {"fee", integer(0, price_max * seats_per_hold_max, "won the organizer kept under the refund policy the reservation was paid under")}},
                                                 "when REFUNDED"), optional},
                               {"standing", object({{"section", text("the standing zone")}, {"places", integer(1, seats_per_hold_max)}},
                                                   "places of a standing zone (then seat is null and seats empty); price is places × the zone's grade price"), optional},
                               {"entryNumbers", described(array_of(integer(1, standing_places_max * dates_per_concert_max), "ascending"),
                                                          "with standing: its places' entry numbers (입장번호), given when the payment is confirmed, "
                                                          "in the order payments were confirmed per date and zone, 1, 2, 3…; a refunded place's is not reused; "
                                                          "empty until paid"), optional}});
    s["RefundedReservation"] = {{"allOf", {schema_ref("Reservation"), object({{"balance", money("the wallet's balance after the credit")}})}}};
    s["ReservationPage"] = object({{"reservations", array_of(schema_ref("Reservation"), "newest first")}, {"nextCursor", next_cursor(), optional}});
    s["Payment"] = object({{"reservationId", text()},
                           {"paymentId", text()},
                           {"amount", count("won")},
                           {"balance", money("the wallet's balance after the payment")},
                           {"status", names({"CONFIRMED"})},
                           {"paidAt", instant()}});
    json listed = array_of(integer(1, seats_per_date_max), "seat numbers, each once; held together or not at all");
    listed["minItems"] = 1;
    listed["maxItems"] = seats_per_hold_max;
    listed["uniqueItems"] = true;
    s["HoldSeats"] = object({{"seats", std::move(listed)}});
    s["HoldSeats"]["additionalProperties"] = false;
    const json name = {{"type", "string"}, {"minLength", 1}, {"maxLength", venue_name_length_max}, {"pattern", "^[A-Za-z0-9_-]+$"}};
    s["HoldBestAvailable"] = object({{"count", integer(1, seats_per_hold_max,
                                                       "adjacent seats in one row, the lowest row first, leaving no single empty seat where another pick avoids it")},
                                     {"grade", described(name, "a venue's: only that grade's sections, in layout order (SECTION_NOT_FOUND if it has none); not with section"), optional},
                                     {"section", described(name, "a venue's: only that section, its lowest row first (SECTION_NOT_FOUND if no such section); not with grade. "
                                                                 "A standing zone: `count` of its places, all or nothing (409 SECTION_FULL when fewer are left)"), optional}});
    s["HoldBestAvailable"]["additionalProperties"] = false;
    s["HoldRequest"] = {{"oneOf", {schema_ref("HoldSeats"), schema_ref("HoldBestAvailable")}}};
}

void add_concert_request_schemas(json& s) {
    s["ScheduleRequest"] = object({{"date", date()},
                                   {"seats", integer(1, seats_per_date_max, "seat numbers are 1..seats; required without a venue, not allowed with one (the layout gives them)"), optional},
                                   {"price", integer(0, price_max, "won, per seat; required without a venue, not allowed with one (the grades give it)"), optional},
                                   {"seatsPerRow", with_default(integer(1, seats_per_row_max, "seat n is in row ceil(n / seatsPerRow); not with a venue"), seats_per_row_default), optional},
                                   {"startsAt", instant("with a venue: when the show starts (refund fees and check-in use it)"), optional},
                                   {"prices", described({{"type", "object"}, {"additionalProperties", integer(0, price_max)}},
                                                        "with a venue: grade → price on this date, for the grades whose price differs from the grade's"), optional}});
    const json name = {{"type", "string"}, {"minLength", 1}, {"maxLength", venue_name_length_max}, {"pattern", "^[A-Za-z0-9_-]+$"}};
    json grades = array_of(object({{"grade", name}, {"price", integer(0, price_max, "won, every date unless the date's prices say otherwise")}}),
                           "distinct names; every section names one");
    grades["minItems"] = 1;
    grades["maxItems"] = grades_max;
    s["Grades"] = std::move(grades);
    s["Section"] = object({{"section", described(name, "distinct")},
                           {"grade", described(name, "one of grades")},
                           {"rows", {{"oneOf", {integer(1, rows_per_section_max, "a count of rows, each of seatsPerRow seats"),
                                                 described({{"type", "array"}, {"items", integer(1, seats_per_section_row_max)}, {"minItems", 1},
                                                            {"maxItems", rows_per_section_max}}, "the seats of each row")}}}, optional},
                           {"standing", integer(1, standing_places_max, "a standing zone's capacity (no rows, no seat numbers)"), optional},
                           {"seatsPerRow", integer(1, seats_per_section_row_max, "with a count of rows"), optional},
                           {"gate", described(name, "where its ticket holders enter"), optional}},
                          "a seated section (rows) or a standing zone (standing), exactly one of them; seats are numbered 1..N per date "
                          "in layout order, section by section, row by row; standing places have no numbers. At most 100,000 seats and "
                          "standing places a date");
    json sections = array_of(schema_ref("Section"), "in the organizer's order of preference for best available");
    sections["minItems"] = 1;
    sections["maxItems"] = sections_max;
    s["Layout"] = object({{"sections", std::move(sections)}}, "at most 100000 seats; with grades");
    const queue_settings queue;
    s["QueueSettings"] = object({{"activeCapacity", with_default(integer(1, active_capacity_max, "users ACTIVE at once"), queue.active_capacity), optional},
                                 {"activeTtlSeconds", with_default(integer(1, ttl_seconds_max), queue.active_ttl_seconds), optional},
                                 {"claimSeconds", integer(1, ttl_seconds_max, "at most activeTtlSeconds (its default): an admitted user who sends no command for the concert within it is EXPIRED"), optional}});
    json title = {{"type", "string"}, {"minLength", 1}, {"maxLength", title_length_max}, {"description", "1 to 200 bytes of UTF-8"}};
    json venue = {{"type", "string"}, {"maxLength", title_length_max}, {"nullable", true}, {"description", "at most 200 bytes of UTF-8"}};
    json schedules = array_of(schema_ref("ScheduleRequest"), "distinct dates; at most 500000 seats over all of them");
    schedules["minItems"] = 1;
    schedules["maxItems"] = dates_per_concert_max;
    s["ConcertRequest"] = object({{"title", std::move(title)},
                                  {"venue", std::move(venue), optional},
                                  {"schedules", std::move(schedules)},
                                  {"queue", schema_ref("QueueSettings"), optional},
                                  {"holdTtlSeconds", with_default(integer(1, ttl_seconds_max), hold_ttl_seconds_default), optional},
                                  {"maxHoldsPerUser", with_default(integer(1, max_holds_per_user_max, "seats one user may hold at once"), max_holds_per_user_default), optional},
                                  {"maxTicketsPerUser", with_default(integer(1, max_tickets_per_user_max, "seats one user may hold and own at once (HELD and CONFIRMED)"), max_tickets_per_user_default), optional},
                                  {"onsaleAt", instant("before it the waiting room is a pre-queue; absent: on sale now"), optional},
                                  {"refundsUntil", instant("CONFIRMED reservations may be refunded until then; absent: no refunds"), optional},
                                  {"grades", schema_ref("Grades"), optional},
                                  {"layout", schema_ref("Layout"), optional},
                                  {"salePhases", schema_ref("SalePhases"), optional},
                                  {"refundPolicy", schema_ref("RefundPolicy"), optional}},
                                 "grades and layout come together (the venue): then every date has the whole layout and a schedule has neither seats nor price; "
                                 "salePhases replaces onsaleAt (both: 400)");
    json tiers = array_of(object({{"hoursBefore", integer(0, refund_hours_max, "the tier applies to refunds asked at least this many hours before startsAt")},
                                  {"won", integer(0, price_max, "a fee per seat or standing place"), optional},
                                  {"percent", integer(0, 100, "a fee of the reservation's price, rounded down to the won"), optional}},
                                 "one of won and percent; a fee never exceeds the price"),
                          "by decreasing hoursBefore (else 400); a refund pays the tier with the greatest hoursBefore at most the hours left, "
                          "and under the last tier there is no refund (409 REFUND_NOT_ALLOWED)");
    tiers["minItems"] = 1;
    tiers["maxItems"] = refund_tiers_max;
    s["RefundPolicy"] = object({{"freeWithinHours", with_default(integer(0, refund_hours_max, "a refund this soon after payment, while the first tier applies, is free"), 0), optional},
                                {"fees", std::move(tiers)}},
                               "a venue's dates with startsAt follow it (and ignore refundsUntil); a date without startsAt follows refundsUntil, fee-free. "
                               "A reservation is refunded under the policy in force when it was paid");
    const json phase_name = {{"type", "string"}, {"minLength", 1}, {"maxLength", phase_name_length_max}};
    s["SalePhase"] = object({{"phase", described(phase_name, "distinct; names the phase in paths")},
                             {"name", {{"type", "string"}, {"maxLength", title_length_max}, {"description", "shown to fans"}}, optional},
                             {"opensAt", instant("its waiting room opens: its pre-queue is shuffled then, with its own seed")},
                             {"closesAt", instant("its tokens expire then (holds placed stay payable until they expire); absent: when the next phase opens, or never"), optional},
                             {"eligibility", names({"ALL", "LIST"}, "LIST: only users who claimed an id of its list join; absent: ALL"), optional},
                             {"grades", described(array_of(text(), "the concert's grades"), "what it sells; absent: every grade (GRADE_NOT_ON_SALE for others)"), optional},
                             {"maxTicketsPerUser", integer(1, max_tickets_per_user_max, "seats a user may hold and own from holds placed in the phase (TICKET_LIMIT), under the concert's cap"), optional}});
    json phases = array_of(schema_ref("SalePhase"), "in increasing opensAt, not overlapping; by PATCH, the whole list: a phase that has "
                                                    "opened unchanged (else 409 PHASE_STARTED), every phase in its place, new ones after them");
    phases["minItems"] = 1;
    phases["maxItems"] = phases_max;
    s["SalePhases"] = std::move(phases);
    s["PhaseStatus"] = {{"allOf", {schema_ref("SalePhase"),
                                   object({{"eligible", described({{"type", "boolean"}}, "the caller may join it: an ALL phase, or a LIST phase the caller claimed an id of")},
                                           {"open", described({{"type", "boolean"}}, "its waiting room admits now")}})}}};
    s["PhaseList"] = object({{"concertId", text()}, {"phases", array_of(schema_ref("PhaseStatus"), "in order")}});
    json id = {{"type", "string"}, {"minLength", list_id_length_min}, {"maxLength", list_id_length_max}, {"pattern", "^[!-~]+$"},
               {"description", "an id the organizer handed to one person: 12 to 64 printable characters"}};
    s["Claim"] = object({{"id", id}});
    s["ClaimMade"] = object({{"phase", text()}, {"eligible", {{"type", "boolean"}, {"enum", {true}}}}});
    s["ClaimFreed"] = object({{"phase", text()}, {"freed", {{"type", "boolean"}, {"enum", {true}}}}});
    json ids = array_of(id, "kept only as keyed hashes");
    ids["minItems"] = 1;
    ids["maxItems"] = eligible_per_request_max;
    s["EligibleIds"] = object({{"ids", std::move(ids)}});
    s["EligibleAdded"] = object({{"added", count("ids new to the list")}, {"total", count("the list's size now")}});
    s["ConcertCreated"] = object({{"concertId", text()}});
    // The organizer's controls.
    s["ConcertPatch"] = object({{"title", {{"type", "string"}, {"minLength", 1}, {"maxLength", title_length_max}}, optional},
                                {"venue", {{"type", "string"}, {"maxLength", title_length_max}}, optional},
                                {"holdTtlSeconds", integer(1, ttl_seconds_max, "holds placed from now on"), optional},
                                {"maxHoldsPerUser", integer(1, max_holds_per_user_max, "a lowered cap evicts nobody: it applies to the next hold"), optional},
                                {"maxTicketsPerUser", integer(1, max_tickets_per_user_max, "a lowered cap evicts nobody: it applies to the next hold"), optional},
                                {"refundsUntil", nullable(described(instant(), "null: no refunds from now on")), optional},
                                {"refundPolicy", {{"type", "object"}, {"allOf", {schema_ref("RefundPolicy")}}, {"nullable", true},
                                                  {"description", "a venue's: the whole policy, for payments from now on (reservations paid before keep theirs); null: none"}}, optional},
                                {"queue", object({{"activeCapacity", integer(1, active_capacity_max, "at once: raised, it admits; lowered, it evicts nobody"), optional},
                                                  {"activeTtlSeconds", integer(1, ttl_seconds_max, "admissions from now on"), optional},
                                                  {"claimSeconds", nullable(integer(1, ttl_seconds_max, "at most activeTtlSeconds; null: activeTtlSeconds")), optional}}),
                                 optional},
                                {"grades", {{"allOf", {schema_ref("Grades")}}, {"description", "a venue's: the same grades in the same order with new prices, for holds placed from now on"}}, optional},
                                {"salePhases", {{"allOf", {schema_ref("SalePhases")}},
                                                {"description", "a concert created with phases: the whole list. Users already in a phase's pre-queue "
                                                                "keep their places; a phase with a list, or with users waiting for it, is not removed"}}, optional}},
                               "at least one field; any other field (a misspelt one, schedules, onsaleAt) is 400");
    s["ConcertPatch"]["additionalProperties"] = false;
    s["ConcertPatch"]["minProperties"] = 1;
    json new_schedules = array_of(schema_ref("ScheduleRequest"), "dates the concert does not have; the concert's limits (366 dates, 500000 seats) count them");
    new_schedules["minItems"] = 1;
    new_schedules["maxItems"] = dates_per_concert_max;
    s["NewDates"] = object({{"schedules", std::move(new_schedules)}});
    json block_seats = array_of(integer(1, seats_per_date_max), "distinct seat numbers of the date");
    block_seats["minItems"] = 1;
    block_seats["maxItems"] = seats_per_block_max;
    s["SeatBlock"] = object({{"seats", block_seats}, {"reason", {{"type", "string"}, {"maxLength", title_length_max}, {"description", "for the change log, e.g. camera"}}, optional}});
    s["SeatBlock"]["additionalProperties"] = false;
    s["SeatRelease"] = object({{"seats", block_seats}});
    s["SeatRelease"]["additionalProperties"] = false;
    s["SeatsBlocked"] = object({{"blocked", array_of(integer(1, seats_per_date_max), "ascending")}});
    s["SeatsReleased"] = object({{"released", array_of(integer(1, seats_per_date_max), "ascending")}});
    s["SalesPaused"] = object({{"paused", {{"type", "boolean"}, {"enum", {true}}}}, {"since", instant("when the pause began")}});
    s["SalesResumed"] = object({{"paused", {{"type", "boolean"}, {"enum", {false}}}}});
    s["ConcertChange"] = object({{"at", instant()},
                                 {"type", names({"PAUSED", "RESUMED", "SEATS_BLOCKED", "SEATS_RELEASED", "UPDATED", "DATES_ADDED"})},
                                 {"fields", described({{"type", "object"}},
                                                      "the values set: PATCH's fields as sent (UPDATED), {date, seats, reason?} (SEATS_BLOCKED), "
                                                      "{date, seats} (SEATS_RELEASED), {schedules} (DATES_ADDED), {pausedSeconds} (RESUMED), {} (PAUSED)")}});
    // Tickets and the door.
    std::vector<field> ticket_fields = {{"ticketId", text("t-P-O-N")},
                          {"reservationId", text()},
                          {"concertId", text()},
                          {"date", date()},
                          {"seat", integer(1, seats_per_date_max), optional},
                          {"section", text("the layout's section or standing zone"), optional},
                          {"row", integer(1, rows_per_section_max, "within its section"), optional},
                          {"seatInRow", integer(1, seats_per_section_row_max), optional},
                          {"grade", text(), optional},
                          {"entryNumber", integer(1, standing_places_max * dates_per_concert_max, "a standing place's 입장번호"), optional},
                          {"gate", text("the gate its section enters by"), optional},
                          {"holder", text("the user's name")},
                          {"status", names({"VALID", "ADMITTED", "REVOKED"}, "ADMITTED once scanned at the door; REVOKED once its reservation is refunded")},
                          {"admittedAt", instant(), optional},
                          {"code", text("a compact JWS (RFC 7515) with {\"alg\":\"EdDSA\"} (RFC 8037) signed with the concert's key (GET /concerts/{concertId}/ticket-key); "
                                        "its payload {tid, cid, date, seat?, sec?, gate?, en?, v}")}};
    s["Ticket"] = object(std::move(ticket_fields));
    s["TicketList"] = object({{"tickets", array_of(schema_ref("Ticket"), "one per seat or standing place, in the reservation's order")}});
    s["TicketKey"] = object({{"alg", names({"Ed25519"}, "")}, {"publicKey", text("base64url of the raw 32-byte public key")}});
    s["NewScanner"] = object({{"name", {{"type", "string"}, {"minLength", 1}, {"maxLength", scanner_name_length_max}}},
                              {"gate", text("one of the venue's gates; absent: every gate"), optional}});
    s["Scanner"] = object({{"scannerId", text()}, {"concertId", text(), optional}, {"name", text()}, {"gate", text(), optional},
                           {"key", text("send it as X-Scanner-Key"), optional}, {"removed", {{"type", "boolean"}}, optional}});
    s["ScannerList"] = object({{"scanners", array_of(schema_ref("Scanner"), "in the order added")}});
    s["ScannerRemoved"] = object({{"scannerId", text()}, {"removed", {{"type", "boolean"}, {"enum", {true}}}}});
    s["DateTicket"] = object({{"ticketId", text()}, {"holder", text()}, {"section", text()}, {"seat", integer(1, seats_per_date_max), optional},
                              {"row", integer(1, rows_per_section_max), optional}, {"seatInRow", integer(1, seats_per_section_row_max), optional},
                              {"entryNumber", integer(1, standing_places_max * dates_per_concert_max), optional}, {"gate", text(), optional},
                              {"status", names({"VALID", "ADMITTED", "REVOKED"}, "")}});
    s["DateTickets"] = object({{"tickets", array_of(schema_ref("DateTicket"), "by reservation")}, {"gate", text("the gate the list is for; absent: every gate"), optional},
                               {"nextCursor", next_cursor(), optional}});
    s["CheckIn"] = object({{"code", text("the ticket's code, as its QR code holds it")},
                           {"date", date("the date the door admits for")},
                           {"gate", text("the admin key's gate (a scanner's is its own)"), optional},
                           {"scanId", {{"type", "string"}, {"minLength", 1}, {"maxLength", scan_id_length_max}, {"description", "per scanner: the same scan again answers its first result"}}, optional}});
    s["CheckedIn"] = object({{"result", names({"ADMITTED"}, "")}, {"again", {{"type", "boolean"}, {"description", "the same scanId again: its first answer"}}, optional},
                             {"ticket", schema_ref("Ticket")}});
    json batch = array_of(object({{"code", text()}, {"date", date()}, {"gate", text(), optional}, {"scannedAt", instant("when the door scanned it: recorded, never the check-in's time"), optional},
                                  {"scanId", {{"type", "string"}, {"minLength", 1}, {"maxLength", scan_id_length_max}}}}),
                          "in the order scanned");
    batch["minItems"] = 1;
    batch["maxItems"] = checkins_per_batch_max;
    s["CheckInBatch"] = object({{"scans", std::move(batch)}});
    s["CheckInResults"] = object({{"results", array_of(object({{"scanId", text()}, {"ticketId", text(), optional},
                                                                {"result", names({"ADMITTED", "DUPLICATE", "REVOKED", "INVALID", "WRONG_DATE"}, "INVALID: not a ticket of this concert")},
                                                                {"again", {{"type", "boolean"}}, optional},
                                                                {"first", object({{"at", instant()}, {"gate", text()}}, "DUPLICATE: the ticket's admission"), optional}}),
                                                        "in the order uploaded")}});
    s["Checkins"] = object({{"concertId", text()}, {"bucketSeconds", integer(10, 86'400)},
                            {"gates", array_of(object({{"gate", text("empty: admitted with no gate named")}, {"admitted", count()}}), "by gate")},
                            {"buckets", array_of(object({{"start", instant()}, {"gate", text()}, {"admitted", count()}}), "oldest first; buckets without admissions left out")}});
    s["ConcertChanges"] = object({{"changes", array_of(schema_ref("ConcertChange"), "oldest first")}, {"nextCursor", next_cursor(), optional}});
}

void add_catalog_schemas(json& s) {
    s["ConcertSchedule"] = object({{"date", date()}, {"seats", integer(1, seats_per_date_max)},
                                   {"price", integer(0, price_max, "with a venue: the lowest of the date's grade prices (from)")},
                                   {"prices", described({{"type", "object"}, {"additionalProperties", integer(0, price_max)}}, "with a venue: each grade's price on the date"), optional},
                                   {"startsAt", instant(), optional},
                                   {"seatsPerRow", integer(1, seats_per_row_max), optional}});
    s["Concert"] = object({{"concertId", text()},
                           {"title", text()},
                           {"venue", text()},
                           {"dates", array_of(date())},
                           {"schedules", array_of(schema_ref("ConcertSchedule"))},
                           {"holdTtlSeconds", integer(1, ttl_seconds_max)},
                           {"maxHoldsPerUser", integer(1, max_holds_per_user_max)},
                           {"maxTicketsPerUser", integer(1, max_tickets_per_user_max), optional},
                           {"onsaleAt", instant(), optional},
                           {"refundsUntil", instant(), optional},
                           {"grades", schema_ref("Grades"), optional},
                           {"salePhases", schema_ref("SalePhases"), optional},
                           {"refundPolicy", schema_ref("RefundPolicy"), optional}});
    s["ConcertList"] = object({{"concerts", array_of(schema_ref("Concert"))}});
    s["AdminSchedule"] = object({{"date", date()}, {"seats", integer(1, seats_per_date_max), optional}, {"price", integer(0, price_max), optional},
                                 {"seatsPerRow", integer(1, seats_per_row_max), optional},
                                 {"startsAt", instant(), optional},
                                 {"prices", described({{"type", "object"}, {"additionalProperties", integer(0, price_max)}}, "the grade prices of the date that differ from the grades'"), optional},
                                 {"status", names({"ON_SALE"}, "the date's state of sale")}});
    s["AdminQueueSettings"] = object({{"activeCapacity", integer(1, active_capacity_max)},
                                      {"activeTtlSeconds", integer(1, ttl_seconds_max)},
                                      {"claimSeconds", integer(1, ttl_seconds_max, "activeTtlSeconds when the concert was made without it")}});
    s["AdminConcert"] = object({{"concertId", text()},
                                {"title", text()},
                                {"venue", text()},
                                {"schedules", array_of(schema_ref("AdminSchedule"), "in creation order, each with its seatsPerRow and status")},
                                {"queue", schema_ref("AdminQueueSettings")},
                                {"holdTtlSeconds", integer(1, ttl_seconds_max)},
                                {"maxHoldsPerUser", integer(1, max_holds_per_user_max)},
                                {"maxTicketsPerUser", integer(1, max_tickets_per_user_max, "absent only for a concert made before the cap existed: no cap"), optional},
                                {"onsaleAt", instant(), optional},
                                {"refundsUntil", instant(), optional},
                                {"paused", described({{"type", "boolean"}}, "whether admissions and holds are paused")},
                                {"grades", schema_ref("Grades"), optional},
                                {"layout", schema_ref("Layout"), optional},
                                {"salePhases", schema_ref("SalePhases"), optional},
                                {"refundPolicy", schema_ref("RefundPolicy"), optional},
                                {"revision", count("one more for every change of the organizer's (pause, resume, blocks, PATCH, dates)")}});
    s["GradeAvailability"] = object({{"grade", text()}, {"price", integer(0, price_max, "on this date")}, {"availableSeats", count("standing places included")},
                                     {"totalSeats", count("standing places included")}});
    s["DateAvailability"] = object({{"date", date()}, {"availableSeats", count("neither held, sold nor blocked; standing places left included")},
                                    {"totalSeats", integer(1, seats_per_date_max, "seats and standing places")},
                                    {"grades", array_of(schema_ref("GradeAvailability"), "with a venue: per grade"), optional}});
    s["DateList"] = object({{"concertId", text()}, {"dates", array_of(schema_ref("DateAvailability"), "dates with at least one available seat")}});
    s["SeatStatus"] = names({"AVAILABLE", "HELD", "SOLD", "BLOCKED"}, "BLOCKED: taken off sale by the organizer");
    s["Seat"] = object({{"number", integer(1, seats_per_date_max)}, {"row", integer(1, seats_per_date_max, "with a venue: the row within its section, as printed on the ticket")},
                        {"section", text("with a venue"), optional}, {"seatInRow", integer(1, seats_per_section_row_max, "with a venue"), optional},
                        {"grade", text("with a venue"), optional},
                        {"status", schema_ref("SeatStatus")}, {"price", integer(0, price_max)}});
    s["SectionAvailability"] = object({{"section", text()}, {"grade", text()}, {"price", integer(0, price_max, "its grade's, on this date")},
                                       {"gate", text(), optional}, {"standing", integer(1, standing_places_max, "a standing zone's capacity"), optional},
                                       {"available", count("its seats AVAILABLE (whatever the filters), or a standing zone's places left")}});
    s["SeatMap"] = object({{"concertId", text()}, {"date", date()}, {"seats", array_of(schema_ref("Seat"), "ascending by number")},
                           {"sections", array_of(schema_ref("SectionAvailability"), "with a venue: every section, in layout order"), optional}});
}

void add_queue_schemas(json& s) {
    s["QueueState"] = names({"WAITING", "ACTIVE", "EXPIRED", "COMPLETED"});
    auto status_fields = [] {
        return std::vector<field>{
            {"status", schema_ref("QueueState")},
            {"position", described({{"type", "integer"}, {"minimum", 0}, {"nullable", true}},
                                   "waiting users ahead plus one (1 = next); 0 once ACTIVE; null in the pre-queue")},
            {"estimatedWaitSeconds", described({{"type", "integer"}, {"minimum", 0}, {"nullable", true}},
                                               "from the admission rate of the last minutes; null while the sale is paused")},
            {"paused", described({{"type", "boolean"}}, "the organizer paused the sale: nobody is admitted until it resumes")},
            {"preQueue", described({{"type", "boolean"}}, "true while waiting before onsaleAt"), optional},
            {"onsaleAt", instant(), optional},
            {"activeUntil", instant("while ACTIVE"), optional}};
    };
    s["QueueStatus"] = object(status_fields());
    std::vector<field> joined = status_fields();
    joined.insert(joined.begin(), field{"queueToken", text("send it as X-Queue-Token")});
    s["QueueJoined"] = object(std::move(joined));
}

void add_analytics_schemas(json& s) {
    s["DateAnalytics"] = object({{"date", date()},
                                 {"seatsSold", count()}, {"seatsHeld", count()}, {"seatsAvailable", count()},
                                 {"seatsBlocked", count("taken off sale by the organizer")},
                                 {"grades", array_of(object({{"grade", text()}, {"seatsSold", count()}, {"seatsHeld", count()},
                                                              {"seatsAvailable", count()}, {"seatsBlocked", count()},
                                                              {"revenue", count("won: its seats sold, each at the price it was held at (refunded seats not counted; their fees are in refundFees)")}}),
                                                     "per grade of the venue (empty without one)")},
                                 {"revenue", count("won: payments less the amounts refunded (refund fees stay in it) = the grades' revenue + refundFees")},
                                 {"refunds", count(), optional},
                                 {"refundFees", count("won kept by refunds under the refund policy"), optional},
                                 {"holdsPlaced", count()}, {"holdsExpired", count()}, {"holdsCancelled", count()},
                                 {"holdToPaymentConversion", described({{"type", "number"}, {"minimum", 0}}, "payments per hold placed; 0 before any hold")}});
    s["QueueAnalytics"] = object({{"waiting", count()}, {"active", count()}, {"admittedTotal", count()}, {"medianWaitSeconds", count()}});
    s["Analytics"] = object({{"concertId", text()}, {"dates", array_of(schema_ref("DateAnalytics"))}, {"queue", schema_ref("QueueAnalytics")}});
    s["TimelineBucket"] = object({{"start", instant()},
                                  {"queueJoined", count()}, {"queueAdmitted", count()}, {"waitingAtEnd", count()},
                                  {"holdsPlaced", count()}, {"holdsExpired", count()}, {"holdsCancelled", count()},
                                  {"seatsSold", count()}, {"refunds", count()},
                                  {"revenue", described({{"type", "integer"}, {"format", "int64"}}, "won: sales less refunds in the bucket (negative when refunds outweigh them)")}});
    s["Timeline"] = object({{"concertId", text()},
                            {"bucketSeconds", integer(timeline_bucket_seconds_min, timeline_bucket_seconds_max)},
                            {"buckets", array_of(schema_ref("TimelineBucket"), "oldest first")},
                            {"nextFrom", instant("pass as ?from= to go on; absent when the range is done"), optional}});
    s["SeatHistoryEntry"] = object({{"at", instant()}, {"type", names({"HELD", "EXPIRED", "CANCELLED", "SOLD", "REFUNDED"})},
                                    {"reservationId", text()}, {"userId", text()}});
    s["SeatHistory"] = object({{"entries", array_of(schema_ref("SeatHistoryEntry"), "oldest first")}, {"nextCursor", next_cursor(), optional}});
}

void add_other_schemas(json& s) {
    s["ErrorCode"] = error_code_schema();
    s["Error"] = object({{"error", object({{"code", schema_ref("ErrorCode")}, {"message", text("human readable")}})}});
    s["Error"]["example"] = {{"error", {{"code", "SEAT_TAKEN"}, {"message", "the seat is held or sold"}}}};
    s["Health"] = object({{"status", names({"ok"})}});
    s["Ready"] = object({{"status", names({"ready"})}});
    s["OpenApiDocument"] = object({{"openapi", text()}, {"info", {{"type", "object"}}}, {"paths", {{"type", "object"}}}},
                                  "this document");
}

}  // namespace

const std::vector<std::string>& error_codes() {
    static const std::vector<std::string> codes = [] {
        std::vector<std::string> all;
        for (std::uint8_t r = 1; r <= refusal_max; ++r) all.emplace_back(refusal_code(static_cast<refusal>(r)));
        for (const auto& [code, meaning] : server_codes()) {
            if (std::find(all.begin(), all.end(), code) == all.end()) all.push_back(code);
        }
        return all;
    }();
    return codes;
}

std::string error_meaning(std::string_view code) {
    for (const auto& [known, meaning] : server_codes()) {
        if (known == code) return meaning;
    }
    for (std::uint8_t r = 1; r <= refusal_max; ++r) {
        if (refusal_code(static_cast<refusal>(r)) == code) return std::string(refusal_message(static_cast<refusal>(r)));
    }
    assert(false && "an error code /openapi.json does not know");
    return "";
}

json schemas() {
    json s = json::object();
    add_user_schemas(s);
    add_reservation_schemas(s);
    add_concert_request_schemas(s);
    add_catalog_schemas(s);
    add_queue_schemas(s);
    add_analytics_schemas(s);
    add_other_schemas(s);
    return s;
}

json schema_ref(std::string_view name) { return {{"$ref", "#/components/schemas/" + std::string(name)}}; }

}  // namespace encore::api::openapi
