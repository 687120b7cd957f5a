#include "fuzz/node_harness.hpp"

#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "node/node.hpp"
#include "engine/runner/partition_runner.hpp"
#include "events/time.hpp"

namespace encore::fuzz {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view admin_key = "fuzz-admin-key";
constexpr std::string_view token_secret = "fuzz-token-secret-fuzz-token-secret-0123";
constexpr std::uint32_t partitions = 2;
// Longer than command_outcome_timeout: the router answers every request before this.
constexpr std::chrono::seconds answer_wait_max{60};
constexpr std::chrono::seconds ready_wait_max{60};

struct running_node {
    std::string data_dir;
    std::unique_ptr<encore::node> node;
    std::vector<std::pair<std::string, std::string>> placeholders;
};
running_node* running = nullptr;

void stop_node() {
    if (!running) return;
    running->node->stop();
    running->node.reset();
    std::error_code ignored;
    std::filesystem::remove_all(running->data_dir, ignored);
}

encore::http::http_request request_of(http::verb method, std::string target, std::string body,
                             std::vector<std::pair<std::string, std::string>> headers = {}) {
    encore::http::http_request request{method, target, 11};
    request.set(http::field::host, "fuzz");
    for (auto& [name, value] : headers) request.set(name, value);
    request.body() = std::move(body);
    request.prepare_payload();
    return request;
}

nlohmann::json json_answer(encore::http::http_request request, unsigned expected_status) {
    encore::http::http_response answer = handle(std::move(request));
    require(answer.result_int() == expected_status, "start: unexpected status " + std::to_string(answer.result_int()) +
                                                        ": " + answer.body());
    return nlohmann::json::parse(answer.body());
}

// A user with a token and a queue token for the demo concert, for the placeholders.
void make_placeholders(running_node& r) {
    const std::string concert = r.node->demo_concert();
    require(!concert.empty(), "start: no demo concert");
    auto user = json_answer(request_of(http::verb::post, "/users", R"({"name":"fuzz"})"), 201);
    const std::string token = user["token"];
    auto queue = json_answer(request_of(http::verb::post, "/concerts/" + concert + "/queue", "",
                                        {{"Authorization", "Bearer " + token}}),
                             201);
    const day_number first_date = static_cast<day_number>(runner::system_time_ms() / 86'400'000) + 30;
    r.placeholders = {{"{concert}", concert},
                      {"{date}", format_date(first_date)},
                      {"{user}", user["userId"]},
                      {"{token}", token},
                      {"{queue-token}", queue["queueToken"]},
                      {"{admin-key}", std::string(admin_key)}};
}

}  // namespace

void require(bool condition, std::string_view what) {
    if (condition) return;
    std::fprintf(stderr, "fuzz: %.*s\n", static_cast<int>(what.size()), what.data());
    std::abort();
}

void start_node() {
    if (running) return;
    running = new running_node;  // reachable until exit: the node's threads use it
    std::string pattern = (std::filesystem::temp_directory_path() / "encore-fuzz-XXXXXX").string();
    require(mkdtemp(pattern.data()) != nullptr, "start: mkdtemp failed");
    running->data_dir = pattern;
    encore::node_options options;
    options.data_dir = pattern;
    options.port = 0;
    options.admin_key = admin_key;
    options.token_secret = token_secret;
    options.partitions = partitions;
    options.demo = true;
    options.http_threads = 1;
    options.backend = encore::embedded_backend{.sync = false};  // the fuzzer needs speed, not durability
    auto started = encore::node::start(options);
    require(started.ok(), "start: " + (started.ok() ? std::string() : started.err().message));
    running->node = std::move(started).value();
    std::atexit(stop_node);
    const auto deadline = std::chrono::steady_clock::now() + ready_wait_max;
    while (!running->node->ready()) {
        require(std::chrono::steady_clock::now() < deadline, "start: the node is not ready");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    make_placeholders(*running);
}

std::string with_placeholders(std::string_view input) {
    std::string out(input);
    if (out.find('{') == std::string::npos) return out;
    for (const auto& [name, value] : running->placeholders) {
        for (std::size_t at = out.find(name); at != std::string::npos; at = out.find(name, at + value.size()))
            out.replace(at, name.size(), value);
    }
    return out;
}

encore::http::http_response handle(encore::http::http_request request) {
    struct answer_slot {
        std::mutex mutex;
        std::condition_variable done;
        std::optional<encore::http::http_response> response;
    };
    auto slot = std::make_shared<answer_slot>();
    auto respond = encore::http::callback_responder([slot](encore::http::http_response response, std::string_view) {
        std::lock_guard lock(slot->mutex);
        slot->response = std::move(response);
        slot->done.notify_one();
    });
    // The session answers a throwing handler with 500: a bug, so a finding here.
    try {
        running->node->handler().handle(std::move(request), std::move(respond));
    } catch (const std::exception& failure) {
        require(false, std::string("the router threw: ") + failure.what());
    } catch (...) {
        require(false, "the router threw");
    }
    std::unique_lock lock(slot->mutex);
    require(slot->done.wait_for(lock, answer_wait_max, [&] { return slot->response.has_value(); }),
            "the router gave no answer");
    return std::move(*slot->response);
}

}  // namespace encore::fuzz
