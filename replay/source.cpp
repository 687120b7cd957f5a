// The log a replay reads (source.hpp).

#include "replay/source.hpp"

#include <filesystem>
#include <system_error>

#include "events/log/embedded_log_reader.hpp"
#include "events/log/kafka_log.hpp"

namespace encore::replay {

source::source() = default;
source::source(source&&) noexcept = default;
source& source::operator=(source&&) noexcept = default;
source::~source() = default;

source source::data_dir(const std::string& directory, std::optional<std::uint32_t> partitions) {
    std::error_code ec;
    if (!std::filesystem::is_directory(directory + "/log", ec))
        throw unreadable{"no log in " + directory + " (" + directory + "/log)"};
    auto log = embedded_log_reader::open({.directory = directory + "/log", .partitions = partitions});
    if (!log && log.err().code == errc::invalid) throw wrong_request{log.err().message};
    if (!log) throw unreadable{"cannot open the log in " + directory + ": " + log.err().message};
    source s;
    s.embedded_ = std::move(log).value();
    for (std::uint32_t p = 0; p < s.events().partitions(); ++p) s.event_ends_.push_back(s.events().end(p));
    return s;
}

source source::kafka(const kafka_source_options& options) {
    kafka_options k;
    k.bootstrap = options.bootstrap;
    k.partitions = options.partitions;
    k.topic_prefix = options.topic_prefix;
    k.config = options.config;
    k.client_id = options.client_id;
    auto log = kafka_log::open(k);
    if (!log && log.err().code == errc::invalid) throw wrong_request{log.err().message};
    if (!log) throw unreadable{"cannot open the Kafka log: " + log.err().message};
    if (auto refreshed = (*log)->refresh_ends(); !refreshed) throw unreadable{refreshed.err().message};
    source s;
    s.kafka_ = std::move(log).value();
    for (std::uint32_t p = 0; p < s.events().partitions(); ++p) s.event_ends_.push_back(s.events().end(p));
    return s;
}

log_stream& source::commands() { return kafka_ ? kafka_->commands() : embedded_->commands(); }
log_stream& source::events() { return kafka_ ? kafka_->events() : embedded_->events(); }
std::uint32_t source::partitions() { return commands().partitions(); }

std::function<result<unit>()> source::refresh_ends() {
    if (!kafka_) return {};
    kafka_log* log = kafka_.get();
    return [log] { return log->refresh_ends(); };
}

}  // namespace encore::replay
