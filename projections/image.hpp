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
#include <unordered_map>
#include <vector>

namespace encore::projections {

class image {
public:
    struct shard {
        mutable std::shared_mutex mutex;
        // Point lookups; the ordered map holds the kinds that are scanned by prefix.
        std::unordered_map<std::string, std::string> points;
        std::map<std::string, std::string> ordered;

        // The caller holds the lock (or is the shard's writer).
        const std::string* find(const std::string& key) const;
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
