#include "harness.hpp"

#include "events/codec.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

#include "events/ids.hpp"
#include "events/time.hpp"
#include "events/route.hpp"

namespace encore::test {
namespace {

constexpr std::uint64_t nth_hold_marker = std::uint64_t{1} << 63;

step client(user_id u, command_body body) {
    return step{0, command{command_meta{0, u, "", no_position}, std::move(body)}};
}

std::string user_text(user_id u) { return "u" + std::to_string(u.value); }

std::string amount_and_balance(won amount, won balance) {
    return std::to_string(amount) + " balance " + std::to_string(balance);
}

// "2026-12-24/7", or "2026-12-24/7,8,9" for several seats, or "2026-12-24/FLOOR×2#5" for two
// places of a standing zone with entry numbers from 5 (#0 before payment).
std::string seat_text(const reservation& r) {
    if (is_standing(r)) {
        const reservation_standing& z = r.extra.grades.standing;
        return format_date(r.date) + "/" + z.name + "x" + std::to_string(z.places) + "#" + std::to_string(z.entry_first);
    }
    std::string seats;
    for (std::uint32_t seat : seats_of(r)) seats += (seats.empty() ? "" : ",") + std::to_string(seat);
    return format_date(r.date) + "/" + seats;
}

bool is_client_command(const command& c) {
    switch (c.type()) {
        case command_type::tick:
        case command_type::debit_request:
        case command_type::debit_result:
        case command_type::credit_request:
        case command_type::credit_result: return false;
        default: return true;
    }
}

struct describer {
    std::string operator()(const concert_created& e) const {
        return "ConcertCreated c" + std::to_string(e.concert.concert.value);
    }
    std::string operator()(const user_registered& e) const {
        return "UserRegistered " + user_text(e.user) + " " + e.name;
    }
    std::string operator()(const queue_joined& e) const {
        std::string s = "QueueJoined " + user_text(e.user) + " #" + std::to_string(e.ticket) + " " +
                        std::string(to_string(e.status));
        if (e.details.pre_queue) s += " pre-queue";
        else if (e.status == queue_status::waiting) s += " " + std::to_string(e.position);
        return e.fresh ? s : s + " again";
    }
    std::string operator()(const queue_admitted& e) const {
        return "QueueAdmitted " + user_text(e.user) + " #" + std::to_string(e.ticket);
    }
    std::string operator()(const queue_left& e) const {
        return "QueueLeft " + user_text(e.user) + " #" + std::to_string(e.ticket) +
               (e.completed ? " COMPLETED" : " EXPIRED");
    }
    std::string operator()(const seat_held& e) const { return reservation_line("SeatHeld", e.reservation); }
    std::string operator()(const hold_expired& e) const { return reservation_line("HoldExpired", e.reservation); }
    std::string operator()(const hold_cancelled& e) const { return reservation_line("HoldCancelled", e.reservation); }
    std::string operator()(const payment_started& e) const {
        return "PaymentStarted " + user_text(e.user) + " " + std::to_string(e.amount);
    }
    std::string operator()(const wallet_debited& e) const {
        return "WalletDebited " + user_text(e.user) + " " + amount_and_balance(e.amount, e.balance);
    }
    std::string operator()(const debit_refused& e) const {
        return "DebitRefused " + user_text(e.user) + " " + amount_and_balance(e.amount, e.balance);
    }
    std::string operator()(const payment_confirmed& e) const {
        return reservation_line("PaymentConfirmed", e.reservation) + " balance " + std::to_string(e.balance);
    }
    std::string operator()(const payment_failed& e) const {
        return "PaymentFailed " + user_text(e.user) + " " + std::string(refusal_code(e.reason)) + " balance " +
               std::to_string(e.balance);
    }
    std::string operator()(const charged& e) const {
        return "Charged " + user_text(e.user) + " " + amount_and_balance(e.amount, e.balance);
    }
    std::string operator()(const refused& e) const {
        std::string s = "Refused " + std::string(refusal_code(e.reason));
        return e.detail == 0 ? s : s + " " + std::to_string(e.detail);
    }
    std::string operator()(const idempotent_replay& e) const {
        return "IdempotentReplay " + std::to_string(e.first.partition) + "/" + std::to_string(e.first.offset);
    }
    std::string operator()(const key_claimed& e) const { return "KeyClaimed " + user_text(e.user); }
    std::string operator()(const refund_started& e) const {
        return "RefundStarted " + user_text(e.user) + " " + std::to_string(e.amount);
    }
    std::string operator()(const wallet_credited& e) const {
        return "WalletCredited " + user_text(e.user) + " " + amount_and_balance(e.amount, e.balance);
    }
    std::string operator()(const credit_refused& e) const {
        return "CreditRefused " + user_text(e.user) + " " + amount_and_balance(e.amount, e.balance);
    }
    std::string operator()(const reservation_refunded& e) const {
        const won fee = e.reservation.extra.grades.standing.refund.fee;
        return reservation_line("ReservationRefunded", e.reservation) + (fee != 0 ? " fee " + std::to_string(fee) : "") +
               " balance " + std::to_string(e.balance);
    }
    std::string operator()(const refund_failed& e) const {
        return "RefundFailed " + user_text(e.user) + " " + std::string(refusal_code(e.reason));
    }
    std::string operator()(const queue_placed& e) const {
        return "QueuePlaced " + user_text(e.user) + " #" + std::to_string(e.ticket) + " at " + std::to_string(e.place);
    }

