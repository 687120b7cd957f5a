// The HTTP server on loopback with an ephemeral port, a small handler and the real test client.
// No assertion is on time: waits are bounded by generous deadlines so that a failure fails
// instead of hanging.

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/client.hpp"
#include "http/metrics.hpp"
#include "http/server.hpp"
#include "tests/support/eventually.hpp"

using namespace encore::http;
using encore::http::header_list;
using encore::http::http_client;
using encore::http::http_reply;
using encore::test::eventually;
using namespace std::chrono_literals;

namespace {

constexpr auto wait_max = 10s;

struct deferred {
    std::string target;
    responder respond;
    unsigned version;
};

// Routes: /hello answers at once; /echo answers with the body size; /deferred/* parks the request
// for the test to answer from another thread; /stream opens an event stream; /throw and /drop
// misbehave on purpose.
class test_handler final : public request_handler {
public:
    void handle(http_request request, responder respond) override {
        const std::string target(request.target());
        const unsigned version = request.version();
        if (target == "/hello") {
            respond.send(json_response(200, {{"hello", "world"}}, version), "GET /hello");
        } else if (target == "/echo") {
            respond.send(json_response(200, {{"bytes", request.body().size()}}, version), "POST /echo");
        } else if (target.rfind("/deferred/", 0) == 0) {
            std::lock_guard lock(mutex_);
            parked_.push_back({target, respond, version});
            ++parked_total_;
            changed_.notify_all();
        } else if (target == "/stream") {
            http_response head{boost::beast::http::status::ok, version};
            head.set(boost::beast::http::field::content_type, event_stream_content_type);
            auto stream = respond.open_stream(std::move(head), "GET /stream");
            std::lock_guard lock(mutex_);
            streams_.push_back(std::move(stream));
            changed_.notify_all();
        } else if (target == "/throw") {
            throw std::runtime_error("handler failure on purpose");
        } else if (target == "/drop") {
            // The responder goes out of scope unanswered.
        } else {
            respond.send(error_response(404, "NOT_FOUND", "no such route", version), "-");
        }
    }

    bool wait_parked(std::size_t count) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, wait_max, [&] { return parked_.size() >= count; });
    }
    std::size_t parked_count() {
        std::lock_guard lock(mutex_);
        return parked_.size();
    }
    std::vector<deferred> take_parked() {
        std::lock_guard lock(mutex_);
        return std::exchange(parked_, {});
    }
    std::shared_ptr<event_stream> wait_stream(std::size_t index) {
        std::unique_lock lock(mutex_);
        if (!changed_.wait_for(lock, wait_max, [&] { return streams_.size() > index; })) return nullptr;
        return streams_[index];
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<deferred> parked_;
    std::size_t parked_total_ = 0;
    std::vector<std::shared_ptr<event_stream>> streams_;
};

void answer(const deferred& one) {
    one.respond.send(json_response(200, {{"target", one.target}}, one.version), "GET /deferred");
}

struct test_server {
    explicit test_server(server_options options = {}) {
        options.metrics = &metrics;
        auto started = http_server::start(options, handler);
        REQUIRE(started.ok());
        server = std::move(started.value());
    }
    std::uint16_t port() const { return server->port(); }

    test_handler handler;
    metrics_registry metrics;
    std::unique_ptr<http_server> server;
};

std::string get_request(std::string_view target, std::string_view extra_headers = {}) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
           "\r\n";
}

void require_error(const http_reply& reply, unsigned status, std::string_view code) {
    CHECK(reply.status == status);
    CHECK(reply.header("Content-Type") == std::string(json_content_type));
    const auto body = reply.json();
    REQUIRE(body.is_object());
    CHECK(body["error"]["code"] == code);
    CHECK(body["error"]["message"].is_string());
}

}  // namespace

