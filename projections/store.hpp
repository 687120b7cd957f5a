#pragma once
// Internal to projections/: the RocksDB implementation of `read_models`, and the staging area one
// `apply` call writes through.

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "projections/image.hpp"
#include "projections/keys.hpp"
#include "projections/mirror.hpp"
#include "projections/read_models.hpp"

namespace encore::projections {

// What `stage_events` reads and writes through: the keys of the read models, by RocksDB key.
class model_writes {
public:
    virtual ~model_writes() = default;
    // The value as the events staged so far left it; nullopt when absent. Only kinds the image
    // holds are read (histories and outcomes are only written).
    virtual std::optional<std::string> get(const std::string& key) const = 0;
    virtual void put(std::string key, std::string value) = 0;
    virtual void erase(std::string key) = 0;
    // The outcome of the request at `request`: the event answering it (the last one put wins).
    // `encoded` is the event's encoding when the caller has it already, else empty.
    virtual void put_outcome(log_position request, const event& answer, std::string_view encoded) = 0;
};

// What one `apply` call changes, before it is written: every put and delete keyed by RocksDB key,
// so that a later event of the same call reads what an earlier one wrote (a hold and its expiry in
// one batch). Reads fall through to the partition's shard of the in-memory image for keys the call
// has not touched (never to RocksDB); only the calling partition's thread writes those keys, so
// nothing changes them under it.
class staged_batch final : public model_writes {
public:
    explicit staged_batch(const image::shard& shard) : shard_(shard) {}

    std::optional<std::string> get(const std::string& key) const override;
    void put(std::string key, std::string value) override { changes_[std::move(key)] = std::move(value); }
    void erase(std::string key) override { changes_[std::move(key)] = std::nullopt; }
    void put_outcome(log_position request, const event& answer, std::string_view encoded) override;

    // nullopt value = delete. Ascending by key.
    const std::map<std::string, std::optional<std::string>>& changes() const { return changes_; }

private:
    const image::shard& shard_;
    std::map<std::string, std::optional<std::string>> changes_;
};

// Applies `events` (already checked to be consecutive and new) through `writes`. `encoded`, if
// not empty, holds each event's encoding (the values of outcomes), so that they are not encoded again. Fails with
// errc::corrupt when an event contradicts the read models (a seat of an unknown concert…): the
// store and the log disagree, and nothing of the call may be written (what `writes` holds then is
// to be thrown away).
result<unit> stage_events(model_writes& writes, std::span<const event> events,
                          std::span<const std::string_view> encoded = {});

class rocks_read_models final : public read_models {
public:
    rocks_read_models(const options& o, std::unique_ptr<rocksdb::DB> db);
    ~rocks_read_models() override;

    // Reads the applied sequences and rebuilds the mirror; part of `open`.
    result<unit> load();

    result<unit> apply(std::uint32_t partition, std::span<const event> events) override;
    result<unit> resume() override;
    std::uint64_t applied_sequence(std::uint32_t partition) const override;

