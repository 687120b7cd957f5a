// The door (API.md "Tickets and the door"): scanners of a concert and check-ins decided in the
// concert's partition, so that a ticket is admitted once whichever gate scans it first; offline
// batches; a refund revokes; an admitted ticket cannot be refunded.

#include <catch2/catch.hpp>

#include "harness.hpp"

namespace encore::test {

namespace {

// A (seats 1..3, gate N) and FLOOR (3 standing places, gate S); refunds until a day later.
create_concert door_catalog() {
    create_concert c = catalog();
    c.queue.active_capacity = 10;
    c.max_holds_per_user = 4;
    c.options.refunds_until = start_time + 24LL * 3600 * 1000;
    venue_layout& v = c.options.sale.venue;
    v.grades = {{"R", eve_price}};
    v.sections = {{"A", 0, {3}, 0, "N"}, {"FLOOR", 0, {}, 3, "S"}};
    for (schedule& s : c.schedules) {
        s.seats = 3;
        s.price = 0;
    }
    return c;
}

step hold_places(user_id u, std::uint64_t ticket, std::uint32_t n, std::string section) {
    return step{0, command{command_meta{0, u, "", no_position},
                           hold_seat{iu, ticket, eve, 0, seat_choice{{}, {}, n, pick_filter{{}, {}, std::move(section)}}}}};
}

// u1 bought seats 1 and 2 (reservation 1); u2 two FLOOR places (reservation 2).
std::vector<step> sold() {
    return {create(door_catalog()), enqueue_as(u1), enqueue_as(u2), charge_as(u1, 1'000'000), charge_as(u2, 1'000'000),
            hold_seats(u1, 1, {1, 2}), hold_places(u2, 2, 2, "FLOOR"), pay(u1, held(1)), pay(u2, held(2))};
}

ticket_scan ticket(int hold, std::uint32_t n, std::string scan_id = "", day_number date = eve) {
    return {held(hold), n, date, std::move(scan_id), 0};
}

// A world where the tickets were sold and scanners added at N and at S: their ids.
struct door {
    world w;
    reservation_id north, south;
    door() {
        w.run_all(sold());
        w.run(add_scanner("North 1", "N"));
        north = reservation_id::at(w.last_position());
        w.run(add_scanner("South 1", "S"));
        south = reservation_id::at(w.last_position());
    }
    std::string check(reservation_id scanner, std::vector<ticket_scan> scans, bool offline = false) {
        auto events = describe(w.run(scan(scanner, std::move(scans), offline)));
        REQUIRE(events.size() == 1);
        return events.front();
    }
};

}  // namespace

TEST_CASE("scanners: added at a gate of the venue, removed once", "[engine][door]") {
    check_scenarios({
        {"at a gate", sold(), add_scanner("North 1", "N"), {"ScannerAdded North 1 at N"}},
        {"at every gate", sold(), add_scanner("Supervisor"), {"ScannerAdded Supervisor"}},
        {"at a gate the venue does not have", sold(), add_scanner("West", "W"), {"Refused INVALID_REQUEST"}},
        {"without a name", sold(), add_scanner(""), {"Refused INVALID_REQUEST"}},
        {"of an unknown concert", sold(), add_scanner("North 1", "N", concert_id{99}), {"Refused CONCERT_NOT_FOUND"}},
        {"removing one it does not have", sold(), remove_scanner(reservation_id::at({0, 3})), {"Refused SCANNER_NOT_FOUND"}},
    });
    door d;
    CHECK(describe(d.w.run(remove_scanner(d.north))) == std::vector<std::string>{"ScannerRemoved"});
    CHECK(describe(d.w.run(remove_scanner(d.north))) == std::vector<std::string>{"Refused SCANNER_NOT_FOUND"});
    // Its scans are refused from then on: its key no longer works.
    CHECK(describe(d.w.run(scan(d.north, {ticket(1, 1)}))) == std::vector<std::string>{"Refused SCANNER_NOT_FOUND"});
}

TEST_CASE("a ticket is admitted once, whichever gate scans it first", "[engine][door]") {
    door d;
    CHECK(d.check(d.north, {ticket(1, 1)}) == "TicketsChecked N: 1 ADMITTED");
    // The same ticket at the other gate, and again at the first: DUPLICATE with the first admission.
    CHECK(d.check(d.south, {ticket(1, 1)}) == "TicketsChecked S: 1 DUPLICATE (first at N)");
    CHECK(d.check(d.north, {ticket(1, 1)}) == "TicketsChecked N: 1 DUPLICATE (first at N)");
    // The reservation's other seat is a ticket of its own; a standing place is let in at S.
    CHECK(d.check(d.north, {ticket(1, 2)}) == "TicketsChecked N: 2 ADMITTED");
    CHECK(d.check(d.south, {ticket(2, 2)}) == "TicketsChecked S: 2 ADMITTED");
    const engine::concert_state& c = d.w.state().concerts.at(0);
    CHECK(c.admitted.size() == 3);
}

TEST_CASE("what a scan can find besides an admission", "[engine][door]") {
    door d;
    CHECK(d.check(d.south, {ticket(1, 1)}) == "TicketsChecked S: 1 WRONG_GATE");    // seat 1 is A's, gate N
    CHECK(d.check(d.north, {ticket(1, 1, "", christmas)}) == "TicketsChecked N: 1 WRONG_DATE");
    CHECK(d.check(d.north, {ticket(1, 3)}) == "TicketsChecked N: 3 UNKNOWN");        // the reservation has two seats
    CHECK(d.check(d.north, {{reservation_id::at({0, 999}), 1, eve, "", 0}}) == "TicketsChecked N: 1 UNKNOWN");
    // A hold not paid is no ticket.
    d.w.run_all({enqueue_as(u3), charge_as(u3, 100'000), hold(u3, 3, 3)});
    CHECK(d.check(d.north, {ticket(3, 1)}) == "TicketsChecked N: 1 UNKNOWN");
    // A refunded reservation's tickets are revoked.
    d.w.run(refund_of(u1, held(1)));
    CHECK(d.check(d.north, {ticket(1, 1)}) == "TicketsChecked N: 1 REVOKED");
    // The organizer (no scanner) may name any gate of the venue, or none.
    CHECK(describe(d.w.run(scan(reservation_id{}, {ticket(2, 1)}, false, "S"))) == std::vector<std::string>{"TicketsChecked S: 1 ADMITTED"});
    CHECK(describe(d.w.run(scan(reservation_id{}, {ticket(2, 2)}, false, "W"))) == std::vector<std::string>{"Refused INVALID_REQUEST"});
}

TEST_CASE("the same scanner's scan again answers its first result, counted once", "[engine][door]") {
    door d;
    CHECK(d.check(d.north, {ticket(1, 1, "n-17")}) == "TicketsChecked N: 1 ADMITTED");
    CHECK(d.check(d.north, {ticket(1, 1, "n-17")}) == "TicketsChecked N: 1 ADMITTED again");
    // Another scan id, or another scanner with that id: a duplicate.
    CHECK(d.check(d.north, {ticket(1, 1, "n-18")}) == "TicketsChecked N: 1 DUPLICATE (first at N)");
    CHECK(d.check(d.south, {ticket(1, 1, "n-17")}) == "TicketsChecked S: 1 DUPLICATE (first at N)");
    CHECK(d.w.state().concerts.at(0).admitted.size() == 1);
}

TEST_CASE("an offline batch: applied in order, a second admission a duplicate, any gate let in", "[engine][door]") {
    door d;
    // Online at N, a FLOOR place (gate S) is another gate's.
    CHECK(d.check(d.north, {ticket(2, 1)}) == "TicketsChecked N: 1 WRONG_GATE");
    // Offline the door let its holder in: admitted; the same ticket later in the batch is a duplicate.
    const std::vector<ticket_scan> batch = {ticket(2, 1, "off-1"), ticket(1, 1, "off-2"), ticket(2, 1, "off-3"), ticket(1, 2, "", christmas)};
    CHECK(d.check(d.north, batch, true) == "TicketsChecked N: 1 ADMITTED, 1 ADMITTED, 1 DUPLICATE (first at N), 2 WRONG_DATE");
    // The batch uploaded again (its answer was lost): each scan answers as it did first.
    CHECK(d.check(d.north, batch, true) ==
          "TicketsChecked N: 1 ADMITTED again, 1 ADMITTED again, 1 DUPLICATE (first at N), 2 WRONG_DATE");
    CHECK(d.w.state().concerts.at(0).admitted.size() == 2);
}

TEST_CASE("an admitted ticket's reservation cannot be refunded", "[engine][door]") {
    door d;
    CHECK(d.check(d.north, {ticket(1, 2)}) == "TicketsChecked N: 2 ADMITTED");
    CHECK(describe(d.w.run(refund_of(u1, held(1)))) == std::vector<std::string>{"Refused TICKET_USED"});
    CHECK(d.w.status(d.w.hold_id(1)) == reservation_status::confirmed);
}

TEST_CASE("the door's state survives a snapshot", "[engine][door][snapshot]") {
    door d;
    d.check(d.north, {ticket(1, 1, "n-1")});
    d.check(d.south, {ticket(2, 1)});
    d.w.run(remove_scanner(d.south));
    auto restored = engine::restore(engine::snapshot(d.w.state()));
    REQUIRE(restored);
    CHECK(engine::snapshot(*restored) == engine::snapshot(d.w.state()));
    const engine::concert_state& c = restored->concerts.at(0);
    CHECK(c.admitted.size() == 2);
    REQUIRE(c.scanners.size() == 2);
    CHECK(c.scanners[1].removed);
}

}  // namespace encore::test
