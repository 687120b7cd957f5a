#pragma once
// Membership in the engine processes' consumer group on `<prefix>commands`, over librdkafka's
// KafkaConsumer. The group is used for one thing only: its assignment says which process owns
// (applies and writes for) which partition. Nothing is consumed through it and nothing is
// committed: on assignment the partitions are assigned at the log end and paused at once, and
// anything a fetch still delivers is dropped. The runners read the command log through
// kafka_log's own consumers, from their checkpoints.
//
// The assignor is cooperative-sticky by default: a rebalance moves only the partitions that must
// move, and the others keep running. (`--kafka-config partition.assignment.strategy=range`
// switches to an eager assignor, which revokes everything on every rebalance; both are handled.)
//
// Liveness: a thread of this object polls the handle every `poll_interval`, which serves the
// rebalance callbacks and keeps max.poll.interval.ms satisfied; librdkafka's own thread sends the
// heartbeats. A process that dies is dropped from the group after session.timeout.ms (6 s by
// default here), and its partitions are assigned to the others.
//
// Callbacks run on that thread. `revoked` must return only once the partitions are released
// (their runners stopped and checkpointed): the revocation is acknowledged to the group after it
// returns. `assigned` should return quickly (the ownership component recovers on its own thread).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "events/log/kafka_log.hpp"
#include "events/result.hpp"

namespace encore {

inline constexpr int kafka_group_session_timeout_ms_default = 6'000;
inline constexpr int kafka_group_heartbeat_interval_ms_default = 1'000;

struct kafka_group_options {
    kafka_options log;          // bootstrap, partitions, topic prefix, pass-through settings, client id
    std::string group_id;       // empty: "<prefix>encore-engines"
    int session_timeout_ms = kafka_group_session_timeout_ms_default;
    int heartbeat_interval_ms = kafka_group_heartbeat_interval_ms_default;
    std::chrono::milliseconds poll_interval{100};
};

struct kafka_group_listener {
    std::function<void(const std::vector<std::uint32_t>&)> assigned;
    std::function<void(const std::vector<std::uint32_t>&)> revoked;
};

class kafka_group {
public:
    // Creates the consumer, subscribes to the commands topic and starts the poll thread. The
    // first assignment arrives asynchronously (the mock cluster waits ~3 s for more members
    // before the first one).
    static result<std::unique_ptr<kafka_group>> join(const kafka_group_options& options, kafka_group_listener listener);

    kafka_group(const kafka_group&) = delete;
    kafka_group& operator=(const kafka_group&) = delete;
    // leave()
    ~kafka_group();

    // Leaves the group: revokes what this process owns (through the listener), tells the
    // coordinator, and stops the poll thread. The others take the partitions over at once rather
    // than after the session timeout. Idempotent.
    void leave();

    // True once the group has answered this member with an assignment (possibly empty).
    bool joined() const;
    // Partitions currently assigned to this process.
    std::vector<std::uint32_t> assignment() const;
    // Assignments and revocations this member has seen.
    std::uint64_t rebalances() const;

    struct state;  // the librdkafka handle, the poll thread and what they share; in kafka_group.cpp

private:
    explicit kafka_group(std::unique_ptr<state> s);
    std::unique_ptr<state> state_;
};

}  // namespace encore
