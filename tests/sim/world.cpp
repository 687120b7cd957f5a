// The world's moves: the catalog, client commands, saga deliveries, clock jumps, snapshots.

#include <algorithm>
#include <set>

#include "events/codec.hpp"
#include "events/ids.hpp"
#include "events/json.hpp"
#include "sim.hpp"
#include "events/route.hpp"
#include "events/venue.hpp"

namespace encore::sim {
namespace {

constexpr time_ms sim_start = 20'788LL * 86'400'000;  // 2026-12-01T00:00:00.000Z
constexpr day_number first_day = 20'811;              // 2026-12-24
constexpr std::size_t recent_max = 12;
constexpr std::size_t concerts_max = 64;

}  // namespace

world::world(std::uint64_t seed, std::size_t steps)
    : rng_(seed * 0x9e3779b97f4a7c15ULL + 1), steps_(steps), partitions_(1 + static_cast<std::uint32_t>(rng_() % 4)),
      now_(sim_start) {
    for (std::uint32_t p = 0; p < partitions_; ++p) {
        states_.push_back(engine::make_partition(p, partitions_));
        logs_.emplace_back();
        events_.emplace_back();
    }
    std::size_t users = 8 + below(40);
    for (std::size_t i = 0; i < users; ++i) users_.push_back(user_id{1000 + i * 7 + below(7)});
    open_wallets();
}

// Some worlds start from partitions whose wallets already hold close to balance_max, as nine
// million charges of the largest amount would have left them (no run of a few thousand steps gets
// there): their charges and refund credits meet BALANCE_LIMIT. Each partition's opening state is
// a snapshot, restored, so the replay check starts from the same bytes.
void world::open_wallets() {
    if (chance(0.4)) {
        for (std::uint64_t i = 0, n = 1 + below(2); i < n; ++i) whales_.push_back(users_[below(users_.size())]);
    }
    for (user_id whale : whales_) {
        engine::wallet& w = states_[partition_of(whale, partitions_)].wallets[whale];
        if (w.balance != 0) continue;  // picked twice
        w.balance = balance_max - between(0, 150'000);
        balances_[whale.value] = w.balance;
        charged_total_ += w.balance;
    }
    for (engine::partition_state& s : states_) {
        openings_.push_back(engine::snapshot(s));
        auto restored = engine::restore(openings_.back());
        if (!restored.ok()) throw failure("the opening state does not restore: " + restored.err().message);
        s = std::move(*restored);
    }
}

create_concert world::random_concert(std::uint64_t id) {
    create_concert c;
    c.concert = concert_id{id};
    c.title = "concert " + std::to_string(id);
    c.venue = "hall";
    auto dates = 1 + below(3);
    // Small dates, so seats run out and conflict; some in rows, for best-available picks.
    const bool rows = chance(0.5);
    for (std::uint64_t d = 0; d < dates; ++d) {
        c.schedules.push_back({first_day + static_cast<day_number>(d * 2 + below(2)),
                               static_cast<std::uint32_t>(1 + below(rows ? 16 : 6)), between(0, 5) * 10'000});
        if (rows) c.options.seats_per_row.push_back(static_cast<std::uint32_t>(1 + below(6)));
    }
    // Some have a venue: grades, and sections of a few rows each; every date has the whole layout.
    if (chance(0.3)) {
        venue_layout& v = c.options.sale.venue;
        const auto grades = 1 + below(3);
        for (std::uint64_t g = 0; g < grades; ++g) v.grades.push_back({std::string(1, static_cast<char>('A' + g)) + "g", between(1, 9) * 10'000});
        const auto sections = 1 + below(3);
        for (std::uint64_t s = 0; s < sections; ++s) {
            section_layout& out = v.sections.emplace_back();
            out.section = "S" + std::to_string(s);
            out.grade = static_cast<std::uint32_t>(below(grades));
            if (s % 3 != 2) out.gate = "G" + std::to_string(s % 3);
            for (std::uint64_t r = 0, rows = 1 + below(3); r < rows; ++r) out.rows.push_back(static_cast<std::uint32_t>(1 + below(5)));
        }
        // Some have a standing zone, Z0: a few places, no seat numbers.
        if (chance(0.5)) {
            section_layout& zone = v.sections.emplace_back();
            zone.section = "Z0";
            zone.grade = static_cast<std::uint32_t>(below(grades));
            zone.standing = static_cast<std::uint32_t>(1 + below(6));
            zone.gate = "GZ";
        }
        const auto seats = static_cast<std::uint32_t>(layout_seats(v));
        c.options.seats_per_row.clear();
        for (schedule& s : c.schedules) {
            s.seats = seats;
            s.price = 0;
        }
        if (chance(0.4)) {
            // Each date's price per grade: mostly the grade's, sometimes its own.
            for (std::size_t i = 0; i < c.schedules.size(); ++i) {
                auto& per_grade = v.prices.emplace_back();
                for (std::size_t g = 0; g < v.grades.size(); ++g) per_grade.push_back(chance(0.5) ? no_date_price : between(1, 9) * 10'000);
            }
        }
        if (chance(0.5)) {
            for (std::size_t i = 0; i < c.schedules.size(); ++i) v.starts_at.push_back(now_ + between(3'600, 86'400) * 1000);
            if (chance(0.7)) v.plan.refunds = random_refund_policy();
        }
    }
    c.queue = {static_cast<std::uint32_t>(1 + below(4)), static_cast<std::uint32_t>(between(20, 300))};
    c.hold_ttl_seconds = static_cast<std::uint32_t>(between(5, 120));
    c.max_holds_per_user = static_cast<std::uint32_t>(1 + below(3));
    // Most concerts take refunds for a while; some never do.
    if (chance(0.7)) c.options.refunds_until = now_ + between(60, 3'600) * 1000;
    if (chance(0.5)) c.options.max_tickets_per_user = static_cast<std::uint32_t>(1 + below(5));
    // Some go on sale later: a pre-queue first, shuffled by the concert's seed.
    if (chance(0.3)) {
        c.options.sale.onsale_at = now_ + between(1, 120) * 1000;
        c.options.sale.queue_seed = rng_();
    } else if (!c.options.sale.venue->grades.empty() && chance(0.5)) {
        // Or in phases: a LIST presale (of the first grade when there are several, sometimes with
        // its own cap), then the general sale, which sometimes ends.
        venue_layout& v = c.options.sale.venue;
        sale_phase presale{"presale", "Fan club", now_ + between(0, 30) * 1000, 0, true, {}, 0, rng_()};
        presale.closes_at = presale.opens_at + between(120, 400) * 1000;
        if (v.grades.size() > 1) presale.grades = {0};
        if (chance(0.5)) presale.max_tickets = static_cast<std::uint32_t>(1 + below(2));
        sale_phase general{"general", "General sale", presale.closes_at + between(0, 30) * 1000, 0, false, {}, 0, rng_()};
        if (chance(0.3)) general.closes_at = general.opens_at + between(60, 600) * 1000;
        v.plan.phases = {presale, general};
    }
    return c;
}

// A refund policy of 1 to 3 tiers within the day before the show (dates start 1 to 24 hours
// ahead, so refunds meet every tier, and none), won or percent, mostly without a free window.
refund_terms world::random_refund_policy() {
    refund_terms terms;
    terms.free_within_hours = chance(0.6) ? 0 : static_cast<std::uint32_t>(1 + below(2));
    std::uint32_t hours = static_cast<std::uint32_t>(between(2, 30));
    for (std::uint64_t i = 0, n = 1 + below(3); i < n; ++i) {
        refund_tier& t = terms.fees.emplace_back();
        t.hours_before = hours;
        if (chance(0.5)) t.won_per_ticket = between(0, 5) * 4'000;
        else t.percent = static_cast<std::uint32_t>(between(0, 100));
        if (hours == 0) break;
        hours = static_cast<std::uint32_t>(below(hours));
    }
    return terms;
}

void world::create_catalog() {
    auto concerts = 1 + below(4);
    for (std::uint64_t i = 0; i < concerts; ++i) {
        concerts_.push_back(random_concert(10 + i * 3 + below(3)));
        send(command{command_meta{now_, user_id{}, "", no_position}, concerts_.back()});
        // A presale's list: most of the ids users will try.
        if (!concerts_.back().options.sale.venue->plan.phases.empty()) {
            add_eligible list{concerts_.back().concert, 0, {}};
            for (std::uint64_t n = 0; n + 2 < list_ids; ++n) list.keys.push_back(list_id(n));
            send(command{command_meta{now_, user_id{}, "", no_position}, list});
        }
    }
    for (user_id u : users_) {
        if (chance(0.7)) send(command{command_meta{now_, u, "", no_position}, register_user{"user"}});
    }
}

void world::run() {
    create_catalog();
    check_invariants();
    for (step_ = 1; step_ <= steps_; ++step_) {
        step();
        check_invariants();
    }
    drain();
    check_invariants();
    check_end();
    check_replay();
}

void world::step() {
    auto roll = below(100);
    if (roll < 40) return client_step();
    if (roll < 68) return deliver_step();
    if (roll < 73) return redeliver_step();
    if (roll < 88) return advance_clock();
    if (roll < 95) {
        std::uint32_t p = static_cast<std::uint32_t>(below(partitions_));
        append(p, command{command_meta{now_, user_id{}, "", no_position}, tick{}});
        return;
    }
    snapshot_step();
}

void world::client_step() {
    if (!keyed_.empty() && chance(0.08)) return repeat_keyed_command();
    if (!keyed_.empty() && chance(0.02)) return reuse_key();
    command c = random_client_command();
    if (chance(0.25)) {
        c.meta.idempotency_key = "k" + std::to_string(next_key_++);
        keyed_.push_back(c);
    }
    send(c);
}

command world::random_client_command() {
    command c;
    user_id user = !whales_.empty() && chance(0.15) ? whales_[below(whales_.size())] : users_[below(users_.size())];
    // The API accepted it a little before it reached the log: accept times are not monotonic.
    c.meta = command_meta{now_ - (chance(0.3) ? between(0, 2'000) : 0), user, "", no_position};
    const create_concert& concert = concerts_[below(concerts_.size())];
    auto roll = below(100);
    if (!concert.options.sale.venue->plan.phases.empty() && chance(0.25)) {
        // A claim of a list id: mostly one of the list, sometimes a phase without one or that does not exist.
        c.body = claim_eligibility{concert.concert, chance(0.9) ? 0u : static_cast<std::uint32_t>(1 + below(2)), list_id(below(list_ids + 3)), false};
    } else if (!bought_.empty() && chance(0.05)) {
        c.meta.user = user_id{};
        c.body = door_command();
    } else if (roll < 45) {
        c.body = queue_or_hold(user, concert);
    } else if (roll < 72 && !reservations_.empty()) {
        c.body = pay_or_cancel(c.meta);
    } else if (roll < 95) {
        c.body = charge{charge_amount(user)};
    } else if (roll < 97) {
        c.body = register_user{std::string(below(70), 'n')};
    } else if (roll < 99) {
        c.meta.user = user_id{};
        c.body = organizer_command(concert);
    } else {
        // The admin: a new concert now and then (a long run must not end sold out), or one that exists.
        c.meta.user = user_id{};
        c.body = concert;
        if (chance(0.5) && concerts_.size() < concerts_max) {
            concerts_.push_back(random_concert(concerts_.back().concert.value + 1 + below(3)));
            c.body = concerts_.back();
        }
    }
    return c;
}

// Mostly an ordinary top-up, sometimes one the API would refuse. A wallet near balance_max is
// topped up to about its room (the client knows its balance): a little more is BALANCE_LIMIT, a
// little less leaves too little room for a refund's credit.
won world::charge_amount(user_id user) {
    auto odd = below(100);
    if (odd < 4) return 0;
    if (odd < 7) return charge_amount_max + 1;
    if (odd < 9) return charge_amount_max;
    if (odd < 11) return -between(1, 1'000);
    if (std::find(whales_.begin(), whales_.end(), user) != whales_.end() && chance(0.6)) {
        const won room = balance_max - balances_[user.value];
        return std::clamp<won>(room + between(-60'000, 20'000), charge_amount_min, charge_amount_max);
    }
    return between(1'000, 200'000);
}

// A client queues when it has no live token, and holds seats once admitted; sometimes it holds
// too early, with an old ticket, or a seat or date that does not exist.
command_body world::queue_or_hold(user_id user, const create_concert& concert) {
    token_view token = tokens_[{user.value, concert.concert.value}];
    double hold_odds = token.status == queue_status::active ? 0.95 : token.status == queue_status::waiting ? 0.4 : 0.1;
    if (!chance(hold_odds)) return enqueue{chance(0.02) ? concert_id{999'999} : concert.concert};
    std::uint64_t ticket = chance(0.95) ? token.ticket : below(30);
    const schedule& date = concert.schedules[below(concert.schedules.size())];
    day_number day = chance(0.97) ? date.date : date.date + 1000;
    std::uint32_t seat = 0;
    seat_choice choice = random_seats(date, seat);
    return hold_seat{concert.concert, ticket, day, seat, choice};
}

// Mostly one seat; else several named seats, or the best `count`; now and then a seat that does
// not exist, and rarely a list the API would have refused (a seat twice).
seat_choice world::random_seats(const schedule& date, std::uint32_t& seat) {
    auto some_seat = [&] {
        return static_cast<std::uint32_t>(chance(0.97) ? between(1, date.seats) : (chance(0.5) ? 0 : date.seats + 1));
    };
    seat_choice choice;
    auto roll = below(100);
    if (roll < 65) {
        seat = some_seat();
    } else if (roll < 82) {
        auto n = 2 + below(3);
        std::set<std::uint32_t> seats;
        for (std::uint64_t i = 0; i < n; ++i) seats.insert(some_seat());
        choice.seats.assign(seats.begin(), seats.end());
        std::shuffle(choice.seats.begin(), choice.seats.end(), rng_);
        if (chance(0.02)) choice.seats.push_back(choice.seats.front());
        if (choice.seats.size() == 1) {
            seat = choice.seats.front();
            choice.seats.clear();
        }
    } else {
        choice.count = static_cast<std::uint32_t>(1 + below(4));
        // Within a grade or a section (of the venue, or one it does not have).
        if (chance(0.3)) {
            auto roll = below(10);
            if (roll < 4) choice.filter.grade = std::string(1, static_cast<char>('A' + below(3))) + "g";
            else if (roll < 7) choice.filter.section = "S" + std::to_string(below(3));
            else if (roll < 9) choice.filter.section = "Z0";  // a standing zone, where the concert has one
            else choice.filter.grade = "nope";
        }
    }
    // Rarely, a filter where the API never sends one (named seats).
    if (choice.count == 0 && chance(0.01)) choice.filter.section = "S0";
    return choice;
}

// Mostly a recent reservation, mostly by its owner, mostly paying.
command_body world::pay_or_cancel(command_meta& meta) {
    std::size_t n = reservations_.size();
    std::size_t pick = chance(0.85) ? n - 1 - below(std::min<std::size_t>(n, 6)) : below(n);
    auto [id, owner] = reservations_[pick];
    if (chance(0.95)) meta.user = owner;
    if (chance(0.6)) return pay{id};
    if (chance(0.4)) {
        // Mostly a bought seat, which is what people refund.
        if (!bought_.empty() && chance(0.9)) {
            auto [paid, buyer] = bought_[below(bought_.size())];
            if (chance(0.95)) meta.user = buyer;
            return refund{paid};
        }
        return refund{id};
    }
    return cancel_hold{id};
}

// The organizer's controls, each now and then, often on a seat or date that makes them refused.
// The ids of the simulation's lists: a few, so that users contend for them (a keyed hash of the
// API's is any 128-bit value to the engine).
list_key world::list_id(std::uint64_t n) { return list_key{n + 1, (n + 1) * 0x9E3779B97F4A7C15ULL}; }

add_eligible world::random_list(concert_id c, std::uint32_t phase) {
    add_eligible add{c, phase, {}};
    for (std::uint64_t i = 0, n = 1 + below(list_ids); i < n; ++i) add.keys.push_back(list_id(below(list_ids)));
    return add;
}

// The door: a scanner added (at one of the venue's gates, at every gate, rarely at one it does not
// have) or removed, or tickets of a paid reservation scanned by a scanner (rarely a removed or
// unknown one) or the organizer, online or as an offline batch, with scan ids from a small pool
// (so that some repeat), now and then a wrong date, a ticket index past the reservation's.
command_body world::door_command() {
    const auto [id, user] = bought_[below(bought_.size())];
    const engine::partition_state& s = states_[id.position().partition];
    const engine::reservation_record* r = engine::find_reservation(s, id);
    const engine::concert_state& c = s.concerts[r->concert_index];
    const concert_id concert = c.config.concert;
    const auto& gates = c.venue.gates();
    auto& scanners = scanners_[concert.value];
    const auto roll = below(100);
    if (roll < 15 || (roll < 40 && scanners.empty())) {
        std::string gate = gates.empty() || chance(0.3) ? "" : gates[below(gates.size())];
        if (chance(0.05)) gate = "W";
        return change_scanner{concert, reservation_id{}, chance(0.03) ? "" : "door", gate, false};
    }
    if (roll < 22) {
        reservation_id scanner = scanners.empty() || chance(0.2) ? reservation_id::at({0, 1}) : reservation_id{std::next(scanners.begin(), static_cast<std::ptrdiff_t>(below(scanners.size())))->first};
        return change_scanner{concert, scanner, "", "", true};
    }
    check_in in{concert, reservation_id{}, "", chance(0.3), {}};
    if (!scanners.empty() && chance(0.85)) {
        in.scanner = reservation_id{std::next(scanners.begin(), static_cast<std::ptrdiff_t>(below(scanners.size())))->first};
    } else if (!gates.empty() && chance(0.6)) {
        in.gate = gates[below(gates.size())];
    }
    for (std::uint64_t n = 0, scans = in.offline ? 1 + below(4) : 1; n < scans; ++n) {
        const auto [other, owner] = chance(0.7) ? bought_[below(bought_.size())] : std::pair{id, user};
        const engine::reservation_record* x = engine::find_reservation(states_[other.position().partition], other);
        ticket_scan& scan = in.scans.emplace_back();
        scan.reservation = other;
        scan.ticket = static_cast<std::uint32_t>(1 + below(x->places != 0 ? x->places + 1 : x->more_seats.size() + 2));
        scan.date = states_[other.position().partition].concerts[x->concert_index].dates[x->date_index].date;
        if (chance(0.05)) scan.date += 1;
        if (chance(0.6)) scan.scan_id = "scan-" + std::to_string(below(6));
        scan.scanned_at = now_ - between(0, 60'000);
    }
    return in;
}

command_body world::organizer_command(const create_concert& known) {
    // The concert as it is now (the organizer reads it before changing it, as GET /admin does).
    const engine::partition_state& s = states_[partition_of(known.concert, partitions_)];
    const engine::concert_state* concert = engine::find_concert(s, known.concert);
    const create_concert& config = concert != nullptr ? concert->config : known;
    auto roll = below(100);
    if (!config.options.sale.venue->plan.phases.empty() && roll < 25) {
        // More ids for the list, or a claim freed (mostly one that was made).
        if (chance(0.4)) return random_list(config.concert, chance(0.9) ? 0u : 1u);
        list_key key = list_id(below(list_ids));
        if (concert != nullptr && !concert->phases[0].claims.empty() && chance(0.8)) {
            auto it = concert->phases[0].claims.begin();
            std::advance(it, static_cast<std::ptrdiff_t>(below(concert->phases[0].claims.size())));
            key = it->second;
        }
        return claim_eligibility{config.concert, 0, key, true};
    }
    if (roll < 30) return pause_sales{config.concert, concert == nullptr || !concert->paused ? chance(0.7) : chance(0.2)};
    const schedule& date = config.schedules[below(config.schedules.size())];
    if (roll < 65) {
        block_seats b{config.concert, chance(0.97) ? date.date : date.date + 1000, {}, chance(0.6), ""};
        std::set<std::uint32_t> seats;
        for (std::uint64_t i = 0, n = 1 + below(3); i < n; ++i)
            seats.insert(static_cast<std::uint32_t>(chance(0.97) ? between(1, date.seats) : date.seats + 1));
        b.seats.assign(seats.begin(), seats.end());
        if (b.blocked && chance(0.5)) b.reason = "camera";
        return b;
    }
    if (roll < 90) {
        update_concert u{config.concert, false, 0, {}};
        concert_settings& set = u.settings;
        if (chance(0.4)) {
            set.set |= concert_settings::active_capacity_field;
            set.active_capacity = static_cast<std::uint32_t>(1 + below(5));
        }
        if (chance(0.3)) {
            set.set |= concert_settings::hold_ttl_field;
            set.hold_ttl_seconds = static_cast<std::uint32_t>(between(5, 120));
        }
        if (chance(0.3)) {
            set.set |= concert_settings::active_ttl_field;
            set.active_ttl_seconds = static_cast<std::uint32_t>(between(20, 300));
        }
        if (chance(0.3)) {
            set.set |= concert_settings::claim_seconds_field;
            set.claim_seconds = static_cast<std::uint32_t>(chance(0.3) ? 0 : between(5, 320));  // past the TTL: refused
        }
        if (chance(0.3)) {
            set.set |= concert_settings::max_tickets_field;
            set.max_tickets_per_user = static_cast<std::uint32_t>(1 + below(5));
        }
        if (chance(0.2)) {
            set.set |= concert_settings::max_holds_field;
            set.max_holds_per_user = static_cast<std::uint32_t>(1 + below(3));
        }
        if (chance(0.2)) {
            set.set |= concert_settings::refunds_until_field;
            set.refunds_until = chance(0.2) ? 0 : now_ + between(60, 3'600) * 1000;
        }
        if (chance(0.15)) {
            // A new refund policy for later payments, or none (refused without a venue).
            set.set |= concert_settings::refund_policy_field;
            if (chance(0.8)) set.phases.refund_policy = random_refund_policy();
        }
        if (!config.options.sale.venue->grades.empty() && chance(0.4)) {
            // New prices for the grades; rarely a grade renamed, which is refused.
            set.set |= concert_settings::grades_field;
            set.grades = config.options.sale.venue->grades;
            for (grade_price& g : set.grades) g.price = chance(0.5) ? g.price : between(1, 9) * 10'000;
            if (chance(0.05)) set.grades.front().grade = "renamed";
        }
        if (!config.options.sale.venue->plan.phases.empty() && chance(0.3)) {
            // The sale phases, the whole list with one change: a phase moved later (mostly one to
            // come), a cap changed (PHASE_STARTED if it has opened), a phase added or the last one
            // removed, or two names swapped (never allowed).
            set.set |= concert_settings::phases_field;
            std::vector<sale_phase>& phases = set.phases.phases;
            phases = config.options.sale.venue->plan.phases;
            const std::size_t i = below(phases.size());
            const auto kind = below(100);
            if (kind < 40) {
                const time_ms by = between(1, 40) * 1000;
                for (std::size_t j = i; j < phases.size(); ++j) {
                    phases[j].opens_at += by;
                    if (phases[j].closes_at != 0) phases[j].closes_at += by;
                }
            } else if (kind < 60) {
                phases[i].max_tickets = static_cast<std::uint32_t>(below(4));
            } else if (kind < 80 && phases.size() < phases_max) {
                const sale_phase& last = phases.back();
                const time_ms after = std::max(last.opens_at, last.closes_at) + between(5, 60) * 1000;
                phases.push_back({"extra-" + std::to_string(phases.size()), "", after, 0, chance(0.3), {}, 0, below(1'000'000)});
            } else if (kind < 93 && phases.size() > 1) {
                phases.pop_back();
            } else if (phases.size() > 1) {
                std::swap(phases[0].phase, phases[1].phase);
            }
        }
        if (set.set == 0 || chance(0.2)) {
            set.set |= concert_settings::title_field;
            set.title = config.title + "!";
        }
        if (chance(0.3)) {
            // With If-Match: mostly the revision the organizer read, sometimes an older one.
            u.conditional = true;
            const std::uint64_t revision = concert != nullptr ? concert->revision : 0;
            u.revision = chance(0.8) || revision == 0 ? revision : revision - 1;
        }
        return u;
    }
    // A date, mostly new, sometimes one the concert has.
    add_dates a{config.concert, {}, {}};
    const day_number day = chance(0.2) ? date.date : config.schedules.back().date + 1 + static_cast<day_number>(below(40));
    if (concert != nullptr && concert->venue.has_layout()) {
        a.schedules.push_back({day, concert->venue.seats(), 0});  // the whole layout, at the grades' prices
    } else {
        a.schedules.push_back({day, static_cast<std::uint32_t>(1 + below(8)), between(0, 5) * 10'000});
        if (chance(0.5)) a.seats_per_row.push_back(static_cast<std::uint32_t>(1 + below(6)));
    }
    return a;
}

void world::repeat_keyed_command() {
    command c = keyed_[below(keyed_.size())];
    c.meta.accepted_at = now_;
    send(c);
}

// A client sends another request with a key it used before: IDEMPOTENCY_KEY_REUSED, unless the
// partition that checks it has forgotten the key.
void world::reuse_key() {
    const command old = keyed_[below(keyed_.size())];
    command c;
    if (old.meta.user.value == 0) {
        // The admin's key: a concert again, another or the same with another title.
        create_concert concert = concerts_[below(concerts_.size())];
        concert.title += " again";
        c = command{command_meta{now_, user_id{}, "", no_position}, std::move(concert)};
    } else {
        do c = random_client_command();
        while (c.meta.user.value == 0);
        c.meta.user = old.meta.user;
    }
    c.meta.idempotency_key = old.meta.idempotency_key;
    send(c);
}

// As the API's gateway sends it: a keyed request for another partition than the caller's home
// first claims its key there (ClaimKey with the request's fingerprint), and goes on only when the
// claim is answered KeyClaimed.
void world::send(const command& c) {
    const std::uint32_t partition = route_of(c, partitions_);
    const std::uint32_t home = partition_of(c.meta.user, partitions_);
    if (!c.meta.idempotency_key.empty() && partition != home) {
        const log_position claimed = append(home, command{c.meta, claim_key{request_fingerprint(c)}});
        const event* answer = answer_to(claimed);
        if (answer == nullptr || answer->type() != event_type::key_claimed) return;
    }
    append(partition, c);
}

// The answer to the command just appended at `at`: among the last events of its partition.
const event* world::answer_to(log_position at) const {
    const std::vector<event>& events = events_[at.partition];
    for (auto e = events.rbegin(); e != events.rend() && e->cause == at; ++e) {
        if (e->answers == at) return &*e;
    }
    return nullptr;
}

log_position world::append(std::uint32_t partition, const command& c) {
    engine::partition_state& s = states_[partition];
    if (c.type() == command_type::pause_sales || c.type() == command_type::block_seats ||
        c.type() == command_type::update_concert || c.type() == command_type::add_dates ||
        c.type() == command_type::add_eligible || c.type() == command_type::claim_eligibility) {
        // The judge compares the answer with the concert as it was.
        const concert_id id = std::visit([](const auto& body) {
            if constexpr (requires { body.concert; }) return concert_id{body.concert};
            else return concert_id{};
        }, c.body);
        const engine::concert_state* concert = engine::find_concert(s, id);
        before_change_ = concert != nullptr ? *concert : engine::concert_state{};
    }
    logs_[partition].push_back(c);
    log_position at{partition, logs_[partition].size() - 1};
    std::uint64_t first_sequence = s.next_event_sequence;
    engine::apply_output out;
    engine::apply(s, c, at, out);
    recent_.push_back({partition, at});
    if (recent_.size() > recent_max) recent_.erase(recent_.begin());

    count(c, out.events);
    check_envelope(partition, at, out.events, first_sequence);
    for (const event& e : out.events) record_event(partition, e);
    check_answers(c, at, out.events);
    judge(c, at, out.events);
    for (engine::outbound_command& m : out.messages) {
        if (m.partition >= partitions_) throw failure("a saga message for partition " + std::to_string(m.partition));
        // The engine addresses its saga steps itself; route_of must agree, for whoever routes them.
        if (route_of(m.cmd, partitions_) != m.partition)
            throw failure("route_of sends a " + std::string(to_string(m.cmd.type())) + " to partition " +
                          std::to_string(route_of(m.cmd, partitions_)) + ", the engine to " + std::to_string(m.partition));
        channels_[{partition, m.partition}].messages.push_back(std::move(m.cmd));
    }
    events_[partition].insert(events_[partition].end(), out.events.begin(), out.events.end());
    return at;
}

void world::deliver_step() {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> ready;
    for (const auto& [key, ch] : channels_) {
        if (ch.delivered < ch.messages.size()) ready.push_back(key);
    }
    if (ready.empty()) return client_step();
    auto key = ready[below(ready.size())];
    auto burst = 1 + below(3);
    for (std::uint64_t i = 0; i < burst; ++i) {
        channel& ch = channels_[key];
        if (ch.delivered == ch.messages.size()) break;
        command m = ch.messages[ch.delivered++];
        append(key.second, m);
    }
}

// A restarted origin sends again from an earlier point: the target must drop what it has seen.
void world::redeliver_step() {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> seen;
    for (const auto& [key, ch] : channels_) {
        if (ch.delivered > 0) seen.push_back(key);
    }
    if (seen.empty()) return deliver_step();
    auto key = seen[below(seen.size())];
    std::size_t delivered = channels_[key].delivered;
    std::size_t from = delivered - 1 - below(std::min<std::size_t>(delivered, 4));
    for (std::size_t i = from; i < delivered; ++i) {
        command m = channels_[key].messages[i];
        append(key.second, m);
    }
}

void world::advance_clock() {
    auto roll = below(100);
    if (roll < 70) now_ += between(0, 2'000);
    else if (roll < 95) now_ += between(2, 30) * 1000;
    else if (roll < 99) now_ += between(30, 600) * 1000;  // past most deadlines
    else now_ += between(20, 30) * 3'600'000;              // past the idempotency retention
}

void world::snapshot_step() {
    std::uint32_t p = static_cast<std::uint32_t>(below(partitions_));
    std::string bytes = engine::snapshot(states_[p]);
    auto restored = engine::restore(bytes);
    if (!restored.ok()) throw failure("restore(snapshot(s)) failed: " + restored.err().message);
    if (engine::snapshot(*restored) != bytes) throw failure("snapshot(restore(b)) != b");
    states_[p] = std::move(*restored);
}

// Delivers every saga message until no channel has any left: every accepted Pay must end.
void world::drain() {
    for (bool moved = true; moved;) {
        moved = false;
        for (auto& [key, ch] : channels_) {
            while (ch.delivered < ch.messages.size()) {
                command m = ch.messages[ch.delivered++];
                append(key.second, m);
                moved = true;
            }
        }
    }
}

std::string world::recent_commands() const {
    std::string out;
    for (const auto& [partition, at] : recent_) {
        out += "  partition " + std::to_string(partition) + " offset " + std::to_string(at.offset) + ": " +
               to_json(logs_[partition][at.offset]).dump() + "\n";
    }
    return out;
}

}  // namespace encore::sim
