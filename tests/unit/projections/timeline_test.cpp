// Concert timelines and seat histories: the read models fed by the real engine, their queries'
// buckets, paging and bounds, and the audit's rebuild comparing them key by key.

#include <catch2/catch.hpp>

#include <rocksdb/db.h>

#include "projections/rebuild.hpp"
#include "tests/unit/projections/harness.hpp"

namespace {

using namespace encore;
using namespace encore::test;
using projections::seat_history_entry;
using projections::timeline_range;

const day_number christmas_eve = *days_from_civil(2026, 12, 24);
constexpr time_ms minute_ms = 60 * second_ms;

struct scene {
    explicit scene(std::uint32_t partitions = 2)
        : cluster(partitions), models(open_models(directory.path("models"), partitions)) {
        concert = id_in_partition<concert_id>(0, partitions, 1);
        kim = id_in_partition<user_id>(partitions - 1, partitions, 100);
        lee = id_in_partition<user_id>(partitions - 1, partitions, kim.value + 1);
        create_concert c;
        c.concert = concert;
        c.title = "IU 2026";
        c.venue = "Jamsil";
        c.schedules = {{christmas_eve, 10, 1'000}};
        c.queue = {1, 3'600};  // one active user at a time
        c.hold_ttl_seconds = 150;
        cluster.submit(user_id{}, c);
        cluster.submit(kim, register_user{"kim"});
        cluster.submit(kim, charge{10'000});
        cluster.submit(lee, register_user{"lee"});
    }
    void project() { cluster.project(*models); }
    std::uint64_t join(user_id u) {
        auto at = cluster.submit(u, enqueue{concert});
        return std::get<queue_joined>(cluster.answer_to(at)->body).ticket;
    }
    reservation_id hold(user_id u, std::uint64_t ticket, std::uint32_t seat) {
        auto at = cluster.submit(u, hold_seat{concert, ticket, christmas_eve, seat});
        const event* answer = cluster.answer_to(at);
        REQUIRE(answer != nullptr);
        REQUIRE(std::holds_alternative<seat_held>(answer->body));
        return std::get<seat_held>(answer->body).reservation.id;
    }

    temp_directory directory;
    engine_cluster cluster;
    std::unique_ptr<projections::read_models> models;
    concert_id concert;
    user_id kim, lee;
};

timeline_range minutes(std::optional<time_ms> from = {}, std::optional<time_ms> to = {}) {
    return {minute_ms, from, to};
}

}  // namespace

TEST_CASE("the timeline counts the queue, holds and sales per bucket of partition time") {
    scene s;
    // Minute 0: the concert; kim joins and is admitted at once, lee waits behind.
    const std::uint64_t kim_ticket = s.join(s.kim);
    s.cluster.advance(5 * second_ms);
    s.join(s.lee);
    // Minute 1: kim holds two seats and cancels one.
    s.cluster.advance(minute_ms);
    const reservation_id paid = s.hold(s.kim, kim_ticket, 1);
    const reservation_id cancelled = s.hold(s.kim, kim_ticket, 2);
    s.cluster.submit(s.kim, cancel_hold{cancelled});
    // Minute 3 (2 is empty): a third hold, then kim pays for the first; paying completes kim's
    // queue visit, which admits lee.
    s.cluster.advance(2 * minute_ms);
    s.hold(s.kim, kim_ticket, 3);
    const log_position pay_request = s.cluster.submit(s.kim, pay{paid});
    REQUIRE(s.cluster.answer_to(pay_request) != nullptr);
    if (auto* r = std::get_if<refused>(&s.cluster.answer_to(pay_request)->body)) FAIL("refused " << static_cast<int>(r->reason));
    REQUIRE(to_string(s.cluster.answer_to(pay_request)->type()) == std::string_view("PaymentConfirmed"));
    // Minute 5 (4 is empty): the third hold expires (150 s).
    s.cluster.advance(151 * second_ms);
    s.cluster.tick(0);
    s.project();

    auto t = s.models->concert_timeline(s.concert, minutes());
    REQUIRE(t);
    CHECK_FALSE(t->next_from);
    REQUIRE(t->buckets.size() == 6);
    for (std::size_t i = 0; i < t->buckets.size(); ++i) CHECK(t->buckets[i].start == test_epoch + static_cast<time_ms>(i) * minute_ms);
    const auto& b = t->buckets;
    CHECK(b[0].queue_joined == 2);
    CHECK(b[0].queue_admitted == 1);
    CHECK(b[0].waiting_at_end == 1);
    CHECK(b[1].holds_placed == 2);
    CHECK(b[1].holds_cancelled == 1);
    CHECK(b[1].waiting_at_end == 1);
    CHECK(b[2].holds_placed == 0);
    CHECK(b[2].waiting_at_end == 1);  // carried: nothing happened
    CHECK(b[3].holds_placed == 1);
    CHECK(b[3].seats_sold == 1);
    CHECK(b[3].revenue == 1'000);
    CHECK(b[3].queue_admitted == 1);
    CHECK(b[3].waiting_at_end == 0);
    CHECK(b[4].holds_expired == 0);
    CHECK(b[4].holds_placed == 0);
    CHECK(b[5].holds_expired == 1);
    for (const auto& bucket : b) CHECK(bucket.refunds == 0);

    // Totals agree with the analytics whatever the bucket size.
    for (time_ms size : {10 * second_ms, minute_ms, 3'600 * second_ms, 86'400 * second_ms}) {
        auto whole = s.models->concert_timeline(s.concert, {size, {}, {}});
        REQUIRE(whole);
        std::uint64_t placed = 0, expired = 0, cancelled_count = 0, sold = 0, joined = 0, admitted = 0;
        won revenue = 0;
        for (const auto& bucket : whole->buckets) {
            CHECK(bucket.start % size == 0);
            placed += bucket.holds_placed;
            expired += bucket.holds_expired;
            cancelled_count += bucket.holds_cancelled;
            sold += bucket.seats_sold;
            joined += bucket.queue_joined;
            admitted += bucket.queue_admitted;
            revenue += bucket.revenue;
        }
        auto a = s.models->analytics(s.concert);
        CHECK(placed == a->dates[0].holds_placed);
        CHECK(expired == a->dates[0].holds_expired);
        CHECK(cancelled_count == a->dates[0].holds_cancelled);
        CHECK(sold == a->dates[0].sold);
        CHECK(revenue == a->dates[0].revenue);
        CHECK(joined == 2);
        CHECK(admitted == a->admitted_total);
        CHECK(whole->buckets.back().waiting_at_end == a->waiting);
    }

    SECTION("from and to select whole buckets, and a range with no events carries the queue") {
        auto middle = s.models->concert_timeline(s.concert, minutes(test_epoch + minute_ms + 30 * second_ms,
                                                                    test_epoch + 3 * minute_ms));
        REQUIRE(middle);
        REQUIRE(middle->buckets.size() == 2);
        CHECK(middle->buckets[0].start == test_epoch + minute_ms);
        CHECK(middle->buckets[0].holds_placed == 2);
        CHECK(middle->buckets[1].waiting_at_end == 1);
        auto later = s.models->concert_timeline(s.concert, minutes(test_epoch + 60 * minute_ms,
                                                                   test_epoch + 62 * minute_ms));
        REQUIRE(later->buckets.size() == 2);
        CHECK(later->buckets[0].holds_placed == 0);
        CHECK(later->buckets[1].waiting_at_end == 0);
        auto before = s.models->concert_timeline(s.concert, minutes(test_epoch - 2 * minute_ms, test_epoch));
        REQUIRE(before->buckets.size() == 2);
        CHECK(before->buckets[1].queue_joined == 0);
        CHECK(s.models->concert_timeline(s.concert, minutes(test_epoch, test_epoch))->buckets.empty());
    }

    SECTION("a range longer than the limit is answered in pages") {
        const time_ms to = test_epoch + 15'000 * minute_ms;
        auto first = s.models->concert_timeline(s.concert, minutes(test_epoch, to));
        REQUIRE(first->buckets.size() == projections::timeline_buckets_max);
        REQUIRE(first->next_from);
        CHECK(*first->next_from == test_epoch + 10'000 * minute_ms);
        CHECK(first->buckets[3].seats_sold == 1);
        auto second = s.models->concert_timeline(s.concert, minutes(first->next_from, to));
        CHECK(second->buckets.size() == 5'000);
        CHECK(second->buckets.front().waiting_at_end == 0);
        CHECK_FALSE(second->next_from);
        CHECK(second->buckets.front().start == *first->next_from);
    }

    SECTION("a restart keeps the timeline") {
        s.models.reset();
        s.models = open_models(s.directory.path("models"), 2);
        auto again = s.models->concert_timeline(s.concert, minutes());
        REQUIRE(again->buckets.size() == 6);
        CHECK(again->buckets[3].revenue == 1'000);
    }

    CHECK_FALSE(s.models->concert_timeline(concert_id{s.concert.value + 2}, minutes()));
}

TEST_CASE("a seat's history lists holds, cancels, expiries and the sale, oldest first, a page at a time") {
    scene s;
    const std::uint64_t ticket = s.join(s.kim);
    const reservation_id first = s.hold(s.kim, ticket, 4);
    s.cluster.advance(second_ms);
    s.cluster.submit(s.kim, cancel_hold{first});
    s.cluster.advance(second_ms);
    const reservation_id second = s.hold(s.kim, ticket, 4);
    s.cluster.advance(151 * second_ms);
    s.cluster.tick(0);
    s.cluster.advance(second_ms);
    const reservation_id third = s.hold(s.kim, ticket, 4);
    s.hold(s.kim, ticket, 5);  // another seat: not in seat 4's history
    s.cluster.submit(s.kim, pay{third});
    s.project();

    // A seat's history page; the read itself must succeed.
    auto history = [&](day_number d, std::uint32_t seat, std::string_view after, std::size_t limit) {
        auto read = s.models->seat_history_page(s.concert, d, seat, after, limit);
        REQUIRE(read);
        return *read;
    };
    auto all = history(christmas_eve, 4, "", 100);
    REQUIRE(all);
    CHECK(all->next.empty());
    using kind = seat_history_entry::kind;
    const std::vector<std::pair<kind, reservation_id>> expected = {
        {kind::held, first}, {kind::cancelled, first}, {kind::held, second},
        {kind::expired, second}, {kind::held, third}, {kind::sold, third}};
    REQUIRE(all->items.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO(i);
        CHECK(all->items[i].type == expected[i].first);
        CHECK(all->items[i].reservation == expected[i].second);
        CHECK(all->items[i].user == s.kim);
        if (i > 0) CHECK(all->items[i].at >= all->items[i - 1].at);
    }
    CHECK(all->items[0].at == test_epoch);
    CHECK(all->items[1].at == test_epoch + second_ms);

    // Pages of 4: 4, then 2 and no cursor; the pages join up to the whole list.
    auto page1 = history(christmas_eve, 4, "", 4);
    REQUIRE(page1->items.size() == 4);
    REQUIRE_FALSE(page1->next.empty());
    auto page2 = history(christmas_eve, 4, page1->next, 4);
    REQUIRE(page2->items.size() == 2);
    CHECK(page2->next.empty());
    CHECK(page2->items[0].type == kind::held);
    CHECK(page2->items[0].reservation == third);
    // An exact multiple: the last full page still has a cursor, which leads to an empty page.
    auto half = history(christmas_eve, 4, "", 3);
    auto rest = history(christmas_eve, 4, half->next, 3);
    CHECK(rest->items.size() == 3);

    CHECK(history(christmas_eve, 6, "", 10)->items.empty());
    CHECK_FALSE(history(christmas_eve, 0, "", 10));
    CHECK_FALSE(history(christmas_eve, 11, "", 10));
    CHECK_FALSE(history(christmas_eve + 1, 4, "", 10));
    auto unknown = s.models->seat_history_page(concert_id{s.concert.value + 2}, christmas_eve, 4, "", 10);
    REQUIRE(unknown);
    CHECK_FALSE(*unknown);
}

TEST_CASE("the audit's rebuild compares timelines and seat histories key by key") {
    scene s;
    const std::uint64_t ticket = s.join(s.kim);
    const reservation_id held = s.hold(s.kim, ticket, 1);
    s.cluster.submit(s.kim, pay{held});
    s.project();
    s.models.reset();

    auto rebuild = [&] {
        std::vector<std::unique_ptr<projections::rebuilt_partition>> parts;
        std::vector<const projections::rebuilt_partition*> pointers;
        for (std::uint32_t p = 0; p < s.cluster.partitions(); ++p) {
            auto part = std::make_unique<projections::rebuilt_partition>(p, s.cluster.events(p).size());
            REQUIRE(part->apply(s.cluster.events(p)).ok());
            part->finish();
            pointers.push_back(part.get());
            parts.push_back(std::move(part));
        }
        auto stored = projections::stored_models::open(s.directory.path("models"), s.cluster.partitions());
        REQUIRE(stored);
        auto differences = projections::compare(**stored, pointers, 2, {});
        REQUIRE(differences);
        return *differences;
    };
    CHECK(rebuild().empty());

    // Change one timeline bucket and one seat history entry behind the read models' back.
    auto change_first = [&](char tag) {
        rocksdb::DB* raw = nullptr;
        REQUIRE(rocksdb::DB::Open(rocksdb::Options(), s.directory.path("models"), &raw).ok());
        std::unique_ptr<rocksdb::DB> db(raw);
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
        it->Seek(std::string(1, tag));
        REQUIRE(it->Valid());
        REQUIRE(it->key()[0] == tag);
        std::string value = it->value().ToString();
        value[0] = static_cast<char>(value[0] ^ 1);
        REQUIRE(db->Put(rocksdb::WriteOptions(), it->key(), value).ok());
    };
    SECTION("a timeline bucket") {
        change_first('t');
        auto d = rebuild();
        REQUIRE(d.size() == 1);
        CHECK(d[0].key.starts_with("t "));
    }
    SECTION("a seat history entry") {
        change_first('H');
        auto d = rebuild();
        REQUIRE(d.size() == 1);
        CHECK(d[0].key.starts_with("H "));
    }
}

TEST_CASE("a store of an older layout is refused, or emptied and rebuilt when asked") {
    temp_directory directory;
    {
        auto models = open_models(directory.path("models"), 1);
        engine_cluster cluster(1);
        cluster.submit(id_in_partition<user_id>(0, 1, 100), register_user{"kim"});
        cluster.project(*models);
        REQUIRE(models->applied_sequence(0) > 0);
    }
    {
        rocksdb::DB* raw = nullptr;
        REQUIRE(rocksdb::DB::Open(rocksdb::Options(), directory.path("models"), &raw).ok());
        std::unique_ptr<rocksdb::DB> db(raw);
        const char one[4] = {1, 0, 0, 0};
        REQUIRE(db->Put(rocksdb::WriteOptions(), "mlayout", rocksdb::Slice(one, 4)).ok());
    }
    projections::options o;
    o.directory = directory.path("models");
    o.partitions = 1;
    auto refused = projections::read_models::open(o);
    REQUIRE_FALSE(refused);
    CHECK(refused.err().code == errc::invalid);
    o.rebuild_other_layout = true;
    auto rebuilt = projections::read_models::open(o);
    REQUIRE(rebuilt);
    CHECK((*rebuilt)->applied_sequence(0) == 0);
    CHECK_FALSE((*rebuilt)->user_exists(id_in_partition<user_id>(0, 1, 100)));
}

// A long onsale: one fan joins the queue in each of 120,000 fine buckets (almost 14 days of
// partition time), and every thousandth of them holds a seat, then pays, pays and is refunded,
// cancels, or lets the hold expire. Whatever the bucket size, a query returns at most
// timeline_buckets_max buckets and reads at most timeline_fine_buckets_read_max fine buckets (plus
// those of the bucket it is in), ends at a bucket boundary with next_from, and the pages that
// next_from leads to cover the whole range exactly once, adding up to the analytics.
TEST_CASE("a timeline of more fine buckets than a query reads is answered in bounded pages that add up to the analytics") {
    using projections::timeline_buckets_max;
    using projections::timeline_bucket_ms;
    using projections::timeline_fine_buckets_read_max;
    constexpr std::size_t fine_buckets = 120'000;
    constexpr std::size_t holder_every = 1'000;
    static_assert(fine_buckets > timeline_fine_buckets_read_max && fine_buckets > timeline_buckets_max);

    temp_directory directory;
    engine_cluster cluster(1);
    auto models = open_models(directory.path("models"), 1);
    const concert_id concert{1};
    create_concert c;
    c.concert = concert;
    c.title = "IU 2026";
    c.venue = "Jamsil";
    c.schedules = {{christmas_eve, 200, 1'000}};
    c.queue = {10, 60};  // a join every 10 s, each active for 60 s: every fan is admitted as they join
    c.hold_ttl_seconds = 150;
    c.options.refunds_until = test_epoch + 365 * 86'400 * second_ms;
    REQUIRE(std::holds_alternative<concert_created>(cluster.answer_to(cluster.submit(user_id{}, c))->body));

    for (std::size_t i = 0; i < fine_buckets; ++i) {
        const user_id fan{1'000 + i};
        if (i % holder_every != 0) {
            cluster.submit(fan, enqueue{concert});
        } else {
            cluster.submit(fan, register_user{"fan"});
            cluster.submit(fan, charge{1'000});
            const event* joined = cluster.answer_to(cluster.submit(fan, enqueue{concert}));
            REQUIRE(joined != nullptr);
            const auto& ticket = std::get<queue_joined>(joined->body);
            REQUIRE(ticket.status == queue_status::active);
            const event* held = cluster.answer_to(
                cluster.submit(fan, hold_seat{concert, ticket.ticket, christmas_eve, static_cast<std::uint32_t>(1 + i / holder_every)}));
            REQUIRE(held != nullptr);
            REQUIRE(std::holds_alternative<seat_held>(held->body));
            const reservation_id r = std::get<seat_held>(held->body).reservation.id;
            switch (i / holder_every % 4) {
                case 0: cluster.submit(fan, pay{r}); break;
                case 1:
                    cluster.submit(fan, pay{r});
                    cluster.submit(fan, refund{r});
                    break;
                case 2: cluster.submit(fan, cancel_hold{r}); break;
                default: break;  // expires 150 s later, at the next join after that
            }
        }
        cluster.advance(timeline_bucket_ms);
    }
    cluster.project(*models);

    const auto a = models->analytics(concert);
    REQUIRE(a);
    const auto& d = a->dates.at(0);
    // The scene is what it says: 120 holds, 30 of each fate.
    REQUIRE(d.holds_placed == fine_buckets / holder_every);
    REQUIRE(d.sold == 30);
    REQUIRE(d.refunds == 30);
    REQUIRE(d.holds_cancelled == 30);
    REQUIRE(d.holds_expired == 30);
    REQUIRE(d.revenue == 30 * 1'000);
    REQUIRE(a->admitted_total == fine_buckets);
    const time_ms last_end = test_epoch + static_cast<time_ms>(fine_buckets) * timeline_bucket_ms;

    struct walked {
        std::size_t pages = 0, buckets = 0, first_page_buckets = 0;
        std::uint64_t joined = 0, admitted = 0, placed = 0, expired = 0, cancelled = 0, sold = 0, refunds = 0;
        won revenue = 0;
        time_ms end = 0;  // where the last page's last bucket ends
    };
    // Follows next_from from `from` to the end, checking every page's bounds.
    auto walk = [&](time_ms size, std::optional<time_ms> from, std::optional<time_ms> to) {
        INFO("buckets of " << size / second_ms << " s");
        const std::size_t fine_per_bucket = static_cast<std::size_t>(size / timeline_bucket_ms);
        timeline_range range{size, from, to};
        walked w;
        std::optional<time_ms> expected_start;
        for (;;) {
            INFO("page " << w.pages);
            REQUIRE(w.pages < 1'000);
            auto t = models->concert_timeline(concert, range);
            REQUIRE(t);
            ++w.pages;
            REQUIRE_FALSE(t->buckets.empty());
            CHECK(t->buckets.size() <= timeline_buckets_max);
            if (w.pages == 1) w.first_page_buckets = t->buckets.size();
            if (!expected_start) expected_start = t->buckets.front().start;
            std::uint64_t fine_read = 0;  // every fine bucket of the scene has exactly one join
            for (const auto& b : t->buckets) {
                REQUIRE(b.start == *expected_start);  // consecutive, across pages too
                *expected_start += size;
                fine_read += b.queue_joined;
                w.joined += b.queue_joined;
                w.admitted += b.queue_admitted;
                w.placed += b.holds_placed;
                w.expired += b.holds_expired;
                w.cancelled += b.holds_cancelled;
                w.sold += b.seats_sold;
                w.refunds += b.refunds;
                w.revenue += b.revenue;
                CHECK(b.waiting_at_end == 0);
            }
            w.buckets += t->buckets.size();
            CHECK(fine_read <= timeline_fine_buckets_read_max + fine_per_bucket);
            if (!t->next_from) break;
            // Cut short only at a bound, at a bucket boundary: the next page's from.
            CHECK((t->buckets.size() == timeline_buckets_max || fine_read >= timeline_fine_buckets_read_max));
            CHECK(*t->next_from == *expected_start);
            CHECK(*t->next_from % size == 0);
            range.from = t->next_from;
        }
        w.end = *expected_start;
        return w;
    };
    auto check_totals = [&](const walked& w, std::uint64_t joined) {
        CHECK(w.joined == joined);
        CHECK(w.admitted == joined);
        CHECK(w.placed == d.holds_placed);
        CHECK(w.expired == d.holds_expired);
        CHECK(w.cancelled == d.holds_cancelled);
        // A bucket counts the sales and the refunds in it; the analytics, the seats sold now.
        CHECK(w.sold - w.refunds == d.sold);
        CHECK(w.refunds == d.refunds);
        CHECK(w.revenue == d.revenue);  // net of refunds in both
    };

    {  // 10 s buckets: capped at timeline_buckets_max, 12 pages of them
        auto first = models->concert_timeline(concert, {timeline_bucket_ms, {}, {}});
        REQUIRE(first);
        CHECK(first->buckets.size() == timeline_buckets_max);
        REQUIRE(first->next_from);
        CHECK(*first->next_from == test_epoch + static_cast<time_ms>(timeline_buckets_max) * timeline_bucket_ms);
        const walked w = walk(timeline_bucket_ms, {}, {});
        CHECK(w.pages == fine_buckets / timeline_buckets_max);
        CHECK(w.buckets == fine_buckets);
        CHECK(w.end == last_end);
        check_totals(w, fine_buckets);
    }
    {  // hours and days: under the bucket cap, cut by the fine buckets read
        for (time_ms size : {3'600 * second_ms, 86'400 * second_ms}) {
            const std::size_t per = static_cast<std::size_t>(size / timeline_bucket_ms);
            const walked w = walk(size, {}, {});
            CHECK(w.pages == 2);
            // The first page ends with the bucket holding the read bound's last fine bucket.
            CHECK(w.first_page_buckets == (timeline_fine_buckets_read_max + per - 1) / per);
            CHECK(w.buckets == (fine_buckets + per - 1) / per);
            CHECK(w.first_page_buckets < w.buckets);
            CHECK(w.end >= last_end);
            CHECK(w.end - size < last_end);
            check_totals(w, fine_buckets);
        }
    }
    {  // an explicit range past the last event: empty buckets, still capped and paged
        const time_ms to = last_end + 30'000 * timeline_bucket_ms;
        const walked w = walk(timeline_bucket_ms, test_epoch, to);
        CHECK(w.buckets == fine_buckets + 30'000);
        CHECK(w.pages == (fine_buckets + 30'000) / timeline_buckets_max);
        CHECK(w.end == to);
        check_totals(w, fine_buckets);
    }
    {  // from the middle (a minute boundary): the pages add up to what happened from there
        constexpr std::size_t skipped = 59'940;  // 60,060 fine buckets: 10,010 minutes, two pages
        const walked w = walk(60 * second_ms, test_epoch + static_cast<time_ms>(skipped) * timeline_bucket_ms, {});
        CHECK(w.joined == fine_buckets - skipped);
        CHECK(w.buckets == (fine_buckets - skipped) / 6);
        CHECK(w.pages == 2);
        CHECK(w.placed == (fine_buckets - skipped) / holder_every);
    }
}
