// `encore export` as a library: every partition's events replayed from a source (source.hpp) into
// the exported tables (tables.hpp), written in one format. The command line (tools/export.cpp)
// parses flags into export_options and prints the summary.

#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "events/types.hpp"
#include "replay/export/tables.hpp"
#include "replay/source.hpp"

namespace encore::replay::export_data {

struct export_options {
    format output_format = format::sqlite;
    std::string out;                    // a file for sqlite, a folder for csv and jsonl
    std::optional<concert_id> concert;  // only this concert's rows
    bool progress = true;               // the progress line on stderr
};

struct export_summary {
    bool concert_found = true;  // false: the log has no such concert (nothing was written)
    std::map<std::string, std::uint64_t> rows;  // by table
    std::uint64_t events = 0;                   // replayed
    double seconds = 0;
};

// Throws unreadable (the log) or output_error (the output).
export_summary run(source& s, const export_options& o);

// "<table> <rows> rows" lines and the total line, as `encore export` prints them.
void print_summary(const export_options& o, const export_summary& summary);

}  // namespace encore::replay::export_data
