#include "api/command_handlers.hpp"

#include <algorithm>

#include "api/access.hpp"
#include "api/catalog_request.hpp"
#include "api/documents.hpp"
#include "api/seat_maps.hpp"
#include "events/ids.hpp"
#include "events/time.hpp"

namespace encore::api {

using nlohmann::json;

namespace {

// DELETE /reservations/{id} and POST /reservations/{id}/pay: the reservation's own partition decides.
void reservation_command(const command_env& env, request_context& rc, command_kind kind) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return;
    auto key = rc.idempotency_key();
    if (!key) return;
    auto id = owned_reservation_id(rc.segment(1), env.partitions);
    if (!id) return rc.fail(404, "RESERVATION_NOT_FOUND", "no such reservation");
    command_body body = kind == command_kind::pay      ? command_body{pay{*id}}
                        : kind == command_kind::refund ? command_body{refund{*id}}
                                                       : command_body{cancel_hold{*id}};
    env.gateway.submit(env.gateway.make_command(*u, std::move(body), *key), kind, rc.respond, rc.route);
}

// Who holds and where: the checks every hold route makes first, in API.md's order (user, key,
// queue token). A malformed date goes on as one that cannot exist, so that every refusal keeps
// that order (a waiting user hears NOT_YOUR_TURN before DATE_NOT_BOOKABLE or INVALID_SEAT).
struct hold_caller {
    user_id user;
    std::string key;
    concert_id concert;
    std::uint64_t ticket = 0;
    day_number date = 0;
};

std::optional<hold_caller> hold_caller_of(const command_env& env, request_context& rc) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return std::nullopt;
    auto key = rc.idempotency_key();
    if (!key) return std::nullopt;
    auto c = parse_concert_id(rc.segment(1));
    auto claims = queue_claims_for(rc, env.tokens, *u, c, rc.header("X-Queue-Token"));
    if (!claims) return std::nullopt;
    return hold_caller{*u, std::move(*key), *c, claims->ticket, parse_date(rc.segment(3)).value_or(unparsable_date)};
}

void submit_hold(const command_env& env, request_context& rc, const hold_caller& caller, hold_seat hold) {
    command cmd = env.gateway.make_command(caller.user, std::move(hold), caller.key);
    env.gateway.submit(std::move(cmd), command_kind::hold, rc.respond, rc.route);
}

// The admin checks every organizer's route makes first: the key, the Idempotency-Key and the
// concert (404 before anything is logged). The concert as this node sees it.
struct organizer_call {
    std::string key;
    projections::concert_view concert;
};

std::optional<organizer_call> organizer_call_of(const command_env& env, request_context& rc) {
    if (!admin_authorized(rc, env.admin_key)) return std::nullopt;
    auto key = rc.idempotency_key();
    if (!key) return std::nullopt;
    auto c = parse_concert_id(rc.segment(2));
    auto concert = c ? env.models.concert(*c) : std::nullopt;
    if (!concert) {
        rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
        return std::nullopt;
    }
    return organizer_call{std::move(*key), std::move(*concert)};
}

void submit_admin(const command_env& env, request_context& rc, const organizer_call& call, command_body body,
                  command_kind kind) {
    env.gateway.submit(env.gateway.make_command(user_id{}, std::move(body), call.key), kind, rc.respond, rc.route);
}

void blocks(const command_env& env, request_context& rc, bool block) {
    auto call = organizer_call_of(env, rc);
    if (!call) return;
    auto day = parse_date(rc.segment(4));
    const auto& dates = call->concert.dates;
    if (!day || std::none_of(dates.begin(), dates.end(), [&](const auto& d) { return d.date == *day; }))
        return rc.fail(404, "DATE_NOT_FOUND", "the concert has no such date");
    auto body = rc.json_object();
    if (!body) return;
    auto parsed = parse_blocks(*body, block);
    if (auto* why = std::get_if<std::string>(&parsed)) return rc.fail(400, "INVALID_REQUEST", *why);
    block_seats b = std::get<block_seats>(std::move(parsed));
    b.concert = call->concert.config.concert;
    b.date = *day;
    submit_admin(env, rc, *call, std::move(b), command_kind::block);
}

