#include "api/documents.hpp"

#include "events/ids.hpp"
#include "events/time.hpp"

namespace encore::api {

nlohmann::json reservation_json(const reservation& r) {
    nlohmann::json j = {{"reservationId", reservation_text(r.id)},
                        {"concertId", to_text(r.concert)},
                        {"date", format_date(r.date)},
                        {"seat", r.seat},
                        {"seats", seats_of(r)},
                        {"price", r.price},
                        {"status", to_string(r.status)},
                        {"heldAt", format_instant(r.held_at)},
                        {"expiresAt", format_instant(r.expires_at)}};
    if (r.paid_at != 0) j["paidAt"] = format_instant(r.paid_at);
    if (r.payment.value != 0) j["paymentId"] = payment_text(r.payment);
    if (r.extra.refunded_at != 0) j["refundedAt"] = format_instant(r.extra.refunded_at);
    return j;
}

std::string queue_body(const projections::queue_view& q, const std::string& queue_token) {
    std::string out = "{";
    if (!queue_token.empty()) out += R"("queueToken":")" + queue_token + "\",";
    out += R"("status":")";
    out += to_string(q.status);
    // In the pre-queue nobody has a place: the position is null until onsaleAt.
    out += R"(","position":)" + (q.pre_queue ? std::string("null") : std::to_string(q.position)) +
           R"(,"estimatedWaitSeconds":)" + std::to_string(q.estimated_wait_seconds) + R"(,"preQueue":)" +
           (q.pre_queue ? "true" : "false");
    if (q.onsale_at != 0) out += R"(,"onsaleAt":")" + format_instant(q.onsale_at) + "\"";
    if (q.status == queue_status::active) out += R"(,"activeUntil":")" + format_instant(q.active_until) + "\"";
    out += '}';
    return out;
}

}  // namespace encore::api
