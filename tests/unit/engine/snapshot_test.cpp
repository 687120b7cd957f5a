// Snapshots: restore(snapshot(s)) behaves exactly like s (same hash, same bytes, same events for
// whatever comes next), equal states give equal bytes, and corrupt bytes are refused.

#include <catch2/catch.hpp>

#include "events/codec.hpp"
#include "harness.hpp"

namespace encore::test {

namespace {

concert_settings capacity(std::uint32_t n) {
    concert_settings s;
    s.set = concert_settings::active_capacity_field;
    s.active_capacity = n;
    return s;
}

// A world in the middle of everything: waiting users, holds, a payment in flight, a failed one,
// idempotency keys, wallets and names, over two partitions.
world busy_world() {
    world w(2);
    w.run_all({create(), create(catalog(concert_id{8})), register_as(u1, "kim"), register_as(u2, "lee"),
               with_key("c1", charge_as(u1, 300'000)), charge_as(u2, 10), enqueue_as(u1), enqueue_as(u2),
               enqueue_as(u3), enqueue_as(u4), enqueue_as(u1, concert_id{8}), with_key("h", hold(u1, 1, 1)),
               hold(u1, 1, 2, christmas), hold(u2, 2, 3), hold(u1, 1, 1, eve, concert_id{8}), pay(u2, held(3)),
               after(30, cancel(u1, held(2))),
               // The organizer's controls: a paused sale with a blocked seat, a changed and a longer concert.
               pause(concert_id{8}), block(concert_id{8}, christmas, {2}, true, "camera"),
               update(iu, capacity(3)), add_dates_to(iu, {{eve - 1, 4, 70'000}})});
    w.hold_messages = true;
    w.run(after(10, pay(u1, held(1))));
    return w;
}

// What happens next, the same in both worlds: deliveries, deadlines passing, more commands.
std::vector<std::string> continue_and_encode(world& w) {
    std::vector<event> events = w.deliver_one();
    auto append = [&events](std::vector<event> more) { events.insert(events.end(), more.begin(), more.end()); };
    append(w.run(after(280, tick())));
    append(w.deliver_all());
    w.hold_messages = false;
    append(w.run(hold(u3, 3, 3)));
    append(w.run(with_key("c1", charge_as(u1, 5))));
    append(w.run(after(700, enqueue_as(u5))));
    append(w.run(hold(u5, 5, 2)));
    append(w.run(after_ms(24LL * 3600 * 1000, with_key("c1", charge_as(u1, 5)))));
    std::vector<std::string> bytes;
    for (const event& e : events) bytes.push_back(encode(e));
    return bytes;
}

world restored_copy(world& w) {
    world copy = w;
    for (std::uint32_t p = 0; p < 2; ++p) {
        auto restored = engine::restore(engine::snapshot(w.state(p)));
        REQUIRE(restored.ok());
        copy.state(p) = std::move(*restored);
    }
    return copy;
}

}  // namespace

TEST_CASE("a restored state hashes and snapshots like the original", "[engine][snapshot]") {
    world w = busy_world();
    for (std::uint32_t p = 0; p < 2; ++p) {
        std::string bytes = engine::snapshot(w.state(p));
        auto restored = engine::restore(bytes);
        REQUIRE(restored.ok());
    CHECK((engine::snapshot(*restored) == bytes));  // not expanded: binary
        CHECK(engine::state_hash(*restored) == engine::state_hash(w.state(p)));
        CHECK(engine::state_hash(*restored).size() == 64);
    }
}

TEST_CASE("a restored state behaves exactly like the original", "[engine][snapshot]") {
    world original = busy_world();
    world restored = restored_copy(original);
    auto expected = continue_and_encode(original);
    auto actual = continue_and_encode(restored);
    CHECK(expected.size() > 10);
    CHECK(actual == expected);
    for (std::uint32_t p = 0; p < 2; ++p) {
        CHECK(engine::state_hash(restored.state(p)) == engine::state_hash(original.state(p)));
    }
}

TEST_CASE("an empty partition round-trips", "[engine][snapshot]") {
    partition_state s = engine::make_partition(3, 8);
    auto restored = engine::restore(engine::snapshot(s));
    REQUIRE(restored.ok());
    CHECK(restored->partition == 3);
    CHECK(restored->partitions == 8);
    CHECK(engine::state_hash(*restored) == engine::state_hash(s));
}

TEST_CASE("states that behave alike snapshot to the same bytes", "[engine][snapshot]") {
    // The same wallets and attendees reached in another order: unordered maps must not leak it.
    world a, b;
    a.run_all({create(), charge_as(u1, 10), charge_as(u2, 20), charge_as(u3, 30), register_as(u4, "park")});
    b.run_all({create(), register_as(u4, "park"), charge_as(u3, 30), charge_as(u2, 20), charge_as(u1, 10)});
    CHECK((engine::snapshot(a.state()) == engine::snapshot(b.state())));
    CHECK(engine::state_hash(a.state()) == engine::state_hash(b.state()));
    a.run(charge_as(u1, 1));
    CHECK(engine::state_hash(a.state()) != engine::state_hash(b.state()));
}

TEST_CASE("a corrupt snapshot is refused", "[engine][snapshot]") {
    world w = busy_world();
    std::string bytes = engine::snapshot(w.state(0));
    SECTION("every truncation") {
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            INFO("kept " << n << " of " << bytes.size());
            CHECK_FALSE(engine::restore(std::string_view(bytes).substr(0, n)).ok());
        }
    }
    SECTION("trailing bytes") { CHECK_FALSE(engine::restore(bytes + '\0').ok()); }
    SECTION("another magic") {
        std::string bad = bytes;
        bad[0] = static_cast<char>(bad[0] ^ 0x40);
        auto restored = engine::restore(bad);
        REQUIRE_FALSE(restored.ok());
        CHECK(restored.err().code == errc::corrupt);
    }
    SECTION("another format version: unavailable, so the runner replays the log instead") {
        std::string bad = bytes;
        bad[4] = static_cast<char>(bad[4] ^ 0x40);
        auto restored = engine::restore(bad);
        REQUIRE_FALSE(restored.ok());
        CHECK(restored.err().code == errc::unavailable);
    }
    SECTION("a partition outside its partition count") {
        std::string bad = bytes;
        bad[5] = 9;  // partition 9 of 2
        CHECK_FALSE(engine::restore(bad).ok());
    }
}

}  // namespace encore::test
