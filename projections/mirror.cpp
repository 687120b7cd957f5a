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

date_mirror::counts date_mirror::load_counts() const {
    std::uint64_t packed = counts_.load(std::memory_order_acquire);
    return {static_cast<std::uint32_t>(packed), static_cast<std::uint32_t>(packed >> 32)};
}

void date_mirror::store_counts(counts c) {
    assert(std::uint64_t{c.held} + c.sold <= seats_);
    counts_.store(std::uint64_t{c.held} | (std::uint64_t{c.sold} << 32), std::memory_order_release);
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

concert_mirror::concert_mirror(const create_concert& c, time_ms created) : config(c), created_at(created) {
    assert(fits(c));
    auto schedules = c.schedules;
    std::sort(schedules.begin(), schedules.end(),
              [](const schedule& a, const schedule& b) { return a.date < b.date; });
    dates.reserve(schedules.size());
    for (const schedule& s : schedules) dates.push_back(std::make_unique<date_mirror>(s.date, s.seats, s.price));
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
                               [](const std::unique_ptr<date_mirror>& m, day_number v) { return m->date() < v; });
    return it != dates.end() && (*it)->date() == d ? it->get() : nullptr;
}

}  // namespace encore::projections
