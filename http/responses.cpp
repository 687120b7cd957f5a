// What the public header offers handlers: the JSON and error responses, and the responder that
// carries one answer back to its connection (the pending answer behind it answers 500 if every
// copy is dropped unanswered).

#include "http/server_internal.hpp"

#include <cassert>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace encore::http {

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
// pending_answer and responder: the handler's side, any thread.

pending_answer::~pending_answer() {
    if (answered.load()) return;
    // Every copy of the responder is gone unanswered: a handler bug. Answer anyway, so that the
    // requests pipelined behind this one are not stuck forever.
    try {
        std::fprintf(stderr, "encore api: a request from %s was dropped without an answer\n",
                     peer->c_str());
        deliver(error_response(500, "INTERNAL", "the request was not answered"), std::string(route_label_server),
                nullptr);
    } catch (...) {
        // Out of memory while answering; the connection closes when its timers fire.
    }
}

void pending_answer::deliver(http_response response, std::string route, std::shared_ptr<stream_channel> stream) {
    if (!owner) {
        // No connection: a stream opened on this answer is closed at once, after its head.
        if (stream) stream->mark_closed();
        callback(std::move(response), route);
        return;
    }
    owner->deliver(sequence, std::move(response), std::move(route), std::move(stream));
}

}  // namespace detail

responder callback_responder(answer_callback callback) {
    assert(callback);
    return responder(std::make_shared<detail::pending_answer>(std::move(callback)));
}

responder::responder(std::shared_ptr<detail::pending_answer> answer) : answer_(std::move(answer)) {
    assert(answer_);
}

void responder::send(http_response response, std::string_view route) const {
    const bool first = !answer_->answered.exchange(true);
    assert(first && "a request is answered once");
    if (!first) return;
    answer_->deliver(std::move(response), std::string(route), nullptr);
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
    answer_->deliver(std::move(head), std::string(route), channel);
    return channel;
}

const std::string& responder::peer() const { return *answer_->peer; }

}  // namespace encore::http
