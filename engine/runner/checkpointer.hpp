#pragma once
// The checkpointer: writes a partition's checkpoints off the partition's thread.
//
// It keeps a replica of the partition state of its own. The runner hands it every batch of
// command records it applied (a move: constant cost on the runner's thread) together with the
// chain head after the batch; the checkpointer applies the same records to its replica with the
// same replay rule (engine::apply_record), which the engine's determinism makes identical to the
// runner's state, and every so many commands serialises the replica and saves it. The writer never
// waits for a snapshot, whatever the size of the state; it waits only when more than
// `pending_bytes_max` of records are queued for the checkpointer (back-pressure, so memory stays
// bounded): a snapshot of a large state takes a second or two, during which records pile up, and
// the replica then applies them at millions per second.
//
// How often: every `every_commands` commands, and no more often than once per
// `snapshot_bytes_per_command` bytes of the last checkpoint, so that a large state (a million
// users waiting) is not serialised every few seconds, which would keep a core busy. Restart time
// stays bounded: what a restart replays past the checkpoint is then at most last_bytes / 64
// commands, which the engine applies in well under a second.
//
// Owned by one partition_runner. Threads: push() and finish() from the runner's thread; the
// checkpointer's own thread applies, snapshots and saves. The counters are atomics.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "events/chain.hpp"
#include "events/log.hpp"

namespace encore::runner {

struct checkpoint_counters {
    std::atomic<std::uint64_t> written{0};
    std::atomic<std::uint64_t> last_bytes{0};
    std::atomic<std::uint64_t> last_ms{0};  // snapshot + save of the last checkpoint
    std::atomic<std::uint64_t> max_ms{0};
    std::atomic<std::uint64_t> push_wait_ms_max{0};  // longest back-pressure wait of the runner
    std::atomic<std::uint64_t> set_aside{0};  // checkpoints that failed their check at recovery
};

// The bytes of a checkpoint (format 2): a header naming its partition, the partition count and
// the offset of the next command to apply; the chain head after the last applied command; the
// state's snapshot; and a SHA-256 of everything before it, so that a damaged, cut or extended
// checkpoint is told apart from a good one before anything in it is believed.
//
//   u8 format (2) | u32 partition | u32 partitions | u64 next command offset | 32 B chain head
//   | u64 snapshot length | snapshot | 32 B SHA-256 of all the bytes before it
//
// `state` is the state `snapshot` was taken of (its header fields come from it).
std::string encode_checkpoint(const engine::partition_state& state, const chain_link& head, const std::string& snapshot);
struct decoded_checkpoint {
    chain_link head = chain_genesis;
    engine::partition_state state;
};
// Errors: errc::unavailable for a checkpoint of the older format 1 (no checksum: it cannot be
// trusted, only replaced); errc::corrupt for one that is cut, extended, fails its checksum or does
// not decode; errc::invalid for a good checkpoint of another partition or partition count. In
// every case the checkpoint must not be used, and the partition replays its log from the start.
result<decoded_checkpoint> decode_checkpoint(std::string_view bytes, std::uint32_t partition, std::uint32_t partitions);

class checkpointer {
public:
    static constexpr std::size_t pending_bytes_max = std::size_t{256} << 20;
    static constexpr std::uint64_t snapshot_bytes_per_command = 64;

    // `replica` is the state the runner recovered from its checkpoint, before replaying the tail.
    // `counters` belong to the runner and outlive this object.
    checkpointer(std::uint32_t partition, checkpoint_store& store, engine::partition_state replica, chain_link head,
                 std::uint64_t every_commands, checkpoint_counters& counters);
    ~checkpointer();
    checkpointer(const checkpointer&) = delete;
    checkpointer& operator=(const checkpointer&) = delete;

    // The runner applied `batch` (consecutive records) and its chain head is now `head`.
    void push(std::vector<log_entry> batch, const chain_link& head);
    // Applies what is pending, writes a final checkpoint if anything was applied since the last
    // one, and ends the thread. False if a checkpoint could not be saved (logged).
    bool finish();
    bool failed() const { return failed_.load(); }

private:
    struct pending {
        std::vector<log_entry> batch;
        chain_link head;
        std::size_t bytes = 0;
    };
    void run();
    bool save();

    std::uint32_t partition_;
    checkpoint_store& store_;
    engine::partition_state replica_;
    chain_link head_;
    std::uint64_t every_commands_;
    std::uint64_t since_checkpoint_ = 0;
    engine::apply_output scratch_;

    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<pending> queue_;
    std::size_t queued_bytes_ = 0;
    std::uint64_t interval_commands_;  // checkpointer thread: the current interval
    bool finishing_ = false;
    std::atomic<bool> failed_{false};
    checkpoint_counters& counters_;
    std::thread thread_;
};

}  // namespace encore::runner
