#include "http/client.hpp"

#include <algorithm>
#include <cctype>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace encore::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// Replies above this are a broken server or a wrong test; bounded so a test cannot eat memory.
constexpr std::uint64_t reply_body_bytes_max = 64ull * 1024 * 1024;
constexpr std::size_t raw_read_bytes = 64 * 1024;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

bool connection_gone(const error_code& ec) {
    return ec == asio::error::eof || ec == http::error::end_of_stream ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::connection_aborted || ec == http::error::partial_message;
}

error make_error(std::string_view what, const error_code& ec) {
    const errc code = ec == beast::error::timeout ? errc::timeout : errc::io;
    return error{code, std::string(what) + ": " + ec.message()};
}

http_reply to_reply(http::response<http::string_body>&& response) {
    http_reply reply;
    reply.status = response.result_int();
    reply.keep_alive = response.keep_alive();
    for (const auto& field : response) {
        reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    reply.body = std::move(response.body());
    return reply;
}

}  // namespace

std::optional<std::string> http_reply::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return value;
    }
    return std::nullopt;
}

nlohmann::json http_reply::json() const { return nlohmann::json::parse(body, nullptr, false); }

// Each operation is started asynchronously and the private io_context is run until it
// completes; tcp_stream's expiry turns a stuck operation into a timeout error.
struct http_client::impl {
    asio::io_context io;
    beast::tcp_stream stream{io};
    beast::flat_buffer buffer;
    bool open = false;
    bool reused = false;  // a reply was read on this connection already
    std::string events;   // event-stream bytes not yet returned

    template <class Start>
    error_code run(std::chrono::milliseconds timeout, Start&& start) {
        error_code result = asio::error::would_block;
        stream.expires_after(timeout);
        start([&result](error_code ec, std::size_t) { result = ec; });
        io.restart();
        io.run();
        return result;
    }

    void reset() {
        error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.close();
        buffer.consume(buffer.size());
        events.clear();
        open = false;
        reused = false;
    }
};

http_client::http_client(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()), host_(std::move(host)), port_(port), timeout_(timeout) {}

http_client::~http_client() { close(); }

void http_client::close() {
    if (impl_->open) impl_->reset();
}

bool http_client::connected() const { return impl_->open; }

result<unit> http_client::ensure_connected() {
    if (impl_->open) return unit{};
    error_code ec;
    tcp::resolver resolver(impl_->io);
    const auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec) return make_error("resolve " + host_, ec);
    if (local_address_.empty()) {
        ec = impl_->run(timeout_, [&](auto done) {
            impl_->stream.async_connect(endpoints, [done](error_code e, const tcp::endpoint&) {
                done(e, 0);
            });
        });
    } else {
        // Bound first, so that the server sees this client address; the socket is then open and
        // async_connect keeps it.
        const tcp::endpoint target = *endpoints.begin();
        const auto local = asio::ip::make_address(local_address_, ec);
        if (ec) return make_error("local address " + local_address_, ec);
        auto& socket = impl_->stream.socket();
        if (socket.open(target.protocol(), ec); !ec) socket.bind(tcp::endpoint(local, 0), ec);
        if (ec) {
            impl_->reset();
            return make_error("bind " + local_address_, ec);
        }
        ec = impl_->run(timeout_, [&](auto done) {
            impl_->stream.async_connect(target, [done](error_code e) { done(e, 0); });
        });
    }
    if (ec) {
        impl_->reset();
        return make_error("connect", ec);
    }
    error_code ignored;
    impl_->stream.socket().set_option(tcp::no_delay(true), ignored);
    impl_->open = true;
    impl_->reused = false;
    ++connects_;
    return unit{};
}

result<http_reply> http_client::request(std::string_view method, std::string_view target,
                                        std::string_view body, const header_list& headers) {
    const bool was_reused = impl_->open && impl_->reused;
    bool reply_started = false;
    auto reply = request_once(method, target, body, headers, reply_started);
    if (reply.ok() || !was_reused || reply_started) return reply;
    // The server closed the idle connection as we reused it: once more, on a fresh one.
    return request_once(method, target, body, headers, reply_started);
}

result<http_reply> http_client::request_once(std::string_view method, std::string_view target,
                                             std::string_view body, const header_list& headers,
                                             bool& reply_started) {
    if (auto connected_now = ensure_connected(); !connected_now) return connected_now.err();
    http::request<http::string_body> request;
    request.method_string(method);
    request.target(target);
    request.version(11);
    request.set(http::field::host, host_ + ":" + std::to_string(port_));
    bool has_content_type = false;
    for (const auto& [name, value] : headers) {
        request.insert(name, value);
        has_content_type = has_content_type || iequals(name, "content-type");
    }
    if (!body.empty() && !has_content_type) {
        request.set(http::field::content_type, "application/json");
    }
    request.body() = std::string(body);
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        request.content_length(body.size());
    }
    auto ec = impl_->run(timeout_, [&](auto done) { http::async_write(impl_->stream, request, done); });
    if (ec) {
        impl_->reset();
        return make_error("write request", ec);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(reply_body_bytes_max);
    if (method == "HEAD") parser.skip(true);
    ec = impl_->run(timeout_, [&](auto done) {
        http::async_read(impl_->stream, impl_->buffer, parser, done);
    });
    if (ec) {
        reply_started = parser.got_some();
        impl_->reset();
        return make_error("read reply", ec);
    }
    auto reply = to_reply(parser.release());
    impl_->reused = true;
    if (!reply.keep_alive) impl_->reset();
    return reply;
}

