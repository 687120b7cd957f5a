#include "events/log/embedded_log.hpp"
#include "events/diagnostics.hpp"
#include "events/log/durable_ends.hpp"
#include "events/log/record_keys.hpp"
#include "events/rocksdb_logger.hpp"

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <array>
#include <atomic>
#include <cassert>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace encore {
namespace {

using namespace log_keys;

// ---- Limits and names --------------------------------------------------------------------------

// Metadata and checkpoints are single RocksDB values (at most 4 GiB each); these keep them far from
// that and make a runaway snapshot an error instead of a stall.
constexpr std::size_t meta_bytes_max = 1u << 20;
constexpr std::size_t checkpoint_bytes_max = std::size_t{1} << 30;

// The longest one `read` waits, whatever it asks: a longer wait changes nothing for a reader that
// loops anyway, and a huge one (milliseconds::max()) would overflow the deadline arithmetic.
constexpr std::chrono::milliseconds read_wait_max = std::chrono::hours(1);

// Flushes and compactions of an append-only log are mostly sequential I/O; four jobs let a flush
// proceed while a compaction runs without starving a small machine.
constexpr int rocksdb_background_jobs = 4;
// A write-ahead log file is kept until every column family with data in it has flushed. `meta` and
// `checkpoints` see few writes, so without this bound one early Put would pin gigabytes of
// write-ahead log (RocksDB's default bound is 4 × all memtables) and make every open replay it.
constexpr std::uint64_t rocksdb_wal_bytes_max = std::uint64_t{256} << 20;
// Each column family's memtable, and all of them together (RocksDB's write buffer manager).
constexpr std::size_t log_write_buffer_bytes = std::size_t{8} << 20;
constexpr std::size_t log_write_buffers_total_bytes = std::size_t{24} << 20;

// The column families, in the order of the descriptors given to DB::Open. RocksDB requires the
// default family to be listed; nothing is written to it.
enum family_index : std::size_t { default_family, commands_family, events_family, checkpoints_family,
                                  meta_family, family_count };
constexpr std::array<std::string_view, family_count> family_names = {"default", commands_family_name, events_family_name,
                                                                      checkpoints_family_name, meta_family_name};

// There is nobody to tell about a failure while closing; the call site names the decision.
void ignore_status(const rocksdb::Status&) {}

rocksdb::WriteOptions write_options_for(const embedded_log_options& options) {
    rocksdb::WriteOptions write_options;
    write_options.sync = options.sync;
    return write_options;
}

// ---- The queue between appenders and the writer thread ------------------------------------------

class stream_impl;

// The newest records of each partition are also kept in memory, so that readers following the
// tail (runners, projectors) are served without a RocksDB iterator. Older reads go to RocksDB.
constexpr std::size_t tail_records_max = 8192;

// One `append` call waiting for the writer. A refused call travels the queue too, so that every
// callback runs on the writer thread, in call order, as events/log.hpp promises.
struct pending_append {
    stream_impl* stream = nullptr;
    std::uint32_t partition = 0;
    std::vector<std::string> records;
    std::size_t record_bytes = 0;
    append_callback done;
    std::optional<error> refused;
    bool synced = true;  // false for derived records (log_stream::append_derived)
};

// Appenders push from any thread; only the writer thread pops. Owned by embedded_log::state.
class append_queue {
public:
    explicit append_queue(const embedded_log_options& options) : options_(options) {}

    void push(pending_append item) {
        std::unique_lock lock(mutex_);
        if (closed_) {
            // The writer is gone: the only place left to report is the caller's own thread.
            lock.unlock();
            item.done(error{errc::unavailable, "the log is closed"});
            return;
        }
        if (!item.refused && queued_records_ + item.records.size() > options_.queued_records_max) {
            item.refused = error{errc::unavailable, "the log's append queue is full (queued_records_max = " +
                                                        std::to_string(options_.queued_records_max) + ")"};
        }
        if (item.refused) {
            // A refusal is a few bytes with no records: it still goes through the queue, past its
            // bound, so that its callback too runs on the writer thread.
            item.records.clear();
            item.record_bytes = 0;
        }
        queued_records_ += item.records.size();
        items_.push_back(std::move(item));
        lock.unlock();
        ready_.notify_one();
    }

    // Blocks until something is queued, then takes calls in queue order up to the group-commit
    // limits (at least one call, which is never split). Returns an empty vector once `stop` was
    // called and the queue is drained: the writer then exits.
    std::vector<pending_append> pop_batch() {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return !items_.empty() || stopping_; });
        std::vector<pending_append> batch;
        if (items_.empty()) {
            closed_ = true;
            return batch;
        }
        std::size_t records = 0;
        std::size_t weight = 0;  // a call without records still counts as one, to bound the calls too
        std::size_t bytes = 0;
        while (!items_.empty()) {
            const pending_append& next = items_.front();
            const std::size_t next_weight = std::max<std::size_t>(1, next.records.size());
            const bool fits = weight + next_weight <= options_.group_commit_records_max &&
                              bytes + next.record_bytes <= options_.group_commit_bytes_max;
            if (!batch.empty() && !fits) break;
            records += next.records.size();
            weight += next_weight;
            bytes += next.record_bytes;
            batch.push_back(std::move(items_.front()));
            items_.pop_front();
        }
        assert(queued_records_ >= records);
        queued_records_ -= records;
        return batch;
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        ready_.notify_one();
    }

