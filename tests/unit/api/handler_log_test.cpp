// The "handler threw" log lines never show a request's query string: a query can carry tokens
// (EventSource clients send them as ?token= and ?queueToken=). Both lines are checked: the
// server's own (a request_handler that throws) and the router's (an exception inside a route,
// here thrown by the answer's callback), with stderr captured into a file.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "http/server.hpp"
#include "node/node.hpp"
#include "http/client.hpp"
#include "tests/support/temp_directory.hpp"

using namespace encore;
using namespace encore::http;

namespace {

constexpr std::string_view secret_query = "token=s3cr3t-user-token&queueToken=s3cr3t-queue-token";

// Sends this process's stderr to a file until finish(), which gives what was written.
class stderr_capture {
public:
    explicit stderr_capture(std::string path) : path_(std::move(path)) {
        std::fflush(stderr);
        saved_ = ::dup(STDERR_FILENO);
        const int file = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        REQUIRE(saved_ >= 0);
        REQUIRE(file >= 0);
        ::dup2(file, STDERR_FILENO);
        ::close(file);
    }
    ~stderr_capture() { restore(); }

    std::string finish() {
        restore();
        std::ifstream in(path_);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

private:
    void restore() {
        if (saved_ < 0) return;
        std::fflush(stderr);
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
        saved_ = -1;
    }

    std::string path_;
    int saved_ = -1;
};

class throwing_handler final : public request_handler {
public:
    void handle(http_request, responder) override { throw std::runtime_error("handler failure on purpose"); }
};

http_request get(std::string target) {
    http_request request{boost::beast::http::verb::get, target, 11};
    request.set(boost::beast::http::field::host, "test");
    return request;
}

}  // namespace

TEST_CASE("logs: the server's handler-threw line shows no query string", "[http][logs]") {
    encore::test::temp_directory dir("encore-log");
    throwing_handler handler;
    auto started = http_server::start(server_options{}, handler);
    REQUIRE(started.ok());
    encore::http::http_client client("127.0.0.1", started.value()->port());
    stderr_capture capture(dir.path("stderr"));
    auto reply = client.request("GET", "/throw?" + std::string(secret_query));
    const std::string log = capture.finish();
    REQUIRE(reply.ok());
    CHECK(reply->status == 500);
    CHECK(log.find("handler threw") != std::string::npos);
    CHECK(log.find("s3cr3t") == std::string::npos);
}

TEST_CASE("logs: the router's handler-threw line shows the path and route, not the query", "[http][logs]") {
    encore::test::temp_directory dir("encore-log");
    node_options options;
    options.data_dir = dir.path("data");
    options.admin_key = "log-test-admin-key";
    options.partitions = 1;
    options.port = 0;
    auto started = node::start(options);
    REQUIRE(started.ok());
    std::unique_ptr<node> serving = std::move(started).value();

    // The route answers at once; the answer's callback throws inside the route, as a bug would.
    bool delivered = false;
    auto throwing = callback_responder([&delivered](http_response, std::string_view) {
        delivered = true;
        throw std::runtime_error("failure inside the route on purpose");
    });
    stderr_capture capture(dir.path("stderr"));
    serving->handler().handle(get("/healthz?" + std::string(secret_query)), throwing);
    const std::string log = capture.finish();
    serving->stop();

    CHECK(delivered);
    CHECK(log.find("handler threw") != std::string::npos);
    CHECK(log.find("\"path\":\"/healthz\"") != std::string::npos);
    CHECK(log.find("GET /healthz") != std::string::npos);
    CHECK(log.find("s3cr3t") == std::string::npos);
}
