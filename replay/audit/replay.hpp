#pragma once
// The audit over the log interface, for both backends (`encore audit --data-dir` on the embedded
// log, `encore audit --kafka` on the topics): every partition's command log is replayed from
// offset zero with a fresh engine (engine::apply_record, the runner's own replay rule) and checked:
//
//   events      every stored event equals the replayed one, byte for byte; none is missing or extra
//   chain       every stored chain link equals the recomputed one
//   read_models the stored read models equal the ones rebuilt from the replayed events, key by key
//   money       per user, each wallet event's balance follows from the previous one, and at the end
//               charges = balance + payments - refunds; the same in total
//   seats       no seat is confirmed (sold) twice
//
// Partitions are replayed in parallel (one thread per partition, up to `threads`); each reads its
// commands and its stored events in batches, side by side with the replay.
//
// Threads: `run` starts and joins the replay threads, and a progress thread when asked to.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/state.hpp"
#include "events/chain.hpp"
#include "events/log.hpp"
#include "replay/source.hpp"

namespace encore::replay::audit {

struct options {
    std::uint32_t partitions = 0;
    unsigned threads = 1;
    // How long one read waits for records below a stream's end (Kafka fetches; 0 embedded).
    std::chrono::milliseconds read_wait{0};
    // Kafka: an event may be stored twice (a resent batch, a former owner writing on); a repeat
    // must be byte-identical to its first copy, and is then skipped.
    bool repeats_possible = false;
    // A live cluster (Kafka): a partition whose stored events lag the replay is audited again,
    // up to this many times, after `behind_pause`, with the ends refreshed by `refresh_ends`;
    // events stored beyond the replay are tolerated when commands arrived meanwhile. A stopped
    // node (embedded, 1 attempt): commands at the end of the log whose events are not stored yet
    // (the node stopped before applying them) are replayed and noted, not failed.
    int behind_attempts = 1;
    std::chrono::milliseconds behind_pause{500};
    std::function<result<unit>()> refresh_ends;
    // The stored read models to compare (`<data dir>/projections`); empty: not compared.
    std::string models_directory;
    // Progress on stderr: a bar redrawn in place on a terminal, otherwise a line every few seconds.
    bool progress = false;
    // Keep each partition's final engine state in the report (--state-json).
    bool keep_states = false;
};

struct failure {
    std::string check;  // events, chain, read_models, money, seats, phases, door, log (durable commands missing)
    std::uint32_t partition = 0;
    // events/chain: the event's offset in the event log; money/seats: the offset of the event
    // that shows it; read_models: the store's applied sequence of the partition.
    std::uint64_t offset = 0;
    std::optional<std::string> key;  // read_models: the first differing key; money: the user
    std::string message;
};

struct money {
    std::int64_t charges = 0, balances = 0, payments = 0, refunds = 0;
};

// The door: tickets admitted (each must be once), and every ticket scanned more than once (online
// or in an offline batch; the same scanner's repeat of one scan is not a second scan).
struct rescanned_ticket {
    std::string ticket;       // "t-P-O-N"
    std::uint64_t scans = 0;  // scans of it that found it admitted (or admitted it)
    std::string first_gate;
};
struct door_summary {
    std::uint64_t admitted = 0, admitted_twice = 0, duplicate_scans = 0;
    std::vector<rescanned_ticket> rescanned;  // by ticket id
};

struct partition_summary {
    std::uint32_t partition = 0;
    std::uint64_t commands = 0;
    std::uint64_t events = 0;          // replayed
    std::uint64_t events_checked = 0;  // replayed and compared with a stored copy
    std::uint64_t repeats = 0;         // stored repeats skipped (Kafka)
    std::uint64_t newer = 0;           // stored events after the command snapshot (a live cluster)
    // Commands at the end of the log whose events the node had not stored (a stopped node).
    std::uint64_t unapplied_commands = 0;
    std::uint64_t models_applied = 0;  // the stored read models' applied sequence
    chain_link head = chain_genesis;
    std::string state_hash;
    money wallet;
    std::uint64_t seats_sold = 0, seats_sold_twice = 0;
    door_summary door;
    std::optional<engine::partition_state> state;  // when options::keep_states
};

struct report {
    std::vector<partition_summary> partitions;
    std::vector<failure> failures;
    money total;
    std::uint64_t commands = 0, events = 0, seats_sold = 0, seats_sold_twice = 0;
    door_summary door;
    bool models_compared = false;
    std::uint64_t model_keys = 0;  // keys of the rebuilt read models
    std::vector<std::string> notes;
    double seconds = 0;
    // Of `seconds`: until every partition was replayed (its read models rebuilt too), and the
    // comparison of the stored read models with the rebuilds after that.
    double replay_seconds = 0, compare_seconds = 0;
    bool passed() const { return failures.empty(); }
};

// Throws `unreadable` (replay/source.hpp): a read error, records that do not arrive.
report run(log_stream& commands, log_stream& events, const options& o);

}  // namespace encore::replay::audit
