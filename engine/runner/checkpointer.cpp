#include "engine/runner/checkpointer.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "events/binary.hpp"
#include "events/diagnostics.hpp"

namespace encore::runner {
namespace {

constexpr std::uint8_t checkpoint_version = 1;

std::uint64_t ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count());
}

void raise_to(std::atomic<std::uint64_t>& max, std::uint64_t value) {
    std::uint64_t seen = max.load();
    while (value > seen && !max.compare_exchange_weak(seen, value)) {
    }
}

}  // namespace

std::string encode_checkpoint(const chain_link& head, const std::string& snapshot) {
    std::string out;
    byte_writer w(out);
    w.put_int(checkpoint_version);
    out.append(reinterpret_cast<const char*>(head.data()), head.size());
    w.put_long_string(snapshot);
    return out;
}

result<decoded_checkpoint> decode_checkpoint(std::string_view bytes, std::uint32_t partition, std::uint32_t partitions) {
    decoded_checkpoint out;
    byte_reader r(bytes);
    if (r.get_int<std::uint8_t>() != checkpoint_version || r.remaining() < out.head.size())
        return error{errc::corrupt, "checkpoint of partition " + std::to_string(partition) + " is unreadable"};
    for (auto& b : out.head) b = r.get_int<std::uint8_t>();
    auto restored = engine::restore(r.get_long_string());
    if (!restored) return restored.err();
    if (restored->partition != partition || restored->partitions != partitions)
        return error{errc::invalid, "checkpoint belongs to another partition layout"};
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
    std::string bytes = encode_checkpoint(head_, engine::snapshot(replica_));
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
