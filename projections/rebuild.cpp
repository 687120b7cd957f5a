// The in-memory rebuild of the read models and its key-by-key comparison with a stored store.

#include "projections/rebuild.hpp"

#include "events/text.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/unordered/unordered_flat_map.hpp>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "events/codec.hpp"
#include "events/ids.hpp"
#include "projections/image.hpp"
#include "projections/keys.hpp"
#include "projections/records.hpp"
#include "projections/store.hpp"

namespace encore::projections {
namespace {

// Outcomes a rebuild makes room for at once, at most (32 bytes each).
constexpr std::uint64_t outcomes_reserved_max = 1u << 24;
// Values shown in a difference are cut to this many bytes (as hex).
constexpr std::size_t shown_value_bytes_max = 48;
// Keys compared between two calls of the progress callback.
constexpr std::uint64_t progress_every_keys = 1u << 16;


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

namespace {

// Keys found by their bytes, without building a std::string for each lookup.
struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};
struct key_equal {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

// The kinds stage_events only writes, besides outcomes: each kept in a vector of its own.
constexpr char written_kinds[] = {keys::history, keys::seat_history, keys::change};
constexpr std::size_t written_index(char tag) {
    for (std::size_t i = 0; i < std::size(written_kinds); ++i)
        if (written_kinds[i] == tag) return i;
    return std::size(written_kinds);
}
// Search hints (see find_from): one per written kind, then one for the outcomes.
constexpr std::size_t outcome_hint = std::size(written_kinds);
using search_hints = std::array<std::size_t, std::size(written_kinds) + 1>;

// A history entry, by its store key. Its order: the key's 16 bytes after the tag as two
// big-endian numbers (zeroes past its end), which sort the keys as their bytes do, with the bytes
// compared only between keys whose 16 bytes are the same.
struct entry_order {
    std::array<std::uint64_t, 2> words{};
    std::string_view key;

    static std::array<std::uint64_t, 2> words_of(std::string_view k) {
        std::array<std::uint64_t, 2> w{};
        for (std::size_t i = 0; i < 16 && i + 1 < k.size(); ++i)
            w[i / 8] |= std::uint64_t{static_cast<std::uint8_t>(k[i + 1])} << (8 * (7 - i % 8));
        return w;
    }
    explicit entry_order(std::string_view k) : words(words_of(k)), key(k) {}
    entry_order(const std::array<std::uint64_t, 2>& w, std::string_view k) : words(w), key(k) {}
    bool operator<(const entry_order& o) const { return words != o.words ? words < o.words : key < o.key; }
    bool operator==(const entry_order& o) const { return words == o.words && key == o.key; }
};
struct entry {
    entry() = default;
    entry(std::string k, std::string v) : first(std::move(k)), second(std::move(v)), words(entry_order::words_of(first)) {}
    std::string first, second;  // key, value
    std::array<std::uint64_t, 2> words{};  // of `first`
};
// An outcome: the request and the encoded event that answers it, kept in the rebuild's arena.
struct outcome_entry {
    log_position request;
    std::string_view value;
};

entry_order key_of(const entry& e) { return {e.words, e.first}; }
log_position key_of(const outcome_entry& e) { return e.request; }

// Sorts by key, keeping of equal keys the last written (the entries come in write order).
//
// Outcomes come nearly in key order: a request's answer mostly follows it at once, and the few
// answered later (a payment, after its wallet's reply) or answering another partition's request
// fall behind. So the entries below the largest key seen before them, few, are taken aside,
// sorted and merged back, which costs a pass rather than a sort. Of equal keys, one taken aside
// was written after the one left in place (nothing at or below it is left in place after it), and
// the merge puts it second.
template <class Entry>
void sort_last_wins(std::vector<Entry>& entries) {
    const auto less = [](const Entry& a, const Entry& b) { return key_of(a) < key_of(b); };
    std::size_t behind = 0;
    for (std::size_t i = 1, largest = 0; i < entries.size(); ++i) {
        if (less(entries[i], entries[largest])) ++behind;
        else largest = i;
    }
    if (behind > 0 && behind <= entries.size() / 8) {
        // In place: the entries left in order move up over the gaps, the late ones go aside.
        std::vector<Entry> aside;
        aside.reserve(behind);
        std::size_t in_order = 0;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            if (in_order > 0 && less(entries[i], entries[in_order - 1])) aside.push_back(std::move(entries[i]));
            else if (in_order++ != i) entries[in_order - 1] = std::move(entries[i]);
        }
        std::stable_sort(aside.begin(), aside.end(), less);
        // Merged from the back, into the places the late ones left free at the end; of equal
        // keys the late one goes last.
        std::size_t from = in_order, next = entries.size();
        for (std::size_t a = aside.size(); a > 0;) {
            if (from > 0 && less(aside[a - 1], entries[from - 1])) entries[--next] = std::move(entries[--from]);
            else entries[--next] = std::move(aside[--a]);
        }
    } else if (behind > 0) {
        std::stable_sort(entries.begin(), entries.end(), less);
    }
    std::size_t kept = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (i + 1 < entries.size() && key_of(entries[i + 1]) == key_of(entries[i])) continue;
        if (kept != i) entries[kept] = std::move(entries[i]);
        ++kept;
    }
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(kept), entries.end());
}

