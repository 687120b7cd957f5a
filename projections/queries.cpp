// The queries of read_models. Seat maps, dates and the catalog come from the in-memory mirror;
// everything else from the in-memory image, under one shard lock when a query reads several keys
// that must agree. Only wallet and seat history (a page at a time) and request outcomes read RocksDB.

#include <algorithm>
#include <cassert>
#include <mutex>

#include "events/codec.hpp"
#include "events/ids.hpp"
#include "events/venue.hpp"
#include "projections/keys.hpp"
#include "projections/records.hpp"
#include "projections/store.hpp"

namespace encore::projections {
namespace {

date_view date_view_of(const date_mirror& d) {
    date_mirror::counts counts = d.load_counts();
    date_view v;
    v.date = d.date();
    v.total_seats = d.seats();
    v.held_seats = counts.held;
    v.sold_seats = counts.sold;
    v.available_seats = d.seats() - counts.taken();
    v.blocked_seats = counts.blocked;
    v.price = d.price();
    return v;
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

}  // namespace

concert_view rocks_read_models::view_of(const concert_mirror& m) const {
    concert_view v;
    v.config = m.config;
    v.revision = m.controls.revision;
    v.paused = m.controls.paused;
    v.dates.reserve(m.dates.size());
    for (const auto& d : m.dates) v.dates.push_back(with_zones(m, date_view_of(*d)));
    return v;
}

// A date's places of the standing zones, counted as seats.
date_view rocks_read_models::with_zones(const concert_mirror& m, date_view v) const {
    for (const zone_count& z : zones_of(m, v.date)) {
        v.total_seats += z.capacity;
        v.available_seats += z.available();
        v.held_seats += z.held;
        v.sold_seats += z.sold;
    }
    return v;
}

std::vector<zone_count> rocks_read_models::zones_of(const concert_mirror& m, day_number d) const {
    const venue_layout& layout = m.config.options.sale.venue;
    if (layout_standing(layout) == 0) return {};
    std::vector<zone_count> out(layout.sections.size());
    for (std::uint32_t s = 0; s < out.size(); ++s) {
        out[s].capacity = layout.sections[s].standing;
        if (out[s].capacity == 0) continue;
        auto raw = read(keys::zone_key(m.config.concert, d, s));
        if (auto z = raw ? decode_zone_record(*raw) : std::nullopt) {
            out[s].held = z->held;
            out[s].sold = z->sold;
            out[s].entries = z->entries;
        }
    }
    return out;
}

std::optional<std::vector<zone_count>> rocks_read_models::zone_counts(concert_id c, day_number d) const {
    auto m = find_concert(c);
    if (!m || m->find_date(d) == nullptr) return std::nullopt;
    return zones_of(*m, d);
}

std::vector<concert_view> rocks_read_models::concerts() const {
    std::vector<std::shared_ptr<concert_mirror>> all;
    {
        std::shared_lock lock(concerts_mutex_);
        all.reserve(concerts_.size());
        for (const auto& [id, m] : concerts_) all.push_back(m);
    }
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a->created_at < b->created_at; });
    std::vector<concert_view> out;
    out.reserve(all.size());
    for (const auto& m : all) out.push_back(view_of(*m));
    return out;
}

std::optional<concert_view> rocks_read_models::concert(concert_id c) const {
    auto m = find_concert(c);
    if (!m) return std::nullopt;
    return view_of(*m);
}

std::optional<date_view> rocks_read_models::date(concert_id c, day_number d) const {
    auto m = find_concert(c);
    const date_mirror* date = m ? m->find_date(d) : nullptr;
    if (date == nullptr) return std::nullopt;
    return with_zones(*m, date_view_of(*date));
}

