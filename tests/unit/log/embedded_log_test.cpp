// The embedded log against real RocksDB, each test on a fresh temporary directory removed after it.
// No test asserts on time: waits are generous upper bounds that only matter when something hangs.

#include "events/log/durable_ends.hpp"
#include "events/log/embedded_log.hpp"
#include "events/log/embedded_log_reader.hpp"
#include "tests/support/temp_directory.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <optional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace encore;
using namespace std::chrono_literals;

// How long a test waits for something that should happen at once before it calls it a hang.
constexpr auto hang_wait = 30s;

using encore::test::temp_directory;

embedded_log_options options_for(const temp_directory& directory, std::uint32_t partitions) {
    embedded_log_options options;
    options.directory = directory.path("log");
    options.partitions = partitions;
    return options;
}

std::unique_ptr<embedded_log> open_log(const embedded_log_options& options) {
    auto opened = embedded_log::open(options);
    if (!opened) FAIL("open failed: " << opened.err().message);
    return std::move(opened).value();
}

// Counts callbacks (which run on the writer thread) so the test thread can wait for all of them.
class completions {
public:
    void add() {
        // Notifies under the lock: once the waiter sees the last count it may destroy this object.
        std::lock_guard lock(mutex_);
        ++count_;
        changed_.notify_all();
    }
    bool wait_for(std::size_t expected) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, hang_wait, [&] { return count_ >= expected; });
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::size_t count_ = 0;
};

// Reads a partition from 0 to its end, as a reader must: in as many calls as the log needs.
std::vector<std::string> read_all(log_stream& stream, std::uint32_t partition) {
    const std::uint64_t end = stream.end(partition);
    std::vector<std::string> records;
    while (records.size() < end) {
        auto entries = stream.read(partition, records.size(), end - records.size(), 0ms);
        REQUIRE(entries.ok());
        REQUIRE_FALSE(entries->empty());
        for (const log_entry& entry : *entries) {
            REQUIRE(entry.offset == records.size());
            records.push_back(entry.bytes);
        }
    }
    return records;
}

std::uint64_t append_ok(log_stream& stream, std::uint32_t partition, std::vector<std::string> records) {
    auto appended = stream.append_and_wait(partition, std::move(records));
    if (!appended) FAIL("append failed: " << appended.err().message);
    return *appended;
}

}  // namespace

TEST_CASE("appends from 8 threads get dense offsets and keep each thread's call order") {
    constexpr int thread_count = 8;
    constexpr int calls_per_thread = 150;
    temp_directory directory;
    auto log = open_log(options_for(directory, 2));

    // Thread t appends to stream t % 2, partition (t / 2) % 2: two threads share each partition.
    auto stream_of = [&](int t) -> log_stream& { return t % 2 == 0 ? log->commands() : log->events(); };
    auto partition_of = [](int t) { return static_cast<std::uint32_t>((t / 2) % 2); };

    std::mutex results_mutex;
    std::map<std::pair<int, int>, std::uint64_t> first_offsets;  // (thread, call) → first offset
    int failures = 0;
    completions done;
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            for (int call = 0; call < calls_per_thread; ++call) {
                std::vector<std::string> records;
                for (int k = 0; k <= call % 3; ++k) {
                    records.push_back(std::to_string(t) + ":" + std::to_string(call) + ":" + std::to_string(k));
                }
                stream_of(t).append(partition_of(t), std::move(records), [&, t, call](result<std::uint64_t> r) {
                    std::lock_guard lock(results_mutex);
                    if (r.ok()) first_offsets[{t, call}] = *r; else ++failures;
                    done.add();
                });
            }
        });
    }
    for (auto& thread : threads) thread.join();
    REQUIRE(done.wait_for(thread_count * calls_per_thread));
    REQUIRE(failures == 0);

    std::size_t records_seen = 0;
    for (int stream_index = 0; stream_index < 2; ++stream_index) {
        for (std::uint32_t partition = 0; partition < 2; ++partition) {
            log_stream& stream = stream_index == 0 ? log->commands() : log->events();
            // read_all checks that offsets run 0..N-1 without a gap or a repeat.
            const std::vector<std::string> records = read_all(stream, partition);
            REQUIRE(records.size() == stream.end(partition));
            records_seen += records.size();

            std::map<int, std::pair<int, int>> last_seen;  // thread → last (call, k) seen
            for (std::size_t offset = 0; offset < records.size(); ++offset) {
                int t = 0, call = 0, k = 0;
                REQUIRE(std::sscanf(records[offset].c_str(), "%d:%d:%d", &t, &call, &k) == 3);
                REQUIRE(stream_of(t).partitions() == 2);
                REQUIRE(&stream_of(t) == &stream);
                REQUIRE(partition_of(t) == partition);
                // The call's records sit at its acknowledged first offset onwards, in order.
                REQUIRE(first_offsets.at({t, call}) + static_cast<std::uint64_t>(k) == offset);
                if (last_seen.count(t) != 0) REQUIRE(last_seen[t] < std::make_pair(call, k));
                last_seen[t] = {call, k};
            }
        }
    }
    std::size_t records_sent = 0;
    for (int call = 0; call < calls_per_thread; ++call) {
        records_sent += thread_count * static_cast<std::size_t>(call % 3 + 1);
    }
    REQUIRE(records_seen == records_sent);
}