private:
    const embedded_log_options& options_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<pending_append> items_;
    std::size_t queued_records_ = 0;
    bool stopping_ = false;  // the owner is closing: drain, then close
    bool closed_ = false;    // the writer has exited
};

// ---- One stream (commands or events) ------------------------------------------------------------

// A `log_stream` over one column family. `append`, `read` and `end` run on any thread; `stage`,
// `publish` and `roll_back` on the writer thread only. Owned by embedded_log::state.
class stream_impl final : public log_stream {
public:
    stream_impl(std::string name, rocksdb::DB& db, rocksdb::ColumnFamilyHandle& family,
                const std::vector<std::uint64_t>& recovered_ends, append_queue& queue,
                const embedded_log_options& options)
        : name_(std::move(name)), db_(db), family_(family), queue_(queue), options_(options),
          committed_ends_(recovered_ends.size()), assigned_ends_(recovered_ends) {
        for (std::size_t p = 0; p < recovered_ends.size(); ++p) committed_ends_[p].store(recovered_ends[p]);
        tails_.resize(recovered_ends.size());
        for (std::size_t p = 0; p < recovered_ends.size(); ++p) tails_[p].base = recovered_ends[p];
    }

    std::uint32_t partitions() const override { return static_cast<std::uint32_t>(committed_ends_.size()); }

    void append(std::uint32_t partition, std::vector<std::string> records, append_callback done) override {
        enqueue(partition, std::move(records), std::move(done), true);
    }

    void append_derived(std::uint32_t partition, std::vector<std::string> records, append_callback done) override {
        enqueue(partition, std::move(records), std::move(done), false);
    }

    void enqueue(std::uint32_t partition, std::vector<std::string> records, append_callback done, bool synced) {
        assert(done);
        pending_append item{this, partition, std::move(records), 0, std::move(done), std::nullopt, synced};
        item.refused = validate(item);
        queue_.push(std::move(item));
    }

    result<std::vector<log_entry>> read(std::uint32_t partition, std::uint64_t from, std::size_t max,
                                        std::chrono::milliseconds wait) override {
        if (partition >= partitions()) return out_of_range(partition);
        if (max == 0) return std::vector<log_entry>{};
        const std::uint64_t end = wait_for_end_beyond(partition, from, wait);
        if (end <= from) return std::vector<log_entry>{};
        const std::uint64_t count = std::min<std::uint64_t>({max, end - from, embedded_log_read_records_max});
        return read_range(partition, from, from + count);
    }

    std::uint64_t end(std::uint32_t partition) override {
        assert(partition < partitions());
        return committed_ends_[partition].load(std::memory_order_acquire);
    }

    std::vector<std::uint64_t> ends() const {
        std::vector<std::uint64_t> out(committed_ends_.size());
        for (std::size_t p = 0; p < out.size(); ++p) out[p] = committed_ends_[p].load(std::memory_order_acquire);
        return out;
    }

    // Writer thread: gives the call its offsets (after everything staged before it) and adds its
    // records to the batch. Returns the offset of its first record.
    std::uint64_t stage(const pending_append& item, rocksdb::WriteBatch& batch) {
        std::uint64_t& next = assigned_ends_[item.partition];
        const std::uint64_t first = next;
        for (const std::string& record : item.records) {
            const rocksdb::Status status = batch.Put(&family_, as_slice(encode_record_key(item.partition, next)),
                                                     rocksdb::Slice(record));
            // Put fails only past RocksDB's 4 GiB value limit, which record_bytes_max keeps us from.
            assert(status.ok());
            staged_.emplace_back(item.partition, record);
            ++next;
        }
        if (!item.records.empty()) touched_.push_back(item.partition);
        return first;
    }

    // Writer thread, after the batch is durable: makes its records visible and wakes readers.
    void publish() {
        {
            std::lock_guard lock(tails_mutex_);
            for (auto& [partition, record] : staged_) {
                tail& t = tails_[partition];
                t.records.push_back(std::move(record));
                if (t.records.size() > tail_records_max) {
                    t.records.pop_front();
                    ++t.base;
                }
            }
        }
        staged_.clear();
        {
            std::lock_guard lock(committed_mutex_);
            for (std::uint32_t p : touched_) {
                // A partition appears once per call of the batch, so it may be seen again here.
                assert(assigned_ends_[p] >= committed_ends_[p].load(std::memory_order_relaxed));
                committed_ends_[p].store(assigned_ends_[p], std::memory_order_release);
            }
        }
        if (!touched_.empty()) committed_.notify_all();
        touched_.clear();
    }

