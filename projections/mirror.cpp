#include "projections/mirror.hpp"

#include <algorithm>
#include <cassert>

namespace encore::projections {

date_mirror::date_mirror(day_number date, std::uint32_t seats, won price)
    : date_(date), seats_(seats), price_(price), statuses_(std::make_unique<std::atomic<std::uint8_t>[]>(seats)) {
    assert(seats >= 1 && seats <= seats_per_date_max);
}

seat_status date_mirror::status(std::uint32_t seat) const {
    assert(seat >= 1 && seat <= seats_);
    return static_cast<seat_status>(statuses_[seat - 1].load(std::memory_order_relaxed));
}

void date_mirror::set_status(std::uint32_t seat, seat_status s) {
    assert(seat >= 1 && seat <= seats_);
    statuses_[seat - 1].store(static_cast<std::uint8_t>(s), std::memory_order_relaxed);
    advance_version();
}

namespace {
constexpr unsigned count_bits = 21;
constexpr std::uint64_t count_mask = (std::uint64_t{1} << count_bits) - 1;
static_assert(seats_per_date_max <= count_mask);
}  // namespace

date_mirror::counts date_mirror::load_counts() const {
    std::uint64_t packed = counts_.load(std::memory_order_acquire);
    return {static_cast<std::uint32_t>(packed & count_mask), static_cast<std::uint32_t>((packed >> count_bits) & count_mask),
            static_cast<std::uint32_t>((packed >> (2 * count_bits)) & count_mask)};
}

void date_mirror::store_counts(counts c) {
    assert(std::uint64_t{c.held} + c.sold + c.blocked <= seats_);
    counts_.store(std::uint64_t{c.held} | (std::uint64_t{c.sold} << count_bits) | (std::uint64_t{c.blocked} << (2 * count_bits)),
                  std::memory_order_release);
}

void admission_rate::record(time_ms at) {
    std::lock_guard lock(mutex_);
    if (times_.empty() && first_ == 0) first_ = at;
    times_.push_back(std::max(at, times_.empty() ? at : times_.back()));
    while (times_.size() > kept_max || (times_.size() > 1 && times_.front() < times_.back() - window_ms))
        times_.pop_front();
}

void admission_rate::seed(const std::vector<std::pair<time_ms, std::uint64_t>>& buckets, time_ms bucket_ms) {
    if (buckets.empty() || bucket_ms <= 0) return;
    const time_ms end = buckets.back().first + bucket_ms;
    std::vector<time_ms> latest_first;
    for (auto it = buckets.rbegin(); it != buckets.rend() && latest_first.size() < kept_max; ++it) {
        const auto [start, count] = *it;
        if (start + bucket_ms <= end - window_ms) break;
        for (std::uint64_t i = count; i-- > 0 && latest_first.size() < kept_max;)
            latest_first.push_back(start + static_cast<time_ms>((2 * i + 1) * static_cast<std::uint64_t>(bucket_ms) / (2 * count)));
    }
    for (auto it = latest_first.rbegin(); it != latest_first.rend(); ++it) record(*it);
}

std::optional<std::uint64_t> admission_rate::estimate_seconds(std::uint64_t position, time_ms now) const {
    std::lock_guard lock(mutex_);
    if (times_.size() < 2) return std::nullopt;
    const time_ms end = std::max(now, times_.back());
    time_ms start = std::max(end - window_ms, first_);
    if (times_.size() == kept_max) start = std::max(start, times_.front());
    const auto first_in_window = std::lower_bound(times_.begin(), times_.end(), start);
    if (first_in_window == times_.end()) return std::nullopt;
    auto admissions = static_cast<std::uint64_t>(times_.end() - first_in_window);
    // A window that opens at an admission holds one interval fewer than admissions.
    if (*first_in_window == start) admissions -= 1;
    const time_ms span = end - start;
    if (admissions < 1 || span < 1000) return std::nullopt;
    // position / (admissions / span), in seconds, rounded up.
    const long double seconds = static_cast<long double>(position) * span / admissions / 1000.0L;
    return static_cast<std::uint64_t>(seconds) + (seconds > static_cast<std::uint64_t>(seconds) ? 1 : 0);
}

concert_mirror::concert_mirror(const create_concert& c, time_ms created, concert_controls ctl,
                               const concert_mirror* previous)
    : config(c), created_at(created), controls(ctl) {
    assert(fits(c));
    auto schedules = c.schedules;
    std::sort(schedules.begin(), schedules.end(),
              [](const schedule& a, const schedule& b) { return a.date < b.date; });
    dates.reserve(schedules.size());
    for (const schedule& s : schedules) {
        std::shared_ptr<date_mirror> kept;
        if (previous != nullptr) {
            auto it = std::find_if(previous->dates.begin(), previous->dates.end(),
                                   [&](const auto& d) { return d->date() == s.date; });
            if (it != previous->dates.end()) kept = *it;
        }
        dates.push_back(kept ? std::move(kept) : std::make_shared<date_mirror>(s.date, s.seats, s.price));
    }
    if (previous != nullptr) {
        waiting.store(previous->waiting.load(std::memory_order_relaxed), std::memory_order_relaxed);
        active.store(previous->active.load(std::memory_order_relaxed), std::memory_order_relaxed);
        admissions = previous->admissions;
    }
}

bool concert_mirror::fits(const create_concert& config) {
    std::vector<day_number> days;
    for (const schedule& s : config.schedules) {
        if (s.seats < 1 || s.seats > seats_per_date_max) return false;
        days.push_back(s.date);
    }
    std::sort(days.begin(), days.end());
    return std::adjacent_find(days.begin(), days.end()) == days.end();
}

date_mirror* concert_mirror::find_date(day_number d) const {
    auto it = std::lower_bound(dates.begin(), dates.end(), d,
                               [](const std::shared_ptr<date_mirror>& m, day_number v) { return m->date() < v; });
    return it != dates.end() && (*it)->date() == d ? it->get() : nullptr;
}

}  // namespace encore::projections
