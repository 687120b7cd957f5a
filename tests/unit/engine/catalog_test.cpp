// The catalog: a concert is created once, with a catalog inside API.md's limits; users register in
// their wallet partition.

#include <catch2/catch.hpp>

#include <functional>

#include "harness.hpp"

namespace encore::test {

namespace {

step create_with(const std::function<void(create_concert&)>& change) {
    create_concert c = catalog();
    change(c);
    return create(c);
}

std::vector<schedule> many_dates(std::size_t n) {
    std::vector<schedule> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back({eve + static_cast<day_number>(i), 1, 1});
    return out;
}

}  // namespace

TEST_CASE("catalogs outside API.md's limits are INVALID_REQUEST", "[engine][catalog]") {
    const std::vector<std::string> invalid = {"Refused INVALID_REQUEST"};
    const std::vector<std::string> created = {"ConcertCreated c7"};
    check_scenarios({
        {"a valid catalog", {}, create(), created},
        {"concert id 0", {}, create(catalog(concert_id{0})), invalid},
        {"no title", {}, create_with([](auto& c) { c.title.clear(); }), invalid},
        {"title of 201 characters", {}, create_with([](auto& c) { c.title.assign(201, 't'); }), invalid},
        {"title of 200 characters", {}, create_with([](auto& c) { c.title.assign(200, 't'); }), created},
        {"venue of 201 characters", {}, create_with([](auto& c) { c.venue.assign(201, 'v'); }), invalid},
        {"no venue", {}, create_with([](auto& c) { c.venue.clear(); }), created},
        {"no dates", {}, create_with([](auto& c) { c.schedules.clear(); }), invalid},
        {"367 dates", {}, create_with([](auto& c) { c.schedules = many_dates(367); }), invalid},
        {"366 dates", {}, create_with([](auto& c) { c.schedules = many_dates(366); }), created},
        {"the same date twice", {}, create_with([](auto& c) { c.schedules.push_back({eve, 9, 1}); }), invalid},
        {"0 seats", {}, create_with([](auto& c) { c.schedules[0].seats = 0; }), invalid},
        {"100,001 seats", {}, create_with([](auto& c) { c.schedules[0].seats = 100'001; }), invalid},
        {"100,000 seats", {}, create_with([](auto& c) { c.schedules[0].seats = 100'000; }), created},
        {"claimSeconds up to the active TTL", {}, create_with([](auto& c) { c.options.claim_seconds = 600; }), created},
        {"claimSeconds past the active TTL", {}, create_with([](auto& c) { c.options.claim_seconds = 601; }), invalid},
        {"101 tickets per user", {}, create_with([](auto& c) { c.options.max_tickets_per_user = 101; }), invalid},
        {"seats per row for each date", {}, create_with([](auto& c) { c.options.seats_per_row = {10, 1000}; }), created},
        {"seats per row for one of two dates", {}, create_with([](auto& c) { c.options.seats_per_row = {10}; }), invalid},
        {"1,001 seats per row", {}, create_with([](auto& c) { c.options.seats_per_row = {10, 1001}; }), invalid},
        {"refunds until before 1970", {}, create_with([](auto& c) { c.options.refunds_until = -1; }), invalid},
        {"500,000 seats over all dates", {}, create_with([](auto& c) {
             c.schedules = many_dates(5);
             for (auto& s : c.schedules) s.seats = 100'000;
         }), created},
        {"500,001 seats over all dates", {}, create_with([](auto& c) {
             c.schedules = many_dates(6);
             for (auto& s : c.schedules) s.seats = 100'000;
             c.schedules[5].seats = 1;
         }), invalid},
        {"negative price", {}, create_with([](auto& c) { c.schedules[0].price = -1; }), invalid},
        {"price over the limit", {}, create_with([](auto& c) { c.schedules[0].price = price_max + 1; }), invalid},
        {"free seats", {}, create_with([](auto& c) { c.schedules[0].price = 0; }), created},
        {"a date before 1970", {}, create_with([](auto& c) { c.schedules[0].date = -1; }), invalid},
        {"a date after 9999", {}, create_with([](auto& c) { c.schedules[0].date = 2'932'897; }), invalid},
        {"capacity 0", {}, create_with([](auto& c) { c.queue.active_capacity = 0; }), invalid},
        {"capacity over the limit", {}, create_with([](auto& c) { c.queue.active_capacity = active_capacity_max + 1; }),
         invalid},
        {"active TTL 0", {}, create_with([](auto& c) { c.queue.active_ttl_seconds = 0; }), invalid},
        {"active TTL over a week", {}, create_with([](auto& c) { c.queue.active_ttl_seconds = ttl_seconds_max + 1; }),
         invalid},
        {"active TTL of a week", {}, create_with([](auto& c) { c.queue.active_ttl_seconds = ttl_seconds_max; }),
         created},
        {"hold TTL 0", {}, create_with([](auto& c) { c.hold_ttl_seconds = 0; }), invalid},
        {"hold TTL over a week", {}, create_with([](auto& c) { c.hold_ttl_seconds = ttl_seconds_max + 1; }), invalid},
        {"0 holds per user", {}, create_with([](auto& c) { c.max_holds_per_user = 0; }), invalid},
        {"101 holds per user", {}, create_with([](auto& c) { c.max_holds_per_user = 101; }), invalid},
        {"100 holds per user", {}, create_with([](auto& c) { c.max_holds_per_user = 100; }), created},
        {"an existing concert", {create()}, create(), {"Refused CONCERT_EXISTS"}},
        {"an existing concert with another catalog", {create()},
         create_with([](auto& c) { c.title = "another"; }), {"Refused CONCERT_EXISTS"}},
        {"an existing concert, even with a bad catalog", {create()},
         create_with([](auto& c) { c.title.clear(); }), invalid},
        {"a second concert", {create()}, create(catalog(concert_id{8})), {"ConcertCreated c8"}},
    });
}

TEST_CASE("the API's defaults make a valid catalog", "[engine][catalog]") {
    create_concert c;
    c.concert = iu;
    c.title = "IU 2026";
    c.schedules = {{eve, 50, 80'000}};
    world w;
    CHECK(describe(w.run(create(c))) == std::vector<std::string>{"ConcertCreated c7"});
    const auto* concert = engine::find_concert(w.state(), iu);
    REQUIRE(concert != nullptr);
    CHECK(concert->config.queue.active_capacity == 100);
    CHECK(concert->config.queue.active_ttl_seconds == 600);
    CHECK(concert->config.hold_ttl_seconds == 300);
    CHECK(concert->config.max_holds_per_user == 4);
}

TEST_CASE("a created concert has every seat available, dates ascending", "[engine][catalog]") {
    world w;
    auto events = w.run(create());
    REQUIRE(events.size() == 1);
    CHECK(std::get<concert_created>(events[0].body).concert == catalog());
    const auto* concert = engine::find_concert(w.state(), iu);
    REQUIRE(concert != nullptr);
    REQUIRE(concert->dates.size() == 2);
    CHECK(concert->dates[0].date == eve);
    CHECK(concert->dates[0].price == eve_price);
    CHECK(concert->dates[1].date == christmas);
    for (std::uint32_t seat = 1; seat <= 3; ++seat) CHECK(w.seat(seat, eve) == seat_status::available);
    for (std::uint32_t seat = 1; seat <= 2; ++seat) CHECK(w.seat(seat, christmas) == seat_status::available);
}

TEST_CASE("a refused catalog changes nothing", "[engine][catalog]") {
    world w;
    w.run(create(catalog(concert_id{0})));
    CHECK(w.state().concerts.empty());
    CHECK(describe(w.run(create())) == std::vector<std::string>{"ConcertCreated c7"});
}

TEST_CASE("a concert routed to another partition is INVALID_REQUEST", "[engine][catalog]") {
    world w(4);
    std::uint32_t home = w.partition_of_concert(iu);
    std::uint32_t other = (home + 1) % 4;
    CHECK(describe(w.run_on(other, create())) == std::vector<std::string>{"Refused INVALID_REQUEST"});
    CHECK(w.state(other).concerts.empty());
    CHECK(describe(w.run_on(home, create())) == std::vector<std::string>{"ConcertCreated c7"});
}

TEST_CASE("users register in their wallet partition", "[engine][catalog]") {
    check_scenarios({
        {"a name", {}, register_as(u1, "kim"), {"UserRegistered u1 kim"}},
        {"no name", {}, register_as(u1, ""), {"UserRegistered u1 "}},
        {"a name of 64 characters", {}, register_as(u1, std::string(64, 'k')),
         {"UserRegistered u1 " + std::string(64, 'k')}},
        {"a name of 65 characters", {}, register_as(u1, std::string(65, 'k')), {"Refused INVALID_REQUEST"}},
        {"no user", {}, register_as(admin, "root"), {"Refused INVALID_REQUEST"}},
    });
    world w(4);
    std::uint32_t home = w.partition_of_user(u1);
    CHECK(describe(w.run_on((home + 1) % 4, register_as(u1, "kim"))) ==
          std::vector<std::string>{"Refused INVALID_REQUEST"});
    CHECK(describe(w.run(register_as(u1, "kim"))) == std::vector<std::string>{"UserRegistered u1 kim"});
    CHECK(w.state(home).wallets.contains(u1));  // the name is in the event, not the state
    CHECK(w.balance(u1) == 0);
}

}  // namespace encore::test
