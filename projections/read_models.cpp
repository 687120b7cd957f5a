// Opening the store, applying a partition's events, and rebuilding and publishing the mirror.
// The queries are in queries.cpp.

#include <cassert>
#include <filesystem>
#include <mutex>
#include <set>
#include <system_error>

#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "events/codec.hpp"
#include "events/ids.hpp"
#include "events/rocksdb_logger.hpp"
#include "projections/keys.hpp"
#include "projections/records.hpp"
#include "projections/store.hpp"

namespace encore::projections {
namespace {

constexpr double bloom_bits_per_key = 10;  // ~1% false positives
constexpr std::size_t models_write_buffer_bytes = std::size_t{8} << 20;


// A meta value of the store (the layout version, the partition count); nullopt for a new store.
result<std::optional<std::uint32_t>> stored_meta(rocksdb::DB& db, std::string_view name) {
    std::string value;
    rocksdb::Status s = db.Get(rocksdb::ReadOptions(), keys::meta_key(name), &value);
    if (s.IsNotFound()) return std::optional<std::uint32_t>{};
    if (!s.ok()) return io_error(s);
    auto have = decode_u32(value);
    if (!have) return error{errc::corrupt, "read models: undecodable meta value " + std::string(name)};
    return std::optional<std::uint32_t>{*have};
}

// Deletes every key (each starts with an ASCII tag, below 0x80): the projector then rebuilds the
// store from event 0.
result<unit> empty_store(rocksdb::DB& db) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return to_result(db.DeleteRange(wo, db.DefaultColumnFamily(), rocksdb::Slice(""), rocksdb::Slice("\x80", 1)));
}

// Stores the layout version and the partition count on first open; refuses a store made otherwise.
result<unit> check_meta(rocksdb::DB& db, std::uint32_t partitions) {
    std::pair<std::string_view, std::uint32_t> expected[] = {{keys::meta_layout, layout_version},
                                                             {keys::meta_partitions, partitions}};
    for (auto [name, want] : expected) {
        std::string value;
        rocksdb::Status s = db.Get(rocksdb::ReadOptions(), keys::meta_key(name), &value);
        if (s.IsNotFound()) {
            s = db.Put(rocksdb::WriteOptions(), keys::meta_key(name), encode_u32(want));
            if (!s.ok()) return io_error(s);
            continue;
        }
        if (!s.ok()) return io_error(s);
        auto have = decode_u32(value);
        if (!have) return error{errc::corrupt, "read models: undecodable meta value " + std::string(name)};
        if (*have != want)
            return error{errc::invalid, "read models: the store has " + std::string(name) + " " + std::to_string(*have) +
                                            ", expected " + std::to_string(want) +
                                            " (remove the directory to rebuild it from the event log)"};
    }
    return unit{};
}

}  // namespace

result<std::unique_ptr<read_models>> read_models::open(const options& o) {
    if (o.directory.empty() || o.partitions < 1 || o.partitions > partitions_max)
        return error{errc::invalid, "read models: a directory and 1.." + std::to_string(partitions_max) +
                                        " partitions are required"};
    std::error_code ec;
    std::filesystem::create_directories(o.directory, ec);
    if (ec) return error{errc::io, "read models: cannot create " + o.directory + ": " + ec.message()};

    rocksdb::Options db_options;
    db_options.info_log = rocksdb_logger_for(o.directory);
    db_options.create_if_missing = true;
    // Everything queries read is in the image; the memtable only stages writes until a flush, so a
    // smaller one than RocksDB's 64 MiB costs a few more flushes and saves memory.
    db_options.write_buffer_size = models_write_buffer_bytes;
    // Most queries are point lookups, many of absent keys (no balance yet, no outcome yet).
    rocksdb::BlockBasedTableOptions table_options;
    table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(bloom_bits_per_key));
    db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(db_options, o.directory, &raw);
    if (!s.ok()) return io_error(s);
    std::unique_ptr<rocksdb::DB> db(raw);
    if (o.rebuild_other_layout) {
        auto layout = stored_meta(*db, keys::meta_layout);
        if (!layout) return layout.err();
        auto partitions = stored_meta(*db, keys::meta_partitions);
        if (!partitions) return partitions.err();
        // Another partition count is refused below whatever the layout: the log has that count too.
        if (*layout && **layout != layout_version && (!*partitions || **partitions == o.partitions)) {
            if (auto r = empty_store(*db); !r) return r.err();
        }
    }
    if (auto r = check_meta(*db, o.partitions); !r) return r.err();

    auto models = std::make_unique<rocks_read_models>(o, std::move(db));
    if (auto r = models->load(); !r) return r.err();
    return std::unique_ptr<read_models>(std::move(models));
}