std::optional<std::vector<seat_view>> rocks_read_models::seats(concert_id c, day_number d, bool only_available) const {
    auto m = find_concert(c);
    const date_mirror* date = m ? m->find_date(d) : nullptr;
    if (date == nullptr) return std::nullopt;
    std::vector<seat_view> out;
    date_mirror::counts counts = date->load_counts();
    out.reserve(only_available ? date->seats() - counts.taken() : date->seats());
    for (std::uint32_t seat = 1; seat <= date->seats(); ++seat) {
        seat_status s = date->status(seat);
        if (!only_available || s == seat_status::available) out.push_back({seat, s});
    }
    return out;
}

std::optional<std::vector<grade_count>> rocks_read_models::grade_counts(concert_id c, day_number d) const {
    auto m = find_concert(c);
    const date_mirror* date = m ? m->find_date(d) : nullptr;
    if (date == nullptr) return std::nullopt;
    const venue_map venue(m->config);
    std::vector<grade_count> out(m->config.options.sale.venue->grades.size());
    if (!venue.has_layout()) return out;
    for (std::size_t row = 0; row < venue.row_first().size(); ++row) {
        grade_count& g = out[venue.grade_of_section(venue.row_section(row))];
        const std::uint32_t last = row + 1 < venue.row_first().size() ? venue.row_first()[row + 1] - 1 : date->seats();
        for (std::uint32_t seat = venue.row_first()[row]; seat <= last && seat <= date->seats(); ++seat) {
            ++g.total;
            switch (date->status(seat)) {
                case seat_status::available: ++g.available; break;
                case seat_status::held: ++g.held; break;
                case seat_status::sold: ++g.sold; break;
                case seat_status::blocked: ++g.blocked; break;
            }
        }
    }
    // Standing places count as seats of their zone's grade.
    const std::vector<zone_count> zones = zones_of(*m, d);
    for (std::uint32_t s = 0; s < zones.size(); ++s) {
        if (zones[s].capacity == 0) continue;
        grade_count& g = out[venue.grade_of_section(s)];
        g.total += zones[s].capacity;
        g.available += zones[s].available();
        g.held += zones[s].held;
        g.sold += zones[s].sold;
    }
    for (std::uint32_t g = 0; g < out.size(); ++g) {
        if (auto raw = read(keys::grade_revenue_key(c, d, g))) out[g].revenue = decode_i64(*raw).value_or(0);
    }
    return out;
}

std::optional<std::uint64_t> rocks_read_models::seats_version(concert_id c, day_number d) const {
    auto m = find_concert(c);
    const date_mirror* date = m ? m->find_date(d) : nullptr;
    if (date == nullptr) return std::nullopt;
    return date->version();
}

std::optional<reservation> rocks_read_models::find_reservation(reservation_id r) const {
    if (partition_of(r) >= options_.partitions) return std::nullopt;
    auto raw = read(keys::reservation_key(r));
    if (!raw) return std::nullopt;
    return decode_reservation(*raw);
}

// A user's reservations may be in every partition (one per concert): each shard's index is read
// under its own lock, then the records, newest first across shards.
std::vector<reservation> rocks_read_models::reservations_of(user_id u) const {
    const std::string prefix = keys::user_reservation_prefix(u);
    std::vector<std::string> index_keys;
    for (std::uint32_t p = 0; p < image_.partitions(); ++p) {
        const image::shard& shard = image_.at(p);
        std::shared_lock lock(shard.mutex);
        shard.scan(prefix, [&](std::string_view k, std::string_view) {
            index_keys.emplace_back(k);
            return true;
        });
    }
    // The index key orders by ~heldAt then ~reservation: ascending keys are newest first.
    std::sort(index_keys.begin(), index_keys.end());
    std::vector<reservation> out;
    out.reserve(index_keys.size());
    for (const std::string& k : index_keys) {
        if (k.size() != 1 + 8 + 8 + 8) continue;
        if (auto r = find_reservation(reservation_id{~keys::key_reader(k).u64(17)})) out.push_back(*r);
    }
    return out;
}

