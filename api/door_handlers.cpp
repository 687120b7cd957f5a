#include "api/door_handlers.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include <openssl/crypto.h>

#include "api/access.hpp"
#include "events/ids.hpp"
#include "events/text.hpp"
#include "events/time.hpp"
#include "events/venue.hpp"

namespace encore::api {
namespace {

using nlohmann::json;

std::string scanner_key(const token_signer& tokens, concert_id c, reservation_id s) {
    const auto mac = tokens.derived_key("scanner-key", to_text(c) + "/" + scanner_text(s));
    return scanner_text(s) + "." + base64url_encode(mac);
}

std::optional<projections::concert_view> concert_at(const door_env& env, request_context& rc, std::size_t at) {
    auto c = parse_concert_id(rc.segment(at));
    auto concert = c ? env.models.concert(*c) : std::nullopt;
    if (!concert) rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    return concert;
}

// Who scans: the organizer (admin key), or a scanner of this concert whose key still works.
struct door_caller {
    reservation_id scanner;  // 0: the organizer
    std::string gate;        // the scanner's ("" : every gate)
};

std::optional<door_caller> caller_of(const door_env& env, request_context& rc, concert_id c) {
    if (!rc.header("X-Admin-Key").empty()) {
        if (!admin_authorized(rc, env.admin_key)) return std::nullopt;
        return door_caller{};
    }
    const std::string_view key = rc.header("X-Scanner-Key");
    const auto dot = key.find('.');
    const auto id = dot == std::string_view::npos || key.size() > 128 ? std::nullopt : parse_scanner_id(key.substr(0, dot));
    if (id) {
        const std::string expected = scanner_key(env.tokens, c, *id);
        if (expected.size() == key.size() && CRYPTO_memcmp(expected.data(), key.data(), key.size()) == 0) {
            if (auto s = env.models.scanner(c, *id); s && !s->removed) return door_caller{*id, s->gate};
        }
    }
    rc.fail(401, "UNAUTHORIZED", "a valid X-Scanner-Key of this concert (or X-Admin-Key) is required");
    return std::nullopt;
}

// A check-in's request: the concert, who scans, and the body.
struct door_request {
    projections::concert_view concert;
    door_caller caller;
    json body;
};

std::optional<door_request> door_request_of(const door_env& env, request_context& rc) {
    auto concert = concert_at(env, rc, 2);
    if (!concert) return std::nullopt;
    auto caller = caller_of(env, rc, concert->config.concert);
    if (!caller) return std::nullopt;
    auto body = rc.json_object();
    if (!body) return std::nullopt;
    return door_request{std::move(*concert), std::move(*caller), std::move(*body)};
}

// A scan's `gate`: a scanner scans at its own (the field may only repeat it), the organizer at one
// of the venue's. The reason it is wrong, if it is.
std::optional<std::string> read_gate(const json& value, const door_caller& caller, const venue_map& venue, std::string& gate) {
    if (value.is_null()) return std::nullopt;
    if (!value.is_string()) return std::string("gate must be a gate of the venue");
    gate = value.get<std::string>();
    if (caller.scanner.value != 0 && gate != caller.gate) return std::string("a scanner checks in at its own gate: leave gate out");
    if (caller.scanner.value == 0 && venue.gate_named(gate) == 0) return std::string("gate must be one of the venue's gates");
    return std::nullopt;
}

// Where a reservation's n-th ticket lets its holder in.
struct ticket_place {
    std::uint32_t seat = 0;
    std::string section, grade, gate;
    std::uint32_t row = 0, seat_in_row = 0, entry = 0;
};

ticket_place place_of(const create_concert& config, const venue_map& venue, const reservation& r, std::uint32_t n) {
    ticket_place p;
    const venue_layout& layout = config.options.sale.venue;
    if (is_standing(r)) {
        const reservation_standing& z = r.extra.grades.standing;
        p.section = z.name;
        if (z.section < layout.sections.size()) {
            p.gate = layout.sections[z.section].gate;
            p.grade = layout.grades.at(layout.sections[z.section].grade).grade;
        }
        if (z.entry_first != 0) p.entry = z.entry_first + n - 1;
        return p;
    }
    p.seat = seats_of(r).at(n - 1);
    if (!venue.has_layout() || p.seat > venue.seats()) return p;
    const seat_place place = venue.place_of(p.seat);
    const section_layout& s = layout.sections[place.section];
    p.section = s.section;
    p.gate = s.gate;
    p.grade = layout.grades.at(s.grade).grade;
    p.row = place.row;
    p.seat_in_row = place.seat_in_row;
    return p;
}

ticket_claims claims_of(const reservation& r, std::uint32_t n, const ticket_place& p) {
    return ticket_claims{r.id, n, r.concert, r.date, p.seat, p.section, p.gate, p.entry, 1};
}

bool has_tickets(const reservation& r) {
    return r.status == reservation_status::confirmed || r.status == reservation_status::refunded;
}

std::string_view status_of(const door_env& env, const reservation& r, std::uint32_t n) {
    if (r.status == reservation_status::refunded) return "REVOKED";
    if (env.models.admission(r.id, n)) return "ADMITTED";
    return "VALID";
}

json ticket_json(const door_env& env, const reservation& r, std::uint32_t n, const create_concert& config, const venue_map& venue,
                 const std::string& holder) {
    const ticket_place p = place_of(config, venue, r, n);
    json t = {{"ticketId", ticket_text(r.id, n)}, {"reservationId", reservation_text(r.id)}, {"concertId", to_text(r.concert)},
              {"date", format_date(r.date)}, {"holder", holder}, {"status", status_of(env, r, n)},
              {"code", env.tickets.code(claims_of(r, n, p))}};
    if (p.seat != 0) t["seat"] = p.seat;
    if (!p.section.empty()) t["section"] = p.section;
    if (p.row != 0) {
        t["row"] = p.row;
        t["seatInRow"] = p.seat_in_row;
    }
    if (!p.grade.empty()) t["grade"] = p.grade;
    if (p.entry != 0) t["entryNumber"] = p.entry;
    if (!p.gate.empty()) t["gate"] = p.gate;
    if (auto a = env.models.admission(r.id, n)) t["admittedAt"] = format_instant(a->at);
    return t;
}

std::string holder_of(const door_env& env, user_id u) { return env.models.user_name(u).value_or(""); }

// The reservation of a ticket id the caller owns (404 otherwise), with its tickets.
std::optional<std::pair<reservation, std::uint32_t>> owned_ticket(const door_env& env, request_context& rc, user_id u) {
    auto ticket = parse_ticket_id(rc.segment(1));
    auto r = ticket && ticket->first.position().partition < env.partitions ? env.models.find_reservation(ticket->first) : std::nullopt;
    if (!r || r->user != u || !has_tickets(*r) || ticket->second > tickets_of(*r)) {
        rc.fail(404, "TICKET_NOT_FOUND", "no such ticket");
        return std::nullopt;
    }
    return std::pair{std::move(*r), ticket->second};
}

bool printable_id(const json& v, std::size_t max) {
    if (!v.is_string()) return false;
    const std::string& s = v.get_ref<const std::string&>();
    return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), [](char ch) { return ch > ' ' && ch <= '~'; });
}