TEST_CASE("read returns a window from the middle and nothing past the end") {
    temp_directory directory;
    auto log = open_log(options_for(directory, 1));
    for (int i = 0; i < 10; ++i) append_ok(log->events(), 0, {"r" + std::to_string(i)});
    REQUIRE(log->events().end(0) == 10);

    auto middle = log->events().read(0, 4, 3, 0ms);
    REQUIRE(middle.ok());
    REQUIRE(middle->size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK((*middle)[i].offset == 4 + i);
        CHECK((*middle)[i].bytes == "r" + std::to_string(4 + i));
    }

    auto tail = log->events().read(0, 8, 100, 0ms);
    REQUIRE(tail.ok());
    REQUIRE(tail->size() == 2);
    CHECK(tail->back().offset == 9);

    auto past_end = log->events().read(0, 10, 5, 0ms);
    REQUIRE(past_end.ok());
    CHECK(past_end->empty());

    auto none_asked = log->events().read(0, 0, 0, 0ms);
    REQUIRE(none_asked.ok());
    CHECK(none_asked->empty());

    // The other stream is independent: its offsets start at 0 too.
    CHECK(log->commands().end(0) == 0);
    CHECK(append_ok(log->commands(), 0, {"c"}) == 0);
}

// What read gave, as (offset, bytes) pairs, and what read_into gave the same way.
std::vector<std::pair<std::uint64_t, std::string>> pairs_of(const std::vector<log_entry>& entries) {
    std::vector<std::pair<std::uint64_t, std::string>> out;
    for (const log_entry& e : entries) out.emplace_back(e.offset, e.bytes);
    return out;
}
std::vector<std::pair<std::uint64_t, std::string>> pairs_of(const log_batch& batch) {
    std::vector<std::pair<std::uint64_t, std::string>> out;
    for (std::size_t i = 0; i < batch.size(); ++i) out.emplace_back(batch.offset(i), std::string(batch.bytes(i)));
    return out;
}

TEST_CASE("read_into gives what read gives, on the log and on a reader's view, one batch reused") {
    temp_directory directory;
    auto log = open_log(options_for(directory, 2));
    // Sizes around the short-string bound and an empty record, in both partitions.
    std::vector<std::string> records;
    for (int i = 0; i < 300; ++i) records.push_back(std::string(static_cast<std::size_t>(i % 40), static_cast<char>('a' + i % 26)));
    append_ok(log->commands(), 0, records);
    append_ok(log->commands(), 1, {"other", ""});

    auto view = embedded_log_reader::open({directory.path("log"), 2});
    REQUIRE(view.ok());
    for (log_stream* stream : {&log->commands(), &(*view)->commands()}) {
        log_batch batch;
        batch.add(99, "left from before");
        // Reads that go on where the last one ended, then one that starts elsewhere.
        std::uint64_t from = 0;
        for (std::size_t max : {7u, 64u, 1000u}) {
            REQUIRE(stream->read_into(0, from, max, 0ms, batch).ok());
            auto plain = stream->read(0, from, max, 0ms);
            REQUIRE(plain.ok());
            REQUIRE_FALSE(batch.empty());
            CHECK(pairs_of(batch) == pairs_of(*plain));
            CHECK(batch.offset(0) == from);
            from = batch.offset(batch.size() - 1) + 1;
        }
        CHECK(from == records.size());
        REQUIRE(stream->read_into(0, 100, 3, 0ms, batch).ok());
        REQUIRE(batch.size() == 3);
        CHECK(batch.bytes(2) == records[102]);
        REQUIRE(stream->read_into(1, 0, 10, 0ms, batch).ok());
        CHECK(pairs_of(batch) == std::vector<std::pair<std::uint64_t, std::string>>{{0, "other"}, {1, ""}});
        // Past the end: an empty batch, not what the last read left.
        REQUIRE(stream->read_into(0, records.size(), 10, 0ms, batch).ok());
        CHECK(batch.empty());
        CHECK_FALSE(stream->read_into(2, 0, 10, 0ms, batch).ok());
    }
}

