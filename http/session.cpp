// One connection of the HTTP server: reads requests (framing checks, pipelining limit, commands
// and the reads behind them kept in order), hands each to the request_handler, writes the answers
// in request order, and keeps the connection's deadlines and its close. Event streams are in
// event_stream.cpp, the listener in listener.cpp.

#include "http/server_internal.hpp"

#include <cassert>
#include <cstdio>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/write.hpp>

namespace encore::http {

namespace {

// Bytes asked of the socket per read; requests are small, bodies at most request_body_bytes_max.
constexpr std::size_t read_chunk_bytes = 16 * 1024;
// While lingering before a close, discard at most this much of what the client still sends.
constexpr std::size_t linger_discard_bytes_max = 256 * 1024;

// The parser of every request, with the session's limits.
void limit(http::request_parser<http::string_body>& parser) {
    parser.header_limit(static_cast<std::uint32_t>(request_header_bytes_max));
    parser.body_limit(request_body_bytes_max);
    parser.eager(true);
}

// What a parse error is answered with, before the connection closes.
struct parse_refusal {
    unsigned status;
    std::string_view code;
    std::string message;
};
parse_refusal refusal_of(error_code ec) {
    if (ec == http::error::body_limit)
        return {413, "PAYLOAD_TOO_LARGE", "the request body exceeds " + std::to_string(request_body_bytes_max) + " bytes"};
    if (ec == http::error::header_limit)
        return {431, "HEADERS_TOO_LARGE",
                "the request headers exceed " + std::to_string(request_header_bytes_max) + " bytes"};
    return {400, "BAD_REQUEST", "malformed HTTP request: " + ec.message()};
}

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

// ---------------------------------------------------------------------------------------------
// session: reading and parsing (strand).

session::session(http_server::core& server, tcp::socket socket, std::uint64_t id, admission admitted,
                 client_key client)
    : server_(server), socket_(std::move(socket)), id_(id), admission_(admitted), client_(client),
      read_timer_(socket_.get_executor()), write_timer_(socket_.get_executor()),
      heartbeat_timer_(socket_.get_executor()) {}

session::~session() { release(); }

void session::start() {
    peer_ = std::make_shared<const std::string>(peer_text(socket_));
    parse_buffered();
}

// A request the probe reserve serves: GET or HEAD of one of probe_paths, whatever the query.
bool session::is_probe(const http_request& request) const {
    if (request.method() != http::verb::get && request.method() != http::verb::head) return false;
    const std::string_view target(request.target().data(), request.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    for (const std::string& probe : server_.options.probe_paths) {
        if (path == probe) return true;
    }
    return false;
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
            limit(*parser_);
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
    const parse_refusal refusal = refusal_of(ec);
    push_error(refusal.status, refusal.code, refusal.message);
}

// The answer is queued behind those still owed, then the connection closes: after a framing
// error nothing that follows on the connection can be trusted.
void session::push_error(unsigned status, std::string_view code, std::string_view message) {
    read_stopped_ = true;
    parser_.reset();
    slot error;
    error.sequence = order_.arrive_answered();
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
    if (admission_ == admission::probe_only && !is_probe(parser_->get())) {
        server_.refused_not_probe.increment();
        push_error(503, "OVERLOADED", "the server has too many connections; retry later");
        return;
    }
    http_request request = parser_->release();
    parser_.reset();
    continue_sent_ = false;
    const bool safe = request.method() == http::verb::get || request.method() == http::verb::head;
    const request_order::arrival arrival = order_.arrive(safe);
    slot next;
    next.sequence = arrival.sequence;
    next.version = request.version();
    next.keep_alive = request.keep_alive();
    next.head_method = request.method() == http::verb::head;
    next.received_at = clock_type::now();
    // A probe in the reserve is answered alone and the connection closed, so that the reserve is
    // free for the next probe.
    if (admission_ == admission::probe_only) next.keep_alive = false;
    // The client said this is its last request; HTTP/1.0 says so by default.
    if (!next.keep_alive) read_stopped_ = true;
    slots_.push_back(std::move(next));
    if (arrival.held) {
        held_.push_back({arrival.sequence, std::move(request)});
        return;
    }
    handle(arrival.sequence, std::move(request));
}

// Hands on the held requests whose turn has come (request_order), in order.
void session::release_held() {
    while (auto sequence = order_.next_released()) {
        assert(!held_.empty() && held_.front().sequence == *sequence);
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

// A client that sent `Expect: 100-continue` waits for this before sending the body. Sent when no
// answer is owed, because an interim response must not cut into the ordered answers: at once, or
// when the last owed answer is written (write_next), which a client that sent its next request
// as soon as it read the previous answer can see (that answer's write may complete after).
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
    order_.answered(sequence);
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
        // A request whose header arrived while answers were owed may be waiting for its interim
        // 100 Continue: it is its turn now.
        else if (parser_ && parser_->is_header_done() && !parser_->is_done()) maybe_send_continue();
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
    order_.written(written.sequence);
    record(written);
    if (written.stream_head) {
        start_streaming();
        return;
    }
    if (written.close_after) {
        read_stopped_ = true;
        slots_.clear();  // only possible if the handler chose to close: later answers go nowhere
        held_.clear();
        order_.clear();
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
// session: deadlines and closing (strand).

// The read deadline follows the connection's state: while a request is arriving it must finish
// within request_read_ms of its first byte; while nothing is owed and nothing arrives, the
// connection may idle for idle_ms, or for first_request_ms if it has never sent a request; while
// the client waits for an answer there is none.
void session::update_read_deadline() {
    // Once the server stops, the stop grace period is the only deadline (on_server_stop).
    if (closed_ || lingering_ || streaming_ || server_.stopping.load()) return;
    read_deadline wanted = read_deadline::none;
    if (reading_) {
        if (buffer_.size() > 0 || (parser_ && parser_->got_some())) {
            wanted = read_deadline::request;
        } else if (slots_.empty() && !writing_) {
            wanted = order_.arrived() == 0 ? read_deadline::first_request : read_deadline::idle;
        }
    }
    if (wanted == read_deadline::request &&
        (read_deadline_ != read_deadline::request || request_deadline_sequence_ != order_.arrived())) {
        request_deadline_sequence_ = order_.arrived();
        arm(read_timer_, server_.options.timeouts.request_read_ms, &session::close);
    } else if (wanted == read_deadline::first_request && read_deadline_ != read_deadline::first_request) {
        arm(read_timer_, server_.options.timeouts.first_request_ms, &session::close);
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
    server_.release_session(id_, admission_, client_);
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

// The session reads with the same pieces: limit(), refusal_of() and framing_error().
request_reading read_request(std::string_view bytes) {
    request_reading out;
    http::request_parser<http::string_body> parser;
    limit(parser);
    auto refuse = [&out](unsigned status, std::string_view code, const std::string& message) {
        out.refusal = error_response(status, code, message, 11, false);
        return std::move(out);
    };
    for (;;) {
        error_code ec;
        const std::size_t used = parser.put(asio::buffer(bytes.data() + out.consumed, bytes.size() - out.consumed), ec);
        out.consumed += used;
        if (ec == http::error::need_more) return out;
        if (ec) {
            const parse_refusal refusal = refusal_of(ec);
            return refuse(refusal.status, refusal.code, refusal.message);
        }
        if (parser.is_done()) {
            if (auto why = detail::framing_error(parser.get()))
                return refuse(400, "BAD_REQUEST", "ambiguous or incomplete request framing: " + *why);
            out.request = parser.release();
            return out;
        }
        if (used == 0) return out;
    }
}

}  // namespace encore::http
