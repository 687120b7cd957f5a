#pragma once
// The Kafka backend of `log_stream` and `checkpoint_store` (events/log.hpp), over librdkafka's C
// API. Topics: `<prefix>commands` and `<prefix>events` with P partitions each, and `<prefix>snapshots`
// (one partition, cleanup.policy=compact, max.message.bytes >= kafka_checkpoint_bytes_max + 1 MiB)
// for checkpoints. The topics must exist — an operator or kafka_mock creates them — and `open`
// checks their partition counts.
//
// Writing: one idempotent producer (`enable.idempotence`, `acks=all`, `enable.gapless.guarantee`)
// produces every record to the partition the caller names: our routing decides partitions,
// librdkafka's partitioner is never used. Retries inside librdkafka carry the producer's sequence
// numbers, so a broker writes a retried batch once.
//
// Record format, commands and events alike: key = the command or event type ("SeatHeld"), value =
// one JSON object, the JSON rendering of the record (events/json.hpp, plus the event's chain `link`)
// with `"record":"<base64 of the exact bytes appended>"` as its last member. `kcat -C -t
// <prefix>events -f '%k %s\n'` shows JSON; readers find the base64 from the end of the value without
// parsing the JSON (see kafka_unwrap). Checkpoints: key = the partition number in decimal, value =
// the checkpoint bytes.
//
// Reading: one consumer handle per stream, used as librdkafka's "simple" consumer: a local fetch
// queue per partition, started at exactly the offset asked for and kept while the reader goes on
// from where it stopped. No consumer group, nothing committed to Kafka. `read_last` (a new owner
// finding the last event written) uses a consumer handle of its own, so that it does not move a
// stream reader's fetcher.
//
// Differences from the embedded log, all inherent to Kafka without transactions:
// - The records of one append call are produced one by one: with several producers writing the
//   same partition they may interleave with other producers' records. Nothing relies on
//   contiguity beyond one record (the runner is the only writer of a partition's events).
// - An append that fails (message.timeout.ms passed while the leader was unreachable, a fatal
//   producer error, closing) has an unknown outcome: some of its records may be in the log. After a
//   fatal error (e.g. a sequence gap) every later append fails with errc::io until reopened.
// - `end` is a cached high watermark, refreshed at most every `kafka_end_refresh_interval` (and by
//   this process's own appends and reads); `refresh_ends` forces a fresh, error-checked look.
// - Checkpoints of partition p are found by reading the snapshots topic (once per process; later
//   loads read only what was added since) and fetching p's latest message.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/log.hpp"
#include "events/result.hpp"
#include "events/types.hpp"

namespace encore {

// Stream records are commands and events (at most record_size_max, 64 KiB, in the codec); this
// refuses anything absurd before it reaches Kafka, whose default message limit is 1 MB.
inline constexpr std::size_t kafka_record_bytes_max = 256u << 10;
// A checkpoint is one Kafka message. The snapshots topic's `max.message.bytes` must be at least
// this on a real cluster (its default is 1 MB); the producer and the consumers allow it.
inline constexpr std::size_t kafka_checkpoint_bytes_max = 128u << 20;
static_assert(seats_per_concert_max * snapshot_bytes_per_sold_seat * 2 <= kafka_checkpoint_bytes_max,
              "one sold-out concert at the catalog limit must fit in a checkpoint with room to spare");
// One `read` returns at most this many records, whatever `max` asks.
inline constexpr std::size_t kafka_read_records_max = 16384;
// How stale `end()` may be when nothing else refreshed it.
inline constexpr std::chrono::milliseconds kafka_end_refresh_interval{100};

struct kafka_options {
    std::string bootstrap;         // bootstrap.servers
    // Of `commands` and `events`; must match the topics. 0: the topics' own (the `commands`
    // topic's; `events` must have as many), which `commands().partitions()` tells once open.
    std::uint32_t partitions = 0;
    std::string topic_prefix;      // topics are <prefix>commands, <prefix>events, <prefix>snapshots
    // Passed through to every librdkafka handle after our defaults (`--kafka-config k=v`): SASL,
    // TLS, timeouts, tuning. The settings our guarantees rest on (idempotence, acks, offsets
    // commit, partitioner…) are refused with errc::invalid.
    // Producer-only or consumer-only settings make the other handles log that they ignore them.
    std::vector<std::pair<std::string, std::string>> config;
    std::string client_id = "encore";  // consumers add -commands, -events, -snapshots
    // The consumers' fetch.wait.max.ms: how long a fetch at the end of a partition waits for data.
    // A real broker answers as soon as data arrives; the mock cluster only when this expires, so
    // there it is added to the latency of every record (Kafka mode sets 10).
    int fetch_wait_max_ms = 50;
};

// Owns one producer with its poll thread (delivery reports; every append callback runs there),
// one consumer per stream, one for checkpoints and one for last records. `commands()`,
// `events()`, `checkpoints()` and `refresh_ends()` are thread-safe. `read` may be called concurrently for different partitions
// (one reader per partition at a time is the intended use; two readers of one partition take
// turns). Stop readers and appenders before destroying it.
class kafka_log {
public:
    // Connects, checks that the three topics exist with the expected partition counts (errc::invalid
    // if not, errc::unavailable if the cluster cannot be reached) and reads every partition's end.
    static result<std::unique_ptr<kafka_log>> open(const kafka_options& options);

    kafka_log(const kafka_log&) = delete;
    kafka_log& operator=(const kafka_log&) = delete;
    // Waits (bounded) for every produced record's delivery report, fails the rest with
    // errc::unavailable, then closes the handles.
    ~kafka_log();

    log_stream& commands();
    log_stream& events();
    checkpoint_store& checkpoints();

    // Reads every partition's high watermark of both streams now; afterwards `end` returns at least
    // these. For an owner taking over a partition, which must not trust a cached end.
    result<unit> refresh_ends();

    // The cluster's id (from the brokers' metadata), to tell one cluster from another.
    result<std::string> cluster_id();

    // True once the producer hit a fatal error: every later append fails until the log is
    // reopened. A process in that state can no longer write for the partitions it owns.
    bool fatal() const;

private:
    struct state;  // the librdkafka handles, the streams and the poll thread; in kafka_log.cpp
    explicit kafka_log(std::unique_ptr<state> state);
    std::unique_ptr<state> state_;
};

// The value a record gets in the commands and events topics: one JSON object that a person can read
// (`kcat -C -t <prefix>events -f '%k %s\n'`), the JSON rendering of the command or event followed by
// `"record":"<base64 of the exact bytes appended>"` as its last member. Exposed for tools and tests.
enum class kafka_stream_kind { commands, events };
std::string kafka_envelope(kafka_stream_kind kind, std::string_view record);
// The record bytes back from an envelope. A value that is not an envelope comes back unchanged, so
// that a foreign or damaged message reaches the decoder, which reports it.
std::string kafka_unwrap(std::string_view value);

}  // namespace encore
