#include "tests/integration/server_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http/client.hpp"
#include "tests/support/temp_directory.hpp"

#ifndef ENCORE_BINARY
#error "ENCORE_BINARY (the path of the encore executable) must be defined by the build"
#endif

namespace encore::test {
namespace {

using encore::http::http_client;
using clock_type = std::chrono::steady_clock;
constexpr std::string_view serving_prefix = "encore serving on http://";
constexpr std::chrono::milliseconds ready_poll_interval{20};

std::mutex live_mutex;
std::vector<const server_process*> live_servers;

}  // namespace

server_process::server_process(server_options options) : options_(std::move(options)) {
    root_dir_ = make_temp_directory("encore-int");
    data_dir_ = root_dir_ + "/data";
    stderr_path_ = root_dir_ + "/server.stderr";
    {
        std::lock_guard lock(live_mutex);
        live_servers.push_back(this);
    }
    try {
        start();
    } catch (...) {
        {
            std::lock_guard lock(live_mutex);
            std::erase(live_servers, this);
        }
        if (running()) kill9();
        std::error_code ignored;
        std::filesystem::remove_all(root_dir_, ignored);
        throw;
    }
}

server_process::~server_process() {
    if (std::uncaught_exceptions() > 0) report_log();
    // A test that is done with its server kills it: nothing it checks depends on a clean exit,
    // and kill -9 is instant. tools/coverage sets ENCORE_TEST_STOP_SERVERS, because a killed
    // process never writes its coverage counters.
    if (running()) {
        if (std::getenv("ENCORE_TEST_STOP_SERVERS") != nullptr) stop();
        else kill9();
    }
    {
        std::lock_guard lock(live_mutex);
        std::erase(live_servers, this);
    }
    if (std::getenv("ENCORE_KEEP_TEST_DATA") == nullptr) {
        std::error_code ignored;
        std::filesystem::remove_all(root_dir_, ignored);
    }
}

std::vector<const server_process*> server_process::live() {
    std::lock_guard lock(live_mutex);
    return live_servers;
}

void server_process::start() {
    if (running()) throw std::logic_error("server_process::start: the server is still running");
    std::vector<std::string> args = {ENCORE_BINARY,
                                     "serve",
                                     "--data-dir",
                                     data_dir_,
                                     "--listen",
                                     host_ + ":0",
                                     "--admin-key",
                                     options_.admin_key,
                                     "--partitions",
                                     std::to_string(options_.partitions),
                                     "--http-threads",
                                     std::to_string(options_.http_threads)};
    if (!options_.token_secret.empty()) {
        args.push_back("--token-secret");
        args.push_back(options_.token_secret);
    }
    args.insert(args.end(), options_.extra_flags.begin(), options_.extra_flags.end());
    process_ = std::make_unique<child_process>("encore serve", std::move(args), stderr_path_, false, options_.open_files_limit);

    const auto deadline = clock_type::now() + options_.start_timeout;
    auto line = process_->read_line(options_.start_timeout);
    if (!line || !line->starts_with(serving_prefix)) {
        kill9();
        throw std::runtime_error("the server did not start (first stdout line: '" + line.value_or("<none>") +
                                 "'); its stderr:\n" + stderr_tail());
    }
    // "encore serving on http://127.0.0.1:PORT (data in ..., N partitions)"
    const std::string rest = line->substr(serving_prefix.size());
    const auto colon = rest.find(':');
    const auto space = rest.find(' ');
    if (colon == std::string::npos || space == std::string::npos || space < colon) {
        kill9();
        throw std::runtime_error("cannot read the port from '" + *line + "'");
    }
    port_ = static_cast<std::uint16_t>(std::stoul(rest.substr(colon + 1, space - colon - 1)));

    http_client client(host_, port_, std::chrono::milliseconds(2'000));
    for (;;) {
        auto reply = client.request("GET", "/readyz");
        if (reply && reply->status == 200) return;
        if (clock_type::now() >= deadline) break;
        if (process_->wait_exit(std::chrono::milliseconds(0)) != -1000) {
            throw std::runtime_error("the server exited while starting; its stderr:\n" + stderr_tail());
        }
        std::this_thread::sleep_for(ready_poll_interval);
    }
    kill9();
    throw std::runtime_error("the server never answered GET /readyz 200; its stderr:\n" + stderr_tail());
}

int server_process::stop() {
    if (!running()) throw std::logic_error("server_process::stop: not running");
    return process_->stop(options_.stop_timeout);
}

void server_process::kill9() {
    if (process_) process_->kill9();
}

void server_process::restart() {
    if (running()) throw std::logic_error("server_process::restart: stop() or kill9() first");
    start();
}

std::string server_process::stderr_tail(std::size_t bytes) const { return file_tail(stderr_path_, bytes); }

void server_process::report_log() const {
    if (log_reported_) return;
    log_reported_ = true;
    std::fprintf(stderr, "---- encore server stderr (%s, port %u) ----\n%s\n---- end of server stderr ----\n",
                 stderr_path_.c_str(), static_cast<unsigned>(port_), stderr_tail().c_str());
}

}  // namespace encore::test