rocks_read_models::rocks_read_models(const options& o, std::unique_ptr<rocksdb::DB> db)
    : options_(o),
      db_(std::move(db)),
      applied_(std::make_unique<std::atomic<std::uint64_t>[]>(o.partitions)),
      image_(o.partitions) {}

rocks_read_models::~rocks_read_models() {
    // Flush and Close report what deleting the database would swallow; nothing is lost either way:
    // the read models rebuild from the event log from the last batch boundary that reached disk.
    if (!options_.sync) ignore_error(to_result(db_->Flush(rocksdb::FlushOptions())));
    ignore_error(to_result(db_->Close()));
}

std::optional<std::string> rocks_read_models::read(const std::string& key) const {
    auto owner = image_.owner(key);
    assert(owner);
    const image::shard& shard = image_.at(*owner);
    std::shared_lock lock(shard.mutex);
    auto value = shard.find(key);
    if (!value) return std::nullopt;
    return std::string(*value);
}

result<std::optional<std::string>> rocks_read_models::read_store(const std::string& key) const {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &value);
    if (s.IsNotFound()) return std::optional<std::string>{};
    if (!s.ok()) return io_error(s);
    return std::optional<std::string>(std::move(value));
}

const image::shard& rocks_read_models::shard_of(concert_id c) const {
    return image_.at(partition_of(c, options_.partitions));
}

// Every key the image holds, into the shard of the partition that writes it: one pass over the
// store, at open.
result<unit> rocks_read_models::load_image() {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
        std::string_view key(it->key().data(), it->key().size());
        if (!image::holds(key[0])) {
            // Skip the kinds the image does not hold in one seek, not key by key.
            if (key[0] == keys::history || key[0] == keys::seat_history || key[0] == keys::outcome)
                it->Seek(keys::prefix_end(std::string(1, key[0])));
            if (!it->Valid()) break;
            key = std::string_view(it->key().data(), it->key().size());
            if (!image::holds(key[0])) continue;
        }
        auto owner = image_.owner(key);
        if (!owner) return error{errc::corrupt, "read models: a key of no partition (tag " + std::string(1, key[0]) + ")"};
        image_.at(*owner).set(std::string(key), std::string(it->value().data(), it->value().size()));
    }
    if (!it->status().ok()) return io_error(it->status());
    return unit{};
}

result<unit> rocks_read_models::load() {
    for (std::uint32_t p = 0; p < options_.partitions; ++p) {
        std::string value;
        rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), keys::applied_key(p), &value);
        if (s.IsNotFound()) continue;
        if (!s.ok()) return io_error(s);
        auto next = decode_u64(value);
        if (!next) return error{errc::corrupt, "read models: undecodable applied sequence"};
        applied_[p].store(*next, std::memory_order_relaxed);
    }
    if (auto r = load_image(); !r) return r;
    if (auto r = load_concerts(); !r) return r;
    if (auto r = load_seats(); !r) return r;
    if (auto r = load_counters(); !r) return r;
    return load_admission_rates();
}

// Each concert's admission rate, from the admissions its timeline counted (the fine buckets of the
// last window), so that the wait estimate survives a restart.
result<unit> rocks_read_models::load_admission_rates() {
    std::shared_lock lock(concerts_mutex_);
    for (const auto& [id, concert] : concerts_) {
        std::vector<std::pair<time_ms, std::uint64_t>> buckets;
        bool corrupt = false;
        shard_of(id).scan(keys::timeline_prefix(id), [&](std::string_view k, std::string_view v) {
            auto record = decode_timeline_record(v);
            if (k.size() != keys::timeline_key_size || !record) {
                corrupt = true;
                return false;
            }
            if (record->queue_admitted > 0) buckets.emplace_back(keys::key_reader(k).i64(9), record->queue_admitted);
            return true;
        });
        if (corrupt) return error{errc::corrupt, "read models: an undecodable timeline bucket"};
        concert->admissions->seed(buckets, timeline_bucket_ms);
    }
    return unit{};
}

