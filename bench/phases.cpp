// `encore bench phases`: a stadium's sale phases applied to one partition on one thread; only the
// engine's applies are timed, each on its own. In order:
//  1. a fan club's list of --ids ids uploaded in batches of 10,000 (a command each);
//  2. --claims of them claimed, one user each, and the claimants in the presale's pre-queue;
//  3. the presale opens (its pre-queue placed and the first --capacity admitted);
//  4. the presale closes (its tokens expired);
//  5. --users other users join the general sale's pre-queue, which then opens.
// The longest apply of each kind, against the 50 ms the design allows one apply on the writer
// (DESIGN.md). Prints progress on stderr and one JSON line.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "engine/engine.hpp"

namespace encore::bench {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr time_ms hour_ms = 3'600'000;
constexpr double apply_target_ms = 50;

// The longest and the total of one kind of apply.
struct timing {
    double max_ms = 0, total_ms = 0;
    std::uint64_t count = 0, events = 0;
    void add(double ms, std::size_t events_out) {
        max_ms = std::max(max_ms, ms);
        total_ms += ms;
        ++count;
        events += events_out;
    }
    nlohmann::json json() const {
        return {{"applies", count}, {"longest_ms", max_ms}, {"mean_ms", count ? total_ms / static_cast<double>(count) : 0.0},
                {"events", events}, {"within_target", max_ms <= apply_target_ms}};
    }
};

class phases_bench {
public:
    explicit phases_bench(const phases_bench_options& o) : o_(o), random_(o.seed), state_(engine::make_partition(0, 1)) {}

    nlohmann::json run() {
        create();
        upload();
        claim_and_join();
        now_ = start_ + hour_ms;
        tick(presale_open_);
        now_ = start_ + 2 * hour_ms;
        tick(presale_close_);
        general_join();
        now_ = start_ + 3 * hour_ms;
        tick(general_open_);
        return {{"benchmark", "phases"},
                {"ids", o_.ids},
                {"claims", o_.claims},
                {"users", o_.users},
                {"capacity", o_.capacity},
                {"apply_target_ms", apply_target_ms},
                {"list_upload", upload_.json()},
                {"claim", claim_.json()},
                {"presale_join", presale_join_.json()},
                {"presale_open", presale_open_.json()},
                {"presale_close", presale_close_.json()},
                {"general_join", general_join_.json()},
                {"general_open", general_open_.json()}};
    }

private:
    const engine::apply_output& apply(command c, timing* t = nullptr) {
        out_.clear();
        c.meta.accepted_at = now_;
        const auto started = clock_type::now();
        engine::apply(state_, c, {0, offset_++}, out_);
        if (t != nullptr) t->add(std::chrono::duration<double, std::milli>(clock_type::now() - started).count(), out_.events.size());
        return out_;
    }
    void expect(const engine::apply_output& out, const char* what) {
        if (out.events.empty() || std::holds_alternative<refused>(out.events.back().body))
            throw std::runtime_error(std::string("bench phases: ") + what + " was refused");
    }

    // A stadium: 40 sections of 25 rows of 50 seats in VIP, R, S, A; a fan club presale of VIP
    // from +1 h to +2 h (2 tickets each), the general sale from +3 h.
    void create() {
        create_concert c;
        c.concert = concert_;
        c.title = "phases";
        c.queue = {o_.capacity, 600};
        venue_layout& v = c.options.sale.venue.mut();
        v.grades = {{"VIP", 99'000}, {"R", 88'000}, {"S", 77'000}, {"A", 66'000}};
        for (std::uint32_t i = 0; i < 40; ++i)
            v.sections.push_back({"S" + std::to_string(101 + i), i / 10, std::vector<std::uint32_t>(25, 50), 0, ""});
        c.schedules = {{day_, 50'000, 0}};
        v.plan.phases = {{"fanclub", "Fan club presale", start_ + hour_ms, start_ + 2 * hour_ms, true, {0}, 2, 0xfa11},
                         {"general", "General sale", start_ + 3 * hour_ms, 0, false, {}, 0, 0x6e7e}};
        expect(apply(command{{0, user_id{}, {}, no_position}, std::move(c)}), "the concert");
    }

    void upload() {
        keys_.reserve(o_.ids);
        for (std::uint32_t i = 0; i < o_.ids; ++i) keys_.push_back({random_(), random_()});
        for (std::size_t first = 0; first < keys_.size(); first += eligible_per_request_max) {
            const std::size_t last = std::min(keys_.size(), first + eligible_per_request_max);
            std::vector<list_key> batch(keys_.begin() + static_cast<long>(first), keys_.begin() + static_cast<long>(last));
            expect(apply(command{{0, user_id{}, {}, no_position}, add_eligible{concert_, 0, std::move(batch)}}, &upload_), "a batch of ids");
        }
        std::fprintf(stderr, "bench phases: %u ids uploaded in %llu batches, the longest apply %.2f ms\n", o_.ids,
                     static_cast<unsigned long long>(upload_.count), upload_.max_ms);
    }

    void claim_and_join() {
        for (std::uint32_t i = 0; i < o_.claims; ++i) {
            const user_id u{next_user_++};
            expect(apply(command{{0, u, {}, no_position}, claim_eligibility{concert_, 0, keys_[i], false}}, &claim_), "a claim");
            expect(apply(command{{0, u, {}, no_position}, enqueue{concert_}}, &presale_join_), "a claimant's join");
        }
        std::fprintf(stderr, "bench phases: %u claims, each claimant in the presale's pre-queue\n", o_.claims);
    }

    void general_join() {
        for (std::uint32_t i = 0; i < o_.users; ++i) {
            expect(apply(command{{0, user_id{next_user_++}, {}, no_position}, enqueue{concert_}}, &general_join_), "a join");
            if ((i + 1) % 250'000 == 0) std::fprintf(stderr, "bench phases: %u of %u in the general sale's pre-queue\n", i + 1, o_.users);
        }
    }

    void tick(timing& t) {
        apply(command{{0, user_id{}, {}, no_position}, encore::tick{}}, &t);
        std::fprintf(stderr, "bench phases: a tick: %llu events in %.1f ms\n", static_cast<unsigned long long>(t.events), t.max_ms);
    }

    phases_bench_options o_;
    std::mt19937_64 random_;
    engine::partition_state state_;
    engine::apply_output out_;
    std::vector<list_key> keys_;
    concert_id concert_{0xFA5E};
    day_number day_ = 20'811;
    time_ms start_ = 1'790'000'000'000;
    time_ms now_ = start_;
    std::uint64_t offset_ = 0;
    std::uint64_t next_user_ = 1;
    timing upload_, claim_, presale_join_, presale_open_, presale_close_, general_join_, general_open_;
};

}  // namespace

int run_phases_bench(const phases_bench_options& o) {
    if (o.claims > o.ids) throw std::invalid_argument("--claims cannot exceed --ids");
    std::fprintf(stderr, "bench phases: a list of %u ids, %u claims, %u users in the general sale's pre-queue\n", o.ids, o.claims, o.users);
    phases_bench bench(o);
    std::printf("%s\n", bench.run().dump().c_str());
    return 0;
}

}  // namespace encore::bench
