#pragma once
// A blocking HTTP/1.1 client for tests and benchmarks, on Beast over a real TCP connection.
// It reuses its connection (keep-alive), reconnects when the server closed it, and bounds every
// operation by a timeout so that a test fails instead of hanging. Raw helpers send arbitrary
// bytes and read whatever comes back, for malformed-input tests; the event-stream helpers read
// Server-Sent Events.
//
// Not thread-safe: one client per thread. Beast stays inside http_client.cpp.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/result.hpp"

namespace encore::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_reply {
    unsigned status = 0;
    header_list headers;
    std::string body;
    bool keep_alive = true;  // false: the server said it closes the connection

    // The first header of that name (case-insensitive), if any.
    std::optional<std::string> header(std::string_view name) const;
    // The body as JSON; a discarded (is_discarded()) value if it is not JSON.
    nlohmann::json json() const;
};

// One Server-Sent Event: its `event:` type (empty if none), joined `data:` lines and `id:`.
struct sse_event {
    std::string event;
    std::string data;
    std::string id;
};

inline constexpr std::chrono::milliseconds client_timeout_default_ms{10'000};

class http_client {
public:
    http_client(std::string host, std::uint16_t port,
                std::chrono::milliseconds timeout = client_timeout_default_ms);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    // One request and its reply. Content-Length is set from `body`; Host and, for a non-empty
    // body without one in `headers`, Content-Type: application/json are added. A request that
    // fails on a reused connection before any reply byte arrived (the server closed an idle
    // connection) is retried once on a new connection.
    result<http_reply> request(std::string_view method, std::string_view target,
                               std::string_view body = {}, const header_list& headers = {});

    // Raw access, for malformed input and pipelining: write bytes as they are (connecting first
    // if needed), then read replies one by one or raw bytes.
    result<unit> send_raw(std::string_view bytes);
    result<http_reply> read_reply();
    // Whatever bytes arrive within the timeout, up to the server closing (empty if it closed).
    result<std::string> read_raw();
    // True if the server closes the connection within `wait` (bytes arriving meanwhile are
    // discarded); false if it is still open when `wait` ends.
    bool wait_closed(std::chrono::milliseconds wait);
    // Half-closes: the server sees the end of input but may still answer what it read.
    void shutdown_send();

    // GET `target` and read the event-stream head; then next_event() reads events one by one,
    // skipping comment-only blocks (heartbeats).
    result<http_reply> open_event_stream(std::string_view target, const header_list& headers = {});
    result<sse_event> next_event();

    void close();
    bool connected() const;
    // TCP connections made so far: a keep-alive test expects 1 after many requests.
    std::uint64_t connects() const { return connects_; }
    void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
    // Connections made from now on are bound to this local address first ("127.0.0.2": another
    // client to a server on loopback); empty: the kernel's choice.
    void set_local_address(std::string address) { local_address_ = std::move(address); }

private:
    result<unit> ensure_connected();
    result<http_reply> request_once(std::string_view method, std::string_view target,
                                    std::string_view body, const header_list& headers,
                                    bool& reply_started);

    struct impl;
    std::unique_ptr<impl> impl_;
    std::string host_;
    std::uint16_t port_;
    std::chrono::milliseconds timeout_;
    std::string local_address_;
    std::uint64_t connects_ = 0;
};

// Parses one event block ("event: x\ndata: y") as EventSource does.
sse_event parse_sse_event(std::string_view block);

}  // namespace encore::http
