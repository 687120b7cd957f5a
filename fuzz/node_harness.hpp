#pragma once
// What the HTTP fuzz targets share: one embedded-log node on a temporary data directory, started
// once per process (by LLVMFuzzerInitialize) and stopped at exit, and a blocking call that hands
// its router one request and waits for the answer.
//
// Inputs may name things that only exist at run time; before a request is parsed these
// placeholders are replaced:
//   {concert}      the demo concert's id          {date}    its first date (YYYY-MM-DD)
//   {user}         a registered user's id         {token}   that user's token
//   {queue-token}  the user's queue token for the demo concert
//   {admin-key}    the node's admin key
//
// Threads: the node's own (runners, projector, HTTP I/O, housekeeping); the answer arrives on
// one of them and is handed back to the fuzzing thread.

#include <string>
#include <string_view>

#include "http/server.hpp"

namespace encore::fuzz {

// Starts the node (once; later calls do nothing). Aborts if it cannot.
void start_node();

// Replaces the placeholders above in `input`.
std::string with_placeholders(std::string_view input);

// Hands `request` to the node's router and returns its answer. Aborts when no answer comes in
// a minute (the router promises one within command_outcome_timeout).
encore::http::http_response handle(encore::http::http_request request);

// Aborts, printing `what`, unless `condition` holds: the finding is the input.
void require(bool condition, std::string_view what);

}  // namespace encore::fuzz