// The answer of a check-in to its caller: ADMITTED with the ticket, or why not.
http_response checkin_answer(const door_env& env, const std::string& gate, const json& outcome) {
    const std::string result = outcome.at("result");
    const auto ticket = parse_ticket_id(outcome.at("ticketId").get<std::string>());
    if (result == "ADMITTED" && ticket) {
        auto r = env.models.find_reservation(ticket->first);
        auto concert = r ? env.models.concert(r->concert) : std::nullopt;
        if (!r || !concert) return error_response(500, "INTERNAL", "the admitted ticket is not visible");
        json body = {{"result", "ADMITTED"},
                     {"ticket", ticket_json(env, *r, ticket->second, concert->config, venue_map(concert->config), holder_of(env, r->user))}};
        if (outcome.value("again", false)) body["again"] = true;
        else env.admissions.with({gate}).increment();
        return json_response(200, body);
    }
    if (result == "DUPLICATE") {
        return json_response(409, {{"error", {{"code", "ALREADY_ADMITTED"},
                                              {"message", "this ticket was admitted before"},
                                              {"admittedAt", outcome.at("first").at("at")},
                                              {"gate", outcome.at("first").at("gate")}}}});
    }
    if (result == "REVOKED") return error_response(410, "TICKET_REVOKED", "this ticket was revoked: its reservation was refunded");
    if (result == "WRONG_DATE") return error_response(409, "WRONG_DATE", "this ticket is for another date");
    if (result == "WRONG_GATE") return error_response(409, "WRONG_GATE", "this ticket's section enters by another gate");
    return error_response(400, "INVALID_TICKET", "no such ticket of this concert");
}

