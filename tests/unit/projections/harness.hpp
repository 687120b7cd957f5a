#pragma once
// Shared by the projection tests: a temporary directory, and a driver of the real engine that turns
// commands into the events the read models consume (saga messages between partitions included).

#include <stdlib.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "events/ids.hpp"
#include "events/time.hpp"
#include "projections/read_models.hpp"
#include "events/route.hpp"
#include "tests/support/temp_directory.hpp"

namespace encore::test {

inline std::unique_ptr<projections::read_models> open_models(const std::string& directory, std::uint32_t partitions) {
    projections::options o;
    o.directory = directory;
    o.partitions = partitions;
    auto opened = projections::read_models::open(o);
    if (!opened) FAIL("open failed: " << opened.err().message);
    return std::move(opened).value();
}

// The first id, from `start` on, that routes to `partition`.
template <class Id>
Id id_in_partition(std::uint32_t partition, std::uint32_t partitions, std::uint64_t start) {
    for (std::uint64_t v = start;; ++v) {
        if (partition_of(Id{v}, partitions) == partition) return Id{v};
    }
}

// The stored outcome of a request (nullopt before it is projected); a read error fails the test.
inline std::optional<event> outcome_of(const projections::read_models& m, log_position request) {
    auto stored = m.outcome(request);
    REQUIRE(stored.ok());
    return std::move(stored).value();
}

inline constexpr time_ms second_ms = 1000;
inline const time_ms test_epoch = *days_from_civil(2026, 12, 1) * 86'400'000LL;

// The real engine, one state per partition, with its saga messages delivered to quiescence.
// The commands each partition applied are its command log: offsets 0, 1, 2…
class engine_cluster {
public:
    explicit engine_cluster(std::uint32_t partitions) {
        for (std::uint32_t p = 0; p < partitions; ++p) states_.push_back(engine::make_partition(p, partitions));
        events_.resize(partitions);
    }

    std::uint32_t partitions() const { return static_cast<std::uint32_t>(states_.size()); }
    const std::vector<event>& events(std::uint32_t p) const { return events_.at(p); }

    // The clock the next command is accepted at.
    time_ms now = test_epoch;

    // Applies a client command at the next offset of the partition that owns it, then every saga
    // message it causes. Returns the command's position (the request the API would wait for).
    log_position submit(user_id user, command_body body, std::string idempotency_key = {}) {
        command c;
        c.meta.accepted_at = now;
        c.meta.user = user;
        c.meta.idempotency_key = std::move(idempotency_key);
        c.body = std::move(body);
        return run(route(c), std::move(c));
    }
    log_position tick(std::uint32_t partition) {
        command c;
        c.meta.accepted_at = now;
        c.body = encore::tick{};
        return run(partition, std::move(c));
    }
    void advance(time_ms by) { now += by; }

    // The event that answered `request`: the last one whose `answers` names it.
    const event* answer_to(log_position request) const {
        const event* found = nullptr;
        for (const event& e : events_.at(request.partition)) {
            if (e.answers == request) found = &e;
        }
        return found;
    }

    // Applies every partition's events the read models have not applied yet, one call per partition.
    void project(projections::read_models& models) const {
        for (std::uint32_t p = 0; p < partitions(); ++p) {
            const auto& all = events_[p];
            std::uint64_t from = models.applied_sequence(p);
            if (from >= all.size()) continue;
            auto applied = models.apply(p, std::span<const event>(all).subspan(from));
            if (!applied) FAIL("apply failed: " << applied.err().message);
        }
    }

private:
    std::uint32_t route(const command& c) const { return route_of(c, partitions()); }

    log_position run(std::uint32_t partition, command first) {
        std::deque<std::pair<std::uint32_t, command>> pending;
        pending.emplace_back(partition, std::move(first));
        log_position first_position{partition, states_[partition].next_command_offset};
        while (!pending.empty()) {
            auto [p, c] = std::move(pending.front());
            pending.pop_front();
            engine::partition_state& s = states_.at(p);
            engine::apply_output out;
            engine::apply(s, c, log_position{p, s.next_command_offset}, out);
            for (event& e : out.events) events_[p].push_back(std::move(e));
            for (auto& m : out.messages) pending.emplace_back(m.partition, std::move(m.cmd));
        }
        return first_position;
    }

    std::vector<engine::partition_state> states_;
    std::vector<std::vector<event>> events_;
};

}  // namespace encore::test
