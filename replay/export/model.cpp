// The tables of `encore export` and the replay that fills them. Every value comes from the events:
// the catalog from ConcertCreated, seats and reservations from the hold, expiry, cancel, payment
// and refund events (each carries the reservation whole), payments and refunds from their sagas'
// events in both partitions, wallet entries from Charged, WalletDebited and WalletCredited, queue
// entries from QueueJoined, QueueAdmitted and QueueLeft. Events the model does not know (a
// vocabulary newer than this file) are still exported in the events table.

#include <algorithm>
#include <functional>
#include <map>
#include <type_traits>

#include "events/ids.hpp"
#include "events/time.hpp"
#include "events/venue.hpp"
#include "replay/export/tables.hpp"

namespace encore::replay::export_data {
namespace {

using ct = column_type;

cell text_or_null(const std::string& s) { return s.empty() ? cell{} : cell{s}; }
cell instant(time_ms at) { return at == 0 ? cell{} : cell{format_instant(at)}; }
cell integer(std::int64_t v) { return cell{v}; }
cell integer_or_null(std::int64_t v) { return v == 0 ? cell{} : cell{v}; }
cell id_or_null(reservation_id r) { return r.value == 0 ? cell{} : cell{reservation_text(r)}; }
cell payment_or_null(payment_id p) { return p.value == 0 ? cell{} : cell{payment_text(p)}; }
cell user_or_null(user_id u) { return u.value == 0 ? cell{} : cell{to_text(u)}; }

std::vector<table> make_tables() {
    const std::string at = "RFC 3339 UTC instant with milliseconds (partition time), NULL if it did not happen";
    std::vector<table> t;
    t.push_back({"events", "every event of the log, as stored, one row per event",
                 {{"partition", ct::integer, "the partition whose log holds the event"},
                  {"sequence", ct::integer, "the event's position in its partition's log, dense from 0"},
                  {"type", ct::text, "the event type (SeatHeld, PaymentConfirmed...)"},
                  {"at", ct::text, "the partition clock when it happened, RFC 3339 UTC"},
                  {"json", ct::json, "the whole event as JSON, as `encore events` prints it"}},
                 {"partition", "sequence"},
                 {{"type"}, {"at"}}});
    t.push_back({"concerts", "the catalog: one row per concert",
                 {{"concert_id", ct::text, "concert id (c-...)"},
                  {"title", ct::text, "title"},
                  {"venue", ct::text, "venue"},
                  {"created_at", ct::text, "when the concert was created"},
                  {"partition", ct::integer, "the partition that owns the concert (its queue, seats and holds)"},
                  {"dates", ct::integer, "number of dates"},
                  {"seats", ct::integer, "seats over all dates"},
                  {"active_capacity", ct::integer, "users the waiting room lets in at once"},
                  {"active_ttl_seconds", ct::integer, "how long an admitted user stays active"},
                  {"hold_ttl_seconds", ct::integer, "how long a hold lasts before it expires"},
                  {"max_holds_per_user", ct::integer, "holds one user may have at once"},
                  {"max_tickets_per_user", ct::integer, "seats one user may hold and own at once; NULL: no cap"},
                  {"claim_seconds", ct::integer, "seconds an admitted user has to act; NULL: active_ttl_seconds"},
                  {"refunds_until", ct::text, "refunds allowed until then; NULL: no refunds"},
                  {"onsale_at", ct::text, "the sale opens then (a shuffled pre-queue before it); NULL: on sale from creation"}},
                 {"concert_id"},
                 {}});
    t.push_back({"dates", "one row per date of a concert, with its figures at the end of the log",
                 {{"concert_id", ct::text, "concert id"},
                  {"date", ct::text, "YYYY-MM-DD"},
                  {"seats", ct::integer, "seats on sale, numbered 1..seats"},
                  {"price", ct::integer, "price of one seat, in won"},
                  {"seats_per_row", ct::integer, "seats per row (seat n is in row ceil(n / seats_per_row)), 25 unless the concert said otherwise; NULL if the catalog has no rows"},
                  {"seats_available", ct::integer, "seats AVAILABLE"},
                  {"seats_held", ct::integer, "seats HELD"},
                  {"seats_sold", ct::integer, "seats SOLD"},
                  {"revenue", ct::integer, "sum of confirmed payments less the amounts refunded (refund fees stay in it), in won"},
                  {"holds_placed", ct::integer, "holds placed (reservations made)"},
                  {"holds_expired", ct::integer, "holds that expired unpaid"},
                  {"holds_cancelled", ct::integer, "holds cancelled by their user"},
                  {"refunds", ct::integer, "reservations refunded"},
                  {"seats_blocked", ct::integer, "seats BLOCKED by the organizer (off sale)"},
                  {"refund_fees", ct::integer, "what refunds kept under the refund policy, in won (part of revenue)"}},
                 {"concert_id", "date"},
                 {}});
    t.push_back({"seats", "one row per seat of every date, in its status at the end of the log",
                 {{"concert_id", ct::text, "concert id"},
                  {"date", ct::text, "YYYY-MM-DD"},
                  {"seat", ct::integer, "seat number, 1..seats"},
                  {"row", ct::integer, "row number: within its section with a venue, else ceil(seat / seats_per_row); NULL if the catalog has no rows"},
                  {"price", ct::integer, "price in won: its grade's on that date, with a venue"},
                  {"status", ct::text, "AVAILABLE, HELD, SOLD or BLOCKED"},
                  {"reservation_id", ct::text, "the reservation holding or owning the seat; NULL when AVAILABLE"},
                  {"user_id", ct::text, "that reservation's user; NULL when AVAILABLE"},
                  {"section", ct::text, "its section (a venue's); NULL without a venue"},
                  {"seat_in_row", ct::integer, "its place in its row, from 1 (a venue's); NULL without a venue"},
                  {"grade", ct::text, "its section's grade (VIP, R…); NULL without a venue"}},
                 {"concert_id", "date", "seat"},
                 {{"status"}, {"reservation_id"}}});
    t.push_back({"reservations", "one row per reservation (hold), with the time of every status change",
                 {{"reservation_id", ct::text, "reservation id (r-partition-offset)"},
                  {"concert_id", ct::text, "concert id"},
                  {"date", ct::text, "YYYY-MM-DD"},
                  {"seat", ct::integer, "its first seat; NULL for places of a standing zone"},
                  {"seat_count", ct::integer, "seats (or standing places) in the reservation"},
                  {"user_id", ct::text, "user id (u-...)"},
                  {"price", ct::integer, "price of its seats, in won"},
                  {"status", ct::text, "HELD, CONFIRMED, EXPIRED, CANCELLED or REFUNDED at the end of the log"},
                  {"held_at", ct::text, at},
                  {"expires_at", ct::text, "when the hold expires (or expired) unless paid"},
                  {"paid_at", ct::text, at},
                  {"cancelled_at", ct::text, at},
                  {"expired_at", ct::text, at},
                  {"refunded_at", ct::text, at},
                  {"payment_id", ct::text, "the payment that confirmed it, or the one in flight; NULL if none"},
                  {"standing_section", ct::text, "the standing zone its places are in; NULL for seats"},
                  {"entry_first", ct::integer, "a standing zone's first entry number (입장번호) of its places, given at payment; NULL before and for seats"}},
                 {"reservation_id"},
                 {{"concert_id", "date"}, {"user_id"}, {"status"}, {"payment_id"}}});
    t.push_back({"payments", "one row per payment attempt (Pay accepted): the saga across the concert's and the wallet's partitions",
                 {{"payment_id", ct::text, "payment id (p-partition-offset)"},
                  {"reservation_id", ct::text, "the reservation paid for"},
                  {"concert_id", ct::text, "concert id"},
                  {"user_id", ct::text, "the payer"},
                  {"amount", ct::integer, "in won"},
                  {"status", ct::text, "PENDING (in flight), CONFIRMED or FAILED"},
                  {"started_at", ct::text, at},
                  {"debited_at", ct::text, "when the wallet was debited; NULL if it was not"},
                  {"confirmed_at", ct::text, at},
                  {"failed_at", ct::text, at},
                  {"failure_reason", ct::text, "why it failed (INSUFFICIENT_BALANCE...); NULL otherwise"},
                  {"balance_after", ct::integer, "the payer's balance after the debit, or the short balance when refused"}},
                 {"payment_id"},
                 {{"reservation_id"}, {"user_id"}, {"concert_id"}, {"status"}}});
    t.push_back({"refunds", "one row per refund attempt: the saga across the concert's and the wallet's partitions",
                 {{"refund_id", ct::text, "refund id (f-partition-offset: the Refund command's log position)"},
                  {"reservation_id", ct::text, "the reservation refunded"},
                  {"payment_id", ct::text, "the payment refunded"},
                  {"concert_id", ct::text, "concert id"},
                  {"user_id", ct::text, "the user credited"},
                  {"amount", ct::integer, "credited to the wallet, in won: the price less the fee"},
                  {"fee", ct::integer, "kept under the refund policy, in won (0 when free)"},
                  {"status", ct::text, "PENDING (in flight), REFUNDED or FAILED"},
                  {"started_at", ct::text, at},
                  {"credited_at", ct::text, "when the wallet was credited; NULL if it was not"},
                  {"refunded_at", ct::text, at},
                  {"failed_at", ct::text, at},
                  {"failure_reason", ct::text, "why it failed (BALANCE_LIMIT); NULL otherwise"},
                  {"balance_after", ct::integer, "the user's balance after the credit, or the balance that could not take it"}},
                 {"refund_id"},
                 {{"reservation_id"}, {"user_id"}, {"concert_id"}}});
    t.push_back({"wallet_entries", "every change of a wallet balance: charges, payments, refunds",
                 {{"partition", ct::integer, "the wallet's partition"},
                  {"sequence", ct::integer, "the event's sequence there (orders one user's entries)"},
                  {"user_id", ct::text, "user id"},
                  {"type", ct::text, "CHARGE, PAYMENT or REFUND"},
                  {"amount", ct::integer, "in won, always positive"},
                  {"balance_after", ct::integer, "the balance after this entry, in won"},
                  {"at", ct::text, "RFC 3339 UTC instant"},
                  {"reservation_id", ct::text, "PAYMENT, REFUND: the reservation; NULL for a CHARGE"},
                  {"payment_id", ct::text, "PAYMENT, REFUND: the payment; NULL for a CHARGE"}},
                 {"partition", "sequence"},
                 {{"user_id", "at"}, {"reservation_id"}, {"type"}}});
    t.push_back({"queue_entries", "one row per waiting-room ticket",
                 {{"concert_id", ct::text, "concert id"},
                  {"ticket", ct::integer, "1, 2, 3... per concert, in arrival order"},
                  {"user_id", ct::text, "user id"},
                  {"joined_at", ct::text, "when the user joined"},
                  {"admitted_at", ct::text, at},
                  {"left_at", ct::text, "when the user stopped being active (expired or paid); NULL if not yet"},
                  {"outcome", ct::text, "WAITING, ACTIVE, EXPIRED or COMPLETED (paid) at the end of the log"},
                  {"wait_seconds", ct::real, "admitted_at - joined_at in seconds; NULL if not admitted"},
                  {"rejoins", ct::integer, "times the user asked again while the ticket was live"}},
                 {"concert_id", "ticket"},
                 {{"user_id"}, {"outcome"}}});
    t.push_back({"users", "one row per user registered; with --concert, the users who took part in it",
                 {{"user_id", ct::text, "user id (u-...)"},
                  {"name", ct::text, "the name given, NULL if none"},
                  {"registered_at", ct::text, "when the user was created"},
                  {"balance", ct::integer, "wallet balance at the end of the log, in won"},
                  {"charged", ct::integer, "sum of charges, in won"},
                  {"paid", ct::integer, "sum of payments, in won"},
                  {"refunded", ct::integer, "sum of refunds, in won"}},
                 {"user_id"},
                 {}});
    t.push_back({"columns", "what every column of every table means",
                 {{"table", ct::text, "table name"},
                  {"column", ct::text, "column name"},
                  {"type", ct::text, "INTEGER, REAL, TEXT or JSON (text holding a JSON document)"},
                  {"description", ct::text, "what it holds"}},
                 {},  // no key: a scan keeps the tables' column order
                 {}});
    return t;
}

const table& table_named(const std::string& name) {
    for (const table& t : tables())
        if (t.name == name) return t;
    assert(false && "no such table");
    return tables().front();
}

// Catalog options and multi-seat reservations were added to the record formats over time; each is
// read when the vocabulary compiled in has it, and otherwise takes what a concert or reservation
// had before it.
// API.md: a schedule without `seatsPerRow` has 25 seats per row.
constexpr std::uint32_t seats_per_row_unstated = 25;

template <class C>
std::optional<std::uint32_t> seats_per_row_of(const C& c, std::size_t schedule_index) {
    if constexpr (requires { c.options.seats_per_row; }) {
        if (schedule_index < c.options.seats_per_row.size() && c.options.seats_per_row[schedule_index] > 0)
            return c.options.seats_per_row[schedule_index];
        return seats_per_row_unstated;
    } else if constexpr (requires { c.schedules[schedule_index].seats_per_row; }) {
        if (c.schedules[schedule_index].seats_per_row > 0) return c.schedules[schedule_index].seats_per_row;
        return seats_per_row_unstated;
    }
    return std::nullopt;
}

template <class C>
cell option_number(const C& c, std::string_view name) {
    if constexpr (requires { c.options.max_tickets_per_user; c.options.claim_seconds; }) {
        if (name == "max_tickets_per_user") return integer_or_null(c.options.max_tickets_per_user);
        if (name == "claim_seconds") return integer_or_null(c.options.claim_seconds);
    }
    return cell{};
}

template <class C>
cell refunds_until_of(const C& c) {
    if constexpr (requires { c.options.refunds_until; }) return instant(c.options.refunds_until);
    return cell{};
}

template <class C>
cell onsale_at_of(const C& c) {
    if constexpr (requires { c.options.sale.onsale_at; }) return instant(c.options.sale.onsale_at);
    return cell{};
}

}  // namespace

const std::vector<table>& tables() {
    static const std::vector<table> all = make_tables();
    return all;
}

const table& columns_table() { return tables().back(); }

std::string_view column_type_name(column_type t) {
    switch (t) {
        case column_type::integer: return "INTEGER";
        case column_type::real: return "REAL";
        case column_type::text: return "TEXT";
        case column_type::json: return "JSON";
    }
    return "TEXT";
}

row event_row(std::uint32_t partition, const event& e, const nlohmann::json& rendered) {
    return {integer(partition), integer(static_cast<std::int64_t>(e.sequence)), cell{std::string(to_string(e.type()))},
            cell{format_instant(e.at)}, cell{rendered.dump()}};
}

// ---- the model ----------------------------------------------------------------------------------

struct model::state {
    struct date_record {
        day_number date = 0;
        std::uint32_t seats = 0;
        won price = 0;
        std::optional<std::uint32_t> seats_per_row;
        std::uint64_t holds_placed = 0, holds_expired = 0, holds_cancelled = 0, refunds = 0;
        won revenue = 0, refund_fees = 0;
        // Per seat (index seat - 1): 0 AVAILABLE, 1 HELD, 2 SOLD, 3 BLOCKED, and the reservation holding it.
        std::vector<std::uint8_t> status;
        std::vector<std::uint64_t> holder;
        std::vector<won> grade_prices;  // with a venue: each grade's price on this date
    };
    struct concert_record {
        concert_created created;
        time_ms created_at = 0;
        std::uint32_t partition = 0;
        std::vector<date_record> dates;
    };
    struct reservation_record {
        reservation view;
        std::uint32_t seat_count = 1;
        time_ms cancelled_at = 0, expired_at = 0, refunded_at = 0;
    };
    struct payment_record {
        payment_id id;
        reservation_id reservation;
        concert_id concert;
        user_id user;
        won amount = 0;
        std::string status = "PENDING";
        time_ms started_at = 0, debited_at = 0, confirmed_at = 0, failed_at = 0;
        std::string failure_reason;
        std::optional<won> balance_after;
    };
    struct refund_record {
        reservation_id reservation;
        payment_id payment;
        concert_id concert;
        user_id user;
        won amount = 0, fee = 0;
        std::string status = "PENDING";
        time_ms started_at = 0, refunded_at = 0, failed_at = 0;
        std::string failure_reason;
        std::optional<won> balance_after;
    };
    struct wallet_entry {
        std::uint32_t partition = 0;
        std::uint64_t sequence = 0;
        user_id user;
        const char* type = "CHARGE";
        won amount = 0, balance_after = 0;
        time_ms at = 0;
        reservation_id reservation;
        payment_id payment;
    };
    struct queue_record {
        user_id user;
        time_ms joined_at = 0, admitted_at = 0, left_at = 0;
        queue_status status = queue_status::waiting;
        std::uint64_t rejoins = 0;
    };
    struct user_record {
        std::string name;
        time_ms registered_at = 0;
        won balance = 0, charged = 0, paid = 0, refunded = 0;
    };

