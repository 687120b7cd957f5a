#pragma once
// Internal to api/: the waiting room's event streams (GET /concerts/{c}/queue/stream). Each open
// stream is fed the user's queue status from the read models whenever it changes, and closed once
// the status is final (EXPIRED or COMPLETED).
//
// Threads: open() on the HTTP I/O threads, feed() on the service's housekeeping thread; one mutex
// guards the list of subscriptions.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/server.hpp"
#include "api/requests.hpp"
#include "api/tokens.hpp"
#include "projections/read_models.hpp"

namespace encore::api {

// The router and its handlers are written against the HTTP layer's types (http/).
using namespace encore::http;

class queue_streams {
public:
    queue_streams(const projections::read_models& models, const token_signer& tokens, std::function<std::int64_t()> clock)
        : models_(models), tokens_(tokens), clock_(std::move(clock)) {}

    // Checks the user and queue tokens (a token may come as ?token= and ?queueToken=, which
    // EventSource needs) and opens the stream; false if the request was answered with an error.
    bool open(request_context& rc);
    // Sends each open stream its status if it changed since the last one sent.
    void feed();
    void close_all();

private:
    struct subscription {
        std::shared_ptr<event_stream> stream;
        concert_id concert;
        user_id user;
        std::uint64_t ticket = 0;
        std::string last_sent;
    };

    const projections::read_models& models_;
    const token_signer& tokens_;
    std::function<std::int64_t()> clock_;
    std::mutex mutex_;
    std::vector<subscription> streams_;
};

}  // namespace encore::api
