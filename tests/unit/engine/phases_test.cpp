// Sale phases (API.md "Sale phases"): a fan club's LIST phase (VIP only, 1 seat each) from +1 h to
// +2 h, then the general sale from +3 h. A venue of VIP seats 1..3 (section A) and R seats 4..6 (B).
// The list holds keyed hashes; a claim binds one id to one user; the waiting room admits for the
// phase that is open; a phase's close expires its tokens.

#include <catch2/catch.hpp>

#include <functional>

#include "harness.hpp"

namespace encore::test {

namespace {

constexpr time_ms hour_ms = 3'600'000;
const list_key id_a{1, 11}, id_b{2, 22}, id_c{3, 33};

create_concert phased_catalog() {
    create_concert c = catalog();
    c.queue = {10, 600};
    venue_layout& v = c.options.sale.venue;
    v.grades = {{"VIP", 100'000}, {"R", 60'000}};
    v.sections = {{"A", 0, {3}, 0, ""}, {"B", 1, {3}, 0, ""}};
    for (schedule& s : c.schedules) {
        s.seats = 6;
        s.price = 0;
    }
    v.plan.phases = {{"fanclub", "Fan club presale", start_time + hour_ms, start_time + 2 * hour_ms, true, {0}, 1, 0xfa},
                     {"general", "General sale", start_time + 3 * hour_ms, 0, false, {}, 0, 0x9e}};
    return c;
}

step add_ids(std::vector<list_key> keys, std::uint32_t phase = 0) {
    return step{0, command{command_meta{0, admin, "", no_position}, add_eligible{iu, phase, std::move(keys)}}};
}
step claim(user_id u, list_key key, std::uint32_t phase = 0) {
    return step{0, command{command_meta{0, u, "", no_position}, claim_eligibility{iu, phase, key, false}}};
}
step free_claim(list_key key, std::uint32_t phase = 0) {
    return step{0, command{command_meta{0, admin, "", no_position}, claim_eligibility{iu, phase, key, true}}};
}
step hold_grade(user_id u, std::uint64_t ticket, std::uint32_t n, std::string grade) {
    return step{0, command{command_meta{0, u, "", no_position},
                           hold_seat{iu, ticket, eve, 0, seat_choice{{}, {}, n, pick_filter{{}, std::move(grade), ""}}}}};
}

// The list has ids a and b; u1 claimed a.
std::vector<step> listed() { return {create(phased_catalog()), add_ids({id_a, id_b}), claim(u1, id_a)}; }

}  // namespace

TEST_CASE("a phase's list: keyed hashes added in batches, claimed once, one id one person", "[engine][phases]") {
    check_scenarios({
        {"ids added: how many were new, and the total", {create(phased_catalog()), add_ids({id_a})}, add_ids({id_a, id_b}),
         {"EligibleAdded 0 +1 = 2"}},
        {"a phase the concert does not have", {create(phased_catalog())}, add_ids({id_a}, 2), {"Refused INVALID_REQUEST"}},
        {"an empty batch", {create(phased_catalog())}, add_ids({}), {"Refused INVALID_REQUEST"}},
        {"a claim of an id on the list", {create(phased_catalog()), add_ids({id_a})}, claim(u1, id_a), {"EligibilityClaimed 0 u1"}},
        {"the same claim again", listed(), claim(u1, id_a), {"EligibilityClaimed 0 u1 again"}},
        {"an id not on the list", listed(), claim(u2, id_c), {"Refused NOT_ON_LIST"}},
        {"an id another user claimed", listed(), claim(u2, id_a), {"Refused ALREADY_CLAIMED"}},
        {"a second id by the same user", listed(), claim(u1, id_b), {"Refused ALREADY_ELIGIBLE"}},
        {"the organizer frees a claim", listed(), free_claim(id_a), {"ClaimFreed 0 u1"}},
        {"… which another user may then make", listed() + std::vector{free_claim(id_a)}, claim(u2, id_a), {"EligibilityClaimed 0 u2"}},
        {"freeing an id nobody claimed", listed(), free_claim(id_b), {"Refused NOT_CLAIMED"}},
        {"a claim of the general sale's (empty) list", listed(), claim(u1, id_a, 1), {"Refused NOT_ON_LIST"}},
    });
}

TEST_CASE("the waiting room admits for the phase that is open", "[engine][phases]") {
    const time_ms to_presale = hour_ms / 1000, to_general = 3 * hour_ms / 1000;
    check_scenarios({
        {"a listed user joins the presale's pre-queue", listed(), enqueue_as(u1), {"QueueJoined u1 #1 WAITING pre-queue"}},
        {"a user not on the list: NOT_ELIGIBLE, naming when the general sale opens", listed(), enqueue_as(u2),
         {"Refused NOT_ELIGIBLE " + std::to_string(start_time + 3 * hour_ms)}},
        {"the presale opens: its pre-queue placed and admitted", listed() + std::vector{enqueue_as(u1)}, after(to_presale, tick()),
         {"PhaseOpened 0", "QueuePlaced u1 #1 at 1", "QueueAdmitted u1 #1"}},
        {"the presale sells VIP only", listed() + std::vector{enqueue_as(u1), after(to_presale, tick())}, hold(u1, 1, 4),
         {"Refused GRADE_NOT_ON_SALE"}},
        {"… and a pick without a grade skips R", listed() + std::vector{enqueue_as(u1), after(to_presale, tick())}, hold_best(u1, 1, 1),
         {"SeatHeld u1 2026-12-24/1"}},
        {"… a pick of R is refused", listed() + std::vector{enqueue_as(u1), after(to_presale, tick())}, hold_grade(u1, 1, 1, "R"),
         {"Refused GRADE_NOT_ON_SALE"}},
        {"the presale's cap of one seat", listed() + std::vector{enqueue_as(u1), after(to_presale, tick()), hold(u1, 1, 1)},
         hold(u1, 1, 2), {"Refused TICKET_LIMIT"}},
        {"… a cancelled hold no longer counts", listed() + std::vector{enqueue_as(u1), after(to_presale, tick()), hold(u1, 1, 1), cancel(u1, held(1))},
         hold(u1, 1, 2), {"SeatHeld u1 2026-12-24/2"}},
        {"the presale closes: its tokens expire", listed() + std::vector{enqueue_as(u1), after(to_presale, tick())},
         after(hour_ms / 1000, tick()), {"PhaseClosed 0 below #2"}},
        {"… a hold with a token of a closed phase", listed() + std::vector{enqueue_as(u1), after(to_presale, tick()), after(hour_ms / 1000, tick())},
         hold(u1, 1, 1), {"Refused QUEUE_TOKEN_EXPIRED"}},
        {"between the phases anyone joins the general sale's pre-queue",
         listed() + std::vector{after(to_presale + hour_ms / 1000, tick())}, enqueue_as(u2), {"QueueJoined u2 #1 WAITING pre-queue"}},
        {"the general sale sells every grade", listed() + std::vector{after(to_general, tick()), enqueue_as(u2)}, hold(u2, 1, 4),
         {"SeatHeld u2 2026-12-24/4"}},
        {"after the last phase closed nobody joins", {create([] {
              create_concert c = phased_catalog();
              c.options.sale.venue->plan.phases[1].closes_at = start_time + 4 * hour_ms;
              return c;
          }()), after(5 * hour_ms / 1000, tick())},
         enqueue_as(u2), {"Refused NOT_ELIGIBLE"}},
    });
}

TEST_CASE("a phase's close: holds placed in it may still be paid", "[engine][phases]") {
    world w;
    create_concert c = phased_catalog();
    c.queue.active_ttl_seconds = 7200;  // a turn longer than the phase
    w.run_all({create(c), add_ids({id_a}), claim(u1, id_a), charge_as(u1, 500'000), enqueue_as(u1),
               after(hour_ms / 1000, tick()), hold(u1, 1, 1)});
    // The presale closes 1 h after it opened; the hold (5 min) expired long before: hold again just before.
    w.run_all({after(hour_ms / 1000 - 60, tick())});
    CHECK(w.status(w.hold_id(1)) == reservation_status::expired);
    w.run(hold(u1, 1, 2));
    const auto closed = describe(w.run(after(60, tick())));
    CHECK(closed == std::vector<std::string>{"PhaseClosed 0 below #2"});
    CHECK(w.attendee(u1).status == queue_status::expired);
    const auto paid = describe(w.run(pay(u1, w.hold_id(2))));
    CHECK(std::find(paid.begin(), paid.end(), "PaymentConfirmed u1 2026-12-24/2 balance 400000") != paid.end());
    // u1 joins the general sale's pre-queue with a new ticket.
    CHECK(describe(w.run(enqueue_as(u1))) == std::vector<std::string>{"QueueJoined u1 #2 WAITING pre-queue"});
}

TEST_CASE("phases and their lists survive a snapshot", "[engine][phases][snapshot]") {
    world w;
    w.run_all(listed() + std::vector{enqueue_as(u1), after(hour_ms / 1000, tick()), hold(u1, 1, 1)});
    auto restored = engine::restore(engine::snapshot(w.state()));
    REQUIRE(restored);
    CHECK(engine::snapshot(*restored) == engine::snapshot(w.state()));
    const auto* c = engine::find_concert(*restored, iu);
    REQUIRE(c->phases.size() == 2);
    CHECK(c->phase == 0);
    CHECK(c->on_sale);
    CHECK(c->phases[0].ids.size() == 2);
    CHECK(c->phases[0].claims.at(u1) == id_a);
    CHECK(c->phases[0].bought.at(u1) == 1);
    CHECK(engine::find_reservation(*restored, w.hold_id(1))->phase == 1);
}

// PATCH of salePhases: the whole list, with `change` applied to the catalog's.
step patch_phases(std::function<void(std::vector<sale_phase>&)> change) {
    std::vector<sale_phase> phases = phased_catalog().options.sale.venue->plan.phases;
    change(phases);
    concert_settings s;
    s.set = concert_settings::phases_field;
    s.phases.phases = std::move(phases);
    return update(iu, std::move(s));
}

TEST_CASE("the organizer changes the sale phases: those not yet open, in their places", "[engine][phases]") {
    const time_ms to_presale = hour_ms / 1000;
    const auto later_general = [](auto& p) { p[1].opens_at += hour_ms; };
    check_scenarios({
        {"before anything opens: the general sale an hour later", listed(), patch_phases(later_general), {"ConcertUpdated r1 fields 1024"}},
        {"a third phase after them", listed(), patch_phases([](auto& p) {
             p.push_back({"resale", "Resale", start_time + 5 * hour_ms, 0, false, {}, 0, 0x5e});
         }),
         {"ConcertUpdated r1 fields 1024"}},
        {"the presale open: the general sale moved", listed() + std::vector{after(to_presale, tick())}, patch_phases(later_general),
         {"ConcertUpdated r1 fields 1024"}},
        {"… but the open presale changed", listed() + std::vector{after(to_presale, tick())},
         patch_phases([](auto& p) { p[0].max_tickets = 4; }), {"Refused PHASE_STARTED"}},
        {"a phase whose opensAt has passed counts as opened, tick or not", listed() + std::vector{after(to_presale, charge_as(u5, 1))},
         patch_phases([](auto& p) { p[0].grades = {}; }), {"Refused PHASE_STARTED"}},
        {"phases in another order", listed(), patch_phases([](auto& p) { std::swap(p[0].phase, p[1].phase); }), {"Refused PHASE_STARTED"}},
        {"the presale removed: it has a list", listed(), patch_phases([](auto& p) {
             p.erase(p.begin());
         }),
         {"Refused PHASE_STARTED"}},
        {"the general sale removed: no list, nobody waiting", listed(), patch_phases([](auto& p) { p.pop_back(); }),
         {"ConcertUpdated r1 fields 1024"}},
        {"… but not with users in its pre-queue", listed() + std::vector{after(to_presale + hour_ms / 1000, tick()), enqueue_as(u2)},
         patch_phases([](auto& p) { p.pop_back(); }), {"Refused PHASE_STARTED"}},
        {"a plan that cannot be (overlapping)", listed(), patch_phases([](auto& p) { p[0].closes_at = p[1].opens_at + 1; }),
         {"Refused INVALID_REQUEST"}},
        {"the general sale moved to now: it opens at once", listed() + std::vector{after(to_presale + hour_ms / 1000, tick()), enqueue_as(u2)},
         patch_phases([](auto& p) { p[1].opens_at = start_time + 2 * hour_ms; }),
         {"ConcertUpdated r1 fields 1024", "PhaseOpened 1", "QueuePlaced u2 #1 at 1", "QueueAdmitted u2 #1"}},
    });
}

TEST_CASE("phases added by PATCH are kept through a snapshot, with their lists", "[engine][phases][snapshot]") {
    world w;
    w.run_all(listed() + std::vector{patch_phases([](auto& p) {
                  p.push_back({"resale", "Resale", start_time + 5 * hour_ms, 0, true, {}, 0, 0x5e});
              }),
                                      add_ids({id_c}, 2)});
    auto restored = engine::restore(engine::snapshot(w.state()));
    REQUIRE(restored);
    CHECK(engine::snapshot(*restored) == engine::snapshot(w.state()));
    const auto* c = engine::find_concert(*restored, iu);
    REQUIRE(c->phases.size() == 3);
    CHECK(c->phases[2].ids.size() == 1);
    CHECK(c->config.options.sale.venue->plan.phases[2].phase == "resale");
}

TEST_CASE("sale phases that cannot be are refused", "[engine][phases]") {
    auto with = [](auto change) {
        create_concert c = phased_catalog();
        change(c.options.sale.venue->plan.phases);
        return create(c);
    };
    check_scenarios({
        {"out of order", {}, with([](auto& p) { std::swap(p[0].opens_at, p[1].opens_at); }), {"Refused INVALID_REQUEST"}},
        {"overlapping", {}, with([](auto& p) { p[0].closes_at = p[1].opens_at + 1; }), {"Refused INVALID_REQUEST"}},
        {"the same name twice", {}, with([](auto& p) { p[1].phase = p[0].phase; }), {"Refused INVALID_REQUEST"}},
        {"a grade the venue does not have", {}, with([](auto& p) { p[0].grades = {2}; }), {"Refused INVALID_REQUEST"}},
        {"with onsaleAt too", {}, create([] { create_concert c = phased_catalog(); c.options.sale.onsale_at = start_time + 1; return c; }()),
         {"Refused INVALID_REQUEST"}},
    });
}

}  // namespace encore::test