// The engine refuses a scanner removed since this node checked its key: the key no longer works.
http_response scanner_gone(http_response response) {
    if (response.result_int() == 404 && response.body().find("SCANNER_NOT_FOUND") != std::string::npos)
        return error_response(401, "UNAUTHORIZED", "this scanner was removed: its key no longer works");
    return response;
}

// One scan of a batch, read and verified.
struct batch_scan {
    std::string scan_id;
    std::string gate;
    std::optional<ticket_claims> claims;  // nullopt: INVALID
    day_number date = 0;
    time_ms scanned_at = 0;
    json result;
};

struct batch_run {
    batch_run(const door_env& e, responder r, std::string route_label) : env(&e), respond(std::move(r)), route(std::move(route_label)) {}
    const door_env* env;
    responder respond;
    std::string route;
    concert_id concert;
    reservation_id scanner;
    std::vector<batch_scan> scans;
    // Runs of valid scans sent as one CheckIn each: [first, last) of `scans`, in order.
    std::vector<std::pair<std::size_t, std::size_t>> runs;
    std::size_t next = 0;
};

void finish_batch(const std::shared_ptr<batch_run>& run) {
    json results = json::array();
    for (batch_scan& s : run->scans) results.push_back(std::move(s.result));
    run->respond.send(json_response(200, {{"results", std::move(results)}}), run->route);
}

void send_next_run(const std::shared_ptr<batch_run>& run) {
    if (run->next == run->runs.size()) return finish_batch(run);
    // Plain copies: a lambda captures no structured binding before C++20's, which clang 14 lacks.
    const std::size_t first = run->runs[run->next].first, last = run->runs[run->next].second;
    ++run->next;
    check_in in{run->concert, run->scanner, run->scanner.value == 0 ? run->scans[first].gate : "", true, {}};
    for (std::size_t i = first; i < last; ++i) {
        const batch_scan& s = run->scans[i];
        if (!s.claims) continue;
        in.scans.push_back({s.claims->reservation, s.claims->index, s.date, s.scan_id, s.scanned_at});
    }
    const door_env& env = *run->env;
    command cmd = env.gateway.make_command(user_id{}, std::move(in), "");
    env.gateway.submit(std::move(cmd), command_kind::checkin, callback_responder([run, first, last](http_response response, std::string_view) {
        if (response.result_int() != 200) return run->respond.send(scanner_gone(std::move(response)), run->route);
        const json body = json::parse(response.body(), nullptr, false);
        const json& outcomes = body.at("outcomes");
        std::size_t at = 0;
        for (std::size_t i = first; i < last; ++i) {
            batch_scan& s = run->scans[i];
            if (!s.claims) continue;
            const json& o = outcomes.at(at++);
            std::string result = o.at("result");
            if (result == "UNKNOWN") result = "INVALID";
            s.result = {{"scanId", s.scan_id}, {"ticketId", o.at("ticketId")}, {"result", result}};
            if (result == "DUPLICATE") s.result["first"] = o.at("first");
            if (o.value("again", false)) s.result["again"] = true;
            else if (result == "ADMITTED") run->env->admissions.with({body.value("gate", "")}).increment();
        }
        send_next_run(run);
    }), run->route);
}

}  // namespace

