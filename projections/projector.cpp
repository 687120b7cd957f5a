#include "projections/projector.hpp"

#include <deque>
#include <optional>

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
// After the read models' storage failed (a full disk), wait this long before trying again.
constexpr auto storage_retry_pause = std::chrono::seconds(1);

}  // namespace

projector::projector(log_stream& events, read_models& models, projected_listener listener)
    : events_(events), models_(models), listener_(std::move(listener)),
      next_offsets_(std::make_unique<std::atomic<std::uint64_t>[]>(events.partitions())),
      caught_up_at_(std::make_unique<std::atomic<std::int64_t>[]>(events.partitions())),
      applied_at_(std::make_unique<std::atomic<std::int64_t>[]>(events.partitions())) {
    // The first record of the next sequence is at an offset at least that sequence: offsets are
    // dense, and the records before it hold every earlier sequence at least once. Starting there
    // may read repeats again; they are dropped.
    for (std::uint32_t p = 0; p < events_.partitions(); ++p) next_offsets_[p].store(models_.applied_sequence(p));
}

projector::~projector() { stop(); }

void projector::start() {
    if (!threads_.empty()) return;
    stopping_.store(false);
    const std::uint32_t partitions = events_.partitions();
    threads_.reserve(partitions);
    for (std::uint32_t p = 0; p < partitions; ++p) threads_.emplace_back([this, p] {
            diag::name_thread("projector-" + std::to_string(p));
            run(p);
        });
}

void projector::stop() {
    stopping_.store(true);
    for (std::thread& t : threads_) t.join();
    threads_.clear();
}

bool projector::caught_up() const {
    if (failed()) return false;
    for (std::uint32_t p = 0; p < events_.partitions(); ++p) {
        if (next_offsets_[p].load() < events_.end(p)) return false;
    }
    return true;
}

void projector::mark_caught_up(std::uint32_t partition, std::chrono::steady_clock::time_point at) {
    caught_up_at_[partition].store(at.time_since_epoch().count(), std::memory_order_release);
}

bool projector::within(std::chrono::milliseconds behind) const {
    if (failed()) return false;
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    const auto allowed = std::chrono::duration_cast<std::chrono::steady_clock::duration>(behind).count();
    for (std::uint32_t p = 0; p < events_.partitions(); ++p) {
        if (next_offsets_[p].load() >= events_.end(p)) continue;
        const auto at = caught_up_at_[p].load(std::memory_order_acquire);
        if (at != 0 && now - at <= allowed) continue;
        const auto applied = applied_at_[p].load(std::memory_order_acquire);
        if (at == 0 || applied == 0 || now - applied > allowed) return false;
    }
    return true;
}

std::uint64_t projector::lag() const {
    std::uint64_t total = 0;
    for (std::uint32_t p = 0; p < events_.partitions(); ++p) {
        std::uint64_t end = events_.end(p), next = next_offsets_[p].load();
        total += end > next ? end - next : 0;
    }
    return total;
}

bool projector::failed() const { return failed_.load(); }

void projector::fail(std::uint32_t partition, std::uint64_t offset, std::string_view why) {
    failed_.store(true);
    diag::error(component, "projection of the partition stopped",
                {{"partition", partition}, {"offset", offset}, {"error", std::string(why)}});
}

bool projector::decode_batch(std::uint32_t partition, std::uint64_t expected, const std::vector<log_entry>& records,
                             std::vector<event>& out) {
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
        // The embedded log holds every event once, at the offset equal to its sequence. Kafka may
        // hold one twice: a producer's resent batch on a broker that does not drop it (the mock
        // cluster), or a former owner of the partition still writing before it learns that it lost
        // the partition. Replay makes such a repeat the same bytes as the first, so it is dropped
        // by its sequence. A sequence beyond the next one means an event is missing: fatal.
        if (decoded->sequence < expected) continue;
        if (decoded->sequence > expected) {
            fail(partition, record.offset, "event sequence " + std::to_string(decoded->sequence) + " where " +
                                               std::to_string(expected) + " was expected: an event is missing");
            return false;
        }
        ++expected;
        out.push_back(std::move(decoded).value());
    }
    return true;
}

// Runs on partition `partition`'s projector thread until stop() or a fatal error.
void projector::run(std::uint32_t partition) {
    std::uint64_t from = next_offsets_[partition].load();
    std::vector<event> batch;
    // (when, the log's end then) as seen before each read: once `from` passes such an end,
    // everything the log held at that time is projected. Behind by more than one read, the
    // projector still marks how far it has come, not only when it reaches the end.
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> ends;
    constexpr std::size_t ends_kept_max = 64;
    while (!stopping_.load()) {
        const auto read_began = std::chrono::steady_clock::now();
        const std::uint64_t end_before = events_.end(partition);
        if (ends.empty() || ends.back().second < end_before) {
            if (ends.size() == ends_kept_max) ends.pop_front();  // a later sample still marks truly
            ends.emplace_back(read_began, end_before);
        }
        auto records = events_.read(partition, from, read_records_max, read_wait);
        if (!records) {
            diag::warn(component, "event log read failed; retrying",
                       {{"partition", partition}, {"offset", from}, {"error", records.err().message}});
            std::this_thread::sleep_for(read_retry_pause);
            continue;
        }
        if (records->empty()) {
            if (from >= end_before) mark_caught_up(partition, std::chrono::steady_clock::now());
            continue;
        }
        if (!decode_batch(partition, models_.applied_sequence(partition), *records, batch)) return;
        if (!batch.empty()) {
            if (auto applied = models_.apply(partition, batch); !applied) {
                if (applied.err().code != errc::io) {
                    fail(partition, from, applied.err().message);
                    return;
                }
                // The storage failed (a full disk): nothing was applied. Queries go on answering
                // from what is projected; the same events are applied again once it resumes.
                diag::warn(component, "writing the read models failed; retrying",
                           {{"partition", partition}, {"offset", from}, {"error", applied.err().message}});
                std::this_thread::sleep_for(storage_retry_pause);
                if (auto resumed = models_.resume(); !resumed)
                    diag::warn(component, "the read models cannot resume writing yet", {{"error", resumed.err().message}});
                continue;
            }
        }
        from = records->back().offset + 1;
        next_offsets_[partition].store(from);
        applied_at_[partition].store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_release);
        if (from >= end_before) mark_caught_up(partition, read_began);
        std::optional<std::chrono::steady_clock::time_point> passed;
        while (!ends.empty() && ends.front().second <= from) {
            passed = ends.front().first;
            ends.pop_front();
        }
        if (passed && from < end_before) mark_caught_up(partition, *passed);
        if (!listener_ || batch.empty()) continue;
        try {
            listener_(partition, batch);
        } catch (const std::exception& e) {
            // The events are projected; only the notification failed. Keep projecting.
            diag::error(component, "projection listener threw", {{"partition", partition}, {"error", e.what()}});
        }
    }
}

}  // namespace encore::projections
