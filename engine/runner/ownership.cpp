#include "engine/runner/ownership.hpp"

#include <algorithm>

#include <cassert>
#include <string>

#include "events/diagnostics.hpp"

namespace encore::runner {
namespace {

constexpr std::string_view component = "ownership";

}  // namespace

ownership::ownership(std::uint32_t partitions, log_stream& commands, log_stream& events, checkpoint_store& checkpoints,
                     ownership_options options, wall_clock clock)
    : partition_count_(partitions),
      commands_(commands),
      events_(events),
      checkpoints_(checkpoints),
      options_(std::move(options)),
      clock_(std::move(clock)),
      slots_(partitions) {
    assert(partitions == commands.partitions() && partitions == events.partitions());
    worker_ = std::thread([this] { work(); });
}

ownership::~ownership() { stop(); }

void ownership::assign(const std::vector<std::uint32_t>& partitions) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        for (std::uint32_t p : partitions) {
            assert(p < partition_count_);
            if (slots_[p].wanted) continue;
            slots_[p].wanted = true;
            slots_[p].retry_at = {};
        }
        changed_ = true;
    }
    diag::info(component, "partitions assigned", {{"partitions", partitions}});
    wake_.notify_all();
}

void ownership::revoke(const std::vector<std::uint32_t>& partitions) {
    std::unique_lock lock(mutex_);
    for (std::uint32_t p : partitions) {
        assert(p < partition_count_);
        slots_[p].wanted = false;
    }
    changed_ = true;
    wake_.notify_all();
    stopped_.wait(lock, [&] {
        for (std::uint32_t p : partitions) {
            if (slots_[p].runner) return false;
        }
        return true;
    });
    lock.unlock();
    diag::info(component, "partitions released", {{"partitions", partitions}});
}

void ownership::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
        for (slot& s : slots_) s.wanted = false;
        changed_ = true;
    }
    wake_.notify_all();
    if (worker_.joinable()) worker_.join();
}

bool ownership::ready() const {
    std::lock_guard lock(mutex_);
    for (const slot& s : slots_) {
        if (s.wanted && !s.running) return false;
    }
    return true;
}

bool ownership::serving(std::uint32_t partition) const {
    std::lock_guard lock(mutex_);
    return partition < slots_.size() && slots_[partition].wanted && slots_[partition].running;
}

std::vector<std::uint32_t> ownership::assigned() const {
    std::lock_guard lock(mutex_);
    std::vector<std::uint32_t> out;
    for (std::uint32_t p = 0; p < partition_count_; ++p) {
        if (slots_[p].wanted) out.push_back(p);
    }
    return out;
}

ownership::checkpoint_figures ownership::checkpoints() const {
    std::lock_guard lock(mutex_);
    checkpoint_figures out;
    for (const slot& s : slots_) {
        if (!s.runner) continue;
        const checkpoint_counters* c = &s.runner->checkpoints();
        out.max_ms = std::max(out.max_ms, c->max_ms.load());
        out.backpressure_ms_max = std::max(out.backpressure_ms_max, c->push_wait_ms_max.load());
        out.written += c->written.load();
        out.bytes_max = std::max(out.bytes_max, c->last_bytes.load());
        out.set_aside += c->set_aside.load();
    }
    return out;
}

std::uint64_t ownership::commands_applied() const {
    std::lock_guard lock(mutex_);
    std::uint64_t total = retired_commands_applied_;
    for (const slot& s : slots_) {
        if (s.runner) total += s.runner->counters().commands_applied.load();
    }
    return total;
}

std::uint64_t ownership::runners_started() const {
    std::lock_guard lock(mutex_);
    return runners_started_;
}

std::uint64_t ownership::runner_failures() const {
    std::lock_guard lock(mutex_);
    return runner_failures_;
}

// The worker thread: wakes on a change or every supervise_interval, stops what is no longer
// wanted, replaces failed runners and starts recoveries of what is wanted. A partition being
// recovered is stopped (if it was revoked meanwhile) once its recovery is over.
void ownership::work() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait_for(lock, options_.supervise_interval, [this] { return changed_ || stopping_; });
        changed_ = false;
        lock.unlock();
        join_recoveries();
        stop_unwanted();
        replace_failed();
        start_wanted();
        lock.lock();
        if (!stopping_) continue;
        bool any = false;
        for (const slot& s : slots_) any |= s.runner != nullptr || s.recovery.joinable();
        if (!any) return;
    }
}

