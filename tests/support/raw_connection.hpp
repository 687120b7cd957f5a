#pragma once
// A plain TCP connection from a chosen local address, for tests of connection limits: they open
// many idle sockets from several clients. Any address of 127.0.0.0/8 works as a client address
// on Linux loopback, so "127.0.0.2", "127.0.0.3"... are distinct clients to the server.
//
// Not thread-safe; owned by one test thread. POSIX sockets, no Asio: hundreds of them are cheap.

#include <chrono>
#include <cstdint>
#include <string>

#include "events/result.hpp"

namespace encore::test {

class raw_connection {
public:
    // Binds to `local_address` (port 0), then connects to host:port, blocking up to `timeout`.
    static result<raw_connection> open(const std::string& local_address, const std::string& host,
                                       std::uint16_t port,
                                       std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));
    raw_connection() = default;
    raw_connection(raw_connection&& other) noexcept;
    raw_connection& operator=(raw_connection&& other) noexcept;
    raw_connection(const raw_connection&) = delete;
    raw_connection& operator=(const raw_connection&) = delete;
    ~raw_connection();

    // True once the server has closed (or reset) the connection; waits up to `wait` for it, so
    // 0 only looks. Bytes that arrive meanwhile are discarded.
    bool closed_by_server(std::chrono::milliseconds wait);
    void close();
    bool is_open() const { return fd_ >= 0; }

private:
    explicit raw_connection(int fd) : fd_(fd) {}
    int fd_ = -1;
    bool server_closed_ = false;
};

}  // namespace encore::test
