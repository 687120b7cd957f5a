#pragma once
// Internal to projections/: the RocksDB key layout of the read models (README.md has the table).
// Every key starts with one ASCII tag byte naming its kind; the integers after it are big-endian
// (signed ones with the sign bit flipped) so that RocksDB's bytewise order is numeric order, and a
// "newest first" index stores the complement of the number it sorts by.

#include <cstdint>
#include <string>
#include <string_view>

#include "events/types.hpp"

namespace encore::projections::keys {

// The tag bytes. Upper- and lower-case tags are distinct kinds.
inline constexpr char meta = 'm';             // m <name>                        -> meta value
inline constexpr char applied = 'p';          // p <partition u32>               -> next sequence u64
inline constexpr char concert = 'c';          // c <concert>                     -> concert_created event (codec)
inline constexpr char date = 'd';             // d <concert> <date>              -> date record
inline constexpr char seat = 's';             // s <concert> <date> <seat u32>   -> 1 HELD | 2 SOLD; absent = AVAILABLE
inline constexpr char user = 'u';             // u <user>                        -> name
inline constexpr char reservation = 'r';      // r <reservation>                 -> reservation record
inline constexpr char user_reservation = 'R'; // R <user> <~held_at> <~reservation> -> empty
inline constexpr char balance = 'b';          // b <user>                        -> balance i64
inline constexpr char history = 'h';          // h <user> <~sequence>            -> history record
inline constexpr char queue_entry = 'q';      // q <concert> <user>              -> queue entry record
inline constexpr char queue_counters = 'Q';   // Q <concert>                     -> queue counters record
inline constexpr char wait_bucket = 'w';      // w <concert> <bucket u16>        -> count u64
inline constexpr char outcome = 'o';          // o <partition u32> <offset u64>  -> answering event (codec)
inline constexpr char timeline = 't';         // t <concert> <start_ms i64>      -> timeline record (one fine bucket)
inline constexpr char seat_history = 'H';     // H <concert> <date> <seat u32> <sequence u64> -> seat history record
inline constexpr char concert_state = 'k';    // k <concert>                     -> concert state record (revision, pause)
inline constexpr char change = 'g';           // g <concert> <sequence u64>      -> the organizer's change event (codec)
inline constexpr char grade_revenue = 'v';    // v <concert> <date> <grade u32>  -> revenue i64 of the grade's seats
inline constexpr char claim = 'e';            // e <concert> <phase u32> <user u64> -> empty: the user claimed an id of the phase's list
inline constexpr char zone = 'z';             // z <concert> <date> <section u32> -> standing zone record (places held, sold)
inline constexpr char scanner = 'x';          // x <concert> <scanner u64>       -> scanner record (name, gate, removed)
inline constexpr char admission = 'a';        // a <reservation> <ticket u32>    -> admission record (at, gate)
inline constexpr char date_ticket = 'T';      // T <concert> <date> <reservation> -> empty: a paid reservation of the date
inline constexpr char gate_checkins = 'G';    // G <concert> <start_ms i64> <gate> -> u64 admissions at the gate in the bucket

inline constexpr std::string_view meta_layout = "layout";
inline constexpr std::string_view meta_partitions = "partitions";

class key_builder {
public:
    explicit key_builder(char tag) { bytes_.push_back(tag); }
    key_builder& u16(std::uint16_t v) { return big_endian(v, 2); }
    key_builder& u32(std::uint32_t v) { return big_endian(v, 4); }
    key_builder& u64(std::uint64_t v) { return big_endian(v, 8); }
    key_builder& i32(std::int32_t v) { return u32(static_cast<std::uint32_t>(v) ^ 0x8000'0000u); }
    key_builder& i64(std::int64_t v) { return u64(static_cast<std::uint64_t>(v) ^ 0x8000'0000'0000'0000ULL); }
    // Sorts descending: the complement of the ascending form.
    key_builder& i64_descending(std::int64_t v) { return u64(~(static_cast<std::uint64_t>(v) ^ 0x8000'0000'0000'0000ULL)); }
    key_builder& u64_descending(std::uint64_t v) { return u64(~v); }
    key_builder& text(std::string_view s) {
        bytes_.append(s);
        return *this;
    }
    operator std::string() const { return bytes_; }

private:
    key_builder& big_endian(std::uint64_t v, int width) {
        for (int i = width - 1; i >= 0; --i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
        return *this;
    }
    std::string bytes_;
};

// Reads the fields of a key back, in the order they were built. The caller checks the length first.
class key_reader {
public:
    explicit key_reader(std::string_view key) : key_(key) {}
    char tag() const { return key_.empty() ? '\0' : key_[0]; }
    std::uint64_t u64(std::size_t at) const { return big_endian(at, 8); }
    std::uint16_t u16(std::size_t at) const { return static_cast<std::uint16_t>(big_endian(at, 2)); }
    std::uint32_t u32(std::size_t at) const { return static_cast<std::uint32_t>(big_endian(at, 4)); }
    std::int32_t i32(std::size_t at) const { return static_cast<std::int32_t>(u32(at) ^ 0x8000'0000u); }
    std::int64_t i64(std::size_t at) const { return static_cast<std::int64_t>(u64(at) ^ 0x8000'0000'0000'0000ULL); }

private:
    std::uint64_t big_endian(std::size_t at, std::size_t width) const {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<std::uint8_t>(key_[at + i]);
        return v;
    }
    std::string_view key_;
};

// Fixed key lengths, for parsing keys back (the in-memory mirror is rebuilt from them).
inline constexpr std::size_t concert_key_size = 1 + 8;
inline constexpr std::size_t date_key_size = 1 + 8 + 4;
inline constexpr std::size_t seat_key_size = 1 + 8 + 4 + 4;
inline constexpr std::size_t queue_counters_key_size = 1 + 8;
inline constexpr std::size_t timeline_key_size = 1 + 8 + 8;
inline constexpr std::size_t seat_history_key_size = 1 + 8 + 4 + 4 + 8;
inline constexpr std::size_t outcome_key_size = 1 + 4 + 8;
inline constexpr std::size_t change_key_size = 1 + 8 + 8;

inline std::string meta_key(std::string_view name) { return key_builder(meta).text(name); }
inline std::string applied_key(std::uint32_t partition) { return key_builder(applied).u32(partition); }
inline std::string concert_key(concert_id c) { return key_builder(concert).u64(c.value); }
inline std::string date_key(concert_id c, day_number d) { return key_builder(date).u64(c.value).i32(d); }
inline std::string date_prefix(concert_id c) { return key_builder(date).u64(c.value); }
inline std::string seat_key(concert_id c, day_number d, std::uint32_t seat_number) {
    return key_builder(seat).u64(c.value).i32(d).u32(seat_number);
}
inline std::string user_key(user_id u) { return key_builder(user).u64(u.value); }
inline std::string reservation_key(reservation_id r) { return key_builder(reservation).u64(r.value); }
inline std::string user_reservation_key(user_id u, time_ms held_at, reservation_id r) {
    return key_builder(user_reservation).u64(u.value).i64_descending(held_at).u64_descending(r.value);
}
inline std::string user_reservation_prefix(user_id u) { return key_builder(user_reservation).u64(u.value); }
inline std::string balance_key(user_id u) { return key_builder(balance).u64(u.value); }
inline std::string history_key(user_id u, std::uint64_t sequence) {
    return key_builder(history).u64(u.value).u64_descending(sequence);
}
inline std::string history_prefix(user_id u) { return key_builder(history).u64(u.value); }
inline std::string queue_entry_key(concert_id c, user_id u) { return key_builder(queue_entry).u64(c.value).u64(u.value); }
inline std::string queue_counters_key(concert_id c) { return key_builder(queue_counters).u64(c.value); }
inline std::string wait_bucket_key(concert_id c, std::uint16_t bucket) {
    return key_builder(wait_bucket).u64(c.value).u16(bucket);
}
inline std::string wait_bucket_prefix(concert_id c) { return key_builder(wait_bucket).u64(c.value); }
inline std::string timeline_key(concert_id c, time_ms start_ms) { return key_builder(timeline).u64(c.value).i64(start_ms); }
inline std::string timeline_prefix(concert_id c) { return key_builder(timeline).u64(c.value); }
// A seat's history is ordered by the sequence of the concert's partition, which wrote every entry.
inline std::string seat_history_key(concert_id c, day_number d, std::uint32_t seat_number, std::uint64_t sequence) {
    return key_builder(seat_history).u64(c.value).i32(d).u32(seat_number).u64(sequence);
}
inline std::string seat_history_prefix(concert_id c, day_number d, std::uint32_t seat_number) {
    return key_builder(seat_history).u64(c.value).i32(d).u32(seat_number);
}
inline std::string concert_state_key(concert_id c) { return key_builder(concert_state).u64(c.value); }
inline std::string grade_revenue_key(concert_id c, day_number d, std::uint32_t grade) {
    return key_builder(grade_revenue).u64(c.value).i32(d).u32(grade);
}
inline std::string claim_key(concert_id c, std::uint32_t phase, user_id u) {
    return key_builder(claim).u64(c.value).u32(phase).u64(u.value);
}
inline std::string zone_key(concert_id c, day_number d, std::uint32_t section) {
    return key_builder(zone).u64(c.value).i32(d).u32(section);
}
inline std::string scanner_key(concert_id c, reservation_id s) { return key_builder(scanner).u64(c.value).u64(s.value); }
inline std::string scanner_prefix(concert_id c) { return key_builder(scanner).u64(c.value); }
inline std::string admission_key(reservation_id r, std::uint32_t ticket) { return key_builder(admission).u64(r.value).u32(ticket); }
inline std::string date_ticket_key(concert_id c, day_number d, reservation_id r) {
    return key_builder(date_ticket).u64(c.value).i32(d).u64(r.value);
}
inline std::string date_ticket_prefix(concert_id c, day_number d) { return key_builder(date_ticket).u64(c.value).i32(d); }
inline std::string gate_checkins_key(concert_id c, time_ms start_ms, std::string_view gate) {
    return key_builder(gate_checkins).u64(c.value).i64(start_ms).text(gate);
}
inline std::string gate_checkins_prefix(concert_id c) { return key_builder(gate_checkins).u64(c.value); }
// A concert's changes are ordered by the sequence of its partition, which wrote every one.
inline std::string change_key(concert_id c, std::uint64_t sequence) { return key_builder(change).u64(c.value).u64(sequence); }
inline std::string change_prefix(concert_id c) { return key_builder(change).u64(c.value); }
inline std::string outcome_key(log_position request) {
    return key_builder(outcome).u32(request.partition).u64(request.offset);
}
inline std::string tag_prefix(char tag) { return std::string(1, tag); }

// The smallest key above every key that starts with `prefix` (an iterator's upper bound). No prefix
// used here is all 0xFF bytes, since every key starts with an ASCII tag.
inline std::string prefix_end(std::string prefix) {
    while (!prefix.empty() && static_cast<std::uint8_t>(prefix.back()) == 0xFF) prefix.pop_back();
    if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<std::uint8_t>(prefix.back()) + 1);
    return prefix;
}

}  // namespace encore::projections::keys