    std::optional<concert_id> only;
    bool found = false;
    std::map<concert_id, concert_record> concerts;
    std::map<reservation_id, reservation_record> reservations;
    std::map<payment_id, payment_record> payments;
    // Keyed by the Refund command's position; the latest refund of each payment, for the saga's
    // later events, which name the payment.
    std::map<log_position, refund_record> refunds;
    std::map<payment_id, log_position> refund_of_payment;
    // The wallet partition's credits, by payment: at most one succeeds per payment (a refunded
    // reservation is not refunded again), and it may be read before the refund's start.
    std::map<payment_id, std::pair<time_ms, won>> credits;
    std::vector<wallet_entry> wallet;
    std::map<std::pair<concert_id, std::uint64_t>, queue_record> queue;
    std::map<user_id, user_record> users;
    std::set<user_id> participants;  // with a concert: its users

    bool wanted(concert_id c) const { return !only || *only == c; }

    date_record* date_of(const reservation& r) {
        auto c = concerts.find(r.concert);
        if (c == concerts.end()) return nullptr;
        for (date_record& d : c->second.dates)
            if (d.date == r.date) return &d;
        return nullptr;
    }

    void set_seats(const reservation& r, std::uint8_t status) {
        date_record* d = date_of(r);
        if (d == nullptr) return;
        for (std::uint32_t seat : seats_of(r)) {
            if (seat < 1 || seat > d->seats) continue;
            d->status[seat - 1] = status;
            d->holder[seat - 1] = status == 0 ? 0 : r.id.value;
        }
    }

