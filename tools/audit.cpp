// `encore audit` and `encore events`: read a stopped node's logs.
//
// The audit replays every partition's command log from offset zero with a fresh engine, re-derives
// the events and their hash chain, and compares them byte for byte with the stored event log.

#include <cstdio>

#include "engine/engine.hpp"
#include "events/chain.hpp"
#include "events/codec.hpp"
#include "events/json.hpp"
#include "events/log/embedded_log.hpp"
#include "tools/commands.hpp"

namespace encore::tools {
namespace {

constexpr std::size_t read_batch = 4096;

std::unique_ptr<embedded_log> open_existing(const arguments& args) {
    auto dir = args.text("--data-dir");
    if (!dir) throw usage_error{"--data-dir is required"};
    auto partitions = static_cast<std::uint32_t>(args.number("--partitions", 4));
    auto log = embedded_log::open({.directory = *dir + "/log", .partitions = partitions});
    if (!log) throw std::runtime_error("cannot open the log in " + *dir + ": " + log.err().message);
    return std::move(log).value();
}

// Replays one partition; returns the number of events checked, or throws at the first mismatch.
std::uint64_t audit_partition(embedded_log& log, std::uint32_t p, std::uint32_t partitions) {
    auto state = engine::make_partition(p, partitions);
    engine::apply_output out;
    chain_link head = chain_genesis;
    std::uint64_t checked = 0, offset = 0;
    std::string bytes;
    for (;;) {
        auto batch = log.commands().read(p, offset, read_batch, std::chrono::milliseconds(0));
        if (!batch) throw std::runtime_error(batch.err().message);
        if (batch->empty()) break;
        for (const log_entry& entry : *batch) {
            out.clear();
            engine::apply_record(state, entry.bytes, {p, entry.offset}, out);
            for (const event& e : out.events) {
                bytes.clear();
                encode(e, bytes);
                head = chain_next(head, bytes);
                auto stored = log.events().read(p, e.sequence, 1, std::chrono::milliseconds(0));
                sealed_event sealed;
                if (!stored || stored->empty() || !unseal(stored->front().bytes, sealed))
                    throw std::runtime_error("partition " + std::to_string(p) + ": event " + std::to_string(e.sequence) + " is missing");
                if (sealed.event_bytes != bytes)
                    throw std::runtime_error("partition " + std::to_string(p) + ": event " + std::to_string(e.sequence) + " differs from the replay");
                if (sealed.link != head)
                    throw std::runtime_error("partition " + std::to_string(p) + ": hash chain broken at event " + std::to_string(e.sequence));
                ++checked;
            }
        }
        offset = batch->back().offset + 1;
    }
    if (log.events().end(p) != state.next_event_sequence)
        throw std::runtime_error("partition " + std::to_string(p) + ": the event log holds events the replay does not produce");
    std::printf("partition %u: %llu commands, %llu events, chain head %s, state %s\n", p,
                static_cast<unsigned long long>(offset), static_cast<unsigned long long>(checked), to_hex(head).c_str(),
                engine::state_hash(state).c_str());
    return checked;
}

}  // namespace

int audit(const arguments& args) {
    auto log = open_existing(args);
    std::uint32_t partitions = log->commands().partitions();
    std::uint64_t total = 0;
    try {
        for (std::uint32_t p = 0; p < partitions; ++p) total += audit_partition(*log, p, partitions);
    } catch (const std::runtime_error& e) {
        std::printf("AUDIT FAILED: %s\n", e.what());
        return 1;
    }
    std::printf("audit passed: %u partitions, %llu events replayed and matched\n", partitions, static_cast<unsigned long long>(total));
    return 0;
}

int dump_events(const arguments& args) {
    auto log = open_existing(args);
    std::uint32_t partitions = log->events().partitions();
    auto only = args.text("--partition");
    std::uint64_t from = args.number("--from", 0), limit = args.number("--limit", UINT64_MAX);
    for (std::uint32_t p = 0; p < partitions; ++p) {
        if (only && std::to_string(p) != *only) continue;
        std::uint64_t offset = from, printed = 0;
        while (printed < limit) {
            auto batch = log->events().read(p, offset, read_batch, std::chrono::milliseconds(0));
            if (!batch || batch->empty()) break;
            for (const log_entry& entry : *batch) {
                sealed_event sealed;
                auto e = unseal(entry.bytes, sealed) ? decode_event(sealed.event_bytes) : result<event>(error{errc::corrupt, "short record"});
                nlohmann::json line = e ? to_json(*e) : nlohmann::json{{"corrupt", e.err().message}};
                line["partition"] = p;
                line["link"] = to_hex(sealed.link);
                std::printf("%s\n", line.dump().c_str());
                if (++printed >= limit) break;
            }
            offset = batch->back().offset + 1;
        }
    }
    return 0;
}

}  // namespace encore::tools
