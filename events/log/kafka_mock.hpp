#pragma once
// A Kafka cluster in this process, for tests and local runs: librdkafka's mock cluster
// (rdkafka_mock.h) with the topics Encore uses already created. Its brokers listen on loopback TCP
// ports chosen by the kernel, so any Kafka client — our kafka_log, kcat — can reach it through
// `bootstrap_servers()`. It keeps everything in memory and dies with the object.
//
// Owned by whoever started it (a test, `encore kafka-mock`); the mock runs on librdkafka's own
// threads. The fault-injection calls are thread-safe.
//
// Limits of the mock (librdkafka 2.0.2) worth knowing when a test leans on it:
// - No replication (acks=all is acknowledged by the leader alone) and no leader election: a broker
//   set down stays the leader of its partitions until it is set up again.
// - Each partition keeps at most 5 MiB and 100000 message sets; older ones are dropped (a reader
//   asking for them gets "offset outside the log"). A message set that fills the 5 MiB alone is
//   dropped with them, so a message of more than ~2.5 MiB may become unreadable at once.
// - No compaction: a compacted topic keeps every version until the size limit drops it.
// - Producer sequence numbers are only checked for transactional producers: a batch that an
//   idempotent producer resends after a lost answer is written twice (a real broker drops it).
// - A fetch with nothing to return waits its full fetch.wait.max.ms, even when data arrives.
// - No CreateTopics API (the topics are created here, up front); transactional offsets are not kept.
// - Destroying a cluster that has topics takes about a second.

#include <cstdint>
#include <memory>
#include <string>

#include "events/result.hpp"

namespace encore {

// Kafka protocol request types, for `push_request_errors` (the numbers are the protocol's ApiKey).
inline constexpr std::int16_t kafka_api_produce = 0;
inline constexpr std::int16_t kafka_api_fetch = 1;
inline constexpr std::int16_t kafka_api_list_offsets = 2;
inline constexpr std::int16_t kafka_api_metadata = 3;
inline constexpr std::int16_t kafka_api_init_producer_id = 22;

// Brokers beyond this are no use to a test and would only cost threads and ports.
inline constexpr int kafka_mock_brokers_max = 16;

class kafka_mock {
public:
    // Starts `brokers` brokers (ids 1..brokers) and creates `<prefix>commands` and `<prefix>events`
    // with `partitions` partitions each and `<prefix>snapshots` with one, replicated on
    // min(brokers, 3) brokers.
    static result<std::unique_ptr<kafka_mock>> start(int brokers, std::uint32_t partitions, std::string topic_prefix);

    kafka_mock(const kafka_mock&) = delete;
    kafka_mock& operator=(const kafka_mock&) = delete;
    // Stops the brokers; connected clients see their connections close.
    ~kafka_mock();

    // "127.0.0.1:port,127.0.0.1:port…", for `bootstrap.servers` or `kcat -b`.
    const std::string& bootstrap_servers() const;
    const std::string& topic_prefix() const;
    std::uint32_t partitions() const;
    int brokers() const;

    // Down: the broker drops its connections and refuses new ones; it stays the leader of its
    // partitions, so their clients wait (or time out) until it is up again. -1 means every broker.
    result<unit> set_broker_down(int broker_id, bool down);
    // The next `count` requests of type `api_key` to any broker fail with the Kafka error
    // `kafka_error_code` (an rd_kafka_resp_err_t value, e.g. NOT_LEADER_FOR_PARTITION = 6).
    void push_request_errors(std::int16_t api_key, std::size_t count, int kafka_error_code);
    // The same for one broker, each answer also delayed by `rtt_ms`. A delay past the client's
    // request.timeout.ms with no error (kafka_error_code 0) makes a produce that the broker did
    // write look lost to the client, which then retries it: the duplicate case.
    result<unit> push_broker_request_errors(int broker_id, std::int16_t api_key, std::size_t count,
                                            int kafka_error_code, int rtt_ms = 0);
    // How many of the errors pushed on the broker for `api_key` are still waiting for a request.
    result<std::size_t> broker_request_errors_pending(int broker_id, std::int16_t api_key);
    // Every response of the broker (-1: of every broker) is delayed by `rtt_ms`.
    result<unit> set_rtt(int broker_id, int rtt_ms);
    // The broker that leads partition `partition` of `topic` (a full topic name).
    result<unit> set_partition_leader(const std::string& topic, std::uint32_t partition, int broker_id);

private:
    struct state;  // the librdkafka handle and the cluster; defined in kafka_mock.cpp
    explicit kafka_mock(std::unique_ptr<state> state);
    std::unique_ptr<state> state_;
};

}  // namespace encore