    // The reservation's record, updated from the copy an event carries; nullptr if it is not exported.
    reservation_record* update(const reservation& r) {
        if (!wanted(r.concert)) return nullptr;
        reservation_record& rec = reservations[r.id];
        rec.view = r;
        rec.seat_count = tickets_of(r);
        participants.insert(r.user);
        return &rec;
    }

    // The dates of the catalog that `rec` has no record of yet (all of them at creation).
    static void add_dates_of(concert_record& rec) {
        const create_concert& config = rec.created.concert;
        for (std::size_t i = rec.dates.size(); i < config.schedules.size(); ++i) {
            const schedule& s = config.schedules[i];
            date_record d;
            d.date = s.date;
            d.seats = s.seats;
            d.price = s.price;
            d.seats_per_row = seats_per_row_of(config, i);
            for (std::uint32_t g = 0; g < config.options.sale.venue->grades.size(); ++g) d.grade_prices.push_back(grade_price_on(config, i, g));
            if (!d.grade_prices.empty()) d.seats_per_row.reset();  // rows are the layout's
            d.status.assign(s.seats, 0);
            d.holder.assign(s.seats, 0);
            rec.dates.push_back(std::move(d));
        }
    }
    bool on(std::uint32_t partition, const event& e, const concert_created& c) {
        if (!wanted(c.concert.concert)) return false;
        found = true;
        concert_record rec{c, e.at, partition, {}};
        add_dates_of(rec);
        concerts[c.concert.concert] = std::move(rec);
        return true;
    }
    // The organizer's changes: the catalog as they leave it, and blocked seats.
    bool on(std::uint32_t, const event&, const concert_updated& u) {
        auto it = concerts.find(u.concert);
        if (it == concerts.end()) return false;
        it->second.created.concert = with_settings(it->second.created.concert, u.settings);
        return true;
    }
    bool on(std::uint32_t, const event&, const dates_added& a) {
        auto it = concerts.find(a.concert);
        if (it == concerts.end()) return false;
        it->second.created.concert = with_dates(it->second.created.concert, a.schedules, a.seats_per_row);
        add_dates_of(it->second);
        return true;
    }
    bool set_blocked(concert_id c, day_number day, const std::vector<std::uint32_t>& seats, bool blocked) {
        auto it = concerts.find(c);
        if (it == concerts.end()) return false;
        for (date_record& d : it->second.dates) {
            if (d.date != day) continue;
            for (std::uint32_t seat : seats)
                if (seat >= 1 && seat <= d.seats) d.status[seat - 1] = blocked ? 3 : 0;
        }
        return true;
    }
    bool on(std::uint32_t, const event&, const seats_blocked& b) { return set_blocked(b.concert, b.date, b.seats, true); }
    bool on(std::uint32_t, const event&, const seats_released& b) { return set_blocked(b.concert, b.date, b.seats, false); }
    bool on(std::uint32_t, const event& e, const user_registered& u) {
        user_record& rec = users[u.user];
        rec.name = u.name;
        rec.registered_at = e.at;
        return !only;
    }
    bool on(std::uint32_t, const event& e, const queue_joined& q) {
        if (!wanted(q.concert)) return false;
        participants.insert(q.user);
        queue_record& rec = queue[{q.concert, q.ticket}];
        if (!q.fresh) {
            ++rec.rejoins;
            return true;
        }
        rec.user = q.user;
        rec.joined_at = e.at;
        rec.status = q.status;
        if (q.status == queue_status::active) rec.admitted_at = e.at;
        return true;
    }
    bool on(std::uint32_t, const event& e, const queue_admitted& q) {
        if (!wanted(q.concert)) return false;
        queue_record& rec = queue[{q.concert, q.ticket}];
        rec.admitted_at = e.at;
        rec.status = queue_status::active;
        return true;
    }
    bool on(std::uint32_t, const event& e, const queue_left& q) {
        if (!wanted(q.concert)) return false;
        queue_record& rec = queue[{q.concert, q.ticket}];
        rec.left_at = e.at;
        rec.status = q.completed ? queue_status::completed : queue_status::expired;
        return true;
    }
    bool on(std::uint32_t, const event&, const seat_held& h) {
        if (update(h.reservation) == nullptr) return false;
        if (date_record* d = date_of(h.reservation)) ++d->holds_placed;
        set_seats(h.reservation, 1);
        return true;
    }
    bool on(std::uint32_t, const event& e, const hold_expired& h) {
        reservation_record* rec = update(h.reservation);
        if (rec == nullptr) return false;
        rec->expired_at = e.at;
        if (date_record* d = date_of(h.reservation)) ++d->holds_expired;
        set_seats(h.reservation, 0);
        return true;
    }
    bool on(std::uint32_t, const event& e, const hold_cancelled& h) {
        reservation_record* rec = update(h.reservation);
        if (rec == nullptr) return false;
        rec->cancelled_at = e.at;
        if (date_record* d = date_of(h.reservation)) ++d->holds_cancelled;
        set_seats(h.reservation, 0);
        return true;
    }
    // The concert partition's events of a payment: its reservation is known there.
    payment_record* concert_side(payment_id p, reservation_id r) {
        auto found_reservation = reservations.find(r);
        if (found_reservation == reservations.end()) return nullptr;  // another concert's, when filtered
        payment_record& rec = payments[p];
        rec.id = p;
        rec.reservation = r;
        rec.concert = found_reservation->second.view.concert;
        return &rec;
    }
    // The wallet partition's: with a concert, only payments of its reservations (ids of its partition,
    // read first) are kept.
    payment_record* wallet_side(payment_id p, reservation_id r) {
        if (only && !reservations.contains(r)) return nullptr;
        payment_record& rec = payments[p];
        rec.id = p;
        rec.reservation = r;
        return &rec;
    }
    bool on(std::uint32_t, const event& e, const payment_started& s) {
        payment_record* rec = concert_side(s.payment, s.reservation);
        if (rec == nullptr) return false;
        rec->user = s.user;
        rec->amount = s.amount;
        rec->started_at = e.at;
        reservations[s.reservation].view.payment = s.payment;
        return true;
    }
    bool on(std::uint32_t partition, const event& e, const wallet_debited& w) {
        user_record& u = users[w.user];
        u.balance = w.balance;
        u.paid += w.amount;
        payment_record* rec = wallet_side(w.payment, w.reservation);
        if (rec == nullptr) return false;
        rec->user = w.user;
        rec->amount = w.amount;
        rec->debited_at = e.at;
        rec->balance_after = w.balance;
        wallet.push_back({partition, e.sequence, w.user, "PAYMENT", w.amount, w.balance, e.at, w.reservation, w.payment});
        return true;
    }
    bool on(std::uint32_t, const event&, const debit_refused& w) {
        payment_record* rec = wallet_side(w.payment, w.reservation);
        if (rec == nullptr) return false;
        rec->user = w.user;
        rec->amount = w.amount;
        rec->balance_after = w.balance;
        return true;
    }
    bool on(std::uint32_t, const event& e, const payment_confirmed& c) {
        reservation_record* rec = update(c.reservation);
        if (rec == nullptr) return false;
        if (date_record* d = date_of(c.reservation)) d->revenue += c.reservation.price;
        set_seats(c.reservation, 2);
        if (payment_record* p = concert_side(c.reservation.payment, c.reservation.id)) {
            p->status = "CONFIRMED";
            p->confirmed_at = e.at;
            p->balance_after = c.balance;
        }
        return true;
    }
    bool on(std::uint32_t, const event& e, const payment_failed& f) {
        payment_record* p = concert_side(f.payment, f.reservation);
        if (p == nullptr) return false;
        p->status = "FAILED";
        p->failed_at = e.at;
        p->failure_reason = std::string(refusal_code(f.reason));
        p->balance_after = f.balance;
        p->user = f.user;
        auto r = reservations.find(f.reservation);
        if (r != reservations.end() && r->second.view.payment == f.payment) r->second.view.payment = payment_id{};
        return true;
    }
    bool on(std::uint32_t partition, const event& e, const charged& c) {
        user_record& u = users[c.user];
        u.balance = c.balance;
        u.charged += c.amount;
        if (only) return false;
        wallet.push_back({partition, e.sequence, c.user, "CHARGE", c.amount, c.balance, e.at, {}, {}});
        return true;
    }
    // A refund's saga: started in the concert partition (its reservation known there), credited in
    // the wallet partition, answered in the concert partition.
    refund_record* refund_of(payment_id p) {
        auto at = refund_of_payment.find(p);
        return at == refund_of_payment.end() ? nullptr : &refunds[at->second];
    }
    bool on(std::uint32_t, const event& e, const refund_started& f) {
        auto r = reservations.find(f.reservation);
        if (r == reservations.end()) return false;
        refund_record& rec = refunds[e.cause];
        rec = refund_record{f.reservation, f.payment, r->second.view.concert, f.user, f.amount, r->second.view.price - f.amount};
        rec.started_at = e.at;
        refund_of_payment[f.payment] = e.cause;
        return true;
    }
    bool on(std::uint32_t partition, const event& e, const wallet_credited& w) {
        user_record& u = users[w.user];
        u.balance = w.balance;
        u.refunded += w.amount;
        if (only && !reservations.contains(w.reservation)) return false;
        credits[w.payment] = {e.at, w.balance};
        wallet.push_back({partition, e.sequence, w.user, "REFUND", w.amount, w.balance, e.at, w.reservation, w.payment});
        return true;
    }
    bool on(std::uint32_t, const event&, const credit_refused& w) { return !only || reservations.contains(w.reservation); }
    bool on(std::uint32_t, const event& e, const reservation_refunded& f) {
        reservation_record* rec = update(f.reservation);
        if (rec == nullptr) return false;
        rec->refunded_at = f.refunded_at != 0 ? f.refunded_at : e.at;
        if (date_record* d = date_of(f.reservation)) {
            const won fee = f.reservation.extra.grades.standing.refund.fee;
            d->revenue -= f.reservation.price - fee;
            d->refund_fees += fee;
            ++d->refunds;
        }
        set_seats(f.reservation, 0);
        if (refund_record* r = refund_of(f.reservation.payment)) {
            r->status = "REFUNDED";
            r->refunded_at = rec->refunded_at;
            r->balance_after = f.balance;
        }
        return true;
    }
    bool on(std::uint32_t, const event& e, const refund_failed& f) {
        if (!reservations.contains(f.reservation)) return false;
        if (refund_record* r = refund_of(f.payment)) {
            r->status = "FAILED";
            r->failed_at = e.at;
            r->failure_reason = std::string(refusal_code(f.reason));
            r->balance_after = f.balance;
        }
        return true;
    }