// The entry of `key` in ascending `entries`, searched from `hint` onwards when the key lies past
// it (the comparison looks keys up in ascending order: each lookup gallops from the last one)
// and from the start otherwise. `hint` is left at the key's position.
template <class Entry, class Key>
const Entry* find_from(const std::vector<Entry>& entries, const Key& key, std::size_t& hint) {
    std::size_t lo = hint;
    if (lo > entries.size() || (lo > 0 && !(key_of(entries[lo - 1]) < key))) lo = 0;
    // Every entry below lo is below the key; find hi with entries[hi] at or above it.
    std::size_t hi = lo, step = 1;
    while (hi < entries.size() && key_of(entries[hi]) < key) {
        lo = hi + 1;
        hi = lo + step;
        step *= 2;
    }
    hi = std::min(hi, entries.size());
    auto it = std::lower_bound(entries.begin() + static_cast<std::ptrdiff_t>(lo),
                               entries.begin() + static_cast<std::ptrdiff_t>(hi), key,
                               [](const Entry& e, const Key& k) { return key_of(e) < k; });
    hint = static_cast<std::size_t>(it - entries.begin());
    return it != entries.end() && key_of(*it) == key ? &*it : nullptr;
}

// Bytes kept as long as the rebuild, in blocks that never move: views into them stay valid, and a
// million small values cost no allocation each.
class byte_arena {
public:
    std::string_view keep(std::string_view bytes) {
        if (blocks_.empty() || block_size_ - used_ < bytes.size()) {
            block_size_ = std::max(block_bytes, bytes.size());
            blocks_.push_back(std::make_unique_for_overwrite<char[]>(block_size_));
            used_ = 0;
        }
        char* at = blocks_.back().get() + used_;
        std::copy(bytes.begin(), bytes.end(), at);
        used_ += bytes.size();
        return {at, bytes.size()};
    }

private:
    static constexpr std::size_t block_bytes = 1u << 20;
    std::vector<std::unique_ptr<char[]>> blocks_;
    std::size_t block_size_ = 0, used_ = 0;
};

}  // namespace

struct rebuilt_partition::state {
    std::uint32_t partition = 0;
    std::uint64_t limit = 0;
    std::uint64_t applied = 0;
    // The kinds stage_events reads back, in one flat hash map (the rebuild reads them by key only).
    boost::unordered_flat_map<std::string, std::string, key_hash, key_equal> held;
    // Histories and outcomes, which stage_events only writes: appended as they come (a hash map of a
    // million keys would make every other lookup a cache miss), sorted by `finish`, the last write
    // of a key kept, then found by search. Outcomes, about one per request, the most of all keys,
    // are kept by request, their values in `values`.
    std::array<std::vector<entry>, std::size(written_kinds)> written;
    std::vector<outcome_entry> outcomes;
    byte_arena values;
    bool finished = false;