// Each shard gives at most limit + 1 index keys after the cursor; merged, the first `limit` are
// the page and one more says there is a next page.
page<reservation> rocks_read_models::reservations_page(user_id u, std::string_view after, std::size_t limit) const {
    page<reservation> out;
    if (limit == 0) return out;
    const std::string prefix = keys::user_reservation_prefix(u);
    const std::string from = prefix + std::string(after);
    std::vector<std::string> index_keys;
    for (std::uint32_t p = 0; p < image_.partitions(); ++p) {
        const image::shard& shard = image_.at(p);
        std::shared_lock lock(shard.mutex);
        std::size_t taken = 0;
        auto take = [&](std::string_view k, std::string_view) {
            index_keys.emplace_back(k);
            return ++taken <= limit;
        };
        if (after.empty()) shard.scan(prefix, take); else shard.scan_after(prefix, from, take);
    }
    std::sort(index_keys.begin(), index_keys.end());
    const bool more = index_keys.size() > limit;
    if (more) index_keys.resize(limit);
    for (const std::string& k : index_keys) {
        if (k.size() != 1 + 8 + 8 + 8) continue;
        if (auto r = find_reservation(reservation_id{~keys::key_reader(k).u64(17)})) out.items.push_back(*r);
    }
    if (more) out.next = index_keys.back().substr(prefix.size());
    return out;
}

template <class Entry, class Decode>
result<page<Entry>> rocks_read_models::scan_page(const std::string& prefix, std::string_view after, std::size_t limit,
                                                 Decode&& decode) const {
    page<Entry> out;
    if (limit == 0) return out;
    const std::string from = after.empty() ? std::string() : prefix + std::string(after);
    std::string last;
    bool more = false;
    auto scanned = scan(prefix, nullptr, [&](std::string_view k, std::string_view v) {
        if (!from.empty() && k == from) return true;  // the cursor's own entry: on the previous page
        if (out.items.size() == limit) {
            more = true;
            return false;
        }
        if (auto e = decode(v)) out.items.push_back(*e);
        last = std::string(k);
        return true;
    }, from);
    if (!scanned) return scanned.err();
    if (more) out.next = last.substr(prefix.size());
    return out;
}

result<page<history_entry>> rocks_read_models::history_page(user_id u, std::string_view after, std::size_t limit) const {
    return scan_page<history_entry>(keys::history_prefix(u), after, limit,
                                    [](std::string_view v) { return decode_history_entry(v); });
}

bool rocks_read_models::user_exists(user_id u) const { return read(keys::user_key(u)).has_value(); }

won rocks_read_models::balance(user_id u) const {
    auto raw = read(keys::balance_key(u));
    auto value = raw ? decode_i64(*raw) : std::nullopt;
    return value.value_or(0);
}

result<std::vector<history_entry>> rocks_read_models::history(user_id u, std::size_t limit) const {
    std::vector<history_entry> out;
    if (limit == 0) return out;
    auto scanned = scan(keys::history_prefix(u), nullptr, [&](std::string_view, std::string_view v) {
        if (auto e = decode_history_entry(v)) out.push_back(*e);
        return out.size() < limit;
    });
    if (!scanned) return scanned.err();
    return out;
}

