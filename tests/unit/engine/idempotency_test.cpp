// Idempotency keys: a repeat of (user, key) with the same request is answered with the first
// request and changes nothing; the same key for another request is refused; a claim_key records a
// key for a request another partition applies; a key is forgotten 24 hours (of the partition
// clock) after its first use, and a caller keeps at most 1,000.

#include <catch2/catch.hpp>

#include "harness.hpp"

namespace encore::test {

namespace {

constexpr time_ms day_ms = 24LL * 3600 * 1000;

}  // namespace

TEST_CASE("a repeated key is answered with the first request", "[engine][idempotency]") {
    // Offsets: a one-partition world numbers commands 0, 1, 2… in the order they run.
    std::vector<step> room = {create(), enqueue_as(u1), enqueue_as(u2)};
    check_scenarios({
        {"a charge", {with_key("k", charge_as(u1, 100))}, with_key("k", charge_as(u1, 100)), {"IdempotentReplay 0/0"}},
        {"a charge with another amount", {with_key("k", charge_as(u1, 100))}, with_key("k", charge_as(u1, 5)),
         {"Refused IDEMPOTENCY_KEY_REUSED"}},
        {"a refused first request", {with_key("k", charge_as(u1, 0))}, with_key("k", charge_as(u1, 0)),
         {"IdempotentReplay 0/0"}},
        {"another key", {with_key("k", charge_as(u1, 100))}, with_key("k2", charge_as(u1, 5)),
         {"Charged u1 5 balance 105"}},
        {"no key", {with_key("k", charge_as(u1, 100))}, charge_as(u1, 5), {"Charged u1 5 balance 105"}},
        {"another user's key", {with_key("k", charge_as(u1, 100))}, with_key("k", charge_as(u2, 5)),
         {"Charged u2 5 balance 5"}},
        {"another command with the same key", {with_key("k", charge_as(u1, 100))},
         with_key("k", register_as(u1, "kim")),
         {"Refused IDEMPOTENCY_KEY_REUSED"}},
        {"a hold", room + std::vector{with_key("h", hold(u1, 1, 1))}, with_key("h", hold(u1, 1, 1)),
         {"IdempotentReplay 0/3"}},
        {"an enqueue", {create(), with_key("q", enqueue_as(u1))}, with_key("q", enqueue_as(u1)),
         {"IdempotentReplay 0/1"}},
        {"a cancel", room + std::vector{hold(u1, 1, 1), with_key("c", cancel(u1, held(1)))},
         with_key("c", cancel(u1, held(1))), {"IdempotentReplay 0/4"}},
        {"the admin's catalog", {with_key("a", create())}, with_key("a", create()), {"IdempotentReplay 0/0"}},
        {"a repeat still moves the clock", room + std::vector{with_key("h", hold(u1, 1, 1))},
         after(300, with_key("h", hold(u1, 1, 1))), {"HoldExpired u1 2026-12-24/1", "IdempotentReplay 0/3"}},
    });
}

TEST_CASE("a repeated request changes nothing", "[engine][idempotency]") {
    world w;
    w.run_all({create(), enqueue_as(u1), with_key("h", hold(u1, 1, 1)), with_key("c", charge_as(u1, 100'000))});
    std::string before = engine::snapshot(w.state());
    w.run(with_key("h", hold(u1, 1, 1)));
    w.run(with_key("h", hold(u1, 1, 2)));
    w.run(with_key("c", charge_as(u1, 100'000)));
    CHECK(w.balance(u1) == 100'000);
    CHECK(w.seat(2) == seat_status::available);
    CHECK(w.attendee(u1).holds == 1);
    CHECK(w.state().reservations.size() == 1);
    auto state = engine::restore(before);
    REQUIRE(state.ok());
    state->next_command_offset = w.state().next_command_offset;
    state->next_event_sequence = w.state().next_event_sequence;
    CHECK(engine::state_hash(*state) == engine::state_hash(w.state()));
}

TEST_CASE("a repeated Pay starts no second payment", "[engine][idempotency]") {
    world w;
    w.run_all({create(), enqueue_as(u1), hold(u1, 1, 1), charge_as(u1, 100'000)});
    w.hold_messages = true;
    w.run(with_key("p", pay(u1, held(1))));
    log_position first = w.last_position();
    auto replay = w.run(with_key("p", pay(u1, held(1))));
    REQUIRE(replay.size() == 1);
    CHECK(std::get<idempotent_replay>(replay[0].body).first == first);
    CHECK(replay[0].answers == w.last_position());
    CHECK(w.pending() == 1);
    w.deliver_all();
    CHECK(describe(w.run(with_key("p", pay(u1, held(1))))) == std::vector<std::string>{"IdempotentReplay 0/4"});
    CHECK(w.balance(u1) == 20'000);
}

TEST_CASE("keys are forgotten 24 hours after their first use", "[engine][idempotency]") {
    check_scenarios({
        {"a millisecond before", {with_key("k", charge_as(u1, 100))},
         after_ms(day_ms - 1, with_key("k", charge_as(u1, 100))),
         {"IdempotentReplay 0/0"}},
        {"at 24 hours", {with_key("k", charge_as(u1, 100))}, after_ms(day_ms, with_key("k", charge_as(u1, 5))),
         {"Charged u1 5 balance 105"}},
        {"a repeat does not extend the 24 hours",
         {with_key("k", charge_as(u1, 100)), after(3600, with_key("k", charge_as(u1, 100)))},
         after_ms(day_ms - 3'600'000, with_key("k", charge_as(u1, 5))), {"Charged u1 5 balance 105"}},
        {"forgotten by the partition clock, whoever moves it",
         {with_key("k", charge_as(u1, 100)), after_ms(day_ms, charge_as(u2, 1))}, with_key("k", charge_as(u1, 5)),
         {"Charged u1 5 balance 105"}},
        {"a key used again after 24 hours is remembered again",
         {with_key("k", charge_as(u1, 100)), after_ms(day_ms, with_key("k", charge_as(u1, 5)))},
         after_ms(day_ms - 1, with_key("k", charge_as(u1, 5))), {"IdempotentReplay 0/1"}},
        {"and for the request it names then",
         {with_key("k", charge_as(u1, 100)), after_ms(day_ms, with_key("k", charge_as(u1, 5)))},
         after_ms(day_ms - 1, with_key("k", charge_as(u1, 100))), {"Refused IDEMPOTENCY_KEY_REUSED"}},
    });
    world w;
    w.run(with_key("k", charge_as(u1, 100)));
    w.run(after_ms(day_ms, tick()));
    CHECK(w.state().idempotency.empty());
    CHECK(w.state().idempotency_order.empty());
    CHECK(w.state().idempotency_expiry.empty());
}

TEST_CASE("a key claimed for a request of another partition", "[engine][idempotency]") {
    // The API claims the key in the caller's home partition (here the only one) before it sends
    // the request to the partition that applies it.
    step queue_request = with_key("q", enqueue_as(u1));
    check_scenarios({
        {"a fresh key", {create()}, claim_for(queue_request), {"KeyClaimed u1"}},
        {"claimed again for the same request", {create(), claim_for(queue_request)}, claim_for(queue_request),
         {"KeyClaimed u1"}},
        {"claimed for another request", {create(), claim_for(queue_request)},
         claim_for(with_key("q", enqueue_as(u1, concert_id{8}))), {"Refused IDEMPOTENCY_KEY_REUSED"}},
        {"a key used by a request of this partition", {create(), with_key("q", charge_as(u1, 100))},
         claim_for(queue_request), {"Refused IDEMPOTENCY_KEY_REUSED"}},
        {"a request of this partition with a claimed key", {create(), claim_for(queue_request)},
         with_key("q", charge_as(u1, 100)), {"Refused IDEMPOTENCY_KEY_REUSED"}},
        {"another user claims the same key", {create(), claim_for(queue_request)},
         claim_for(with_key("q", enqueue_as(u2))), {"KeyClaimed u2"}},
        {"a claim without a key", {create()}, claim_for(enqueue_as(u1)), {"Refused INVALID_REQUEST"}},
    });
}

TEST_CASE("a caller keeps at most 1,000 keys, the oldest forgotten first", "[engine][idempotency]") {
    world w;
    const auto key = [](std::size_t i) { return "k" + std::to_string(i); };
    for (std::size_t i = 0; i <= engine::idempotency_keys_per_caller_max; ++i) w.run(with_key(key(i), charge_as(u1, 1)));
    w.run(with_key("other", charge_as(u2, 1)));
    CHECK(w.state().idempotency_order.at(u1).size() == engine::idempotency_keys_per_caller_max);
    CHECK(w.state().idempotency.size() == engine::idempotency_keys_per_caller_max + 1);
    // The first key is forgotten: it applies again. The second is still remembered.
    CHECK(describe(w.run(with_key(key(0), charge_as(u1, 1)))) == std::vector<std::string>{"Charged u1 1 balance 1002"});
    CHECK(describe(w.run(with_key(key(2), charge_as(u1, 1)))) == std::vector<std::string>{"IdempotentReplay 0/2"});
    // Another caller's keys are its own.
    CHECK(describe(w.run(with_key("other", charge_as(u2, 1)))) == std::vector<std::string>{"IdempotentReplay 0/1001"});
    // The snapshot keeps the same keys in the same order.
    auto restored = engine::restore(engine::snapshot(w.state()));
    REQUIRE(restored.ok());
    CHECK(engine::snapshot(*restored) == engine::snapshot(w.state()));
    CHECK(restored->idempotency_order.at(u1) == w.state().idempotency_order.at(u1));
    CHECK(restored->idempotency_expiry == w.state().idempotency_expiry);
}

TEST_CASE("two million keyed commands keep the snapshot bounded", "[engine][idempotency][bound]") {
    // Kafka mode gives every command a key. Whatever the traffic, a partition remembers at most
    // 1,000 keys per caller, so with a fixed set of callers the snapshot stops growing once each
    // has sent 1,000 commands, well inside the checkpoint size limit.
    constexpr std::uint64_t callers = 100;
    constexpr std::uint64_t commands = 2'000'000;
    engine::partition_state state = engine::make_partition(0, 1);
    engine::apply_output out;
    std::size_t size_at_tenth = 0;
    for (std::uint64_t i = 0; i < commands; ++i) {
        command c{command_meta{start_time + static_cast<time_ms>(i / 100), user_id{1 + i % callers},
                               "~" + std::to_string(1'000'000'000 + i), no_position},
                  charge{1}};
        out.clear();
        engine::apply(state, c, {0, i}, out);
        REQUIRE(out.events.size() == 1);
        if (i + 1 == commands / 10) size_at_tenth = engine::snapshot(state).size();
    }
    const std::size_t size_at_end = engine::snapshot(state).size();
    INFO("snapshot bytes after 200,000 commands: " << size_at_tenth << ", after 2,000,000: " << size_at_end);
    CHECK(state.idempotency.size() == callers * engine::idempotency_keys_per_caller_max);
    CHECK(size_at_end == size_at_tenth);
    CHECK(size_at_end < callers * engine::idempotency_keys_per_caller_max * 64);
}

}  // namespace encore::test
