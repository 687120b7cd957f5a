#include "api/service.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/documents.hpp"
#include "api/service_impl.hpp"
#include "events/codec.hpp"
#include "events/diagnostics.hpp"
#include "events/json.hpp"
#include "events/ids.hpp"
#include "events/time.hpp"

namespace encore::api {

namespace http = boost::beast::http;
using nlohmann::json;

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
    }
    return "refused";
}


// ---- outcomes ------------------------------------------------------------------------------------

http_response service::impl::render(command_kind kind, const event& e) {
    if (const auto* r = std::get_if<refused>(&e.body)) {
        auto response = error_response(refusal_status(r->reason, kind), refusal_code(r->reason), refusal_message(r->reason));
        if (r->reason == refusal::not_your_turn) response.set(http::field::retry_after, std::to_string(std::clamp<std::uint64_t>(r->detail, 1, 30)));
        return response;
    }
    if (const auto* u = std::get_if<user_registered>(&e.body))
        return json_response(201, {{"userId", to_text(u->user)}, {"token", tokens.user_token(u->user.value)}});
    if (const auto* c = std::get_if<charged>(&e.body))
        return json_response(200, {{"userId", to_text(c->user)}, {"balance", c->balance}});
    if (const auto* c = std::get_if<concert_created>(&e.body))
        return json_response(201, {{"concertId", to_text(c->concert.concert)}});
    if (const auto* q = std::get_if<queue_joined>(&e.body)) {
        projections::queue_view view{q->ticket, q->status, q->position, 0, q->active_until};
        if (auto now = models.queue(q->concert, q->user, config.clock()); now && now->ticket == q->ticket) view.estimated_wait_seconds = now->estimated_wait_seconds;
        return json_text_response(q->fresh ? 201 : 200, queue_body(view, q->concert, q->user, true));
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
    if (const auto* p = std::get_if<payment_failed>(&e.body)) {
        auto response = error_response(402, refusal_code(p->reason), refusal_message(p->reason));
        return response;
    }
    diag::error("api", "an outcome of an unexpected type", {{"event", to_json(e)}});
    return error_response(500, "INTERNAL", "unexpected outcome");
}

void service::impl::deliver(waiter w, const event& outcome) {
    if (const auto* replay = std::get_if<idempotent_replay>(&outcome.body)) {
        // The first request's answer is the answer: now if projected, else when it is.
        return expect(replay->first, std::move(w));
    }
    if (std::holds_alternative<key_claimed>(outcome.body) && w.then) {
        // The key is the caller's: the request itself goes to its own partition now.
        deferred_command next = std::move(*w.then);
        return append(std::move(next.cmd), next.partition, w.kind, std::move(w.respond), std::move(w.route), std::nullopt);
    }
    if (const auto* paid = std::get_if<payment_confirmed>(&outcome.body)) {
        // Checked and parked under one lock: debit_projected() takes it after the debit became
        // visible, so it either finds this payment parked or the check below sees the debit.
        std::lock_guard lock(debits_mutex);
        if (!debit_visible(paid->reservation)) {
            awaiting_debit[paid->reservation.id].push_back({std::move(w), outcome});
            return;
        }
    }
    w.respond.send(render(w.kind, outcome), w.route);
}

bool service::impl::debit_visible(const reservation& r) {
    for (const auto& h : models.history(r.user, history_entries_max)) {
        if (h.type == projections::history_entry::kind::payment && h.reservation == r.id) return true;
    }
    return false;
}

void service::impl::debit_projected(const wallet_debited& d) {
    std::vector<parked_payment> ready;
    {
        std::lock_guard lock(debits_mutex);
        auto it = awaiting_debit.find(d.reservation);
        if (it == awaiting_debit.end()) return;
        ready = std::move(it->second);
        awaiting_debit.erase(it);
    }
    for (auto& p : ready) p.w.respond.send(render(p.w.kind, p.outcome), p.w.route);
}

void service::impl::expect(log_position request, waiter w) {
    {
        std::lock_guard lock(waiters_mutex);
        waiters.emplace(request, std::move(w));
    }
    // The outcome may have been projected before the waiter was registered: look once more.
    if (auto done = models.outcome(request)) {
        std::vector<waiter> ready;
        {
            std::lock_guard lock(waiters_mutex);
            auto [from, to] = waiters.equal_range(request);
            for (auto it = from; it != to; ++it) ready.push_back(std::move(it->second));
            waiters.erase(from, to);
        }
        for (auto& r : ready) deliver(std::move(r), *done);
    }
}

// A client's key names one request across every partition: a command that lands outside the
// caller's home partition first claims the key there (claim_key), and goes ahead once the claim is
// answered; a key already used for another request is refused there, before anything is applied.
void service::impl::submit(command cmd, std::uint32_t partition, command_kind kind, responder respond, std::string route) {
    const bool client_key = !cmd.meta.idempotency_key.empty() && cmd.meta.origin == no_position;
    const std::uint32_t home = partition_of(cmd.meta.user, config.partitions);
    if (client_key && partition != home) {
        command claim{cmd.meta, claim_key{request_fingerprint(cmd)}};
        return append(std::move(claim), home, kind, std::move(respond), std::move(route),
                      deferred_command{std::move(cmd), partition});
    }
    if (config.key_every_command && !client_key && cmd.meta.origin == no_position) {
        // "~" and 16 hex digits: within the key length limit, and not what a client would pick.
        static constexpr char hex[] = "0123456789abcdef";
        std::uint64_t v = config.random_id();
        std::string key(17, '~');
        for (std::size_t i = 16; i >= 1; --i, v >>= 4) key[i] = hex[v & 15];
        cmd.meta.idempotency_key = std::move(key);
    }
    append(std::move(cmd), partition, kind, std::move(respond), std::move(route), std::nullopt);
}

void service::impl::append(command cmd, std::uint32_t partition, command_kind kind, responder respond, std::string route,
                           std::optional<deferred_command> then) {
    auto started = std::chrono::steady_clock::now();
    commands.append(partition, {encode(cmd)},
                    [this, partition, kind, respond, route = std::move(route), started, then = std::move(then)](result<std::uint64_t> r) mutable {
                        append_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
                        if (!r) {
                            diag::error("api", "command append failed", {{"error", r.err().message}});
                            return respond.send(error_response(503, "UNAVAILABLE", "the command log is unavailable"), route);
                        }
                        expect({partition, *r}, waiter{kind, std::move(respond), std::move(route),
                                                       std::chrono::steady_clock::now() + command_outcome_timeout,
                                                       std::move(then)});
                    });
}

void service::impl::sweep() {
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
        diag::warn("api", "a payment is answered before its debit is visible", {{"reservation", reservation_text(std::get<payment_confirmed>(p.outcome.body).reservation.id)}});
        p.w.respond.send(render(p.w.kind, p.outcome), p.w.route);
    }
}

