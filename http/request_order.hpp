// The order in which one connection's pipelined requests are handed to the handler (RFC 9112
// section 9.3.2): safe requests (GET, HEAD) may run in parallel, but one that follows a command
// (any other method) still unanswered waits until that command's answer is ready, so that it reads
// the command's effect; and a request never overtakes one held before it. A pure object: the
// session tells it what arrives and what is answered, and it says what may run. No I/O, no clock.

#pragma once

#include <cstdint>
#include <deque>
#include <optional>

namespace encore::http {

class request_order {
public:
    // A request read off the connection, the next in order. Its sequence number, and whether it
    // must be held (handed on later by next_released()) rather than handled now.
    struct arrival {
        std::uint64_t sequence = 0;
        bool held = false;
    };
    arrival arrive(bool safe);
    // A request the server answers itself (a framing error, a refusal): never held, already
    // answered. Its sequence number.
    std::uint64_t arrive_answered();

    // The answer to `sequence` is ready: its effect is visible to what runs after it.
    void answered(std::uint64_t sequence);
    // The oldest request's answer was written: it is forgotten.
    void written(std::uint64_t sequence);
    // The first held request, if its turn has come; it is no longer held. Call until empty.
    std::optional<std::uint64_t> next_released();
    // The connection is closing: nothing more is held or owed.
    void clear();

    std::uint64_t arrived() const { return next_sequence_; }  // requests read so far
    std::size_t held() const { return held_.size(); }
    std::size_t outstanding() const { return outstanding_.size(); }

private:
    struct request {
        std::uint64_t sequence = 0;
        bool safe = false;
        bool answered = false;
    };
    bool command_owed_before(std::uint64_t sequence) const;

    std::deque<request> outstanding_;  // read and not yet written, in order
    std::deque<request> held_;         // read and not yet handed to the handler, in order
    std::uint64_t next_sequence_ = 0;
};

}  // namespace encore::http
