#include "projections/image.hpp"

#include <mutex>

#include "events/ids.hpp"
#include "projections/keys.hpp"

namespace encore::projections {
namespace {

bool scanned(char tag) {
    return tag == keys::concert || tag == keys::date || tag == keys::user_reservation || tag == keys::wait_bucket ||
           tag == keys::timeline;
}

}  // namespace

const std::string* image::shard::find(const std::string& key) const {
    if (scanned(key[0])) {
        auto it = ordered.find(key);
        return it == ordered.end() ? nullptr : &it->second;
    }
    auto it = points.find(key);
    return it == points.end() ? nullptr : &it->second;
}

void image::shard::set(const std::string& key, const std::optional<std::string>& value) {
    if (scanned(key[0])) {
        if (value) ordered.insert_or_assign(key, *value);
        else ordered.erase(key);
    } else {
        if (value) points.insert_or_assign(key, *value);
        else points.erase(key);
    }
}

image::image(std::uint32_t partitions) {
    for (std::uint32_t p = 0; p < partitions; ++p) shards_.push_back(std::make_unique<shard>());
}

bool image::holds(char tag) {
    switch (tag) {
    case keys::concert: case keys::date: case keys::seat: case keys::user: case keys::reservation:
    case keys::user_reservation: case keys::balance: case keys::queue_entry: case keys::queue_counters:
    case keys::wait_bucket: case keys::timeline:
        return true;
    default:
        return false;
    }
}

std::optional<std::uint32_t> image::owner(std::string_view key) const {
    if (key.size() < 9 || !holds(key[0])) return std::nullopt;
    keys::key_reader k(key);
    const std::uint64_t id = k.u64(1);
    switch (key[0]) {
    case keys::user:
    case keys::balance:
        return partition_of(user_id{id}, partitions());
    case keys::reservation:
        return partition_of(reservation_id{id}) < partitions() ? std::optional(partition_of(reservation_id{id}))
                                                               : std::nullopt;
    case keys::user_reservation: {
        // Written by the reservation's (the concert's) partition; the key ends with ~reservation.
        if (key.size() != 1 + 8 + 8 + 8) return std::nullopt;
        const std::uint32_t p = partition_of(reservation_id{~k.u64(17)});
        return p < partitions() ? std::optional(p) : std::nullopt;
    }
    default:  // every other kind is a concert's
        return partition_of(concert_id{id}, partitions());
    }
}

std::size_t image::size() const {
    std::size_t total = 0;
    for (const auto& s : shards_) {
        std::shared_lock lock(s->mutex);
        total += s->points.size() + s->ordered.size();
    }
    return total;
}

}  // namespace encore::projections
