// How each event changes the read models. Every change goes through a staged_batch; nothing here
// touches the in-memory mirror (publish does, once the batch is written).

#include <cassert>
#include <string>

#include "events/codec.hpp"
#include "events/ids.hpp"
#include "projections/keys.hpp"
#include "projections/records.hpp"
#include "projections/store.hpp"

namespace encore::projections {

std::optional<std::string> staged_batch::get(const std::string& key) const {
    // Every key an event reads is one the image holds; histories and outcomes are only written.
    assert(image::holds(key[0]));
    if (auto it = changes_.find(key); it != changes_.end()) return it->second;
    if (auto value = shard_.find(key)) return std::string(*value);
    return std::nullopt;
}

void staged_batch::put_outcome(log_position request, const event& answer, std::string_view encoded) {
    put(keys::outcome_key(request), encoded.empty() ? encode(answer) : std::string(encoded));
}

namespace {

error contradiction(const event& e, std::string what) {
    return error{errc::corrupt, "read models: event " + std::to_string(e.sequence) + " (" +
                                    std::string(to_string(e.type())) + "): " + std::move(what)};
}

// One event being staged: the batch, the event, and typed access to the records it touches.
class stager {
public:
    stager(model_writes& batch, const event& e) : batch_(batch), event_(e) {}

    result<unit> operator()(const concert_created& body);
    result<unit> operator()(const user_registered& body);
    result<unit> operator()(const queue_joined& body);
    result<unit> operator()(const queue_admitted& body);
    result<unit> operator()(const queue_left& body);
    result<unit> operator()(const seat_held& body);
    result<unit> operator()(const hold_expired& body) { return release(body.reservation, &date_record::holds_expired); }
    result<unit> operator()(const hold_cancelled& body) {
        return release(body.reservation, &date_record::holds_cancelled);
    }
    result<unit> operator()(const payment_started& body) { return set_payment(body.reservation, body.payment); }
    result<unit> operator()(const wallet_debited& body);
    result<unit> operator()(const debit_refused& body);
    result<unit> operator()(const payment_confirmed& body);
    result<unit> operator()(const payment_failed& body) { return set_payment(body.reservation, payment_id{}); }
    result<unit> operator()(const charged& body);
    // Refusals and replays change no model; their outcome is stored like every answer.
    result<unit> operator()(const refused&) { return unit{}; }
    result<unit> operator()(const idempotent_replay&) { return unit{}; }
    result<unit> operator()(const key_claimed&) { return unit{}; }
    // Refunds: the credit shows in the wallet, the refund frees the seat and takes back the revenue.
    result<unit> operator()(const refund_started&) { return unit{}; }
    result<unit> operator()(const wallet_credited& body);
    result<unit> operator()(const credit_refused& body);
    result<unit> operator()(const reservation_refunded& body);
    result<unit> operator()(const refund_failed&) { return unit{}; }
    result<unit> operator()(const queue_placed& body);
    // The organizer's controls.
    result<unit> operator()(const sales_paused& body);
    result<unit> operator()(const sales_resumed& body);
    result<unit> operator()(const active_extended& body);
    result<unit> operator()(const seats_blocked& body);
    result<unit> operator()(const seats_released& body);
    result<unit> operator()(const concert_updated& body);
    result<unit> operator()(const dates_added& body);
    // Sale phases.
    result<unit> operator()(const phase_opened& body);
    result<unit> operator()(const phase_closed& body);
    result<unit> operator()(const eligible_added&) { return unit{}; }  // the list is the engine's alone
    result<unit> operator()(const eligibility_claimed& body);
    result<unit> operator()(const claim_freed& body);
    // The door.
    result<unit> operator()(const scanner_added& body);
    result<unit> operator()(const scanner_removed& body);
    result<unit> operator()(const tickets_checked& body);

private:
    // The record under `key`, which must exist (`what` names it in the error).
    template <class T, class Decode>
    result<T> require(const std::string& key, Decode decode, const char* what) {
        std::optional<std::string> raw = batch_.get(key);
        if (!raw) return contradiction(event_, std::string("no ") + what);
        std::optional<T> value = decode(*raw);
        if (!value) return error{errc::corrupt, std::string("read models: undecodable ") + what};
        return std::move(*value);
    }
    result<std::uint64_t> counter(const std::string& key);

