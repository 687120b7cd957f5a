// `encore audit --data-dir` and `encore events`: read a node's data directory. The audit itself
// (replay, checks, progress, report) is replay/audit/, shared with `encore audit --kafka`
// (audit_kafka.cpp); this file parses flags and calls it. The log is opened read-only
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

}  // namespace

int audit_data_dir(const arguments& args) {
    if (auto bad = args.unknown({"--data-dir", "--partitions", "--json", "--threads"}))
        throw usage_error{"unknown flag " + *bad};
    if (!args.positional().empty()) throw usage_error{"unexpected argument '" + args.positional().front() + "'"};
    try {
        if (!args.text("--data-dir")) throw usage_error{"--data-dir is required"};
        replay::source log = open_source(args, "encore-audit");
        replay::audit::options o;
        o.partitions = log.partitions();
        o.threads = static_cast<unsigned>(args.number("--threads", replay::audit::default_threads(o.partitions)));
        if (o.threads < 1) throw usage_error{"--threads must be at least 1"};
        o.models_directory = *args.text("--data-dir") + "/projections";
        o.progress = true;
        replay::audit::report r = replay::audit::run(log.commands(), log.events(), o);
        replay::audit::check_durable_ends(*args.text("--data-dir") + "/log", log.commands(), r);
        return replay::audit::print(r, args.flag("--json"));
    } catch (const replay::unreadable& e) {
        std::fprintf(stderr, "encore audit: cannot read the data: %s\n", e.message.c_str());
        return replay::exit_unreadable;
    }
}

int dump_events(const arguments& args) {
    std::optional<replay::source> log;
    try {
        if (!args.text("--data-dir")) throw usage_error{"--data-dir is required"};
        log = open_source(args, "encore-events");
    } catch (const replay::unreadable& e) {
        std::fprintf(stderr, "encore events: %s\n", e.message.c_str());
        return replay::exit_unreadable;
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
