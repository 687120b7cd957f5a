// The ordering of pipelined requests on one connection (http/request_order.hpp), alone: what may
// run at once, what waits for a command's answer, and that nothing overtakes a held request.

#include <catch2/catch.hpp>

#include <vector>

#include "http/request_order.hpp"

using encore::http::request_order;

namespace {

constexpr bool safe = true;
constexpr bool command = false;

std::vector<std::uint64_t> release_all(request_order& order) {
    std::vector<std::uint64_t> released;
    while (auto next = order.next_released()) released.push_back(*next);
    return released;
}

}  // namespace

TEST_CASE("request order: safe requests run at once, in parallel", "[request_order]") {
    request_order order;
    for (std::uint64_t i = 0; i < 4; ++i) {
        const auto a = order.arrive(safe);
        CHECK(a.sequence == i);
        CHECK_FALSE(a.held);
    }
    CHECK(order.held() == 0);
    CHECK(order.outstanding() == 4);
}

TEST_CASE("request order: a read after an unanswered command waits for its answer", "[request_order]") {
    request_order order;
    CHECK_FALSE(order.arrive(command).held);      // 0
    CHECK_FALSE(order.arrive(command).held);      // 1: commands are not held behind commands
    CHECK(order.arrive(safe).held);               // 2: would not see 0's and 1's effects
    CHECK(order.arrive(safe).held);               // 3
    CHECK(release_all(order).empty());
    order.answered(1);
    CHECK(release_all(order).empty());            // 0 still owed
    order.answered(0);
    CHECK(release_all(order) == std::vector<std::uint64_t>{2, 3});
    CHECK(order.held() == 0);
}

TEST_CASE("request order: nothing overtakes a held request, commands included", "[request_order]") {
    request_order order;
    order.arrive(command);                        // 0
    CHECK(order.arrive(safe).held);               // 1
    CHECK(order.arrive(command).held);            // 2: behind a held read, though it is a command
    CHECK(order.arrive(safe).held);               // 3
    order.answered(0);
    // 1 and 2 run; 3 then waits for command 2's answer.
    CHECK(release_all(order) == std::vector<std::uint64_t>{1, 2});
    CHECK(order.held() == 1);
    order.answered(2);
    CHECK(release_all(order) == std::vector<std::uint64_t>{3});
}

TEST_CASE("request order: written answers are forgotten in order, and clear drops everything", "[request_order]") {
    request_order order;
    order.arrive(safe);
    order.arrive(command);
    order.answered(0);
    order.written(0);
    CHECK(order.outstanding() == 1);
    CHECK(order.arrive(safe).held);  // still behind command 1
    order.clear();
    CHECK(order.held() == 0);
    CHECK(order.outstanding() == 0);
    CHECK(order.arrive(safe).sequence == 3);  // numbering goes on
}

TEST_CASE("request order: an answer the server gives itself holds nothing up", "[request_order]") {
    request_order order;
    order.arrive(command);                      // 0
    CHECK(order.arrive(safe).held);             // 1
    CHECK(order.arrive_answered() == 2);        // a framing error: queued behind, answered already
    CHECK(order.arrived() == 3);
    order.answered(0);
    CHECK(release_all(order) == std::vector<std::uint64_t>{1});
}