void pause_or_resume(const command_env& env, request_context& rc, bool paused) {
    auto call = organizer_call_of(env, rc);
    if (!call) return;
    if (auto body = rc.json_object(true); !body) return;
    submit_admin(env, rc, *call, pause_sales{call->concert.config.concert, paused}, command_kind::pause);
}

// The phase named by the path's segment `at` of the concert, as its index; 404 PHASE_NOT_FOUND.
std::optional<std::uint32_t> phase_of(request_context& rc, const create_concert& config, std::size_t at) {
    const auto& phases = config.options.sale.venue->plan.phases;
    const std::string_view name = rc.segment(at);
    for (std::size_t i = 0; i < phases.size(); ++i) {
        if (phases[i].phase == name) return static_cast<std::uint32_t>(i);
    }
    rc.fail(404, "PHASE_NOT_FOUND", "the concert has no sale phase of that name");
    return std::nullopt;
}

// An id of a list as API.md says: 12..64 printable ASCII characters.
bool list_id(const nlohmann::json& v) {
    if (!v.is_string()) return false;
    const std::string& s = v.get_ref<const std::string&>();
    return s.size() >= list_id_length_min && s.size() <= list_id_length_max &&
           std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7F; });
}

// What the engine keeps of an id: two HMACs under the token secret of the concert, the phase and
// the id, so that the list cannot be read back from the log, a snapshot or an export.
list_key key_of(const token_signer& tokens, concert_id c, std::uint32_t phase, std::string_view id) {
    const std::string text = std::to_string(c.value) + "/" + std::to_string(phase) + "/" + std::string(id);
    return list_key{tokens.derived_id("list-id-high", text), tokens.derived_id("list-id-low", text)};
}

// The body {"id": …} of a claim or a freed claim.
std::optional<std::string> claim_id(request_context& rc) {
    auto body = rc.json_object();
    if (!body) return std::nullopt;
    for (const auto& [name, value] : body->items()) {
        if (name != "id") {
            rc.fail(400, "INVALID_REQUEST", name + " is not a field of a claim (id)");
            return std::nullopt;
        }
    }
    auto id = body->find("id");
    if (id == body->end() || !list_id(*id)) {
        rc.fail(400, "INVALID_REQUEST", "id is required: 12 to 64 printable characters");
        return std::nullopt;
    }
    return id->get<std::string>();
}

}  // namespace

namespace commands {

void post_eligible(const command_env& env, request_context& rc) {
    auto call = organizer_call_of(env, rc);
    if (!call) return;
    auto phase = phase_of(rc, call->concert.config, 4);
    if (!phase) return;
    auto body = rc.json_object();
    if (!body) return;
    const std::string limit = "1 to " + std::to_string(eligible_per_request_max) + " ids of 12 to 64 printable characters";
    for (const auto& [name, value] : body->items()) {
        if (name != "ids") return rc.fail(400, "INVALID_REQUEST", name + " is not a field of a list upload (ids)");
    }
    auto ids = body->find("ids");
    if (ids == body->end() || !ids->is_array() || ids->empty() || ids->size() > eligible_per_request_max)
        return rc.fail(400, "INVALID_REQUEST", "ids must be a list of " + limit + "; upload a longer list in batches");
    add_eligible add{call->concert.config.concert, *phase, {}};
    add.keys.reserve(ids->size());
    for (const auto& id : *ids) {
        if (!list_id(id)) return rc.fail(400, "INVALID_REQUEST", "ids must be a list of " + limit);
        add.keys.push_back(key_of(env.tokens, add.concert, *phase, id.get_ref<const std::string&>()));
    }
    submit_admin(env, rc, *call, std::move(add), command_kind::add_eligible);
}

void delete_claim(const command_env& env, request_context& rc) {
    auto call = organizer_call_of(env, rc);
    if (!call) return;
    auto phase = phase_of(rc, call->concert.config, 4);
    if (!phase) return;
    auto id = claim_id(rc);
    if (!id) return;
    const concert_id c = call->concert.config.concert;
    submit_admin(env, rc, *call, claim_eligibility{c, *phase, key_of(env.tokens, c, *phase, *id), true}, command_kind::claim);
}

void post_claim(const command_env& env, request_context& rc) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return;
    auto key = rc.idempotency_key();
    if (!key) return;
    auto c = parse_concert_id(rc.segment(1));
    auto concert = c ? env.models.concert(*c) : std::nullopt;
    if (!concert) return rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    auto phase = phase_of(rc, concert->config, 3);
    if (!phase) return;
    if (std::uint64_t wait = env.gateway.claims.retry_after(*u, env.clock()); wait != 0) {
        auto response = error_response(429, "RATE_LIMITED", "too many claims of ids that are not on the list: try again later");
        response.set(boost::beast::http::field::retry_after, std::to_string(wait));
        return rc.respond.send(std::move(response), rc.route);
    }
    auto id = claim_id(rc);
    if (!id) return;
    command cmd = env.gateway.make_command(*u, claim_eligibility{*c, *phase, key_of(env.tokens, *c, *phase, *id), false}, *key);
    env.gateway.submit(std::move(cmd), command_kind::claim, rc.respond, rc.route);
}

