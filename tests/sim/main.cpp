// The simulation driver.
//
//   sim                      seeds 1..1000 (the ctest run)
//   sim --seed N             one seed
//   sim --seeds A..B         a range of seeds
//   sim --steps K            steps per seed (default 1500)
//   sim --stats              print how often each event, refusal and race happened
//
// On a failure it prints the seed, the broken invariant, the last commands and the command line
// that reproduces it, and exits 1. An engine assertion or a bad access kills the process: the
// seed is printed from the signal handler.

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <unistd.h>

#include "sim.hpp"

namespace {

struct options {
    std::uint64_t first = 1;
    std::uint64_t last = 1000;
    std::size_t steps = 1500;
    bool stats = false;
};

// What a crash (an engine assertion, a bad access) tells: filled before each seed, written raw.
char crash_message[256];

void on_crash(int signal) {
    ssize_t ignored = write(STDERR_FILENO, crash_message, std::strlen(crash_message));
    static_cast<void>(ignored);
    std::signal(signal, SIG_DFL);
    std::raise(signal);
}

std::optional<std::uint64_t> number(std::string_view text) {
    if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    return std::stoull(std::string(text));
}

std::optional<options> parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::string_view value = i + 1 < argc ? argv[i + 1] : "";
        if (arg == "--stats") {
            o.stats = true;
            continue;
        }
        ++i;
        if (arg == "--seed" && number(value)) {
            o.first = o.last = *number(value);
        } else if (arg == "--seeds" && value.find("..") != std::string_view::npos) {
            auto a = number(value.substr(0, value.find("..")));
            auto b = number(value.substr(value.find("..") + 2));
            if (!a || !b || *a > *b) return std::nullopt;
            o.first = *a;
            o.last = *b;
        } else if (arg == "--steps" && number(value)) {
            o.steps = *number(value);
        } else {
            return std::nullopt;
        }
    }
    return o;
}

// What a run of many seeds must reach, or the simulation is too tame: every event type the codec
// knows (event_type_count in events/event.hpp, so a new type fails here until the workload makes
// it), every refusal code (refusal_max in events/types.hpp; the engine produces each of them, in a
// Refused answer or as the reason of a PaymentFailed or RefundFailed: grep engine/engine.cpp for
// `refusal::`), and these repeats and races.
const char* const must_reach_also[] = {
    "QueueJoined again",
    "hold: one seat",
    "hold: several seats",
    "hold: best available",
    "pick: no seat left alone",
    "pick: a seat left alone (no other way)",
    "race: a redelivered saga step dropped",
    "race: a redelivered refund step dropped",
    "race: a payment completes after expiry",
    "race: a debit refused after expiry releases the seat",
    "pause: a paused sale resumed",
    "hold: best available in a grade or section",
    "hold: seats of a venue's sections",
    "hold: places of a standing zone",
    "hold: a standing zone full",
    "pay: entry numbers of a standing zone",
    "phase: NOT_ELIGIBLE",
    "phase: a claimant joins a LIST phase",
    "phase: a hold in a LIST phase by a claimant",
    "phase: GRADE_NOT_ON_SALE",
    "phase: a phase closed",
    "phase: the phases changed",
    "phase: PHASE_STARTED",
    "list: ids added",
    "claim: an id claimed",
    "claim: ALREADY_CLAIMED",
    "claim: freed by the organizer",
    "price: a venue's grades repriced",
    "refund: a fee kept",
    "refund: free under a fee policy",
    "refund: the policy changed",
    "door: a ticket admitted",
    "door: the same scan again",
    "door: a duplicate scan",
    "door: WRONG_GATE",
    "door: REVOKED",
    "door: WRONG_DATE",
    "door: an offline batch",
};

std::vector<std::string> must_reach() {
    std::vector<std::string> names;
    for (std::uint8_t t = 0; t < encore::event_type_count; ++t)
        names.emplace_back(encore::to_string(static_cast<encore::event_type>(t)));
    for (std::uint8_t r = 1; r <= encore::refusal_max; ++r)
        names.push_back("code " + std::string(encore::refusal_code(static_cast<encore::refusal>(r))));
    names.insert(names.end(), std::begin(must_reach_also), std::end(must_reach_also));
    return names;
}

}  // namespace

int main(int argc, char** argv) {
    auto parsed = parse(argc, argv);
    if (!parsed) {
        std::fprintf(stderr, "usage: sim [--seed N | --seeds A..B] [--steps K] [--stats]\n");
        return 2;
    }
    const options& o = *parsed;
    for (int signal : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(signal, on_crash);
    std::map<std::string, std::uint64_t> totals;
    std::uint64_t partition_counts[5] = {};
    for (std::uint64_t seed = o.first; seed <= o.last; ++seed) {
        std::snprintf(crash_message, sizeof crash_message,
                      "sim: seed %llu crashed (an engine assertion or a bad access)\n"
                      "reproduce: sim --seed %llu --steps %zu\n",
                      static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed), o.steps);
        encore::sim::world w(seed, o.steps);
        try {
            w.run();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "sim: seed %llu (%u partitions) failed at step %zu of %zu: %s\nlast commands:\n%s",
                         static_cast<unsigned long long>(seed), w.partitions(), w.step_number(), o.steps, e.what(),
                         w.recent_commands().c_str());
            std::fprintf(stderr, "reproduce: %s --seed %llu --steps %zu\n", argv[0],
                         static_cast<unsigned long long>(seed), o.steps);
            return 1;
        }
        ++partition_counts[w.partitions()];
        for (const auto& [name, n] : w.stats()) totals[name] += n;
    }
    std::uint64_t seeds = o.last - o.first + 1;
    std::printf("sim: %llu seeds (%llu..%llu) x %zu steps passed; partitions 1/2/3/4: %llu/%llu/%llu/%llu\n",
                static_cast<unsigned long long>(seeds), static_cast<unsigned long long>(o.first),
                static_cast<unsigned long long>(o.last), o.steps, static_cast<unsigned long long>(partition_counts[1]),
                static_cast<unsigned long long>(partition_counts[2]),
                static_cast<unsigned long long>(partition_counts[3]),
                static_cast<unsigned long long>(partition_counts[4]));
    if (o.stats) {
        for (const auto& [name, n] : totals) {
            std::printf("  %-55s %llu\n", name.c_str(), static_cast<unsigned long long>(n));
        }
    }
    if (seeds >= 100) {
        for (const std::string& name : must_reach()) {
            if (totals[name] == 0) {
                std::fprintf(stderr, "sim: %llu seeds never reached \"%s\": the workload is too tame\n",
                             static_cast<unsigned long long>(seeds), name.c_str());
                return 1;
            }
        }
    }
    return 0;
}