TEST_CASE("http: an ephemeral port is bound and keep-alive reuses one connection", "[http]") {
    test_server fixture;
    REQUIRE(fixture.port() != 0);
    http_client client("127.0.0.1", fixture.port());
    for (int i = 0; i < 20; ++i) {
        auto reply = client.request("GET", "/hello");
        REQUIRE(reply.ok());
        CHECK(reply->status == 200);
        CHECK(reply->json()["hello"] == "world");
        CHECK(reply->header("Content-Type") == std::string(json_content_type));
        CHECK(reply->keep_alive);
    }
    CHECK(client.connects() == 1);
    auto echoed = client.request("POST", "/echo", R"({"a":1})");
    REQUIRE(echoed.ok());
    CHECK(echoed->json()["bytes"] == 7);
    CHECK(client.connects() == 1);
}

TEST_CASE("http: pipelined answers given out of order are written in request order", "[http]") {
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    constexpr int requests = 5;
    std::string batch;
    for (int i = 0; i < requests; ++i) batch += get_request("/deferred/" + std::to_string(i));
    REQUIRE(client.send_raw(batch).ok());
    REQUIRE(fixture.handler.wait_parked(requests));
    std::thread answerer([&] {
        auto parked = fixture.handler.take_parked();
        for (auto it = parked.rbegin(); it != parked.rend(); ++it) answer(*it);
    });
    for (int i = 0; i < requests; ++i) {
        auto reply = client.read_reply();
        REQUIRE(reply.ok());
        CHECK(reply->status == 200);
        CHECK(reply->json()["target"] == "/deferred/" + std::to_string(i));
    }
    answerer.join();
}

TEST_CASE("http: at most pipelined_requests_max requests are read ahead", "[http]") {
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    constexpr std::size_t requests = pipelined_requests_max + 4;
    std::string batch;
    for (std::size_t i = 0; i < requests; ++i) batch += get_request("/deferred/" + std::to_string(i));
    REQUIRE(client.send_raw(batch).ok());
    REQUIRE(fixture.handler.wait_parked(pipelined_requests_max));
    // Give the server the chance to (wrongly) read further before checking that it did not.
    std::this_thread::sleep_for(200ms);
    CHECK(fixture.handler.parked_count() == pipelined_requests_max);

    // Answer what is parked, read those answers; each written answer frees a slot, so the server
    // reads the requests it held back.
    std::size_t replies = 0;
    while (replies < requests) {
        REQUIRE(fixture.handler.wait_parked(1));
        const auto parked = fixture.handler.take_parked();
        CHECK(parked.size() <= pipelined_requests_max);
        for (const auto& one : parked) answer(one);
        for (std::size_t i = 0; i < parked.size(); ++i) {
            auto reply = client.read_reply();
            INFO("reply " << replies << ": " << (reply.ok() ? "" : reply.err().message));
            REQUIRE(reply.ok());
            CHECK(reply->json()["target"] == "/deferred/" + std::to_string(replies));
            ++replies;
        }
    }
}

TEST_CASE("http: a body over 64 KiB gets 413 and the connection closes", "[http]") {
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    const std::string body(65 * 1024, 'x');
    REQUIRE(client.send_raw("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                            "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body)
                .ok());
    auto reply = client.read_reply();
    REQUIRE(reply.ok());
    require_error(*reply, 413, "PAYLOAD_TOO_LARGE");
    CHECK_FALSE(reply->keep_alive);
    CHECK(client.wait_closed(wait_max));

    SECTION("a body of exactly 64 KiB is accepted") {
        http_client other("127.0.0.1", fixture.port());
        auto accepted = other.request("POST", "/echo", std::string(request_body_bytes_max, 'y'));
        REQUIRE(accepted.ok());
        CHECK(accepted->status == 200);
        CHECK(accepted->json()["bytes"] == request_body_bytes_max);
    }
    SECTION("a chunked body over the limit gets 413 too") {
        http_client other("127.0.0.1", fixture.port());
        std::string chunked = "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 17; ++i) chunked += "1000\r\n" + std::string(4096, 'z') + "\r\n";
        chunked += "0\r\n\r\n";
        REQUIRE(other.send_raw(chunked).ok());
        auto refused = other.read_reply();
        REQUIRE(refused.ok());
        require_error(*refused, 413, "PAYLOAD_TOO_LARGE");
    }
}