    result<unit> release(const reservation& r, std::uint64_t date_record::*counter);
    result<unit> set_payment(reservation_id r, payment_id payment);
    // Checks that every seat of the reservation is `from`, then sets each to `to` (AVAILABLE
    // erases it) and adds `kind` to its history; returns the seat count.
    result<std::uint32_t> move_seats(const reservation& r, const date_record& d, seat_status from, seat_status to,
                                     seat_history_entry::kind kind, const char* contradiction_text);
    result<unit> record_wait(concert_id c, time_ms wait_ms);
    void add_history(user_id u, history_entry entry);
    // Counts this event in the concert's timeline bucket (`count` changes the record) and
    // restates the queue's waiting count there; call after the queue counters are staged.
    template <class Count>
    result<unit> add_to_timeline(concert_id c, Count count);
    void add_seat_history(const reservation& r, std::uint32_t seat, seat_history_entry::kind kind);
    // A change of the organizer's: the concert moves to `revision` (`update` changes its state
    // record) and the event goes into its change log. False for a repeat that changed nothing
    // (the revision it already has).
    template <class Update>
    result<bool> change(concert_id c, std::uint64_t revision, Update update);
    // The concert's catalog, changed by `update` (settings or new dates) and stored again.
    template <class Update>
    result<unit> change_catalog(concert_id c, Update update);
    // The concert's state record, changed by `update` (no revision: not an organizer's change).
    template <class Update>
    result<unit> set_state(concert_id c, Update update);
    // A standing reservation's places from `from` to `to` in its zone's record.
    result<unit> move_places(const reservation& r, seat_status from, seat_status to);
    // Adds (sign 1) or takes back (-1) a reservation's price by grade to its date's revenue by grade.
    result<unit> add_grade_revenue(const reservation& r, int sign);
    // Blocks (`block`) or releases seats of a date.
    result<unit> set_blocked(concert_id c, day_number d, const std::vector<std::uint32_t>& seats, bool block);