namespace door {

void reservation_tickets(const door_env& env, request_context& rc) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return;
    auto id = owned_reservation_id(rc.segment(1), env.partitions);
    auto r = id ? env.models.find_reservation(*id) : std::nullopt;
    if (!r || r->user != *u) return rc.fail(404, "RESERVATION_NOT_FOUND", "no such reservation");
    if (!has_tickets(*r)) return rc.fail(409, "NOT_PAID", "a reservation has tickets once it is paid");
    auto concert = env.models.concert(r->concert);
    if (!concert) return rc.fail(404, "RESERVATION_NOT_FOUND", "no such reservation");
    const venue_map venue(concert->config);
    const std::string holder = holder_of(env, r->user);
    json tickets = json::array();
    for (std::uint32_t n = 1; n <= tickets_of(*r); ++n) tickets.push_back(ticket_json(env, *r, n, concert->config, venue, holder));
    rc.reply(200, {{"tickets", std::move(tickets)}});
}

void ticket_qr(const door_env& env, request_context& rc) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return;
    auto ticket = owned_ticket(env, rc, *u);
    if (!ticket) return;
    auto concert = env.models.concert(ticket->first.concert);
    if (!concert) return rc.fail(404, "TICKET_NOT_FOUND", "no such ticket");
    const ticket_place p = place_of(concert->config, venue_map(concert->config), ticket->first, ticket->second);
    http_response response(boost::beast::http::status::ok, 11);
    response.set(boost::beast::http::field::content_type, "image/svg+xml");
    response.set(boost::beast::http::field::cache_control, "private, no-cache");
    response.body() = qr_svg(env.tickets.code(claims_of(ticket->first, ticket->second, p)));
    response.prepare_payload();
    rc.send(std::move(response));
}

void ticket_key(const door_env& env, request_context& rc) {
    auto concert = concert_at(env, rc, 1);
    if (!concert) return;
    rc.reply(200, {{"alg", "Ed25519"}, {"publicKey", base64url_encode(env.tickets.public_key(concert->config.concert))}});
}

void post_scanner(const door_env& env, request_context& rc) {
    if (!admin_authorized(rc, env.admin_key)) return;
    auto concert = concert_at(env, rc, 2);
    if (!concert) return;
    auto body = rc.json_object();
    if (!body) return;
    for (const auto& [name, value] : body->items()) {
        if (name != "name" && name != "gate") return rc.fail(400, "INVALID_REQUEST", name + " is not a field of a scanner (name, gate)");
    }
    auto name = body->find("name");
    if (name == body->end() || !name->is_string() || name->get_ref<const std::string&>().empty() ||
        utf8_characters(name->get_ref<const std::string&>()) > scanner_name_length_max)
        return rc.fail(400, "INVALID_REQUEST", "name is required: 1 to 64 characters, e.g. North gate 1");
    std::string gate;
    if (auto g = body->find("gate"); g != body->end() && !g->is_null()) {
        const venue_map venue(concert->config);
        if (!g->is_string() || venue.gate_named(g->get_ref<const std::string&>()) == 0) {
            std::string known;
            for (const std::string& x : venue.gates()) known += (known.empty() ? "" : ", ") + x;
            return rc.fail(400, "INVALID_REQUEST", "gate must be one of the venue's gates" + (known.empty() ? std::string(" (it has none)") : ": " + known));
        }
        gate = g->get<std::string>();
    }
    const concert_id c = concert->config.concert;
    command cmd = env.gateway.make_command(user_id{}, change_scanner{c, reservation_id{}, name->get<std::string>(), gate, false}, "");
    env.gateway.submit(std::move(cmd), command_kind::scanner,
                       callback_responder([&env, c, respond = rc.respond, route = rc.route](http_response response, std::string_view) {
                           if (response.result_int() != 201) return respond.send(std::move(response), route);
                           json body = json::parse(response.body(), nullptr, false);
                           body["key"] = scanner_key(env.tokens, c, *parse_scanner_id(body.at("scannerId").get<std::string>()));
                           respond.send(json_response(201, body), route);
                       }),
                       rc.route);
}

