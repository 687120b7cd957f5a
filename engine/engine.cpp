#include "engine/engine.hpp"

#include <algorithm>
#include <cassert>
#include <variant>

#include "events/binary.hpp"
#include "events/codec.hpp"
#include "events/ids.hpp"
#include "events/refund_policy.hpp"

namespace encore::engine {
namespace {

constexpr time_ms ms_per_second = 1000;
// The dates API.md can spell (YYYY-MM-DD, years 1970..9999): a concert date outside them could
// never be named in a request.
constexpr day_number date_min = 0;          // 1970-01-01
constexpr day_number date_max = 2'932'896;  // 9999-12-31

// Everything one apply call needs, so helpers stay short and take one argument.
struct context {
    partition_state& state;
    const command& cmd;
    log_position at;
    apply_output& out;

    time_ms now() const { return state.clock; }

    // The event is built with its body in place: a default event would first build the largest
    // alternative (a whole catalog) only to replace it.
    template <class Body>
    void emit(Body&& body, log_position answers = no_position) {
        out.events.push_back(event{state.next_event_sequence++, at, answers, state.clock,
                                   event_body(std::in_place_type<std::decay_t<Body>>, std::forward<Body>(body))});
    }
    // The event that answers the client's request (the command being applied).
    template <class Body>
    void answer(Body&& body) { emit(std::forward<Body>(body), at); }
    void refuse(refusal reason, std::uint64_t detail = 0) {
        answer(refused{cmd.type(), reason, cmd.meta.user, detail});
    }
};

// ---- lookups ---------------------------------------------------------------------------------

concert_state* concert_of(partition_state& s, concert_id c) {
    auto it = s.concert_index.find(c);
    return it == s.concert_index.end() ? nullptr : &s.concerts[it->second];
}

reservation_record* reservation_of(partition_state& s, reservation_id r) {
    auto p = r.position();
    if (p.partition != s.partition) return nullptr;
    auto it = std::lower_bound(s.reservations.begin(), s.reservations.end(), p.offset,
                               [](const reservation_record& rec, std::uint64_t off) { return rec.offset < off; });
    return it != s.reservations.end() && it->offset == p.offset ? &*it : nullptr;
}

std::uint32_t slot_of(const partition_state& s, const reservation_record& r) {
    return static_cast<std::uint32_t>(&r - s.reservations.data());
}

date_state* date_of(concert_state& c, day_number day) {
    auto it = std::lower_bound(c.dates.begin(), c.dates.end(), day,
                               [](const date_state& d, day_number v) { return d.date < v; });
    return it != c.dates.end() && it->date == day ? &*it : nullptr;
}

void lower_deadline(partition_state& s, time_ms at) {
    if (s.next_deadline == 0 || at < s.next_deadline) s.next_deadline = at;
}

// Files a deadline in time order (after those of the same time), with its user in the parallel
// deque when there is one. With one TTL per concert that is always the back; a TTL the organizer
// changed can put it earlier.
void add_deadline(std::deque<deadline>& ds, std::deque<std::uint64_t>* users, deadline d, std::uint64_t user = 0) {
    auto at = ds.end();
    if (!ds.empty() && ds.back().at > d.at)
        at = std::upper_bound(ds.begin(), ds.end(), d.at, [](time_ms t, const deadline& x) { return t < x.at; });
    const auto index = at - ds.begin();
    ds.insert(at, d);
    if (users != nullptr) users->insert(users->begin() + index, user);
}

// ---- waiting room ----------------------------------------------------------------------------

// The claim window of a concert, or 0 when admitted users are never lapsed before their TTL.
time_ms claim_window_ms(const concert_state& c) {
    std::uint32_t claim = c.config.options.claim_seconds;
    return claim == 0 || claim >= c.config.queue.active_ttl_seconds ? 0 : claim * ms_per_second;
}

void activate(context& cx, concert_state& c, user_id user, attendee& a) {
    a.status = queue_status::active;
    a.claimed = false;
    a.active_until = cx.now() + c.config.queue.active_ttl_seconds * ms_per_second;
    ++c.active;
    add_deadline(c.active_deadlines, &c.active_users, {a.active_until, a.ticket}, user.value);
    lower_deadline(cx.state, a.active_until);
}

// Each free slot admits the longest-waiting user (nobody while the sale is paused).
void admit_waiting(context& cx, concert_state& c) {
    while (!c.paused && c.active < c.config.queue.active_capacity && !c.waiting.empty()) {
        user_id user = c.waiting.front();
        c.waiting.pop_front();
        ++c.admitted_through;
        attendee& a = c.attendees.at(user);
        assert(a.place == c.admitted_through && a.status == queue_status::waiting);
        activate(cx, c, user, a);
        if (time_ms window = claim_window_ms(c); window != 0) {
            add_deadline(c.claim_deadlines, &c.claim_users, {cx.now() + window, a.ticket}, user.value);
            lower_deadline(cx.state, cx.now() + window);
        }
        cx.emit(queue_admitted{c.config.concert, user, a.ticket, a.active_until});
    }
}

// A stream of random numbers from a seed (SplitMix64): the same seed, the same stream, on every
// machine and build, which is what makes the pre-queue's order replayable.
struct seeded_random {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    // Uniform in [0, n), without the bias of a plain modulo: draws below 2^64 mod n are redrawn,
    // so that what is left is a whole number of runs of n.
    std::uint64_t below(std::uint64_t n) {
        assert(n > 0);
        const std::uint64_t threshold = (0 - n) % n;
        for (;;) {
            const std::uint64_t r = next();
            if (r >= threshold) return r % n;
        }
    }
};

// ---- the sale's schedule: onsaleAt, or the sale phases ------------------------------------------

const std::vector<sale_phase>& phases_of(const concert_state& c) { return c.config.options.sale.venue->plan.phases; }

}  // namespace

const sale_phase* open_phase(const concert_state& c) {
    return c.on_sale && !c.phases.empty() ? &phases_of(c)[c.phase] : nullptr;
}

bool on_sale_grade(const sale_phase* open, std::uint32_t grade) {
    return open == nullptr || open->grades.empty() || std::binary_search(open->grades.begin(), open->grades.end(), grade);
}

namespace {

// When the sale (or the next phase) opens, while it is not open; 0: never again.
time_ms opens_at(const concert_state& c) {
    if (c.on_sale) return 0;
    if (c.phases.empty()) return c.config.options.sale.onsale_at;
    return c.phase < c.phases.size() ? phases_of(c)[c.phase].opens_at : 0;
}

// When the open phase closes: its closesAt, else when the next one opens; 0: never.
time_ms closes_at(const concert_state& c) {
    const sale_phase* p = open_phase(c);
    if (p == nullptr) return 0;
    if (p->closes_at != 0) return p->closes_at;
    return c.phase + 1 < c.phases.size() ? phases_of(c)[c.phase + 1].opens_at : 0;
}

time_ms next_transition(const concert_state& c) { return c.on_sale ? closes_at(c) : opens_at(c); }


// onsaleAt (or a phase's opensAt) has come: the pre-queue is shuffled with the concert's (the
// phase's) seed (Fisher-Yates), placed in that order at the front of the queue, and admitted from
// it. Nothing of when or how often anyone joined goes into the order but the join order, which
// the shuffle makes irrelevant.
void open_sale(context& cx, concert_state& c) {
    assert(!c.on_sale && c.waiting.empty() && c.active == 0);
    c.on_sale = true;
    std::uint64_t seed = c.config.options.sale.queue_seed;
    if (!c.phases.empty()) {
        seed = phases_of(c)[c.phase].queue_seed;
        cx.emit(phase_opened{c.config.concert, c.phase});
    }
    std::vector<user_id> order = std::move(c.pre_queue);
    c.pre_queue.clear();
    seeded_random random{seed};
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[random.below(i)]);
    for (user_id user : order) {
        attendee& a = c.attendees.at(user);
        assert(a.status == queue_status::waiting && a.place == 0);
        a.place = c.admitted_through + c.waiting.size() + 1;
        c.waiting.push_back(user);
        cx.emit(queue_placed{c.config.concert, user, a.ticket, a.place});
    }
    admit_waiting(cx, c);
}

// The open phase closes: every token of it (waiting or active) is EXPIRED, so its users may join
// the next phase; holds already placed stay, and may be paid until they expire.
void close_phase(context& cx, concert_state& c) {
    assert(c.on_sale && !c.phases.empty());
    for (user_id user : c.waiting) c.attendees.at(user).status = queue_status::expired;
    for (std::size_t i = 0; i < c.active_users.size(); ++i) {
        attendee& a = c.attendees.at(user_id{c.active_users[i]});
        if (a.status == queue_status::active && a.ticket == c.active_deadlines[i].subject) a.status = queue_status::expired;
    }
    c.active = 0;
    c.waiting.clear();
    c.active_deadlines.clear();
    c.active_users.clear();
    c.claim_deadlines.clear();
    c.claim_users.clear();
    c.phases[c.phase].bought = {};
    cx.emit(phase_closed{c.config.concert, c.phase, c.next_ticket});
    ++c.phase;
    c.on_sale = false;
}

// Opens and closes what the clock has passed: onsaleAt, or each phase's opensAt and closesAt.
void advance_sale(context& cx, concert_state& c) {
    for (;;) {
        const time_ms next = next_transition(c);
        if (next == 0 || next > cx.now()) return;
        if (c.on_sale) {
            close_phase(cx, c);
        } else {
            open_sale(cx, c);
        }
    }
}

void leave_active(context& cx, concert_state& c, user_id user, attendee& a, bool completed) {
    assert(a.status == queue_status::active && c.active > 0);
    a.status = completed ? queue_status::completed : queue_status::expired;
    --c.active;
    cx.emit(queue_left{c.config.concert, user, a.ticket, completed});
}

// ---- holds -----------------------------------------------------------------------------------


// Its tickets: seats, or places of a standing zone.
std::uint32_t seat_count(const reservation_record& r) {
    return r.places != 0 ? r.places : 1 + static_cast<std::uint32_t>(r.more_seats.size());
}

// Makes every seat (or standing place) of the reservation AVAILABLE again; returns how many.
std::uint32_t free_seats(partition_state& s, reservation_record& r) {
    date_state& d = s.concerts[r.concert_index].dates[r.date_index];
    if (r.places != 0) {
        assert(d.zone_taken[r.zone] >= r.places);
        d.zone_taken[r.zone] -= r.places;
        return r.places;
    }
    [[maybe_unused]] const std::uint32_t cell = slot_of(s, r) + 1;
    auto free_one = [&](std::uint32_t seat) {
        assert(d.seat_cells[seat - 1] == cell);
        d.seat_cells[seat - 1] = no_reservation;
        ++d.row_free[d.row_of(seat)];
    };
    free_one(r.seat);
    for (std::uint32_t seat : r.more_seats) free_one(seat);
    return seat_count(r);
}

// Seats no longer held or owned count no more against the cap of the phase they were placed in,
// while it is open.
void unbuy(concert_state& c, const reservation_record& r, std::uint32_t n) {
    if (r.phase == 0 || !c.on_sale || r.phase != c.phase + 1) return;
    auto& bought = c.phases[c.phase].bought;
    auto it = bought.find(r.user);
    if (it == bought.end()) return;
    it->second -= std::min(it->second, n);
    if (it->second == 0) bought.erase(it);
}

void release_seat(partition_state& s, reservation_record& r, reservation_status to) {
    assert(r.status == reservation_status::held && !r.payment_pending);
    concert_state& c = s.concerts[r.concert_index];
    date_state& d = c.dates[r.date_index];
    const std::uint32_t n = free_seats(s, r);
    assert(d.held >= n);
    d.held -= n;
    r.status = to;
    attendee& a = c.attendees.at(r.user);
    assert(a.holds > 0);
    --a.holds;
    assert(a.tickets >= n);
    a.tickets -= n;
    unbuy(c, r, n);
}

void expire_hold(context& cx, reservation_record& r) {
    release_seat(cx.state, r, reservation_status::expired);
    cx.emit(hold_expired{to_reservation(cx.state, r)});
}

// Moves every deadline that the clock has passed: holds expire, active tokens run out, freed
// slots admit waiting users. Concerts are visited in creation order, deadlines in time order.
void pass_deadlines(context& cx) {
    partition_state& s = cx.state;
    if (s.next_deadline == 0 || s.next_deadline > s.clock) return;
    time_ms next = 0;
    auto consider = [&next](time_ms at) {
        if (next == 0 || at < next) next = at;
    };
    for (concert_state& c : s.concerts) {
        advance_sale(cx, c);
        while (!c.hold_deadlines.empty() && c.hold_deadlines.front().at <= s.clock) {
            reservation_record& r = s.reservations[c.hold_deadlines.front().subject];
            c.hold_deadlines.pop_front();
            // A hold with a payment in flight is kept: the accepted payment completes.
            if (r.status == reservation_status::held && !r.payment_pending) expire_hold(cx, r);
        }
        bool freed = false;
        // A paused sale's turns stand still: resume moves their deadlines by the pause's length.
        while (!c.paused && !c.active_deadlines.empty() && c.active_deadlines.front().at <= s.clock) {
            deadline d = c.active_deadlines.front();
            user_id user{c.active_users.front()};
            c.active_deadlines.pop_front();
            c.active_users.pop_front();
            attendee& a = c.attendees.at(user);
            if (a.ticket == d.subject && a.status == queue_status::active) {
                leave_active(cx, c, user, a, false);
                freed = true;
            }
        }
        // Admitted users who sent nothing within the claim window lapse, so their slot admits the next.
        while (!c.paused && !c.claim_deadlines.empty() && c.claim_deadlines.front().at <= s.clock) {
            deadline d = c.claim_deadlines.front();
            user_id user{c.claim_users.front()};
            c.claim_deadlines.pop_front();
            c.claim_users.pop_front();
            attendee& a = c.attendees.at(user);
            if (a.ticket == d.subject && a.status == queue_status::active && !a.claimed) {
                leave_active(cx, c, user, a, false);
                freed = true;
            }
        }
        if (freed) admit_waiting(cx, c);
        if (time_ms t = next_transition(c); t != 0) consider(t);
        if (!c.hold_deadlines.empty()) consider(c.hold_deadlines.front().at);
        if (!c.paused && !c.active_deadlines.empty()) consider(c.active_deadlines.front().at);
        if (!c.paused && !c.claim_deadlines.empty()) consider(c.claim_deadlines.front().at);
    }
    s.next_deadline = next;
}

// ---- commands --------------------------------------------------------------------------------

}  // namespace

