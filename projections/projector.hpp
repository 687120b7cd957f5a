#pragma once
// The projector: one thread per partition that reads the event log from the read models' applied
// sequence on, applies each batch to the read models, and then reports the batch's events to a
// listener (the API completes waiting requests from it). Owned by the process; start() spawns the
// threads, stop() joins them.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <thread>
#include <vector>

#include "events/event.hpp"
#include "events/log.hpp"
#include "projections/read_models.hpp"

namespace encore::projections {

// Called on a projector thread after `events` are visible to queries. Must not block for long.
using projected_listener = std::function<void(std::uint32_t partition, std::span<const event> events)>;

class projector {
public:
    projector(log_stream& events, read_models& models, projected_listener listener);
    ~projector();
    void start();
    void stop();
    // True once every partition has read and applied everything that was in the event log at the
    // time of the call (readyz).
    bool caught_up() const;
    // True when every partition is caught up, or was within `behind`: everything the event log
    // held that long ago is applied; or, once it has been caught up since start, it is applying
    // batches (it applied one within `behind`). What readiness means under load: a busy log is
    // never "caught up" at the instant of a probe, and on a shared core a projector that keeps
    // applying may fall a moment more than a second behind; a stopped or starved one does not
    // pass, nor does one still catching up after a start.
    bool within(std::chrono::milliseconds behind) const;
    // Event log records not yet read and applied, summed over partitions (for /metrics).
    std::uint64_t lag() const;
    // True once some partition's thread stopped on a fatal operating error (a record that does not
    // unseal or decode, events the read models refuse): that partition is projected no further until
    // restart, and caught_up() stays false. The error was logged to stderr.
    bool failed() const;

    // One read from the event log: at most this many records, waiting at most this long for the
    // first one (which also bounds how long stop() waits for a thread).
    static constexpr std::size_t read_records_max = 1024;
    static constexpr std::chrono::milliseconds read_wait{200};

private:
    void run(std::uint32_t partition);
    void mark_caught_up(std::uint32_t partition, std::chrono::steady_clock::time_point at);
    // Turns a batch of log records into the events that come next after `expected` (the applied
    // sequence), dropping repeats of earlier ones; false (after logging why) when a record is
    // corrupt or a sequence is missing.
    bool decode_batch(std::uint32_t partition, std::uint64_t expected, const std::vector<log_entry>& records,
                      std::vector<event>& out);
    void fail(std::uint32_t partition, std::uint64_t offset, std::string_view why);

    log_stream& events_;
    read_models& models_;
    projected_listener listener_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> failed_{false};
    std::vector<std::thread> threads_;
    // Per partition: the log offset the thread reads next. Equal to the applied sequence on the
    // embedded log; ahead of it on Kafka, where repeated records take offsets too.
    std::unique_ptr<std::atomic<std::uint64_t>[]> next_offsets_;
    // Per partition: steady-clock ticks at which the log as it was then had all been applied; 0 never.
    std::unique_ptr<std::atomic<std::int64_t>[]> caught_up_at_;
    // Per partition: steady-clock ticks at which the thread last applied a batch; 0 never.
    std::unique_ptr<std::atomic<std::int64_t>[]> applied_at_;
};

}  // namespace encore::projections