std::optional<queue_view> rocks_read_models::queue(concert_id c, user_id u, time_ms now) const {
    auto m = find_concert(c);
    if (!m) return std::nullopt;
    std::optional<queue_entry_record> entry;
    std::optional<queue_counters_record> counters;
    {
        // One shared lock over both keys: the entry and the counters come from one batch.
        const image::shard& shard = shard_of(c);
        std::shared_lock lock(shard.mutex);
        auto raw_entry = shard.find(keys::queue_entry_key(c, u));
        auto raw_counters = shard.find(keys::queue_counters_key(c));
        if (!raw_entry || !raw_counters) return std::nullopt;
        entry = decode_queue_entry(*raw_entry);
        counters = decode_queue_counters(*raw_counters);
    }
    if (!entry || !counters) return std::nullopt;

    queue_view v;
    v.ticket = entry->ticket;
    v.status = entry->status;
    v.onsale_at = m->config.options.sale.onsale_at;
    v.paused = m->controls.paused;
    // A token of a phase that closed is EXPIRED, whatever its entry says.
    if (entry->ticket < m->controls.expired_below &&
        (entry->status == queue_status::waiting || entry->status == queue_status::active)) {
        v.status = queue_status::expired;
        return v;
    }
    // Sale phases: a pre-queue waits for its phase's opensAt.
    const std::vector<sale_phase>& phases = m->config.options.sale.venue->plan.phases;
    if (!phases.empty()) v.onsale_at = m->controls.phase < phases.size() ? phases[m->controls.phase].opens_at : 0;
    if (entry->status == queue_status::waiting && entry->place == 0) {
        // In the pre-queue: no place until onsaleAt; the wait is at least until then.
        v.pre_queue = true;
        if (now != 0 && v.onsale_at > now) v.estimated_wait_seconds = ceil_div(static_cast<std::uint64_t>(v.onsale_at - now), 1000);
    } else if (entry->status == queue_status::waiting) {
        // Admission is in place order: a place still waiting is above the highest admitted one.
        assert(entry->place > counters->admitted_through);
        v.position = entry->place - counters->admitted_through;
        const queue_settings& q = m->config.queue;
        const std::uint64_t worst = ceil_div(v.position, q.active_capacity) * q.active_ttl_seconds;
        v.estimated_wait_seconds = m->admissions->estimate_seconds(v.position, now).value_or(worst);
        v.estimated_wait_seconds = std::min(v.estimated_wait_seconds, worst);
    } else if (entry->status == queue_status::active) {
        v.active_until = entry->active_until;
    }
    return v;
}

std::optional<phases_view> rocks_read_models::phases(concert_id c, user_id u) const {
    auto m = find_concert(c);
    if (!m) return std::nullopt;
    phases_view v;
    v.current = m->controls.phase;
    v.open = m->controls.phase_open;
    const std::size_t n = m->config.options.sale.venue->plan.phases.size();
    for (std::uint32_t p = 0; p < n; ++p) v.claimed.push_back(u.value != 0 && read(keys::claim_key(c, p, u)).has_value());
    return v;
}

result<std::optional<event>> rocks_read_models::outcome(log_position request) const {
    auto raw = read_store(keys::outcome_key(request));
    if (!raw) return raw.err();
    if (!*raw) return std::optional<event>{};
    auto e = decode_event(**raw);
    if (!e) return error{errc::corrupt, "the stored outcome of " + std::to_string(request.partition) + ":" +
                                            std::to_string(request.offset) + ": " + e.err().message};
    // The outcome is in RocksDB as soon as its batch is written, and visible to queries (the image,
    // the mirror) only once the batch is published: until then it is not yet an answer, or a
    // client answered now could not read what it just did (a concert just created not found).
    if (request.partition < options_.partitions && e->sequence >= applied_[request.partition].load(std::memory_order_acquire))
        return std::optional<event>{};
    return std::optional<event>(std::move(e).value());
}

