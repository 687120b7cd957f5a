#include "engine/runner/checkpointer.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <cstring>

#include "events/binary.hpp"
#include "events/diagnostics.hpp"

namespace encore::runner {
namespace {

constexpr std::uint8_t checkpoint_version = 2;
constexpr std::uint8_t checkpoint_version_unchecked = 1;  // no header, no checksum
using checkpoint_digest = std::array<unsigned char, 32>;
// format, partition, partitions, next command offset, chain head, snapshot length
constexpr std::size_t checkpoint_header_bytes = 1 + 4 + 4 + 8 + 32 + 8;

checkpoint_digest digest_of(std::string_view bytes) {
    checkpoint_digest out{};
    unsigned int length = 0;
    [[maybe_unused]] const int ok = EVP_Digest(bytes.data(), bytes.size(), out.data(), &length, EVP_sha256(), nullptr);
    assert(ok == 1 && length == out.size());
    return out;
}

std::uint64_t ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count());
}

void raise_to(std::atomic<std::uint64_t>& max, std::uint64_t value) {
    std::uint64_t seen = max.load();
    while (value > seen && !max.compare_exchange_weak(seen, value)) {
    }
}

}  // namespace

std::string encode_checkpoint(const engine::partition_state& state, const chain_link& head, const std::string& snapshot) {
    std::string out;
    out.reserve(checkpoint_header_bytes + snapshot.size() + sizeof(checkpoint_digest));
    byte_writer w(out);
    w.put_int(checkpoint_version);
    w.put_int(state.partition);
    w.put_int(state.partitions);
    w.put_int(state.next_command_offset);
    out.append(reinterpret_cast<const char*>(head.data()), head.size());
    w.put_long_string(snapshot);
    const checkpoint_digest digest = digest_of(out);
    out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
    return out;
}

result<decoded_checkpoint> decode_checkpoint(std::string_view bytes, std::uint32_t partition, std::uint32_t partitions) {
    const std::string of = "the checkpoint of partition " + std::to_string(partition);
    if (bytes.empty()) return error{errc::corrupt, of + " is empty"};
    const auto format = static_cast<std::uint8_t>(bytes[0]);
    if (format == checkpoint_version_unchecked)
        return error{errc::unavailable, of + " has the older format 1, which carries no checksum"};
    if (format != checkpoint_version)
        return error{errc::corrupt, of + " has an unknown format (" + std::to_string(format) + ")"};
    if (bytes.size() < checkpoint_header_bytes + sizeof(checkpoint_digest))
        return error{errc::corrupt, of + " is cut: " + std::to_string(bytes.size()) + " bytes, not even a header"};
    byte_reader header(bytes.substr(0, checkpoint_header_bytes));
    header.get_int<std::uint8_t>();
    const auto stored_partition = header.get_int<std::uint32_t>();
    const auto stored_partitions = header.get_int<std::uint32_t>();
    const auto next_offset = header.get_int<std::uint64_t>();
    decoded_checkpoint out;
    for (auto& b : out.head) b = header.get_int<std::uint8_t>();
    const auto snapshot_bytes = header.get_int<std::uint64_t>();
    const std::uint64_t expected = checkpoint_header_bytes + snapshot_bytes + sizeof(checkpoint_digest);
    if (snapshot_bytes > bytes.size() || expected != bytes.size())
        return error{errc::corrupt, of + " is " + (bytes.size() < expected ? "cut" : "extended") + ": " +
                                        std::to_string(bytes.size()) + " bytes where its header says " +
                                        (snapshot_bytes > bytes.size() ? std::string("more") : std::to_string(expected))};
    const std::string_view covered = bytes.substr(0, bytes.size() - sizeof(checkpoint_digest));
    const checkpoint_digest digest = digest_of(covered);
    if (std::memcmp(digest.data(), bytes.data() + covered.size(), digest.size()) != 0)
        return error{errc::corrupt, of + " fails its checksum (the file was damaged)"};
    if (stored_partition != partition || stored_partitions != partitions)
        return error{errc::invalid, of + " belongs to partition " + std::to_string(stored_partition) + " of " +
                                        std::to_string(stored_partitions) + ", not of " + std::to_string(partitions)};
    auto restored = engine::restore(covered.substr(checkpoint_header_bytes));
    if (!restored)
        return error{restored.err().code == errc::unavailable ? errc::unavailable : errc::corrupt,
                     of + " does not decode: " + restored.err().message};
    if (restored->partition != partition || restored->partitions != partitions || restored->next_command_offset != next_offset)
        return error{errc::corrupt, of + " disagrees with its own header"};
    out.state = std::move(restored).value();
    return out;
}