// The concert's catalog and controls, as the image holds them, published as a new mirror (one
// that replaces the concert's mirror when `replace`, else a concert new to the mirror).
result<unit> rocks_read_models::publish_concert(concert_id c, bool replace) {
    auto value = read(keys::concert_key(c));
    auto created = value ? decode_event(*value) : result<event>(error{errc::corrupt, "missing"});
    if (!created || created->type() != event_type::concert_created)
        return error{errc::corrupt, "read models: undecodable concert"};
    const create_concert& config = std::get<concert_created>(created->body).concert;
    if (config.concert != c || !concert_mirror::fits(config))
        return error{errc::corrupt, "read models: a concert the mirror cannot hold"};
    concert_controls controls;
    if (auto raw = read(keys::concert_state_key(c))) {
        auto state = decode_concert_state(*raw);
        if (!state) return error{errc::corrupt, "read models: undecodable concert state"};
        controls = {state->revision, state->paused, state->paused_at, state->phase, state->phase_open, state->expired_below};
    }
    std::shared_ptr<concert_mirror> previous = replace ? find_concert(c) : nullptr;
    if (replace && !previous) return error{errc::corrupt, "read models: a change of an unknown concert"};
    auto mirror = std::make_shared<concert_mirror>(config, created->at, controls, previous.get());
    std::unique_lock lock(concerts_mutex_);
    if (replace) {
        concerts_[c] = std::move(mirror);
        return unit{};
    }
    auto [it, inserted] = concerts_.emplace(c, std::move(mirror));
    if (!inserted) return error{errc::corrupt, "read models: a concert published twice"};
    return unit{};
}

// The mirror is built from the image, which load_image filled in its one pass over the store.
result<unit> rocks_read_models::load_concerts() {
    result<unit> failed = unit{};
    for (std::uint32_t p = 0; p < image_.partitions() && failed; ++p) {
        image_.at(p).scan(keys::tag_prefix(keys::concert), [&](std::string_view k, std::string_view) {
            if (k.size() != keys::concert_key_size) {
                failed = error{errc::corrupt, "read models: undecodable concert"};
            } else {
                failed = publish_concert(concert_id{keys::key_reader(k).u64(1)}, false);
            }
            return failed.ok();
        });
    }
    return failed;
}

// Sets every HELD or SOLD seat (absent keys are AVAILABLE, the mirror's initial state).
result<unit> rocks_read_models::load_seats() {
    std::optional<error> failed;
    for (std::uint32_t p = 0; p < image_.partitions() && !failed; ++p) {
        image_.at(p).points.for_each([&](std::string_view k, std::string_view v) {
            if (failed || k[0] != keys::seat) return;
            keys::key_reader key(k);
            if (k.size() != keys::seat_key_size || v.size() != 1 || v[0] < 1 || v[0] > 3) {
                failed = error{errc::corrupt, "read models: undecodable seat"};
                return;
            }
            auto concert = find_concert(concert_id{key.u64(1)});
            date_mirror* date = concert ? concert->find_date(key.i32(9)) : nullptr;
            const std::uint32_t seat = key.u32(13);
            if (date == nullptr || seat < 1 || seat > date->seats()) {
                failed = error{errc::corrupt, "read models: a seat of an unknown concert or date"};
                return;
            }
            date->set_status(seat, static_cast<seat_status>(v[0]));
        });
    }
    if (failed) return *failed;
    return unit{};
}

// Sets the mirror's date and queue counters, and checks the seat counters against the seats.
result<unit> rocks_read_models::load_counters() {
    std::shared_lock lock(concerts_mutex_);
    for (const auto& [id, concert] : concerts_) {
        for (const auto& date : concert->dates) {
            auto raw = read(keys::date_key(id, date->date()));
            auto record = raw ? decode_date_record(*raw) : std::nullopt;
            if (!record || record->seats != date->seats())
                return error{errc::corrupt, "read models: a missing or undecodable date record"};
            date_mirror::counts counted;
            for (std::uint32_t seat = 1; seat <= date->seats(); ++seat) {
                seat_status s = date->status(seat);
                counted.held += s == seat_status::held ? 1 : 0;
                counted.sold += s == seat_status::sold ? 1 : 0;
                counted.blocked += s == seat_status::blocked ? 1 : 0;
            }
            if (counted.held != record->held || counted.sold != record->sold || counted.blocked != record->blocked)
                return error{errc::corrupt, "read models: seat counters disagree with the seats"};
            date->store_counts(counted);
        }
        auto raw = read(keys::queue_counters_key(id));
        auto queue = raw ? decode_queue_counters(*raw) : std::nullopt;
        if (!queue) return error{errc::corrupt, "read models: missing or undecodable queue counters"};
        concert->waiting.store(queue->waiting, std::memory_order_relaxed);
        concert->active.store(queue->active, std::memory_order_relaxed);
    }
    return unit{};
}

std::uint64_t rocks_read_models::applied_sequence(std::uint32_t partition) const {
    assert(partition < options_.partitions);
    return applied_[partition].load(std::memory_order_acquire);
}

result<unit> rocks_read_models::resume() { return to_result(db_->Resume()); }

