// The organizer's controls: pause and resume, blocked seats, settings changed after creation
// (with If-Match's revision), and dates added. The test catalog: eve has seats 1..3 at 80,000,
// christmas 1..2 at 90,000; capacity 2, active TTL 600 s, hold TTL 300 s, 2 holds a user.

#include <catch2/catch.hpp>

#include "harness.hpp"

namespace encore::test {

namespace {

concert_settings settings(std::uint32_t field, std::uint32_t value) {
    concert_settings s;
    s.set = field;
    switch (field) {
        case concert_settings::active_capacity_field: s.active_capacity = value; break;
        case concert_settings::hold_ttl_field: s.hold_ttl_seconds = value; break;
        case concert_settings::max_tickets_field: s.max_tickets_per_user = value; break;
        case concert_settings::claim_seconds_field: s.claim_seconds = value; break;
        default: break;
    }
    return s;
}

concert_settings title(std::string t) {
    concert_settings s;
    s.set = concert_settings::title_field;
    s.title = std::move(t);
    return s;
}

step resume(concert_id c = iu) { return pause(c, false); }

}  // namespace

TEST_CASE("a paused sale admits nobody and holds nothing, and resume moves the turns on", "[engine][organizer][pause]") {
    check_scenarios({
        {"pausing", {create()}, after(5, pause()), {"SalesPaused r1 since 2026-12-01T00:00:05.000Z"}},
        {"pausing a paused sale changes nothing", {create(), after(5, pause())}, after(5, pause()),
         {"SalesPaused r1 since 2026-12-01T00:00:05.000Z"}},
        {"resuming a sale that is not paused changes nothing", {create()}, resume(), {"SalesResumed r0 after 0 ms"}},
        {"an active user's hold is refused", {create(), enqueue_as(u1), pause()}, hold(u1, 1, 1), {"Refused SALES_PAUSED"}},
        {"the queue checks come first", {create(), enqueue_as(u1), enqueue_as(u2), enqueue_as(u3), pause()},
         hold(u3, 3, 1), {"Refused NOT_YOUR_TURN 1"}},
        {"a user joining with room to spare waits", {create(), pause()}, enqueue_as(u1), {"QueueJoined u1 #1 WAITING 1"}},
        {"turns stand still", {create(), enqueue_as(u1), enqueue_as(u2), enqueue_as(u3), pause()}, after(3600, tick()), {}},
        {"holds still expire", {create(), enqueue_as(u1), hold(u1, 1, 1), pause()}, after(300, tick()),
         {"HoldExpired u1 2026-12-24/1"}},
        {"resume: active turns end later by the pause", {create(), enqueue_as(u1), after(100, pause())}, after(250, resume()),
         {"SalesResumed r2 after 250000 ms", "ActiveExtended u1 #1 until 2026-12-01T00:14:10.000Z"}},
        {"resume: free slots admit at once", {create(), pause(), enqueue_as(u1)}, after(7, resume()),
         {"SalesResumed r2 after 7000 ms", "QueueAdmitted u1 #1"}},
        {"resumed turns run out at their new end",
         {create(), enqueue_as(u1), after(100, pause()), after(250, resume())}, after(499, tick()), {}},
        {"… and not a millisecond later",
         {create(), enqueue_as(u1), after(100, pause()), after(250, resume())}, after(500, tick()),
         {"QueueLeft u1 #1 EXPIRED"}},
        {"an unknown concert", {create()}, pause(concert_id{99}), {"Refused CONCERT_NOT_FOUND"}},
    });
}

TEST_CASE("blocked seats are off sale until released", "[engine][organizer][blocks]") {
    check_scenarios({
        {"blocking", {create()}, block(iu, eve, {3, 1}, true, "camera"), {"SeatsBlocked r1 2026-12-24/1,3 camera"}},
        {"blocking a blocked seat keeps it blocked", {create(), block(iu, eve, {1})}, block(iu, eve, {1, 2}),
         {"SeatsBlocked r2 2026-12-24/1,2"}},
        {"a blocked seat cannot be held", {create(), enqueue_as(u1), block(iu, eve, {2})}, hold(u1, 1, 2),
         {"Refused SEAT_TAKEN"}},
        {"nor among several", {create(), enqueue_as(u1), block(iu, eve, {2})}, hold_seats(u1, 1, {1, 2}),
         {"Refused SEAT_TAKEN 2"}},
        {"best available goes around it", {create(), enqueue_as(u1), block(iu, eve, {2})}, hold_best(u1, 1, 1),
         {"SeatHeld u1 2026-12-24/1"}},
        {"… and finds no pair beside it", {create(), enqueue_as(u1), block(iu, eve, {2})}, hold_best(u1, 1, 2),
         {"Refused NO_ADJACENT_SEATS"}},
        {"a held seat is not blocked, nor any other", {create(), enqueue_as(u1), hold(u1, 1, 2)}, block(iu, eve, {1, 2}),
         {"Refused SEAT_TAKEN 2"}},
        {"a seat outside the date", {create()}, block(iu, eve, {1, 4}), {"Refused INVALID_SEAT 4"}},
        {"a date the concert does not have", {create()}, block(iu, eve - 1, {1}), {"Refused DATE_NOT_BOOKABLE"}},
        {"a seat named twice", {create()}, block(iu, eve, {1, 1}), {"Refused INVALID_REQUEST"}},
        {"releasing", {create(), block(iu, eve, {1, 3})}, block(iu, eve, {3}, false), {"SeatsReleased r2 2026-12-24/3"}},
        {"releasing a seat that is not blocked releases none", {create(), block(iu, eve, {1})}, block(iu, eve, {1, 2}, false),
         {"Refused NOT_BLOCKED 2"}},
        {"a released seat is on sale again", {create(), enqueue_as(u1), block(iu, eve, {1}), block(iu, eve, {1}, false)},
         hold(u1, 1, 1), {"SeatHeld u1 2026-12-24/1"}},
    });
}

TEST_CASE("settings changed after creation apply to what comes next", "[engine][organizer][update]") {
    check_scenarios({
        {"a larger capacity admits at once", {create(), enqueue_as(u1), enqueue_as(u2), enqueue_as(u3)},
         update(iu, settings(concert_settings::active_capacity_field, 3)), {"ConcertUpdated r1 fields 64", "QueueAdmitted u3 #3"}},
        {"a smaller capacity evicts nobody", {create(), enqueue_as(u1), enqueue_as(u2), enqueue_as(u3)},
         update(iu, settings(concert_settings::active_capacity_field, 1)), {"ConcertUpdated r1 fields 64"}},
        {"… and admission waits until fewer are active",
         {create(), enqueue_as(u1), after(100, enqueue_as(u2)), enqueue_as(u3), update(iu, settings(concert_settings::active_capacity_field, 1))},
         after(500, tick()), {"QueueLeft u1 #1 EXPIRED"}},
        {"a shorter hold TTL, for holds placed after it",
         {create(), enqueue_as(u1), update(iu, settings(concert_settings::hold_ttl_field, 60)), hold(u1, 1, 1)},
         after(60, tick()), {"HoldExpired u1 2026-12-24/1"}},
        {"a lowered ticket cap keeps what is held, and refuses more",
         {create(), enqueue_as(u1), hold_seats(u1, 1, {1, 2}), update(iu, settings(concert_settings::max_tickets_field, 1))},
         hold(u1, 1, 1, christmas), {"Refused TICKET_LIMIT"}},
        {"a claim window longer than the active TTL", {create()}, update(iu, settings(concert_settings::claim_seconds_field, 601)),
         {"Refused INVALID_REQUEST"}},
        {"an empty change", {create()}, update(iu, concert_settings{}), {"Refused INVALID_REQUEST"}},
        {"If-Match at the concert's revision", {create(), pause()}, update(iu, title("IU"), 1), {"ConcertUpdated r2 fields 1"}},
        {"If-Match at an older revision", {create(), pause()}, update(iu, title("IU"), 0), {"Refused PRECONDITION_FAILED 1"}},
    });
    world w;
    w.run_all({create(), update(iu, title("IU: the encore"))});
    CHECK(engine::find_concert(w.state(), iu)->config.title == "IU: the encore");
}

TEST_CASE("dates added to a concert go on sale, in date order", "[engine][organizer][dates]") {
    check_scenarios({
        {"a date the concert has", {create()}, add_dates_to(iu, {{eve, 5, 1000}}), {"Refused DATE_EXISTS 20811"}},
        {"adding", {create()}, add_dates_to(iu, {{eve - 1, 4, 70'000}, {christmas + 1, 1, 0}}),
         {"DatesAdded r1 2026-12-23 2026-12-26"}},
        {"a new date can be held", {create(), enqueue_as(u1), add_dates_to(iu, {{eve - 1, 4, 70'000}})}, hold(u1, 1, 4, eve - 1),
         {"SeatHeld u1 2026-12-23/4"}},
        {"an earlier date keeps the reservations on theirs",
         {create(), enqueue_as(u1), hold(u1, 1, 1, christmas), add_dates_to(iu, {{eve - 1, 4, 70'000}})}, cancel(u1, held(1)),
         {"HoldCancelled u1 2026-12-25/1"}},
        {"a date of no seats", {create()}, add_dates_to(iu, {{eve - 1, 0, 70'000}}), {"Refused INVALID_REQUEST"}},
    });
    world w;
    w.run_all({create(), enqueue_as(u1), add_dates_to(iu, {{eve - 1, 4, 70'000}}), hold(u1, 1, 2, eve - 1)});
    CHECK(w.record(w.hold_id(1)).price == 70'000);
    CHECK(w.seat(2, eve - 1) == seat_status::held);
}

}  // namespace encore::test
