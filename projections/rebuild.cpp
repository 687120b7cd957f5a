// The in-memory rebuild of the read models and its key-by-key comparison with a stored store.

#include "projections/rebuild.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "events/ids.hpp"
#include "projections/image.hpp"
#include "projections/keys.hpp"
#include "projections/records.hpp"
#include "projections/store.hpp"

namespace encore::projections {
namespace {

// Values shown in a difference are cut to this many bytes (as hex).
constexpr std::size_t shown_value_bytes_max = 48;
// Keys compared between two calls of the progress callback.
constexpr std::uint64_t progress_every_keys = 1u << 16;
// The iterator reads ahead this much: the comparison reads the whole store once, in order.
constexpr std::size_t compare_readahead_bytes = 4u << 20;

std::string hex(std::string_view bytes, std::size_t max = SIZE_MAX) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
        const auto b = static_cast<std::uint8_t>(bytes[i]);
        out += digits[b >> 4];
        out += digits[b & 0xF];
    }
    if (bytes.size() > max) out += "...";
    return out;
}

std::string values_differ(std::string_view stored, std::string_view rebuilt) {
    return "the stored value differs from the rebuild: stored " + hex(stored, shown_value_bytes_max) + ", rebuilt " +
           hex(rebuilt, shown_value_bytes_max);
}

}  // namespace

std::string printable_key(std::string_view key) {
    if (key.empty()) return "(empty)";
    return std::string(1, key[0]) + " " + hex(key.substr(1));
}

// ---- the rebuild --------------------------------------------------------------------------------

struct rebuilt_partition::state {
    std::uint32_t partition = 0;
    std::uint64_t limit = 0;
    std::uint64_t applied = 0;
    image::shard shard;  // the kinds stage_events reads back
    // Histories and outcomes, which stage_events only writes: appended as they come (a hash map of a
    // million keys would make every other lookup a cache miss), sorted by `finish`, the last write
    // of a key kept, then found by binary search.
    std::vector<std::pair<std::string, std::string>> written;
    bool finished = false;

    const std::string* find(const std::string& key) const {
        if (image::holds(key[0])) return shard.find(key);
        assert(finished);
        auto it = std::lower_bound(written.begin(), written.end(), key,
                                   [](const auto& entry, const std::string& k) { return entry.first < k; });
        return it != written.end() && it->first == key ? &it->second : nullptr;
    }
};

rebuilt_partition::rebuilt_partition(std::uint32_t partition, std::uint64_t limit) : state_(std::make_unique<state>()) {
    state_->partition = partition;
    state_->limit = limit;
}

rebuilt_partition::~rebuilt_partition() = default;

result<unit> rebuilt_partition::apply(std::span<const event> events) {
    state& s = *state_;
    std::size_t count = 0;
    while (count < events.size() && s.applied + count < s.limit) {
        if (events[count].sequence != s.applied + count)
            return error{errc::invalid, "rebuild: partition " + std::to_string(s.partition) + " expects event " +
                                            std::to_string(s.applied + count) + ", got " +
                                            std::to_string(events[count].sequence)};
        ++count;
    }
    if (count == 0) return unit{};
    staged_batch staged(s.shard);
    if (auto r = stage_events(staged, events.first(count)); !r) return r;
    for (const auto& [key, value] : staged.changes()) {
        if (image::holds(key[0])) s.shard.set(key, value);
        else if (value) s.written.emplace_back(key, *value);
        else return error{errc::corrupt, "rebuild: a history entry or an outcome deleted"};
    }
    s.applied += count;
    return unit{};
}

std::uint64_t rebuilt_partition::applied() const { return state_->applied; }
std::uint32_t rebuilt_partition::partition() const { return state_->partition; }
std::size_t rebuilt_partition::size() const {
    return state_->shard.points.size() + state_->shard.ordered.size() + state_->written.size();
}

