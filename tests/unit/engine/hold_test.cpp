// Holds: API.md's checks in its order (token, turn, date, seat, taken, limit), expiry at
// holdTtlSeconds with no request needed, and cancellation.
// The test catalog: 2026-12-24 has seats 1..3, 2026-12-25 seats 1..2; holds last 300 s; at most 2
// holds per user; capacity 2.

#include <catch2/catch.hpp>

#include "harness.hpp"

namespace encore::test {

namespace {

// u1 (ticket 1) and u2 (ticket 2) are ACTIVE, u3 (ticket 3) waits first in line.
std::vector<step> room() { return {create(), enqueue_as(u1), enqueue_as(u2), enqueue_as(u3)}; }

// room() where u1 has paid for seat 1 of the eve.
std::vector<step> sold() { return room() + std::vector{charge_as(u1, 100'000), hold(u1, 1, 1), pay(u1, held(1))}; }

// u1 ACTIVE at a concert of `c`, holding seat 1 of the eve.
std::vector<step> room_of(create_concert c) { return {create(std::move(c)), enqueue_as(u1), hold(u1, 1, 1)}; }

const std::vector<std::string> invalid_token = {"Refused QUEUE_TOKEN_INVALID"};
const std::vector<std::string> expired_token = {"Refused QUEUE_TOKEN_EXPIRED"};

}  // namespace

TEST_CASE("holding a seat needs a live, admitted queue token", "[engine][hold]") {
    check_scenarios({
        {"an ACTIVE token and a free seat", room(), hold(u1, 1, 1), {"SeatHeld u1 2026-12-24/1"}},
        {"the other date", room(), hold(u2, 2, 2, christmas), {"SeatHeld u2 2026-12-25/2"}},
        {"ticket 0", room(), hold(u1, 0, 1), invalid_token},
        {"a ticket never issued", room(), hold(u1, 9, 1), invalid_token},
        {"a ticket issued after the user's", room(), hold(u1, 2, 1), invalid_token},
        {"a user who never queued", room(), hold(u4, 1, 1), invalid_token},
        {"an unknown concert", room(), hold(u1, 1, 1, eve, concert_id{8}), invalid_token},
        {"another concert's ticket", room() + std::vector{create(catalog(concert_id{8}))},
         hold(u1, 1, 1, eve, concert_id{8}), invalid_token},
        {"an EXPIRED token", room() + std::vector{after(600, tick())}, hold(u1, 1, 1), expired_token},
        {"a token expiring as the hold arrives", room(), after(600, hold(u1, 1, 1)),
         {"QueueLeft u1 #1 EXPIRED", "QueueLeft u2 #2 EXPIRED", "QueueAdmitted u3 #3", "Refused QUEUE_TOKEN_EXPIRED"}},
        {"an old ticket after queueing again", room() + std::vector{after(600, tick()), enqueue_as(u1)},
         hold(u1, 1, 1), expired_token},
        {"the new ticket after queueing again", room() + std::vector{after(600, tick()), enqueue_as(u1)},
         hold(u1, 4, 1), {"SeatHeld u1 2026-12-24/1"}},
        {"a COMPLETED token", sold(), hold(u1, 1, 2), expired_token},
        {"WAITING, first in line", room(), hold(u3, 3, 1), {"Refused NOT_YOUR_TURN 1"}},
        {"WAITING, second in line", room() + std::vector{enqueue_as(u4)}, hold(u4, 4, 1), {"Refused NOT_YOUR_TURN 2"}},
        {"WAITING comes before a bad date", room(), hold(u3, 3, 1, christmas + 7), {"Refused NOT_YOUR_TURN 1"}},
        {"an admitted user", room() + std::vector{after(600, tick())}, hold(u3, 3, 1), {"SeatHeld u3 2026-12-24/1"}},
    });
}

TEST_CASE("the date and seat must exist and be free", "[engine][hold]") {
    const std::vector<std::string> invalid_seat = {"Refused INVALID_SEAT"};
    const std::vector<std::string> taken = {"Refused SEAT_TAKEN"};
    check_scenarios({
        {"a date the concert does not play", room(), hold(u1, 1, 1, eve - 1), {"Refused DATE_NOT_BOOKABLE"}},
        {"a bad date comes before a bad seat", room(), hold(u1, 1, 99, christmas + 1), {"Refused DATE_NOT_BOOKABLE"}},
        {"seat 0", room(), hold(u1, 1, 0), invalid_seat},
        {"the seat after the last", room(), hold(u1, 1, 4), invalid_seat},
        {"the last seat", room(), hold(u1, 1, 3), {"SeatHeld u1 2026-12-24/3"}},
        {"a seat the other date lacks", room(), hold(u1, 1, 3, christmas), invalid_seat},
        {"the largest seat number", room(), hold(u1, 1, 0xFFFFFFFF), invalid_seat},
        {"HELD by another user", room() + std::vector{hold(u1, 1, 1)}, hold(u2, 2, 1), taken},
        {"HELD by this user", room() + std::vector{hold(u1, 1, 1)}, hold(u1, 1, 1), taken},
        {"SOLD", sold(), hold(u2, 2, 1), taken},
        {"the same seat number on another date", room() + std::vector{hold(u1, 1, 1)}, hold(u2, 2, 1, christmas),
         {"SeatHeld u2 2026-12-25/1"}},
    });
}

TEST_CASE("a user holds at most maxHoldsPerUser seats of a concert", "[engine][hold]") {
    std::vector<step> two = room() + std::vector{hold(u1, 1, 1), hold(u1, 1, 2)};
    check_scenarios({
        {"a third seat", two, hold(u1, 1, 3), {"Refused HOLD_LIMIT"}},
        {"a third seat on another date", two, hold(u1, 1, 1, christmas), {"Refused HOLD_LIMIT"}},
        {"a taken seat is SEAT_TAKEN first", two, hold(u1, 1, 1), {"Refused SEAT_TAKEN"}},
        {"another user is not limited", two, hold(u2, 2, 3), {"SeatHeld u2 2026-12-24/3"}},
        {"after a cancellation", two + std::vector{cancel(u1, held(1))}, hold(u1, 1, 3), {"SeatHeld u1 2026-12-24/3"}},
        {"after expiry", two, after(300, hold(u1, 1, 3)),
         {"HoldExpired u1 2026-12-24/1", "HoldExpired u1 2026-12-24/2", "SeatHeld u1 2026-12-24/3"}},
        {"a failed payment keeps the hold counted", two + std::vector{pay(u1, held(1))}, hold(u1, 1, 3),
         {"Refused HOLD_LIMIT"}},
    });
}

TEST_CASE("a user holds and owns at most maxTicketsPerUser seats of a concert", "[engine][hold][tickets]") {
    // One ticket per user, a room of 10 so that a user who paid can join again and be ACTIVE.
    create_concert one_ticket = catalog();
    one_ticket.options.max_tickets_per_user = 1;
    one_ticket.queue.active_capacity = 10;
    const std::vector<step> room = {create(one_ticket), enqueue_as(u1), enqueue_as(u2), charge_as(u1, 100'000)};
    const std::vector<step> paid = room + std::vector{hold(u1, 1, 1), pay(u1, held(1)), enqueue_as(u1)};
    check_scenarios({
        {"the first seat", room, hold(u1, 1, 1), {"SeatHeld u1 2026-12-24/1"}},
        {"a second held seat", room + std::vector{hold(u1, 1, 1)}, hold(u1, 1, 2), {"Refused TICKET_LIMIT"}},
        {"a refused seat is not counted", room + std::vector{hold(u1, 1, 1), hold(u1, 1, 2)}, hold(u1, 1, 3),
         {"Refused TICKET_LIMIT"}},
        {"a bought seat counts", paid, hold(u1, 3, 2), {"Refused TICKET_LIMIT"}},
        {"a cancelled one does not", room + std::vector{hold(u1, 1, 1), cancel(u1, held(1))}, hold(u1, 1, 2),
         {"SeatHeld u1 2026-12-24/2"}},
        {"an expired one does not", room + std::vector{hold(u1, 1, 1)}, after(300, hold(u1, 1, 2)),
         {"HoldExpired u1 2026-12-24/1", "SeatHeld u1 2026-12-24/2"}},
        {"another user has their own", room + std::vector{hold(u1, 1, 1)}, hold(u2, 2, 2), {"SeatHeld u2 2026-12-24/2"}},
    });
    // A concert created without the option (an older catalog) has no cap beyond maxHoldsPerUser.
    check_scenarios({
        {"no cap", room_of(catalog()) , hold(u1, 1, 2), {"SeatHeld u1 2026-12-24/2"}},
    });
}

TEST_CASE("a hold expires at holdTtlSeconds with no request needed", "[engine][hold]") {
    std::vector<step> one = room() + std::vector{hold(u1, 1, 1)};
    check_scenarios({
        {"a millisecond before", one, after_ms(300'000 - 1, tick()), {}},
        {"at the deadline, by a Tick", one, after(300, tick()), {"HoldExpired u1 2026-12-24/1"}},
        {"at the deadline, by another user's hold of the seat", one, after(300, hold(u2, 2, 1)),
         {"HoldExpired u1 2026-12-24/1", "SeatHeld u2 2026-12-24/1"}},
        {"in the order they were held", one + std::vector{after(10, hold(u2, 2, 2))}, after(300, tick()),
         {"HoldExpired u1 2026-12-24/1", "HoldExpired u2 2026-12-24/2"}},
        {"only those whose time came", one + std::vector{after(10, hold(u2, 2, 2))}, after(290, tick()),
         {"HoldExpired u1 2026-12-24/1"}},
        {"an expired seat can be held again", one + std::vector{after(300, tick())}, hold(u2, 2, 1),
         {"SeatHeld u2 2026-12-24/1"}},
        {"a paid seat never expires", sold(), after(300, tick()), {}},
    });
}

TEST_CASE("deadlines of several concerts each pass at their own time", "[engine][hold]") {
    create_concert quick = catalog(concert_id{8});
    quick.hold_ttl_seconds = 100;
    world w;
    w.run_all({create(), create(quick), enqueue_as(u1), enqueue_as(u1, concert_id{8}), hold(u1, 1, 1),
               hold(u1, 1, 1, eve, concert_id{8}), after(50, hold(u1, 1, 2, eve, concert_id{8}))});
    CHECK(describe(w.run(after(50, tick()))) == std::vector<std::string>{"HoldExpired u1 2026-12-24/1"});
    CHECK(w.status(w.hold_id(2)) == reservation_status::expired);
    CHECK(describe(w.run(after(50, tick()))) == std::vector<std::string>{"HoldExpired u1 2026-12-24/2"});
    CHECK(describe(w.run(after(149, tick()))).empty());
    CHECK(describe(w.run(after(1, tick()))) == std::vector<std::string>{"HoldExpired u1 2026-12-24/1"});
    CHECK(w.status(w.hold_id(1)) == reservation_status::expired);
}

TEST_CASE("a held reservation says when it expires", "[engine][hold]") {
    world w;
    w.run_all(room());
    w.now += 12'345;
    auto events = w.run(hold(u1, 1, 2));
    REQUIRE(events.size() == 1);
    const reservation& r = std::get<seat_held>(events[0].body).reservation;
    CHECK(r.id == reservation_id::at(w.last_position()));
    CHECK(r.concert == iu);
    CHECK(r.user == u1);
    CHECK(r.date == eve);
    CHECK(r.seat == 2);
    CHECK(r.price == eve_price);
    CHECK(r.status == reservation_status::held);
    CHECK(r.held_at == w.now);
    CHECK(r.expires_at == w.now + 300'000);
    CHECK(r.paid_at == 0);
    CHECK(r.payment == payment_id{});
    CHECK(w.seat(2) == seat_status::held);
    CHECK(w.attendee(u1).holds == 1);

    w.run(after(300, tick()));
    CHECK(w.status(r.id) == reservation_status::expired);
    CHECK(w.seat(2) == seat_status::available);
    CHECK(w.attendee(u1).holds == 0);
}

TEST_CASE("cancelling a hold frees its seat", "[engine][hold][cancel]") {
    std::vector<step> one = room() + std::vector{hold(u1, 1, 1)};
    const std::vector<std::string> not_found = {"Refused RESERVATION_NOT_FOUND"};
    check_scenarios({
        {"the holder cancels", one, cancel(u1, held(1)), {"HoldCancelled u1 2026-12-24/1"}},
        {"the seat is free again", one + std::vector{cancel(u1, held(1))}, hold(u2, 2, 1),
         {"SeatHeld u2 2026-12-24/1"}},
        {"another user's reservation", one, cancel(u2, held(1)), not_found},
        {"an unknown reservation", one, cancel(u1, reservation_id::at({0, 999})), not_found},
        {"a position that is not a hold", one, cancel(u1, reservation_id::at({0, 1})), not_found},
        {"twice", one + std::vector{cancel(u1, held(1))}, cancel(u1, held(1)), {"Refused RESERVATION_CANCELLED"}},
        {"after it expired", one + std::vector{after(300, tick())}, cancel(u1, held(1)), {"Refused HOLD_EXPIRED"}},
        {"as it expires", one, after(300, cancel(u1, held(1))),
         {"HoldExpired u1 2026-12-24/1", "Refused HOLD_EXPIRED"}},
        {"after it was paid", sold(), cancel(u1, held(1)), {"Refused ALREADY_PAID"}},
    });
    world w;
    w.run_all(one + std::vector{cancel(u1, held(1))});
    CHECK(w.status(w.hold_id(1)) == reservation_status::cancelled);
    CHECK(w.seat(1) == seat_status::available);
    CHECK(w.attendee(u1).holds == 0);
}

TEST_CASE("cancelling needs no live queue token", "[engine][hold][cancel]") {
    create_concert long_holds = catalog();
    long_holds.hold_ttl_seconds = 900;
    world w;
    w.run_all({create(long_holds), enqueue_as(u1), hold(u1, 1, 1), after(600, tick())});
    CHECK(w.attendee(u1).status == queue_status::expired);
    CHECK(describe(w.run(cancel(u1, held(1)))) == std::vector<std::string>{"HoldCancelled u1 2026-12-24/1"});
}

TEST_CASE("a refused hold changes nothing", "[engine][hold]") {
    world w;
    w.run_all(room() + std::vector{hold(u1, 1, 1), hold(u1, 1, 2)});
    std::string before = engine::snapshot(w.state());
    for (const step& s : {hold(u1, 0, 3), hold(u3, 3, 3), hold(u1, 1, 3, eve - 1), hold(u1, 1, 9), hold(u2, 2, 1),
                          hold(u1, 1, 3)}) {
        auto events = w.run(s);
        REQUIRE(events.size() == 1);
        CHECK(events[0].type() == event_type::refused);
    }
    // Only the clock-free parts may move: the event sequence and the command offset.
    partition_state& s = w.state();
    CHECK(s.next_command_offset == 12);
    auto after = engine::restore(before);
    REQUIRE(after.ok());
    after->next_event_sequence = s.next_event_sequence;
    after->next_command_offset = s.next_command_offset;
    CHECK(engine::state_hash(*after) == engine::state_hash(s));  // hashes: readable when they differ
}

}  // namespace encore::test
