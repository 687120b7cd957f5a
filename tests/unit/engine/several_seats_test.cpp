// Several seats in one hold (all or none, paid, cancelled, expired and refunded together) and the
// best-available pick: n adjacent seats in one row, the lowest row first, leaving no single seat
// alone beside the pick wherever another pick avoids it.
// The test catalog: 2026-12-24 has seats 1..3 at 80,000, 2026-12-25 seats 1..2; at most 2 holds
// per user; capacity 2. rows() has 12 seats on the eve in rows of 5 (1-5, 6-10, 11-12).

#include <catch2/catch.hpp>

#include "harness.hpp"

namespace encore::test {

namespace {

// u1 (ticket 1) and u2 (ticket 2) are ACTIVE at `c`.
std::vector<step> room(create_concert c = catalog()) { return {create(std::move(c)), enqueue_as(u1), enqueue_as(u2)}; }

create_concert rows() {
    create_concert c = catalog();
    c.schedules = {{eve, 12, eve_price}, {christmas, 2, christmas_price}};
    c.options.seats_per_row = {5, 25};
    c.max_holds_per_user = 100;
    return c;
}

// rows() where u2 holds `taken` (one hold per seat) and u1 asks for the best n.
std::vector<step> taken(std::vector<std::uint32_t> seats) {
    std::vector<step> steps = room(rows());
    for (std::uint32_t seat : seats) steps.push_back(hold(u2, 2, seat));
    return steps;
}

}  // namespace

TEST_CASE("several seats are held together or not at all", "[engine][hold][seats]") {
    check_scenarios({
        {"two free seats, asked in any order", room(), hold_seats(u1, 1, {3, 1}), {"SeatHeld u1 2026-12-24/1,3"}},
        {"one of them taken: none held", room() + std::vector{hold(u2, 2, 3)}, hold_seats(u1, 1, {1, 3}),
         {"Refused SEAT_TAKEN 3"}},
        {"what was not held stays free", room() + std::vector{hold(u2, 2, 3), hold_seats(u1, 1, {1, 3})},
         hold_seats(u1, 1, {1, 2}), {"SeatHeld u1 2026-12-24/1,2"}},
        {"a seat past the last: INVALID_SEAT before SEAT_TAKEN", room() + std::vector{hold(u2, 2, 1)},
         hold_seats(u1, 1, {1, 4}), {"Refused INVALID_SEAT 4"}},
        {"a seat twice is not a request the API sends", room(), hold_seats(u1, 1, {2, 2}), {"Refused INVALID_REQUEST"}},
        {"one seat in the list is not the single-seat form", room(), hold_seats(u1, 1, {2}), {"Refused INVALID_REQUEST"}},
        {"the queue checks come first", room() + std::vector{enqueue_as(u3)}, hold_seats(u3, 3, {1, 2}),
         {"Refused NOT_YOUR_TURN 1"}},
        {"a hold of several seats is one hold of maxHoldsPerUser",
         room() + std::vector{hold_seats(u1, 1, {1, 2})}, hold(u1, 1, 1, christmas), {"SeatHeld u1 2026-12-25/1"}},
    });
}

TEST_CASE("maxTicketsPerUser counts seats held and owned", "[engine][hold][seats]") {
    create_concert three = rows();
    three.options.max_tickets_per_user = 3;
    check_scenarios({
        {"three seats at once", room(three), hold_seats(u1, 1, {1, 2, 3}), {"SeatHeld u1 2026-12-24/1,2,3"}},
        {"four at once", room(three), hold_seats(u1, 1, {1, 2, 3, 4}), {"Refused TICKET_LIMIT"}},
        {"two, then two more", room(three) + std::vector{hold_seats(u1, 1, {1, 2})}, hold_best(u1, 1, 2),
         {"Refused TICKET_LIMIT"}},
        {"two, then one more", room(three) + std::vector{hold_seats(u1, 1, {1, 2})}, hold_best(u1, 1, 1),
         {"SeatHeld u1 2026-12-24/3"}},
        {"bought seats count", room(three) + std::vector{charge_as(u1, 1'000'000), hold_seats(u1, 1, {1, 2}),
                                                         pay(u1, held(1)), enqueue_as(u1)},
         hold_seats(u1, 3, {7, 8}), {"Refused TICKET_LIMIT"}},
        {"cancelled seats do not", room(three) + std::vector{hold_seats(u1, 1, {1, 2}), cancel(u1, held(1))},
         hold_seats(u1, 1, {4, 5, 6}), {"SeatHeld u1 2026-12-24/4,5,6"}},
    });
}

TEST_CASE("a hold of several seats is paid, cancelled, expired and refunded as one", "[engine][hold][seats]") {
    create_concert refundable = catalog();
    refundable.options.refunds_until = start_time + 3'600'000;
    std::vector<step> two = room(refundable) + std::vector{charge_as(u1, 200'000), hold_seats(u1, 1, {1, 2})};
    check_scenarios({
        {"paid: one payment of the seats' sum", two, pay(u1, held(1)),
         {"PaymentStarted u1 160000", "WalletDebited u1 160000 balance 40000",
          "PaymentConfirmed u1 2026-12-24/1,2 balance 40000", "QueueLeft u1 #1 COMPLETED"}},
        {"short of the sum: neither seat is sold", room(refundable) + std::vector{charge_as(u1, 100'000), hold_seats(u1, 1, {1, 2})},
         pay(u1, held(1)), {"PaymentStarted u1 160000", "DebitRefused u1 160000 balance 100000", "PaymentFailed u1 INSUFFICIENT_BALANCE balance 100000"}},
        {"cancelled: both seats free", two + std::vector{cancel(u1, held(1))}, hold_seats(u2, 2, {1, 2}),
         {"SeatHeld u2 2026-12-24/1,2"}},
        {"expired: both seats free", two + std::vector{after(300, tick())}, hold_seats(u2, 2, {1, 2}),
         {"SeatHeld u2 2026-12-24/1,2"}},
        {"refunded: the sum back, both seats free", two + std::vector{pay(u1, held(1))}, refund_of(u1, held(1)),
         {"RefundStarted u1 160000", "WalletCredited u1 160000 balance 200000",
          "ReservationRefunded u1 2026-12-24/1,2 balance 200000"}},
    });
}

TEST_CASE("best available: adjacent seats in one row, the lowest row first, no seat left alone", "[engine][hold][best]") {
    check_scenarios({
        {"an empty date: the start of the first row", room(rows()), hold_best(u1, 1, 2), {"SeatHeld u1 2026-12-24/1,2"}},
        {"a gap that fits exactly", taken({3}), hold_best(u1, 1, 2), {"SeatHeld u1 2026-12-24/1,2"}},
        {"a gap of n + 1 would leave one seat alone: the next row", taken({4}), hold_best(u1, 1, 2),
         {"SeatHeld u1 2026-12-24/6,7"}},
        {"a later run of the same row that leaves none alone", taken({3, 4}), hold_best(u1, 1, 1),
         {"SeatHeld u1 2026-12-24/5"}},
        {"a run of n + 2 leaves two, which is fine", taken({5}), hold_best(u1, 1, 2), {"SeatHeld u1 2026-12-24/1,2"}},
        {"a seat left alone when no pick avoids it", taken({4, 6, 10, 11}), hold_best(u1, 1, 2),
         {"SeatHeld u1 2026-12-24/1,2"}},
        {"the short last row", taken({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), hold_best(u1, 1, 2),
         {"SeatHeld u1 2026-12-24/11,12"}},
        {"no row has n side by side", taken({2, 4, 7, 9, 12}), hold_best(u1, 1, 2), {"Refused NO_ADJACENT_SEATS"}},
        {"more than a row holds", room(rows()), hold_best(u1, 1, 6), {"Refused NO_ADJACENT_SEATS"}},
        {"rows do not join across their ends", taken({1, 2, 3, 8, 9, 10}), hold_best(u1, 1, 3),
         {"Refused NO_ADJACENT_SEATS"}},
        {"the whole of a row", room(rows()), hold_best(u1, 1, 5), {"SeatHeld u1 2026-12-24/1,2,3,4,5"}},
    });
    create_concert two_holds = rows();
    two_holds.max_holds_per_user = 2;
    check_scenarios({
        {"the hold limit comes before the pick",
         room(two_holds) + std::vector{hold_seats(u2, 2, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}), hold(u1, 1, 1, christmas),
                                       hold(u1, 1, 2, christmas)},
         hold_best(u1, 1, 1), {"Refused HOLD_LIMIT"}},
        {"a full date", room(two_holds) + std::vector{hold_seats(u2, 2, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})},
         hold_best(u1, 1, 1), {"Refused NO_ADJACENT_SEATS"}},
    });
}

}  // namespace encore::test
