#pragma once
// A program run as a child process by a test (`encore serve`, `encore kafka-mock`): its stdout,
// and optionally its stdin, on pipes; its stderr appended to a file, whose tail a failing test
// prints. The child gets PR_SET_PDEATHSIG, which fires when the *thread* that forked it ends: own
// it from the test's main thread, so that a crashed test leaves no process behind.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace encore::test {

class child_process {
public:
    // Starts argv[0] (a path) with `argv`. `open_files_limit`: RLIMIT_NOFILE (soft and hard) it
    // runs under; 0: ours. Throws std::runtime_error if it cannot be started.
    child_process(std::string name, std::vector<std::string> argv, std::string stderr_path, bool with_stdin,
                  std::uint64_t open_files_limit = 0);
    ~child_process();  // kill -9 if still running
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    // One line of stdout, without the newline; nullopt at end of output or after `timeout`.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    // Writes a line to the child's stdin.
    void write_line(const std::string& line);
    // SIGTERM and wait: the exit code, -(signal), or -1000 if it had to be killed after `timeout`.
    int stop(std::chrono::milliseconds timeout);
    // Waits without a signal: the exit code or -(signal), or -1000 if it is still running.
    int wait_exit(std::chrono::milliseconds timeout);
    // SIGKILL and reap.
    void kill9();
    bool running() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }
    const std::string& name() const { return name_; }
    // The last `bytes` of its stderr file (earlier runs' included, when the file is shared).
    std::string stderr_tail(std::size_t bytes = 8192) const;

private:
    std::string name_;
    std::string stderr_path_;
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    int stdin_fd_ = -1;
    std::string buffered_;
};

// The last `bytes` of a file, "[...]" first when cut; "<no file PATH>" when it cannot be read.
std::string file_tail(const std::string& path, std::size_t bytes);

}  // namespace encore::test
