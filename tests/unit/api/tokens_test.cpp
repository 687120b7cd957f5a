#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <string>

#include "api/tokens.hpp"

using namespace encore::api;

namespace {

const std::string secret_a = "0123456789abcdef0123456789abcdef-secret-a";
const std::string secret_b = "0123456789abcdef0123456789abcdef-secret-b";

bool url_safe(const std::string& token) {
    for (const char c : token) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

}  // namespace

TEST_CASE("tokens: user and queue tokens round trip", "[tokens]") {
    const token_signer signer(secret_a);
    for (const std::uint64_t user : {0ull, 1ull, 42ull, 0xffffffffffffffffull}) {
        const auto token = signer.user_token(user);
        CHECK(url_safe(token));
        CHECK(token.size() <= token_text_bytes_max);
        REQUIRE(signer.verify_user_token(token) == user);
    }
    const queue_claims claims{.user = 7, .concert = 0x1234567890abcdefull, .ticket = 99};
    const auto token = signer.queue_token(claims.user, claims.concert, claims.ticket);
    CHECK(url_safe(token));
    CHECK(token.size() <= token_text_bytes_max);
    REQUIRE(signer.verify_queue_token(token) == claims);
    // Deterministic: the same claims give the same token (a client may compare them).
    CHECK(signer.queue_token(7, claims.concert, 99) == token);
    CHECK(signer.queue_token(7, claims.concert, 100) != token);
}

TEST_CASE("tokens: another secret's tokens do not verify", "[tokens]") {
    const token_signer ours(secret_a);
    const token_signer theirs(secret_b);
    CHECK_FALSE(ours.verify_user_token(theirs.user_token(1)));
    CHECK_FALSE(ours.verify_queue_token(theirs.queue_token(1, 2, 3)));
}

TEST_CASE("tokens: a user token is never a queue token and the reverse", "[tokens]") {
    const token_signer signer(secret_a);
    const auto user = signer.user_token(5);
    const auto queue = signer.queue_token(5, 6, 7);
    CHECK_FALSE(signer.verify_queue_token(user));
    CHECK_FALSE(signer.verify_user_token(queue));
    // Splicing one token's payload with the other's MAC fails both ways.
    const auto user_dot = user.find('.');
    const auto queue_dot = queue.find('.');
    const auto spliced_a = user.substr(0, user_dot) + queue.substr(queue_dot);
    const auto spliced_b = queue.substr(0, queue_dot) + user.substr(user_dot);
    CHECK_FALSE(signer.verify_user_token(spliced_a));
    CHECK_FALSE(signer.verify_queue_token(spliced_a));
    CHECK_FALSE(signer.verify_user_token(spliced_b));
    CHECK_FALSE(signer.verify_queue_token(spliced_b));
}

TEST_CASE("tokens: every single-character change fails", "[tokens]") {
    const token_signer signer(secret_a);
    const auto user = signer.user_token(123456789);
    const auto queue = signer.queue_token(1, 2, 3);
    for (const auto& original : {user, queue}) {
        for (std::size_t i = 0; i < original.size(); ++i) {
            for (const char replacement : alphabet) {
                if (replacement == original[i]) continue;
                auto forged = original;
                forged[i] = replacement;
                INFO("position " << i << " -> " << replacement);
                REQUIRE_FALSE(signer.verify_user_token(forged));
                REQUIRE_FALSE(signer.verify_queue_token(forged));
            }
        }
    }
}

TEST_CASE("tokens: truncated and extended tokens fail", "[tokens]") {
    const token_signer signer(secret_a);
    const auto token = signer.queue_token(1, 2, 3);
    for (std::size_t length = 0; length < token.size(); ++length) {
        REQUIRE_FALSE(signer.verify_queue_token(token.substr(0, length)));
        REQUIRE_FALSE(signer.verify_queue_token(token.substr(token.size() - length)));
    }
    CHECK_FALSE(signer.verify_queue_token(token + "A"));
    CHECK_FALSE(signer.verify_queue_token(token + "."));
    CHECK_FALSE(signer.verify_queue_token(token + "=="));
    CHECK_FALSE(signer.verify_queue_token(" " + token));
    CHECK_FALSE(signer.verify_queue_token(token + std::string(1, '\0')));
    CHECK_FALSE(signer.verify_user_token(std::string(100000, 'A')));
}

TEST_CASE("tokens: random garbage never verifies nor crashes", "[tokens]") {
    const token_signer signer(secret_a);
    std::mt19937_64 random(20260101);
    const auto valid = signer.queue_token(1, 2, 3);
    for (int i = 0; i < 4000; ++i) {
        std::string garbage;
        const std::size_t length = random() % 160;
        const bool printable = i % 2 == 0;
        for (std::size_t j = 0; j < length; ++j) {
            garbage += printable ? alphabet[random() % alphabet.size()]
                                 : static_cast<char>(random() & 0xff);
        }
        // Half the time shaped like a token: the right lengths around one dot.
        if (i % 4 == 0 && valid.size() <= garbage.size()) {
            garbage.resize(valid.size());
            garbage[valid.find('.')] = '.';
        }
        INFO("garbage #" << i);
        REQUIRE_FALSE(signer.verify_user_token(garbage));
        REQUIRE_FALSE(signer.verify_queue_token(garbage));
    }
}

TEST_CASE("tokens: generate_secret gives distinct 64-hex-digit secrets", "[tokens]") {
    std::set<std::string> seen;
    for (int i = 0; i < 16; ++i) {
        const auto secret = generate_secret();
        REQUIRE(secret.size() == 64);
        CHECK(secret.find_first_not_of("0123456789abcdef") == std::string::npos);
        seen.insert(secret);
    }
    CHECK(seen.size() == 16);
    const token_signer signer(generate_secret());
    CHECK(signer.verify_user_token(signer.user_token(9)) == 9u);
}

TEST_CASE("tokens: a moved signer still works", "[tokens]") {
    token_signer first(secret_a);
    const auto token = first.user_token(3);
    token_signer second(std::move(first));
    CHECK(second.verify_user_token(token) == 3u);
}
