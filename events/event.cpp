#include "events/event.hpp"

namespace encore {

std::vector<std::uint32_t> seats_of(const reservation& r) {
    if (is_standing(r)) return {};
    std::vector<std::uint32_t> seats;
    seats.reserve(1 + r.extra.more_seats.size());
    seats.push_back(r.seat);
    seats.insert(seats.end(), r.extra.more_seats.begin(), r.extra.more_seats.end());
    return seats;
}

std::string_view to_string(scan_result r) {
    switch (r) {
        case scan_result::admitted: return "ADMITTED";
        case scan_result::duplicate: return "DUPLICATE";
        case scan_result::revoked: return "REVOKED";
        case scan_result::wrong_date: return "WRONG_DATE";
        case scan_result::wrong_gate: return "WRONG_GATE";
        case scan_result::unknown: return "UNKNOWN";
    }
    return "UNKNOWN";
}

std::uint32_t tickets_of(const reservation& r) {
    return is_standing(r) ? r.extra.grades.standing.places : 1 + static_cast<std::uint32_t>(r.extra.more_seats.size());
}

create_concert with_settings(create_concert c, const concert_settings& s) {
    using f = concert_settings;
    if (s.set & f::title_field) c.title = s.title;
    if (s.set & f::venue_field) c.venue = s.venue;
    if (s.set & f::hold_ttl_field) c.hold_ttl_seconds = s.hold_ttl_seconds;
    if (s.set & f::max_holds_field) c.max_holds_per_user = s.max_holds_per_user;
    if (s.set & f::max_tickets_field) c.options.max_tickets_per_user = s.max_tickets_per_user;
    if (s.set & f::refunds_until_field) c.options.refunds_until = s.refunds_until;
    if (s.set & f::active_capacity_field) c.queue.active_capacity = s.active_capacity;
    if (s.set & f::active_ttl_field) c.queue.active_ttl_seconds = s.active_ttl_seconds;
    if (s.set & f::claim_seconds_field) c.options.claim_seconds = s.claim_seconds;
    if (s.set & f::grades_field) c.options.sale.venue->grades = s.grades;
    if (s.set & f::phases_field) c.options.sale.venue->plan.phases = s.phases.phases;
    if (s.set & f::refund_policy_field) c.options.sale.venue->plan.refunds = s.phases.refund_policy;
    return c;
}

create_concert with_dates(create_concert c, const std::vector<schedule>& schedules,
                          const std::vector<std::uint32_t>& seats_per_row) {
    std::vector<std::uint32_t>& rows = c.options.seats_per_row;
    // The catalog lists seats per row for every date, or for none (25 each).
    if (rows.empty() && !seats_per_row.empty()) rows.assign(c.schedules.size(), seats_per_row_default);
    c.schedules.insert(c.schedules.end(), schedules.begin(), schedules.end());
    // With a layout: the new dates get no start time and the grades' prices.
    venue_layout& venue = c.options.sale.venue;
    if (!venue.starts_at.empty()) venue.starts_at.insert(venue.starts_at.end(), schedules.size(), 0);
    if (!venue.prices.empty()) venue.prices.insert(venue.prices.end(), schedules.size(), std::vector<won>(venue.grades.size(), no_date_price));
    if (!rows.empty()) {
        if (seats_per_row.empty()) {
            rows.insert(rows.end(), schedules.size(), seats_per_row_default);
        } else {
            rows.insert(rows.end(), seats_per_row.begin(), seats_per_row.end());
        }
    }
    return c;
}

}  // namespace encore