std::optional<concert_analytics> rocks_read_models::analytics(concert_id c) const {
    auto m = find_concert(c);
    if (!m) return std::nullopt;
    concert_analytics out;
    std::vector<std::pair<std::uint16_t, std::uint64_t>> buckets;
    std::uint64_t admissions = 0;
    {
        // Dates, queue counters and the wait histogram from one batch boundary.
        const image::shard& shard = shard_of(c);
        std::shared_lock lock(shard.mutex);
        shard.scan(keys::date_prefix(c), [&](std::string_view k, std::string_view v) {
            auto d = decode_date_record(v);
            if (!d || k.size() != keys::date_key_size) return true;
            date_analytics& a = out.dates.emplace_back();
            a.date = keys::key_reader(k).i32(9);
            a.sold = d->sold;
            a.held = d->held;
            a.available = d->seats - d->held - d->sold - d->blocked;
            a.blocked = d->blocked;
            a.revenue = d->revenue;
            a.refund_fees = d->refund_fees;
            a.holds_placed = d->holds_placed;
            a.holds_expired = d->holds_expired;
            a.holds_cancelled = d->holds_cancelled;
            a.refunds = d->refunds;
            a.payments = d->payments;
            return true;
        });
        if (auto raw = shard.find(keys::queue_counters_key(c))) {
            if (auto q = decode_queue_counters(*raw)) {
                out.waiting = q->waiting;
                out.active = q->active;
                out.admitted_total = q->admitted_total;
            }
        }
        shard.scan(keys::wait_bucket_prefix(c), [&](std::string_view k, std::string_view v) {
            auto count = decode_u64(v);
            if (!count) return true;
            buckets.emplace_back(keys::key_reader(k).u16(k.size() - 2), *count);
            admissions += *count;
            return true;
        });
    }
    // Standing places count as seats.
    for (date_analytics& a : out.dates) {
        for (const zone_count& z : zones_of(*m, a.date)) {
            a.sold += z.sold;
            a.held += z.held;
            a.available += z.available();
        }
    }
    // The lower median: the ceil(n/2)-th smallest wait.
    std::uint64_t rank = (admissions + 1) / 2, seen = 0;
    for (auto [bucket, count] : buckets) {
        seen += count;
        if (admissions > 0 && seen >= rank) {
            out.median_wait_seconds = wait_bucket_middle_ms(bucket) / 1000.0;
            break;
        }
    }
    return out;
}

std::uint64_t rocks_read_models::waiting_total() const {
    std::shared_lock lock(concerts_mutex_);
    std::uint64_t total = 0;
    for (const auto& [id, m] : concerts_) total += m->waiting.load(std::memory_order_relaxed);
    return total;
}

std::vector<read_models::queue_figures> rocks_read_models::queue_totals() const {
    std::shared_lock lock(concerts_mutex_);
    std::vector<queue_figures> out;
    out.reserve(concerts_.size());
    for (const auto& [id, m] : concerts_)
        out.push_back({id, m->waiting.load(std::memory_order_relaxed), m->active.load(std::memory_order_relaxed)});
    return out;
}

namespace {

// Rounds down to a multiple of `size` (negative times included).
time_ms floor_to(time_ms at, time_ms size) {
    const time_ms q = at / size;
    return (q - (at % size < 0 ? 1 : 0)) * size;
}

// Folds the fine buckets of a timeline into buckets of one size, oldest first, empty ones included.
class timeline_builder {
public:
    timeline_builder(time_ms bucket_ms, time_ms first_start, std::uint64_t waiting_before)
        : bucket_ms_(bucket_ms), waiting_(waiting_before) {
        current_.start = first_start;
        current_.waiting_at_end = waiting_before;
    }

    // Closes buckets up to the one starting at `start`; false once the result is full.
    bool advance_to(time_ms start) {
        while (current_.start < start) {
            if (!close()) return false;
        }
        return true;
    }
    void add(const timeline_record& r) {
        current_.queue_joined += r.queue_joined;
        current_.queue_admitted += r.queue_admitted;
        current_.holds_placed += r.holds_placed;
        current_.holds_expired += r.holds_expired;
        current_.holds_cancelled += r.holds_cancelled;
        current_.seats_sold += r.seats_sold;
        current_.refunds += r.refunds;
        current_.revenue += r.revenue;
        waiting_ = r.waiting_at_end;
        current_.waiting_at_end = waiting_;
    }
    time_ms current_start() const { return current_.start; }
    bool full() const { return out_.buckets.size() >= timeline_buckets_max; }
    // Closes the current bucket and opens the next; false (and nothing closed) once full.
    bool close() {
        if (full()) {
            out_.next_from = current_.start;
            return false;
        }
        out_.buckets.push_back(current_);
        timeline_bucket next;
        next.start = current_.start + bucket_ms_;
        next.waiting_at_end = waiting_;
        current_ = next;
        return true;
    }
    timeline finish() { return std::move(out_); }
    // Ends the result before the current bucket, which the next call starts at.
    timeline stop() {
        if (!out_.next_from) out_.next_from = current_.start;
        return finish();
    }

private:
    time_ms bucket_ms_;
    std::uint64_t waiting_;
    timeline_bucket current_;
    timeline out_;
};

}  // namespace