void list_scanners(const door_env& env, request_context& rc) {
    if (!admin_authorized(rc, env.admin_key)) return;
    auto concert = concert_at(env, rc, 2);
    if (!concert) return;
    const concert_id c = concert->config.concert;
    json list = json::array();
    for (const projections::scanner_view& s : env.models.scanners(c)) {
        json one = {{"scannerId", scanner_text(s.id)}, {"name", s.name}, {"removed", s.removed}};
        if (!s.gate.empty()) one["gate"] = s.gate;
        if (!s.removed) one["key"] = scanner_key(env.tokens, c, s.id);
        list.push_back(std::move(one));
    }
    rc.reply(200, {{"scanners", std::move(list)}});
}

void delete_scanner(const door_env& env, request_context& rc) {
    if (!admin_authorized(rc, env.admin_key)) return;
    auto concert = concert_at(env, rc, 2);
    if (!concert) return;
    const concert_id c = concert->config.concert;
    auto id = parse_scanner_id(rc.segment(4));
    auto scanner = id ? env.models.scanner(c, *id) : std::nullopt;
    if (!scanner || scanner->removed) return rc.fail(404, "SCANNER_NOT_FOUND", "the concert has no such scanner, or it was removed");
    command cmd = env.gateway.make_command(user_id{}, change_scanner{c, *id, "", "", true}, "");
    env.gateway.submit(std::move(cmd), command_kind::scanner, rc.respond, rc.route);
}

void date_tickets(const door_env& env, request_context& rc) {
    auto concert = concert_at(env, rc, 2);
    if (!concert) return;
    const concert_id c = concert->config.concert;
    auto caller = caller_of(env, rc, c);
    if (!caller) return;
    auto day = parse_date(rc.segment(4));
    const auto& dates = concert->dates;
    if (!day || std::none_of(dates.begin(), dates.end(), [&](const auto& d) { return d.date == *day; }))
        return rc.fail(404, "DATE_NOT_FOUND", "the concert has no such date");
    auto paging = rc.paging();
    if (!paging) return;
    // A scanner's list is its gate's unless it asks for another; the organizer's, every gate's.
    std::string gate = caller->gate;
    if (auto g = rc.query_param("gate")) gate = std::string(*g);
    const venue_map venue(concert->config);
    auto page = env.models.date_tickets_page(c, *day, paging->after, paging->limit);
    json tickets = json::array();
    for (const reservation& r : page.items) {
        const std::string holder = holder_of(env, r.user);
        for (std::uint32_t n = 1; n <= tickets_of(r); ++n) {
            const ticket_place p = place_of(concert->config, venue, r, n);
            if (!gate.empty() && !p.gate.empty() && p.gate != gate) continue;
            json t = {{"ticketId", ticket_text(r.id, n)}, {"holder", holder}, {"section", p.section}, {"status", status_of(env, r, n)}};
            if (p.seat != 0) t["seat"] = p.seat;
            if (p.row != 0) {
                t["row"] = p.row;
                t["seatInRow"] = p.seat_in_row;
            }
            if (p.entry != 0) t["entryNumber"] = p.entry;
            if (!p.gate.empty()) t["gate"] = p.gate;
            tickets.push_back(std::move(t));
        }
    }
    json body = {{"tickets", std::move(tickets)}};
    if (!gate.empty()) body["gate"] = gate;
    if (!page.next.empty()) body["nextCursor"] = page_cursor(page.next);
    rc.reply(200, body);
}