result<unit> http_client::send_raw(std::string_view bytes) {
    if (auto connected_now = ensure_connected(); !connected_now) return connected_now.err();
    const auto ec = impl_->run(timeout_, [&](auto done) {
        asio::async_write(impl_->stream, asio::buffer(bytes.data(), bytes.size()), done);
    });
    if (ec) {
        impl_->reset();
        return make_error("write", ec);
    }
    return unit{};
}

result<http_reply> http_client::read_reply() {
    if (!impl_->open) return error{errc::invalid, "not connected"};
    http::response_parser<http::string_body> parser;
    parser.body_limit(reply_body_bytes_max);
    const auto ec = impl_->run(timeout_, [&](auto done) {
        http::async_read(impl_->stream, impl_->buffer, parser, done);
    });
    if (ec) {
        impl_->reset();
        return make_error("read reply", ec);
    }
    impl_->reused = true;
    // The connection stays as it is even after "Connection: close": a test may check that the
    // server really closes it (wait_closed).
    return to_reply(parser.release());
}

result<std::string> http_client::read_raw() {
    if (!impl_->open) return error{errc::invalid, "not connected"};
    if (impl_->buffer.size() > 0) {
        std::string bytes = beast::buffers_to_string(impl_->buffer.data());
        impl_->buffer.consume(impl_->buffer.size());
        return bytes;
    }
    std::string bytes(raw_read_bytes, '\0');
    std::size_t received = 0;
    const auto ec = impl_->run(timeout_, [&](auto done) {
        impl_->stream.async_read_some(asio::buffer(bytes), [&received, done](error_code e, std::size_t n) {
            received = n;
            done(e, n);
        });
    });
    bytes.resize(received);
    if (ec && connection_gone(ec)) {
        impl_->reset();
        return bytes;
    }
    if (ec) {
        impl_->reset();
        return make_error("read", ec);
    }
    return bytes;
}

bool http_client::wait_closed(std::chrono::milliseconds wait) {
    if (!impl_->open) return true;
    impl_->buffer.consume(impl_->buffer.size());
    const auto deadline = std::chrono::steady_clock::now() + wait;
    std::string scratch(raw_read_bytes, '\0');
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        const auto ec = impl_->run(left, [&](auto done) {
            impl_->stream.async_read_some(asio::buffer(scratch), done);
        });
        if (!ec) continue;
        impl_->reset();
        return ec != beast::error::timeout;
    }
}

void http_client::shutdown_send() {
    if (!impl_->open) return;
    error_code ignored;
    impl_->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

result<http_reply> http_client::open_event_stream(std::string_view target,
                                                  const header_list& headers) {
    if (auto connected_now = ensure_connected(); !connected_now) return connected_now.err();
    http::request<http::string_body> request{http::verb::get, target, 11};
    request.set(http::field::host, host_ + ":" + std::to_string(port_));
    request.set(http::field::accept, "text/event-stream");
    for (const auto& [name, value] : headers) request.insert(name, value);
    auto ec = impl_->run(timeout_, [&](auto done) { http::async_write(impl_->stream, request, done); });
    if (ec) {
        impl_->reset();
        return make_error("write request", ec);
    }
    http::response_parser<http::string_body> parser;
    ec = impl_->run(timeout_, [&](auto done) {
        http::async_read_header(impl_->stream, impl_->buffer, parser, done);
    });
    if (ec) {
        impl_->reset();
        return make_error("read stream head", ec);
    }
    // What followed the head is the start of the event stream (the server does not chunk it).
    impl_->events = beast::buffers_to_string(impl_->buffer.data());
    impl_->buffer.consume(impl_->buffer.size());
    std::erase(impl_->events, '\r');
    return to_reply(parser.release());
}

result<sse_event> http_client::next_event() {
    for (;;) {
        auto& pending = impl_->events;
        const auto end = pending.find("\n\n");
        if (end != std::string::npos) {
            const std::string block = pending.substr(0, end);
            pending.erase(0, end + 2);
            const bool comment_only =
                block.find("data:") == std::string::npos && block.find("event:") == std::string::npos;
            if (comment_only) continue;
            return parse_sse_event(block);
        }
        if (!impl_->open) return error{errc::io, "the event stream is closed"};
        std::string bytes(raw_read_bytes, '\0');
        std::size_t received = 0;
        const auto ec = impl_->run(timeout_, [&](auto done) {
            impl_->stream.async_read_some(asio::buffer(bytes), [&received, done](error_code e, std::size_t n) {
                received = n;
                done(e, n);
            });
        });
        if (ec) {
            impl_->reset();
            return make_error("read event", ec);
        }
        // Normalise CRLF so that "\n\n" finds the end of a block whatever the server sends.
        bytes.resize(received);
        std::erase(bytes, '\r');
        pending += bytes;
    }
}

sse_event parse_sse_event(std::string_view block) {
    sse_event event;
    bool first_data = true;
    while (!block.empty()) {
        const auto end = block.find('\n');
        std::string_view line = block.substr(0, end);
        block = end == std::string_view::npos ? std::string_view{} : block.substr(end + 1);
        if (line.empty() || line.front() == ':') continue;
        const auto colon = line.find(':');
        const std::string_view field = line.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (field == "event") {
            event.event = std::string(value);
        } else if (field == "id") {
            event.id = std::string(value);
        } else if (field == "data") {
            if (!first_data) event.data += '\n';
            event.data += value;
            first_data = false;
        }
    }
    return event;
}

}  // namespace encore::http
