// `encore export`: the read models and the event log in files an analyst's tools open (SQLite,
// CSV, JSON Lines), derived by replaying the event log: the log is the truth, and the replay reads
// a running node's data as well as a stopped one's (the embedded log through a read-only view the
// node never notices, events/log/embedded_log_reader.hpp; Kafka through its topics).
//
// Exit status: 0 written, 1 the output could not be written, 2 usage error (a bad flag, a concert
// the log does not have), 3 the data could not be read.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "events/chain.hpp"
#include "events/codec.hpp"
#include "events/ids.hpp"
#include "events/json.hpp"
#include "events/log/embedded_log_reader.hpp"
#include "events/log/kafka_log.hpp"
#include "tools/commands.hpp"
#include "tools/export_tables.hpp"
#include "tools/progress.hpp"

namespace encore::tools {
namespace {

using namespace export_data;

constexpr int exit_written = 0;
constexpr int exit_output_failed = 1;
constexpr int exit_unreadable = 3;

constexpr std::size_t read_batch = 4096;
// Kafka: how long one fetch waits, and how many empty fetches below a partition's end are
// tolerated before the data counts as unreadable.
constexpr std::chrono::milliseconds kafka_read_wait{2'000};
constexpr int kafka_empty_reads_max = 15;
struct unreadable {
    std::string message;
};

// ---- progress -----------------------------------------------------------------------------------

// Counts events replayed, then rows written, for the progress line (tools/progress.hpp).
class progress_meter {
public:
    explicit progress_meter(std::uint64_t events_total)
        : events_total_(events_total), display_(true, [this](double seconds) { return line(seconds); }) {}

    void event_done() { events_done_.fetch_add(1, std::memory_order_relaxed); }
    void tables_phase(std::uint64_t rows_total) {
        rows_total_.store(rows_total);
        tables_.store(true);
    }
    void row_done() { rows_done_.fetch_add(1, std::memory_order_relaxed); }
    void finish() { display_.finish(); }

private:
    std::string line(double seconds) const {
        if (!tables_.load()) {
            const std::uint64_t done = events_done_.load(std::memory_order_relaxed);
            return "export: " + progress_bar(done, events_total_) + "  " + progress_rate(done, events_total_, seconds, "events");
        }
        const std::uint64_t done = rows_done_.load(std::memory_order_relaxed), total = rows_total_.load();
        return "export: " + progress_bar(done, total) + "  " + std::to_string(events_total_) + " events replayed; tables: " +
               std::to_string(std::min(done, total)) + "/" + std::to_string(total) + " rows";
    }

    const std::uint64_t events_total_;
    std::atomic<std::uint64_t> events_done_{0}, rows_done_{0}, rows_total_{0};
    std::atomic<bool> tables_{false};
    progress_display display_;  // last: its thread reads the counters above
};

// ---- the source ---------------------------------------------------------------------------------

// The event stream to replay, with each partition's end fixed when it was opened.
struct source {
    std::unique_ptr<embedded_log_reader> embedded;
    std::unique_ptr<kafka_log> kafka;
    log_stream* events = nullptr;
    std::vector<std::uint64_t> ends;
    bool kafka_mode() const { return kafka != nullptr; }
};

source open_source(const arguments& args) {
    source s;
    const std::optional<std::uint32_t> partitions = partitions_flag(args);
    if (auto bootstrap = args.text("--kafka")) {
        kafka_options k;
        k.bootstrap = *bootstrap;
        k.partitions = partitions.value_or(0);  // 0: the topics' own count
        k.topic_prefix = args.text("--topic-prefix", "");
        k.config = kafka_config(args);
        k.client_id = "encore-export";
        auto log = kafka_log::open(k);
        if (!log && log.err().code == errc::invalid) throw usage_error{log.err().message};
        if (!log) throw unreadable{"cannot open the Kafka log: " + log.err().message};
        if (auto refreshed = (*log)->refresh_ends(); !refreshed) throw unreadable{refreshed.err().message};
        s.kafka = std::move(*log);
        s.events = &s.kafka->events();
    } else {
        const std::string dir = *args.text("--data-dir");
        std::error_code ec;
        if (!std::filesystem::is_directory(dir + "/log", ec)) throw unreadable{"no log in " + dir + " (" + dir + "/log)"};
        auto log = embedded_log_reader::open({.directory = dir + "/log", .partitions = partitions});
        if (!log && log.err().code == errc::invalid) throw usage_error{log.err().message};
        if (!log) throw unreadable{"cannot open the log in " + dir + ": " + log.err().message};
        s.embedded = std::move(*log);
        s.events = &s.embedded->events();
    }
    for (std::uint32_t p = 0; p < s.events->partitions(); ++p) s.ends.push_back(s.events->end(p));
    return s;
}

// Every event of partition p below its end, in sequence order, each given to `each`. Kafka may
// hold an event twice (a resent batch): the repeat, byte-identical, is dropped by sequence.
template <class Each>
void replay_partition(source& s, std::uint32_t p, Each&& each) {
    std::uint64_t offset = 0, next_sequence = 0;
    int empty_reads = 0;
    while (offset < s.ends[p]) {
        auto batch = s.events->read(p, offset, read_batch, s.kafka_mode() ? kafka_read_wait : std::chrono::milliseconds(0));
        if (!batch) throw unreadable{"partition " + std::to_string(p) + " offset " + std::to_string(offset) + ": " + batch.err().message};
        if (batch->empty()) {
            if (++empty_reads < kafka_empty_reads_max && s.kafka_mode()) continue;
            throw unreadable{"partition " + std::to_string(p) + ": no event at offset " + std::to_string(offset) +
                             " below its end " + std::to_string(s.ends[p])};
        }
        empty_reads = 0;
        for (const log_entry& entry : *batch) {
            if (entry.offset >= s.ends[p]) break;
            sealed_event sealed;
            if (!unseal(entry.bytes, sealed))
                throw unreadable{"partition " + std::to_string(p) + " offset " + std::to_string(entry.offset) + ": a record too short to hold an event"};
            auto e = decode_event(sealed.event_bytes);
            if (!e) throw unreadable{"partition " + std::to_string(p) + " offset " + std::to_string(entry.offset) + ": " + e.err().message};
            if (e->sequence < next_sequence) continue;
            if (e->sequence > next_sequence)
                throw unreadable{"partition " + std::to_string(p) + " offset " + std::to_string(entry.offset) + ": event " +
                                 std::to_string(e->sequence) + " where " + std::to_string(next_sequence) + " was expected"};
            ++next_sequence;
            each(*e);
        }
        offset = batch->back().offset + 1;
    }
}

format parse_format(const std::string& name) {
    if (name == "sqlite") return format::sqlite;
    if (name == "csv") return format::csv;
    if (name == "jsonl") return format::jsonl;
    throw usage_error{"--format must be sqlite, csv or jsonl, not '" + name + "'"};
}

void print_summary(format f, const std::string& out, const std::map<std::string, std::uint64_t>& rows, double seconds) {
    static constexpr const char* names[] = {"sqlite", "csv", "jsonl"};
    std::uint64_t total = 0;
    for (const table& t : tables()) {
        const auto it = rows.find(t.name);
        const std::uint64_t n = it == rows.end() ? 0 : it->second;
        total += n;
        std::printf("%-16s %12llu rows\n", t.name.c_str(), static_cast<unsigned long long>(n));
    }
    std::printf("export written: %s %s, %zu tables, %llu rows in %.2f s\n", names[static_cast<int>(f)], out.c_str(),
                tables().size(), static_cast<unsigned long long>(total), seconds);
    std::fflush(stdout);
}

}  // namespace

int export_command(const arguments& args) {
    if (auto bad = args.unknown({"--data-dir", "--kafka", "--partitions", "--topic-prefix", "--kafka-config", "--format",
                                 "--out", "--concert"}))
        throw usage_error{"unknown flag " + *bad};
    if (!args.positional().empty()) throw usage_error{"unexpected argument '" + args.positional().front() + "'"};
    if (args.text("--data-dir").has_value() == args.text("--kafka").has_value())
        throw usage_error{"export needs exactly one of --data-dir DIR and --kafka BOOTSTRAP"};
    const format f = parse_format(args.text("--format", "sqlite"));
    const auto out = args.text("--out");
    if (!out || out->empty()) throw usage_error{"--out PATH is required (a file for sqlite, a folder for csv and jsonl)"};
    std::optional<concert_id> only;
    if (auto c = args.text("--concert")) {
        only = parse_concert_id(*c);
        if (!only) throw usage_error{"--concert must be a concert id (c- and 16 hex digits), not '" + *c + "'"};
    }

    const auto started = std::chrono::steady_clock::now();
    std::map<std::string, std::uint64_t> rows;
    try {
        source s = open_source(args);
        const std::uint32_t partitions = s.events->partitions();
        std::uint64_t events_total = 0;
        for (std::uint64_t end : s.ends) events_total += end;
        // The concert's partition first: its reservations are known before their payments'
        // wallet entries in other partitions come.
        std::vector<std::uint32_t> order;
        if (only) order.push_back(partition_of(*only, partitions));
        for (std::uint32_t p = 0; p < partitions; ++p)
            if (order.empty() || p != order.front()) order.push_back(p);

        std::unique_ptr<sink> output = open_sink(f, *out);
        model m(only);
        progress_meter progress(events_total);
        output->begin_table(tables().front());
        for (std::uint32_t p : order) {
            replay_partition(s, p, [&](const event& e) {
                const nlohmann::json rendered = to_json(e);
                if (m.apply(p, e, rendered)) {
                    output->add_row(event_row(p, e, rendered));
                    ++rows["events"];
                }
                progress.event_done();
            });
            if (only && !m.concert_found()) {
                progress.finish();
                std::fprintf(stderr, "encore export: the log has no concert %s\n", to_text(*only).c_str());
                return 2;
            }
        }
        output->end_table();
        progress.tables_phase(m.rows());
        m.write(*output, [&](const std::string& name) {
            ++rows[name];
            progress.row_done();
        });
        output->finish();
        progress.finish();
    } catch (const unreadable& e) {
        std::fprintf(stderr, "encore export: cannot read the data: %s\n", e.message.c_str());
        return exit_unreadable;
    } catch (const output_error& e) {
        std::fprintf(stderr, "encore export: cannot write the output: %s\n", e.message.c_str());
        return exit_output_failed;
    }
    print_summary(f, *out, rows, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return exit_written;
}

}  // namespace encore::tools
