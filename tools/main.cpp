// `encore`: serve, audit, events, export, kafka-mock and bench, on CLI11. Each subcommand registers
// its flags in its own file; this one parses, runs the subcommand chosen and turns what went wrong
// into the exit status: 0 after --help, 2 for a usage error (CLI11's or a subcommand's), with the
// message on stderr, and 1 for anything else thrown.

#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "node/allocator.hpp"
#include "replay/source.hpp"
#include "tools/subcommands.hpp"

namespace {

using namespace encore::tools;

// "encore bench onsale".
std::string path_of(const CLI::App& app) {
    std::string path = app.get_name();
    for (const CLI::App* parent = app.get_parent(); parent != nullptr; parent = parent->get_parent())
        path = parent->get_name() + " " + path;
    return path;
}

// The deepest subcommand the parse reached.
const CLI::App& reached(const CLI::App& app) {
    const CLI::App* at = &app;
    while (!at->get_subcommands().empty()) at = at->get_subcommands().front();
    return *at;
}

// A value set by an environment variable the user may not have in mind: say so.
std::string with_origin(const CLI::App& at, const std::string& message) {
    for (const CLI::Option* option : at.get_options()) {
        const std::string& variable = option->get_envname();
        const std::string name = option->get_name();
        if (variable.empty() || option->count() == 0 || message.find(name) == std::string::npos || on_command_line(name))
            continue;
        return message + " (from " + variable + ")";
    }
    return message;
}

int usage_error_exit(const CLI::App& at, const std::string& message) {
    const std::string path = path_of(at);
    std::fprintf(stderr, "%s: %s\nRun '%s --help' for its usage.\n", path.c_str(), message.c_str(), path.c_str());
    return encore::replay::exit_usage;
}

// A word where a subcommand is expected that names none (`encore frob`, `encore bench frob`).
std::optional<int> unknown_subcommand(const CLI::App& app, const std::vector<std::string>& arguments) {
    const CLI::App* at = &app;
    for (const std::string& argument : arguments) {
        if (argument.starts_with("-")) break;
        auto named = at->get_subcommands([&](const CLI::App* sub) { return sub->get_name() == argument; });
        if (named.empty()) {
            if (at->get_subcommands([](const CLI::App*) { return true; }).empty()) break;
            return usage_error_exit(*at, "unknown subcommand '" + argument + "'");
        }
        at = named.front();
    }
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    encore::node::tune_allocator();
    CLI::App app("encore: an event-sourced concert reservation engine.", "encore");
    app.formatter(help_formatter());
    app.require_subcommand(1);
    app.footer(
        "Run 'encore SUBCOMMAND --help' for a subcommand's flags. A flag not given is read from its environment "
        "variable, ENCORE_ and its name in upper case with dashes as underscores (--data-dir: ENCORE_DATA_DIR).");
    std::vector<subcommand> subcommands = {add_serve(app), add_audit(app), add_events(app), add_export(app), add_kafka_mock(app)};
    for (subcommand& c : add_bench(app)) subcommands.push_back(std::move(c));

    std::vector<std::string> arguments(argv + std::min(argc, 1), argv + argc);
    if (arguments.empty()) {
        std::fputs(app.help().c_str(), stderr);
        return encore::replay::exit_usage;
    }
    // `encore help [SUBCOMMAND...]` is `encore [SUBCOMMAND...] --help`.
    if (arguments.front() == "help") {
        arguments.erase(arguments.begin());
        arguments.push_back("--help");
    }
    keep_command_line(arguments);
    if (auto status = unknown_subcommand(app, arguments)) return *status;
    try {
        std::vector<std::string> reversed(arguments.rbegin(), arguments.rend());  // CLI11 takes them last first
        app.parse(std::move(reversed));
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help: the help of the subcommand it followed
        const CLI::App& at = reached(app);
        return usage_error_exit(at, with_origin(at, e.what()));
    }
    for (const subcommand& c : subcommands) {
        if (!c.app->parsed()) continue;
        try {
            return c.run();
        } catch (const usage_error& e) {
            return usage_error_exit(*c.app, with_origin(*c.app, e.message));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "encore: %s\n", e.what());
            return 1;
        }
    }
    return usage_error_exit(reached(app), "a subcommand is required");
}
