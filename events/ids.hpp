#pragma once
// Partition routing and the textual forms of ids. Routing is the same in every mode (embedded,
// Kafka) and must never change for a deployed log: a concert's or wallet's partition is
// mix(id) mod P, with a fixed 64-bit mixing function (the SplitMix64 finaliser).

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "events/types.hpp"

namespace encore {

constexpr std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

constexpr std::uint32_t partition_of(concert_id c, std::uint32_t partitions) {
    return static_cast<std::uint32_t>(mix64(c.value ^ 0x636f6e63657274ULL) % partitions);
}
constexpr std::uint32_t partition_of(user_id u, std::uint32_t partitions) {
    return static_cast<std::uint32_t>(mix64(u.value ^ 0x77616c6c6574ULL) % partitions);
}
constexpr std::uint32_t partition_of(reservation_id r) { return r.position().partition; }

// "u-00000000000004d2", "c-…": 16 lowercase hex digits behind a kind letter.
std::string to_text(user_id u);
std::string to_text(concert_id c);
// "r-3-1234", "p-3-1234": partition and offset of the command that created it.
std::string reservation_text(reservation_id r);
std::string payment_text(payment_id p);

std::optional<user_id> parse_user_id(std::string_view text);
std::optional<concert_id> parse_concert_id(std::string_view text);
std::optional<reservation_id> parse_reservation_id(std::string_view text);
// A scanner of a concert's door: "s-P-O", the position of the command that added it.
std::string scanner_text(reservation_id s);
std::optional<reservation_id> parse_scanner_id(std::string_view text);
// A ticket: the n-th (1-based) seat or standing place of a reservation, "t-P-O-N".
std::string ticket_text(reservation_id r, std::uint32_t n);
std::optional<std::pair<reservation_id, std::uint32_t>> parse_ticket_id(std::string_view text);
std::optional<payment_id> parse_payment_id(std::string_view text);

}  // namespace encore
