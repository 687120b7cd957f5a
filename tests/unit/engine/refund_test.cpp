// Refunds, a saga like payment run the other way: the concert partition checks the refund and
// marks it, the wallet partition credits the price, the concert partition frees the seat and
// answers. Until refundsUntil; only CONFIRMED reservations; once.

#include <catch2/catch.hpp>

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
