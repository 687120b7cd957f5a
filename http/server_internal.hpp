#pragma once
// Internal to http/: the types shared by the HTTP server's translation units (listener.cpp,
// session.cpp, event_stream.cpp, responses.cpp). It includes Asio and Beast's I/O
// headers, so nothing outside those files may include it; the public contract is server.hpp.
//
// Ownership: the http_server owns its core; sessions refer to the core by reference (a session
// never outlives it, see the member order of core); pending answers and event streams held by
// handlers own a shared_ptr to the core, because they post to its io_context.

#include "http/server.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include "http/metrics.hpp"
#include "http/request_order.hpp"

namespace encore::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using error_code = boost::system::error_code;

namespace detail {

// The read buffer holds at most one unfinished header plus what the last read brought; the parser
// consumes body bytes as they arrive, so this bound is never reached by a well-formed client.
inline constexpr std::size_t read_buffer_bytes_max = 64 * 1024;

class session;

// A client as connections_per_client_max counts it: an IPv4 address (also when IPv4-mapped in
// IPv6) whole, an IPv6 address by its /64, the block one host is commonly given.
struct client_key {
    std::array<unsigned char, 16> bytes{};
    bool operator==(const client_key&) const = default;
};
struct client_key_hash {
    std::size_t operator()(const client_key& key) const noexcept;
};
client_key client_key_of(const asio::ip::address& address);

// The connections one client has open: all of them, and those in the probe reserve.
struct client_connections {
    std::size_t open = 0;
    std::size_t probes = 0;
};

// How a connection was admitted: within connections_max, or in the probe reserve past it (only
// probe_paths served, one request, then close).
enum class admission { regular, probe_only };

}  // namespace detail

// Shared by the http_server, its sessions (by raw reference: a session never outlives it, see
// the member order) and the pending answers and event streams held by handlers (by shared_ptr:
// they post to the io_context, which must still exist when they do).
struct http_server::core : std::enable_shared_from_this<http_server::core> {
    core(server_options options_in, connection_limits limits_in, request_handler& handler_in);
    ~core();

    result<unit> listen();
    void start_threads();
    void accept_next();
    void on_accept(error_code ec, tcp::socket socket);
    std::optional<detail::admission> admit(const detail::client_key& client);
    static void close_at_once(tcp::socket& socket);
    void run_thread();
    void stop();
    void close_remaining_sessions();

    void register_session(std::uint64_t id, std::weak_ptr<detail::session> session);
    void release_session(std::uint64_t id, detail::admission admitted, const detail::client_key& client);

    const server_options options;
    const connection_limits limits;
    request_handler& handler;
    std::unique_ptr<metrics_registry> own_metrics;
    metrics_registry& metrics;
    counter_family& requests_total;
    histogram_family& request_seconds;
    gauge& connections_open;
    gauge& probe_connections_open;
    counter& refused_per_client;       // over connections_per_client_max (or its share of the
                                       // probe reserve): closed at once
    counter& refused_connections_max;  // over connections_max and the probe reserve: closed at once
    counter& refused_not_probe;        // in the probe reserve, asked for something else: 503

    // Admission (accept strand) and release (any session's strand) meet under clients_mutex.
    std::mutex clients_mutex;
    std::unordered_map<detail::client_key, detail::client_connections, detail::client_key_hash> clients;
    std::atomic<std::size_t> connections{0};        // admitted within connections_max
    std::atomic<std::size_t> probe_connections{0};  // admitted into the probe reserve
    std::atomic<bool> stopping{false};
    std::uint16_t bound_port = 0;

    std::mutex sessions_mutex;
    std::unordered_map<std::uint64_t, std::weak_ptr<detail::session>> sessions;
    std::uint64_t next_session_id = 0;  // accept strand only

    std::mutex threads_mutex;
    std::condition_variable threads_done;
    std::size_t threads_running = 0;
    std::mutex stop_mutex;
    bool joined = false;  // under stop_mutex

    // Declared after everything the sessions touch: destroying the io_context destroys the
    // handlers it still holds, and with them the last sessions, which release themselves above.
    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    tcp::acceptor acceptor;
    asio::steady_timer accept_retry_timer;
    std::vector<std::thread> threads;
};

namespace detail {

class stream_channel;

// One TCP connection. Owned by the asynchronous operations it has pending (each holds a
// shared_ptr), so it lives while it has I/O or timers outstanding; pending answers and streams
// hold only weak references. Every member function except deliver(), post_*() and
// on_server_stop() runs on the connection's strand.
class session : public std::enable_shared_from_this<session> {
public:
    session(http_server::core& server, tcp::socket socket, std::uint64_t id, admission admitted,
            client_key client);
    ~session();

    asio::any_io_executor executor() { return socket_.get_executor(); }
    void start();  // read requests
    // From any thread: the answer to request `sequence`; `stream` is set for an event-stream head.
    void deliver(std::uint64_t sequence, http_response response, std::string route,
                 std::shared_ptr<stream_channel> stream);
    void post_stream_event(const stream_channel* from, std::string text);
    void post_stream_close(const stream_channel* from);
    void post_server_stop();
    // Only from stop(), once the I/O threads are joined: nothing else can touch the session.
    void close_after_stop() { close(); }

private:
    struct slot {
        std::uint64_t sequence = 0;
        unsigned version = 11;
        bool keep_alive = true;
        bool head_method = false;
        clock_type::time_point received_at;
        bool ready = false;
        bool close_after = false;
        bool stream_head = false;
        http_response response;
        std::string route;
    };
    // A parsed request not yet handed to the handler: it reads state that a command before it on
    // this connection may still change (RFC 9112 §9.3.2: only safe requests may be handled in
    // parallel), or it must keep its place behind such a request.
    struct held_request {
        std::uint64_t sequence = 0;
        http_request request;
    };
    enum class read_deadline { none, first_request, idle, request };