TEST_CASE("http: headers over 8 KiB get 431", "[http]") {
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    auto reply = client.request("GET", "/hello", {}, {{"X-Big", std::string(9000, 'h')}});
    REQUIRE(reply.ok());
    require_error(*reply, 431, "HEADERS_TOO_LARGE");
    CHECK_FALSE(reply->keep_alive);
}

TEST_CASE("http: garbage gets 400, closes, and the server still serves others", "[http]") {
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    REQUIRE(client.send_raw(std::string("\x01\x02 definitely not http\r\n\r\n", 26)).ok());
    auto reply = client.read_reply();
    REQUIRE(reply.ok());
    require_error(*reply, 400, "BAD_REQUEST");
    CHECK(client.wait_closed(wait_max));

    // Still serving. A fresh connection has 200 ms to send its request, which a busy machine may
    // not give the client: it tries again on a new one until wait_max.
    CHECK(eventually(wait_max, [&] {
        http_client other("127.0.0.1", fixture.port());
        auto fine = other.request("GET", "/hello");
        return fine.ok() && fine->status == 200;
    }));
}

TEST_CASE("http: a bad request behind good pipelined ones is answered after them", "[http]") {
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    REQUIRE(client.send_raw(get_request("/hello") + get_request("/hello") + "BROKEN\r\n\r\n").ok());
    for (int i = 0; i < 2; ++i) {
        auto reply = client.read_reply();
        REQUIRE(reply.ok());
        CHECK(reply->status == 200);
    }
    auto refused = client.read_reply();
    REQUIRE(refused.ok());
    require_error(*refused, 400, "BAD_REQUEST");
    CHECK(client.wait_closed(wait_max));
}

TEST_CASE("http: random bytes never crash or wedge the server", "[http]") {
    server_options options;
    options.timeouts.request_read_ms = 200ms;
    test_server fixture(options);
    std::mt19937_64 random(7);
    const std::string valid = get_request("/hello") + "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    for (int i = 0; i < 300; ++i) {
        std::string bytes;
        if (i % 2 == 0) {
            // A valid request with a few bytes flipped, cut or repeated.
            bytes = valid;
            for (int flips = 0; flips < 3; ++flips) {
                bytes[random() % bytes.size()] = static_cast<char>(random() & 0xff);
            }
            bytes.resize(random() % (bytes.size() + 1));
        } else {
            bytes.resize(random() % 2048);
            for (auto& c : bytes) c = static_cast<char>(random() & 0xff);
        }
        http_client client("127.0.0.1", fixture.port());
        REQUIRE(client.send_raw(bytes).ok());
        client.close();
    }
    // Still serving. A fresh connection has 200 ms to send its request, which a busy machine may
    // not give the client: it tries again on a new one until wait_max.
    CHECK(eventually(wait_max, [&] {
        http_client other("127.0.0.1", fixture.port());
        auto fine = other.request("GET", "/hello");
        return fine.ok() && fine->status == 200;
    }));
}

TEST_CASE("http: over connections_max a connection gets 503 and is closed", "[http]") {
    server_options options;
    options.connections_max = 3;
    test_server fixture(options);
    std::vector<std::unique_ptr<http_client>> admitted;
    for (int i = 0; i < 3; ++i) {
        admitted.push_back(std::make_unique<http_client>("127.0.0.1", fixture.port()));
        auto reply = admitted.back()->request("GET", "/hello");
        REQUIRE(reply.ok());
        CHECK(reply->status == 200);
    }
    CHECK(fixture.server->connections() == 3);
    http_client extra("127.0.0.1", fixture.port());
    auto refused = extra.request("GET", "/hello");
    REQUIRE(refused.ok());
    require_error(*refused, 503, "OVERLOADED");
    CHECK_FALSE(refused->keep_alive);

    admitted.front()->close();
    CHECK(eventually(wait_max, [&] {
        http_client late("127.0.0.1", fixture.port());
        auto reply = late.request("GET", "/hello");
        return reply.ok() && reply->status == 200;
    }));
}

