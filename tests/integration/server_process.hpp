#pragma once
// The real `encore serve` as a child process, for integration tests: a fresh temporary data
// directory, an ephemeral port read back from the server's first line of stdout, and the ways a
// process ends (SIGTERM drain, SIGKILL) and starts again on the same data.
//
// The child's stderr (its structured logs) goes to a file in the temporary directory; when a test
// assertion fails, the Catch listener in main.cpp prints the tail of every live server's log.
//
// Owned by one test thread, and that thread should be the test's main thread: the child gets
// PR_SET_PDEATHSIG, which fires when the *thread* that forked it ends, so that a crashed test
// leaves no server behind.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace encore::test {

struct server_options {
    std::uint32_t partitions = 2;
    unsigned http_threads = 2;
    std::string admin_key = "integration-admin-key";
    // Empty: the server generates its secret on first start and keeps it in the data directory
    // (restarts then exercise that the kept secret is reused).
    std::string token_secret;
    // RLIMIT_NOFILE (soft and hard) the server starts under; 0: the test process's own.
    std::uint64_t open_files_limit = 0;
    // Extra `encore serve` flags, e.g. {"--connections-per-client-max", "8"}.
    std::vector<std::string> extra_flags;
    std::chrono::milliseconds start_timeout{30'000};
    std::chrono::milliseconds stop_timeout{30'000};
};

class server_process {
public:
    // Makes the data directory and starts the server; throws std::runtime_error (with the
    // server's stderr) if it does not come up and answer GET /readyz 200 in time.
    explicit server_process(server_options options = {});
    ~server_process();  // kill -9 if still running, then removes the directory
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;

    const std::string& host() const { return host_; }
    std::uint16_t port() const { return port_; }
    const std::string& admin_key() const { return options_.admin_key; }
    const server_options& options() const { return options_; }
    const std::string& data_dir() const { return data_dir_; }
    const std::string& stderr_path() const { return stderr_path_; }
    bool running() const { return process_ && process_->running(); }

    // SIGTERM, then waits for the exit. Returns the exit code, or -(signal) if it died by a
    // signal, or -1000 if it did not exit within stop_timeout (it is then killed).
    int stop();
    // SIGKILL and reap: a crash at an arbitrary moment.
    void kill9();
    // Starts again on the same data directory (the previous process must have ended); the
    // port changes.
    void restart();

    // The last `bytes` of the server's stderr (all runs so far: restarts append).
    std::string stderr_tail(std::size_t bytes = 8192) const;
    // Prints the stderr tail to our stderr, once per server: called by the failure listener, and
    // by the destructor when an exception (a failed REQUIRE) is unwinding the test.
    void report_log() const;

    // Live servers of this test process, for the failure listener.
    static std::vector<const server_process*> live();

private:
    void start();

    server_options options_;
    std::string root_dir_;
    std::string data_dir_;
    std::string stderr_path_;
    std::string host_ = "127.0.0.1";
    std::uint16_t port_ = 0;
    std::unique_ptr<child_process> process_;
    mutable bool log_reported_ = false;
};

}  // namespace encore::test
