#pragma once
// Internal to projections/: the values stored under the keys of keys.hpp. Fixed-width little-endian
// fields (events/binary.hpp); a value that does not decode to exactly its size is corrupt.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "events/event.hpp"
#include "projections/read_models.hpp"

namespace encore::projections {

// The layout version stored under the meta key "layout": a store written with another layout is
// refused at open (delete the directory; the projector rebuilds it from the event log).
// 2: timelines (t) and seat histories (H); 3: several seats a reservation, queue places;
// 4: the organizer's controls (blocked seats in date records, concert state, the change log)
// 5: standing zones (z), sale phases (e; phases in concert state records)
// 6: refund fees (in date records and reservations); the door (x, a, T, G)
inline constexpr std::uint32_t layout_version = 6;

// Per (concert, date): the seat counters and the analytics counters, in one value.
struct date_record {
    std::uint32_t seats = 0;  // seat numbers are 1..seats
    std::uint32_t held = 0;
    std::uint32_t sold = 0;
    std::uint64_t holds_placed = 0;
    std::uint64_t holds_expired = 0;
    std::uint64_t holds_cancelled = 0;
    won revenue = 0;             // payments - refunded amounts (the fees kept count)
    std::uint64_t refunds = 0;   // reservations refunded
    std::uint64_t payments = 0;  // reservations paid (holds converted)
    std::uint32_t blocked = 0;   // seats BLOCKED by the organizer
    won refund_fees = 0;         // what refunds kept (the organizer's)
    bool operator==(const date_record&) const = default;
};

// Per (concert, date, standing zone): its places HELD and SOLD, and the entry numbers given.
struct zone_record {
    std::uint32_t held = 0;
    std::uint32_t sold = 0;
    std::uint32_t entries = 0;
    bool operator==(const zone_record&) const = default;
};
std::string encode_record(const zone_record& r);

// Per (concert, scanner): its name and gate, and whether it was removed (its key refused).
struct scanner_record {
    std::string name;
    std::string gate;
    bool removed = false;
    bool operator==(const scanner_record&) const = default;
};
std::string encode_record(const scanner_record& r);
std::optional<scanner_record> decode_scanner_record(std::string_view bytes);

// Per ticket admitted: when, at which gate (empty: none named).
struct admission_record {
    time_ms at = 0;
    std::string gate;
    bool operator==(const admission_record&) const = default;
};
std::string encode_record(const admission_record& r);
std::optional<admission_record> decode_admission_record(std::string_view bytes);
std::optional<zone_record> decode_zone_record(std::string_view bytes);

// Per concert: what the organizer's controls changed besides the catalog.
struct concert_state_record {
    std::uint64_t revision = 0;
    bool paused = false;
    time_ms paused_at = 0;  // while paused
    std::uint32_t phase = 0;          // sale phases: the open one, or the next to open
    bool phase_open = false;
    std::uint64_t expired_below = 0;  // tickets below it (of closed phases) are EXPIRED
    bool operator==(const concert_state_record&) const = default;
};

// Per (concert, user): their latest ticket.
struct queue_entry_record {
    std::uint64_t ticket = 0;
    std::uint64_t place = 0;  // in admission order; 0 while in the pre-queue (before onsaleAt)
    queue_status status = queue_status::waiting;
    time_ms active_until = 0;
    time_ms joined_at = 0;
};

// Per concert. Admission is in place order, so a WAITING ticket's position is
// place - admitted_through.
struct queue_counters_record {
    std::uint64_t admitted_through = 0;  // the highest admitted place
    std::uint64_t waiting = 0;
    std::uint64_t active = 0;
    std::uint64_t admitted_total = 0;
};

// Per (concert, fine bucket of timeline_bucket_ms): what happened in it, and the queue's waiting
// count after its last event (so a bucket without events carries the previous one's).
struct timeline_record {
    std::uint64_t queue_joined = 0;
    std::uint64_t queue_admitted = 0;
    std::uint64_t waiting_at_end = 0;
    std::uint64_t holds_placed = 0;
    std::uint64_t holds_expired = 0;
    std::uint64_t holds_cancelled = 0;
    std::uint64_t seats_sold = 0;
    std::uint64_t refunds = 0;
    won revenue = 0;
    bool operator==(const timeline_record&) const = default;
};

std::string encode_record(const timeline_record& r);
std::string encode_record(const seat_history_entry& r);
std::optional<timeline_record> decode_timeline_record(std::string_view bytes);
std::optional<seat_history_entry> decode_seat_history_entry(std::string_view bytes);
std::string encode_record(const date_record& r);
std::string encode_record(const concert_state_record& r);
std::optional<concert_state_record> decode_concert_state(std::string_view bytes);
std::string encode_record(const queue_entry_record& r);
std::string encode_record(const queue_counters_record& r);
std::string encode_record(const reservation& r);
std::string encode_record(const history_entry& r);
std::string encode_i64(std::int64_t v);
std::string encode_u64(std::uint64_t v);
std::string encode_u32(std::uint32_t v);

std::optional<date_record> decode_date_record(std::string_view bytes);
std::optional<queue_entry_record> decode_queue_entry(std::string_view bytes);
std::optional<queue_counters_record> decode_queue_counters(std::string_view bytes);
std::optional<reservation> decode_reservation(std::string_view bytes);
std::optional<history_entry> decode_history_entry(std::string_view bytes);
std::optional<std::int64_t> decode_i64(std::string_view bytes);
std::optional<std::uint64_t> decode_u64(std::string_view bytes);
std::optional<std::uint32_t> decode_u32(std::string_view bytes);

// The wait-time histogram: waits in milliseconds, exact below 16 ms, above that 16 buckets per power
// of two (a bucket is 1/16 of its lower bound wide), so a bucket's midpoint is within 1/32 (~3.1%)
// of any wait in it.
inline constexpr std::uint16_t wait_exact_buckets = 16;
inline constexpr std::uint16_t wait_buckets_per_octave = 16;
std::uint16_t wait_bucket_of(time_ms wait_ms);
// The middle of the bucket, in milliseconds (the exact value for the exact buckets).
double wait_bucket_middle_ms(std::uint16_t bucket);

}  // namespace encore::projections
