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
}

date_mirror::counts date_mirror::load_counts() const {
    std::uint64_t packed = counts_.load(std::memory_order_acquire);
    return {static_cast<std::uint32_t>(packed), static_cast<std::uint32_t>(packed >> 32)};
}

void date_mirror::store_counts(counts c) {
    assert(std::uint64_t{c.held} + c.sold <= seats_);
    counts_.store(std::uint64_t{c.held} | (std::uint64_t{c.sold} << 32), std::memory_order_release);
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