void rebuilt_partition::finish() {
    state& s = *state_;
    assert(!s.finished);
    std::stable_sort(s.written.begin(), s.written.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    // Of equal keys, the last written (the last of a stable sort) wins.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < s.written.size(); ++i) {
        if (i + 1 < s.written.size() && s.written[i + 1].first == s.written[i].first) continue;
        if (kept != i) s.written[kept] = std::move(s.written[i]);
        ++kept;
    }
    s.written.resize(kept);
    s.finished = true;
}

// ---- the stored store ---------------------------------------------------------------------------

struct stored_models::state {
    std::unique_ptr<rocksdb::DB> db;
    std::uint32_t partitions = 0;
    std::vector<std::uint64_t> applied;
};

stored_models::stored_models(std::unique_ptr<state> s) : state_(std::move(s)) {}
stored_models::~stored_models() = default;

std::uint64_t stored_models::applied(std::uint32_t partition) const {
    assert(partition < state_->partitions);
    return state_->applied[partition];
}

result<std::unique_ptr<stored_models>> stored_models::open(const std::string& directory, std::uint32_t partitions) {
    std::error_code ec;
    if (!std::filesystem::is_directory(directory, ec)) return error{errc::io, "read models: no store in " + directory};
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::OpenForReadOnly(rocksdb::Options(), directory, &raw);
    if (!s.ok()) return io_error(s);
    auto st = std::make_unique<state>();
    st->db.reset(raw);
    st->partitions = partitions;
    std::string value;
    s = st->db->Get(rocksdb::ReadOptions(), keys::meta_key(keys::meta_partitions), &value);
    if (!s.ok() && !s.IsNotFound()) return io_error(s);
    if (s.ok()) {
        auto have = decode_u32(value);
        if (!have) return error{errc::corrupt, "read models: undecodable partition count"};
        if (*have != partitions)
            return error{errc::invalid, "read models: the store has " + std::to_string(*have) + " partitions, the log " +
                                            std::to_string(partitions)};
    }
    st->applied.assign(partitions, 0);
    for (std::uint32_t p = 0; p < partitions; ++p) {
        s = st->db->Get(rocksdb::ReadOptions(), keys::applied_key(p), &value);
        if (s.IsNotFound()) continue;
        if (!s.ok()) return io_error(s);
        auto next = decode_u64(value);
        if (!next) return error{errc::corrupt, "read models: undecodable applied sequence of partition " + std::to_string(p)};
        st->applied[p] = *next;
    }
    return std::unique_ptr<stored_models>(new stored_models(std::move(st)));
}

// ---- the comparison -----------------------------------------------------------------------------

namespace {

// One range of keys [lower, upper) read by one thread; an empty upper is the end of the store.
struct key_range {
    std::string lower, upper;
};

// Ranges that cover every possible key: one per kind, and the outcomes one partition at a time
// (there is about one per request, the largest kind).
std::vector<key_range> ranges_of(std::uint32_t partitions) {
    const char tags[] = {keys::meta,        keys::applied,     keys::concert,     keys::date,
                         keys::seat,        keys::user,        keys::reservation, keys::user_reservation,
                         keys::balance,     keys::history,     keys::queue_entry, keys::queue_counters,
                         keys::wait_bucket, keys::timeline,    keys::seat_history, keys::outcome};
    std::vector<std::string> bounds;
    for (char t : tags) {
        bounds.push_back(keys::tag_prefix(t));
        bounds.push_back(keys::prefix_end(keys::tag_prefix(t)));
    }
    for (std::uint32_t p = 0; p < partitions; ++p) bounds.push_back(keys::key_builder(keys::outcome).u32(p));
    std::sort(bounds.begin(), bounds.end());
    bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
    std::vector<key_range> ranges;
    std::string lower;
    for (const std::string& b : bounds) {
        ranges.push_back({lower, b});
        lower = b;
    }
    ranges.push_back({lower, ""});
    // The outcomes first: the longest ranges go out before the short ones.
    std::stable_partition(ranges.begin(), ranges.end(),
                          [](const key_range& r) { return !r.lower.empty() && r.lower[0] == keys::outcome; });
    return ranges;
}

// What the comparing threads share.
class comparison {
public:
    comparison(const stored_models::state& stored, std::span<const rebuilt_partition* const> rebuilt,
               const std::function<void(std::uint64_t)>& progress)
        : stored_(stored), rebuilt_(rebuilt), progress_(progress), image_(stored.partitions),
          present_(stored.partitions) {}