void ownership::join_recoveries() {
    for (std::uint32_t p = 0; p < partition_count_; ++p) {
        std::thread done;
        {
            std::lock_guard lock(mutex_);
            if (slots_[p].recovering || !slots_[p].recovery.joinable()) continue;
            done = std::move(slots_[p].recovery);
        }
        done.join();
    }
}

void ownership::stop_unwanted() {
    for (std::uint32_t p = 0; p < partition_count_; ++p) {
        bool unwanted = false;
        {
            std::lock_guard lock(mutex_);
            unwanted = !slots_[p].wanted && slots_[p].runner && !slots_[p].recovering;
        }
        if (unwanted) stop_runner(p);
    }
}

void ownership::stop_runner(std::uint32_t p) {
    std::shared_ptr<partition_runner> runner;
    {
        std::lock_guard lock(mutex_);
        runner = slots_[p].runner;
        slots_[p].running = false;
    }
    // Joins the runner's thread and writes its checkpoint (unless it failed): the next owner
    // starts from there.
    runner->stop();
    {
        std::lock_guard lock(mutex_);
        retired_commands_applied_ += runner->counters().commands_applied.load();
        slots_[p].runner.reset();
    }
    stopped_.notify_all();
    diag::info(component, "runner stopped", {{"partition", p}, {"applied_offset", runner->applied_offset()}});
}

void ownership::replace_failed() {
    for (std::uint32_t p = 0; p < partition_count_; ++p) {
        std::shared_ptr<partition_runner> runner;
        {
            std::lock_guard lock(mutex_);
            if (!slots_[p].running || !slots_[p].runner->failed()) continue;
            runner = slots_[p].runner;
            slots_[p].running = false;
        }
        diag::warn(component, "runner failed; it is replaced after a pause",
                   {{"partition", p}, {"backoff_ms", options_.restart_backoff.count()}});
        runner->stop();  // joins; a failed runner writes no checkpoint
        {
            std::lock_guard lock(mutex_);
            retired_commands_applied_ += runner->counters().commands_applied.load();
            slots_[p].runner.reset();
            slots_[p].retry_at = std::chrono::steady_clock::now() + options_.restart_backoff;
            ++runner_failures_;
        }
        stopped_.notify_all();
    }
}

void ownership::start_wanted() {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    const auto now = std::chrono::steady_clock::now();
    for (std::uint32_t p = 0; p < partition_count_; ++p) {
        slot& s = slots_[p];
        // A finished recovery thread not yet joined still occupies the slot.
        if (!s.wanted || s.runner || s.recovery.joinable() || s.retry_at > now) continue;
        s.runner = std::make_shared<partition_runner>(p, partition_count_, commands_, events_, checkpoints_,
                                                      options_.runner, clock_);
        s.recovering = true;
        s.recovery = std::thread([this, p, runner = s.runner] { recover(p, runner); });
    }
}

void ownership::recover(std::uint32_t p, std::shared_ptr<partition_runner> runner) {
    const auto began = std::chrono::steady_clock::now();
    result<unit> recovered = options_.before_recover ? options_.before_recover() : result<unit>(unit{});
    if (recovered) recovered = runner->recover();
    if (recovered) runner->start();
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
    {
        std::lock_guard lock(mutex_);
        slot& s = slots_[p];
        s.recovering = false;
        if (recovered) {
            // Running even if revoked meanwhile: the worker then stops it like any other.
            s.running = true;
            ++runners_started_;
        } else {
            s.runner.reset();
            s.retry_at = std::chrono::steady_clock::now() + options_.restart_backoff;
            ++runner_failures_;
        }
        changed_ = true;
    }
    wake_.notify_all();
    stopped_.notify_all();
    if (recovered) {
        diag::info(component, "serving partition",
                   {{"partition", p}, {"applied_offset", runner->applied_offset()}, {"recovery_ms", took.count()}});
    } else {
        diag::error(component, "recovering a partition failed; retrying after a pause",
                    {{"partition", p}, {"error", recovered.err().message}, {"backoff_ms", options_.restart_backoff.count()}});
    }
}

}  // namespace encore::runner
