#pragma once
// The binary encoding of commands and events, as stored in the logs. Little-endian, fixed-width
// integers, length-prefixed strings; every record starts with a format version and a type tag.
// Decoding is a bounds-checked walk with no allocation for events without strings.
// The encoding is canonical: decode(encode(x)) == x and encode(decode(b)) == b for valid b.

#include <string>
#include <string_view>

#include "events/command.hpp"
#include "events/event.hpp"
#include "events/result.hpp"

namespace encore {

inline constexpr std::uint8_t codec_version = 1;
// A record bigger than this is refused by the decoder (a concert with 366 dates is ~6 KiB).
inline constexpr std::size_t record_size_max = 64 * 1024;

void encode(const command& c, std::string& out);
void encode(const event& e, std::string& out);
std::string encode(const command& c);
std::string encode(const event& e);

result<command> decode_command(std::string_view bytes);

// What an idempotency key is checked against: a hash of the command's type and body (not its
// meta), so that a repeat of the same request matches and another route or body does not.
std::uint64_t request_fingerprint(const command& c);
result<event> decode_event(std::string_view bytes);

}  // namespace encore
