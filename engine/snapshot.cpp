// Snapshot and restore of a partition's state. The layout is private to this file and versioned;
// unordered containers are written sorted by key so equal states give equal bytes.

#include <algorithm>

#include "engine/engine.hpp"
#include "events/binary.hpp"
#include "events/chain.hpp"
#include "events/codec.hpp"
#include "events/refund_policy.hpp"

namespace encore::engine {
namespace {

constexpr std::uint32_t snapshot_magic = 0x534e4345;  // "ECNS"
// 2: idempotency keys per caller; 3: tickets and claims; 4: several seats a hold, the pre-queue;
// 5: wallets without the user's name; 6: the organizer's controls (revision, pause, blocked seats)
// 8: refund policies (each concert's history, each reservation's policy and fee); the door
// (scanners, tickets admitted)
constexpr std::uint8_t snapshot_version = 8;
constexpr std::size_t admission_bytes = 8 + 8 + 4 + 1 + 1;  // key, at, scan, gate, scanner

template <class Map>
std::vector<typename Map::key_type> sorted_keys(const Map& m) {
    std::vector<typename Map::key_type> keys;
    keys.reserve(m.size());
    for (const auto& [k, v] : m) keys.push_back(k);
    std::sort(keys.begin(), keys.end());
    return keys;
}

void put_deadlines(byte_writer& w, const std::deque<deadline>& ds) {
    w.put_int(static_cast<std::uint64_t>(ds.size()));
    for (const deadline& d : ds) {
        w.put_int(d.at);
        w.put_int(d.subject);
    }
}

void get_deadlines(byte_reader& r, std::deque<deadline>& ds) {
    auto n = r.get_int<std::uint64_t>();
    if (n > r.remaining() / 16) return r.fail("deadline count runs past the snapshot");
    for (std::uint64_t i = 0; i < n; ++i) {
        deadline d;
        d.at = r.get_int<time_ms>();
        d.subject = r.get_int<std::uint64_t>();
        ds.push_back(d);
    }
}

void put_concert(byte_writer& w, const concert_state& c) {
    w.put_long_string(encode(command{command_meta{}, c.config}));
    for (const date_state& d : c.dates) {
        w.put_int(d.held);
        w.put_int(d.sold);
        w.put_long_string(std::string_view(reinterpret_cast<const char*>(d.seat_cells.data()),
                                           d.seat_cells.size() * sizeof(std::uint32_t)));
        // Standing zones: places taken and entry numbers given (sized by the layout, so no count).
        for (std::size_t z = 0; z < d.zone_taken.size(); ++z) {
            w.put_int(d.zone_taken[z]);
            w.put_int(d.zone_entries[z]);
        }
    }
    auto users = sorted_keys(c.attendees);
    w.put_int(static_cast<std::uint64_t>(users.size()));
    for (user_id u : users) {
        const attendee& a = c.attendees.at(u);
        w.put_int(u.value);
        w.put_int(a.ticket);
        w.put_int(a.place);
        w.put_int(static_cast<std::uint8_t>(a.status));
        w.put_int(a.active_until);
        w.put_int(a.holds);
        w.put_int(a.tickets);
        w.put_int(static_cast<std::uint8_t>(a.claimed ? 1 : 0));
    }
    w.put_int(c.next_ticket);
    w.put_int(c.admitted_through);
    w.put_int(static_cast<std::uint64_t>(c.waiting.size()));
    for (user_id u : c.waiting) w.put_int(u.value);
    w.put_int(static_cast<std::uint8_t>(c.on_sale ? 1 : 0));
    w.put_int(static_cast<std::uint64_t>(c.pre_queue.size()));
    for (user_id u : c.pre_queue) w.put_int(u.value);
    w.put_int(c.active);
    put_deadlines(w, c.active_deadlines);
    for (std::uint64_t u : c.active_users) w.put_int(u);
    put_deadlines(w, c.hold_deadlines);
    put_deadlines(w, c.claim_deadlines);
    for (std::uint64_t u : c.claim_users) w.put_int(u);
    w.put_int(c.revision);
    w.put_int(static_cast<std::uint8_t>(c.paused ? 1 : 0));
    w.put_int(c.paused_at);
    // Sale phases (as many as the catalog has, so no count): the current one, then each one's
    // list (keyed hashes, sorted, each with its claimant) and per-phase purchases (by user).
    w.put_int(c.phase);
    for (const phase_state& p : c.phases) {
        std::vector<std::pair<list_key, user_id>> ids(p.ids.begin(), p.ids.end());
        std::sort(ids.begin(), ids.end());
        w.put_int(static_cast<std::uint64_t>(ids.size()));
        for (const auto& [key, claimant] : ids) {
            w.put_int(key.high);
            w.put_int(key.low);
            w.put_int(claimant.value);
        }
        auto buyers = sorted_keys(p.bought);
        w.put_int(static_cast<std::uint64_t>(buyers.size()));
        for (user_id u : buyers) {
            w.put_int(u.value);
            w.put_int(p.bought.at(u));
        }
    }
    // The refund policies it has had, each as the record codec writes a catalog's (a command).
    w.put_int(static_cast<std::uint32_t>(c.refund_policies.size()));
    for (const refund_terms& terms : c.refund_policies) {
        w.put_int(terms.free_within_hours);
        w.put_int(static_cast<std::uint8_t>(terms.fees.size()));
        for (const refund_tier& t : terms.fees) {
            w.put_int(t.hours_before);
            w.put_int(t.won_per_ticket);
            w.put_int(t.percent);
        }
    }
    // The door: scanners in the order added, then the admissions by ticket key.
    w.put_int(static_cast<std::uint32_t>(c.scanners.size()));
    for (const scanner_state& x : c.scanners) {
        w.put_int(x.id);
        w.put_int(x.gate);
        w.put_int(static_cast<std::uint8_t>(x.removed ? 1 : 0));
    }
    auto keys = sorted_keys(c.admitted);
    w.put_int(static_cast<std::uint64_t>(keys.size()));
    for (std::uint64_t key : keys) {
        const admission& a = c.admitted.at(key);
        w.put_int(key);
        w.put_int(a.at);
        w.put_int(a.scan);
        w.put_int(a.gate);
        w.put_int(a.scanner);
    }
}

bool get_concert(byte_reader& r, concert_state& c) {
    auto decoded = decode_command(r.get_long_string());
    if (r.failed() || !decoded || decoded->type() != command_type::create_concert) return false;
    c.config = std::get<create_concert>(decoded->body);
    if (!valid_catalog(c.config)) return false;
    init_dates(c);
    for (date_state& d : c.dates) {
        d.held = r.get_int<std::uint32_t>();
        d.sold = r.get_int<std::uint32_t>();
        std::string cells = r.get_long_string();
        if (cells.size() != std::size_t{d.seats} * sizeof(std::uint32_t)) return false;
        // A date of zero seats leaves the vector without storage: memcpy must not see its null.
        if (!cells.empty()) std::memcpy(d.seat_cells.data(), cells.data(), cells.size());
        count_free_seats(d);
        for (std::size_t z = 0; z < d.zone_taken.size(); ++z) {
            d.zone_taken[z] = r.get_int<std::uint32_t>();
            d.zone_entries[z] = r.get_int<std::uint32_t>();
            if (d.zone_taken[z] > c.venue.standing(static_cast<std::uint32_t>(z))) return false;
        }
    }
    auto users = r.get_int<std::uint64_t>();
    if (users > r.remaining() / 38) return false;
    c.attendees.reserve(users);
    for (std::uint64_t i = 0; i < users; ++i) {
        user_id u{r.get_int<std::uint64_t>()};
        attendee& a = c.attendees[u];
        a.ticket = r.get_int<std::uint64_t>();
        a.place = r.get_int<std::uint64_t>();
        auto status = r.get_int<std::uint8_t>();
        if (status > 3) return false;
        a.status = static_cast<queue_status>(status);
        a.active_until = r.get_int<time_ms>();
        a.holds = r.get_int<std::uint32_t>();
        a.tickets = r.get_int<std::uint32_t>();
        auto claimed = r.get_int<std::uint8_t>();
        if (claimed > 1) return false;
        a.claimed = claimed == 1;
    }
    c.next_ticket = r.get_int<std::uint64_t>();
    c.admitted_through = r.get_int<std::uint64_t>();
    auto waiting = r.get_int<std::uint64_t>();
    if (waiting > r.remaining() / 8) return false;
    for (std::uint64_t i = 0; i < waiting; ++i) c.waiting.push_back(user_id{r.get_int<std::uint64_t>()});
    auto on_sale = r.get_int<std::uint8_t>();
    if (on_sale > 1) return false;
    c.on_sale = on_sale == 1;
    auto pre_queue = r.get_int<std::uint64_t>();
    if (pre_queue > r.remaining() / 8) return false;
    for (std::uint64_t i = 0; i < pre_queue; ++i) c.pre_queue.push_back(user_id{r.get_int<std::uint64_t>()});
    c.active = r.get_int<std::uint32_t>();
    get_deadlines(r, c.active_deadlines);
    if (c.active_deadlines.size() > r.remaining() / 8) return false;
    for (std::size_t i = 0; i < c.active_deadlines.size(); ++i) c.active_users.push_back(r.get_int<std::uint64_t>());
    get_deadlines(r, c.hold_deadlines);
    get_deadlines(r, c.claim_deadlines);
    if (c.claim_deadlines.size() > r.remaining() / 8) return false;
    for (std::size_t i = 0; i < c.claim_deadlines.size(); ++i) c.claim_users.push_back(r.get_int<std::uint64_t>());
    c.revision = r.get_int<std::uint64_t>();
    auto paused = r.get_int<std::uint8_t>();
    if (paused > 1) return false;
    c.paused = paused == 1;
    c.paused_at = r.get_int<time_ms>();
    c.phase = r.get_int<std::uint32_t>();
    c.phases.resize(c.config.options.sale.venue->plan.phases.size());
    if (c.phase > c.phases.size() || (c.on_sale && !c.phases.empty() && c.phase >= c.phases.size())) return false;
    for (phase_state& p : c.phases) {
        auto ids = r.get_int<std::uint64_t>();
        if (ids > eligible_per_phase_max || ids > r.remaining() / 24) return false;
        p.ids.reserve(ids);
        for (std::uint64_t i = 0; i < ids; ++i) {
            list_key key;
            key.high = r.get_int<std::uint64_t>();
            key.low = r.get_int<std::uint64_t>();
            const user_id claimant{r.get_int<std::uint64_t>()};
            if (!p.ids.emplace(key, claimant).second) return false;
            if (claimant.value != 0 && !p.claims.emplace(claimant, key).second) return false;  // one id, one person
        }
        auto buyers = r.get_int<std::uint64_t>();
        if (buyers > r.remaining() / 12) return false;
        for (std::uint64_t i = 0; i < buyers; ++i) {
            const user_id u{r.get_int<std::uint64_t>()};
            p.bought[u] = r.get_int<std::uint32_t>();
        }
    }
    auto policies = r.get_int<std::uint32_t>();
    if (policies == 0 || policies > refund_policies_max || policies > r.remaining() / 5) return false;
    for (std::uint32_t i = 0; i < policies && !r.failed(); ++i) {
        refund_terms& terms = c.refund_policies.emplace_back();
        terms.free_within_hours = r.get_int<std::uint32_t>();
        auto tiers = r.get_int<std::uint8_t>();
        if (tiers > refund_tiers_max) return false;
        for (std::uint8_t t = 0; t < tiers; ++t) {
            refund_tier& tier = terms.fees.emplace_back();
            tier.hours_before = r.get_int<std::uint32_t>();
            tier.won_per_ticket = r.get_int<won>();
            tier.percent = r.get_int<std::uint32_t>();
        }
    }
    // The catalog's is one of them, and each is there once.
    const auto& policies_had = c.refund_policies;
    if (r.failed() || std::find(policies_had.begin(), policies_had.end(), c.config.options.sale.venue->plan.refunds) == policies_had.end())
        return false;
    for (std::size_t i = 0; i < policies_had.size(); ++i) {
        if (std::find(policies_had.begin() + static_cast<std::ptrdiff_t>(i) + 1, policies_had.end(), policies_had[i]) != policies_had.end()) return false;
    }
    auto scanners = r.get_int<std::uint32_t>();
    if (scanners > scanners_per_concert_max) return false;
    for (std::uint32_t i = 0; i < scanners && !r.failed(); ++i) {
        scanner_state& x = c.scanners.emplace_back();
        x.id = r.get_int<std::uint64_t>();
        x.gate = r.get_int<std::uint8_t>();
        auto removed = r.get_int<std::uint8_t>();
        if (removed > 1 || x.gate > c.venue.gates().size()) return false;
        x.removed = removed == 1;
    }
    auto admitted = r.get_int<std::uint64_t>();
    if (admitted > r.remaining() / admission_bytes) return false;
    c.admitted.reserve(admitted);
    for (std::uint64_t i = 0; i < admitted && !r.failed(); ++i) {
        const auto key = r.get_int<std::uint64_t>();
        admission a;
        a.at = r.get_int<time_ms>();
        a.scan = r.get_int<std::uint32_t>();
        a.gate = r.get_int<std::uint8_t>();
        a.scanner = r.get_int<std::uint8_t>();
        if (a.gate > c.venue.gates().size() || a.scanner > c.scanners.size() || !c.admitted.emplace(key, a).second) return false;
    }
    return !r.failed();
}

// The bytes put_reservation writes for a single seat (more seats add 4 bytes each and share the
// rest): with the seat's 4-byte cell, the most a sold seat costs a snapshot.
// An admitted ticket adds its admission.
constexpr std::size_t reservation_record_bytes = 8 + 8 + 4 + 4 + 4 + 2 + 8 + 8 + 8 + 8 + 8 + 1 + 1 + 1 + 4;  // + its refund policy
static_assert(reservation_record_bytes + sizeof(std::uint32_t) + admission_bytes <= snapshot_bytes_per_sold_seat);

constexpr std::uint16_t standing_mark = 0x8000;
constexpr int phase_shift = 11;
constexpr std::uint16_t phase_mask = 0x7800;
static_assert(phases_max < 16 && seats_per_hold_max < (1u << phase_shift));

void put_reservation(byte_writer& w, const reservation_record& rec) {
    w.put_int(rec.offset);
    w.put_int(rec.user.value);
    w.put_int(rec.concert_index);
    w.put_int(rec.date_index);
    w.put_int(rec.seat);
    // The count of more seats; its top bit marks places of a standing zone, which follow.
    // Bits 11..14: the sale phase it was placed in (+ 1).
    w.put_int(static_cast<std::uint16_t>(rec.more_seats.size() | (rec.places != 0 ? standing_mark : 0) |
                                         (static_cast<std::uint16_t>(rec.phase) << phase_shift)));
    for (std::uint32_t seat : rec.more_seats) w.put_int(seat);
    if (rec.places != 0) {
        w.put_int(rec.places);
        w.put_int(rec.zone);
        w.put_int(rec.entry_first);
    }
    w.put_int(rec.price);
    // The price by grade (a venue's), at most one entry per grade.
    w.put_int(static_cast<std::uint8_t>(rec.by_grade.size()));
    for (const grade_amount& g : rec.by_grade) {
        w.put_int(g.grade);
        w.put_int(g.amount);
    }
    w.put_int(rec.held_at);
    w.put_int(rec.expires_at);
    w.put_int(rec.paid_at);
    w.put_int(rec.payment_offset);
    w.put_int(static_cast<std::uint8_t>(rec.status));
    // Bits 0, 1: a payment, a refund in flight; 2, 3: the refund policy, the refund's fee follow.
    w.put_int(static_cast<std::uint8_t>((rec.payment_pending ? 1 : 0) | (rec.refund_pending ? 2 : 0) |
                                        (rec.refund_policy != 0 ? 4 : 0) | (rec.refund_fee != 0 ? 8 : 0)));
    if (rec.refund_policy != 0) w.put_int(rec.refund_policy);
    if (rec.refund_fee != 0) w.put_int(rec.refund_fee);
}

bool get_reservation(byte_reader& r, reservation_record& rec, const partition_state& s) {
    rec.offset = r.get_int<std::uint64_t>();
    rec.user = user_id{r.get_int<std::uint64_t>()};
    rec.concert_index = r.get_int<std::uint32_t>();
    rec.date_index = r.get_int<std::uint32_t>();
    rec.seat = r.get_int<std::uint32_t>();
    auto more = r.get_int<std::uint16_t>();
    const bool standing = (more & standing_mark) != 0;
    rec.phase = static_cast<std::uint8_t>((more & phase_mask) >> phase_shift);
    more &= static_cast<std::uint16_t>(~(standing_mark | phase_mask));
    if (more >= seats_per_hold_max || more > r.remaining() / 4 || (standing && more != 0)) return false;
    for (std::uint16_t i = 0; i < more; ++i) rec.more_seats.push_back(r.get_int<std::uint32_t>());
    if (standing) {
        rec.places = r.get_int<std::uint32_t>();
        rec.zone = r.get_int<std::uint32_t>();
        rec.entry_first = r.get_int<std::uint32_t>();
        if (rec.places == 0 || rec.places > seats_per_hold_max || rec.seat != 0) return false;
    }
    rec.price = r.get_int<won>();
    auto grades = r.get_int<std::uint8_t>();
    if (grades > grades_max || grades > r.remaining() / 12) return false;
    for (std::uint8_t i = 0; i < grades; ++i) {
        grade_amount& g = rec.by_grade.emplace_back();
        g.grade = r.get_int<std::uint32_t>();
        g.amount = r.get_int<won>();
    }
    rec.held_at = r.get_int<time_ms>();
    rec.expires_at = r.get_int<time_ms>();
    rec.paid_at = r.get_int<time_ms>();
    rec.payment_offset = r.get_int<std::uint64_t>();
    auto status = r.get_int<std::uint8_t>();
    auto pending = r.get_int<std::uint8_t>();
    if ((pending & 4) != 0) rec.refund_policy = r.get_int<std::uint32_t>();
    if ((pending & 8) != 0) rec.refund_fee = r.get_int<won>();
    if (r.failed() || status > 4 || pending > 15 || rec.concert_index >= s.concerts.size()) return false;
    const concert_state& c = s.concerts[rec.concert_index];
    if (rec.refund_policy > c.refund_policies.size() || rec.refund_fee < 0 || rec.refund_fee > rec.price) return false;
    if (rec.date_index >= c.dates.size()) return false;
    if (rec.places != 0 && (rec.zone >= c.venue.sections() || c.venue.standing(rec.zone) == 0)) return false;
    if (rec.phase > c.phases.size()) return false;
    std::uint32_t previous = 0;
    for (std::uint32_t seat : seats_of(rec)) {
        if (seat <= previous || seat > c.dates[rec.date_index].seats) return false;
        previous = seat;
    }
    rec.status = static_cast<reservation_status>(status);
    rec.payment_pending = (pending & 1) != 0;
    rec.refund_pending = (pending & 2) != 0;
    return true;
}

}  // namespace

std::string snapshot(const partition_state& s) {
    std::string out;
    byte_writer w(out);
    w.put_int(snapshot_magic);
    w.put_int(snapshot_version);
    w.put_int(s.partition);
    w.put_int(s.partitions);
    w.put_int(s.clock);
    w.put_int(s.next_event_sequence);
    w.put_int(s.next_command_offset);
    w.put_int(s.next_deadline);
    w.put_int(static_cast<std::uint64_t>(s.concerts.size()));
    for (const concert_state& c : s.concerts) put_concert(w, c);
    w.put_int(static_cast<std::uint64_t>(s.reservations.size()));
    for (const reservation_record& rec : s.reservations) put_reservation(w, rec);
    auto users = sorted_keys(s.wallets);
    w.put_int(static_cast<std::uint64_t>(users.size()));
    for (user_id u : users) {
        w.put_int(u.value);
        w.put_int(s.wallets.at(u).balance);
    }
    w.put_int(static_cast<std::uint64_t>(s.saga_high_water.size()));
    for (const auto& [partition, high] : s.saga_high_water) {
        w.put_int(partition);
        w.put_int(high);
    }
    // Each caller's keys, callers by id, keys oldest first.
    w.put_int(static_cast<std::uint64_t>(s.idempotency_order.size()));
    for (user_id caller : sorted_keys(s.idempotency_order)) {
        const std::deque<std::string>& order = s.idempotency_order.at(caller);
        w.put_int(caller.value);
        w.put_int(static_cast<std::uint64_t>(order.size()));
        for (const std::string& slot : order) {
            const remembered_key& k = s.idempotency.at(slot);
            w.put_string(slot);
            w.put_int(k.first.partition);
            w.put_int(k.first.offset);
            w.put_int(k.fingerprint);
            w.put_int(k.forget_at);
        }
    }
    return out;
}

result<partition_state> restore(std::string_view bytes) {
    byte_reader r(bytes);
    auto corrupt = [&r](const char* what) {
        return error{errc::corrupt, std::string("snapshot: ") + what + (r.failed() ? ": " + r.why() : "")};
    };
    if (r.get_int<std::uint32_t>() != snapshot_magic) return corrupt("not a snapshot");
    if (auto version = r.get_int<std::uint8_t>(); version != snapshot_version)
        return error{errc::unavailable, "a snapshot of format " + std::to_string(version) + ", this build reads format " +
                                            std::to_string(snapshot_version)};
    partition_state s;
    s.partition = r.get_int<std::uint32_t>();
    s.partitions = r.get_int<std::uint32_t>();
    s.clock = r.get_int<time_ms>();
    s.next_event_sequence = r.get_int<std::uint64_t>();
    s.next_command_offset = r.get_int<std::uint64_t>();
    s.next_deadline = r.get_int<time_ms>();
    if (r.failed() || s.partitions < 1 || s.partitions > partitions_max || s.partition >= s.partitions)
        return corrupt("bad header");
    auto concerts = r.get_int<std::uint64_t>();
    if (concerts > r.remaining()) return corrupt("concert count");
    for (std::uint64_t i = 0; i < concerts; ++i) {
        concert_state& c = s.concerts.emplace_back();
        if (!get_concert(r, c)) return corrupt("concert");
        s.concert_index.emplace(c.config.concert, static_cast<std::uint32_t>(i));
    }
    auto reservations = r.get_int<std::uint64_t>();
    if (reservations > r.remaining() / 64) return corrupt("reservation count");
    s.reservations.resize(reservations);
    for (reservation_record& rec : s.reservations) {
        if (!get_reservation(r, rec, s)) return corrupt("reservation");
    }
    auto wallets = r.get_int<std::uint64_t>();
    if (wallets > r.remaining() / 16) return corrupt("wallet count");
    s.wallets.reserve(wallets);
    for (std::uint64_t i = 0; i < wallets; ++i) {
        user_id u{r.get_int<std::uint64_t>()};
        s.wallets[u].balance = r.get_int<won>();
    }
    auto origins = r.get_int<std::uint64_t>();
    if (origins > partitions_max) return corrupt("saga origin count");
    for (std::uint64_t i = 0; i < origins; ++i) {
        auto partition = r.get_int<std::uint32_t>();
        s.saga_high_water[partition] = r.get_int<std::uint64_t>();
    }
    auto callers = r.get_int<std::uint64_t>();
    if (callers > r.remaining() / 16) return corrupt("idempotency caller count");
    for (std::uint64_t i = 0; i < callers && !r.failed(); ++i) {
        user_id caller{r.get_int<std::uint64_t>()};
        auto keys = r.get_int<std::uint64_t>();
        if (keys == 0 || keys > idempotency_keys_per_caller_max || s.idempotency_order.contains(caller))
            return corrupt("idempotency keys of a caller");
        std::deque<std::string>& order = s.idempotency_order[caller];
        for (std::uint64_t k = 0; k < keys && !r.failed(); ++k) {
            std::string slot = r.get_string();
            remembered_key first;
            first.first = {r.get_int<std::uint32_t>(), r.get_int<std::uint64_t>()};
            first.fingerprint = r.get_int<std::uint64_t>();
            first.forget_at = r.get_int<time_ms>();
            if (!order.empty() && first.forget_at < s.idempotency.at(order.back()).forget_at) return corrupt("idempotency key order");
            if (!s.idempotency.emplace(slot, first).second) return corrupt("idempotency key repeated");
            order.push_back(std::move(slot));
        }
        if (r.failed()) break;
        s.idempotency_expiry.emplace(s.idempotency.at(order.front()).forget_at, caller);
    }
    if (r.failed() || !r.at_end()) return corrupt("trailing or missing bytes");
    return s;
}

std::string state_hash(const partition_state& state) { return to_hex(chain_next(chain_genesis, snapshot(state))); }

}  // namespace encore::engine
