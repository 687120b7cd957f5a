#include "api/tickets.hpp"

#include <cassert>
#include <vector>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <qrencode.h>

#include "events/ids.hpp"
#include "events/text.hpp"
#include "events/time.hpp"

namespace encore::api {
namespace {

// The protected header, always these bytes: {"alg":"EdDSA"}.
constexpr std::string_view header_json = R"({"alg":"EdDSA"})";
constexpr std::size_t signature_bytes = 64;

std::string encode_text(std::string_view text) {
    return base64url_encode({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

// Unpadded base64url of unknown length: the decoded size follows from the text's.
std::optional<std::string> decode_text(std::string_view text) {
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out(text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1), '\0');
    if (!base64url_decode(text, {reinterpret_cast<std::uint8_t*>(out.data()), out.size()})) return std::nullopt;
    return out;
}

struct pkey_free {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

}  // namespace

struct ticket_signer::concert_key {
    std::unique_ptr<EVP_PKEY, pkey_free> key;
    std::array<std::uint8_t, 32> public_key{};
};

ticket_signer::ticket_signer(const token_signer& tokens) : tokens_(tokens) {}
ticket_signer::~ticket_signer() = default;

std::shared_ptr<const ticket_signer::concert_key> ticket_signer::key_of(concert_id concert) const {
    std::lock_guard lock(mutex_);
    auto& slot = keys_[concert.value];
    if (slot) return slot;
    auto seed = tokens_.derived_key("ticket-key", to_text(concert));
    auto made = std::make_shared<concert_key>();
    made->key.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
    OPENSSL_cleanse(seed.data(), seed.size());
    assert(made->key && "OpenSSL has no Ed25519");
    std::size_t length = made->public_key.size();
    [[maybe_unused]] const int ok = EVP_PKEY_get_raw_public_key(made->key.get(), made->public_key.data(), &length);
    assert(ok == 1 && length == 32);
    slot = std::move(made);
    return slot;
}

std::array<std::uint8_t, 32> ticket_signer::public_key(concert_id concert) const { return key_of(concert)->public_key; }

std::string ticket_signer::code(const ticket_claims& c) const {
    nlohmann::json payload = {{"tid", ticket_text(c.reservation, c.index)}, {"cid", to_text(c.concert)},
                              {"date", format_date(c.date)}, {"v", c.version}};
    if (c.seat != 0) payload["seat"] = c.seat;
    if (!c.section.empty()) payload["sec"] = c.section;
    if (!c.gate.empty()) payload["gate"] = c.gate;
    if (c.entry != 0) payload["en"] = c.entry;
    std::string signing_input = encode_text(header_json) + "." + encode_text(payload.dump());
    const auto key = key_of(c.concert);
    std::array<std::uint8_t, signature_bytes> signature{};
    std::size_t length = signature.size();
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    [[maybe_unused]] const bool ok =
        context != nullptr && EVP_DigestSignInit(context, nullptr, nullptr, nullptr, key->key.get()) == 1 &&
        EVP_DigestSign(context, signature.data(), &length, reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) == 1 &&
        length == signature_bytes;
    EVP_MD_CTX_free(context);
    assert(ok && "Ed25519 signing failed");
    signing_input += '.';
    signing_input += base64url_encode(signature);
    return signing_input;
}

std::optional<ticket_claims> ticket_signer::verify(std::string_view code) const {
    if (code.size() > ticket_code_bytes_max) return std::nullopt;
    const auto first = code.find('.');
    const auto second = first == std::string_view::npos ? first : code.find('.', first + 1);
    if (second == std::string_view::npos || code.find('.', second + 1) != std::string_view::npos) return std::nullopt;
    const auto header = decode_text(code.substr(0, first));
    const auto payload_text = decode_text(code.substr(first + 1, second - first - 1));
    std::array<std::uint8_t, signature_bytes> signature{};
    if (!header || !payload_text || !base64url_decode(code.substr(second + 1), signature)) return std::nullopt;
    const auto header_fields = nlohmann::json::parse(*header, nullptr, false);
    if (!header_fields.is_object() || header_fields.value("alg", "") != "EdDSA") return std::nullopt;
    const auto payload = nlohmann::json::parse(*payload_text, nullptr, false);
    if (!payload.is_object()) return std::nullopt;
    ticket_claims c;
    auto text = [&](const char* name) -> std::optional<std::string> {
        auto it = payload.find(name);
        if (it == payload.end() || !it->is_string()) return std::nullopt;
        return it->get<std::string>();
    };
    auto number = [&](const char* name, std::uint32_t& out) {
        auto it = payload.find(name);
        if (it == payload.end()) return true;
        if (!it->is_number_unsigned() || it->get<std::uint64_t>() > 0xFFFFFFFFu) return false;
        out = static_cast<std::uint32_t>(it->get<std::uint64_t>());
        return true;
    };
    const auto tid = text("tid"), cid = text("cid"), date = text("date");
    const auto ticket = tid ? parse_ticket_id(*tid) : std::nullopt;
    const auto concert = cid ? parse_concert_id(*cid) : std::nullopt;
    const auto day = date ? parse_date(*date) : std::nullopt;
    if (!ticket || !concert || !day || !number("seat", c.seat) || !number("en", c.entry) || !number("v", c.version)) return std::nullopt;
    c.reservation = ticket->first;
    c.index = ticket->second;
    c.concert = *concert;
    c.date = *day;
    c.section = text("sec").value_or("");
    c.gate = text("gate").value_or("");
    // The signature, last: over the text as sent, with the key of the concert it names.
    const std::string_view signing_input = code.substr(0, second);
    const auto key = key_of(c.concert);
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    const bool valid = context != nullptr && EVP_DigestVerifyInit(context, nullptr, nullptr, nullptr, key->key.get()) == 1 &&
                       EVP_DigestVerify(context, signature.data(), signature.size(),
                                        reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
    EVP_MD_CTX_free(context);
    if (!valid) return std::nullopt;
    return c;
}

std::string qr_svg(std::string_view text, unsigned module_px) {
    const std::string input(text);
    QRcode* qr = QRcode_encodeString8bit(input.c_str(), 0, QR_ECLEVEL_M);
    if (qr == nullptr) return {};
    constexpr int quiet = 4;
    const int width = qr->width, size = width + 2 * quiet;
    const std::string pixels = std::to_string(size * static_cast<int>(module_px));
    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + pixels + "\" height=\"" + pixels + "\" viewBox=\"0 0 " +
                      std::to_string(size) + " " + std::to_string(size) +
                      "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
    // Each row's runs of dark modules, one rectangle a run.
    for (int y = 0; y < width; ++y) {
        for (int x = 0; x < width;) {
            if ((qr->data[y * width + x] & 1) == 0) {
                ++x;
                continue;
            }
            int run = 1;
            while (x + run < width && (qr->data[y * width + x + run] & 1) != 0) ++run;
            svg += "M" + std::to_string(x + quiet) + " " + std::to_string(y + quiet) + "h" + std::to_string(run) + "v1h-" +
                   std::to_string(run) + "z";
            x += run;
        }
    }
    QRcode_free(qr);
    svg += "\"/></svg>";
    return svg;
}

}  // namespace encore::api