TEST_CASE("http: an idle keep-alive connection is closed after idle_ms", "[http]") {
    server_options options;
    options.timeouts.idle_ms = 200ms;
    test_server fixture(options);
    http_client client("127.0.0.1", fixture.port());
    auto reply = client.request("GET", "/hello");
    REQUIRE(reply.ok());
    CHECK(client.wait_closed(wait_max));
    CHECK(eventually(wait_max, [&] { return fixture.server->connections() == 0; }));

    SECTION("but not while an answer is owed") {
        http_client waiting("127.0.0.1", fixture.port());
        REQUIRE(waiting.send_raw(get_request("/deferred/slow")).ok());
        REQUIRE(fixture.handler.wait_parked(1));
        std::this_thread::sleep_for(600ms);  // three idle periods
        for (const auto& one : fixture.handler.take_parked()) answer(one);
        auto late = waiting.read_reply();
        REQUIRE(late.ok());
        CHECK(late->status == 200);
    }
}

TEST_CASE("http: a request that trickles in is cut off after request_read_ms", "[http]") {
    server_options options;
    options.timeouts.request_read_ms = 200ms;
    test_server fixture(options);
    http_client client("127.0.0.1", fixture.port());
    REQUIRE(client.send_raw("GET /hello HTTP/1.1\r\nHost: te").ok());
    CHECK(client.wait_closed(wait_max));
}

TEST_CASE("http: HTTP/1.0 closes after its answer, and a half-closed client is still answered",
          "[http]") {
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    REQUIRE(client.send_raw("GET /hello HTTP/1.0\r\n\r\n").ok());
    auto reply = client.read_reply();
    REQUIRE(reply.ok());
    CHECK(reply->status == 200);
    CHECK_FALSE(reply->keep_alive);
    CHECK(client.wait_closed(wait_max));

    http_client half("127.0.0.1", fixture.port());
    REQUIRE(half.send_raw(get_request("/hello") + get_request("/deferred/x")).ok());
    half.shutdown_send();
    REQUIRE(fixture.handler.wait_parked(1));
    for (const auto& one : fixture.handler.take_parked()) answer(one);
    for (int i = 0; i < 2; ++i) {
        auto answered = half.read_reply();
        INFO("reply " << i << ": " << (answered.ok() ? "" : answered.err().message));
        REQUIRE(answered.ok());
        CHECK(answered->status == 200);
    }
    CHECK(half.wait_closed(wait_max));
}

TEST_CASE("http: HEAD gets the length without the body, and Expect 100-continue is honoured",
          "[http]") {
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    auto full = client.request("GET", "/hello");
    REQUIRE(full.ok());
    auto head = client.request("HEAD", "/hello");
    REQUIRE(head.ok());
    CHECK(head->status == 200);
    CHECK(head->body.empty());
    CHECK(head->header("Content-Length") == std::to_string(full->body.size()));
    auto after = client.request("GET", "/hello");
    REQUIRE(after.ok());
    CHECK(after->status == 200);
    CHECK(client.connects() == 1);

    REQUIRE(client.send_raw("POST /echo HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\n"
                            "Content-Length: 4\r\n\r\n")
                .ok());
    auto interim = client.read_reply();
    REQUIRE(interim.ok());
    CHECK(interim->status == 100);
    REQUIRE(client.send_raw("abcd").ok());
    auto echoed = client.read_reply();
    REQUIRE(echoed.ok());
    CHECK(echoed->json()["bytes"] == 4);
}

