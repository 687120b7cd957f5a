#include "api/gateway.hpp"

#include <boost/beast/http/field.hpp>

#include <algorithm>

#include "api/documents.hpp"
#include "events/codec.hpp"
#include "events/diagnostics.hpp"
#include "events/ids.hpp"
#include "events/json.hpp"
#include "events/route.hpp"
#include "events/text.hpp"
#include "events/time.hpp"

namespace encore::api {

namespace http = boost::beast::http;
using nlohmann::json;

namespace {
// A payment's debit is among the payer's newest wallet entries; this bounds the look.
constexpr std::size_t debit_lookup_entries_max = 1000;
}  // namespace

std::uint64_t claim_limiter::retry_after(user_id user, std::int64_t now) {
    std::lock_guard lock(mutex_);
    auto it = failures_.find(user);
    if (it == failures_.end()) return 0;
    std::deque<std::int64_t>& times = it->second;
    while (!times.empty() && times.front() <= now - window_ms) times.pop_front();
    if (times.empty()) {
        failures_.erase(it);
        return 0;
    }
    if (times.size() < failures_max) return 0;
    return static_cast<std::uint64_t>((times.front() + window_ms - now + 999) / 1000);
}

void claim_limiter::failed(user_id user, std::int64_t now) {
    std::lock_guard lock(mutex_);
    // Users whose failures are all older than the window are forgotten, so the table holds only
    // the last hour's failing users (swept each time it doubles past its last size).
    if (failures_.size() >= sweep_at_) {
        std::erase_if(failures_, [&](const auto& entry) { return entry.second.back() <= now - window_ms; });
        sweep_at_ = std::max(sweep_min, 2 * failures_.size());
    }
    std::deque<std::int64_t>& times = failures_[user];
    times.push_back(now);
    while (times.size() > failures_max) times.pop_front();
}

unsigned refusal_status(refusal r, command_kind kind) {
    switch (r) {
        case refusal::none: return 500;
        case refusal::invalid_request: return 400;
        case refusal::invalid_amount: return 400;
        case refusal::balance_limit: return 422;
        case refusal::concert_not_found: return 404;
        case refusal::queue_token_invalid: return 403;
        case refusal::queue_token_expired: return 403;
        case refusal::not_your_turn: return 429;
        case refusal::date_not_bookable: return 422;
        case refusal::invalid_seat: return 422;
        case refusal::seat_taken: return 409;
        case refusal::hold_limit: return 409;
        case refusal::reservation_not_found: return 404;
        case refusal::already_paid: return 409;
        case refusal::hold_expired: return kind == command_kind::pay ? 410 : 409;
        case refusal::reservation_cancelled: return 409;
        case refusal::insufficient_balance: return 402;
        case refusal::concert_exists: return 409;
        case refusal::idempotency_key_reused: return 422;
        case refusal::ticket_limit: return 409;
        case refusal::not_paid: return 409;
        case refusal::already_refunded: return 409;
        case refusal::refund_not_allowed: return 409;
        case refusal::no_adjacent_seats: return 409;
        case refusal::sales_paused: return 409;
        case refusal::not_blocked: return 409;
        case refusal::date_exists: return 409;
        case refusal::precondition_failed: return 412;
        case refusal::section_not_found: return 422;
        case refusal::section_full: return 409;
        case refusal::not_eligible: return 403;
        case refusal::grade_not_on_sale: return 409;
        case refusal::not_on_list: return 404;
        case refusal::already_claimed: return 409;
        case refusal::already_eligible: return 409;
        case refusal::not_claimed: return 404;
        case refusal::phase_started: return 409;
        case refusal::ticket_used: return 409;
        case refusal::scanner_not_found: return 404;
    }
    return 500;
}

std::string_view refusal_message(refusal r) {
    switch (r) {
        case refusal::none: return "no refusal";
        case refusal::invalid_request: return "the request is not valid";
        case refusal::invalid_amount: return "amount must be an integer from 1 to 1000000000";
        case refusal::balance_limit: return "the balance would exceed 9007199254740991";
        case refusal::concert_not_found: return "no such concert";
        case refusal::queue_token_invalid: return "the queue token is not valid for this user and concert";
        case refusal::queue_token_expired: return "the queue token is no longer active";
        case refusal::not_your_turn: return "still waiting in the queue";
        case refusal::date_not_bookable: return "the concert has no such date";
        case refusal::invalid_seat: return "no such seat on this date";
        case refusal::seat_taken: return "the seat is held or sold";
        case refusal::hold_limit: return "you already hold the most seats allowed for this concert";
        case refusal::reservation_not_found: return "no such reservation";
        case refusal::already_paid: return "the reservation is paid or a payment is in progress";
        case refusal::hold_expired: return "the hold has expired";
        case refusal::reservation_cancelled: return "the reservation was cancelled";
        case refusal::insufficient_balance: return "the balance does not cover the price";
        case refusal::concert_exists: return "a concert with this id exists";
        case refusal::idempotency_key_reused: return "this Idempotency-Key was used for another request (route or body)";
        case refusal::ticket_limit: return "you would hold and own more seats of this concert than maxTicketsPerUser allows";
        case refusal::not_paid: return "only a paid (CONFIRMED) reservation can be refunded";
        case refusal::already_refunded: return "the reservation is refunded or its refund is in progress";
        case refusal::refund_not_allowed: return "this reservation cannot be refunded now: its concert takes no refunds, its refund deadline has passed, "
                                                 "or the show is nearer than the last tier of its refund policy";
        case refusal::no_adjacent_seats: return "no row of this date has that many available seats side by side";
        case refusal::sales_paused: return "the organizer has paused the sale: holds are refused until it resumes";
        case refusal::not_blocked: return "a seat named is not blocked: nothing was released";
        case refusal::date_exists: return "the concert has that date already";
        case refusal::precondition_failed: return "the concert changed since the ETag given in If-Match: read it again";
        case refusal::section_not_found: return "the concert's venue has no seated section of that grade or name";
        case refusal::section_full: return "the standing zone has fewer places left than asked";
        case refusal::not_eligible: return "the sale phase open now (or next) is for a list you have not claimed a place on";
        case refusal::grade_not_on_sale: return "the sale phase open now does not sell that grade";
        case refusal::not_on_list: return "that id is not on the phase's list";
        case refusal::already_claimed: return "another user claimed that id: a claim is one id, one person";
        case refusal::already_eligible: return "you claimed another id of this phase already";
        case refusal::not_claimed: return "nobody claimed that id of the phase's list";
        case refusal::phase_started: return "a sale phase that has opened must be sent unchanged, and in its place; a phase with a list "
                                            "or with fans waiting for it cannot be removed";
        case refusal::ticket_used: return "a ticket of this reservation was admitted at the door: it cannot be refunded";
        case refusal::scanner_not_found: return "the concert has no such scanner, or it was removed";
    }
    return "refused";
}


command_gateway::command_gateway(gateway_config c, log_stream& l, const projections::read_models& m,
                                 const token_signer& t, metrics_registry& reg)
    : config(std::move(c)),
      commands(l),
      models(m),
      tokens(t),
      append_latency(reg.add_histogram("encore_log_append_seconds", "Command log append latency (until durable)", {},
                                       latency_seconds_buckets())
                         .with({})),
      outcomes_timed_out(reg.add_counter("encore_command_timeouts_total",
                                         "Commands whose outcome was not projected in time", {})),
      storage_refused(reg.add_counter("encore_commands_storage_refused_total",
                                      "Commands refused with 503 STORAGE_UNAVAILABLE: the log's storage took no writes "
                                      "(under its free-space reserve, or a write failed)",
                                      {})) {}

command command_gateway::make_command(user_id u, command_body body, std::string idempotency_key) const {
    return command{command_meta{config.clock(), u, std::move(idempotency_key), no_position}, std::move(body)};
}

// ---- outcomes ------------------------------------------------------------------------------------

http_response command_gateway::render(const waiter& w, const event& e) {
    const command_kind kind = w.kind;
    if (const auto* r = std::get_if<refused>(&e.body)) {
        if (r->reason == refusal::not_on_list && kind == command_kind::claim) claims.failed(r->user, config.clock());
        if (r->reason == refusal::not_eligible) {
            // The next phase the user may join, when there is one.
            json error = {{"code", refusal_code(r->reason)}, {"message", refusal_message(r->reason)}};
            if (r->detail != 0) error["opensAt"] = format_instant(static_cast<time_ms>(r->detail));
            return json_response(403, {{"error", std::move(error)}});
        }
        auto response = error_response(refusal_status(r->reason, kind), refusal_code(r->reason), refusal_message(r->reason));
        if (r->reason == refusal::not_your_turn) {
            // The estimate the queue route gives (seconds until onsaleAt in the pre-queue); the
            // position when the read models do not know the caller yet.
            std::uint64_t wait = r->detail;
            if (w.concert)
                if (auto q = models.queue(*w.concert, r->user, config.clock()); q && q->status == queue_status::waiting)
                    wait = q->estimated_wait_seconds;
            response.set(http::field::retry_after, retry_after_for_wait(wait));
        }
        return response;
    }
    if (const auto* u = std::get_if<user_registered>(&e.body))
        return json_response(201, {{"userId", to_text(u->user)}, {"token", tokens.user_token(u->user.value)}});
    if (const auto* c = std::get_if<charged>(&e.body))
        return json_response(200, {{"userId", to_text(c->user)}, {"balance", c->balance}});
    if (const auto* c = std::get_if<concert_created>(&e.body))
        return json_response(201, {{"concertId", to_text(c->concert.concert)}});
    if (const auto* q = std::get_if<queue_joined>(&e.body)) {
        projections::queue_view view{.ticket = q->ticket, .status = q->status, .position = q->position, .pre_queue = q->details.pre_queue, .active_until = q->active_until};
        if (auto now = models.queue(q->concert, q->user, config.clock()); now && now->ticket == q->ticket) {
            view.estimated_wait_seconds = now->estimated_wait_seconds;
            view.onsale_at = now->onsale_at;
        }
        return json_text_response(q->fresh ? 201 : 200, queue_body(view, tokens.queue_token(q->user.value, q->concert.value, q->ticket)));
    }
    if (const auto* h = std::get_if<seat_held>(&e.body)) return json_response(201, reservation_json(h->reservation));
    if (const auto* h = std::get_if<hold_cancelled>(&e.body)) return json_response(200, reservation_json(h->reservation));
    if (const auto* p = std::get_if<payment_confirmed>(&e.body)) {
        return json_response(201, {{"reservationId", reservation_text(p->reservation.id)},
                                   {"paymentId", payment_text(p->reservation.payment)},
                                   {"amount", p->reservation.price},
                                   {"balance", p->balance},
                                   {"status", "CONFIRMED"},
                                   {"paidAt", format_instant(p->reservation.paid_at)}});
    }
    if (const auto* r = std::get_if<reservation_refunded>(&e.body)) {
        json body = reservation_json(r->reservation);
        body["refundedAt"] = format_instant(r->refunded_at);
        body["balance"] = r->balance;
        return json_response(200, body);
    }
    // The organizer's controls.
    if (const auto* p = std::get_if<sales_paused>(&e.body)) return json_response(200, {{"paused", true}, {"since", format_instant(p->since)}});
    if (std::holds_alternative<sales_resumed>(e.body)) return json_response(200, {{"paused", false}});
    if (const auto* b = std::get_if<seats_blocked>(&e.body)) return json_response(200, {{"blocked", b->seats}});
    if (const auto* r = std::get_if<seats_released>(&e.body)) return json_response(200, {{"released", r->seats}});
    const auto* updated = std::get_if<concert_updated>(&e.body);
    const auto* added = std::get_if<dates_added>(&e.body);
    if (updated != nullptr || added != nullptr) {
        // The concert as GET /admin/concerts/{id} shows it now (this change included), with its tag.
        auto concert = models.concert(updated != nullptr ? updated->concert : added->concert);
        if (!concert) return error_response(500, "INTERNAL", "the changed concert is not visible");
        admin_concert_document document = admin_concert_of(*concert);
        auto response = json_text_response(updated != nullptr ? 200 : 201, std::move(document.body));
        response.set(http::field::etag, document.etag);
        return response;
    }
    // Sale phases.
    if (const auto* a = std::get_if<eligible_added>(&e.body)) return json_response(200, {{"added", a->added}, {"total", a->total}});
    if (const auto* c = std::get_if<eligibility_claimed>(&e.body)) {
        auto concert = models.concert(c->concert);
        const auto& phases = concert ? concert->config.options.sale.venue->plan.phases : std::vector<sale_phase>{};
        return json_response(200, {{"phase", c->phase < phases.size() ? phases[c->phase].phase : ""}, {"eligible", true}});
    }
    if (const auto* f = std::get_if<claim_freed>(&e.body)) {
        auto concert = models.concert(f->concert);
        const auto& phases = concert ? concert->config.options.sale.venue->plan.phases : std::vector<sale_phase>{};
        return json_response(200, {{"phase", f->phase < phases.size() ? phases[f->phase].phase : ""}, {"freed", true}});
    }
    // The door: rendered as the events say; the door's handlers (door_handlers.cpp) shape the answers.
    if (const auto* a = std::get_if<scanner_added>(&e.body)) {
        json body = {{"scannerId", scanner_text(a->scanner)}, {"concertId", to_text(a->concert)}, {"name", a->name}};
        if (!a->gate.empty()) body["gate"] = a->gate;
        return json_response(201, body);
    }
    if (const auto* r = std::get_if<scanner_removed>(&e.body))
        return json_response(200, {{"scannerId", scanner_text(r->scanner)}, {"removed", true}});
    if (const auto* t = std::get_if<tickets_checked>(&e.body)) {
        json outcomes = json::array();
        for (const scan_outcome& o : t->outcomes) {
            json one = {{"ticketId", ticket_text(o.reservation, o.ticket)}, {"result", to_string(o.result)}, {"again", o.again}};
            if (o.first_at != 0) one["first"] = {{"at", format_instant(o.first_at)}, {"gate", o.first_gate}};
            outcomes.push_back(std::move(one));
        }
        return json_response(200, {{"gate", t->gate}, {"outcomes", std::move(outcomes)}});
    }
    if (const auto* f = std::get_if<refund_failed>(&e.body))
        return error_response(422, refusal_code(f->reason), refusal_message(f->reason));
    if (const auto* p = std::get_if<payment_failed>(&e.body)) {
        auto response = error_response(402, refusal_code(p->reason), refusal_message(p->reason));
        return response;
    }
    diag::error("api", "an outcome of an unexpected type", {{"event", to_json(e)}});
    return error_response(500, "INTERNAL", "unexpected outcome");
}

void command_gateway::deliver(waiter w, const event& outcome) {
    if (const auto* replay = std::get_if<idempotent_replay>(&outcome.body)) {
        // The first request's answer is the answer: now if projected, else when it is.
        return expect(replay->first, std::move(w));
    }
    if (std::holds_alternative<key_claimed>(outcome.body) && w.then) {
        // The key is the caller's: the request itself goes to its own partition now.
        deferred_command next = std::move(*w.then);
        return append(std::move(next.cmd), next.partition, w.kind, std::move(w.respond), std::move(w.route), std::nullopt);
    }
    const reservation* moved = nullptr;  // a payment or refund: its wallet entry must be visible too
    auto entry = projections::history_entry::kind::payment;
    if (const auto* paid = std::get_if<payment_confirmed>(&outcome.body)) moved = &paid->reservation;
    if (const auto* refunded = std::get_if<reservation_refunded>(&outcome.body)) {
        moved = &refunded->reservation;
        entry = projections::history_entry::kind::refund;
    }
    if (moved != nullptr) {
        // Checked and parked under one lock: wallet_projected() takes it after the wallet entry
        // became visible, so it either finds this answer parked or the check below sees the entry.
        std::lock_guard lock(debits_mutex);
        if (!wallet_entry_visible(*moved, entry)) {
            awaiting_debit[moved->id].push_back({std::move(w), outcome});
            return;
        }
    }
    w.respond.send(render(w, outcome), w.route);
}

bool command_gateway::wallet_entry_visible(const reservation& r, projections::history_entry::kind kind) {
    // Unreadable: not seen yet. The answer waits for the wallet's projection, or its deadline.
    auto history = models.history(r.user, debit_lookup_entries_max);
    if (!history) return false;
    for (const auto& h : *history) {
        if (h.type == kind && h.reservation == r.id) return true;
    }
    return false;
}

void command_gateway::wallet_projected(reservation_id reservation) {
    std::vector<parked_payment> ready;
    {
        std::lock_guard lock(debits_mutex);
        auto it = awaiting_debit.find(reservation);
        if (it == awaiting_debit.end()) return;
        ready = std::move(it->second);
        awaiting_debit.erase(it);
    }
    for (auto& p : ready) p.w.respond.send(render(p.w, p.outcome), p.w.route);
}

void command_gateway::expect(log_position request, waiter w) {
    {
        std::lock_guard lock(waiters_mutex);
        waiters.emplace(request, std::move(w));
    }
    // The outcome may have been projected before the waiter was registered: look once more.
    auto done = models.outcome(request);
    if (done && !*done) return;  // not yet: on_projected answers it
    std::vector<waiter> ready;
    {
        std::lock_guard lock(waiters_mutex);
        auto [from, to] = waiters.equal_range(request);
        for (auto it = from; it != to; ++it) ready.push_back(std::move(it->second));
        waiters.erase(from, to);
    }
    for (auto& r : ready) {
        if (done) {
            deliver(std::move(r), **done);
        } else {
            // The command is logged and takes effect; only its stored answer cannot be read.
            r.respond.send(storage_unavailable_response("the command's outcome could not be read: " + done.err().message +
                                                        "; retry with the same Idempotency-Key"),
                           r.route);
        }
    }
}

// A client's key names one request across every partition: a command that lands outside the
// caller's home partition first claims the key there (claim_key), and goes ahead once the claim is
// answered; a key already used for another request is refused there, before anything is applied.
void command_gateway::submit(command cmd, command_kind kind, responder respond, std::string route) {
    const std::uint32_t partition = route_of(cmd, config.partitions);
    const bool client_key = !cmd.meta.idempotency_key.empty() && cmd.meta.origin == no_position;
    const std::uint32_t home = partition_of(cmd.meta.user, config.partitions);
    if (client_key && partition != home) {
        command claim{cmd.meta, claim_key{request_fingerprint(cmd)}};
        return append(std::move(claim), home, kind, std::move(respond), std::move(route),
                      deferred_command{std::move(cmd), partition});
    }
    if (config.key_every_command && !client_key && cmd.meta.origin == no_position) {
        // "~" and 16 hex digits: within the key length limit, and not what a client would pick.
        cmd.meta.idempotency_key = "~" + hex_u64(config.random_id());
    }
    append(std::move(cmd), partition, kind, std::move(respond), std::move(route), std::nullopt);
}

void command_gateway::append(command cmd, std::uint32_t partition, command_kind kind, responder respond, std::string route,
                           std::optional<deferred_command> then) {
    auto started = std::chrono::steady_clock::now();
    std::optional<concert_id> concert;
    if (const auto* h = std::get_if<hold_seat>(&cmd.body)) concert = h->concert;
    commands.append(partition, {encode(cmd)},
                    [this, partition, kind, respond, route = std::move(route), started, then = std::move(then), concert](result<std::uint64_t> r) mutable {
                        append_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
                        if (!r && r.err().code == errc::storage) {
                            storage_refused.with({}).increment();
                            return respond.send(storage_unavailable_response(
                                                    "the command was not logged and nothing changed: the server's storage "
                                                    "takes no writes now (its disk is nearly full); retry later"),
                                                route);
                        }
                        if (!r) {
                            diag::error("api", "command append failed", {{"error", r.err().message}});
                            return respond.send(error_response(503, "UNAVAILABLE", "the command log is unavailable"), route);
                        }
                        expect({partition, *r}, waiter{kind, std::move(respond), std::move(route),
                                                       std::chrono::steady_clock::now() + command_outcome_timeout,
                                                       std::move(then), concert});
                    });
}

void command_gateway::sweep() {
    std::vector<waiter> late;
    auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(waiters_mutex);
        for (auto it = waiters.begin(); it != waiters.end();) {
            if (it->second.deadline <= now) {
                late.push_back(std::move(it->second));
                it = waiters.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& w : late) {
        outcomes_timed_out.with({}).increment();
        w.respond.send(error_response(503, "TIMEOUT", "the command is logged but its outcome is not visible yet; retry with the same Idempotency-Key"), w.route);
    }
    // A confirmed payment whose debit is still not visible is answered anyway: it happened, and a
    // 503 would only send the client to retry it.
    std::vector<parked_payment> overdue;
    {
        std::lock_guard lock(debits_mutex);
        for (auto it = awaiting_debit.begin(); it != awaiting_debit.end();) {
            auto& parked = it->second;
            for (auto p = parked.begin(); p != parked.end();) {
                if (p->w.deadline <= now) {
                    overdue.push_back(std::move(*p));
                    p = parked.erase(p);
                } else {
                    ++p;
                }
            }
            it = parked.empty() ? awaiting_debit.erase(it) : std::next(it);
        }
    }
    for (auto& p : overdue) {
        outcomes_timed_out.with({}).increment();
        const auto* paid = std::get_if<payment_confirmed>(&p.outcome.body);
        const auto* refunded = std::get_if<reservation_refunded>(&p.outcome.body);
        const reservation_id id = paid != nullptr ? paid->reservation.id : refunded != nullptr ? refunded->reservation.id : reservation_id{};
        diag::warn("api", "a payment or refund is answered before its wallet entry is visible", {{"reservation", reservation_text(id)}});
        p.w.respond.send(render(p.w, p.outcome), p.w.route);
    }
}

void command_gateway::on_projected(std::span<const event> events) {
    for (const event& e : events) {
        if (const auto* debit = std::get_if<wallet_debited>(&e.body)) wallet_projected(debit->reservation);
        if (const auto* credit = std::get_if<wallet_credited>(&e.body)) wallet_projected(credit->reservation);
        if (e.answers == no_position) continue;
        std::vector<waiter> ready;
        {
            std::lock_guard lock(waiters_mutex);
            auto [from, to] = waiters.equal_range(e.answers);
            if (from == to) continue;
            for (auto it = from; it != to; ++it) ready.push_back(std::move(it->second));
            waiters.erase(from, to);
        }
        for (auto& w : ready) deliver(std::move(w), e);
    }
}

}  // namespace encore::api
