#include "events/diagnostics.hpp"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "events/time.hpp"

namespace encore::diag {
namespace {

std::atomic<level> threshold{level::info};
std::mutex output_mutex;

std::string_view name(level l) {
    switch (l) {
        case level::debug: return "debug";
        case level::info: return "info";
        case level::warn: return "warn";
        case level::error: return "error";
    }
    return "info";
}

}  // namespace

void set_level(level l) { threshold.store(l); }

void write(level l, std::string_view component, std::string_view message, const nlohmann::json& fields) {
    if (l < threshold.load()) return;
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    nlohmann::json line = {{"at", format_instant(now)}, {"level", name(l)}, {"component", component}, {"msg", message}};
    if (fields.is_object()) {
        for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
    }
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::lock_guard lock(output_mutex);
    std::fprintf(stderr, "%s\n", text.c_str());
}

void name_thread(std::string_view name) {
    char kept[16] = {};
    name.copy(kept, sizeof kept - 1);
    pthread_setname_np(pthread_self(), kept);
}

}  // namespace encore::diag
