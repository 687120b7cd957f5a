// The invariants checked after every step, the end-state checks, and the replay check.

#include <algorithm>

#include "events/codec.hpp"
#include "sim.hpp"

namespace encore::sim {
namespace {

void require(bool ok, const std::string& what) {
    if (!ok) throw failure(what);
}

std::string seat_name(const engine::concert_state& c, const engine::date_state& d, std::uint32_t seat) {
    return "concert " + std::to_string(c.config.concert.value) + " day " + std::to_string(d.date) + " seat " +
           std::to_string(seat);
}

// Replays a partition's log from its opening state (a snapshot), restoring from a snapshot after
// `restore_at` commands (none when past the end), and returns the encoded events and the final state.
std::pair<std::vector<std::string>, engine::partition_state> replay(std::uint32_t partition, const std::string& opening,
                                                                     const std::vector<command>& log,
                                                                     std::size_t restore_at) {
    auto opened = engine::restore(opening);
    require(opened.ok(), "the opening state does not restore");
    engine::partition_state s = std::move(*opened);
    std::vector<std::string> bytes;
    engine::apply_output out;
    for (std::size_t i = 0; i < log.size(); ++i) {
        if (i == restore_at) {
            auto restored = engine::restore(engine::snapshot(s));
            require(restored.ok(), "restore failed during the replay");
            s = std::move(*restored);
        }
        out.clear();
        engine::apply(s, log[i], log_position{partition, i}, out);
        for (const event& e : out.events) bytes.push_back(encode(e));
    }
    return {std::move(bytes), std::move(s)};
}

}  // namespace

void world::check_invariants() {
    for (const engine::partition_state& s : states_) check_partition(s);
    check_money();
}

void world::check_partition(const engine::partition_state& s) {
    for (std::uint32_t i = 0; i < s.concerts.size(); ++i) check_concert(s, s.concerts[i], i);
    for (const auto& [user, w] : s.wallets) {
        require(w.balance >= 0 && w.balance <= balance_max, "a balance outside 0..2^53-1");
        auto model = balances_.find(user.value);
        require(w.balance == (model == balances_.end() ? 0 : model->second), "a balance differs from the model");
    }
    for (const engine::reservation_record& r : s.reservations) {
        require(!r.payment_pending || (r.status == reservation_status::held && r.payment_offset != 0),
                "a payment in flight on a reservation that is not HELD");
        // Deadlines pass as the clock moves: no open hold outlives its expiry.
        require(r.status != reservation_status::held || r.payment_pending || r.expires_at > s.clock,
                "a HELD reservation past its expiry");
        if (r.status == reservation_status::refunded) {
            auto p = payments_.find(reservation_id::at({s.partition, r.payment_offset}));
            require(p != payments_.end() && p->second.confirmed == 1 && p->second.credited == 1 && p->second.refunded == 1,
                    "a refunded reservation whose price was not credited back once");
        }
        if (r.status == reservation_status::confirmed) {
            auto p = payments_.find(reservation_id::at({s.partition, r.payment_offset}));
            require(p != payments_.end() && p->second.debited == 1 && p->second.confirmed == 1,
                    "a confirmed reservation whose payment was not debited once");
        }
    }
}

void world::check_concert(const engine::partition_state& s, const engine::concert_state& c, std::uint32_t index) {
    // Count seats from the reservation records: never two live reservations on one seat.
    std::map<std::pair<std::uint32_t, std::uint32_t>, const engine::reservation_record*> live;
    std::map<std::uint64_t, std::uint32_t> holds_of;    // user -> HELD reservations at this concert
    std::map<std::uint64_t, std::uint32_t> tickets_of;  // user -> seats HELD or CONFIRMED at this concert
    // Per (date, standing zone): places HELD or SOLD, and the entry numbers of those SOLD.
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> zone_places, zone_held;
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::set<std::uint32_t>> entry_numbers;
    std::vector<std::uint32_t> places_held(c.dates.size(), 0), places_sold(c.dates.size(), 0);
    for (const engine::reservation_record& r : s.reservations) {
        if (r.concert_index != index) continue;
        if (r.places != 0 && r.entry_first != 0) {
            // Paid once: its entry numbers are its own, for good (a refund does not give them back).
            for (std::uint32_t e = r.entry_first; e < r.entry_first + r.places; ++e)
                require(entry_numbers[{r.date_index, r.zone}].insert(e).second, "an entry number given twice");
        }
        if (r.places != 0 && (r.status == reservation_status::held || r.status == reservation_status::confirmed)) {
            zone_places[{r.date_index, r.zone}] += r.places;
            const auto placed = hold_prices_.find(reservation_id::at({s.partition, r.offset}));
            require(placed != hold_prices_.end() && r.price == placed->second, "a reservation's price is not the one it was placed at");
            require((r.entry_first != 0) == (r.status == reservation_status::confirmed), "a standing reservation's entry numbers disagree with its status");
            (r.status == reservation_status::held ? places_held : places_sold)[r.date_index] += r.places;
            if (r.status == reservation_status::held) ++holds_of[r.user.value];
            tickets_of[r.user.value] += r.places;
            continue;
        }
        if (r.places != 0) continue;
        if (r.status != reservation_status::held && r.status != reservation_status::confirmed) continue;
        const std::vector<std::uint32_t> seats = engine::seats_of(r);
        require(std::is_sorted(seats.begin(), seats.end()) && std::adjacent_find(seats.begin(), seats.end()) == seats.end(),
                "a reservation's seats are not ascending and distinct");
        // A hold keeps the price it was placed at, whatever prices changed since.
        const auto placed = hold_prices_.find(reservation_id::at({s.partition, r.offset}));
        require(placed != hold_prices_.end() && r.price == placed->second, "a reservation's price is not the one it was placed at");
        for (std::uint32_t seat : seats) {
            auto [it, fresh] = live.emplace(std::make_pair(r.date_index, seat), &r);
            require(fresh, seat_name(c, c.dates[r.date_index], seat) + " is held or sold by two reservations");
        }
        if (r.status == reservation_status::held) ++holds_of[r.user.value];
        tickets_of[r.user.value] += static_cast<std::uint32_t>(seats.size());
    }
    for (std::uint32_t di = 0; di < c.dates.size(); ++di) {
        const engine::date_state& d = c.dates[di];
        std::uint32_t held = 0, sold = 0, blocked = 0;
        for (std::uint32_t seat = 1; seat <= d.seats; ++seat) {
            auto it = live.find({di, seat});
            std::uint32_t cell = d.seat_cells[seat - 1];
            if (it == live.end()) {
                require(cell == engine::no_reservation || cell == engine::blocked_cell,
                        seat_name(c, d, seat) + " is taken with no live reservation");
                blocked += cell == engine::blocked_cell ? 1 : 0;
                continue;
            }
            require(cell != engine::no_reservation && &s.reservations[cell - 1] == it->second,
                    seat_name(c, d, seat) + " does not point at its reservation");
            bool is_sold = it->second->status == reservation_status::confirmed;
            require(engine::seat_of(d, seat, s) == (is_sold ? seat_status::sold : seat_status::held),
                    seat_name(c, d, seat) + " disagrees with its reservation's status");
            ++(is_sold ? sold : held);
        }
        held += places_held[di];
        sold += places_sold[di];
        require(d.held == held && d.sold == sold && d.blocked == blocked, "held/sold/blocked counts differ from the seats and places");
        for (std::uint32_t zone = 0; zone < d.zone_taken.size(); ++zone) {
            const std::uint32_t taken = zone_places[{di, zone}];
            require(d.zone_taken[zone] == taken, "a standing zone's count differs from its reservations");
            require(taken <= c.venue.standing(zone), "a standing zone over its capacity");
            const auto& given = entry_numbers[{di, zone}];
            require(given.size() == d.zone_entries[zone] && (given.empty() || *given.rbegin() == d.zone_entries[zone]),
                    "a standing zone's entry numbers are not 1..n");
        }
        std::vector<std::uint16_t> row_free(d.rows(), 0);
        for (std::uint32_t seat = 1; seat <= d.seats; ++seat) {
            if (d.seat_cells[seat - 1] == engine::no_reservation) ++row_free[d.row_of(seat)];
        }
        require(d.row_free == row_free, "a row's count of available seats differs from its seats");
    }
    // A phase's cap counts the seats (and places) held or owned from holds placed in it.
    if (const sale_phase* open = engine::open_phase(c); open != nullptr && open->max_tickets != 0) {
        std::map<std::uint64_t, std::uint32_t> in_phase;
        for (const engine::reservation_record& r : s.reservations) {
            if (r.concert_index != index || r.phase != c.phase + 1) continue;
            if (r.status != reservation_status::held && r.status != reservation_status::confirmed) continue;
            in_phase[r.user.value] += r.places != 0 ? r.places : static_cast<std::uint32_t>(engine::seats_of(r).size());
        }
        std::map<std::uint64_t, std::uint32_t> kept;
        for (const auto& [user, n] : c.phases[c.phase].bought) {
            if (n != 0) kept[user.value] = n;
        }
        require(kept == in_phase, "a phase's purchases per user differ from its reservations");
        for (const auto& [user, n] : in_phase) require(n <= open->max_tickets, "seats bought in a phase past its cap");
    }
    // A cap the organizer lowered evicts nobody: what users hold is bounded by the loosest cap
    // the concert has had.
    const loosest_limits& loosest = loosest_[c.config.concert.value];
    std::uint32_t active = 0;
    for (const auto& [user, a] : c.attendees) {
        require(a.holds == holds_of[user.value], "an attendee's hold count differs from the reservations");
        require(a.holds <= loosest.holds, "more holds than maxHoldsPerUser ever allowed");
        require(a.tickets == tickets_of[user.value], "an attendee's seat count differs from the reservations");
        require(loosest.uncapped || a.tickets <= loosest.tickets, "more seats held and owned than maxTicketsPerUser ever allowed");
        if (a.status == queue_status::active) {
            ++active;
            // A paused sale's turns stand still, and may end in the past until it resumes.
            require(c.paused || a.active_until > s.clock, "an ACTIVE token past its deadline");
        }
    }
    require(active == c.active && active <= loosest.capacity, "more users ACTIVE than the capacity ever allowed");
    require(c.waiting.empty() || c.paused || c.active >= c.config.queue.active_capacity, "users wait while a slot is free");
    require(!c.paused || c.paused_at <= s.clock, "a pause that begins in the future");
    if (!c.on_sale) {
        // Before onsaleAt: nobody admitted, placed or in line; everyone who joined is in the pre-queue, once.
        const auto& phases = c.config.options.sale.venue->plan.phases;
        if (phases.empty()) {
            require(s.clock < c.config.options.sale.onsale_at, "a pre-queue still closed past onsaleAt");
            require(c.admitted_through == 0, "someone admitted before onsaleAt");
            require(c.pre_queue.size() + 1 == c.next_ticket, "a pre-queue that is not every ticket");
        } else {
            // Between phases (or after the last): the next one's pre-queue, if one is left.
            require(c.phase == phases.size() ? c.pre_queue.empty() : s.clock < phases[c.phase].opens_at,
                    "a phase's pre-queue still closed past its opensAt");
        }
        require(c.active == 0 && c.waiting.empty(), "someone admitted while no phase is open");
        std::set<std::uint64_t> once;
        for (user_id u : c.pre_queue) {
            const engine::attendee& a = c.attendees.at(u);
            require(a.status == queue_status::waiting && a.place == 0 && once.insert(u.value).second,
                    "a pre-queue user placed, not waiting, or there twice");
        }
        return;
    }
    require(c.pre_queue.empty(), "a pre-queue left after onsaleAt");
    std::uint64_t place = c.admitted_through;
    for (user_id u : c.waiting) {
        const engine::attendee& a = c.attendees.at(u);
        require(a.status == queue_status::waiting && a.place == ++place, "the waiting line is out of place order");
    }
    // Each ticket took one place (with phases, a closed phase's tickets took none they kept).
    require(!c.phases.empty() || place + 1 == c.next_ticket, "tickets past the waiting line");
}

// Money is conserved: every won charged is in a wallet, in a confirmed payment not refunded, or in
// a debit whose confirmation is still travelling back (its DebitResult not yet delivered):
// charges = balances + payments - refunds.
void world::check_money() {
    won balances = 0;
    for (const engine::partition_state& s : states_) {
        for (const auto& [user, w] : s.wallets) balances += w.balance;
    }
    won in_flight = debited_total_ - confirmed_total_;
    require(charged_total_ == balances + confirmed_total_ - credited_total_ + in_flight, "money is not conserved");
    std::set<payment_id> travelling;
    for (const auto& [key, ch] : channels_) {
        for (std::size_t i = ch.delivered; i < ch.messages.size(); ++i) {
            const auto* result = std::get_if<debit_result>(&ch.messages[i].body);
            if (result != nullptr && result->debited) travelling.insert(result->payment);
        }
    }
    require(travelling == debits_in_flight_, "a debited payment is neither confirmed nor on its way back");
    won sum = 0;
    for (payment_id p : debits_in_flight_) sum += payments_.at(p).amount;
    require(sum == in_flight, "the debits in flight do not add up");
}

void world::check_end() {
    require(pays_in_flight_.empty(), std::to_string(pays_in_flight_.size()) + " accepted Pays never answered");
    require(debits_in_flight_.empty(), "a debit never confirmed after every message was delivered");
    for (const auto& [id, p] : payments_) {
        require(p.started == 1 && p.debited + p.refused == 1 && p.confirmed + p.failed == 1,
                "a payment that did not run its saga to the end");
        require(p.confirmed == p.debited, "a payment confirmed without its debit, or debited without confirmation");
    }
}

// Replaying a partition's log from its opening state yields the same events, byte for byte, and the
// same state; so does a replay that goes through a snapshot at a random point.
void world::check_replay() {
    for (std::uint32_t p = 0; p < partitions_; ++p) {
        std::vector<std::string> recorded;
        for (const event& e : events_[p]) recorded.push_back(encode(e));
        std::string hash = engine::state_hash(states_[p]);
        std::size_t restore_at = below(logs_[p].size() + 1);
        for (std::size_t at : {logs_[p].size() + 1, restore_at}) {
            auto [bytes, state] = replay(p, openings_[p], logs_[p], at);
            std::string how = at > logs_[p].size() ? "" : " through a snapshot at " + std::to_string(at);
            require(bytes.size() == recorded.size(), "a replay" + how + " yields another number of events");
            auto diff = std::mismatch(bytes.begin(), bytes.end(), recorded.begin());
            require(diff.first == bytes.end(), "a replay" + how + " differs at event " +
                                                   std::to_string(diff.first - bytes.begin()) + " of partition " +
                                                   std::to_string(p));
            require(engine::state_hash(state) == hash, "a replay" + how + " ends in another state");
        }
    }
}

}  // namespace encore::sim
