// Refunds, a saga like payment run the other way: the concert partition checks the refund and
// marks it, the wallet partition credits the price, the concert partition frees the seat and
// answers. Until refundsUntil; only CONFIRMED reservations; once.

#include <catch2/catch.hpp>

#include "events/refund_policy.hpp"
#include "harness.hpp"

namespace encore::test {

namespace {

constexpr time_ms day_ms = 24LL * 3600 * 1000;

create_concert refundable() {
    create_concert c = catalog();
    c.queue.active_capacity = 10;
    c.options.refunds_until = start_time + day_ms;
    return c;
}

// u1 (200,000 won) bought seat 1 of the eve for 80,000.
std::vector<step> bought(create_concert c = refundable()) {
    return {create(std::move(c)), enqueue_as(u1), enqueue_as(u2), charge_as(u1, 200'000), hold(u1, 1, 1), pay(u1, held(1))};
}

const std::vector<std::string> refunded = {"RefundStarted u1 80000", "WalletCredited u1 80000 balance 200000",
                                           "ReservationRefunded u1 2026-12-24/1 balance 200000"};

}  // namespace

TEST_CASE("refunding a bought seat", "[engine][refund]") {
    check_scenarios({
        {"the buyer refunds", bought(), refund_of(u1, held(1)), refunded},
        {"a millisecond before refundsUntil", bought() + std::vector{after(600, tick())},
         after_ms(day_ms - 600'000 - 1, refund_of(u1, held(1))), refunded},
        {"at refundsUntil", bought() + std::vector{after(600, tick())}, after_ms(day_ms - 600'000, refund_of(u1, held(1))),
         {"Refused REFUND_NOT_ALLOWED"}},
        {"a concert without refunds", bought(catalog()), refund_of(u1, held(1)), {"Refused REFUND_NOT_ALLOWED"}},
        {"twice", bought() + std::vector{refund_of(u1, held(1))}, refund_of(u1, held(1)), {"Refused ALREADY_REFUNDED"}},
        {"another user's", bought(), refund_of(u2, held(1)), {"Refused RESERVATION_NOT_FOUND"}},
        {"an unknown one", bought(), refund_of(u1, reservation_id::at({0, 999})), {"Refused RESERVATION_NOT_FOUND"}},
        {"a hold not paid", {create(refundable()), enqueue_as(u1), hold(u1, 1, 2)}, refund_of(u1, held(1)),
         {"Refused NOT_PAID"}},
        {"a cancelled hold", {create(refundable()), enqueue_as(u1), hold(u1, 1, 2), cancel(u1, held(1))},
         refund_of(u1, held(1)), {"Refused NOT_PAID"}},
        {"then the seat is free", bought() + std::vector{refund_of(u1, held(1))}, hold(u2, 2, 1),
         {"SeatHeld u2 2026-12-24/1"}},
        {"cancel after a refund", bought() + std::vector{refund_of(u1, held(1))}, cancel(u1, held(1)),
         {"Refused ALREADY_REFUNDED"}},
    });
}

TEST_CASE("a refund while the credit is in flight", "[engine][refund][race]") {
    world w;
    w.run_all(bought());
    w.hold_messages = true;
    CHECK(describe(w.run(refund_of(u1, held(1)))) == std::vector<std::string>{"RefundStarted u1 80000"});
    CHECK(describe(w.run(refund_of(u1, held(1)))) == std::vector<std::string>{"Refused ALREADY_REFUNDED"});
    CHECK(w.seat(1) == seat_status::sold);
    w.deliver_all();
    CHECK(w.seat(1) == seat_status::available);
    CHECK(w.balance(u1) == 200'000);
}

TEST_CASE("a redelivered refund saga step is applied once", "[engine][refund][race]") {
    world w;
    w.run_all(bought());
    w.hold_messages = true;
    const std::size_t first = w.delivered().size();  // the payment's two steps came before
    CHECK(describe(w.run(refund_of(u1, held(1)))) == std::vector<std::string>{"RefundStarted u1 80000"});
    CHECK(describe(w.deliver_one()) == std::vector<std::string>{"WalletCredited u1 80000 balance 200000"});
    CHECK(w.redeliver(first).empty());  // the CreditRequest again: no second credit
    CHECK(w.balance(u1) == 200'000);
    REQUIRE(w.pending() == 1);
    CHECK(describe(w.deliver_one()) == std::vector<std::string>{"ReservationRefunded u1 2026-12-24/1 balance 200000"});
    CHECK(w.redeliver(first + 1).empty());  // the CreditResult again: the seat is not freed twice
    CHECK(w.redeliver(first).empty());
    CHECK(w.balance(u1) == 200'000);
    CHECK(w.status(w.hold_id(1)) == reservation_status::refunded);
    CHECK(w.seat(1) == seat_status::available);
    CHECK(w.attendee(u1).tickets == 0);
    CHECK(w.pending() == 0);
    CHECK(w.unanswered_pays() == 0);
}

TEST_CASE("a redelivered refund prefix after later steps is applied once, across partitions", "[engine][refund][race]") {
    world w(2);
    REQUIRE(w.partition_of_user(u1) != w.partition_of_concert(iu));  // the credit crosses partitions
    w.run_all(bought() + std::vector{charge_as(u2, 200'000), hold(u2, 2, 2), pay(u2, held(2))});
    w.hold_messages = true;
    const std::size_t first = w.delivered().size();
    w.run(refund_of(u1, held(1)));
    w.run(refund_of(u2, held(2)));
    w.deliver_one();  // u1's credit request
    w.deliver_one();  // u2's credit request
    w.deliver_one();  // u1's credit result
    CHECK(w.redeliver(first).empty());
    CHECK(w.redeliver(first + 1).empty());
    CHECK(w.redeliver(first + 2).empty());
    CHECK(describe(w.deliver_one()) == std::vector<std::string>{"ReservationRefunded u2 2026-12-24/2 balance 200000"});
    CHECK(w.balance(u1) == 200'000);
    CHECK(w.balance(u2) == 200'000);
    CHECK(w.seat(1) == seat_status::available);
    CHECK(w.seat(2) == seat_status::available);
    CHECK(w.pending() == 0);
    CHECK(w.unanswered_pays() == 0);
}

}  // namespace encore::test

namespace encore::test {

TEST_CASE("a wallet that cannot take the credit fails the refund with BALANCE_LIMIT and keeps the sale", "[engine][refund]") {
    world w;
    w.run_all(bought());
    // The buyer's wallet has since been charged to within 80,000 - 1 of the limit (charges are at
    // most 1,000,000,000 each; here the state is set as millions of charges would leave it).
    const won full = balance_max - 80'000 + 1;
    w.state().wallets.at(u1).balance = full;
    CHECK(describe(w.run(refund_of(u1, held(1)))) ==
          std::vector<std::string>{"RefundStarted u1 80000", "CreditRefused u1 80000 balance " + std::to_string(full),
                                   "RefundFailed u1 BALANCE_LIMIT"});
    // Nothing moved: still CONFIRMED and SOLD, the balance as it was, and the refund may be asked again.
    CHECK(w.seat(1) == seat_status::sold);
    CHECK(w.state().wallets.at(u1).balance == full);
    w.state().wallets.at(u1).balance = 200'000 - 80'000;
    CHECK(describe(w.run(refund_of(u1, held(1)))) ==
          std::vector<std::string>{"RefundStarted u1 80000", "WalletCredited u1 80000 balance 200000",
                                   "ReservationRefunded u1 2026-12-24/1 balance 200000"});
}

}  // namespace encore::test

// ---- refund fees (API.md "Refund fees"): tiers before the date's startsAt, a free window after
// payment, the policy in force at payment ----

namespace encore::test {

namespace {

constexpr time_ms hour_ms = 3'600'000;

refund_terms korean_policy() { return {{}, 168, {{240, 4'000, 0}, {168, 0, 10}, {72, 0, 20}, {24, 0, 30}}}; }

// The eve starts 480 hours (20 days) after the story begins; Christmas has no startsAt and follows
// refundsUntil. The Korean standard: ₩4,000 a ticket from D-10, then 10 / 20 / 30 %, free within
// 7 days of payment while the first tier applies.
create_concert with_fees(time_ms refunds_until = 0) {
    create_concert c = catalog();
    c.queue.active_capacity = 10;
    c.options.refunds_until = refunds_until;
    venue_layout& v = c.options.sale.venue;
    v.grades = {{"R", eve_price}};
    v.sections = {{"A", 0, {3}, 0, ""}};
    for (schedule& s : c.schedules) {
        s.seats = 3;
        s.price = 0;
    }
    v.starts_at = {0, start_time + 480 * hour_ms};  // the catalog lists Christmas first
    v.plan.refunds = korean_policy();
    return c;
}

// u1 pays for seat 1 at the start; the refund comes `hours` later (`extra_ms` on top).
std::vector<step> paid_then(time_ms hours, time_ms extra_ms, create_concert c = with_fees()) {
    return {create(std::move(c)), enqueue_as(u1), enqueue_as(u2), charge_as(u1, 200'000), hold(u1, 1, 1), pay(u1, held(1)),
            after_ms(hours * hour_ms + extra_ms, tick())};
}

}  // namespace

TEST_CASE("refund fees follow the tier of the time left before startsAt", "[engine][refund][fees]") {
    check_scenarios({
        {"within the free window, before the first tier: free", paid_then(1, 0), refund_of(u1, held(1)),
         {"RefundStarted u1 80000", "WalletCredited u1 80000 balance 200000", "ReservationRefunded u1 2026-12-24/1 balance 200000"}},
        {"after the free window, D-12: 4,000 a ticket", paid_then(192, 0), refund_of(u1, held(1)),
         {"RefundStarted u1 76000", "WalletCredited u1 76000 balance 196000",
          "ReservationRefunded u1 2026-12-24/1 fee 4000 balance 196000"}},
        {"exactly 168 hours left: 10%", paid_then(312, 0), refund_of(u1, held(1)),
         {"RefundStarted u1 72000", "WalletCredited u1 72000 balance 192000",
          "ReservationRefunded u1 2026-12-24/1 fee 8000 balance 192000"}},
        {"a millisecond under 168 hours left: 20%", paid_then(312, 1), refund_of(u1, held(1)),
         {"RefundStarted u1 64000", "WalletCredited u1 64000 balance 184000",
          "ReservationRefunded u1 2026-12-24/1 fee 16000 balance 184000"}},
        {"24 hours left: 30%", paid_then(456, 0), refund_of(u1, held(1)),
         {"RefundStarted u1 56000", "WalletCredited u1 56000 balance 176000",
          "ReservationRefunded u1 2026-12-24/1 fee 24000 balance 176000"}},
        {"under every tier: no refund", paid_then(456, 1), refund_of(u1, held(1)), {"Refused REFUND_NOT_ALLOWED"}},
        {"after the show began", paid_then(481, 0), refund_of(u1, held(1)), {"Refused REFUND_NOT_ALLOWED"}},
    });
}

TEST_CASE("the free window covers the first tier only", "[engine][refund][fees]") {
    // Paid 100 hours before the show (inside the 20% tier) and refunded at once: the window
    // after payment does not waive a later tier's fee.
    const std::vector<step> late = {create(with_fees()), after_ms(380 * hour_ms, tick()), enqueue_as(u1), charge_as(u1, 200'000),
                                    hold(u1, 1, 1), pay(u1, held(1))};
    check_scenarios({{"paid at D-4, refunded at once", late, refund_of(u1, held(1)),
                      {"RefundStarted u1 64000", "WalletCredited u1 64000 balance 184000",
                       "ReservationRefunded u1 2026-12-24/1 fee 16000 balance 184000"}}});
}

TEST_CASE("a won fee is per ticket and a fee never exceeds the price", "[engine][refund][fees]") {
    create_concert c = with_fees();
    c.options.sale.venue->plan.refunds = {{}, 0, {{240, 50'000, 0}, {0, 0, 100}}};
    const std::vector<step> two = {create(c), enqueue_as(u1), charge_as(u1, 200'000), hold_seats(u1, 1, {1, 2}), pay(u1, held(1)),
                                   after_ms(200 * hour_ms, tick())};
    check_scenarios({
        // Two tickets at 50,000 each would be 100,000 of a 160,000 reservation.
        {"two seats, a won tier", two, refund_of(u1, held(1)),
         {"RefundStarted u1 60000", "WalletCredited u1 60000 balance 100000",
          "ReservationRefunded u1 2026-12-24/1,2 fee 100000 balance 100000"}},
        {"100% at the last tier: nothing credited", two + std::vector{after_ms(100 * hour_ms, tick())}, refund_of(u1, held(1)),
         {"RefundStarted u1 0", "WalletCredited u1 0 balance 40000",
          "ReservationRefunded u1 2026-12-24/1,2 fee 160000 balance 40000"}},
    });
    c.options.sale.venue->plan.refunds = {{}, 0, {{240, 500'000, 0}}};
    check_scenarios({{"a won fee above the price keeps the price", {create(c), enqueue_as(u1), charge_as(u1, 200'000),
                                                                  hold(u1, 1, 1), pay(u1, held(1)), after_ms(200 * hour_ms, tick())},
                      refund_of(u1, held(1)),
                      {"RefundStarted u1 0", "WalletCredited u1 0 balance 120000",
                       "ReservationRefunded u1 2026-12-24/1 fee 80000 balance 120000"}}});
}

TEST_CASE("a date without startsAt follows refundsUntil, fee-free", "[engine][refund][fees]") {
    const std::vector<step> christmas_paid = {create(with_fees(start_time + 100 * hour_ms)), enqueue_as(u1), charge_as(u1, 200'000),
                                              hold(u1, 1, 1, christmas), pay(u1, held(1)), after_ms(99 * hour_ms, tick())};
    check_scenarios({
        {"before refundsUntil", christmas_paid, refund_of(u1, held(1)),
         {"RefundStarted u1 80000", "WalletCredited u1 80000 balance 200000", "ReservationRefunded u1 2026-12-25/1 balance 200000"}},
        {"after it", christmas_paid + std::vector{after_ms(2 * hour_ms, tick())}, refund_of(u1, held(1)), {"Refused REFUND_NOT_ALLOWED"}},
    });
}

TEST_CASE("a reservation is refunded under the policy in force when it was paid", "[engine][refund][fees]") {
    world w;
    w.run_all({create(with_fees()), enqueue_as(u1), enqueue_as(u2), charge_as(u1, 200'000), charge_as(u2, 200'000), hold(u1, 1, 1),
               pay(u1, held(1))});
    concert_settings flat;
    flat.set = concert_settings::refund_policy_field;
    flat.phases.refund_policy = {{}, 0, {{0, 0, 50}}};
    REQUIRE(describe(w.run(update(iu, flat))).at(0).starts_with("ConcertUpdated"));
    w.run_all({hold(u2, 2, 2), pay(u2, held(2)), after_ms(200 * hour_ms, tick())});
    // 280 hours before the show: u1's policy (paid before the change) asks 4,000; u2's asks half.
    CHECK(describe(w.run(refund_of(u1, held(1)))).at(0) == "RefundStarted u1 76000");
    CHECK(describe(w.run(refund_of(u2, held(2)))).at(0) == "RefundStarted u2 40000");
    CHECK(w.record(w.hold_id(1)).refund_fee == 4'000);
    CHECK(w.record(w.hold_id(2)).refund_fee == 40'000);
    // The state, snapshot and restored, keeps both policies and each reservation's.
    auto restored = engine::restore(engine::snapshot(w.state()));
    REQUIRE(restored);
    CHECK(engine::snapshot(*restored) == engine::snapshot(w.state()));
    CHECK(restored->concerts.at(0).refund_policies.size() == 2);
    // Removing the policy: later payments follow refundsUntil (none here).
    concert_settings none;
    none.set = concert_settings::refund_policy_field;
    REQUIRE(describe(w.run(update(iu, none))).at(0).starts_with("ConcertUpdated"));
    w.run_all({enqueue_as(u1), hold(u1, 3, 3), pay(u1, held(3))});
    CHECK(describe(w.run(refund_of(u1, held(3)))).at(0) == "Refused REFUND_NOT_ALLOWED");
}

TEST_CASE("the policies a concert has had are kept once each, at most 100", "[engine][refund][fees]") {
    world w;
    w.run(create(with_fees()));
    auto patch = [&](refund_terms terms) {
        concert_settings set;
        set.set = concert_settings::refund_policy_field;
        set.phases.refund_policy = std::move(terms);
        return describe(w.run(update(iu, set))).at(0);
    };
    // Back and forth between two policies: two kept.
    for (int i = 0; i < 5; ++i) {
        REQUIRE(patch({{}, 0, {{24, 0, 50}}}).starts_with("ConcertUpdated"));
        REQUIRE(patch(korean_policy()).starts_with("ConcertUpdated"));
    }
    CHECK(w.state().concerts.at(0).refund_policies.size() == 2);
    for (std::uint32_t n = 0; w.state().concerts.at(0).refund_policies.size() < refund_policies_max; ++n)
        REQUIRE(patch({{}, 0, {{n, 0, 10}}}).starts_with("ConcertUpdated"));
    // A new one past the limit is refused; one had before is not.
    CHECK(patch({{}, 0, {{24, 0, 99}}}) == "Refused INVALID_REQUEST");
    CHECK(patch({{}, 0, {{24, 0, 50}}}).starts_with("ConcertUpdated"));
    auto restored = engine::restore(engine::snapshot(w.state()));
    REQUIRE(restored);
    CHECK(restored->concerts.at(0).refund_policies.size() == refund_policies_max);
}

TEST_CASE("refund policies the engine refuses", "[engine][refund][fees]") {
    auto refused_catalog = [](refund_terms terms, bool venue = true) {
        create_concert c = venue ? with_fees() : catalog();
        c.options.sale.venue->plan.refunds = std::move(terms);
        return describe(world().run(create(c)));
    };
    const std::vector<std::string> invalid{"Refused INVALID_REQUEST"};
    CHECK(refused_catalog({{}, 0, {{24, 0, 10}, {72, 0, 20}}}) == invalid);        // not by decreasing hoursBefore
    CHECK(refused_catalog({{}, 0, {{24, 0, 10}, {24, 0, 20}}}) == invalid);        // twice the same
    CHECK(refused_catalog({{}, 0, {{24, 1'000, 10}}}) == invalid);                 // both a won fee and a percent
    CHECK(refused_catalog({{}, 0, {{24, 0, 101}}}) == invalid);                    // over 100%
    CHECK(refused_catalog({{}, 24, {}}) == invalid);                               // a window without tiers
    CHECK(refused_catalog(korean_policy(), false) == invalid);                     // no venue, so no startsAt
    CHECK(refused_catalog(korean_policy()).at(0).starts_with("ConcertCreated"));
}

}  // namespace encore::test
