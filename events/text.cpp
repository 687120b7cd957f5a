// Bytes as text (text.hpp).

#include "events/text.hpp"

#include <algorithm>
#include <array>
#include <cassert>

namespace encore {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

constexpr std::string_view base64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> base64_values = [] {
    std::array<std::int8_t, 256> values{};
    values.fill(-1);
    for (std::size_t i = 0; i < base64_alphabet.size(); ++i) values[static_cast<unsigned char>(base64_alphabet[i])] = static_cast<std::int8_t>(i);
    return values;
}();

constexpr std::string_view base64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int base64url_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

}  // namespace

std::string hex(std::string_view bytes, std::size_t max) {
    std::string out;
    out.reserve(2 * std::min(bytes.size(), max) + 3);
    for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
        const auto b = static_cast<std::uint8_t>(bytes[i]);
        out += hex_digits[b >> 4];
        out += hex_digits[b & 15];
    }
    if (bytes.size() > max) out += "...";
    return out;
}

std::string hex(std::span<const std::uint8_t> bytes) {
    return hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string hex_u64(std::uint64_t value) {
    std::string out(16, '0');
    for (std::size_t i = 16; i-- > 0; value >>= 4) out[i] = hex_digits[value & 15];
    return out;
}

void base64_encode(std::string_view in, std::string& out) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(in.data());
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        out.push_back(base64_alphabet[(v >> 18) & 63]);
        out.push_back(base64_alphabet[(v >> 12) & 63]);
        out.push_back(base64_alphabet[(v >> 6) & 63]);
        out.push_back(base64_alphabet[v & 63]);
    }
    const std::size_t rest = in.size() - i;
    if (rest == 0) return;
    std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    if (rest == 2) v |= std::uint32_t{bytes[i + 1]} << 8;
    out.push_back(base64_alphabet[(v >> 18) & 63]);
    out.push_back(base64_alphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? base64_alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
}

bool base64_decode(std::string_view in, std::string& out) {
    if (in.size() % 4 != 0) return false;
    const std::size_t pad = in.empty() ? 0 : (in.back() == '=') + (in.size() >= 2 && in[in.size() - 2] == '=');
    out.resize(in.size() / 4 * 3 - pad);
    char* o = out.data();
    const auto* i = reinterpret_cast<const unsigned char*>(in.data());
    const std::size_t groups = in.size() / 4;
    for (std::size_t g = 0; g < groups; ++g, i += 4) {
        const bool last = g + 1 == groups;
        const std::size_t digits = last ? 4 - pad : 4;
        std::uint32_t v = 0;
        for (std::size_t k = 0; k < digits; ++k) {
            const std::int8_t d = base64_values[i[k]];
            if (d < 0) return false;
            v |= static_cast<std::uint32_t>(d) << (18 - 6 * k);
        }
        *o++ = static_cast<char>((v >> 16) & 0xff);
        if (digits > 2) *o++ = static_cast<char>((v >> 8) & 0xff);
        if (digits > 3) *o++ = static_cast<char>(v & 0xff);
    }
    return true;
}

std::string base64url_encode(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
        out += base64url_alphabet[(n >> 18) & 63];
        out += base64url_alphabet[(n >> 12) & 63];
        out += base64url_alphabet[(n >> 6) & 63];
        out += base64url_alphabet[n & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t n = bytes[i] << 16;
        out += base64url_alphabet[(n >> 18) & 63];
        out += base64url_alphabet[(n >> 12) & 63];
    } else if (rest == 2) {
        const std::uint32_t n = (bytes[i] << 16) | (bytes[i + 1] << 8);
        out += base64url_alphabet[(n >> 18) & 63];
        out += base64url_alphabet[(n >> 12) & 63];
        out += base64url_alphabet[(n >> 6) & 63];
    }
    return out;
}

bool base64url_decode(std::string_view text, std::span<std::uint8_t> out) {
    const std::size_t expected_chars = (out.size() * 4 + 2) / 3;
    if (text.size() != expected_chars) return false;
    std::uint32_t accumulator = 0;
    int bits = 0;
    std::size_t written = 0;
    for (const char c : text) {
        const int value = base64url_value(c);
        if (value < 0) return false;
        accumulator = (accumulator << 6) | static_cast<std::uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            assert(written < out.size());
            out[written++] = static_cast<std::uint8_t>((accumulator >> bits) & 0xff);
        }
    }
    const bool leftover_bits_zero = (accumulator & ((1u << bits) - 1)) == 0;
    return written == out.size() && leftover_bits_zero;
}

}  // namespace encore
