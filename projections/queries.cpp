// The queries of read_models. Seat maps, dates and the catalog come from the in-memory mirror;
// everything else from RocksDB, with one snapshot (or one MultiGet) per query when a query reads
// several keys that must agree.

#include <algorithm>
#include <cassert>
#include <mutex>

#include "events/codec.hpp"
#include "projections/keys.hpp"
#include "projections/records.hpp"
#include "projections/store.hpp"

namespace encore::projections {
namespace {

// A RocksDB snapshot released when the query ends.
class snapshot_guard {
public:
    explicit snapshot_guard(rocksdb::DB& db) : db_(db), snapshot_(db.GetSnapshot()) {}
    ~snapshot_guard() { db_.ReleaseSnapshot(snapshot_); }
    snapshot_guard(const snapshot_guard&) = delete;
    snapshot_guard& operator=(const snapshot_guard&) = delete;
    const rocksdb::Snapshot* get() const { return snapshot_; }

private:
    rocksdb::DB& db_;
    const rocksdb::Snapshot* snapshot_;
};

date_view date_view_of(const date_mirror& d) {
    date_mirror::counts counts = d.load_counts();
    date_view v;
    v.date = d.date();
    v.total_seats = d.seats();
    v.held_seats = counts.held;
    v.sold_seats = counts.sold;
    v.available_seats = d.seats() - counts.held - counts.sold;
    v.price = d.price();
    return v;
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

}  // namespace

concert_view rocks_read_models::view_of(const concert_mirror& m) const {
    concert_view v;
    v.config = m.config;
    v.dates.reserve(m.dates.size());
    for (const auto& d : m.dates) v.dates.push_back(date_view_of(*d));
    return v;
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
    return date_view_of(*date);
}

std::optional<std::vector<seat_view>> rocks_read_models::seats(concert_id c, day_number d, bool only_available) const {
    auto m = find_concert(c);
    const date_mirror* date = m ? m->find_date(d) : nullptr;
    if (date == nullptr) return std::nullopt;
    std::vector<seat_view> out;
    date_mirror::counts counts = date->load_counts();
    out.reserve(only_available ? date->seats() - counts.held - counts.sold : date->seats());
    for (std::uint32_t seat = 1; seat <= date->seats(); ++seat) {
        seat_status s = date->status(seat);
        if (!only_available || s == seat_status::available) out.push_back({seat, s});
    }
    return out;
}

std::optional<reservation> rocks_read_models::find_reservation(reservation_id r) const {
    auto raw = read(keys::reservation_key(r));
    if (!raw) return std::nullopt;
    return decode_reservation(*raw);
}

std::vector<reservation> rocks_read_models::reservations_of(user_id u) const {
    snapshot_guard snapshot(*db_);
    std::vector<std::string> ids;
    ignore_error(scan(keys::user_reservation_prefix(u), snapshot.get(), [&](std::string_view k, std::string_view) {
        // The key ends with the complement of the reservation id.
        keys::key_reader key(k);
        ids.push_back(keys::reservation_key(reservation_id{~key.u64(k.size() - 8)}));
        return true;
    }));
    std::vector<rocksdb::Slice> slices(ids.begin(), ids.end());
    std::vector<std::string> values;
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot.get();
    std::vector<rocksdb::Status> statuses = db_->MultiGet(ro, slices, &values);
    std::vector<reservation> out;
    out.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (!statuses[i].ok()) continue;
        if (auto r = decode_reservation(values[i])) out.push_back(*r);
    }
    return out;
}

bool rocks_read_models::user_exists(user_id u) const { return read(keys::user_key(u)).has_value(); }

won rocks_read_models::balance(user_id u) const {
    auto raw = read(keys::balance_key(u));
    auto value = raw ? decode_i64(*raw) : std::nullopt;
    return value.value_or(0);
}

std::vector<history_entry> rocks_read_models::history(user_id u, std::size_t limit) const {
    std::vector<history_entry> out;
    if (limit == 0) return out;
    ignore_error(scan(keys::history_prefix(u), nullptr, [&](std::string_view, std::string_view v) {
        if (auto e = decode_history_entry(v)) out.push_back(*e);
        return out.size() < limit;
    }));
    return out;
}

std::optional<queue_view> rocks_read_models::queue(concert_id c, user_id u) const {
    auto m = find_concert(c);
    if (!m) return std::nullopt;
    // One MultiGet reads both keys from one consistent view: the entry and the counters agree.
    std::string entry_key = keys::queue_entry_key(c, u), counters_key = keys::queue_counters_key(c);
    std::vector<rocksdb::Slice> slices{entry_key, counters_key};
    std::vector<std::string> values;
    std::vector<rocksdb::Status> statuses = db_->MultiGet(rocksdb::ReadOptions(), slices, &values);
    if (!statuses[0].ok() || !statuses[1].ok()) return std::nullopt;
    auto entry = decode_queue_entry(values[0]);
    auto counters = decode_queue_counters(values[1]);
    if (!entry || !counters) return std::nullopt;

    queue_view v;
    v.ticket = entry->ticket;
    v.status = entry->status;
    if (entry->status == queue_status::waiting) {
        // Admission is in ticket order: a ticket still waiting is above the highest admitted one.
        assert(entry->ticket > counters->admitted_through);
        v.position = entry->ticket - counters->admitted_through;
        const queue_settings& q = m->config.queue;
        v.estimated_wait_seconds = ceil_div(v.position, q.active_capacity) * q.active_ttl_seconds;
    } else if (entry->status == queue_status::active) {
        v.active_until = entry->active_until;
    }
    return v;
}

std::optional<event> rocks_read_models::outcome(log_position request) const {
    auto raw = read(keys::outcome_key(request));
    if (!raw) return std::nullopt;
    auto e = decode_event(*raw);
    if (!e) return std::nullopt;
    return std::move(e).value();
}

std::optional<concert_analytics> rocks_read_models::analytics(concert_id c) const {
    if (!find_concert(c)) return std::nullopt;
    snapshot_guard snapshot(*db_);
    concert_analytics out;
    ignore_error(scan(keys::date_prefix(c), snapshot.get(), [&](std::string_view k, std::string_view v) {
        auto d = decode_date_record(v);
        if (!d || k.size() != keys::date_key_size) return true;
        date_analytics& a = out.dates.emplace_back();
        a.date = keys::key_reader(k).i32(9);
        a.sold = d->sold;
        a.held = d->held;
        a.available = d->seats - d->held - d->sold;
        a.revenue = d->revenue;
        a.holds_placed = d->holds_placed;
        a.holds_expired = d->holds_expired;
        a.holds_cancelled = d->holds_cancelled;
        return true;
    }));
    std::string counters_raw;
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot.get();
    if (db_->Get(ro, keys::queue_counters_key(c), &counters_raw).ok()) {
        if (auto q = decode_queue_counters(counters_raw)) {
            out.waiting = q->waiting;
            out.active = q->active;
            out.admitted_total = q->admitted_total;
        }
    }
    std::vector<std::pair<std::uint16_t, std::uint64_t>> buckets;
    std::uint64_t admissions = 0;
    ignore_error(scan(keys::wait_bucket_prefix(c), snapshot.get(), [&](std::string_view k, std::string_view v) {
        auto count = decode_u64(v);
        if (!count) return true;
        keys::key_reader key(k);
        buckets.emplace_back(key.u16(k.size() - 2), *count);
        admissions += *count;
        return true;
    }));
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

}  // namespace encore::projections
