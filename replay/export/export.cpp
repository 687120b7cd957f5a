// `encore export` as a library (export.hpp).

#include "replay/export/export.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/codec.hpp"
#include "events/chain.hpp"
#include "events/ids.hpp"
#include "events/json.hpp"
#include "replay/progress.hpp"

namespace encore::replay::export_data {
namespace {

constexpr std::size_t read_batch = 4096;
// Kafka: how long one fetch waits, and how many empty fetches below a partition's end are
// tolerated before the data counts as unreadable.
constexpr std::chrono::milliseconds kafka_read_wait{2'000};
constexpr int kafka_empty_reads_max = 15;

// ---- the replay ---------------------------------------------------------------------------------

// Every event of partition p below its end, in sequence order, each given to `each`. Kafka may
// hold an event twice (a resent batch): the repeat, byte-identical, is dropped by sequence.
template <class Each>
void replay_partition(source& s, std::uint32_t p, Each&& each) {
    std::uint64_t offset = 0, next_sequence = 0;
    int empty_reads = 0;
    while (offset < s.event_ends()[p]) {
        auto batch = s.events().read(p, offset, read_batch, s.kafka_mode() ? kafka_read_wait : std::chrono::milliseconds(0));
        if (!batch) throw unreadable{"partition " + std::to_string(p) + " offset " + std::to_string(offset) + ": " + batch.err().message};
        if (batch->empty()) {
            if (++empty_reads < kafka_empty_reads_max && s.kafka_mode()) continue;
            throw unreadable{"partition " + std::to_string(p) + ": no event at offset " + std::to_string(offset) +
                             " below its end " + std::to_string(s.event_ends()[p])};
        }
        empty_reads = 0;
        for (const log_entry& entry : *batch) {
            if (entry.offset >= s.event_ends()[p]) break;
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

}  // namespace

export_summary run(source& s, const export_options& o) {
    const auto started = std::chrono::steady_clock::now();
    export_summary summary;
    const std::uint32_t partitions = s.events().partitions();
    std::uint64_t events_total = 0;
    for (std::uint64_t end : s.event_ends()) events_total += end;
    // The concert's partition first: its reservations are known before their payments'
    // wallet entries in other partitions come.
    std::vector<std::uint32_t> order;
    if (o.concert) order.push_back(partition_of(*o.concert, partitions));
    for (std::uint32_t p = 0; p < partitions; ++p)
        if (order.empty() || p != order.front()) order.push_back(p);

    std::unique_ptr<sink> output = open_sink(o.output_format, o.out);
    model m(o.concert);
    replay_progress progress(o.progress, "export", events_total, "events");
    output->begin_table(tables().front());
    for (std::uint32_t p : order) {
        replay_partition(s, p, [&](const event& e) {
            const nlohmann::json rendered = to_json(e);
            if (m.apply(p, e, rendered)) {
                output->add_row(event_row(p, e, rendered));
                ++summary.rows["events"];
            }
            ++summary.events;
            progress.replayed(1);
        });
        if (o.concert && !m.concert_found()) {
            progress.finish();
            summary.concert_found = false;
            return summary;
        }
    }
    output->end_table();
    progress.next_stage("tables", m.rows(), "rows");
    m.write(*output, [&](const std::string& name) {
        ++summary.rows[name];
        progress.advance(1);
    });
    output->finish();
    progress.finish();
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return summary;
}

void print_summary(const export_options& o, const export_summary& summary) {
    static constexpr const char* names[] = {"sqlite", "csv", "jsonl"};
    std::uint64_t total = 0;
    for (const table& t : tables()) {
        const auto it = summary.rows.find(t.name);
        const std::uint64_t n = it == summary.rows.end() ? 0 : it->second;
        total += n;
        std::printf("%-16s %12llu rows\n", t.name.c_str(), static_cast<unsigned long long>(n));
    }
    std::printf("export written: %s %s, %zu tables, %llu rows in %.2f s\n", names[static_cast<int>(o.output_format)], o.out.c_str(),
                tables().size(), static_cast<unsigned long long>(total), summary.seconds);
    std::fflush(stdout);
}

}  // namespace encore::replay::export_data
