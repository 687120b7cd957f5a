// The Kafka log against librdkafka's mock cluster, over loopback TCP, with a fresh cluster per test.
// No test asserts on time: waits are generous upper bounds that only matter when something hangs.

#include "events/log/kafka_log.hpp"
#include "events/log/kafka_mock.hpp"

#include <catch2/catch.hpp>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/chain.hpp"
#include "engine/runner/checkpointer.hpp"
#include "engine/runner/partition_runner.hpp"
#include "events/codec.hpp"
#include "events/ids.hpp"
#include "tests/support/run_command.hpp"

namespace {

using namespace encore;
using namespace std::chrono_literals;

// How long a test waits for something that should happen at once before it calls it a hang.
constexpr auto hang_wait = 30s;

struct cluster {
    std::unique_ptr<kafka_mock> mock;

    explicit cluster(std::uint32_t partitions, int brokers = 1, std::string prefix = "encore.") {
        auto started = kafka_mock::start(brokers, partitions, std::move(prefix));
        REQUIRE(started.ok());
        mock = std::move(started).value();
    }

    kafka_options options(std::vector<std::pair<std::string, std::string>> config = {}) const {
        kafka_options o;
        o.bootstrap = mock->bootstrap_servers();
        o.partitions = mock->partitions();
        o.topic_prefix = mock->topic_prefix();
        o.config = std::move(config);
        o.client_id = "unit-kafka";
        return o;
    }

    std::unique_ptr<kafka_log> open(std::vector<std::pair<std::string, std::string>> config = {}) const {
        auto opened = kafka_log::open(options(std::move(config)));
        if (!opened) FAIL("open failed: " << opened.err().message);
        return std::move(opened).value();
    }
};

// Collects the outcomes of many appends; `wait` returns once `expected` arrived.
class outcomes {
public:
    append_callback expect(std::size_t call) {
        return [this, call](result<std::uint64_t> r) {
            std::lock_guard lock(mutex_);
            REQUIRE(results_.count(call) == 0);  // exactly once
            results_.emplace(call, std::move(r));
            arrived_.notify_all();
        };
    }
    bool wait(std::size_t expected, std::chrono::seconds limit = hang_wait) {
        std::unique_lock lock(mutex_);
        return arrived_.wait_for(lock, limit, [&] { return results_.size() >= expected; });
    }
    std::map<std::size_t, result<std::uint64_t>> take() {
        std::lock_guard lock(mutex_);
        return std::move(results_);
    }

private:
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::map<std::size_t, result<std::uint64_t>> results_;
};

// Reads [from, end) of one partition, looping as a runner does.
std::vector<log_entry> read_all(log_stream& stream, std::uint32_t partition, std::uint64_t from, std::uint64_t end) {
    std::vector<log_entry> all;
    const auto deadline = std::chrono::steady_clock::now() + hang_wait;
    while (from < end && std::chrono::steady_clock::now() < deadline) {
        auto batch = stream.read(partition, from, 1000, 200ms);
        if (!batch) FAIL("read failed: " << batch.err().message);
        for (auto& entry : *batch) {
            REQUIRE(entry.offset == from);
            ++from;
            all.push_back(std::move(entry));
        }
    }
    REQUIRE(from == end);
    return all;
}

std::string text_record(std::uint32_t partition, std::size_t call, std::size_t index) {
    return "p" + std::to_string(partition) + "/c" + std::to_string(call) + "/r" + std::to_string(index);
}

std::string command_record(std::uint64_t n) {
    return encode(command{command_meta{1'700'000'000'000 + static_cast<time_ms>(n), user_id{7}, "key-" + std::to_string(n), no_position},
                          charge{static_cast<won>(1000 + n)}});
}

// A sealed event as the runner writes it, extending `head`.
std::string event_record(std::uint64_t sequence, chain_link& head) {
    event e;
    e.sequence = sequence;
    e.cause = log_position{0, sequence};
    e.at = 1'700'000'000'000 + static_cast<time_ms>(sequence);
    e.body = charged{user_id{42}, 1000, static_cast<won>(1000 * (sequence + 1))};
    std::string bytes = encode(e);
    head = chain_next(head, bytes);
    return seal(head, bytes);
}


}  // namespace

