#include "projections/projector.hpp"

#include <exception>
#include <string>

#include "events/chain.hpp"
#include "events/codec.hpp"
#include "events/diagnostics.hpp"

namespace encore::projections {
namespace {

constexpr std::string_view component = "projector";
// After a failed read (the log is shutting down, a broker hiccup), wait this long before retrying.
constexpr auto read_retry_pause = std::chrono::milliseconds(100);

}  // namespace

projector::projector(log_stream& events, read_models& models, projected_listener listener)
    : events_(events), models_(models), listener_(std::move(listener)) {}

projector::~projector() { stop(); }

void projector::start() {
    if (!threads_.empty()) return;
    stopping_.store(false);
    const std::uint32_t partitions = events_.partitions();
    threads_.reserve(partitions);
    for (std::uint32_t p = 0; p < partitions; ++p) threads_.emplace_back([this, p] { run(p); });
}

void projector::stop() {
    stopping_.store(true);
    for (std::thread& t : threads_) t.join();
    threads_.clear();
}

bool projector::caught_up() const {
    if (failed()) return false;
    for (std::uint32_t p = 0; p < events_.partitions(); ++p) {
        if (models_.applied_sequence(p) < events_.end(p)) return false;
    }
    return true;
}

std::uint64_t projector::lag() const {
    std::uint64_t total = 0;
    for (std::uint32_t p = 0; p < events_.partitions(); ++p) {
        std::uint64_t end = events_.end(p), applied = models_.applied_sequence(p);
        total += end > applied ? end - applied : 0;
    }
    return total;
}

bool projector::failed() const { return failed_.load(); }

void projector::fail(std::uint32_t partition, std::uint64_t offset, std::string_view why) {
    failed_.store(true);
    diag::error(component, "projection of the partition stopped",
                {{"partition", partition}, {"offset", offset}, {"error", std::string(why)}});
}

bool projector::decode_batch(std::uint32_t partition, const std::vector<log_entry>& records, std::vector<event>& out) {
    out.clear();
    out.reserve(records.size());
    for (const log_entry& record : records) {
        sealed_event sealed;
        if (!unseal(record.bytes, sealed)) {
            fail(partition, record.offset, "corrupt event record: too short to hold a chain link");
            return false;
        }
        auto decoded = decode_event(sealed.event_bytes);
        if (!decoded) {
            fail(partition, record.offset, "corrupt event record: " + decoded.err().message);
            return false;
        }
        // The runner writes every event once, in order, so an event's log offset is its sequence;
        // the read models resume from their applied sequence on that promise.
        if (decoded->sequence != record.offset) {
            fail(partition, record.offset, "event sequence " + std::to_string(decoded->sequence) +
                                               " stored at a different log offset");
            return false;
        }
        out.push_back(std::move(decoded).value());
    }
    return true;
}

// Runs on partition `partition`'s projector thread until stop() or a fatal error.
void projector::run(std::uint32_t partition) {
    std::uint64_t from = models_.applied_sequence(partition);
    std::vector<event> batch;
    while (!stopping_.load()) {
        auto records = events_.read(partition, from, read_records_max, read_wait);
        if (!records) {
            diag::warn(component, "event log read failed; retrying",
                       {{"partition", partition}, {"offset", from}, {"error", records.err().message}});
            std::this_thread::sleep_for(read_retry_pause);
            continue;
        }
        if (records->empty()) continue;
        if (!decode_batch(partition, *records, batch)) return;
        if (auto applied = models_.apply(partition, batch); !applied) {
            fail(partition, from, applied.err().message);
            return;
        }
        from = records->back().offset + 1;
        if (!listener_) continue;
        try {
            listener_(partition, batch);
        } catch (const std::exception& e) {
            // The events are projected; only the notification failed. Keep projecting.
            diag::error(component, "projection listener threw", {{"partition", partition}, {"error", e.what()}});
        }
    }
}

}  // namespace encore::projections