    // With a concert, an event the model did not place is exported if its JSON names the concert,
    // one of its reservations or one of its payments (a vocabulary newer than this file).
    bool names_concert(const nlohmann::json& j) const {
        const std::string concert = to_text(*only);
        if (auto c = j.find("concert"); c != j.end() && c->is_string() && *c == concert) return true;
        if (auto r = j.find("reservation"); r != j.end()) {
            if (r->is_string()) {
                auto id = parse_reservation_id(r->get_ref<const std::string&>());
                if (id && reservations.contains(*id)) return true;
            }
            if (r->is_object()) {
                if (auto c = r->find("concert"); c != r->end() && c->is_string() && *c == concert) return true;
            }
        }
        if (auto p = j.find("payment"); p != j.end() && p->is_string()) {
            auto id = parse_payment_id(p->get_ref<const std::string&>());
            if (id && payments.contains(*id)) return true;
        }
        return false;
    }

    // Refusals, idempotent replays, key claims and anything newer: the events table only.
    template <class Other>
    bool on(std::uint32_t, const event&, const Other&) {
        return !only;
    }
};

model::model(std::optional<concert_id> only) : state_(std::make_unique<state>()) { state_->only = only; }
model::~model() = default;

bool model::apply(std::uint32_t partition, const event& e, const nlohmann::json& rendered) {
    const bool placed = std::visit([&](const auto& body) { return state_->on(partition, e, body); }, e.body);
    return placed || !state_->only || state_->names_concert(rendered);
}

bool model::concert_found() const { return !state_->only || state_->found; }

std::uint64_t model::rows() const {
    const state& s = *state_;
    std::uint64_t n = s.concerts.size() + s.reservations.size() + s.payments.size() + s.refunds.size() + s.wallet.size() +
                      s.queue.size();
    for (const auto& [id, c] : s.concerts) {
        n += c.dates.size();
        for (const auto& d : c.dates) n += d.seats;
    }
    n += s.only ? s.participants.size() : s.users.size();
    for (const table& t : tables()) n += t.columns.size();  // the columns table's rows
    return n;
}

void model::write(sink& out, const std::function<void(const std::string&)>& written) const {
    const state& s = *state_;
    row r;
    const auto emit = [&](const std::string& name) {
        out.add_row(r);
        written(name);
    };

    out.begin_table(table_named("concerts"));
    for (const auto& [id, c] : s.concerts) {
        const create_concert& cc = c.created.concert;
        std::int64_t seats = 0;
        for (const auto& d : c.dates) seats += d.seats;
        r = {cell{to_text(id)}, cell{cc.title}, cell{cc.venue}, instant(c.created_at), integer(c.partition),
             integer(static_cast<std::int64_t>(c.dates.size())), integer(seats), integer(cc.queue.active_capacity),
             integer(cc.queue.active_ttl_seconds), integer(cc.hold_ttl_seconds), integer(cc.max_holds_per_user),
             option_number(cc, "max_tickets_per_user"), option_number(cc, "claim_seconds"), refunds_until_of(cc),
             onsale_at_of(cc)};
        emit("concerts");
    }
    out.end_table();

    out.begin_table(table_named("dates"));
    for (const auto& [id, c] : s.concerts) {
        for (const auto& d : c.dates) {
            std::int64_t held = 0, sold = 0, blocked = 0;
            for (std::uint8_t st : d.status) {
                held += st == 1;
                sold += st == 2;
                blocked += st == 3;
            }
            r = {cell{to_text(id)}, cell{format_date(d.date)}, integer(d.seats), integer(d.price),
                 d.seats_per_row ? integer(*d.seats_per_row) : cell{}, integer(d.seats - held - sold - blocked), integer(held),
                 integer(sold), integer(d.revenue), integer(static_cast<std::int64_t>(d.holds_placed)),
                 integer(static_cast<std::int64_t>(d.holds_expired)), integer(static_cast<std::int64_t>(d.holds_cancelled)),
                 integer(static_cast<std::int64_t>(d.refunds)), integer(blocked), integer(d.refund_fees)};
            emit("dates");
        }
    }
    out.end_table();

    out.begin_table(table_named("seats"));
    for (const auto& [id, c] : s.concerts) {
        const std::string concert_text = to_text(id);
        const venue_map venue(c.created.concert);
        const venue_layout& layout = c.created.concert.options.sale.venue;
        for (const auto& d : c.dates) {
            const std::string date_text = format_date(d.date);
            for (std::uint32_t seat = 1; seat <= d.seats; ++seat) {
                static constexpr const char* names[] = {"AVAILABLE", "HELD", "SOLD", "BLOCKED"};
                const std::uint8_t st = d.status[seat - 1];
                cell reservation_cell, user_cell;
                if (st == 1 || st == 2) {
                    const reservation_id holder{d.holder[seat - 1]};
                    reservation_cell = cell{reservation_text(holder)};
                    if (auto h = s.reservations.find(holder); h != s.reservations.end()) user_cell = user_or_null(h->second.view.user);
                }
                cell row = d.seats_per_row ? integer((seat + *d.seats_per_row - 1) / *d.seats_per_row) : cell{};
                cell price = integer(d.price), section, seat_in_row, grade;
                if (venue.has_layout() && seat <= venue.seats()) {
                    const seat_place place = venue.place_of(seat);
                    const std::uint32_t g = venue.grade_of_section(place.section);
                    row = integer(place.row);
                    price = integer(g < d.grade_prices.size() ? d.grade_prices[g] : 0);
                    section = cell{layout.sections[place.section].section};
                    seat_in_row = integer(place.seat_in_row);
                    grade = cell{layout.grades[g].grade};
                }
                r = {cell{concert_text}, cell{date_text}, integer(seat), std::move(row), std::move(price),
                     cell{std::string(names[st])}, std::move(reservation_cell), std::move(user_cell), std::move(section),
                     std::move(seat_in_row), std::move(grade)};
                emit("seats");
            }
        }
    }
    out.end_table();

    out.begin_table(table_named("reservations"));
    for (const auto& [id, rec] : s.reservations) {
        const reservation& v = rec.view;
        const reservation_standing& z = v.extra.grades.standing;
        r = {cell{reservation_text(id)}, cell{to_text(v.concert)}, cell{format_date(v.date)},
             is_standing(v) ? cell{} : integer(v.seat), integer(rec.seat_count), user_or_null(v.user), integer(v.price),
             cell{std::string(to_string(v.status))}, instant(v.held_at), instant(v.expires_at), instant(v.paid_at),
             instant(rec.cancelled_at), instant(rec.expired_at), instant(rec.refunded_at), payment_or_null(v.payment),
             is_standing(v) ? cell{z.name} : cell{}, z.entry_first != 0 ? integer(z.entry_first) : cell{}};
        emit("reservations");
    }
    out.end_table();

    out.begin_table(table_named("payments"));
    for (const auto& [id, p] : s.payments) {
        concert_id concert = p.concert;
        if (concert.value == 0) {
            if (auto rec = s.reservations.find(p.reservation); rec != s.reservations.end()) concert = rec->second.view.concert;
        }
        r = {cell{payment_text(id)}, id_or_null(p.reservation), concert.value == 0 ? cell{} : cell{to_text(concert)},
             user_or_null(p.user), integer(p.amount), cell{p.status}, instant(p.started_at), instant(p.debited_at),
             instant(p.confirmed_at), instant(p.failed_at), text_or_null(p.failure_reason),
             p.balance_after ? integer(*p.balance_after) : cell{}};
        emit("payments");
    }
    out.end_table();

    out.begin_table(table_named("refunds"));
    for (const auto& [at, f] : s.refunds) {
        const auto credit = f.status == "FAILED" ? s.credits.end() : s.credits.find(f.payment);
        const time_ms credited_at = credit == s.credits.end() ? 0 : credit->second.first;
        std::optional<won> balance_after = f.balance_after;
        if (!balance_after && credit != s.credits.end()) balance_after = credit->second.second;
        r = {cell{"f-" + std::to_string(at.partition) + "-" + std::to_string(at.offset)}, id_or_null(f.reservation),
             payment_or_null(f.payment), cell{to_text(f.concert)}, user_or_null(f.user), integer(f.amount), integer(f.fee), cell{f.status},
             instant(f.started_at), instant(credited_at), instant(f.refunded_at), instant(f.failed_at),
             text_or_null(f.failure_reason), balance_after ? integer(*balance_after) : cell{}};
        emit("refunds");
    }
    out.end_table();

    out.begin_table(table_named("wallet_entries"));
    for (const auto& w : s.wallet) {
        r = {integer(w.partition), integer(static_cast<std::int64_t>(w.sequence)), user_or_null(w.user),
             cell{std::string(w.type)}, integer(w.amount), integer(w.balance_after), instant(w.at),
             id_or_null(w.reservation), payment_or_null(w.payment)};
        emit("wallet_entries");
    }
    out.end_table();

    out.begin_table(table_named("queue_entries"));
    for (const auto& [key, q] : s.queue) {
        const bool admitted = q.admitted_at != 0;
        r = {cell{to_text(key.first)}, integer(static_cast<std::int64_t>(key.second)), user_or_null(q.user),
             instant(q.joined_at), instant(q.admitted_at), instant(q.left_at), cell{std::string(to_string(q.status))},
             admitted ? cell{static_cast<double>(q.admitted_at - q.joined_at) / 1000.0} : cell{},
             integer(static_cast<std::int64_t>(q.rejoins))};
        emit("queue_entries");
    }
    out.end_table();

    out.begin_table(table_named("users"));
    for (const auto& [id, u] : s.users) {
        if (s.only && !s.participants.contains(id)) continue;
        r = {cell{to_text(id)}, text_or_null(u.name), instant(u.registered_at), integer(u.balance), integer(u.charged),
             integer(u.paid), integer(u.refunded)};
        emit("users");
    }
    out.end_table();

    out.begin_table(columns_table());
    for (const table& t : tables()) {
        for (const column& c : t.columns) {
            r = {cell{t.name}, cell{c.name}, cell{std::string(column_type_name(c.type))}, cell{c.description}};
            emit("columns");
        }
    }
    out.end_table();
}

}  // namespace encore::replay::export_data
