// The waiting room: at most activeCapacity users ACTIVE, strictly first come first served, one
// live token per user, ACTIVE until activeTtlSeconds pass or the user pays.
// The test catalog has capacity 2 and a 600 s active TTL.

#include <catch2/catch.hpp>

#include "harness.hpp"

namespace encore::test {

namespace {

// u1 and u2 are ACTIVE (u2 admitted 100 s after u1), u3 waits first in line.
std::vector<step> full_room() {
    return {create(), enqueue_as(u1), after(100, enqueue_as(u2)), enqueue_as(u3)};
}

// A concert whose admitted users must act within `seconds` (queue.claimSeconds).
create_concert claiming(std::uint32_t seconds) {
    create_concert c = catalog();
    c.options.claim_seconds = seconds;
    return c;
}

// u1 and u2 join ACTIVE (their joins claim their turns), u3 and u4 wait; at 600 s u1 and u2 run
// out and u3 and u4 are admitted, unclaimed, with a claim window of 60 s.
std::vector<step> admitted_unclaimed() {
    return {create(claiming(60)), enqueue_as(u1), enqueue_as(u2), enqueue_as(u3), enqueue_as(u4), after(600, tick())};
}

}  // namespace

TEST_CASE("an admitted user who sends nothing within claimSeconds lapses, and the slot admits the next", "[engine][queue][claim]") {
    const std::vector<std::string> both_lapse = {"QueueLeft u3 #3 EXPIRED", "QueueLeft u4 #4 EXPIRED"};
    check_scenarios({
        {"a millisecond before", admitted_unclaimed(), after_ms(59'999, tick()), {}},
        {"at claimSeconds", admitted_unclaimed(), after(60, tick()), both_lapse},
        {"joining again claims the turn", admitted_unclaimed() + std::vector{after(10, enqueue_as(u3))}, after(50, tick()),
         {"QueueLeft u4 #4 EXPIRED"}},
        {"a hold claims the turn", admitted_unclaimed() + std::vector{after(10, hold(u3, 3, 1))}, after(50, tick()),
         {"QueueLeft u4 #4 EXPIRED"}},
        {"a refused hold does not", admitted_unclaimed() + std::vector{after(10, hold(u3, 3, 99))}, after(50, tick()),
         both_lapse},
        {"a claimed turn lasts its TTL", admitted_unclaimed() + std::vector{after(10, enqueue_as(u3)), after(50, tick())},
         after(540, tick()), {"QueueLeft u3 #3 EXPIRED"}},
        {"the lapsed slots admit the next users",
         {create(claiming(60)), enqueue_as(u1), enqueue_as(u2), enqueue_as(u3), enqueue_as(u4), enqueue_as(u5),
          after(600, tick())},
         after(60, tick()), {"QueueLeft u3 #3 EXPIRED", "QueueLeft u4 #4 EXPIRED", "QueueAdmitted u5 #5"}},
        {"claimSeconds equal to the TTL never lapses early",
         {create(claiming(600)), enqueue_as(u1), enqueue_as(u2), enqueue_as(u3), after(600, tick())}, after(599, tick()), {}},
    });
}

TEST_CASE("joining the waiting room", "[engine][queue]") {
    check_scenarios({
        {"the first user is admitted at once", {create()}, enqueue_as(u1), {"QueueJoined u1 #1 ACTIVE"}},
        {"up to the capacity", {create(), enqueue_as(u1)}, enqueue_as(u2), {"QueueJoined u2 #2 ACTIVE"}},
        {"past the capacity, first in line", {create(), enqueue_as(u1), enqueue_as(u2)}, enqueue_as(u3),
         {"QueueJoined u3 #3 WAITING 1"}},
        {"second in line", full_room(), enqueue_as(u4), {"QueueJoined u4 #4 WAITING 2"}},
        {"an unknown concert", {create()}, enqueue_as(u1, concert_id{99}), {"Refused CONCERT_NOT_FOUND"}},
        {"no user", {create()}, enqueue_as(admin), {"Refused INVALID_REQUEST"}},
        {"again while ACTIVE: the same ticket", full_room(), enqueue_as(u1), {"QueueJoined u1 #1 ACTIVE again"}},
        {"again while WAITING: the same ticket and place", full_room() + std::vector{enqueue_as(u4)}, enqueue_as(u4),
         {"QueueJoined u4 #4 WAITING 2 again"}},
        {"one room per concert", full_room() + std::vector{create(catalog(concert_id{8}))},
         enqueue_as(u3, concert_id{8}), {"QueueJoined u3 #1 ACTIVE"}},
    });
}

TEST_CASE("active tokens run out after activeTtlSeconds and admit the next user", "[engine][queue]") {
    check_scenarios({
        {"a millisecond before", full_room(), after_ms(500'000 - 1, tick()), {}},
        {"at the deadline, by a Tick", full_room(), after(500, tick()),
         {"QueueLeft u1 #1 EXPIRED", "QueueAdmitted u3 #3"}},
        {"at the deadline, by any command", full_room(), after(500, enqueue_as(u4)),
         {"QueueLeft u1 #1 EXPIRED", "QueueAdmitted u3 #3", "QueueJoined u4 #4 WAITING 1"}},
        {"two slots free at once admit two, in order", full_room() + std::vector{enqueue_as(u4), enqueue_as(u5)},
         after(700, tick()),
         {"QueueLeft u1 #1 EXPIRED", "QueueLeft u2 #2 EXPIRED", "QueueAdmitted u3 #3", "QueueAdmitted u4 #4"}},
        {"with nobody waiting, a slot frees for the next to come", {create(), enqueue_as(u1), enqueue_as(u2)},
         after(600, enqueue_as(u3)),
         {"QueueLeft u1 #1 EXPIRED", "QueueLeft u2 #2 EXPIRED", "QueueJoined u3 #3 ACTIVE"}},
        {"an admitted user's TTL starts at admission", full_room() + std::vector{after(500, tick())},
         after_ms(600'000 - 1, tick()), {"QueueLeft u2 #2 EXPIRED"}},
        {"after EXPIRED, a new ticket at the back", full_room() + std::vector{enqueue_as(u4), after(500, tick())},
         enqueue_as(u1), {"QueueJoined u1 #5 WAITING 2"}},
        {"a live token is not renewed by asking again", full_room() + std::vector{after(499, enqueue_as(u1))},
         after(1, tick()), {"QueueLeft u1 #1 EXPIRED", "QueueAdmitted u3 #3"}},
    });
}

TEST_CASE("paying completes the token and admits the next user", "[engine][queue]") {
    // u1 pays 150 s in: u3 is admitted then, and u1's deadline at 600 s no longer matters.
    std::vector<step> paying = full_room() + std::vector{charge_as(u1, 100'000), hold(u1, 1, 1)};
    std::vector<step> paid = paying + std::vector{after(50, pay(u1, held(1)))};
    check_scenarios({
        {"the payment", paying, after(50, pay(u1, held(1))),
         {"PaymentStarted u1 80000", "WalletDebited u1 80000 balance 20000",
          "PaymentConfirmed u1 2026-12-24/1 balance 20000", "QueueLeft u1 #1 COMPLETED", "QueueAdmitted u3 #3"}},
        {"a COMPLETED token does not expire", paid, after(550, tick()), {"QueueLeft u2 #2 EXPIRED"}},
        {"the next slot goes to the next in line", paid + std::vector{enqueue_as(u4)}, after(550, tick()),
         {"QueueLeft u2 #2 EXPIRED", "QueueAdmitted u4 #4"}},
        {"a COMPLETED user queues again at the back", paid + std::vector{enqueue_as(u4)}, enqueue_as(u1),
         {"QueueJoined u1 #5 WAITING 2"}},
    });
}

TEST_CASE("admission is first come, first served over many users", "[engine][queue]") {
    world w;
    create_concert c = catalog();
    c.queue = {3, 60};
    w.run(create(c));
    for (std::uint64_t u = 1; u <= 20; ++u) w.run(after_ms(10, enqueue_as(user_id{u})));
    std::vector<std::uint64_t> admitted;
    for (int minute = 0; minute < 10; ++minute) {
        for (const event& e : w.run(after(60, tick()))) {
            if (const auto* a = std::get_if<queue_admitted>(&e.body)) {
                CHECK(a->user.value == a->ticket);  // user n took ticket n
                admitted.push_back(a->ticket);
            }
        }
    }
    std::vector<std::uint64_t> expected;
    for (std::uint64_t t = 4; t <= 20; ++t) expected.push_back(t);
    CHECK(admitted == expected);
    CHECK(engine::find_concert(w.state(), iu)->active <= 3);
}

TEST_CASE("positions count the waiting users ahead, plus one", "[engine][queue]") {
    world w;
    w.run_all(full_room() + std::vector{enqueue_as(u4), enqueue_as(u5)});
    auto position_of = [&w](user_id u) {
        auto events = w.run(enqueue_as(u));
        REQUIRE(events.size() == 1);
        return std::get<queue_joined>(events[0].body).position;
    };
    CHECK(position_of(u3) == 1);
    CHECK(position_of(u5) == 3);
    w.run(after(500, tick()));  // u1 leaves, u3 is admitted
    CHECK(position_of(u3) == 0);
    CHECK(position_of(u4) == 1);
    CHECK(position_of(u5) == 2);
}

TEST_CASE("a joined or admitted token carries its deadline", "[engine][queue]") {
    world w;
    w.run(create());
    auto joined = w.run(enqueue_as(u1));
    CHECK(std::get<queue_joined>(joined.at(0).body).active_until == start_time + 600'000);
    w.run_all({enqueue_as(u2), enqueue_as(u3)});
    auto waiting = w.run(enqueue_as(u3));
    CHECK(std::get<queue_joined>(waiting.at(0).body).active_until == 0);
    auto admitted = w.run(after(600, tick()));
    REQUIRE(admitted.size() == 3);
    CHECK(std::get<queue_admitted>(admitted[2].body).active_until == w.now + 600'000);
    CHECK(w.attendee(u3).status == queue_status::active);
    CHECK(w.attendee(u1).status == queue_status::expired);
}

}  // namespace encore::test
