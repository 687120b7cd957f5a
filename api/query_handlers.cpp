#include "api/query_handlers.hpp"

#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "api/access.hpp"
#include "api/documents.hpp"
#include "events/binary.hpp"
#include "events/ids.hpp"
#include "events/text.hpp"
#include "events/time.hpp"
#include "events/venue.hpp"

namespace encore::api {

namespace http = boost::beast::http;
using nlohmann::json;

namespace {

// Whether an Accept-Encoding header value accepts gzip: a "gzip" (or "*") coding whose q is not 0.
bool accepts_gzip(std::string_view header) {
    bool star = false;
    while (!header.empty()) {
        const std::size_t comma = header.find(',');
        std::string_view item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        const std::size_t semi = item.find(';');
        std::string_view coding = item.substr(0, semi), params = semi == std::string_view::npos ? "" : item.substr(semi + 1);
        while (!coding.empty() && coding.front() == ' ') coding.remove_prefix(1);
        while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
        std::string lower(coding);
        for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        // q=0, q=0.0, q=0.00…: refused. Any other q accepts.
        std::string q(params);
        std::erase(q, ' ');
        const bool refused = q.starts_with("q=0") && q.find_first_not_of("0.", 2) == std::string::npos;
        if (lower == "gzip" || lower == "x-gzip") return !refused;
        if (lower == "*") star = !refused;
    }
    return star;
}

json date_json(const projections::date_view& d) {
    return {{"date", format_date(d.date)}, {"availableSeats", d.available_seats}, {"totalSeats", d.total_seats}};
}

// 403 and 429 for the query routes that need an ACTIVE queue token, in API.md's order.
bool admitted(const query_env& env, request_context& rc, user_id u, concert_id c) {
    auto claims = queue_claims_for(rc, env.tokens, u, c, rc.header("X-Queue-Token"));
    if (!claims) return false;
    auto q = env.models.queue(c, u, env.clock());
    if (!q || q->ticket < claims->ticket) {
        rc.fail(403, "QUEUE_TOKEN_INVALID", "the queue token is not known");
        return false;
    }
    if (q->ticket != claims->ticket || q->status == queue_status::expired || q->status == queue_status::completed) {
        rc.fail(403, "QUEUE_TOKEN_EXPIRED", "the queue token is no longer active");
        return false;
    }
    if (q->status == queue_status::waiting) {
        auto response = error_response(429, "NOT_YOUR_TURN", "still waiting in the queue");
        response.set(http::field::retry_after, retry_after_for_wait(q->estimated_wait_seconds));
        rc.send(std::move(response));
        return false;
    }
    return true;
}

// The concert of a query route that needs an ACTIVE queue token, after 401, 403, 429 and 404
// in API.md's order; nullopt once the request is answered.
std::optional<projections::concert_view> admitted_concert(const query_env& env, request_context& rc) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return std::nullopt;
    auto c = parse_concert_id(rc.segment(1));
    if (!c) {
        rc.fail(403, "QUEUE_TOKEN_INVALID", "the queue token is not valid for this concert");
        return std::nullopt;
    }
    if (!admitted(env, rc, *u, *c)) return std::nullopt;
    auto concert = env.models.concert(*c);
    if (!concert) rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    return concert;
}

}  // namespace

namespace queries {

void balance(const query_env& env, request_context& rc) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return;
    rc.reply(200, {{"userId", to_text(*u)}, {"balance", env.models.balance(*u)}});
}

void history(const query_env& env, request_context& rc) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return;
    auto paging = rc.paging();
    if (!paging) return;
    auto page = env.models.history_page(*u, paging->after, paging->limit);
    if (!page) return rc.send(storage_unavailable_response("the wallet's history could not be read: " + page.err().message));
    json entries = json::array();
    for (const auto& h : page->items) {
        static constexpr std::string_view kinds[] = {"CHARGE", "PAYMENT", "REFUND"};
        json e = {{"type", kinds[static_cast<int>(h.type)]}, {"amount", h.amount}, {"balanceAfter", h.balance_after}, {"at", format_instant(h.at)}};
        if (h.reservation.value != 0) e["reservationId"] = reservation_text(h.reservation);
        entries.push_back(std::move(e));
    }
    json body = {{"entries", std::move(entries)}};
    if (!page->next.empty()) body["nextCursor"] = page_cursor(page->next);
    rc.reply(200, body);
}