    bool can_read_requests() const;
    bool is_probe(const http_request& request) const;
    void read_more();
    void on_bytes(error_code ec, std::size_t bytes);
    void parse_buffered();
    void dispatch();
    void handle(std::uint64_t sequence, http_request request);
    void release_held();
    void maybe_send_continue();
    void on_parse_error(error_code ec);
    void push_error(unsigned status, std::string_view code, std::string_view message);
    void answer_internal_error(const std::shared_ptr<pending_answer>& answer);

    void on_deliver(std::uint64_t sequence, http_response response, std::string route,
                    std::shared_ptr<stream_channel> stream);
    void finalize(slot& answered) const;
    void write_next();
    void on_write(error_code ec);
    void record(const slot& written) const;

    void start_streaming();
    void write_stream();
    void on_stream_write(error_code ec);
    void on_stream_event(const stream_channel* from, std::string text);
    void on_stream_close(const stream_channel* from);
    void choose_stream(std::uint64_t sequence, const std::shared_ptr<stream_channel>& stream);
    void on_heartbeat();
    void on_server_stop();

    void update_read_deadline();
    void arm(asio::steady_timer& timer, std::chrono::milliseconds after,
             void (session::*on_expired)());
    static void disarm(asio::steady_timer& timer);
    void begin_close();
    void close();
    void release();

    http_server::core& server_;
    tcp::socket socket_;
    const std::uint64_t id_;
    const admission admission_;
    const client_key client_;
    std::shared_ptr<const std::string> peer_;

    beast::flat_buffer buffer_{read_buffer_bytes_max};
    std::optional<http::request_parser<http::string_body>> parser_;
    std::deque<slot> slots_;  // requests read, in order; the front is the next to write
    request_order order_;           // which requests may be handed on; numbers them
    std::deque<held_request> held_;  // the requests order_ holds, in its order

    bool reading_ = false;
    bool writing_ = false;
    bool read_stopped_ = false;  // no further request will be read on this connection
    bool continue_sent_ = false;
    bool lingering_ = false;     // our side is shut down; discarding input until close
    bool closed_ = false;
    bool released_ = false;
    std::size_t discarded_bytes_ = 0;

    read_deadline read_deadline_ = read_deadline::none;
    std::uint64_t request_deadline_sequence_ = 0;
    asio::steady_timer read_timer_;
    asio::steady_timer write_timer_;

    // Event stream: requested when a handler opened one, streaming once its head is written.
    bool stream_requested_ = false;
    bool streaming_ = false;
    bool stream_close_requested_ = false;
    // The stream that takes the connection over: the earliest request answered with one.
    std::weak_ptr<stream_channel> stream_;
    std::uint64_t stream_sequence_ = 0;
    std::deque<std::string> stream_queue_;
    std::string stream_write_buffer_;
    std::size_t stream_write_counted_bytes_ = 0;
    asio::steady_timer heartbeat_timer_;
};

// The answer owed to one request; shared by every copy of its responder. It keeps its connection
// alive: a connection waiting for answers may have no I/O pending (all requests it may read ahead
// are read, or the client has half-closed), and must still be there when the answers come.
struct pending_answer {
    pending_answer(std::shared_ptr<http_server::core> server_in, std::shared_ptr<session> owner_in,
                   std::uint64_t sequence_in, std::shared_ptr<const std::string> peer_in)
        : server(std::move(server_in)), owner(std::move(owner_in)), sequence(sequence_in),
          peer(std::move(peer_in)) {}
    // An answer with no connection: it goes to `callback` (callback_responder()).
    explicit pending_answer(answer_callback callback_in)
        : sequence(0), peer(std::make_shared<const std::string>("in-process")), callback(std::move(callback_in)) {}
    ~pending_answer();

    // To the owning session, or to the callback.
    void deliver(http_response response, std::string route, std::shared_ptr<stream_channel> stream);

    std::shared_ptr<http_server::core> server;  // keeps the io_context alive for deliver()
    std::shared_ptr<session> owner;             // null for a callback's answer
    std::uint64_t sequence;
    std::shared_ptr<const std::string> peer;
    answer_callback callback;
    std::atomic<bool> answered{false};
};

class stream_channel final : public event_stream {
public:
    stream_channel(std::shared_ptr<http_server::core> server, std::weak_ptr<session> owner)
        : server_(std::move(server)), owner_(std::move(owner)) {}
    ~stream_channel() override { close(); }

    bool send(std::string_view event_text) override;
    void close() override;
    bool is_open() const override { return open_.load(std::memory_order_acquire); }

    // Session side (its strand).
    void mark_closed() { open_.store(false, std::memory_order_release); }
    void release_bytes(std::size_t bytes) { queued_bytes_.fetch_sub(bytes); }

private:
    std::shared_ptr<http_server::core> server_;
    std::weak_ptr<session> owner_;
    std::atomic<bool> open_{true};
    std::atomic<std::size_t> queued_bytes_{0};
};

}  // namespace detail

}  // namespace encore::http