void post_checkin(const door_env& env, request_context& rc) {
    auto request = door_request_of(env, rc);
    if (!request) return;
    const concert_id c = request->concert.config.concert;
    const door_caller* caller = &request->caller;
    const json* body = &request->body;
    for (const auto& [name, value] : body->items()) {
        if (name != "code" && name != "date" && name != "gate" && name != "scanId")
            return rc.fail(400, "INVALID_REQUEST", name + " is not a field of a check-in (code, date, gate, scanId)");
    }
    auto code = body->find("code");
    if (code == body->end() || !code->is_string()) return rc.fail(400, "INVALID_REQUEST", "code is required: the ticket's code as its QR code holds it");
    auto date = body->find("date");
    auto day = date != body->end() && date->is_string() ? parse_date(date->get_ref<const std::string&>()) : std::nullopt;
    if (!day) return rc.fail(400, "INVALID_REQUEST", "date is required: the date the door admits for, YYYY-MM-DD");
    std::string scan_id;
    if (auto s = body->find("scanId"); s != body->end() && !s->is_null()) {
        if (!printable_id(*s, scan_id_length_max)) return rc.fail(400, "INVALID_REQUEST", "scanId must be 1 to 64 printable characters");
        scan_id = s->get<std::string>();
    }
    std::string gate;
    if (auto g = body->find("gate"); g != body->end()) {
        if (auto why = read_gate(*g, *caller, venue_map(request->concert.config), gate)) return rc.fail(400, "INVALID_REQUEST", *why);
    }
    auto claims = env.tickets.verify(code->get_ref<const std::string&>());
    if (!claims || claims->concert != c) return rc.fail(400, "INVALID_TICKET", "the code is not a ticket of this concert (its format or signature is wrong)");
    check_in in{c, caller->scanner, caller->scanner.value == 0 ? gate : "", false, {{claims->reservation, claims->index, *day, scan_id, 0}}};
    command cmd = env.gateway.make_command(user_id{}, std::move(in), "");
    env.gateway.submit(std::move(cmd), command_kind::checkin,
                       callback_responder([&env, respond = rc.respond, route = rc.route](http_response response, std::string_view) {
                           if (response.result_int() != 200) return respond.send(scanner_gone(std::move(response)), route);
                           const json body = json::parse(response.body(), nullptr, false);
                           respond.send(checkin_answer(env, body.value("gate", ""), body.at("outcomes").at(0)), route);
                       }),
                       rc.route);
}

