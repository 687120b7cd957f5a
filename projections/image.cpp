#include "projections/image.hpp"

#include <cassert>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <new>

#include "events/ids.hpp"
#include "projections/keys.hpp"

namespace encore::projections {
namespace {

bool scanned(char tag) {
    return tag == keys::concert || tag == keys::date || tag == keys::user_reservation || tag == keys::wait_bucket ||
           tag == keys::timeline || tag == keys::scanner || tag == keys::date_ticket || tag == keys::gate_checkins;
}

constexpr std::size_t entry_header = 1 + 4;  // key size, value size

std::uint32_t value_size(const char* e) {
    std::uint32_t n;
    std::memcpy(&n, e + 1, sizeof n);
    return n;
}

char* make_entry(std::string_view key, std::string_view value) {
    auto* e = static_cast<char*>(std::malloc(entry_header + key.size() + value.size()));
    if (e == nullptr) throw std::bad_alloc();
    e[0] = static_cast<char>(key.size());
    const auto n = static_cast<std::uint32_t>(value.size());
    std::memcpy(e + 1, &n, sizeof n);
    std::memcpy(e + entry_header, key.data(), key.size());
    if (!value.empty()) std::memcpy(e + entry_header + key.size(), value.data(), value.size());
    return e;
}

}  // namespace

point_table::~point_table() {
    for (char* e : entries_) std::free(e);
}

std::string_view point_table::key_of(const char* e) {
    return {e + entry_header, static_cast<std::uint8_t>(e[0])};
}

std::string_view point_table::value_of(const char* e) {
    return {e + entry_header + static_cast<std::uint8_t>(e[0]), value_size(e)};
}

std::size_t point_table::by_key::operator()(std::string_view key) const noexcept {
    return std::hash<std::string_view>{}(key);
}

std::optional<std::string_view> point_table::find(std::string_view key) const {
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return value_of(*it);
}

void point_table::set(std::string_view key, std::string_view value) {
    assert(key.size() <= 0xFF && value.size() <= 0xFFFF'FFFFu);
    auto it = entries_.find(key);
    if (it != entries_.end() && value_size(*it) == value.size()) {
        if (!value.empty()) std::memcpy(*it + entry_header + key.size(), value.data(), value.size());
        return;
    }
    char* replacement = make_entry(key, value);
    if (it != entries_.end()) {
        char* old = *it;
        entries_.erase(it);
        std::free(old);
    }
    try {
        entries_.insert(replacement);
    } catch (...) {
        std::free(replacement);
        throw;
    }
}

void point_table::erase(std::string_view key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    char* old = *it;
    entries_.erase(it);
    std::free(old);
}

std::optional<std::string_view> image::shard::find(std::string_view key) const {
    if (scanned(key[0])) {
        auto it = ordered.find(key);
        if (it == ordered.end()) return std::nullopt;
        return std::string_view(it->second);
    }
    return points.find(key);
}

void image::shard::set(const std::string& key, const std::optional<std::string>& value) {
    if (scanned(key[0])) {
        if (value) ordered.insert_or_assign(key, *value);
        else ordered.erase(key);
    } else {
        if (value) points.set(key, *value);
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
    case keys::wait_bucket: case keys::timeline: case keys::concert_state: case keys::grade_revenue: case keys::zone: case keys::claim:
    case keys::scanner: case keys::admission: case keys::date_ticket: case keys::gate_checkins:
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
    case keys::admission:  // written by the reservation's (the concert's) partition
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