void my_reservations(const query_env& env, request_context& rc) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return;
    auto paging = rc.paging();
    if (!paging) return;
    auto page = env.models.reservations_page(*u, paging->after, paging->limit);
    json list = json::array();
    for (const auto& r : page.items) list.push_back(reservation_json(r));
    json body = {{"reservations", std::move(list)}};
    if (!page.next.empty()) body["nextCursor"] = page_cursor(page.next);
    rc.reply(200, body);
}

void concerts(const query_env& env, request_context& rc) {
    json list = json::array();
    for (const auto& c : env.models.concerts()) {
        json dates = json::array(), schedules = json::array();
        const venue_layout& venue = c.config.options.sale.venue;
        for (const auto& d : c.dates) {
            dates.push_back(format_date(d.date));
            if (venue.grades.empty()) {
                schedules.push_back({{"date", format_date(d.date)}, {"seats", d.total_seats}, {"price", d.price},
                                     {"seatsPerRow", seats_per_row_of(c.config, d.date)}});
                continue;
            }
            // With a venue: the date's price per grade, and `price` the lowest of them ("from").
            const std::size_t index = schedule_index(c.config, d.date);
            json prices = json::object();
            won lowest = price_max;
            for (std::uint32_t g = 0; g < venue.grades.size(); ++g) {
                const won p = grade_price_on(c.config, index, g);
                prices[venue.grades[g].grade] = p;
                lowest = std::min(lowest, p);
            }
            json s = {{"date", format_date(d.date)}, {"seats", d.total_seats}, {"price", lowest}, {"prices", std::move(prices)}};
            if (index < venue.starts_at.size() && venue.starts_at[index] != 0) s["startsAt"] = format_instant(venue.starts_at[index]);
            schedules.push_back(std::move(s));
        }
        // API.md's fields, then what a ticketing page shows before the waiting room: prices,
        // the seat layout and the rules of the sale.
        const catalog_options& o = c.config.options;
        json concert = {{"concertId", to_text(c.config.concert)}, {"title", c.config.title}, {"venue", c.config.venue},
                        {"dates", std::move(dates)}, {"schedules", std::move(schedules)},
                        {"holdTtlSeconds", c.config.hold_ttl_seconds}, {"maxHoldsPerUser", c.config.max_holds_per_user}};
        if (o.max_tickets_per_user != 0) concert["maxTicketsPerUser"] = o.max_tickets_per_user;
        if (o.refunds_until != 0) concert["refundsUntil"] = format_instant(o.refunds_until);
        if (o.sale.onsale_at != 0) concert["onsaleAt"] = format_instant(o.sale.onsale_at);
        if (!venue.grades.empty()) concert["grades"] = grades_json(venue);
        if (!venue.plan.phases.empty()) concert["salePhases"] = phases_json(c.config);
        if (!venue.plan.refunds.fees.empty()) concert["refundPolicy"] = refund_policy_json(venue.plan.refunds);
        list.push_back(std::move(concert));
    }
    rc.reply(200, {{"concerts", std::move(list)}});
}

void dates(const query_env& env, request_context& rc) {
    auto concert = admitted_concert(env, rc);
    if (!concert) return;
    const concert_id* c = &concert->config.concert;
    json dates = json::array();
    const venue_layout& venue = concert->config.options.sale.venue;
    for (const auto& d : concert->dates) {
        if (d.available_seats == 0) continue;
        json date = date_json(d);
        if (!venue.grades.empty()) {
            // Per grade: its price on the date and its seats, counted from the seat map.
            auto by_grade = env.models.grade_counts(concert->config.concert, d.date);
            const std::size_t index = schedule_index(concert->config, d.date);
            json grades = json::array();
            for (std::uint32_t g = 0; g < venue.grades.size(); ++g) {
                const auto counts = by_grade && g < by_grade->size() ? (*by_grade)[g] : projections::grade_count{};
                grades.push_back({{"grade", venue.grades[g].grade}, {"price", grade_price_on(concert->config, index, g)},
                                  {"availableSeats", counts.available}, {"totalSeats", counts.total}});
            }
            date["grades"] = std::move(grades);
        }
        dates.push_back(std::move(date));
    }
    rc.reply(200, {{"concertId", to_text(*c)}, {"dates", std::move(dates)}});
}

