// Payment, a saga through the log: the concert partition accepts the Pay and asks the wallet
// partition for the money; the wallet answers; the concert partition confirms or fails. The races
// API.md settles: a payment accepted before expiresAt completes even if the expiry passes while it
// is in flight; one that arrives after expiresAt is refused and takes no money; a redelivered saga
// step is applied once.

#include <catch2/catch.hpp>

#include "harness.hpp"

namespace encore::test {

namespace {

// u1 (200,000 won) holds seat 1 of the eve, held at start_time; u1 and u2 ACTIVE, u3 waits.
std::vector<step> holding() {
    return {create(), enqueue_as(u1), enqueue_as(u2), enqueue_as(u3), charge_as(u1, 200'000), hold(u1, 1, 1)};
}

const std::vector<std::string> confirmed = {
    "PaymentStarted u1 80000", "WalletDebited u1 80000 balance 120000",
    "PaymentConfirmed u1 2026-12-24/1 balance 120000",
    "QueueLeft u1 #1 COMPLETED", "QueueAdmitted u3 #3"};

template <class Body>
const Body& only(const std::vector<event>& events) {
    REQUIRE(events.size() == 1);
    return std::get<Body>(events[0].body);
}

}  // namespace

TEST_CASE("paying for a hold", "[engine][payment]") {
    check_scenarios({
        {"the holder pays", holding(), pay(u1, held(1)), confirmed},
        {"a millisecond before expiry", holding(), after_ms(300'000 - 1, pay(u1, held(1))), confirmed},
        {"at expiry", holding(), after(300, pay(u1, held(1))), {"HoldExpired u1 2026-12-24/1", "Refused HOLD_EXPIRED"}},
        {"after expiry", holding() + std::vector{after(300, tick())}, pay(u1, held(1)), {"Refused HOLD_EXPIRED"}},
        {"another user's reservation", holding(), pay(u2, held(1)), {"Refused RESERVATION_NOT_FOUND"}},
        {"an unknown reservation", holding(), pay(u1, reservation_id::at({0, 999})), {"Refused RESERVATION_NOT_FOUND"}},
        {"a cancelled reservation", holding() + std::vector{cancel(u1, held(1))}, pay(u1, held(1)),
         {"Refused RESERVATION_CANCELLED"}},
        {"a paid reservation", holding() + std::vector{pay(u1, held(1))}, pay(u1, held(1)), {"Refused ALREADY_PAID"}},
        {"a paid reservation, past its expiry", holding() + std::vector{pay(u1, held(1))}, after(300, pay(u1, held(1))),
         {"Refused ALREADY_PAID"}},
        {"too little money", {create(), enqueue_as(u1), charge_as(u1, 1), hold(u1, 1, 1, christmas)}, pay(u1, held(1)),
         {"PaymentStarted u1 90000", "DebitRefused u1 90000 balance 1",
          "PaymentFailed u1 INSUFFICIENT_BALANCE balance 1"}},
    });
}

TEST_CASE("a confirmed payment sells the seat, names the payment and answers the Pay", "[engine][payment]") {
    world w;
    w.run_all(holding());
    w.hold_messages = true;
    w.now += 5'000;
    auto started = w.run(pay(u1, held(1)));
    log_position pay_at = w.last_position();
    const auto& s = only<payment_started>(started);
    CHECK(s.payment == payment_id::at(pay_at));
    CHECK(s.reservation == w.hold_id(1));
    CHECK(s.amount == eve_price);
    CHECK(started[0].answers == no_position);  // the answer comes with the outcome

    REQUIRE(w.pending() == 1);
    auto debited = w.deliver_one();
    CHECK(only<wallet_debited>(debited).balance == 120'000);
    CHECK(debited[0].answers == no_position);
    auto outcome = w.deliver_one();
    REQUIRE(outcome.size() == 3);
    CHECK(outcome[0].answers == pay_at);
    const auto& c = std::get<payment_confirmed>(outcome[0].body);
    CHECK(c.reservation.status == reservation_status::confirmed);
    CHECK(c.reservation.paid_at == w.now);
    CHECK(c.reservation.payment == payment_id::at(pay_at));
    CHECK(c.balance == 120'000);
    CHECK(w.seat(1) == seat_status::sold);
    CHECK(w.attendee(u1).status == queue_status::completed);
    CHECK(w.attendee(u1).holds == 0);
    CHECK(w.unanswered_pays() == 0);
    const auto* concert = engine::find_concert(w.state(), iu);
    CHECK(concert->dates[0].held == 0);
    CHECK(concert->dates[0].sold == 1);
}

TEST_CASE("the expiry passing while the debit is in flight: the payment completes", "[engine][payment][race]") {
    world w;
    w.run_all(holding());
    w.hold_messages = true;
    CHECK(describe(w.run(after(299, pay(u1, held(1))))) == std::vector<std::string>{"PaymentStarted u1 80000"});
    CHECK(describe(w.run(after(10, tick()))).empty());  // no HoldExpired: a payment is in flight
    CHECK(w.status(w.hold_id(1)) == reservation_status::held);
    CHECK(w.seat(1) == seat_status::held);
    CHECK(describe(w.run(hold(u2, 2, 1))) == std::vector<std::string>{"Refused SEAT_TAKEN"});
    CHECK(describe(w.run(cancel(u1, held(1)))) == std::vector<std::string>{"Refused ALREADY_PAID"});
    CHECK(describe(w.deliver_all()) == std::vector<std::string>{"WalletDebited u1 80000 balance 120000",
                                                                "PaymentConfirmed u1 2026-12-24/1 balance 120000",
                                                                "QueueLeft u1 #1 COMPLETED", "QueueAdmitted u3 #3"});
    CHECK(w.seat(1) == seat_status::sold);
    CHECK(w.balance(u1) == 120'000);
    CHECK(describe(w.run(after(1000, tick()))) ==
          std::vector<std::string>{"QueueLeft u2 #2 EXPIRED", "QueueLeft u3 #3 EXPIRED"});
}

TEST_CASE("a debit refused after the expiry passed releases the seat", "[engine][payment][race]") {
    world w;
    w.run_all({create(), enqueue_as(u1), enqueue_as(u2), hold(u1, 1, 1)});
    w.hold_messages = true;
    w.run(after(299, pay(u1, held(1))));
    CHECK(describe(w.run(after(10, tick()))).empty());
    CHECK(describe(w.deliver_all()) ==
          std::vector<std::string>{"DebitRefused u1 80000 balance 0", "PaymentFailed u1 INSUFFICIENT_BALANCE balance 0",
                                   "HoldExpired u1 2026-12-24/1"});
    CHECK(w.status(w.hold_id(1)) == reservation_status::expired);
    CHECK(w.seat(1) == seat_status::available);
    CHECK(w.attendee(u1).holds == 0);
    CHECK(describe(w.run(hold(u2, 2, 1))) == std::vector<std::string>{"SeatHeld u2 2026-12-24/1"});
}

TEST_CASE("a debit refused before the expiry keeps the hold until its deadline", "[engine][payment][race]") {
    world w;
    w.run_all({create(), enqueue_as(u1), hold(u1, 1, 1)});
    w.hold_messages = true;
    w.run(after(100, pay(u1, held(1))));
    w.deliver_all();
    CHECK(w.status(w.hold_id(1)) == reservation_status::held);
    CHECK(describe(w.run(after_ms(200'000 - 1, tick()))).empty());
    CHECK(describe(w.run(after_ms(1, tick()))) == std::vector<std::string>{"HoldExpired u1 2026-12-24/1"});
}

TEST_CASE("a redelivered saga step is applied once", "[engine][payment][race]") {
    world w;
    w.run_all(holding());
    w.hold_messages = true;
    w.run(pay(u1, held(1)));
    CHECK(describe(w.deliver_one()) == std::vector<std::string>{"WalletDebited u1 80000 balance 120000"});
    CHECK(w.redeliver(0).empty());  // the DebitRequest again: no second debit
    CHECK(w.balance(u1) == 120'000);
    REQUIRE(w.pending() == 1);
    CHECK(w.deliver_one().size() == 3);  // PaymentConfirmed, QueueLeft, QueueAdmitted
    CHECK(w.redeliver(1).empty());       // the DebitResult again
    CHECK(w.redeliver(0).empty());
    CHECK(w.balance(u1) == 120'000);
    CHECK(w.pending() == 0);
    CHECK(w.unanswered_pays() == 0);
}

TEST_CASE("a redelivered prefix after later steps is applied once", "[engine][payment][race]") {
    world w;
    w.run_all(holding() + std::vector{charge_as(u2, 200'000), hold(u2, 2, 2)});
    w.hold_messages = true;
    w.run(pay(u1, held(1)));
    w.run(pay(u2, held(2)));
    w.deliver_one();  // u1's request
    w.deliver_one();  // u2's request
    w.deliver_one();  // u1's result
    CHECK(w.redeliver(0).empty());
    CHECK(w.redeliver(1).empty());
    CHECK(w.redeliver(2).empty());
    CHECK(w.deliver_one().size() == 2);  // u2's result: PaymentConfirmed, QueueLeft
    CHECK(w.balance(u1) == 120'000);
    CHECK(w.balance(u2) == 200'000 - eve_price);
    CHECK(w.seat(1) == seat_status::sold);
    CHECK(w.seat(2) == seat_status::sold);
}

TEST_CASE("a second Pay while one is in flight is ALREADY_PAID", "[engine][payment][race]") {
    world w;
    w.run_all(holding());
    w.hold_messages = true;
    w.run(pay(u1, held(1)));
    CHECK(describe(w.run(pay(u1, held(1)))) == std::vector<std::string>{"Refused ALREADY_PAID"});
    CHECK(w.pending() == 1);  // no second debit request
    w.deliver_all();
    CHECK(describe(w.run(pay(u1, held(1)))) == std::vector<std::string>{"Refused ALREADY_PAID"});
    CHECK(w.balance(u1) == 120'000);
    CHECK(w.unanswered_pays() == 0);
}

TEST_CASE("a Pay after the expiry takes no money", "[engine][payment][race]") {
    world w;
    w.run_all(holding());
    w.hold_messages = true;
    CHECK(describe(w.run(after(301, pay(u1, held(1))))) ==
          std::vector<std::string>{"HoldExpired u1 2026-12-24/1", "Refused HOLD_EXPIRED"});
    CHECK(w.pending() == 0);
    CHECK(w.balance(u1) == 200'000);
    CHECK(w.seat(1) == seat_status::available);
}

TEST_CASE("a confirmation after the token expired leaves the token EXPIRED", "[engine][payment][race]") {
    create_concert long_holds = catalog();
    long_holds.hold_ttl_seconds = 900;
    world w;
    w.run_all({create(long_holds), enqueue_as(u1), enqueue_as(u2), enqueue_as(u3), charge_as(u1, 100'000),
               hold(u1, 1, 1)});
    w.hold_messages = true;
    w.run(after(500, pay(u1, held(1))));
    CHECK(describe(w.run(after(100, tick()))) ==
          std::vector<std::string>{"QueueLeft u1 #1 EXPIRED", "QueueLeft u2 #2 EXPIRED", "QueueAdmitted u3 #3"});
    CHECK(describe(w.deliver_all()) == std::vector<std::string>{"WalletDebited u1 80000 balance 20000",
                                                                "PaymentConfirmed u1 2026-12-24/1 balance 20000"});
    CHECK(w.attendee(u1).status == queue_status::expired);
    CHECK(engine::find_concert(w.state(), iu)->active == 1);
}

TEST_CASE("the saga crosses partitions through outbound commands", "[engine][payment][partitions]") {
    world w(2);
    REQUIRE(w.partition_of_concert(iu) == 0);
    REQUIRE(w.partition_of_user(u1) == 1);
    w.run_all(holding());
    w.hold_messages = true;
    w.run(pay(u1, held(1)));
    log_position pay_at = w.last_position();
    REQUIRE(pay_at.partition == 0);
    auto debited = w.deliver_one();
    CHECK(w.last_position().partition == 1);
    REQUIRE(w.delivered().size() == 1);
    const auto& request = w.delivered()[0];
    CHECK(request.partition == 1);
    CHECK(request.cmd.meta.origin == pay_at);
    CHECK(request.cmd.meta.user == u1);
    CHECK(request.cmd.meta.idempotency_key.empty());
    CHECK(std::get<debit_request>(request.cmd.body) ==
          debit_request{payment_id::at(pay_at), w.hold_id(1), eve_price});
    CHECK(describe(debited) == std::vector<std::string>{"WalletDebited u1 80000 balance 120000"});

    auto outcome = w.deliver_one();
    const auto& result = w.delivered()[1];
    CHECK(result.partition == 0);
    CHECK(result.cmd.meta.origin.partition == 1);
    CHECK(std::get<debit_result>(result.cmd.body) ==
          debit_result{payment_id::at(pay_at), w.hold_id(1), true, 120'000});
    CHECK(describe(outcome) == std::vector<std::string>{"PaymentConfirmed u1 2026-12-24/1 balance 120000",
                                                        "QueueLeft u1 #1 COMPLETED", "QueueAdmitted u3 #3"});
    CHECK(outcome[0].answers == pay_at);
    CHECK(w.redeliver(0).empty());
    CHECK(w.redeliver(1).empty());
    CHECK(w.balance(u1) == 120'000);
}

TEST_CASE("a reservation id names its partition: another partition's is not found", "[engine][payment][partitions]") {
    world w(2);
    w.run_all(holding());
    reservation_id elsewhere = reservation_id::at({1, w.hold_id(1).position().offset});
    CHECK(describe(w.run_on(0, pay(u1, elsewhere))) == std::vector<std::string>{"Refused RESERVATION_NOT_FOUND"});
    CHECK(describe(w.run_on(0, cancel(u1, elsewhere))) == std::vector<std::string>{"Refused RESERVATION_NOT_FOUND"});
}

}  // namespace encore::test
