#pragma once
// Internal to projections/: the in-memory image of the read models. Every key that a query or an
// `apply` reads is held here as well as in RocksDB, so no query and no `apply` reads RocksDB: the
// store keeps the models durable and rebuildable, the image answers. Two kinds of keys stay in
// RocksDB only, because they grow with every request and are read by no onsale-path query: wallet
// history entries (`h`, read a page at a time), seat history entries (`H`, likewise) and request
// outcomes (`o`, read only to answer an idempotent repeat).
//
// One shard per partition, holding the keys that partition's projector writes (partitions write
// disjoint keys). Written by that projector thread only, under the shard's exclusive lock, once the
// batch is in RocksDB, so a query that reads several keys of one shard under one shared lock sees
// one batch boundary (a queue entry and its counters agree). The staging of a batch reads its own
// partition's shard without a lock: no other thread writes it.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/unordered/unordered_flat_set.hpp>

namespace encore::projections {

// The point-lookup keys of one shard: a hash table of one pointer per key, each to one allocation
// holding the key and its value ([u8 key size][u32 value size][key][value]). A waiting fan costs
// three keys (name, balance, queue entry) of 9 to 17 bytes with values of 8 to 33 bytes; a map of
// std::string pairs spent a node, a bucket and, for the longer keys and values, two more
// allocations on each. Values are written in place when their size is unchanged (a balance, a
// queue entry), so most updates allocate nothing.
class point_table {
public:
    point_table() = default;
    point_table(const point_table&) = delete;
    point_table& operator=(const point_table&) = delete;
    ~point_table();

    // The value of `key`, valid until the key is next set or erased.
    std::optional<std::string_view> find(std::string_view key) const;
    void set(std::string_view key, std::string_view value);
    void erase(std::string_view key);
    std::size_t size() const { return entries_.size(); }
    // visit(key, value) for every key, in no particular order.
    template <class Visit>
    void for_each(Visit&& visit) const {
        for (const char* e : entries_) visit(key_of(e), value_of(e));
    }

private:
    static std::string_view key_of(const char* e);
    static std::string_view value_of(const char* e);
    struct by_key {
        using is_transparent = void;
        std::size_t operator()(std::string_view key) const noexcept;
        std::size_t operator()(const char* e) const noexcept { return (*this)(key_of(e)); }
        bool operator()(const char* a, const char* b) const noexcept { return key_of(a) == key_of(b); }
        bool operator()(std::string_view a, const char* b) const noexcept { return a == key_of(b); }
        bool operator()(const char* a, std::string_view b) const noexcept { return key_of(a) == b; }
    };
    boost::unordered_flat_set<char*, by_key, by_key> entries_;
};

class image {
public:
    struct shard {
        mutable std::shared_mutex mutex;
        // Point lookups; the ordered map holds the kinds that are scanned by prefix.
        point_table points;
        std::map<std::string, std::string, std::less<>> ordered;

        // The caller holds the lock (or is the shard's writer); the view lasts while it does.
        std::optional<std::string_view> find(std::string_view key) const;
        // visit(key, value) for every key starting with `prefix`, ascending, until it returns false.
        template <class Visit>
        void scan(const std::string& prefix, Visit&& visit) const {
            for (auto it = ordered.lower_bound(prefix); it != ordered.end() && it->first.starts_with(prefix); ++it) {
                if (!visit(std::string_view(it->first), std::string_view(it->second))) break;
            }
        }
        // The same, from the first key after `after` (which starts with `prefix`).
        template <class Visit>
        void scan_after(const std::string& prefix, const std::string& after, Visit&& visit) const {
            for (auto it = ordered.upper_bound(after); it != ordered.end() && it->first.starts_with(prefix); ++it) {
                if (!visit(std::string_view(it->first), std::string_view(it->second))) break;
            }
        }
        // nullopt erases. Writer only, under the exclusive lock.
        void set(const std::string& key, const std::optional<std::string>& value);
    };

    explicit image(std::uint32_t partitions);

    // Whether keys of this kind are held in the image.
    static bool holds(char tag);
    // The partition whose projector writes `key` (a key the image holds, of a valid length); none
    // for a key it cannot place (a corrupt store).
    std::optional<std::uint32_t> owner(std::string_view key) const;

    shard& at(std::uint32_t partition) { return *shards_[partition]; }
    const shard& at(std::uint32_t partition) const { return *shards_[partition]; }
    std::uint32_t partitions() const { return static_cast<std::uint32_t>(shards_.size()); }
    // Keys held, summed over the shards (for the memory figures of the benchmarks).
    std::size_t size() const;

private:
    std::vector<std::unique_ptr<shard>> shards_;
};

}  // namespace encore::projections
