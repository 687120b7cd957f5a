// The listener of the HTTP server: the listening socket and its accept loop, connection
// accounting (per client, in all, the probe reserve) and its sizing against the descriptor limit,
// the I/O threads, stop(), and the public http_server object.

#include "http/server_internal.hpp"
#include "events/diagnostics.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <limits>

#include <sys/resource.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace encore::http {

namespace {

// After a failed accept (out of descriptors, typically), wait before trying again instead of
// spinning on the same error.
constexpr std::chrono::milliseconds accept_retry_delay_ms{100};
// stop(): extra time, beyond the grace period, for the I/O threads to see every socket closed
// before the io_context is stopped outright.
constexpr std::chrono::milliseconds stop_margin_ms{1'000};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Connection limits: client keys, sizing against the descriptor limit.

namespace detail {

client_key client_key_of(const asio::ip::address& address) {
    client_key key;
    if (address.is_v4()) {
        const auto v4 = address.to_v4().to_bytes();
        std::copy(v4.begin(), v4.end(), key.bytes.begin());
        return key;
    }
    const asio::ip::address_v6 v6 = address.to_v6();
    if (v6.is_v4_mapped()) return client_key_of(asio::ip::make_address_v4(asio::ip::v4_mapped, v6));
    const auto bytes = v6.to_bytes();
    // The /64; the rest stays zero. The marker byte keeps it apart from every IPv4 key.
    std::copy(bytes.begin(), bytes.begin() + 8, key.bytes.begin());
    key.bytes[15] = 6;
    return key;
}

std::size_t client_key_hash::operator()(const client_key& key) const noexcept {
    return std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size()));
}

}  // namespace detail

result<connection_limits> size_connection_limits(const server_options& options,
                                                 std::uint64_t open_files_limit) {
    if (options.connections_max == 0 || options.connections_per_client_max == 0) {
        return error{errc::invalid,
                     "server_options.connections_max and connections_per_client_max must be > 0"};
    }
    const std::uint64_t kept =
        std::max(descriptors_kept_min, open_files_limit / descriptors_kept_divisor);
    const std::uint64_t reserve = options.probe_connections_reserve;
    if (open_files_limit <= kept + reserve) {
        return error{errc::invalid,
                     "the open files limit (RLIMIT_NOFILE) " + std::to_string(open_files_limit) +
                         " leaves no descriptor for connections: " + std::to_string(kept) +
                         " are kept for files and " + std::to_string(reserve) +
                         " for the probe reserve; raise it (ulimit -n)"};
    }
    connection_limits limits;
    limits.connections_max_configured = options.connections_max;
    limits.connections_max = static_cast<std::size_t>(
        std::min<std::uint64_t>(options.connections_max, open_files_limit - kept - reserve));
    limits.connections_per_client_max = options.connections_per_client_max;
    limits.probe_connections_reserve = options.probe_connections_reserve;
    limits.open_files_limit = open_files_limit;
    return limits;
}

namespace {

std::uint64_t open_files_soft_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
        return std::numeric_limits<std::uint64_t>::max();
    }
    return limit.rlim_cur;
}

// The most descriptors a process may have when its hard limit says unlimited.
std::optional<std::uint64_t> kernel_open_files_max() {
    std::FILE* file = std::fopen("/proc/sys/fs/nr_open", "r");
    if (file == nullptr) return std::nullopt;
    unsigned long long value = 0;
    const bool read = std::fscanf(file, "%llu", &value) == 1;
    std::fclose(file);
    if (!read || value == 0) return std::nullopt;
    return value;
}

}  // namespace

open_files_figures raise_open_files_limit() {
    open_files_figures figures;
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return figures;
    const auto figure = [](rlim_t value) {
        return value == RLIM_INFINITY ? std::numeric_limits<std::uint64_t>::max()
                                      : static_cast<std::uint64_t>(value);
    };
    figures.soft_before = figure(limit.rlim_cur);
    figures.hard = figure(limit.rlim_max);
    rlim_t wanted = limit.rlim_max;
    if (wanted == RLIM_INFINITY) {
        const auto kernel_max = kernel_open_files_max();
        wanted = kernel_max ? static_cast<rlim_t>(*kernel_max) : limit.rlim_cur;
    }
    if (limit.rlim_cur != RLIM_INFINITY && wanted > limit.rlim_cur) {
        rlimit raised = limit;
        raised.rlim_cur = wanted;
        (void)::setrlimit(RLIMIT_NOFILE, &raised);  // on failure the figures show the old limit
    }
    figures.soft = open_files_soft_limit();
    return figures;
}

// ---------------------------------------------------------------------------------------------
// core: listening, accepting, threads, stopping.

namespace {

metrics_registry& pick_registry(const server_options& options,
                                std::unique_ptr<metrics_registry>& own) {
    if (options.metrics != nullptr) return *options.metrics;
    own = std::make_unique<metrics_registry>();
    return *own;
}

counter_family& refused_family(metrics_registry& metrics) {
    return metrics.add_counter("encore_http_connections_refused_total",
                               "Connections refused: per_client and connections_max are closed at "
                               "once; not_probe asked the probe reserve for more than a probe (503).",
                               {"reason"});
}

}  // namespace

