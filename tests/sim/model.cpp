// The reference model: every event is recorded (money, payments, admissions) and every answer is
// judged against the state it was decided on. A refused command changes nothing, so the state
// after a refusal is the state the engine decided on; for an accepted one the state must show it.

#include <algorithm>

#include "events/codec.hpp"
#include "events/ids.hpp"
#include "events/refund_policy.hpp"
#include "sim.hpp"

namespace encore::sim {
namespace {

std::string where(log_position at) { return std::to_string(at.partition) + "/" + std::to_string(at.offset); }

void require(bool ok, const std::string& what) {
    if (!ok) throw failure(what);
}

bool is_client(const command& c) {
    return c.type() != command_type::tick && c.type() != command_type::debit_request &&
           c.type() != command_type::debit_result && c.type() != command_type::credit_request &&
           c.type() != command_type::credit_result;
}

// Each partition remembers the keys of the requests it applied, or claimed for another.
std::string slot_of(std::uint32_t partition, const command& c) {
    return std::to_string(partition) + "/" + std::to_string(c.meta.user.value) + "/" + c.meta.idempotency_key;
}

// The refusal an event carries, if any: the answers' codes, and the saga's reasons.
refusal reason_of(const event& e) {
    if (const auto* r = std::get_if<refused>(&e.body)) return r->reason;
    if (const auto* f = std::get_if<payment_failed>(&e.body)) return f->reason;
    if (const auto* f = std::get_if<refund_failed>(&e.body)) return f->reason;
    return refusal::none;
}


// API.md "Organizer operations", restated: the phases may become `after` when each keeps its
// place by name, one that has opened (or whose opensAt has passed) comes unchanged, and one
// removed from the end has no list and nobody in its pre-queue.
bool phases_may_change(const engine::concert_state& was, const std::vector<sale_phase>& after, time_ms at) {
    const std::vector<sale_phase>& before = was.config.options.sale.venue->plan.phases;
    if (before.empty() || after.empty()) return false;
    for (std::size_t i = 0; i < before.size(); ++i) {
        const bool opened = i < was.phase || (i == was.phase && was.on_sale) || before[i].opens_at <= at;
        if (i < after.size()) {
            if (after[i].phase != before[i].phase || (opened && !(after[i] == before[i]))) return false;
        } else if (opened || !was.phases[i].ids.empty() || (i == was.phase && !was.pre_queue.empty())) {
            return false;
        }
    }
    return true;
}

}  // namespace

void world::count(const command& c, const std::vector<event>& events) {
    for (const event& e : events) {
        std::string name(to_string(e.type()));
        if (const auto* r = std::get_if<refused>(&e.body)) {
            ++stats_[name];
            name += " " + std::string(refusal_code(r->reason));
        }
        if (const auto* q = std::get_if<queue_joined>(&e.body); q && !q->fresh) name += " again";
        ++stats_[name];
        if (refusal why = reason_of(e); why != refusal::none) ++stats_["code " + std::string(refusal_code(why))];
    }
    bool saga = c.type() == command_type::debit_request || c.type() == command_type::debit_result ||
                c.type() == command_type::credit_request || c.type() == command_type::credit_result;
    if (saga && events.empty()) ++stats_["race: a redelivered saga step dropped"];
    bool refund_step = c.type() == command_type::credit_request || c.type() == command_type::credit_result;
    if (refund_step && events.empty()) ++stats_["race: a redelivered refund step dropped"];
    if (c.type() != command_type::debit_result) return;
    for (const event& e : events) {
        if (e.type() == event_type::hold_expired) ++stats_["race: a debit refused after expiry releases the seat"];
        const auto* confirmed = std::get_if<payment_confirmed>(&e.body);
        if (confirmed && e.at >= confirmed->reservation.expires_at) ++stats_["race: a payment completes after expiry"];
    }
}

void world::check_envelope(std::uint32_t partition, log_position at, const std::vector<event>& events,
                           std::uint64_t first_sequence) {
    const engine::partition_state& s = states_[partition];
    require(s.next_command_offset == at.offset + 1, "the partition did not move to the next offset");
    for (std::size_t i = 0; i < events.size(); ++i) {
        require(events[i].sequence == first_sequence + i, "event sequence not dense at " + where(at));
        require(events[i].cause == at, "event cause is not the command at " + where(at));
        require(events[i].at == s.clock, "event time is not the partition clock at " + where(at));
    }
    require(s.next_event_sequence == first_sequence + events.size(), "next_event_sequence skipped at " + where(at));
}

// Every client command gets exactly one answer, except an accepted Pay, which is answered once
// by its saga's end. Saga steps and Ticks answer nothing of their own.
void world::check_answers(const command& c, log_position at, const std::vector<event>& events) {
    for (const event& e : events) {
        if (e.answers == no_position || e.answers == at) continue;
        require(e.type() == event_type::payment_confirmed || e.type() == event_type::payment_failed ||
                    e.type() == event_type::reservation_refunded || e.type() == event_type::refund_failed,
                std::string(to_string(e.type())) + " answers an earlier request " + where(e.answers));
        require(pays_in_flight_.erase(e.answers) == 1, "a Pay answered twice or never started: " + where(e.answers));
    }
    auto own = std::count_if(events.begin(), events.end(), [&](const event& e) { return e.answers == at; });
    if (!is_client(c)) return require(own == 0, "a saga step or Tick answered itself at " + where(at));
    bool started = std::any_of(events.begin(), events.end(), [](const event& e) {
        return e.type() == event_type::payment_started || e.type() == event_type::refund_started;
    });
    if ((c.type() == command_type::pay || c.type() == command_type::refund) && own == 0 && started) {
        pays_in_flight_.insert(at);
        return;
    }
    require(own == 1, std::string(to_string(c.type())) + " at " + where(at) + " got " + std::to_string(own) +
                          " answers");
}

void world::record_event(std::uint32_t partition, const event& e) {
    // A join's place: the ticket, unless a sale phase closed before it (its waiting tickets were
    // never admitted, so later places follow the last admitted one, not the tickets).
    if (const auto* q = std::get_if<queue_joined>(&e.body); q && q->fresh && !q->details.pre_queue) {
        const engine::concert_state* c = engine::find_concert(states_[partition], q->concert);
        if (c != nullptr && !c->phases.empty()) places_[{q->concert.value, q->ticket}] = c->attendees.at(q->user).place;
    }
    if (const auto* closed = std::get_if<phase_closed>(&e.body)) {
        // Every token of the phase expires; its users may join the next one.
        for (auto& [key, token] : tokens_) {
            if (key.second == closed->concert.value && token.ticket < closed->expired_below &&
                (token.status == queue_status::waiting || token.status == queue_status::active))
                token.status = queue_status::expired;
        }
        ++stats_["phase: a phase closed"];
    }
    record_queue_event(e);
    record_money_event(partition, e);
    // The loosest limits each concert has had, and the dates its clients know of.
    auto loosen = [this](const create_concert& config) {
        loosest_limits& l = loosest_[config.concert.value];
        l.capacity = std::max(l.capacity, config.queue.active_capacity);
        l.holds = std::max(l.holds, config.max_holds_per_user);
        l.tickets = std::max(l.tickets, config.options.max_tickets_per_user);
        l.uncapped = l.uncapped || config.options.max_tickets_per_user == 0;
    };
    if (const auto* c = std::get_if<concert_created>(&e.body)) loosen(c->concert);
    const auto* updated = std::get_if<concert_updated>(&e.body);
    const auto* added = std::get_if<dates_added>(&e.body);
    if (updated != nullptr || added != nullptr) {
        const concert_id id = updated != nullptr ? updated->concert : added->concert;
        loosen(engine::find_concert(states_[partition], id)->config);
        for (create_concert& known : concerts_) {
            if (known.concert == id && added != nullptr) known = with_dates(known, added->schedules, added->seats_per_row);
        }
    }
}

void world::record_queue_event(const event& e) {
    // What the client learns of its token.
    if (const auto* q = std::get_if<queue_joined>(&e.body)) {
        tokens_[{q->user.value, q->concert.value}] = {q->ticket, q->status};
    }
    if (const auto* q = std::get_if<queue_admitted>(&e.body)) {
        tokens_[{q->user.value, q->concert.value}].status = queue_status::active;
    }
    if (const auto* q = std::get_if<queue_left>(&e.body)) {
        auto status = q->completed ? queue_status::completed : queue_status::expired;
        tokens_[{q->user.value, q->concert.value}].status = status;
    }
    if (const auto* q = std::get_if<queue_placed>(&e.body)) {
        require(places_.emplace(std::make_pair(q->concert.value, q->ticket), q->place).second, "a ticket placed twice");
    }
    std::uint64_t admitted = 0, concert = 0;
    if (const auto* q = std::get_if<queue_joined>(&e.body); q && q->fresh && q->status == queue_status::active) {
        admitted = q->ticket;
        concert = q->concert.value;
    }
    if (const auto* q = std::get_if<queue_admitted>(&e.body)) {
        admitted = q->ticket;
        concert = q->concert.value;
    }
    if (admitted != 0) {
        // First come, first served: places become ACTIVE in order, none skipped. A ticket's place
        // is the ticket, except in a pre-queue, which the shuffle placed.
        auto placed = places_.find({concert, admitted});
        const std::uint64_t place = placed == places_.end() ? admitted : placed->second;
        std::uint64_t& last = last_admitted_[concert];
        require(place == last + 1, "place " + std::to_string(place) + " admitted after " + std::to_string(last));
        last = place;
    }
    if (const auto* h = std::get_if<seat_held>(&e.body)) {
        reservations_.push_back({h->reservation.id, h->reservation.user});
    }
}

// The wallets' reference model and each payment's saga, step by step.
void world::record_money_event(std::uint32_t partition, const event& e) {
    if (const auto* c = std::get_if<charged>(&e.body)) {
        charged_total_ += c->amount;
        balances_[c->user.value] += c->amount;
        require(c->balance == balances_[c->user.value], "Charged reports a balance the model does not have");
    }
    if (const auto* p = std::get_if<payment_started>(&e.body)) {
        payment_record& r = payments_[p->payment];
        require(r.started == 0, "a payment id started twice");
        require(p->payment.position().partition == partition, "a payment id names another partition");
        r = payment_record{p->reservation, p->amount, 1};
    }
    if (const auto* d = std::get_if<wallet_debited>(&e.body)) {
        payment_record& r = payments_[d->payment];
        won& balance = balances_[d->user.value];
        require(r.started == 1 && r.debited + r.refused == 0, "a payment debited twice or never started");
        require(d->amount == r.amount, "debited another amount than the payment's");
        require(balance >= d->amount, "debited a wallet that was short");
        balance -= d->amount;
        require(d->balance == balance, "WalletDebited reports a balance the model does not have");
        ++r.debited;
        debited_total_ += d->amount;
        debits_in_flight_.insert(d->payment);
    }
    if (const auto* d = std::get_if<debit_refused>(&e.body)) {
        payment_record& r = payments_[d->payment];
        require(r.started == 1 && r.debited + r.refused == 0, "a debit refused twice or never started");
        require(balances_[d->user.value] < d->amount, "refused a debit the wallet could pay");
        require(d->balance == balances_[d->user.value], "DebitRefused reports a balance the model does not have");
        ++r.refused;
    }
    if (const auto* c = std::get_if<payment_confirmed>(&e.body)) {
        payment_record& r = payments_[c->reservation.payment];
        require(r.debited == 1 && r.confirmed + r.failed == 0, "confirmed a payment that was not debited once");
        require(c->reservation.price == r.amount, "confirmed at another price");
        require(c->reservation.status == reservation_status::confirmed,
                "PaymentConfirmed of an unconfirmed reservation");
        if (is_standing(c->reservation)) {
            // Entry numbers: the zone's next ones, in the order payments are confirmed.
            const reservation_standing& z = c->reservation.extra.grades.standing;
            std::uint32_t& given = entries_[{c->reservation.concert.value, c->reservation.date, z.section}];
            require(z.entry_first == given + 1, "entry numbers out of payment order");
            given += z.places;
            ++stats_["pay: entry numbers of a standing zone"];
        }
        ++r.confirmed;
        confirmed_total_ += r.amount;
        const engine::concert_state* concert = engine::find_concert(states_[partition], c->reservation.concert);
        require(concert != nullptr, "PaymentConfirmed of a concert of another partition");
        r.policy = concert->config.options.sale.venue->plan.refunds;
        r.starts_at = starts_at_of(concert->config, c->reservation.date);
        r.paid_at = c->reservation.paid_at;
        r.tickets = tickets_of(c->reservation);
        r.price = c->reservation.price;
        bought_.push_back({c->reservation.id, c->reservation.user});
        debits_in_flight_.erase(c->reservation.payment);
    }
    if (const auto* r = std::get_if<refund_started>(&e.body)) {
        payment_record& p = payments_[r->payment];
        require(p.confirmed == 1 && p.refunds_started == p.refunds_failed, "a refund of a payment not confirmed, or twice at once");
        // The price back, less the fee of the policy it was paid under (a date with startsAt).
        won fee = 0;
        if (!p.policy.fees.empty() && p.starts_at != 0) {
            const auto due = refund_fee(p.policy, p.starts_at, p.paid_at, e.at, p.price, p.tickets);
            require(due.has_value(), "a refund started under every tier of its policy");
            fee = due.value_or(0);
            ++stats_[fee != 0 ? "refund: a fee kept" : "refund: free under a fee policy"];
        }
        require(r->amount == p.amount - fee, "a refund of another amount than the price less its fee");
        p.fee = fee;
        ++p.refunds_started;
    }
    if (const auto* c = std::get_if<wallet_credited>(&e.body)) {
        payment_record& p = payments_[c->payment];
        require(p.refunds_started == p.refunds_failed + 1 && p.credited == 0, "a credit without a refund, or twice");
        won& balance = balances_[c->user.value];
        balance += c->amount;
        require(c->balance == balance, "WalletCredited reports a balance the model does not have");
        ++p.credited;
        credited_total_ += c->amount;
    }
    if (const auto* c = std::get_if<credit_refused>(&e.body)) {
        payment_record& p = payments_[c->payment];
        require(p.refunds_started == p.refunds_failed + 1, "a credit refused without a refund");
        require(balances_[c->user.value] > balance_max - c->amount, "refused a credit the wallet could take");
        require(c->balance == balances_[c->user.value], "CreditRefused reports a balance the model does not have");
    }
    if (const auto* r = std::get_if<reservation_refunded>(&e.body)) {
        payment_record& p = payments_[r->reservation.payment];
        require(p.credited == 1 && p.refunded == 0, "refunded a payment not credited once");
        require(r->reservation.status == reservation_status::refunded, "ReservationRefunded of a reservation not REFUNDED");
        require(r->reservation.extra.grades.standing.refund.fee == p.fee, "ReservationRefunded names another fee than its refund kept");
        ++p.refunded;
    }
    if (const auto* f = std::get_if<refund_failed>(&e.body)) {
        payment_record& p = payments_[f->payment];
        require(p.credited == 0 && p.refunds_started == p.refunds_failed + 1, "a refund failed after its credit");
        require(f->reason == refusal::balance_limit, "a refund failed for another reason than BALANCE_LIMIT");
        ++p.refunds_failed;
    }
    if (const auto* f = std::get_if<payment_failed>(&e.body)) {
        payment_record& r = payments_[f->payment];
        require(r.refused == 1 && r.debited == 0 && r.confirmed + r.failed == 0, "failed a payment that was debited");
        require(f->reason == refusal::insufficient_balance, "a payment failed for another reason");
        ++r.failed;
    }
}

// ---- answers ----------------------------------------------------------------------------------

void world::judge(const command& c, log_position at, const std::vector<event>& events) {
    if (!is_client(c)) return;
    const event* answer = nullptr;
    for (const event& e : events) {
        if (e.answers == at) answer = &e;
    }
    if (judge_replay(c, at, answer)) return;
    switch (c.type()) {
        case command_type::charge: return judge_charge(c, *answer);
        case command_type::enqueue: return judge_enqueue(c, at, *answer);
        case command_type::hold_seat: return judge_hold(c, at, *answer);
        case command_type::cancel_hold:
        case command_type::pay: return judge_reservation(c, at, answer);
        case command_type::refund: return judge_refund(c, at, answer);
        case command_type::claim_key: return judge_claim(*answer);
        case command_type::pause_sales:
        case command_type::block_seats:
        case command_type::update_concert:
        case command_type::add_dates: return judge_organizer(c, at, *answer);
        case command_type::add_eligible:
        case command_type::claim_eligibility: return judge_list(c, at, *answer);
        case command_type::change_scanner:
        case command_type::check_in: return judge_door(c, at, *answer);
        case command_type::register_user: {
            bool valid = std::get<register_user>(c.body).name.size() <= user_name_length_max;
            return require(answer->type() == (valid ? event_type::user_registered : event_type::refused),
                           "RegisterUser judged wrongly");
        }
        case command_type::create_concert: {
            bool fresh = created_.insert(std::get<create_concert>(c.body).concert.value).second;
            const auto* r = std::get_if<refused>(&answer->body);
            return require(fresh ? answer->type() == event_type::concert_created
                                 : r != nullptr && r->reason == refusal::concert_exists,
                           "CreateConcert judged wrongly");
        }
        default: return;
    }
}

// A (user, key) the partition remembers (used within 24 hours of its clock) answers the same
// request again with the first one's answer (a claim: KeyClaimed), and refuses another request
// with IDEMPOTENCY_KEY_REUSED. A key it does not remember is recorded with the request.
bool world::judge_replay(const command& c, log_position at, const event* answer) {
    if (c.meta.idempotency_key.empty()) return false;
    time_ms clock = states_[at.partition].clock;
    const auto* claim = std::get_if<claim_key>(&c.body);
    const std::uint64_t fingerprint = claim != nullptr ? claim->fingerprint : request_fingerprint(c);
    const std::string slot = slot_of(at.partition, c);
    auto it = keys_.find(slot);
    bool remembered = it != keys_.end() && clock < it->second.forget_at;
    if (!remembered) {
        keys_[slot] = key_use{at, clock + engine::idempotency_retention_ms, fingerprint};
        const auto* r = answer == nullptr ? nullptr : std::get_if<refused>(&answer->body);
        require(answer == nullptr || answer->type() != event_type::idempotent_replay, "a replay of a forgotten key");
        require(r == nullptr || r->reason != refusal::idempotency_key_reused, "IDEMPOTENCY_KEY_REUSED of a forgotten key");
        return false;
    }
    if (it->second.fingerprint != fingerprint) {
        const auto* r = answer == nullptr ? nullptr : std::get_if<refused>(&answer->body);
        require(r != nullptr && r->reason == refusal::idempotency_key_reused,
                "a key used for another request was not IDEMPOTENCY_KEY_REUSED");
        return true;
    }
    if (claim != nullptr) {
        judge_claim(*answer);
        return true;
    }
    require(answer != nullptr && answer->type() == event_type::idempotent_replay, "a repeated key was applied again");
    require(std::get<idempotent_replay>(answer->body).first == it->second.first, "a replay names another request");
    return true;
}

// A claim of a key that is fresh, or that the same request claimed before, is KeyClaimed.
void world::judge_claim(const event& answer) {
    require(answer.type() == event_type::key_claimed, "a ClaimKey of a fresh or same-request key was not KeyClaimed");
}

void world::judge_charge(const command& c, const event& answer) {
    won amount = std::get<charge>(c.body).amount;
    if (amount < charge_amount_min || amount > charge_amount_max) {
        const auto* r = std::get_if<refused>(&answer.body);
        return require(r && r->reason == refusal::invalid_amount, "an invalid amount was not INVALID_AMOUNT");
    }
    const auto* ok = std::get_if<charged>(&answer.body);
    won before = balances_[c.meta.user.value] - (ok ? ok->amount : 0);  // the model has counted it already
    if (before > balance_max - amount) {
        const auto* r = std::get_if<refused>(&answer.body);
        return require(r && r->reason == refusal::balance_limit, "a charge past the limit was not BALANCE_LIMIT");
    }
    require(ok && ok->amount == amount && ok->user == c.meta.user, "a valid charge was not Charged");
}

void world::judge_enqueue(const command& c, log_position at, const event& answer) {
    const engine::partition_state& s = states_[at.partition];
    const auto& body = std::get<enqueue>(c.body);
    const engine::concert_state* concert = engine::find_concert(s, body.concert);
    if (const auto* r = std::get_if<refused>(&answer.body)) {
        if (r->reason == refusal::not_eligible) {
            // The phase open (or next) is a LIST one the user claimed no id of, or none is left.
            const auto& phases = concert->config.options.sale.venue->plan.phases;
            require(concert != nullptr && !phases.empty(), "NOT_ELIGIBLE without phases");
            const bool none_left = concert->phase >= phases.size();
            require(none_left || (phases[concert->phase].list && !concert->phases[concert->phase].claims.contains(c.meta.user)),
                    "NOT_ELIGIBLE for a phase the user may join");
            ++stats_["phase: NOT_ELIGIBLE"];
            return;
        }
        return require(r->reason == refusal::concert_not_found && concert == nullptr, "Enqueue refused wrongly");
    }
    const auto* joined = std::get_if<queue_joined>(&answer.body);
    require(joined && concert && joined->user == c.meta.user, "Enqueue not answered by QueueJoined");
    const engine::attendee& a = concert->attendees.at(c.meta.user);
    require(a.ticket == joined->ticket, "QueueJoined names another ticket than the user's");
    require(!joined->fresh || joined->ticket + 1 == concert->next_ticket, "a fresh ticket is not the newest");
    require(joined->details.pre_queue == !concert->on_sale, "QueueJoined says pre-queue where it is not, or not where it is");
    if (!concert->phases.empty()) {
        // Only a user the phase admits joins it: an ALL phase, or a LIST phase the user claimed an id of.
        const sale_phase& phase = concert->config.options.sale.venue->plan.phases.at(concert->phase);
        require(!joined->fresh || !phase.list || concert->phases[concert->phase].claims.contains(c.meta.user), "a join of a LIST phase without a claim");
        if (joined->fresh && phase.list) ++stats_["phase: a claimant joins a LIST phase"];
    }
    if (joined->details.pre_queue) {
        require(joined->status == queue_status::waiting && joined->position == 0 && a.place == 0,
                "a pre-queue join with a position");
    } else if (joined->status == queue_status::waiting) {
        require(a.status == queue_status::waiting && joined->position == a.place - concert->admitted_through,
                "a WAITING position is not the waiting users ahead plus one");
    } else {
        require(joined->status == queue_status::active && a.status == queue_status::active && joined->position == 0,
                "QueueJoined is neither WAITING nor ACTIVE");
    }
}

// The hold checks of API.md, in its order, re-derived from the state the engine decided on.
void world::judge_hold(const command& c, log_position at, const event& answer) {
    const engine::partition_state& s = states_[at.partition];
    const auto& body = std::get<hold_seat>(c.body);
    const engine::concert_state* concert = engine::find_concert(s, body.concert);
    const engine::attendee* a = nullptr;
    if (concert != nullptr) {
        auto it = concert->attendees.find(c.meta.user);
        if (it != concert->attendees.end()) a = &it->second;
    }
    const engine::date_state* date = nullptr;
    if (concert != nullptr) {
        for (const auto& d : concert->dates) {
            if (d.date == body.date) date = &d;
        }
    }
    const bool pick = body.choice.count != 0;
    std::vector<std::uint32_t> asked = body.choice.seats.empty() ? std::vector<std::uint32_t>{body.seat} : body.choice.seats;
    std::sort(asked.begin(), asked.end());
    const bool repeated = std::adjacent_find(asked.begin(), asked.end()) != asked.end();
    const auto n = static_cast<std::uint32_t>(pick ? body.choice.count : asked.size());
    refusal expected = refusal::none;
    if (concert == nullptr || body.ticket == 0 || body.ticket >= concert->next_ticket || a == nullptr ||
        a->ticket < body.ticket) {
        expected = refusal::queue_token_invalid;
    } else if (a->ticket != body.ticket || a->status == queue_status::expired || a->status == queue_status::completed) {
        expected = refusal::queue_token_expired;
    } else if (a->status == queue_status::waiting) {
        expected = refusal::not_your_turn;
    } else if (concert->paused) {
        expected = refusal::sales_paused;
    } else if (const sale_phase* open = engine::open_phase(*concert);
               open != nullptr && open->list && !concert->phases[concert->phase].claims.contains(c.meta.user)) {
        expected = refusal::not_eligible;
    } else if (repeated || (!pick && body.choice.filter != pick_filter{})) {
        expected = refusal::invalid_request;
    } else if (date == nullptr) {
        expected = refusal::date_not_bookable;
    } else if ((!body.choice.filter.grade.empty() && !concert->venue.grade_named(body.choice.filter.grade)) ||
               (!body.choice.filter.section.empty() && !concert->venue.section_named(body.choice.filter.section))) {
        expected = refusal::section_not_found;
    } else if (!body.choice.filter.grade.empty() && body.choice.filter.section.empty() &&
               !concert->venue.grade_has_seats(*concert->venue.grade_named(body.choice.filter.grade))) {
        expected = refusal::section_not_found;  // a grade of standing places only: those are held by section
    } else if ((!body.choice.filter.grade.empty() && !engine::on_sale_grade(engine::open_phase(*concert), *concert->venue.grade_named(body.choice.filter.grade))) ||
               (!body.choice.filter.section.empty() &&
                !engine::on_sale_grade(engine::open_phase(*concert), concert->venue.grade_of_section(*concert->venue.section_named(body.choice.filter.section))))) {
        expected = refusal::grade_not_on_sale;
    } else if (!pick && std::any_of(asked.begin(), asked.end(), [&](std::uint32_t seat) { return seat < 1 || seat > date->seats; })) {
        expected = refusal::invalid_seat;
    }
    // Places of a standing zone, when the pick names one.
    std::optional<std::uint32_t> zone;
    if (expected == refusal::none && pick && !body.choice.filter.section.empty()) {
        const std::uint32_t section = *concert->venue.section_named(body.choice.filter.section);
        if (concert->venue.standing(section) != 0) zone = section;
    }
    if (const auto* held = std::get_if<seat_held>(&answer.body); held != nullptr && zone) {
        require(expected == refusal::none, "SeatHeld where " + std::string(refusal_code(expected)) + " was due");
        const reservation& r = held->reservation;
        const reservation_standing& z = r.extra.grades.standing;
        require(r.id == reservation_id::at(at) && r.user == c.meta.user, "SeatHeld names another reservation");
        require(seats_of(r).empty() && z.section == *zone && z.places == n && z.entry_first == 0,
                "a standing hold with seats, or other places than asked");
        require(date->zone_taken[*zone] <= concert->venue.standing(*zone), "a standing zone held past its capacity");
        const std::uint32_t grade = concert->venue.grade_of_section(*zone);
        const won price = static_cast<won>(n) * date->grade_price[grade];
        require(r.price == price && r.extra.grades.by_grade == std::vector<grade_amount>{{grade, price}},
                "a standing hold's price is not its places at the zone's grade price in force");
        hold_prices_[r.id] = price;
        require(a->holds <= concert->config.max_holds_per_user, "a hold past maxHoldsPerUser");
        judge_phase_hold(*concert, c.meta.user, {grade});
        ++stats_["hold: places of a standing zone"];
        return;
    }
    if (const auto* held = std::get_if<seat_held>(&answer.body)) {
        require(expected == refusal::none, "SeatHeld where " + std::string(refusal_code(expected)) + " was due");
        const reservation& r = held->reservation;
        require(r.id == reservation_id::at(at) && r.user == c.meta.user, "SeatHeld names another reservation");
        require(!zone && !is_standing(r), "standing places held where seats were asked");
        const std::vector<std::uint32_t> seats = seats_of(r);
        require(seats.size() == n && (pick || seats == asked), "SeatHeld holds other seats than asked");
        won price = 0;
        std::map<std::uint32_t, won> by_grade;
        for (std::uint32_t seat : seats) {
            price += engine::seat_price(*concert, *date, seat);
            if (concert->venue.has_layout()) by_grade[concert->venue.grade_of(seat)] += engine::seat_price(*concert, *date, seat);
        }
        std::vector<grade_amount> expected_split;
        for (const auto& [g, amount] : by_grade) expected_split.push_back({g, amount});
        require(r.extra.grades.by_grade == expected_split, "a hold's price by grade is not its seats' by grade");
        require(r.price == price, "a hold's price is not the sum of its seats' in force when it was placed");
        hold_prices_[r.id] = price;
        for (std::uint32_t seat : seats) {
            require(date->seat_cells[seat - 1] != engine::no_reservation &&
                        s.reservations[date->seat_cells[seat - 1] - 1].offset == at.offset,
                    "a held seat is not the new reservation's");
        }
        if (pick) judge_pick(*concert, *date, r, n, body.choice.filter);
        std::set<std::uint32_t> grades;
        for (std::uint32_t seat : seats) {
            if (concert->venue.has_layout()) grades.insert(concert->venue.grade_of(seat));
        }
        judge_phase_hold(*concert, c.meta.user, grades);
        require(a->holds <= concert->config.max_holds_per_user, "a hold past maxHoldsPerUser");
        require(r.expires_at == s.clock + concert->config.hold_ttl_seconds * 1000LL,
                "a hold expires at another time than now + holdTtlSeconds");
        ++stats_[pick ? "hold: best available" : n > 1 ? "hold: several seats" : "hold: one seat"];
        if (pick && body.choice.filter != pick_filter{}) ++stats_["hold: best available in a grade or section"];
        if (concert->venue.has_layout()) ++stats_["hold: seats of a venue's sections"];
        return;
    }
    const auto* r = std::get_if<refused>(&answer.body);
    require(r != nullptr, "HoldSeat answered by neither SeatHeld nor Refused");
    if (expected == refusal::none) {
        const std::uint32_t tickets_max = concert->config.options.max_tickets_per_user;
        const sale_phase* open = engine::open_phase(*concert);
        const bool off_sale = !pick && concert->venue.has_layout() && std::any_of(asked.begin(), asked.end(), [&](std::uint32_t seat) {
            return !engine::on_sale_grade(open, concert->venue.grade_of(seat));
        });
        const bool taken = !pick && std::any_of(asked.begin(), asked.end(), [&](std::uint32_t seat) {
            return engine::seat_of(*date, seat, s) != seat_status::available;
        });
        std::uint32_t bought = 0;
        if (open != nullptr && open->max_tickets != 0) {
            const auto& in_phase = concert->phases[concert->phase].bought;
            bought = in_phase.contains(c.meta.user) ? in_phase.at(c.meta.user) : 0;
        }
        expected = off_sale                                             ? refusal::grade_not_on_sale
                   : taken                                              ? refusal::seat_taken
                   : a->holds >= concert->config.max_holds_per_user     ? refusal::hold_limit
                   : tickets_max != 0 && a->tickets + n > tickets_max   ? refusal::ticket_limit
                   : open != nullptr && open->max_tickets != 0 && bought + n > open->max_tickets ? refusal::ticket_limit
                   : zone                                               ? refusal::section_full
                   : pick                                               ? refusal::no_adjacent_seats
                                                                        : refusal::none;
    }
    require(r->reason == expected, "HoldSeat refused with " + std::string(refusal_code(r->reason)) + ", expected " +
                                       std::string(refusal_code(expected)));
    if (expected == refusal::grade_not_on_sale) ++stats_["phase: GRADE_NOT_ON_SALE"];
    if (expected == refusal::section_full) {
        require(date->zone_taken[*zone] + n > concert->venue.standing(*zone), "SECTION_FULL where the zone had room");
        ++stats_["hold: a standing zone full"];
    }
    if (expected == refusal::no_adjacent_seats) {
        // No row the pick may use had n adjacent available seats.
        for (std::size_t row = 0; row < date->rows(); ++row) {
            if (!engine::pick_may_use(*concert, body.choice.filter, row)) continue;
            const std::uint32_t first = date->first_of_row(row), last = date->last_of_row(row);
            std::uint32_t run = 0;
            for (std::uint32_t seat = first; seat <= last; ++seat) {
                run = date->seat_cells[seat - 1] == engine::no_reservation ? run + 1 : 0;
                require(run < n, "NO_ADJACENT_SEATS where a row had " + std::to_string(n) + " side by side");
            }
        }
    }
    if (expected == refusal::not_your_turn) {
        require(r->detail == (a->place == 0 ? 0 : a->place - concert->admitted_through), "NOT_YOUR_TURN with a wrong position");
    }
}

// A phase's list and its claims, judged against the concert as it was before the command.
void world::judge_list(const command& c, log_position at, const event& answer) {
    const engine::partition_state& s = states_[at.partition];
    const engine::concert_state& was = before_change_;
    const auto* r = std::get_if<refused>(&answer.body);
    if (const auto* add = std::get_if<add_eligible>(&c.body)) {
        if (engine::find_concert(s, add->concert) == nullptr) return require(r && r->reason == refusal::concert_not_found, "AddEligible of an unknown concert");
        if (add->phase >= was.phases.size() || add->keys.empty()) return require(r && r->reason == refusal::invalid_request, "AddEligible of no phase");
        std::set<list_key> fresh;
        for (const list_key& k : add->keys) {
            if (!was.phases[add->phase].ids.contains(k)) fresh.insert(k);
        }
        const auto* added = std::get_if<eligible_added>(&answer.body);
        require(added && added->added == fresh.size() && added->total == was.phases[add->phase].ids.size() + fresh.size(),
                "EligibleAdded counts wrongly");
        ++stats_["list: ids added"];
        return;
    }
    const auto& claim = std::get<claim_eligibility>(c.body);
    if (engine::find_concert(s, claim.concert) == nullptr) return require(r && r->reason == refusal::concert_not_found, "a claim of an unknown concert");
    if (claim.phase >= was.phases.size()) return require(r && r->reason == refusal::invalid_request, "a claim of no phase");
    const engine::phase_state& p = was.phases[claim.phase];
    const auto id = p.ids.find(claim.key);
    const user_id claimant = id == p.ids.end() ? user_id{} : id->second;
    if (claim.freed) {
        if (claimant.value == 0) return require(r && r->reason == refusal::not_claimed, "a claim freed that nobody made");
        const auto* freed = std::get_if<claim_freed>(&answer.body);
        require(freed && freed->user == claimant, "ClaimFreed names another user");
        ++stats_["claim: freed by the organizer"];
        return;
    }
    const user_id user = c.meta.user;
    refusal expected = id == p.ids.end()      ? refusal::not_on_list
                       : claimant == user      ? refusal::none
                       : claimant.value != 0   ? refusal::already_claimed
                       : p.claims.contains(user) ? refusal::already_eligible
                                               : refusal::none;
    if (expected != refusal::none) {
        require(r && r->reason == expected, "a claim refused with another code than " + std::string(refusal_code(expected)));
        if (expected == refusal::already_claimed) ++stats_["claim: ALREADY_CLAIMED"];
        return;
    }
    const auto* made = std::get_if<eligibility_claimed>(&answer.body);
    require(made && made->user == user && made->fresh == (claimant != user), "a claim not answered EligibilityClaimed");
    ++stats_["claim: an id claimed"];
}

// A hold in a sale phase: in the phase open now, of grades it sells, by a user it admits (a LIST
// phase: a claimant, at the time of the hold), within its cap.
void world::judge_phase_hold(const engine::concert_state& c, user_id user, const std::set<std::uint32_t>& grades) {
    if (c.phases.empty()) return;
    const sale_phase* open = engine::open_phase(c);
    require(open != nullptr, "a hold while no sale phase is open");
    for (std::uint32_t g : grades) require(engine::on_sale_grade(open, g), "a hold of a grade the open phase does not sell");
    if (open->list) {
        require(c.phases[c.phase].claims.contains(user), "a hold in a LIST phase by a user without a claim");
        ++stats_["phase: a hold in a LIST phase by a claimant"];
    }
    if (open->max_tickets != 0) {
        require(c.phases[c.phase].bought.at(user) <= open->max_tickets, "seats bought in a phase past its cap");
    }
}

// A best-available pick, judged by API.md's rule on the seats as they were before it: n adjacent
// seats in one row; no pick leaving a single empty seat beside it if any pick avoids that; and no
// lower row with a pick at least as good.
void world::judge_pick(const engine::concert_state& c, const engine::date_state& d, const reservation& held, std::uint32_t n,
                       const pick_filter& filter) {
    const std::uint32_t slot = d.seat_cells[held.seat - 1];
    auto was_free = [&](std::uint32_t seat) {
        return d.seat_cells[seat - 1] == engine::no_reservation || d.seat_cells[seat - 1] == slot;
    };
    auto row_of = [&](std::uint32_t seat) { return d.row_of(seat); };
    // 0: not a pick (a seat taken, off the row, or in a row the filter leaves out); 1: leaves a
    // seat alone; 2: leaves none alone.
    auto grade = [&](std::uint32_t first) -> int {
        const std::size_t row = row_of(first);
        if (!engine::pick_may_use(c, filter, row)) return 0;
        const std::uint32_t row_first = d.first_of_row(row);
        const std::uint32_t row_last = d.last_of_row(row);
        if (first + n - 1 > row_last) return 0;
        for (std::uint32_t seat = first; seat < first + n; ++seat) {
            if (!was_free(seat)) return 0;
        }
        std::uint32_t left = 0, right = 0;
        for (std::uint32_t seat = first; seat > row_first && was_free(seat - 1); --seat) ++left;
        for (std::uint32_t seat = first + n - 1; seat < row_last && was_free(seat + 1); ++seat) ++right;
        return left == 1 || right == 1 ? 1 : 2;
    };
    const std::vector<std::uint32_t> seats = seats_of(held);
    for (std::size_t i = 1; i < seats.size(); ++i) require(seats[i] == seats[i - 1] + 1, "a best-available pick with a gap");
    const int got = grade(held.seat);
    require(got > 0, "a best-available pick of seats not side by side in one row");
    int best = 0;
    std::size_t best_row = 0;
    for (std::uint32_t first = 1; first + n - 1 <= d.seats; ++first) {
        const int g = grade(first);
        if (g > best) {
            best = g;
            best_row = row_of(first);
        }
    }
    require(got == best, "a best-available pick leaves a seat alone where another pick would not");
    require(row_of(held.seat) == best_row, "a best-available pick skips a lower row with as good a pick");
    ++stats_[got == 2 ? "pick: no seat left alone" : "pick: a seat left alone (no other way)"];
}

void world::judge_reservation(const command& c, log_position at, const event* answer) {
    const engine::partition_state& s = states_[at.partition];
    reservation_id id = c.type() == command_type::pay ? std::get<pay>(c.body).reservation
                                                       : std::get<cancel_hold>(c.body).reservation;
    const engine::reservation_record* rec = engine::find_reservation(s, id);
    refusal expected = refusal::none;
    if (rec == nullptr || rec->user != c.meta.user) expected = refusal::reservation_not_found;
    else if (rec->status == reservation_status::cancelled && answer && answer->type() == event_type::refused)
        expected = refusal::reservation_cancelled;
    else if (rec->status == reservation_status::expired) expected = refusal::hold_expired;
    else if (rec->status == reservation_status::refunded) expected = refusal::already_refunded;
    else if (rec->status == reservation_status::confirmed) expected = refusal::already_paid;
    else if (rec->payment_pending && rec->payment_offset != at.offset) expected = refusal::already_paid;

    if (answer == nullptr) {  // an accepted Pay
        require(expected == refusal::none && rec->payment_pending && rec->payment_offset == at.offset,
                "a Pay started where it should have been refused");
        require(s.clock < rec->expires_at, "a Pay accepted at or after expiresAt");
        return;
    }
    if (const auto* r = std::get_if<refused>(&answer->body)) {
        return require(r->reason == expected, std::string(to_string(c.type())) + " refused with " +
                                                  std::string(refusal_code(r->reason)) + ", expected " +
                                                  std::string(refusal_code(expected)));
    }
    require(answer->type() == event_type::hold_cancelled && expected == refusal::none &&
                rec->status == reservation_status::cancelled,
            "CancelHold accepted wrongly");
}

// Whether the model saw a ticket of the reservation admitted.
bool world::ticket_admitted(reservation_id r) const {
    auto it = admitted_.lower_bound({r.value, 0});
    return it != admitted_.end() && it->first.first == r.value;
}

// A refund is accepted (answered later, by its saga) only for the owner's CONFIRMED reservation,
// once, before the concert's refundsUntil.
void world::judge_refund(const command& c, log_position at, const event* answer) {
    const engine::partition_state& s = states_[at.partition];
    const engine::reservation_record* rec = engine::find_reservation(s, std::get<refund>(c.body).reservation);
    refusal expected = refusal::none;
    if (rec == nullptr || rec->user != c.meta.user) expected = refusal::reservation_not_found;
    else if (rec->status == reservation_status::refunded) expected = refusal::already_refunded;
    else if (rec->refund_pending && answer != nullptr) expected = refusal::already_refunded;
    else if (rec->status != reservation_status::confirmed) expected = refusal::not_paid;
    else if (ticket_admitted(reservation_id::at({at.partition, rec->offset}))) expected = refusal::ticket_used;
    else {
        // The policy the model saw in force at its payment, with the date's startsAt: its tiers;
        // otherwise refundsUntil.
        const payment_record& paid = payments_.at(payment_id::at({at.partition, rec->payment_offset}));
        if (!paid.policy.fees.empty() && paid.starts_at != 0) {
            if (!refund_fee(paid.policy, paid.starts_at, paid.paid_at, s.clock, paid.price, paid.tickets))
                expected = refusal::refund_not_allowed;
        } else {
            const time_ms until = s.concerts[rec->concert_index].config.options.refunds_until;
            if (until == 0 || s.clock >= until) expected = refusal::refund_not_allowed;
        }
    }
    if (answer == nullptr) {  // accepted: the saga answers it
        return require(expected == refusal::none && rec->refund_pending, "a Refund started where it should have been refused");
    }
    const auto* r = std::get_if<refused>(&answer->body);
    require(r != nullptr && r->reason == expected, "Refund refused with " +
                                                        std::string(r ? refusal_code(r->reason) : "no refusal") +
                                                        ", expected " + std::string(refusal_code(expected)));
}

// The organizer's controls, judged against the concert as it was before (before_change_).
void world::judge_organizer(const command& c, log_position at, const event& answer) {
    const engine::partition_state& s = states_[at.partition];
    const engine::concert_state& was = before_change_;
    const auto* r = std::get_if<refused>(&answer.body);
    const std::string name(to_string(c.type()));
    if (was.config.concert.value == 0) {
        return require(r != nullptr && r->reason == refusal::concert_not_found, name + " of an unknown concert not CONCERT_NOT_FOUND");
    }
    const engine::concert_state& now = *engine::find_concert(s, was.config.concert);
    refusal expected = refusal::none;
    bool changes = true;  // an accepted command moves the revision on
    if (const auto* p = std::get_if<pause_sales>(&c.body)) {
        changes = p->paused != was.paused;
        require(r == nullptr && now.paused == p->paused, name + " did not leave the sale as asked");
        if (p->paused) {
            const auto* e = std::get_if<sales_paused>(&answer.body);
            require(e != nullptr && e->since == now.paused_at && now.paused_at == (was.paused ? was.paused_at : s.clock),
                    "SalesPaused names another start of the pause");
        } else {
            const auto* e = std::get_if<sales_resumed>(&answer.body);
            require(e != nullptr && e->pause_ms == (was.paused ? s.clock - was.paused_at : 0), "SalesResumed of another length");
            if (was.paused) ++stats_["pause: a paused sale resumed"];
        }
    } else if (const auto* b = std::get_if<block_seats>(&c.body)) {
        const engine::date_state* date = nullptr;
        for (const auto& d : was.dates) {
            if (d.date == b->date) date = &d;
        }
        if (date == nullptr) {
            expected = refusal::date_not_bookable;
        } else if (std::any_of(b->seats.begin(), b->seats.end(), [&](std::uint32_t seat) { return seat < 1 || seat > date->seats; })) {
            expected = refusal::invalid_seat;
        } else {
            for (std::uint32_t seat : b->seats) {
                const std::uint32_t cell = date->seat_cells[seat - 1];
                // A hold whose expiry this command's clock passed was released before it applied.
                const bool live = cell != engine::no_reservation && cell != engine::blocked_cell &&
                                  (s.reservations[cell - 1].status == reservation_status::held ||
                                   s.reservations[cell - 1].status == reservation_status::confirmed);
                if (b->blocked && live) expected = refusal::seat_taken;
                if (!b->blocked && cell != engine::blocked_cell) expected = refusal::not_blocked;
                if (expected != refusal::none) break;
            }
        }
        if (expected == refusal::none) {
            const engine::date_state* after = nullptr;
            for (const auto& d : now.dates) {
                if (d.date == b->date) after = &d;
            }
            for (std::uint32_t seat : b->seats) {
                require(engine::seat_of(*after, seat, s) == (b->blocked ? seat_status::blocked : seat_status::available),
                        name + " left a seat otherwise than asked");
            }
            require(b->blocked ? answer.type() == event_type::seats_blocked : answer.type() == event_type::seats_released,
                    name + " answered by another event");
        }
    } else if (const auto* u = std::get_if<update_concert>(&c.body)) {
        const create_concert changed = with_settings(was.config, u->settings);
        bool same_grades = true;
        if ((u->settings.set & concert_settings::grades_field) != 0) {
            const auto& before = was.config.options.sale.venue->grades;
            same_grades = !before.empty() && u->settings.grades.size() == before.size();
            for (std::size_t g = 0; same_grades && g < before.size(); ++g) same_grades = u->settings.grades[g].grade == before[g].grade;
        }
        const auto& policies = was.refund_policies;
        const bool too_many_policies = (u->settings.set & concert_settings::refund_policy_field) != 0 && policies.size() >= refund_policies_max &&
                                       std::find(policies.begin(), policies.end(), u->settings.phases.refund_policy) == policies.end();
        if (u->settings.set == 0 || !engine::valid_catalog(changed) || !same_grades || too_many_policies) {
            expected = refusal::invalid_request;
        } else if ((u->settings.set & concert_settings::phases_field) != 0 && !phases_may_change(was, u->settings.phases.phases, c.meta.accepted_at)) {
            expected = refusal::phase_started;
            ++stats_["phase: PHASE_STARTED"];
        } else if (u->conditional && u->revision != was.revision) {
            expected = refusal::precondition_failed;
        } else {
            require(answer.type() == event_type::concert_updated && now.config == changed, "ConcertUpdated left another catalog");
            if ((u->settings.set & concert_settings::grades_field) != 0) ++stats_["price: a venue's grades repriced"];
            if ((u->settings.set & concert_settings::phases_field) != 0) ++stats_["phase: the phases changed"];
            if ((u->settings.set & concert_settings::refund_policy_field) != 0) ++stats_["refund: the policy changed"];
        }
    } else if (const auto* a = std::get_if<add_dates>(&c.body)) {
        const bool exists = std::any_of(a->schedules.begin(), a->schedules.end(), [&](const schedule& d) {
            return std::any_of(was.dates.begin(), was.dates.end(), [&](const auto& x) { return x.date == d.date; });
        });
        if (exists) {
            expected = refusal::date_exists;
        } else if (!engine::valid_catalog(with_dates(was.config, a->schedules, a->seats_per_row))) {
            expected = refusal::invalid_request;
        } else {
            require(answer.type() == event_type::dates_added && now.dates.size() == was.dates.size() + a->schedules.size(),
                    "DatesAdded added other dates");
        }
    }
    if (expected != refusal::none) {
        require(r != nullptr && r->reason == expected, name + " refused with " + std::string(r ? refusal_code(r->reason) : "nothing") +
                                                          ", expected " + std::string(refusal_code(expected)));
        return require(now.revision == was.revision, "a refused change moved the revision");
    }
    require(r == nullptr, name + " refused with " + std::string(r ? refusal_code(r->reason) : "") + " where nothing was due");
    require(now.revision == was.revision + (changes ? 1 : 0), name + " moved the revision wrongly");
}

// The door: scanners as the organizer added and removed them, and each scan judged against the
// model's admissions (a ticket admitted once; the same scanner's scan id again answers ADMITTED
// again, not counted) and the reservation as the partition has it.
void world::judge_door(const command& c, log_position at, const event& answer) {
    const engine::partition_state& s = states_[at.partition];
    const auto* r = std::get_if<refused>(&answer.body);
    const auto refusal_is = [&](refusal expected, const std::string& what) {
        require(r != nullptr && r->reason == expected, what + ": refused with " + std::string(r ? refusal_code(r->reason) : "nothing") +
                                                          ", expected " + std::string(refusal_code(expected)));
    };
    if (const auto* change = std::get_if<change_scanner>(&c.body)) {
        const engine::concert_state* concert = engine::find_concert(s, change->concert);
        auto& scanners = scanners_[change->concert.value];
        if (change->removed) {
            auto it = scanners.find(change->scanner.value);
            if (it == scanners.end() || it->second.removed) return refusal_is(refusal::scanner_not_found, "a removal of no scanner");
            require(answer.type() == event_type::scanner_removed, "a scanner's removal not answered ScannerRemoved");
            it->second.removed = true;
            return;
        }
        const bool gate_known = change->gate.empty() || concert->venue.gate_named(change->gate) != 0;
        if (change->name.empty() || !gate_known || scanners.size() >= scanners_per_concert_max)
            return refusal_is(refusal::invalid_request, "a scanner that cannot be");
        const auto* added = std::get_if<scanner_added>(&answer.body);
        require(added != nullptr && added->scanner == reservation_id::at(at) && added->gate == change->gate, "ScannerAdded names another scanner");
        scanners[added->scanner.value] = {change->gate, false};
        return;
    }
    const check_in& in = std::get<check_in>(c.body);
    const engine::concert_state* concert = engine::find_concert(s, in.concert);
    std::string gate = in.gate;
    if (in.scanner.value != 0) {
        auto& scanners = scanners_[in.concert.value];
        auto it = scanners.find(in.scanner.value);
        if (it == scanners.end() || it->second.removed) return refusal_is(refusal::scanner_not_found, "a scan by no scanner");
        gate = it->second.gate;
    } else if (!gate.empty() && concert->venue.gate_named(gate) == 0) {
        return refusal_is(refusal::invalid_request, "a scan at a gate the venue does not have");
    }
    const auto* checked = std::get_if<tickets_checked>(&answer.body);
    require(checked != nullptr && checked->outcomes.size() == in.scans.size() && checked->gate == gate, "CheckIn not answered scan by scan");
    if (in.offline) ++stats_["door: an offline batch"];
    const std::uint32_t index = s.concert_index.at(in.concert);
    for (std::size_t i = 0; i < in.scans.size(); ++i) {
        const ticket_scan& scan = in.scans[i];
        const scan_outcome& got = checked->outcomes[i];
        const engine::reservation_record* rec = engine::find_reservation(s, scan.reservation);
        const std::pair<std::uint64_t, std::uint32_t> key{scan.reservation.value, scan.ticket};
        scan_result expected = scan_result::admitted;
        bool again = false;
        std::string first_gate;
        std::uint32_t tickets = 0;
        if (rec != nullptr) tickets = rec->places != 0 ? rec->places : 1 + static_cast<std::uint32_t>(rec->more_seats.size());
        if (rec == nullptr || rec->concert_index != index || scan.ticket > tickets ||
            (rec->status != reservation_status::confirmed && rec->status != reservation_status::refunded)) {
            expected = scan_result::unknown;
        } else if (auto first = admitted_.find(key); first != admitted_.end()) {
            again = !scan.scan_id.empty() && first->second.scanner == in.scanner.value && first->second.scan_id == scan.scan_id;
            expected = again ? scan_result::admitted : scan_result::duplicate;
            first_gate = first->second.gate;
        } else if (rec->status == reservation_status::refunded || rec->refund_pending) {
            expected = scan_result::revoked;
        } else if (concert->dates[rec->date_index].date != scan.date) {
            expected = scan_result::wrong_date;
        } else {
            const std::uint32_t own = !concert->venue.has_layout() ? 0
                                      : concert->venue.gate_of_section(rec->places != 0 ? rec->zone : concert->venue.place_of(rec->seat).section);
            if (!in.offline && !gate.empty() && own != 0 && concert->venue.gates()[own - 1] != gate) expected = scan_result::wrong_gate;
        }
        require(got.result == expected && got.again == again, "a scan found " + std::string(to_string(got.result)) + (got.again ? " again" : "") +
                                                                 ", expected " + std::string(to_string(expected)) + (again ? " again" : ""));
        if (expected == scan_result::duplicate) require(got.first_gate == first_gate, "a DUPLICATE names another first gate");
        if (expected == scan_result::admitted && !again) {
            require(admitted_.emplace(key, admitted_model{gate, in.scanner.value, scan.scan_id}).second, "a ticket admitted twice");
            ++stats_["door: a ticket admitted"];
        }
        if (again) ++stats_["door: the same scan again"];
        if (expected == scan_result::duplicate) ++stats_["door: a duplicate scan"];
        if (expected == scan_result::wrong_gate) ++stats_["door: WRONG_GATE"];
        if (expected == scan_result::revoked) ++stats_["door: REVOKED"];
        if (expected == scan_result::wrong_date) ++stats_["door: WRONG_DATE"];
    }
}

}  // namespace encore::sim