namespace {

// A name of the venue (a grade, a section): 1..16 characters of [A-Za-z0-9_-].
bool venue_name(const std::string& name) {
    if (name.empty() || name.size() > venue_name_length_max) return false;
    return std::all_of(name.begin(), name.end(), [](char ch) {
        return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    });
}

// The venue's checks (API.md "The venue"); a concert without a layout has none of it.
bool valid_venue(const create_concert& c) {
    const venue_layout& v = c.options.sale.venue;
    if (v == venue_layout{}) return true;
    if (v.grades.empty() || v.grades.size() > grades_max || v.sections.empty() || v.sections.size() > sections_max) return false;
    if (!c.options.seats_per_row.empty()) return false;  // rows come from the layout
    std::vector<std::string> names;
    for (const grade_price& g : v.grades) {
        if (!venue_name(g.grade) || g.price < 0 || g.price > price_max) return false;
        names.push_back(g.grade);
    }
    std::sort(names.begin(), names.end());
    if (std::adjacent_find(names.begin(), names.end()) != names.end()) return false;
    names.clear();
    for (const section_layout& s : v.sections) {
        if (!venue_name(s.section) || s.grade >= v.grades.size() || s.gate.size() > venue_name_length_max) return false;
        // Seated (rows) or standing (a capacity), never both.
        if (s.standing != 0) {
            if (!s.rows.empty() || s.standing > standing_places_max) return false;
        } else if (s.rows.empty() || s.rows.size() > rows_per_section_max) {
            return false;
        }
        for (std::uint32_t n : s.rows) {
            if (n < 1 || n > seats_per_section_row_max) return false;
        }
        names.push_back(s.section);
    }
    std::sort(names.begin(), names.end());
    if (std::adjacent_find(names.begin(), names.end()) != names.end()) return false;
    const std::uint64_t seats = layout_seats(v);
    if (seats + layout_standing(v) > seats_per_date_max) return false;
    for (const schedule& s : c.schedules) {
        if (s.seats != seats || s.price != 0) return false;
    }
    if (!v.starts_at.empty() && v.starts_at.size() != c.schedules.size()) return false;
    for (time_ms at : v.starts_at) {
        if (at < 0) return false;
    }
    if (!v.prices.empty() && v.prices.size() != c.schedules.size()) return false;
    for (const auto& per_grade : v.prices) {
        if (per_grade.size() != v.grades.size()) return false;
        for (won p : per_grade) {
            if (p < no_date_price || p > price_max) return false;
        }
    }
    return true;
}

// The sale phases' checks (API.md "Sale phases"): in increasing opensAt, not overlapping.
bool valid_phases(const create_concert& c) {
    const std::vector<sale_phase>& phases = c.options.sale.venue->plan.phases;
    if (phases.empty()) return true;
    if (phases.size() > phases_max || c.options.sale.onsale_at != 0) return false;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < phases.size(); ++i) {
        const sale_phase& p = phases[i];
        const std::size_t length = utf8_characters(p.phase);
        if (length < 1 || length > phase_name_length_max || utf8_characters(p.name) > title_length_max) return false;
        if (p.opens_at < 0 || (i > 0 && p.opens_at <= phases[i - 1].opens_at)) return false;
        if (p.closes_at != 0 && (p.closes_at <= p.opens_at || (i + 1 < phases.size() && p.closes_at > phases[i + 1].opens_at)))
            return false;
        for (std::size_t g = 0; g < p.grades.size(); ++g) {
            if (p.grades[g] >= c.options.sale.venue->grades.size() || (g > 0 && p.grades[g] <= p.grades[g - 1])) return false;
        }
        if (p.max_tickets > max_tickets_per_user_max) return false;
        names.push_back(p.phase);
    }
    std::sort(names.begin(), names.end());
    return std::adjacent_find(names.begin(), names.end()) == names.end();
}

}  // namespace

