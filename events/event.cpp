#include "events/event.hpp"

namespace encore {

std::vector<std::uint32_t> seats_of(const reservation& r) {
    std::vector<std::uint32_t> seats;
    seats.reserve(1 + r.extra.more_seats.size());
    seats.push_back(r.seat);
    seats.insert(seats.end(), r.extra.more_seats.begin(), r.extra.more_seats.end());
    return seats;
}

}  // namespace encore