    // Writer thread, after the batch failed: its offsets will be given again.
    void roll_back() {
        staged_.clear();
        for (std::uint32_t p : touched_) assigned_ends_[p] = committed_ends_[p].load(std::memory_order_relaxed);
        touched_.clear();
    }

private:
    error out_of_range(std::uint32_t partition) const {
        return error{errc::invalid, name_ + ": partition " + std::to_string(partition) + " is out of range (" +
                                        std::to_string(partitions()) + " partitions)"};
    }

    std::optional<error> validate(pending_append& item) const {
        if (item.partition >= partitions()) return out_of_range(item.partition);
        for (const std::string& record : item.records) {
            if (record.size() > options_.record_bytes_max) {
                return error{errc::invalid, name_ + ": a record of " + std::to_string(record.size()) +
                                                " bytes is over record_bytes_max (" +
                                                std::to_string(options_.record_bytes_max) + ")"};
            }
            item.record_bytes += record.size();
        }
        return std::nullopt;
    }

    std::uint64_t wait_for_end_beyond(std::uint32_t partition, std::uint64_t from, std::chrono::milliseconds wait) {
        std::uint64_t end_now = end(partition);
        if (end_now > from || wait <= std::chrono::milliseconds::zero()) return end_now;
        std::unique_lock lock(committed_mutex_);
        committed_.wait_for(lock, std::min(wait, read_wait_max), [&] {
            end_now = committed_ends_[partition].load(std::memory_order_acquire);
            return end_now > from;
        });
        return end_now;
    }

    // Reads offsets [from, to), all below the committed end, checking that each one is there, and
    // stops early once embedded_log_read_bytes_max is reached.
    result<std::vector<log_entry>> read_range(std::uint32_t partition, std::uint64_t from, std::uint64_t to) {
        {
            std::shared_lock lock(tails_mutex_);
            const tail& t = tails_[partition];
            if (from >= t.base && to <= t.base + t.records.size()) {
                std::vector<log_entry> entries;
                entries.reserve(static_cast<std::size_t>(to - from));
                std::size_t bytes = 0;
                for (std::uint64_t o = from; o < to && bytes < embedded_log_read_bytes_max; ++o) {
                    const std::string& record = t.records[static_cast<std::size_t>(o - t.base)];
                    bytes += record.size();
                    entries.push_back(log_entry{o, record});
                }
                return entries;
            }
        }
        const record_key lower_key = encode_record_key(partition, from);
        const record_key upper_key = encode_record_key(partition, to);
        const rocksdb::Slice lower = as_slice(lower_key);
        const rocksdb::Slice upper = as_slice(upper_key);
        rocksdb::ReadOptions read_options;
        read_options.iterate_lower_bound = &lower;
        read_options.iterate_upper_bound = &upper;
        std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(read_options, &family_));

        std::vector<log_entry> entries;
        entries.reserve(static_cast<std::size_t>(to - from));
        std::uint64_t expected = from;
        std::size_t bytes = 0;
        for (it->Seek(lower); it->Valid() && bytes < embedded_log_read_bytes_max; it->Next()) {
            const rocksdb::Slice key = it->key();
            if (key.size() != record_key_bytes || key_partition(key) != partition || key_offset(key) != expected) {
                break;
            }
            entries.push_back(log_entry{expected, it->value().ToString()});
            bytes += entries.back().bytes.size();
            ++expected;
        }
        if (!it->status().ok()) {
            return io_error(name_ + ": reading partition " + std::to_string(partition), it->status());
        }
        if (expected != to && bytes < embedded_log_read_bytes_max) {
            // Everything below the committed end was durably written; a gap means the disk lost it.
            return error{errc::corrupt, name_ + ": partition " + std::to_string(partition) +
                                            " has no record at offset " + std::to_string(expected) +
                                            " below its end " + std::to_string(to)};
        }
        return entries;
    }

    const std::string name_;
    rocksdb::DB& db_;
    rocksdb::ColumnFamilyHandle& family_;
    append_queue& queue_;
    const embedded_log_options& options_;

    // The committed end of each partition: written by the writer under committed_mutex_ so that a
    // waiting reader cannot miss the wake-up, read without the lock by `end`.
    std::vector<std::atomic<std::uint64_t>> committed_ends_;
    std::mutex committed_mutex_;
    struct tail {
        std::uint64_t base = 0;  // offset of records.front()
        std::deque<std::string> records;
    };
    std::shared_mutex tails_mutex_;
    std::vector<tail> tails_;
    std::vector<std::pair<std::uint32_t, std::string>> staged_;  // writer thread: the batch's records
    std::condition_variable committed_;

    // Writer thread only: the next offset to give per partition, and the partitions of the batch
    // being written.
    std::vector<std::uint64_t> assigned_ends_;
    std::vector<std::uint32_t> touched_;
};

// ---- Checkpoints --------------------------------------------------------------------------------

