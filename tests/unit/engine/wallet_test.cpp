// The wallet: charges of 1..1,000,000,000 won, a balance never above 2^53 - 1 nor below 0, and
// debits that take the whole price or nothing.

#include <catch2/catch.hpp>

#include <limits>

#include "harness.hpp"

namespace encore::test {

namespace {

const std::vector<std::string> invalid_amount = {"Refused INVALID_AMOUNT"};

// u1 holds seat 1 of the eve (80,000 won) and has `balance` won.
std::vector<step> holding_with(won balance) {
    std::vector<step> steps = {create(), enqueue_as(u1), enqueue_as(u2), hold(u1, 1, 1)};
    if (balance > 0) steps.push_back(charge_as(u1, balance));
    return steps;
}

}  // namespace

TEST_CASE("charges of 1..1,000,000,000 won", "[engine][wallet]") {
    check_scenarios({
        {"1 won", {}, charge_as(u1, 1), {"Charged u1 1 balance 1"}},
        {"1,000,000,000 won", {}, charge_as(u1, 1'000'000'000), {"Charged u1 1000000000 balance 1000000000"}},
        {"0 won", {}, charge_as(u1, 0), invalid_amount},
        {"1,000,000,001 won", {}, charge_as(u1, 1'000'000'001), invalid_amount},
        {"a negative amount", {}, charge_as(u1, -5), invalid_amount},
        {"the most negative amount", {}, charge_as(u1, std::numeric_limits<won>::min()), invalid_amount},
        {"the largest amount", {}, charge_as(u1, std::numeric_limits<won>::max()), invalid_amount},
        {"charges add up", {charge_as(u1, 100), charge_as(u1, 50)}, charge_as(u1, 7), {"Charged u1 7 balance 157"}},
        {"wallets are per user", {charge_as(u1, 100)}, charge_as(u2, 7), {"Charged u2 7 balance 7"}},
        {"a refused charge adds nothing", {charge_as(u1, 100), charge_as(u1, 0)}, charge_as(u1, 1),
         {"Charged u1 1 balance 101"}},
        {"no user", {}, charge_as(admin, 100), {"Refused INVALID_REQUEST"}},
    });
}

TEST_CASE("a balance never exceeds 2^53 - 1", "[engine][wallet]") {
    world w;
    // 9 million charges would get here too; the wallet is set directly to keep the test short.
    w.state().wallets[u1].balance = balance_max - 1'000'000'000;
    CHECK(describe(w.run(charge_as(u1, 1'000'000'000))) ==
          std::vector<std::string>{"Charged u1 1000000000 balance 9007199254740991"});
    CHECK(describe(w.run(charge_as(u1, 1))) == std::vector<std::string>{"Refused BALANCE_LIMIT"});
    CHECK(w.balance(u1) == balance_max);

    w.state().wallets[u2].balance = balance_max - 5;
    CHECK(describe(w.run(charge_as(u2, 6))) == std::vector<std::string>{"Refused BALANCE_LIMIT"});
    CHECK(describe(w.run(charge_as(u2, 1'000'000'000))) == std::vector<std::string>{"Refused BALANCE_LIMIT"});
    CHECK(w.balance(u2) == balance_max - 5);
    CHECK(describe(w.run(charge_as(u2, 5))) == std::vector<std::string>{"Charged u2 5 balance 9007199254740991"});
}

TEST_CASE("an invalid amount is refused before the balance limit", "[engine][wallet]") {
    world w;
    w.state().wallets[u1].balance = balance_max;
    CHECK(describe(w.run(charge_as(u1, 0))) == invalid_amount);
    CHECK(describe(w.run(charge_as(u1, 1'000'000'001))) == invalid_amount);
}

TEST_CASE("a charge is routed to the user's wallet partition", "[engine][wallet]") {
    world w(4);
    std::uint32_t home = w.partition_of_user(u1);
    CHECK(describe(w.run_on((home + 1) % 4, charge_as(u1, 5))) == std::vector<std::string>{"Refused INVALID_REQUEST"});
    CHECK(describe(w.run(charge_as(u1, 5))) == std::vector<std::string>{"Charged u1 5 balance 5"});
    CHECK(w.state(home).wallets.at(u1).balance == 5);
}

TEST_CASE("a debit takes the whole price or nothing", "[engine][wallet]") {
    check_scenarios({
        {"more than enough", holding_with(100'000), pay(u1, held(1)),
         {"PaymentStarted u1 80000", "WalletDebited u1 80000 balance 20000",
          "PaymentConfirmed u1 2026-12-24/1 balance 20000", "QueueLeft u1 #1 COMPLETED"}},
        {"exactly enough", holding_with(80'000), pay(u1, held(1)),
         {"PaymentStarted u1 80000", "WalletDebited u1 80000 balance 0", "PaymentConfirmed u1 2026-12-24/1 balance 0",
          "QueueLeft u1 #1 COMPLETED"}},
        {"one won short", holding_with(79'999), pay(u1, held(1)),
         {"PaymentStarted u1 80000", "DebitRefused u1 80000 balance 79999",
          "PaymentFailed u1 INSUFFICIENT_BALANCE balance 79999"}},
        {"no wallet at all", holding_with(0), pay(u1, held(1)),
         {"PaymentStarted u1 80000", "DebitRefused u1 80000 balance 0",
          "PaymentFailed u1 INSUFFICIENT_BALANCE balance 0"}},
    });
}

TEST_CASE("a refused debit keeps the hold, and a later payment can succeed", "[engine][wallet]") {
    world w;
    w.run_all(holding_with(79'999));
    w.run(pay(u1, held(1)));
    reservation_id r = w.hold_id(1);
    CHECK(w.balance(u1) == 79'999);
    CHECK(w.status(r) == reservation_status::held);
    CHECK(w.record(r).payment_offset == 0);
    CHECK_FALSE(w.record(r).payment_pending);
    CHECK(w.seat(1) == seat_status::held);
    CHECK(w.attendee(u1).status == queue_status::active);

    w.run(charge_as(u1, 1));
    CHECK(describe(w.run(pay(u1, held(1)))) ==
          std::vector<std::string>{"PaymentStarted u1 80000", "WalletDebited u1 80000 balance 0",
                                   "PaymentConfirmed u1 2026-12-24/1 balance 0", "QueueLeft u1 #1 COMPLETED"});
    CHECK(w.balance(u1) == 0);
    CHECK(w.seat(1) == seat_status::sold);
}

}  // namespace encore::test
