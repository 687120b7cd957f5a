#pragma once
// The basic value types every module shares: strong ids, log positions, time, refusal codes.
// Pure: no I/O, no clock, no allocation beyond std::string.

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace encore {

// A strong type around an integer, so a concert id cannot be passed where a user id is expected.
template <class Tag, class T = std::uint64_t>
struct named {
    T value{};
    constexpr named() = default;
    constexpr explicit named(T v) : value(v) {}
    constexpr auto operator<=>(const named&) const = default;
};

using user_id = named<struct user_id_tag>;
using concert_id = named<struct concert_id_tag>;

// Where a command sits in the command log: the strong type of a position wherever one crosses a
// module (answers, causes, saga origins, ids). The log interface itself takes a partition and an
// offset as plain integers, always in that order. Reservation and payment ids are the position of
// the command that created them, so an id says which partition owns it.
struct log_position {
    std::uint32_t partition = 0;
    std::uint64_t offset = 0;
    constexpr auto operator<=>(const log_position&) const = default;
};

inline constexpr std::uint32_t no_partition = 0xFFFFFFFFu;
inline constexpr log_position no_position{no_partition, 0};
// The partition count of a data directory or topic, 1..partitions_max: the one bound that `serve`,
// the logs, the read models, the benchmarks and the mock cluster check. Each partition has a
// writer, a checkpointer and a projector thread, so thousands would only cost memory and switches.
inline constexpr std::uint32_t partitions_max = 256;

// 10 bits of partition, 54 bits of offset: an id that names its owner.
inline constexpr unsigned id_offset_bits = 54;
static_assert(partitions_max <= (1u << (64 - id_offset_bits)), "a partition must fit in an id");
inline constexpr std::uint64_t id_offset_mask = (std::uint64_t{1} << id_offset_bits) - 1;

struct reservation_id {
    std::uint64_t value = 0;
    constexpr auto operator<=>(const reservation_id&) const = default;
    static constexpr reservation_id at(log_position p) {
        return reservation_id{(std::uint64_t{p.partition} << id_offset_bits) | (p.offset & id_offset_mask)};
    }
    constexpr log_position position() const {
        return {static_cast<std::uint32_t>(value >> id_offset_bits), value & id_offset_mask};
    }
};
// A payment is identified by the position of the Pay command that started it.
using payment_id = reservation_id;

// Unix time in milliseconds. The engine never reads a clock: every command carries its accept time.
using time_ms = std::int64_t;
// A calendar date as days since 1970-01-01.
using day_number = std::int32_t;

// Money is an integer count of won.
using won = std::int64_t;
inline constexpr won charge_amount_min = 1;
inline constexpr won charge_amount_max = 1'000'000'000;
inline constexpr won balance_max = 9'007'199'254'740'991;  // 2^53 - 1, exact in every JSON reader

// Catalog limits (API.md).
inline constexpr std::uint32_t seats_per_date_max = 100'000;
inline constexpr std::uint32_t dates_per_concert_max = 366;
// Seats of all dates of one concert. A sold seat costs a partition's snapshot at most
// snapshot_bytes_per_sold_seat (its cell, its reservation record and its admission at the door;
// engine/snapshot.cpp asserts it), so one sold-out concert at this limit, every ticket admitted,
// takes under half of the smallest checkpoint limit (Kafka's, 128 MiB; asserted in
// events/log/kafka_log.hpp).
inline constexpr std::uint64_t seats_per_concert_max = 500'000;
inline constexpr std::uint64_t snapshot_bytes_per_sold_seat = 110;
inline constexpr std::size_t title_length_max = 200;
inline constexpr std::size_t user_name_length_max = 64;
inline constexpr std::size_t idempotency_key_length_max = 64;
inline constexpr std::uint32_t active_capacity_max = 1'000'000;
inline constexpr std::uint32_t ttl_seconds_max = 7 * 24 * 3600;
inline constexpr std::uint32_t max_holds_per_user_max = 100;
inline constexpr std::uint32_t max_tickets_per_user_max = 100;
inline constexpr std::uint32_t seats_per_row_max = 1'000;
// Seats of one reservation: a hold of more would always exceed maxTicketsPerUser.
inline constexpr std::uint32_t seats_per_hold_max = max_tickets_per_user_max;
inline constexpr won price_max = 1'000'000'000;
// Seats one block or unblock request names (API.md).
inline constexpr std::uint32_t seats_per_block_max = 10'000;
// The venue (API.md): grades, sections, rows, seats a row, a name's length.
inline constexpr std::size_t grades_max = 20;
inline constexpr std::size_t sections_max = 200;
inline constexpr std::size_t rows_per_section_max = 1'000;
inline constexpr std::uint32_t seats_per_section_row_max = 1'000;
inline constexpr std::size_t venue_name_length_max = 16;
inline constexpr std::uint32_t standing_places_max = 100'000;  // of one standing zone
// Sale phases (API.md).
inline constexpr std::size_t phases_max = 10;
inline constexpr std::size_t phase_name_length_max = 32;
inline constexpr std::uint32_t eligible_per_request_max = 10'000;
inline constexpr std::uint64_t eligible_per_phase_max = 1'000'000;
inline constexpr std::size_t list_id_length_min = 12;
inline constexpr std::size_t list_id_length_max = 64;
// The door (API.md "Tickets and the door"): scanners of a concert, scans a command decides (the
// API splits a batch of 1,000 into such commands, in order), a scan id's and a scanner name's length.
inline constexpr std::size_t scanners_per_concert_max = 200;
inline constexpr std::size_t checkins_per_command_max = 200;
inline constexpr std::size_t checkins_per_batch_max = 1'000;
inline constexpr std::size_t scan_id_length_max = 64;
inline constexpr std::size_t scanner_name_length_max = 64;

// Domain refusals: stable codes, recorded in events, mapped to HTTP in one switch in api/.
enum class refusal : std::uint8_t {
    none = 0,
    invalid_request = 1,      // a command the API should never have let through (bad catalog, …)
    invalid_amount = 2,
    balance_limit = 3,
    concert_not_found = 4,
    queue_token_invalid = 5,
    queue_token_expired = 6,
    not_your_turn = 7,
    date_not_bookable = 8,
    invalid_seat = 9,
    seat_taken = 10,
    hold_limit = 11,
    reservation_not_found = 12,
    already_paid = 13,
    hold_expired = 14,
    reservation_cancelled = 15,
    insufficient_balance = 16,
    concert_exists = 17,
    idempotency_key_reused = 18,  // the caller's key names another request (route or body)
    ticket_limit = 19,            // the user would hold and own more seats than maxTicketsPerUser
    not_paid = 20,                // a refund of a reservation that is not CONFIRMED
    already_refunded = 21,
    refund_not_allowed = 22,      // the concert takes no refunds, or refundsUntil has passed
    no_adjacent_seats = 23,       // best available: no row has `count` adjacent available seats
    sales_paused = 24,            // the organizer paused the concert's sale: no holds, no admissions
    not_blocked = 25,             // unblocking a seat the organizer had not blocked
    date_exists = 26,             // adding a date the concert has
    precondition_failed = 27,     // a conditional change (If-Match) of a concert changed since
    section_not_found = 28,       // a pick's grade or section the venue does not have (or has no seats of)
    section_full = 29,            // a standing zone has fewer places left than asked
    not_eligible = 30,            // joining a phase the user is not on the list of (detail: the next phase's opensAt)
    grade_not_on_sale = 31,       // a hold of a grade the open phase does not sell
    not_on_list = 32,             // a claim of an id the phase's list does not have
    already_claimed = 33,         // ... of an id another user claimed
    already_eligible = 34,        // ... by a user who claimed another id of the phase
    not_claimed = 35,             // freeing a claim of an id nobody claimed
    phase_started = 36,           // a change of a sale phase that has opened (or of the phases' order)
    ticket_used = 37,             // a refund of a reservation one of whose tickets was admitted
    scanner_not_found = 38,       // a scanner the concert does not have (or removed): its key no longer works
};
inline constexpr std::uint8_t refusal_max = 38;

// Characters (code points) of UTF-8 text, counted by their lead bytes: names are limited in
// characters, as people count them, not in bytes.
std::size_t utf8_characters(std::string_view text);

// "SEAT_TAKEN" etc.: the API.md spelling.
std::string_view refusal_code(refusal r);

// BLOCKED: taken off sale by the organizer (a camera position, the stage), in no reservation.
enum class seat_status : std::uint8_t { available = 0, held = 1, sold = 2, blocked = 3 };
enum class reservation_status : std::uint8_t { held = 0, confirmed = 1, expired = 2, cancelled = 3, refunded = 4 };
enum class queue_status : std::uint8_t { waiting = 0, active = 1, expired = 2, completed = 3 };

std::string_view to_string(seat_status s);
std::string_view to_string(reservation_status s);
std::string_view to_string(queue_status s);

}  // namespace encore

template <class Tag, class T>
struct std::hash<encore::named<Tag, T>> {
    std::size_t operator()(const encore::named<Tag, T>& n) const noexcept { return std::hash<T>{}(n.value); }
};
