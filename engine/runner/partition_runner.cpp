#include "engine/runner/partition_runner.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>

#include "events/binary.hpp"
#include "events/codec.hpp"
#include "events/diagnostics.hpp"

namespace encore::runner {
namespace {

// One past the sequence of the last record of `events`' partition: the events the runner must not
// write again. Backend-neutral: it decodes the record and never assumes that an event's offset is
// its sequence (on Kafka a record may repeat an earlier event). On Kafka a former owner that has
// not yet learnt that it lost the partition may have appended repeats of earlier events after the
// highest one, so this may be low; that is safe (the replay writes identical repeats, which
// readers drop by sequence). It is never high, which would leave a hole: it is a sequence seen.
result<std::uint64_t> events_written(log_stream& events, std::uint32_t partition) {
    auto last = events.read_last(partition);
    if (!last) return last.err();
    if (!last->has_value()) return std::uint64_t{0};
    sealed_event sealed;
    if (!unseal((*last)->bytes, sealed))
        return error{errc::corrupt, "the last event record of partition " + std::to_string(partition) + " is too short"};
    auto decoded = decode_event(sealed.event_bytes);
    if (!decoded) return decoded.err();
    return decoded->sequence + 1;
}

// Waits for several appends issued together (one fsync in the embedded log).
class append_barrier {
public:
    append_callback expect() {
        std::lock_guard lock(mutex_);
        ++pending_;
        return [this](result<std::uint64_t> r) {
            std::lock_guard lock(mutex_);
            if (!r && ok_) {
                ok_ = false;
                why_ = r.err().message;
            }
            if (--pending_ == 0) done_.notify_all();
        };
    }
    bool wait(std::string& why) {
        std::unique_lock lock(mutex_);
        done_.wait(lock, [this] { return pending_ == 0; });
        why = why_;
        return ok_;
    }

private:
    std::mutex mutex_;
    std::condition_variable done_;
    int pending_ = 0;
    bool ok_ = true;
    std::string why_;
};

}  // namespace

time_ms system_time_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

partition_runner::partition_runner(std::uint32_t partition, std::uint32_t partitions, log_stream& commands,
                                   log_stream& events, checkpoint_store& checkpoints, runner_options options,
                                   wall_clock clock)
    : partition_(partition),
      commands_(commands),
      events_(events),
      checkpoints_(checkpoints),
      options_(options),
      clock_(std::move(clock)),
      state_(engine::make_partition(partition, partitions)) {}

partition_runner::~partition_runner() { stop(); }

result<unit> partition_runner::recover() {
    using clock = std::chrono::steady_clock;
    auto ms_since = [](clock::time_point t) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t).count();
    };
    const auto began = clock::now();
    auto saved = checkpoints_.load(partition_);
    if (!saved) return saved.err();
    if (saved->has_value()) {
        auto decoded = decode_checkpoint(**saved, partition_, state_.partitions);
        if (decoded) {
            chain_head_ = decoded->head;
            state_ = std::move(decoded->state);
        } else {
            // A checkpoint is only a shortcut: one that is damaged, cut, of an older format or of
            // another layout is set aside, and the log, the source of truth, replays from zero.
            auto where = checkpoints_.set_aside(partition_, decoded.err().message);
            diag::warn("runner", "checkpoint set aside; replaying the partition from its first command",
                       {{"partition", partition_}, {"reason", decoded.err().message},
                        {"set_aside", where ? *where : "could not be moved: " + where.err().message}});
            ++checkpoint_counters_.set_aside;
        }
    }
    // The replica starts where the runner starts and sees every record the runner applies.
    checkpointer_ = std::make_unique<checkpointer>(partition_, checkpoints_, state_, chain_head_,
                                                   options_.checkpoint_every_commands, checkpoint_counters_);
    const auto checkpoint_ms = ms_since(began);
    const auto tail_began = clock::now();
    auto written = events_written(events_, partition_);
    if (!written) return written.err();
    events_durable_ = *written;
    const auto tail_ms = ms_since(tail_began);
    const std::uint64_t from = state_.next_command_offset;
    std::uint64_t end = commands_.end(partition_);
    diag::info("runner", "recovering", {{"partition", partition_}, {"from", from}, {"to", end}});
    const auto replay_began = clock::now();
    while (state_.next_command_offset < end) {
        auto batch = commands_.read(partition_, state_.next_command_offset, options_.batch_commands_max,
                                    std::chrono::milliseconds(0));
        if (!batch) return batch.err();
        if (batch->empty()) break;
        if (!process(std::move(*batch))) return error{errc::io, "recovery of partition " + std::to_string(partition_) + " failed"};
    }
    // Also when there was nothing to replay: the checkpoint's offset is applied.
    applied_ = state_.next_command_offset;
    diag::info("runner", "recovered",
               {{"partition", partition_}, {"from", from}, {"to", state_.next_command_offset}, {"events_written", events_durable_},
                {"checkpoint_ms", checkpoint_ms}, {"event_tail_ms", tail_ms}, {"replay_ms", ms_since(replay_began)}});
    return unit{};
}

void partition_runner::start() {
    thread_ = std::thread([this] {
        diag::name_thread("runner-" + std::to_string(partition_));
        run();
    });
}

