// What the subcommands' flags share: the environment fallback of every flag, number checks, the
// repeated --kafka-config, --partitions, the replay source flags, --listen, and the help's layout.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "events/types.hpp"
#include "replay/source.hpp"
#include "tools/subcommands.hpp"

namespace encore::tools {
namespace {

constexpr std::size_t help_width = 100;
constexpr std::size_t help_flag_column = 32;

std::string range_text(std::uint64_t min, std::uint64_t max, std::uint64_t type_max) {
    if (max == type_max) return min == 0 ? std::string() : "at least " + std::to_string(min);
    return std::to_string(min) + ".." + std::to_string(max);
}

// Flags as `  --name VALUE   description [default: D] [env: ENCORE_NAME]`, descriptions wrapped.
class formatter : public CLI::Formatter {
public:
    formatter() { column_width(help_flag_column); }

    std::string make_option_opts(const CLI::Option* opt) const override {
        if (opt->get_type_size() == 0) return "";
        return " " + opt->get_type_name();
    }

    std::string make_option_desc(const CLI::Option* opt) const override {
        // A tag is one word for wrap (its space is a unit separator until then).
        std::string text = opt->get_description();
        if (opt->get_required()) text += " [required]";
        if (!opt->get_default_str().empty()) text += " [default:\x1f" + opt->get_default_str() + "]";
        if (!opt->get_envname().empty()) text += " [env:\x1f" + opt->get_envname() + "]";
        text = wrap(text, help_width - help_flag_column);
        std::replace(text.begin(), text.end(), '\x1f', ' ');
        return text;
    }

    std::string make_description(const CLI::App* app) const override {
        const std::string text = app->get_description();
        return text.empty() ? text : wrap(text, help_width) + "\n\n";
    }

    // One blank line between the usage and the first group, and between groups (CLI11 puts two).
    std::string make_usage(const CLI::App* app, std::string name) const override {
        return CLI::Formatter::make_usage(app, std::move(name)) + "\n";
    }
    std::string make_group(std::string group, bool is_positional, std::vector<const CLI::Option*> opts) const override {
        std::string out = group + ":\n";
        for (const CLI::Option* opt : opts) out += make_option(opt, is_positional);
        return out;
    }

    // In the list of subcommands, the first sentence of each description.
    std::string make_subcommand(const CLI::App* sub) const override {
        const std::string& description = sub->get_description();
        const std::size_t end = description.find(". ");
        std::stringstream out;
        CLI::detail::format_help(out, sub->get_name(),
                                 wrap(end == std::string::npos ? description : description.substr(0, end + 1),
                                      help_width - help_flag_column),
                                 help_flag_column);
        return out.str();
    }

