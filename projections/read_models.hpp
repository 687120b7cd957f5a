#pragma once
// The read models: everything API.md's queries return, kept in RocksDB and maintained from the
// event log. Each partition's events are applied in one write batch together with that partition's
// next expected event sequence, so applying is exactly-once across restarts and the whole store can
// be rebuilt from the event log alone.
//
// Threads: `apply` for partition p is called by p's projector thread only (partitions write disjoint
// keys); every query is safe from any thread at any time.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.hpp"
#include "events/result.hpp"

namespace encore::projections {

struct options {
    std::string directory;
    std::uint32_t partitions = 1;
    bool sync = false;  // the event log is durable; the read models can be rebuilt from it
    // A store of another layout version (an older release's) is emptied and rebuilt from event 0
    // instead of refused. A store of another partition count is refused either way.
    bool rebuild_other_layout = false;
};

struct date_view {
    day_number date = 0;
    std::uint32_t total_seats = 0;
    std::uint32_t available_seats = 0;
    std::uint32_t held_seats = 0;
    std::uint32_t sold_seats = 0;
    std::uint32_t blocked_seats = 0;  // off sale: neither available nor held nor sold
    won price = 0;
};

struct concert_view {
    create_concert config;            // as the organizer's changes left it
    std::vector<date_view> dates;     // ascending by date
    std::uint64_t revision = 0;       // one more for every change of the organizer's
    bool paused = false;
};

// One entry of a concert's change log: the event that made the change (SalesPaused,
// SeatsBlocked, ConcertUpdated, …), in the order the concert's partition applied them.
using concert_change = event;

// One grade's seats on one date (a concert with a venue), counted from the seat map.
struct grade_count {
    std::uint32_t total = 0, available = 0, held = 0, sold = 0, blocked = 0;
    won revenue = 0;  // of its seats sold, each at the price it was held at, net of refunds
};

// One section of a date: a standing zone's places (capacity, held, sold, entry numbers given);
// all 0 for a seated section.
struct zone_count {
    std::uint32_t capacity = 0, held = 0, sold = 0, entries = 0;
    std::uint32_t available() const { return capacity - held - sold; }
};

struct seat_view {
    std::uint32_t number = 0;
    seat_status status = seat_status::available;
};

struct history_entry {
    enum class kind : std::uint8_t { charge, payment, refund } type = kind::charge;
    won amount = 0;
    won balance_after = 0;
    time_ms at = 0;
    reservation_id reservation;  // 0 for charges
};

// One page of a list that grows with use. `after` of the next call is `next`: the position of
// the last item (raw key bytes; api/ makes it an opaque cursor); empty on the last page.
template <class T>
struct page {
    std::vector<T> items;
    std::string next;
};

struct queue_view {
    std::uint64_t ticket = 0;
    queue_status status = queue_status::waiting;
    std::uint64_t position = 0;           // 0 unless WAITING (and 0 in the pre-queue)
    bool pre_queue = false;               // WAITING before onsaleAt, with no place yet
    time_ms onsale_at = 0;                // the concert's onsaleAt, when it has one
    // 0 unless WAITING: position / the concert's admission rate over the last minutes, capped by
    // the worst case ceil(position / activeCapacity) * activeTtlSeconds, which is also the answer
    // before two admissions have been seen. See README.md.
    std::uint64_t estimated_wait_seconds = 0;
    time_ms active_until = 0;             // 0 unless ACTIVE
    bool paused = false;                  // the organizer paused the sale: nobody is admitted
};

// A concert's sale phases as one user sees them.
struct phases_view {
    std::uint32_t current = 0;  // the open phase, or the next to open (the count: all closed)
    bool open = false;
    std::vector<bool> claimed;  // per phase: the user claimed an id of its list
};

struct date_analytics {
    day_number date = 0;
    std::uint32_t sold = 0, held = 0, available = 0, blocked = 0;
    won revenue = 0;      // payments - refunded amounts
    won refund_fees = 0;  // kept by refunds (in revenue)
    std::uint64_t holds_placed = 0, holds_expired = 0, holds_cancelled = 0, refunds = 0;
    std::uint64_t payments = 0;  // holds paid (a hold of several seats counts once)
};

struct concert_analytics {
    std::vector<date_analytics> dates;
    std::uint64_t waiting = 0, active = 0, admitted_total = 0;
    // Median of (admitted at - joined at) over every admission, immediate ones (0) included; from
    // a histogram whose buckets are ~6% wide, so within ~3.1% (exact below 16 ms). 0 when none.
    double median_wait_seconds = 0;
};

// One entry of a seat's history: what happened to the seat, and by whose reservation.
struct seat_history_entry {
    enum class kind : std::uint8_t { held, expired, cancelled, sold, refunded } type = kind::held;
    time_ms at = 0;
    reservation_id reservation;
    user_id user;
};

// The door: a scanner of a concert, a ticket's admission, admissions at a gate in a fine bucket.
struct scanner_view {
    reservation_id id;
    std::string name;
    std::string gate;
    bool removed = false;
};
struct admission_view {
    time_ms at = 0;
    std::string gate;
};
struct gate_checkins {
    time_ms start = 0;  // a fine timeline bucket's start
    std::string gate;
    std::uint64_t admitted = 0;
};

// The concert timeline is kept in fine buckets of this many milliseconds of partition time (the
// events' `at`); a query aggregates them into buckets of any multiple of it.
inline constexpr time_ms timeline_bucket_ms = 10'000;
// A timeline query returns at most this many buckets and reads at most this many fine buckets
// (plus those of the bucket it is in); past either it ends at a bucket boundary and names the next.
inline constexpr std::size_t timeline_buckets_max = 10'000;
inline constexpr std::size_t timeline_fine_buckets_read_max = 100'000;

struct timeline_bucket {
    time_ms start = 0;  // a multiple of the bucket size (from the epoch)
    std::uint64_t queue_joined = 0, queue_admitted = 0;
    std::uint64_t waiting_at_end = 0;  // users waiting after the bucket's last event (carried when it had none)
    std::uint64_t holds_placed = 0, holds_expired = 0, holds_cancelled = 0, seats_sold = 0, refunds = 0;
    won revenue = 0;
};

struct timeline {
    std::vector<timeline_bucket> buckets;  // oldest first, consecutive (empty buckets included)
    // Set when the range went on past the limits: the `from` of the next call.
    std::optional<time_ms> next_from;
};

// [from, to) of partition time; nullopt: from the concert's first bucket, to the end of its last.
struct timeline_range {
    time_ms bucket_ms = 60'000;  // a multiple of timeline_bucket_ms
    std::optional<time_ms> from, to;
};

class read_models {
public:
    static result<std::unique_ptr<read_models>> open(const options& o);
    virtual ~read_models() = default;

