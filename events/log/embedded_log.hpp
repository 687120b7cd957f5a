#pragma once
// The embedded durable log: both streams (commands, events) and the checkpoints of every partition
// in one RocksDB database in a local directory. It is the default backend of `log_stream` and
// `checkpoint_store` (events/log.hpp); see events/log/README.md for the key layout and the durability
// contract.
//
// Appends are group-committed: `append` only queues the records; one writer thread takes what is
// queued, writes it in one synced RocksDB write batch, then makes it visible and acknowledges it.
// Many small appends arriving together therefore share one fsync.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "events/log.hpp"
#include "events/result.hpp"
#include "events/types.hpp"

namespace encore {

// Ids and routing are derived from the partition count, so it is fixed for the life of a data
// directory; it is 1..partitions_max (events/types.hpp).

// One `read` returns at most this many records, and stops after the record that reaches this many
// bytes, whatever its `max` asks: the contract is "up to max", and this bounds one call's memory
// when a reader asks for everything at once. Readers loop on from the last offset they got.
inline constexpr std::size_t embedded_log_read_records_max = 16384;
inline constexpr std::size_t embedded_log_read_bytes_max = 16u << 20;

struct embedded_log_options {
    std::string directory;
    std::uint32_t partitions = 0;
    // The most records, and the most record bytes, one group commit writes. A single append call
    // larger than these is still written whole, as a batch of its own: a call is never split.
    std::size_t group_commit_records_max = 4096;
    std::size_t group_commit_bytes_max = 16u << 20;
    // The most records waiting for the writer; an append beyond it fails with errc::unavailable so
    // that a stalled disk turns into refusals rather than unbounded memory.
    std::size_t queued_records_max = 1u << 18;
    // A bigger record is refused with errc::invalid: commands and events are small, and state
    // snapshots go through `checkpoints()`, which takes values up to 1 GiB.
    std::size_t record_bytes_max = 4u << 20;
    // Every write is fsynced before it is acknowledged. Only tests and benchmarks that do not care
    // about power loss may turn this off.
    bool sync = true;
    // Free space kept on the log's file system. While less than this is free, synced appends (new
    // commands) are refused with errc::storage and never reach RocksDB; derived records (the events
    // and saga steps of commands already logged) go on until less than half of it is free. RocksDB
    // never sees a full disk (after a failed write-ahead log append it cannot write that file again),
    // and the log takes commands again by itself once space is back. 0: no reserve.
    std::uint64_t free_bytes_reserve = std::uint64_t{64} << 20;
};

// What the log's storage is doing now, for /readyz and /metrics.
struct embedded_log_storage {
    std::uint64_t free_bytes = 0;           // on the log's file system, at the last check
    std::uint64_t reserve_bytes = 0;
    bool refusing = false;                  // new commands are refused (under the reserve, or a write failed)
    std::string reason;                     // why, when refusing
    std::uint64_t refused_appends = 0;      // append calls refused for storage since open
    std::uint64_t write_failures = 0;       // RocksDB writes that failed since open
    std::uint64_t resumed = 0;              // times writing resumed after a failure
};

// Owns the database and one group-commit writer thread. `commands()`, `events()`, `checkpoints()`,
// `get_meta`, `put_meta` and `batches_written` are thread-safe and may be called from any thread.
// Every append callback, refusals included, runs on the writer thread in call order: it must neither
// block nor throw (a throw ends the process), and it may append. Stop every reader and appender
// before destroying the log.
class embedded_log {
public:
    // Creates the directory and the database if missing. Refuses (errc::invalid) a partition count
    // other than the one the directory was created with.
    static result<std::unique_ptr<embedded_log>> open(const embedded_log_options& options);

    embedded_log(const embedded_log&) = delete;
    embedded_log& operator=(const embedded_log&) = delete;
    // Waits until everything already queued is written and acknowledged, then stops the writer
    // thread and closes the database.
    ~embedded_log();

    log_stream& commands();
    log_stream& events();
    checkpoint_store& checkpoints();

    // A small key-value place for process metadata (the token secret…). Keys starting with "log."
    // are reserved for the log itself and refused by `put_meta`. Writes are synced like appends.
    result<std::optional<std::string>> get_meta(std::string_view key);
    result<unit> put_meta(std::string_view key, std::string_view value);

    // How many group commits reached the disk since open: lets tests and metrics see the grouping.
    std::uint64_t batches_written() const;
    // Any thread.
    embedded_log_storage storage() const;

private:
    struct state;  // the database, the streams and the writer thread; defined in embedded_log.cpp
    explicit embedded_log(std::unique_ptr<state> state);
    std::unique_ptr<state> state_;
};

}  // namespace encore