void post_users(const command_env& env, request_context& rc) {
    auto key = rc.idempotency_key();
    if (!key) return;
    auto body = rc.json_object(true);
    if (!body) return;
    std::string name;
    if (auto it = body->find("name"); it != body->end() && !it->is_null()) {
        if (!it->is_string() || utf8_characters(it->get_ref<const std::string&>()) > user_name_length_max)
            return rc.fail(400, "INVALID_REQUEST", "name must be a string of at most 64 characters");
        name = it->get<std::string>();
    }
    // With a key, the key is the caller: the user id is derived from it, so a repeat names the
    // same user (and partition) and is answered with the first outcome.
    user_id u{key->empty() ? env.random_id() : env.tokens.derived_id("user", *key)};
    command cmd = env.gateway.make_command(u, register_user{name}, *key);
    env.gateway.submit(std::move(cmd), command_kind::register_user, rc.respond, rc.route);
}

void post_charge(const command_env& env, request_context& rc) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return;
    auto key = rc.idempotency_key();
    if (!key) return;
    auto body = rc.json_object();
    if (!body) return;
    auto it = body->find("amount");
    auto amount = it == body->end() ? std::nullopt : strict_integer(*it);
    if (!amount || *amount < charge_amount_min || *amount > charge_amount_max)
        return rc.fail(400, "INVALID_AMOUNT", "amount must be an integer from 1 to 1000000000");
    command cmd = env.gateway.make_command(*u, charge{*amount}, *key);
    env.gateway.submit(std::move(cmd), command_kind::charge, rc.respond, rc.route);
}

void post_concert(const command_env& env, request_context& rc) {
    if (!admin_authorized(rc, env.admin_key)) return;
    auto key = rc.idempotency_key();
    if (!key) return;
    auto body = rc.json_object();
    if (!body) return;
    auto parsed = parse_catalog(*body);
    if (auto* why = std::get_if<std::string>(&parsed)) return rc.fail(400, "INVALID_REQUEST", *why);
    auto catalog = std::get<create_concert>(std::move(parsed));
    // A keyed creation derives the concert id from the key: a repeat lands in the same partition,
    // where the engine answers it with the first outcome (same body) or IDEMPOTENCY_KEY_REUSED.
    catalog.concert = concert_id{key->empty() ? env.random_id() : env.tokens.derived_id("concert", *key)};
    // The pre-queue's seed: from the concert id under the token secret, so nobody without the
    // secret can foresee the order, and a keyed repeat asks for the same catalog.
    if (catalog.options.sale.onsale_at != 0)
        catalog.options.sale.queue_seed = env.tokens.derived_id("queue-seed", std::to_string(catalog.concert.value));
    // Each sale phase's pre-queue its own seed, alike.
    auto& phases = catalog.options.sale.venue->plan.phases;
    for (std::size_t i = 0; i < phases.size(); ++i)
        phases[i].queue_seed = env.tokens.derived_id("queue-seed", std::to_string(catalog.concert.value) + "/" + std::to_string(i));
    command cmd = env.gateway.make_command(user_id{}, std::move(catalog), *key);
    env.gateway.submit(std::move(cmd), command_kind::create_concert, rc.respond, rc.route);
}

