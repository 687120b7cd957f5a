// The only translation unit of api/ that includes Beast's I/O and Asio: the listener, the
// connection state machine (reads, pipelining, ordered writes, timeouts, event streams) and the
// I/O threads.

#include "api/http_server.hpp"
#include "events/diagnostics.hpp"

#include <atomic>
#include <cassert>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "api/metrics.hpp"

namespace encore::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using error_code = boost::system::error_code;

namespace {

// Bytes asked of the socket per read; requests are small, bodies at most request_body_bytes_max.
constexpr std::size_t read_chunk_bytes = 16 * 1024;
// The read buffer holds at most one unfinished header plus what the last read brought; the parser
// consumes body bytes as they arrive, so this bound is never reached by a well-formed client.
constexpr std::size_t read_buffer_bytes_max = 64 * 1024;
// While lingering before a close, discard at most this much of what the client still sends.
constexpr std::size_t linger_discard_bytes_max = 256 * 1024;
// Events gathered into one socket write.
constexpr std::size_t stream_write_bytes_max = 64 * 1024;
// After a failed accept (out of descriptors, typically), wait before trying again instead of
// spinning on the same error.
constexpr std::chrono::milliseconds accept_retry_delay_ms{100};
// stop(): extra time, beyond the grace period, for the I/O threads to see every socket closed
// before the io_context is stopped outright.
constexpr std::chrono::milliseconds stop_margin_ms{1'000};

constexpr std::string_view stream_heartbeat_text = ": keep-alive\n\n";

bool is_bodyless_status(unsigned status) {
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

std::string peer_text(const tcp::socket& socket) {
    error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    if (ec) return "unknown";
    const auto address = endpoint.address();
    const std::string host =
        address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    return host + ":" + std::to_string(endpoint.port());
}

}  // namespace

namespace detail {
class session;
}

// Shared by the http_server, its sessions (by raw reference: a session never outlives it, see
// the member order) and the pending answers and event streams held by handlers (by shared_ptr:
// they post to the io_context, which must still exist when they do).
struct http_server::core : std::enable_shared_from_this<http_server::core> {
    core(server_options options_in, request_handler& handler_in);
    ~core();

    result<unit> listen();
    void start_threads();
    void accept_next();
    void on_accept(error_code ec, tcp::socket socket);
    void run_thread();
    void stop();
    void close_remaining_sessions();

    void register_session(std::uint64_t id, std::weak_ptr<detail::session> session);
    void release_session(std::uint64_t id, bool counted);

    const server_options options;
    request_handler& handler;
    std::unique_ptr<metrics_registry> own_metrics;
    metrics_registry& metrics;
    counter_family& requests_total;
    histogram_family& request_seconds;
    gauge& connections_open;
    counter& connections_rejected;

    std::atomic<std::size_t> connections{0};
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
    session(http_server::core& server, tcp::socket socket, std::uint64_t id, bool counted);
    ~session();

    asio::any_io_executor executor() { return socket_.get_executor(); }
    void start();           // read requests
    void start_rejected();  // answer 503 and close: the connection is over connections_max
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
        bool changes_state = false;  // not GET/HEAD: a command
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
    enum class read_deadline { none, idle, request };

    bool can_read_requests() const;
    void read_more();
    void on_bytes(error_code ec, std::size_t bytes);
    void parse_buffered();
    void dispatch();
    void handle(std::uint64_t sequence, http_request request);
    bool command_owed_before(std::uint64_t sequence) const;
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
    const bool counted_;
    std::shared_ptr<const std::string> peer_;

    beast::flat_buffer buffer_{read_buffer_bytes_max};
    std::optional<http::request_parser<http::string_body>> parser_;
    std::deque<slot> slots_;  // requests read, in order; the front is the next to write
    std::deque<held_request> held_;
    std::uint64_t next_sequence_ = 0;

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
    ~pending_answer();

    std::shared_ptr<http_server::core> server;  // keeps the io_context alive for deliver()
    std::shared_ptr<session> owner;
    std::uint64_t sequence;
    std::shared_ptr<const std::string> peer;
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

// ---------------------------------------------------------------------------------------------
// Responses built by the server and by handlers.

http_response json_response(unsigned status, const nlohmann::json& body, unsigned http_version,
                            bool keep_alive) {
    assert(status >= 100 && status <= 599);
    http_response response{static_cast<http::status>(status), http_version};
    response.set(http::field::content_type, json_content_type);
    // Invalid UTF-8 in a string is replaced rather than thrown: no answer may throw.
    response.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    response.content_length(response.body().size());
    response.keep_alive(keep_alive);
    return response;
}

http_response json_text_response(unsigned status, std::string body, unsigned http_version, bool keep_alive) {
    assert(status >= 100 && status <= 599);
    http_response response{static_cast<http::status>(status), http_version};
    response.set(http::field::content_type, json_content_type);
    response.body() = std::move(body);
    response.content_length(response.body().size());
    response.keep_alive(keep_alive);
    return response;
}

http_response error_response(unsigned status, std::string_view code, std::string_view message,
                             unsigned http_version, bool keep_alive) {
    assert(status >= 400 && status <= 599);
    const nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
    return json_response(status, body, http_version, keep_alive);
}

namespace detail {

// ---------------------------------------------------------------------------------------------
// pending_answer, responder, stream_channel: the handler's side, any thread.

pending_answer::~pending_answer() {
    if (answered.load()) return;
    // Every copy of the responder is gone unanswered: a handler bug. Answer anyway, so that the
    // requests pipelined behind this one are not stuck forever.
    try {
        std::fprintf(stderr, "encore api: a request from %s was dropped without an answer\n",
                     peer->c_str());
        owner->deliver(sequence, error_response(500, "INTERNAL", "the request was not answered"),
                       std::string(route_label_server), nullptr);
    } catch (...) {
        // Out of memory while answering; the connection closes when its timers fire.
    }
}

bool stream_channel::send(std::string_view event_text) {
    if (!is_open()) return false;
    const std::size_t queued = queued_bytes_.fetch_add(event_text.size()) + event_text.size();
    if (queued > stream_pending_bytes_max) {
        queued_bytes_.fetch_sub(event_text.size());
        close();
        return false;
    }
    auto owner = owner_.lock();
    if (!owner) {
        mark_closed();
        return false;
    }
    owner->post_stream_event(this, std::string(event_text));
    return true;
}

void stream_channel::close() {
    if (!open_.exchange(false)) return;
    if (auto owner = owner_.lock()) owner->post_stream_close(this);
}

}  // namespace detail

responder::responder(std::shared_ptr<detail::pending_answer> answer) : answer_(std::move(answer)) {
    assert(answer_);
}

void responder::send(http_response response, std::string_view route) const {
    const bool first = !answer_->answered.exchange(true);
    assert(first && "a request is answered once");
    if (!first) return;
    answer_->owner->deliver(answer_->sequence, std::move(response), std::string(route), nullptr);
}

std::shared_ptr<event_stream> responder::open_stream(http_response head,
                                                     std::string_view route) const {
    const bool first = !answer_->answered.exchange(true);
    assert(first && "a request is answered once");
    auto channel = std::make_shared<detail::stream_channel>(answer_->server, answer_->owner);
    if (!first) {
        channel->mark_closed();
        return channel;
    }
    answer_->owner->deliver(answer_->sequence, std::move(head), std::string(route), channel);
    return channel;
}

const std::string& responder::peer() const { return *answer_->peer; }

namespace detail {

// ---------------------------------------------------------------------------------------------
// session: reading and parsing (strand).

session::session(http_server::core& server, tcp::socket socket, std::uint64_t id, bool counted)
    : server_(server), socket_(std::move(socket)), id_(id), counted_(counted),
      read_timer_(socket_.get_executor()), write_timer_(socket_.get_executor()),
      heartbeat_timer_(socket_.get_executor()) {}

session::~session() { release(); }

void session::start() {
    peer_ = std::make_shared<const std::string>(peer_text(socket_));
    parse_buffered();
}

void session::start_rejected() {
    peer_ = std::make_shared<const std::string>(peer_text(socket_));
    push_error(503, "OVERLOADED", "the server has too many connections; retry later");
}

bool session::can_read_requests() const {
    return !closed_ && !lingering_ && !read_stopped_ && !stream_requested_ && !streaming_ &&
           slots_.size() < pipelined_requests_max;
}

void session::read_more() {
    assert(!reading_ && !closed_);
    const std::size_t room = buffer_.max_size() - buffer_.size();
    if (room == 0) {
        // Only a header that never ends fills the buffer, and the parser refuses those first.
        push_error(431, "HEADERS_TOO_LARGE", "the request headers are too large");
        return;
    }
    reading_ = true;
    socket_.async_read_some(buffer_.prepare(std::min(room, read_chunk_bytes)),
                            [self = shared_from_this()](error_code ec, std::size_t bytes) {
                                self->on_bytes(ec, bytes);
                            });
}

void session::on_bytes(error_code ec, std::size_t bytes) {
    reading_ = false;
    if (closed_) return;
    buffer_.commit(bytes);
    if (lingering_ || streaming_) {
        // Nothing more will be served: the bytes are only read to notice the client leaving.
        discarded_bytes_ += buffer_.size();
        buffer_.consume(buffer_.size());
        if (ec || (lingering_ && discarded_bytes_ > linger_discard_bytes_max)) {
            close();
            return;
        }
        read_more();
        return;
    }
    if (ec) {
        // End of input (the client may still read what we owe it) or a broken connection.
        read_stopped_ = true;
        if (ec != asio::error::eof || (slots_.empty() && !writing_)) close();
        return;
    }
    parse_buffered();
}

// Parses every complete request already buffered (up to the pipelining limit), then reads more
// if the connection may take more requests.
void session::parse_buffered() {
    assert(!reading_);
    while (can_read_requests() && buffer_.size() > 0) {
        if (!parser_) {
            parser_.emplace();
            parser_->header_limit(static_cast<std::uint32_t>(request_header_bytes_max));
            parser_->body_limit(request_body_bytes_max);
            parser_->eager(true);
        }
        error_code ec;
        const std::size_t used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec == http::error::need_more) break;
        if (ec) {
            on_parse_error(ec);
            return;
        }
        if (parser_->is_done()) {
            dispatch();
            continue;
        }
        if (parser_->is_header_done()) maybe_send_continue();
        if (used == 0) break;  // the parser wants more bytes than the buffer holds
    }
    if (can_read_requests()) read_more();
    update_read_deadline();
}

void session::on_parse_error(error_code ec) {
    if (ec == http::error::body_limit) {
        push_error(413, "PAYLOAD_TOO_LARGE",
                   "the request body exceeds " + std::to_string(request_body_bytes_max) + " bytes");
    } else if (ec == http::error::header_limit) {
        push_error(431, "HEADERS_TOO_LARGE",
                   "the request headers exceed " + std::to_string(request_header_bytes_max) +
                       " bytes");
    } else {
        push_error(400, "BAD_REQUEST", "malformed HTTP request: " + ec.message());
    }
}

// The answer is queued behind those still owed, then the connection closes: after a framing
// error nothing that follows on the connection can be trusted.
void session::push_error(unsigned status, std::string_view code, std::string_view message) {
    read_stopped_ = true;
    parser_.reset();
    slot error;
    error.sequence = next_sequence_++;
    error.received_at = clock_type::now();
    error.keep_alive = false;
    error.ready = true;
    error.response = error_response(status, code, message, 11, false);
    if (status == 503) error.response.set(http::field::retry_after, "1");
    error.route = route_label_server;
    finalize(error);
    slots_.push_back(std::move(error));
    write_next();
}

namespace {

// RFC 9112 §6.3 and §3.2: a request whose body length is ambiguous, or an HTTP/1.1 request
// without exactly one Host, is refused and the connection closed, so that no two parties (a proxy
// in front, this server) can disagree on where the next request starts. The message says why.
std::optional<std::string> framing_error(const http_request& request) {
    std::size_t lengths = 0, hosts = 0;
    std::vector<std::string_view> codings;
    for (const auto& field : request) {
        if (field.name() == http::field::content_length) ++lengths;
        if (field.name() == http::field::host) ++hosts;
        if (field.name() == http::field::transfer_encoding) {
            std::string_view value = field.value();
            while (!value.empty()) {
                const std::size_t comma = value.find(',');
                std::string_view coding = value.substr(0, comma);
                while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) coding.remove_prefix(1);
                while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
                if (!coding.empty()) codings.push_back(coding);
                value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
            }
        }
    }
    if (lengths > 1) return "several Content-Length headers";
    if (!codings.empty()) {
        if (lengths > 0) return "both Transfer-Encoding and Content-Length";
        if (!beast::iequals(codings.back(), "chunked")) return "a Transfer-Encoding whose last coding is not chunked";
        for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
            if (beast::iequals(codings[i], "chunked")) return "chunked applied more than once";
        }
        if (request.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
    }
    if (request.version() >= 11 && hosts != 1) return hosts == 0 ? "no Host header" : "several Host headers";
    return std::nullopt;
}

}  // namespace

void session::dispatch() {
    if (auto why = framing_error(parser_->get())) {
        push_error(400, "BAD_REQUEST", "ambiguous or incomplete request framing: " + *why);
        return;
    }
    http_request request = parser_->release();
    parser_.reset();
    continue_sent_ = false;
    slot next;
    next.sequence = next_sequence_++;
    next.version = request.version();
    next.keep_alive = request.keep_alive();
    next.head_method = request.method() == http::verb::head;
    next.received_at = clock_type::now();
    // The client said this is its last request; HTTP/1.0 says so by default.
    if (!next.keep_alive) read_stopped_ = true;
    const bool safe = request.method() == http::verb::get || request.method() == http::verb::head;
    next.changes_state = !safe;
    const std::uint64_t sequence = next.sequence;
    slots_.push_back(std::move(next));
    if (!held_.empty() || (safe && command_owed_before(sequence))) {
        held_.push_back({sequence, std::move(request)});
        return;
    }
    handle(sequence, std::move(request));
}

bool session::command_owed_before(std::uint64_t sequence) const {
    for (const slot& s : slots_) {
        if (s.sequence >= sequence) break;
        if (s.changes_state && !s.ready) return true;
    }
    return false;
}

// Hands on the held requests whose turn has come, in order.
void session::release_held() {
    while (!held_.empty()) {
        const bool safe = held_.front().request.method() == http::verb::get ||
                          held_.front().request.method() == http::verb::head;
        if (safe && command_owed_before(held_.front().sequence)) return;
        held_request next = std::move(held_.front());
        held_.pop_front();
        handle(next.sequence, std::move(next.request));
    }
}

void session::handle(std::uint64_t sequence, http_request request) {
    auto answer = std::make_shared<pending_answer>(server_.shared_from_this(), shared_from_this(),
                                                   sequence, peer_);
    try {
        server_.handler.handle(std::move(request), responder(answer));
    } catch (const std::exception& failure) {
        std::fprintf(stderr, "encore api: the handler threw for %s: %s\n", peer_->c_str(),
                     failure.what());
        answer_internal_error(answer);
    } catch (...) {
        std::fprintf(stderr, "encore api: the handler threw for %s\n", peer_->c_str());
        answer_internal_error(answer);
    }
}

void session::answer_internal_error(const std::shared_ptr<pending_answer>& answer) {
    if (answer->answered.exchange(true)) return;
    deliver(answer->sequence, error_response(500, "INTERNAL", "internal error"),
            std::string(route_label_server), nullptr);
}

// A client that sent `Expect: 100-continue` waits for this before sending the body. Sent only
// when no answer is owed, because an interim response must not cut into the ordered answers;
// otherwise the client sends the body after its own short wait.
void session::maybe_send_continue() {
    if (continue_sent_ || writing_ || !slots_.empty() || parser_->get().version() < 11) return;
    const auto expect = parser_->get()[http::field::expect];
    if (!beast::iequals(expect, "100-continue")) return;
    continue_sent_ = true;
    writing_ = true;
    static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
    arm(write_timer_, server_.options.timeouts.write_ms, &session::close);
    asio::async_write(socket_, asio::buffer(interim.data(), interim.size()),
                      [self = shared_from_this()](error_code ec, std::size_t) {
                          self->writing_ = false;
                          disarm(self->write_timer_);
                          if (self->closed_) return;
                          if (ec) {
                              self->close();
                              return;
                          }
                          self->write_next();
                      });
}

// ---------------------------------------------------------------------------------------------
// session: answers and ordered writes (strand).

void session::deliver(std::uint64_t sequence, http_response response, std::string route,
                      std::shared_ptr<stream_channel> stream) {
    try {
        asio::post(socket_.get_executor(),
                   [self = shared_from_this(), sequence, response = std::move(response),
                    route = std::move(route), stream = std::move(stream)]() mutable {
                       self->on_deliver(sequence, std::move(response), std::move(route),
                                        std::move(stream));
                   });
    } catch (...) {
        // Out of memory: the answer is lost and the connection closes on its write or idle
        // timeout; nothing may throw into the handler's thread.
    }
}

void session::on_deliver(std::uint64_t sequence, http_response response, std::string route,
                         std::shared_ptr<stream_channel> stream) {
    if (closed_ || slots_.empty()) {
        if (stream) stream->mark_closed();
        return;
    }
    const std::uint64_t first = slots_.front().sequence;
    // Slots behind an event stream were dropped when it started: their answers go nowhere.
    if (sequence < first || sequence - first >= slots_.size()) {
        if (stream) stream->mark_closed();
        return;
    }
    slot& answered = slots_[sequence - first];
    assert(answered.sequence == sequence && !answered.ready);
    answered.response = std::move(response);
    answered.route = std::move(route);
    answered.ready = true;
    if (stream) {
        answered.stream_head = true;
        choose_stream(sequence, stream);
    }
    finalize(answered);
    release_held();
    write_next();
}

// Makes the handler's response fit the connection: the request's HTTP version, a keep-alive
// decision that also honours the client and a stopping server, and framing that is always right.
void session::finalize(slot& answered) const {
    http_response& response = answered.response;
    const bool handler_keeps_alive = response.keep_alive();
    response.version(answered.version);
    const bool keep_alive = answered.keep_alive && handler_keeps_alive && !answered.close_after &&
                            !answered.stream_head && !server_.stopping.load();
    answered.close_after = !keep_alive;
    response.erase(http::field::transfer_encoding);
    if (answered.stream_head) {
        // The body is the event stream, delimited by the end of the connection: it needs no
        // chunked framing and works for HTTP/1.0 clients and EventSource alike.
        response.body().clear();
        response.erase(http::field::content_length);
        if (response[http::field::content_type].empty()) {
            response.set(http::field::content_type, event_stream_content_type);
        }
        response.set(http::field::cache_control, "no-cache");
        response.set("X-Accel-Buffering", "no");  // tells nginx-like proxies not to buffer it
    } else if (is_bodyless_status(response.result_int())) {
        response.body().clear();
        response.erase(http::field::content_length);
    } else {
        response.content_length(response.body().size());
        if (answered.head_method) response.body().clear();  // HEAD: the length, not the bytes
    }
    response.keep_alive(keep_alive);
}

void session::write_next() {
    if (writing_ || closed_ || lingering_) return;
    if (streaming_) {
        write_stream();
        return;
    }
    if (slots_.empty()) {
        if (read_stopped_) begin_close();
        return;
    }
    slot& front = slots_.front();
    if (!front.ready) return;
    writing_ = true;
    arm(write_timer_, server_.options.timeouts.write_ms, &session::close);
    update_read_deadline();
    // The response lives in the slot, which stays at the front of the deque until on_write.
    http::async_write(socket_, front.response,
                      [self = shared_from_this()](error_code ec, std::size_t) {
                          self->on_write(ec);
                      });
}

void session::on_write(error_code ec) {
    writing_ = false;
    disarm(write_timer_);
    if (closed_) return;
    if (ec) {
        close();
        return;
    }
    slot written = std::move(slots_.front());
    slots_.pop_front();
    record(written);
    if (written.stream_head) {
        start_streaming();
        return;
    }
    if (written.close_after) {
        read_stopped_ = true;
        slots_.clear();  // only possible if the handler chose to close: later answers go nowhere
        held_.clear();
        begin_close();
        return;
    }
    if (!reading_) {
        parse_buffered();  // a slot is free: resume requests held back by the pipelining limit
    } else {
        update_read_deadline();
    }
    write_next();
}

void session::record(const slot& written) const {
    const std::string status = std::to_string(written.response.result_int());
    const std::string_view route = written.route;
    server_.requests_total.with({route, status}).increment();
    const std::chrono::duration<double> elapsed = clock_type::now() - written.received_at;
    server_.request_seconds.with({route}).observe(elapsed.count());
}

// ---------------------------------------------------------------------------------------------
// session: event streams (strand).

// Only a pipelining client can have two streams answered on one connection; the earliest request
// wins, and the other stream is closed at once (its request is dropped with the rest).
void session::choose_stream(std::uint64_t sequence, const std::shared_ptr<stream_channel>& stream) {
    auto chosen = stream_.lock();
    if (stream_requested_ && sequence > stream_sequence_) {
        stream->mark_closed();
        return;
    }
    if (chosen) chosen->mark_closed();
    stream_requested_ = true;  // requests after this one are not read
    stream_ = stream;
    stream_sequence_ = sequence;
}

void session::post_stream_event(const stream_channel* from, std::string text) {
    try {
        asio::post(socket_.get_executor(),
                   [self = shared_from_this(), from, text = std::move(text)]() mutable {
                       self->on_stream_event(from, std::move(text));
                   });
    } catch (...) {
        // Out of memory: the event is lost; the stream's client sees a gap, not a crash.
    }
}

void session::post_stream_close(const stream_channel* from) {
    try {
        asio::post(socket_.get_executor(),
                   [self = shared_from_this(), from] { self->on_stream_close(from); });
    } catch (...) {
        // Out of memory: the stream ends when its client leaves or the server stops.
    }
}

// `from` is compared, never dereferenced: the channel may be gone by now.
void session::on_stream_event(const stream_channel* from, std::string text) {
    if (closed_ || lingering_ || from != stream_.lock().get()) return;
    stream_queue_.push_back(std::move(text));
    if (streaming_) write_next();
}

void session::on_stream_close(const stream_channel* from) {
    // A channel destroyed before the head is written cannot be compared any more: an expired
    // stream_ means the chosen channel is gone, which is a close request as well.
    if (from != stream_.lock().get() && !stream_.expired()) return;
    stream_close_requested_ = true;
    if (streaming_) write_next();
}

void session::start_streaming() {
    if (server_.stopping.load()) {
        close();
        return;
    }
    streaming_ = true;
    // The connection belongs to the stream now: requests read ahead behind it are never answered.
    slots_.clear();
    held_.clear();
    read_stopped_ = true;
    disarm(read_timer_);
    read_deadline_ = read_deadline::none;
    if (!reading_) read_more();  // only to notice the client leaving
    arm(heartbeat_timer_, server_.options.timeouts.stream_heartbeat_ms, &session::on_heartbeat);
    write_next();
}

void session::write_stream() {
    assert(streaming_ && !writing_);
    if (stream_queue_.empty()) {
        if (stream_close_requested_) begin_close();
        return;
    }
    stream_write_buffer_.clear();
    stream_write_counted_bytes_ = 0;
    while (!stream_queue_.empty() && stream_write_buffer_.size() < stream_write_bytes_max) {
        stream_write_buffer_ += stream_queue_.front();
        stream_write_counted_bytes_ += stream_queue_.front().size();
        stream_queue_.pop_front();
    }
    writing_ = true;
    arm(write_timer_, server_.options.timeouts.write_ms, &session::close);
    asio::async_write(socket_, asio::buffer(stream_write_buffer_),
                      [self = shared_from_this()](error_code ec, std::size_t) {
                          self->on_stream_write(ec);
                      });
}

void session::on_stream_write(error_code ec) {
    writing_ = false;
    disarm(write_timer_);
    if (auto channel = stream_.lock()) channel->release_bytes(stream_write_counted_bytes_);
    stream_write_counted_bytes_ = 0;
    if (closed_) return;
    if (ec) {
        close();
        return;
    }
    write_next();
}

// A comment line on a quiet stream: proxies see traffic, and a vanished client makes the write
// fail, which closes the stream and makes the handler's send() return false.
void session::on_heartbeat() {
    if (closed_ || lingering_ || !streaming_) return;
    if (!writing_ && stream_queue_.empty()) {
        stream_write_buffer_.assign(stream_heartbeat_text);
        stream_write_counted_bytes_ = 0;
        writing_ = true;
        arm(write_timer_, server_.options.timeouts.write_ms, &session::close);
        asio::async_write(socket_, asio::buffer(stream_write_buffer_),
                          [self = shared_from_this()](error_code ec, std::size_t) {
                              self->on_stream_write(ec);
                          });
    }
    arm(heartbeat_timer_, server_.options.timeouts.stream_heartbeat_ms, &session::on_heartbeat);
}

// ---------------------------------------------------------------------------------------------
// session: deadlines and closing (strand).

// The read deadline follows the connection's state: while a request is arriving it must finish
// within request_read_ms of its first byte; while nothing is owed and nothing arrives, the
// connection may idle for idle_ms; while the client waits for an answer there is none.
void session::update_read_deadline() {
    // Once the server stops, the stop grace period is the only deadline (on_server_stop).
    if (closed_ || lingering_ || streaming_ || server_.stopping.load()) return;
    read_deadline wanted = read_deadline::none;
    if (reading_) {
        if (buffer_.size() > 0 || (parser_ && parser_->got_some())) {
            wanted = read_deadline::request;
        } else if (slots_.empty() && !writing_) {
            wanted = read_deadline::idle;
        }
    }
    if (wanted == read_deadline::request &&
        (read_deadline_ != read_deadline::request || request_deadline_sequence_ != next_sequence_)) {
        request_deadline_sequence_ = next_sequence_;
        arm(read_timer_, server_.options.timeouts.request_read_ms, &session::close);
    } else if (wanted == read_deadline::idle && read_deadline_ != read_deadline::idle) {
        arm(read_timer_, server_.options.timeouts.idle_ms, &session::close);
    } else if (wanted == read_deadline::none && read_deadline_ != read_deadline::none) {
        disarm(read_timer_);
    }
    read_deadline_ = wanted;
}

void session::arm(asio::steady_timer& timer, std::chrono::milliseconds after,
                  void (session::*on_expired)()) {
    timer.expires_after(after);
    timer.async_wait([self = shared_from_this(), &timer, on_expired](error_code ec) {
        // A timer re-armed or disarmed after this wait completed has an expiry in the future.
        if (ec || self->closed_ || timer.expiry() > clock_type::now()) return;
        ((*self).*on_expired)();
    });
}

void session::disarm(asio::steady_timer& timer) { timer.expires_at(clock_type::time_point::max()); }

// Closes after the last answer: shut our sending side, then read and discard what the client
// still sends for a while, so that unread request bytes do not make the kernel reset the
// connection before the client has read our answer.
void session::begin_close() {
    if (closed_ || lingering_) return;
    if (server_.stopping.load()) {
        close();
        return;
    }
    lingering_ = true;
    disarm(write_timer_);
    disarm(heartbeat_timer_);
    if (auto channel = stream_.lock()) channel->mark_closed();
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
        close();
        return;
    }
    arm(read_timer_, server_.options.timeouts.linger_ms, &session::close);
    if (!reading_) read_more();
}

void session::close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    read_timer_.cancel();
    write_timer_.cancel();
    heartbeat_timer_.cancel();
    if (auto channel = stream_.lock()) channel->mark_closed();
    stream_queue_.clear();
    release();
}