bool valid_catalog(const create_concert& c) {
    if (c.concert.value == 0 || c.title.empty() || c.title.size() > title_length_max ||
        c.venue.size() > title_length_max)
        return false;
    if (c.schedules.empty() || c.schedules.size() > dates_per_concert_max) return false;
    std::uint64_t seats = 0;
    for (const schedule& s : c.schedules) seats += s.seats + layout_standing(c.options.sale.venue);
    if (seats > seats_per_concert_max) return false;
    if (c.queue.active_capacity < 1 || c.queue.active_capacity > active_capacity_max) return false;
    if (c.queue.active_ttl_seconds < 1 || c.queue.active_ttl_seconds > ttl_seconds_max) return false;
    if (c.hold_ttl_seconds < 1 || c.hold_ttl_seconds > ttl_seconds_max) return false;
    if (c.max_holds_per_user < 1 || c.max_holds_per_user > max_holds_per_user_max) return false;
    const catalog_options& o = c.options;
    if (o.claim_seconds > c.queue.active_ttl_seconds || o.max_tickets_per_user > max_tickets_per_user_max) return false;
    if (o.refunds_until < 0 || o.sale.onsale_at < 0) return false;
    if (!o.seats_per_row.empty() && o.seats_per_row.size() != c.schedules.size()) return false;
    for (std::uint32_t per_row : o.seats_per_row) {
        if (per_row < 1 || per_row > seats_per_row_max) return false;
    }
    for (const schedule& s : c.schedules) {
        // A venue of standing zones only has no seat numbers.
        const bool standing_only = s.seats == 0 && layout_standing(c.options.sale.venue) != 0;
        if ((s.seats < 1 && !standing_only) || s.seats > seats_per_date_max || s.price < 0 || s.price > price_max) return false;
        if (s.date < date_min || s.date > date_max) return false;
    }
    if (!valid_venue(c) || !valid_phases(c)) return false;
    // A refund policy follows the dates' startsAt, which only a venue's dates have.
    if (const refund_terms& terms = c.options.sale.venue->plan.refunds; terms != refund_terms{} &&
        (!valid_refund_terms(terms) || c.options.sale.venue->grades.empty()))
        return false;
    auto sorted = c.schedules;
    std::sort(sorted.begin(), sorted.end());
    return std::adjacent_find(sorted.begin(), sorted.end(),
                              [](const schedule& a, const schedule& b) { return a.date == b.date; }) == sorted.end();
}

void init_dates(concert_state& c) {
    const create_concert& config = c.config;
    c.venue = venue_map(config);
    c.dates.clear();
    for (std::size_t i = 0; i < config.schedules.size(); ++i) {
        const schedule& sch = config.schedules[i];
        date_state& d = c.dates.emplace_back();
        d.date = sch.date;
        d.price = sch.price;
        d.seats = sch.seats;
        if (!config.options.seats_per_row.empty()) d.seats_per_row = config.options.seats_per_row[i];
        if (c.venue.has_layout()) {
            d.seats_per_row = 0;
            d.row_first = c.venue.row_first();
            for (std::uint32_t g = 0; g < config.options.sale.venue->grades.size(); ++g)
                d.grade_price.push_back(grade_price_on(config, i, g));
            if (c.venue.has_standing()) {
                d.zone_taken.assign(c.venue.sections(), 0);
                d.zone_entries.assign(c.venue.sections(), 0);
            }
        }
        d.seat_cells.assign(sch.seats, no_reservation);
        count_free_seats(d);
    }
    std::sort(c.dates.begin(), c.dates.end(), [](const date_state& a, const date_state& b) { return a.date < b.date; });
}

void count_free_seats(date_state& d) {
    d.row_free.assign(d.rows(), 0);
    d.blocked = 0;
    for (std::uint32_t seat = 1; seat <= d.seats; ++seat) {
        if (d.seat_cells[seat - 1] == no_reservation) ++d.row_free[d.row_of(seat)];
        if (d.seat_cells[seat - 1] == blocked_cell) ++d.blocked;
    }
}

won seat_price(const concert_state& c, const date_state& d, std::uint32_t seat) {
    return c.venue.has_layout() ? d.grade_price[c.venue.grade_of(seat)] : d.price;
}

bool pick_may_use(const concert_state& c, const pick_filter& filter, std::size_t row) {
    if (!c.venue.has_layout()) return true;
    const std::uint32_t section = c.venue.row_section(row);
    if (!on_sale_grade(open_phase(c), c.venue.grade_of_section(section))) return false;
    if (!filter.section.empty() && c.venue.section_named(filter.section) != section) return false;
    if (!filter.grade.empty() && c.venue.grade_named(filter.grade) != c.venue.grade_of_section(section)) return false;
    return true;
}

std::vector<std::uint32_t> seats_of(const reservation_record& r) {
    if (r.places != 0) return {};
    std::vector<std::uint32_t> seats{r.seat};
    seats.insert(seats.end(), r.more_seats.begin(), r.more_seats.end());
    return seats;
}

