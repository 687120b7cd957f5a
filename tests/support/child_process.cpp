#include "tests/support/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace encore::test {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::chrono::milliseconds exit_poll_interval{5};

void close_all(std::initializer_list<int> fds) {
    for (int fd : fds) {
        if (fd >= 0) ::close(fd);
    }
}

}  // namespace

child_process::child_process(std::string name, std::vector<std::string> args, std::string stderr_path, bool with_stdin,
                             std::uint64_t open_files_limit)
    : name_(std::move(name)), stderr_path_(std::move(stderr_path)) {
    const rlimit open_files{static_cast<rlim_t>(open_files_limit), static_cast<rlim_t>(open_files_limit)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    int in[2] = {-1, -1};
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    if (with_stdin && ::pipe2(in, O_CLOEXEC) != 0) {
        close_all({out[0], out[1]});
        throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    }
    const int err = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (err < 0) {
        close_all({out[0], out[1], in[0], in[1]});
        throw std::runtime_error("cannot open " + stderr_path_ + ": " + std::strerror(errno));
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        close_all({out[0], out[1], in[0], in[1], err});
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        // The child: only async-signal-safe calls until exec.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(126);
        ::dup2(out[1], STDOUT_FILENO);
        ::dup2(err, STDERR_FILENO);
        if (with_stdin) {
            ::dup2(in[0], STDIN_FILENO);
        } else {
            const int null = ::open("/dev/null", O_RDONLY);
            if (null >= 0) ::dup2(null, STDIN_FILENO);
        }
        // The test process may block signals in some threads; the child sets its own mask.
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (open_files.rlim_cur != 0 && ::setrlimit(RLIMIT_NOFILE, &open_files) != 0) ::_exit(125);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(err);
    if (with_stdin) {
        ::close(in[0]);
        stdin_fd_ = in[1];
    }
    pid_ = pid;
    stdout_fd_ = out[0];
}

child_process::~child_process() {
    kill9();
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
}

std::optional<std::string> child_process::read_line(std::chrono::milliseconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
        if (auto nl = buffered_.find('\n'); nl != std::string::npos) {
            std::string line = buffered_.substr(0, nl);
            buffered_.erase(0, nl + 1);
            return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        if (left.count() <= 0 || stdout_fd_ < 0) return std::nullopt;
        pollfd p{stdout_fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return std::nullopt;
        char chunk[512];
        const ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::nullopt;
        buffered_.append(chunk, static_cast<std::size_t>(n));
    }
}

void child_process::write_line(const std::string& line) {
    if (stdin_fd_ < 0) throw std::logic_error(name_ + " has no stdin pipe");
    const std::string data = line + "\n";
    std::size_t written = 0;
    while (written < data.size()) {
        const ssize_t n = ::write(stdin_fd_, data.data() + written, data.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("writing to " + name_ + ": " + std::strerror(errno));
        written += static_cast<std::size_t>(n);
    }
}

int child_process::wait_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -997;  // never waitpid(-1): it would reap another child
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            if (WIFSIGNALED(status)) return -WTERMSIG(status);
            return -999;
        }
        if (r < 0 && errno != EINTR) {
            pid_ = -1;
            return -998;
        }
        if (clock_type::now() >= deadline) return -1000;
        std::this_thread::sleep_for(exit_poll_interval);
    }
}

int child_process::stop(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -997;
    ::kill(pid_, SIGTERM);
    const int code = wait_exit(timeout);
    if (code == -1000) kill9();
    return code;
}

void child_process::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::milliseconds(60'000));
}

std::string child_process::stderr_tail(std::size_t bytes) const { return file_tail(stderr_path_, bytes); }

std::string file_tail(const std::string& path, std::size_t bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "<no file " + path + ">";
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::size_t>(in.tellg());
    const std::size_t from = size > bytes ? size - bytes : 0;
    in.seekg(static_cast<std::streamoff>(from));
    std::ostringstream text;
    text << in.rdbuf();
    return (from > 0 ? "[...]\n" : "") + text.str();
}


}  // namespace encore::test
