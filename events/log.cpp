#include "events/log.hpp"

#include <future>

namespace encore {

result<std::uint64_t> log_stream::append_and_wait(std::uint32_t partition, std::vector<std::string> records) {
    std::promise<result<std::uint64_t>> done;
    auto outcome = done.get_future();
    append(partition, std::move(records), [&done](result<std::uint64_t> r) { done.set_value(std::move(r)); });
    return outcome.get();
}

result<unit> log_stream::read_into(std::uint32_t partition, std::uint64_t from, std::size_t max,
                                   std::chrono::milliseconds wait, log_batch& out) {
    out.clear();
    auto records = read(partition, from, max, wait);
    if (!records) return records.err();
    for (const log_entry& r : *records) out.add(r.offset, r.bytes);
    return unit{};
}

result<std::optional<log_entry>> log_stream::read_last(std::uint32_t partition) {
    // Generous: a read of a record known to exist that takes longer means the log is unavailable.
    constexpr std::chrono::milliseconds known_record_wait{5'000};
    const std::uint64_t last_end = end(partition);
    if (last_end == 0) return std::optional<log_entry>();
    auto last = read(partition, last_end - 1, 1, known_record_wait);
    if (!last) return last.err();
    if (last->empty() || last->front().offset != last_end - 1)
        return error{errc::unavailable, "the last record of partition " + std::to_string(partition) + " did not arrive"};
    return std::optional<log_entry>(std::move(last->front()));
}

}  // namespace encore
