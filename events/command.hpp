#pragma once
// The command vocabulary: what clients (through api/) and other partitions (saga steps) ask a
// partition's engine to do. A command is an input; it states intent and never a result.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "events/boxed.hpp"
#include "events/types.hpp"

namespace encore {

struct schedule {
    day_number date = 0;
    std::uint32_t seats = 0;
    won price = 0;
    auto operator<=>(const schedule&) const = default;
};

struct queue_settings {
    std::uint32_t active_capacity = 100;
    std::uint32_t active_ttl_seconds = 600;
    auto operator<=>(const queue_settings&) const = default;
};

inline constexpr std::uint32_t hold_ttl_seconds_default = 300;
inline constexpr std::uint32_t max_holds_per_user_default = 4;
inline constexpr std::uint32_t max_tickets_per_user_default = 8;  // what the API sets when a body has none
inline constexpr std::uint32_t seats_per_row_default = 25;

// Marks a struct of fields added to a record after its first format. It is the record's last
// field; a record written before it ends where it begins, and the encoder leaves it out while
// every field in it is at its default, so older records decode and re-encode to the same bytes.
struct record_tail {
    auto operator<=>(const record_tail&) const = default;
};

// A grade of the venue (VIP, R, S…) and its price, for every date unless a date says otherwise.
struct grade_price {
    std::string grade;
    won price = 0;
    auto operator<=>(const grade_price&) const = default;
};

// A section of the venue: seated (`rows`: the seats of each row) or a standing zone (`standing`:
// its capacity, no seat numbers). `grade` indexes the venue's grades.
struct section_layout {
    std::string section;
    std::uint32_t grade = 0;
    std::vector<std::uint32_t> rows;
    std::uint32_t standing = 0;
    std::string gate;
    auto operator<=>(const section_layout&) const = default;
};

inline constexpr won no_date_price = -1;

// A sale phase (API.md "Sale phases"): from opens_at until closes_at (0: until the next phase
// opens, or for good), the waiting room admits for it, with its own pre-queue and seed. A LIST
// phase admits only users who claimed an id of its eligibility list.
struct sale_phase {
    std::string phase;                  // 1..32 characters, distinct
    std::string name;
    time_ms opens_at = 0;
    time_ms closes_at = 0;
    bool list = false;                  // eligibility LIST (else ALL)
    std::vector<std::uint32_t> grades;  // the venue's grades it sells, ascending; empty: all
    std::uint32_t max_tickets = 0;      // seats a user may buy in the phase; 0: the concert's cap only
    std::uint64_t queue_seed = 0;       // orders its pre-queue; drawn by the API, kept out of every query
    auto operator<=>(const sale_phase&) const = default;
};

// A refund fee tier (API.md "Refund fees"): a refund asked at least `hours_before` hours before
// the date's startsAt pays `won` per ticket, or `percent` of the reservation's price (one of them).
struct refund_tier {
    std::uint32_t hours_before = 0;
    won won_per_ticket = 0;
    std::uint32_t percent = 0;
    auto operator<=>(const refund_tier&) const = default;
};

// The refund policy: fee tiers by decreasing hours_before, and a window after payment in which a
// refund early enough is free. Without tiers there is no policy (refundsUntil alone, fee-free).
// A tail of phase_plan, and of settings_phases for PATCH.
struct refund_terms : record_tail {
    std::uint32_t free_within_hours = 0;
    std::vector<refund_tier> fees;  // 1..refund_tiers_max when set
    auto operator<=>(const refund_terms&) const = default;
};

// The sale's phases, a tail of venue_layout (a concert without them keeps its bytes).
struct phase_plan : record_tail {
    std::vector<sale_phase> phases;  // in increasing opens_at, not overlapping; empty: onsale_at
    refund_terms refunds;            // later: a tail of this tail
    auto operator<=>(const phase_plan&) const = default;
};

// The venue (API.md "The venue"), a tail of sale_options: a concert without one keeps its bytes.
// With a layout every date has the whole layout: its schedule's `seats` are the layout's seats
// (numbered 1..N section by section, row by row) and its `price` is 0 (each seat has its grade's).
struct venue_layout : record_tail {
    std::vector<grade_price> grades;
    std::vector<section_layout> sections;
    std::vector<time_ms> starts_at;         // per schedule, in schedule order; empty: none given (0: none)
    // Per schedule, per grade: that date's own price, or no_date_price (the grade's, whatever it
    // is then); empty: the grades' on every date.
    std::vector<std::vector<won>> prices;
    phase_plan plan;  // later: a tail of this tail
    auto operator<=>(const venue_layout&) const = default;
};

// The sale's options, a tail of catalog_options (added after it), so catalogs written with only
// the options before keep their bytes.
struct sale_options : record_tail {
    time_ms onsale_at = 0;  // 0: on sale from creation (no pre-queue)
    // Orders the pre-queue at onsale_at. Drawn by the API when the concert is created, kept out of
    // every query and export (events/json.cpp leaves it out): only the raw log holds it.
    std::uint64_t queue_seed = 0;
    // Later still: a tail of this tail, kept out of line (most concerts have none, and every
    // command object is as large as a catalog).
    boxed<venue_layout> venue;
    auto operator<=>(const sale_options&) const = default;
};

// The catalog's later options. 0 (or empty) means what a concert created before them had.
struct catalog_options : record_tail {
    std::uint32_t claim_seconds = 0;         // 0: the active TTL (an admitted user is never lapsed early)
    std::uint32_t max_tickets_per_user = 0;  // 0: no cap on seats held and owned
    time_ms refunds_until = 0;               // 0: no refunds
    std::vector<std::uint32_t> seats_per_row;  // per schedule, in schedule order; empty: 25 for every date
    sale_options sale;  // later still: a tail of this tail
    auto operator<=>(const catalog_options&) const = default;
};

struct create_concert {
    concert_id concert;
    std::string title;
    std::string venue;
    std::vector<schedule> schedules;
    queue_settings queue;
    std::uint32_t hold_ttl_seconds = hold_ttl_seconds_default;
    std::uint32_t max_holds_per_user = max_holds_per_user_default;
    catalog_options options;
    auto operator<=>(const create_concert&) const = default;
};

// Records a user's name in the user's (wallet) partition.
struct register_user {
    std::string name;
    auto operator<=>(const register_user&) const = default;
};

struct enqueue {
    concert_id concert;
    auto operator<=>(const enqueue&) const = default;
};

// Appended by a partition's owner when the partition is idle, so that its clock moves and
// deadlines (hold expiry, active-token expiry) pass with no request arriving.
struct tick {
    auto operator<=>(const tick&) const = default;
};

// Where a best-available pick looks: one grade's seats, or one section's (a tail of seat_choice).
struct pick_filter : record_tail {
    std::string grade;
    std::string section;
    auto operator<=>(const pick_filter&) const = default;
};

// Several seats in one hold: the seats named, or the best `count` adjacent ones the engine picks.
// Left out (a single-seat hold) while both are empty.
struct seat_choice : record_tail {
    std::vector<std::uint32_t> seats;  // 2..seats_per_hold_max distinct seats, any order; `seat` is then 0
    std::uint32_t count = 0;           // best available, 1..seats_per_hold_max; `seat` is then 0
    pick_filter filter;                // with `count`: within a grade or a section
    auto operator<=>(const seat_choice&) const = default;
};

struct hold_seat {
    concert_id concert;
    std::uint64_t ticket = 0;  // the queue ticket named by the caller's queue token
    day_number date = 0;
    std::uint32_t seat = 0;    // a single seat, unless `choice` says otherwise
    seat_choice choice;
    auto operator<=>(const hold_seat&) const = default;
};

struct cancel_hold {
    reservation_id reservation;
    auto operator<=>(const cancel_hold&) const = default;
};

struct pay {
    reservation_id reservation;
    auto operator<=>(const pay&) const = default;
};

struct charge {
    won amount = 0;
    auto operator<=>(const charge&) const = default;
};

// Saga step, concert partition -> wallet partition: take `amount` from the user's wallet.
struct debit_request {
    payment_id payment;
    reservation_id reservation;
    won amount = 0;
    auto operator<=>(const debit_request&) const = default;
};

// Saga step, wallet partition -> concert partition: the debit's outcome.
struct debit_result {
    payment_id payment;
    reservation_id reservation;
    bool debited = false;
    won balance = 0;  // the balance after the debit, or the (short) balance when refused
    auto operator<=>(const debit_result&) const = default;
};

// Sent to the caller's home partition before a keyed command that lands in another partition: it
// records (caller, key) with the request's fingerprint, so that one key names one request across
// every partition. Answered key_claimed, or refused IDEMPOTENCY_KEY_REUSED.
struct claim_key {
    std::uint64_t fingerprint = 0;  // request_fingerprint() of the command the key is for
    auto operator<=>(const claim_key&) const = default;
};

struct refund {
    reservation_id reservation;
    auto operator<=>(const refund&) const = default;
};

// Saga step, concert partition -> wallet partition: give a refunded reservation's price back.
struct credit_request {
    payment_id payment;
    reservation_id reservation;
    won amount = 0;
    std::uint64_t request_offset = 0;  // the Refund command, in the reservation's partition
    auto operator<=>(const credit_request&) const = default;
};

// Saga step, wallet partition -> concert partition: the credit's outcome.
struct credit_result {
    payment_id payment;
    reservation_id reservation;
    bool credited = false;
    won balance = 0;  // the balance after the credit, or the balance that could not take it
    std::uint64_t request_offset = 0;
    auto operator<=>(const credit_result&) const = default;
};

// ---- the organizer's controls (admin commands; each is one event with its time) ----

// Pause (`paused`) or resume the concert's sale. While paused users still join the waiting room,
// nobody is admitted, holds are refused SALES_PAUSED, and active users' turns stand still: on
// resume their activeUntil moves later by the pause's length.
struct pause_sales {
    concert_id concert;
    bool paused = true;
    auto operator<=>(const pause_sales&) const = default;
};

// Take seats of a date off sale (`blocked`), or put blocked seats back on sale.
struct block_seats {
    concert_id concert;
    day_number date = 0;
    std::vector<std::uint32_t> seats;  // 1..seats_per_block_max distinct seats
    bool blocked = true;
    std::string reason;                // free text for the change log ("camera"); blocks only
    auto operator<=>(const block_seats&) const = default;
};

// The settings PATCH may change after creation. `set` names the fields given (bits of
// concert_settings::field); the others are left as they are.
// The sale phases as PATCH sets them: the whole list (a tail of concert_settings, so settings
// without it keep their bytes).
struct settings_phases : record_tail {
    std::vector<sale_phase> phases;
    refund_terms refund_policy;  // refund_policy_field; no tiers: the policy removed (a tail of this tail)
    auto operator<=>(const settings_phases&) const = default;
};

struct concert_settings {
    enum field : std::uint32_t {
        title_field = 1u << 0,
        venue_field = 1u << 1,
        hold_ttl_field = 1u << 2,
        max_holds_field = 1u << 3,
        max_tickets_field = 1u << 4,
        refunds_until_field = 1u << 5,
        active_capacity_field = 1u << 6,
        active_ttl_field = 1u << 7,
        claim_seconds_field = 1u << 8,
        grades_field = 1u << 9,
        phases_field = 1u << 10,
        refund_policy_field = 1u << 11,
    };
    static constexpr std::uint32_t all_fields = (1u << 12) - 1;
    std::uint32_t set = 0;
    std::string title;
    std::string venue;
    std::uint32_t hold_ttl_seconds = 0;
    std::uint32_t max_holds_per_user = 0;
    std::uint32_t max_tickets_per_user = 0;
    time_ms refunds_until = 0;  // 0: no refunds
    std::uint32_t active_capacity = 0;
    std::uint32_t active_ttl_seconds = 0;
    std::uint32_t claim_seconds = 0;  // 0: the active TTL
    // The venue's grades with new prices (the same grades, in the same order): holds placed after
    // the change pay them; a date's own price for a grade stays.
    std::vector<grade_price> grades;
    // The whole list of sale phases: those that have opened unchanged and in their places, the
    // others changed, and new ones after them (the engine refuses PHASE_STARTED otherwise).
    settings_phases phases;
    auto operator<=>(const concert_settings&) const = default;
};
// The catalog with the settings applied: the one merge, shared by the engine and the read models.
create_concert with_settings(create_concert catalog, const concert_settings& settings);

struct update_concert {
    concert_id concert;
    // With If-Match: refused PRECONDITION_FAILED unless the concert is still at `revision`.
    bool conditional = false;
    std::uint64_t revision = 0;
    concert_settings settings;
    auto operator<=>(const update_concert&) const = default;
};

// New dates of a concert, in the creation shape (`seats_per_row` per schedule; empty: 25 each).
struct add_dates {
    concert_id concert;
    std::vector<schedule> schedules;
    std::vector<std::uint32_t> seats_per_row;
    auto operator<=>(const add_dates&) const = default;
};
// The catalog with the dates added (no check): shared by the engine and the read models.
create_concert with_dates(create_concert catalog, const std::vector<schedule>& schedules,
                          const std::vector<std::uint32_t>& seats_per_row);

// ---- sale phases ----

// An id of a phase's eligibility list as the engine keeps it: a keyed hash (the API's HMAC of the
// concert, the phase and the id), never the id.
struct list_key {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    auto operator<=>(const list_key&) const = default;
};

// The organizer adds ids to a phase's list (one bounded batch of a larger upload).
struct add_eligible {
    concert_id concert;
    std::uint32_t phase = 0;  // index into the phases
    std::vector<list_key> keys;  // 1..eligible_per_request_max
    auto operator<=>(const add_eligible&) const = default;
};

// A user claims an id of a phase's list (`freed` false), or the organizer frees a claim (true).
struct claim_eligibility {
    concert_id concert;
    std::uint32_t phase = 0;
    list_key key;
    bool freed = false;
    auto operator<=>(const claim_eligibility&) const = default;
};

// ---- tickets and the door ----

// A scanner of the concert's door (its id: the position of the command that added it), or its
// removal: its key stops working.
struct change_scanner {
    concert_id concert;
    reservation_id scanner;  // 0: a new one, named by this command's position
    std::string name;        // 1..64 characters
    std::string gate;        // a gate of the venue's sections; empty: every gate
    bool removed = false;
    auto operator<=>(const change_scanner&) const = default;
};

// One scan of a ticket: the reservation's n-th seat or place, for a date.
struct ticket_scan {
    reservation_id reservation;
    std::uint32_t ticket = 0;  // 1-based
    day_number date = 0;
    std::string scan_id;       // the scanner's id for the scan (idempotency); empty: none
    time_ms scanned_at = 0;    // offline: when the door scanned it (recorded, never the command's time)
    auto operator<=>(const ticket_scan&) const = default;
};

// Tickets scanned at a gate, decided in order: each is admitted once, whichever gate asks first.
// Online, one scan; offline, a batch the scanner kept while the network was down (the door let
// its people in, so a valid first scan admits even at another gate).
struct check_in {
    concert_id concert;
    reservation_id scanner;  // 0: the organizer (admin key), at `gate`
    std::string gate;        // the admin's gate; a scanner's is its own
    bool offline = false;
    std::vector<ticket_scan> scans;  // 1..checkins_per_command_max
    auto operator<=>(const check_in&) const = default;
};

using command_body = std::variant<create_concert, register_user, enqueue, tick, hold_seat, cancel_hold, pay,
                                  charge, debit_request, debit_result, claim_key, refund, credit_request, credit_result,
                                  pause_sales, block_seats, update_concert, add_dates, add_eligible, claim_eligibility,
                                  change_scanner, check_in>;

enum class command_type : std::uint8_t {
    create_concert = 0,
    register_user = 1,
    enqueue = 2,
    tick = 3,
    hold_seat = 4,
    cancel_hold = 5,
    pay = 6,
    charge = 7,
    debit_request = 8,
    debit_result = 9,
    claim_key = 10,
    refund = 11,
    credit_request = 12,
    credit_result = 13,
    pause_sales = 14,
    block_seats = 15,
    update_concert = 16,
    add_dates = 17,
    add_eligible = 18,
    claim_eligibility = 19,
    change_scanner = 20,
    check_in = 21,
};
inline constexpr std::uint8_t command_type_count = 22;

struct command_meta {
    time_ms accepted_at = 0;        // when the API (or the partition owner) accepted it
    user_id user;                   // the issuing user; 0 for the admin and the system
    std::string idempotency_key;    // empty when the client sent none
    log_position origin = no_position;  // for saga steps: the command that sent this one
    auto operator<=>(const command_meta&) const = default;
};

struct command {
    command_meta meta;
    command_body body;
    command_type type() const { return static_cast<command_type>(body.index()); }
    bool operator==(const command&) const = default;
};

std::string_view to_string(command_type t);

}  // namespace encore
