// `encore bench engine|picks|phases|http|onsale|kafka|door`: flags to the options of bench/bench.hpp, checked
// against their limits, and the run.

#include <filesystem>

#include "bench/bench.hpp"
#include "events/log/kafka_mock.hpp"
#include "events/types.hpp"
#include "tools/subcommands.hpp"

namespace encore::tools {
namespace {

subcommand add_engine(CLI::App& parent) {
    CLI::App* app = parent.add_subcommand(
        "engine", "Applies a realistic onsale to one partition on one thread (admitted users hold, holders pay or "
                  "cancel or walk away; only the engine's apply calls are timed); prints a JSON line.");
    auto o = std::make_shared<bench::engine_bench_options>();
    number_flag(*app, "--users", o->users, "users who join the waiting room", 1);
    number_flag(*app, "--dates", o->dates, "dates of the concert", 1, dates_per_concert_max);
    number_flag(*app, "--seats", o->seats_per_date, "seats per date", 1, seats_per_date_max);
    number_flag(*app, "--seed", o->seed, "seeds the users' choices");
    return {app, [o] { return bench::run_engine_bench(*o); }};
}

subcommand add_picks(CLI::App& parent) {
    CLI::App* app = parent.add_subcommand(
        "picks", "Best-available picks of 1, 2 and 4 seats on one date that stays --sold percent taken, on one "
                 "thread, against single-seat holds in the same run; prints a JSON line.");
    auto o = std::make_shared<bench::picks_bench_options>();
    number_flag(*app, "--seats", o->seats, "seats of the date", 1, seats_per_date_max);
    number_flag(*app, "--row", o->seats_per_row, "seats per row", 1, seats_per_row_max);
    number_flag(*app, "--sold", o->sold_percent, "percent of the seats taken before the picks", 0, bench::picks_sold_percent_max);
    number_flag(*app, "--picks", o->picks, "picks of each size", 1);
    number_flag(*app, "--seed", o->seed, "seeds the seats taken");
    return {app, [o] { return bench::run_picks_bench(*o); }};
}

subcommand add_phases(CLI::App& parent) {
    CLI::App* app = parent.add_subcommand(
        "phases", "A stadium's sale phases on one partition, on one thread, each apply timed: a fan club list uploaded in "
                  "batches of 10,000, claims and joins, the presale opened and closed, the general sale's pre-queue opened; "
                  "the longest apply of each kind against 50 ms. Prints a JSON line.");
    auto o = std::make_shared<bench::phases_bench_options>();
    number_flag(*app, "--ids", o->ids, "ids on the fan club's list", 1, static_cast<std::uint32_t>(eligible_per_phase_max));
    number_flag(*app, "--claims", o->claims, "ids claimed (a user each, who then joins the presale's pre-queue); at most --ids", 0);
    number_flag(*app, "--users", o->users, "users in the general sale's pre-queue when it opens", 0, bench::onsale_users_max);
    number_flag(*app, "--capacity", o->capacity, "the queue's activeCapacity", 1, active_capacity_max);
    number_flag(*app, "--seed", o->seed, "seeds the ids");
    return {app, [o] {
                if (o->claims > o->ids) throw usage_error{"--claims cannot exceed --ids"};
                return bench::run_phases_bench(*o);
            }};
}

subcommand add_http(CLI::App& parent) {
    CLI::App* app = parent.add_subcommand(
        "http", "Starts the service on a temporary data dir (synced embedded log) and drives it over loopback with a "
                "keep-alive load generator; prints per-route figures as a JSON line. Exit 1 if a seat was sold twice.");
    auto o = std::make_shared<bench::http_bench_options>();
    number_flag(*app, "--seconds", o->seconds, "how long the load runs", 1);
    number_flag(*app, "--connections", o->connections, "keep-alive connections of the load generator", 1);
    number_flag(*app, "--users", o->users, "users created and charged", 1);
    number_flag(*app, "--partitions", o->partitions, "partitions of the log", 1, partitions_max);
    number_flag(*app, "--hold-share", o->hold_share_percent, "percent of the requests that are holds; the rest split evenly",
                0, 100);
    text_flag(*app, "--keep-data", o->keep_data,
              "run on DIR (absent or empty) and keep it, for `encore audit --data-dir DIR`", "DIR");
    // No ENCORE_KAFKA here: that variable is serve's bootstrap servers, not a yes or no.
    app->add_flag("--kafka", o->kafka,
                  "one Kafka-mode node on an in-process mock cluster (librdkafka's) in place of the embedded log");
    number_flag(*app, "--brokers", o->brokers, "brokers of the mock cluster (with --kafka)", 1, kafka_mock_brokers_max);
    return {app, [o] {
                if (!o->kafka && on_command_line("--brokers")) throw usage_error{"--brokers is for --kafka only"};
                // The directory must not hold anything yet, so that no earlier data is mixed in or removed.
                std::error_code ec;
                if (!o->keep_data.empty() && std::filesystem::exists(o->keep_data, ec) &&
                    !std::filesystem::is_empty(o->keep_data, ec))
                    throw usage_error{"--keep-data " + o->keep_data + " exists and is not empty"};
                return bench::run_http_bench(*o);
            }};
}

subcommand add_onsale(CLI::App& parent) {
    CLI::App* app = parent.add_subcommand(
        "onsale", "One onsale at full scale against a node on a temporary data dir (synced embedded log), over "
                  "loopback; prints a JSON line. Exit 1 if a seat was sold twice.");
    auto o = std::make_shared<bench::onsale_bench_options>();
    number_flag(*app, "--users", o->users, "users created (the 90% who will pay charged); a million takes several minutes",
                1, bench::onsale_users_max);
    number_flag(*app, "--seats-per-date", o->seats_per_date, "seats of each date", 1, seats_per_date_max);
    number_flag(*app, "--dates", o->dates, "dates of the concert", 1, dates_per_concert_max);
    number_flag(*app, "--connections", o->connections, "keep-alive connections of the load generator", 1,
                bench::onsale_connections_max);
    number_flag(*app, "--streams", o->streams, "event streams kept open (connections of their own)", 0,
                bench::onsale_streams_max);
    number_flag(*app, "--map-readers", o->map_readers,
                "connections that only reload a date's whole seat map (gzip, If-None-Match), each as an admitted user of its own",
                0, bench::onsale_map_readers_max);
    app->add_option("--map-view", o->map_view,
                    "what the map readers read: whole maps, or (with --layout stadium) sections as the fan's page does: "
                    "the overview, then one section's map, in turn")
        ->check(CLI::IsMember({"whole", "sections"}))
        ->capture_default_str();
    number_flag(*app, "--partitions", o->partitions, "partitions of the log", 1, partitions_max);
    number_flag(*app, "--capacity", o->capacity, "the queue's activeCapacity", 1, active_capacity_max);
    number_flag(*app, "--seconds", o->seconds, "how long the onsale phase runs", 1, bench::onsale_seconds_max);
    number_flag(*app, "--seed", o->seed, "seeds the users' choices");
    app->add_option("--layout", o->layout,
                    "stadium: each date a venue of 50,000 seats (40 sections of 25 rows of 50, grades VIP/R/S/A) and two "
                    "standing zones of 5,000; --seats-per-date is then the layout's")
        ->check(CLI::IsMember({"stadium"}));
    app->footer(
        "Creates --users users, then every one joins the waiting room in order (enqueue latency, first tenth against "
        "last tenth of the queue), then for --seconds polls positions, keeps --streams event streams open and acts "
        "for the users admitted (seat map with gzip and If-None-Match, hold, pay or cancel); then restarts the node "
        "with the queue full, checks that no seat was sold twice and reads the checkpoint figures from /metrics.");
    return {app, [o] {
                if (o->map_view == "sections" && o->layout != "stadium")
                    throw usage_error{"--map-view sections reads a venue's sections: it needs --layout stadium"};
                return bench::run_onsale_bench(*o);
            }};
}

subcommand add_door(CLI::App& parent) {
    CLI::App* app = parent.add_subcommand(
        "door", "One date's tickets checked in at the door over HTTP: every seat sold, a scanner at each gate checking its "
                "gate's tickets at once, a share of them scanned twice; check-ins per second, p99, and admitted twice "
                "(must be 0). Prints a JSON line; exit 1 if the admissions are not one per ticket.");
    auto o = std::make_shared<bench::door_bench_options>();
    number_flag(*app, "--tickets", o->tickets, "seats of the date, sold and checked in (a multiple of --gates x 100)", 100, seats_per_date_max);
    number_flag(*app, "--gates", o->gates, "gates, a section and a scanner each", 1, 100);
    number_flag(*app, "--duplicates", o->duplicate_percent, "percent of the tickets scanned a second time", 0, 100);
    number_flag(*app, "--partitions", o->partitions, "partitions of the node", 1, 64);
    number_flag(*app, "--seed", o->seed, "seeds the scanning order");
    return {app, [o] {
                if (o->tickets % (o->gates * 100) != 0) throw usage_error{"--tickets must be a multiple of --gates x 100 (reservations of 100 seats)"};
                return bench::run_door_bench(*o);
            }};
}

subcommand add_kafka(CLI::App& parent) {
    CLI::App* app = parent.add_subcommand(
        "kafka", "What Kafka mode adds to a record: the envelope's rendering and unwrap against the plain codec (ns per "
                 "record), and append-to-read latency on an in-process mock cluster; prints a JSON object.");
    auto o = std::make_shared<bench::kafka_bench_options>();
    auto config = std::make_shared<kafka_config_flag>();
    number_flag(*app, "--records", o->records, "records whose envelope is timed", 1);
    number_flag(*app, "--appends", o->appends, "appends whose latency is measured", 1);
    add_kafka_config_flag(*app, *config);
    return {app, [o, config] {
                o->kafka_config = config->settings();
                return bench::run_kafka_bench(*o);
            }};
}

}  // namespace

std::vector<subcommand> add_bench(CLI::App& encore) {
    CLI::App* bench = encore.add_subcommand(
        "bench", "Benchmarks: programs that print figures (JSON on stdout, progress on stderr). The figures and the "
                 "commands that produced them are in docs/BENCHMARKS.md.");
    bench->require_subcommand(1);
    return {add_engine(*bench), add_picks(*bench), add_phases(*bench), add_http(*bench), add_onsale(*bench), add_kafka(*bench),
            add_door(*bench)};
}

}  // namespace encore::tools
