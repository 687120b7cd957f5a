#pragma once
// The log interface: one durable, ordered sequence of records per partition. Two backends
// implement it (events/log/): an embedded RocksDB log (the default) and Kafka. It is kept narrow on
// purpose — append, read from an offset, the committed end — so that both can honour it exactly.
//
// Offsets are dense and increasing per partition: 0, 1, 2… A record is visible to `read` and counted
// by `end` only once it is durable, and an append is acknowledged only then.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/result.hpp"

namespace encore {

struct log_entry {
    std::uint64_t offset = 0;
    std::string bytes;
};

// Records of one read, their bytes one after the other in one buffer: filling one allocates
// nothing per record, and a batch used again allocates nothing once it has grown.
class log_batch {
public:
    void clear() {
        bytes_.clear();
        offsets_.clear();
        ends_.clear();
    }
    void add(std::uint64_t offset, std::string_view bytes) {
        bytes_.append(bytes);
        offsets_.push_back(offset);
        ends_.push_back(bytes_.size());
    }
    // Keeps the first `count` records.
    void truncate(std::size_t count) {
        if (count >= size()) return;
        offsets_.resize(count);
        ends_.resize(count);
        bytes_.resize(count == 0 ? 0 : ends_.back());
    }
    std::size_t size() const { return offsets_.size(); }
    bool empty() const { return offsets_.empty(); }
    std::size_t byte_size() const { return bytes_.size(); }
    std::uint64_t offset(std::size_t i) const { return offsets_[i]; }
    // Valid until the batch is next changed.
    std::string_view bytes(std::size_t i) const {
        const std::size_t start = i == 0 ? 0 : ends_[i - 1];
        return std::string_view(bytes_).substr(start, ends_[i] - start);
    }

private:
    std::string bytes_;
    std::vector<std::uint64_t> offsets_;
    std::vector<std::size_t> ends_;  // where each record's bytes end
};

// Called once the appended records are durable, with the offset of the first one, or with the error
// that made them not durable (then none of them is in the log). Runs on the log's own thread: it must
// not block.
using append_callback = std::function<void(result<std::uint64_t>)>;

class log_stream {
public:
    virtual ~log_stream() = default;

    virtual std::uint32_t partitions() const = 0;

    // Thread-safe. The records of one call get consecutive offsets in the order given; records of
    // calls on one partition keep the order of the calls.
    virtual void append(std::uint32_t partition, std::vector<std::string> records, append_callback done) = 0;

    // Reads up to `max` durable records of `partition` from offset `from` on; if there are none yet,
    // waits up to `wait` for one. An empty vector means nothing arrived in time.
    virtual result<std::vector<log_entry>> read(std::uint32_t partition, std::uint64_t from, std::size_t max,
                                                std::chrono::milliseconds wait) = 0;

    // The same read into `out` (cleared first), for scans of many small records: a backend may
    // copy each record's bytes straight into the batch. The default calls `read`.
    virtual result<unit> read_into(std::uint32_t partition, std::uint64_t from, std::size_t max,
                                   std::chrono::milliseconds wait, log_batch& out);

    // For records the writer can regenerate from synced ones (events, saga steps — the replay of
    // the command log reproduces them byte for byte): the backend may acknowledge them once they
    // are written in order, before they reach stable storage. Any later synced append makes them
    // durable too, since a log is written in order. The default treats them as synced.
    virtual void append_derived(std::uint32_t partition, std::vector<std::string> records, append_callback done) {
        append(partition, std::move(records), std::move(done));
    }

    // The committed end: the offset the next durable record of `partition` will get.
    virtual std::uint64_t end(std::uint32_t partition) = 0;

    // The last durable record of `partition`, or nothing when it has none: for a new writer that
    // must find where the previous one stopped. The default reads the record before end(); a
    // backend may do it without disturbing its readers' positions.
    virtual result<std::optional<log_entry>> read_last(std::uint32_t partition);

    // Blocks until the records are durable. For tools and tests; servers use the callback form.
    result<std::uint64_t> append_and_wait(std::uint32_t partition, std::vector<std::string> records);
};

// Where a partition's runner keeps its checkpoint (state snapshot + last applied offset, one value
// per partition, replaced whole and atomically).
class checkpoint_store {
public:
    virtual ~checkpoint_store() = default;
    virtual result<unit> save(std::uint32_t partition, std::string bytes) = 0;
    virtual result<std::optional<std::string>> load(std::uint32_t partition) = 0;
    // The checkpoint `load` returned failed its check (`why`): the store keeps it out of the way of
    // later loads where it can, so that a partition does not trip on it again, and says where it went
    // (for the operator's log). The default leaves it in place: the next save replaces it.
    virtual result<std::string> set_aside(std::uint32_t partition, std::string_view why) {
        static_cast<void>(partition);
        static_cast<void>(why);
        return std::string("left in place until the next checkpoint replaces it");
    }
};

}  // namespace encore
