#pragma once
// Progress of a long command on stderr, from a thread of its own: a line redrawn in place every
// 200 ms on a terminal, otherwise a plain line every 5 seconds, and once more at the end (so that
// the last line says where it ended).
//
// Threads: the display calls `line` on its own thread; whatever `line` reads must be atomic or
// guarded by the caller. `finish` (or the destructor) joins it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace encore::replay {

class progress_display {
public:
    // `line(seconds since the start)` makes the text to show. Disabled: shows nothing.
    progress_display(bool enabled, std::function<std::string(double)> line);
    ~progress_display();
    progress_display(const progress_display&) = delete;
    progress_display& operator=(const progress_display&) = delete;

    // Shows the last line and stops. Idempotent.
    void finish();

private:
    void loop();

    const std::function<std::string(double)> line_;
    const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::mutex mutex_;  // guards stopping_
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

// The one meter of `encore audit` and `encore export`: a replay counted in `unit` (commands,
// events), then a second stage counted in its own (the audit's comparison in keys, the export's
// tables in rows):
//   "NAME: [bar]  pct  done/total UNIT  rate UNIT/s  ETA n s"
//   "NAME: [bar]  pct  N UNIT replayed; STAGE: done/total UNIT2"
// Any thread may count; the display reads the counters from its own.
class replay_progress {
public:
    replay_progress(bool enabled, std::string name, std::uint64_t total, std::string unit);
    replay_progress(const replay_progress&) = delete;
    replay_progress& operator=(const replay_progress&) = delete;

    void replayed(std::uint64_t n) { replayed_.fetch_add(n, std::memory_order_relaxed); }
    // The second stage begins: counted from 0 of `total` in `unit`.
    void next_stage(std::string stage, std::uint64_t total, std::string unit);
    void advance(std::uint64_t n) { stage_done_.fetch_add(n, std::memory_order_relaxed); }
    void reached(std::uint64_t done) { stage_done_.store(done, std::memory_order_relaxed); }
    // Shows the last line and stops. Idempotent.
    void finish() { display_.finish(); }

private:
    std::string line(double seconds) const;

    const std::string name_, unit_;
    const std::uint64_t total_;
    std::atomic<std::uint64_t> replayed_{0}, stage_done_{0};
    mutable std::mutex stage_mutex_;  // guards the three below
    bool staged_ = false;
    std::string stage_, stage_unit_;
    std::uint64_t stage_total_ = 0;
    progress_display display_;  // last: its thread reads the members above
};

// "[#######.......]  42.0%" for `done` of `total` (all done when total is 0).
std::string progress_bar(std::uint64_t done, std::uint64_t total);
// "1200/5000 commands  3000 commands/s  ETA 1 s": `done` of `total` `what` after `seconds`.
std::string progress_rate(std::uint64_t done, std::uint64_t total, double seconds, const char* what);

}  // namespace encore::replay