    std::string operator()(const phase_opened& e) const { return "PhaseOpened " + std::to_string(e.phase); }
    std::string operator()(const phase_closed& e) const {
        return "PhaseClosed " + std::to_string(e.phase) + " below #" + std::to_string(e.expired_below);
    }
    std::string operator()(const eligible_added& e) const {
        return "EligibleAdded " + std::to_string(e.phase) + " +" + std::to_string(e.added) + " = " + std::to_string(e.total);
    }
    std::string operator()(const eligibility_claimed& e) const {
        return "EligibilityClaimed " + std::to_string(e.phase) + " " + user_text(e.user) + (e.fresh ? "" : " again");
    }
    std::string operator()(const claim_freed& e) const { return "ClaimFreed " + std::to_string(e.phase) + " " + user_text(e.user); }
    std::string operator()(const scanner_added& e) const { return "ScannerAdded " + e.name + (e.gate.empty() ? "" : " at " + e.gate); }
    std::string operator()(const scanner_removed&) const { return "ScannerRemoved"; }
    // "TicketsChecked N: 1 ADMITTED, 2 DUPLICATE (first at N)…": each scan's ticket index and result.
    std::string operator()(const tickets_checked& e) const {
        std::string out = "TicketsChecked" + (e.gate.empty() ? std::string() : " " + e.gate) + ":";
        for (const scan_outcome& o : e.outcomes) {
            out += " " + std::to_string(o.ticket) + " " + std::string(to_string(o.result)) + (o.again ? " again" : "");
            if (o.result == scan_result::duplicate) out += " (first at " + (o.first_gate.empty() ? std::string("-") : o.first_gate) + ")";
            out += ",";
        }
        out.pop_back();
        return out;
    }

    std::string operator()(const sales_paused& e) const {
        return "SalesPaused r" + std::to_string(e.revision) + " since " + format_instant(e.since);
    }
    std::string operator()(const sales_resumed& e) const {
        return "SalesResumed r" + std::to_string(e.revision) + " after " + std::to_string(e.pause_ms) + " ms";
    }
    std::string operator()(const active_extended& e) const {
        return "ActiveExtended " + user_text(e.user) + " #" + std::to_string(e.ticket) + " until " + format_instant(e.active_until);
    }
    std::string operator()(const seats_blocked& e) const {
        return "SeatsBlocked r" + std::to_string(e.revision) + " " + seats_line(e.date, e.seats) +
               (e.reason.empty() ? "" : " " + e.reason);
    }
    std::string operator()(const seats_released& e) const {
        return "SeatsReleased r" + std::to_string(e.revision) + " " + seats_line(e.date, e.seats);
    }
    std::string operator()(const concert_updated& e) const {
        return "ConcertUpdated r" + std::to_string(e.revision) + " fields " + std::to_string(e.settings.set);
    }
    std::string operator()(const dates_added& e) const {
        std::string s = "DatesAdded r" + std::to_string(e.revision);
        for (const schedule& d : e.schedules) s += " " + format_date(d.date);
        return s;
    }

