#pragma once
// `encore export`: the tables an analyst gets, derived by replaying the event log, and the three
// formats they are written in (SQLite, CSV, JSON Lines).
//
//   model.cpp           the tables' schemas and the model that the events are applied to
//   formats.cpp         the sinks: one SQLite file, or one CSV / JSONL file per table in a folder
//   export.cpp          the replay of every partition into the model, progress and summary
//
// Threads: the caller's thread does everything but the progress display, which has a
// thread of its own.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/event.hpp"

namespace encore::replay::export_data {

// `json` is text holding one JSON document: TEXT in SQLite, a quoted field in CSV, a nested value
// in JSON Lines.
enum class column_type { integer, real, text, json };
// INTEGER, REAL, TEXT, JSON: what the columns table says.
std::string_view column_type_name(column_type t);

struct column {
    std::string name;
    column_type type = column_type::text;
    std::string description;
};

struct table {
    std::string name;
    std::string description;
    std::vector<column> columns;
    std::vector<std::string> primary_key;
    // Each an index on these columns, in this order: what analysts join and filter on.
    std::vector<std::vector<std::string>> indexes;
};

// NULL, an integer, a real or text (text also for `json` columns).
using cell = std::variant<std::monostate, std::int64_t, double, std::string>;
using row = std::vector<cell>;

// The output could not be written (exit 1): a full disk, a folder that cannot be made…
struct output_error {
    std::string message;
};

// Where the rows go. Tables are written one after the other, rows in the order given; a row has
// one cell per column of its table. Every call may throw output_error.
class sink {
public:
    virtual ~sink() = default;
    virtual void begin_table(const table& t) = 0;
    virtual void add_row(const row& r) = 0;
    virtual void end_table() = 0;
    // After the last table: indexes, and the output moved into place.
    virtual void finish() = 0;
};

enum class format { sqlite, csv, jsonl };

// sqlite: the file `out` (replaced; written beside it and renamed when complete).
// csv, jsonl: the folder `out` (made if missing), one `<table>.csv` / `<table>.jsonl` each.
std::unique_ptr<sink> open_sink(format f, const std::string& out);

// The `columns` table: one row per column of every other table (and of itself).
const table& columns_table();
// The schemas of every table, `events` first and `columns` last.
const std::vector<table>& tables();

// The replayed state, fed one event at a time: partition by partition, each in sequence order.
// With a concert given, the concert's partition must come first (every reservation and payment
// of the concert has an id of that partition, so their wallet entries, in other partitions, can be
// told apart when they come).
class model {
public:
    explicit model(std::optional<concert_id> only);
    ~model();
    model(const model&) = delete;
    model& operator=(const model&) = delete;

    // Applies the event; true if it belongs in the export (always, without a concert).
    // `rendered` is to_json(e), which the events table writes.
    bool apply(std::uint32_t partition, const event& e, const nlohmann::json& rendered);
    // Whether the concert given was created in what was applied (true without one).
    bool concert_found() const;
    // The rows of every derived table (all but events and columns).
    std::uint64_t rows() const;
    // Writes every table after `events`, `columns` included; `written` is told each row's table.
    void write(sink& out, const std::function<void(const std::string& table)>& written) const;

private:
    struct state;
    std::unique_ptr<state> state_;
};

// The events table's row of one event.
row event_row(std::uint32_t partition, const event& e, const nlohmann::json& rendered);

}  // namespace encore::replay::export_data