    // Applies events of `partition` in sequence order. Events below the partition's applied
    // sequence are dropped (a redelivery); a gap is an error.
    // A failure of the storage (errc::io: a full disk) changes nothing, so the same events may be
    // applied again once `resume` succeeds.
    virtual result<unit> apply(std::uint32_t partition, std::span<const event> events) = 0;
    // After a failed apply: lets the store write again if the storage is back (RocksDB stops
    // writing after a failed flush until told to resume). Any thread.
    virtual result<unit> resume() { return unit{}; }
    // The next event sequence the partition expects.
    virtual std::uint64_t applied_sequence(std::uint32_t partition) const = 0;

    // Every concert, in creation order (by the creating event's time, then by id).
    virtual std::vector<concert_view> concerts() const = 0;
    virtual std::optional<concert_view> concert(concert_id c) const = 0;
    // One date of a concert (its counters and price); nullopt when the concert or the date does
    // not exist. Cheaper than `concert` when one date is wanted (the seat map's price).
    virtual std::optional<date_view> date(concert_id c, day_number d) const = 0;
    // Per grade of the concert's venue, its seats on the date by status; nullopt when the concert
    // or the date does not exist (empty for a concert without a venue). Reads the date's seats.
    virtual std::optional<std::vector<grade_count>> grade_counts(concert_id c, day_number date) const = 0;
    // Per section of the concert's venue, its standing places on the date (zeros for a seated
    // section); nullopt when the concert or date is unknown, empty without a layout.
    virtual std::optional<std::vector<zone_count>> zone_counts(concert_id c, day_number date) const = 0;
    // The concert's sale phases for user `u`; nullopt when the concert does not exist.
    virtual std::optional<phases_view> phases(concert_id c, user_id u) const = 0;
    // nullopt when the concert or the date does not exist; `only_available` filters.
    virtual std::optional<std::vector<seat_view>> seats(concert_id c, day_number date, bool only_available) const = 0;
    // Advanced after every change of one of the date's seats; nullopt when the concert or the date
    // does not exist. A `seats` answer read after version v shows every change up to v.
    virtual std::optional<std::uint64_t> seats_version(concert_id c, day_number date) const = 0;
    virtual std::optional<reservation> find_reservation(reservation_id r) const = 0;
    virtual std::vector<reservation> reservations_of(user_id u) const = 0;  // newest first
    virtual bool user_exists(user_id u) const = 0;
    virtual won balance(user_id u) const = 0;
    // Wallet and seat histories are read from RocksDB (not held in memory): a read that fails is
    // an error (errc::io, or errc::corrupt for a damaged block), never an empty answer.
    virtual result<std::vector<history_entry>> history(user_id u, std::size_t limit) const = 0;  // newest first
    // Newest first, at most `limit` items after `after` (a previous page's `next`; empty for the
    // first page). The work is bounded by `limit`, whatever the length of the list.
    virtual page<reservation> reservations_page(user_id u, std::string_view after, std::size_t limit) const = 0;
    virtual result<page<history_entry>> history_page(user_id u, std::string_view after, std::size_t limit) const = 0;
    // The user's latest ticket at the concert, or nullopt if they never queued. `now` (wall clock)
    // ends the window the admission rate is measured over; 0 ends it at the latest admission.
    virtual std::optional<queue_view> queue(concert_id c, user_id u, time_ms now = 0) const = 0;
    // The final event that answered the client request at `request`, once projected (nullopt
    // before). Outcomes are read from RocksDB: an I/O error or a damaged record is an error.
    virtual result<std::optional<event>> outcome(log_position request) const = 0;
    virtual std::optional<concert_analytics> analytics(concert_id c) const = 0;
    virtual std::uint64_t waiting_total() const = 0;  // for /metrics
    // Per concert, waiting and active users, ascending by id (for /metrics).
    struct queue_figures {
        concert_id concert;
        std::uint64_t waiting = 0, active = 0;
    };
    virtual std::vector<queue_figures> queue_totals() const = 0;
    // The concert's activity by buckets of partition time; nullopt for an unknown concert. The
    // work is bounded (timeline_buckets_max, timeline_fine_buckets_read_max) whatever the range.
    virtual std::optional<timeline> concert_timeline(concert_id c, const timeline_range& range) const = 0;
    // Oldest first, at most `limit` entries after `after` (a previous page's `next`); nullopt when
    // the concert, the date or the seat does not exist. Read from RocksDB a page at a time.
    virtual result<std::optional<page<seat_history_entry>>> seat_history_page(concert_id c, day_number d,
                                                                               std::uint32_t seat,
                                                                               std::string_view after,
                                                                               std::size_t limit) const = 0;
    // The concert's change log, oldest first, a page at a time from RocksDB; nullopt for an
    // unknown concert.
    virtual result<std::optional<page<concert_change>>> changes_page(concert_id c, std::string_view after,
                                                                     std::size_t limit) const = 0;
    // A registered user's name.
    virtual std::optional<std::string> user_name(user_id u) const = 0;
    // The door: a concert's scanners (in id order), one of them, a ticket's admission, the paid
    // reservations of a date (a page of them, in id order; refunded ones included), and the
    // admissions per gate in each fine bucket (oldest first).
    virtual std::vector<scanner_view> scanners(concert_id c) const = 0;
    virtual std::optional<scanner_view> scanner(concert_id c, reservation_id s) const = 0;
    virtual std::optional<admission_view> admission(reservation_id r, std::uint32_t ticket) const = 0;
    virtual page<reservation> date_tickets_page(concert_id c, day_number d, std::string_view after, std::size_t limit) const = 0;
    virtual std::vector<gate_checkins> checkins_by_gate(concert_id c) const = 0;
};

}  // namespace encore::projections