TEST_CASE("the mock cluster listens on loopback", "[kafka]") {
    cluster c(2, 3);
    const std::string& bootstrap = c.mock->bootstrap_servers();
    INFO(bootstrap);
    std::size_t brokers = 0;
    for (std::size_t at = 0; at != std::string::npos; at = bootstrap.find(',', at + 1)) {
        const std::size_t start = at == 0 ? 0 : at + 1;
        CHECK((bootstrap.compare(start, 10, "127.0.0.1:") == 0 || bootstrap.compare(start, 10, "localhost:") == 0));
        ++brokers;
    }
    CHECK(brokers == 3);
}

TEST_CASE("appends come back in order with dense offsets", "[kafka]") {
    cluster c(1);
    auto log = c.open();
    log_stream& commands = log->commands();
    CHECK(commands.partitions() == 1);
    CHECK(commands.end(0) == 0);

    constexpr std::size_t calls = 50;
    outcomes done;
    std::vector<std::string> expected;
    for (std::size_t call = 0; call < calls; ++call) {
        std::vector<std::string> records;
        for (std::size_t i = 0; i < call % 4 + 1; ++i) records.push_back(text_record(0, call, i));
        expected.insert(expected.end(), records.begin(), records.end());
        commands.append(0, std::move(records), done.expect(call));
    }
    REQUIRE(done.wait(calls));
    auto results = done.take();
    std::uint64_t next = 0;
    for (std::size_t call = 0; call < calls; ++call) {
        REQUIRE(results.at(call).ok());
        // One producer, one partition: each call's records are consecutive and calls keep their order.
        CHECK(*results.at(call) == next);
        next += call % 4 + 1;
    }
    CHECK(commands.end(0) == expected.size());

    auto all = read_all(commands, 0, 0, expected.size());
    for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i].bytes == expected[i]);

    {  // a read from the middle starts exactly there
        auto middle = commands.read(0, 17, 5, 5s);
        REQUIRE(middle.ok());
        REQUIRE(middle->size() == 5);
        for (std::size_t i = 0; i < 5; ++i) {
            CHECK((*middle)[i].offset == 17 + i);
            CHECK((*middle)[i].bytes == expected[17 + i]);
        }
        auto back = commands.read(0, 3, 1, 5s);
        REQUIRE(back.ok());
        REQUIRE(back->size() == 1);
        CHECK((*back)[0].bytes == expected[3]);
    }
    {  // a read at the end with no wait returns nothing
        auto none = commands.read(0, expected.size(), 10, 0ms);
        REQUIRE(none.ok());
        CHECK(none->empty());
    }
    {  // a read with no wait still returns records known to exist
        // A fresh instance has fetched nothing yet; the runner's recovery reads like this.
        auto other = c.open();
        auto first = other->commands().read(0, 0, 1000, 0ms);
        REQUIRE(first.ok());
        REQUIRE(!first->empty());
        CHECK((*first)[0].bytes == expected[0]);
    }
    {  // a read beyond the end is refused, and the partition reads on afterwards
        auto beyond = commands.read(0, expected.size() + 5, 10, 5s);
        REQUIRE(!beyond.ok());
        CHECK(beyond.err().code == errc::invalid);
        auto again = commands.read(0, 2, 1, 5s);
        REQUIRE(again.ok());
        REQUIRE(again->size() == 1);
        CHECK((*again)[0].bytes == expected[2]);
    }
    {  // callbacks run on the log's thread, refusals included
        std::promise<std::thread::id> ran;
        commands.append(0, {std::string(kafka_record_bytes_max + 1, 'x')},
                        [&](result<std::uint64_t>) { ran.set_value(std::this_thread::get_id()); });
        CHECK(ran.get_future().get() != std::this_thread::get_id());
    }
    {  // an empty append is acknowledged with the end
        std::promise<result<std::uint64_t>> empty;
        commands.append(0, {}, [&](result<std::uint64_t> r) { empty.set_value(std::move(r)); });
        auto r = empty.get_future().get();
        REQUIRE(r.ok());
        CHECK(*r == expected.size());
    }
    {  // out-of-range partitions and oversized records are refused
        auto bad = commands.append_and_wait(1, {"x"});
        REQUIRE(!bad.ok());
        CHECK(bad.err().code == errc::invalid);
        auto big = commands.append_and_wait(0, {std::string(kafka_record_bytes_max + 1, 'x')});
        REQUIRE(!big.ok());
        CHECK(big.err().code == errc::invalid);
        CHECK(!commands.read(1, 0, 1, 0ms).ok());
    }
}