    std::string make_footer(const CLI::App* app) const override {
        const std::string text = app->get_footer();
        return text.empty() ? text : wrap(text, help_width) + "\n";
    }
};

}  // namespace

std::string environment_name(const std::string& flag) {
    std::string name = "ENCORE_";
    for (char c : flag.substr(flag.find_first_not_of('-'))) {
        name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return name;
}

std::string wrap(const std::string& text, std::size_t width) {
    std::string out;
    std::istringstream lines(text);
    std::string line;
    bool first_line = true;
    while (std::getline(lines, line)) {
        if (!first_line) out += '\n';
        first_line = false;
        if (line.size() <= width) {  // kept as it is: a table's columns
            out += line;
            continue;
        }
        const std::size_t indent = std::min(line.find_first_not_of(' '), line.size());
        std::istringstream words(line.substr(indent));
        std::string word, current(indent, ' ');
        bool empty = true;
        while (words >> word) {
            if (!empty && current.size() + 1 + word.size() > width) {
                out += current + '\n';
                current = std::string(indent, ' ');
                empty = true;
            }
            current += (empty ? "" : " ") + word;
            empty = false;
        }
        out += empty ? std::string() : current;
    }
    return out;
}

std::shared_ptr<CLI::Formatter> help_formatter() { return std::make_shared<formatter>(); }

CLI::Validator number_check(std::uint64_t min, std::uint64_t max) {
    return CLI::Validator(
        [min, max](std::string& value) -> std::string {
            std::string range = range_text(min, max, std::numeric_limits<std::uint64_t>::max());
            if (range.empty()) range = "a non-negative integer";
            if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
                return "must be a non-negative integer, not '" + value + "'";
            errno = 0;
            const unsigned long long n = std::strtoull(value.c_str(), nullptr, 10);
            if (errno == ERANGE || n < min || n > max) return "must be " + range + ", not '" + value + "'";
            // Decimal: CLI11 would read a leading 0 as octal.
            value = std::to_string(n);
            return {};
        },
        "");
}

std::string with_range(const std::string& description, std::uint64_t min, std::uint64_t max, std::uint64_t type_max) {
    const std::string range = range_text(min, max, type_max);
    return range.empty() ? description : description + " (" + range + ")";
}

CLI::Option* text_flag(CLI::App& app, const std::string& name, std::string& value, const std::string& description,
                       const std::string& value_name) {
    return app.add_option(name, value, description)->envname(environment_name(name))->type_name(value_name)->capture_default_str();
}

CLI::Option* number_flag(CLI::App& app, const std::string& name, std::optional<std::uint64_t>& value,
                         const std::string& description, std::uint64_t min, std::uint64_t max) {
    return app.add_option(name, value, with_range(description, min, max, std::numeric_limits<std::uint64_t>::max()))
        ->check(number_check(min, max))
        ->envname(environment_name(name))
        ->type_name("N");
}

CLI::Option* switch_flag(CLI::App& app, const std::string& name, bool& value, const std::string& description) {
    return app.add_flag(name, value, description)->envname(environment_name(name));
}

void add_kafka_config_flag(CLI::App& app, kafka_config_flag& flag) {
    flag.option = app.add_option("--kafka-config", flag.given,
                                 "a librdkafka setting (SASL, TLS...) passed to every Kafka client; may repeat "
                                 "[env: ENCORE_KAFKA_CONFIG, settings separated by whitespace]")
                      ->type_name("KEY=VALUE")
                      ->allow_extra_args(false);
}

std::vector<std::pair<std::string, std::string>> kafka_config_flag::settings() const {
    std::vector<std::string> values = given;
    if (values.empty()) {
        const char* from_environment = std::getenv("ENCORE_KAFKA_CONFIG");
        std::istringstream words(from_environment == nullptr ? "" : from_environment);
        for (std::string word; words >> word;) values.push_back(word);
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& setting : values) {
        const auto eq = setting.find('=');
        if (eq == std::string::npos || eq == 0) throw usage_error{"--kafka-config takes key=value, not '" + setting + "'"};
        out.emplace_back(setting.substr(0, eq), setting.substr(eq + 1));
    }
    return out;
}

void add_partitions_flag(CLI::App& app, partitions_flag& flag, const std::string& description) {
    number_flag(app, "--partitions", flag.value, description, 1, partitions_max);
}

std::optional<std::uint32_t> partitions_flag::get() const {
    if (!value) return std::nullopt;
    return static_cast<std::uint32_t>(*value);
}

void add_source_flags(CLI::App& app, source_flags& flags, const std::string& partitions_description) {
    text_flag(app, "--data-dir", flags.data_dir, "the data directory of a node", "DIR");
    add_partitions_flag(app, flags.partitions, partitions_description);
    flags.kafka_option = text_flag(app, "--kafka", flags.kafka, "read a Kafka-mode cluster's topics instead", "BOOTSTRAP")
                             ->group("Kafka mode");
    text_flag(app, "--topic-prefix", flags.topic_prefix, "the topics are <P>commands, <P>events and <P>snapshots", "P")
        ->group("Kafka mode");
    add_kafka_config_flag(app, flags.kafka_config);
    flags.kafka_config.option->group("Kafka mode");
}

replay::source open_source(const source_flags& flags, const std::string& client_id) {
    try {
        if (flags.kafka_mode()) {
            return replay::source::kafka({.bootstrap = flags.kafka,
                                          .partitions = flags.partitions.get().value_or(0),
                                          .topic_prefix = flags.topic_prefix,
                                          .config = flags.kafka_config.settings(),
                                          .client_id = client_id});
        }
        if (flags.data_dir.empty()) throw usage_error{"--data-dir is required"};
        return replay::source::data_dir(flags.data_dir, flags.partitions.get());
    } catch (const replay::wrong_request& e) {
        throw usage_error{e.message};  // a --partitions the log does not have: the caller's mistake
    }
}

namespace {
std::vector<std::string> command_line;
}  // namespace

void keep_command_line(std::vector<std::string> arguments) { command_line = std::move(arguments); }

bool on_command_line(const std::string& flag) {
    for (const std::string& argument : command_line) {
        if (argument == flag || argument.starts_with(flag + "=")) return true;
    }
    return false;
}

std::vector<std::string> given(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const std::string& name : names) {
        if (on_command_line(name)) out.push_back(name);
    }
    return out;
}

std::pair<std::string, std::uint16_t> split_listen(const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) throw usage_error{"--listen must be HOST:PORT, not '" + listen + "'"};
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    std::string port = listen.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535)
        throw usage_error{"--listen port must be 0..65535, not '" + port + "'"};
    return {host, static_cast<std::uint16_t>(std::stoul(port))};
}

sigset_t block_stop_signals() {
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    return stop_signals;
}

}  // namespace encore::tools