void partition_runner::stop() {
    if (thread_.joinable()) {
        stopping_ = true;
        thread_.join();
    }
    // Also after a recovery that was never started: the replayed tail is checkpointed.
    if (checkpointer_ && !checkpointer_->finish()) failed_ = true;
}

void partition_runner::run() {
    while (!stopping_) {
        auto batch =
            commands_.read(partition_, state_.next_command_offset, options_.batch_commands_max, options_.idle_wait);
        if (!batch) {
            diag::error("runner", "reading the command log failed", {{"partition", partition_}, {"error", batch.err().message}});
            failed_ = true;
            return;
        }
        bool ok = batch->empty() ? append_tick_if_due() : process(std::move(*batch));
        if (!ok) {
            failed_ = true;
            return;
        }
        if (checkpointer_->failed()) {
            failed_ = true;
            return;
        }
    }
}

bool partition_runner::process(std::vector<log_entry>&& batch) {
    output_.clear();
    for (const log_entry& entry : batch) {
        if (!engine::apply_record(state_, entry.bytes, {partition_, entry.offset}, output_)) {
            diag::error("runner", "undecodable command applied as an empty Tick",
                        {{"partition", partition_}, {"offset", entry.offset}});
            ++counters_.corrupt_commands;
        }
        if (tick_offset_in_flight_ == entry.offset + 1) tick_offset_in_flight_ = 0;
    }
    std::vector<std::string> records;
    std::string bytes;
    for (const event& e : output_.events) {
        bytes.clear();
        encode(e, bytes);
        chain_head_ = chain_next(chain_head_, bytes);
        if (e.sequence >= events_durable_) records.push_back(seal(chain_head_, bytes));
    }
    std::map<std::uint32_t, std::vector<std::string>> outbound;
    for (const engine::outbound_command& m : output_.messages) outbound[m.partition].push_back(encode(m.cmd));

    append_barrier barrier;
    std::size_t event_count = records.size();
    // Events and saga commands are derived from synced commands: replay regenerates them.
    if (!records.empty()) events_.append_derived(partition_, std::move(records), barrier.expect());
    for (auto& [target, messages] : outbound) commands_.append_derived(target, std::move(messages), barrier.expect());
    std::string why;
    if (!barrier.wait(why)) {
        diag::error("runner", "writing events or saga commands failed", {{"partition", partition_}, {"error", why}});
        return false;
    }
    events_durable_ = std::max(events_durable_, state_.next_event_sequence);
    counters_.commands_applied += batch.size();
    counters_.events_written += event_count;
    counters_.saga_messages_sent += output_.messages.size();
    applied_ = state_.next_command_offset;
    checkpointer_->push(std::move(batch), chain_head_);
    return true;
}

bool partition_runner::append_tick_if_due() {
    if (tick_offset_in_flight_ != 0 || state_.next_deadline == 0) return true;
    time_ms now = clock_();
    if (now < state_.next_deadline || now < tick_refused_until_) return true;
    auto appended = commands_.append_and_wait(partition_, {encode(command{command_meta{now, user_id{}, {}, no_position}, tick{}})});
    if (!appended && appended.err().code == errc::storage) {
        // The log takes no new commands for now (its disk is nearly full): expiries wait, nothing
        // is lost, and the runner keeps running. Tried again a second later.
        if (tick_refused_until_ == 0)
            diag::warn("runner", "a tick was refused by the log's storage; retrying every second",
                       {{"partition", partition_}, {"error", appended.err().message}});
        tick_refused_until_ = now + tick_storage_retry_ms;
        return true;
    }
    if (!appended) {
        diag::error("runner", "appending a tick failed", {{"partition", partition_}, {"error", appended.err().message}});
        return false;
    }
    tick_refused_until_ = 0;
    tick_offset_in_flight_ = *appended + 1;
    ++counters_.ticks_appended;
    return true;
}

runner_group::runner_group(std::uint32_t partitions, log_stream& commands, log_stream& events,
                           checkpoint_store& checkpoints, runner_options options, wall_clock clock) {
    for (std::uint32_t p = 0; p < partitions; ++p)
        runners_.push_back(std::make_unique<partition_runner>(p, partitions, commands, events, checkpoints, options, clock));
}

// The partitions recover in parallel: restart time is that of the largest, not of their sum.
result<unit> runner_group::recover() {
    std::vector<result<unit>> outcomes(runners_.size(), unit{});
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < runners_.size(); ++i)
        threads.emplace_back([this, &outcomes, i] { outcomes[i] = runners_[i]->recover(); });
    for (auto& t : threads) t.join();
    for (auto& outcome : outcomes) {
        if (!outcome) return outcome;
    }
    return unit{};
}

void runner_group::start() {
    for (auto& r : runners_) r->start();
}

void runner_group::stop() {
    for (auto& r : runners_) r->stop();
}

bool runner_group::failed() const {
    for (const auto& r : runners_) {
        if (r->failed()) return true;
    }
    return false;
}

std::uint64_t runner_group::commands_applied() const {
    std::uint64_t total = 0;
    for (const auto& r : runners_) total += r->counters().commands_applied.load();
    return total;
}

}  // namespace encore::runner
