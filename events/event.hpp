#pragma once
// The event vocabulary: what a partition's engine decided. Events are facts; projections, the
// API's responses and auditors read nothing else. Every event names the command that caused it;
// an event that answers a client's request names that request, so the API can complete it.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "events/command.hpp"
#include "events/types.hpp"

namespace encore {

// A reservation's later fields: the seats after its first (ascending; empty for a single seat) and
// when it was refunded. A record tail: every event carrying a reservation lists it as its own
// last field (events/fields.hpp), so reservations of one seat keep the bytes they had before
// reservations could hold several.
// A reservation of a venue's seats: its price by grade (each grade's seats at the prices in force
// when it was held), for the revenue by grade. Empty without a venue.
struct grade_amount {
    std::uint32_t grade = 0;
    won amount = 0;
    auto operator<=>(const grade_amount&) const = default;
};
// A reservation of places in a standing zone (a tail of reservation_grades): no seat numbers,
// `places` of the zone (`section` indexes the layout's sections; `name` is its name, so that a
// response renders from the event alone). Its entry numbers (입장번호) are entry_first ..
// entry_first + places - 1, given when its payment is confirmed (0 until then).
// A refunded reservation's fee (API.md "Refund fees"): the organizer keeps it, the wallet was
// credited price - fee. A tail of reservation_standing (a refund without a fee keeps its bytes).
struct reservation_refund : record_tail {
    won fee = 0;
    auto operator<=>(const reservation_refund&) const = default;
};
struct reservation_standing : record_tail {
    std::uint32_t section = 0;
    std::string name;
    std::uint32_t places = 0;
    std::uint32_t entry_first = 0;
    reservation_refund refund;  // later: a tail of this tail
    auto operator<=>(const reservation_standing&) const = default;
};
struct reservation_grades : record_tail {
    std::vector<grade_amount> by_grade;  // ascending by grade, each grade once
    reservation_standing standing;       // later: a tail of this tail
    auto operator<=>(const reservation_grades&) const = default;
};

struct reservation_seats : record_tail {
    std::vector<std::uint32_t> more_seats;
    // 0 in every event (ReservationRefunded carries the time beside the reservation, as it did
    // first); the read models set it, for GET /reservations/{id}.
    time_ms refunded_at = 0;
    reservation_grades grades;  // later: a tail of this tail
    auto operator<=>(const reservation_seats&) const = default;
};

// A reservation as API.md returns it. Carried whole by the events that change it, so a response
// (or a projection) renders from one event.
struct reservation {
    reservation_id id;
    concert_id concert;
    user_id user;
    day_number date = 0;
    std::uint32_t seat = 0;
    won price = 0;
    reservation_status status = reservation_status::held;
    time_ms held_at = 0;
    time_ms expires_at = 0;
    time_ms paid_at = 0;  // 0 until confirmed
    payment_id payment;   // 0 until a payment was accepted
    reservation_seats extra;  // seats after `seat`; `price` is the sum over all of them
    auto operator<=>(const reservation&) const = default;
};

// Every seat of a reservation, ascending (none for standing places).
std::vector<std::uint32_t> seats_of(const reservation& r);
// Its tickets: seats, or places of a standing zone.
std::uint32_t tickets_of(const reservation& r);
inline bool is_standing(const reservation& r) { return r.extra.grades.standing.places != 0; }

struct concert_created {
    create_concert concert;
    auto operator<=>(const concert_created&) const = default;
};

struct user_registered {
    user_id user;
    std::string name;
    auto operator<=>(const user_registered&) const = default;
};

// A user entered the waiting room, or asked again while holding a live token (`fresh` false).
struct queue_joined {
    concert_id concert;
    user_id user;
    std::uint64_t ticket = 0;          // 1, 2, 3… per concert, in arrival order
    queue_status status = queue_status::waiting;
    std::uint64_t position = 0;        // waiting users ahead + 1; 0 when active
    time_ms active_until = 0;          // when active
    bool fresh = true;
    struct later : record_tail {
        bool pre_queue = false;        // joined before onsaleAt: WAITING, unordered, no position
        auto operator<=>(const later&) const = default;
    } details;
    auto operator<=>(const queue_joined&) const = default;
};

// At onsaleAt, a pre-queue user's place in the queue (1 = first), drawn with the concert's seed.
// Emitted for the whole pre-queue, in place order, before the first admissions.
struct queue_placed {
    concert_id concert;
    user_id user;
    std::uint64_t ticket = 0;
    std::uint64_t place = 0;
    auto operator<=>(const queue_placed&) const = default;
};

struct queue_admitted {
    concert_id concert;
    user_id user;
    std::uint64_t ticket = 0;
    time_ms active_until = 0;
    auto operator<=>(const queue_admitted&) const = default;
};

// An active token ran out (`completed` false) or its user paid (`completed` true): a slot frees.
struct queue_left {
    concert_id concert;
    user_id user;
    std::uint64_t ticket = 0;
    bool completed = false;
    auto operator<=>(const queue_left&) const = default;
};

struct seat_held {
    struct reservation reservation;
    auto operator<=>(const seat_held&) const = default;
};

struct hold_expired {
    struct reservation reservation;
    auto operator<=>(const hold_expired&) const = default;
};

struct hold_cancelled {
    struct reservation reservation;
    auto operator<=>(const hold_cancelled&) const = default;
};

// The concert partition accepted a Pay and asked the wallet partition for the money.
struct payment_started {
    payment_id payment;
    reservation_id reservation;
    user_id user;
    won amount = 0;
    auto operator<=>(const payment_started&) const = default;
};

struct wallet_debited {
    payment_id payment;
    reservation_id reservation;
    user_id user;
    won amount = 0;
    won balance = 0;
    auto operator<=>(const wallet_debited&) const = default;
};

struct debit_refused {
    payment_id payment;
    reservation_id reservation;
    user_id user;
    won amount = 0;
    won balance = 0;
    auto operator<=>(const debit_refused&) const = default;
};

struct payment_confirmed {
    struct reservation reservation;
    won balance = 0;  // the payer's balance after the debit
    auto operator<=>(const payment_confirmed&) const = default;
};

struct payment_failed {
    payment_id payment;
    reservation_id reservation;
    user_id user;
    refusal reason = refusal::insufficient_balance;
    won balance = 0;
    auto operator<=>(const payment_failed&) const = default;
};

struct charged {
    user_id user;
    won amount = 0;
    won balance = 0;
    auto operator<=>(const charged&) const = default;
};

// A command was refused: it changed nothing.
struct refused {
    command_type command = command_type::tick;
    refusal reason = refusal::none;
    user_id user;
    std::uint64_t detail = 0;  // NOT_YOUR_TURN: the position in the waiting room
    auto operator<=>(const refused&) const = default;
};

// A client repeated an idempotency key: the answer is the first request's answer.
struct idempotent_replay {
    log_position first;
    auto operator<=>(const idempotent_replay&) const = default;
};

// The caller's home partition recorded an idempotency key for a request that another partition
// applies (claim_key); the request may go ahead.
struct key_claimed {
    user_id user;
    auto operator<=>(const key_claimed&) const = default;
};

// A CONFIRMED reservation's refund began: its price is being credited back in the wallet partition.
struct refund_started {
    payment_id payment;
    reservation_id reservation;
    user_id user;
    won amount = 0;
    auto operator<=>(const refund_started&) const = default;
};

struct wallet_credited {
    payment_id payment;
    reservation_id reservation;
    user_id user;
    won amount = 0;
    won balance = 0;
    auto operator<=>(const wallet_credited&) const = default;
};

// The credit would take the balance past balance_max: nothing credited, the reservation stays.
struct credit_refused {
    payment_id payment;
    reservation_id reservation;
    user_id user;
    won amount = 0;
    won balance = 0;
    auto operator<=>(const credit_refused&) const = default;
};

// Answers the refund: the reservation is REFUNDED and its seat AVAILABLE.
struct reservation_refunded {
    struct reservation reservation;  // status REFUNDED
    time_ms refunded_at = 0;
    won balance = 0;                 // the wallet's balance after the credit
    auto operator<=>(const reservation_refunded&) const = default;
};

// Answers the refund when the wallet could not take the credit (BALANCE_LIMIT).
struct refund_failed {
    payment_id payment;
    reservation_id reservation;
    user_id user;
    refusal reason = refusal::none;
    won balance = 0;
    auto operator<=>(const refund_failed&) const = default;
};

// ---- the organizer's controls: each answers its command; `revision` is the concert's revision
// after it (a change that changes nothing, such as pausing a paused sale, keeps it). ----

struct sales_paused {
    concert_id concert;
    std::uint64_t revision = 0;
    time_ms since = 0;  // when the pause began (earlier than the event for a repeated pause)
    auto operator<=>(const sales_paused&) const = default;
};

struct sales_resumed {
    concert_id concert;
    std::uint64_t revision = 0;
    time_ms pause_ms = 0;  // how long the sale was paused: active turns move this much later
    auto operator<=>(const sales_resumed&) const = default;
};

// On resume, an active user's turn ends later by the pause's length (one per active user).
struct active_extended {
    concert_id concert;
    user_id user;
    std::uint64_t ticket = 0;
    time_ms active_until = 0;
    auto operator<=>(const active_extended&) const = default;
};

struct seats_blocked {
    concert_id concert;
    std::uint64_t revision = 0;
    day_number date = 0;
    std::vector<std::uint32_t> seats;  // ascending; those already blocked included
    std::string reason;
    auto operator<=>(const seats_blocked&) const = default;
};

struct seats_released {
    concert_id concert;
    std::uint64_t revision = 0;
    day_number date = 0;
    std::vector<std::uint32_t> seats;  // ascending
    auto operator<=>(const seats_released&) const = default;
};

struct concert_updated {
    concert_id concert;
    std::uint64_t revision = 0;
    concert_settings settings;  // the fields set, as asked
    auto operator<=>(const concert_updated&) const = default;
};

struct dates_added {
    concert_id concert;
    std::uint64_t revision = 0;
    std::vector<schedule> schedules;
    std::vector<std::uint32_t> seats_per_row;  // as asked: empty for 25 a row
    auto operator<=>(const dates_added&) const = default;
};

// ---- sale phases ----

// A phase opened: its pre-queue is placed next (QueuePlaced) and admitted.
struct phase_opened {
    concert_id concert;
    std::uint32_t phase = 0;
    auto operator<=>(const phase_opened&) const = default;
};

// A phase closed: every queue token below `expired_below` (all of the phase's) is EXPIRED.
struct phase_closed {
    concert_id concert;
    std::uint32_t phase = 0;
    std::uint64_t expired_below = 0;
    auto operator<=>(const phase_closed&) const = default;
};

// Ids added to a phase's list: how many were new, and the list's size after.
struct eligible_added {
    concert_id concert;
    std::uint32_t phase = 0;
    std::uint64_t added = 0;
    std::uint64_t total = 0;
    auto operator<=>(const eligible_added&) const = default;
};

// A user's claim of an id of a phase's list (`fresh` false: the same claim again), or a claim freed.
struct eligibility_claimed {
    concert_id concert;
    std::uint32_t phase = 0;
    user_id user;
    bool fresh = true;
    auto operator<=>(const eligibility_claimed&) const = default;
};

struct claim_freed {
    concert_id concert;
    std::uint32_t phase = 0;
    user_id user;
    auto operator<=>(const claim_freed&) const = default;
};

// ---- tickets and the door ----

struct scanner_added {
    concert_id concert;
    reservation_id scanner;
    std::string name;
    std::string gate;
    auto operator<=>(const scanner_added&) const = default;
};

struct scanner_removed {
    concert_id concert;
    reservation_id scanner;
    auto operator<=>(const scanner_removed&) const = default;
};

// What one scan found: ADMITTED (first admission, or the same scanner's scan again: `again`),
// DUPLICATE (admitted before: `first_at`, `first_gate`), REVOKED (refunded or being refunded),
// WRONG_DATE, WRONG_GATE (online: the scanner's gate is not the ticket section's), UNKNOWN (no
// such ticket of the concert in this partition).
enum class scan_result : std::uint8_t { admitted = 0, duplicate = 1, revoked = 2, wrong_date = 3, wrong_gate = 4, unknown = 5 };
inline constexpr std::uint8_t scan_result_max = 5;
std::string_view to_string(scan_result r);  // "ADMITTED", "DUPLICATE"…

struct scan_outcome {
    reservation_id reservation;
    std::uint32_t ticket = 0;
    scan_result result = scan_result::admitted;
    time_ms first_at = 0;        // ADMITTED again, DUPLICATE: the first admission's time
    std::string first_gate;      // ... and gate
    std::string scan_id;
    time_ms scanned_at = 0;
    bool again = false;          // the same scanner's scan id again: its first answer, not counted
    auto operator<=>(const scan_outcome&) const = default;
};

// Answers a CheckIn: each scan's outcome, in order.
struct tickets_checked {
    concert_id concert;
    reservation_id scanner;
    std::string gate;
    bool offline = false;
    std::vector<scan_outcome> outcomes;
    auto operator<=>(const tickets_checked&) const = default;
};

using event_body = std::variant<concert_created, user_registered, queue_joined, queue_admitted, queue_left, seat_held,
                                hold_expired, hold_cancelled, payment_started, wallet_debited, debit_refused,
                                payment_confirmed, payment_failed, charged, refused, idempotent_replay, key_claimed,
                                refund_started, wallet_credited, credit_refused, reservation_refunded, refund_failed,
                                queue_placed, sales_paused, sales_resumed, active_extended, seats_blocked,
                                seats_released, concert_updated, dates_added, phase_opened, phase_closed,
                                eligible_added, eligibility_claimed, claim_freed, scanner_added, scanner_removed,
                                tickets_checked>;

enum class event_type : std::uint8_t {
    concert_created = 0,
    user_registered = 1,
    queue_joined = 2,
    queue_admitted = 3,
    queue_left = 4,
    seat_held = 5,
    hold_expired = 6,
    hold_cancelled = 7,
    payment_started = 8,
    wallet_debited = 9,
    debit_refused = 10,
    payment_confirmed = 11,
    payment_failed = 12,
    charged = 13,
    refused = 14,
    idempotent_replay = 15,
    key_claimed = 16,
    refund_started = 17,
    wallet_credited = 18,
    credit_refused = 19,
    reservation_refunded = 20,
    refund_failed = 21,
    queue_placed = 22,
    sales_paused = 23,
    sales_resumed = 24,
    active_extended = 25,
    seats_blocked = 26,
    seats_released = 27,
    concert_updated = 28,
    dates_added = 29,
    phase_opened = 30,
    phase_closed = 31,
    eligible_added = 32,
    eligibility_claimed = 33,
    claim_freed = 34,
    scanner_added = 35,
    scanner_removed = 36,
    tickets_checked = 37,
};
inline constexpr std::uint8_t event_type_count = 38;

struct event {
    std::uint64_t sequence = 0;         // dense per partition: 0, 1, 2…
    log_position cause;                 // the command whose application produced this event
    log_position answers = no_position; // the client request this event completes, if any
    time_ms at = 0;                     // the partition clock when it happened
    event_body body;
    event_type type() const { return static_cast<event_type>(body.index()); }
    bool operator==(const event&) const = default;
};

std::string_view to_string(event_type t);

}  // namespace encore