    result<unit> run(const key_range& range);
    result<unit> find_missing();
    std::vector<model_difference> differences() const;

private:
    // The partition that writes `key`; nullopt for a key no partition writes.
    std::optional<std::uint32_t> owner(std::string_view key) const;
    void check(std::string_view key, std::string_view value);
    void differ(std::uint32_t partition, std::string_view key, std::string message);

    const stored_models::state& stored_;
    std::span<const rebuilt_partition* const> rebuilt_;
    const std::function<void(std::uint64_t)>& progress_;
    const image image_;  // for `owner` only
    std::vector<std::atomic<std::uint64_t>> present_;  // per partition: stored keys the rebuild has too
    std::atomic<std::uint64_t> compared_{0};
    mutable std::mutex mutex_;
    std::map<std::uint32_t, model_difference> first_;  // per partition, the smallest differing key
};

std::optional<std::uint32_t> comparison::owner(std::string_view key) const {
    if (key.empty()) return std::nullopt;
    keys::key_reader k(key);
    switch (key[0]) {
    case keys::history:
        if (key.size() != 1 + 8 + 8) return std::nullopt;
        return partition_of(user_id{k.u64(1)}, stored_.partitions);
    case keys::seat_history:
        if (key.size() != keys::seat_history_key_size) return std::nullopt;
        return partition_of(concert_id{k.u64(1)}, stored_.partitions);
    case keys::outcome:
    case keys::applied: {
        if (key.size() != (key[0] == keys::outcome ? 1 + 4 + 8 : 1 + 4)) return std::nullopt;
        const std::uint32_t p = k.u32(1);
        return p < stored_.partitions ? std::optional(p) : std::nullopt;
    }
    default:
        return image_.owner(key);
    }
}

void comparison::differ(std::uint32_t partition, std::string_view key, std::string message) {
    std::lock_guard lock(mutex_);
    auto it = first_.find(partition);
    const std::string printable = printable_key(key);
    if (it != first_.end() && it->second.key <= printable) return;
    first_[partition] = {partition, printable, std::move(message)};
}

void comparison::check(std::string_view key, std::string_view value) {
    if (!key.empty() && key[0] == keys::meta) {
        const std::string_view name = key.substr(1);
        std::optional<std::string> expected;
        if (name == keys::meta_layout) expected = encode_u32(layout_version);
        if (name == keys::meta_partitions) expected = encode_u32(stored_.partitions);
        if (!expected) differ(0, key, "a meta key the read models do not write");
        else if (*expected != value) differ(0, key, values_differ(value, *expected));
        return;
    }
    const std::optional<std::uint32_t> p = owner(key);
    if (!p) return differ(0, key, "a key of no kind or partition the read models write");
    const rebuilt_partition* rebuilt = rebuilt_[*p];
    if (rebuilt == nullptr) return;
    if (key[0] == keys::applied) {
        const std::string expected = encode_u64(rebuilt->applied());
        if (expected != value) {
            auto stored = decode_u64(value);
            differ(*p, key, "the read models have applied " + (stored ? std::to_string(*stored) : hex(value)) +
                                " events, the replay produced " + std::to_string(rebuilt->applied()));
        }
        return;
    }
    const std::string whole(key);
    std::uint32_t writer = *p;
    const std::string* expected = rebuilt->contents().find(whole);
    // An outcome is keyed by the request's partition but written by the partition that answered
    // it, usually the same one.
    for (std::uint32_t other = 0; expected == nullptr && key[0] == keys::outcome && other < rebuilt_.size(); ++other) {
        if (other == *p || rebuilt_[other] == nullptr) continue;
        expected = rebuilt_[other]->contents().find(whole);
        writer = other;
    }
    if (expected == nullptr) return differ(*p, key, "stored, but the replayed events do not write it");
    present_[writer].fetch_add(1, std::memory_order_relaxed);
    if (*expected != value) differ(*p, key, values_differ(value, *expected));
}

result<unit> comparison::run(const key_range& range) {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    ro.readahead_size = compare_readahead_bytes;
    rocksdb::Slice upper(range.upper);
    if (!range.upper.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(stored_.db->NewIterator(ro));
    std::uint64_t since_progress = 0;
    for (it->Seek(range.lower); it->Valid(); it->Next()) {
        check(std::string_view(it->key().data(), it->key().size()),
              std::string_view(it->value().data(), it->value().size()));
        if (++since_progress == progress_every_keys) {
            const std::uint64_t total = compared_.fetch_add(since_progress) + since_progress;
            since_progress = 0;
            if (progress_) progress_(total);
        }
    }
    compared_.fetch_add(since_progress);
    if (!it->status().ok()) return io_error(it->status());
    return unit{};
}

// A partition whose rebuild holds keys the store lacks: the smallest of them. Only on a mismatch.
result<unit> comparison::find_missing() {
    for (std::uint32_t p = 0; p < rebuilt_.size(); ++p) {
        const rebuilt_partition* rebuilt = rebuilt_[p];
        if (rebuilt == nullptr || present_[p].load() == rebuilt->size()) continue;
        std::optional<std::string> smallest;
        auto probe = [&](const std::string& key) -> result<unit> {
            if (smallest && *smallest <= key) return unit{};
            std::string value;
            rocksdb::Status s = stored_.db->Get(rocksdb::ReadOptions(), key, &value);
            if (s.IsNotFound()) smallest = key;
            else if (!s.ok()) return io_error(s);
            return unit{};
        };
        for (const auto& [key, value] : rebuilt->contents().shard.ordered)
            if (auto r = probe(key); !r) return r;
        for (const auto& [key, value] : rebuilt->contents().shard.points)
            if (auto r = probe(key); !r) return r;
        for (const auto& [key, value] : rebuilt->contents().written)
            if (auto r = probe(key); !r) return r;
        if (smallest) differ(p, *smallest, "the replayed events write it, but the store does not hold it");
    }
    return unit{};
}

std::vector<model_difference> comparison::differences() const {
    std::lock_guard lock(mutex_);
    std::vector<model_difference> out;
    for (const auto& [p, d] : first_) out.push_back(d);
    return out;
}

}  // namespace

result<std::vector<model_difference>> compare(const stored_models& stored,
                                              std::span<const rebuilt_partition* const> rebuilt, unsigned threads,
                                              const std::function<void(std::uint64_t)>& progress) {
    const stored_models::state& s = stored.contents();
    assert(rebuilt.size() == s.partitions);
    comparison work(s, rebuilt, progress);
    const std::vector<key_range> ranges = ranges_of(s.partitions);
    std::atomic<std::size_t> next{0};
    std::mutex failed_mutex;
    std::optional<error> failed;
    auto worker = [&] {
        for (std::size_t i = next++; i < ranges.size(); i = next++) {
            if (auto r = work.run(ranges[i]); !r) {
                std::lock_guard lock(failed_mutex);
                failed = r.err();
                return;
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < std::max(1u, threads); ++t) pool.emplace_back(worker);
    worker();
    for (std::thread& t : pool) t.join();
    if (failed) return *failed;
    if (auto r = work.find_missing(); !r) return r.err();
    return work.differences();
}

}  // namespace encore::projections
