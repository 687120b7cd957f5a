#pragma once
// The `encore` command line on CLI11: each subcommand registers its flags on its own CLI::App
// (so that `encore SUBCOMMAND --help` shows its flags only) and returns what runs it. The flag
// helpers here give every flag the environment fallback ENCORE_<NAME> (upper case, dashes as
// underscores), a default shown in the help, and checks that make a bad value a usage error.

#include <csignal>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace encore::replay {
class source;
}

namespace encore::tools {

// A bad command line found after parsing (two flags that exclude each other, a missing one):
// main prints it with the subcommand's name and exits 2.
struct usage_error {
    std::string message;
};

// A subcommand: its parser, and what runs it once the flags parsed (its exit status). `run`
// reads the values the parse bound.
struct subcommand {
    CLI::App* app = nullptr;
    std::function<int()> run;
};

subcommand add_serve(CLI::App& encore);
subcommand add_audit(CLI::App& encore);
subcommand add_events(CLI::App& encore);
subcommand add_export(CLI::App& encore);
subcommand add_kafka_mock(CLI::App& encore);
// `bench` and its subcommands engine, picks, http, onsale and kafka.
std::vector<subcommand> add_bench(CLI::App& encore);

// ---- flags ---------------------------------------------------------------------------------

// ENCORE_ and the flag's name without its dashes, upper case, dashes as underscores.
std::string environment_name(const std::string& flag);
// A flag with a value: `--name VALUE` or `--name=VALUE`, from ENCORE_NAME when not given.
CLI::Option* text_flag(CLI::App& app, const std::string& name, std::string& value, const std::string& description,
                       const std::string& value_name = "TEXT");
// A non-negative decimal integer in min..max (a value out of it, a sign or other characters is a
// usage error naming the value).
// An optional one has no default: nothing when not given.
template <class T>
    requires(std::is_unsigned_v<T> && !std::is_same_v<T, bool>)
CLI::Option* number_flag(CLI::App& app, const std::string& name, T& value, const std::string& description,
                         std::uint64_t min = 0, std::uint64_t max = std::numeric_limits<T>::max());
CLI::Option* number_flag(CLI::App& app, const std::string& name, std::optional<std::uint64_t>& value,
                         const std::string& description, std::uint64_t min = 0,
                         std::uint64_t max = std::numeric_limits<std::uint64_t>::max());
// A flag without a value (`--json`); ENCORE_JSON=true/1/yes sets it, false/0/no clears it.
CLI::Option* switch_flag(CLI::App& app, const std::string& name, bool& value, const std::string& description);

// `--kafka-config key=value`, given any number of times; when not given, ENCORE_KAFKA_CONFIG
// split at whitespace. Parsed into pairs by kafka_config().
struct kafka_config_flag {
    std::vector<std::string> given;
    CLI::Option* option = nullptr;
    std::vector<std::pair<std::string, std::string>> settings() const;
};
void add_kafka_config_flag(CLI::App& app, kafka_config_flag& flag);

// --partitions N: 1..partitions_max, nothing when not given.
struct partitions_flag {
    std::optional<std::uint64_t> value;
    std::optional<std::uint32_t> get() const;
};
void add_partitions_flag(CLI::App& app, partitions_flag& flag, const std::string& description);

// The log a replay reads (audit, export): `--data-dir DIR` or `--kafka BOOTSTRAP` with
// --partitions, --topic-prefix and --kafka-config.
struct source_flags {
    std::string data_dir;
    std::string kafka;
    CLI::Option* kafka_option = nullptr;
    partitions_flag partitions;
    std::string topic_prefix;
    kafka_config_flag kafka_config;
    bool kafka_mode() const { return kafka_option != nullptr && kafka_option->count() > 0; }
};
void add_source_flags(CLI::App& app, source_flags& flags, const std::string& partitions_description);
// Opens the log the flags name; a --partitions the log does not have is a usage_error.
replay::source open_source(const source_flags& flags, const std::string& client_id);

// The arguments main parsed, kept for on_command_line.
void keep_command_line(std::vector<std::string> arguments);
// `--name` or `--name=...` is among the arguments (not its environment variable).
bool on_command_line(const std::string& flag);
// The flags among `names` given on the command line, for the checks of flags that belong to one
// mode (an environment variable meant for the other mode is not an error).
std::vector<std::string> given(const std::vector<std::string>& names);

// `encore audit`'s flags: audit.cpp runs the audit of a data directory, audit_kafka.cpp (--kafka)
// the one of a cluster's topics. Exit 0 passed, 1 a check failed, 3 the data could not be read.
struct audit_flags {
    source_flags source;
    std::optional<std::uint64_t> threads;  // nothing: one per core
    bool json = false;
    std::string state_json;
};
int audit_kafka(const audit_flags& flags);

// `--listen HOST:PORT` split, checked.
std::pair<std::string, std::uint16_t> split_listen(const std::string& listen);
// Blocks SIGTERM and SIGINT in the calling thread (call before any thread starts, so that every
// thread inherits the mask) and returns the set, for sigwait/sigtimedwait on the main thread.
sigset_t block_stop_signals();

// The help's layout: each flag's value name, then its description wrapped, with its default and
// environment variable; footers wrapped.
std::shared_ptr<CLI::Formatter> help_formatter();
// Text wrapped at `width` columns, line by line (a line that fits is kept as it is, a table's
// columns with it); a line's continuation indented as it is.
std::string wrap(const std::string& text, std::size_t width);

// ---- implementation of the template ------------------------------------------------------

CLI::Validator number_check(std::uint64_t min, std::uint64_t max);
std::string with_range(const std::string& description, std::uint64_t min, std::uint64_t max, std::uint64_t type_max);

template <class T>
    requires(std::is_unsigned_v<T> && !std::is_same_v<T, bool>)
CLI::Option* number_flag(CLI::App& app, const std::string& name, T& value, const std::string& description,
                         std::uint64_t min, std::uint64_t max) {
    return app.add_option(name, value, with_range(description, min, max, std::numeric_limits<T>::max()))
        ->check(number_check(min, max))
        ->envname(environment_name(name))
        ->type_name("N")
        ->capture_default_str();
}

}  // namespace encore::tools