void post_queue(const command_env& env, request_context& rc) {
    auto u = authenticated_user(rc, env.tokens);
    if (!u) return;
    auto key = rc.idempotency_key();
    if (!key) return;
    auto c = parse_concert_id(rc.segment(1));
    if (!c || !env.models.concert(*c)) return rc.fail(404, "CONCERT_NOT_FOUND", "no such concert");
    command cmd = env.gateway.make_command(*u, enqueue{*c}, *key);
    env.gateway.submit(std::move(cmd), command_kind::enqueue, rc.respond, rc.route);
}

void post_hold(const command_env& env, request_context& rc) {
    auto caller = hold_caller_of(env, rc);
    if (!caller) return;
    std::uint32_t seat = seat_number(rc.segment(5)).value_or(0);
    submit_hold(env, rc, *caller, hold_seat{caller->concert, caller->ticket, caller->date, seat, {}});
}

// POST .../dates/{date}/holds with {"seats": [...]} or {"count": N}: several seats in one hold.
void post_holds(const command_env& env, request_context& rc) {
    auto caller = hold_caller_of(env, rc);
    if (!caller) return;
    auto body = rc.json_object();
    if (!body) return;
    const auto seats = body->find("seats");
    const auto count = body->find("count");
    if ((seats == body->end()) == (count == body->end()))
        return rc.fail(400, "INVALID_REQUEST", "the body names either seats (a list of seat numbers) or count");
    // A pick within a grade or a section (API.md "The venue"): names, checked by the engine.
    for (const char* name : {"grade", "section"}) {
        auto it = body->find(name);
        if (it == body->end() || it->is_null()) continue;
        if (count == body->end()) return rc.fail(400, "INVALID_REQUEST", std::string(name) + " goes with count (best available)");
        if (!it->is_string() || it->get_ref<const std::string&>().empty() || it->get_ref<const std::string&>().size() > venue_name_length_max)
            return rc.fail(400, "INVALID_REQUEST", std::string(name) + " must be a name of 1 to 16 characters");
    }
    if (body->contains("grade") && body->contains("section") && !body->at("grade").is_null() && !body->at("section").is_null())
        return rc.fail(400, "INVALID_REQUEST", "a pick names a grade or a section, not both");
    const std::string limit = std::to_string(seats_per_hold_max);
    hold_seat hold{caller->concert, caller->ticket, caller->date, 0, {}};
    if (count != body->end()) {
        auto n = strict_integer(*count);
        if (!n || *n < 1 || *n > seats_per_hold_max)
            return rc.fail(400, "INVALID_REQUEST", "count must be an integer from 1 to " + limit);
        hold.choice.count = static_cast<std::uint32_t>(*n);
        if (auto g = body->find("grade"); g != body->end() && g->is_string()) hold.choice.filter.grade = g->get<std::string>();
        if (auto s = body->find("section"); s != body->end() && s->is_string()) hold.choice.filter.section = s->get<std::string>();
    } else {
        if (!seats->is_array() || seats->empty() || seats->size() > seats_per_hold_max)
            return rc.fail(400, "INVALID_REQUEST", "seats must be a list of 1 to " + limit + " seat numbers");
        std::vector<std::int64_t> asked;
        for (const json& item : *seats) {
            auto seat = strict_integer(item);
            if (!seat) return rc.fail(400, "INVALID_REQUEST", "seats must be a list of seat numbers");
            asked.push_back(*seat);
        }
        auto sorted = asked;
        std::sort(sorted.begin(), sorted.end());
        if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
            return rc.fail(400, "INVALID_REQUEST", "seats names a seat more than once");
        // A number that is no seat of any date goes on as 0: the engine answers INVALID_SEAT in
        // API.md's order (after the queue checks), as for a single hold.
        for (std::int64_t seat : asked) {
            hold.choice.seats.push_back(seat < 1 || seat > seats_per_date_max ? 0 : static_cast<std::uint32_t>(seat));
        }
        if (hold.choice.seats.size() == 1) {
            hold.seat = hold.choice.seats.front();
            hold.choice.seats.clear();
        }
    }
    submit_hold(env, rc, *caller, std::move(hold));
}

