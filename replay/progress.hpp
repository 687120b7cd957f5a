#pragma once
// Progress of a long command on stderr, from a thread of its own: a line redrawn in place every
// 200 ms on a terminal, otherwise a plain line every 5 seconds, and once more at the end (so that
// the last line says where it ended).
//
// Threads: the display calls `line` on its own thread; whatever `line` reads must be atomic or
// guarded by the caller. `finish` (or the destructor) joins it.

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

// "[#######.......]  42.0%" for `done` of `total` (all done when total is 0).
std::string progress_bar(std::uint64_t done, std::uint64_t total);
// "1200/5000 commands  3000 commands/s  ETA 1 s": `done` of `total` `what` after `seconds`.
std::string progress_rate(std::uint64_t done, std::uint64_t total, double seconds, const char* what);

}  // namespace encore::replay
