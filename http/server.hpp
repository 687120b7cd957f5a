#pragma once
// The generic HTTP/1.1 server of the API: accepts connections, reads requests, hands each to a
// request_handler, and writes the answers back in request order. It knows nothing of routes or of
// the domain. Beast's I/O and Asio stay inside the server's own files (listener.cpp,
// session.cpp, event_stream.cpp, responses.cpp and their internal header
// server_internal.hpp); this header only needs the message types.
//
// Threads: `server_options::threads` I/O threads run every connection. A connection's reads,
// writes and timers run one at a time on its own strand; request_handler::handle() is called on
// that strand, so it must not block (hand slow work to another thread and answer later through
// the responder, from any thread).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json_fwd.hpp>

#include "events/result.hpp"

namespace encore::http {

class metrics_registry;

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

// Limits of one connection. Going over a client-facing limit gets the client an error response;
// the internal ones bound memory per connection.
inline constexpr std::size_t request_body_bytes_max = 64 * 1024;     // over it: 413
inline constexpr std::size_t request_header_bytes_max = 8 * 1024;    // over it: 431
inline constexpr std::size_t pipelined_requests_max = 16;            // read ahead, per connection
// Connections: see "Connection limits" below.
inline constexpr std::size_t connections_max_default = 10'000;
inline constexpr std::size_t connections_per_client_max_default = 256;
inline constexpr std::size_t probe_connections_reserve_default = 16;
// Of the probe reserve, one client address may hold this many (a prober sends /healthz and
// /readyz at once), so that one client's idle sockets cannot fill the reserve too.
inline constexpr std::size_t probe_connections_per_client_max = 2;
// Events queued on a stream whose client does not read fast enough; over it the stream closes,
// because a slow reader must not grow the server's memory without bound.
inline constexpr std::size_t stream_pending_bytes_max = 1024 * 1024;

// Connection limits, so that no client can take every connection and probes still get through:
// - `connections_per_client_max` per client address (an IPv6 client counts by its /64, which one
//   host commonly holds whole): a connection over it is closed at once, unanswered.
// - `connections_max` in all, sized down at start to what RLIMIT_NOFILE allows (see
//   size_connection_limits). Past it, `probe_connections_reserve` more connections are accepted
//   that may serve only `probe_paths` (GET or HEAD, one request, then close), at most
//   probe_connections_per_client_max of them per client; any other request on them gets 503
//   OVERLOADED and close. Past the reserve too, a connection is closed at once.
// - a new connection that sends nothing within `timeouts.first_request_ms` is closed: it has
//   proved nothing yet, and idle sockets are the cheapest way to use up descriptors.
// Every refusal is counted in encore_http_connections_refused_total{reason}.
//
// Descriptors kept for the rest of the process (RocksDB files, which it keeps open; Kafka
// sockets; logs) when sizing connections_max: a quarter of RLIMIT_NOFILE, at least this many.
inline constexpr std::uint64_t descriptors_kept_min = 256;
inline constexpr std::uint64_t descriptors_kept_divisor = 4;

// The route label of answers the server gives itself (malformed request, overload...).
inline constexpr std::string_view route_label_server = "-";
// The route label of answers whose handler named no route.
inline constexpr std::string_view route_label_unnamed = "other";

inline constexpr std::string_view json_content_type = "application/json; charset=utf-8";
inline constexpr std::string_view event_stream_content_type = "text/event-stream";

struct server_timeouts {
    // From the first byte of a request to its last; stops clients that trickle bytes (slowloris).
    std::chrono::milliseconds request_read_ms{10'000};
    // How long a keep-alive connection may sit with no request and no answer owed.
    std::chrono::milliseconds idle_ms{60'000};
    // How long a new connection may stay silent before the first byte of its first request
    // (then request_read_ms bounds that request). Shorter than idle_ms: a connection that has
    // never sent a request costs a descriptor and has proved nothing.
    std::chrono::milliseconds first_request_ms{10'000};
    // How long one response write may take; a client that stops reading is cut off.
    std::chrono::milliseconds write_ms{10'000};
    // stop(): how long answers still owed may take before their connections are closed anyway.
    std::chrono::milliseconds stop_grace_ms{1'000};
    // After the last response on a connection we close, read and discard what the client still
    // sends for this long, so that the kernel does not reset the connection before the client
    // has read our answer (e.g. a 413 sent before a large body was consumed).
    std::chrono::milliseconds linger_ms{1'000};
    // Comment lines written on an idle event stream: they keep proxies from timing it out and
    // reveal a vanished client.
    std::chrono::milliseconds stream_heartbeat_ms{15'000};
};

struct server_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  // 0: an ephemeral port, read it back with http_server::port()
    unsigned threads = 2;
    server_timeouts timeouts;
    // The connection limits described above.
    std::size_t connections_max = connections_max_default;
    std::size_t connections_per_client_max = connections_per_client_max_default;
    std::size_t probe_connections_reserve = probe_connections_reserve_default;
    // The paths the probe reserve serves (compared without the query string).
    std::vector<std::string> probe_paths = {"/healthz", "/readyz"};
    // The descriptor limit connections_max is sized against; 0: RLIMIT_NOFILE's soft limit, read
    // at start.
    std::uint64_t open_files_limit = 0;
    // Request counts and latencies go here (null: a private registry). It must outlive the
    // server's stop(); nothing is recorded after stop() returns.
    metrics_registry* metrics = nullptr;
};

// The limits a server runs with, after sizing.
struct connection_limits {
    std::size_t connections_max = 0;             // sized: at most the configured one
    std::size_t connections_max_configured = 0;  // server_options::connections_max
    std::size_t connections_per_client_max = 0;
    std::size_t probe_connections_reserve = 0;
    std::uint64_t open_files_limit = 0;          // the descriptor limit it was sized against
};

// connections_max = min(configured, open_files_limit - descriptors kept - probe reserve), where
// the descriptors kept are max(descriptors_kept_min, open_files_limit / descriptors_kept_divisor).
// An error if that leaves no connection at all, or if a limit is 0.
result<connection_limits> size_connection_limits(const server_options& options,
                                                 std::uint64_t open_files_limit);

// RLIMIT_NOFILE of this process: the soft limit before and after raise_open_files_limit(), and
// the hard limit.
struct open_files_figures {
    std::uint64_t soft_before = 0;
    std::uint64_t soft = 0;
    std::uint64_t hard = 0;
};
// Raises RLIMIT_NOFILE's soft limit to its hard limit (to fs.nr_open when the hard limit is
// unlimited), for the whole process: call it once, at start, before opening files. A failed
// raise leaves the soft limit as it was; the figures say what it is.
open_files_figures raise_open_files_limit();

// A Server-Sent Events channel on one connection, returned by responder::open_stream(). Safe to
// use from any thread. The connection holds no strong reference to it: dropping the last
// shared_ptr closes the stream (after what is queued), like close().
class event_stream {
public:
    virtual ~event_stream() = default;
    // Queues one event, already formatted ("event: x\ndata: y\n\n"). False once the client is
    // gone, the stream was closed, or the client reads too slowly (the stream is then closed).
    virtual bool send(std::string_view event_text) = 0;
    // Flushes what is queued, then closes the connection. Idempotent.
    virtual void close() = 0;
    // False once send() would fail.
    virtual bool is_open() const = 0;
};

namespace detail {
struct pending_answer;
}

// The way back to the client for one request. Copyable and thread-safe; exactly one of send() and
// open_stream() is called once over all copies (a second call is a bug and asserts). If every copy
// is dropped without an answer, the client gets a 500 so that its connection never stalls.
class responder {
public:
    explicit responder(std::shared_ptr<detail::pending_answer> answer);

    // `route` labels the request in the metrics: a fixed template such as "GET /concerts/{id}",
    // never the raw path.
    void send(http_response response, std::string_view route = route_label_unnamed) const;

    // Writes `head` (status and headers; its body is ignored) as the start of an endless
    // text/event-stream body delimited by the connection's end, and returns the channel for the
    // events. The connection serves nothing else afterwards. If the client is already gone the
    // returned stream is closed.
    std::shared_ptr<event_stream> open_stream(http_response head,
                                              std::string_view route = route_label_unnamed) const;

    // "address:port" of the client, for logs.
    const std::string& peer() const;

private:
    std::shared_ptr<detail::pending_answer> answer_;
};

// Implemented by the router. Called on a connection's strand; must not block and must not throw
// (an exception is caught and answered with a 500, but that is a bug).
class request_handler {
public:
    virtual ~request_handler() = default;
    virtual void handle(http_request request, responder respond) = 0;
};

// Owns the listening socket and the I/O threads. Made by start(), owned by the caller; the
// handler must outlive it. Destruction calls stop().
class http_server {
public:
    static result<std::unique_ptr<http_server>> start(server_options options,
                                                      request_handler& handler);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // The bound port (the ephemeral one when options.port was 0).
    std::uint16_t port() const;
    // Connections open within connections_max (the probe reserve's are not counted).
    std::size_t connections() const;
    const connection_limits& limits() const;

    // Stops accepting, gives answers still owed up to timeouts.stop_grace_ms, closes every
    // connection and joins the threads. Idempotent; call it from outside the I/O threads.
    void stop();

    struct core;

private:
    explicit http_server(std::shared_ptr<core> state);
    std::shared_ptr<core> core_;
};

// A JSON answer with Content-Type, Content-Length and the keep-alive decision set. `version` is
// the request's (11 for HTTP/1.1); the server corrects both for the actual connection anyway.
http_response json_response(unsigned status, const nlohmann::json& body, unsigned http_version = 11,
                            bool keep_alive = true);

// The same for a body already rendered as JSON text (hot routes render by hand).
http_response json_text_response(unsigned status, std::string body, unsigned http_version = 11, bool keep_alive = true);

// API.md's error shape: {"error": {"code": "SEAT_TAKEN", "message": "..."}}.
http_response error_response(unsigned status, std::string_view code, std::string_view message,
                             unsigned http_version = 11, bool keep_alive = true);

// A NOT_YOUR_TURN answer's Retry-After for a wait estimated at `seconds`: at least 1, and at most
// 30, so that a fan whose turn comes sooner than estimated is not kept away long.
inline std::string retry_after_for_wait(std::uint64_t seconds) { return std::to_string(std::clamp<std::uint64_t>(seconds, 1, 30)); }

// 503 STORAGE_UNAVAILABLE: the log or the read models' store cannot be written or read now (a
// nearly full disk, an I/O error). Retry-After is 5 s: space comes back when an operator frees it,
// not in a second, and a crowd retrying every second would only fill the logs.
inline http_response storage_unavailable_response(std::string_view message) {
    http_response response = error_response(503, "STORAGE_UNAVAILABLE", message);
    response.set(boost::beast::http::field::retry_after, "5");
    return response;
}

// Requests read and answered without a socket, for the fuzz targets (fuzz/) and tests that drive
// a request_handler directly.
//
// read_request() reads the first request of `bytes` exactly as a session does: the same parser,
// limits and framing checks. It gives the request, or the error a session answers before it
// closes the connection (400, 413 or 431), or neither when the bytes end inside the request.
struct request_reading {
    std::size_t consumed = 0;  // bytes of the input that the request took
    std::optional<http_request> request;
    std::optional<http_response> refusal;
};
request_reading read_request(std::string_view bytes);

// A responder whose answer is handed to `callback`, on whichever thread answers. A stream
// opened on it delivers its head and is closed at once. Dropped unanswered, it delivers a 500.
using answer_callback = std::function<void(http_response response, std::string_view route)>;
responder callback_responder(answer_callback callback);

}  // namespace encore::http
