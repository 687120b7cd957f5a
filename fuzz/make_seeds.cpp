// Writes the seed corpus of codec_fuzz: one record of every command and event type (the
// samples of tests/unit/events), each sealed event, and engine snapshots and checkpoints taken
// along a short run of those commands. Run it again when the encoding changes:
//
//   build-sanitize/fuzz/make_seeds fuzz/corpus/codec
//
// Each file is the decoder's selector byte (see codec_fuzz.cpp) followed by its input.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/engine.hpp"
#include "engine/runner/checkpointer.hpp"
#include "events/chain.hpp"
#include "events/codec.hpp"
#include "tests/unit/events/samples.hpp"

namespace {

using namespace encore;

void write_seed(const std::filesystem::path& dir, const std::string& name, char selector, const std::string& bytes) {
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.put(selector);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);

    int n = 0;
    for (const command& c : test::sample_commands())
        write_seed(dir, "command-" + std::to_string(n++), 0, encode(c));
    n = 0;
    chain_link link = chain_genesis;
    for (const event& e : test::sample_events()) {
        const std::string bytes = encode(e);
        link = chain_next(link, bytes);
        write_seed(dir, "event-" + std::to_string(n), 1, bytes);
        write_seed(dir, "sealed-" + std::to_string(n++), 2, seal(link, bytes));
    }

    // The client commands applied in order on one partition, one second apart (saga steps name
    // other partitions and are left out); a snapshot and a checkpoint at the start, the middle
    // and the end.
    engine::partition_state state;
    engine::apply_output out;
    chain_link head = chain_genesis;
    std::uint64_t offset = 0;
    int taken = 0;
    auto take = [&] {
        const std::string snapshot = engine::snapshot(state);
        write_seed(dir, "snapshot-" + std::to_string(taken), 3, snapshot);
        write_seed(dir, "checkpoint-" + std::to_string(taken++), 4,
                   std::string{'\0', '\1'} + runner::encode_checkpoint(state, head, snapshot));
    };
    take();
    const auto commands = test::sample_commands();
    for (std::size_t i = 0; i < commands.size(); ++i) {
        command c = commands[i];
        if (c.meta.origin != no_position) continue;
        c.meta.accepted_at = test::sample_time + static_cast<time_ms>(offset) * 1000;
        out.clear();
        engine::apply(state, c, log_position{0, offset++}, out);
        for (const event& e : out.events) head = chain_next(head, encode(e));
        if (i == commands.size() / 2) take();
    }
    take();
    return 0;
}
