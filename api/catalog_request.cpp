#include "api/catalog_request.hpp"

#include <algorithm>
#include <set>

#include "events/refund_policy.hpp"
#include "events/time.hpp"
#include "events/venue.hpp"

namespace encore::api {
namespace {

using nlohmann::json;

// Reads an optional integer field within [min, max]; false (with `why`) when present and wrong.
bool read_integer(const json& object, const char* name, std::int64_t min, std::int64_t max, std::int64_t& out,
                  std::string& why) {
    auto it = object.find(name);
    if (it == object.end() || it->is_null()) return true;
    bool integral = it->is_number_integer() || it->is_number_unsigned();
    if (!integral || (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) ||
        it->get<std::int64_t>() < min || it->get<std::int64_t>() > max) {
        why = std::string(name) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
        return false;
    }
    out = it->get<std::int64_t>();
    return true;
}

// A name of the venue's: 1..16 characters of [A-Za-z0-9_-].
bool venue_name(const json& v) {
    if (!v.is_string()) return false;
    const std::string& s = v.get_ref<const std::string&>();
    return !s.empty() && s.size() <= venue_name_length_max && std::all_of(s.begin(), s.end(), [](char ch) {
        return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    });
}

// `grades` and `layout` (API.md "The venue") into the catalog's venue; nullopt when the body has
// neither (a concert of seats 1..N). The schedules are read after it: with a layout they need
// neither seats nor price.
std::optional<std::string> read_venue(const json& body, venue_layout& v) {
    auto grades = body.find("grades");
    auto layout = body.find("layout");
    const bool has_grades = grades != body.end() && !grades->is_null();
    const bool has_layout = layout != body.end() && !layout->is_null();
    if (!has_grades && !has_layout) return std::nullopt;
    if (!has_grades || !has_layout) return std::string("grades and layout come together: a layout's sections each name a grade");
    if (!grades->is_array() || grades->empty() || grades->size() > grades_max)
        return "grades must be an array of 1 to " + std::to_string(grades_max) + " {grade, price} objects";
    std::set<std::string> grade_names;
    for (const json& g : *grades) {
        if (!g.is_object() || !g.contains("grade") || !venue_name(g.at("grade")))
            return std::string("each grade needs a name (grade) of 1 to 16 characters: letters, digits, _ and -");
        if (!grade_names.insert(g.at("grade").get<std::string>()).second) return std::string("grade names must be distinct");
        std::int64_t price = -1;
        std::string why;
        if (!read_integer(g, "price", 0, price_max, price, why) || price < 0)
            return why.empty() ? std::string("each grade needs a price: an integer from 0 to 1000000000") : why;
        v.grades.push_back({g.at("grade").get<std::string>(), price});
    }
    if (!layout->is_object()) return std::string("layout must be an object with sections");
    auto sections = layout->find("sections");
    if (sections == layout->end() || !sections->is_array() || sections->empty() || sections->size() > sections_max)
        return "layout.sections must be an array of 1 to " + std::to_string(sections_max) + " sections";
    std::set<std::string> section_names;
    for (const json& s : *sections) {
        if (!s.is_object() || !s.contains("section") || !venue_name(s.at("section")))
            return std::string("each section needs a name (section) of 1 to 16 characters: letters, digits, _ and -");
        section_layout out;
        out.section = s.at("section").get<std::string>();
        if (!section_names.insert(out.section).second) return std::string("section names must be distinct");
        auto grade = s.find("grade");
        auto named = grade == s.end() || !grade->is_string() ? v.grades.end()
                     : std::find_if(v.grades.begin(), v.grades.end(), [&](const grade_price& g) { return g.grade == grade->get_ref<const std::string&>(); });
        if (named == v.grades.end()) return "section " + out.section + " must name one of the grades";
        out.grade = static_cast<std::uint32_t>(named - v.grades.begin());
        if (auto gate = s.find("gate"); gate != s.end() && !gate->is_null()) {
            if (!venue_name(*gate)) return "section " + out.section + ": gate must be a name of 1 to 16 characters: letters, digits, _ and -";
            out.gate = gate->get<std::string>();
        }
        if (auto standing = s.find("standing"); standing != s.end()) {
            // A standing zone: a capacity, no rows and no seat numbers.
            const bool ok = standing->is_number_unsigned() && standing->get<std::uint64_t>() >= 1 &&
                            standing->get<std::uint64_t>() <= standing_places_max;
            if (!ok) return "section " + out.section + ": standing must be its capacity, an integer from 1 to " + std::to_string(standing_places_max);
            if (s.contains("rows") || s.contains("seatsPerRow"))
                return "section " + out.section + ": a standing zone has a capacity (standing) and no rows";
            out.standing = static_cast<std::uint32_t>(standing->get<std::uint64_t>());
            v.sections.push_back(std::move(out));
            continue;
        }
        auto rows = s.find("rows");
        const std::string row_limits = "1 to " + std::to_string(rows_per_section_max) + " rows of 1 to " +
                                       std::to_string(seats_per_section_row_max) + " seats";
        if (rows != s.end() && rows->is_array()) {
            if (rows->empty() || rows->size() > rows_per_section_max || s.contains("seatsPerRow"))
                return "section " + out.section + ": rows is a list of seats per row, " + row_limits + " (no seatsPerRow with it)";
            for (const json& n : *rows) {
                const bool ok = n.is_number_unsigned() && n.get<std::uint64_t>() >= 1 && n.get<std::uint64_t>() <= seats_per_section_row_max;
                if (!ok) return "section " + out.section + ": rows must be " + row_limits;
                out.rows.push_back(static_cast<std::uint32_t>(n.get<std::uint64_t>()));
            }
        } else {
            std::int64_t count = -1, per_row = -1;
            std::string why;
            if (!read_integer(s, "rows", 1, static_cast<std::int64_t>(rows_per_section_max), count, why) || count < 0 ||
                !read_integer(s, "seatsPerRow", 1, seats_per_section_row_max, per_row, why) || per_row < 0)
                return "section " + out.section + ": rows (a count, with seatsPerRow) or a list of seats per row: " + row_limits;
            out.rows.assign(static_cast<std::size_t>(count), static_cast<std::uint32_t>(per_row));
        }
        v.sections.push_back(std::move(out));
    }
    const std::uint64_t seats = layout_seats(v) + layout_standing(v);
    if (seats > seats_per_date_max)
        return "a layout has at most " + std::to_string(seats_per_date_max) + " seats and standing places, not " + std::to_string(seats);
    return std::nullopt;
}

// With a layout: each schedule's date, startsAt and price overrides (the layout gives the seats).
std::optional<std::string> read_venue_schedules(const json& body, create_concert& c) {
    venue_layout& v = c.options.sale.venue;
    auto it = body.find("schedules");
    if (it == body.end() || !it->is_array() || it->empty() || it->size() > dates_per_concert_max)
        return std::string("schedules must be an array of 1 to 366 {date, startsAt?, prices?} objects");
    const auto seats = static_cast<std::uint32_t>(layout_seats(v));
    std::set<day_number> seen;
    bool any_start = false, any_price = false;
    for (const json& s : *it) {
        if (!s.is_object()) return std::string("each schedule must be an object");
        auto date = s.find("date");
        std::optional<day_number> day;
        if (date != s.end() && date->is_string()) day = parse_date(date->get_ref<const std::string&>());
        if (!day) return std::string("schedule date must be a valid YYYY-MM-DD date");
        if (!seen.insert(*day).second) return std::string("schedule dates must be distinct");
        for (const char* field : {"seats", "price", "seatsPerRow"}) {
            if (s.contains(field)) return std::string("with a layout a schedule has no ") + field + ": the layout and the grades give them";
        }
        c.schedules.push_back({*day, seats, 0});
        time_ms starts = 0;
        if (auto at = s.find("startsAt"); at != s.end() && !at->is_null()) {
            auto parsed = at->is_string() ? parse_instant(at->get_ref<const std::string&>()) : std::nullopt;
            if (!parsed) return std::string("startsAt must be an RFC 3339 UTC instant, e.g. 2026-12-24T19:00:00.000Z");
            starts = *parsed;
            any_start = true;
        }
        v.starts_at.push_back(starts);
        std::vector<won> prices(v.grades.size(), no_date_price);  // the grades' unless the date says
        if (auto p = s.find("prices"); p != s.end() && !p->is_null()) {
            if (!p->is_object()) return std::string("prices must be an object of grade: price");
            for (const auto& item : p->items()) {
                const std::string& grade = item.key();
                const json& price = item.value();
                auto named = std::find_if(v.grades.begin(), v.grades.end(), [&](const grade_price& g) { return g.grade == grade; });
                if (named == v.grades.end()) return "prices names " + grade + ", which is none of the grades";
                const bool ok = price.is_number_unsigned() && price.get<std::uint64_t>() <= static_cast<std::uint64_t>(price_max);
                if (!ok) return "prices." + grade + " must be an integer from 0 to 1000000000";
                prices[static_cast<std::size_t>(named - v.grades.begin())] = static_cast<won>(price.get<std::uint64_t>());
                any_price = true;
            }
        }
        v.prices.push_back(std::move(prices));
    }
    // A catalog that sets none of them leaves them out.
    if (!any_start) v.starts_at.clear();
    if (!any_price) v.prices.clear();
    if (std::uint64_t total = (seats + layout_standing(v)) * c.schedules.size(); total > seats_per_concert_max)
        return "a concert has at most " + std::to_string(seats_per_concert_max) + " seats over all its dates, not " +
               std::to_string(total);
    return std::nullopt;
}

std::optional<std::string> read_schedules(const json& body, create_concert& c, std::size_t dates_max = dates_per_concert_max) {
    auto it = body.find("schedules");
    if (it == body.end() || !it->is_array() || it->empty() || it->size() > dates_max)
        return "schedules must be an array of 1 to " + std::to_string(dates_max) + " {date, seats, price} objects";
    std::set<day_number> seen;
    for (const json& s : *it) {
        if (!s.is_object()) return "each schedule must be an object";
        auto date = s.find("date");
        std::optional<day_number> day;
        if (date != s.end() && date->is_string()) day = parse_date(date->get_ref<const std::string&>());
        if (!day) return "schedule date must be a valid YYYY-MM-DD date";
        if (!seen.insert(*day).second) return "schedule dates must be distinct";
        std::int64_t seats = -1, price = -1;
        std::string why;
        if (!read_integer(s, "seats", 1, seats_per_date_max, seats, why) || seats < 0)
            return why.empty() ? "seats is required: an integer from 1 to 100000" : why;
        if (!read_integer(s, "price", 0, price_max, price, why) || price < 0)
            return why.empty() ? "price is required: an integer from 0 to 1000000000" : why;
        c.schedules.push_back({*day, static_cast<std::uint32_t>(seats), price});
        std::int64_t per_row = seats_per_row_default;
        if (!read_integer(s, "seatsPerRow", 1, seats_per_row_max, per_row, why)) return why;
        c.options.seats_per_row.push_back(static_cast<std::uint32_t>(per_row));
    }
    // Every date at the default is what a catalog without the field means: leave it out.
    if (std::all_of(c.options.seats_per_row.begin(), c.options.seats_per_row.end(),
                    [](std::uint32_t n) { return n == seats_per_row_default; }))
        c.options.seats_per_row.clear();
    std::uint64_t total = 0;
    for (const schedule& s : c.schedules) total += s.seats;
    if (total > seats_per_concert_max)
        return "a concert has at most " + std::to_string(seats_per_concert_max) + " seats over all its dates, not " +
               std::to_string(total);
    return std::nullopt;
}

// An RFC 3339 instant field; null (when `null_ok`) is 0.
std::optional<std::string> read_instant(const json& value, const char* name, time_ms& out) {
    if (value.is_null()) {
        out = 0;
        return std::nullopt;
    }
    auto at = value.is_string() ? parse_instant(value.get_ref<const std::string&>()) : std::nullopt;
    if (!at) return std::string(name) + " must be an RFC 3339 UTC instant, e.g. 2026-12-24T19:00:00.000Z, or null";
    out = *at;
    return std::nullopt;
}

// refundPolicy (API.md "Refund fees"): {freeWithinHours?, fees: [{hoursBefore, won | percent}]},
// the tiers by decreasing hoursBefore. null: no policy.
std::optional<std::string> read_refund_policy(const json& value, refund_terms& out) {
    out = {};
    if (value.is_null()) return std::nullopt;
    const std::string shape = "refundPolicy must be {\"freeWithinHours\"?, \"fees\": [{\"hoursBefore\", \"won\" or \"percent\"}, ...]} "
                              "with 1 to " + std::to_string(refund_tiers_max) + " fees by decreasing hoursBefore";
    if (!value.is_object()) return shape;
    for (const auto& [name, v] : value.items()) {
        if (name != "freeWithinHours" && name != "fees") return "refundPolicy." + name + " is not a field (freeWithinHours, fees)";
    }
    std::string why;
    std::int64_t free_hours = 0;
    if (!read_integer(value, "freeWithinHours", 0, refund_hours_max, free_hours, why)) return "refundPolicy." + why;
    out.free_within_hours = static_cast<std::uint32_t>(free_hours);
    auto fees = value.find("fees");
    if (fees == value.end() || !fees->is_array() || fees->empty() || fees->size() > refund_tiers_max) return shape;
    for (const json& f : *fees) {
        if (!f.is_object()) return shape;
        for (const auto& [name, v] : f.items()) {
            if (name != "hoursBefore" && name != "won" && name != "percent")
                return "refundPolicy.fees: " + name + " is not a field (hoursBefore, won, percent)";
        }
        refund_tier& tier = out.fees.emplace_back();
        std::int64_t hours = -1, amount = -1, percent = -1;
        if (!read_integer(f, "hoursBefore", 0, refund_hours_max, hours, why) || hours < 0)
            return "refundPolicy.fees: hoursBefore is required, an integer from 0 to " + std::to_string(refund_hours_max);
        const auto given = [&](const char* field) { return f.contains(field) && !f.at(field).is_null(); };
        if (given("won") == given("percent")) return std::string("refundPolicy.fees: each fee has won (per ticket) or percent, one of them");
        if (!read_integer(f, "won", 0, price_max, amount, why) || !read_integer(f, "percent", 0, 100, percent, why))
            return "refundPolicy.fees: " + why;
        tier.hours_before = static_cast<std::uint32_t>(hours);
        tier.won_per_ticket = amount < 0 ? 0 : amount;
        tier.percent = percent < 0 ? 0 : static_cast<std::uint32_t>(percent);
        if (out.fees.size() > 1 && tier.hours_before >= out.fees[out.fees.size() - 2].hours_before)
            return std::string("refundPolicy.fees must be listed by decreasing hoursBefore");
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> read_phases(const json& body, create_concert& c);  // below

std::variant<concert_settings, std::string> parse_settings(const json& body, const create_concert& current) {
    using f = concert_settings;
    concert_settings s;
    std::string why;
    for (const auto& [name, value] : body.items()) {
        if (name == "title") {
            if (!value.is_string() || value.get_ref<const std::string&>().empty() ||
                value.get_ref<const std::string&>().size() > title_length_max)
                return std::string("title must be a string of 1 to 200 bytes");
            s.title = value.get<std::string>();
            s.set |= f::title_field;
        } else if (name == "venue") {
            if (!value.is_string() || value.get_ref<const std::string&>().size() > title_length_max)
                return std::string("venue must be a string of at most 200 bytes");
            s.venue = value.get<std::string>();
            s.set |= f::venue_field;
        } else if (name == "holdTtlSeconds" || name == "maxHoldsPerUser" || name == "maxTicketsPerUser") {
            const bool ttl = name == "holdTtlSeconds", holds = name == "maxHoldsPerUser";
            std::int64_t v = -1;
            const std::int64_t max = ttl ? ttl_seconds_max : holds ? max_holds_per_user_max : max_tickets_per_user_max;
            if (!read_integer(body, name.c_str(), 1, max, v, why) || v < 0)
                return why.empty() ? name + " must be an integer from 1 to " + std::to_string(max) : why;
            (ttl ? s.hold_ttl_seconds : holds ? s.max_holds_per_user : s.max_tickets_per_user) = static_cast<std::uint32_t>(v);
            s.set |= ttl ? f::hold_ttl_field : holds ? f::max_holds_field : f::max_tickets_field;
        } else if (name == "refundsUntil") {
            if (auto bad = read_instant(value, "refundsUntil", s.refunds_until)) return *bad;
            s.set |= f::refunds_until_field;
        } else if (name == "queue") {
            if (!value.is_object()) return std::string("queue must be an object");
            for (const auto& [field, v] : value.items()) {
                if (field != "activeCapacity" && field != "activeTtlSeconds" && field != "claimSeconds")
                    return "queue." + field + " is not a field PATCH can change (activeCapacity, activeTtlSeconds, claimSeconds)";
            }
            std::int64_t capacity = -1, ttl = -1, claim = -1;
            if (!read_integer(value, "activeCapacity", 1, active_capacity_max, capacity, why) ||
                !read_integer(value, "activeTtlSeconds", 1, ttl_seconds_max, ttl, why))
                return "queue." + why;
            if (value.contains("activeCapacity") && capacity < 0) return std::string("queue.activeCapacity must be an integer, not null");
            if (value.contains("activeTtlSeconds") && ttl < 0) return std::string("queue.activeTtlSeconds must be an integer, not null");
            if (capacity >= 0) {
                s.active_capacity = static_cast<std::uint32_t>(capacity);
                s.set |= f::active_capacity_field;
            }
            if (ttl >= 0) {
                s.active_ttl_seconds = static_cast<std::uint32_t>(ttl);
                s.set |= f::active_ttl_field;
            }
            const std::int64_t active_ttl = ttl >= 0 ? ttl : current.queue.active_ttl_seconds;
            if (auto it = value.find("claimSeconds"); it != value.end()) {
                // null: back to the default (the active TTL).
                if (!it->is_null() && (!read_integer(value, "claimSeconds", 1, active_ttl, claim, why) || claim < 0))
                    return "queue.claimSeconds must be an integer from 1 to activeTtlSeconds (" + std::to_string(active_ttl) + "), or null";
                s.claim_seconds = claim <= 0 || claim == active_ttl ? 0 : static_cast<std::uint32_t>(claim);
                s.set |= f::claim_seconds_field;
            }
        } else if (name == "grades" && !current.options.sale.venue->grades.empty()) {
            // The whole list, the same grades in the same order, with their new prices.
            const auto& before = current.options.sale.venue->grades;
            const std::string shape = "grades must be the concert's grades, in the same order, each with its price (0 to 1000000000): "
                                      "a PATCH changes prices, not grades";
            if (!value.is_array() || value.size() != before.size()) return shape;
            for (std::size_t g = 0; g < before.size(); ++g) {
                const json& item = value[g];
                if (!item.is_object() || item.size() != 2 || !item.contains("grade") || item.at("grade") != before[g].grade ||
                    !item.contains("price") || !item.at("price").is_number_unsigned() ||
                    item.at("price").get<std::uint64_t>() > static_cast<std::uint64_t>(price_max))
                    return shape;
                s.grades.push_back({before[g].grade, static_cast<won>(item.at("price").get<std::uint64_t>())});
            }
            s.set |= f::grades_field;
        } else if (name == "salePhases" && !current.options.sale.venue->plan.phases.empty()) {
            // The whole list, in its creation shape: phases that have opened sent unchanged (the
            // engine, which knows which have, refuses PHASE_STARTED otherwise), the others in
            // their places, new ones after them.
            if (value.is_null()) return std::string("salePhases cannot be removed: send the list of phases");
            create_concert shaped;
            shaped.options.sale.venue->grades = current.options.sale.venue->grades;
            if (auto why = read_phases(json{{"salePhases", value}}, shaped)) return *why;
            const auto& before = current.options.sale.venue->plan.phases;
            auto& after = shaped.options.sale.venue->plan.phases;
            for (std::size_t i = 0; i < before.size() && i < after.size(); ++i) {
                if (after[i].phase != before[i].phase)
                    return "salePhases: phase " + before[i].phase + " must stay in its place (phase " + std::to_string(i + 1) +
                           "); new phases come after the existing ones";
                after[i].queue_seed = before[i].queue_seed;  // kept; new ones get theirs from the API
            }
            s.phases.phases = std::move(after);
            s.set |= f::phases_field;
        } else if (name == "refundPolicy" && !current.options.sale.venue->grades.empty()) {
            // The whole policy, for payments from now on (a reservation keeps the one it was paid under).
            if (auto why = read_refund_policy(value, s.phases.refund_policy)) return *why;
            s.set |= f::refund_policy_field;
        } else if (name == "refundPolicy") {
            return std::string("refundPolicy: fees follow the dates' startsAt, which only a concert with a venue (grades and sections) has");
        } else if (name == "grades" || name == "salePhases") {
            return name + ": this concert was created without it, so PATCH cannot change it";
        } else {
            return name + " is not a field PATCH can change (title, venue, holdTtlSeconds, maxHoldsPerUser, "
                          "maxTicketsPerUser, refundsUntil, refundPolicy, queue, grades, salePhases); new dates are added with POST /admin/concerts/{id}/dates";
        }
    }
    if (s.set == 0) return std::string("the body changes nothing: name at least one field to change");
    // A lower TTL must still cover a claim window set before.
    const std::uint32_t ttl = (s.set & f::active_ttl_field) ? s.active_ttl_seconds : current.queue.active_ttl_seconds;
    const std::uint32_t claim = (s.set & f::claim_seconds_field) ? s.claim_seconds : current.options.claim_seconds;
    if (claim > ttl)
        return "queue.activeTtlSeconds (" + std::to_string(ttl) + ") would be shorter than queue.claimSeconds (" +
               std::to_string(claim) + "): change claimSeconds too";
    return s;
}

std::variant<add_dates, std::string> parse_new_dates(const json& body, const create_concert& current) {
    for (const auto& [name, value] : body.items()) {
        if (name != "schedules") return name + " is not a field of new dates (schedules)";
    }
    create_concert c;
    const venue_layout& venue = current.options.sale.venue;
    if (!venue.grades.empty()) {
        // With a venue: the whole layout at the grades' prices; a new date gives its date only.
        c.options.sale.venue->grades = venue.grades;
        c.options.sale.venue->sections = venue.sections;
        if (auto why = read_venue_schedules(body, c)) return *why;
        if (!c.options.sale.venue->starts_at.empty() || !c.options.sale.venue->prices.empty())
            return std::string("a date added to a concert with a venue has its grades' prices and no startsAt yet: give its date only");
        return add_dates{concert_id{}, std::move(c.schedules), {}};
    }
    if (auto why = read_schedules(body, c)) return *why;
    return add_dates{concert_id{}, std::move(c.schedules), std::move(c.options.seats_per_row)};
}

std::variant<block_seats, std::string> parse_blocks(const json& body, bool block) {
    block_seats b;
    b.blocked = block;
    const std::string limit = std::to_string(seats_per_block_max);
    for (const auto& [name, value] : body.items()) {
        if (name == "seats") {
            if (!value.is_array() || value.empty() || value.size() > seats_per_block_max)
                return "seats must be a list of 1 to " + limit + " seat numbers";
            for (const json& item : value) {
                const bool integral = item.is_number_unsigned() || (item.is_number_integer() && item.get<std::int64_t>() >= 1);
                if (!integral || item.get<std::uint64_t>() < 1 || item.get<std::uint64_t>() > seats_per_date_max)
                    return std::string("seats must be a list of seat numbers (1 to 100000)");
                b.seats.push_back(static_cast<std::uint32_t>(item.get<std::uint64_t>()));
            }
        } else if (name == "reason" && block) {
            if (!value.is_null() && (!value.is_string() || value.get_ref<const std::string&>().size() > title_length_max))
                return std::string("reason must be a string of at most 200 bytes");
            if (value.is_string()) b.reason = value.get<std::string>();
        } else {
            return name + (block ? " is not a field of a block (seats, reason)" : " is not a field of a release (seats)");
        }
    }
    if (b.seats.empty()) return "seats is required: a list of 1 to " + limit + " seat numbers";
    auto sorted = b.seats;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return std::string("seats names a seat more than once");
    return b;
}

// salePhases (API.md "Sale phases"): 1..10 phases in increasing opensAt, not overlapping.
std::optional<std::string> read_phases(const json& body, create_concert& c) {
    auto it = body.find("salePhases");
    if (it == body.end() || it->is_null()) return std::nullopt;
    if (c.options.sale.onsale_at != 0) return std::string("salePhases and onsaleAt do not go together: each phase has its opensAt");
    if (!it->is_array() || it->empty() || it->size() > phases_max)
        return "salePhases must be an array of 1 to " + std::to_string(phases_max) + " phases";
    const venue_layout& venue = c.options.sale.venue;
    std::set<std::string> names;
    for (const json& p : *it) {
        if (!p.is_object()) return std::string("each sale phase must be an object");
        sale_phase out;
        auto name = p.find("phase");
        if (name == p.end() || !name->is_string() || utf8_characters(name->get_ref<const std::string&>()) < 1 ||
            utf8_characters(name->get_ref<const std::string&>()) > phase_name_length_max)
            return std::string("each sale phase needs a phase: a name of 1 to 32 characters");
        out.phase = name->get<std::string>();
        if (!names.insert(out.phase).second) return std::string("phase names must be distinct");
        const std::string where = "phase " + out.phase + ": ";
        for (const auto& [field, value] : p.items()) {
            static const std::set<std::string> known = {"phase", "name", "opensAt", "closesAt", "eligibility", "grades", "maxTicketsPerUser"};
            if (!known.contains(field)) return where + field + " is not a field of a sale phase";
        }
        if (auto n = p.find("name"); n != p.end() && !n->is_null()) {
            if (!n->is_string() || utf8_characters(n->get_ref<const std::string&>()) > title_length_max)
                return where + "name must be a string of at most 200 characters";
            out.name = n->get<std::string>();
        }
        auto opens = p.find("opensAt");
        auto opens_at = opens != p.end() && opens->is_string() ? parse_instant(opens->get_ref<const std::string&>()) : std::nullopt;
        if (!opens_at) return where + "opensAt is required: an RFC 3339 UTC instant";
        out.opens_at = *opens_at;
        if (auto closes = p.find("closesAt"); closes != p.end() && !closes->is_null()) {
            auto at = closes->is_string() ? parse_instant(closes->get_ref<const std::string&>()) : std::nullopt;
            if (!at || *at <= out.opens_at) return where + "closesAt must be an RFC 3339 UTC instant after opensAt";
            out.closes_at = *at;
        }
        if (auto e = p.find("eligibility"); e != p.end() && !e->is_null()) {
            if (*e != "ALL" && *e != "LIST") return where + "eligibility must be ALL or LIST";
            out.list = *e == "LIST";
        }
        if (auto g = p.find("grades"); g != p.end() && !g->is_null()) {
            if (!g->is_array() || g->empty()) return where + "grades must be a non-empty list of the concert's grades";
            for (const json& name : *g) {
                auto named = name.is_string() ? std::find_if(venue.grades.begin(), venue.grades.end(),
                                                            [&](const grade_price& x) { return x.grade == name.get_ref<const std::string&>(); })
                                              : venue.grades.end();
                if (named == venue.grades.end()) return where + "grades must name the concert's grades";
                out.grades.push_back(static_cast<std::uint32_t>(named - venue.grades.begin()));
            }
            std::sort(out.grades.begin(), out.grades.end());
            if (std::adjacent_find(out.grades.begin(), out.grades.end()) != out.grades.end()) return where + "grades names a grade twice";
            if (out.grades.size() == venue.grades.size()) out.grades.clear();  // all of them: the default
        }
        std::int64_t cap = 0;
        std::string why;
        if (!read_integer(p, "maxTicketsPerUser", 1, max_tickets_per_user_max, cap, why)) return where + why;
        out.max_tickets = static_cast<std::uint32_t>(cap);
        c.options.sale.venue->plan.phases.push_back(std::move(out));
    }
    auto& phases = c.options.sale.venue->plan.phases;
    for (std::size_t i = 1; i < phases.size(); ++i) {
        if (phases[i].opens_at <= phases[i - 1].opens_at) return std::string("salePhases must be in increasing opensAt");
        if (phases[i - 1].closes_at > phases[i].opens_at)
            return "phase " + phases[i - 1].phase + " closes after phase " + phases[i].phase + " opens: phases do not overlap";
    }
    return std::nullopt;
}

std::variant<create_concert, std::string> parse_catalog(const json& body) {
    create_concert c;
    auto title = body.find("title");
    if (title == body.end() || !title->is_string() || title->get_ref<const std::string&>().empty() ||
        title->get_ref<const std::string&>().size() > title_length_max)
        return std::string("title is required: a string of 1 to 200 bytes");
    c.title = title->get<std::string>();
    if (auto venue = body.find("venue"); venue != body.end() && !venue->is_null()) {
        if (!venue->is_string() || venue->get_ref<const std::string&>().size() > title_length_max)
            return std::string("venue must be a string of at most 200 bytes");
        c.venue = venue->get<std::string>();
    }
    if (auto why = read_venue(body, c.options.sale.venue)) return *why;
    if (auto why = c.options.sale.venue->grades.empty() ? read_schedules(body, c) : read_venue_schedules(body, c)) return *why;
    std::string why;
    std::int64_t capacity = c.queue.active_capacity, active_ttl = c.queue.active_ttl_seconds, claim = 0;
    if (auto q = body.find("queue"); q != body.end() && !q->is_null()) {
        if (!q->is_object()) return std::string("queue must be an object");
        if (!read_integer(*q, "activeCapacity", 1, active_capacity_max, capacity, why) ||
            !read_integer(*q, "activeTtlSeconds", 1, ttl_seconds_max, active_ttl, why))
            return why;
        if (!read_integer(*q, "claimSeconds", 1, active_ttl, claim, why))
            return "queue.claimSeconds must be an integer from 1 to activeTtlSeconds (" + std::to_string(active_ttl) + ")";
    }
    // claimSeconds = activeTtlSeconds is the default: no lapse before the TTL.
    c.options.claim_seconds = claim == active_ttl ? 0 : static_cast<std::uint32_t>(claim);
    std::int64_t max_tickets = max_tickets_per_user_default;
    if (!read_integer(body, "maxTicketsPerUser", 1, max_tickets_per_user_max, max_tickets, why)) return why;
    c.options.max_tickets_per_user = static_cast<std::uint32_t>(max_tickets);
    if (auto until = body.find("refundsUntil"); until != body.end() && !until->is_null()) {
        auto at = until->is_string() ? parse_instant(until->get_ref<const std::string&>()) : std::nullopt;
        if (!at) return std::string("refundsUntil must be an RFC 3339 UTC instant, e.g. 2026-12-24T19:00:00.000Z");
        c.options.refunds_until = *at;
    }
    if (auto onsale = body.find("onsaleAt"); onsale != body.end() && !onsale->is_null()) {
        auto at = onsale->is_string() ? parse_instant(onsale->get_ref<const std::string&>()) : std::nullopt;
        if (!at) return std::string("onsaleAt must be an RFC 3339 UTC instant, e.g. 2026-12-24T19:00:00.000Z");
        c.options.sale.onsale_at = *at;
    }
    if (auto why = read_phases(body, c)) return *why;
    if (auto policy = body.find("refundPolicy"); policy != body.end() && !policy->is_null()) {
        if (c.options.sale.venue->grades.empty())
            return std::string("refundPolicy: fees follow the dates' startsAt, which only a concert with a venue (grades and sections) has");
        if (auto why = read_refund_policy(*policy, c.options.sale.venue->plan.refunds)) return *why;
    }
    std::int64_t hold_ttl = c.hold_ttl_seconds, max_holds = c.max_holds_per_user;
    if (!read_integer(body, "holdTtlSeconds", 1, ttl_seconds_max, hold_ttl, why) ||
        !read_integer(body, "maxHoldsPerUser", 1, max_holds_per_user_max, max_holds, why))
        return why;
    c.queue = {static_cast<std::uint32_t>(capacity), static_cast<std::uint32_t>(active_ttl)};
    c.hold_ttl_seconds = static_cast<std::uint32_t>(hold_ttl);
    c.max_holds_per_user = static_cast<std::uint32_t>(max_holds);
    return c;
}

}  // namespace encore::api