result<unit> rocks_read_models::apply(std::uint32_t partition, std::span<const event> events) {
    if (partition >= options_.partitions) return error{errc::invalid, "read models: no such partition"};
    const std::uint64_t applied = applied_[partition].load(std::memory_order_relaxed);
    // Validate first: drop what was applied already, then demand consecutive sequences.
    std::size_t first = 0;
    while (first < events.size() && events[first].sequence < applied) ++first;
    std::span<const event> fresh = events.subspan(first);
    for (std::size_t i = 0; i < fresh.size(); ++i) {
        if (fresh[i].sequence != applied + i)
            return error{errc::invalid, "read models: partition " + std::to_string(partition) + " expects event " +
                                            std::to_string(applied + i) + ", got " +
                                            std::to_string(fresh[i].sequence)};
    }
    if (fresh.empty()) return unit{};

    image::shard& shard = image_.at(partition);
    staged_batch staged(shard);
    if (auto r = stage_events(staged, fresh); !r) return r;
    const std::uint64_t next = applied + fresh.size();
    rocksdb::WriteBatch batch;
    for (const auto& [key, value] : staged.changes()) {
        rocksdb::Status s = value ? batch.Put(key, *value) : batch.Delete(key);
        if (!s.ok()) return io_error(s);
    }
    if (rocksdb::Status s = batch.Put(keys::applied_key(partition), encode_u64(next)); !s.ok()) return io_error(s);
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    // Unsynced read models skip RocksDB's write-ahead log too: each batch carries its applied
    // sequence and RocksDB flushes the memtable as a whole, so after a crash the store is some
    // earlier batch boundary, and the projector replays the event log from there. Close flushes.
    wo.disableWAL = !options_.sync;
    if (rocksdb::Status s = db_->Write(wo, &batch); !s.ok()) return io_error(s);

    // The batch is durable; make it visible in the image and the mirror, then advance the sequence
    // readers see.
    {
        std::unique_lock lock(shard.mutex);
        for (const auto& [key, value] : staged.changes()) {
            if (image::holds(key[0])) shard.set(key, value);
        }
    }
    result<unit> published = publish(staged);
    // Everything published was checked by stage_events; a failure is a bug in this module.
    assert(published.ok());
    for (const event& e : fresh) {
        if (const auto* admitted = std::get_if<queue_admitted>(&e.body)) {
            if (auto concert = find_concert(admitted->concert)) concert->admissions->record(e.at);
        }
    }
    applied_[partition].store(next, std::memory_order_release);
    return published;
}

result<unit> rocks_read_models::publish(const staged_batch& staged) {
    // Concerts first: seats and counters of this batch may belong to a concert it created or to
    // a date it added. A concert changed by the organizer is published again, once.
    std::set<concert_id> changed;
    for (const auto& [key, value] : staged.changes()) {
        if (key[0] != keys::concert && key[0] != keys::concert_state) continue;
        if (!value) return error{errc::corrupt, "read models: a concert was deleted"};
        changed.insert(concert_id{keys::key_reader(key).u64(1)});
    }
    for (concert_id c : changed) {
        if (auto r = publish_concert(c, find_concert(c) != nullptr); !r) return r;
    }
    std::shared_ptr<concert_mirror> concert;
    for (const auto& [key, value] : staged.changes()) {
        keys::key_reader k(key);
        char tag = k.tag();
        if (tag != keys::seat && tag != keys::date && tag != keys::queue_counters && tag != keys::zone) continue;
        concert_id c{k.u64(1)};
        if (!concert || concert->config.concert != c) concert = find_concert(c);
        if (!concert) return error{errc::corrupt, "read models: publishing an unknown concert"};
        // Date records and queue counters are never deleted; seats are, when they become AVAILABLE.
        if (!value && tag != keys::seat) return error{errc::corrupt, "read models: a counter was deleted"};
        if (tag == keys::queue_counters) {
            auto q = decode_queue_counters(*value);
            if (!q) return error{errc::corrupt, "read models: undecodable queue counters"};
            concert->waiting.store(q->waiting, std::memory_order_relaxed);
            concert->active.store(q->active, std::memory_order_relaxed);
            continue;
        }
        date_mirror* date = concert->find_date(k.i32(9));
        if (date == nullptr) return error{errc::corrupt, "read models: publishing an unknown date"};
        if (tag == keys::zone) {
            date->advance_version();  // the seat map shows a zone's places left
        } else if (tag == keys::seat) {
            date->set_status(k.u32(13), value ? static_cast<seat_status>((*value)[0]) : seat_status::available);
        } else {
            auto d = decode_date_record(*value);
            if (!d) return error{errc::corrupt, "read models: undecodable date record"};
            date->store_counts({d->held, d->sold, d->blocked});
        }
    }
    return unit{};
}

std::shared_ptr<concert_mirror> rocks_read_models::find_concert(concert_id c) const {
    std::shared_lock lock(concerts_mutex_);
    auto it = concerts_.find(c);
    return it == concerts_.end() ? nullptr : it->second;
}

}  // namespace encore::projections