TEST_CASE("a batch truncated keeps its first records whole") {
    log_batch batch;
    batch.add(5, "five");
    batch.add(6, "");
    batch.add(7, "seven");
    batch.truncate(2);
    REQUIRE(batch.size() == 2);
    CHECK(batch.byte_size() == 4);
    CHECK(batch.bytes(0) == "five");
    CHECK(batch.bytes(1).empty());
    batch.add(8, "eight");
    CHECK(batch.bytes(2) == "eight");
    CHECK(batch.offset(2) == 8);
    batch.truncate(0);
    CHECK(batch.empty());
    CHECK(batch.byte_size() == 0);
}

TEST_CASE("one read returns a bounded number of records and bytes") {
    temp_directory directory;
    auto log = open_log(options_for(directory, 1));

    SECTION("records") {
        const std::size_t total = embedded_log_read_records_max + 100;
        append_ok(log->events(), 0, std::vector<std::string>(total, "r"));
        auto first = log->events().read(0, 0, total, 0ms);
        REQUIRE(first.ok());
        CHECK(first->size() == embedded_log_read_records_max);
        CHECK(read_all(log->events(), 0).size() == total);
    }
    SECTION("bytes") {
        const std::string megabyte(1u << 20, 'x');
        const std::size_t total = embedded_log_read_bytes_max / megabyte.size() + 4;
        for (std::size_t i = 0; i < total; ++i) append_ok(log->events(), 0, {megabyte});
        auto first = log->events().read(0, 0, total, 0ms);
        REQUIRE(first.ok());
        // Stops after the record that reaches the bound.
        CHECK(first->size() == embedded_log_read_bytes_max / megabyte.size());
        CHECK(read_all(log->events(), 0).size() == total);
    }
}

TEST_CASE("a waiting read is woken by an append, and with nothing coming it times out empty") {
    temp_directory directory;
    auto log = open_log(options_for(directory, 2));

    auto quiet = log->events().read(1, 0, 10, 20ms);
    REQUIRE(quiet.ok());
    CHECK(quiet->empty());

    auto reader = std::async(std::launch::async, [&] { return log->events().read(1, 0, 10, hang_wait); });
    std::this_thread::sleep_for(50ms);  // lets the reader start waiting; the test holds either way
    // An append to another partition must not satisfy the reader.
    append_ok(log->events(), 0, {"elsewhere"});
    append_ok(log->events(), 1, {"wake", "up"});

    REQUIRE(reader.wait_for(hang_wait) == std::future_status::ready);
    auto entries = reader.get();
    REQUIRE(entries.ok());
    REQUIRE(entries->size() == 2);
    CHECK((*entries)[0].bytes == "wake");
    CHECK((*entries)[1].bytes == "up");
}

