#pragma once
// Structured operational logs: one JSON object per line on stderr, for people and log shippers.
// Not for the engine (which is pure); for runners, projectors, the server and tools.

#include <string_view>

#include <nlohmann/json.hpp>

namespace encore::diag {

enum class level { debug, info, warn, error };

// Lines below this level are dropped; set once at start-up (`--log-level`).
void set_level(level l);
void write(level l, std::string_view component, std::string_view message, const nlohmann::json& fields = {});

inline void info(std::string_view c, std::string_view m, const nlohmann::json& f = {}) { write(level::info, c, m, f); }
inline void warn(std::string_view c, std::string_view m, const nlohmann::json& f = {}) { write(level::warn, c, m, f); }
inline void error(std::string_view c, std::string_view m, const nlohmann::json& f = {}) { write(level::error, c, m, f); }

// Names the calling thread (at most 15 characters are kept), so that top, perf and gdb tell the
// runner, projector, log writer and I/O threads apart.
void name_thread(std::string_view name);

}  // namespace encore::diag