    model_writes& batch_;
    const event& event_;
};

result<std::uint64_t> stager::counter(const std::string& key) {
    std::optional<std::string> raw = batch_.get(key);
    if (!raw) return std::uint64_t{0};
    auto value = decode_u64(*raw);
    if (!value) return error{errc::corrupt, "read models: undecodable counter"};
    return *value;
}

// The start of the fine timeline bucket holding `at` (rounded down, negative times included).
time_ms timeline_bucket_of(time_ms at) {
    const time_ms q = at / timeline_bucket_ms;
    return (q - (at % timeline_bucket_ms < 0 ? 1 : 0)) * timeline_bucket_ms;
}

template <class Count>
result<unit> stager::add_to_timeline(concert_id c, Count count) {
    auto counters = require<queue_counters_record>(keys::queue_counters_key(c), decode_queue_counters,
                                                   "queue counters (unknown concert)");
    if (!counters) return counters.err();
    std::string key = keys::timeline_key(c, timeline_bucket_of(event_.at));
    std::optional<std::string> raw = batch_.get(key);
    timeline_record record;
    if (raw) {
        auto decoded = decode_timeline_record(*raw);
        if (!decoded) return error{errc::corrupt, "read models: undecodable timeline record"};
        record = *decoded;
    }
    count(record);
    record.waiting_at_end = counters->waiting;
    batch_.put(std::move(key), encode_record(record));
    return unit{};
}

void stager::add_seat_history(const reservation& r, std::uint32_t seat, seat_history_entry::kind kind) {
    // Every event of a seat is in the concert's partition, so its sequence orders them.
    batch_.put(keys::seat_history_key(r.concert, r.date, seat, event_.sequence),
               encode_record(seat_history_entry{kind, event_.at, r.id, r.user}));
}

result<unit> stager::operator()(const concert_created& body) {
    const create_concert& c = body.concert;
    if (batch_.get(keys::concert_key(c.concert))) return contradiction(event_, "the concert exists already");
    if (!concert_mirror::fits(c)) return contradiction(event_, "a date without seats, with too many, or twice");
    batch_.put(keys::concert_key(c.concert), encode(event_));
    for (const schedule& s : c.schedules) {
        date_record d;
        d.seats = s.seats;
        batch_.put(keys::date_key(c.concert, s.date), encode_record(d));
    }
    batch_.put(keys::queue_counters_key(c.concert), encode_record(queue_counters_record{}));
    // The timeline starts at the creation, with an empty bucket.
    return add_to_timeline(c.concert, [](timeline_record&) {});
}

result<unit> stager::operator()(const user_registered& body) {
    batch_.put(keys::user_key(body.user), body.name);
    return unit{};
}

result<unit> stager::operator()(const queue_joined& body) {
    // A repeated join changes nothing: the user keeps their live ticket.
    if (!body.fresh) return unit{};
    auto counters = require<queue_counters_record>(keys::queue_counters_key(body.concert), decode_queue_counters,
                                                   "queue counters (unknown concert)");
    if (!counters) return counters.err();
    // The place: none yet in the pre-queue; else behind everyone admitted and waiting.
    queue_entry_record entry{body.ticket, 0, body.status, body.active_until, event_.at};
    if (body.status == queue_status::active) {
        entry.place = counters->admitted_through + 1;
        counters->active += 1;
        counters->admitted_total += 1;
        counters->admitted_through = entry.place;
        if (auto r = record_wait(body.concert, 0); !r) return r;
    } else if (body.status == queue_status::waiting) {
        if (!body.details.pre_queue) {
            if (body.position == 0) return contradiction(event_, "a waiting ticket without a position");
            entry.place = counters->admitted_through + body.position;
        }
        counters->waiting += 1;
    } else {
        return contradiction(event_, "a fresh ticket that is neither waiting nor active");
    }
    batch_.put(keys::queue_entry_key(body.concert, body.user), encode_record(entry));
    batch_.put(keys::queue_counters_key(body.concert), encode_record(*counters));
    const bool admitted = body.status == queue_status::active;
    return add_to_timeline(body.concert, [admitted](timeline_record& t) {
        t.queue_joined += 1;
        t.queue_admitted += admitted ? 1 : 0;
    });
}

result<unit> stager::operator()(const queue_admitted& body) {
    auto counters = require<queue_counters_record>(keys::queue_counters_key(body.concert), decode_queue_counters,
                                                   "queue counters (unknown concert)");
    if (!counters) return counters.err();
    auto entry = require<queue_entry_record>(keys::queue_entry_key(body.concert, body.user), decode_queue_entry,
                                             "queue entry");
    if (!entry) return entry.err();
    if (entry->ticket != body.ticket || entry->status != queue_status::waiting || counters->waiting == 0 ||
        entry->place != counters->admitted_through + 1)
        return contradiction(event_, "admits a ticket that is not first in the queue");
    entry->status = queue_status::active;
    entry->active_until = body.active_until;
    counters->waiting -= 1;
    counters->active += 1;
    counters->admitted_total += 1;
    counters->admitted_through = entry->place;
    if (auto r = record_wait(body.concert, event_.at - entry->joined_at); !r) return r;
    batch_.put(keys::queue_entry_key(body.concert, body.user), encode_record(*entry));
    batch_.put(keys::queue_counters_key(body.concert), encode_record(*counters));
    return add_to_timeline(body.concert, [](timeline_record& t) { t.queue_admitted += 1; });
}

result<unit> stager::operator()(const queue_left& body) {
    auto counters = require<queue_counters_record>(keys::queue_counters_key(body.concert), decode_queue_counters,
                                                   "queue counters (unknown concert)");
    if (!counters) return counters.err();
    auto entry = require<queue_entry_record>(keys::queue_entry_key(body.concert, body.user), decode_queue_entry,
                                             "queue entry");
    if (!entry) return entry.err();
    if (entry->ticket != body.ticket || entry->status != queue_status::active || counters->active == 0)
        return contradiction(event_, "a ticket leaves that is not active");
    entry->status = body.completed ? queue_status::completed : queue_status::expired;
    counters->active -= 1;
    batch_.put(keys::queue_entry_key(body.concert, body.user), encode_record(*entry));
    batch_.put(keys::queue_counters_key(body.concert), encode_record(*counters));
    return unit{};
}

result<unit> stager::operator()(const queue_placed& body) {
    auto entry = require<queue_entry_record>(keys::queue_entry_key(body.concert, body.user), decode_queue_entry,
                                             "queue entry");
    if (!entry) return entry.err();
    if (entry->ticket != body.ticket || entry->status != queue_status::waiting || entry->place != 0 || body.place == 0)
        return contradiction(event_, "places a ticket that is not in the pre-queue");
    entry->place = body.place;
    batch_.put(keys::queue_entry_key(body.concert, body.user), encode_record(*entry));
    return unit{};
}

result<unit> stager::record_wait(concert_id c, time_ms wait_ms) {
    std::string key = keys::wait_bucket_key(c, wait_bucket_of(wait_ms));
    auto count = counter(key);
    if (!count) return count.err();
    batch_.put(std::move(key), encode_u64(*count + 1));
    return unit{};
}

result<std::uint32_t> stager::move_seats(const reservation& r, const date_record& d, seat_status from, seat_status to,
                                         seat_history_entry::kind kind, const char* contradiction_text) {
    // Places of a standing zone have no seats: its zone record counts them (and the date's seat
    // counters, kept equal to the seats' statuses, do not).
    if (is_standing(r)) {
        if (auto moved = move_places(r, from, to); !moved) return moved.err();
        return 0u;
    }
    const std::vector<std::uint32_t> seats = seats_of(r);
    for (std::uint32_t seat : seats) {
        if (seat < 1 || seat > d.seats) return contradiction(event_, "seat number outside the date");
        std::optional<std::string> raw = batch_.get(keys::seat_key(r.concert, r.date, seat));
        seat_status now = seat_status::available;
        if (raw) {
            const std::string& v = *raw;
            if (v.size() != 1 || v[0] < 1 || v[0] > 3) return error{errc::corrupt, "read models: undecodable seat"};
            now = static_cast<seat_status>(v[0]);
        }
        if (now != from) return contradiction(event_, contradiction_text);
    }
    for (std::uint32_t seat : seats) {
        std::string key = keys::seat_key(r.concert, r.date, seat);
        if (to == seat_status::available) {
            batch_.erase(std::move(key));
        } else {
            batch_.put(std::move(key), std::string(1, static_cast<char>(to)));
        }
        add_seat_history(r, seat, kind);
    }
    return static_cast<std::uint32_t>(seats.size());
}

result<unit> stager::move_places(const reservation& r, seat_status from, seat_status to) {
    const reservation_standing& z = r.extra.grades.standing;
    std::string key = keys::zone_key(r.concert, r.date, z.section);
    zone_record zone;
    if (std::optional<std::string> raw = batch_.get(key)) {
        auto decoded = decode_zone_record(*raw);
        if (!decoded) return error{errc::corrupt, "read models: undecodable standing zone"};
        zone = *decoded;
    }
    if (from == seat_status::held) {
        if (zone.held < z.places) return contradiction(event_, "releases more standing places than are held");
        zone.held -= z.places;
    } else if (from == seat_status::sold) {
        if (zone.sold < z.places) return contradiction(event_, "refunds more standing places than are sold");
        zone.sold -= z.places;
    }
    if (to == seat_status::held) zone.held += z.places;
    if (to == seat_status::sold) {
        // Entry numbers follow one another in payment order, never reused.
        if (z.entry_first != zone.entries + 1) return contradiction(event_, "gives entry numbers out of order");
        zone.sold += z.places;
        zone.entries += z.places;
    }
    batch_.put(std::move(key), encode_record(zone));
    return unit{};
}

result<unit> stager::operator()(const seat_held& body) {
    const reservation& r = body.reservation;
    auto date = require<date_record>(keys::date_key(r.concert, r.date), decode_date_record, "date (unknown concert)");
    if (!date) return date.err();
    auto n = move_seats(r, *date, seat_status::available, seat_status::held, seat_history_entry::kind::held,
                        "holds a seat that is not available");
    if (!n) return n.err();
    date->held += *n;
    date->holds_placed += 1;
    batch_.put(keys::date_key(r.concert, r.date), encode_record(*date));
    batch_.put(keys::reservation_key(r.id), encode_record(r));
    batch_.put(keys::user_reservation_key(r.user, r.held_at, r.id), std::string());
    return add_to_timeline(r.concert, [](timeline_record& t) { t.holds_placed += 1; });
}

// A hold ends without a sale (expired or cancelled): its seats are AVAILABLE again.
result<unit> stager::release(const reservation& r, std::uint64_t date_record::*ended) {
    auto date = require<date_record>(keys::date_key(r.concert, r.date), decode_date_record, "date (unknown concert)");
    if (!date) return date.err();
    const bool expired = ended == &date_record::holds_expired;
    auto n = move_seats(r, *date, seat_status::held, seat_status::available,
                        expired ? seat_history_entry::kind::expired : seat_history_entry::kind::cancelled,
                        "releases a seat that is not held");
    if (!n) return n.err();
    if (date->held < *n) return contradiction(event_, "releases more seats than are held");
    date->held -= *n;
    (*date).*ended += 1;
    batch_.put(keys::date_key(r.concert, r.date), encode_record(*date));
    batch_.put(keys::reservation_key(r.id), encode_record(r));
    return add_to_timeline(r.concert, [expired](timeline_record& t) {
        (expired ? t.holds_expired : t.holds_cancelled) += 1;
    });
}

result<unit> stager::operator()(const payment_confirmed& body) {
    const reservation& r = body.reservation;
    auto date = require<date_record>(keys::date_key(r.concert, r.date), decode_date_record, "date (unknown concert)");
    if (!date) return date.err();
    auto n = move_seats(r, *date, seat_status::held, seat_status::sold, seat_history_entry::kind::sold,
                        "sells a seat that is not held");
    if (!n) return n.err();
    if (date->held < *n) return contradiction(event_, "sells more seats than are held");
    date->held -= *n;
    date->sold += *n;
    date->revenue += r.price;
    date->payments += 1;
    if (auto added = add_grade_revenue(r, 1); !added) return added;
    batch_.put(keys::date_key(r.concert, r.date), encode_record(*date));
    batch_.put(keys::reservation_key(r.id), encode_record(r));
    batch_.put(keys::date_ticket_key(r.concert, r.date, r.id), std::string());
    return add_to_timeline(r.concert, [price = r.price, n = tickets_of(r)](timeline_record& t) {
        t.seats_sold += n;
        t.revenue += price;
    });
}

// The engine records the payment in flight on the reservation (and clears it when it fails).
result<unit> stager::set_payment(reservation_id id, payment_id payment) {
    auto r = require<reservation>(keys::reservation_key(id), decode_reservation, "reservation");
    if (!r) return r.err();
    r->payment = payment;
    batch_.put(keys::reservation_key(id), encode_record(*r));
    return unit{};
}

void stager::add_history(user_id u, history_entry entry) {
    // A user's wallet events are all in the user's partition, so its sequence orders them.
    batch_.put(keys::history_key(u, event_.sequence), encode_record(entry));
}

result<unit> stager::operator()(const wallet_debited& body) {
    batch_.put(keys::balance_key(body.user), encode_i64(body.balance));
    add_history(body.user, {history_entry::kind::payment, body.amount, body.balance, event_.at, body.reservation});
    return unit{};
}

result<unit> stager::operator()(const debit_refused& body) {
    // Nothing was taken; the event restates the balance.
    batch_.put(keys::balance_key(body.user), encode_i64(body.balance));
    return unit{};
}

result<unit> stager::operator()(const charged& body) {
    batch_.put(keys::balance_key(body.user), encode_i64(body.balance));
    add_history(body.user, {history_entry::kind::charge, body.amount, body.balance, event_.at, reservation_id{}});
    return unit{};
}

result<unit> stager::operator()(const wallet_credited& body) {
    batch_.put(keys::balance_key(body.user), encode_i64(body.balance));
    add_history(body.user, {history_entry::kind::refund, body.amount, body.balance, event_.at, body.reservation});
    return unit{};
}

result<unit> stager::operator()(const credit_refused& body) {
    // Nothing was credited; the event restates the balance.
    batch_.put(keys::balance_key(body.user), encode_i64(body.balance));
    return unit{};
}

result<unit> stager::operator()(const reservation_refunded& body) {
    reservation r = body.reservation;
    r.extra.refunded_at = body.refunded_at;
    auto date = require<date_record>(keys::date_key(r.concert, r.date), decode_date_record, "date (unknown concert)");
    if (!date) return date.err();
    const won fee = r.extra.grades.standing.refund.fee;
    if (fee < 0 || fee > r.price) return contradiction(event_, "keeps a refund fee outside 0..price");
    if (date->revenue < r.price - fee) return contradiction(event_, "refunds more than the date took");
    auto n = move_seats(r, *date, seat_status::sold, seat_status::available, seat_history_entry::kind::refunded,
                        "refunds a seat that is not sold");
    if (!n) return n.err();
    if (date->sold < *n) return contradiction(event_, "refunds more seats than are sold");
    date->sold -= *n;
    date->revenue -= r.price - fee;
    date->refund_fees += fee;
    date->refunds += 1;
    if (auto taken = add_grade_revenue(r, -1); !taken) return taken;
    batch_.put(keys::date_key(r.concert, r.date), encode_record(*date));
    batch_.put(keys::reservation_key(r.id), encode_record(r));
    return add_to_timeline(r.concert, [amount = r.price - fee](timeline_record& t) {
        t.refunds += 1;
        t.revenue -= amount;
    });
}

result<unit> stager::add_grade_revenue(const reservation& r, int sign) {
    for (const grade_amount& g : r.extra.grades.by_grade) {
        std::string key = keys::grade_revenue_key(r.concert, r.date, g.grade);
        won revenue = 0;
        if (auto raw = batch_.get(key)) {
            auto decoded = decode_i64(*raw);
            if (!decoded) return error{errc::corrupt, "read models: undecodable grade revenue"};
            revenue = *decoded;
        }
        revenue += sign * g.amount;
        if (revenue < 0) return contradiction(event_, "refunds more than a grade took");
        batch_.put(std::move(key), encode_i64(revenue));
    }
    return unit{};
}

// ---- the organizer's controls ------------------------------------------------------------------

template <class Update>
result<bool> stager::change(concert_id c, std::uint64_t revision, Update update) {
    if (!batch_.get(keys::concert_key(c))) return contradiction(event_, "a change of an unknown concert");
    concert_state_record state;
    if (auto raw = batch_.get(keys::concert_state_key(c))) {
        auto decoded = decode_concert_state(*raw);
        if (!decoded) return error{errc::corrupt, "read models: undecodable concert state"};
        state = *decoded;
    }
    if (revision == state.revision) return false;
    if (revision != state.revision + 1) return contradiction(event_, "a change that skips a revision");
    state.revision = revision;
    update(state);
    batch_.put(keys::concert_state_key(c), encode_record(state));
    batch_.put(keys::change_key(c, event_.sequence), encode(event_));
    return true;
}

template <class Update>
result<unit> stager::change_catalog(concert_id c, Update update) {
    auto raw = batch_.get(keys::concert_key(c));
    if (!raw) return contradiction(event_, "a change of an unknown concert");
    auto created = decode_event(*raw);
    if (!created || created->type() != event_type::concert_created)
        return error{errc::corrupt, "read models: undecodable concert"};
    create_concert& config = std::get<concert_created>(created->body).concert;
    config = update(std::move(config));
    if (!concert_mirror::fits(config)) return contradiction(event_, "a date without seats, with too many, or twice");
    batch_.put(keys::concert_key(c), encode(*created));  // the creation's time and sequence stay: they order the catalog
    return unit{};
}

// ---- sale phases -------------------------------------------------------------------------------

template <class Update>
result<unit> stager::set_state(concert_id c, Update update) {
    if (!batch_.get(keys::concert_key(c))) return contradiction(event_, "a phase of an unknown concert");
    concert_state_record state;
    if (auto raw = batch_.get(keys::concert_state_key(c))) {
        auto decoded = decode_concert_state(*raw);
        if (!decoded) return error{errc::corrupt, "read models: undecodable concert state"};
        state = *decoded;
    }
    update(state);
    batch_.put(keys::concert_state_key(c), encode_record(state));
    return unit{};
}

result<unit> stager::operator()(const phase_opened& body) {
    return set_state(body.concert, [&](concert_state_record& s) {
        s.phase = body.phase;
        s.phase_open = true;
    });
}

// Every token of the phase is EXPIRED: the queue's entries keep what they were, and a query reads
// a ticket below `expired_below` as EXPIRED (a phase of a million tokens is one record written).
result<unit> stager::operator()(const phase_closed& body) {
    auto counters = require<queue_counters_record>(keys::queue_counters_key(body.concert), decode_queue_counters,
                                                   "queue counters (unknown concert)");
    if (!counters) return counters.err();
    counters->waiting = 0;
    counters->active = 0;
    batch_.put(keys::queue_counters_key(body.concert), encode_record(*counters));
    return set_state(body.concert, [&](concert_state_record& s) {
        s.phase = body.phase + 1;
        s.phase_open = false;
        s.expired_below = body.expired_below;
    });
}

result<unit> stager::operator()(const eligibility_claimed& body) {
    batch_.put(keys::claim_key(body.concert, body.phase, body.user), std::string());
    return unit{};
}

result<unit> stager::operator()(const scanner_added& body) {
    batch_.put(keys::scanner_key(body.concert, body.scanner), encode_record(scanner_record{body.name, body.gate, false}));
    return unit{};
}

result<unit> stager::operator()(const scanner_removed& body) {
    const std::string key = keys::scanner_key(body.concert, body.scanner);
    auto scanner = require<scanner_record>(key, decode_scanner_record, "scanner");
    if (!scanner) return scanner.err();
    scanner->removed = true;
    batch_.put(key, encode_record(*scanner));
    return unit{};
}

// Each first admission: the ticket's record, and one more at its gate in the event's bucket.
result<unit> stager::operator()(const tickets_checked& body) {
    for (const scan_outcome& o : body.outcomes) {
        if (o.result != scan_result::admitted || o.again) continue;
        const std::string key = keys::admission_key(o.reservation, o.ticket);
        if (batch_.get(key)) return contradiction(event_, "admits a ticket admitted before");
        batch_.put(key, encode_record(admission_record{event_.at, body.gate}));
        std::string gate = keys::gate_checkins_key(body.concert, timeline_bucket_of(event_.at), body.gate);
        auto count = counter(gate);
        if (!count) return count.err();
        batch_.put(std::move(gate), encode_u64(*count + 1));
    }
    return unit{};
}

result<unit> stager::operator()(const claim_freed& body) {
    batch_.erase(keys::claim_key(body.concert, body.phase, body.user));
    return unit{};
}

result<unit> stager::operator()(const sales_paused& body) {
    auto changed = change(body.concert, body.revision, [&](concert_state_record& s) {
        s.paused = true;
        s.paused_at = body.since;
    });
    if (!changed) return changed.err();
    return unit{};
}

result<unit> stager::operator()(const sales_resumed& body) {
    auto changed = change(body.concert, body.revision, [](concert_state_record& s) {
        s.paused = false;
        s.paused_at = 0;
    });
    if (!changed) return changed.err();
    return unit{};
}

result<unit> stager::operator()(const active_extended& body) {
    auto entry = require<queue_entry_record>(keys::queue_entry_key(body.concert, body.user), decode_queue_entry,
                                             "queue entry");
    if (!entry) return entry.err();
    if (entry->ticket != body.ticket || entry->status != queue_status::active || body.active_until < entry->active_until)
        return contradiction(event_, "extends a turn that is not active");
    entry->active_until = body.active_until;
    batch_.put(keys::queue_entry_key(body.concert, body.user), encode_record(*entry));
    return unit{};
}

result<unit> stager::set_blocked(concert_id c, day_number day, const std::vector<std::uint32_t>& seats, bool block) {
    auto date = require<date_record>(keys::date_key(c, day), decode_date_record, "date (unknown concert)");
    if (!date) return date.err();
    for (std::uint32_t seat : seats) {
        if (seat < 1 || seat > date->seats) return contradiction(event_, "seat number outside the date");
        std::string key = keys::seat_key(c, day, seat);
        std::optional<std::string> raw = batch_.get(key);
        const bool blocked = raw && raw->size() == 1 && (*raw)[0] == static_cast<char>(seat_status::blocked);
        if (block && raw && !blocked) return contradiction(event_, "blocks a seat that is held or sold");
        if (!block && !blocked) return contradiction(event_, "releases a seat that is not blocked");
        if (block && blocked) continue;  // blocked before: stays so
        if (block) {
            batch_.put(std::move(key), std::string(1, static_cast<char>(seat_status::blocked)));
            date->blocked += 1;
        } else {
            batch_.erase(std::move(key));
            date->blocked -= 1;
        }
    }
    batch_.put(keys::date_key(c, day), encode_record(*date));
    return unit{};
}

result<unit> stager::operator()(const seats_blocked& body) {
    if (auto r = set_blocked(body.concert, body.date, body.seats, true); !r) return r;
    auto changed = change(body.concert, body.revision, [](concert_state_record&) {});
    if (!changed) return changed.err();
    return unit{};
}

result<unit> stager::operator()(const seats_released& body) {
    if (auto r = set_blocked(body.concert, body.date, body.seats, false); !r) return r;
    auto changed = change(body.concert, body.revision, [](concert_state_record&) {});
    if (!changed) return changed.err();
    return unit{};
}

result<unit> stager::operator()(const concert_updated& body) {
    if (auto r = change_catalog(body.concert, [&](create_concert c) { return with_settings(std::move(c), body.settings); }); !r)
        return r;
    auto changed = change(body.concert, body.revision, [](concert_state_record&) {});
    if (!changed) return changed.err();
    return unit{};
}

result<unit> stager::operator()(const dates_added& body) {
    for (const schedule& s : body.schedules) {
        if (batch_.get(keys::date_key(body.concert, s.date))) return contradiction(event_, "adds a date the concert has");
        date_record d;
        d.seats = s.seats;
        batch_.put(keys::date_key(body.concert, s.date), encode_record(d));
    }
    auto r = change_catalog(body.concert, [&](create_concert c) {
        return with_dates(std::move(c), body.schedules, body.seats_per_row);
    });
    if (!r) return r;
    auto changed = change(body.concert, body.revision, [](concert_state_record&) {});
    if (!changed) return changed.err();
    return unit{};
}

}  // namespace

result<unit> stage_events(model_writes& batch, std::span<const event> events, std::span<const std::string_view> encoded) {
    assert(encoded.empty() || encoded.size() == events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
        const event& e = events[i];
        result<unit> r = std::visit(stager(batch, e), e.body);
        if (!r) return r;
        // The last event answering a request is its outcome.
        if (e.answers != no_position) batch.put_outcome(e.answers, e, encoded.empty() ? std::string_view{} : encoded[i]);
    }
    return unit{};
}

}  // namespace encore::projections