    std::vector<concert_view> concerts() const override;
    std::optional<concert_view> concert(concert_id c) const override;
    std::optional<date_view> date(concert_id c, day_number d) const override;
    std::optional<std::vector<seat_view>> seats(concert_id c, day_number date, bool only_available) const override;
    std::optional<std::vector<grade_count>> grade_counts(concert_id c, day_number date) const override;
    std::optional<std::vector<zone_count>> zone_counts(concert_id c, day_number date) const override;
    std::optional<phases_view> phases(concert_id c, user_id u) const override;
    std::optional<std::uint64_t> seats_version(concert_id c, day_number date) const override;
    std::optional<reservation> find_reservation(reservation_id r) const override;
    std::vector<reservation> reservations_of(user_id u) const override;
    bool user_exists(user_id u) const override;
    won balance(user_id u) const override;
    result<std::vector<history_entry>> history(user_id u, std::size_t limit) const override;
    page<reservation> reservations_page(user_id u, std::string_view after, std::size_t limit) const override;
    result<page<history_entry>> history_page(user_id u, std::string_view after, std::size_t limit) const override;
    std::optional<queue_view> queue(concert_id c, user_id u, time_ms now) const override;
    result<std::optional<event>> outcome(log_position request) const override;
    std::optional<concert_analytics> analytics(concert_id c) const override;
    std::uint64_t waiting_total() const override;
    std::vector<queue_figures> queue_totals() const override;
    std::optional<timeline> concert_timeline(concert_id c, const timeline_range& range) const override;
    result<std::optional<page<seat_history_entry>>> seat_history_page(concert_id c, day_number d, std::uint32_t seat,
                                                                       std::string_view after,
                                                                       std::size_t limit) const override;
    std::optional<std::string> user_name(user_id u) const override;
    std::vector<scanner_view> scanners(concert_id c) const override;
    std::optional<scanner_view> scanner(concert_id c, reservation_id s) const override;
    std::optional<admission_view> admission(reservation_id r, std::uint32_t ticket) const override;
    page<reservation> date_tickets_page(concert_id c, day_number d, std::string_view after, std::size_t limit) const override;
    std::vector<gate_checkins> checkins_by_gate(concert_id c) const override;
    result<std::optional<page<concert_change>>> changes_page(concert_id c, std::string_view after,
                                                             std::size_t limit) const override;

private:
    std::shared_ptr<concert_mirror> find_concert(concert_id c) const;
    concert_view view_of(const concert_mirror& m) const;
    date_view with_zones(const concert_mirror& m, date_view v) const;
    std::vector<zone_count> zones_of(const concert_mirror& m, day_number d) const;
    result<unit> load_image();
    result<unit> load_concerts();
    result<unit> load_seats();
    result<unit> load_counters();
    result<unit> load_admission_rates();
    // Makes a written batch visible in the mirror.
    result<unit> publish(const staged_batch& batch);
    result<unit> publish_concert(concert_id c, bool replace);
    // Calls `visit(key, value)` for every key starting with `prefix`, ascending, until it returns
    // false. `snapshot` may be null.
    // `from`, if not empty, is a key to start at instead of the prefix's first.
    template <class Visit>
    result<unit> scan(const std::string& prefix, const rocksdb::Snapshot* snapshot, Visit&& visit,
                      const std::string& from = {}) const;
    // One page of the entries under `prefix` (a history kept in RocksDB only), at most `limit`
    // after the key `prefix + after`, each value decoded by `decode` (an undecodable one is left
    // out); `next` is the last key's tail when more follow.
    template <class Entry, class Decode>
    result<page<Entry>> scan_page(const std::string& prefix, std::string_view after, std::size_t limit,
                                  Decode&& decode) const;
    // A key the image holds, read under its shard's shared lock.
    std::optional<std::string> read(const std::string& key) const;
    const image::shard& shard_of(concert_id c) const;
    // A key kept in RocksDB only (an outcome).
    result<std::optional<std::string>> read_store(const std::string& key) const;

    options options_;
    std::unique_ptr<rocksdb::DB> db_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> applied_;  // per partition: the next sequence
    image image_;

    mutable std::shared_mutex concerts_mutex_;  // guards the map; the mirrors have their own atomics
    std::map<concert_id, std::shared_ptr<concert_mirror>> concerts_;
};

// A checksum RocksDB finds wrong is damage (errc::corrupt: the store can be set aside and rebuilt
// from the event log); anything else is the storage failing (errc::io).
inline error io_error(const rocksdb::Status& s) {
    return error{s.IsCorruption() ? errc::corrupt : errc::io, "read models: " + s.ToString()};
}
inline result<unit> to_result(const rocksdb::Status& s) { return s.ok() ? result<unit>(unit{}) : result<unit>(io_error(s)); }

template <class Visit>
result<unit> rocks_read_models::scan(const std::string& prefix, const rocksdb::Snapshot* snapshot,
                                     Visit&& visit, const std::string& from) const {
    std::string end = keys::prefix_end(prefix);
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(from.empty() ? prefix : from); it->Valid(); it->Next()) {
        if (!visit(std::string_view(it->key().data(), it->key().size()),
                   std::string_view(it->value().data(), it->value().size())))
            break;
    }
    if (!it->status().ok()) return io_error(it->status());
    return unit{};
}

}  // namespace encore::projections