void seats(const query_env& env, request_context& rc) {
    auto concert = admitted_concert(env, rc);
    if (!concert) return;
    auto filter = rc.query_param("status");
    if (filter && *filter != "AVAILABLE" && *filter != "HELD" && *filter != "SOLD" && *filter != "BLOCKED")
        return rc.fail(400, "INVALID_REQUEST", "status must be AVAILABLE, HELD, SOLD or BLOCKED");
    seat_filter wanted;
    const venue_map venue(concert->config);
    if (auto grade = rc.query_param("grade")) {
        if (!venue.grade_named(*grade)) return rc.fail(400, "INVALID_REQUEST", "grade names none of the concert's grades");
        wanted.grade = std::string(*grade);
    }
    if (auto section = rc.query_param("section")) {
        if (!venue.section_named(*section)) return rc.fail(400, "INVALID_REQUEST", "section names none of the concert's sections");
        wanted.section = std::string(*section);
    }
    if (auto overview = rc.query_param("overview")) {
        if (*overview != "true" && *overview != "false") return rc.fail(400, "INVALID_REQUEST", "overview must be true or false");
        wanted.overview = *overview == "true";
    }
    auto day = parse_date(rc.segment(3));
    auto date = day ? std::find_if(concert->dates.begin(), concert->dates.end(), [&](const auto& d) { return d.date == *day; })
                    : concert->dates.end();
    if (date == concert->dates.end()) return rc.fail(404, "DATE_NOT_FOUND", "the concert has no such date");
    if (filter) {
        wanted.status = *filter == "AVAILABLE" ? seat_status::available
                        : *filter == "HELD"    ? seat_status::held
                        : *filter == "SOLD"    ? seat_status::sold
                                               : seat_status::blocked;
    }
    auto map = env.seat_map_cache.get(env.models, concert->config, concert->revision, *day, wanted,
                                      accepts_gzip(rc.header("Accept-Encoding")));
    if (!map) return rc.fail(404, "DATE_NOT_FOUND", "the concert has no such date");
    const bool unchanged = seat_maps::matches(rc.header("If-None-Match"), map->etag);
    http_response response(unchanged ? http::status::not_modified : http::status::ok, 11);
    response.set(http::field::etag, map->etag);
    response.set(http::field::vary, "Accept-Encoding");
    response.set(http::field::cache_control, "no-cache");
    if (!unchanged) {
        response.set(http::field::content_type, json_content_type);
        if (map->gzip) response.set(http::field::content_encoding, "gzip");
        response.body() = *map->bytes;
        response.prepare_payload();
    }
    rc.send(std::move(response));
}

void queue(const query_env& env, request_context& rc) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return;
    auto c = parse_concert_id(rc.segment(1));
    auto claims = queue_claims_for(rc, env.tokens, *u, c, rc.header("X-Queue-Token"));
    if (!claims) return;
    auto q = ticket_view(env.models, *claims, env.clock());
    if (!q) return rc.fail(403, "QUEUE_TOKEN_INVALID", "the queue token is not known");
    rc.reply_json_text(200, queue_body(*q, ""));
}

void reservation(const query_env& env, request_context& rc) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return;
    auto id = owned_reservation_id(rc.segment(1), env.partitions);
    auto r = id ? env.models.find_reservation(*id) : std::nullopt;
    if (!r || r->user != *u) return rc.fail(404, "RESERVATION_NOT_FOUND", "no such reservation");
    rc.reply(200, reservation_json(*r));
}