// The fine buckets are read in key order from the bucket holding `from` on; the waiting count
// before it comes from the fine bucket just before (one step back in the ordered image).
std::optional<timeline> rocks_read_models::concert_timeline(concert_id c, const timeline_range& range) const {
    if (!find_concert(c)) return std::nullopt;
    assert(range.bucket_ms >= timeline_bucket_ms && range.bucket_ms % timeline_bucket_ms == 0);
    const time_ms size = range.bucket_ms;
    const std::string prefix = keys::timeline_prefix(c);
    const image::shard& shard = shard_of(c);
    std::shared_lock lock(shard.mutex);
    const auto& ordered = shard.ordered;
    auto first = ordered.lower_bound(range.from ? keys::timeline_key(c, floor_to(*range.from, size)) : prefix);
    std::uint64_t waiting_before = 0;
    if (first != ordered.begin()) {
        auto before = std::prev(first);
        if (before->first.starts_with(prefix)) {
            if (auto r = decode_timeline_record(before->second)) waiting_before = r->waiting_at_end;
        }
    }
    const bool any = first != ordered.end() && first->first.starts_with(prefix) &&
                     first->first.size() == keys::timeline_key_size;
    if (!range.from && !any) return timeline{};
    const time_ms start = range.from ? floor_to(*range.from, size) : floor_to(keys::key_reader(first->first).i64(9), size);
    // The end (exclusive): `to`, or the end of the bucket holding the last fine bucket.
    time_ms end = start;
    if (range.to) {
        end = *range.to;
    } else if (auto last = ordered.lower_bound(keys::prefix_end(prefix)); last != ordered.begin()) {
        --last;
        if (last->first.starts_with(prefix) && last->first.size() == keys::timeline_key_size)
            end = keys::key_reader(last->first).i64(9) + timeline_bucket_ms;
    }
    timeline_builder built(size, start, waiting_before);
    if (end <= start) return built.finish();
    std::size_t read = 0;
    for (auto it = first; it != ordered.end() && it->first.starts_with(prefix); ++it) {
        if (it->first.size() != keys::timeline_key_size) continue;
        const time_ms fine_start = keys::key_reader(it->first).i64(9);
        if (fine_start >= end) break;
        const time_ms bucket_start = floor_to(fine_start, size);
        // Past the read bound, stop at the next bucket boundary: the rest is the next call's.
        if (read >= timeline_fine_buckets_read_max && bucket_start != built.current_start()) {
            built.close();
            return built.stop();
        }
        if (!built.advance_to(bucket_start)) return built.finish();
        auto record = decode_timeline_record(it->second);
        if (record) built.add(*record);
        ++read;
    }
    // The buckets after the last fine one, up to the end.
    while (built.current_start() < end) {
        if (!built.close()) break;
    }
    return built.finish();
}

result<std::optional<page<seat_history_entry>>> rocks_read_models::seat_history_page(concert_id c, day_number d,
                                                                                      std::uint32_t seat,
                                                                                      std::string_view after,
                                                                                      std::size_t limit) const {
    using answer = std::optional<page<seat_history_entry>>;
    auto m = find_concert(c);
    const date_mirror* date = m ? m->find_date(d) : nullptr;
    if (date == nullptr || seat < 1 || seat > date->seats()) return answer{};
    auto read = scan_page<seat_history_entry>(keys::seat_history_prefix(c, d, seat), after, limit,
                                              [](std::string_view v) { return decode_seat_history_entry(v); });
    if (!read) return read.err();
    return answer{std::move(read).value()};
}

