#pragma once
// Partition ownership: which partitions this process writes for, and the runners that do it.
//
// In Kafka mode several processes share the partitions. Something outside decides who owns what
// (the consumer group on `commands`, events/log/kafka_group.hpp) and tells this object through
// assign() and revoke(). For each partition it owns, it runs one partition_runner: recover from the
// checkpoint (the snapshots topic) and replay the rest of the command log, then apply and write.
// A runner that fails (the log was unreachable for too long) is replaced after a pause, since the
// partition is still this process's to serve.
//
// Correctness does not rest on the hand-over being clean. A former owner that has not yet noticed
// that it lost a partition (a "zombie") may still write for a while: its events repeat, byte for
// byte, those the new owner writes (both apply the same command log), and readers drop repeats by
// sequence; its saga commands are dropped by the receivers' origin high-water marks; its Ticks are
// ordinary commands in the log. A clean hand-over only makes that window short: revoke() returns
// after the runners stopped and wrote their checkpoints.
//
// Threads: assign(), revoke() and the queries may be called from any thread (revoke() blocks); one
// worker thread of its own supervises and stops the runners, and starts one recovery thread per
// partition taken over, so that the partitions of a failed process are recovered in parallel.
// Owned by the process wiring (node/node, in both modes: embedded assigns every partition); depends on the log interface only, never on a
// backend.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/runner/partition_runner.hpp"
#include "events/log.hpp"
#include "events/result.hpp"

namespace encore::runner {

struct ownership_options {
    runner_options runner;
    // Runs on the worker thread before a runner recovers a partition it was just given: e.g. to
    // refresh cached log ends, which a new owner must not trust. An error postpones the takeover
    // (retried after restart_backoff).
    std::function<result<unit>()> before_recover;
    // The pause before a failed runner, or a failed recovery, is tried again.
    std::chrono::milliseconds restart_backoff{1'000};
    // How often the worker looks for failed runners when nothing else wakes it.
    std::chrono::milliseconds supervise_interval{200};
};

class ownership {
public:
    ownership(std::uint32_t partitions, log_stream& commands, log_stream& events, checkpoint_store& checkpoints,
              ownership_options options, wall_clock clock);
    ~ownership();  // stop()
    ownership(const ownership&) = delete;
    ownership& operator=(const ownership&) = delete;

    // These partitions are now this process's. Returns at once; their runners are recovered and
    // started in the background. Partitions already owned are ignored.
    void assign(const std::vector<std::uint32_t>& partitions);
    // These partitions are no longer this process's. Returns once their runners have stopped and
    // written their checkpoints (a recovery in progress is finished first), so that the caller
    // may acknowledge the hand-over.
    void revoke(const std::vector<std::uint32_t>& partitions);
    // Revokes everything and ends the worker. Idempotent; no assign() may follow.
    void stop();

    // Every partition assigned to this process has a recovered, running runner.
    bool ready() const;
    // Assigned to this process and its runner is running.
    bool serving(std::uint32_t partition) const;
    std::vector<std::uint32_t> assigned() const;
    std::uint32_t partitions() const { return static_cast<std::uint32_t>(slots_.size()); }

    // Summed over every runner this process ran (for /metrics).
    std::uint64_t commands_applied() const;
    // Runners recovered and started: takeovers, and restarts after failures.
    std::uint64_t runners_started() const;
    std::uint64_t runner_failures() const;
    // Checkpoints of the runners running now: the longest (snapshot + save, on the checkpointer's
    // thread), the longest back-pressure wait a runner had, the written count, the largest size,
    // and how many checkpoints failed their check at recovery and were set aside.
    struct checkpoint_figures {
        std::uint64_t max_ms = 0, backpressure_ms_max = 0, written = 0, bytes_max = 0, set_aside = 0;
    };
    checkpoint_figures checkpoints() const;

private:
    struct slot {
        bool wanted = false;      // assigned to this process
        bool recovering = false;  // its recovery thread runs
        bool running = false;     // the runner recovered and runs
        std::shared_ptr<partition_runner> runner;  // present from recovery until stopped
        std::thread recovery;                      // joined by the worker once it is done
        std::chrono::steady_clock::time_point retry_at{};
    };

    void work();
    // Worker steps; each takes the mutex only around slot changes, never around a runner's I/O.
    void join_recoveries();
    void stop_unwanted();
    void replace_failed();
    void start_wanted();
    // The body of a recovery thread.
    void recover(std::uint32_t partition, std::shared_ptr<partition_runner> runner);
    void stop_runner(std::uint32_t partition);

    std::uint32_t partition_count_;
    log_stream& commands_;
    log_stream& events_;
    checkpoint_store& checkpoints_;
    ownership_options options_;
    wall_clock clock_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;     // the worker: something to do
    std::condition_variable stopped_;  // revoke(): a runner was stopped
    std::vector<slot> slots_;
    bool changed_ = false;
    bool stopping_ = false;
    std::uint64_t retired_commands_applied_ = 0;
    std::uint64_t runners_started_ = 0;
    std::uint64_t runner_failures_ = 0;
    std::thread worker_;
};

}  // namespace encore::runner