void delete_reservation(const command_env& env, request_context& rc) { reservation_command(env, rc, command_kind::cancel); }

void post_pay(const command_env& env, request_context& rc) { reservation_command(env, rc, command_kind::pay); }

void post_refund(const command_env& env, request_context& rc) { reservation_command(env, rc, command_kind::refund); }

// With If-Match, the change applies only to the concert as the tag names it: the tag is checked
// here against this node's view, and its revision once more by the engine, which refuses
// PRECONDITION_FAILED if any change came in between.
void patch_concert(const command_env& env, request_context& rc) {
    auto call = organizer_call_of(env, rc);
    if (!call) return;
    auto body = rc.json_object();
    if (!body) return;
    auto parsed = parse_settings(*body, call->concert.config);
    if (auto* why = std::get_if<std::string>(&parsed)) return rc.fail(400, "INVALID_REQUEST", *why);
    update_concert update{call->concert.config.concert, false, 0, std::get<concert_settings>(std::move(parsed))};
    // A phase new to the concert gets its pre-queue seed here, as at creation (kept out of every query).
    auto& phases = update.settings.phases.phases;
    const std::size_t known = call->concert.config.options.sale.venue->plan.phases.size();
    for (std::size_t i = known; i < phases.size(); ++i)
        phases[i].queue_seed = env.tokens.derived_id("queue-seed", std::to_string(update.concert.value) + "/" + std::to_string(i) + "/" + phases[i].phase);
    if (const std::string_view if_match = rc.header("If-Match"); !if_match.empty()) {
        if (!seat_maps::matches(if_match, admin_concert_of(call->concert).etag))
            return rc.fail(412, "PRECONDITION_FAILED", "the concert changed since the ETag given in If-Match: read it again");
        update.conditional = true;
        update.revision = call->concert.revision;
    }
    submit_admin(env, rc, *call, std::move(update), command_kind::update_concert);
}

void post_dates(const command_env& env, request_context& rc) {
    auto call = organizer_call_of(env, rc);
    if (!call) return;
    auto body = rc.json_object();
    if (!body) return;
    auto parsed = parse_new_dates(*body, call->concert.config);
    if (auto* why = std::get_if<std::string>(&parsed)) return rc.fail(400, "INVALID_REQUEST", *why);
    add_dates dates = std::get<add_dates>(std::move(parsed));
    dates.concert = call->concert.config.concert;
    // The catalog's own limits, with the dates it has: a clear 400 rather than the engine's refusal.
    std::uint64_t seats = 0;
    for (const schedule& s : call->concert.config.schedules) seats += s.seats;
    for (const schedule& s : dates.schedules) seats += s.seats;
    if (call->concert.config.schedules.size() + dates.schedules.size() > dates_per_concert_max)
        return rc.fail(400, "INVALID_REQUEST", "a concert has at most " + std::to_string(dates_per_concert_max) + " dates");
    if (seats > seats_per_concert_max)
        return rc.fail(400, "INVALID_REQUEST", "a concert has at most " + std::to_string(seats_per_concert_max) +
                                                   " seats over all its dates, not " + std::to_string(seats));
    submit_admin(env, rc, *call, std::move(dates), command_kind::add_dates);
}

void post_blocks(const command_env& env, request_context& rc) { blocks(env, rc, true); }
void delete_blocks(const command_env& env, request_context& rc) { blocks(env, rc, false); }
void post_pause(const command_env& env, request_context& rc) { pause_or_resume(env, rc, true); }
void post_resume(const command_env& env, request_context& rc) { pause_or_resume(env, rc, false); }

}  // namespace commands
}  // namespace encore::api