void session::release() {
    if (released_) return;
    released_ = true;
    server_.release_session(id_, counted_);
}

void session::post_server_stop() {
    try {
        asio::post(socket_.get_executor(), [self = shared_from_this()] { self->on_server_stop(); });
    } catch (...) {
        // Out of memory: stop() stops the io_context after its grace period anyway.
    }
}

// Answers still owed get the grace period; everything else closes now.
void session::on_server_stop() {
    if (closed_) return;
    read_stopped_ = true;
    if (streaming_ || lingering_ || (slots_.empty() && !writing_)) {
        close();
        return;
    }
    read_deadline_ = read_deadline::none;
    arm(read_timer_, server_.options.timeouts.stop_grace_ms, &session::close);
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// core: listening, accepting, threads, stopping.

namespace {

metrics_registry& pick_registry(const server_options& options,
                                std::unique_ptr<metrics_registry>& own) {
    if (options.metrics != nullptr) return *options.metrics;
    own = std::make_unique<metrics_registry>();
    return *own;
}

}  // namespace

http_server::core::core(server_options options_in, request_handler& handler_in)
    : options(std::move(options_in)), handler(handler_in),
      metrics(pick_registry(options, own_metrics)),
      requests_total(metrics.add_counter("encore_http_requests_total",
                                         "HTTP requests answered, by route and status.",
                                         {"route", "status"})),
      request_seconds(metrics.add_histogram(
          "encore_http_request_duration_seconds",
          "Time from a request fully read to its answer fully written, by route.", {"route"})),
      connections_open(metrics.add_gauge("encore_http_connections_open",
                                         "HTTP connections open (below connections_max).")
                           .with({})),
      connections_rejected(metrics.add_counter(
                                      "encore_http_connections_rejected_total",
                                      "Connections answered 503 because connections_max was reached.")
                               .with({})),
      io(static_cast<int>(options.threads)), work(asio::make_work_guard(io)),
      acceptor(asio::make_strand(io)), accept_retry_timer(acceptor.get_executor()) {}

http_server::core::~core() {
    // Only reached with threads running if start() failed half way.
    io.stop();
    for (auto& thread : threads) {
        if (thread.joinable()) thread.join();
    }
}

result<unit> http_server::core::listen() {
    error_code ec;
    tcp::endpoint endpoint;
    const auto address = asio::ip::make_address(options.host, ec);
    if (!ec) {
        endpoint = tcp::endpoint(address, options.port);
    } else {
        tcp::resolver resolver(io);
        const auto found = resolver.resolve(options.host, std::to_string(options.port),
                                            tcp::resolver::passive, ec);
        if (ec || found.empty()) {
            return error{errc::invalid, "cannot resolve host '" + options.host + "'"};
        }
        endpoint = found.begin()->endpoint();
    }
    const auto failed = [&](std::string_view step) {
        return error{errc::io, std::string(step) + " " + endpoint.address().to_string() + ":" +
                                   std::to_string(endpoint.port()) + ": " + ec.message()};
    };
    if (acceptor.open(endpoint.protocol(), ec); ec) return failed("cannot open a socket for");
    if (acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec) {
        return failed("cannot set SO_REUSEADDR for");
    }
    if (acceptor.bind(endpoint, ec); ec) return failed("cannot bind");
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
        return failed("cannot listen on");
    }
    bound_port = acceptor.local_endpoint(ec).port();
    if (ec) return failed("cannot read the bound port of");
    return unit{};
}