// Checkpoints are files of their own, `<directory>/checkpoints/<partition>.checkpoint`, written to a
// temporary file, fsynced and renamed over the old one (then the folder is fsynced), so a crash
// leaves the old checkpoint or the new one, never a mix. They are not RocksDB values: a synced Put
// of a large value would go through the write-ahead log in the same write group as the commands'
// group commit and hold every command's fsync up for as long as it takes to write it.
// A checkpoint kept in the `checkpoints` column family by an older version is still loaded when no
// file exists (the first save replaces it).
// Runs on the calling thread (any); each partition has one writer, its checkpointer. Owned by
// embedded_log::state.
class checkpoint_impl final : public checkpoint_store {
public:
    checkpoint_impl(rocksdb::DB& db, rocksdb::ColumnFamilyHandle& family, std::uint32_t partitions,
                    const embedded_log_options& options)
        : db_(db),
          family_(family),
          partitions_(partitions),
          folder_(options.directory + "/checkpoints"),
          sync_(options.sync),
          write_options_(write_options_for(options)) {}

    result<unit> open() {
        std::error_code ec;
        std::filesystem::create_directories(folder_, ec);
        if (ec) return error{errc::io, "embedded log: creating " + folder_ + ": " + ec.message()};
        return unit{};
    }

    result<unit> save(std::uint32_t partition, std::string bytes) override {
        if (partition >= partitions_) return out_of_range(partition);
        if (bytes.size() > checkpoint_bytes_max) {
            return error{errc::invalid, "checkpoint of " + std::to_string(bytes.size()) +
                                            " bytes is over checkpoint_bytes_max"};
        }
        // The checkpoint says "every command below offset N is applied": the events and saga
        // commands those produced must be as durable as it is, and derived records are written
        // without fsync. Syncing the write-ahead log first makes them so (it runs beside the
        // writer's group commits, not in their way).
        if (sync_) {
            const rocksdb::Status synced = db_.SyncWAL();
            if (!synced.ok()) return io_error("syncing the log before the checkpoint of partition " + std::to_string(partition), synced);
        }
        const std::string path = path_of(partition), temporary = path + ".tmp";
        if (auto written = write_file(temporary, bytes); !written) return written;
        if (std::rename(temporary.c_str(), path.c_str()) != 0)
            return errno_error("renaming " + temporary);
        if (sync_) return sync_path(folder_, O_RDONLY | O_DIRECTORY);
        return unit{};
    }

    result<std::optional<std::string>> load(std::uint32_t partition) override {
        if (partition >= partitions_) return out_of_range(partition);
        const std::string path = path_of(partition);
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno != ENOENT) return errno_error("opening " + path);
        if (fd >= 0) {
            std::string bytes;
            char buffer[1 << 16];
            for (;;) {
                const ssize_t n = ::read(fd, buffer, sizeof buffer);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) {
                    auto failed = errno_error("reading " + path);
                    ::close(fd);
                    return failed;
                }
                if (n == 0) break;
                bytes.append(buffer, static_cast<std::size_t>(n));
            }
            ::close(fd);
            return std::optional<std::string>{std::move(bytes)};
        }
        std::string bytes;
        const rocksdb::Status status =
            db_.Get(rocksdb::ReadOptions(), &family_, as_slice(encode_partition_key(partition)), &bytes);
        if (status.IsNotFound()) return std::optional<std::string>{};
        if (!status.ok()) return io_error("loading the checkpoint of partition " + std::to_string(partition), status);
        return std::optional<std::string>{std::move(bytes)};
    }

    // Renamed to `<partition>.checkpoint.bad-<unix ms>` beside the good ones, for whoever wants to
    // look at it; a checkpoint of the older column family is deleted (it is of the older format,
    // which the runner no longer trusts, and nothing else reads it).
    result<std::string> set_aside(std::uint32_t partition, std::string_view why) override {
        static_cast<void>(why);
        if (partition >= partitions_) return out_of_range(partition);
        const std::string path = path_of(partition);
        if (std::filesystem::exists(path)) {
            const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch());
            // Never over an earlier one set aside in the same millisecond.
            std::string moved = path + ".bad-" + std::to_string(now.count());
            for (int n = 2; std::filesystem::exists(moved); ++n)
                moved = path + ".bad-" + std::to_string(now.count()) + "-" + std::to_string(n);
            if (std::rename(path.c_str(), moved.c_str()) != 0) return errno_error("renaming " + path);
            if (sync_) {
                if (auto synced = sync_path(folder_, O_RDONLY | O_DIRECTORY); !synced) return synced.err();
            }
            return "moved to " + moved;
        }
        const rocksdb::Status status =
            db_.Delete(write_options_, &family_, as_slice(encode_partition_key(partition)));
        if (!status.ok()) return io_error("deleting the older checkpoint of partition " + std::to_string(partition), status);
        return std::string("the older checkpoint kept in the log's database was deleted");
    }

