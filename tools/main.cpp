// `encore`: serve, audit, events, export, bench.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

#include "tools/subcommands.hpp"

namespace encore::tools {

arguments::arguments(int argc, char** argv, int first, std::set<std::string> boolean_flags) {
    for (int i = first; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--", 0) != 0) {
            positional_.push_back(a);
            continue;
        }
        auto eq = a.find('=');
        std::string name = a, value;
        if (eq != std::string::npos) {
            name = a.substr(0, eq);
            value = a.substr(eq + 1);
        } else if (boolean_flags.contains(a)) {
            value = "true";
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            throw usage_error{a + " needs a value"};
        }
        values_[name] = value;
        repeated_[name].push_back(std::move(value));
    }
}

std::optional<std::string> arguments::text(const std::string& name) const {
    if (auto it = values_.find(name); it != values_.end()) return it->second;
    std::string env = "ENCORE_";
    for (char c : name.substr(2)) env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (const char* v = std::getenv(env.c_str()); v != nullptr && *v != '\0') return std::string(v);
    return std::nullopt;
}

std::string arguments::text(const std::string& name, const std::string& fallback) const {
    return text(name).value_or(fallback);
}

std::uint64_t arguments::number(const std::string& name, std::uint64_t fallback) const {
    auto v = text(name);
    if (!v) return fallback;
    try {
        std::size_t used = 0;
        auto n = std::stoull(*v, &used);
        if (used != v->size()) throw std::invalid_argument("trailing");
        return n;
    } catch (const std::exception&) {
        throw usage_error{name + " must be a non-negative integer, not '" + *v + "'"};
    }
}

bool arguments::flag(const std::string& name) const {
    auto v = text(name);
    return v && (*v == "true" || *v == "1" || *v == "yes");
}

std::vector<std::string> arguments::all(const std::string& name) const {
    if (auto it = repeated_.find(name); it != repeated_.end()) return it->second;
    std::vector<std::string> out;
    auto v = text(name);
    if (!v) return out;
    std::size_t at = 0;
    while (at < v->size()) {
        const std::size_t start = v->find_first_not_of(" \t\n", at);
        if (start == std::string::npos) break;
        const std::size_t stop = v->find_first_of(" \t\n", start);
        out.push_back(v->substr(start, stop == std::string::npos ? std::string::npos : stop - start));
        at = stop == std::string::npos ? v->size() : stop;
    }
    return out;
}

std::optional<std::string> arguments::unknown(const std::set<std::string>& known) const {
    for (const auto& [name, value] : values_) {
        if (!known.contains(name)) return name;
    }
    return std::nullopt;
}

}  // namespace encore::tools

