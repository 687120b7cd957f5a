// Bytes as text: hexadecimal, base64 (RFC 4648 section 4, padded: the Kafka records' envelopes)
// and base64url (section 5, unpadded and strict: the tokens). The one copy of each.

#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace encore {

// Lower-case hexadecimal, two digits a byte; with `max`, only the first `max` bytes and "..."
// after them when there were more.
std::string hex(std::string_view bytes, std::size_t max = SIZE_MAX);
std::string hex(std::span<const std::uint8_t> bytes);
// Sixteen digits, most significant first.
std::string hex_u64(std::uint64_t value);

// Appends the padded base64 of `in` to `out`.
void base64_encode(std::string_view in, std::string& out);
// False on anything that is not padded base64. Writes straight into a buffer of the final size.
bool base64_decode(std::string_view in, std::string& out);

// Unpadded base64url.
std::string base64url_encode(std::span<const std::uint8_t> bytes);
// Strict: no padding, no whitespace, exactly out.size() bytes of output, and the unused low bits
// of the last character zero (otherwise two texts would decode to the same bytes and a modified
// token could still verify).
bool base64url_decode(std::string_view text, std::span<std::uint8_t> out);

}  // namespace encore
