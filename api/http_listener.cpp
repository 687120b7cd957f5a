// The listener of the HTTP server: the listening socket and its accept loop, connection
// accounting, the I/O threads, stop(), and the public http_server object.

#include "api/http_server_internal.hpp"
#include "events/diagnostics.hpp"

#include <cassert>
#include <cstdio>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace encore::api {

namespace {

// After a failed accept (out of descriptors, typically), wait before trying again instead of
// spinning on the same error.
constexpr std::chrono::milliseconds accept_retry_delay_ms{100};
// stop(): extra time, beyond the grace period, for the I/O threads to see every socket closed
// before the io_context is stopped outright.
constexpr std::chrono::milliseconds stop_margin_ms{1'000};

}  // namespace

// ---------------------------------------------------------------------------------------------
// core: listening, accepting, threads, stopping.

namespace {

metrics_registry& pick_registry(const server_options& options,
                                std::unique_ptr<metrics_registry>& own) {
    if (options.metrics != nullptr) return *options.metrics;
    own = std::make_unique<metrics_registry>();
    return *own;
}

}  // namespace

http_server::core::core(server_options options_in, request_handler& handler_in)
    : options(std::move(options_in)), handler(handler_in),
      metrics(pick_registry(options, own_metrics)),
      requests_total(metrics.add_counter("encore_http_requests_total",
                                         "HTTP requests answered, by route and status.",
                                         {"route", "status"})),
      request_seconds(metrics.add_histogram(
          "encore_http_request_duration_seconds",
          "Time from a request fully read to its answer fully written, by route.", {"route"})),
      connections_open(metrics.add_gauge("encore_http_connections_open",
                                         "HTTP connections open (below connections_max).")
                           .with({})),
      connections_rejected(metrics.add_counter(
                                      "encore_http_connections_rejected_total",
                                      "Connections answered 503 because connections_max was reached.")
                               .with({})),
      io(static_cast<int>(options.threads)), work(asio::make_work_guard(io)),
      acceptor(asio::make_strand(io)), accept_retry_timer(acceptor.get_executor()) {}

http_server::core::~core() {
    // Only reached with threads running if start() failed half way.
    io.stop();
    for (auto& thread : threads) {
        if (thread.joinable()) thread.join();
    }
}

result<unit> http_server::core::listen() {
    error_code ec;
    tcp::endpoint endpoint;
    const auto address = asio::ip::make_address(options.host, ec);
    if (!ec) {
        endpoint = tcp::endpoint(address, options.port);
    } else {
        tcp::resolver resolver(io);
        const auto found = resolver.resolve(options.host, std::to_string(options.port),
                                            tcp::resolver::passive, ec);
        if (ec || found.empty()) {
            return error{errc::invalid, "cannot resolve host '" + options.host + "'"};
        }
        endpoint = found.begin()->endpoint();
    }
    const auto failed = [&](std::string_view step) {
        return error{errc::io, std::string(step) + " " + endpoint.address().to_string() + ":" +
                                   std::to_string(endpoint.port()) + ": " + ec.message()};
    };
    if (acceptor.open(endpoint.protocol(), ec); ec) return failed("cannot open a socket for");
    if (acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec) {
        return failed("cannot set SO_REUSEADDR for");
    }
    if (acceptor.bind(endpoint, ec); ec) return failed("cannot bind");
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
        return failed("cannot listen on");
    }
    bound_port = acceptor.local_endpoint(ec).port();
    if (ec) return failed("cannot read the bound port of");
    return unit{};
}

void http_server::core::start_threads() {
    threads_running = options.threads;
    for (unsigned i = 0; i < options.threads; ++i) {
        threads.emplace_back([this] {
            diag::name_thread("http-io");
            run_thread();
        });
    }
}

void http_server::core::run_thread() {
    for (;;) {
        try {
            io.run();
            break;
        } catch (const std::exception& failure) {
            // Handlers catch what they expect; this is the last line, so that one connection's
            // failure (out of memory, typically) does not take the server down.
            std::fprintf(stderr, "encore api: an I/O handler threw: %s\n", failure.what());
        } catch (...) {
            std::fprintf(stderr, "encore api: an I/O handler threw\n");
        }
    }
    std::lock_guard lock(threads_mutex);
    --threads_running;
    threads_done.notify_all();
}

void http_server::core::accept_next() {
    // `this` is safe in the core's own handlers: the I/O threads are joined before the core can go.
    acceptor.async_accept(asio::make_strand(io), [this](error_code ec, tcp::socket socket) {
        on_accept(ec, std::move(socket));
    });
}