namespace {

void on(context& cx, const create_concert& body) {
    partition_state& s = cx.state;
    if (!valid_catalog(body) || partition_of(body.concert, s.partitions) != s.partition)
        return cx.refuse(refusal::invalid_request);
    if (s.concert_index.contains(body.concert)) return cx.refuse(refusal::concert_exists);
    concert_state& c = s.concerts.emplace_back();
    c.config = body;
    init_dates(c);
    // An onsaleAt still to come opens a pre-queue until then; one already past changes nothing.
    // Sale phases: the first one's pre-queue until it opens (at once when its opensAt is past).
    if (body.options.sale.onsale_at > cx.now() || !body.options.sale.venue->plan.phases.empty()) c.on_sale = false;
    c.phases.resize(body.options.sale.venue->plan.phases.size());
    c.refund_policies.push_back(body.options.sale.venue->plan.refunds);
    s.concert_index.emplace(body.concert, static_cast<std::uint32_t>(s.concerts.size() - 1));
    cx.answer(concert_created{body});
    concert_state& created = s.concerts.back();
    advance_sale(cx, created);
    if (time_ms t = next_transition(created); t != 0) lower_deadline(s, t);
}

void on(context& cx, const register_user& body) {
    user_id user = cx.cmd.meta.user;
    if (user.value == 0 || utf8_characters(body.name) > user_name_length_max ||
        partition_of(user, cx.state.partitions) != cx.state.partition)
        return cx.refuse(refusal::invalid_request);
    cx.state.wallets.try_emplace(user);  // a wallet of 0 until charged
    cx.answer(user_registered{user, body.name});
}

// Whether `user` may join the waiting room of the phase open now (or next to open). NOT_ELIGIBLE
// names in `next` the opensAt of the next phase the user may join (0: none).
refusal eligibility(const concert_state& c, user_id user, std::uint64_t& next) {
    const std::vector<sale_phase>& phases = phases_of(c);
    auto may_join = [&](std::uint32_t i) { return !phases[i].list || c.phases[i].claims.contains(user); };
    if (c.phase < phases.size() && may_join(c.phase)) return refusal::none;
    for (std::uint32_t i = c.phase + 1; i < phases.size(); ++i) {
        if (may_join(i)) {
            next = static_cast<std::uint64_t>(phases[i].opens_at);
            break;
        }
    }
    return refusal::not_eligible;
}

void on(context& cx, const enqueue& body) {
    concert_state* c = concert_of(cx.state, body.concert);
    user_id user = cx.cmd.meta.user;
    if (user.value == 0) return cx.refuse(refusal::invalid_request);
    if (c == nullptr) return cx.refuse(refusal::concert_not_found);
    attendee& a = c->attendees[user];
    const queue_joined::later pre_queue{.pre_queue = !c->on_sale};
    if (a.ticket != 0 && (a.status == queue_status::waiting || a.status == queue_status::active)) {
        if (a.status == queue_status::active) a.claimed = true;  // joining again claims an admitted turn
        std::uint64_t position = a.status == queue_status::waiting && a.place != 0 ? a.place - c->admitted_through : 0;
        return cx.answer(
            queue_joined{body.concert, user, a.ticket, a.status, position, a.active_until, false, pre_queue});
    }
    if (!c->phases.empty()) {
        // The open phase, or the next to open: a LIST phase admits only users who claimed an id of it.
        std::uint64_t next = 0;
        if (refusal why = eligibility(*c, user, next); why != refusal::none) {
            if (a.ticket == 0) c->attendees.erase(user);  // nothing of a refused join is kept
            return cx.refuse(why, next);
        }
    }
    a.ticket = c->next_ticket++;
    a.active_until = 0;
    a.status = queue_status::waiting;
    if (!c->on_sale) {
        // Before onsaleAt: in the pre-queue, unordered; joining again above changes nothing.
        a.place = 0;
        c->pre_queue.push_back(user);
        return cx.answer(queue_joined{body.concert, user, a.ticket, a.status, 0, 0, true, pre_queue});
    }
    a.place = c->admitted_through + c->waiting.size() + 1;
    if (c->waiting.empty() && c->active < c->config.queue.active_capacity && !c->paused) {
        c->admitted_through = a.place;
        activate(cx, *c, user, a);
        a.claimed = true;  // admitted as it joins: the join is its command
        return cx.answer(queue_joined{body.concert, user, a.ticket, a.status, 0, a.active_until, true});
    }
    c->waiting.push_back(user);
    cx.answer(queue_joined{body.concert, user, a.ticket, a.status, a.place - c->admitted_through, 0, true});
}

// The queue-token checks, in API.md's order. Returns refusal::none when the caller may act.
refusal check_admission(const concert_state* c, user_id user, std::uint64_t ticket, std::uint64_t& position) {
    if (c == nullptr || ticket == 0 || ticket >= c->next_ticket) return refusal::queue_token_invalid;
    auto it = c->attendees.find(user);
    if (it == c->attendees.end() || it->second.ticket < ticket) return refusal::queue_token_invalid;
    const attendee& a = it->second;
    if (a.ticket != ticket || a.status == queue_status::expired || a.status == queue_status::completed)
        return refusal::queue_token_expired;
    if (a.status == queue_status::waiting) {
        position = a.place == 0 ? 0 : a.place - c->admitted_through;  // 0: in the pre-queue
        return refusal::not_your_turn;
    }
    return refusal::none;
}

// Best available: `n` adjacent AVAILABLE seats in one row, the lowest row first (in seat order:
// with a layout, its sections in layout order, each one's rows in order), leaving no single empty
// seat between the pick and a taken seat or the row's end wherever some pick avoids one. Only the
// rows `in` takes (a grade's or a section's, with a layout). Empty when no such row has n
// adjacent available seats.
template <class Take>
std::vector<std::uint32_t> best_available(const date_state& d, std::uint32_t n, Take in) {
    auto seats_from = [n](std::uint32_t first) {
        std::vector<std::uint32_t> pick(n);
        for (std::uint32_t i = 0; i < n; ++i) pick[i] = first + i;
        return pick;
    };
    if (n == 0) return {};
    std::uint32_t lonely = 0;  // the first pick that leaves one seat alone; 0 = none seen
    const std::size_t rows = d.rows();
    for (std::size_t row = 0; row < rows; ++row) {
        if (d.row_free[row] < n || !in(row)) continue;  // too full for any pick, or not asked for
        const std::uint32_t row_first = d.first_of_row(row);
        const std::uint32_t row_last = row + 1 < rows ? d.first_of_row(row + 1) - 1 : d.seats;
        std::uint32_t run_first = 0;  // first seat of the current run of available seats; 0 = none
        for (std::uint32_t seat = row_first; seat <= row_last + 1; ++seat) {
            if (seat <= row_last && d.seat_cells[seat - 1] == no_reservation) {
                if (run_first == 0) run_first = seat;
                continue;
            }
            if (run_first == 0) continue;
            // A run that fits n exactly or with two or more to spare, taken from its start, leaves
            // nobody alone; a run of n + 1 leaves one seat alone wherever the pick goes in it.
            const std::uint32_t length = seat - run_first;
            if (length == n || length >= n + 2) return seats_from(run_first);
            if (length == n + 1 && lonely == 0) lonely = run_first;
            run_first = 0;
        }
    }
    return lonely == 0 ? std::vector<std::uint32_t>{} : seats_from(lonely);
}

// A hold's seat list as asked: well-formed (one of seat, seats or count; sizes in bounds; no
// repeats), or empty when it is not, which the API never lets through.
std::vector<std::uint32_t> seats_asked(const hold_seat& body) {
    const seat_choice& choice = body.choice;
    if (choice.count == 0 && (!choice.filter.grade.empty() || !choice.filter.section.empty())) return {};  // a grade or section is for picks
    if (choice.count != 0) {
        if (!choice.seats.empty() || body.seat != 0 || choice.count > seats_per_hold_max) return {};
        return {0};  // picked later, once the limits are checked
    }
    if (choice.seats.empty()) return {body.seat};
    if (body.seat != 0 || choice.seats.size() < 2 || choice.seats.size() > seats_per_hold_max) return {};
    std::vector<std::uint32_t> seats = choice.seats;
    std::sort(seats.begin(), seats.end());
    if (std::adjacent_find(seats.begin(), seats.end()) != seats.end()) return {};
    return seats;
}

void on(context& cx, const hold_seat& body) {
    partition_state& s = cx.state;
    user_id user = cx.cmd.meta.user;
    concert_state* c = concert_of(s, body.concert);
    std::uint64_t position = 0;
    if (refusal r = check_admission(c, user, body.ticket, position); r != refusal::none) return cx.refuse(r, position);
    if (c->paused) return cx.refuse(refusal::sales_paused);
    // A LIST phase sells only to users whose claim stands (the organizer may free one after the join).
    if (const sale_phase* open = open_phase(*c); open != nullptr && open->list && !c->phases[c->phase].claims.contains(user))
        return cx.refuse(refusal::not_eligible);
    std::vector<std::uint32_t> seats = seats_asked(body);
    if (seats.empty()) return cx.refuse(refusal::invalid_request);
    date_state* d = date_of(*c, body.date);
    if (d == nullptr) return cx.refuse(refusal::date_not_bookable);
    const bool pick = body.choice.count != 0;
    const std::uint32_t n = pick ? body.choice.count : static_cast<std::uint32_t>(seats.size());
    // A pick within a grade or a section: one the venue has, with seats.
    const pick_filter& filter = body.choice.filter;
    std::optional<std::uint32_t> grade, section;
    if (!filter.grade.empty()) grade = c->venue.grade_named(filter.grade);
    if (!filter.section.empty()) section = c->venue.section_named(filter.section);
    if ((!filter.grade.empty() && !grade) || (!filter.section.empty() && !section)) return cx.refuse(refusal::section_not_found);
    // Places of a standing zone (of the grade, when one is named too); a grade alone picks seats.
    const bool standing = section && c->venue.standing(*section) != 0;
    if (standing && grade && *grade != c->venue.grade_of_section(*section)) return cx.refuse(refusal::section_not_found);
    if (grade && !section && !c->venue.grade_has_seats(*grade)) return cx.refuse(refusal::section_not_found);
    // A phase sells some grades only: a grade or section of another is refused, and a pick
    // without either skips them.
    const sale_phase* open = open_phase(*c);
    if ((grade && !on_sale_grade(open, *grade)) || (section && !on_sale_grade(open, c->venue.grade_of_section(*section))))
        return cx.refuse(refusal::grade_not_on_sale);
    if (!pick) {
        // Of several seats, the refusal names the first at fault (a single seat's, as it always
        // did, names none: its events keep their bytes).
        const bool several = seats.size() > 1;
        for (std::uint32_t seat : seats) {
            if (seat < 1 || seat > d->seats) return cx.refuse(refusal::invalid_seat, several ? seat : 0);
        }
        for (std::uint32_t seat : seats) {
            if (c->venue.has_layout() && !on_sale_grade(open, c->venue.grade_of(seat)))
                return cx.refuse(refusal::grade_not_on_sale, several ? seat : 0);
        }
        for (std::uint32_t seat : seats) {
            if (d->seat_cells[seat - 1] != no_reservation) return cx.refuse(refusal::seat_taken, several ? seat : 0);
        }
    }
    attendee& a = c->attendees.at(user);
    if (a.holds >= c->config.max_holds_per_user) return cx.refuse(refusal::hold_limit);
    const std::uint32_t tickets_max = c->config.options.max_tickets_per_user;
    if (tickets_max != 0 && a.tickets + n > tickets_max) return cx.refuse(refusal::ticket_limit);
    // The phase's own cap: seats held or owned from holds placed in it.
    const bool phase_cap = open != nullptr && open->max_tickets != 0;
    if (phase_cap) {
        const auto& bought = c->phases[c->phase].bought;
        const auto it = bought.find(user);
        if ((it == bought.end() ? 0 : it->second) + n > open->max_tickets) return cx.refuse(refusal::ticket_limit);
    }
    if (standing) {
        if (d->zone_taken[*section] + n > c->venue.standing(*section)) return cx.refuse(refusal::section_full);
    } else if (pick) {
        // The filter's section or grade, as indices (named once, not per row).
        const venue_map& venue = c->venue;
        const bool every_grade = open == nullptr || open->grades.empty();
        seats = venue.has_layout() && (section || grade || !every_grade)
                    ? best_available(*d, n, [&](std::size_t row) {
                          const std::uint32_t in_section = venue.row_section(row);
                          const std::uint32_t in_grade = venue.grade_of_section(in_section);
                          return (!section || *section == in_section) && (!grade || *grade == in_grade) && on_sale_grade(open, in_grade);
                      })
                    : best_available(*d, n, [](std::size_t) { return true; });
        if (seats.empty()) return cx.refuse(refusal::no_adjacent_seats);
    }

    assert(s.reservations.empty() || s.reservations.back().offset < cx.at.offset);
    reservation_record& r = s.reservations.emplace_back();
    r.offset = cx.at.offset;
    r.user = user;
    r.concert_index = s.concert_index.at(body.concert);
    r.date_index = static_cast<std::uint32_t>(d - c->dates.data());
    r.price = 0;
    if (standing) {
        seats.clear();  // places have no numbers
        r.places = n;
        r.zone = *section;
        const std::uint32_t zone_grade = c->venue.grade_of_section(*section);
        r.price = static_cast<won>(n) * d->grade_price[zone_grade];
        r.by_grade.push_back({zone_grade, r.price});
        d->zone_taken[*section] += n;
    } else {
        r.seat = seats.front();
        r.more_seats.assign(seats.begin() + 1, seats.end());
    }
    for (std::uint32_t seat : seats) {
        const won price = seat_price(*c, *d, seat);
        r.price += price;
        if (!c->venue.has_layout()) continue;
        const std::uint32_t grade = c->venue.grade_of(seat);
        auto it = std::lower_bound(r.by_grade.begin(), r.by_grade.end(), grade,
                                   [](const grade_amount& g, std::uint32_t v) { return g.grade < v; });
        if (it == r.by_grade.end() || it->grade != grade) it = r.by_grade.insert(it, grade_amount{grade, 0});
        it->amount += price;
    }
    r.held_at = cx.now();
    r.expires_at = cx.now() + c->config.hold_ttl_seconds * ms_per_second;
    std::uint32_t slot = slot_of(s, r);
    for (std::uint32_t seat : seats) {
        d->seat_cells[seat - 1] = slot + 1;
        --d->row_free[d->row_of(seat)];
    }
    d->held += n;
    ++a.holds;
    a.tickets += n;
    a.claimed = true;
    if (open != nullptr) r.phase = static_cast<std::uint8_t>(c->phase + 1);
    if (phase_cap) c->phases[c->phase].bought[user] += n;
    add_deadline(c->hold_deadlines, nullptr, {r.expires_at, slot});
    lower_deadline(s, r.expires_at);
    cx.answer(seat_held{to_reservation(s, r)});
}

// The checks shared by cancel and pay: the reservation must exist, be the caller's, and be HELD.
refusal check_open_hold(const reservation_record* r, user_id user, time_ms now) {
    if (r == nullptr || r->user != user) return refusal::reservation_not_found;
    switch (r->status) {
        case reservation_status::confirmed: return refusal::already_paid;
        case reservation_status::cancelled: return refusal::reservation_cancelled;
        case reservation_status::expired: return refusal::hold_expired;
        case reservation_status::refunded: return refusal::already_refunded;
        case reservation_status::held: break;
    }
    // A payment in flight: it will either confirm (then this one is a second payment) or fail.
    if (r->payment_pending) return refusal::already_paid;
    if (now >= r->expires_at) return refusal::hold_expired;
    return refusal::none;
}

void on(context& cx, const cancel_hold& body) {
    reservation_record* r = reservation_of(cx.state, body.reservation);
    if (refusal why = check_open_hold(r, cx.cmd.meta.user, cx.now()); why != refusal::none) return cx.refuse(why);
    release_seat(cx.state, *r, reservation_status::cancelled);
    cx.answer(hold_cancelled{to_reservation(cx.state, *r)});
}

void on(context& cx, const pay& body) {
    partition_state& s = cx.state;
    reservation_record* r = reservation_of(s, body.reservation);
    if (refusal why = check_open_hold(r, cx.cmd.meta.user, cx.now()); why != refusal::none) return cx.refuse(why);
    r->payment_pending = true;
    r->payment_offset = cx.at.offset;
    payment_id payment = payment_id::at(cx.at);
    cx.emit(payment_started{payment, body.reservation, r->user, r->price});
    outbound_command& m = cx.out.messages.emplace_back();
    m.partition = partition_of(r->user, s.partitions);
    m.cmd.meta = command_meta{cx.now(), r->user, {}, cx.at};
    m.cmd.body = debit_request{payment, body.reservation, r->price};
}

void on(context& cx, const charge& body) {
    partition_state& s = cx.state;
    user_id user = cx.cmd.meta.user;
    if (user.value == 0 || partition_of(user, s.partitions) != s.partition) return cx.refuse(refusal::invalid_request);
    if (body.amount < charge_amount_min || body.amount > charge_amount_max) return cx.refuse(refusal::invalid_amount);
    wallet& w = s.wallets[user];
    if (w.balance > balance_max - body.amount) return cx.refuse(refusal::balance_limit);
    w.balance += body.amount;
    cx.answer(charged{user, body.amount, w.balance});
}

// Saga steps arrive in origin order per origin partition; a redelivered one is dropped.
bool first_delivery(partition_state& s, log_position origin) {
    assert(origin.partition != no_partition);
    std::uint64_t& high = s.saga_high_water[origin.partition];
    if (origin.offset + 1 <= high) return false;
    high = origin.offset + 1;
    return true;
}

void on(context& cx, const debit_request& body) {
    partition_state& s = cx.state;
    if (!first_delivery(s, cx.cmd.meta.origin)) return;
    user_id user = cx.cmd.meta.user;
    assert(partition_of(user, s.partitions) == s.partition);
    wallet& w = s.wallets[user];
    bool debited = w.balance >= body.amount;
    if (debited) {
        w.balance -= body.amount;
        cx.emit(wallet_debited{body.payment, body.reservation, user, body.amount, w.balance});
    } else {
        cx.emit(debit_refused{body.payment, body.reservation, user, body.amount, w.balance});
    }
    outbound_command& m = cx.out.messages.emplace_back();
    m.partition = body.payment.position().partition;
    m.cmd.meta = command_meta{cx.now(), user, {}, cx.at};
    m.cmd.body = debit_result{body.payment, body.reservation, debited, w.balance};
}

void on(context& cx, const debit_result& body) {
    partition_state& s = cx.state;
    if (!first_delivery(s, cx.cmd.meta.origin)) return;
    reservation_record* r = reservation_of(s, body.reservation);
    // A result always answers the payment this partition started: anything else is a bug.
    assert(r != nullptr && r->payment_pending && r->payment_offset == body.payment.position().offset);
    r->payment_pending = false;
    log_position request = body.payment.position();
    if (!body.debited) {
        r->payment_offset = 0;
        cx.emit(payment_failed{body.payment, body.reservation, r->user, refusal::insufficient_balance, body.balance},
                request);
        if (cx.now() >= r->expires_at) expire_hold(cx, *r);
        return;
    }
    concert_state& c = s.concerts[r->concert_index];
    date_state& d = c.dates[r->date_index];
    const std::uint32_t n = seat_count(*r);
    assert(d.held >= n);
    d.held -= n;
    d.sold += n;
    r->status = reservation_status::confirmed;
    r->paid_at = cx.now();
    // Refunded under the policy in force now, whatever later changes say.
    if (const refund_terms& now = c.config.options.sale.venue->plan.refunds; !now.fees.empty())
        r->refund_policy = static_cast<std::uint32_t>(std::find(c.refund_policies.begin(), c.refund_policies.end(), now) - c.refund_policies.begin()) + 1;
    // Standing places get the zone's next entry numbers, in the order payments are confirmed.
    if (r->places != 0) {
        r->entry_first = d.zone_entries[r->zone] + 1;
        d.zone_entries[r->zone] += r->places;
    }
    attendee& a = c.attendees.at(r->user);
    assert(a.holds > 0);
    --a.holds;
    cx.emit(payment_confirmed{to_reservation(s, *r), body.balance}, request);
    if (a.status == queue_status::active) {
        leave_active(cx, c, r->user, a, true);
        admit_waiting(cx, c);
    }
}

// ---- refunds ---------------------------------------------------------------------------------
// A saga like payment, run the other way: the concert partition checks and marks the refund, the
// wallet partition credits the price, and the concert partition then frees the seat and answers.
// Until the credit is known the reservation stays CONFIRMED (a second refund is ALREADY_REFUNDED).

// A date with startsAt follows the policy the reservation was paid under (its fee tiers); any
// other refund follows refundsUntil alone, fee-free. Returns the fee, or why there is no refund.
std::variant<won, refusal> check_refundable(const reservation_record* r, const concert_state* c, user_id user, time_ms now) {
    if (r == nullptr || r->user != user) return refusal::reservation_not_found;
    if (r->status == reservation_status::refunded || r->refund_pending) return refusal::already_refunded;
    if (r->status != reservation_status::confirmed) return refusal::not_paid;
    for (std::uint32_t t = 1; t <= seat_count(*r); ++t) {
        if (c->admitted.contains(ticket_key(r->offset, t))) return refusal::ticket_used;
    }
    const time_ms starts = starts_at_of(c->config, c->dates[r->date_index].date);
    if (r->refund_policy != 0 && starts != 0) {
        const refund_terms& terms = c->refund_policies[r->refund_policy - 1];
        const auto fee = refund_fee(terms, starts, r->paid_at, now, r->price, seat_count(*r));
        if (!fee) return refusal::refund_not_allowed;
        return *fee;
    }
    const time_ms until = c->config.options.refunds_until;
    if (until == 0 || now >= until) return refusal::refund_not_allowed;
    return won{0};
}

void on(context& cx, const refund& body) {
    partition_state& s = cx.state;
    reservation_record* r = reservation_of(s, body.reservation);
    const concert_state* c = r == nullptr ? nullptr : &s.concerts[r->concert_index];
    const auto decided = check_refundable(r, c, cx.cmd.meta.user, cx.now());
    if (const refusal* why = std::get_if<refusal>(&decided)) return cx.refuse(*why);
    assert(r->payment_offset != 0);
    r->refund_pending = true;
    r->refund_fee = std::get<won>(decided);
    const won amount = r->price - r->refund_fee;
    payment_id payment = payment_id::at({s.partition, r->payment_offset});
    cx.emit(refund_started{payment, body.reservation, r->user, amount});
    outbound_command& m = cx.out.messages.emplace_back();
    m.partition = partition_of(r->user, s.partitions);
    m.cmd.meta = command_meta{cx.now(), r->user, {}, cx.at};
    m.cmd.body = credit_request{payment, body.reservation, amount, cx.at.offset};
}

void on(context&, const tick&) {}

// ---- the organizer's controls ----------------------------------------------------------------

void on(context& cx, const pause_sales& body) {
    concert_state* c = concert_of(cx.state, body.concert);
    if (c == nullptr) return cx.refuse(refusal::concert_not_found);
    if (body.paused) {
        // Pausing a paused sale changes nothing and says since when it is paused.
        if (!c->paused) {
            c->paused = true;
            c->paused_at = cx.now();
            ++c->revision;
        }
        return cx.answer(sales_paused{body.concert, c->revision, c->paused_at});
    }
    if (!c->paused) return cx.answer(sales_resumed{body.concert, c->revision, 0});
    const time_ms pause = cx.now() - c->paused_at;
    c->paused = false;
    c->paused_at = 0;
    ++c->revision;
    cx.answer(sales_resumed{body.concert, c->revision, pause});
    // The turns stood still: every active deadline (and claim window) moves by the pause.
    for (deadline& d : c->active_deadlines) d.at += pause;
    for (deadline& d : c->claim_deadlines) d.at += pause;
    for (std::size_t i = 0; i < c->active_deadlines.size(); ++i) {
        user_id user{c->active_users[i]};
        attendee& a = c->attendees.at(user);
        if (a.ticket != c->active_deadlines[i].subject || a.status != queue_status::active) continue;
        a.active_until += pause;
        cx.emit(active_extended{body.concert, user, a.ticket, a.active_until});
    }
    if (!c->active_deadlines.empty()) lower_deadline(cx.state, c->active_deadlines.front().at);
    if (!c->claim_deadlines.empty()) lower_deadline(cx.state, c->claim_deadlines.front().at);
    admit_waiting(cx, *c);  // slots freed by payments during the pause
}

void on(context& cx, const block_seats& body) {
    concert_state* c = concert_of(cx.state, body.concert);
    if (c == nullptr) return cx.refuse(refusal::concert_not_found);
    date_state* d = date_of(*c, body.date);
    if (d == nullptr) return cx.refuse(refusal::date_not_bookable);
    std::vector<std::uint32_t> seats = body.seats;
    std::sort(seats.begin(), seats.end());
    if (seats.empty() || seats.size() > seats_per_block_max || std::adjacent_find(seats.begin(), seats.end()) != seats.end() ||
        (!body.blocked && !body.reason.empty()) || body.reason.size() > title_length_max)
        return cx.refuse(refusal::invalid_request);
    // All or nothing: the refusal names the first seat at fault.
    for (std::uint32_t seat : seats) {
        if (seat < 1 || seat > d->seats) return cx.refuse(refusal::invalid_seat, seat);
    }
    for (std::uint32_t seat : seats) {
        const std::uint32_t cell = d->seat_cells[seat - 1];
        if (body.blocked && cell != no_reservation && cell != blocked_cell) return cx.refuse(refusal::seat_taken, seat);
        if (!body.blocked && cell != blocked_cell) return cx.refuse(refusal::not_blocked, seat);
    }
    for (std::uint32_t seat : seats) {
        std::uint32_t& cell = d->seat_cells[seat - 1];
        if (body.blocked && cell == no_reservation) {
            cell = blocked_cell;
            --d->row_free[d->row_of(seat)];
            ++d->blocked;
        } else if (!body.blocked) {
            cell = no_reservation;
            ++d->row_free[d->row_of(seat)];
            --d->blocked;
        }
    }
    ++c->revision;
    if (body.blocked) return cx.answer(seats_blocked{body.concert, c->revision, body.date, std::move(seats), body.reason});
    cx.answer(seats_released{body.concert, c->revision, body.date, std::move(seats)});
}

// Whether the concert's sale phases may become `after` (API.md "Organizer operations"): each phase
// keeps its place; one that has opened (or whose opensAt has passed: it opens at the next tick)
// stays as it is; a phase removed (from the end) has no list and nobody in its pre-queue.
bool phases_may_become(const context& cx, const concert_state& c, const std::vector<sale_phase>& after) {
    const std::vector<sale_phase>& before = phases_of(c);
    if (before.empty() || after.empty()) return false;
    for (std::size_t i = 0; i < before.size(); ++i) {
        const bool started = i < c.phase || (i == c.phase && c.on_sale) || before[i].opens_at <= cx.now();
        if (i >= after.size()) {
            if (started || !c.phases[i].ids.empty() || (i == c.phase && !c.pre_queue.empty())) return false;
            continue;
        }
        if (after[i].phase != before[i].phase || (started && after[i] != before[i])) return false;
    }
    return true;
}

void on(context& cx, const update_concert& body) {
    concert_state* c = concert_of(cx.state, body.concert);
    if (c == nullptr) return cx.refuse(refusal::concert_not_found);
    const concert_settings& set = body.settings;
    if (set.set == 0 || (set.set & ~concert_settings::all_fields) != 0) return cx.refuse(refusal::invalid_request);
    create_concert changed = with_settings(c->config, set);
    // claimSeconds 0 means the active TTL; a TTL lowered under a claim window set before is refused.
    if (!valid_catalog(changed)) return cx.refuse(refusal::invalid_request);
    // New prices of the same grades (names and order kept).
    if ((set.set & concert_settings::grades_field) != 0) {
        const auto& before = c->config.options.sale.venue->grades;
        if (set.grades.size() != before.size() || before.empty()) return cx.refuse(refusal::invalid_request);
        for (std::size_t g = 0; g < before.size(); ++g) {
            if (set.grades[g].grade != before[g].grade) return cx.refuse(refusal::invalid_request);
        }
    }
    // The policies a concert has had are kept once each, and at most refund_policies_max of them.
    const auto& policies = c->refund_policies;
    if ((set.set & concert_settings::refund_policy_field) != 0 && policies.size() >= refund_policies_max &&
        std::find(policies.begin(), policies.end(), set.phases.refund_policy) == policies.end())
        return cx.refuse(refusal::invalid_request);
    if ((set.set & concert_settings::phases_field) != 0 && !phases_may_become(cx, *c, set.phases.phases))
        return cx.refuse(refusal::phase_started);
    if (body.conditional && body.revision != c->revision) return cx.refuse(refusal::precondition_failed, c->revision);
    c->config = std::move(changed);
    ++c->revision;
    c->phases.resize(phases_of(*c).size());
    if (const refund_terms& terms = c->config.options.sale.venue->plan.refunds;
        std::find(c->refund_policies.begin(), c->refund_policies.end(), terms) == c->refund_policies.end())
        c->refund_policies.push_back(terms);
    // Each date's grade prices follow: holds placed from now on pay them (a hold keeps its price).
    for (date_state& d : c->dates) {
        const auto& all = c->config.schedules;
        const auto index = static_cast<std::size_t>(
            std::find_if(all.begin(), all.end(), [&](const encore::schedule& s) { return s.date == d.date; }) - all.begin());
        for (std::uint32_t g = 0; g < d.grade_price.size(); ++g) d.grade_price[g] = grade_price_on(c->config, index, g);
    }
    cx.answer(concert_updated{body.concert, c->revision, set});
    // A larger capacity admits at once; a smaller one evicts nobody (admission waits).
    admit_waiting(cx, *c);
    // Phases moved earlier open (or close) now if their time has come, else when it comes.
    if ((set.set & concert_settings::phases_field) != 0) {
        advance_sale(cx, *c);
        if (time_ms t = next_transition(*c); t != 0) lower_deadline(cx.state, t);
    }
}

void on(context& cx, const add_dates& body) {
    partition_state& s = cx.state;
    concert_state* c = concert_of(s, body.concert);
    if (c == nullptr) return cx.refuse(refusal::concert_not_found);
    if (body.schedules.empty() || (!body.seats_per_row.empty() && body.seats_per_row.size() != body.schedules.size()))
        return cx.refuse(refusal::invalid_request);
    for (const schedule& sch : body.schedules) {
        if (date_of(*c, sch.date) != nullptr) return cx.refuse(refusal::date_exists, static_cast<std::uint64_t>(sch.date));
    }
    create_concert changed = with_dates(c->config, body.schedules, body.seats_per_row);
    if (!valid_catalog(changed)) return cx.refuse(refusal::invalid_request);
    c->config = std::move(changed);
    // The new dates take their places in date order; the reservations' date indices follow.
    std::vector<date_state> old = std::move(c->dates);
    init_dates(*c);
    std::vector<std::uint32_t> moved(old.size());
    for (std::size_t i = 0; i < old.size(); ++i) {
        date_state* d = date_of(*c, old[i].date);
        moved[i] = static_cast<std::uint32_t>(d - c->dates.data());
        *d = std::move(old[i]);
    }
    const std::uint32_t index = s.concert_index.at(body.concert);
    for (reservation_record& r : s.reservations) {
        if (r.concert_index == index) r.date_index = moved[r.date_index];
    }
    ++c->revision;
    cx.answer(dates_added{body.concert, c->revision, body.schedules, body.seats_per_row});
}

// ---- sale phases: the lists and the claims ---------------------------------------------------

void on(context& cx, const add_eligible& body) {
    concert_state* c = concert_of(cx.state, body.concert);
    if (c == nullptr) return cx.refuse(refusal::concert_not_found);
    if (body.phase >= c->phases.size() || body.keys.empty() || body.keys.size() > eligible_per_request_max)
        return cx.refuse(refusal::invalid_request);
    auto& ids = c->phases[body.phase].ids;
    std::vector<list_key> keys = body.keys;  // an id twice in a batch is added once
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    const auto fresh = static_cast<std::uint64_t>(std::count_if(keys.begin(), keys.end(), [&](const list_key& k) { return !ids.contains(k); }));
    // A list is bounded: a batch past it adds nothing.
    if (ids.size() + fresh > eligible_per_phase_max) return cx.refuse(refusal::invalid_request);
    for (const list_key& k : keys) ids.try_emplace(k, user_id{});
    cx.answer(eligible_added{body.concert, body.phase, fresh, ids.size()});
}

// A user's claim binds one id to one user, for good (unless the organizer frees it).
void on(context& cx, const claim_eligibility& body) {
    concert_state* c = concert_of(cx.state, body.concert);
    if (c == nullptr) return cx.refuse(refusal::concert_not_found);
    if (body.phase >= c->phases.size()) return cx.refuse(refusal::invalid_request);
    phase_state& p = c->phases[body.phase];
    auto it = p.ids.find(body.key);
    if (body.freed) {
        if (it == p.ids.end() || it->second.value == 0) return cx.refuse(refusal::not_claimed);
        const user_id claimant = it->second;
        it->second = user_id{};
        p.claims.erase(claimant);
        return cx.answer(claim_freed{body.concert, body.phase, claimant});
    }
    const user_id user = cx.cmd.meta.user;
    if (user.value == 0) return cx.refuse(refusal::invalid_request);
    if (it == p.ids.end()) return cx.refuse(refusal::not_on_list);
    if (it->second == user) return cx.answer(eligibility_claimed{body.concert, body.phase, user, false});
    if (it->second.value != 0) return cx.refuse(refusal::already_claimed);
    if (p.claims.contains(user)) return cx.refuse(refusal::already_eligible);
    it->second = user;
    p.claims.emplace(user, body.key);
    cx.answer(eligibility_claimed{body.concert, body.phase, user, true});
}

// A fresh key (a repeat was answered by replayed()): recorded, so the request may go ahead.
void on(context& cx, const claim_key&) {
    if (cx.cmd.meta.idempotency_key.empty() || cx.cmd.meta.origin != no_position) return cx.refuse(refusal::invalid_request);
    cx.answer(key_claimed{cx.cmd.meta.user});
}

void on(context& cx, const credit_request& body) {
    partition_state& s = cx.state;
    if (!first_delivery(s, cx.cmd.meta.origin)) return;
    user_id user = cx.cmd.meta.user;
    assert(partition_of(user, s.partitions) == s.partition);
    wallet& w = s.wallets[user];
    const bool credited = w.balance <= balance_max - body.amount;
    if (credited) {
        w.balance += body.amount;
        cx.emit(wallet_credited{body.payment, body.reservation, user, body.amount, w.balance});
    } else {
        cx.emit(credit_refused{body.payment, body.reservation, user, body.amount, w.balance});
    }
    outbound_command& m = cx.out.messages.emplace_back();
    m.partition = body.payment.position().partition;
    m.cmd.meta = command_meta{cx.now(), user, {}, cx.at};
    m.cmd.body = credit_result{body.payment, body.reservation, credited, w.balance, body.request_offset};
}

void on(context& cx, const credit_result& body) {
    partition_state& s = cx.state;
    if (!first_delivery(s, cx.cmd.meta.origin)) return;
    reservation_record* r = reservation_of(s, body.reservation);
    // A result always answers a refund this partition started: anything else is a bug.
    assert(r != nullptr && r->refund_pending && r->status == reservation_status::confirmed);
    r->refund_pending = false;
    const log_position request{s.partition, body.request_offset};
    if (!body.credited) {
        r->refund_fee = 0;
        return cx.emit(refund_failed{body.payment, body.reservation, r->user, refusal::balance_limit, body.balance}, request);
    }
    concert_state& c = s.concerts[r->concert_index];
    date_state& d = c.dates[r->date_index];
    const std::uint32_t n = free_seats(s, *r);
    assert(d.sold >= n);
    d.sold -= n;
    r->status = reservation_status::refunded;
    attendee& a = c.attendees.at(r->user);
    assert(a.tickets >= n);
    a.tickets -= n;
    unbuy(c, *r, n);
    cx.emit(reservation_refunded{to_reservation(s, *r), cx.now(), body.balance}, request);
}

// ---- the door ----------------------------------------------------------------------------------
// Scanners and check-ins, in the concert's partition: whichever gate scans a ticket first admits
// it, once. A scan names a ticket by its reservation and index (the API read them from a code whose
// signature it verified); the engine decides from the reservation as it is now.

void on(context& cx, const change_scanner& body) {
    concert_state* c = concert_of(cx.state, body.concert);
    if (c == nullptr) return cx.refuse(refusal::concert_not_found);
    if (body.removed) {
        auto it = std::find_if(c->scanners.begin(), c->scanners.end(), [&](const scanner_state& s) { return s.id == body.scanner.value; });
        if (it == c->scanners.end() || it->removed) return cx.refuse(refusal::scanner_not_found);
        it->removed = true;
        return cx.answer(scanner_removed{body.concert, body.scanner});
    }
    const std::size_t name = utf8_characters(body.name);
    const std::uint32_t gate = c->venue.gate_named(body.gate);
    if (body.scanner.value != 0 || name < 1 || name > scanner_name_length_max || (!body.gate.empty() && gate == 0) ||
        c->scanners.size() >= scanners_per_concert_max)
        return cx.refuse(refusal::invalid_request);
    const reservation_id id = reservation_id::at(cx.at);
    c->scanners.push_back({id.value, static_cast<std::uint8_t>(gate), false});
    cx.answer(scanner_added{body.concert, id, body.name, body.gate});
}

// A ticket's gate (of its seat's section, or of its zone), as venue_map::gate_of_section; 0: any.
std::uint32_t ticket_gate(const concert_state& c, const reservation_record& r) {
    if (!c.venue.has_layout()) return 0;
    return c.venue.gate_of_section(r.places != 0 ? r.zone : c.venue.place_of(r.seat).section);
}

const std::string& gate_name(const concert_state& c, std::uint32_t gate) {
    static const std::string none;
    return gate == 0 ? none : c.venue.gates()[gate - 1];
}

void on(context& cx, const check_in& body) {
    partition_state& s = cx.state;
    concert_state* c = concert_of(s, body.concert);
    if (c == nullptr) return cx.refuse(refusal::concert_not_found);
    if (body.scans.empty() || body.scans.size() > checkins_per_command_max || (body.scanner.value != 0 && !body.gate.empty()))
        return cx.refuse(refusal::invalid_request);
    for (const ticket_scan& scan : body.scans) {
        if (scan.scan_id.size() > scan_id_length_max || scan.ticket < 1 || scan.ticket > seats_per_hold_max)
            return cx.refuse(refusal::invalid_request);
    }
    // The gate scanned at: the scanner's own, or the one the organizer names (one of the venue's).
    std::uint32_t gate = c->venue.gate_named(body.gate);
    if (!body.gate.empty() && gate == 0) return cx.refuse(refusal::invalid_request);
    std::uint8_t scanner = 0;
    if (body.scanner.value != 0) {
        auto it = std::find_if(c->scanners.begin(), c->scanners.end(), [&](const scanner_state& x) { return x.id == body.scanner.value; });
        if (it == c->scanners.end() || it->removed) return cx.refuse(refusal::scanner_not_found);
        gate = it->gate;
        scanner = static_cast<std::uint8_t>(it - c->scanners.begin() + 1);
    }
    const std::uint32_t index = s.concert_index.at(body.concert);
    tickets_checked answer{body.concert, body.scanner, gate_name(*c, gate), body.offline, {}};
    answer.outcomes.reserve(body.scans.size());
    for (const ticket_scan& scan : body.scans) {
        scan_outcome& o = answer.outcomes.emplace_back();
        o.reservation = scan.reservation;
        o.ticket = scan.ticket;
        o.scan_id = scan.scan_id;
        o.scanned_at = scan.scanned_at;
        const reservation_record* r = reservation_of(s, scan.reservation);
        if (r == nullptr || r->concert_index != index || scan.ticket > seat_count(*r) ||
            (r->status != reservation_status::confirmed && r->status != reservation_status::refunded)) {
            o.result = scan_result::unknown;
            continue;
        }
        const std::uint64_t key = ticket_key(r->offset, scan.ticket);
        const std::uint32_t hash = scan.scan_id.empty() ? 0 : scan_hash(scan.scan_id);
        if (auto first = c->admitted.find(key); first != c->admitted.end()) {
            const admission& a = first->second;
            o.first_at = a.at;
            o.first_gate = gate_name(*c, a.gate);
            // The same scanner's scan again answers what it answered first.
            o.again = hash != 0 && a.scanner == scanner && a.scan == hash;
            o.result = o.again ? scan_result::admitted : scan_result::duplicate;
            continue;
        }
        const std::uint32_t own = ticket_gate(*c, *r);
        if (r->status == reservation_status::refunded || r->refund_pending) {
            o.result = scan_result::revoked;
        } else if (c->dates[r->date_index].date != scan.date) {
            o.result = scan_result::wrong_date;
        } else if (!body.offline && gate != 0 && own != 0 && own != gate) {
            o.result = scan_result::wrong_gate;
        } else {
            o.result = scan_result::admitted;
            c->admitted.emplace(key, admission{cx.now(), hash, static_cast<std::uint8_t>(gate), scanner});
        }
    }
    cx.answer(std::move(answer));
}

// ---- idempotency -----------------------------------------------------------------------------

std::string idempotency_slot(user_id caller, std::string_view key) {
    std::string slot(sizeof(std::uint64_t), '\0');
    for (std::size_t i = 0; i < sizeof(std::uint64_t); ++i) slot[i] = static_cast<char>(caller.value >> (8 * i));
    slot += key;
    return slot;
}

// Forgets the caller's oldest key and files the caller again under its next oldest, if any.
void forget_oldest_key(partition_state& s, user_id caller) {
    auto it = s.idempotency_order.find(caller);
    assert(it != s.idempotency_order.end() && !it->second.empty());
    std::deque<std::string>& order = it->second;
    auto oldest = s.idempotency.find(order.front());
    assert(oldest != s.idempotency.end());
    s.idempotency_expiry.erase({oldest->second.forget_at, caller});
    s.idempotency.erase(oldest);
    order.pop_front();
    if (order.empty()) {
        s.idempotency_order.erase(it);
    } else {
        s.idempotency_expiry.emplace(s.idempotency.at(order.front()).forget_at, caller);
    }
}

void forget_old_keys(partition_state& s) {
    while (!s.idempotency_expiry.empty() && s.idempotency_expiry.begin()->first <= s.clock)
        forget_oldest_key(s, s.idempotency_expiry.begin()->second);
}

void remember_key(partition_state& s, user_id caller, std::string slot, remembered_key first) {
    if (s.idempotency_order.contains(caller) && s.idempotency_order[caller].size() >= idempotency_keys_per_caller_max)
        forget_oldest_key(s, caller);
    std::deque<std::string>& order = s.idempotency_order[caller];
    if (order.empty()) s.idempotency_expiry.emplace(first.forget_at, caller);
    order.push_back(slot);
    [[maybe_unused]] bool inserted = s.idempotency.emplace(std::move(slot), first).second;
    assert(inserted);
}

// True when the command's (caller, key) was used before: a repeat of the same request is
// answered with the first request's answer, another request is refused. A claim_key (the key of
// a request applied in another partition) is checked against the fingerprint it carries.
bool replayed(context& cx) {
    const command& c = cx.cmd;
    if (c.meta.idempotency_key.empty() || c.meta.origin != no_position) return false;
    const auto* claim = std::get_if<claim_key>(&c.body);
    std::uint64_t fingerprint = claim != nullptr ? claim->fingerprint : request_fingerprint(c);
    std::string slot = idempotency_slot(c.meta.user, c.meta.idempotency_key);
    auto it = cx.state.idempotency.find(slot);
    if (it == cx.state.idempotency.end()) {
        remember_key(cx.state, c.meta.user, std::move(slot), {cx.at, fingerprint, cx.now() + idempotency_retention_ms});
        return false;
    }
    if (it->second.fingerprint != fingerprint) {
        cx.refuse(refusal::idempotency_key_reused);
    } else if (claim != nullptr) {
        cx.answer(key_claimed{c.meta.user});
    } else {
        cx.answer(idempotent_replay{it->second.first});
    }
    return true;
}

}  // namespace

