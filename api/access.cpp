#include "api/access.hpp"

#include <openssl/crypto.h>

#include <climits>

#include "events/ids.hpp"

namespace encore::api {
namespace {

std::string_view bearer(std::string_view authorization) {
    constexpr std::string_view prefix = "Bearer ";
    if (authorization.size() <= prefix.size() || authorization.substr(0, prefix.size()) != prefix) return {};
    return authorization.substr(prefix.size());
}

}  // namespace

bool admin_authorized(request_context& rc, std::string_view expected) {
    std::string_view key = rc.header("X-Admin-Key");
    bool ok = key.size() == expected.size() && !expected.empty() && CRYPTO_memcmp(key.data(), expected.data(), key.size()) == 0;
    if (!ok) rc.fail(401, "UNAUTHORIZED", "a valid X-Admin-Key header is required");
    return ok;
}

std::optional<user_id> authenticated_user(request_context& rc, const token_signer& tokens) {
    std::string_view token = bearer(rc.header("Authorization"));
    if (token.empty()) {
        if (auto q = rc.query_param("token"); q && rc.route.ends_with("/queue/stream")) token = *q;
    }
    if (auto u = tokens.verify_user_token(token)) return user_id{*u};
    rc.fail(401, "UNAUTHORIZED", "a valid user token is required (Authorization: Bearer <token>)");
    return std::nullopt;
}

std::optional<queue_claims> queue_claims_for(request_context& rc, const token_signer& tokens, user_id u,
                                             std::optional<concert_id> c, std::string_view token) {
    auto claims = tokens.verify_queue_token(token);
    if (!c || !claims || claims->user != u.value || claims->concert != c->value) {
        rc.fail(403, "QUEUE_TOKEN_INVALID", "the queue token is missing or not valid for this user and concert");
        return std::nullopt;
    }
    return claims;
}

std::optional<projections::queue_view> ticket_view(const projections::read_models& models, const queue_claims& claims,
                                                   time_ms now) {
    auto q = models.queue(concert_id{claims.concert}, user_id{claims.user}, now);
    if (!q || q->ticket < claims.ticket) return std::nullopt;
    if (q->ticket != claims.ticket) return projections::queue_view{.ticket = claims.ticket, .status = queue_status::expired};
    return q;
}

std::optional<std::uint32_t> seat_number(std::string_view text) {
    if (text.empty() || text.size() > 9 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    std::uint32_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint32_t>(c - '0');
    }
    return v;
}

std::optional<reservation_id> owned_reservation_id(std::string_view text, std::uint32_t partitions) {
    auto r = parse_reservation_id(text);
    if (!r || r->position().partition >= partitions) return std::nullopt;
    return r;
}

std::optional<std::int64_t> strict_integer(const nlohmann::json& j) {
    if (j.is_number_integer()) return j.get<std::int64_t>();
    if (j.is_number_unsigned()) {
        auto v = j.get<std::uint64_t>();
        if (v <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(v);
    }
    return std::nullopt;
}

}  // namespace encore::api