void post_checkin_batch(const door_env& env, request_context& rc) {
    auto request = door_request_of(env, rc);
    if (!request) return;
    const concert_id c = request->concert.config.concert;
    const door_caller* caller = &request->caller;
    const json* body = &request->body;
    auto scans = body->find("scans");
    if (body->size() != 1 || scans == body->end() || !scans->is_array() || scans->empty() || scans->size() > checkins_per_batch_max)
        return rc.fail(400, "INVALID_REQUEST", "the body is {\"scans\": [...]}, 1 to 1000 scans of {code, date, gate?, scannedAt?, scanId}");
    auto run = std::make_shared<batch_run>(env, rc.respond, rc.route);
    run->concert = c;
    run->scanner = caller->scanner;
    const venue_map venue(request->concert.config);
    for (std::size_t i = 0; i < scans->size(); ++i) {
        const json& s = (*scans)[i];
        const std::string where = "scans[" + std::to_string(i) + "]: ";
        if (!s.is_object()) return rc.fail(400, "INVALID_REQUEST", where + "each scan is an object");
        for (const auto& [name, value] : s.items()) {
            if (name != "code" && name != "date" && name != "gate" && name != "scannedAt" && name != "scanId")
                return rc.fail(400, "INVALID_REQUEST", where + name + " is not a field of a scan (code, date, gate, scannedAt, scanId)");
        }
        batch_scan& out = run->scans.emplace_back();
        auto id = s.find("scanId");
        if (id == s.end() || !printable_id(*id, scan_id_length_max)) return rc.fail(400, "INVALID_REQUEST", where + "scanId is required: 1 to 64 printable characters");
        out.scan_id = id->get<std::string>();
        auto date = s.find("date");
        auto day = date != s.end() && date->is_string() ? parse_date(date->get_ref<const std::string&>()) : std::nullopt;
        if (!day) return rc.fail(400, "INVALID_REQUEST", where + "date is required, YYYY-MM-DD");
        out.date = *day;
        if (auto at = s.find("scannedAt"); at != s.end() && !at->is_null()) {
            auto parsed = at->is_string() ? parse_instant(at->get_ref<const std::string&>()) : std::nullopt;
            if (!parsed) return rc.fail(400, "INVALID_REQUEST", where + "scannedAt must be an RFC 3339 UTC instant");
            out.scanned_at = *parsed;
        }
        if (auto g = s.find("gate"); g != s.end()) {
            if (auto why = read_gate(*g, *caller, venue, out.gate)) return rc.fail(400, "INVALID_REQUEST", where + *why);
        }
        auto code = s.find("code");
        if (code == s.end() || !code->is_string()) return rc.fail(400, "INVALID_REQUEST", where + "code is required");
        out.claims = env.tickets.verify(code->get_ref<const std::string&>());
        if (out.claims && out.claims->concert != c) out.claims.reset();
        if (!out.claims) out.result = {{"scanId", out.scan_id}, {"result", "INVALID"}};
    }
    // Runs of valid scans in order, each at one gate, at most checkins_per_command_max a run.
    for (std::size_t i = 0; i < run->scans.size();) {
        std::size_t j = i, valid = 0;
        while (j < run->scans.size() && valid < checkins_per_command_max && run->scans[j].gate == run->scans[i].gate) {
            if (run->scans[j].claims) ++valid;
            ++j;
        }
        if (valid > 0) run->runs.emplace_back(i, j);
        i = j;
    }
    send_next_run(run);
}

void checkins(const door_env& env, request_context& rc) {
    if (!admin_authorized(rc, env.admin_key)) return;
    auto concert = concert_at(env, rc, 2);
    if (!concert) return;
    std::int64_t bucket_seconds = 60;
    if (auto b = rc.query_param("bucketSeconds")) {
        std::int64_t v = 0;
        for (char ch : *b) v = ch >= '0' && ch <= '9' && v < 1'000'000 ? v * 10 + (ch - '0') : -1;
        if (b->empty() || v < 10 || v > 86'400 || v % 10 != 0)
            return rc.fail(400, "INVALID_REQUEST", "bucketSeconds must be a multiple of 10 from 10 to 86400");
        bucket_seconds = v;
    }
    const time_ms bucket_ms = bucket_seconds * 1000;
    std::map<std::string, std::uint64_t> totals;
    std::map<std::pair<time_ms, std::string>, std::uint64_t> buckets;
    for (const projections::gate_checkins& g : env.models.checkins_by_gate(concert->config.concert)) {
        const time_ms start = g.start - ((g.start % bucket_ms) + bucket_ms) % bucket_ms;
        totals[g.gate] += g.admitted;
        buckets[{start, g.gate}] += g.admitted;
    }
    json gates = json::array();
    for (const auto& [gate, n] : totals) gates.push_back({{"gate", gate}, {"admitted", n}});
    json series = json::array();
    for (const auto& [key, n] : buckets) series.push_back({{"start", format_instant(key.first)}, {"gate", key.second}, {"admitted", n}});
    rc.reply(200, {{"concertId", to_text(concert->config.concert)}, {"bucketSeconds", bucket_seconds}, {"gates", std::move(gates)},
                   {"buckets", std::move(series)}});
}

}  // namespace door
}  // namespace encore::api
