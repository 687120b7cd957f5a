#pragma once
// Sample commands and events for the codec and JSON tests: one hand-written value of every type,
// and a random filler that walks the same field lists the codec walks (events/fields.hpp), so a
// field added to a record is exercised without touching these tests.

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "events/command.hpp"
#include "events/event.hpp"
#include "events/fields.hpp"

namespace encore::test {

inline constexpr time_ms sample_time = 1'798'138'800'000;  // 2026-12-24T19:00:00.000Z
inline constexpr day_number sample_day = 20'811;             // 2026-12-24

inline reservation sample_reservation() {
    reservation r;
    r.id = reservation_id::at({3, 1234});
    r.concert = concert_id{0xc0ffee};
    r.user = user_id{0x4d2};
    r.date = sample_day;
    r.seat = 17;
    r.price = 80'000;
    r.status = reservation_status::confirmed;
    r.held_at = sample_time;
    r.expires_at = sample_time + 300'000;
    r.paid_at = sample_time + 60'000;
    r.payment = payment_id::at({3, 1240});
    return r;
}

inline create_concert sample_catalog() {
    create_concert c;
    c.concert = concert_id{0xc0ffee};
    c.title = "IU 2026";
    c.venue = "Jamsil";
    c.schedules = {{sample_day, 50, 80'000}, {sample_day + 1, 3, 99'000}};
    c.queue = {7, 120};
    c.hold_ttl_seconds = 90;
    c.max_holds_per_user = 2;
    return c;
}

inline concert_settings sample_settings() {
    concert_settings s;
    s.set = concert_settings::title_field | concert_settings::active_capacity_field | concert_settings::refunds_until_field;
    s.title = "IU 2026 (encore)";
    s.active_capacity = 250;
    s.refunds_until = sample_time - 86'400'000;
    return s;
}

// One command of every type, in command_type order, each with non-default fields.
inline std::vector<command> sample_commands() {
    command_meta client{sample_time, user_id{0x4d2}, "key-1", no_position};
    command_meta saga{sample_time + 5, user_id{0x4d2}, "", log_position{2, 77}};
    command_meta admin{sample_time + 9, user_id{}, "admin-2", no_position};
    return {
        {command_meta{sample_time, user_id{}, "admin-key", no_position}, sample_catalog()},
        {client, register_user{"kim"}},
        {client, enqueue{concert_id{0xc0ffee}}},
        {command_meta{sample_time + 1, user_id{}, "", no_position}, tick{}},
        {client, hold_seat{concert_id{0xc0ffee}, 9, sample_day, 17}},
        {client, cancel_hold{reservation_id::at({3, 1234})}},
        {client, pay{reservation_id::at({3, 1234})}},
        {client, charge{1'000'000'000}},
        {saga, debit_request{payment_id::at({3, 1240}), reservation_id::at({3, 1234}), 80'000}},
        {saga, debit_result{payment_id::at({3, 1240}), reservation_id::at({3, 1234}), true, 20'000}},
        {client, claim_key{0x5eedf00dcafe}},
        {client, refund{reservation_id::at({3, 1234})}},
        {saga, credit_request{payment_id::at({3, 1240}), reservation_id::at({3, 1234}), 80'000, 1300}},
        {saga, credit_result{payment_id::at({3, 1240}), reservation_id::at({3, 1234}), true, 100'000, 1300}},
        {admin, pause_sales{concert_id{0xc0ffee}, true}},
        {admin, block_seats{concert_id{0xc0ffee}, sample_day, {3, 4, 9}, true, "camera"}},
        {admin, update_concert{concert_id{0xc0ffee}, true, 4, sample_settings()}},
        {admin, add_dates{concert_id{0xc0ffee}, {{sample_day + 7, 40, 70'000}}, {20}}},
        {admin, add_eligible{concert_id{0xc0ffee}, 1, {{0x1234, 0x5678}, {0x9abc, 0xdef0}}}},
        {client, claim_eligibility{concert_id{0xc0ffee}, 1, {0x1234, 0x5678}, false}},
        {admin, change_scanner{concert_id{0xc0ffee}, reservation_id{}, "North door 1", "N", false}},
        {admin, check_in{concert_id{0xc0ffee}, reservation_id::at({3, 1400}), "", true,
                         {{reservation_id::at({3, 1234}), 2, sample_day, "scan-17", sample_time - 60'000}}}},
    };
}

// One event of every type, in event_type order.
inline std::vector<event_body> sample_event_bodies() {
    reservation r = sample_reservation();
    user_id u{0x4d2};
    concert_id c{0xc0ffee};
    payment_id p = r.payment;
    return {
        concert_created{sample_catalog()},
        user_registered{u, "kim"},
        queue_joined{c, u, 12, queue_status::waiting, 5, 0, false},
        queue_admitted{c, u, 12, sample_time + 600'000},
        queue_left{c, u, 12, true},
        seat_held{r},
        hold_expired{r},
        hold_cancelled{r},
        payment_started{p, r.id, u, 80'000},
        wallet_debited{p, r.id, u, 80'000, 20'000},
        debit_refused{p, r.id, u, 80'000, 1'000},
        payment_confirmed{r, 20'000},
        payment_failed{p, r.id, u, refusal::insufficient_balance, 1'000},
        charged{u, 100'000, 100'000},
        refused{command_type::hold_seat, refusal::not_your_turn, u, 42},
        idempotent_replay{log_position{3, 1200}},
        key_claimed{u},
        refund_started{p, r.id, u, 80'000},
        wallet_credited{p, r.id, u, 80'000, 100'000},
        credit_refused{p, r.id, u, 80'000, 9'007'199'254'700'000},
        reservation_refunded{r, sample_time + 90'000, 100'000},
        refund_failed{p, r.id, u, refusal::balance_limit, 9'007'199'254'700'000},
        queue_placed{c, u, 12, 3},
        sales_paused{c, 5, sample_time},
        sales_resumed{c, 6, 120'000},
        active_extended{c, u, 12, sample_time + 720'000},
        seats_blocked{c, 7, sample_day, {3, 4, 9}, "camera"},
        seats_released{c, 8, sample_day, {4}},
        concert_updated{c, 9, sample_settings()},
        dates_added{c, 10, {{sample_day + 7, 40, 70'000}}, {20}},
        phase_opened{c, 1},
        phase_closed{c, 1, 5'000},
        eligible_added{c, 1, 2, 10'002},
        eligibility_claimed{c, 1, u, true},
        claim_freed{c, 1, u},
        scanner_added{c, reservation_id::at({3, 1400}), "North door 1", "N"},
        scanner_removed{c, reservation_id::at({3, 1400})},
        tickets_checked{c, reservation_id::at({3, 1400}), "N", false,
                        {{r.id, 1, scan_result::admitted, 0, "", "scan-17", sample_time - 60'000, false},
                         {r.id, 2, scan_result::duplicate, sample_time - 90'000, "S", "scan-18", 0, false}}},
    };
}

inline std::vector<event> sample_events() {
    std::vector<event> out;
    std::uint64_t sequence = 100;
    for (event_body& body : sample_event_bodies()) {
        event e;
        e.sequence = sequence++;
        e.cause = log_position{3, 1300 + sequence};
        e.answers = sequence % 2 == 0 ? no_position : log_position{3, 1250};
        e.at = sample_time + static_cast<time_ms>(sequence);
        e.body = std::move(body);
        out.push_back(std::move(e));
    }
    return out;
}

// Fills every field of a record with random values, favouring the edges (0, 1, the maximum).
class random_filler {
public:
    explicit random_filler(std::mt19937_64& rng) : rng_(rng) {}

    template <class T>
    void operator()(const char*, T& v) { fill(v); }

    template <class T>
    void fill(T& v) {
        if constexpr (std::is_same_v<T, bool>) {
            v = (rng_() & 1) == 1;
        } else if constexpr (std::is_same_v<T, refusal>) {
            v = static_cast<refusal>(rng_() % (refusal_max + 1));
        } else if constexpr (std::is_same_v<T, reservation_status>) {
            v = static_cast<T>(rng_() % 5);
        } else if constexpr (std::is_same_v<T, queue_status>) {
            v = static_cast<T>(rng_() % 4);
        } else if constexpr (std::is_same_v<T, scan_result>) {
            v = static_cast<T>(rng_() % (scan_result_max + 1));
        } else if constexpr (std::is_same_v<T, command_type>) {
            v = static_cast<T>(rng_() % command_type_count);
        } else if constexpr (std::is_integral_v<T>) {
            v = integer<T>();
        } else if constexpr (std::is_same_v<T, log_position>) {
            v = {integer<std::uint32_t>(), integer<std::uint64_t>()};
        } else if constexpr (std::is_same_v<T, std::string>) {
            v.assign(rng_() % 40, '\0');
            for (char& ch : v) ch = static_cast<char>(rng_());
        } else if constexpr (requires { v.value; }) {
            v.value = integer<decltype(v.value)>();
        } else if constexpr (requires { v.reserve(0); }) {
            v.resize(rng_() % 6);
            for (auto& item : v) fill(item);
        } else if constexpr (is_boxed<T>::value) {
            fill(v.mut());
        } else {
            fields::each(v, *this);
        }
    }

    template <class Variant, std::size_t I = 0>
    void fill_alternative(Variant& v, std::size_t index) {
        if constexpr (I < std::variant_size_v<Variant>) {
            if (index == I) return fill(v.template emplace<I>());
            fill_alternative<Variant, I + 1>(v, index);
        }
    }

    command random_command() {
        command c;
        fill(c.meta);
        fill_alternative(c.body, rng_() % command_type_count);
        return c;
    }

    event random_event() {
        event e;
        fill(e.sequence);
        fill(e.cause);
        fill(e.answers);
        fill(e.at);
        fill_alternative(e.body, rng_() % event_type_count);
        return e;
    }

private:
    template <class T>
    T integer() {
        switch (rng_() % 5) {
            case 0: return 0;
            case 1: return 1;
            case 2: return std::numeric_limits<T>::max();
            case 3: return std::numeric_limits<T>::min();
            default: return static_cast<T>(rng_());
        }
    }

    std::mt19937_64& rng_;
};

}  // namespace encore::test