    // `hints` speed up lookups in ascending order (see find_from).
    std::optional<std::string_view> find(std::string_view key, search_hints& hints) const {
        if (image::holds(key[0])) {
            auto it = held.find(key);
            if (it == held.end()) return std::nullopt;
            return it->second;
        }
        assert(finished);
        if (key[0] == keys::outcome) {
            if (key.size() != keys::outcome_key_size) return std::nullopt;
            keys::key_reader k(key);
            const outcome_entry* e = find_from(outcomes, log_position{k.u32(1), k.u64(5)}, hints[outcome_hint]);
            if (e == nullptr) return std::nullopt;
            return e->value;
        }
        const std::size_t kind = written_index(key[0]);
        if (kind == written.size()) return std::nullopt;
        const entry* e = find_from(written[kind], entry_order(key), hints[kind]);
        if (e == nullptr) return std::nullopt;
        return e->second;
    }
};

namespace {

// stage_events writing straight into a rebuild: the audit keeps nothing of a call that fails, so
// no overlay is needed, and nothing is copied twice.
class rebuild_writes final : public model_writes {
public:
    explicit rebuild_writes(rebuilt_partition::state& s) : s_(s) {}

    std::optional<std::string> get(const std::string& key) const override {
        assert(image::holds(key[0]));
        auto it = s_.held.find(key);
        if (it == s_.held.end()) return std::nullopt;
        return it->second;
    }
    void put(std::string key, std::string value) override {
        if (image::holds(key[0])) {
            s_.held.insert_or_assign(std::move(key), std::move(value));
            return;
        }
        const std::size_t kind = written_index(key[0]);
        if (kind == s_.written.size()) {
            unknown_ = true;
            return;
        }
        s_.written[kind].emplace_back(std::move(key), std::move(value));
    }
    void put_outcome(log_position request, const event& answer, std::string_view encoded) override {
        if (encoded.empty()) {
            encoded_.clear();
            encode(answer, encoded_);
            encoded = encoded_;
        }
        s_.outcomes.push_back({request, s_.values.keep(encoded)});
    }
    void erase(std::string key) override {
        if (image::holds(key[0])) s_.held.erase(key);
        else deleted_written_ = true;
    }

    result<unit> check() const {
        if (deleted_written_) return error{errc::corrupt, "rebuild: a history entry or an outcome deleted"};
        if (unknown_) return error{errc::corrupt, "rebuild: a key of no known kind written"};
        return unit{};
    }

private:
    rebuilt_partition::state& s_;
    std::string encoded_;  // an outcome's value, on its way to the arena
    bool deleted_written_ = false, unknown_ = false;
};

}  // namespace

rebuilt_partition::rebuilt_partition(std::uint32_t partition, std::uint64_t limit) : state_(std::make_unique<state>()) {
    state_->partition = partition;
    state_->limit = limit;
    // About one outcome per event: room for them at once rather than by doubling, each doubling
    // being a copy into memory touched for the first time (the room is only touched as it fills).
    state_->outcomes.reserve(std::min<std::uint64_t>(limit, outcomes_reserved_max));
}

rebuilt_partition::~rebuilt_partition() = default;

result<unit> rebuilt_partition::apply(std::span<const event> events, std::span<const std::string_view> encoded) {
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
    rebuild_writes writes(s);
    if (!encoded.empty() && encoded.size() != events.size())
        return error{errc::invalid, "rebuild: " + std::to_string(encoded.size()) + " encodings for " +
                                        std::to_string(events.size()) + " events"};
    if (auto r = stage_events(writes, events.first(count), encoded.empty() ? encoded : encoded.first(count)); !r) return r;
    if (auto r = writes.check(); !r) return r;
    s.applied += count;
    return unit{};
}

std::uint64_t rebuilt_partition::applied() const { return state_->applied; }
std::uint32_t rebuilt_partition::partition() const { return state_->partition; }
std::size_t rebuilt_partition::size() const {
    std::size_t n = state_->held.size() + state_->outcomes.size();
    for (const auto& kind : state_->written) n += kind.size();
    return n;
}

