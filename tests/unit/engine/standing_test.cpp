// Standing zones: a venue's section with a capacity and no seat numbers (API.md "The venue").
// The venue of venue_test.cpp's shape: A (VIP, seats 1..6), then FLOOR (VIP, standing, 3
// places) and PIT (R, standing, 2 places); seats stay numbered 1..6 in layout order.

#include <catch2/catch.hpp>

#include "harness.hpp"

namespace encore::test {

namespace {

create_concert standing_catalog() {
    create_concert c = catalog();
    c.queue.active_capacity = 10;
    c.options.refunds_until = start_time + 24LL * 3600 * 1000;
    venue_layout& v = c.options.sale.venue;
    v.grades = {{"VIP", 100'000}, {"R", 60'000}};
    v.sections = {{"A", 0, {3, 3}, 0, "G1"}, {"FLOOR", 0, {}, 3, "G2"}, {"PIT", 1, {}, 2, ""}};
    for (schedule& s : c.schedules) {
        s.seats = 6;
        s.price = 0;
    }
    return c;
}

hold_seat places_of(std::uint32_t n, std::string section, std::string grade = "") {
    return hold_seat{iu, 1, eve, 0, seat_choice{{}, {}, n, pick_filter{{}, std::move(grade), std::move(section)}}};
}

step hold_places(user_id u, std::uint64_t ticket, std::uint32_t n, std::string section, std::string grade = "") {
    hold_seat h = places_of(n, std::move(section), std::move(grade));
    h.ticket = ticket;
    return step{0, command{command_meta{0, u, "", no_position}, std::move(h)}};
}

// The PaymentConfirmed line among a Pay's events (the turn's QueueLeft follows it).
std::string confirmation(const std::vector<event>& events) {
    for (const std::string& line : describe(events)) {
        if (line.starts_with("PaymentConfirmed")) return line;
    }
    return "no PaymentConfirmed";
}

std::vector<step> admitted() {
    return {create(standing_catalog()), enqueue_as(u1), enqueue_as(u2), enqueue_as(u3), charge_as(u1, 1'000'000),
            charge_as(u2, 1'000'000), charge_as(u3, 1'000'000)};
}

}  // namespace

TEST_CASE("standing zones: places held all or nothing, at the zone's grade price", "[engine][venue][standing]") {
    check_scenarios({
        {"two places of FLOOR", admitted(), hold_places(u1, 1, 2, "FLOOR"), {"SeatHeld u1 2026-12-24/FLOORx2#0"}},
        {"the whole zone", admitted(), hold_places(u1, 1, 3, "FLOOR"), {"SeatHeld u1 2026-12-24/FLOORx3#0"}},
        {"more than the zone has left", admitted() + std::vector{hold_places(u1, 1, 2, "FLOOR")}, hold_places(u2, 2, 2, "FLOOR"),
         {"Refused SECTION_FULL"}},
        {"more than its capacity", admitted(), hold_places(u1, 1, 4, "FLOOR"), {"Refused SECTION_FULL"}},
        {"with its own grade named", admitted(), hold_places(u1, 1, 1, "PIT", "R"), {"SeatHeld u1 2026-12-24/PITx1#0"}},
        {"with another grade named", admitted(), hold_places(u1, 1, 1, "PIT", "VIP"), {"Refused SECTION_NOT_FOUND"}},
        {"a grade with standing places only is not a pick of seats", admitted(), hold_places(u1, 1, 1, "", "R"),
         {"Refused SECTION_NOT_FOUND"}},
        {"best available without a filter picks seats, never places", admitted(), hold_best(u1, 1, 2),
         {"SeatHeld u1 2026-12-24/1,2"}},
        {"places count against maxTicketsPerUser",
         {create([] { create_concert c = standing_catalog(); c.options.max_tickets_per_user = 2; return c; }()), enqueue_as(u1),
          hold(u1, 1, 1)},
         hold_places(u1, 1, 2, "FLOOR"), {"Refused TICKET_LIMIT"}},
        {"a zone freed by an expiry", admitted() + std::vector{hold_places(u1, 1, 3, "FLOOR"), after(301, tick())},
         hold_places(u2, 2, 3, "FLOOR"), {"SeatHeld u2 2026-12-24/FLOORx3#0"}},
        {"a zone freed by a cancel", admitted() + std::vector{hold_places(u1, 1, 3, "FLOOR"), cancel(u1, held(1))},
         hold_places(u2, 2, 1, "FLOOR"), {"SeatHeld u2 2026-12-24/FLOORx1#0"}},
        {"a zone with a capacity over 100,000",
         {}, create([] { create_concert c = standing_catalog(); c.options.sale.venue->sections[1].standing = 100'001; return c; }()),
         {"Refused INVALID_REQUEST"}},
        {"a layout of standing zones only (dates of no seats)", {},
         create([] {
             create_concert c = standing_catalog();
             c.options.sale.venue->sections.erase(c.options.sale.venue->sections.begin());
             for (schedule& s : c.schedules) s.seats = 0;
             return c;
         }()),
         {"ConcertCreated c7"}},
    });
    world w;
    w.run_all(admitted() + std::vector{hold_places(u1, 1, 2, "FLOOR"), hold_places(u2, 2, 2, "PIT")});
    CHECK(w.record(w.hold_id(1)).price == 2 * 100'000);
    CHECK(w.record(w.hold_id(2)).price == 2 * 60'000);
    CHECK(w.record(w.hold_id(1)).seat == 0);
    CHECK(w.attendee(u1).tickets == 2);
}

TEST_CASE("entry numbers: a zone's places in payment order, never reused", "[engine][venue][standing]") {
    world w;
    // Held in one order (u1, u2, u3), paid in another (u2, u3, u1).
    w.run_all(admitted() + std::vector{hold_places(u1, 1, 1, "FLOOR"), hold_places(u2, 2, 1, "FLOOR"), hold_places(u3, 3, 1, "FLOOR")});
    CHECK(confirmation(w.run(pay(u2, held(2)))) == "PaymentConfirmed u2 2026-12-24/FLOORx1#1 balance 900000");
    CHECK(confirmation(w.run(pay(u3, held(3)))) == "PaymentConfirmed u3 2026-12-24/FLOORx1#2 balance 900000");
    CHECK(confirmation(w.run(pay(u1, held(1)))) == "PaymentConfirmed u1 2026-12-24/FLOORx1#3 balance 900000");
    // u3 refunds: the place is free again, and whoever buys it gets number 4, not 2.
    w.run(refund_of(u3, held(3)));
    CHECK(w.status(w.hold_id(3)) == reservation_status::refunded);
    CHECK(w.record(w.hold_id(3)).entry_first == 2);  // the refunded reservation keeps the number it had
    w.run(enqueue_as(u4));
    w.run(charge_as(u4, 1'000'000));
    w.run(hold_places(u4, 4, 1, "FLOOR"));
    CHECK(confirmation(w.run(pay(u4, held(4)))) == "PaymentConfirmed u4 2026-12-24/FLOORx1#4 balance 900000");
    // Each date counts its own: christmas's FLOOR starts at 1.
    const auto* c = engine::find_concert(w.state(), iu);
    CHECK(c->dates[0].zone_entries[1] == 4);
    CHECK(c->dates[0].zone_taken[1] == 3);
    CHECK(c->dates[1].zone_entries[1] == 0);
}

TEST_CASE("standing places survive a snapshot", "[engine][venue][standing][snapshot]") {
    world w;
    w.run_all(admitted() + std::vector{hold_places(u1, 1, 2, "FLOOR"), pay(u1, held(1)), hold_places(u2, 2, 1, "FLOOR")});
    auto restored = engine::restore(engine::snapshot(w.state()));
    REQUIRE(restored);
    CHECK(engine::snapshot(*restored) == engine::snapshot(w.state()));
    const auto* c = engine::find_concert(*restored, iu);
    CHECK(c->dates[0].zone_taken[1] == 3);
    CHECK(c->dates[0].zone_entries[1] == 2);
    const engine::reservation_record* r = engine::find_reservation(*restored, w.hold_id(1));
    REQUIRE(r != nullptr);
    CHECK(r->places == 2);
    CHECK(r->zone == 1);
    CHECK(r->entry_first == 1);
}

}  // namespace encore::test
