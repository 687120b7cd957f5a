// `encore audit --kafka`: the audit of a Kafka-mode cluster, read from the topics.
//
// For each partition: read the event topic, where an event may appear more than once (a producer's
// resent batch written twice by the mock cluster, a former owner writing on for a moment): every
// repeat must be byte-identical to the first copy (chain link included) and no sequence may be
// missing. Then replay the command topic from offset zero with a fresh engine and require the
// replayed events, and their hash chain, to equal the stored ones. Events stored beyond the replay
// are tolerated only if commands arrived meanwhile (the cluster is live); otherwise they fail.
//
// `--state-json FILE` writes what the replay ends with, as a client sees it through the API:
// balances per user, the status of every reservation, and every seat not AVAILABLE. The failover
// test compares it with what the surviving processes answer.

#include <cstdio>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "events/chain.hpp"
#include "events/codec.hpp"
#include "events/ids.hpp"
#include "events/json.hpp"
#include "events/log/kafka_log.hpp"
#include "events/time.hpp"
#include "tools/commands.hpp"

namespace encore::tools {
namespace {

constexpr std::size_t read_batch = 4096;
constexpr std::chrono::milliseconds read_wait{2'000};
// A live cluster's runners may not have written the events of the newest commands yet: the audit
// of a partition whose stored events are a prefix of the replay's is tried again, this often.
constexpr int behind_attempts = 20;
constexpr std::chrono::milliseconds behind_pause{500};

struct audit_failure {
    std::string message;
};

[[noreturn]] void fail(std::uint32_t p, const std::string& what) {
    throw audit_failure{"partition " + std::to_string(p) + ": " + what};
}

// Every record of [0, end) in order.
template <class Visit>
void read_range(log_stream& stream, std::uint32_t p, std::uint64_t end, Visit&& visit) {
    std::uint64_t offset = 0;
    while (offset < end) {
        auto batch = stream.read(p, offset, read_batch, read_wait);
        if (!batch) fail(p, "reading offset " + std::to_string(offset) + ": " + batch.err().message);
        if (batch->empty()) fail(p, "records below the end " + std::to_string(end) + " do not arrive");
        for (const log_entry& entry : *batch) {
            if (entry.offset >= end) return;
            visit(entry);
        }
        offset = batch->back().offset + 1;
    }
}

struct partition_report {
    std::uint64_t commands = 0;
    std::uint64_t events = 0;
    std::uint64_t repeats = 0;
    std::uint64_t newer = 0;  // events stored after the command snapshot (a live cluster)
    bool behind = false;      // the replay produced events not (yet) stored
    chain_link head = chain_genesis;
    engine::partition_state state;
};

partition_report audit_partition_once(kafka_log& log, std::uint32_t p, std::uint32_t partitions) {
    partition_report report;
    const std::uint64_t command_end = log.commands().end(p);
    // Events first: whatever the commands below command_end produce was written before them.
    const std::uint64_t event_end = log.events().end(p);
    std::vector<std::string> stored;  // per sequence, the sealed record of its first copy
    read_range(log.events(), p, event_end, [&](const log_entry& entry) {
        sealed_event sealed;
        if (!unseal(entry.bytes, sealed)) fail(p, "event record at offset " + std::to_string(entry.offset) + " is too short");
        auto e = decode_event(sealed.event_bytes);
        if (!e) fail(p, "event record at offset " + std::to_string(entry.offset) + " does not decode: " + e.err().message);
        if (e->sequence < stored.size()) {
            if (stored[e->sequence] != entry.bytes)
                fail(p, "event " + std::to_string(e->sequence) + " repeated at offset " + std::to_string(entry.offset) + " with other bytes");
            ++report.repeats;
            return;
        }
        if (e->sequence > stored.size())
            fail(p, "event " + std::to_string(stored.size()) + " is missing (offset " + std::to_string(entry.offset) + " holds " +
                        std::to_string(e->sequence) + ")");
        stored.push_back(entry.bytes);
    });

    report.state = engine::make_partition(p, partitions);
    engine::apply_output out;
    std::string bytes;
    read_range(log.commands(), p, command_end, [&](const log_entry& entry) {
        out.clear();
        engine::apply_record(report.state, entry.bytes, {p, entry.offset}, out);
        for (const event& e : out.events) {
            bytes.clear();
            encode(e, bytes);
            report.head = chain_next(report.head, bytes);
            if (e.sequence >= stored.size()) {
                report.behind = true;
                continue;
            }
            sealed_event sealed;
            if (!unseal(stored[e.sequence], sealed)) fail(p, "event " + std::to_string(e.sequence) + " is unreadable");
            if (sealed.event_bytes != bytes) fail(p, "event " + std::to_string(e.sequence) + " differs from the replay");
            if (sealed.link != report.head) fail(p, "hash chain broken at event " + std::to_string(e.sequence));
        }
        ++report.commands;
    });
    report.events = report.state.next_event_sequence;
    if (stored.size() > report.events) {
        report.newer = stored.size() - report.events;
        if (auto refreshed = log.refresh_ends(); !refreshed) fail(p, refreshed.err().message);
        if (log.commands().end(p) == command_end)
            fail(p, "the event topic holds " + std::to_string(report.newer) + " events the replay does not produce");
    }
    return report;
}

partition_report audit_partition(kafka_log& log, std::uint32_t p, std::uint32_t partitions) {
    for (int attempt = 1;; ++attempt) {
        partition_report report = audit_partition_once(log, p, partitions);
        if (!report.behind) return report;
        if (attempt == behind_attempts)
            fail(p, "the event topic lacks events the replay produces (" + std::to_string(report.events) + ")");
        std::this_thread::sleep_for(behind_pause);
        if (auto refreshed = log.refresh_ends(); !refreshed) fail(p, refreshed.err().message);
    }
}

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
    if (auto bad = args.unknown({"--kafka", "--partitions", "--topic-prefix", "--kafka-config", "--state-json"}))
        throw usage_error{"unknown flag " + *bad};
    kafka_options k;
    k.bootstrap = *args.text("--kafka");
    k.partitions = static_cast<std::uint32_t>(args.number("--partitions", 4));
    k.topic_prefix = args.text("--topic-prefix", "");
    k.config = kafka_config(args);
    k.client_id = "encore-audit";
    auto log = kafka_log::open(k);
    if (!log) throw std::runtime_error("cannot open the Kafka log: " + log.err().message);
    if (auto refreshed = (*log)->refresh_ends(); !refreshed) throw std::runtime_error(refreshed.err().message);

    nlohmann::json state = {{"balances", nlohmann::json::object()}, {"reservations", nlohmann::json::object()},
                            {"seats", nlohmann::json::object()}, {"partitions", nlohmann::json::array()}};
    std::uint64_t total = 0;
    try {
        for (std::uint32_t p = 0; p < k.partitions; ++p) {
            partition_report r = audit_partition(**log, p, k.partitions);
            total += r.events;
            const std::string hash = engine::state_hash(r.state);
            std::printf("partition %u: %llu commands, %llu events (%llu repeats dropped, %llu newer unchecked), chain head %s, state %s\n",
                        p, static_cast<unsigned long long>(r.commands), static_cast<unsigned long long>(r.events),
                        static_cast<unsigned long long>(r.repeats), static_cast<unsigned long long>(r.newer),
                        to_hex(r.head).c_str(), hash.c_str());
            state["partitions"].push_back({{"partition", p}, {"commands", r.commands}, {"events", r.events},
                                           {"repeats", r.repeats}, {"newer", r.newer}, {"state", hash}});
            add_state(state, r.state);
        }
    } catch (const audit_failure& e) {
        std::printf("AUDIT FAILED: %s\n", e.message.c_str());
        return 1;
    }
    if (auto file = args.text("--state-json")) {
        std::ofstream out(*file);
        out << state.dump() << "\n";
        if (!out) throw std::runtime_error("cannot write " + *file);
    }
    std::printf("audit passed: %u partitions, %llu events replayed and matched\n", k.partitions,
                static_cast<unsigned long long>(total));
    return 0;
}

}  // namespace encore::tools
