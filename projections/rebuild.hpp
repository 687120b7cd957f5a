#pragma once
// The audit's side of the read models: rebuild them in memory from replayed events, and compare a
// stored store (a stopped node's `<data dir>/projections`) with the rebuild key by key.
//
// Every key is a deterministic function of the events: the history (`h`) is keyed by the wallet
// partition's event sequence and holds only event fields, a seat's history (`H`) by the concert
// partition's, a timeline bucket (`t`) by the events' `at`, an outcome (`o`) is the encoded event that
// last answered a request. So every kind is compared, meta and applied sequences included; nothing
// is excluded. What is kept only in memory by a serving node (the seat mirror, the admission rate)
// is rebuilt at open from these keys and is not part of the store.
//
// Threads: a `rebuilt_partition` is fed by one thread (the one replaying its partition); `compare`
// runs once every feeding thread has finished, on threads of its own, reading the rebuilds only.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "events/event.hpp"
#include "events/result.hpp"

namespace encore::projections {

// One partition's read models built from its events alone (partitions write disjoint keys), in
// memory, with exactly the keys and values `read_models::apply` writes to RocksDB.
class rebuilt_partition {
public:
    // Events at or above `limit` are not applied: a store is compared at its own applied sequence.
    rebuilt_partition(std::uint32_t partition, std::uint64_t limit);
    ~rebuilt_partition();
    rebuilt_partition(const rebuilt_partition&) = delete;
    rebuilt_partition& operator=(const rebuilt_partition&) = delete;

    // The partition's next events, in sequence order from `applied()`. errc::corrupt when an event
    // contradicts the models built so far (the read model projector would refuse it too).
    // `encoded`, if not empty, holds each event's encoding (codec), which spares encoding them again.
    result<unit> apply(std::span<const event> events, std::span<const std::string_view> encoded = {});
    // After the last `apply`: readies the rebuild for `compare` (sorts what it holds). Call once.
    void finish();
    // The next sequence the rebuild expects (at most `limit`).
    std::uint64_t applied() const;
    std::uint32_t partition() const;
    // Keys held, applied sequence and meta keys excluded.
    std::size_t size() const;

    struct state;  // defined in rebuild.cpp
    const state& contents() const { return *state_; }

private:
    std::unique_ptr<state> state_;
};

// A store opened read-only: nothing the audit does writes to it.
class stored_models {
public:
    // errc::io when the directory holds no readable store; errc::corrupt when its meta keys do not
    // decode; errc::invalid when it was made for another partition count.
    static result<std::unique_ptr<stored_models>> open(const std::string& directory, std::uint32_t partitions);
    ~stored_models();
    stored_models(const stored_models&) = delete;
    stored_models& operator=(const stored_models&) = delete;

    // The next event sequence the store expects, per partition (0 for a partition it never saw).
    std::uint64_t applied(std::uint32_t partition) const;

    struct state;  // defined in rebuild.cpp
    const state& contents() const { return *state_; }

private:
    explicit stored_models(std::unique_ptr<state> s);
    std::unique_ptr<state> state_;
};

// The first differing key of one partition, in key order.
struct model_difference {
    std::uint32_t partition = 0;  // the partition whose projector writes the key
    std::string key;              // printable: the tag, a space, the rest of the key in hex
    std::string message;
};

// Compares every key of the store with the rebuilds (each `finish`ed), on up to `threads` threads (each takes a kind
// of key, or one partition's outcomes, at a time). rebuilt[p] null: partition p is not compared
// (its replay failed). `progress` is called now and then with the keys compared so far (from any
// of the threads). Returns the first difference of each partition that has one; errc::io when the
// store cannot be read.
result<std::vector<model_difference>> compare(const stored_models& stored,
                                              std::span<const rebuilt_partition* const> rebuilt, unsigned threads,
                                              const std::function<void(std::uint64_t)>& progress);

// The printable form of a store key used in `model_difference::key`.
std::string printable_key(std::string_view key);

}  // namespace encore::projections
