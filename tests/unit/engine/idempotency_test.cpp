// Idempotency keys: a repeat of (user, key) is answered with the first request and changes nothing;
// a key is forgotten 24 hours (of the partition clock) after its first use.

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
         {"IdempotentReplay 0/0"}},
        {"a refused first request", {with_key("k", charge_as(u1, 0))}, with_key("k", charge_as(u1, 100)),
         {"IdempotentReplay 0/0"}},
        {"another key", {with_key("k", charge_as(u1, 100))}, with_key("k2", charge_as(u1, 5)),
         {"Charged u1 5 balance 105"}},
        {"no key", {with_key("k", charge_as(u1, 100))}, charge_as(u1, 5), {"Charged u1 5 balance 105"}},
        {"another user's key", {with_key("k", charge_as(u1, 100))}, with_key("k", charge_as(u2, 5)),
         {"Charged u2 5 balance 5"}},
        {"another command with the same key", {with_key("k", charge_as(u1, 100))},
         with_key("k", register_as(u1, "kim")),
         {"IdempotentReplay 0/0"}},
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
         after_ms(day_ms - 1, with_key("k", charge_as(u1, 5))),
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
         after_ms(day_ms - 1, with_key("k", charge_as(u1, 7))), {"IdempotentReplay 0/1"}},
    });
    world w;
    w.run(with_key("k", charge_as(u1, 100)));
    w.run(after_ms(day_ms, tick()));
    CHECK(w.state().idempotency.empty());
    CHECK(w.state().idempotency_expiry.empty());
}

}  // namespace encore::test
