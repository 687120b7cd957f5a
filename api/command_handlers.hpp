#pragma once
// Internal to api/: the command handlers. Each validates and authenticates the request, builds
// the command, and hands it to the command gateway, which answers once its outcome is projected.
// Domain checks (seat taken, hold limit, balance…) are the engine's: a handler refuses only what
// the request itself makes impossible (a malformed body, a bad token, an unknown concert).

#include <functional>
#include <string>

#include "api/gateway.hpp"
#include "api/requests.hpp"
#include "api/tokens.hpp"
#include "projections/read_models.hpp"

namespace encore::api {

struct command_env {
    command_gateway& gateway;
    const projections::read_models& models;  // a 404 for an unknown concert before anything is logged
    const token_signer& tokens;              // user tokens, and ids derived from idempotency keys
    std::string admin_key;
    std::uint32_t partitions = 1;
    std::function<std::uint64_t()> random_id;  // ids of new users and concerts sent without a key
    std::function<std::int64_t()> clock;       // wall clock in ms (claims' rate limit)
};

namespace commands {

void post_users(const command_env& env, request_context& rc);    // POST /users
void post_charge(const command_env& env, request_context& rc);   // POST /users/me/balance/charge
void post_concert(const command_env& env, request_context& rc);  // POST /admin/concerts
void post_queue(const command_env& env, request_context& rc);    // POST /concerts/{c}/queue
void post_hold(const command_env& env, request_context& rc);     // POST /concerts/{c}/dates/{d}/seats/{s}/hold
void post_holds(const command_env& env, request_context& rc);    // POST /concerts/{c}/dates/{d}/holds
void delete_reservation(const command_env& env, request_context& rc);   // DELETE /reservations/{r}
void post_pay(const command_env& env, request_context& rc);      // POST /reservations/{r}/pay
void post_refund(const command_env& env, request_context& rc);   // POST /reservations/{r}/refund
// The organizer's controls.
void patch_concert(const command_env& env, request_context& rc);  // PATCH /admin/concerts/{c}
void post_dates(const command_env& env, request_context& rc);     // POST /admin/concerts/{c}/dates
void post_blocks(const command_env& env, request_context& rc);    // POST /admin/concerts/{c}/dates/{d}/blocks
void delete_blocks(const command_env& env, request_context& rc);  // DELETE /admin/concerts/{c}/dates/{d}/blocks
void post_pause(const command_env& env, request_context& rc);     // POST /admin/concerts/{c}/pause
void post_resume(const command_env& env, request_context& rc);    // POST /admin/concerts/{c}/resume
// Sale phases.
void post_eligible(const command_env& env, request_context& rc);  // POST /admin/concerts/{c}/phases/{p}/eligible
void delete_claim(const command_env& env, request_context& rc);   // DELETE /admin/concerts/{c}/phases/{p}/claims
void post_claim(const command_env& env, request_context& rc);     // POST /concerts/{c}/phases/{p}/claim

}  // namespace commands
}  // namespace encore::api