// ---- public ----------------------------------------------------------------------------------

partition_state make_partition(std::uint32_t partition, std::uint32_t partitions) {
    assert(partitions >= 1 && partitions <= partitions_max && partition < partitions);
    partition_state s;
    s.partition = partition;
    s.partitions = partitions;
    return s;
}

void apply(partition_state& state, const command& c, log_position at, apply_output& out) {
    assert(at.partition == state.partition);
    assert(at.offset == state.next_command_offset);
    state.next_command_offset = at.offset + 1;
    time_ms before = state.clock;
    state.clock = std::max(state.clock, c.meta.accepted_at);
    assert(state.clock >= before);

    context cx{state, c, at, out};
    pass_deadlines(cx);
    forget_old_keys(state);
    if (replayed(cx)) return;
    std::visit([&](const auto& body) { on(cx, body); }, c.body);
}

bool apply_record(partition_state& state, std::string_view bytes, log_position at, apply_output& out) {
    auto decoded = decode_command(bytes);
    apply(state, decoded ? *decoded : command{command_meta{}, tick{}}, at, out);
    return decoded.ok();
}

std::uint32_t scan_hash(std::string_view scan_id) {
    const auto h = static_cast<std::uint32_t>(fnv1a_64(scan_id));
    return h == 0 ? 1 : h;
}