    static std::string seats_line(day_number date, const std::vector<std::uint32_t>& seats) {
        std::string out = format_date(date) + "/";
        for (std::size_t i = 0; i < seats.size(); ++i) out += (i == 0 ? "" : ",") + std::to_string(seats[i]);
        return out;
    }
    static std::string reservation_line(const char* type, const reservation& r) {
        return std::string(type) + " " + user_text(r.user) + " " + seat_text(r);
    }
};

}  // namespace

create_concert catalog(concert_id id) {
    create_concert c;
    c.concert = id;
    c.title = "IU 2026";
    c.venue = "Jamsil";
    c.schedules = {{christmas, 2, christmas_price}, {eve, 3, eve_price}};  // out of order on purpose
    c.queue = {2, 600};
    c.hold_ttl_seconds = 300;
    c.max_holds_per_user = 2;
    return c;
}

step create(create_concert c) { return client(admin, std::move(c)); }
step register_as(user_id u, std::string name) { return client(u, register_user{std::move(name)}); }
step enqueue_as(user_id u, concert_id c) { return client(u, enqueue{c}); }
step hold(user_id u, std::uint64_t ticket, std::uint32_t seat, day_number date, concert_id c) {
    return client(u, hold_seat{c, ticket, date, seat});
}
step hold_seats(user_id u, std::uint64_t ticket, std::vector<std::uint32_t> seats, day_number date, concert_id c) {
    return client(u, hold_seat{c, ticket, date, 0, seat_choice{{}, std::move(seats), 0}});
}
step hold_best(user_id u, std::uint64_t ticket, std::uint32_t count, day_number date, concert_id c) {
    return client(u, hold_seat{c, ticket, date, 0, seat_choice{{}, {}, count}});
}
step cancel(user_id u, reservation_id r) { return client(u, cancel_hold{r}); }
step pay(user_id u, reservation_id r) { return client(u, encore::pay{r}); }
step refund_of(user_id u, reservation_id r) { return client(u, encore::refund{r}); }
step charge_as(user_id u, won amount) { return client(u, charge{amount}); }
step tick() { return client(admin, encore::tick{}); }
step pause(concert_id c, bool paused) { return client(admin, pause_sales{c, paused}); }
step block(concert_id c, day_number date, std::vector<std::uint32_t> seats, bool blocked, std::string reason) {
    return client(admin, block_seats{c, date, std::move(seats), blocked, std::move(reason)});
}
step update(concert_id c, concert_settings settings, std::optional<std::uint64_t> if_revision) {
    return client(admin, update_concert{c, if_revision.has_value(), if_revision.value_or(0), std::move(settings)});
}
step add_dates_to(concert_id c, std::vector<schedule> schedules) { return client(admin, add_dates{c, std::move(schedules), {}}); }
step add_scanner(std::string name, std::string gate, concert_id c) {
    return client(admin, change_scanner{c, reservation_id{}, std::move(name), std::move(gate), false});
}
step remove_scanner(reservation_id scanner, concert_id c) { return client(admin, change_scanner{c, scanner, "", "", true}); }
step scan(reservation_id scanner, std::vector<ticket_scan> scans, bool offline, std::string admin_gate, concert_id c) {
    return client(admin, check_in{c, scanner, std::move(admin_gate), offline, std::move(scans)});
}
step claim_for(step request) {
    request.cmd = command{request.cmd.meta, claim_key{request_fingerprint(request.cmd)}};
    return request;
}
step after(time_ms seconds, step s) { return after_ms(seconds * 1000, std::move(s)); }
step after_ms(time_ms ms, step s) {
    s.after_ms += ms;
    return s;
}
step with_key(std::string key, step s) {
    s.cmd.meta.idempotency_key = std::move(key);
    return s;
}
reservation_id held(int n) { return reservation_id{nth_hold_marker | static_cast<std::uint64_t>(n)}; }

std::string describe(const event& e) { return std::visit(describer{}, e.body); }

std::vector<std::string> describe(const std::vector<event>& events) {
    std::vector<std::string> out;
    for (const event& e : events) out.push_back(describe(e));
    return out;
}

void check_scenarios(const std::vector<scenario>& rows) {
    for (const scenario& row : rows) {
        INFO("scenario: " << row.name);
        world w;
        w.run_all(row.given);
        CHECK(describe(w.run(row.when)) == row.then);
    }
}

std::vector<step> operator+(std::vector<step> a, const std::vector<step>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

world::world(std::uint32_t partitions) : partitions_(partitions) {
    for (std::uint32_t p = 0; p < partitions; ++p) states_.push_back(engine::make_partition(p, partitions));
}

std::uint32_t world::partition_of_concert(concert_id c) const { return partition_of(c, partitions_); }
std::uint32_t world::partition_of_user(user_id u) const { return partition_of(u, partitions_); }

std::uint32_t world::route(const command& c) const { return route_of(c, partitions_); }

command world::resolve(command c) const {
    auto fix = [this](reservation_id& r) {
        if ((r.value & nth_hold_marker) != 0) r = hold_id(static_cast<int>(r.value & ~nth_hold_marker));
    };
    if (auto* body = std::get_if<cancel_hold>(&c.body)) fix(body->reservation);
    if (auto* body = std::get_if<encore::pay>(&c.body)) fix(body->reservation);
    if (auto* body = std::get_if<encore::refund>(&c.body)) fix(body->reservation);
    if (auto* body = std::get_if<check_in>(&c.body))
        for (ticket_scan& scan : body->scans) fix(scan.reservation);
    return c;
}

std::vector<event> world::run(step s) {
    now += s.after_ms;
    command c = resolve(std::move(s.cmd));
    c.meta.accepted_at = now;
    std::vector<event> events;
    if (c.type() == command_type::tick) {
        for (std::uint32_t p = 0; p < partitions_; ++p) {
            auto more = apply_on(p, c);
            events.insert(events.end(), more.begin(), more.end());
        }
    } else {
        events = apply_on(route(c), c);
    }
    if (!hold_messages) {
        auto more = deliver_all();
        events.insert(events.end(), more.begin(), more.end());
    }
    return events;
}

std::vector<event> world::run_all(const std::vector<step>& steps) {
    std::vector<event> events;
    for (const step& s : steps) {
        auto more = run(s);
        events.insert(events.end(), more.begin(), more.end());
    }
    return events;
}

std::vector<event> world::run_on(std::uint32_t partition, step s) {
    now += s.after_ms;
    command c = resolve(std::move(s.cmd));
    c.meta.accepted_at = now;
    return apply_on(partition, c);
}

std::vector<event> world::deliver_one() {
    REQUIRE_FALSE(pending_.empty());
    engine::outbound_command m = std::move(pending_.front());
    pending_.pop_front();
    delivered_.push_back(m);
    return apply_on(m.partition, m.cmd);
}

std::vector<event> world::deliver_all() {
    std::vector<event> events;
    while (!pending_.empty()) {
        auto more = deliver_one();
        events.insert(events.end(), more.begin(), more.end());
    }
    return events;
}

std::vector<event> world::redeliver(std::size_t index) {
    engine::outbound_command m = delivered_.at(index);
    return apply_on(m.partition, m.cmd);
}

std::vector<event> world::apply_on(std::uint32_t partition, const command& c) {
    partition_state& s = states_.at(partition);
    log_position at{partition, s.next_command_offset};
    std::uint64_t first_sequence = s.next_event_sequence;
    engine::apply_output out;
    engine::apply(s, c, at, out);
    last_ = at;
    // The envelope of every event: dense sequence, the cause, the partition clock.
    for (std::size_t i = 0; i < out.events.size(); ++i) {
        const event& e = out.events[i];
        CHECK(e.sequence == first_sequence + i);
        CHECK(e.cause == at);
        CHECK(e.at == s.clock);
        if (const auto* h = std::get_if<seat_held>(&e.body)) holds_.push_back(h->reservation.id);
    }
    CHECK(s.next_event_sequence == first_sequence + out.events.size());
    check_answers(c, at, out.events);
    for (auto& m : out.messages) pending_.push_back(std::move(m));
    return out.events;
}

void world::check_answers(const command& c, log_position at, const std::vector<event>& events) {
    for (const event& e : events) {
        if (e.answers == no_position || e.answers == at) continue;
        // Only a Pay or a Refund is answered by a later command, once.
        INFO(describe(e) << " answers " << e.answers.partition << "/" << e.answers.offset);
        REQUIRE(pays_in_flight_.erase(e.answers) == 1);
    }
    if (!is_client_command(c)) {
        CHECK(std::none_of(events.begin(), events.end(), [&](const event& e) { return e.answers == at; }));
        return;
    }
    auto answers = std::count_if(events.begin(), events.end(), [&](const event& e) { return e.answers == at; });
    bool started = std::any_of(events.begin(), events.end(), [](const event& e) {
        return e.type() == event_type::payment_started || e.type() == event_type::refund_started;
    });
    INFO(to_string(c.type()) << " at " << at.partition << "/" << at.offset);
    if ((c.type() == command_type::pay || c.type() == command_type::refund) && answers == 0 && started) {
        pays_in_flight_[at] = 0;
        return;
    }
    CHECK(answers == 1);
}

std::size_t world::unanswered_pays() const { return pays_in_flight_.size(); }

const engine::reservation_record& world::record(reservation_id r) const {
    const auto* rec = engine::find_reservation(states_.at(partition_of(r)), r);
    REQUIRE(rec != nullptr);
    return *rec;
}

seat_status world::seat(std::uint32_t seat, day_number date, concert_id c) const {
    const partition_state& s = states_.at(partition_of_concert(c));
    const auto* concert = engine::find_concert(s, c);
    REQUIRE(concert != nullptr);
    for (const auto& d : concert->dates) {
        if (d.date == date) return engine::seat_of(d, seat, s);
    }
    FAIL("no such date");
    return seat_status::available;
}

won world::balance(user_id u) const {
    const partition_state& s = states_.at(partition_of_user(u));
    auto it = s.wallets.find(u);
    return it == s.wallets.end() ? 0 : it->second.balance;
}

const engine::attendee& world::attendee(user_id u, concert_id c) const {
    const auto* concert = engine::find_concert(states_.at(partition_of_concert(c)), c);
    REQUIRE(concert != nullptr);
    return concert->attendees.at(u);
}

}  // namespace encore::test