void rebuilt_partition::finish() {
    state& s = *state_;
    assert(!s.finished);
    for (auto& kind : s.written) sort_last_wins(kind);
    sort_last_wins(s.outcomes);
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

// Outcomes compared per range, at most: there is about one per request, the largest kind, so a
// partition's are split at keys of its rebuild to share them out among the threads.
constexpr std::size_t outcomes_per_range = 1u << 17;

// Ranges that cover every possible key: one per kind, and the outcomes in pieces.
std::vector<key_range> ranges_of(std::uint32_t partitions, std::span<const rebuilt_partition* const> rebuilt) {
    const char tags[] = {keys::meta,        keys::applied,     keys::concert,     keys::date,
                         keys::seat,        keys::user,        keys::reservation, keys::user_reservation,
                         keys::balance,     keys::history,     keys::queue_entry, keys::queue_counters,
                         keys::wait_bucket, keys::timeline,    keys::seat_history, keys::outcome,
                         keys::concert_state, keys::change, keys::grade_revenue, keys::zone, keys::claim,
                         keys::scanner, keys::admission, keys::date_ticket, keys::gate_checkins};
    std::vector<std::string> bounds;
    for (char t : tags) {
        bounds.push_back(keys::tag_prefix(t));
        bounds.push_back(keys::prefix_end(keys::tag_prefix(t)));
    }
    for (std::uint32_t p = 0; p < partitions; ++p) bounds.push_back(keys::key_builder(keys::outcome).u32(p));
    for (const rebuilt_partition* r : rebuilt) {
        if (r == nullptr) continue;
        const std::vector<outcome_entry>& outcomes = r->contents().outcomes;
        for (std::size_t i = outcomes_per_range; i < outcomes.size(); i += outcomes_per_range)
            bounds.push_back(keys::outcome_key(outcomes[i].request));
    }
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
        // What one range's thread keeps while it reads: per partition, the written kinds' search
    // hints (see find_from) and the stored keys found in the rebuild (added to present_ at the
    // end, so that the threads do not share a counter per key).
    struct tally {
        explicit tally(std::size_t partitions) : hints(partitions), present(partitions) {}
        std::vector<search_hints> hints;
        std::vector<std::uint64_t> present;
    };
    void check(std::string_view key, std::string_view value, tally& t);
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
    case keys::change:
        if (key.size() != keys::change_key_size) return std::nullopt;
        return partition_of(concert_id{k.u64(1)}, stored_.partitions);
    case keys::outcome:
    case keys::applied: {
        if (key.size() != (key[0] == keys::outcome ? keys::outcome_key_size : 1 + 4)) return std::nullopt;
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

void comparison::check(std::string_view key, std::string_view value, tally& t) {
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
    std::uint32_t writer = *p;
    std::optional<std::string_view> expected = rebuilt->contents().find(key, t.hints[*p]);
    // An outcome is keyed by the request's partition but written by the partition that answered
    // it, usually the same one.
    for (std::uint32_t other = 0; !expected && key[0] == keys::outcome && other < rebuilt_.size(); ++other) {
        if (other == *p || rebuilt_[other] == nullptr) continue;
        expected = rebuilt_[other]->contents().find(key, t.hints[other]);
        writer = other;
    }
    if (!expected) return differ(*p, key, "stored, but the replayed events do not write it");
    ++t.present[writer];
    if (*expected != value) differ(*p, key, values_differ(value, *expected));
}

result<unit> comparison::run(const key_range& range) {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    rocksdb::Slice upper(range.upper);
    if (!range.upper.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(stored_.db->NewIterator(ro));
    std::uint64_t since_progress = 0;
    tally t(rebuilt_.size());
    for (it->Seek(range.lower); it->Valid(); it->Next()) {
        check(std::string_view(it->key().data(), it->key().size()),
              std::string_view(it->value().data(), it->value().size()), t);
        if (++since_progress == progress_every_keys) {
            const std::uint64_t total = compared_.fetch_add(since_progress) + since_progress;
            since_progress = 0;
            if (progress_) progress_(total);
        }
    }
    compared_.fetch_add(since_progress);
    for (std::size_t p = 0; p < t.present.size(); ++p) present_[p].fetch_add(t.present[p], std::memory_order_relaxed);
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
        for (const auto& [key, value] : rebuilt->contents().held)
            if (auto r = probe(key); !r) return r;
        for (const std::vector<entry>& kind : rebuilt->contents().written)
            for (const entry& e : kind)
                if (auto r = probe(e.first); !r) return r;
        for (const outcome_entry& e : rebuilt->contents().outcomes)
            if (auto r = probe(keys::outcome_key(e.request)); !r) return r;
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
    const std::vector<key_range> ranges = ranges_of(s.partitions, rebuilt);
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