private:
    std::string path_of(std::uint32_t partition) const {
        return folder_ + "/" + std::to_string(partition) + ".checkpoint";
    }

    static error errno_error(const std::string& what) {
        return error{errc::io, "checkpoints: " + what + ": " + std::strerror(errno)};
    }

    result<unit> write_file(const std::string& path, std::string_view bytes) const {
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) return errno_error("creating " + path);
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                auto failed = errno_error("writing " + path);
                ::close(fd);
                return failed;
            }
            done += static_cast<std::size_t>(n);
        }
        if (sync_ && ::fsync(fd) != 0) {
            auto failed = errno_error("syncing " + path);
            ::close(fd);
            return failed;
        }
        if (::close(fd) != 0) return errno_error("closing " + path);
        return unit{};
    }

    static result<unit> sync_path(const std::string& path, int flags) {
        const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
        if (fd < 0) return errno_error("opening " + path);
        const bool ok = ::fsync(fd) == 0;
        auto failed = ok ? result<unit>(unit{}) : result<unit>(errno_error("syncing " + path));
        ::close(fd);
        return failed;
    }

    error out_of_range(std::uint32_t partition) const {
        return error{errc::invalid, "checkpoints: partition " + std::to_string(partition) + " is out of range (" +
                                        std::to_string(partitions_) + " partitions)"};
    }

    rocksdb::DB& db_;
    rocksdb::ColumnFamilyHandle& family_;
    std::uint32_t partitions_;
    std::string folder_;
    bool sync_;
    rocksdb::WriteOptions write_options_;  // for the older checkpoints' column family
};

// ---- Opening ------------------------------------------------------------------------------------

std::optional<error> validate(const embedded_log_options& options) {
    if (options.directory.empty()) return error{errc::invalid, "embedded log: no directory given"};
    if (options.partitions == 0 || options.partitions > partitions_max) {
        return error{errc::invalid, "embedded log: partitions must be in 1.." +
                                        std::to_string(partitions_max) + ", not " +
                                        std::to_string(options.partitions)};
    }
    if (options.group_commit_records_max == 0 || options.group_commit_bytes_max == 0 ||
        options.queued_records_max == 0 || options.record_bytes_max == 0) {
        return error{errc::invalid, "embedded log: every limit must be above zero"};
    }
    if (options.record_bytes_max > std::numeric_limits<std::uint32_t>::max()) {
        return error{errc::invalid, "embedded log: record_bytes_max must stay below RocksDB's 4 GiB value limit"};
    }
    return std::nullopt;
}

rocksdb::ColumnFamilyOptions family_options() {
    rocksdb::ColumnFamilyOptions options;
    // Compression runs only in flushes and compactions, off the append path; LZ4 is cheap and
    // shrinks JSON-like records well.
    const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
    const bool lz4 = std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) != supported.end();
    options.compression = lz4 ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
    // Keeps the size of each level proportional to the data actually there, which suits a log that
    // only grows: less write amplification than fixed level targets.
    options.level_compaction_dynamic_level_bytes = true;
    // Memtables are a fixed cost, not a per-user one, but RocksDB's 64 MiB default per family made
    // them half of what a waiting user seemed to cost at 200,000 users (docs/BENCHMARKS.md). A log
    // that is only appended to and read near its tail gains nothing from bigger ones.
    options.write_buffer_size = log_write_buffer_bytes;
    return options;
}

rocksdb::DBOptions database_options(const std::string& directory) {
    rocksdb::DBOptions options;
    options.info_log = rocksdb_logger_for(directory);
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    options.max_background_jobs = rocksdb_background_jobs;
    options.max_total_wal_size = rocksdb_wal_bytes_max;
    options.db_write_buffer_size = log_write_buffers_total_bytes;
    // A torn tail after a crash holds only unacknowledged writes: drop it and open with the rest.
    options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
    return options;
}

// The partition count is written on first open and must match on every later one.
result<unit> check_partition_count(rocksdb::DB& db, rocksdb::ColumnFamilyHandle& meta,
                                   const embedded_log_options& options) {
    std::string stored;
    rocksdb::Status status = db.Get(rocksdb::ReadOptions(), &meta, rocksdb::Slice(partitions_meta_key.data(),
                                                                                 partitions_meta_key.size()), &stored);
    if (status.IsNotFound()) {
        const std::string count = std::to_string(options.partitions);
        status = db.Put(write_options_for(options), &meta,
                        rocksdb::Slice(partitions_meta_key.data(), partitions_meta_key.size()), count);
        if (!status.ok()) return io_error("embedded log: storing the partition count", status);
        return unit{};
    }
    if (!status.ok()) return io_error("embedded log: reading the partition count", status);
    std::uint32_t stored_count = 0;
    const auto [end, ec] = std::from_chars(stored.data(), stored.data() + stored.size(), stored_count);
    if (ec != std::errc{} || end != stored.data() + stored.size()) {
        return error{errc::corrupt, "embedded log: stored partition count '" + stored + "' does not parse"};
    }
    if (stored_count != options.partitions) {
        return error{errc::invalid, "embedded log: " + options.directory + " was created with " +
                                        std::to_string(stored_count) + " partitions but is opened with " +
                                        std::to_string(options.partitions) +
                                        "; ids and routing depend on the count, so it cannot change"};
    }
    return unit{};
}

}  // namespace

