#pragma once
// Internal to api/: the command gateway. A handler that has validated a request gives it a
// command; the gateway appends it to its partition's command log, registers a waiter under the
// position the append returns, and answers when the projector reports the event that answers that
// position, rendered as API.md says (read-your-writes). It also claims idempotency keys in the
// caller's home partition first, holds a payment's answer until its debit is visible, and times
// out waiters whose outcome does not come.
//
// Threads: submit() runs on the HTTP I/O threads (and the log's append callbacks),
// on_projected() on projector threads, sweep() on the service's housekeeping thread. The waiter
// and parked-payment maps each have a mutex of their own.

#include <chrono>
#include <functional>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "http/server.hpp"
#include "http/metrics.hpp"
#include "api/tokens.hpp"
#include "events/command.hpp"
#include "events/event.hpp"
#include "events/log.hpp"
#include "projections/read_models.hpp"

namespace encore::api {

// The router and its handlers are written against the HTTP layer's types (http/).
using namespace encore::http;

// A command whose outcome is not projected within this time gets 503; it stays in the log and
// takes effect, so the client retries with its Idempotency-Key.
inline constexpr std::chrono::milliseconds command_outcome_timeout{10'000};

// What the client asked for, so that one outcome renders into the right response.
enum class command_kind {
    register_user, charge, create_concert, enqueue, hold, cancel, pay, refund,
    pause, block, update_concert, add_dates,  // the organizer's controls
    add_eligible, claim,                      // sale phases
    scanner, checkin                          // the door
};

struct gateway_config {
    std::uint32_t partitions = 1;
    std::function<std::int64_t()> clock;       // wall clock in ms: the accept time of commands
    std::function<std::uint64_t()> random_id;  // Kafka mode's generated idempotency keys
    bool key_every_command = false;            // see service_config
};

// Failed claims of sale-phase list ids (NOT_ON_LIST), per user, over the last hour: after
// `failures_max` of them the user's next claims get 429 until the oldest is an hour old. Kept by
// each node in memory (a guess needs ~10^17 tries of a 12-character id; this only slows a
// script down): a restart forgets them. Users whose failures are all over an hour old are
// forgotten, so the table holds the last hour's failing users only.
class claim_limiter {
public:
    static constexpr std::size_t failures_max = 10;
    static constexpr std::int64_t window_ms = 3'600'000;
    // 0 when `user` may claim at `now`, else the seconds until it may again.
    std::uint64_t retry_after(user_id user, std::int64_t now);
    void failed(user_id user, std::int64_t now);

private:
    static constexpr std::size_t sweep_min = 1024;
    std::mutex mutex_;
    std::map<user_id, std::deque<std::int64_t>> failures_;
    std::size_t sweep_at_ = sweep_min;
};

class command_gateway {
public:
    claim_limiter claims;
    command_gateway(gateway_config config, log_stream& commands, const projections::read_models& models,
                    const token_signer& tokens, metrics_registry& metrics);

    // A client command accepted now by `u` (0 for the admin).
    command make_command(user_id u, command_body body, std::string idempotency_key) const;
    // Appends `cmd` to its partition (route_of) and answers `respond` with its outcome (or 503).
    void submit(command cmd, command_kind kind, responder respond, std::string route);
    // Events that queries can now see: the waiters they answer are answered.
    void on_projected(std::span<const event> events);
    // Answers waiters past their deadline (503 TIMEOUT) and payments whose debit is overdue.
    void sweep();

private:
    // A keyed command waiting for its key to be claimed in the caller's home partition.
    struct deferred_command {
        command cmd;
        std::uint32_t partition = 0;
    };
    struct waiter {
        command_kind kind;
        responder respond;
        std::string route;
        std::chrono::steady_clock::time_point deadline;
        std::optional<deferred_command> then;  // sent once this (claim_key) command is answered
        // A hold's concert: a NOT_YOUR_TURN answer's Retry-After is the caller's estimated wait
        // there (until onsaleAt in the pre-queue).
        std::optional<concert_id> concert;
    };
    // A payment's (or refund's) outcome is projected in the concert's partition, its debit (or
    // credit) in the payer's wallet partition, by another projector thread that may lag. The
    // answer waits here until the wallet entry is visible too, so that the payer's next balance
    // or history read shows it.
    struct parked_payment {
        waiter w;
        event outcome;
    };

    void append(command cmd, std::uint32_t partition, command_kind kind, responder respond, std::string route,
                std::optional<deferred_command> then);
    http_response render(const waiter& w, const event& e);
    void deliver(waiter w, const event& outcome);
    bool wallet_entry_visible(const reservation& r, projections::history_entry::kind kind);
    void wallet_projected(reservation_id reservation);
    void expect(log_position request, waiter w);

    gateway_config config;
    log_stream& commands;
    const projections::read_models& models;
    const token_signer& tokens;
    histogram& append_latency;
    counter_family& outcomes_timed_out;
    counter_family& storage_refused;

    std::mutex waiters_mutex;
    std::multimap<log_position, waiter> waiters;
    std::mutex debits_mutex;
    std::map<reservation_id, std::vector<parked_payment>> awaiting_debit;
};

// The HTTP status and message of a refusal: the one exhaustive switch at the boundary.
unsigned refusal_status(refusal r, command_kind kind);
std::string_view refusal_message(refusal r);

}  // namespace encore::api
