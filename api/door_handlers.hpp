#pragma once
// Internal to api/: tickets and the door (API.md "Tickets and the door"). A paid reservation's
// tickets with their signed codes and QR codes, the concert's public key, the scanners and their
// keys, and check-ins, online one at a time or offline in batches.
//
// A scanner's key is "<scannerId>.<MAC>", the MAC an HMAC under the token secret of the concert
// and the scanner: any node verifies it without a table, and the read models say whether the
// scanner was removed (its key then stops working; the engine refuses its scans too).

#include <cstdint>
#include <string>

#include "api/gateway.hpp"
#include "api/requests.hpp"
#include "api/tickets.hpp"
#include "api/tokens.hpp"
#include "projections/read_models.hpp"

namespace encore::api {

struct door_env {
    command_gateway& gateway;
    const projections::read_models& models;
    const token_signer& tokens;
    const ticket_signer& tickets;
    std::string admin_key;
    std::uint32_t partitions = 1;
    // encore_admissions_total{gate}: tickets this node admitted (online and uploaded offline scans).
    counter_family& admissions;
};

namespace door {

void reservation_tickets(const door_env& env, request_context& rc);  // GET /reservations/{id}/tickets
void ticket_qr(const door_env& env, request_context& rc);            // GET /tickets/{ticketId}/qr.svg
void ticket_key(const door_env& env, request_context& rc);           // GET /concerts/{id}/ticket-key
void post_scanner(const door_env& env, request_context& rc);         // POST /admin/concerts/{id}/scanners
void list_scanners(const door_env& env, request_context& rc);        // GET /admin/concerts/{id}/scanners
void delete_scanner(const door_env& env, request_context& rc);       // DELETE /admin/concerts/{id}/scanners/{scannerId}
void date_tickets(const door_env& env, request_context& rc);         // GET /admin/concerts/{id}/dates/{date}/tickets
void post_checkin(const door_env& env, request_context& rc);         // POST /admin/concerts/{id}/checkins
void post_checkin_batch(const door_env& env, request_context& rc);   // POST /admin/concerts/{id}/checkins/batch
void checkins(const door_env& env, request_context& rc);             // GET /admin/concerts/{id}/checkins

}  // namespace door
}  // namespace encore::api