void service::impl::run_housekeeping() {
    std::unique_lock lock(housekeeping_mutex);
    while (!stopping) {
        housekeeping_wake.wait_for(lock, queue_stream_poll);
        if (stopping) break;
        lock.unlock();
        sweep();
        feed_streams();
        lock.lock();
    }
}

service::service(service_config config, log_stream& commands, projections::read_models& models, token_signer& tokens,
                 metrics_registry& metrics)
    : impl_(std::make_unique<impl>(std::move(config), commands, models, tokens, metrics)) {
    impl_->housekeeping = std::thread([this] {
        diag::name_thread("housekeeping");
        impl_->run_housekeeping();
    });
}

service::~service() {
    {
        std::lock_guard lock(impl_->housekeeping_mutex);
        impl_->stopping = true;
    }
    impl_->housekeeping_wake.notify_all();
    impl_->housekeeping.join();
    std::lock_guard lock(impl_->streams_mutex);
    for (auto& s : impl_->streams) s.stream->close();
}

void service::on_projected(std::uint32_t, std::span<const event> events) {
    for (const event& e : events) {
        if (const auto* debit = std::get_if<wallet_debited>(&e.body)) impl_->debit_projected(*debit);
        if (e.answers == no_position) continue;
        std::vector<waiter> ready;
        {
            std::lock_guard lock(impl_->waiters_mutex);
            auto [from, to] = impl_->waiters.equal_range(e.answers);
            if (from == to) continue;
            for (auto it = from; it != to; ++it) ready.push_back(std::move(it->second));
            impl_->waiters.erase(from, to);
        }
        for (auto& w : ready) impl_->deliver(std::move(w), e);
    }
}

void service::handle(http_request request, responder respond) {
    request_context rc(std::move(request), std::move(respond));
    try {
        impl_->route(rc);
    } catch (const std::exception& e) {
        // A bug: the handlers validate before they act. Answer, log, keep serving. The log shows
        // the path, never the query: a query can carry tokens (EventSource sends them as ?token=).
        const std::string_view target(rc.request.target().data(), rc.request.target().size());
        diag::error("api", "handler threw",
                    {{"error", e.what()}, {"path", std::string(target.substr(0, target.find('?')))}, {"route", rc.route}});
        if (!rc.answered) rc.fail(500, "INTERNAL", "internal error");
    }
}

}  // namespace encore::api
