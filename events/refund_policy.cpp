#include "events/refund_policy.hpp"

#include <algorithm>

namespace encore {
namespace {
constexpr time_ms hour_ms = 3'600'000;
}

bool valid_refund_terms(const refund_terms& terms) {
    if (terms.fees.empty() || terms.fees.size() > refund_tiers_max || terms.free_within_hours > refund_hours_max) return false;
    for (std::size_t i = 0; i < terms.fees.size(); ++i) {
        const refund_tier& t = terms.fees[i];
        if (t.hours_before > refund_hours_max || t.won_per_ticket < 0 || t.won_per_ticket > price_max || t.percent > 100) return false;
        if (t.won_per_ticket != 0 && t.percent != 0) return false;
        if (i > 0 && t.hours_before >= terms.fees[i - 1].hours_before) return false;
    }
    return true;
}

std::optional<won> refund_fee(const refund_terms& terms, time_ms starts_at, time_ms paid_at, time_ms now, won price,
                              std::uint32_t tickets) {
    const time_ms left = starts_at - now;
    // Tiers are by decreasing hours_before: the first one the time left reaches is the greatest.
    auto tier = std::find_if(terms.fees.begin(), terms.fees.end(),
                             [&](const refund_tier& t) { return left >= t.hours_before * hour_ms; });
    if (tier == terms.fees.end()) return std::nullopt;
    if (tier == terms.fees.begin() && now - paid_at < terms.free_within_hours * hour_ms) return won{0};
    const won fee = tier->percent != 0 ? price * tier->percent / 100 : tier->won_per_ticket * static_cast<won>(tickets);
    return std::min(fee, price);
}

time_ms starts_at_of(const create_concert& catalog, day_number date) {
    const std::vector<time_ms>& starts = catalog.options.sale.venue->starts_at;
    for (std::size_t i = 0; i < catalog.schedules.size() && i < starts.size(); ++i) {
        if (catalog.schedules[i].date == date) return starts[i];
    }
    return 0;
}

}  // namespace encore
