#pragma once
// The partition runner: the single writer of one partition. Its thread reads committed commands in
// log order, applies them to the pure engine, appends the resulting events (hash-chained) to the
// event log and saga commands to other partitions' command logs, and checkpoints state together
// with the last applied offset (through its checkpointer, whose thread keeps a replica of the state,
// so a checkpoint costs the writer nothing that grows with the state). When the partition is idle and a deadline is due, it appends a Tick
// so holds expire and waiting users are admitted with no request arriving.
//
// Owned by the process (runner_group); one thread per partition; nothing here is shared with
// other threads except the atomic counters read by /metrics and /readyz.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "engine/runner/checkpointer.hpp"
#include "events/chain.hpp"
#include "events/log.hpp"

namespace encore::runner {

struct runner_options {
    std::size_t batch_commands_max = 2048;
    std::uint64_t checkpoint_every_commands = 20'000;
    std::chrono::milliseconds idle_wait{50};
};

// The wall clock, injected: production passes the system clock, tests may pass their own.
using wall_clock = std::function<time_ms()>;
time_ms system_time_ms();

struct runner_counters {
    std::atomic<std::uint64_t> commands_applied{0};
    std::atomic<std::uint64_t> events_written{0};
    std::atomic<std::uint64_t> saga_messages_sent{0};
    std::atomic<std::uint64_t> ticks_appended{0};
    std::atomic<std::uint64_t> corrupt_commands{0};
};

class partition_runner {
public:
    partition_runner(std::uint32_t partition, std::uint32_t partitions, log_stream& commands, log_stream& events,
                     checkpoint_store& checkpoints, runner_options options, wall_clock clock);
    ~partition_runner();
    partition_runner(const partition_runner&) = delete;
    partition_runner& operator=(const partition_runner&) = delete;

    // Loads the checkpoint and applies every committed command after it. Call before start().
    result<unit> recover();
    void start();
    void stop();  // writes a final checkpoint

    bool failed() const { return failed_.load(); }
    std::uint64_t applied_offset() const { return applied_.load(); }  // commands applied (= next offset)
    const runner_counters& counters() const { return counters_; }
    const checkpoint_counters& checkpoints() const { return checkpoint_counters_; }

private:
    void run();
    // Applies one batch, makes its output durable and hands the batch to the checkpointer. False
    // on an operating error (logged).
    bool process(std::vector<log_entry>&& batch);
    bool append_tick_if_due();

    std::uint32_t partition_;
    log_stream& commands_;
    log_stream& events_;
    checkpoint_store& checkpoints_;
    runner_options options_;
    wall_clock clock_;

    engine::partition_state state_;
    engine::apply_output output_;
    chain_link chain_head_ = chain_genesis;
    std::uint64_t events_durable_ = 0;  // one past the last event sequence found in the log: written
    std::uint64_t tick_offset_in_flight_ = 0;  // 1 + offset of an appended, not yet applied Tick
    time_ms tick_refused_until_ = 0;           // after the log's storage refused a Tick: no other before
    static constexpr time_ms tick_storage_retry_ms = 1'000;
    std::atomic<std::uint64_t> applied_{0};
    std::atomic<bool> stopping_{false};
    std::atomic<bool> failed_{false};
    runner_counters counters_;
    checkpoint_counters checkpoint_counters_;
    std::unique_ptr<checkpointer> checkpointer_;
    std::thread thread_;
};

// All the partitions of one process.
class runner_group {
public:
    runner_group(std::uint32_t partitions, log_stream& commands, log_stream& events, checkpoint_store& checkpoints,
                 runner_options options, wall_clock clock);
    result<unit> recover();
    void start();
    void stop();
    bool failed() const;
    std::uint64_t commands_applied() const;
    partition_runner& at(std::uint32_t partition) { return *runners_[partition]; }
    std::uint32_t size() const { return static_cast<std::uint32_t>(runners_.size()); }

private:
    std::vector<std::unique_ptr<partition_runner>> runners_;
};

}  // namespace encore::runner