namespace {

constexpr const char* usage = R"(encore: an event-sourced concert reservation engine

usage:
  encore serve --data-dir DIR --listen HOST:PORT --admin-key KEY [--partitions N]
               [--token-secret S] [--demo] [--http-threads N] [--storage-reserve-mb N]
      Runs the service on the embedded durable log. Every flag can also be given as an
      environment variable: ENCORE_DATA_DIR, ENCORE_LISTEN, ENCORE_ADMIN_KEY, ENCORE_PARTITIONS,
      ENCORE_TOKEN_SECRET, ENCORE_DEMO. Defaults: --listen 127.0.0.1:8080, --partitions 4; the
      token secret is generated on first start and kept in the data directory. SIGTERM or
      SIGINT drains and exits. --admin-key-file PATH and --token-secret-file PATH read those
      secrets from files, so that they do not show in `ps` (ENCORE_ADMIN_KEY_FILE,
      ENCORE_TOKEN_SECRET_FILE). The data directory is made 0700 and its files 0600; a generated
      token secret is kept in DIR/token-secret. Connection limits: --connections-max N (default
      10000, lowered at start to what RLIMIT_NOFILE allows, after its soft limit is raised to the
      hard one) and --connections-per-client-max N (default 256 per client address); past the
      cap a small reserve still answers /healthz and /readyz. Both modes take them.
      --storage-reserve-mb N (default 64; ENCORE_STORAGE_RESERVE_MB): while less than N MiB is
      free on the log's file system, new commands get 503 STORAGE_UNAVAILABLE and change
      nothing, queries go on, /readyz is 503; commands are taken again once space is freed.
  encore serve --kafka BOOTSTRAP --node-id ID --data-dir DIR --listen HOST:PORT --admin-key KEY
               --token-secret S [--partitions N] [--topic-prefix P] [--kafka-config key=value]...
               [--http-threads N] [--group-id G] [--session-timeout-ms MS]
      Kafka mode: one of several processes sharing a Kafka (or Redpanda) cluster. The topics
      <P>commands and <P>events (N partitions each) and <P>snapshots (1 partition, compacted)
      must exist. The consumer group on <P>commands decides which process writes for which
      partition; every process keeps its own read models in DIR and answers any request.
      --token-secret (32+ characters) must be the same on every process. --kafka-config passes
      librdkafka settings (SASL, TLS...) to every client; it may repeat. Also ENCORE_KAFKA,
      ENCORE_NODE_ID, ENCORE_TOPIC_PREFIX, ENCORE_KAFKA_CONFIG (whitespace-separated).
  encore kafka-mock [--brokers 3] [--partitions 8] [--topic-prefix P]
      Starts librdkafka's mock cluster on loopback with the topics created, prints its bootstrap
      servers as the first line on stdout and runs until SIGTERM/SIGINT. For tests and trying
      Kafka mode out; it keeps everything in memory (~5 MiB per partition). Control lines on
      stdin, each answered "ok" or "error: ...": broker-down ID, broker-up ID,
      produce-errors N [CODE], fetch-errors N [CODE], broker-errors ID APIKEY N CODE [RTT_MS],
      rtt ID MS (ID -1 = every broker), leader TOPIC PARTITION ID, ping.
  encore audit --data-dir DIR [--partitions N] [--threads N] [--json]
      Audits a stopped node's data directory: replays every partition's command log from zero with
      a fresh engine (partitions in parallel, --threads of them at once, by default one per core)
      and checks that it produces the stored events byte for byte with an intact hash chain, that
      the read models in DIR/projections equal the ones rebuilt from the replayed events key by
      key, that money is conserved (charges = balances + payments - refunds, per user and in
      total) and that no seat is sold twice. Each failure names its check, partition and offset
      (and key). Progress on stderr (a bar on a terminal); a summary on stdout, or with --json one
      JSON object: passed, partitions, commands, events, seconds, commands_per_second, failures
      [{check, partition, offset, key?, message}], money {charges, balances, payments, refunds},
      seats_sold, seats_sold_twice. Exit status: 0 passed, 1 a check failed, 2 usage error,
      3 the data could not be read. The directory is opened read-only (nothing in it is written)
      and its partition count is the stored one (--partitions, if given, must match it).
  encore audit --kafka BOOTSTRAP [--partitions N] [--topic-prefix P] [--kafka-config k=v]...
               [--state-json FILE] [--data-dir DIR] [--threads N] [--json]
      The same for Kafka mode: replays <P>commands from offset zero and checks <P>events (repeats
      of an event must be identical; none may be missing); --data-dir compares a stopped
      process's read models too. --state-json writes the replayed balances, reservations and
      seats as JSON, to compare with what the processes serve. Same output and exit status.
      The partition count is the topics' own (--partitions, if given, must match it).
  encore export (--data-dir DIR | --kafka BOOTSTRAP [--topic-prefix P] [--kafka-config k=v]...)
                --format sqlite|csv|jsonl --out PATH [--concert ID] [--partitions N]
      Replays the event log and writes what an analyst needs: concerts, dates (sold, held,
      revenue, holds placed/expired/cancelled), seats (status, row, price), reservations (held,
      paid, cancelled, expired times), payments, refunds, wallet_entries (charges, payments,
      refunds with the balance after), queue_entries (joined, admitted, left, outcome, wait),
      users, events (one row per event with its JSON) and columns (what every column means).
      sqlite: one file at PATH with typed columns and indexes; csv (RFC 4180, header row) and
      jsonl: one file per table in the folder PATH. --concert limits every table to one concert
      (wallet entries: its payments). Reads a running node's data dir without disturbing it (a
      read-only secondary open of its log). Progress on stderr; rows per table on stdout. Exit
      status: 0 written, 1 the output could not be written, 2 usage error or no such concert,
      3 the data could not be read. Default --format sqlite. The partition count is the data
      dir's or the topics' own (--partitions, if given, must match it).
  encore events --data-dir DIR [--partitions N] [--partition P] [--from OFFSET] [--limit N]
      Prints stored events as JSON lines: the event's fields, its partition and its chain link.
      Opens the directory read-only, like audit.
  encore bench engine [--users N] [--dates N] [--seats N] [--seed N]
      Applies a realistic onsale to one partition on one thread; prints a JSON line.
  encore bench picks [--seats 100000] [--row 25] [--sold 95] [--picks 20000] [--seed 7]
      Best-available picks of 1, 2 and 4 seats on one date that stays --sold percent taken, on
      one thread, against single-seat holds in the same run; prints a JSON line.
  encore bench http [--seconds N] [--connections N] [--users N] [--partitions N] [--hold-share PCT]
                    [--keep-data DIR]
      Starts the service on a temporary data dir (synced embedded log) and drives it over
      loopback with a keep-alive load generator; prints per-route figures as a JSON line.
      --keep-data runs it on DIR (absent or empty) and keeps it, for `encore audit --data-dir DIR`.
      With --kafka [--brokers N]: the same with one Kafka-mode node on an in-process mock cluster
      (librdkafka's, N brokers, default 1) in place of the embedded log.
  encore bench onsale [--users 1000000] [--seats-per-date 5000] [--dates 10] [--connections 128]
                      [--streams 16] [--partitions 4] [--capacity 1000] [--seconds 60] [--seed 1]
      One onsale at full scale against a node on a temporary data dir (synced embedded log),
      over loopback: creates --users users (charging the 90% who will pay), every one joins the
      waiting room in order (enqueue latency, first tenth against last tenth of the queue), then
      for --seconds polls positions, keeps --streams event streams open (extra connections) and
      acts for the users admitted (seat map with gzip and If-None-Match, hold, pay or cancel);
      then restarts the node with the queue full, checks that no seat was sold twice and reads
      the checkpoint figures from /metrics. --capacity is the queue's activeCapacity. Users
      1..10,000,000; takes several minutes at a million. Prints a JSON line.
  encore bench kafka [--records 20000] [--appends 20] [--kafka-config KEY=VALUE]...
      What Kafka mode adds to a record: the envelope's rendering and unwrap against the plain
      codec (ns per record), and append-to-read latency on an in-process mock cluster.
)";

}  // namespace

