// `encore audit --data-dir` and `encore events`: read a stopped node's data directory. The audit
// itself (replay, checks, progress) is audit_replay.cpp, shared with `encore audit --kafka`; this
// file opens the embedded log and prints the report. The log is opened read-only
// (embedded_log_reader: a secondary open, no lock): nothing in the audited directory is written.

#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "events/chain.hpp"
#include "events/codec.hpp"
#include "events/json.hpp"
#include "events/log/durable_ends.hpp"
#include "events/log/embedded_log_reader.hpp"
#include "tools/audit_replay.hpp"
#include "tools/commands.hpp"

namespace encore::tools {
namespace {

constexpr std::size_t read_batch = 4096;
// The text summary lists this many failures; --json lists them all.
constexpr std::size_t failures_printed_max = 20;

// The log of a data directory that must exist already (neither command creates one), as it was
// when opened. The partition count is the stored one; a --partitions that differs is the caller's
// mistake (exit 2); anything else unreadable is exit 3.
std::unique_ptr<embedded_log_reader> open_existing(const arguments& args) {
    auto dir = args.text("--data-dir");
    if (!dir) throw usage_error{"--data-dir is required"};
    const std::optional<std::uint32_t> partitions = partitions_flag(args);
    std::error_code ec;
    if (!std::filesystem::is_directory(*dir + "/log", ec)) throw audit::unreadable{"no log in " + *dir + " (" + *dir + "/log)"};
    auto log = embedded_log_reader::open({.directory = *dir + "/log", .partitions = partitions});
    if (!log && log.err().code == errc::invalid) throw usage_error{log.err().message};
    if (!log) throw audit::unreadable{"cannot open the log in " + *dir + ": " + log.err().message};
    return std::move(log).value();
}

nlohmann::json failure_json(const audit::failure& f) {
    nlohmann::json j = {{"check", f.check}, {"partition", f.partition}, {"offset", f.offset}, {"message", f.message}};
    if (f.key) j["key"] = *f.key;
    return j;
}

nlohmann::json report_json(const audit::report& r) {
    const double rate = r.seconds > 0 ? static_cast<double>(r.commands) / r.seconds : 0;
    nlohmann::json j = {{"passed", r.passed()},
                        {"partitions", r.partitions.size()},
                        {"commands", r.commands},
                        {"events", r.events},
                        {"seconds", r.seconds},
                        {"replay_seconds", r.replay_seconds},
                        {"compare_seconds", r.compare_seconds},
                        {"commands_per_second", rate},
                        {"failures", nlohmann::json::array()},
                        {"money",
                         {{"charges", r.total.charges},
                          {"balances", r.total.balances},
                          {"payments", r.total.payments},
                          {"refunds", r.total.refunds}}},
                        {"seats_sold", r.seats_sold},
                        {"seats_sold_twice", r.seats_sold_twice},
                        {"read_models", {{"compared", r.models_compared}, {"keys", r.model_keys}}},
                        {"notes", r.notes},
                        {"per_partition", nlohmann::json::array()}};
    for (const audit::failure& f : r.failures) j["failures"].push_back(failure_json(f));
    for (const audit::partition_summary& s : r.partitions)
        j["per_partition"].push_back({{"partition", s.partition}, {"commands", s.commands}, {"events", s.events},
                                      {"events_checked", s.events_checked}, {"repeats", s.repeats}, {"newer", s.newer},
                                      {"unapplied_commands", s.unapplied_commands}, {"chain_head", to_hex(s.head)},
                                      {"state", s.state_hash}});
    return j;
}

void print_text(const audit::report& r) {
    for (const audit::partition_summary& s : r.partitions) {
        std::printf("partition %u: %llu commands, %llu events", s.partition, static_cast<unsigned long long>(s.commands),
                    static_cast<unsigned long long>(s.events));
        if (s.repeats > 0 || s.newer > 0)
            std::printf(" (%llu repeats dropped, %llu newer unchecked)", static_cast<unsigned long long>(s.repeats),
                        static_cast<unsigned long long>(s.newer));
        std::printf(", chain head %s, state %s\n", to_hex(s.head).c_str(), s.state_hash.c_str());
    }
    if (r.models_compared)
        std::printf("read models: %llu keys rebuilt and compared (replay and rebuild %.2f s, comparison %.2f s)\n",
                    static_cast<unsigned long long>(r.model_keys), r.replay_seconds, r.compare_seconds);
    std::printf("money: charges %lld = balances %lld + payments %lld - refunds %lld\n",
                static_cast<long long>(r.total.charges), static_cast<long long>(r.total.balances),
                static_cast<long long>(r.total.payments), static_cast<long long>(r.total.refunds));
    std::printf("seats: %llu sold, %llu sold twice\n", static_cast<unsigned long long>(r.seats_sold),
                static_cast<unsigned long long>(r.seats_sold_twice));
    for (const std::string& note : r.notes) std::printf("note: %s\n", note.c_str());
    for (std::size_t i = 0; i < r.failures.size() && i < failures_printed_max; ++i) {
        const audit::failure& f = r.failures[i];
        std::printf("FAILED %s: partition %u offset %llu%s%s: %s\n", f.check.c_str(), f.partition,
                    static_cast<unsigned long long>(f.offset), f.key ? " key " : "", f.key ? f.key->c_str() : "",
                    f.message.c_str());
    }
    if (r.failures.size() > failures_printed_max)
        std::printf("... and %zu more failures (--json lists them all)\n", r.failures.size() - failures_printed_max);
    const double rate = r.seconds > 0 ? static_cast<double>(r.commands) / r.seconds : 0;
    std::printf("%s: %zu partitions, %llu commands, %llu events in %.2f s (%.0f commands/s)\n",
                r.passed() ? "audit passed" : "AUDIT FAILED", r.partitions.size(),
                static_cast<unsigned long long>(r.commands), static_cast<unsigned long long>(r.events), r.seconds, rate);
}

// The log's tail against the record of what it had made durable (events/log/durable_ends.hpp): a
// replay of a cut log agrees with itself, so only this record can tell that commands are missing.
void check_durable_ends(const std::string& log_directory, log_stream& commands, audit::report& r) {
    auto marked = read_durable_ends(log_directory);
    if (!marked) {
        r.failures.push_back({"log", 0, 0, std::nullopt, marked.err().message});
        return;
    }
    if (!marked->has_value()) {
        r.notes.push_back("no record of the durable ends in " + log_directory + " (a log of an older version): its tail is not checked");
        return;
    }
    const std::vector<std::uint64_t>& ends = **marked;
    if (ends.size() != commands.partitions()) {
        r.failures.push_back({"log", 0, 0, std::nullopt, durable_ends_path(log_directory) + " is of " +
                                                             std::to_string(ends.size()) + " partitions, the log of " +
                                                             std::to_string(commands.partitions())});
        return;
    }
    for (std::uint32_t p = 0; p < commands.partitions(); ++p) {
        const std::uint64_t end = commands.end(p);
        if (end >= ends[p]) continue;
        r.failures.push_back({"log", p, end, std::nullopt,
                              "the command log ends at offset " + std::to_string(end) + " but offsets up to " +
                                  std::to_string(ends[p] - 1) + " were acknowledged as durable: " +
                                  std::to_string(ends[p] - end) + " commands lost (the write-ahead log was cut or damaged)"});
    }
}

}  // namespace

namespace audit {

int print(const report& r, bool json) {
    if (json) std::printf("%s\n", report_json(r).dump().c_str());
    else print_text(r);
    std::fflush(stdout);
    return r.passed() ? exit_passed : exit_failed;
}

unsigned default_threads(std::uint32_t partitions) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    return std::min<unsigned>(cores, std::max<std::uint32_t>(partitions, 1));
}

}  // namespace audit

