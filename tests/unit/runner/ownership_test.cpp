// Ownership replaces a partition runner that failed: the failure is counted (what
// encore_runner_failures shows), a new runner recovers the partition after the pause, and it goes
// on serving commands with nothing lost and nothing written twice. The log is the real embedded
// log on a temp dir; the failure is a read of the command log that fails once, which is how a
// runner fails when its log is unreachable.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/runner/ownership.hpp"
#include "events/chain.hpp"
#include "events/codec.hpp"
#include "events/ids.hpp"
#include "events/log/embedded_log.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/temp_directory.hpp"

namespace encore {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::temp_directory;

constexpr time_ms start_ms = 1'800'000'000'000;
constexpr std::uint32_t partitions = 2;

// The embedded log's command stream, whose next read of one partition can be made to fail.
// Everything else goes to the real log.
class failing_reads final : public log_stream {
public:
    explicit failing_reads(log_stream& log) : log_(log) {}

    void fail_next_read(std::uint32_t partition) { failing_partition_ = static_cast<int>(partition); }
    bool failed() const { return failing_partition_ < 0 && reads_failed_ > 0; }

    std::uint32_t partitions() const override { return log_.partitions(); }
    void append(std::uint32_t partition, std::vector<std::string> records, append_callback done) override {
        log_.append(partition, std::move(records), std::move(done));
    }
    void append_derived(std::uint32_t partition, std::vector<std::string> records, append_callback done) override {
        log_.append_derived(partition, std::move(records), std::move(done));
    }
    result<std::vector<log_entry>> read(std::uint32_t partition, std::uint64_t from, std::size_t max,
                                        std::chrono::milliseconds wait) override {
        if (take_failure(partition)) return error{errc::io, "the command log is unreachable (failed by the test)"};
        return log_.read(partition, from, max, wait);
    }
    result<unit> read_into(std::uint32_t partition, std::uint64_t from, std::size_t max, std::chrono::milliseconds wait,
                           log_batch& out) override {
        if (take_failure(partition)) return error{errc::io, "the command log is unreachable (failed by the test)"};
        return log_.read_into(partition, from, max, wait, out);
    }
    std::uint64_t end(std::uint32_t partition) override { return log_.end(partition); }
    result<std::optional<log_entry>> read_last(std::uint32_t partition) override { return log_.read_last(partition); }

private:
    bool take_failure(std::uint32_t partition) {
        int armed = static_cast<int>(partition);
        if (!failing_partition_.compare_exchange_strong(armed, -1)) return false;
        ++reads_failed_;
        return true;
    }

    log_stream& log_;
    std::atomic<int> failing_partition_{-1};
    std::atomic<int> reads_failed_{0};
};

// Users whose wallets live in `partition`.
std::vector<user_id> users_in(std::uint32_t partition, std::size_t count) {
    std::vector<user_id> out;
    for (std::uint64_t v = 1; out.size() < count; ++v) {
        if (partition_of(user_id{v}, partitions) == partition) out.push_back(user_id{v});
    }
    return out;
}

command charge_of(user_id u, won amount, time_ms at) { return command{command_meta{at, u, {}, no_position}, charge{amount}}; }

TEST_CASE("a runner that fails is replaced, and the new one goes on with nothing lost", "[runner][ownership]") {
    temp_directory dir("encore-ownership-test");
    auto log = embedded_log::open({.directory = dir.path(), .partitions = partitions, .sync = false});
    REQUIRE(log);
    failing_reads commands((*log)->commands());
    runner::ownership_options options;
    options.restart_backoff = 500ms;
    options.supervise_interval = 20ms;
    runner::ownership owner(partitions, commands, (*log)->events(), (*log)->checkpoints(), options, runner::system_time_ms);
    owner.assign({0, 1});
    REQUIRE(eventually([&] { return owner.ready(); }));
    CHECK(owner.runners_started() == 2);
    CHECK(owner.runner_failures() == 0);

    const std::vector<user_id> users = users_in(0, 3);
    std::vector<command> sent;
    auto send = [&](command c) {
        REQUIRE((*log)->commands().append_and_wait(0, {encode(c)}));
        sent.push_back(std::move(c));
    };
    for (std::size_t i = 0; i < users.size(); ++i) {
        send(command{command_meta{start_ms + static_cast<time_ms>(i), users[i], {}, no_position}, register_user{"fan"}});
        send(charge_of(users[i], 1'000 * static_cast<won>(i + 1), start_ms + 10));
    }
    REQUIRE(eventually([&] { return (*log)->events().end(0) == sent.size(); }));

    // Partition 0's runner reads its log every idle wait: its next read fails, and it stops.
    commands.fail_next_read(0);
    REQUIRE(eventually([&] { return owner.runner_failures() == 1; }));
    CHECK(commands.failed());
    // Commands logged after the failure wait in the log for the replacement.
    for (user_id u : users) send(charge_of(u, 500, start_ms + 20));
    REQUIRE(eventually([&] { return owner.runners_started() == 3 && owner.serving(0); }));
    CHECK(owner.serving(1));
    for (user_id u : users) send(charge_of(u, 7, start_ms + 30));
    REQUIRE(eventually([&] { return (*log)->events().end(0) == sent.size(); }));
    owner.stop();
    CHECK(owner.runner_failures() == 1);
    CHECK(owner.runners_started() == 3);

    // One event per command, none twice: exactly what a fresh engine makes of the command log, each
    // linked to the one before; every charge is in its wallet.
    auto stored = (*log)->events().read(0, 0, 1'000, 0ms);
    REQUIRE(stored);
    REQUIRE(stored->size() == sent.size());
    auto state = engine::make_partition(0, partitions);
    engine::apply_output out;
    chain_link link = chain_genesis;
    std::map<std::uint64_t, won> balances;
    for (std::size_t i = 0; i < sent.size(); ++i) {
        out.clear();
        engine::apply(state, sent[i], {0, i}, out);
        REQUIRE(out.events.size() == 1);
        sealed_event sealed;
        REQUIRE(unseal((*stored)[i].bytes, sealed));
        CHECK(sealed.event_bytes == encode(out.events[0]));
        link = chain_next(link, sealed.event_bytes);
        CHECK(sealed.link == link);
        auto decoded = decode_event(sealed.event_bytes);
        REQUIRE(decoded);
        if (const auto* c = std::get_if<charged>(&decoded->body)) {
            balances[c->user.value] += c->amount;
            CHECK(c->balance == balances[c->user.value]);
        }
    }
    for (std::size_t i = 0; i < users.size(); ++i) CHECK(balances[users[i].value] == 1'000 * static_cast<won>(i + 1) + 500 + 7);
}

}  // namespace
}  // namespace encore