TEST_CASE("records, ends, checkpoints and meta survive close and reopen") {
    temp_directory directory;
    const auto options = options_for(directory, 3);
    {
        auto log = open_log(options);
        append_ok(log->commands(), 0, {"c0", "c1"});
        append_ok(log->commands(), 2, {"c2"});
        append_ok(log->events(), 1, {"e0", "e1", "e2"});
        REQUIRE(log->checkpoints().save(1, "snapshot").ok());
        REQUIRE(log->put_meta("token_secret", "s3cr3t").ok());
    }
    auto log = open_log(options);
    CHECK(log->commands().end(0) == 2);
    CHECK(log->commands().end(1) == 0);
    CHECK(log->commands().end(2) == 1);
    CHECK(log->events().end(0) == 0);
    CHECK(log->events().end(1) == 3);
    CHECK(log->events().end(2) == 0);
    CHECK(read_all(log->commands(), 0) == std::vector<std::string>{"c0", "c1"});
    CHECK(read_all(log->events(), 1) == std::vector<std::string>{"e0", "e1", "e2"});

    auto checkpoint = log->checkpoints().load(1);
    REQUIRE(checkpoint.ok());
    CHECK(*checkpoint == std::optional<std::string>{"snapshot"});
    auto secret = log->get_meta("token_secret");
    REQUIRE(secret.ok());
    CHECK(*secret == std::optional<std::string>{"s3cr3t"});

    // Offsets carry on from the recovered end.
    CHECK(append_ok(log->events(), 1, {"e3"}) == 3);
    CHECK(append_ok(log->commands(), 1, {"first"}) == 0);
}

TEST_CASE("reopening with another partition count is refused") {
    temp_directory directory;
    auto options = options_for(directory, 4);
    { auto log = open_log(options); }

    options.partitions = 8;
    auto refused = embedded_log::open(options);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.err().code == errc::invalid);
    CHECK_THAT(refused.err().message, Catch::Contains("4 partitions") && Catch::Contains("8"));

    options.partitions = 4;
    CHECK(embedded_log::open(options).ok());
}

TEST_CASE("checkpoints are saved, loaded and replaced whole per partition") {
    temp_directory directory;
    auto log = open_log(options_for(directory, 2));
    checkpoint_store& checkpoints = log->checkpoints();

    auto none = checkpoints.load(0);
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());

    REQUIRE(checkpoints.save(0, "first").ok());
    REQUIRE(checkpoints.save(0, "second, longer than the first").ok());
    REQUIRE(checkpoints.save(1, "").ok());

    auto replaced = checkpoints.load(0);
    REQUIRE(replaced.ok());
    CHECK(*replaced == std::optional<std::string>{"second, longer than the first"});
    auto empty = checkpoints.load(1);
    REQUIRE(empty.ok());
    CHECK(*empty == std::optional<std::string>{""});

    CHECK(checkpoints.save(2, "x").err().code == errc::invalid);
    CHECK(checkpoints.load(2).err().code == errc::invalid);
}

TEST_CASE("an out-of-range partition is refused and the log carries on") {
    temp_directory directory;
    auto log = open_log(options_for(directory, 2));

    std::promise<result<std::uint64_t>> refused;
    std::promise<std::thread::id> refused_on;
    log->commands().append(2, {"x"}, [&](result<std::uint64_t> r) {
        refused_on.set_value(std::this_thread::get_id());
        refused.set_value(std::move(r));
    });
    auto outcome = refused.get_future().get();
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.err().code == errc::invalid);
    // Refusals are delivered like acknowledgements: on the log's writer thread.
    CHECK(refused_on.get_future().get() != std::this_thread::get_id());

    auto read = log->commands().read(7, 0, 1, 0ms);
    REQUIRE_FALSE(read.ok());
    CHECK(read.err().code == errc::invalid);

    CHECK(log->commands().end(0) == 0);
    CHECK(log->commands().end(1) == 0);
    CHECK(append_ok(log->commands(), 1, {"fine"}) == 0);
}

TEST_CASE("an empty append is acknowledged with the current end and writes nothing") {
    temp_directory directory;
    auto log = open_log(options_for(directory, 1));
    append_ok(log->events(), 0, {"a", "b", "c"});
    const std::uint64_t batches_before = log->batches_written();

    CHECK(append_ok(log->events(), 0, {}) == 3);
    CHECK(log->events().end(0) == 3);
    CHECK(log->batches_written() == batches_before);
}

TEST_CASE("a callback may append: the runner appends events when its command is durable") {
    temp_directory directory;
    auto log = open_log(options_for(directory, 1));
    std::promise<result<std::uint64_t>> event_outcome;
    // No Catch2 macro here: it is not thread-safe, and this runs on the writer thread.
    log->commands().append(0, {"command"}, [&](result<std::uint64_t> command) {
        if (!command.ok()) {
            event_outcome.set_value(command.err());
            return;
        }
        log->events().append(0, {"event of " + std::to_string(*command)},
                             [&](result<std::uint64_t> r) { event_outcome.set_value(std::move(r)); });
    });
    auto future = event_outcome.get_future();
    REQUIRE(future.wait_for(hang_wait) == std::future_status::ready);
    auto event = future.get();
    REQUIRE(event.ok());
    CHECK(*event == 0);
    CHECK(read_all(log->events(), 0) == std::vector<std::string>{"event of 0"});
}

