// The audit's report, the durable-ends check and the client's view of a state (report.hpp).

#include "replay/audit/report.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "engine/engine.hpp"
#include "events/chain.hpp"
#include "events/ids.hpp"
#include "events/log/durable_ends.hpp"
#include "events/time.hpp"

namespace encore::replay::audit {
namespace {

// The text summary lists this many failures; --json lists them all.
constexpr std::size_t failures_printed_max = 20;

nlohmann::json failure_json(const failure& f) {
    nlohmann::json j = {{"check", f.check}, {"partition", f.partition}, {"offset", f.offset}, {"message", f.message}};
    if (f.key) j["key"] = *f.key;
    return j;
}

}  // namespace

nlohmann::json door_json(const door_summary& d) {
    auto rescanned = nlohmann::json::array();
    for (const rescanned_ticket& t : d.rescanned)
        rescanned.push_back({{"ticket", t.ticket}, {"scans", t.scans}, {"first_gate", t.first_gate}});
    return {{"admitted", d.admitted}, {"admitted_twice", d.admitted_twice}, {"duplicate_scans", d.duplicate_scans},
            {"rescanned", std::move(rescanned)}};
}

nlohmann::json report_json(const report& r) {
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
                        {"door", door_json(r.door)},
                        {"read_models", {{"compared", r.models_compared}, {"keys", r.model_keys}}},
                        {"notes", r.notes},
                        {"per_partition", nlohmann::json::array()}};
    for (const failure& f : r.failures) j["failures"].push_back(failure_json(f));
    for (const partition_summary& s : r.partitions)
        j["per_partition"].push_back({{"partition", s.partition}, {"commands", s.commands}, {"events", s.events},
                                      {"events_checked", s.events_checked}, {"repeats", s.repeats}, {"newer", s.newer},
                                      {"unapplied_commands", s.unapplied_commands}, {"chain_head", to_hex(s.head)},
                                      {"state", s.state_hash}});
    return j;
}

namespace {

void print_text(const report& r) {
    for (const partition_summary& s : r.partitions) {
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
    std::printf("door: %llu tickets admitted, %llu admitted twice, %llu scans of tickets admitted before (%zu tickets scanned more than once)\n",
                static_cast<unsigned long long>(r.door.admitted), static_cast<unsigned long long>(r.door.admitted_twice),
                static_cast<unsigned long long>(r.door.duplicate_scans), r.door.rescanned.size());
    for (std::size_t i = 0; i < r.door.rescanned.size() && i < failures_printed_max; ++i)
        std::printf("  scanned %llu times: %s (admitted at %s)\n", static_cast<unsigned long long>(r.door.rescanned[i].scans),
                    r.door.rescanned[i].ticket.c_str(), r.door.rescanned[i].first_gate.empty() ? "no gate" : r.door.rescanned[i].first_gate.c_str());
    for (const std::string& note : r.notes) std::printf("note: %s\n", note.c_str());
    for (std::size_t i = 0; i < r.failures.size() && i < failures_printed_max; ++i) {
        const failure& f = r.failures[i];
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

}  // namespace

void check_durable_ends(const std::string& log_directory, log_stream& commands, report& r) {
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


}  // namespace encore::replay::audit
