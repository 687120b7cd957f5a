// apply refuses nothing silently: every client command gets exactly one event that answers it
// (`answers` == its position), except Pay, whose answer (PaymentConfirmed or PaymentFailed) comes
// when the saga ends. Saga steps and Ticks answer nothing. Time is an input that never goes back.
// (The harness checks the answers of every command of every test; this file states it outright.)

#include <catch2/catch.hpp>

#include <algorithm>

#include "harness.hpp"

namespace encore::test {

namespace {

long answers_to(const std::vector<event>& events, log_position at) {
    return std::count_if(events.begin(), events.end(), [&](const event& e) { return e.answers == at; });
}

}  // namespace

TEST_CASE("every client command, accepted or refused, is answered once", "[engine][answers]") {
    world w(3);
    const std::vector<step> commands = {
        create(), create(), create(catalog(concert_id{0})), register_as(u1, "kim"), register_as(admin, "x"),
        charge_as(u1, 500'000), charge_as(u2, 0), charge_as(admin, 5), enqueue_as(u1), enqueue_as(u2),
        enqueue_as(u3), enqueue_as(u1), enqueue_as(u4, concert_id{99}), hold(u1, 1, 1), hold(u1, 1, 1),
        hold(u3, 3, 2), hold(u2, 2, 2, eve + 100), hold(u2, 2, 99), hold(u4, 1, 1), hold(u2, 2, 2),
        cancel(u2, held(2)), cancel(u2, held(2)), cancel(u1, held(2)), pay(u1, held(1)), pay(u1, held(1)),
        pay(u2, held(1)), with_key("k", charge_as(u1, 1)), with_key("k", charge_as(u1, 1)),
    };
    for (const step& s : commands) {
        auto events = w.run_on(0, s);  // any partition answers, even one the command was not meant for
        INFO(to_string(s.cmd.type()) << " at offset " << w.last_position().offset);
        long n = answers_to(events, w.last_position());
        bool started = !events.empty() && events.back().type() == event_type::payment_started;
        CHECK(n == (started ? 0 : 1));
    }
    for (const step& s : commands) w.run(s);
    w.deliver_all();
    CHECK(w.unanswered_pays() == 0);
}

TEST_CASE("a Pay is answered once, by its outcome", "[engine][answers]") {
    for (won balance : {1, 100'000}) {
        world w;
        w.run_all({create(), enqueue_as(u1), hold(u1, 1, 1), charge_as(u1, balance)});
        w.hold_messages = true;
        CHECK(answers_to(w.run(pay(u1, held(1))), w.last_position()) == 0);
        log_position pay_at = w.last_position();
        CHECK(answers_to(w.deliver_one(), pay_at) == 0);  // the wallet's step answers nobody
        auto outcome = w.deliver_one();
        CHECK(answers_to(outcome, pay_at) == 1);
        CHECK(outcome[0].type() == (balance == 1 ? event_type::payment_failed : event_type::payment_confirmed));
        CHECK(w.unanswered_pays() == 0);
    }
}

TEST_CASE("Ticks and saga steps answer nothing", "[engine][answers]") {
    world w;
    w.run_all({create(), enqueue_as(u1), enqueue_as(u2), enqueue_as(u3), hold(u1, 1, 1)});
    for (const event& e : w.run(after(600, tick()))) CHECK(e.answers == no_position);
}

TEST_CASE("the partition clock is the latest accept time and never goes back", "[engine][clock]") {
    world w;
    w.run_all({create(), enqueue_as(u1), hold(u1, 1, 1)});
    w.now += 200'000;
    w.run(tick());
    time_ms clock = w.state().clock;
    CHECK(clock == w.now);
    w.now -= 150'000;  // accepted earlier, appended later: the clock stays
    auto events = w.run(charge_as(u1, 5));
    REQUIRE(events.size() == 1);
    CHECK(events[0].at == clock);
    CHECK(w.state().clock == clock);
    // The hold (300 s) expires by the partition clock, not by the late command's time.
    w.now = start_time + 300'000;
    CHECK(describe(w.run(tick())) == std::vector<std::string>{"HoldExpired u1 2026-12-24/1"});
    auto held = w.run(after(1, hold(u1, 1, 2)));
    CHECK(std::get<seat_held>(held.at(0).body).reservation.held_at == start_time + 301'000);
}

TEST_CASE("apply expects the next offset of its partition's log", "[engine][clock]") {
    world w;
    w.run_all({create(), tick(), charge_as(u1, 1)});
    CHECK(w.state().next_command_offset == 3);
    CHECK(w.last_position() == log_position{0, 2});
}

}  // namespace encore::test