checkpointer::checkpointer(std::uint32_t partition, checkpoint_store& store, engine::partition_state replica,
                           chain_link head, std::uint64_t every_commands, checkpoint_counters& counters)
    : partition_(partition),
      store_(store),
      replica_(std::move(replica)),
      head_(head),
      every_commands_(every_commands),
      interval_commands_(every_commands),
      counters_(counters),
      thread_([this] { run(); }) {}

// A failure to save is logged by save() and reported by failed(); nothing more to do here.
checkpointer::~checkpointer() { finish(); }

void checkpointer::push(std::vector<log_entry> batch, const chain_link& head) {
    std::size_t bytes = 0;
    for (const log_entry& e : batch) bytes += e.bytes.size() + sizeof(log_entry);
    std::unique_lock lock(mutex_);
    if (queued_bytes_ >= pending_bytes_max) {
        const auto began = std::chrono::steady_clock::now();
        changed_.wait(lock, [this] { return queued_bytes_ < pending_bytes_max || failed_.load(); });
        raise_to(counters_.push_wait_ms_max, ms_between(began, std::chrono::steady_clock::now()));
    }
    queued_bytes_ += bytes;
    queue_.push_back({std::move(batch), head, bytes});
    changed_.notify_all();
}

bool checkpointer::finish() {
    {
        std::lock_guard lock(mutex_);
        if (!thread_.joinable()) return !failed_;
        finishing_ = true;
        changed_.notify_all();
    }
    thread_.join();
    if (!failed_ && since_checkpoint_ > 0 && !save()) failed_ = true;
    return !failed_;
}

void checkpointer::run() {
    diag::name_thread("checkpoint-" + std::to_string(partition_));
    for (;;) {
        pending next;
        {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [this] { return !queue_.empty() || finishing_; });
            if (queue_.empty()) return;  // finishing, and nothing left to apply
            next = std::move(queue_.front());
            queue_.pop_front();
            queued_bytes_ -= next.bytes;
            changed_.notify_all();
        }
        for (const log_entry& entry : next.batch) {
            scratch_.clear();
            // The runner already logged and counted an undecodable record.
            engine::apply_record(replica_, entry.bytes, {partition_, entry.offset}, scratch_);
        }
        head_ = next.head;
        since_checkpoint_ += next.batch.size();
        if (since_checkpoint_ >= interval_commands_ && !save()) {
            std::lock_guard lock(mutex_);
            failed_ = true;
            queue_.clear();
            queued_bytes_ = 0;
            changed_.notify_all();
            return;
        }
    }
}

bool checkpointer::save() {
    const auto began = std::chrono::steady_clock::now();
    std::string bytes = encode_checkpoint(replica_, head_, engine::snapshot(replica_));
    const std::uint64_t size = bytes.size();
    auto saved = store_.save(partition_, std::move(bytes));
    if (!saved) {
        diag::error("runner", "checkpoint failed", {{"partition", partition_}, {"error", saved.err().message}});
        return false;
    }
    const std::uint64_t took = ms_between(began, std::chrono::steady_clock::now());
    since_checkpoint_ = 0;
    interval_commands_ = std::max(every_commands_, size / snapshot_bytes_per_command);
    counters_.last_bytes = size;
    counters_.last_ms = took;
    raise_to(counters_.max_ms, took);
    ++counters_.written;
    return true;
}

}  // namespace encore::runner
