// Event streams (responder::open_stream): the handler's channel (stream_channel, any thread) and
// the session's side of it (its strand): the stream head, queued events gathered into writes,
// heartbeats on a quiet stream, and the cut-off of a reader that falls behind.

#include "http/server_internal.hpp"

#include <cassert>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace encore::http {

namespace {

// Events gathered into one socket write.
constexpr std::size_t stream_write_bytes_max = 64 * 1024;

constexpr std::string_view stream_heartbeat_text = ": keep-alive\n\n";

}  // namespace

namespace detail {

// ---------------------------------------------------------------------------------------------
// stream_channel: the handler's side, any thread.

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

namespace detail {

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
    order_.clear();
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


}  // namespace detail

}  // namespace encore::http
