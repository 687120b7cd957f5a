// `encore audit --kafka`: the audit of a Kafka-mode cluster, read from the topics with the same
// replay and checks as `encore audit --data-dir` (audit_replay.hpp).
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

#include "engine/engine.hpp"
#include "events/ids.hpp"
#include "events/log/kafka_log.hpp"
#include "events/time.hpp"
#include "tools/audit_replay.hpp"
#include "tools/commands.hpp"

namespace encore::tools {
namespace {

constexpr std::chrono::milliseconds read_wait{2'000};
// A live cluster's runners may not have written the events of the newest commands yet: the audit
// of a partition whose stored events are a prefix of the replay's is tried again, this often.
constexpr int behind_attempts = 20;
constexpr std::chrono::milliseconds behind_pause{500};

void add_state(nlohmann::json& out, const engine::partition_state& s) {
    for (const auto& [user, w] : s.wallets) out["balances"][to_text(user)] = w.balance;
    for (const engine::reservation_record& r : s.reservations) {
        const reservation view = engine::to_reservation(s, r);
        out["reservations"][reservation_text(view.id)] = std::string(to_string(view.status));
    }
    for (const engine::concert_state& c : s.concerts) {
        for (const engine::date_state& d : c.dates) {
            for (std::uint32_t seat = 1; seat <= d.seats; ++seat) {
                const seat_status status = engine::seat_of(d, seat, s);
                if (status == seat_status::available) continue;
                out["seats"][to_text(c.config.concert) + "/" + format_date(d.date) + "/" + std::to_string(seat)] =
                    std::string(to_string(status));
            }
        }
    }
}

}  // namespace

int audit_kafka(const arguments& args) {
    if (auto bad = args.unknown({"--kafka", "--partitions", "--topic-prefix", "--kafka-config", "--state-json", "--json",
                                 "--threads", "--data-dir"}))
        throw usage_error{"unknown flag " + *bad};
    if (!args.positional().empty()) throw usage_error{"unexpected argument '" + args.positional().front() + "'"};
    kafka_options k;
    k.bootstrap = *args.text("--kafka");
    k.partitions = partitions_flag(args).value_or(0);  // 0: the topics' own count
    k.topic_prefix = args.text("--topic-prefix", "");
    k.config = kafka_config(args);
    k.client_id = "encore-audit";
    audit::options o;
    if (args.text("--threads") && args.number("--threads", 0) < 1) throw usage_error{"--threads must be at least 1"};
    o.read_wait = read_wait;
    o.repeats_possible = true;
    o.behind_attempts = behind_attempts;
    o.behind_pause = behind_pause;
    if (auto dir = args.text("--data-dir")) o.models_directory = *dir + "/projections";
    o.progress = true;
    o.keep_states = args.text("--state-json").has_value();
    audit::report report;
    try {
        auto log = kafka_log::open(k);
        // A --partitions the topics do not have is the caller's mistake (exit 2), as with --data-dir.
        if (!log && log.err().code == errc::invalid) throw usage_error{log.err().message};
        if (!log) throw audit::unreadable{"cannot open the Kafka log: " + log.err().message};
        if (auto refreshed = (*log)->refresh_ends(); !refreshed) throw audit::unreadable{refreshed.err().message};
        kafka_log& opened = **log;
        o.partitions = opened.commands().partitions();
        o.threads = static_cast<unsigned>(args.number("--threads", audit::default_threads(o.partitions)));
        o.refresh_ends = [&opened] { return opened.refresh_ends(); };
        report = audit::run(opened.commands(), opened.events(), o);
    } catch (const audit::unreadable& e) {
        std::fprintf(stderr, "encore audit: cannot read the data: %s\n", e.message.c_str());
        return audit::exit_unreadable;
    }
    if (auto file = args.text("--state-json"); file && report.passed()) {
        nlohmann::json state = {{"balances", nlohmann::json::object()}, {"reservations", nlohmann::json::object()},
                                {"seats", nlohmann::json::object()}, {"partitions", nlohmann::json::array()}};
        for (const audit::partition_summary& s : report.partitions) {
            state["partitions"].push_back({{"partition", s.partition}, {"commands", s.commands}, {"events", s.events},
                                           {"repeats", s.repeats}, {"newer", s.newer}, {"state", s.state_hash}});
            add_state(state, *s.state);
        }
        std::ofstream out(*file);
        out << state.dump() << "\n";
        if (!out) throw std::runtime_error("cannot write " + *file);
    }
    return audit::print(report, args.flag("--json"));
}

}  // namespace encore::tools
