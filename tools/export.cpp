// `encore export`: the read models and the event log in files an analyst's tools open (SQLite,
// CSV, JSON Lines), derived by replaying the event log (replay/export/): flags in, summary out.
//
// Exit status: 0 written, 1 the output could not be written, 2 usage error (a bad flag, a concert
// the log does not have), 3 the data could not be read.

#include <cstdio>

#include "events/ids.hpp"
#include "replay/export/export.hpp"
#include "tools/subcommands.hpp"

namespace encore::tools {
namespace {

using namespace replay::export_data;

struct export_flags {
    source_flags source;
    std::string format = "sqlite";
    std::string out;
    std::string concert;
};

format parse_format(const std::string& name) {
    if (name == "sqlite") return format::sqlite;
    if (name == "csv") return format::csv;
    if (name == "jsonl") return format::jsonl;
    throw usage_error{"--format must be sqlite, csv or jsonl, not '" + name + "'"};
}

int export_command(const export_flags& f) {
    if (f.source.data_dir.empty() == !f.source.kafka_mode())
        throw usage_error{"export needs exactly one of --data-dir DIR and --kafka BOOTSTRAP"};
    export_options o;
    o.output_format = parse_format(f.format);
    if (f.out.empty()) throw usage_error{"--out PATH is required (a file for sqlite, a folder for csv and jsonl)"};
    o.out = f.out;
    if (!f.concert.empty()) {
        o.concert = parse_concert_id(f.concert);
        if (!o.concert) throw usage_error{"--concert must be a concert id (c- and 16 hex digits), not '" + f.concert + "'"};
    }
    try {
        replay::source s = open_source(f.source, "encore-export");
        const export_summary summary = run(s, o);
        if (!summary.concert_found) {
            std::fprintf(stderr, "encore export: the log has no concert %s\n", to_text(*o.concert).c_str());
            return replay::exit_usage;
        }
        print_summary(o, summary);
        return replay::exit_passed;
    } catch (const replay::unreadable& e) {
        std::fprintf(stderr, "encore export: cannot read the data: %s\n", e.message.c_str());
        return replay::exit_unreadable;
    } catch (const output_error& e) {
        std::fprintf(stderr, "encore export: cannot write the output: %s\n", e.message.c_str());
        return replay::exit_failed;
    }
}

}  // namespace

subcommand add_export(CLI::App& encore) {
    CLI::App* app = encore.add_subcommand(
        "export", "Replays the event log and writes the tables an analyst needs as SQLite, CSV or JSON Lines. Exit 0 "
                  "written, 1 the output could not be written, 2 usage error or no such concert, 3 the data could not "
                  "be read.");
    auto flags = std::make_shared<export_flags>();
    add_source_flags(*app, flags->source, "must match the log's own partition count (the data directory's or the topics')");
    app->get_option("--data-dir")
        ->description("a node's data directory, running or not (a read-only secondary open of its log); or --kafka");
    text_flag(*app, "--format", flags->format, "sqlite: one file at PATH; csv and jsonl: one file per table in the folder PATH",
              "sqlite|csv|jsonl");
    text_flag(*app, "--out", flags->out, "where to write (a file for sqlite, a folder for csv and jsonl)", "PATH");
    text_flag(*app, "--concert", flags->concert, "limit every table to one concert (wallet entries: its payments)", "ID");
    app->footer(
        "Tables: concerts, dates (sold, held, revenue, holds placed/expired/cancelled), seats (status, row, price), "
        "reservations (held, paid, cancelled, expired times), payments, refunds, wallet_entries (charges, payments, "
        "refunds with the balance after), queue_entries (joined, admitted, left, outcome, wait), users, events (one "
        "row per event with its JSON) and columns (what every column means). SQLite has typed columns and indexes; "
        "CSV is RFC 4180 with a header row. Progress on stderr; rows per table on stdout.");
    return {app, [flags] { return export_command(*flags); }};
}

}  // namespace encore::tools
