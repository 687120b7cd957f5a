#include "replay/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace encore::replay {
namespace {

constexpr std::chrono::milliseconds redraw_every{200};  // on a terminal
constexpr std::chrono::milliseconds line_every{5'000};  // otherwise
constexpr int bar_width = 30;
constexpr int terminal_line_width = 110;  // a shorter line redrawn over a longer one clears it

}  // namespace

progress_display::progress_display(bool enabled, std::function<std::string(double)> line) : line_(std::move(line)) {
    if (enabled) thread_ = std::thread([this] { loop(); });
}

progress_display::~progress_display() { finish(); }

void progress_display::finish() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void progress_display::loop() {
    const bool terminal = ::isatty(STDERR_FILENO) == 1;
    auto show = [&] {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        const std::string text = line_(seconds);
        if (terminal) std::fprintf(stderr, "\r%-*s", terminal_line_width, text.c_str());
        else std::fprintf(stderr, "%s\n", text.c_str());
        std::fflush(stderr);
    };
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, terminal ? redraw_every : line_every, [this] { return stopping_; })) show();
    show();
    if (terminal) std::fputc('\n', stderr);
}

replay_progress::replay_progress(bool enabled, std::string name, std::uint64_t total, std::string unit)
    : name_(std::move(name)), unit_(std::move(unit)), total_(total),
      display_(enabled, [this](double seconds) { return line(seconds); }) {}

void replay_progress::next_stage(std::string stage, std::uint64_t total, std::string unit) {
    std::lock_guard lock(stage_mutex_);
    stage_ = std::move(stage);
    stage_unit_ = std::move(unit);
    stage_total_ = total;
    stage_done_.store(0);
    staged_ = true;
}

std::string replay_progress::line(double seconds) const {
    const std::uint64_t replayed = std::min(replayed_.load(std::memory_order_relaxed), total_);
    std::lock_guard lock(stage_mutex_);
    if (!staged_) return name_ + ": " + progress_bar(replayed, total_) + "  " + progress_rate(replayed, total_, seconds, unit_.c_str());
    const std::uint64_t done = std::min(stage_done_.load(std::memory_order_relaxed), stage_total_);
    return name_ + ": " + progress_bar(done, stage_total_) + "  " + std::to_string(replayed) + " " + unit_ + " replayed; " +
           stage_ + ": " + std::to_string(done) + "/" + std::to_string(stage_total_) + " " + stage_unit_;
}

std::string progress_bar(std::uint64_t done, std::uint64_t total) {
    const double share = total == 0 ? 1.0 : static_cast<double>(std::min(done, total)) / static_cast<double>(total);
    std::string bar = "[" + std::string(static_cast<std::size_t>(share * bar_width), '#');
    bar.resize(1 + bar_width, '.');
    char percent[16];
    std::snprintf(percent, sizeof percent, "] %5.1f%%", share * 100);
    return bar + percent;
}

std::string progress_rate(std::uint64_t done, std::uint64_t total, double seconds, const char* what) {
    done = std::min(done, total);
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
    char text[160];
    std::snprintf(text, sizeof text, "%llu/%llu %s  %.0f %s/s  ETA %.0f s", static_cast<unsigned long long>(done),
                  static_cast<unsigned long long>(total), what, rate, what, eta);
    return text;
}

}  // namespace encore::replay
