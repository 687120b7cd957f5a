#pragma once
// The partition a client command is appended to, as the API's handlers route it (api/commands.cpp):
// a new concert, a queue join and a hold go to the concert's partition; a cancel, a payment and a
// refund to the reservation's (the partition that made it); everything else (a user, a charge, a
// key claim) to the caller's home partition, where its wallet lives. Saga steps are not routed:
// each names its target. The one copy for every test harness that plays the API's part.

#include <cstdint>
#include <variant>

#include "events/command.hpp"
#include "events/ids.hpp"

namespace encore::test {

inline std::uint32_t partition_for(const command& c, std::uint32_t partitions) {
    if (const auto* b = std::get_if<encore::create_concert>(&c.body)) return partition_of(b->concert, partitions);
    if (const auto* b = std::get_if<encore::enqueue>(&c.body)) return partition_of(b->concert, partitions);
    if (const auto* b = std::get_if<encore::hold_seat>(&c.body)) return partition_of(b->concert, partitions);
    if (const auto* b = std::get_if<encore::cancel_hold>(&c.body)) return partition_of(b->reservation);
    if (const auto* b = std::get_if<encore::pay>(&c.body)) return partition_of(b->reservation);
    if (const auto* b = std::get_if<encore::refund>(&c.body)) return partition_of(b->reservation);
    return partition_of(c.meta.user, partitions);
}

}  // namespace encore::test