int audit_data_dir(const arguments& args) {
    if (auto bad = args.unknown({"--data-dir", "--partitions", "--json", "--threads"}))
        throw usage_error{"unknown flag " + *bad};
    if (!args.positional().empty()) throw usage_error{"unexpected argument '" + args.positional().front() + "'"};
    try {
        auto log = open_existing(args);
        audit::options o;
        o.partitions = log->commands().partitions();
        o.threads = static_cast<unsigned>(args.number("--threads", audit::default_threads(o.partitions)));
        if (o.threads < 1) throw usage_error{"--threads must be at least 1"};
        o.models_directory = *args.text("--data-dir") + "/projections";
        o.progress = true;
        audit::report r = audit::run(log->commands(), log->events(), o);
        check_durable_ends(*args.text("--data-dir") + "/log", log->commands(), r);
        return audit::print(r, args.flag("--json"));
    } catch (const audit::unreadable& e) {
        std::fprintf(stderr, "encore audit: cannot read the data: %s\n", e.message.c_str());
        return audit::exit_unreadable;
    }
}

int dump_events(const arguments& args) {
    std::unique_ptr<embedded_log_reader> log;
    try {
        log = open_existing(args);
    } catch (const audit::unreadable& e) {
        std::fprintf(stderr, "encore events: %s\n", e.message.c_str());
        return audit::exit_unreadable;
    }
    std::uint32_t partitions = log->events().partitions();
    auto only = args.text("--partition");
    std::uint64_t from = args.number("--from", 0), limit = args.number("--limit", UINT64_MAX);
    for (std::uint32_t p = 0; p < partitions; ++p) {
        if (only && std::to_string(p) != *only) continue;
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

}  // namespace encore::tools
