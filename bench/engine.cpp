// `encore bench engine`: a realistic onsale applied to one partition on one thread.
//
// The stream is generated reactively (admitted users hold, holders pay or cancel or walk away),
// but only the engine's apply calls are timed. Prints progress to stderr and one JSON object as
// the last line of stdout.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "engine/engine.hpp"

namespace encore::bench {
namespace {

using clock_type = std::chrono::steady_clock;

class onsale {
public:
    explicit onsale(const engine_bench_options& s) : settings_(s), state_(engine::make_partition(0, 1)), random_(s.seed) {
        latencies_ns_.reserve(8'000'000);
    }

    nlohmann::json run();

private:
    void apply(command c) {
        c.meta.accepted_at = now_;
        auto started = clock_type::now();
        engine::apply(state_, c, {0, offset_++}, out_);
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - started).count();
        latencies_ns_.push_back(static_cast<std::uint32_t>(std::min<long long>(ns, UINT32_MAX)));
        events_ += out_.events.size();
        react();
        out_.clear();
    }
    void react();
    void drain_saga();
    std::uint32_t pick_seat() {
        // Heavy contention: half of the picks go to the best 2% of seats.
        std::uniform_int_distribution<std::uint32_t> any(1, settings_.seats_per_date);
        std::uniform_int_distribution<std::uint32_t> hot(1, std::max<std::uint32_t>(1, settings_.seats_per_date / 50));
        return (random_() & 1) ? hot(random_) : any(random_);
    }

    engine_bench_options settings_;
    engine::partition_state state_;
    engine::apply_output out_;
    std::mt19937_64 random_;
    std::vector<std::uint32_t> latencies_ns_;
    std::deque<std::pair<user_id, std::uint64_t>> admitted_;   // user, ticket
    std::deque<std::pair<user_id, reservation_id>> held_;
    std::deque<command> saga_;
    concert_id concert_{0xC0FFEE};
    time_ms now_ = 1'790'000'000'000;
    std::uint64_t offset_ = 0;
    std::uint64_t events_ = 0;
    std::uint64_t sold_ = 0;
};

void onsale::react() {
    for (const event& e : out_.events) {
        if (const auto* q = std::get_if<queue_joined>(&e.body); q && q->status == queue_status::active)
            admitted_.emplace_back(q->user, q->ticket);
        else if (const auto* a = std::get_if<queue_admitted>(&e.body))
            admitted_.emplace_back(a->user, a->ticket);
        else if (const auto* h = std::get_if<seat_held>(&e.body))
            held_.emplace_back(h->reservation.user, h->reservation.id);
        else if (std::holds_alternative<payment_confirmed>(e.body))
            ++sold_;
    }
    for (auto& m : out_.messages) saga_.push_back(std::move(m.cmd));
}

void onsale::drain_saga() {
    while (!saga_.empty()) {
        command c = std::move(saga_.front());
        saga_.pop_front();
        apply(std::move(c));
    }
}

nlohmann::json onsale::run() {
    create_concert catalog;
    catalog.concert = concert_;
    catalog.title = "bench";
    for (std::uint32_t d = 0; d < settings_.dates; ++d) catalog.schedules.push_back({20'800 + static_cast<day_number>(d), settings_.seats_per_date, 100'000});
    catalog.queue = {20'000, 120};
    apply(command{{}, catalog});
    std::uniform_int_distribution<int> choice(0, 99);
    std::uint32_t next_user = 1;
    while (next_user <= settings_.users || !admitted_.empty() || !held_.empty()) {
        // Arrivals: a burst of users charge their wallet and join the queue.
        for (int i = 0; i < 64 && next_user <= settings_.users; ++i, ++next_user) {
            user_id u{next_user};
            apply(command{{0, u, {}, no_position}, charge{250'000}});
            apply(command{{0, u, {}, no_position}, enqueue{concert_}});
        }
        // Admitted users try up to three seats.
        for (int i = 0; i < 48 && !admitted_.empty(); ++i) {
            auto [u, ticket] = admitted_.front();
            admitted_.pop_front();
            for (int attempt = 0; attempt < 3; ++attempt) {
                std::size_t before = held_.size();
                day_number day = 20'800 + static_cast<day_number>(random_() % settings_.dates);
                apply(command{{0, u, {}, no_position}, hold_seat{concert_, ticket, day, pick_seat()}});
                if (held_.size() > before) break;
            }
        }
        // Holders pay (80%), cancel (10%) or walk away and let the hold expire (10%).
        for (int i = 0; i < 48 && !held_.empty(); ++i) {
            auto [u, r] = held_.front();
            held_.pop_front();
            int roll = choice(random_);
            if (roll < 80) apply(command{{0, u, {}, no_position}, pay{r}});
            else if (roll < 90) apply(command{{0, u, {}, no_position}, cancel_hold{r}});
        }
        drain_saga();
        now_ += 50;
        apply(command{{}, tick{}});
    }
    now_ += 3'600'000;
    apply(command{{}, tick{}});

    std::uint64_t total_ns = 0;
    for (auto ns : latencies_ns_) total_ns += ns;
    auto commands = latencies_ns_.size();
    auto percentile = [this](double q) {
        auto k = static_cast<std::size_t>(q * static_cast<double>(latencies_ns_.size() - 1));
        std::nth_element(latencies_ns_.begin(), latencies_ns_.begin() + static_cast<long>(k), latencies_ns_.end());
        return latencies_ns_[k];
    };
    auto t0 = clock_type::now();
    std::string snap = engine::snapshot(state_);
    auto t1 = clock_type::now();
    auto restored = engine::restore(snap);
    auto t2 = clock_type::now();
    if (!restored || engine::snapshot(*restored) != snap) throw std::runtime_error("snapshot does not restore exactly");
    double seconds = static_cast<double>(total_ns) / 1e9;
    std::uint64_t seats = std::uint64_t{settings_.dates} * settings_.seats_per_date;
    return {{"benchmark", "engine"},
            {"commands", commands},
            {"events", events_},
            {"seats", seats},
            {"users", settings_.users},
            {"seats_sold", sold_},
            {"apply_seconds", seconds},
            {"commands_per_second", static_cast<double>(commands) / seconds},
            {"events_per_second", static_cast<double>(events_) / seconds},
            {"ns_per_command_p50", percentile(0.50)},
            {"ns_per_command_p99", percentile(0.99)},
            {"snapshot_bytes", snap.size()},
            {"state_bytes_per_seat", static_cast<double>(snap.size()) / static_cast<double>(seats)},
            {"snapshot_ms", std::chrono::duration<double, std::milli>(t1 - t0).count()},
            {"restore_ms", std::chrono::duration<double, std::milli>(t2 - t1).count()}};
}

}  // namespace

int run_engine_bench(const engine_bench_options& s) {
    std::fprintf(stderr, "bench engine: %u dates x %u seats, %u users, seed %llu\n", s.dates, s.seats_per_date, s.users,
                 static_cast<unsigned long long>(s.seed));
    onsale run(s);
    nlohmann::json result = run.run();
    std::printf("%s\n", result.dump().c_str());
    return 0;
}

}  // namespace encore::bench
