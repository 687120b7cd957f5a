// Handlers of the catalog, the waiting room, holds, payments and analytics.

#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <cctype>

#include "api/catalog_request.hpp"
#include "api/documents.hpp"
#include "api/service_impl.hpp"
#include "events/ids.hpp"
#include "events/time.hpp"

namespace encore::api {

namespace http = boost::beast::http;

namespace {

// A date in a path that does not parse can name no date of any concert.
constexpr day_number unparsable_date = INT32_MIN;

std::optional<std::uint32_t> seat_number(std::string_view text) {
    if (text.empty() || text.size() > 9 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    std::uint32_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint32_t>(c - '0');
    }
    return v;
}

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

}  // namespace

void service::impl::post_concert(request_context& rc) {
    if (!admin(rc)) return;
    auto key = rc.idempotency_key();
    if (!key) return;
    auto body = rc.json_object();
    if (!body) return;
    auto parsed = parse_catalog(*body);
    if (auto* why = std::get_if<std::string>(&parsed)) return rc.fail(400, "INVALID_REQUEST", *why);
    auto catalog = std::get<create_concert>(std::move(parsed));
    // A keyed creation derives the concert id from the key: a repeat lands in the same partition,
    // where the engine answers it with the first outcome (same body) or IDEMPOTENCY_KEY_REUSED.
    catalog.concert = concert_id{key->empty() ? config.random_id() : tokens.derived_id("concert", *key)};
    std::uint32_t partition = partition_of(catalog.concert, config.partitions);
    command cmd = make_command(user_id{}, std::move(catalog), *key);
    submit(std::move(cmd), partition, command_kind::create_concert, rc.respond, rc.route);
}

void service::impl::get_concerts(request_context& rc) {
    json list = json::array();
    for (const auto& c : models.concerts()) {
        json dates = json::array();
        for (const auto& d : c.dates) dates.push_back(format_date(d.date));
        list.push_back({{"concertId", to_text(c.config.concert)}, {"title", c.config.title}, {"venue", c.config.venue},
                        {"dates", std::move(dates)}});
    }
    rc.reply(200, {{"concerts", std::move(list)}});
}

// The concert of a query route that needs an ACTIVE queue token, after 401, 403, 429 and 404
// in API.md's order; nullopt once the request is answered.
std::optional<projections::concert_view> service::impl::admitted_concert(request_context& rc) {
    auto u = user(rc);
    if (!u) return std::nullopt;
    auto c = parse_concert_id(rc.segment(1));
    if (!c) {
        rc.fail(403, "QUEUE_TOKEN_INVALID", "the queue token is not valid for this concert");
        return std::nullopt;
    }
    if (!admitted(rc, *u, *c)) return std::nullopt;
    auto concert = models.concert(*c);
    if (!concert) rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    return concert;
}

void service::impl::get_dates(request_context& rc) {
    auto concert = admitted_concert(rc);
    if (!concert) return;
    const concert_id* c = &concert->config.concert;
    json dates = json::array();
    for (const auto& d : concert->dates) {
        if (d.available_seats > 0) dates.push_back(date_json(d));
    }
    rc.reply(200, {{"concertId", to_text(*c)}, {"dates", std::move(dates)}});
}

void service::impl::get_seats(request_context& rc) {
    auto concert = admitted_concert(rc);
    if (!concert) return;
    const concert_id* c = &concert->config.concert;
    auto filter = rc.query_param("status");
    if (filter && *filter != "AVAILABLE" && *filter != "HELD" && *filter != "SOLD")
        return rc.fail(400, "INVALID_REQUEST", "status must be AVAILABLE, HELD or SOLD");
    auto day = parse_date(rc.segment(3));
    auto date = day ? std::find_if(concert->dates.begin(), concert->dates.end(), [&](const auto& d) { return d.date == *day; })
                    : concert->dates.end();
    if (date == concert->dates.end()) return rc.fail(404, "DATE_NOT_FOUND", "the concert has no such date");
    std::optional<seat_status> only;
    if (filter) only = *filter == "AVAILABLE" ? seat_status::available : *filter == "HELD" ? seat_status::held : seat_status::sold;
    auto map = seat_map_cache.get(models, *c, *day, date->price, only, accepts_gzip(rc.header("Accept-Encoding")));
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

// ---- waiting room --------------------------------------------------------------------------------

void service::impl::post_queue(request_context& rc) {
    auto u = user(rc);
    if (!u) return;
    auto key = rc.idempotency_key();
    if (!key) return;
    auto c = parse_concert_id(rc.segment(1));
    if (!c || !models.concert(*c)) return rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    command cmd = make_command(*u, enqueue{*c}, *key);
    submit(std::move(cmd), partition_of(*c, config.partitions), command_kind::enqueue, rc.respond, rc.route);
}

// The status of the ticket the token names: its own if it is the user's latest, else EXPIRED.
namespace {
std::optional<projections::queue_view> ticket_view(projections::read_models& models, const queue_claims& claims,
                                                   time_ms now) {
    auto q = models.queue(concert_id{claims.concert}, user_id{claims.user}, now);
    if (!q || q->ticket < claims.ticket) return std::nullopt;
    if (q->ticket != claims.ticket) return projections::queue_view{claims.ticket, queue_status::expired, 0, 0, 0};
    return q;
}
}  // namespace

void service::impl::get_queue(request_context& rc) {
    auto u = user(rc);
    if (!u) return;
    auto c = parse_concert_id(rc.segment(1));
    auto claims = tokens.verify_queue_token(rc.header("X-Queue-Token"));
    if (!c || !claims || claims->user != u->value || claims->concert != c->value)
        return rc.fail(403, "QUEUE_TOKEN_INVALID", "the queue token is missing or not valid for this user and concert");
    auto q = ticket_view(models, *claims, config.clock());
    if (!q) return rc.fail(403, "QUEUE_TOKEN_INVALID", "the queue token is not known");
    rc.reply_json_text(200, queue_body(*q, *c, *u, false));
}

void service::impl::get_queue_stream(request_context& rc) {
    auto u = user(rc);
    if (!u) return;
    auto c = parse_concert_id(rc.segment(1));
    std::string_view token = rc.header("X-Queue-Token");
    if (token.empty()) token = rc.query_param("queueToken").value_or("");
    auto claims = tokens.verify_queue_token(token);
    if (!c || !claims || claims->user != u->value || claims->concert != c->value)
        return rc.fail(403, "QUEUE_TOKEN_INVALID", "the queue token is missing or not valid for this user and concert");
    if (!ticket_view(models, *claims, config.clock())) return rc.fail(403, "QUEUE_TOKEN_INVALID", "the queue token is not known");
    http_response head(http::status::ok, 11);
    head.set(http::field::content_type, event_stream_content_type);
    head.set(http::field::cache_control, "no-cache");
    rc.answered = true;
    auto stream = rc.respond.open_stream(std::move(head), rc.route);
    {
        std::lock_guard lock(streams_mutex);
        streams.push_back({stream, *c, *u, claims->ticket, {}});
    }
    housekeeping_wake.notify_all();
}

void service::impl::feed_streams() {
    std::vector<stream_subscription> current;
    {
        std::lock_guard lock(streams_mutex);
        std::erase_if(streams, [](const stream_subscription& s) { return !s.stream->is_open(); });
        current = streams;
    }
    for (auto& s : current) {
        auto q = ticket_view(models, queue_claims{s.user.value, s.concert.value, s.ticket}, config.clock());
        if (!q) continue;
        std::string text = "event: queue\ndata: " + queue_body(*q, s.concert, s.user, false) + "\n\n";
        if (text == s.last_sent) continue;
        s.stream->send(text);
        if (q->status == queue_status::expired || q->status == queue_status::completed) s.stream->close();
        std::lock_guard lock(streams_mutex);
        for (auto& kept : streams) {
            if (kept.stream == s.stream) kept.last_sent = text;
        }
    }
}

// ---- holds and payments --------------------------------------------------------------------------

void service::impl::post_hold(request_context& rc) {
    auto u = user(rc);
    if (!u) return;
    auto key = rc.idempotency_key();
    if (!key) return;
    auto c = parse_concert_id(rc.segment(1));
    auto claims = tokens.verify_queue_token(rc.header("X-Queue-Token"));
    if (!c || !claims || claims->user != u->value || claims->concert != c->value)
        return rc.fail(403, "QUEUE_TOKEN_INVALID", "the queue token is missing or not valid for this user and concert");
    // Malformed dates and seats go to the engine as ones that cannot exist, so that every refusal
    // keeps API.md's order (a waiting user hears NOT_YOUR_TURN before INVALID_SEAT).
    day_number day = parse_date(rc.segment(3)).value_or(unparsable_date);
    std::uint32_t seat = seat_number(rc.segment(5)).value_or(0);
    command cmd = make_command(*u, hold_seat{*c, claims->ticket, day, seat}, *key);
    submit(std::move(cmd), partition_of(*c, config.partitions), command_kind::hold, rc.respond, rc.route);
}

namespace {
std::optional<reservation_id> owned_reservation_id(std::string_view text, std::uint32_t partitions) {
    auto r = parse_reservation_id(text);
    if (!r || r->position().partition >= partitions) return std::nullopt;
    return r;
}
}  // namespace

void service::impl::get_reservation(request_context& rc) {
    auto u = user(rc);
    if (!u) return;
    auto id = owned_reservation_id(rc.segment(1), config.partitions);
    auto r = id ? models.find_reservation(*id) : std::nullopt;
    if (!r || r->user != *u) return rc.fail(404, "RESERVATION_NOT_FOUND", "no such reservation");
    rc.reply(200, reservation_json(*r));
}

// DELETE /reservations/{id} and POST /reservations/{id}/pay: the reservation's own partition decides.
void service::impl::reservation_command(request_context& rc, command_kind kind) {
    auto u = user(rc);
    if (!u) return;
    auto key = rc.idempotency_key();
    if (!key) return;
    auto id = owned_reservation_id(rc.segment(1), config.partitions);
    if (!id) return rc.fail(404, "RESERVATION_NOT_FOUND", "no such reservation");
    command_body body = kind == command_kind::pay ? command_body{pay{*id}} : command_body{cancel_hold{*id}};
    submit(make_command(*u, std::move(body), *key), partition_of(*id), kind, rc.respond, rc.route);
}

void service::impl::delete_reservation(request_context& rc) { reservation_command(rc, command_kind::cancel); }

void service::impl::post_pay(request_context& rc) { reservation_command(rc, command_kind::pay); }

// ---- analytics -----------------------------------------------------------------------------------

void service::impl::get_analytics(request_context& rc) {
    if (!admin(rc)) return;
    auto c = parse_concert_id(rc.segment(2));
    auto a = c ? models.analytics(*c) : std::nullopt;
    if (!a) return rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    json dates = json::array();
    for (const auto& d : a->dates) {
        dates.push_back({{"date", format_date(d.date)}, {"seatsSold", d.sold}, {"seatsHeld", d.held},
                         {"seatsAvailable", d.available}, {"revenue", d.revenue}, {"holdsPlaced", d.holds_placed},
                         {"holdsExpired", d.holds_expired}, {"holdsCancelled", d.holds_cancelled},
                         {"holdToPaymentConversion", d.holds_placed == 0 ? 0.0 : static_cast<double>(d.sold) / static_cast<double>(d.holds_placed)}});
    }
    rc.reply(200, {{"concertId", to_text(*c)},
                   {"dates", std::move(dates)},
                   {"queue", {{"waiting", a->waiting}, {"active", a->active}, {"admittedTotal", a->admitted_total},
                              {"medianWaitSeconds", a->median_wait_seconds}}}});
}

}  // namespace encore::api