int main(int argc, char** argv) {
    using namespace encore::tools;
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" || std::string(argv[1]) == "help") {
        std::fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    std::string command = argv[1];
    try {
        for (int i = 2; i < argc; ++i) {
            if (std::string(argv[i]) == "--help") {
                std::fputs(usage, stdout);
                return 0;
            }
        }
        if (command == "serve") {
            arguments args(argc, argv, 2, {"--demo"});
            return serve(args);
        }
        if (command == "kafka-mock") return kafka_mock_command(arguments(argc, argv, 2, {}));
        if (command == "audit") {
            arguments args(argc, argv, 2, {"--json"});
            return args.text("--kafka") ? audit_kafka(args) : audit_data_dir(args);
        }
        if (command == "events") return dump_events(arguments(argc, argv, 2, {}));
        if (command == "export") return export_command(arguments(argc, argv, 2, {}));
        if (command == "bench" && argc >= 3 && std::string(argv[2]) == "engine") return bench_engine(arguments(argc, argv, 3, {}));
        if (command == "bench" && argc >= 3 && std::string(argv[2]) == "http") return bench_http(arguments(argc, argv, 3, {"--kafka"}));
        if (command == "bench" && argc >= 3 && std::string(argv[2]) == "onsale") return bench_onsale(arguments(argc, argv, 3, {}));
        if (command == "bench" && argc >= 3 && std::string(argv[2]) == "picks") return bench_picks(arguments(argc, argv, 3, {}));
        if (command == "bench" && argc >= 3 && std::string(argv[2]) == "kafka") return bench_kafka(arguments(argc, argv, 3, {}));
        throw usage_error{"unknown command '" + command + "'"};
    } catch (const usage_error& e) {
        std::fprintf(stderr, "encore: %s\n\n%s", e.message.c_str(), usage);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "encore: %s\n", e.what());
        return 1;
    }
}
