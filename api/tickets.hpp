#pragma once
// Tickets (API.md "Tickets and the door"): a ticket's signed code, a compact JWS (RFC 7515) with
// {"alg":"EdDSA"} (RFC 8037) over its claims, and its QR code as SVG.
//
// Each concert signs with its own Ed25519 key, derived from the token secret and the concert id
// (HMAC-SHA256 gives the 32-byte seed), so every node that shares the secret signs and verifies
// alike and no key is stored or logged. Ed25519 signatures are deterministic: a ticket's code is
// the same every time it is rendered.
//
// Thread safety: a ticket_signer may be used from any thread at once (its key cache is locked).

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/tokens.hpp"
#include "events/types.hpp"

namespace encore::api {

inline constexpr std::size_t ticket_code_bytes_max = 1024;

// What a code says (its payload): the ticket, its concert and date, where it lets in, its version.
struct ticket_claims {
    reservation_id reservation;
    std::uint32_t index = 0;  // 1-based: the reservation's n-th seat or place
    concert_id concert;
    day_number date = 0;
    std::uint32_t seat = 0;   // 0: a standing place
    std::string section;      // the layout's section or zone; empty without a layout
    std::string gate;         // the section's gate; empty: any
    std::uint32_t entry = 0;  // a standing place's entry number
    std::uint32_t version = 1;
    friend bool operator==(const ticket_claims&, const ticket_claims&) = default;
};

class ticket_signer {
public:
    explicit ticket_signer(const token_signer& tokens);
    ~ticket_signer();
    ticket_signer(const ticket_signer&) = delete;
    ticket_signer& operator=(const ticket_signer&) = delete;

    // "header.payload.signature", each part unpadded base64url.
    std::string code(const ticket_claims& claims) const;
    // The claims of a well-formed code whose signature verifies under its concert's key.
    std::optional<ticket_claims> verify(std::string_view code) const;
    // The concert's raw 32-byte Ed25519 public key.
    std::array<std::uint8_t, 32> public_key(concert_id concert) const;

private:
    struct concert_key;
    std::shared_ptr<const concert_key> key_of(concert_id concert) const;

    const token_signer& tokens_;
    mutable std::mutex mutex_;
    mutable std::unordered_map<std::uint64_t, std::shared_ptr<const concert_key>> keys_;
};

// An SVG image of `text` as a QR code (error correction M, 4 modules of quiet zone), `module_px`
// pixels a module. Empty when the text does not fit a QR code.
std::string qr_svg(std::string_view text, unsigned module_px = 6);

}  // namespace encore::api
