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

format parse_format(const std::string& name) {
    if (name == "sqlite") return format::sqlite;
    if (name == "csv") return format::csv;
    if (name == "jsonl") return format::jsonl;
    throw usage_error{"--format must be sqlite, csv or jsonl, not '" + name + "'"};
}

}  // namespace

int export_command(const arguments& args) {
    if (auto bad = args.unknown({"--data-dir", "--kafka", "--partitions", "--topic-prefix", "--kafka-config", "--format",
                                 "--out", "--concert"}))
        throw usage_error{"unknown flag " + *bad};
    if (!args.positional().empty()) throw usage_error{"unexpected argument '" + args.positional().front() + "'"};
    if (args.text("--data-dir").has_value() == args.text("--kafka").has_value())
        throw usage_error{"export needs exactly one of --data-dir DIR and --kafka BOOTSTRAP"};
    export_options o;
    o.output_format = parse_format(args.text("--format", "sqlite"));
    const auto out = args.text("--out");
    if (!out || out->empty()) throw usage_error{"--out PATH is required (a file for sqlite, a folder for csv and jsonl)"};
    o.out = *out;
    if (auto c = args.text("--concert")) {
        o.concert = parse_concert_id(*c);
        if (!o.concert) throw usage_error{"--concert must be a concert id (c- and 16 hex digits), not '" + *c + "'"};
    }
    try {
        replay::source s = open_source(args, "encore-export");
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

}  // namespace encore::tools
