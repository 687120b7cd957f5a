#pragma once
// Signed, opaque, URL-safe tokens: the user token (identity, from POST /users) and the queue token
// (admission to one concert's waiting room). A token carries no secret; it proves that this
// service issued these claims, so the server keeps no token table.
//
// Format: base64url(payload) "." base64url(HMAC-SHA256(secret, payload)), no padding, where
// payload = kind byte, version byte, then big-endian 64-bit claims. The kind byte is inside the
// MAC, so a user token never verifies as a queue token nor the reverse. Decoding is strict (a
// non-canonical base64url character fails), so any modified character fails verification.
//
// Thread safety: a token_signer is immutable after construction; every member may be called from
// any thread at once.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace encore::api {

// HMAC-SHA256 keys shorter than the hash output weaken it; shorter secrets are a configuration bug.
inline constexpr std::size_t token_secret_bytes_min = 32;
// Anything longer than the longest token we issue is garbage; refuse it before decoding.
inline constexpr std::size_t token_text_bytes_max = 128;

struct queue_claims {
    std::uint64_t user = 0;
    std::uint64_t concert = 0;
    std::uint64_t ticket = 0;  // the queue entry, so a re-issued token is a different token
    friend bool operator==(const queue_claims&, const queue_claims&) = default;
};

class token_signer {
public:
    // `secret` is at least token_secret_bytes_min bytes (asserted); any bytes, e.g. generate_secret().
    explicit token_signer(std::string secret);
    ~token_signer();
    token_signer(token_signer&&) noexcept;
    token_signer& operator=(token_signer&&) noexcept;
    token_signer(const token_signer&) = delete;
    token_signer& operator=(const token_signer&) = delete;

    std::string user_token(std::uint64_t user) const;
    std::optional<std::uint64_t> verify_user_token(std::string_view token) const;

    std::string queue_token(std::uint64_t user, std::uint64_t concert, std::uint64_t ticket) const;
    std::optional<queue_claims> verify_queue_token(std::string_view token) const;

    // A nonzero id derived from `text` under the secret (HMAC), the same on every node that shares
    // the secret and unpredictable without it: the id of a user or concert created with an
    // Idempotency-Key, so that a repeat names the same one and lands in the same partition.
    std::uint64_t derived_id(std::string_view purpose, std::string_view text) const;
    // 32 bytes derived the same way, whole: the seed of a key made from the secret (a concert's
    // ticket signing key), the same on every node and never stored.
    std::array<std::uint8_t, 32> derived_key(std::string_view purpose, std::string_view text) const;

private:
    std::string sign(const std::uint8_t* payload, std::size_t payload_bytes) const;
    // True if `token` is well formed, carries a valid MAC and its payload is `payload_bytes` long.
    bool open(std::string_view token, std::uint8_t* payload, std::size_t payload_bytes) const;

    struct mac_key;
    std::unique_ptr<mac_key> key_;
};

// 32 bytes from the operating system's CSPRNG, as 64 lowercase hex characters. A failing random
// source aborts the process: continuing with a guessable secret would be worse than stopping.
std::string generate_secret();

}  // namespace encore::api
