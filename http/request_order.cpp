// The order of one connection's pipelined requests (request_order.hpp).

#include "http/request_order.hpp"

#include <cassert>

namespace encore::http {

request_order::arrival request_order::arrive(bool safe) {
    const request r{next_sequence_++, safe, false};
    outstanding_.push_back(r);
    // Behind a held request, or a safe one behind a command still owed: held.
    const bool hold = !held_.empty() || (safe && command_owed_before(r.sequence));
    if (hold) held_.push_back(r);
    return {r.sequence, hold};
}

std::uint64_t request_order::arrive_answered() {
    outstanding_.push_back({next_sequence_, true, true});
    return next_sequence_++;
}

void request_order::answered(std::uint64_t sequence) {
    for (request& r : outstanding_) {
        if (r.sequence != sequence) continue;
        assert(!r.answered);
        r.answered = true;
        return;
    }
    assert(false && "an answer to a request not outstanding");
}

void request_order::written(std::uint64_t sequence) {
    assert(!outstanding_.empty() && outstanding_.front().sequence == sequence && outstanding_.front().answered);
    (void)sequence;
    outstanding_.pop_front();
}

std::optional<std::uint64_t> request_order::next_released() {
    if (held_.empty()) return std::nullopt;
    const request& first = held_.front();
    if (first.safe && command_owed_before(first.sequence)) return std::nullopt;
    const std::uint64_t sequence = first.sequence;
    held_.pop_front();
    return sequence;
}

void request_order::clear() {
    outstanding_.clear();
    held_.clear();
}

bool request_order::command_owed_before(std::uint64_t sequence) const {
    for (const request& r : outstanding_) {
        if (r.sequence >= sequence) break;
        if (!r.safe && !r.answered) return true;
    }
    return false;
}

}  // namespace encore::http
