// What the audit's report says and checks beyond the replay: the report printed (text or JSON),
// the log's tail against its record of durable ends (embedded log), and the state a replay ends
// with as a client sees it through the API (Kafka's --state-json).

#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "engine/state.hpp"
#include "events/log.hpp"
#include "replay/audit/replay.hpp"

namespace encore::replay::audit {

// Prints the report (a summary, or one JSON object) on stdout; exit_passed or exit_failed.
int print(const report& r, bool json);
nlohmann::json report_json(const report& r);

// The commands' log against the record of what it had made durable (events/log/durable_ends.hpp):
// a replay of a cut log agrees with itself, so only this record can tell that commands are
// missing. Adds `log` failures (or a note when there is no record) to the report.
void check_durable_ends(const std::string& log_directory, log_stream& commands, report& r);

// Balances per user, the status of every reservation and every seat not AVAILABLE, added to
// `out` ({"balances": {}, "reservations": {}, "seats": {}}).
void add_state(nlohmann::json& out, const engine::partition_state& s);

// Threads for the replay: the cores, at most one per partition.
unsigned default_threads(std::uint32_t partitions);

}  // namespace encore::replay::audit
