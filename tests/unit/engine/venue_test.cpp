// The venue: seats numbered in layout order (A: VIP, rows of 3 and 3 = seats 1..6; B: R, rows of
// 2 and 4 = seats 7..12), each at its grade's price on its date (christmas: VIP 150,000), and
// best-available picks within a grade or a section.

#include <catch2/catch.hpp>

#include "harness.hpp"

namespace encore::test {

namespace {

create_concert venue_catalog() {
    create_concert c = catalog();
    venue_layout& v = c.options.sale.venue;
    v.grades = {{"VIP", 100'000}, {"R", 60'000}};
    v.sections = {{"A", 0, {3, 3}, 0, "G1"}, {"B", 1, {2, 4}, 0, ""}};
    for (schedule& s : c.schedules) {
        s.seats = 12;
        s.price = 0;
    }
    // schedules: christmas first, then eve (catalog() lists them out of order)
    v.prices = {{150'000, 60'000}, {100'000, 60'000}};
    return c;
}

hold_seat pick_in(std::uint32_t n, std::string grade, std::string section, day_number date = eve) {
    return hold_seat{iu, 1, date, 0, seat_choice{{}, {}, n, pick_filter{{}, std::move(grade), std::move(section)}}};
}

step pick(user_id u, std::uint32_t n, std::string grade, std::string section, day_number date = eve) {
    return step{0, command{command_meta{0, u, "", no_position}, pick_in(n, std::move(grade), std::move(section), date)}};
}

std::vector<step> admitted() { return {create(venue_catalog()), enqueue_as(u1)}; }

}  // namespace

TEST_CASE("a venue: picks within a grade or a section, each seat at its grade's price", "[engine][venue]") {
    check_scenarios({
        {"a section's lowest row that fits without leaving a seat alone", admitted(), pick(u1, 2, "", "B"),
         {"SeatHeld u1 2026-12-24/7,8"}},
        {"a grade: its sections in layout order", admitted(), pick(u1, 3, "VIP", ""), {"SeatHeld u1 2026-12-24/1,2,3"}},
        {"a grade with no row wide enough", admitted(), pick(u1, 4, "VIP", ""), {"Refused NO_ADJACENT_SEATS"}},
        {"… where another grade's row would do", admitted(), pick(u1, 4, "R", ""), {"SeatHeld u1 2026-12-24/9,10,11,12"}},
        {"no such section", admitted(), pick(u1, 1, "", "Z"), {"Refused SECTION_NOT_FOUND"}},
        {"no such grade", admitted(), pick(u1, 1, "S", ""), {"Refused SECTION_NOT_FOUND"}},
        {"a grade or section goes with a pick only", admitted(),
         step{0, command{command_meta{0, u1, "", no_position}, hold_seat{iu, 1, eve, 0, seat_choice{{}, {1, 2}, 0, pick_filter{{}, "R", ""}}}}},
         {"Refused INVALID_REQUEST"}},
        {"a catalog whose dates do not have the layout's seats",
         {}, create([] { create_concert c = venue_catalog(); c.schedules[0].seats = 11; return c; }()), {"Refused INVALID_REQUEST"}},
        {"a section both seated and standing",
         {}, create([] { create_concert c = venue_catalog(); c.options.sale.venue->sections[1].standing = 100; return c; }()),
         {"Refused INVALID_REQUEST"}},
        {"a section of an unknown grade",
         {}, create([] { create_concert c = venue_catalog(); c.options.sale.venue->sections[1].grade = 2; return c; }()),
         {"Refused INVALID_REQUEST"}},
    });
    // Prices: the grade's on eve, VIP's override on christmas; a hold across grades adds them up.
    world w;
    w.run_all(admitted() + std::vector{hold_seats(u1, 1, {6, 7}), hold(u1, 1, 1, christmas)});
    CHECK(w.record(w.hold_id(1)).price == 100'000 + 60'000);
    CHECK(w.record(w.hold_id(2)).price == 150'000);
    // The rows follow the layout: seat 9 is B's second row (seats 9..12), its first seat.
    const auto* c = engine::find_concert(w.state(), iu);
    CHECK(c->venue.place_of(9).section == 1);
    CHECK(c->venue.place_of(9).row == 2);
    CHECK(c->venue.place_of(9).seat_in_row == 1);
}

}  // namespace encore::test
