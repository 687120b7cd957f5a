#pragma once
// The state of one partition: the concerts routed to it (catalog, seats, holds, waiting room) and
// the wallets of the users routed to it. Owned by exactly one partition runner thread; nothing
// here is shared or locked. Everything that reaches an output is iterated in a fixed order:
// unordered containers are used for lookup only, and snapshots sort them.

#include <cstdint>
#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "events/command.hpp"
#include "events/event.hpp"
#include "events/types.hpp"
#include "events/venue.hpp"

namespace encore::engine {

// Idempotency keys are remembered this long (by the partition clock), then forgotten, and at most
// this many per caller in each partition (the oldest forgotten first), so that a caller's state is
// bounded however many keyed requests it sends.
inline constexpr time_ms idempotency_retention_ms = 24LL * 3600 * 1000;
inline constexpr std::size_t idempotency_keys_per_caller_max = 1000;

inline constexpr std::uint32_t no_reservation = 0;        // a seat cell holding this is AVAILABLE
inline constexpr std::uint32_t blocked_cell = 0xFFFFFFFFu;  // ... and this, BLOCKED by the organizer

struct date_state {
    day_number date = 0;
    won price = 0;
    std::uint32_t seats = 0;
    // Rows for best available: `seats_per_row` seats each, or (0, a venue's layout) the rows of
    // `row_first` (the first seat of each row, in seat order). Both from the catalog.
    std::uint32_t seats_per_row = seats_per_row_default;
    std::vector<std::uint32_t> row_first;
    std::vector<won> grade_price;                         // with a layout: each grade's price on this date
    std::uint32_t held = 0;                               // seats and standing places
    std::uint32_t sold = 0;
    std::uint32_t blocked = 0;                            // derived from seat_cells, like row_free
    // One cell per seat: the reservation slot + 1 that holds or bought it, no_reservation or
    // blocked_cell.
    std::vector<std::uint32_t> seat_cells;
    // Per row, its AVAILABLE seats: derived from seat_cells (and so in no snapshot), kept by
    // take_seat/free_seat, so that best-available skips rows too full for a pick.
    std::vector<std::uint16_t> row_free;
    // With standing zones, per section of the layout (0 for a seated one): its places HELD or
    // SOLD, and the entry numbers given so far (a refunded place's number is not reused).
    std::vector<std::uint32_t> zone_taken;
    std::vector<std::uint32_t> zone_entries;

