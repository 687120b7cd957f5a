#pragma once
// Running a shell command from a test and reading what it prints: the `encore` tools (audit,
// export), kcat, sqlite3. Header-only, for the tests of any folder.

#include <sys/wait.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace encore::test {

struct command_run {
    int status = -1;     // the exit status; -1 if the command did not exit by itself
    std::string output;  // its standard output (its standard error goes where the command line says)
};

// Runs `shell_command` with /bin/sh and reads all it prints. Throws std::runtime_error if it
// cannot be started.
inline command_run run_command(const std::string& shell_command) {
    FILE* pipe = ::popen(shell_command.c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("cannot run " + shell_command);
    command_run run;
    char buffer[4096];
    std::size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) run.output.append(buffer, got);
    const int status = ::pclose(pipe);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

// What a command that must succeed prints; throws std::runtime_error with its output if it fails.
inline std::string run_output(const std::string& shell_command) {
    command_run run = run_command(shell_command);
    if (run.status != 0) throw std::runtime_error(shell_command + " failed; it printed:\n" + run.output);
    return std::move(run.output);
}

}  // namespace encore::test
