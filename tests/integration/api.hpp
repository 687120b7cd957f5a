#pragma once
// Small helpers over http_client for the integration tests: one line per API call, in the words of
// API.md. Every helper reports a transport failure or an unexpected status by throwing
// std::runtime_error with the reply in the message, so it is safe on worker threads (Catch
// assertions are not); tests assert on replies in their main thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/integration/server_process.hpp"
#include "http/client.hpp"
#include "tests/support/eventually.hpp"

namespace encore::test {

using encore::http::header_list;
using encore::http::http_client;
using encore::http::http_reply;
using encore::http::parse_sse_event;
using encore::http::sse_event;

using nlohmann::json;

// The date every test concert is on unless a test says otherwise.
inline constexpr std::string_view concert_date = "2030-12-24";
inline constexpr std::string_view other_date = "2030-12-25";

// ---- plumbing ------------------------------------------------------------------------------------

http_reply call(http_client& client, std::string_view method, std::string_view target, std::string_view body = {},
                const header_list& headers = {});
// "201 {...}" for messages.
std::string describe(const http_reply& reply);
// The reply's error.code, or "" when it has none.
std::string error_code_of(const http_reply& reply);
// Throws unless reply.status == status.
const http_reply& expect_status(const http_reply& reply, unsigned status, std::string_view what);

header_list bearer(const std::string& user_token);
header_list admin_header(const std::string& key);
header_list operator+(header_list a, const header_list& b);

// Milliseconds since the epoch: of an RFC 3339 instant as API.md writes them, and now.
std::int64_t instant_ms(std::string_view rfc3339);
// `2026-12-24T19:00:00.000Z` for milliseconds since the epoch, as API.md writes instants.
std::string instant_text(std::int64_t ms);
std::int64_t now_ms();

// Waiting for a condition: eventually(timeout, probe, interval), tests/support/eventually.hpp.

// ---- users and wallet ----------------------------------------------------------------------------

struct user_account {
    std::string id;
    std::string token;
};

user_account new_user(http_client& client, const std::string& name = "");
std::int64_t balance_of(http_client& client, const user_account& user);
http_reply charge(http_client& client, const user_account& user, const json& amount, const header_list& extra = {});

// ---- catalog and queue ---------------------------------------------------------------------------

// A valid POST /admin/concerts body: one date (concert_date), `seats` seats at `price`.
json concert_body(std::uint32_t seats = 50, std::int64_t price = 80'000, std::uint32_t active_capacity = 100,
                  std::uint32_t active_ttl_seconds = 600, std::uint32_t hold_ttl_seconds = 300,
                  std::uint32_t max_holds_per_user = 4);
std::string create_concert(http_client& client, const server_process& server, const json& body);
// The same with the admin key of any node (a Kafka-mode process's).
std::string create_concert(http_client& client, const std::string& admin_key, const json& body);

http_reply enqueue(http_client& client, const user_account& user, const std::string& concert);
json queue_state(http_client& client, const user_account& user, const std::string& concert,
                 const std::string& queue_token);

// A user admitted to a concert: their account and ACTIVE queue token.
struct guest {
    user_account user;
    std::string queue_token;
    header_list headers() const;  // Authorization and X-Queue-Token
};

// A new user in the queue; waits (polling the queue status) until ACTIVE.
guest admitted_guest(http_client& client, const std::string& concert,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(15'000));

// ---- seats, holds, payments ----------------------------------------------------------------------

std::string seats_path(const std::string& concert, std::string_view date = concert_date);
std::string hold_path(const std::string& concert, std::string_view date, std::string_view seat);

http_reply hold(http_client& client, const guest& g, const std::string& concert, std::uint32_t seat,
                std::string_view date = concert_date, const header_list& extra = {});
// The status of one seat as `observer` sees it in the seat map.
std::string seat_status(http_client& client, const guest& observer, const std::string& concert, std::uint32_t seat,
                        std::string_view date = concert_date);
http_reply pay(http_client& client, const user_account& user, const std::string& reservation,
               const header_list& extra = {});
http_reply cancel(http_client& client, const user_account& user, const std::string& reservation,
                  const header_list& extra = {});
http_reply reservation(http_client& client, const user_account& user, const std::string& reservation);

}  // namespace encore::test

// Assertions that print the reply when they fail.
#define REQUIRE_STATUS(reply_expr, expected_status)                        \
    do {                                                                   \
        const auto& encore_reply_ = (reply_expr);                          \
        INFO("reply: " << ::encore::test::describe(encore_reply_));        \
        REQUIRE(encore_reply_.status == (expected_status));                \
    } while (false)

#define CHECK_STATUS(reply_expr, expected_status)                          \
    do {                                                                   \
        const auto& encore_reply_ = (reply_expr);                          \
        INFO("reply: " << ::encore::test::describe(encore_reply_));        \
        CHECK(encore_reply_.status == (expected_status));                  \
    } while (false)

// Status and API.md's error code.
#define CHECK_ERROR(reply_expr, expected_status, expected_code)            \
    do {                                                                   \
        const auto& encore_reply_ = (reply_expr);                          \
        INFO("reply: " << ::encore::test::describe(encore_reply_));        \
        CHECK(encore_reply_.status == (expected_status));                  \
        CHECK(::encore::test::error_code_of(encore_reply_) == (expected_code)); \
    } while (false)

#define REQUIRE_ERROR(reply_expr, expected_status, expected_code)          \
    do {                                                                   \
        const auto& encore_reply_ = (reply_expr);                          \
        INFO("reply: " << ::encore::test::describe(encore_reply_));        \
        REQUIRE(encore_reply_.status == (expected_status));                \
        REQUIRE(::encore::test::error_code_of(encore_reply_) == (expected_code)); \
    } while (false)
