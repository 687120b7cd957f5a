// Ids: their text forms round-trip and malformed text is refused; partition routing is stable
// (pinned values: a change to routing would strand every deployed log, so it must fail here).

#include <catch2/catch.hpp>

#include <random>

#include "events/ids.hpp"
#include "events/route.hpp"

using namespace encore;

TEST_CASE("user and concert ids print as 16 lowercase hex digits", "[ids]") {
    CHECK(to_text(user_id{0x4d2}) == "u-00000000000004d2");
    CHECK(to_text(concert_id{0xc0ffee}) == "c-0000000000c0ffee");
    CHECK(to_text(user_id{0xffffffffffffffffULL}) == "u-ffffffffffffffff");
    CHECK(parse_user_id("u-00000000000004d2") == user_id{0x4d2});
    CHECK(parse_concert_id("c-ffffffffffffffff") == concert_id{0xffffffffffffffffULL});
}

TEST_CASE("reservation and payment ids print as partition and offset", "[ids]") {
    reservation_id r = reservation_id::at({3, 1234});
    CHECK(reservation_text(r) == "r-3-1234");
    CHECK(payment_text(r) == "p-3-1234");
    CHECK(parse_reservation_id("r-3-1234") == r);
    CHECK(parse_payment_id("p-3-1234") == r);
    reservation_id last = reservation_id::at({partitions_max - 1, id_offset_mask});
    CHECK(reservation_text(last) == "r-255-18014398509481983");
    CHECK(parse_reservation_id("r-255-18014398509481983") == last);
    CHECK_FALSE(parse_reservation_id("r-256-0"));  // no data directory has a partition 256
    CHECK(parse_reservation_id("r-0-0") == reservation_id::at({0, 0}));
}

TEST_CASE("an id names the position that created it", "[ids]") {
    log_position p{17, 987'654'321};
    reservation_id r = reservation_id::at(p);
    CHECK(r.position() == p);
    CHECK(partition_of(r) == 17);
}

TEST_CASE("random ids round-trip through text", "[ids]") {
    std::mt19937_64 rng(1);
    for (int i = 0; i < 10'000; ++i) {
        std::uint64_t v = rng() | 1;
        CHECK(parse_user_id(to_text(user_id{v})) == user_id{v});
        CHECK(parse_concert_id(to_text(concert_id{v})) == concert_id{v});
        auto partition = static_cast<std::uint32_t>(rng() % partitions_max);
        reservation_id r = reservation_id::at({partition, rng() & id_offset_mask});
        CHECK(parse_reservation_id(reservation_text(r)) == r);
        CHECK(parse_payment_id(payment_text(r)) == r);
    }
}

TEST_CASE("malformed user and concert ids are refused", "[ids]") {
    const char* bad[] = {
        "",
        "u",
        "u-",
        "u-4d2",                  // too short
        "u-00000000000004d20",    // too long
        "u-00000000000004D2",     // upper case
        "u_00000000000004d2",     // wrong separator
        "x-00000000000004d2",     // wrong kind
        "c-00000000000004d2",     // a concert is not a user
        "u-0000000000000000",     // zero is no user
        "u-00000000000004g2",     // not hex
        "u-0000000000004d2 ",     // trailing space
        " u-00000000000004d2",
        "u-+000000000004d2",
    };
    for (const char* text : bad) {
        INFO(text);
        CHECK_FALSE(parse_user_id(text).has_value());
    }
    CHECK_FALSE(parse_concert_id("u-0000000000c0ffee").has_value());
    CHECK_FALSE(parse_concert_id(std::string_view("c-0000000000c0ff\0e", 18)).has_value());
}

TEST_CASE("malformed reservation and payment ids are refused", "[ids]") {
    const char* bad[] = {
        "",
        "r-",
        "r-3",
        "r-3-",
        "r--3",
        "r-3-1234-5",
        "r-03-1234",                  // a leading zero would give one id two spellings
        "r-3-01234",
        "r-+3-1234",
        "r- 3-1234",
        "r-3-1234 ",
        "r-3--1234",
        "r-1024-1",                   // partition past the limit
        "r-3-18014398509481984",      // offset past 54 bits
        "r-3-18446744073709551616",   // overflows 64 bits
        "r-3-123456789012345678901",  // too many digits
        "r-a-1",
        "R-3-1234",
        "p-3-1234",                   // a payment is not a reservation
    };
    for (const char* text : bad) {
        INFO(text);
        CHECK_FALSE(parse_reservation_id(text).has_value());
    }
    CHECK_FALSE(parse_payment_id("r-3-1234").has_value());
    CHECK_FALSE(parse_payment_id("p-3").has_value());
}

