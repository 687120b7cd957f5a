#include "projections/records.hpp"

#include <bit>
#include <cassert>

#include "events/binary.hpp"

namespace encore::projections {
namespace {

// Runs `read` over the bytes; the value counts only if every field was there and nothing is left.
template <class T, class Read>
std::optional<T> decode_exactly(std::string_view bytes, Read&& read) {
    byte_reader in(bytes);
    T value{};
    read(in, value);
    if (in.failed() || !in.at_end()) return std::nullopt;
    return value;
}

// An enumeration stored as one byte; out-of-range bytes mark the reader failed.
template <class E>
E get_enum(byte_reader& in, std::uint8_t max) {
    auto b = in.get_int<std::uint8_t>();
    if (b > max) in.fail("enumeration out of range");
    return static_cast<E>(b);
}

}  // namespace

std::string encode_record(const date_record& r) {
    std::string out;
    byte_writer w(out);
    w.put_int(r.seats);
    w.put_int(r.held);
    w.put_int(r.sold);
    w.put_int(r.holds_placed);
    w.put_int(r.holds_expired);
    w.put_int(r.holds_cancelled);
    w.put_int(r.revenue);
    w.put_int(r.refunds);
    w.put_int(r.payments);
    w.put_int(r.blocked);
    w.put_int(r.refund_fees);
    return out;
}

std::string encode_record(const zone_record& r) {
    std::string out;
    byte_writer w(out);
    w.put_int(r.held);
    w.put_int(r.sold);
    w.put_int(r.entries);
    return out;
}

std::string encode_record(const scanner_record& r) {
    std::string out;
    byte_writer w(out);
    w.put_string(r.name);
    w.put_string(r.gate);
    w.put_int(static_cast<std::uint8_t>(r.removed ? 1 : 0));
    return out;
}

std::optional<scanner_record> decode_scanner_record(std::string_view bytes) {
    return decode_exactly<scanner_record>(bytes, [](byte_reader& in, scanner_record& r) {
        r.name = in.get_string();
        r.gate = in.get_string();
        r.removed = in.get_int<std::uint8_t>() == 1;
    });
}

std::string encode_record(const admission_record& r) {
    std::string out;
    byte_writer w(out);
    w.put_int(r.at);
    w.put_string(r.gate);
    return out;
}

std::optional<admission_record> decode_admission_record(std::string_view bytes) {
    return decode_exactly<admission_record>(bytes, [](byte_reader& in, admission_record& r) {
        r.at = in.get_int<time_ms>();
        r.gate = in.get_string();
    });
}

std::optional<zone_record> decode_zone_record(std::string_view bytes) {
    return decode_exactly<zone_record>(bytes, [](byte_reader& in, zone_record& r) {
        r.held = in.get_int<std::uint32_t>();
        r.sold = in.get_int<std::uint32_t>();
        r.entries = in.get_int<std::uint32_t>();
    });
}

std::string encode_record(const concert_state_record& r) {
    std::string out;
    byte_writer w(out);
    w.put_int(r.revision);
    w.put_int(static_cast<std::uint8_t>(r.paused ? 1 : 0));
    w.put_int(r.paused_at);
    w.put_int(r.phase);
    w.put_int(static_cast<std::uint8_t>(r.phase_open ? 1 : 0));
    w.put_int(r.expired_below);
    return out;
}

std::optional<concert_state_record> decode_concert_state(std::string_view bytes) {
    return decode_exactly<concert_state_record>(bytes, [](byte_reader& in, concert_state_record& r) {
        r.revision = in.get_int<std::uint64_t>();
        auto paused = in.get_int<std::uint8_t>();
        if (paused > 1) in.fail("boolean out of range");
        r.paused = paused == 1;
        r.paused_at = in.get_int<time_ms>();
        r.phase = in.get_int<std::uint32_t>();
        auto open = in.get_int<std::uint8_t>();
        if (open > 1) in.fail("boolean out of range");
        r.phase_open = open == 1;
        r.expired_below = in.get_int<std::uint64_t>();
    });
}

std::optional<date_record> decode_date_record(std::string_view bytes) {
    return decode_exactly<date_record>(bytes, [](byte_reader& in, date_record& r) {
        r.seats = in.get_int<std::uint32_t>();
        r.held = in.get_int<std::uint32_t>();
        r.sold = in.get_int<std::uint32_t>();
        r.holds_placed = in.get_int<std::uint64_t>();
        r.holds_expired = in.get_int<std::uint64_t>();
        r.holds_cancelled = in.get_int<std::uint64_t>();
        r.revenue = in.get_int<won>();
        r.refunds = in.get_int<std::uint64_t>();
        r.payments = in.get_int<std::uint64_t>();
        r.blocked = in.get_int<std::uint32_t>();
        r.refund_fees = in.get_int<won>();
    });
}

std::string encode_record(const queue_entry_record& r) {
    std::string out;
    byte_writer w(out);
    w.put_int(r.ticket);
    w.put_int(r.place);
    w.put_int(static_cast<std::uint8_t>(r.status));
    w.put_int(r.active_until);
    w.put_int(r.joined_at);
    return out;
}

std::optional<queue_entry_record> decode_queue_entry(std::string_view bytes) {
    return decode_exactly<queue_entry_record>(bytes, [](byte_reader& in, queue_entry_record& r) {
        r.ticket = in.get_int<std::uint64_t>();
        r.place = in.get_int<std::uint64_t>();
        r.status = get_enum<queue_status>(in, 3);
        r.active_until = in.get_int<time_ms>();
        r.joined_at = in.get_int<time_ms>();
    });
}

std::string encode_record(const queue_counters_record& r) {
    std::string out;
    byte_writer w(out);
    w.put_int(r.admitted_through);
    w.put_int(r.waiting);
    w.put_int(r.active);
    w.put_int(r.admitted_total);
    return out;
}

std::optional<queue_counters_record> decode_queue_counters(std::string_view bytes) {
    return decode_exactly<queue_counters_record>(bytes, [](byte_reader& in, queue_counters_record& r) {
        r.admitted_through = in.get_int<std::uint64_t>();
        r.waiting = in.get_int<std::uint64_t>();
        r.active = in.get_int<std::uint64_t>();
        r.admitted_total = in.get_int<std::uint64_t>();
    });
}

constexpr std::uint16_t standing_mark = 0x8000;

std::string encode_record(const reservation& r) {
    std::string out;
    byte_writer w(out);
    w.put_int(r.id.value);
    w.put_int(r.concert.value);
    w.put_int(r.user.value);
    w.put_int(r.date);
    w.put_int(r.seat);
    w.put_int(r.price);
    w.put_int(static_cast<std::uint8_t>(r.status));
    w.put_int(r.held_at);
    w.put_int(r.expires_at);
    w.put_int(r.paid_at);
    w.put_int(r.payment.value);
    // The count of more seats; its top bit marks places of a standing zone, which follow.
    const reservation_standing& z = r.extra.grades.standing;
    w.put_int(static_cast<std::uint16_t>(r.extra.more_seats.size() | (is_standing(r) ? standing_mark : 0)));
    for (std::uint32_t seat : r.extra.more_seats) w.put_int(seat);
    if (is_standing(r)) {
        w.put_int(z.section);
        w.put_string(z.name);
        w.put_int(z.places);
        w.put_int(z.entry_first);
    }
    w.put_int(r.extra.refunded_at);
    w.put_int(r.extra.grades.standing.refund.fee);
    w.put_int(static_cast<std::uint8_t>(r.extra.grades.by_grade.size()));
    for (const grade_amount& g : r.extra.grades.by_grade) {
        w.put_int(g.grade);
        w.put_int(g.amount);
    }
    return out;
}

std::optional<reservation> decode_reservation(std::string_view bytes) {
    return decode_exactly<reservation>(bytes, [](byte_reader& in, reservation& r) {
        r.id.value = in.get_int<std::uint64_t>();
        r.concert.value = in.get_int<std::uint64_t>();
        r.user.value = in.get_int<std::uint64_t>();
        r.date = in.get_int<day_number>();
        r.seat = in.get_int<std::uint32_t>();
        r.price = in.get_int<won>();
        r.status = get_enum<reservation_status>(in, 4);
        r.held_at = in.get_int<time_ms>();
        r.expires_at = in.get_int<time_ms>();
        r.paid_at = in.get_int<time_ms>();
        r.payment.value = in.get_int<std::uint64_t>();
        auto more = in.get_int<std::uint16_t>();
        const bool standing = (more & standing_mark) != 0;
        more &= static_cast<std::uint16_t>(~standing_mark);
        if (more >= seats_per_hold_max || more > in.remaining() / 4 || (standing && more != 0)) return in.fail("seat count");
        for (std::uint16_t i = 0; i < more; ++i) r.extra.more_seats.push_back(in.get_int<std::uint32_t>());
        if (standing) {
            reservation_standing& z = r.extra.grades.standing;
            z.section = in.get_int<std::uint32_t>();
            z.name = in.get_string();
            z.places = in.get_int<std::uint32_t>();
            z.entry_first = in.get_int<std::uint32_t>();
            if (z.places == 0) return in.fail("standing places");
        }
        r.extra.refunded_at = in.get_int<time_ms>();
        r.extra.grades.standing.refund.fee = in.get_int<won>();
        auto grades = in.get_int<std::uint8_t>();
        if (grades > grades_max || grades > in.remaining() / 12) return in.fail("grade count");
        for (std::uint8_t i = 0; i < grades; ++i) {
            grade_amount& g = r.extra.grades.by_grade.emplace_back();
            g.grade = in.get_int<std::uint32_t>();
            g.amount = in.get_int<won>();
        }
    });
}

std::string encode_record(const history_entry& r) {
    std::string out;
    byte_writer w(out);
    w.put_int(static_cast<std::uint8_t>(r.type));
    w.put_int(r.amount);
    w.put_int(r.balance_after);
    w.put_int(r.at);
    w.put_int(r.reservation.value);
    return out;
}

std::optional<history_entry> decode_history_entry(std::string_view bytes) {
    return decode_exactly<history_entry>(bytes, [](byte_reader& in, history_entry& r) {
        r.type = get_enum<history_entry::kind>(in, 2);
        r.amount = in.get_int<won>();
        r.balance_after = in.get_int<won>();
        r.at = in.get_int<time_ms>();
        r.reservation.value = in.get_int<std::uint64_t>();
    });
}

std::string encode_record(const timeline_record& r) {
    std::string out;
    byte_writer w(out);
    w.put_int(r.queue_joined);
    w.put_int(r.queue_admitted);
    w.put_int(r.waiting_at_end);
    w.put_int(r.holds_placed);
    w.put_int(r.holds_expired);
    w.put_int(r.holds_cancelled);
    w.put_int(r.seats_sold);
    w.put_int(r.refunds);
    w.put_int(r.revenue);
    return out;
}

std::optional<timeline_record> decode_timeline_record(std::string_view bytes) {
    return decode_exactly<timeline_record>(bytes, [](byte_reader& in, timeline_record& r) {
        r.queue_joined = in.get_int<std::uint64_t>();
        r.queue_admitted = in.get_int<std::uint64_t>();
        r.waiting_at_end = in.get_int<std::uint64_t>();
        r.holds_placed = in.get_int<std::uint64_t>();
        r.holds_expired = in.get_int<std::uint64_t>();
        r.holds_cancelled = in.get_int<std::uint64_t>();
        r.seats_sold = in.get_int<std::uint64_t>();
        r.refunds = in.get_int<std::uint64_t>();
        r.revenue = in.get_int<won>();
    });
}

std::string encode_record(const seat_history_entry& r) {
    std::string out;
    byte_writer w(out);
    w.put_int(static_cast<std::uint8_t>(r.type));
    w.put_int(r.at);
    w.put_int(r.reservation.value);
    w.put_int(r.user.value);
    return out;
}

std::optional<seat_history_entry> decode_seat_history_entry(std::string_view bytes) {
    return decode_exactly<seat_history_entry>(bytes, [](byte_reader& in, seat_history_entry& r) {
        r.type = get_enum<seat_history_entry::kind>(in, 4);
        r.at = in.get_int<time_ms>();
        r.reservation.value = in.get_int<std::uint64_t>();
        r.user.value = in.get_int<std::uint64_t>();
    });
}

std::string encode_i64(std::int64_t v) {
    std::string out;
    byte_writer(out).put_int(v);
    return out;
}
std::string encode_u64(std::uint64_t v) {
    std::string out;
    byte_writer(out).put_int(v);
    return out;
}
std::string encode_u32(std::uint32_t v) {
    std::string out;
    byte_writer(out).put_int(v);
    return out;
}

std::optional<std::int64_t> decode_i64(std::string_view bytes) {
    return decode_exactly<std::int64_t>(bytes, [](byte_reader& in, std::int64_t& v) { v = in.get_int<std::int64_t>(); });
}
std::optional<std::uint64_t> decode_u64(std::string_view bytes) {
    return decode_exactly<std::uint64_t>(bytes,
                                         [](byte_reader& in, std::uint64_t& v) { v = in.get_int<std::uint64_t>(); });
}
std::optional<std::uint32_t> decode_u32(std::string_view bytes) {
    return decode_exactly<std::uint32_t>(bytes,
                                         [](byte_reader& in, std::uint32_t& v) { v = in.get_int<std::uint32_t>(); });
}

std::uint16_t wait_bucket_of(time_ms wait_ms) {
    auto v = static_cast<std::uint64_t>(wait_ms < 0 ? 0 : wait_ms);
    if (v < wait_exact_buckets) return static_cast<std::uint16_t>(v);
    // The leading bit's position picks the octave, the next four bits the bucket within it.
    unsigned octave = static_cast<unsigned>(std::bit_width(v)) - 1 - 4;
    auto within = static_cast<unsigned>((v >> octave) & (wait_buckets_per_octave - 1));
    return static_cast<std::uint16_t>(wait_exact_buckets + octave * wait_buckets_per_octave + within);
}

double wait_bucket_middle_ms(std::uint16_t bucket) {
    if (bucket < wait_exact_buckets) return bucket;
    unsigned octave = (bucket - wait_exact_buckets) / wait_buckets_per_octave;
    unsigned within = (bucket - wait_exact_buckets) % wait_buckets_per_octave;
    assert(octave < 60);
    double lower = static_cast<double>(std::uint64_t{wait_buckets_per_octave + within} << octave);
    double width = static_cast<double>(std::uint64_t{1} << octave);
    return lower + (width - 1) / 2;
}

}  // namespace encore::projections
