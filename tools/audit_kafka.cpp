// `encore audit --kafka`: the audit of a Kafka-mode cluster, read from the topics with the same
// replay and checks as `encore audit --data-dir` (replay/audit/).
//
// What differs on Kafka: an event may appear more than once in the event topic (a producer's
// resent batch written twice by the mock cluster, a former owner writing on for a moment): every
// repeat must be byte-identical to the first copy (chain link included) and no sequence may be
// missing. The cluster may be live: a partition whose stored events lag the replay is audited
// again, and events stored beyond the replay are tolerated only if commands arrived meanwhile.
// The read models are compared when `--data-dir` names a stopped Kafka-mode process's directory.
//
// `--state-json FILE` writes what the replay ends with, as a client sees it through the API:
// balances per user, the status of every reservation, and every seat not AVAILABLE. The failover
// test compares it with what the surviving processes answer.

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "replay/audit/report.hpp"
#include "replay/source.hpp"
#include "tools/subcommands.hpp"

namespace encore::tools {
namespace {

constexpr std::chrono::milliseconds read_wait{2'000};
// A live cluster's runners may not have written the events of the newest commands yet: the audit
// of a partition whose stored events are a prefix of the replay's is tried again, this often.
constexpr int behind_attempts = 20;
constexpr std::chrono::milliseconds behind_pause{500};

}  // namespace

int audit_kafka(const audit_flags& f) {
    replay::audit::options o;
    o.read_wait = read_wait;
    o.repeats_possible = true;
    o.behind_attempts = behind_attempts;
    o.behind_pause = behind_pause;
    if (!f.source.data_dir.empty()) o.models_directory = f.source.data_dir + "/projections";
    o.progress = true;
    o.keep_states = !f.state_json.empty();
    replay::audit::report report;
    try {
        replay::source log = open_source(f.source, "encore-audit");
        o.partitions = log.partitions();
        o.threads = f.threads ? static_cast<unsigned>(*f.threads) : replay::audit::default_threads(o.partitions);
        o.refresh_ends = log.refresh_ends();
        report = replay::audit::run(log.commands(), log.events(), o);
    } catch (const replay::unreadable& e) {
        std::fprintf(stderr, "encore audit: cannot read the data: %s\n", e.message.c_str());
        return replay::exit_unreadable;
    }
    if (const std::string& file = f.state_json; !file.empty() && report.passed()) {
        nlohmann::json state = {{"balances", nlohmann::json::object()}, {"reservations", nlohmann::json::object()},
                                {"seats", nlohmann::json::object()}, {"partitions", nlohmann::json::array()}};
        for (const replay::audit::partition_summary& s : report.partitions) {
            state["partitions"].push_back({{"partition", s.partition}, {"commands", s.commands}, {"events", s.events},
                                           {"repeats", s.repeats}, {"newer", s.newer}, {"state", s.state_hash}});
            replay::audit::add_state(state, *s.state);
        }
        std::ofstream out(file);
        out << state.dump() << "\n";
        if (!out) throw std::runtime_error("cannot write " + file);
    }
    return replay::audit::print(report, f.json);
}

}  // namespace encore::tools
