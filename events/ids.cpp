#include "events/ids.hpp"

#include <charconv>
#include <cstdio>

namespace encore {
namespace {

std::string hex_id(char kind, std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%c-%016llx", kind, static_cast<unsigned long long>(v));
    return buf;
}

std::optional<std::uint64_t> parse_hex_id(char kind, std::string_view t) {
    if (t.size() != 18 || t[0] != kind || t[1] != '-') return std::nullopt;
    std::uint64_t v = 0;
    for (char ch : t.substr(2)) {
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (d < 0) return std::nullopt;
        v = v << 4 | static_cast<std::uint64_t>(d);
    }
    if (v == 0) return std::nullopt;
    return v;
}

std::string position_id(char kind, reservation_id r) {
    auto p = r.position();
    return std::string(1, kind) + "-" + std::to_string(p.partition) + "-" + std::to_string(p.offset);
}

// Strict decimal: no sign, no leading zeros (so one id has one spelling), no overflow.
std::optional<std::uint64_t> parse_decimal(std::string_view t) {
    if (t.empty() || t.size() > 20 || (t.size() > 1 && t[0] == '0')) return std::nullopt;
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc{} || end != t.data() + t.size()) return std::nullopt;
    return v;
}

std::optional<reservation_id> parse_position_id(char kind, std::string_view t) {
    if (t.size() < 5 || t[0] != kind || t[1] != '-') return std::nullopt;
    t.remove_prefix(2);
    auto dash = t.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto partition = parse_decimal(t.substr(0, dash));
    auto offset = parse_decimal(t.substr(dash + 1));
    if (!partition || !offset || *partition >= partitions_max || *offset > id_offset_mask) return std::nullopt;
    return reservation_id::at({static_cast<std::uint32_t>(*partition), *offset});
}

}  // namespace

std::string to_text(user_id u) { return hex_id('u', u.value); }
std::string to_text(concert_id c) { return hex_id('c', c.value); }
std::string reservation_text(reservation_id r) { return position_id('r', r); }
std::string payment_text(payment_id p) { return position_id('p', p); }

std::optional<user_id> parse_user_id(std::string_view t) {
    if (auto v = parse_hex_id('u', t)) return user_id{*v};
    return std::nullopt;
}
std::optional<concert_id> parse_concert_id(std::string_view t) {
    if (auto v = parse_hex_id('c', t)) return concert_id{*v};
    return std::nullopt;
}
std::optional<reservation_id> parse_reservation_id(std::string_view t) { return parse_position_id('r', t); }

std::string scanner_text(reservation_id s) { return position_id('s', s); }
std::optional<reservation_id> parse_scanner_id(std::string_view t) { return parse_position_id('s', t); }

std::string ticket_text(reservation_id r, std::uint32_t n) { return position_id('t', r) + "-" + std::to_string(n); }

std::optional<std::pair<reservation_id, std::uint32_t>> parse_ticket_id(std::string_view t) {
    const auto dash = t.rfind('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto reservation = parse_position_id('t', t.substr(0, dash));
    auto n = parse_decimal(t.substr(dash + 1));
    if (!reservation || !n || *n < 1 || *n > seats_per_hold_max) return std::nullopt;
    return std::pair{*reservation, static_cast<std::uint32_t>(*n)};
}
std::optional<payment_id> parse_payment_id(std::string_view t) { return parse_position_id('p', t); }

}  // namespace encore
