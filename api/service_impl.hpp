#pragma once
// Internal to api/: the router's parts, owned by one service and shared by service.cpp (life
// cycle, housekeeping) and routes.cpp (the route table). Not a public header.

#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/command_handlers.hpp"
#include "api/door_handlers.hpp"
#include "api/gateway.hpp"
#include "api/query_handlers.hpp"
#include "api/queue_streams.hpp"
#include "api/requests.hpp"
#include "api/seat_maps.hpp"
#include "api/service.hpp"

namespace encore::api {

struct service::impl {
    service_config config;
    metrics_registry& metrics;  // rendered by GET /metrics
    seat_maps seat_map_cache;
    command_gateway gateway;
    queue_streams streams;
    query_env queries;
    command_env commands;
    ticket_signer ticket_codes;
    door_env door;

    std::mutex housekeeping_mutex;
    std::condition_variable housekeeping_wake;
    bool stopping = false;
    std::thread housekeeping;

    impl(service_config c, log_stream& l, projections::read_models& m, token_signer& t, metrics_registry& reg)
        : config(std::move(c)),
          metrics(reg),
          seat_map_cache(config.random_id()),
          gateway({config.partitions, config.clock, config.random_id, config.key_every_command}, l, m, t, reg),
          streams(m, t, config.clock),
          queries{m, t, seat_map_cache, config.clock, config.admin_key, config.partitions},
          commands{gateway, m, t, config.admin_key, config.partitions, config.random_id, config.clock},
          ticket_codes(t),
          door{gateway, m, t, ticket_codes, config.admin_key, config.partitions,
               reg.add_counter("encore_admissions_total", "Tickets admitted at the door through this node, by gate (empty: none named)", {"gate"})} {}

    void route(request_context& rc);
    void run_housekeeping();
};

// The handlers of the fixed paths (routes.cpp): the probes, /metrics, /openapi.json, the pages.
namespace operations {
void health(service::impl& s, request_context& rc);
void readiness(service::impl& s, request_context& rc);
void metrics(service::impl& s, request_context& rc);
void openapi(service::impl& s, request_context& rc);
void web_file(service::impl& s, request_context& rc);
}  // namespace operations

}  // namespace encore::api