// ---- The whole log ------------------------------------------------------------------------------

// Owned by embedded_log. The writer thread runs `run_writer`; everything else runs on callers'
// threads. Members are destroyed in reverse order: the thread is joined (in ~state) before the
// streams, and the column family handles are released before the database.
struct embedded_log::state {
    explicit state(const embedded_log_options& opened_with) : options(opened_with), queue(options) {}

    ~state() {
        queue.stop();
        if (writer.joinable()) writer.join();
        marker.reset();  // its last write records the final ends
        commands.reset();
        events.reset();
        checkpoints.reset();
        if (db) {
            // The memtables go to disk now, so that the next open reads tables instead of
            // replaying up to rocksdb_wal_bytes_max of write-ahead log (seconds at onsale scale).
            ignore_status(db->Flush(rocksdb::FlushOptions(), families));
            for (rocksdb::ColumnFamilyHandle* family : families) ignore_status(db->DestroyColumnFamilyHandle(family));
            ignore_status(db->Close());
        }
    }

    result<unit> open_database();
    result<unit> start();
    result<unit> check_durable_ends(const std::vector<std::uint64_t>& command_ends);
    void run_writer() noexcept;
    void write_batch(std::vector<pending_append>& batch);
    void commit(std::vector<pending_append>& batch, bool sync);

    const embedded_log_options options;
    std::unique_ptr<rocksdb::DB> db;
    std::vector<rocksdb::ColumnFamilyHandle*> families;
    append_queue queue;
    std::unique_ptr<stream_impl> commands;
    std::unique_ptr<stream_impl> events;
    std::unique_ptr<checkpoint_impl> checkpoints;
    std::unique_ptr<durable_ends_marker> marker;  // when synced
    std::atomic<std::uint64_t> batches_written{0};
    // Writer thread only. Once a write failed, every later append is refused until RocksDB resumes
    // (tried at most once per resume_interval, with the reserve free again).
    std::optional<error> failure;
    std::chrono::steady_clock::time_point last_resume_attempt{};
    bool resume_refused_logged = false;
    bool under_reserve = false;  // synced appends are refused for space
    std::thread writer;

    // The storage figures, written by the writer, read by storage().
    std::atomic<bool> write_failed{false};
    std::atomic<std::uint64_t> refused_appends{0};
    std::atomic<std::uint64_t> write_failures{0};
    std::atomic<std::uint64_t> resumed{0};
    mutable std::mutex failure_mutex;
    std::string failure_text;  // under failure_mutex

    // Free bytes on the log's file system; nothing when statvfs fails (then nothing is refused for
    // space: the write itself will say).
    std::optional<std::uint64_t> free_bytes() const;
    // Writer thread: the error that refuses the calls of a commit, if any.
    std::optional<error> refusal(bool sync);
    static constexpr std::chrono::seconds resume_interval{1};
};

std::optional<std::uint64_t> embedded_log::state::free_bytes() const {
    struct statvfs figures {};
    if (::statvfs(options.directory.c_str(), &figures) != 0) return std::nullopt;
    return static_cast<std::uint64_t>(figures.f_bavail) * figures.f_frsize;
}

std::optional<error> embedded_log::state::refusal(bool sync) {
    // Unknown (statvfs failed, or no reserve) counts as plenty: the write itself will say.
    constexpr std::uint64_t plenty = std::numeric_limits<std::uint64_t>::max();
    const std::uint64_t free = options.free_bytes_reserve > 0 ? free_bytes().value_or(plenty) : plenty;
    if (failure) {
        const auto now = std::chrono::steady_clock::now();
        const bool room = free >= options.free_bytes_reserve;
        if (!room || now - last_resume_attempt < resume_interval) return failure;
        last_resume_attempt = now;
        const rocksdb::Status resumed_status = db->Resume();
        if (!resumed_status.ok()) {
            // RocksDB resumes after a failed flush or compaction; after a failed write-ahead log
            // append it never does (the file's writer is unusable): only a restart reopens it.
            if (!resume_refused_logged) {
                diag::error("log", "writing cannot resume in this process; restart the node (nothing acknowledged is lost)",
                            {{"error", resumed_status.ToString()}});
                resume_refused_logged = true;
            }
            return failure;
        }
        resume_refused_logged = false;
        diag::info("log", "writing resumed", {{"after", failure->message}});
        failure.reset();
        write_failed.store(false);
        resumed.fetch_add(1, std::memory_order_relaxed);
    }
    const std::uint64_t floor = sync ? options.free_bytes_reserve : options.free_bytes_reserve / 2;
    // Said once when new commands start being refused, and once when they are taken again.
    if (sync && (free < floor) != under_reserve) {
        under_reserve = free < floor;
        const nlohmann::json figures = {{"free_bytes", free}, {"reserve_bytes", options.free_bytes_reserve},
                                        {"directory", options.directory}};
        if (under_reserve) diag::warn("log", "free space under the reserve: new commands are refused", figures);
        else diag::info("log", "free space is back above the reserve: new commands are taken again", figures);
    }
    if (free >= floor) return std::nullopt;
    return error{errc::storage, "embedded log: " + std::to_string(free >> 20) + " MiB free on the file system of " +
                                    options.directory + ", under the " + std::to_string(floor >> 20) +
                                    " MiB kept in reserve: " + (sync ? "new commands" : "derived records") +
                                    " are refused until space is freed"};
}

