// `encore audit` and `encore events`: read a node's data directory. The audit itself (replay,
// checks, progress, report) is replay/audit/, shared with `encore audit --kafka` (audit_kafka.cpp);
// this file parses the flags of both and calls it. The log is opened read-only
// (replay::source: a secondary open, no lock): nothing in the audited directory is written.

#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "events/chain.hpp"
#include "events/codec.hpp"
#include "events/json.hpp"
#include "replay/audit/report.hpp"
#include "replay/source.hpp"
#include "tools/subcommands.hpp"

namespace encore::tools {
namespace {

constexpr std::size_t read_batch = 4096;

int audit_data_dir(const audit_flags& f) {
    if (auto kafka_only = given({"--topic-prefix", "--kafka-config", "--state-json"}); !kafka_only.empty())
        throw usage_error{kafka_only.front() + " is for the audit of a Kafka-mode cluster only (with --kafka)"};
    if (f.source.data_dir.empty()) throw usage_error{"--data-dir is required"};
    try {
        replay::source log = open_source(f.source, "encore-audit");
        replay::audit::options o;
        o.partitions = log.partitions();
        o.threads = f.threads ? static_cast<unsigned>(*f.threads) : replay::audit::default_threads(o.partitions);
        o.models_directory = f.source.data_dir + "/projections";
        o.progress = true;
        replay::audit::report r = replay::audit::run(log.commands(), log.events(), o);
        replay::audit::check_durable_ends(f.source.data_dir + "/log", log.commands(), r);
        return replay::audit::print(r, f.json);
    } catch (const replay::unreadable& e) {
        std::fprintf(stderr, "encore audit: cannot read the data: %s\n", e.message.c_str());
        return replay::exit_unreadable;
    }
}

struct events_flags {
    std::string data_dir;
    partitions_flag partitions;
    std::optional<std::uint64_t> partition;
    std::uint64_t from = 0;
    std::optional<std::uint64_t> limit;
};

int dump_events(const events_flags& f) {
    std::optional<replay::source> log;
    try {
        log = replay::source::data_dir(f.data_dir, f.partitions.get());
    } catch (const replay::wrong_request& e) {
        throw usage_error{e.message};
    } catch (const replay::unreadable& e) {
        std::fprintf(stderr, "encore events: %s\n", e.message.c_str());
        return replay::exit_unreadable;
    }
    std::uint32_t partitions = log->events().partitions();
    const std::uint64_t from = f.from, limit = f.limit.value_or(UINT64_MAX);
    for (std::uint32_t p = 0; p < partitions; ++p) {
        if (f.partition && *f.partition != p) continue;
        std::uint64_t offset = from, printed = 0;
        while (printed < limit) {
            auto batch = log->events().read(p, offset, read_batch, std::chrono::milliseconds(0));
            if (!batch || batch->empty()) break;
            for (const log_entry& entry : *batch) {
                sealed_event sealed;
                auto e = unseal(entry.bytes, sealed) ? decode_event(sealed.event_bytes) : result<event>(error{errc::corrupt, "short record"});
                nlohmann::json line = e ? to_json(*e) : nlohmann::json{{"corrupt", e.err().message}};
                line["partition"] = p;
                line["link"] = to_hex(sealed.link);
                std::printf("%s\n", line.dump().c_str());
                if (++printed >= limit) break;
            }
            offset = batch->back().offset + 1;
        }
    }
    return 0;
}

}  // namespace

subcommand add_audit(CLI::App& encore) {
    CLI::App* app = encore.add_subcommand(
        "audit", "Replays every partition's command log from zero with a fresh engine and checks the stored events, "
                 "their hash chain, the read models, money and seats. Exit 0 passed, 1 a check failed, 2 usage "
                 "error, 3 the data could not be read.");
    auto flags = std::make_shared<audit_flags>();
    add_source_flags(*app, flags->source,
                     "must match the log's own partition count (the data directory's or the topics')");
    app->get_option("--data-dir")
        ->description("a stopped node's data directory, opened read-only (with --kafka: a stopped Kafka-mode process's, "
                      "whose read models are compared too)");
    number_flag(*app, "--threads", flags->threads, "partitions replayed at once [default: one per core]", 1);
    switch_flag(*app, "--json", flags->json, "print the report as one JSON object");
    text_flag(*app, "--state-json", flags->state_json,
              "write the replayed balances, reservations and seats as JSON, to compare with what the processes serve",
              "FILE")
        ->group("Kafka mode");
    app->footer(
        "It checks that the replay produces the stored events byte for byte with an intact hash chain, that the read "
        "models in DIR/projections equal the ones rebuilt from the replayed events key by key, that money is "
        "conserved (charges = balances + payments - refunds, per user and in total) and that no seat is sold twice. "
        "Each failure names its check, partition and offset (and key). Progress on stderr (a bar on a terminal); a "
        "summary on stdout, or with --json one JSON object: passed, partitions, commands, events, seconds, "
        "commands_per_second, failures [{check, partition, offset, key?, message}], money {charges, balances, "
        "payments, refunds}, seats_sold, seats_sold_twice. Nothing in the data directory is written.\n"
        "\n"
        "With --kafka: replays <P>commands from offset zero and checks <P>events (repeats of an event must be "
        "identical; none may be missing); the partition count is the topics' own.");
    return {app, [flags] { return flags->source.kafka_mode() ? audit_kafka(*flags) : audit_data_dir(*flags); }};
}

subcommand add_events(CLI::App& encore) {
    CLI::App* app = encore.add_subcommand(
        "events", "Prints stored events as JSON lines: the event's fields, its partition and its chain link. Opens the "
                  "data directory read-only, like audit.");
    auto flags = std::make_shared<events_flags>();
    text_flag(*app, "--data-dir", flags->data_dir, "a node's data directory", "DIR")->required();
    add_partitions_flag(*app, flags->partitions, "must match the data directory's own partition count");
    number_flag(*app, "--partition", flags->partition, "only this partition's events");
    number_flag(*app, "--from", flags->from, "the first offset in each partition");
    number_flag(*app, "--limit", flags->limit, "at most this many events per partition");
    return {app, [flags] { return dump_events(*flags); }};
}

}  // namespace encore::tools
