// Bytes as text (events/text.hpp): RFC 4648's test vectors for base64 and base64url, the strict
// decoder's refusals, hexadecimal.

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "events/text.hpp"

using namespace encore;

namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

TEST_CASE("hex: two lower-case digits a byte, cut after max bytes", "[text]") {
    CHECK(hex(std::string_view("")) == "");
    CHECK(hex(std::string_view("\x00\x0f\xf0\xff", 4)) == "000ff0ff");
    CHECK(hex(std::string_view("abcdef"), 2) == "6162...");
    CHECK(hex(std::string_view("ab"), 2) == "6162");
    const std::array<std::uint8_t, 3> raw{0xde, 0xad, 0x01};
    CHECK(hex(std::span<const std::uint8_t>(raw)) == "dead01");
    CHECK(hex_u64(0) == "0000000000000000");
    CHECK(hex_u64(0x0123456789abcdefULL) == "0123456789abcdef");
}

TEST_CASE("base64: RFC 4648's vectors both ways, anything else refused", "[text]") {
    const std::vector<std::pair<std::string, std::string>> vectors = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        INFO(plain);
        std::string out;
        base64_encode(plain, out);
        CHECK(out == encoded);
        std::string back;
        REQUIRE(base64_decode(encoded, back));
        CHECK(back == plain);
    }
    std::string out = "kept";
    base64_encode("f", out);
    CHECK(out == "keptZg==");  // appends
    std::string sink;
    for (const char* bad : {"Zg=", "Zg", "Z===", "Zm9v!A==", "Zm 9v", "-_-_"}) {
        INFO(bad);
        CHECK_FALSE(base64_decode(bad, sink));
    }
}

TEST_CASE("base64url: unpadded, strict, exactly the bytes asked for", "[text]") {
    CHECK(base64url_encode(bytes_of("")) == "");
    CHECK(base64url_encode(bytes_of("f")) == "Zg");
    CHECK(base64url_encode(bytes_of("fo")) == "Zm8");
    CHECK(base64url_encode(bytes_of("foobar")) == "Zm9vYmFy");
    const std::array<std::uint8_t, 3> high{0xfb, 0xff, 0xbf};
    CHECK(base64url_encode(high) == "-_-_");
    std::array<std::uint8_t, 3> back{};
    REQUIRE(base64url_decode("-_-_", back));
    CHECK(back == high);
    std::array<std::uint8_t, 1> one{};
    REQUIRE(base64url_decode("Zg", one));
    CHECK(one[0] == 'f');
    CHECK_FALSE(base64url_decode("Zh", one));   // unused low bits set: another text for the same byte
    CHECK_FALSE(base64url_decode("Zg==", one)); // padding
    CHECK_FALSE(base64url_decode("Z", one));    // too short for one byte
    CHECK_FALSE(base64url_decode("+/+/", back)); // base64's alphabet, not base64url's
    CHECK_FALSE(base64url_decode("Zm9vYg", back)); // more bytes than asked for
}
