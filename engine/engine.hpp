#pragma once
// The engine: the whole domain as a pure, deterministic state machine for one partition.
//
//   apply(state, command, position, out)
//
// appends the events the command causes (and any saga commands for other partitions) to `out`.
// It reads no clock, no random source, no environment; time comes in with the command. Applying
// the same commands from the same state always yields the same bytes. A refused command changes
// nothing but `clock`/`next_event_sequence` and emits one `refused` event.

#include <string>
#include <vector>

#include "engine/state.hpp"
#include "events/command.hpp"
#include "events/event.hpp"
#include "events/result.hpp"

namespace encore::engine {

// A command for another partition, produced by a saga step.
struct outbound_command {
    std::uint32_t partition = 0;
    command cmd;
};

struct apply_output {
    std::vector<event> events;
    std::vector<outbound_command> messages;
    void clear() {
        events.clear();
        messages.clear();
    }
};

// `at` must be the next offset of this partition's command log (asserted): the engine's ids and
// de-duplication depend on positions.
void apply(partition_state& state, const command& c, log_position at, apply_output& out);

// The replay rule, in one place for the runner, its checkpointer and the audit: a log record is
// decoded and applied; one that does not decode is applied as an empty Tick, so offsets stay
// aligned and every replica of the log does the same. Returns false for such a record.
bool apply_record(partition_state& state, std::string_view bytes, log_position at, apply_output& out);

// Exact, deterministic serialisation: restore(snapshot(s)) behaves exactly like s, and two states
// that behave alike snapshot to the same bytes. A snapshot in another format version is refused
// with errc::unavailable (the log, replayed from zero, gives the same state); bad bytes with
// errc::corrupt.
std::string snapshot(const partition_state& state);
result<partition_state> restore(std::string_view bytes);
// SHA-256 of the snapshot, hex: equal states hash equal.
std::string state_hash(const partition_state& state);

// The catalog checks a CreateConcert must pass, and the dates it makes (ascending, all seats
// AVAILABLE, rows from seatsPerRow): shared by apply and restore.
bool valid_catalog(const create_concert& c);
void init_dates(concert_state& c);
// Recounts each row's available seats from the seat cells (after a restore).
void count_free_seats(date_state& d);
// Every seat of a reservation, ascending (none for places of a standing zone).
std::vector<std::uint32_t> seats_of(const reservation_record& r);
// A seat's price on its date: its grade's, with a venue; the date's, without.
won seat_price(const concert_state& c, const date_state& d, std::uint32_t seat);
// Whether a best-available pick with `filter` may take seats of the date's row `row` (a row of the
// filter's grade or section, of a grade the open phase sells; every row without a filter or a venue).
bool pick_may_use(const concert_state& c, const pick_filter& filter, std::size_t row);
// Sale phases: the phase open now (nullptr: none open, or a concert without phases), and whether
// a hold in it may take seats (or places) of grade `grade`.
const sale_phase* open_phase(const concert_state& c);
bool on_sale_grade(const sale_phase* open, std::uint32_t grade);

// Read-only views for tests, the simulation's invariant checks and the benchmark.
const concert_state* find_concert(const partition_state& state, concert_id c);
const reservation_record* find_reservation(const partition_state& state, reservation_id r);
reservation to_reservation(const partition_state& state, const reservation_record& r);
seat_status seat_of(const date_state& d, std::uint32_t seat, const partition_state& state);

}  // namespace encore::engine
