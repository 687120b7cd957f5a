#include "api/documents.hpp"

#include "events/binary.hpp"
#include "events/ids.hpp"
#include "events/text.hpp"
#include "events/time.hpp"
#include "events/venue.hpp"

#include <algorithm>

namespace encore::api {

nlohmann::json reservation_json(const reservation& r) {
    nlohmann::json j = {{"reservationId", reservation_text(r.id)},
                        {"concertId", to_text(r.concert)},
                        {"date", format_date(r.date)},
                        {"seat", r.seat},
                        {"seats", seats_of(r)},
                        {"price", r.price},
                        {"status", to_string(r.status)},
                        {"heldAt", format_instant(r.held_at)},
                        {"expiresAt", format_instant(r.expires_at)}};
    if (r.paid_at != 0) j["paidAt"] = format_instant(r.paid_at);
    if (r.payment.value != 0) j["paymentId"] = payment_text(r.payment);
    if (r.extra.refunded_at != 0) j["refundedAt"] = format_instant(r.extra.refunded_at);
    if (r.status == reservation_status::refunded) {
        const won fee = r.extra.grades.standing.refund.fee;
        j["refund"] = {{"amount", r.price - fee}, {"fee", fee}};
    }
    if (is_standing(r)) {
        // Places of a standing zone: no seat numbers; entry numbers once paid.
        const reservation_standing& z = r.extra.grades.standing;
        j["seat"] = nullptr;
        j["standing"] = {{"section", z.name}, {"places", z.places}};
        nlohmann::json entries = nlohmann::json::array();
        for (std::uint32_t i = 0; z.entry_first != 0 && i < z.places; ++i) entries.push_back(z.entry_first + i);
        j["entryNumbers"] = std::move(entries);
    }
    return j;
}

std::uint32_t seats_per_row_of(const create_concert& config, day_number day) {
    const auto& per_row = config.options.seats_per_row;
    for (std::size_t i = 0; i < config.schedules.size() && i < per_row.size(); ++i) {
        if (config.schedules[i].date == day) return per_row[i];
    }
    return seats_per_row_default;
}

std::size_t schedule_index(const create_concert& config, day_number day) {
    for (std::size_t i = 0; i < config.schedules.size(); ++i) {
        if (config.schedules[i].date == day) return i;
    }
    return 0;
}

nlohmann::json grades_json(const venue_layout& venue) {
    auto out = nlohmann::json::array();
    for (const grade_price& g : venue.grades) out.push_back({{"grade", g.grade}, {"price", g.price}});
    return out;
}

nlohmann::json layout_json(const venue_layout& venue) {
    auto sections = nlohmann::json::array();
    for (const section_layout& s : venue.sections) {
        nlohmann::json section = {{"section", s.section}, {"grade", venue.grades.at(s.grade).grade}};
        if (s.rows.empty()) {
            section["standing"] = s.standing;  // a standing zone: its capacity, no rows
            if (!s.gate.empty()) section["gate"] = s.gate;
            sections.push_back(std::move(section));
            continue;
        }
        const bool even = std::all_of(s.rows.begin(), s.rows.end(), [&](std::uint32_t n) { return n == s.rows.front(); });
        if (even) {
            section["rows"] = s.rows.size();
            section["seatsPerRow"] = s.rows.front();
        } else {
            section["rows"] = s.rows;
        }
        if (!s.gate.empty()) section["gate"] = s.gate;
        sections.push_back(std::move(section));
    }
    return {{"sections", std::move(sections)}};
}

nlohmann::json phases_json(const create_concert& config) {
    return phases_json(config.options.sale.venue->plan.phases, config.options.sale.venue->grades);
}

nlohmann::json phases_json(const std::vector<sale_phase>& phases, const std::vector<grade_price>& venue_grades) {
    auto out = nlohmann::json::array();
    for (const sale_phase& p : phases) {
        nlohmann::json grades = nlohmann::json::array();
        for (std::uint32_t g = 0; g < venue_grades.size(); ++g) {
            if (p.grades.empty() || std::binary_search(p.grades.begin(), p.grades.end(), g)) grades.push_back(venue_grades[g].grade);
        }
        nlohmann::json phase = {{"phase", p.phase}, {"name", p.name}, {"opensAt", format_instant(p.opens_at)},
                                {"eligibility", p.list ? "LIST" : "ALL"}};
        if (!venue_grades.empty()) phase["grades"] = std::move(grades);
        if (p.closes_at != 0) phase["closesAt"] = format_instant(p.closes_at);
        if (p.max_tickets != 0) phase["maxTicketsPerUser"] = p.max_tickets;
        out.push_back(std::move(phase));
    }
    return out;
}

nlohmann::json refund_policy_json(const refund_terms& terms) {
    if (terms.fees.empty()) return nullptr;
    auto fees = nlohmann::json::array();
    for (const refund_tier& t : terms.fees) {
        nlohmann::json tier = {{"hoursBefore", t.hours_before}};
        if (t.percent != 0) tier["percent"] = t.percent;
        else tier["won"] = t.won_per_ticket;
        fees.push_back(std::move(tier));
    }
    return {{"freeWithinHours", terms.free_within_hours}, {"fees", std::move(fees)}};
}

admin_concert_document admin_concert_of(const projections::concert_view& concert) {
    using nlohmann::json;
    const create_concert& config = concert.config;
    const catalog_options& o = config.options;
    const venue_layout& venue = o.sale.venue;
    json schedules = json::array();
    for (std::size_t i = 0; i < config.schedules.size(); ++i) {
        const schedule& s = config.schedules[i];
        if (venue.grades.empty()) {
            schedules.push_back({{"date", format_date(s.date)}, {"seats", s.seats}, {"price", s.price},
                                 {"seatsPerRow", seats_per_row_of(config, s.date)}, {"status", "ON_SALE"}});
            continue;
        }
        // With a venue, a schedule is its date, start and the prices that differ from the grades'.
        json entry = {{"date", format_date(s.date)}, {"status", "ON_SALE"}};
        if (i < venue.starts_at.size() && venue.starts_at[i] != 0) entry["startsAt"] = format_instant(venue.starts_at[i]);
        json prices = json::object();
        for (std::uint32_t g = 0; i < venue.prices.size() && g < venue.prices[i].size(); ++g) {
            if (venue.prices[i][g] != no_date_price) prices[venue.grades[g].grade] = venue.prices[i][g];
        }
        if (!prices.empty()) entry["prices"] = std::move(prices);
        schedules.push_back(std::move(entry));
    }
    const std::uint32_t claim = o.claim_seconds == 0 ? config.queue.active_ttl_seconds : o.claim_seconds;
    json body = {{"concertId", to_text(config.concert)}, {"title", config.title}, {"venue", config.venue},
                 {"schedules", std::move(schedules)},
                 {"queue", {{"activeCapacity", config.queue.active_capacity},
                            {"activeTtlSeconds", config.queue.active_ttl_seconds}, {"claimSeconds", claim}}},
                 {"holdTtlSeconds", config.hold_ttl_seconds}, {"maxHoldsPerUser", config.max_holds_per_user},
                 {"paused", concert.paused}, {"revision", concert.revision}};
    // 0 is a concert made before the cap existed: no cap, which no request can ask for (absent = 8).
    if (o.max_tickets_per_user != 0) body["maxTicketsPerUser"] = o.max_tickets_per_user;
    if (o.refunds_until != 0) body["refundsUntil"] = format_instant(o.refunds_until);
    if (o.sale.onsale_at != 0) body["onsaleAt"] = format_instant(o.sale.onsale_at);
    if (!venue.grades.empty()) {
        body["grades"] = grades_json(venue);
        body["layout"] = layout_json(venue);
    }
    if (!venue.plan.phases.empty()) body["salePhases"] = phases_json(config);
    if (!venue.plan.refunds.fees.empty()) body["refundPolicy"] = refund_policy_json(venue.plan.refunds);
    admin_concert_document out;
    out.body = body.dump();
    out.etag = "\"" + hex_u64(fnv1a_64(out.body)) + "\"";
    return out;
}

namespace {

nlohmann::json schedules_json(const std::vector<schedule>& schedules, const std::vector<std::uint32_t>& per_row) {
    auto out = nlohmann::json::array();
    for (std::size_t i = 0; i < schedules.size(); ++i) {
        const schedule& s = schedules[i];
        out.push_back({{"date", format_date(s.date)}, {"seats", s.seats}, {"price", s.price},
                       {"seatsPerRow", i < per_row.size() ? per_row[i] : seats_per_row_default}});
    }
    return out;
}

// The settings a PATCH set, in the creation shape.
nlohmann::json settings_json(const concert_settings& s, const std::vector<grade_price>& venue_grades) {
    using f = concert_settings;
    nlohmann::json out = nlohmann::json::object();
    if (s.set & f::title_field) out["title"] = s.title;
    if (s.set & f::venue_field) out["venue"] = s.venue;
    if (s.set & f::hold_ttl_field) out["holdTtlSeconds"] = s.hold_ttl_seconds;
    if (s.set & f::max_holds_field) out["maxHoldsPerUser"] = s.max_holds_per_user;
    if (s.set & f::max_tickets_field) out["maxTicketsPerUser"] = s.max_tickets_per_user;
    if (s.set & f::refunds_until_field)
        out["refundsUntil"] = s.refunds_until == 0 ? nlohmann::json(nullptr) : nlohmann::json(format_instant(s.refunds_until));
    if (s.set & f::active_capacity_field) out["queue"]["activeCapacity"] = s.active_capacity;
    if (s.set & f::active_ttl_field) out["queue"]["activeTtlSeconds"] = s.active_ttl_seconds;
    if (s.set & f::grades_field) {
        auto grades = nlohmann::json::array();
        for (const grade_price& g : s.grades) grades.push_back({{"grade", g.grade}, {"price", g.price}});
        out["grades"] = std::move(grades);
    }
    if (s.set & f::claim_seconds_field) {
        if (s.claim_seconds == 0) out["queue"]["claimSeconds"] = nullptr;  // back to the active TTL
        else out["queue"]["claimSeconds"] = s.claim_seconds;
    }
    if (s.set & f::phases_field) out["salePhases"] = phases_json(s.phases.phases, venue_grades);
    if (s.set & f::refund_policy_field) out["refundPolicy"] = refund_policy_json(s.phases.refund_policy);
    return out;
}

}  // namespace

nlohmann::json change_json(const event& e, const std::vector<grade_price>& venue_grades) {
    nlohmann::json fields = nlohmann::json::object();
    std::string_view type = "CHANGED";
    if (std::holds_alternative<sales_paused>(e.body)) {
        type = "PAUSED";
    } else if (const auto* r = std::get_if<sales_resumed>(&e.body)) {
        type = "RESUMED";
        fields["pausedSeconds"] = static_cast<double>(r->pause_ms) / 1000.0;
    } else if (const auto* b = std::get_if<seats_blocked>(&e.body)) {
        type = "SEATS_BLOCKED";
        fields = {{"date", format_date(b->date)}, {"seats", b->seats}};
        if (!b->reason.empty()) fields["reason"] = b->reason;
    } else if (const auto* b = std::get_if<seats_released>(&e.body)) {
        type = "SEATS_RELEASED";
        fields = {{"date", format_date(b->date)}, {"seats", b->seats}};
    } else if (const auto* u = std::get_if<concert_updated>(&e.body)) {
        type = "UPDATED";
        fields = settings_json(u->settings, venue_grades);
    } else if (const auto* d = std::get_if<dates_added>(&e.body)) {
        type = "DATES_ADDED";
        fields = {{"schedules", schedules_json(d->schedules, d->seats_per_row)}};
    }
    return {{"at", format_instant(e.at)}, {"type", type}, {"fields", std::move(fields)}};
}

std::string queue_body(const projections::queue_view& q, const std::string& queue_token) {
    std::string out = "{";
    if (!queue_token.empty()) out += R"("queueToken":")" + queue_token + "\",";
    out += R"("status":")";
    out += to_string(q.status);
    // In the pre-queue nobody has a place: the position is null until onsaleAt.
    out += R"(","position":)" + (q.pre_queue ? std::string("null") : std::to_string(q.position)) +
           R"(,"estimatedWaitSeconds":)" +
           // Paused: nobody is admitted until the organizer resumes, so no wait can be promised.
           (q.paused ? std::string("null") : std::to_string(q.estimated_wait_seconds)) + R"(,"preQueue":)" +
           (q.pre_queue ? "true" : "false") + R"(,"paused":)" + (q.paused ? "true" : "false");
    if (q.onsale_at != 0) out += R"(,"onsaleAt":")" + format_instant(q.onsale_at) + "\"";
    if (q.status == queue_status::active) out += R"(,"activeUntil":")" + format_instant(q.active_until) + "\"";
    out += '}';
    return out;
}

}  // namespace encore::api
