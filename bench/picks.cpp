// `encore bench picks`: best-available picks on one large, nearly sold date, on one thread.
//
// A date of --seats seats (default 100,000) in rows of --row (25) is filled to --sold percent
// (95) at random, in holds of up to 100 named seats by many users. Then fresh admitted users ask
// for the best N seats (N = 1, 2, 4 in turn) and cancel at once, so the date stays as full; only
// the picking holds are timed. As the peer, the same users' single-seat holds of random free
// seats are timed in the same run. Prints one JSON line.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "engine/engine.hpp"

namespace encore::bench {
namespace {

using clock_type = std::chrono::steady_clock;

class picks_bench {
public:
    picks_bench(std::uint32_t seats, std::uint32_t row, std::uint32_t sold_percent, std::uint64_t seed)
        : seats_(seats), row_(row), sold_percent_(sold_percent), random_(seed), state_(engine::make_partition(0, 1)) {}

    nlohmann::json run(std::uint32_t picks) {
        create_concert c;
        c.concert = concert_;
        c.title = "picks";
        c.schedules = {{day_, seats_, 10'000}};
        c.queue = {active_capacity_max, ttl_seconds_max};
        c.hold_ttl_seconds = ttl_seconds_max;
        c.max_holds_per_user = max_holds_per_user_max;
        c.options.seats_per_row = {row_};
        apply(command{{}, c});
        fill();
        nlohmann::json by_count = nlohmann::json::object();
        double pick_seconds_total = 0;
        std::uint64_t picks_total = 0;
        for (std::uint32_t count : {1u, 2u, 4u}) {
            auto [seconds, refused] = timed_picks(picks, count);
            pick_seconds_total += seconds;
            picks_total += picks;
            by_count[std::to_string(count)] = {{"picks_per_second", picks / seconds},
                                               {"us_per_pick", seconds * 1e6 / picks},
                                               {"no_adjacent_seats", refused}};
        }
        const double single_seconds = timed_single_holds(picks);
        const double picks_per_second = static_cast<double>(picks_total) / pick_seconds_total;
        const double singles_per_second = picks / single_seconds;
        return {{"benchmark", "picks"},
                {"seats", seats_},
                {"seats_per_row", row_},
                {"taken_percent", 100.0 * static_cast<double>(taken()) / seats_},
                {"picks_per_count", picks},
                {"by_count", by_count},
                {"picks_per_second", picks_per_second},
                {"single_seat_holds_per_second", singles_per_second},
                {"pick_cost_vs_single_hold", singles_per_second / picks_per_second}};
    }

private:
    const engine::apply_output& apply(command c) {
        out_.clear();
        c.meta.accepted_at = now_;
        engine::apply(state_, c, {0, offset_++}, out_);
        return out_;
    }
    // A new user, admitted at once (the capacity is the largest there is): their ticket.
    std::uint64_t admit(user_id u) {
        const auto& out = apply(command{{0, u, {}, no_position}, enqueue{concert_}});
        const auto* joined = std::get_if<queue_joined>(&out.events.back().body);
        if (joined == nullptr || joined->status != queue_status::active) throw std::runtime_error("bench picks: not admitted");
        return joined->ticket;
    }
    reservation_id held_by(const engine::apply_output& out) {
        const auto* h = std::get_if<seat_held>(&out.events.back().body);
        return h == nullptr ? reservation_id{} : h->reservation.id;
    }
    std::uint32_t taken() const {
        const engine::date_state& d = engine::find_concert(state_, concert_)->dates.front();
        return d.held + d.sold;
    }
    void fill() {
        std::vector<std::uint32_t> order(seats_);
        std::iota(order.begin(), order.end(), 1u);
        std::shuffle(order.begin(), order.end(), random_);
        order.resize(static_cast<std::size_t>(seats_) * sold_percent_ / 100);
        for (std::size_t i = 0; i < order.size(); i += 100) {
            user_id u{next_user_++};
            std::uint64_t ticket = admit(u);
            std::vector<std::uint32_t> seats(order.begin() + static_cast<long>(i),
                                             order.begin() + static_cast<long>(std::min(order.size(), i + 100)));
            hold_seat h{concert_, ticket, day_, 0, {}};
            if (seats.size() == 1) h.seat = seats.front();
            else h.choice.seats = seats;
            if (held_by(apply(command{{0, u, {}, no_position}, h})).value == 0) throw std::runtime_error("bench picks: fill refused");
        }
    }
    std::pair<double, std::uint64_t> timed_picks(std::uint32_t picks, std::uint32_t count) {
        double seconds = 0;
        std::uint64_t refused = 0;
        for (std::uint32_t i = 0; i < picks; ++i) {
            user_id u{next_user_++};
            std::uint64_t ticket = admit(u);
            command pick{{0, u, {}, no_position}, hold_seat{concert_, ticket, day_, 0, seat_choice{{}, {}, count}}};
            pick.meta.accepted_at = now_;
            out_.clear();
            auto started = clock_type::now();
            engine::apply(state_, pick, {0, offset_++}, out_);
            seconds += std::chrono::duration<double>(clock_type::now() - started).count();
            reservation_id r = held_by(out_);
            if (r.value == 0) ++refused;
            else apply(command{{0, u, {}, no_position}, cancel_hold{r}});
        }
        return {seconds, refused};
    }
    double timed_single_holds(std::uint32_t holds) {
        const engine::date_state& d = engine::find_concert(state_, concert_)->dates.front();
        std::vector<std::uint32_t> free;
        for (std::uint32_t seat = 1; seat <= seats_; ++seat) {
            if (d.seat_cells[seat - 1] == engine::no_reservation) free.push_back(seat);
        }
        double seconds = 0;
        for (std::uint32_t i = 0; i < holds; ++i) {
            user_id u{next_user_++};
            std::uint64_t ticket = admit(u);
            command one{{0, u, {}, no_position}, hold_seat{concert_, ticket, day_, free[random_() % free.size()], {}}};
            one.meta.accepted_at = now_;
            out_.clear();
            auto started = clock_type::now();
            engine::apply(state_, one, {0, offset_++}, out_);
            seconds += std::chrono::duration<double>(clock_type::now() - started).count();
            reservation_id r = held_by(out_);
            if (r.value != 0) apply(command{{0, u, {}, no_position}, cancel_hold{r}});
        }
        return seconds;
    }

    std::uint32_t seats_, row_, sold_percent_;
    std::mt19937_64 random_;
    engine::partition_state state_;
    engine::apply_output out_;
    concert_id concert_{0xBE57};
    day_number day_ = 20'811;
    time_ms now_ = 1'790'000'000'000;
    std::uint64_t offset_ = 0;
    std::uint64_t next_user_ = 1;
};

}  // namespace

int run_picks_bench(const picks_bench_options& o) {
    const std::uint32_t seats = o.seats, row = o.seats_per_row, sold = o.sold_percent, picks = o.picks;
    std::fprintf(stderr, "bench picks: %u seats in rows of %u, %u%% taken, %u picks of 1, 2 and 4 seats\n", seats, row,
                 sold, picks);
    picks_bench bench(seats, row, sold, o.seed);
    std::printf("%s\n", bench.run(picks).dump().c_str());
    return 0;
}

}  // namespace encore::bench
