// The log a replay reads: a data directory's embedded log (opened read-only, as a secondary
// instance that never locks or writes the node's directory) or a Kafka cluster's topics, with
// each partition's end fixed when it was opened. The one place `encore audit`, `encore events`
// and `encore export` open their data, and the errors and exit codes they share.

#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "events/log.hpp"

namespace encore {
class embedded_log_reader;
class kafka_log;
}  // namespace encore

namespace encore::replay {

// Exit codes of the replaying commands.
inline constexpr int exit_passed = 0;      // audit passed; events printed; export written
inline constexpr int exit_failed = 1;      // audit failed; export could not write its output
inline constexpr int exit_usage = 2;       // a flag was wrong
inline constexpr int exit_unreadable = 3;  // the data could not be read

// The data could not be read: thrown by the opening and the replays, caught where the command
// prints it and exits exit_unreadable.
struct unreadable {
    std::string message;
};
// The caller asked for something the data contradicts (a --partitions the log does not have):
// thrown by the opening, exit_usage.
struct wrong_request {
    std::string message;
};

struct kafka_source_options {
    std::string bootstrap;
    std::uint32_t partitions = 0;  // 0: the topics' own count
    std::string topic_prefix;
    std::vector<std::pair<std::string, std::string>> config;
    std::string client_id;
};

class source {
public:
    // The log of a data directory that must exist already (nothing here creates one). The
    // partition count is the stored one; a `partitions` that differs throws wrong_request.
    static source data_dir(const std::string& directory, std::optional<std::uint32_t> partitions);
    static source kafka(const kafka_source_options& options);

    source(source&&) noexcept;
    source& operator=(source&&) noexcept;
    ~source();

    log_stream& commands();
    log_stream& events();
    std::uint32_t partitions();
    bool kafka_mode() const { return kafka_ != nullptr; }
    // Kafka: the topics' ends read again (a live cluster goes on writing).
    std::function<result<unit>()> refresh_ends();
    // Each partition's event log end as it was when opened.
    const std::vector<std::uint64_t>& event_ends() const { return event_ends_; }

private:
    source();
    std::unique_ptr<embedded_log_reader> embedded_;
    std::unique_ptr<kafka_log> kafka_;
    std::vector<std::uint64_t> event_ends_;
};

}  // namespace encore::replay
