// The partition a command is written to: the one routing function of commands. The gateway
// routes every client command with it; the simulation and the tests route theirs with it too.
// Saga steps are addressed by the engine that sends them (requests to the user's home partition,
// results back to the payment's): `route_of` agrees with it for every one.

#pragma once

#include <cstdint>
#include <variant>

#include "events/command.hpp"
#include "events/ids.hpp"

namespace encore {

// Catalog and waiting-room commands go to the concert's partition; those on a reservation to the
// partition that made it (its id names it), a saga's result to its payment's; the rest (a user, a wallet, a
// saga request, a key claim) to the user's home partition.
inline std::uint32_t route_of(const command& c, std::uint32_t partitions) {
    switch (c.type()) {
        case command_type::create_concert: return partition_of(std::get<create_concert>(c.body).concert, partitions);
        case command_type::enqueue: return partition_of(std::get<enqueue>(c.body).concert, partitions);
        case command_type::hold_seat: return partition_of(std::get<hold_seat>(c.body).concert, partitions);
        case command_type::pause_sales: return partition_of(std::get<pause_sales>(c.body).concert, partitions);
        case command_type::block_seats: return partition_of(std::get<block_seats>(c.body).concert, partitions);
        case command_type::update_concert: return partition_of(std::get<update_concert>(c.body).concert, partitions);
        case command_type::add_dates: return partition_of(std::get<add_dates>(c.body).concert, partitions);
        case command_type::add_eligible: return partition_of(std::get<add_eligible>(c.body).concert, partitions);
        case command_type::claim_eligibility: return partition_of(std::get<claim_eligibility>(c.body).concert, partitions);
        case command_type::change_scanner: return partition_of(std::get<change_scanner>(c.body).concert, partitions);
        case command_type::check_in: return partition_of(std::get<check_in>(c.body).concert, partitions);
        case command_type::cancel_hold: return partition_of(std::get<cancel_hold>(c.body).reservation);
        case command_type::pay: return partition_of(std::get<pay>(c.body).reservation);
        case command_type::refund: return partition_of(std::get<refund>(c.body).reservation);
        case command_type::debit_result: return std::get<debit_result>(c.body).payment.position().partition;
        case command_type::credit_result: return std::get<credit_result>(c.body).payment.position().partition;
        default: return partition_of(c.meta.user, partitions);
    }
}

}  // namespace encore