TEST_CASE("http: a 100 Continue owed behind an answer is sent once that answer is written", "[http]") {
    // The header of a request that expects 100-continue arrives while an earlier answer is still
    // owed (pipelined here; a loaded server sees the same when it reads the next request before
    // its previous write completes): the interim response follows that answer, not never.
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    REQUIRE(client.send_raw("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"
                            "POST /echo HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
                .ok());
    auto hello = client.read_reply();
    REQUIRE(hello.ok());
    CHECK(hello->status == 200);
    auto interim = client.read_reply();
    REQUIRE(interim.ok());
    CHECK(interim->status == 100);
    REQUIRE(client.send_raw("ok").ok());
    auto echoed = client.read_reply();
    REQUIRE(echoed.ok());
    CHECK(echoed->json()["bytes"] == 2);
}

TEST_CASE("http: a handler that throws or drops its responder yields 500", "[http]") {
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    auto thrown = client.request("GET", "/throw");
    REQUIRE(thrown.ok());
    require_error(*thrown, 500, "INTERNAL");
    auto dropped = client.request("GET", "/drop");
    REQUIRE(dropped.ok());
    require_error(*dropped, 500, "INTERNAL");
    auto fine = client.request("GET", "/hello");
    REQUIRE(fine.ok());
    CHECK(fine->status == 200);
    CHECK(client.connects() == 1);
}

TEST_CASE("http: an event stream delivers events until the client leaves", "[http]") {
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    auto head = client.open_event_stream("/stream");
    REQUIRE(head.ok());
    CHECK(head->status == 200);
    CHECK(head->header("Content-Type") == std::string(event_stream_content_type));
    CHECK_FALSE(head->header("Content-Length"));
    auto stream = fixture.handler.wait_stream(0);
    REQUIRE(stream);
    for (int i = 0; i < 3; ++i) {
        REQUIRE(stream->send("event: status\ndata: {\"position\":" + std::to_string(3 - i) + "}\n\n"));
        auto event = client.next_event();
        REQUIRE(event.ok());
        CHECK(event->event == "status");
        CHECK(nlohmann::json::parse(event->data)["position"] == 3 - i);
    }
    client.close();
    CHECK(eventually(wait_max, [&] { return !stream->send("data: anyone?\n\n"); }));
    CHECK_FALSE(stream->is_open());
    CHECK(eventually(wait_max, [&] { return fixture.server->connections() == 0; }));

    SECTION("the server may close the stream") {
        http_client second("127.0.0.1", fixture.port());
        REQUIRE(second.open_event_stream("/stream").ok());
        auto other = fixture.handler.wait_stream(1);
        REQUIRE(other);
        REQUIRE(other->send("data: last\n\n"));
        other->close();
        auto last = second.next_event();
        REQUIRE(last.ok());
        CHECK(last->data == "last");
        CHECK_FALSE(second.next_event().ok());
        CHECK_FALSE(other->send("data: too late\n\n"));
    }
}

TEST_CASE("http: stop() returns with idle, waiting and streaming clients", "[http]") {
    server_options options;
    options.timeouts.stop_grace_ms = 200ms;
    test_server fixture(options);
    http_client idle("127.0.0.1", fixture.port());
    REQUIRE(idle.request("GET", "/hello").ok());
    http_client waiting("127.0.0.1", fixture.port());
    REQUIRE(waiting.send_raw(get_request("/deferred/never")).ok());
    REQUIRE(fixture.handler.wait_parked(1));
    http_client streaming("127.0.0.1", fixture.port());
    REQUIRE(streaming.open_event_stream("/stream").ok());
    auto stream = fixture.handler.wait_stream(0);
    REQUIRE(stream);

    fixture.server->stop();
    fixture.server->stop();  // idempotent

    CHECK(idle.wait_closed(wait_max));
    CHECK(waiting.wait_closed(wait_max));
    CHECK_FALSE(stream->send("data: after stop\n\n"));
    // Answers arriving after stop() go nowhere, without harm.
    for (const auto& one : fixture.handler.take_parked()) answer(one);
    fixture.server.reset();
}

TEST_CASE("http: requests are counted in the metrics by route and status", "[http]") {
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    for (int i = 0; i < 3; ++i) REQUIRE(client.request("GET", "/hello").ok());
    REQUIRE(client.request("GET", "/missing").ok());
    http_client garbage("127.0.0.1", fixture.port());
    REQUIRE(garbage.send_raw("NOT HTTP\r\n\r\n").ok());
    REQUIRE(garbage.read_reply().ok());
    // The server records an answer once written, which may be just after the client read it.
    const auto has = [&](const std::string& line) {
        return eventually(wait_max, [&] { return fixture.metrics.render().find(line + "\n") != std::string::npos; });
    };
    CHECK(has("encore_http_requests_total{route=\"GET /hello\",status=\"200\"} 3"));
    CHECK(has("encore_http_requests_total{route=\"-\",status=\"404\"} 1"));
    CHECK(has("encore_http_requests_total{route=\"-\",status=\"400\"} 1"));
    CHECK(has("encore_http_request_duration_seconds_count{route=\"GET /hello\"} 3"));
    CHECK(has("# TYPE encore_http_request_duration_seconds histogram"));
}

TEST_CASE("http: start() reports a port already in use", "[http]") {
    test_server first;
    test_handler handler;
    server_options options;
    options.port = first.port();
    auto second = http_server::start(options, handler);
    REQUIRE_FALSE(second.ok());
    CHECK(second.err().code == encore::errc::io);
}

TEST_CASE("http: ambiguous framing is refused, never guessed", "[http]") {
    test_server fixture;
    const std::vector<std::string> smuggling = {
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    };
    for (const auto& request : smuggling) {
        INFO(request);
        http_client client("127.0.0.1", fixture.port());
        REQUIRE(client.send_raw(request).ok());
        auto reply = client.read_reply();
        REQUIRE(reply.ok());
        CHECK(reply->status >= 400);
        CHECK(reply->status < 500);
        CHECK(client.wait_closed(wait_max));
    }
}

TEST_CASE("http: Connection: close from the client closes after the answer", "[http]") {
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    REQUIRE(client.send_raw(get_request("/hello", "Connection: close\r\n") + get_request("/hello")).ok());
    auto reply = client.read_reply();
    REQUIRE(reply.ok());
    CHECK(reply->status == 200);
    CHECK_FALSE(reply->keep_alive);
    // The request after "Connection: close" is not answered.
    CHECK(client.wait_closed(wait_max));
}

TEST_CASE("http: many clients at once, answered from other threads", "[http]") {
    test_server fixture;
    std::atomic<bool> done{false};
    // Answers parked requests from a thread of its own, as the engine's outcomes would arrive.
    std::thread answerer([&] {
        while (!done.load()) {
            for (const auto& one : fixture.handler.take_parked()) answer(one);
            std::this_thread::sleep_for(1ms);
        }
    });
    constexpr int clients = 8;
    constexpr int requests_each = 100;
    std::atomic<int> good{0};
    std::vector<std::thread> workers;
    for (int c = 0; c < clients; ++c) {
        workers.emplace_back([&, c] {
            http_client client("127.0.0.1", fixture.port());
            for (int i = 0; i < requests_each; ++i) {
                const std::string target = i % 2 == 0 ? "/hello" : "/deferred/" + std::to_string(c);
                auto reply = client.request("GET", target);
                if (reply.ok() && reply->status == 200) ++good;
            }
        });
    }
    for (auto& worker : workers) worker.join();
    done.store(true);
    answerer.join();
    CHECK(good.load() == clients * requests_each);
}

TEST_CASE("http: an event stream whose client does not read is cut off", "[http]") {
    test_server fixture;
    http_client client("127.0.0.1", fixture.port());
    REQUIRE(client.open_event_stream("/stream").ok());
    auto stream = fixture.handler.wait_stream(0);
    REQUIRE(stream);
    const std::string event = "data: " + std::string(4096, 'e') + "\n\n";
    // The kernel buffers take some megabytes before the server's own queue fills.
    constexpr std::size_t bytes_max = 256ull * 1024 * 1024;
    std::size_t sent = 0;
    while (sent < bytes_max && stream->send(event)) sent += event.size();
    CHECK(sent < bytes_max);
    CHECK_FALSE(stream->is_open());
}