result<std::optional<page<concert_change>>> rocks_read_models::changes_page(concert_id c, std::string_view after,
                                                                            std::size_t limit) const {
    using answer = std::optional<page<concert_change>>;
    if (!find_concert(c)) return answer{};
    auto read = scan_page<concert_change>(keys::change_prefix(c), after, limit, [](std::string_view v) -> std::optional<event> {
        auto e = decode_event(v);
        if (!e) return std::nullopt;
        return std::move(e).value();
    });
    if (!read) return read.err();
    return answer{std::move(read).value()};
}

// ---- the door ---------------------------------------------------------------------------------

std::optional<std::string> rocks_read_models::user_name(user_id u) const { return read(keys::user_key(u)); }

std::vector<scanner_view> rocks_read_models::scanners(concert_id c) const {
    std::vector<scanner_view> out;
    if (partition_of(c, options_.partitions) >= options_.partitions) return out;
    const image::shard& shard = shard_of(c);
    std::shared_lock lock(shard.mutex);
    shard.scan(keys::scanner_prefix(c), [&](std::string_view k, std::string_view v) {
        auto record = decode_scanner_record(v);
        if (record && k.size() == 1 + 8 + 8)
            out.push_back({reservation_id{keys::key_reader(k).u64(9)}, record->name, record->gate, record->removed});
        return true;
    });
    return out;
}

std::optional<scanner_view> rocks_read_models::scanner(concert_id c, reservation_id s) const {
    auto raw = read(keys::scanner_key(c, s));
    auto record = raw ? decode_scanner_record(*raw) : std::nullopt;
    if (!record) return std::nullopt;
    return scanner_view{s, record->name, record->gate, record->removed};
}

std::optional<admission_view> rocks_read_models::admission(reservation_id r, std::uint32_t ticket) const {
    if (partition_of(r) >= options_.partitions) return std::nullopt;
    auto raw = read(keys::admission_key(r, ticket));
    auto record = raw ? decode_admission_record(*raw) : std::nullopt;
    if (!record) return std::nullopt;
    return admission_view{record->at, record->gate};
}

page<reservation> rocks_read_models::date_tickets_page(concert_id c, day_number d, std::string_view after, std::size_t limit) const {
    page<reservation> out;
    if (limit == 0) return out;
    const std::string prefix = keys::date_ticket_prefix(c, d);
    std::vector<reservation_id> ids;
    std::string last;
    bool more = false;
    {
        const image::shard& shard = shard_of(c);
        std::shared_lock lock(shard.mutex);
        auto take = [&](std::string_view k, std::string_view) {
            if (ids.size() == limit) {
                more = true;
                return false;
            }
            if (k.size() == prefix.size() + 8) ids.push_back(reservation_id{keys::key_reader(k).u64(prefix.size())});
            last = std::string(k);
            return true;
        };
        if (after.empty()) shard.scan(prefix, take); else shard.scan_after(prefix, prefix + std::string(after), take);
    }
    for (reservation_id id : ids) {
        if (auto r = find_reservation(id)) out.items.push_back(std::move(*r));
    }
    if (more) out.next = last.substr(prefix.size());
    return out;
}

std::vector<gate_checkins> rocks_read_models::checkins_by_gate(concert_id c) const {
    std::vector<gate_checkins> out;
    const std::string prefix = keys::gate_checkins_prefix(c);
    const image::shard& shard = shard_of(c);
    std::shared_lock lock(shard.mutex);
    shard.scan(prefix, [&](std::string_view k, std::string_view v) {
        auto count = decode_u64(v);
        if (count && k.size() >= prefix.size() + 8)
            out.push_back({keys::key_reader(k).i64(prefix.size()), std::string(k.substr(prefix.size() + 8)), *count});
        return true;
    });
    return out;
}

}  // namespace encore::projections