result<unit> embedded_log::state::open_database() {
    std::error_code ec;
    std::filesystem::create_directories(options.directory, ec);
    if (ec) return error{errc::io, "embedded log: creating " + options.directory + ": " + ec.message()};

    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (std::string_view name : family_names) descriptors.emplace_back(std::string(name), family_options());
    assert(descriptors[default_family].name == rocksdb::kDefaultColumnFamilyName);
    rocksdb::DB* opened = nullptr;
    const rocksdb::Status status =
        rocksdb::DB::Open(database_options(options.directory), options.directory, descriptors, &families, &opened);
    if (!status.ok()) return io_error("embedded log: opening " + options.directory, status);
    db.reset(opened);
    assert(families.size() == family_count);
    return unit{};
}

result<unit> embedded_log::state::start() {
    if (auto opened = open_database(); !opened) return opened.err();
    if (auto checked = check_partition_count(*db, *families[meta_family], options); !checked) return checked.err();
    auto command_ends = recover_ends(*db, *families[commands_family], options.partitions);
    if (!command_ends) return command_ends.err();
    auto event_ends = recover_ends(*db, *families[events_family], options.partitions);
    if (!event_ends) return event_ends.err();
    if (auto checked = check_durable_ends(*command_ends); !checked) return checked.err();
    if (options.sync) {
        auto opened = durable_ends_marker::open(options.directory, *command_ends);
        if (!opened) return opened.err();
        marker = std::move(opened).value();
    }

    commands = std::make_unique<stream_impl>("commands", *db, *families[commands_family], *command_ends, queue,
                                             options);
    events = std::make_unique<stream_impl>("events", *db, *families[events_family], *event_ends, queue, options);
    checkpoints = std::make_unique<checkpoint_impl>(*db, *families[checkpoints_family], options.partitions, options);
    if (auto opened = checkpoints->open(); !opened) return opened.err();
    try {
        writer = std::thread([this] {
            diag::name_thread("log-writer");
            run_writer();
        });
    } catch (const std::system_error& e) {
        return error{errc::unavailable, std::string("embedded log: starting the writer thread: ") + e.what()};
    }
    return unit{};
}

// A log that lost commands it had acknowledged refuses to open (durable_ends.hpp). A record of the
// ends that is itself damaged only loses the check: said, not fatal.
result<unit> embedded_log::state::check_durable_ends(const std::vector<std::uint64_t>& command_ends) {
    auto marked = read_durable_ends(options.directory);
    if (!marked) {
        if (marked.err().code != errc::corrupt) return marked.err();
        diag::warn("log", "the record of the durable ends is damaged; the log's tail cannot be checked this time",
                   {{"error", marked.err().message}});
        return unit{};
    }
    if (!marked->has_value()) return unit{};
    if (auto lost = lost_durable_records(command_ends, **marked, options.directory))
        return error{errc::corrupt, "embedded log: " + *lost};
    return unit{};
}

void embedded_log::state::run_writer() noexcept {
    for (;;) {
        std::vector<pending_append> batch = queue.pop_batch();
        if (batch.empty()) return;
        write_batch(batch);
    }
}

// One pass of the writer over the calls it took from the queue. Derived records (events and saga
// commands, log_stream::append_derived) are written first, in one unsynced write, and made visible
// at once: nothing waits for an fsync to see them, so a command's outcome reaches the projector
// without waiting for the next group commit's fsync. The synced calls then go in one synced group
// commit. Moving derived calls ahead of synced calls taken in the same pass reorders only calls of
// different callers (each caller's derived calls keep their order; a runner waits for its synced
// Ticks), and the WAL order still puts every derived record before the next synced write, whose
// fsync makes it durable.
void embedded_log::state::write_batch(std::vector<pending_append>& batch) {
    std::vector<pending_append> derived, synced;
    for (pending_append& item : batch) (item.synced ? synced : derived).push_back(std::move(item));
    if (!derived.empty()) commit(derived, false);
    if (!synced.empty()) commit(synced, true);
}

