#pragma once
// The router: turns HTTP requests into commands (appended to the command log by the command
// gateway, answered once their outcome is projected: read-your-writes) or queries (functions of
// the read models and the request). Pure request -> response logic; the Beast session
// (http_server) only does I/O. Internally: routes.cpp (the table), commands.* and queries.* (the
// handlers), gateway.* (waiters, parked payments), queue_streams.* (SSE), access.* (auth).
//
// Threads: handle() runs on the HTTP I/O threads; on_projected() on projector threads; a
// housekeeping thread of its own times out stale waiters and feeds queue event streams.

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <memory>
#include <span>
#include <string>

#include "http/server.hpp"
#include "http/metrics.hpp"
#include "api/tokens.hpp"
#include "events/event.hpp"
#include "events/log.hpp"
#include "projections/read_models.hpp"

namespace encore::api {

// The router and its handlers are written against the HTTP layer's types (http/).
using namespace encore::http;

// How often the housekeeping thread times out waiters and feeds the queue streams.
inline constexpr std::chrono::milliseconds queue_stream_poll{250};

struct service_config {
    std::string admin_key;
    std::uint32_t partitions = 1;
    std::function<std::int64_t()> clock;        // wall clock in ms: the accept time of commands
    std::function<bool()> ready;                // engine recovered and projections caught up
    // Why the node takes no commands now although it runs (its disk is full), or nothing.
    std::function<std::optional<std::string>()> storage_problem = [] { return std::optional<std::string>{}; };
    std::function<std::uint64_t()> random_id;   // a fresh random nonzero 64-bit id (users, concerts)
    // Kafka mode: a command the client sent without an Idempotency-Key gets a random one, so that a
    // second copy of it in the log (a producer's resent batch that the broker wrote twice, as the
    // mock cluster does) is answered as a repeat instead of being applied twice.
    bool key_every_command = false;
};

class service final : public request_handler {
public:
    service(service_config config, log_stream& commands, projections::read_models& models, token_signer& tokens,
            metrics_registry& metrics);
    ~service() override;

    void handle(http_request request, responder respond) override;
    // The projector reports events that queries can now see: waiting requests are answered.
    void on_projected(std::uint32_t partition, std::span<const event> events);

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace encore::api
