// libFuzzer target: raw bytes read as a connection's requests, exactly as the server's session
// reads them (encore::http::read_request: the same Beast parser, limits and framing checks), each request
// handed to the router of an in-process node (node_harness.hpp) and its answer awaited. Up to
// pipelined_requests_max requests per input, as a session reads ahead; a framing error ends the
// input, as it ends a connection.
//
// Checked: a refusal of the parser is 400, 413 or 431; the router answers every request, never
// with a 500 (an internal error is a bug) nor any 5xx but 501 for an unknown method; an answer
// carries a JSON error body whenever it is an error.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "http/server.hpp"
#include "fuzz/node_harness.hpp"

using namespace encore;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::start_node();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input = fuzz::with_placeholders({reinterpret_cast<const char*>(data), size});
    std::string_view rest = input;
    for (std::size_t n = 0; n < encore::http::pipelined_requests_max && !rest.empty(); ++n) {
        encore::http::request_reading read = encore::http::read_request(rest);
        if (read.refusal) {
            const unsigned status = read.refusal->result_int();
            fuzz::require(status == 400 || status == 413 || status == 431, "a parser refusal that is not 400, 413 or 431");
            return 0;
        }
        if (!read.request) return 0;  // the input ends inside a request
        rest.remove_prefix(read.consumed);
        const bool head = read.request->method() == boost::beast::http::verb::head;
        encore::http::http_response answer = fuzz::handle(std::move(*read.request));
        const unsigned status = answer.result_int();
        fuzz::require(status >= 100 && status <= 599, "a status out of range");
        fuzz::require(status < 500 || status == 501, "a 5xx answer: " + std::to_string(status) + " " + answer.body());
        if (status >= 400 && !head) {
            auto body = nlohmann::json::parse(answer.body(), nullptr, false);
            fuzz::require(body.is_object() && body.contains("error") && body["error"].contains("code"),
                          "an error answer without a JSON error body: " + answer.body());
        }
    }
    return 0;
}