TEST_CASE("group commit writes many concurrent appends in few batches") {
    constexpr int thread_count = 4;
    constexpr int appends_per_thread = 250;
    temp_directory directory;
    auto options = options_for(directory, 4);
    options.sync = true;  // the realistic case: each batch costs an fsync
    auto log = open_log(options);

    completions done;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < appends_per_thread; ++i) {
                log->events().append(static_cast<std::uint32_t>(t), {"record"}, [&](result<std::uint64_t> r) {
                    if (!r.ok()) ++failures;
                    done.add();
                });
            }
        });
    }
    for (auto& thread : threads) thread.join();
    REQUIRE(done.wait_for(thread_count * appends_per_thread));
    CHECK(failures == 0);
    INFO("batches written: " << log->batches_written());
    CHECK(log->batches_written() >= 1);
    CHECK(log->batches_written() < thread_count * appends_per_thread);
    for (std::uint32_t p = 0; p < thread_count; ++p) CHECK(log->events().end(p) == appends_per_thread);
}

TEST_CASE("closing the log first writes and acknowledges everything queued") {
    constexpr int append_count = 500;
    temp_directory directory;
    const auto options = options_for(directory, 1);
    std::atomic<int> acknowledged{0};
    {
        auto log = open_log(options);
        for (int i = 0; i < append_count; ++i) {
            log->commands().append(0, {std::to_string(i)}, [&](result<std::uint64_t> r) {
                if (r.ok()) ++acknowledged;
            });
        }
    }
    CHECK(acknowledged == append_count);
    auto log = open_log(options);
    CHECK(log->commands().end(0) == append_count);
    CHECK(read_all(log->commands(), 0).back() == std::to_string(append_count - 1));
}

TEST_CASE("meta keys are stored, and the log's own keys are reserved") {
    temp_directory directory;
    auto log = open_log(options_for(directory, 1));
    auto missing = log->get_meta("absent");
    REQUIRE(missing.ok());
    CHECK_FALSE(missing->has_value());

    REQUIRE(log->put_meta("k", "v1").ok());
    REQUIRE(log->put_meta("k", "v2").ok());
    CHECK(*log->get_meta("k") == std::optional<std::string>{"v2"});

    CHECK(log->put_meta("log.partitions", "9").err().code == errc::invalid);
    CHECK(log->put_meta("", "x").err().code == errc::invalid);
    CHECK(*log->get_meta("log.partitions") == std::optional<std::string>{"1"});
}

TEST_CASE("limits and bad options are refused") {
    temp_directory directory;

    SECTION("no partitions") {
        auto opened = embedded_log::open(options_for(directory, 0));
        REQUIRE_FALSE(opened.ok());
        CHECK(opened.err().code == errc::invalid);
    }
    SECTION("too many partitions") {
        auto opened = embedded_log::open(options_for(directory, partitions_max + 1));
        REQUIRE_FALSE(opened.ok());
        CHECK(opened.err().code == errc::invalid);
    }
    SECTION("a directory that is a file") {
        auto options = options_for(directory, 1);
        std::ofstream(options.directory) << "not a directory";
        auto opened = embedded_log::open(options);
        REQUIRE_FALSE(opened.ok());
        CHECK(opened.err().code == errc::io);
    }
    SECTION("a record over record_bytes_max") {
        auto options = options_for(directory, 1);
        options.record_bytes_max = 8;
        auto log = open_log(options);
        auto refused = log->events().append_and_wait(0, {"short", "much too long"});
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.err().code == errc::invalid);
        CHECK(log->events().end(0) == 0);
    }
    SECTION("more records than the queue holds") {
        auto options = options_for(directory, 1);
        options.queued_records_max = 1;
        auto log = open_log(options);
        auto refused = log->events().append_and_wait(0, {"one", "two"});
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.err().code == errc::unavailable);
        CHECK(append_ok(log->events(), 0, {"one"}) == 0);
    }
    SECTION("a call larger than a group commit is written whole") {
        auto options = options_for(directory, 1);
        options.group_commit_records_max = 2;
        auto log = open_log(options);
        CHECK(append_ok(log->events(), 0, {"a", "b", "c", "d", "e"}) == 0);
        CHECK(append_ok(log->events(), 0, {"f"}) == 5);
        CHECK(read_all(log->events(), 0).size() == 6);
    }
}