// GET /admin/concerts/{id}: the concert in its creation shape with its state (documents.hpp).
void admin_concert(const query_env& env, request_context& rc) {
    if (!admin_authorized(rc, env.admin_key)) return;
    auto c = parse_concert_id(rc.segment(2));
    auto concert = c ? env.models.concert(*c) : std::nullopt;
    if (!concert) return rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    admin_concert_document document = admin_concert_of(*concert);
    const bool unchanged = seat_maps::matches(rc.header("If-None-Match"), document.etag);
    http_response response(unchanged ? http::status::not_modified : http::status::ok, 11);
    response.set(http::field::etag, document.etag);
    response.set(http::field::cache_control, "no-cache");
    if (!unchanged) {
        response.set(http::field::content_type, json_content_type);
        response.body() = std::move(document.body);
        response.prepare_payload();
    }
    rc.send(std::move(response));
}

// GET /admin/concerts/{id}/changes: every change of the organizer's, oldest first, paged.
void concert_changes(const query_env& env, request_context& rc) {
    if (!admin_authorized(rc, env.admin_key)) return;
    auto paging = rc.paging();
    if (!paging) return;
    auto c = parse_concert_id(rc.segment(2));
    if (!c) return rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    auto page = env.models.changes_page(*c, paging->after, paging->limit);
    if (!page) return rc.send(storage_unavailable_response("the change log could not be read: " + page.err().message));
    if (!*page) return rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    json changes = json::array();
    const auto concert = env.models.concert(*c);
    const std::vector<grade_price> no_grades;
    const std::vector<grade_price>& grades = concert ? concert->config.options.sale.venue->grades : no_grades;
    for (const event& e : (*page)->items) changes.push_back(change_json(e, grades));
    json body = {{"changes", std::move(changes)}};
    if (!(*page)->next.empty()) body["nextCursor"] = page_cursor((*page)->next);
    rc.reply(200, body);
}

void analytics(const query_env& env, request_context& rc) {
    if (!admin_authorized(rc, env.admin_key)) return;
    auto c = parse_concert_id(rc.segment(2));
    auto a = c ? env.models.analytics(*c) : std::nullopt;
    if (!a) return rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    auto concert = env.models.concert(*c);
    const venue_layout* venue = concert ? &concert->config.options.sale.venue.get() : nullptr;
    json dates = json::array();
    for (const auto& d : a->dates) {
        json by_grade = json::array();
        if (venue != nullptr && !venue->grades.empty()) {
            // Per grade: its seats by status, and its revenue (each seat at the price it was held at).
            auto counts = env.models.grade_counts(*c, d.date);
            for (std::uint32_t g = 0; counts && g < counts->size(); ++g) {
                const auto& n = (*counts)[g];
                by_grade.push_back({{"grade", venue->grades[g].grade}, {"seatsSold", n.sold}, {"seatsHeld", n.held},
                                    {"seatsAvailable", n.available}, {"seatsBlocked", n.blocked},
                                    {"revenue", n.revenue}});
            }
        }
        dates.push_back({{"date", format_date(d.date)}, {"grades", std::move(by_grade)}, {"seatsSold", d.sold}, {"seatsHeld", d.held},
                         {"seatsAvailable", d.available}, {"seatsBlocked", d.blocked}, {"revenue", d.revenue}, {"holdsPlaced", d.holds_placed},
                         {"holdsExpired", d.holds_expired}, {"holdsCancelled", d.holds_cancelled},
                         {"refunds", d.refunds}, {"refundFees", d.refund_fees},
                         {"holdToPaymentConversion", d.holds_placed == 0 ? 0.0 : static_cast<double>(d.payments) / static_cast<double>(d.holds_placed)}});
    }
    rc.reply(200, {{"concertId", to_text(*c)},
                   {"dates", std::move(dates)},
                   {"queue", {{"waiting", a->waiting}, {"active", a->active}, {"admittedTotal", a->admitted_total},
                              {"medianWaitSeconds", a->median_wait_seconds}}}});
}

