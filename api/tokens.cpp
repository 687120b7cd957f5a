#include "api/tokens.hpp"

#include <array>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "events/text.hpp"

namespace encore::api {
namespace {

constexpr std::uint8_t token_version = 1;
// Distinct kinds, so that a payload of one kind can never be read as another.
constexpr std::uint8_t kind_user = 0x55;   // 'U'
constexpr std::uint8_t kind_queue = 0x51;  // 'Q'
constexpr std::uint8_t kind_derived = 0x44;  // 'D': never a token, so no id is ever a valid MAC
constexpr std::size_t claim_bytes = 8;
constexpr std::size_t header_bytes = 2;  // kind, version
constexpr std::size_t user_payload_bytes = header_bytes + claim_bytes;
constexpr std::size_t queue_payload_bytes = header_bytes + 3 * claim_bytes;
constexpr std::size_t mac_bytes = 32;  // SHA-256
constexpr std::size_t secret_bytes_generated = 32;

void put_u64(std::uint8_t* at, std::uint64_t value) {
    for (int i = 7; i >= 0; --i) {
        at[i] = static_cast<std::uint8_t>(value & 0xff);
        value >>= 8;
    }
}

std::uint64_t get_u64(const std::uint8_t* at) {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = (value << 8) | at[i];
    return value;
}

}  // namespace

// A keyed HMAC context made once; each signature starts from a copy of it, so the key schedule is
// not recomputed per token and concurrent callers never share mutable state.
struct token_signer::mac_key {
    EVP_MAC* mac = nullptr;
    EVP_MAC_CTX* keyed = nullptr;

    ~mac_key() {
        EVP_MAC_CTX_free(keyed);
        EVP_MAC_free(mac);
    }

    // Returns false only if OpenSSL fails (out of memory); callers treat that as "not verified".
    bool compute(std::span<const std::uint8_t> payload, std::array<std::uint8_t, mac_bytes>& out) const {
        EVP_MAC_CTX* context = EVP_MAC_CTX_dup(keyed);
        if (context == nullptr) return false;
        std::size_t length = 0;
        const bool ok = EVP_MAC_update(context, payload.data(), payload.size()) == 1 &&
                        EVP_MAC_final(context, out.data(), &length, out.size()) == 1 &&
                        length == mac_bytes;
        EVP_MAC_CTX_free(context);
        return ok;
    }
};

token_signer::token_signer(std::string secret) : key_(std::make_unique<mac_key>()) {
    assert(secret.size() >= token_secret_bytes_min && "the token secret is too short");
    key_->mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
    assert(key_->mac != nullptr && "OpenSSL has no HMAC");
    key_->keyed = EVP_MAC_CTX_new(key_->mac);
    assert(key_->keyed != nullptr);
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    const int initialised =
        EVP_MAC_init(key_->keyed, reinterpret_cast<const unsigned char*>(secret.data()),
                     secret.size(), params);
    assert(initialised == 1 && "HMAC-SHA256 initialisation failed");
    (void)initialised;
    OPENSSL_cleanse(secret.data(), secret.size());
}

token_signer::~token_signer() = default;
token_signer::token_signer(token_signer&&) noexcept = default;
token_signer& token_signer::operator=(token_signer&&) noexcept = default;

std::string token_signer::sign(const std::uint8_t* payload, std::size_t payload_bytes) const {
    assert(key_ && "a moved-from token_signer is used");
    std::array<std::uint8_t, mac_bytes> mac{};
    const bool signed_ok = key_->compute({payload, payload_bytes}, mac);
    // Only an allocation failure inside OpenSSL gets here; a token without a valid MAC must
    // never leave the process.
    assert(signed_ok && "HMAC computation failed");
    (void)signed_ok;
    std::string token = base64url_encode({payload, payload_bytes});
    token += '.';
    token += base64url_encode(mac);
    return token;
}

bool token_signer::open(std::string_view token, std::uint8_t* payload,
                        std::size_t payload_bytes) const {
    assert(key_ && "a moved-from token_signer is used");
    if (token.size() > token_text_bytes_max) return false;
    const auto dot = token.find('.');
    if (dot == std::string_view::npos) return false;
    std::array<std::uint8_t, mac_bytes> presented{};
    if (!base64url_decode(token.substr(0, dot), {payload, payload_bytes})) return false;
    if (!base64url_decode(token.substr(dot + 1), presented)) return false;
    std::array<std::uint8_t, mac_bytes> expected{};
    if (!key_->compute({payload, payload_bytes}, expected)) return false;
    // Constant time, so response timing does not reveal how many MAC bytes a forgery got right.
    return CRYPTO_memcmp(expected.data(), presented.data(), mac_bytes) == 0;
}

std::array<std::uint8_t, 32> token_signer::derived_key(std::string_view purpose, std::string_view text) const {
    static_assert(mac_bytes == 32);
    assert(key_ && "a moved-from token_signer is used");
    std::vector<std::uint8_t> payload{kind_derived, token_version};
    payload.insert(payload.end(), purpose.begin(), purpose.end());
    payload.push_back(0);
    payload.insert(payload.end(), text.begin(), text.end());
    std::array<std::uint8_t, mac_bytes> mac{};
    [[maybe_unused]] const bool ok = key_->compute(payload, mac);
    assert(ok && "HMAC computation failed");
    return mac;
}

std::uint64_t token_signer::derived_id(std::string_view purpose, std::string_view text) const {
    const auto mac = derived_key(purpose, text);
    std::uint64_t id = get_u64(mac.data());
    return id == 0 ? 1 : id;
}

std::string token_signer::user_token(std::uint64_t user) const {
    std::array<std::uint8_t, user_payload_bytes> payload{kind_user, token_version};
    put_u64(payload.data() + header_bytes, user);
    return sign(payload.data(), payload.size());
}

std::optional<std::uint64_t> token_signer::verify_user_token(std::string_view token) const {
    std::array<std::uint8_t, user_payload_bytes> payload{};
    if (!open(token, payload.data(), payload.size())) return std::nullopt;
    if (payload[0] != kind_user || payload[1] != token_version) return std::nullopt;
    return get_u64(payload.data() + header_bytes);
}

std::string token_signer::queue_token(std::uint64_t user, std::uint64_t concert,
                                      std::uint64_t ticket) const {
    std::array<std::uint8_t, queue_payload_bytes> payload{kind_queue, token_version};
    put_u64(payload.data() + header_bytes, user);
    put_u64(payload.data() + header_bytes + claim_bytes, concert);
    put_u64(payload.data() + header_bytes + 2 * claim_bytes, ticket);
    return sign(payload.data(), payload.size());
}

std::optional<queue_claims> token_signer::verify_queue_token(std::string_view token) const {
    std::array<std::uint8_t, queue_payload_bytes> payload{};
    if (!open(token, payload.data(), payload.size())) return std::nullopt;
    if (payload[0] != kind_queue || payload[1] != token_version) return std::nullopt;
    return queue_claims{
        .user = get_u64(payload.data() + header_bytes),
        .concert = get_u64(payload.data() + header_bytes + claim_bytes),
        .ticket = get_u64(payload.data() + header_bytes + 2 * claim_bytes),
    };
}

std::string generate_secret() {
    std::array<unsigned char, secret_bytes_generated> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        std::fputs("encore: the random source failed while generating a secret\n", stderr);
        std::abort();
    }
    std::string secret = hex(bytes);
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return secret;
}

}  // namespace encore::api