void http_server::core::start_threads() {
    threads_running = options.threads;
    for (unsigned i = 0; i < options.threads; ++i) {
        threads.emplace_back([this] {
            diag::name_thread("http-io");
            run_thread();
        });
    }
}

void http_server::core::run_thread() {
    for (;;) {
        try {
            io.run();
            break;
        } catch (const std::exception& failure) {
            // Handlers catch what they expect; this is the last line, so that one connection's
            // failure (out of memory, typically) does not take the server down.
            std::fprintf(stderr, "encore api: an I/O handler threw: %s\n", failure.what());
        } catch (...) {
            std::fprintf(stderr, "encore api: an I/O handler threw\n");
        }
    }
    std::lock_guard lock(threads_mutex);
    --threads_running;
    threads_done.notify_all();
}

void http_server::core::accept_next() {
    // `this` is safe in the core's own handlers: the I/O threads are joined before the core can go.
    acceptor.async_accept(asio::make_strand(io), [this](error_code ec, tcp::socket socket) {
        on_accept(ec, std::move(socket));
    });
}

void http_server::core::on_accept(error_code ec, tcp::socket socket) {
    if (stopping.load() || ec == asio::error::operation_aborted) return;
    if (ec) {
        accept_retry_timer.expires_after(accept_retry_delay_ms);
        accept_retry_timer.async_wait([this](error_code wait_error) {
            if (!wait_error && !stopping.load()) accept_next();
        });
        return;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // answers are small and latency matters
    const bool admitted = connections.load() < options.connections_max;
    const std::uint64_t id = next_session_id++;
    auto connection = std::make_shared<detail::session>(*this, std::move(socket), id, admitted);
    if (admitted) {
        connections.fetch_add(1);
        connections_open.add(1);
    } else {
        connections_rejected.increment();
    }
    register_session(id, connection);
    asio::post(connection->executor(), [connection, admitted] {
        admitted ? connection->start() : connection->start_rejected();
    });
    accept_next();
}

void http_server::core::register_session(std::uint64_t id, std::weak_ptr<detail::session> session) {
    std::lock_guard lock(sessions_mutex);
    sessions.emplace(id, std::move(session));
}

void http_server::core::release_session(std::uint64_t id, bool counted) {
    if (counted) {
        connections.fetch_sub(1);
        connections_open.add(-1);
    }
    std::lock_guard lock(sessions_mutex);
    sessions.erase(id);
}

void http_server::core::stop() {
    for (const auto& thread : threads) {
        assert(thread.get_id() != std::this_thread::get_id() &&
               "stop() on an I/O thread would wait for itself");
        (void)thread;
    }
    std::lock_guard stopping_lock(stop_mutex);
    if (joined) return;
    stopping.store(true);
    asio::post(acceptor.get_executor(), [this] {
        error_code ignored;
        acceptor.close(ignored);
        accept_retry_timer.cancel();
    });
    std::vector<std::weak_ptr<detail::session>> open;
    {
        std::lock_guard lock(sessions_mutex);
        for (const auto& [id, session] : sessions) open.push_back(session);
    }
    for (const auto& weak : open) {
        if (auto session = weak.lock()) session->post_server_stop();
    }
    // Without the guard, run() returns once every socket and timer is done.
    work.reset();
    std::unique_lock lock(threads_mutex);
    const auto bound = options.timeouts.stop_grace_ms + stop_margin_ms;
    if (!threads_done.wait_for(lock, bound, [this] { return threads_running == 0; })) {
        io.stop();  // something outlived its grace period: stop without it
    }
    lock.unlock();
    for (auto& thread : threads) {
        if (thread.joinable()) thread.join();
    }
    joined = true;
    close_remaining_sessions();
}

// After a forced stop some sessions may still be open; with the threads joined they are closed
// from here, so that their streams report closed and nothing records into the metrics registry
// after stop() returns (responders and streams held by handlers may outlive the registry).
void http_server::core::close_remaining_sessions() {
    std::vector<std::shared_ptr<detail::session>> remaining;
    {
        std::lock_guard lock(sessions_mutex);
        for (const auto& [id, weak] : sessions) {
            if (auto session = weak.lock()) remaining.push_back(std::move(session));
        }
    }
    for (const auto& session : remaining) session->close_after_stop();
}

// ---------------------------------------------------------------------------------------------
// http_server

result<std::unique_ptr<http_server>> http_server::start(server_options options,
                                                        request_handler& handler) {
    if (options.threads == 0) return error{errc::invalid, "server_options.threads must be > 0"};
    if (options.connections_max == 0) {
        return error{errc::invalid, "server_options.connections_max must be > 0"};
    }
    try {
        auto state = std::make_shared<core>(std::move(options), handler);
        auto listening = state->listen();
        if (!listening) return listening.err();
        auto* accepting = state.get();
        asio::post(state->acceptor.get_executor(), [accepting] { accepting->accept_next(); });
        state->start_threads();
        return std::unique_ptr<http_server>(new http_server(std::move(state)));
    } catch (const std::exception& failure) {
        return error{errc::io, std::string("cannot start the HTTP server: ") + failure.what()};
    }
}

http_server::http_server(std::shared_ptr<core> state) : core_(std::move(state)) {}

http_server::~http_server() { stop(); }

std::uint16_t http_server::port() const { return core_->bound_port; }

std::size_t http_server::connections() const { return core_->connections.load(); }

void http_server::stop() { core_->stop(); }

}  // namespace encore::api
