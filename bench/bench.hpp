#pragma once
// The benchmarks behind `encore bench`: one options struct per benchmark (its defaults are the
// command line's) and one call that runs it on the caller's thread, prints progress on stderr and
// its figures as JSON on stdout, and returns the exit status: 0, or 1 when a run found a seat sold
// twice. The options are taken as given: the command line (tools/bench.cpp) checks them against
// the limits below and the domain's (events/types.hpp). A failure to set a run up throws
// std::runtime_error.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace encore::bench {

// `bench engine`: a realistic onsale applied to one partition on one thread.
struct engine_bench_options {
    std::uint32_t users = 1'000'000;
    std::uint32_t dates = 10;
    std::uint32_t seats_per_date = 50'000;
    std::uint64_t seed = 42;
};
int run_engine_bench(const engine_bench_options& options);

// `bench picks`: best-available picks of 1, 2 and 4 seats on one date kept `sold_percent` taken.
struct picks_bench_options {
    std::uint32_t seats = 100'000;
    std::uint32_t seats_per_row = 25;
    std::uint32_t sold_percent = 95;
    std::uint32_t picks = 20'000;
    std::uint64_t seed = 7;
};
inline constexpr std::uint32_t picks_sold_percent_max = 99;
int run_picks_bench(const picks_bench_options& options);

// `bench phases`: a stadium's sale phases on one partition, each apply timed: a fan club list of
// `ids` uploaded in batches, `claims` claims and joins, the presale opened and closed, `users` in
// the general sale's pre-queue, which then opens.
struct phases_bench_options {
    std::uint32_t ids = 100'000;
    std::uint32_t claims = 50'000;
    std::uint32_t users = 1'000'000;
    std::uint32_t capacity = 1'000;  // the queue's activeCapacity
    std::uint64_t seed = 11;
};
int run_phases_bench(const phases_bench_options& options);

// `bench door`: `tickets` seats of one date sold, a scanner at each of `gates` gates checking its
// gate's tickets in over HTTP at once, `duplicate_percent` of them scanned a second time.
struct door_bench_options {
    std::uint32_t tickets = 50'000;
    unsigned gates = 20;
    unsigned duplicate_percent = 5;
    std::uint32_t partitions = 4;
    std::uint64_t seed = 13;
};
int run_door_bench(const door_bench_options& options);

// `bench http`: a node on a temporary data dir (or `keep_data`) driven over loopback.
struct http_bench_options {
    unsigned seconds = 10;
    unsigned connections = 64;
    unsigned users = 2'000;
    std::uint32_t partitions = 4;
    unsigned hold_share_percent = 50;  // of the requests: holds; the rest split evenly
    // Run on this directory (absent or empty) and keep it, for `encore audit`; empty: a temporary
    // directory, removed at the end.
    std::string keep_data;
    bool kafka = false;  // one Kafka-mode node on an in-process mock cluster of `brokers` brokers
    unsigned brokers = 1;
};
int run_http_bench(const http_bench_options& options);

// `bench onsale`: one onsale at design scale against an embedded node.
struct onsale_bench_options {
    std::uint32_t users = 1'000'000;
    std::uint32_t seats_per_date = 5'000;
    std::uint32_t dates = 10;
    unsigned connections = 128;
    unsigned streams = 16;
    // Connections that only read a date's whole seat map over and over, as a browser that reloads
    // it (gzip, If-None-Match), each as an admitted user of its own: the map's capacity while the
    // seats change, apart from how fast the acting users move.
    unsigned map_readers = 0;
    // What they read: "whole" maps, or "sections" as the fan's page does for a large venue (the
    // overview, then one section's map, in turn).
    std::string map_view = "whole";
    std::uint32_t partitions = 4;
    std::uint32_t capacity = 1'000;  // the queue's activeCapacity
    unsigned seconds = 60;
    std::uint64_t seed = 1;
    // "stadium": every date is a venue of 50,000 seats in 40 sections of 4 grades and two standing
    // zones of 5,000; a share of the holds are best-available picks by grade and standing places.
    std::string layout;
};
inline constexpr std::uint32_t onsale_users_max = 10'000'000;
inline constexpr unsigned onsale_connections_max = 5'000;
inline constexpr unsigned onsale_streams_max = 1'000;
inline constexpr unsigned onsale_map_readers_max = 1'000;
inline constexpr unsigned onsale_seconds_max = 3'600;
int run_onsale_bench(const onsale_bench_options& options);

// `bench kafka`: the Kafka records' envelope against the plain codec, and append-to-read latency
// on an in-process mock cluster.
struct kafka_bench_options {
    std::uint64_t records = 20'000;
    std::uint64_t appends = 20;
    std::vector<std::pair<std::string, std::string>> kafka_config;  // librdkafka settings
};
int run_kafka_bench(const kafka_bench_options& options);

}  // namespace encore::bench
