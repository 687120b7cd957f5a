// The runner's checkpoints, written by its checkpointer from a replica of the state: they must be
// exactly the state a replay of the log reaches, and a restart must start from them.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "engine/runner/checkpointer.hpp"
#include "engine/runner/partition_runner.hpp"
#include "events/codec.hpp"
#include "events/ids.hpp"
#include "events/log/embedded_log.hpp"
#include "tests/support/temp_directory.hpp"

namespace encore {
namespace {

using test::temp_directory;

constexpr time_ms start_ms = 1'800'000'000'000;

// Users registering and charging their wallets, all in partition 0 of 1.
std::vector<std::string> wallet_commands(std::size_t count) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < count; ++i) {
        user_id u{1 + i / 2};
        command_meta meta{start_ms + static_cast<time_ms>(i), u, {}, no_position};
        out.push_back(i % 2 == 0 ? encode(command{meta, register_user{"fan"}}) : encode(command{meta, charge{1'000}}));
    }
    return out;
}

void wait_applied(runner::partition_runner& r, std::uint64_t offset) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (r.applied_offset() < offset) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// The state a fresh engine reaches by replaying the partition's log from offset 0.
engine::partition_state replay(embedded_log& log) {
    auto state = engine::make_partition(0, 1);
    engine::apply_output out;
    auto records = log.commands().read(0, 0, 1'000'000, std::chrono::milliseconds(0));
    REQUIRE(records);
    for (const log_entry& e : *records) {
        out.clear();
        engine::apply_record(state, e.bytes, {0, e.offset}, out);
    }
    return state;
}

TEST_CASE("checkpoints are written off the writer thread and hold exactly the replayed state") {
    temp_directory dir("encore-runner-test");
    auto log = embedded_log::open({.directory = dir.path(), .partitions = 1, .sync = false});
    REQUIRE(log);
    runner::runner_options options;
    options.checkpoint_every_commands = 100;
    constexpr std::size_t commands = 1'000;
    {
        runner::partition_runner r(0, 1, (*log)->commands(), (*log)->events(), (*log)->checkpoints(), options,
                                   runner::system_time_ms);
        REQUIRE(r.recover());
        r.start();
        // In batches of the checkpoint interval, so that each batch makes the checkpointer write one.
        auto all = wallet_commands(commands);
        for (std::size_t from = 0; from < commands; from += options.checkpoint_every_commands) {
            std::vector<std::string> batch(all.begin() + static_cast<std::ptrdiff_t>(from),
                                           all.begin() + static_cast<std::ptrdiff_t>(from + options.checkpoint_every_commands));
            REQUIRE((*log)->commands().append_and_wait(0, std::move(batch)));
            wait_applied(r, from + options.checkpoint_every_commands);
        }
        r.stop();  // the final checkpoint
        // Every 100 commands at first; the interval then grows with the snapshot's size.
        CHECK(r.checkpoints().written.load() >= 3);
        CHECK(r.checkpoints().push_wait_ms_max.load() == 0);
        CHECK_FALSE(r.failed());
    }
    auto saved = (*log)->checkpoints().load(0);
    REQUIRE(saved);
    REQUIRE(saved->has_value());
    auto decoded = runner::decode_checkpoint(**saved, 0, 1);
    REQUIRE(decoded);
    CHECK(decoded->state.next_command_offset == commands);
    CHECK(engine::state_hash(decoded->state) == engine::state_hash(replay(**log)));

    // A restart starts from the checkpoint: nothing left to replay, and it goes on from there.
    runner::partition_runner again(0, 1, (*log)->commands(), (*log)->events(), (*log)->checkpoints(), options,
                                   runner::system_time_ms);
    REQUIRE(again.recover());
    CHECK(again.applied_offset() == commands);
    CHECK(again.counters().commands_applied.load() == 0);
    again.start();
    REQUIRE((*log)->commands().append_and_wait(0, {encode(command{command_meta{start_ms + 5'000, user_id{1}, {}, no_position},
                                                                  charge{5}})}));
    wait_applied(again, commands + 1);
    again.stop();
    auto latest = runner::decode_checkpoint(**(*log)->checkpoints().load(0), 0, 1);
    REQUIRE(latest);
    CHECK(engine::state_hash(latest->state) == engine::state_hash(replay(**log)));
}

TEST_CASE("an undecodable command is applied as an empty Tick by the runner and its checkpointer alike") {
    temp_directory dir("encore-runner-test");
    auto log = embedded_log::open({.directory = dir.path(), .partitions = 1, .sync = false});
    REQUIRE(log);
    auto records = wallet_commands(10);
    records.insert(records.begin() + 4, std::string("\xff\x01garbage", 9));
    REQUIRE((*log)->commands().append_and_wait(0, records));
    runner::partition_runner r(0, 1, (*log)->commands(), (*log)->events(), (*log)->checkpoints(), {}, runner::system_time_ms);
    REQUIRE(r.recover());
    CHECK(r.counters().corrupt_commands.load() == 1);
    r.stop();
    auto saved = runner::decode_checkpoint(**(*log)->checkpoints().load(0), 0, 1);
    REQUIRE(saved);
    CHECK(saved->state.next_command_offset == records.size());
    CHECK(engine::state_hash(saved->state) == engine::state_hash(replay(**log)));
}

// The files set aside in the embedded log's checkpoint folder.
std::vector<std::string> set_aside_files(const std::string& log_directory) {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(log_directory + "/checkpoints")) {
        const std::string name = entry.path().filename().string();
        if (name.find(".checkpoint.bad-") != std::string::npos) out.push_back(name);
    }
    return out;
}

TEST_CASE("a checkpoint that fails its check is set aside and the partition replays its log") {
    temp_directory dir("encore-runner-test");
    auto log = embedded_log::open({.directory = dir.path(), .partitions = 1, .sync = false});
    REQUIRE(log);
    REQUIRE((*log)->commands().append_and_wait(0, wallet_commands(20)));
    {
        runner::partition_runner r(0, 1, (*log)->commands(), (*log)->events(), (*log)->checkpoints(), {}, runner::system_time_ms);
        REQUIRE(r.recover());
        r.stop();
    }
    auto saved = (*log)->checkpoints().load(0);
    REQUIRE(saved);
    REQUIRE(saved->has_value());
    const std::string good = **saved;
    auto decoded = runner::decode_checkpoint(good, 0, 1);
    REQUIRE(decoded);
    REQUIRE(decoded->state.next_command_offset == 20);
    const std::string snapshot = engine::snapshot(decoded->state);
    // format, partition, partitions, next offset, chain head, snapshot length; the snapshot; SHA-256
    constexpr std::size_t header_bytes = 1 + 4 + 4 + 8 + 32 + 8;
    REQUIRE(good.size() == header_bytes + snapshot.size() + 32);

    struct bad_checkpoint {
        std::string what;
        std::string bytes;
        errc expected;
        std::string says;
    };
    std::vector<bad_checkpoint> cases;
    {
        std::string flipped = good;
        flipped[header_bytes + snapshot.size() / 2] ^= 0x01;
        cases.push_back({"one byte flipped in the state (a balance)", flipped, errc::corrupt, "fails its checksum"});
    }
    {
        std::string flipped = good;
        flipped[flipped.size() - 1] ^= 0x80;
        cases.push_back({"one byte flipped in the checksum", flipped, errc::corrupt, "fails its checksum"});
    }
    cases.push_back({"cut in half", good.substr(0, good.size() / 2), errc::corrupt, "is cut"});
    cases.push_back({"cut inside its header", good.substr(0, 20), errc::corrupt, "is cut"});
    cases.push_back({"extended by garbage", good + std::string(64, '\x5a'), errc::corrupt, "is extended"});
    cases.push_back({"empty", "", errc::corrupt, "is empty"});
    {
        std::string older = good;
        older[0] = 1;
        cases.push_back({"of the older format 1, which had no checksum", older, errc::unavailable, "older format 1"});
    }
    {
        std::string other = snapshot;
        other[4] = 1;  // after the snapshot's 4-byte magic, its format version
        cases.push_back({"whole, but its snapshot of another format",
                         runner::encode_checkpoint(decoded->state, decoded->head, other), errc::unavailable,
                         "does not decode"});
    }
    {
        auto state = engine::make_partition(0, 2);
        cases.push_back({"whole, but of another partition layout",
                         runner::encode_checkpoint(state, chain_genesis, engine::snapshot(state)), errc::invalid,
                         "belongs to partition 0 of 2"});
    }

    for (std::size_t i = 0; i < cases.size(); ++i) {
        const bad_checkpoint& bad = cases[i];
        INFO(bad.what);
        auto refused = runner::decode_checkpoint(bad.bytes, 0, 1);
        REQUIRE_FALSE(refused);
        CHECK(refused.err().code == bad.expected);
        CHECK_THAT(refused.err().message, Catch::Contains(bad.says));
        REQUIRE((*log)->checkpoints().save(0, bad.bytes));
        const auto before = set_aside_files(dir.path());
        REQUIRE(before.size() == i);

        runner::partition_runner again(0, 1, (*log)->commands(), (*log)->events(), (*log)->checkpoints(), {},
                                       runner::system_time_ms);
        REQUIRE(again.recover());
        CHECK(again.applied_offset() == 20);
        CHECK(again.counters().commands_applied.load() == 20);  // replayed from the first command
        CHECK(again.checkpoints().set_aside.load() == 1);
        // Out of the way, kept for a look, byte for byte: the one file set aside now.
        std::vector<std::string> added;
        for (const std::string& name : set_aside_files(dir.path()))
            if (std::find(before.begin(), before.end(), name) == before.end()) added.push_back(name);
        REQUIRE(added.size() == 1);
        std::ifstream in(dir.path() + "/checkpoints/" + added.front(), std::ios::binary);
        const std::string kept((std::istreambuf_iterator<char>(in)), {});
        CHECK(kept == bad.bytes);
        again.stop();
        auto rewritten = runner::decode_checkpoint(**(*log)->checkpoints().load(0), 0, 1);
        REQUIRE(rewritten);
        CHECK(engine::state_hash(rewritten->state) == engine::state_hash(replay(**log)));
        CHECK(**(*log)->checkpoints().load(0) == good);  // the same state, the same bytes
    }

    // The next start uses the new checkpoint: nothing replayed, nothing set aside.
    runner::partition_runner third(0, 1, (*log)->commands(), (*log)->events(), (*log)->checkpoints(), {}, runner::system_time_ms);
    REQUIRE(third.recover());
    CHECK(third.counters().commands_applied.load() == 0);
    CHECK(third.checkpoints().set_aside.load() == 0);
    third.stop();
}

}  // namespace
}  // namespace encore