// A real write failure: the process file-size limit makes the write-ahead log's write fail with
// EFBIG (SIGXFSZ ignored), as a full disk would.
TEST_CASE("a failed group commit is reported to every call of it, hides them, and the log refuses until reopened") {
    constexpr rlim_t file_bytes_limit = 1u << 20;
    temp_directory directory;
    const auto options = options_for(directory, 2);
    auto log = open_log(options);
    append_ok(log->events(), 0, {"before"});

    rlimit saved{};
    REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
    auto* const saved_handler = signal(SIGXFSZ, SIG_IGN);
    rlimit limited = saved;
    limited.rlim_cur = file_bytes_limit;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &limited) == 0);

    std::promise<result<std::uint64_t>> big_outcome;
    std::promise<result<std::uint64_t>> small_outcome;
    // Queued together so that they are likely, though not certain, to share the failing batch.
    log->events().append(0, {std::string(2 * file_bytes_limit, 'x')},
                         [&](result<std::uint64_t> r) { big_outcome.set_value(std::move(r)); });
    log->commands().append(1, {"small"}, [&](result<std::uint64_t> r) { small_outcome.set_value(std::move(r)); });
    auto big = big_outcome.get_future().get();
    auto small = small_outcome.get_future().get();
    auto after = log->events().append_and_wait(1, {"after"});

    REQUIRE(setrlimit(RLIMIT_FSIZE, &saved) == 0);
    signal(SIGXFSZ, saved_handler);

    REQUIRE_FALSE(big.ok());
    CHECK(big.err().code == errc::storage);
    REQUIRE_FALSE(small.ok());  // in the failed batch, or refused by the failed log after it
    CHECK(small.err().code == errc::storage);
    REQUIRE_FALSE(after.ok());
    CHECK(after.err().code == errc::storage);
    CHECK(log->events().end(0) == 1);
    CHECK(log->events().end(1) == 0);
    CHECK(log->commands().end(1) == 0);
    CHECK(read_all(log->events(), 0) == std::vector<std::string>{"before"});
    const embedded_log_storage failed = log->storage();
    CHECK(failed.refusing);
    CHECK(failed.write_failures == 1);
    CHECK_THAT(failed.reason, Catch::Contains("writing failed"));

    // RocksDB cannot write again to a write-ahead log whose append failed: the log keeps refusing,
    // with a reason that says what to do, also once the file may grow again (it tries Resume()
    // every second).
    std::this_thread::sleep_for(1500ms);
    auto still = log->events().append_and_wait(0, {"still refused"});
    REQUIRE_FALSE(still.ok());
    CHECK(still.err().code == errc::storage);
    CHECK_THAT(log->storage().reason, Catch::Contains("restart the node"));
    CHECK(log->storage().refusing);
    CHECK(log->storage().resumed == 0);

    // A reopen (a restart) recovers a log that works again, holding at least what was acknowledged
    // (the failed batch's records were never acknowledged, and the torn write drops them).
    log.reset();
    log = open_log(options);
    CHECK(read_all(log->events(), 0).front() == "before");
    const std::uint64_t end = log->events().end(0);
    INFO("events partition 0 holds " << end << " records after reopen");
    CHECK(append_ok(log->events(), 0, {"again"}) == end);
    CHECK_FALSE(log->storage().refusing);
}