void timeline(const query_env& env, request_context& rc) {
    if (!admin_authorized(rc, env.admin_key)) return;
    projections::timeline_range range;
    std::int64_t seconds = timeline_bucket_seconds_default;
    if (auto text = rc.query_param("bucketSeconds")) {
        auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), seconds);
        if (ec != std::errc{} || end != text->data() + text->size() || seconds < timeline_bucket_seconds_min ||
            seconds > timeline_bucket_seconds_max || seconds % (projections::timeline_bucket_ms / 1000) != 0)
            return rc.fail(400, "INVALID_REQUEST", "bucketSeconds must be a multiple of 10 from 10 to 86400");
    }
    range.bucket_ms = seconds * 1000;
    for (auto [name, bound] : {std::pair{"from", &range.from}, std::pair{"to", &range.to}}) {
        auto text = rc.query_param(name);
        if (!text) continue;
        *bound = parse_instant(*text);
        if (!*bound) return rc.fail(400, "INVALID_REQUEST", std::string(name) + " must be an RFC 3339 instant (UTC, Z)");
    }
    if (range.from && range.to && *range.to <= *range.from)
        return rc.fail(400, "INVALID_REQUEST", "to must be after from");
    auto c = parse_concert_id(rc.segment(2));
    auto t = c ? env.models.concert_timeline(*c, range) : std::nullopt;
    if (!t) return rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    json buckets = json::array();
    for (const auto& b : t->buckets) {
        buckets.push_back({{"start", format_instant(b.start)}, {"queueJoined", b.queue_joined},
                           {"queueAdmitted", b.queue_admitted}, {"waitingAtEnd", b.waiting_at_end},
                           {"holdsPlaced", b.holds_placed}, {"holdsExpired", b.holds_expired},
                           {"holdsCancelled", b.holds_cancelled}, {"seatsSold", b.seats_sold},
                           {"refunds", b.refunds}, {"revenue", b.revenue}});
    }
    json body = {{"concertId", to_text(*c)}, {"bucketSeconds", seconds}, {"buckets", std::move(buckets)}};
    if (t->next_from) body["nextFrom"] = format_instant(*t->next_from);
    rc.reply(200, body);
}

void seat_history(const query_env& env, request_context& rc) {
    if (!admin_authorized(rc, env.admin_key)) return;
    auto paging = rc.paging();
    if (!paging) return;
    auto c = parse_concert_id(rc.segment(2));
    if (!c || !env.models.concert(*c)) return rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    auto day = parse_date(rc.segment(4));
    if (!day || !env.models.date(*c, *day)) return rc.fail(404, "DATE_NOT_FOUND", "the concert has no such date");
    auto seat = seat_number(rc.segment(6));
    if (!seat) return rc.fail(404, "SEAT_NOT_FOUND", "the date has no such seat");
    auto read = env.models.seat_history_page(*c, *day, *seat, paging->after, paging->limit);
    if (!read) return rc.send(storage_unavailable_response("the seat's history could not be read: " + read.err().message));
    const auto& page = *read;
    if (!page) return rc.fail(404, "SEAT_NOT_FOUND", "the date has no such seat");
    json entries = json::array();
    for (const auto& e : page->items) {
        static constexpr std::string_view kinds[] = {"HELD", "EXPIRED", "CANCELLED", "SOLD", "REFUNDED"};
        entries.push_back({{"at", format_instant(e.at)}, {"type", kinds[static_cast<int>(e.type)]},
                           {"reservationId", reservation_text(e.reservation)}, {"userId", to_text(e.user)}});
    }
    json body = {{"entries", std::move(entries)}};
    if (!page->next.empty()) body["nextCursor"] = page_cursor(page->next);
    rc.reply(200, body);
}

// The sale phases as the caller sees them: which is open, and whether the caller may join each.
void phases(const query_env& env, request_context& rc) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return;
    auto c = parse_concert_id(rc.segment(1));
    auto concert = c ? env.models.concert(*c) : std::nullopt;
    auto view = c ? env.models.phases(*c, *u) : std::nullopt;
    if (!concert || !view) return rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    json list = phases_json(concert->config);
    const auto& phases = concert->config.options.sale.venue->plan.phases;
    for (std::size_t i = 0; i < list.size(); ++i) {
        list[i]["eligible"] = !phases[i].list || (i < view->claimed.size() && view->claimed[i]);
        list[i]["open"] = view->open && view->current == i;
    }
    rc.reply(200, {{"concertId", to_text(*c)}, {"phases", std::move(list)}});
}

}  // namespace queries
}  // namespace encore::api