TEST_CASE("many partitions are appended and read concurrently", "[kafka]") {
    constexpr std::uint32_t partitions = 8;
    constexpr std::size_t calls_per_partition = 40;
    cluster c(partitions, 3);
    auto log = c.open();

    std::vector<std::thread> writers;
    std::vector<outcomes> done(partitions);
    for (std::uint32_t p = 0; p < partitions; ++p) {
        writers.emplace_back([&, p] {
            for (std::size_t call = 0; call < calls_per_partition; ++call)
                log->events().append(p, {text_record(p, call, 0), text_record(p, call, 1)}, done[p].expect(call));
        });
    }
    // Readers start at once, one per partition, like the projector's threads, and wait for records.
    std::vector<std::future<std::vector<log_entry>>> readers;
    for (std::uint32_t p = 0; p < partitions; ++p)
        readers.push_back(std::async(std::launch::async, [&, p] { return read_all(log->events(), p, 0, calls_per_partition * 2); }));
    for (auto& w : writers) w.join();
    for (std::uint32_t p = 0; p < partitions; ++p) {
        REQUIRE(done[p].wait(calls_per_partition));
        for (auto& [call, r] : done[p].take()) REQUIRE(r.ok());
        auto all = readers[p].get();
        for (std::size_t call = 0; call < calls_per_partition; ++call) {
            CHECK(all[2 * call].bytes == text_record(p, call, 0));
            CHECK(all[2 * call + 1].bytes == text_record(p, call, 1));
        }
        CHECK(log->events().end(p) == calls_per_partition * 2);
        CHECK(log->commands().end(p) == 0);
    }
}

TEST_CASE("a read waits for the first record and wakes when it arrives", "[kafka]") {
    cluster c(2);
    auto log = c.open();
    auto empty = log->commands().read(1, 0, 10, 100ms);
    REQUIRE(empty.ok());
    CHECK(empty->empty());

    auto waiting = std::async(std::launch::async, [&] { return log->commands().read(1, 0, 10, hang_wait); });
    std::this_thread::sleep_for(300ms);
    auto appended = log->commands().append_and_wait(1, {"first"});
    REQUIRE(appended.ok());
    CHECK(*appended == 0);
    auto got = waiting.get();
    REQUIRE(got.ok());
    REQUIRE(got->size() == 1);
    CHECK((*got)[0].offset == 0);
    CHECK((*got)[0].bytes == "first");
}

