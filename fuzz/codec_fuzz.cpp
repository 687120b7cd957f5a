// libFuzzer target: every decoder of stored bytes. The first byte picks the decoder, the rest is
// its input:
//
//   0  decode_command        a command record (command log)
//   1  decode_event          an event record
//   2  unseal + decode_event a sealed event record (event log: chain link, then the event)
//   3  engine::restore       an engine snapshot
//   4  decode_checkpoint     a runner checkpoint (format 2: header, chain head, snapshot and
//                            its SHA-256: seeds from make_seeds get past the checksum), after two bytes
//                            naming the partition and the partition count
//
// Whatever it is given, a decoder must return an error or a value, never crash, read out of
// bounds or overflow. What decodes must round-trip: the codec is canonical, so encode(decode(b))
// is b itself; a snapshot re-taken from a restored state restores to a state that snapshots to
// the same bytes.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/engine.hpp"
#include "engine/runner/checkpointer.hpp"
#include "events/chain.hpp"
#include "events/codec.hpp"

namespace {

using namespace encore;

// An assertion that holds in every build and names what broke; libFuzzer keeps the input.
void require(bool condition, const char* what) {
    if (condition) return;
    std::fprintf(stderr, "codec_fuzz: %s\n", what);
    std::abort();
}

void command_record(std::string_view bytes) {
    auto decoded = decode_command(bytes);
    if (!decoded) return;
    const std::string again = encode(*decoded);
    require(again == bytes, "encode(decode_command(b)) != b");
    auto twice = decode_command(again);
    require(twice.ok() && *twice == *decoded, "decode_command(encode(c)) != c");
}

void event_record(std::string_view bytes) {
    auto decoded = decode_event(bytes);
    if (!decoded) return;
    const std::string again = encode(*decoded);
    require(again == bytes, "encode(decode_event(b)) != b");
    auto twice = decode_event(again);
    require(twice.ok() && *twice == *decoded, "decode_event(encode(e)) != e");
}

void sealed_record(std::string_view bytes) {
    sealed_event sealed;
    if (!unseal(bytes, sealed)) return;
    require(seal(sealed.link, sealed.event_bytes) == bytes, "seal(unseal(r)) != r");
    event_record(sealed.event_bytes);
}

void snapshot_bytes(std::string_view bytes) {
    auto restored = engine::restore(bytes);
    if (!restored) return;
    const std::string taken = engine::snapshot(*restored);
    auto again = engine::restore(taken);
    require(again.ok(), "a snapshot of a restored state does not restore");
    require(engine::snapshot(*again) == taken, "snapshot(restore(snapshot(s))) != snapshot(s)");
}

// Two bytes name the partition layout the checkpoint is read for (a wrong one is refused after
// the restore), the rest is the checkpoint.
void checkpoint_bytes(std::string_view bytes) {
    if (bytes.size() < 2) return;
    const std::uint32_t partition = static_cast<std::uint8_t>(bytes[0]);
    const std::uint32_t partitions = static_cast<std::uint8_t>(bytes[1]);
    bytes.remove_prefix(2);
    auto decoded = runner::decode_checkpoint(bytes, partition, partitions);
    if (!decoded) return;
    const std::string snapshot = engine::snapshot(decoded->state);
    auto again = runner::decode_checkpoint(runner::encode_checkpoint(decoded->state, decoded->head, snapshot), partition, partitions);
    require(again.ok(), "an encoded checkpoint does not decode");
    require(again->head == decoded->head, "a checkpoint's chain head changed in a round trip");
    require(engine::snapshot(again->state) == snapshot, "a checkpoint's state changed in a round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 5) {
        case 0: command_record(bytes); break;
        case 1: event_record(bytes); break;
        case 2: sealed_record(bytes); break;
        case 3: snapshot_bytes(bytes); break;
        case 4: checkpoint_bytes(bytes); break;
    }
    return 0;
}