http_server::core::core(server_options options_in, connection_limits limits_in,
                        request_handler& handler_in)
    : options(std::move(options_in)), limits(limits_in), handler(handler_in),
      metrics(pick_registry(options, own_metrics)),
      requests_total(metrics.add_counter("encore_http_requests_total",
                                         "HTTP requests answered, by route and status.",
                                         {"route", "status"})),
      request_seconds(metrics.add_histogram(
          "encore_http_request_duration_seconds",
          "Time from a request fully read to its answer fully written, by route.", {"route"})),
      connections_open(metrics.add_gauge("encore_http_connections_open",
                                         "HTTP connections open within connections_max.")
                           .with({})),
      probe_connections_open(
          metrics.add_gauge("encore_http_probe_connections_open",
                            "HTTP connections open in the probe reserve past connections_max.")
              .with({})),
      refused_per_client(refused_family(metrics).with({"per_client"})),
      refused_connections_max(refused_family(metrics).with({"connections_max"})),
      refused_not_probe(refused_family(metrics).with({"not_probe"})),
      io(static_cast<int>(options.threads)), work(asio::make_work_guard(io)),
      acceptor(asio::make_strand(io)), accept_retry_timer(acceptor.get_executor()) {
    auto& limit = metrics.add_gauge("encore_http_connections_limit",
                                    "HTTP connection limits in force: total (connections_max, "
                                    "sized to the descriptor limit), per_client, probe_reserve.",
                                    {"kind"});
    limit.with({"total"}).set(static_cast<double>(limits.connections_max));
    limit.with({"per_client"}).set(static_cast<double>(limits.connections_per_client_max));
    limit.with({"probe_reserve"}).set(static_cast<double>(limits.probe_connections_reserve));
    metrics.add_gauge("encore_process_open_files_limit",
                      "The descriptor limit (RLIMIT_NOFILE) the connection limits were sized against.")
        .with({})
        .set(static_cast<double>(limits.open_files_limit));
}

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
    const auto remote = socket.remote_endpoint(ignored);
    if (ignored) {  // the client is gone already
        socket.close(ignored);
        accept_next();
        return;
    }
    const detail::client_key client = detail::client_key_of(remote.address());
    const std::optional<detail::admission> admitted = admit(client);
    if (!admitted) {
        close_at_once(socket);
        accept_next();
        return;
    }
    socket.set_option(tcp::no_delay(true), ignored);  // answers are small and latency matters
    const std::uint64_t id = next_session_id++;
    auto connection =
        std::make_shared<detail::session>(*this, std::move(socket), id, *admitted, client);
    register_session(id, connection);
    asio::post(connection->executor(), [connection] { connection->start(); });
    accept_next();
}

// A refused connection gets no answer: writing one would cost more than the client spent asking.
// The reset (SO_LINGER 0) leaves no TIME_WAIT behind on this side for a client that reconnects in
// a loop.
void http_server::core::close_at_once(tcp::socket& socket) {
    error_code ignored;
    socket.set_option(asio::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
}

// Counts a new connection against its client's limit and the server's, or counts why not (the
// caller then closes it at once).
std::optional<detail::admission> http_server::core::admit(const detail::client_key& client) {
    std::lock_guard lock(clients_mutex);
    auto [found, inserted] = clients.try_emplace(client);
    detail::client_connections& of_client = found->second;
    std::optional<detail::admission> admitted;
    if (of_client.open >= limits.connections_per_client_max) {
        refused_per_client.increment();
    } else if (connections.load() < limits.connections_max) {
        admitted = detail::admission::regular;
        connections.fetch_add(1);
        connections_open.add(1);
    } else if (probe_connections.load() >= limits.probe_connections_reserve) {
        refused_connections_max.increment();
    } else if (of_client.probes >= probe_connections_per_client_max) {
        refused_per_client.increment();
    } else {
        admitted = detail::admission::probe_only;
        probe_connections.fetch_add(1);
        probe_connections_open.add(1);
        ++of_client.probes;
    }
    if (admitted) {
        ++of_client.open;
    } else if (of_client.open == 0) {
        clients.erase(found);
    }
    return admitted;
}

void http_server::core::register_session(std::uint64_t id, std::weak_ptr<detail::session> session) {
    std::lock_guard lock(sessions_mutex);
    sessions.emplace(id, std::move(session));
}

void http_server::core::release_session(std::uint64_t id, detail::admission admitted,
                                        const detail::client_key& client) {
    {
        std::lock_guard lock(clients_mutex);
        const auto found = clients.find(client);
        assert(found != clients.end() && found->second.open > 0);
        if (admitted == detail::admission::regular) {
            connections.fetch_sub(1);
            connections_open.add(-1);
        } else {
            assert(found->second.probes > 0);
            --found->second.probes;
            probe_connections.fetch_sub(1);
            probe_connections_open.add(-1);
        }
        if (--found->second.open == 0) clients.erase(found);
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
    const std::uint64_t open_files =
        options.open_files_limit != 0 ? options.open_files_limit : open_files_soft_limit();
    auto limits = size_connection_limits(options, open_files);
    if (!limits) return limits.err();
    try {
        auto state = std::make_shared<core>(std::move(options), *limits, handler);
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

const connection_limits& http_server::limits() const { return core_->limits; }

void http_server::stop() { core_->stop(); }


}  // namespace encore::http