const concert_state* find_concert(const partition_state& state, concert_id c) {
    return concert_of(const_cast<partition_state&>(state), c);
}

const reservation_record* find_reservation(const partition_state& state, reservation_id r) {
    return reservation_of(const_cast<partition_state&>(state), r);
}

reservation to_reservation(const partition_state& state, const reservation_record& r) {
    const concert_state& c = state.concerts[r.concert_index];
    reservation out;
    out.id = reservation_id::at({state.partition, r.offset});
    out.concert = c.config.concert;
    out.user = r.user;
    out.date = c.dates[r.date_index].date;
    out.seat = r.seat;
    out.extra.more_seats = r.more_seats;
    out.extra.grades.by_grade = r.by_grade;
    if (r.places != 0)
        out.extra.grades.standing = {{}, r.zone, c.config.options.sale.venue->sections[r.zone].section, r.places, r.entry_first};
    if (r.status == reservation_status::refunded) out.extra.grades.standing.refund.fee = r.refund_fee;
    out.price = r.price;
    out.status = r.status;
    out.held_at = r.held_at;
    out.expires_at = r.expires_at;
    out.paid_at = r.paid_at;
    out.payment = r.payment_offset == 0 ? payment_id{} : payment_id::at({state.partition, r.payment_offset});
    return out;
}

seat_status seat_of(const date_state& d, std::uint32_t seat, const partition_state& state) {
    std::uint32_t cell = d.seat_cells.at(seat - 1);
    if (cell == no_reservation) return seat_status::available;
    if (cell == blocked_cell) return seat_status::blocked;
    return state.reservations[cell - 1].status == reservation_status::confirmed ? seat_status::sold
                                                                                : seat_status::held;
}

}  // namespace encore::engine
