#include "api/service.hpp"

#include "api/service_impl.hpp"
#include "events/diagnostics.hpp"

namespace encore::api {

void service::impl::run_housekeeping() {
    std::unique_lock lock(housekeeping_mutex);
    while (!stopping) {
        housekeeping_wake.wait_for(lock, queue_stream_poll);
        if (stopping) break;
        lock.unlock();
        gateway.sweep();
        streams.feed();
        lock.lock();
    }
}

service::service(service_config config, log_stream& commands, projections::read_models& models, token_signer& tokens,
                 metrics_registry& metrics)
    : impl_(std::make_unique<impl>(std::move(config), commands, models, tokens, metrics)) {
    impl_->housekeeping = std::thread([this] {
        diag::name_thread("housekeeping");
        impl_->run_housekeeping();
    });
}

service::~service() {
    {
        std::lock_guard lock(impl_->housekeeping_mutex);
        impl_->stopping = true;
    }
    impl_->housekeeping_wake.notify_all();
    impl_->housekeeping.join();
    impl_->streams.close_all();
}

void service::on_projected(std::uint32_t, std::span<const event> events) { impl_->gateway.on_projected(events); }

void service::handle(http_request request, responder respond) {
    request_context rc(std::move(request), std::move(respond));
    try {
        impl_->route(rc);
    } catch (const std::exception& e) {
        // A bug: the handlers validate before they act. Answer, log, keep serving. The log shows
        // the path, never the query: a query can carry tokens (EventSource sends them as ?token=).
        const std::string_view target(rc.request.target().data(), rc.request.target().size());
        diag::error("api", "handler threw",
                    {{"error", e.what()}, {"path", std::string(target.substr(0, target.find('?')))}, {"route", rc.route}});
        if (!rc.answered) rc.fail(500, "INTERNAL", "internal error");
    }
}

}  // namespace encore::api