    std::size_t row_of(std::uint32_t seat) const {
        if (seats_per_row != 0) return (seat - 1) / seats_per_row;
        return static_cast<std::size_t>(std::upper_bound(row_first.begin(), row_first.end(), seat) - row_first.begin()) - 1;
    }
    std::size_t rows() const { return seats_per_row != 0 ? (seats + seats_per_row - 1) / seats_per_row : row_first.size(); }
    std::uint32_t first_of_row(std::size_t row) const {
        return seats_per_row != 0 ? static_cast<std::uint32_t>(row * seats_per_row + 1) : row_first[row];
    }
    std::uint32_t last_of_row(std::size_t row) const {
        return row + 1 < rows() ? first_of_row(row + 1) - 1 : seats;
    }
};

// What one user is doing at one concert: their latest queue ticket and their open holds. One per
// user who ever joined the concert's waiting room, so its size is the state's size per fan: the
// fields are ordered to pack into 40 bytes.
struct attendee {
    std::uint64_t ticket = 0;  // latest ticket; 0 = never queued
    std::uint64_t place = 0;   // the ticket's place in admission order; 0 while in the pre-queue
    time_ms active_until = 0;
    std::uint32_t holds = 0;   // reservations HELD right now (a payment in flight counts)
    std::uint32_t tickets = 0; // seats HELD or CONFIRMED right now (maxTicketsPerUser)
    queue_status status = queue_status::expired;
    bool claimed = false;      // ACTIVE and has sent a command since admission (queue.claimSeconds)
};
static_assert(sizeof(attendee) <= 40);

// Per-user tables hold one entry per fan (hundreds of thousands per partition), so they are open
// addressing tables of values, with no allocation per entry. An insert may move every entry: no
// reference into one is kept across an insert into the same table.
template <class Key, class Value>
using flat_table = boost::unordered_flat_map<Key, Value, std::hash<Key>>;

struct list_key_hash {
    std::size_t operator()(const list_key& k) const { return static_cast<std::size_t>(k.high ^ (k.low * 0x9E3779B97F4A7C15ULL)); }
};

// A sale phase's state: its eligibility list (keyed hashes, each with its claimant), the claims by
// user, and, with a per-phase cap, each user's seats held or owned from holds placed in it.
struct phase_state {
    boost::unordered_flat_map<list_key, user_id, list_key_hash> ids;  // claimant 0: not claimed
    flat_table<user_id, list_key> claims;
    flat_table<user_id, std::uint32_t> bought;
};

// The door: a scanner (its id, the position that added it; its gate, an index of the venue's
// gates + 1, 0 for every gate), and a ticket's admission, 16 bytes: when, at which gate (0: none
// named), by which scanner (its index + 1; 0: the organizer) and the scan id's hash (0: none).
struct scanner_state {
    std::uint64_t id = 0;
    std::uint8_t gate = 0;
    bool removed = false;
};
struct admission {
    time_ms at = 0;
    std::uint32_t scan = 0;
    std::uint8_t gate = 0;
    std::uint8_t scanner = 0;
};
static_assert(sizeof(admission) <= 16 && scanners_per_concert_max < 255 && sections_max < 255);
// A scan id as an admission keeps it: a 32-bit hash, never 0 (0: no scan id).
std::uint32_t scan_hash(std::string_view scan_id);
// An admission's key: the reservation's offset and the ticket's index (1..seats_per_hold_max).
inline std::uint64_t ticket_key(std::uint64_t offset, std::uint32_t ticket) { return offset << 7 | ticket; }

struct deadline {
    time_ms at = 0;
    std::uint64_t subject = 0;  // hold: reservation slot; active token: ticket
};

struct concert_state {
    create_concert config;
    venue_map venue;                // derived from the config (init_dates); empty without a layout
    std::vector<date_state> dates;  // ascending by date
    flat_table<user_id, attendee> attendees;
    std::uint64_t next_ticket = 1;
    // Admission is strictly in place order and waiting users never leave, so every place in
    // (admitted_through, admitted_through + waiting.size()] is WAITING and a waiting user's
    // position is place - admitted_through. A ticket's place is the ticket itself, except for the
    // pre-queue's: those are places 1..n, shuffled at onsaleAt (and then place == ticket again for
    // every later ticket, since each ticket takes one place).
    std::uint64_t admitted_through = 0;
    std::deque<user_id> waiting;             // front = place admitted_through + 1
    // Before onsaleAt: who joined, in join order (each user once), none of them placed yet.
    bool on_sale = true;
    std::vector<user_id> pre_queue;
    std::uint32_t active = 0;
    // Deadlines are kept in time order: each is inserted where it belongs (with one TTL that is
    // at the back; the organizer may change a TTL, and then it need not be).
    std::deque<deadline> active_deadlines;
    std::deque<std::uint64_t> active_users;  // parallel to active_deadlines: the user of each entry
    std::deque<deadline> hold_deadlines;
    // Admitted from the waiting room and not yet claimed: lapsed at these deadlines (admission
    // order), when queue.claimSeconds is shorter than the active TTL.
    std::deque<deadline> claim_deadlines;
    std::deque<std::uint64_t> claim_users;   // parallel to claim_deadlines
    // Sale phases: `phase` is the open one (on_sale) or the next to open (not on_sale); all of
    // them closed when it is phases.size(). Without phases, on_sale alone (onsaleAt) says it.
    std::vector<phase_state> phases;
    std::uint32_t phase = 0;
    // The organizer's controls: every change (pause, resume, block, update, dates) adds one.
    std::uint64_t revision = 0;
    bool paused = false;
    time_ms paused_at = 0;  // while paused: when the pause began
    // Every refund policy the concert has had, each once, in the order first set (a reservation is
    // refunded under the one in force when it was paid, which it names by index): the catalog's,
    // then each new one a change set; at most refund_policies_max.
    std::vector<refund_terms> refund_policies;
    // The door: its scanners (in the order added) and the tickets admitted.
    std::vector<scanner_state> scanners;
    std::unordered_map<std::uint64_t, admission> admitted;
};

struct reservation_record {
    std::uint64_t offset = 0;       // with the partition, the reservation id
    user_id user;
    std::uint32_t concert_index = 0;
    std::uint32_t date_index = 0;
    std::uint32_t seat = 0;
    std::vector<std::uint32_t> more_seats;  // after `seat`, ascending (several seats in one hold)
    won price = 0;                          // of all its seats
    std::vector<grade_amount> by_grade;     // with a venue: the price by grade (ascending grades)
    // Places of a standing zone (then `seat` is 0): how many, the zone (a section index) and the
    // first entry number, given at payment (0 before).
    std::uint32_t places = 0;
    std::uint32_t zone = 0;
    std::uint32_t entry_first = 0;
    std::uint8_t phase = 0;  // the sale phase it was placed in, + 1; 0 without phases
    // The refund policy it was paid under (index + 1 into its concert's refund_policies; 0: none,
    // refundsUntil alone), and the fee its refund keeps (set when the refund starts).
    std::uint32_t refund_policy = 0;
    won refund_fee = 0;
    time_ms held_at = 0;
    time_ms expires_at = 0;
    time_ms paid_at = 0;
    std::uint64_t payment_offset = 0;  // 0 = no payment accepted yet (offset 0 is never a Pay: see apply)
    reservation_status status = reservation_status::held;
    bool payment_pending = false;
    bool refund_pending = false;  // CONFIRMED, its price being credited back
};

// A registered user's wallet. The user's name is in the UserRegistered event and the read models:
// no decision of the engine reads it, so the state does not keep it.
struct wallet {
    won balance = 0;
};

// A request an idempotency key named: the first command that used it, and what it asked for.
struct remembered_key {
    log_position first;
    std::uint64_t fingerprint = 0;  // request_fingerprint() of that command
    time_ms forget_at = 0;
};

struct partition_state {
    std::uint32_t partition = 0;
    std::uint32_t partitions = 1;
    time_ms clock = 0;                      // max accept time seen: the engine's only clock
    std::uint64_t next_event_sequence = 0;
    std::uint64_t next_command_offset = 0;  // the offset apply expects next (asserted)
    time_ms next_deadline = 0;              // earliest hold/active/onsale deadline of any concert; 0 = none

    std::vector<concert_state> concerts;    // creation order
    std::unordered_map<concert_id, std::uint32_t> concert_index;
    std::vector<reservation_record> reservations;  // ascending by offset (created in log order)
    flat_table<user_id, wallet> wallets;
    // Saga de-duplication: per origin partition, one past the highest origin offset applied.
    std::map<std::uint32_t, std::uint64_t> saga_high_water;
    // Idempotency: (caller, key) slot -> the request it named; each caller's slots, oldest first;
    // and, per caller with keys, when its oldest is forgotten.
    std::unordered_map<std::string, remembered_key> idempotency;
    std::unordered_map<user_id, std::deque<std::string>> idempotency_order;
    std::set<std::pair<time_ms, user_id>> idempotency_expiry;
};

partition_state make_partition(std::uint32_t partition, std::uint32_t partitions);

}  // namespace encore::engine
