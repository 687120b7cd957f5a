#include "events/log.hpp"

#include <future>

namespace encore {

result<std::uint64_t> log_stream::append_and_wait(std::uint32_t partition, std::vector<std::string> records) {
    std::promise<result<std::uint64_t>> done;
    auto outcome = done.get_future();
    append(partition, std::move(records), [&done](result<std::uint64_t> r) { done.set_value(std::move(r)); });
    return outcome.get();
}

}  // namespace encore