void http_server::core::on_accept(error_code ec, tcp::socket socket) {
    if (stopping.load() || ec == asio::error::operation_aborted) return;
    if (ec) {
        accept_retry_timer.expires_after(accept_retry_delay_ms);
        accept_retry_timer.async_wait([this](error_code wait_error) {
            if (!wait_error && !stopping.load()) accept_next();
        });
        return;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // answers are small and latency matters
    const bool admitted = connections.load() < options.connections_max;
    const std::uint64_t id = next_session_id++;
    auto connection = std::make_shared<detail::session>(*this, std::move(socket), id, admitted);
    if (admitted) {
        connections.fetch_add(1);
        connections_open.add(1);
    } else {
        connections_rejected.increment();
    }
    register_session(id, connection);
    asio::post(connection->executor(), [connection, admitted] {
        admitted ? connection->start() : connection->start_rejected();
    });
    accept_next();
}

void http_server::core::register_session(std::uint64_t id, std::weak_ptr<detail::session> session) {
    std::lock_guard lock(sessions_mutex);
    sessions.emplace(id, std::move(session));
}

void http_server::core::release_session(std::uint64_t id, bool counted) {
    if (counted) {
        connections.fetch_sub(1);
        connections_open.add(-1);
    }
    std::lock_guard lock(sessions_mutex);
    sessions.erase(id);
}

void http_server::core::stop() {
    for (const auto& thread : threads) {
        assert(thread.get_id() != std::this_thread::get_id() &&
               "stop() on an I/O thread would wait for itself");
        (void)thread;
    }
    std::lock_guard stopping_lock(stop_mutex);
    if (joined) return;
    stopping.store(true);
    asio::post(acceptor.get_executor(), [this] {
        error_code ignored;
        acceptor.close(ignored);
        accept_retry_timer.cancel();
    });
    std::vector<std::weak_ptr<detail::session>> open;
    {
        std::lock_guard lock(sessions_mutex);
        for (const auto& [id, session] : sessions) open.push_back(session);
    }
    for (const auto& weak : open) {
        if (auto session = weak.lock()) session->post_server_stop();
    }
    // Without the guard, run() returns once every socket and timer is done.
    work.reset();
    std::unique_lock lock(threads_mutex);
    const auto bound = options.timeouts.stop_grace_ms + stop_margin_ms;
    if (!threads_done.wait_for(lock, bound, [this] { return threads_running == 0; })) {
        io.stop();  // something outlived its grace period: stop without it
    }
    lock.unlock();
    for (auto& thread : threads) {
        if (thread.joinable()) thread.join();
    }
    joined = true;
    close_remaining_sessions();
}

// After a forced stop some sessions may still be open; with the threads joined they are closed
// from here, so that their streams report closed and nothing records into the metrics registry
// after stop() returns (responders and streams held by handlers may outlive the registry).
void http_server::core::close_remaining_sessions() {
    std::vector<std::shared_ptr<detail::session>> remaining;
    {
        std::lock_guard lock(sessions_mutex);
        for (const auto& [id, weak] : sessions) {
            if (auto session = weak.lock()) remaining.push_back(std::move(session));
        }
    }
    for (const auto& session : remaining) session->close_after_stop();
}

// ---------------------------------------------------------------------------------------------
// http_server

result<std::unique_ptr<http_server>> http_server::start(server_options options,
                                                        request_handler& handler) {
    if (options.threads == 0) return error{errc::invalid, "server_options.threads must be > 0"};
    if (options.connections_max == 0) {
        return error{errc::invalid, "server_options.connections_max must be > 0"};
    }
    try {
        auto state = std::make_shared<core>(std::move(options), handler);
        auto listening = state->listen();
        if (!listening) return listening.err();
        auto* accepting = state.get();
        asio::post(state->acceptor.get_executor(), [accepting] { accepting->accept_next(); });
        state->start_threads();
        return std::unique_ptr<http_server>(new http_server(std::move(state)));
    } catch (const std::exception& failure) {
        return error{errc::io, std::string("cannot start the HTTP server: ") + failure.what()};
    }
}

http_server::http_server(std::shared_ptr<core> state) : core_(std::move(state)) {}

http_server::~http_server() { stop(); }

std::uint16_t http_server::port() const { return core_->bound_port; }

std::size_t http_server::connections() const { return core_->connections.load(); }

void http_server::stop() { core_->stop(); }


}  // namespace encore::api
