#pragma once
// The per-partition hash chain over events: link(n) = SHA-256(link(n-1) || encoded event n), with
// link(-1) all zeroes. An auditor who recomputes the chain from the event log detects any edit,
// insertion or removal. The partition runner extends the chain; the chain head is checkpointed.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace encore {

using chain_link = std::array<std::uint8_t, 32>;
inline constexpr chain_link chain_genesis{};

chain_link chain_next(const chain_link& previous, std::string_view event_bytes);
std::string to_hex(const chain_link& link);

// An event as stored in the event log: its chain link, then its encoded bytes.
struct sealed_event {
    chain_link link{};
    std::string_view event_bytes;
};
std::string seal(const chain_link& link, std::string_view event_bytes);
// Fails when the record is too short to hold a link.
bool unseal(std::string_view record, sealed_event& out);

}  // namespace encore
