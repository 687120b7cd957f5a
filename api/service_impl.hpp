#pragma once
// Internal to api/: the router's state, shared by service.cpp (outcomes, waiters, streams) and
// routes.cpp (the handlers). Not a public header.

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/requests.hpp"
#include "api/seat_maps.hpp"
#include "api/service.hpp"

namespace encore::api {

using nlohmann::json;

// What the client asked for, so that one outcome renders into the right response.
enum class command_kind { register_user, charge, create_concert, enqueue, hold, cancel, pay };

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
};

struct stream_subscription {
    std::shared_ptr<event_stream> stream;
    concert_id concert;
    user_id user;
    std::uint64_t ticket = 0;
    std::string last_sent;
};

struct service::impl {
    service_config config;
    log_stream& commands;
    projections::read_models& models;
    token_signer& tokens;
    metrics_registry& metrics;  // rendered by GET /metrics
    histogram& append_latency;
    counter_family& outcomes_timed_out;

    std::mutex waiters_mutex;
    std::multimap<log_position, waiter> waiters;
    std::mutex streams_mutex;
    std::vector<stream_subscription> streams;

    // A payment's outcome is projected in the concert's partition, its debit in the payer's
    // wallet partition, by another projector thread that may lag. The 201 waits here until the
    // debit is visible too, so that the payer's next balance or history read shows it.
    struct parked_payment {
        waiter w;
        event outcome;
    };
    std::mutex debits_mutex;
    std::map<reservation_id, std::vector<parked_payment>> awaiting_debit;

    seat_maps seat_map_cache;

    std::mutex housekeeping_mutex;
    std::condition_variable housekeeping_wake;
    bool stopping = false;
    std::thread housekeeping;

    impl(service_config c, log_stream& l, projections::read_models& m, token_signer& t, metrics_registry& reg)
        : config(std::move(c)),
          commands(l),
          models(m),
          tokens(t),
          metrics(reg),
          append_latency(reg.add_histogram("encore_log_append_seconds", "Command log append latency (until durable)", {},
                                           latency_seconds_buckets())
                             .with({})),
          outcomes_timed_out(reg.add_counter("encore_command_timeouts_total",
                                             "Commands whose outcome was not projected in time", {})),
          seat_map_cache(config.random_id()) {}

    // ---- outcomes ------------------------------------------------------------------------------

    http_response render(command_kind kind, const event& e);
    void deliver(waiter w, const event& outcome);
    bool debit_visible(const reservation& r);
    void debit_projected(const wallet_debited& d);
    void expect(log_position request, waiter w);
    void submit(command cmd, std::uint32_t partition, command_kind kind, responder respond, std::string route);
    void append(command cmd, std::uint32_t partition, command_kind kind, responder respond, std::string route,
                std::optional<deferred_command> then);
    void sweep();
    void feed_streams();
    void run_housekeeping();

    // ---- request handling ----------------------------------------------------------------------

    void route(request_context& rc);
    bool admin(request_context& rc);
    std::optional<user_id> user(request_context& rc);
    bool admitted(request_context& rc, user_id u, concert_id c);
    std::optional<projections::concert_view> admitted_concert(request_context& rc);
    void post_users(request_context& rc);
    void get_balance(request_context& rc);
    void post_charge(request_context& rc);
    void get_history(request_context& rc);
    void get_my_reservations(request_context& rc);
    void post_concert(request_context& rc);
    void get_concerts(request_context& rc);
    void get_dates(request_context& rc);
    void get_seats(request_context& rc);
    void post_queue(request_context& rc);
    void get_queue(request_context& rc);
    void get_queue_stream(request_context& rc);
    void post_hold(request_context& rc);
    void get_reservation(request_context& rc);
    void delete_reservation(request_context& rc);
    void post_pay(request_context& rc);
    void get_analytics(request_context& rc);
    command make_command(user_id u, command_body body, std::string idempotency_key);
    void reservation_command(request_context& rc, command_kind kind);
    std::string queue_body(const projections::queue_view& q, concert_id c, user_id u, bool with_token);
};

unsigned refusal_status(refusal r, command_kind kind);
std::string_view refusal_message(refusal r);

}  // namespace encore::api