// Stages the calls in order, writes them in one batch (synced if `sync`), then makes them visible,
// wakes readers and acknowledges. On failure nothing becomes visible and every call gets the error.
void embedded_log::state::commit(std::vector<pending_append>& batch, bool sync) {
    rocksdb::WriteBatch write_batch;
    std::vector<result<std::uint64_t>> outcomes;
    outcomes.reserve(batch.size());
    const std::optional<error> refused = refusal(sync);
    for (const pending_append& item : batch) {
        if (item.refused) {
            outcomes.emplace_back(*item.refused);
        } else if (refused) {
            outcomes.emplace_back(*refused);
            refused_appends.fetch_add(1, std::memory_order_relaxed);
        } else {
            outcomes.emplace_back(item.stream->stage(item, write_batch));
        }
    }

    rocksdb::Status status;
    if (write_batch.Count() > 0) {
        rocksdb::WriteOptions write_options = write_options_for(options);
        write_options.sync = write_options.sync && sync;
        status = db->Write(write_options, &write_batch);
        if (status.ok()) batches_written.fetch_add(1, std::memory_order_relaxed);
    }
    if (status.ok()) {
        commands->publish();
        events->publish();
        // A synced write makes everything before it in the write-ahead log durable too.
        if (marker && sync && write_batch.Count() > 0) marker->mark(commands->ends());
    } else {
        commands->roll_back();
        events->roll_back();
        failure = error{errc::storage, "embedded log: writing failed, appends are refused until it resumes (if it does "
                                       "not once the disk is healthy, restart the node: nothing acknowledged is lost): " +
                                           status.ToString()};
        last_resume_attempt = std::chrono::steady_clock::now();
        write_failures.fetch_add(1, std::memory_order_relaxed);
        {
            std::lock_guard lock(failure_mutex);
            failure_text = failure->message;
        }
        write_failed.store(true);
        diag::error("log", "group commit failed", {{"error", status.ToString()}, {"records", write_batch.Count()}});
        for (auto& outcome : outcomes) {
            if (outcome.ok()) outcome = *failure;
        }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(outcomes[i]));
}

// ---- Public surface -----------------------------------------------------------------------------

result<std::unique_ptr<embedded_log>> embedded_log::open(const embedded_log_options& options) {
    if (auto invalid = validate(options)) return *invalid;
    auto opened = std::make_unique<state>(options);
    if (auto started = opened->start(); !started) return started.err();
    return std::unique_ptr<embedded_log>(new embedded_log(std::move(opened)));
}

embedded_log::embedded_log(std::unique_ptr<state> state) : state_(std::move(state)) {}

embedded_log::~embedded_log() = default;

log_stream& embedded_log::commands() { return *state_->commands; }
log_stream& embedded_log::events() { return *state_->events; }
checkpoint_store& embedded_log::checkpoints() { return *state_->checkpoints; }

std::uint64_t embedded_log::batches_written() const { return state_->batches_written.load(std::memory_order_relaxed); }

embedded_log_storage embedded_log::storage() const {
    const state& s = *state_;
    embedded_log_storage out;
    out.reserve_bytes = s.options.free_bytes_reserve;
    const std::optional<std::uint64_t> free = s.free_bytes();
    const bool known = free.has_value();
    out.free_bytes = free.value_or(0);
    out.refused_appends = s.refused_appends.load(std::memory_order_relaxed);
    out.write_failures = s.write_failures.load(std::memory_order_relaxed);
    out.resumed = s.resumed.load(std::memory_order_relaxed);
    if (s.write_failed.load()) {
        std::lock_guard lock(s.failure_mutex);
        out.refusing = true;
        out.reason = s.failure_text;
    } else if (known && out.reserve_bytes > 0 && out.free_bytes < out.reserve_bytes) {
        out.refusing = true;
        out.reason = std::to_string(out.free_bytes >> 20) + " MiB free on the log's file system, under the " +
                     std::to_string(out.reserve_bytes >> 20) + " MiB reserve: new commands are refused until space is freed";
    }
    return out;
}

result<std::optional<std::string>> embedded_log::get_meta(std::string_view key) {
    std::string value;
    const rocksdb::Status status = state_->db->Get(rocksdb::ReadOptions(), state_->families[meta_family],
                                                   rocksdb::Slice(key.data(), key.size()), &value);
    if (status.IsNotFound()) return std::optional<std::string>{};
    if (!status.ok()) return io_error("embedded log: reading meta key " + std::string(key), status);
    return std::optional<std::string>{std::move(value)};
}

result<unit> embedded_log::put_meta(std::string_view key, std::string_view value) {
    if (key.empty() || key.starts_with(reserved_meta_prefix)) {
        return error{errc::invalid, "embedded log: meta key '" + std::string(key) + "' is empty or reserved"};
    }
    if (key.size() + value.size() > meta_bytes_max) {
        return error{errc::invalid, "embedded log: meta entry '" + std::string(key) + "' is over meta_bytes_max"};
    }
    const rocksdb::Status status = state_->db->Put(write_options_for(state_->options), state_->families[meta_family],
                                                   rocksdb::Slice(key.data(), key.size()),
                                                   rocksdb::Slice(value.data(), value.size()));
    if (!status.ok()) return io_error("embedded log: writing meta key " + std::string(key), status);
    return unit{};
}

}  // namespace encore