TEST_CASE("under its free-space reserve the log refuses appends for storage, and keeps serving reads") {
    temp_directory directory;
    auto options = options_for(directory, 1);
    {
        auto log = open_log(options);
        append_ok(log->commands(), 0, {"one"});
        CHECK_FALSE(log->storage().refusing);
        CHECK(log->storage().free_bytes > 0);
    }
    options.free_bytes_reserve = std::uint64_t{1} << 60;  // more than any disk has free
    auto log = open_log(options);
    auto refused = log->commands().append_and_wait(0, {"two"});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.err().code == errc::storage);
    CHECK_THAT(refused.err().message, Catch::Contains("reserve") && Catch::Contains("new commands"));
    // Derived records too, once under half the reserve.
    std::promise<result<std::uint64_t>> derived;
    log->events().append_derived(0, {"event"}, [&](result<std::uint64_t> r) { derived.set_value(std::move(r)); });
    auto derived_outcome = derived.get_future().get();
    REQUIRE_FALSE(derived_outcome.ok());
    CHECK(derived_outcome.err().code == errc::storage);
    const embedded_log_storage s = log->storage();
    CHECK(s.refusing);
    CHECK(s.refused_appends == 2);
    CHECK_THAT(s.reason, Catch::Contains("reserve"));
    CHECK(read_all(log->commands(), 0) == std::vector<std::string>{"one"});
    CHECK(log->commands().end(0) == 1);
}

TEST_CASE("a log that lost commands it had acknowledged refuses to open, naming what is missing") {
    temp_directory directory;
    const auto options = options_for(directory, 2);
    {
        auto log = open_log(options);
        std::vector<std::string> ten(10, "command");
        append_ok(log->commands(), 0, ten);
        append_ok(log->commands(), 1, {"a", "b"});
    }
    auto marked = read_durable_ends(options.directory);
    REQUIRE(marked.ok());
    REQUIRE(marked->has_value());
    CHECK(**marked == std::vector<std::uint64_t>{10, 2});

    SECTION("what the record says was durable is missing") {
        {  // the record of a log that had 15 commands in partition 0
            auto marker = durable_ends_marker::open(options.directory, {15, 2});
            REQUIRE(marker.ok());
        }
        auto refused = embedded_log::open(options);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.err().code == errc::corrupt);
        CHECK_THAT(refused.err().message, Catch::Contains("lost records it had acknowledged") &&
                                              Catch::Contains("partition 0 ends at offset 10 but offsets up to 14") &&
                                              Catch::Contains("5 commands missing") && Catch::Contains("backup"));
        CHECK_THAT(refused.err().message, !Catch::Contains("partition 1"));
    }
    SECTION("the newest slot torn: the one before it still holds") {
        {
            auto marker = durable_ends_marker::open(options.directory, {15, 2});
            REQUIRE(marker.ok());
        }
        // Two slots of 2,072 bytes; the newest (generation odd or even) is the one that says 15.
        std::fstream file(durable_ends_path(options.directory), std::ios::in | std::ios::out | std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(file)), {});
        REQUIRE(bytes.size() == 2 * 2072);
        // Each slot: u32 magic, u64 generation, ...; the newest has the larger generation.
        auto generation_at = [&](std::size_t slot) {
            std::uint64_t g = 0;
            std::memcpy(&g, bytes.data() + slot + 4, sizeof g);
            return g;
        };
        const std::size_t newest = generation_at(0) > generation_at(2072) ? 0 : 2072;
        file.seekp(static_cast<std::streamoff>(newest + 100));
        file << "torn";
        file.close();
        auto ends = read_durable_ends(options.directory);
        REQUIRE(ends.ok());
        CHECK(**ends == std::vector<std::uint64_t>{10, 2});
        auto log = open_log(options);
        CHECK(log->commands().end(0) == 10);
    }
    SECTION("a record damaged whole only loses the check") {
        std::ofstream(durable_ends_path(options.directory), std::ios::binary | std::ios::trunc) << std::string(5000, 'z');
        auto ends = read_durable_ends(options.directory);
        REQUIRE_FALSE(ends.ok());
        CHECK(ends.err().code == errc::corrupt);
        auto log = open_log(options);
        CHECK(log->commands().end(0) == 10);
        log.reset();
        auto rewritten = read_durable_ends(options.directory);  // written afresh by the open
        REQUIRE(rewritten.ok());
        CHECK(**rewritten == std::vector<std::uint64_t>{10, 2});
    }
    SECTION("a log of an older version, with no record, opens and starts one") {
        std::filesystem::remove(durable_ends_path(options.directory));
        auto log = open_log(options);
        log.reset();
        auto written = read_durable_ends(options.directory);
        REQUIRE(written.ok());
        CHECK(**written == std::vector<std::uint64_t>{10, 2});
    }
}
