#include "tests/support/raw_connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace encore::test {
namespace {

using clock_type = std::chrono::steady_clock;

result<sockaddr_in> ipv4_address(const std::string& text, std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    if (::inet_pton(AF_INET, text.c_str(), &address.sin_addr) != 1) {
        return error{errc::invalid, "not an IPv4 address: " + text};
    }
    return address;
}

error socket_error(const std::string& step) { return error{errc::io, step + ": " + std::strerror(errno)}; }

}  // namespace

result<raw_connection> raw_connection::open(const std::string& local_address, const std::string& host,
                                            std::uint16_t port, std::chrono::milliseconds timeout) {
    auto local = ipv4_address(local_address, 0);
    if (!local) return local.err();
    auto remote = ipv4_address(host, port);
    if (!remote) return remote.err();
    raw_connection connection(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (connection.fd_ < 0) return socket_error("socket");
    if (::bind(connection.fd_, reinterpret_cast<const sockaddr*>(&*local), sizeof(sockaddr_in)) != 0) {
        return socket_error("bind " + local_address);
    }
    if (::connect(connection.fd_, reinterpret_cast<const sockaddr*>(&*remote), sizeof(sockaddr_in)) != 0) {
        if (errno != EINPROGRESS) return socket_error("connect");
        pollfd p{connection.fd_, POLLOUT, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (ready <= 0) return error{errc::io, "connect: no answer in time"};
        int failure = 0;
        socklen_t length = sizeof(failure);
        ::getsockopt(connection.fd_, SOL_SOCKET, SO_ERROR, &failure, &length);
        // A server that accepts and resets at once can do so before this poll: the connection was
        // made, and the server closed it.
        if (failure == ECONNRESET || failure == EPIPE) {
            connection.server_closed_ = true;
            return connection;
        }
        if (failure != 0) return error{errc::io, std::string("connect: ") + std::strerror(failure)};
    }
    return connection;
}

raw_connection::raw_connection(raw_connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), server_closed_(other.server_closed_) {}

raw_connection& raw_connection::operator=(raw_connection&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        server_closed_ = other.server_closed_;
    }
    return *this;
}

raw_connection::~raw_connection() { close(); }

bool raw_connection::closed_by_server(std::chrono::milliseconds wait) {
    if (server_closed_) return true;
    if (fd_ < 0) return false;
    const auto deadline = clock_type::now() + wait;
    char scratch[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        pollfd p{fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0)));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return false;
        const ssize_t n = ::recv(fd_, scratch, sizeof(scratch), 0);
        if (n > 0) continue;
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        server_closed_ = true;  // end of input, or a reset
        return true;
    }
}

void raw_connection::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

}  // namespace encore::test
