#include "events/chain.hpp"

#include <openssl/evp.h>

#include <cassert>
#include <cstring>
#include <memory>

#include "events/text.hpp"

namespace encore {

chain_link chain_next(const chain_link& previous, std::string_view event_bytes) {
    // One context per thread, reused: creating an EVP context per event costs more than hashing.
    // Owned by the thread and freed when it ends (a bare pointer leaked one per thread).
    struct context_deleter {
        void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
    };
    thread_local std::unique_ptr<EVP_MD_CTX, context_deleter> owned(EVP_MD_CTX_new());
    EVP_MD_CTX* ctx = owned.get();
    // Fetched once: OpenSSL 3 looks EVP_sha256() up in its provider registry, under a lock, on
    // every init, which cost more than hashing a small event (half the time of chain_next).
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    assert(sha256 != nullptr);
    chain_link out{};
    unsigned int length = 0;
    [[maybe_unused]] int ok = EVP_DigestInit_ex(ctx, sha256, nullptr);
    ok &= EVP_DigestUpdate(ctx, previous.data(), previous.size());
    ok &= EVP_DigestUpdate(ctx, event_bytes.data(), event_bytes.size());
    ok &= EVP_DigestFinal_ex(ctx, out.data(), &length);
    assert(ok == 1 && length == out.size());
    return out;
}

std::string seal(const chain_link& link, std::string_view event_bytes) {
    std::string out;
    out.reserve(link.size() + event_bytes.size());
    out.append(reinterpret_cast<const char*>(link.data()), link.size());
    out.append(event_bytes);
    return out;
}

bool unseal(std::string_view record, sealed_event& out) {
    if (record.size() <= out.link.size()) return false;
    std::memcpy(out.link.data(), record.data(), out.link.size());
    out.event_bytes = record.substr(out.link.size());
    return true;
}

std::string to_hex(const chain_link& link) { return hex(link); }

}  // namespace encore