TEST_CASE("end() sees appends of other instances", "[kafka]") {
    cluster c(3);
    auto writer = c.open();
    auto watcher = c.open();
    for (int i = 0; i < 7; ++i) REQUIRE(writer->commands().append_and_wait(2, {"a", "b"}).ok());
    CHECK(writer->commands().end(2) == 14);
    REQUIRE(watcher->refresh_ends().ok());
    CHECK(watcher->commands().end(2) == 14);
    CHECK(watcher->commands().end(0) == 0);
    CHECK(watcher->events().end(2) == 0);
    REQUIRE(writer->commands().append_and_wait(2, {"c"}).ok());
    // Without an explicit refresh, the cached end catches up within the refresh interval.
    const auto deadline = std::chrono::steady_clock::now() + hang_wait;
    while (watcher->commands().end(2) < 15 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    CHECK(watcher->commands().end(2) == 15);
}

TEST_CASE("checkpoints are saved, replaced and loaded by another instance", "[kafka]") {
    cluster c(4);
    {
        auto first = c.open();
        REQUIRE(first->checkpoints().save(0, "zero v1").ok());
        REQUIRE(first->checkpoints().save(1, "one v1").ok());
        REQUIRE(first->checkpoints().save(0, "zero v2").ok());
        auto own = first->checkpoints().load(0);
        REQUIRE(own.ok());
        CHECK(*own == std::optional<std::string>("zero v2"));
        CHECK(!first->checkpoints().save(4, "nope").ok());
    }
    auto second = c.open();  // as a new process would
    auto zero = second->checkpoints().load(0);  // reads the whole topic
    REQUIRE(zero.ok());
    CHECK(*zero == std::optional<std::string>("zero v2"));
    auto one = second->checkpoints().load(1);  // nothing new: fetches the one message it remembers
    REQUIRE(one.ok());
    CHECK(*one == std::optional<std::string>("one v1"));
    auto none = second->checkpoints().load(2);
    REQUIRE(none.ok());
    CHECK(!none->has_value());

    {  // a checkpoint of several megabytes
        // The mock cluster keeps at most 5 MiB per partition (older messages are dropped, and one
        // message that fills it alone becomes unreadable), so this stays under that.
        std::string big(3u << 20, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
        REQUIRE(second->checkpoints().save(3, big).ok());
        auto third = c.open();
        auto loaded = third->checkpoints().load(3);
        REQUIRE(loaded.ok());
        REQUIRE(loaded->has_value());
        CHECK(**loaded == big);
    }
    {  // a later save is seen by an instance that already loaded (it reads on from where it was)
        REQUIRE(second->checkpoints().save(1, "one v2").ok());
        auto again = second->checkpoints().load(1);
        REQUIRE(again.ok());
        CHECK(*again == std::optional<std::string>("one v2"));
        auto seen = c.open()->checkpoints().load(1);
        REQUIRE(seen.ok());
        CHECK(*seen == std::optional<std::string>("one v2"));
    }
}

TEST_CASE("a broker that goes down and comes back loses no acknowledged record", "[kafka]") {
    cluster c(1, 3);
    // Partition 0 of the commands topic is led by broker 2, which the test takes down.
    REQUIRE(c.mock->set_partition_leader(c.mock->topic_prefix() + "commands", 0, 2).ok());

    SECTION("appends made while it is down complete once it is back") {
        auto log = c.open();
        REQUIRE(log->commands().append_and_wait(0, {"before"}).ok());
        REQUIRE(c.mock->set_broker_down(2, true).ok());
        constexpr std::size_t calls = 20;
        outcomes done;
        for (std::size_t call = 0; call < calls; ++call) log->commands().append(0, {text_record(0, call, 0)}, done.expect(call));
        std::this_thread::sleep_for(1500ms);
        REQUIRE(c.mock->set_broker_down(2, false).ok());
        REQUIRE(done.wait(calls));
        for (auto& [call, r] : done.take()) {
            REQUIRE(r.ok());
            CHECK(*r == call + 1);
        }
        auto all = read_all(log->commands(), 0, 0, calls + 1);
        CHECK(all[0].bytes == "before");
        for (std::size_t call = 0; call < calls; ++call) CHECK(all[call + 1].bytes == text_record(0, call, 0));
    }
    SECTION("appends that time out fail, and every acknowledged one is there exactly once") {
        auto log = c.open({{"message.timeout.ms", "1000"}});
        REQUIRE(log->commands().append_and_wait(0, {"before"}).ok());
        REQUIRE(c.mock->set_broker_down(2, true).ok());
        constexpr std::size_t calls = 20;
        outcomes down;
        for (std::size_t call = 0; call < calls; ++call) log->commands().append(0, {text_record(0, call, 0)}, down.expect(call));
        REQUIRE(down.wait(calls));
        std::size_t failed = 0;
        std::set<std::string> acknowledged = {"before"};
        for (auto& [call, r] : down.take()) {
            if (r.ok()) {
                acknowledged.insert(text_record(0, call, 0));
            } else {
                CHECK(r.err().code == errc::unavailable);
                ++failed;
            }
        }
        CHECK(failed > 0);
        REQUIRE(c.mock->set_broker_down(2, false).ok());
        // The producer reconnects with a backoff: an append made before it has may time out too
        // (with 1 s to live, often under a sanitizer). Each try has bytes of its own, so that one
        // that timed out but was written is not taken for the acknowledged one.
        result<std::uint64_t> after = error{errc::unavailable, "not tried"};
        const auto give_up = std::chrono::steady_clock::now() + 30s;
        for (int attempt = 0; !after.ok() && std::chrono::steady_clock::now() < give_up; ++attempt) {
            after = log->commands().append_and_wait(0, {"after-" + std::to_string(attempt)});
            if (after.ok()) acknowledged.insert("after-" + std::to_string(attempt));
            else CHECK(after.err().code == errc::unavailable);
        }
        INFO((after.ok() ? std::string() : after.err().message));
        REQUIRE(after.ok());

        auto all = read_all(log->commands(), 0, 0, *after + 1);
        std::map<std::string, int> seen;
        for (const auto& entry : all) ++seen[entry.bytes];
        for (const auto& [bytes, count] : seen) CHECK(count == 1);  // never twice
        for (const auto& bytes : acknowledged) CHECK(seen.count(bytes) == 1);  // never lost
    }
}

// Appends `calls` calls of two records each to partition 0 and checks that all are acknowledged.
void append_pairs(kafka_log& log, std::size_t first_call, std::size_t calls) {
    outcomes done;
    for (std::size_t call = first_call; call < first_call + calls; ++call)
        log.commands().append(0, {text_record(0, call, 0), text_record(0, call, 1)}, done.expect(call));
    REQUIRE(done.wait(calls));
    for (auto& [call, r] : done.take()) {
        INFO((r.ok() ? std::string() : r.err().message));
        REQUIRE(r.ok());
    }
}

TEST_CASE("produce errors are retried by the idempotent producer without duplicates", "[kafka]") {
    cluster c(1, 3);
    REQUIRE(c.mock->set_partition_leader(c.mock->topic_prefix() + "commands", 0, 1).ok());
    auto log = c.open();
    REQUIRE(log->commands().append_and_wait(0, {"warm-up"}).ok());
    constexpr std::size_t calls = 20;

    // Refusals the broker did not write, and a disconnect, on any broker…
    c.mock->push_request_errors(kafka_api_produce, 2, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
    c.mock->push_request_errors(kafka_api_produce, 1, RD_KAFKA_RESP_ERR__TRANSPORT);
    append_pairs(*log, 0, calls);
    // …and the same on the leader, where the mock counts what is left.
    REQUIRE(c.mock->push_broker_request_errors(1, kafka_api_produce, 2, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS).ok());
    REQUIRE(c.mock->push_broker_request_errors(1, kafka_api_produce, 1, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION).ok());
    append_pairs(*log, calls, calls);
    auto pending = c.mock->broker_request_errors_pending(1, kafka_api_produce);
    REQUIRE(pending.ok());
    CHECK(*pending == 0);  // every injected error was met

    const std::uint64_t end = 1 + 2 * 2 * calls;
    CHECK(log->commands().end(0) == end);
    auto all = read_all(log->commands(), 0, 0, end);
    for (std::size_t call = 0; call < 2 * calls; ++call) {
        CHECK(all[1 + 2 * call].bytes == text_record(0, call, 0));
        CHECK(all[2 + 2 * call].bytes == text_record(0, call, 1));
    }
    // Nothing beyond what was acknowledged: no duplicate slipped in after the end either.
    REQUIRE(log->refresh_ends().ok());
    CHECK(log->commands().end(0) == end);
}

TEST_CASE("a produce whose answer is lost is sent again, and acknowledged offsets stay right", "[kafka]") {
    cluster c(1, 3);
    REQUIRE(c.mock->set_partition_leader(c.mock->topic_prefix() + "commands", 0, 1).ok());
    // A request unanswered for this long is given up and its records sent again.
    auto log = c.open({{"socket.timeout.ms", "1100"}});
    REQUIRE(log->commands().append_and_wait(0, {"warm-up"}).ok());
    // The broker writes the batch but answers too late: the client cannot know it was written. Late
    // well past the 1.1 s after which the client gives up (it scans its timeouts once a second).
    REQUIRE(c.mock->push_broker_request_errors(1, kafka_api_produce, 1, RD_KAFKA_RESP_ERR_NO_ERROR, 4000).ok());
    constexpr std::size_t calls = 10;
    outcomes done;
    for (std::size_t call = 0; call < calls; ++call) log->commands().append(0, {text_record(0, call, 0)}, done.expect(call));
    REQUIRE(done.wait(calls));
    auto results = done.take();
    REQUIRE(log->refresh_ends().ok());
    const std::uint64_t end = log->commands().end(0);
    auto all = read_all(log->commands(), 0, 0, end);
    for (auto& [call, r] : results) {
        REQUIRE(r.ok());
        // Whatever the retry did, the acknowledged offset holds the record.
        CHECK(all[*r].bytes == text_record(0, call, 0));
    }
    // A real broker drops the resent batch by its producer id and sequence numbers. The mock only
    // checks sequences for transactional producers, so it writes the batch a second time: that is
    // a limit of the mock, and what this test is for (acknowledged offsets right despite a copy).
    REQUIRE(end > 1 + calls);
    CHECK(end <= 1 + 2 * calls);
    for (std::uint64_t offset = 1 + calls; offset < end; ++offset) {
        const std::string& copy = all[offset].bytes;
        CHECK(std::any_of(results.begin(), results.end(), [&](const auto& r) { return all[*r.second].bytes == copy; }));
    }
}

TEST_CASE("a fatal producer error fails every later append", "[kafka]") {
    cluster c(1, 3);
    REQUIRE(c.mock->set_partition_leader(c.mock->topic_prefix() + "commands", 0, 1).ok());
    auto log = c.open();
    REQUIRE(log->commands().append_and_wait(0, {"before"}).ok());
    // A sequence the broker did not expect: a hole may have opened, and with the gapless guarantee
    // the producer stops rather than write on after it.
    REQUIRE(c.mock->push_broker_request_errors(1, kafka_api_produce, 1, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER).ok());
    auto failed = log->commands().append_and_wait(0, {"during"});
    REQUIRE(!failed.ok());
    CHECK(failed.err().code == errc::io);
    auto after = log->commands().append_and_wait(0, {"after"});
    REQUIRE(!after.ok());
    CHECK(after.err().code == errc::io);
    INFO(after.err().message);
    // Reads still work: the log's content is untouched.
    auto all = read_all(log->commands(), 0, 0, log->commands().end(0));
    CHECK(all[0].bytes == "before");
}

TEST_CASE("the partition runner runs on the Kafka log and restarts from its checkpoint", "[kafka]") {
    constexpr std::uint32_t partitions = 2;
    cluster c(partitions, 3);
    // One user per partition.
    std::vector<user_id> users(partitions);
    for (std::uint64_t id = 1, found = 0; found < partitions; ++id) {
        const std::uint32_t p = partition_of(user_id{id}, partitions);
        if (users[p].value == 0) {
            users[p] = user_id{id};
            ++found;
        }
    }
    auto user_command = [](user_id user, time_ms at, command_body body) {
        return encode(command{command_meta{at, user, "", no_position}, std::move(body)});
    };
    runner::runner_options options;
    options.checkpoint_every_commands = 1;
    options.idle_wait = 20ms;
    auto clock = [] { return time_ms{1'700'000'000'000}; };
    // Waits until partition p's event log reaches `count` and returns its events, checking that
    // each event's sequence is its offset (what the projector relies on).
    auto events_of = [](kafka_log& log, std::uint32_t p, std::uint64_t count) {
        const auto deadline = std::chrono::steady_clock::now() + hang_wait;
        while (log.events().end(p) < count && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
        std::vector<event> out;
        for (const log_entry& entry : read_all(log.events(), p, 0, count)) {
            sealed_event sealed;
            REQUIRE(unseal(entry.bytes, sealed));
            auto decoded = decode_event(sealed.event_bytes);
            REQUIRE(decoded.ok());
            CHECK(decoded->sequence == entry.offset);
            out.push_back(*decoded);
        }
        return out;
    };

    {
        auto log = c.open();
        for (std::uint32_t p = 0; p < partitions; ++p) {
            REQUIRE(log->commands().append_and_wait(p, {user_command(users[p], 1'700'000'000'000, register_user{"kim"}),
                                                        user_command(users[p], 1'700'000'000'001, charge{5000})}).ok());
        }
        runner::runner_group runners(partitions, log->commands(), log->events(), log->checkpoints(), options, clock);
        REQUIRE(runners.recover().ok());
        runners.start();
        for (std::uint32_t p = 0; p < partitions; ++p) {
            auto events = events_of(*log, p, 2);
            CHECK(events[0].type() == event_type::user_registered);
            CHECK(events[1].type() == event_type::charged);
        }
        runners.stop();
        CHECK(!runners.failed());
    }
    // A new process: the checkpoint comes from the snapshots topic, nothing is applied twice.
    auto log = c.open();
    runner::runner_group runners(partitions, log->commands(), log->events(), log->checkpoints(), options, clock);
    REQUIRE(runners.recover().ok());
    // Both commands of each partition are in its checkpoint: recovery applied none again.
    for (std::uint32_t p = 0; p < partitions; ++p) CHECK(runners.at(p).counters().commands_applied == 0);
    runners.start();
    REQUIRE(log->commands().append_and_wait(1, {user_command(users[1], 1'700'000'000'002, charge{700})}).ok());
    auto events = events_of(*log, 1, 3);
    REQUIRE(events[2].type() == event_type::charged);
    CHECK(std::get<charged>(events[2].body).balance == 5700);
    runners.stop();
    CHECK(!runners.failed());
    CHECK(log->events().end(0) == 2);
    CHECK(log->events().end(1) == 3);

    // A checkpoint damaged in the snapshots topic is not believed: partition 0 replays its log,
    // writes nothing twice, and its next checkpoint replaces the damaged one.
    auto saved = log->checkpoints().load(0);
    REQUIRE(saved.ok());
    REQUIRE(saved->has_value());
    std::string damaged = **saved;
    damaged[damaged.size() / 2] ^= 0x10;
    REQUIRE(log->checkpoints().save(0, damaged).ok());
    auto next = c.open();
    runner::runner_group again(partitions, next->commands(), next->events(), next->checkpoints(), options, clock);
    REQUIRE(again.recover().ok());
    CHECK(again.at(0).checkpoints().set_aside == 1);
    CHECK(again.at(0).counters().commands_applied == 2);
    CHECK(again.at(1).checkpoints().set_aside == 0);
    CHECK(again.at(1).counters().commands_applied == 0);
    again.stop();
    CHECK(!again.failed());
    CHECK(next->events().end(0) == 2);
    auto replaced = next->checkpoints().load(0);
    REQUIRE(replaced.ok());
    REQUIRE(replaced->has_value());
    CHECK(runner::decode_checkpoint(**replaced, 0, partitions).ok());
}

TEST_CASE("kcat reads the event topic as JSON", "[kafka]") {
    cluster c(2);
    auto log = c.open();
    chain_link head = chain_genesis;
    std::vector<std::string> records;
    for (std::uint64_t s = 0; s < 3; ++s) records.push_back(event_record(s, head));
    REQUIRE(log->events().append_and_wait(1, records).ok());
    REQUIRE(log->commands().append_and_wait(1, {command_record(1)}).ok());

    const std::string lines = test::run_output("kcat -C -t " + c.mock->topic_prefix() + "events -b " + c.mock->bootstrap_servers() +
                                  " -p 1 -f '%k %s\\n' -e -q 2>/dev/null");
    INFO(lines);
    std::vector<std::string> split;
    for (std::size_t at = 0, next; at < lines.size(); at = next + 1) {
        next = lines.find('\n', at);
        if (next == std::string::npos) next = lines.size();
        if (next > at) split.push_back(lines.substr(at, next - at));
    }
    REQUIRE(split.size() == records.size());
    for (std::size_t i = 0; i < split.size(); ++i) {
        const std::size_t space = split[i].find(' ');
        REQUIRE(space != std::string::npos);
        CHECK(split[i].substr(0, space) == "Charged");
        auto json = nlohmann::json::parse(split[i].substr(space + 1), nullptr, false);
        REQUIRE(json.is_object());
        CHECK(json["type"] == "Charged");
        CHECK(json["sequence"] == i);
        CHECK(json["balance"] == 1000 * (i + 1));
        CHECK(json["link"].is_string());
        CHECK(kafka_unwrap(split[i].substr(space + 1)) == records[i]);
    }

    const std::string command_line = test::run_output("kcat -C -t " + c.mock->topic_prefix() + "commands -b " +
                                         c.mock->bootstrap_servers() + " -p 1 -f '%k %s\\n' -e -q 2>/dev/null");
    INFO(command_line);
    REQUIRE(command_line.starts_with("Charge {"));
    auto json = nlohmann::json::parse(command_line.substr(7), nullptr, false);
    CHECK(json["type"] == "Charge");
    REQUIRE(json.is_object());
    CHECK(json["amount"] == 1001);
    CHECK(json["idempotency_key"] == "key-1");
}

TEST_CASE("envelopes carry the exact record and tolerate other values", "[kafka]") {
    chain_link head = chain_genesis;
    const std::string event = event_record(0, head);
    const std::string envelope = kafka_envelope(kafka_stream_kind::events, event);
    CHECK(nlohmann::json::parse(envelope, nullptr, false).is_object());
    CHECK(kafka_unwrap(envelope) == event);

    const std::string command = command_record(9);
    CHECK(kafka_unwrap(kafka_envelope(kafka_stream_kind::commands, command)) == command);

    // Bytes that are no command or event travel too, with an empty rendering.
    for (std::string odd : {std::string(), std::string("x"), std::string("\0\xff\"}", 4), std::string(1000, '\x7f')}) {
        const std::string wrapped = kafka_envelope(kafka_stream_kind::commands, odd);
        CHECK(nlohmann::json::parse(wrapped, nullptr, false).is_object());
        CHECK(kafka_unwrap(wrapped) == odd);
    }
    // A value another tool wrote with the members reordered still yields its record.
    CHECK(kafka_unwrap(R"({"record": "aGVsbG8=", "type": "x"})") == "hello");
    // Anything else is handed on unchanged, for the decoder to refuse.
    CHECK(kafka_unwrap("not json") == "not json");
    CHECK(kafka_unwrap(R"({"record":"not base64!"})") == R"({"record":"not base64!"})");
}

TEST_CASE("open checks the topics and the settings", "[kafka]") {
    cluster c(4);
    auto wrong = c.options();
    wrong.partitions = 5;
    auto refused = kafka_log::open(wrong);
    REQUIRE(!refused.ok());
    CHECK(refused.err().code == errc::invalid);

    // No count given: the topics' own.
    cluster three(3);
    auto unsaid = three.options();
    unsaid.partitions = 0;
    auto discovered = kafka_log::open(unsaid);
    REQUIRE(discovered.ok());
    CHECK((*discovered)->commands().partitions() == 3);
    CHECK((*discovered)->events().partitions() == 3);
    discovered->reset();

    auto missing = c.options();
    missing.topic_prefix = "other.";
    auto absent = kafka_log::open(missing);
    REQUIRE(!absent.ok());
    CHECK(absent.err().code == errc::invalid);
    missing.partitions = 0;
    auto absent_unsaid = kafka_log::open(missing);
    REQUIRE(!absent_unsaid.ok());
    CHECK(absent_unsaid.err().code == errc::invalid);

    auto fixed = kafka_log::open(c.options({{"enable.idempotence", "false"}}));
    REQUIRE(!fixed.ok());
    CHECK(fixed.err().code == errc::invalid);

    auto unknown = kafka_log::open(c.options({{"no.such.setting", "1"}}));
    REQUIRE(!unknown.ok());
    CHECK(unknown.err().code == errc::invalid);
}
