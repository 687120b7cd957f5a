#pragma once
// The `encore` command line: argument handling shared by the subcommands, and the subcommands.

#include <csignal>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace encore::replay {
class source;
}

namespace encore::tools {

// `--name value`, `--name=value` and bare `--flag`. A flag missing from the command line is read
// from the environment as ENCORE_NAME (upper case, dashes as underscores).
class arguments {
public:
    arguments(int argc, char** argv, int first, std::set<std::string> boolean_flags);
    std::optional<std::string> text(const std::string& name) const;
    std::string text(const std::string& name, const std::string& fallback) const;
    std::uint64_t number(const std::string& name, std::uint64_t fallback) const;
    bool flag(const std::string& name) const;
    // Every value of a flag that may repeat (`--kafka-config a=1 --kafka-config b=2`), in order;
    // when none was given, the environment variable split at whitespace.
    std::vector<std::string> all(const std::string& name) const;
    // Names given that no subcommand asked about: reported as errors.
    const std::vector<std::string>& positional() const { return positional_; }
    std::optional<std::string> unknown(const std::set<std::string>& known) const;

private:
    std::map<std::string, std::string> values_;                // the last value of each flag
    std::map<std::string, std::vector<std::string>> repeated_;  // every value of each flag
    std::vector<std::string> positional_;
};

// Thrown for a bad command line; main prints it with the usage and exits 2.
struct usage_error {
    std::string message;
};

// `serve`, embedded or with --kafka.
int serve(const arguments& args);
int bench_engine(const arguments& args);
int bench_http(const arguments& args);
int bench_onsale(const arguments& args);
int bench_picks(const arguments& args);
int bench_kafka(const arguments& args);
// `encore audit --data-dir` (audit.cpp) and `encore audit --kafka` (audit_kafka.cpp): exit 0 passed,
// 1 a check failed, 3 the data could not be read (2, a usage error, comes from main).
int audit_data_dir(const arguments& args);
int dump_events(const arguments& args);
// `encore export` (export.cpp): exit 0 written, 1 the output could not be written, 3 the data could
// not be read (2, a usage error, comes from main or, for a concert the log lacks, from export).
int export_command(const arguments& args);
// Kafka mode.
int kafka_mock_command(const arguments& args);
int audit_kafka(const arguments& args);
// `--listen HOST:PORT` split, checked.
std::pair<std::string, std::uint16_t> split_listen(const std::string& listen);
// Blocks SIGTERM and SIGINT in the calling thread (call before any thread starts, so that every
// thread inherits the mask) and returns the set, for sigwait/sigtimedwait on the main thread.
sigset_t block_stop_signals();
// `--partitions N`, checked (1..partitions_max); nothing when not given.
std::optional<std::uint32_t> partitions_flag(const arguments& args);
// `--kafka-config key=value`, every one given.
std::vector<std::pair<std::string, std::string>> kafka_config(const arguments& args);
// The log `--kafka BOOTSTRAP` (with --partitions, --topic-prefix, --kafka-config) or `--data-dir
// DIR` names, for a replay; a --partitions the log does not have is a usage_error.
replay::source open_source(const arguments& args, const std::string& client_id);

}  // namespace encore::tools
