#pragma once
// The refund fee rule (API.md "Refund fees"), pure: the engine decides refunds by it, the audit
// checks them by it, the simulation's model predicts them by it.

#include <cstdint>
#include <optional>

#include "events/command.hpp"

namespace encore {

inline constexpr std::size_t refund_tiers_max = 10;
inline constexpr std::uint32_t refund_hours_max = 24 * 366;
// Distinct policies one concert may have had (a change back to an earlier one reuses it).
inline constexpr std::size_t refund_policies_max = 100;

// Tiers 1..refund_tiers_max by strictly decreasing hours_before (each at most a year), each a won
// fee (per ticket, up to price_max) or a percent (0..100); the free window at most a year.
bool valid_refund_terms(const refund_terms& terms);

// The fee of a refund asked at `now` of a reservation of `tickets` seats or places, paid at
// `paid_at` for `price`, of a date starting at `starts_at`: the tier with the greatest
// hours_before that is at most the hours left, free within the window after payment while the
// first tier still applies, never more than the price. nullopt: too late (REFUND_NOT_ALLOWED).
std::optional<won> refund_fee(const refund_terms& terms, time_ms starts_at, time_ms paid_at, time_ms now, won price,
                              std::uint32_t tickets);

// A date's startsAt in the catalog, or 0 when it has none.
time_ms starts_at_of(const create_concert& catalog, day_number date);

}  // namespace encore
