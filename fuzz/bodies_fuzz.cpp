// libFuzzer target: the JSON request body parsers. The first byte picks where the rest goes:
//
//   0  request_context::json_object (the parse every body goes through: JSON, one object, no
//      repeated key), then parse_catalog (POST /admin/concerts' validation) on what it accepts;
//      the top bit of the byte says whether an empty body counts as {}
//   1  POST /users                                  (no credentials)
//   2  POST /users/me/balance/charge                (a user's token)
//   3  POST /admin/concerts                         (the admin key)
//   4  POST /concerts/{concert}/dates/{date}/holds  (a user's token and queue token)
//   5  POST /concerts/{concert}/queue               (a body the route ignores)
//   6  PATCH /admin/concerts/{concert}              (the admin key: the demo concert's settings)
//   7  POST /admin/concerts/{concert}/dates/{date}/blocks
//   8  POST /admin/concerts/{concert}/dates        (dates added to the demo concert)
//
// The selector is the first byte's low seven bits, modulo 9. 1..8 go to the router of an in-process node (node_harness.hpp) as a well-formed request with
// the fuzzed body. Checked: a body is answered 2xx or 4xx, never 5xx; a body json_object refuses
// is answered 400; a catalog parse_catalog accepts is a command that round-trips the codec.

#include <cstdint>
#include <string>
#include <variant>

#include "api/catalog_request.hpp"
#include "api/requests.hpp"
#include "events/codec.hpp"
#include "fuzz/node_harness.hpp"

namespace {

using namespace encore;
namespace http = boost::beast::http;

struct body_route {
    http::verb method;
    const char* target;
    std::vector<std::pair<const char*, const char*>> headers;
};
const body_route routes[] = {
    {http::verb::post, "/users", {}},
    {http::verb::post, "/users/me/balance/charge", {{"Authorization", "Bearer {token}"}}},
    {http::verb::post, "/admin/concerts", {{"X-Admin-Key", "{admin-key}"}}},
    {http::verb::post, "/concerts/{concert}/dates/{date}/holds", {{"Authorization", "Bearer {token}"}, {"X-Queue-Token", "{queue-token}"}}},
    {http::verb::post, "/concerts/{concert}/queue", {{"Authorization", "Bearer {token}"}}},
    {http::verb::patch, "/admin/concerts/{concert}", {{"X-Admin-Key", "{admin-key}"}}},
    {http::verb::post, "/admin/concerts/{concert}/dates/{date}/blocks", {{"X-Admin-Key", "{admin-key}"}}},
    {http::verb::post, "/admin/concerts/{concert}/dates", {{"X-Admin-Key", "{admin-key}"}}},
};

void parsers(std::string body, bool empty_ok) {
    encore::http::http_request request{http::verb::post, "/admin/concerts", 11};
    request.body() = std::move(body);
    std::optional<unsigned> answered;
    api::request_context rc(std::move(request), encore::http::callback_responder([&answered](encore::http::http_response r, std::string_view) {
                                answered = r.result_int();
                            }));
    auto object = rc.json_object(empty_ok);
    if (!object) {
        fuzz::require(answered == 400u, "json_object refused a body without a 400");
        return;
    }
    fuzz::require(object->is_object(), "json_object accepted something other than an object");
    auto parsed = api::parse_catalog(*object);
    if (auto* why = std::get_if<std::string>(&parsed)) {
        fuzz::require(!why->empty(), "parse_catalog refused with no message");
    } else {
        const command c{command_meta{}, std::get<create_concert>(std::move(parsed))};
        auto decoded = decode_command(encode(c));
        fuzz::require(decoded.ok() && *decoded == c, "an accepted catalog does not round-trip the codec");
    }
    rc.reply(200, nlohmann::json::object());
}

void route(const body_route& r, std::string_view body) {
    encore::http::http_request request{r.method, fuzz::with_placeholders(r.target), 11};
    request.set(http::field::host, "fuzz");
    request.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : r.headers) request.set(name, fuzz::with_placeholders(value));
    request.body() = std::string(body);
    request.prepare_payload();
    const unsigned status = fuzz::handle(std::move(request)).result_int();
    fuzz::require(status >= 200 && status < 500, "a body answered " + std::to_string(status));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::start_node();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    const unsigned pick = (data[0] & 0x7F) % 9;
    if (pick == 0) {
        parsers(std::string(body), (data[0] & 0x80) != 0);
    } else {
        route(routes[pick - 1], body);
    }
    return 0;
}
