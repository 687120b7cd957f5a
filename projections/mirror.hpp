#pragma once
// Internal to projections/: the in-memory mirror of the seat maps, so that reading a 50,000-seat map
// under load touches no RocksDB and no lock. One byte per seat, plus the held/sold/blocked counters
// packed in one word so that a reader never sees a seat counted twice while it moves from HELD to SOLD.
//
// Written only by the projector thread of the partition that owns the concert, after that
// partition's write batch is in RocksDB; read by any thread. The mirror is rebuilt from RocksDB on
// open, so it is never the only copy of anything.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "events/command.hpp"
#include "events/types.hpp"

namespace encore::projections {

class date_mirror {
public:
    date_mirror(day_number date, std::uint32_t seats, won price);

    day_number date() const { return date_; }
    std::uint32_t seats() const { return seats_; }
    won price() const { return price_; }

    // `seat` is 1..seats().
    seat_status status(std::uint32_t seat) const;
    void set_status(std::uint32_t seat, seat_status s);

    struct counts {
        std::uint32_t held = 0;
        std::uint32_t sold = 0;
        std::uint32_t blocked = 0;
        std::uint32_t taken() const { return held + sold + blocked; }
    };
    counts load_counts() const;
    void store_counts(counts c);

    // Advanced after every change of a seat's status: a rendering of the map made after reading
    // version v shows at least every change up to v (the seat map cache keys on it).
    std::uint64_t version() const { return version_.load(std::memory_order_acquire); }
    void advance_version() { version_.fetch_add(1, std::memory_order_acq_rel); }

private:
    day_number date_;
    std::uint32_t seats_;
    won price_;
    std::unique_ptr<std::atomic<std::uint8_t>[]> statuses_;
    // held, sold and blocked, 21 bits each (seats_per_date_max < 2^21), held lowest.
    std::atomic<std::uint64_t> counts_{0};
    std::atomic<std::uint64_t> version_{0};
};

// The rate at which a concert admits waiting users (QueueAdmitted: a slot freed by a payment or an
// expiry), over the last `window_ms` of event time, for `estimatedWaitSeconds`. Kept in memory,
// and seeded at open from the timeline's admission counts, so that a restart does not forget the
// rate (the estimate would fall back to the worst case until two admissions were seen).
// record() and seed() run on the concert's projector thread (or at open), estimates on any thread;
// a mutex guards it.
class admission_rate {
public:
    static constexpr time_ms window_ms = 5 * 60 * 1000;
    static constexpr std::size_t kept_max = 4096;  // the window shrinks to these many admissions

    void record(time_ms at);
    // The admissions of the timeline's fine buckets: `buckets` are (start, admissions), ascending,
    // each `bucket_ms` long; each bucket's admissions are spread evenly over it. Only the last
    // window before the latest bucket's end counts, and of it the latest kept_max admissions.
    void seed(const std::vector<std::pair<time_ms, std::uint64_t>>& buckets, time_ms bucket_ms);
    // Seconds until `position` more users are admitted at the observed rate; nullopt before two
    // admissions or over less than a second. `now` (0: the latest admission) ends the window.
    std::optional<std::uint64_t> estimate_seconds(std::uint64_t position, time_ms now) const;

private:
    mutable std::mutex mutex_;
    std::deque<time_ms> times_;  // ascending, within the window
    time_ms first_ = 0;          // the first admission seen since the models were opened
};

// What the organizer's controls changed besides the catalog.
struct concert_controls {
    std::uint64_t revision = 0;
    bool paused = false;
    time_ms paused_at = 0;
    // Sale phases: the open one (phase_open) or the next to open, and the tickets of closed phases.
    std::uint32_t phase = 0;
    bool phase_open = false;
    std::uint64_t expired_below = 0;
};

// A concert as readers see it. The catalog and the controls are immutable once published: a
// change publishes a new mirror that shares the dates (their seats and counters) and the
// admission rate with the one it replaces, so readers holding either see the same seats.
struct concert_mirror {
    create_concert config;
    time_ms created_at = 0;
    concert_controls controls;
    std::vector<std::shared_ptr<date_mirror>> dates;  // ascending by date
    std::atomic<std::uint64_t> waiting{0};
    std::atomic<std::uint64_t> active{0};
    std::shared_ptr<admission_rate> admissions = std::make_shared<admission_rate>();

    // `config` must satisfy `fits`. With `previous` (the mirror this one replaces), its dates,
    // queue counters and admission rate carry over; dates new to `config` start AVAILABLE.
    concert_mirror(const create_concert& config, time_ms created_at, concert_controls controls = {},
                   const concert_mirror* previous = nullptr);
    // True when every date has 1..seats_per_date_max seats and no date repeats: what the mirror
    // can hold (the engine validates catalogs; a store or log that breaks this is corrupt).
    static bool fits(const create_concert& config);
    date_mirror* find_date(day_number d) const;
};

}  // namespace encore::projections
