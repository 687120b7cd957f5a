#include "api/queue_streams.hpp"

#include <boost/beast/http/field.hpp>

#include "api/access.hpp"
#include "api/documents.hpp"
#include "events/ids.hpp"

namespace encore::api {

namespace http = boost::beast::http;

bool queue_streams::open(request_context& rc) {
    auto u = authenticated_user(rc, tokens_);
    if (!u) return false;
    auto c = parse_concert_id(rc.segment(1));
    std::string_view token = rc.header("X-Queue-Token");
    if (token.empty()) token = rc.query_param("queueToken").value_or("");
    auto claims = queue_claims_for(rc, tokens_, *u, c, token);
    if (!claims) return false;
    if (!ticket_view(models_, *claims, clock_())) {
        rc.fail(403, "QUEUE_TOKEN_INVALID", "the queue token is not known");
        return false;
    }
    http_response head(http::status::ok, 11);
    head.set(http::field::content_type, event_stream_content_type);
    head.set(http::field::cache_control, "no-cache");
    rc.answered = true;
    auto stream = rc.respond.open_stream(std::move(head), rc.route);
    {
        std::lock_guard lock(mutex_);
        streams_.push_back({stream, *c, *u, claims->ticket, {}});
    }
    return true;
}

void queue_streams::feed() {
    std::vector<subscription> current;
    {
        std::lock_guard lock(mutex_);
        std::erase_if(streams_, [](const subscription& s) { return !s.stream->is_open(); });
        current = streams_;
    }
    for (auto& s : current) {
        auto q = ticket_view(models_, queue_claims{s.user.value, s.concert.value, s.ticket}, clock_());
        if (!q) continue;
        std::string text = "event: queue\ndata: " + queue_body(*q, "") + "\n\n";
        if (text == s.last_sent) continue;
        s.stream->send(text);
        if (q->status == queue_status::expired || q->status == queue_status::completed) s.stream->close();
        std::lock_guard lock(mutex_);
        for (auto& kept : streams_) {
            if (kept.stream == s.stream) kept.last_sent = text;
        }
    }
}

void queue_streams::close_all() {
    std::lock_guard lock(mutex_);
    for (auto& s : streams_) s.stream->close();
}

}  // namespace encore::api
