#pragma once
// Waiting for work another thread or process does: polls a condition until it holds or the time
// given has passed. Tests never assert on how long that took; the waits are generous, since the
// work may be done under load on a shared machine (at least 10 s; 30 s unless a test says
// otherwise). Header-only, for the tests of any folder.

#include <chrono>
#include <thread>

namespace encore::test {

inline constexpr std::chrono::milliseconds eventually_within{30'000};

// True as soon as `done()` holds, polled every `every`; false if it still does not once `within`
// has passed.
template <class Predicate>
bool eventually(std::chrono::milliseconds within, Predicate&& done,
                std::chrono::milliseconds every = std::chrono::milliseconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    for (;;) {
        if (done()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(every);
    }
}

// The same within 30 s.
template <class Predicate>
bool eventually(Predicate&& done) {
    return eventually(eventually_within, done);
}

}  // namespace encore::test