TEST_CASE("the mixing function is the SplitMix64 finaliser", "[routing]") {
    CHECK(mix64(0) == 0);
    CHECK(mix64(0x9e3779b97f4a7c15ULL) == 0xe220a8397b1dcdafULL);  // SplitMix64's first output
    CHECK(mix64(1) == 0x5692161d100b05e5ULL);
}

TEST_CASE("partition routing is pinned", "[routing]") {
    struct pin {
        std::uint64_t id;
        std::uint32_t partitions;
        std::uint32_t concert_partition;
        std::uint32_t user_partition;
    };
    const pin pins[] = {
        {1, 1, 0, 0},        {1, 2, 1, 1},       {1, 3, 2, 2},        {1, 4, 3, 1},
        {1, 16, 3, 9},       {1, 1024, 195, 713}, {2, 2, 1, 0},       {2, 4, 3, 0},
        {2, 16, 15, 12},     {7, 4, 0, 3},        {7, 1024, 144, 351}, {42, 4, 1, 0},
        {0x4d2, 3, 1, 1},    {0x4d2, 16, 14, 4},  {0xdeadbeef, 4, 1, 3}, {0xdeadbeef, 1024, 1013, 947},
        {0xffffffffffffffffULL, 16, 7, 9},
    };
    for (const pin& p : pins) {
        INFO("id " << p.id << " over " << p.partitions << " partitions");
        CHECK(partition_of(concert_id{p.id}, p.partitions) == p.concert_partition);
        CHECK(partition_of(user_id{p.id}, p.partitions) == p.user_partition);
    }
}

TEST_CASE("routing stays in range and spreads ids over the partitions", "[routing]") {
    for (std::uint32_t partitions : {1u, 2u, 3u, 7u, 64u}) {
        std::vector<int> concerts(partitions), users(partitions);
        for (std::uint64_t id = 1; id <= 64'000; ++id) {
            std::uint32_t c = partition_of(concert_id{id}, partitions);
            std::uint32_t u = partition_of(user_id{id}, partitions);
            REQUIRE(c < partitions);
            REQUIRE(u < partitions);
            ++concerts[c];
            ++users[u];
        }
        for (std::uint32_t p = 0; p < partitions; ++p) {
            CHECK(concerts[p] > 64'000 / static_cast<int>(partitions) * 8 / 10);
            CHECK(users[p] > 64'000 / static_cast<int>(partitions) * 8 / 10);
        }
    }
}

TEST_CASE("route_of: a command goes to the partition of what it is about", "[routing]") {
    const std::uint32_t partitions = 8;
    const user_id user{0x1234};
    const concert_id concert{0xc0ffee};
    const reservation_id reservation = reservation_id::at({5, 77});
    const payment_id payment = payment_id::at({6, 91});
    auto routed = [&](command_body body) { return route_of(command{{0, user, "", no_position}, std::move(body)}, partitions); };
    CHECK(routed(create_concert{concert}) == partition_of(concert, partitions));
    CHECK(routed(enqueue{concert}) == partition_of(concert, partitions));
    CHECK(routed(hold_seat{concert, 1, 0, 1, {}}) == partition_of(concert, partitions));
    CHECK(routed(cancel_hold{reservation}) == 5);
    CHECK(routed(pay{reservation}) == 5);
    CHECK(routed(refund{reservation}) == 5);  // the reservation's partition, not the user's
    CHECK(routed(register_user{"x"}) == partition_of(user, partitions));
    CHECK(routed(charge{10}) == partition_of(user, partitions));
    CHECK(routed(claim_key{42}) == partition_of(user, partitions));
    CHECK(routed(debit_request{payment, reservation, 10}) == partition_of(user, partitions));
    CHECK(routed(debit_result{payment, reservation, true, 0}) == 6);  // back to the payment's partition
    CHECK(routed(credit_result{payment, reservation, true, 0, 3}) == 6);
    // The cases above tell the user's partition from the reservation's and the payment's.
    CHECK(partition_of(user, partitions) != 5);
    CHECK(partition_of(user, partitions) != 6);
}
