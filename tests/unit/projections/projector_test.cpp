// The projector between the real embedded event log and real read models, each on a fresh temporary
// directory. No test asserts on time: waits are generous upper bounds that only matter on a hang.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "events/chain.hpp"
#include "events/codec.hpp"
#include "events/log/embedded_log.hpp"
#include "projections/projector.hpp"
#include "tests/support/eventually.hpp"
#include "tests/unit/projections/harness.hpp"

namespace {

using namespace encore;
using namespace encore::test;
using namespace std::chrono_literals;

constexpr auto hang_wait = 30s;

std::unique_ptr<embedded_log> open_log(const std::string& directory, std::uint32_t partitions) {
    embedded_log_options o;
    o.directory = directory;
    o.partitions = partitions;
    o.sync = false;
    auto opened = embedded_log::open(o);
    if (!opened) FAIL("log open failed: " << opened.err().message);
    return std::move(opened).value();
}

// Plays the partition runner's part: seals each new event onto its partition's hash chain and
// appends it to the event log.
class event_writer {
public:
    explicit event_writer(log_stream& log) : log_(log), links_(log.partitions(), chain_genesis), written_(log.partitions()) {}

    void publish(const engine_cluster& cluster) {
        for (std::uint32_t p = 0; p < cluster.partitions(); ++p) {
            const auto& events = cluster.events(p);
            std::vector<std::string> records;
            for (std::size_t i = written_[p]; i < events.size(); ++i) {
                std::string bytes = encode(events[i]);
                links_[p] = chain_next(links_[p], bytes);
                records.push_back(seal(links_[p], bytes));
            }
            if (records.empty()) continue;
            written_[p] = events.size();
            append(p, std::move(records));
        }
    }
    void append(std::uint32_t p, std::vector<std::string> records) {
        auto appended = log_.append_and_wait(p, std::move(records));
        if (!appended) FAIL("append failed: " << appended.err().message);
    }

private:
    log_stream& log_;
    std::vector<chain_link> links_;
    std::vector<std::size_t> written_;
};

// Collects what the projector reports, for the test thread to wait on.
class listener_log {
public:
    projections::projected_listener listener() {
        return [this](std::uint32_t partition, std::span<const event> events) {
            std::lock_guard lock(mutex_);
            for (const event& e : events) seen_[partition].push_back(e.sequence);
            changed_.notify_all();
        };
    }
    bool wait_for(std::uint32_t partition, std::size_t count) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, hang_wait, [&] { return seen_[partition].size() >= count; });
    }
    std::vector<std::uint64_t> seen(std::uint32_t partition) {
        std::lock_guard lock(mutex_);
        return seen_[partition];
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::uint32_t, std::vector<std::uint64_t>> seen_;
};

std::vector<std::uint64_t> iota(std::uint64_t from, std::uint64_t to) {
    std::vector<std::uint64_t> out;
    for (std::uint64_t v = from; v < to; ++v) out.push_back(v);
    return out;
}

create_concert small_concert(concert_id id) {
    create_concert c;
    c.concert = id;
    c.title = "IU 2026";
    c.venue = "Jamsil";
    c.schedules = {{*days_from_civil(2026, 12, 24), 50, 80'000}};
    return c;
}

}  // namespace

TEST_CASE("the projector follows the event log of every partition and resumes after a restart") {
    temp_directory directory;
    auto log = open_log(directory.path("log"), 2);
    event_writer writer(log->events());
    engine_cluster cluster(2);
    concert_id concert = id_in_partition<concert_id>(0, 2, 1);
    user_id kim = id_in_partition<user_id>(1, 2, 100);
    const day_number eve = *days_from_civil(2026, 12, 24);

    // Some events exist before the projector starts, some arrive while it runs.
    cluster.submit(user_id{}, small_concert(concert));
    cluster.submit(kim, register_user{"kim"});
    cluster.submit(kim, charge{100'000});
    writer.publish(cluster);

    auto models = open_models(directory.path("models"), 2);
    listener_log heard;
    {
        projections::projector projector(log->events(), *models, heard.listener());
        CHECK_FALSE(projector.caught_up());
        CHECK(projector.lag() == 3);
        projector.start();
        REQUIRE(heard.wait_for(0, 1));
        REQUIRE(heard.wait_for(1, 2));
        CHECK(projector.caught_up());
        CHECK(projector.lag() == 0);
        CHECK(models->concert(concert));
        CHECK(models->balance(kim) == 100'000);

        log_position join = cluster.submit(kim, enqueue{concert});
        std::uint64_t ticket = std::get<queue_joined>(cluster.answer_to(join)->body).ticket;
        log_position hold = cluster.submit(kim, hold_seat{concert, ticket, eve, 9});
        reservation_id held = std::get<seat_held>(cluster.answer_to(hold)->body).reservation.id;
        log_position paid = cluster.submit(kim, pay{held});
        writer.publish(cluster);
        REQUIRE(heard.wait_for(0, cluster.events(0).size()));
        REQUIRE(heard.wait_for(1, cluster.events(1).size()));
        // The listener runs after the events are visible: the answer is there to read.
        auto outcome = outcome_of(*models, paid);
        REQUIRE(outcome);
        CHECK(outcome->type() == event_type::payment_confirmed);
        CHECK((*models->seats(concert, eve, false))[8].status == seat_status::sold);
        CHECK(models->balance(kim) == 20'000);
        CHECK(projector.caught_up());
        projector.stop();
        CHECK_FALSE(projector.failed());
    }
    // Each partition's events were reported once, in order.
    CHECK(heard.seen(0) == iota(0, cluster.events(0).size()));
    CHECK(heard.seen(1) == iota(0, cluster.events(1).size()));

    // Restart: the read models remember where they were; only new events are projected.
    models.reset();
    models = open_models(directory.path("models"), 2);
    cluster.submit(kim, charge{1});
    writer.publish(cluster);
    listener_log after_restart;
    projections::projector projector(log->events(), *models, after_restart.listener());
    CHECK(projector.lag() == 1);
    projector.start();
    REQUIRE(after_restart.wait_for(1, 1));
    CHECK(after_restart.seen(1) == std::vector<std::uint64_t>{cluster.events(1).size() - 1});
    CHECK(after_restart.seen(0).empty());
    CHECK(models->balance(kim) == 20'001);
    REQUIRE(eventually(hang_wait, [&] { return projector.caught_up(); }));
    projector.stop();
}

TEST_CASE("a corrupt record stops its partition's projection without crashing, and others go on") {
    temp_directory directory;
    auto log = open_log(directory.path("log"), 2);
    event_writer writer(log->events());
    engine_cluster cluster(2);
    user_id kim = id_in_partition<user_id>(0, 2, 100);
    user_id lee = id_in_partition<user_id>(1, 2, 100);
    cluster.submit(kim, charge{10});
    cluster.submit(lee, charge{20});
    writer.publish(cluster);

    auto models = open_models(directory.path("models"), 2);
    listener_log heard;
    projections::projector projector(log->events(), *models, heard.listener());
    projector.start();
    REQUIRE(heard.wait_for(0, 1));
    REQUIRE(heard.wait_for(1, 1));

    // Each section appends one kind of bad record to partition 1; the checks run inside it, so
    // that each section asserts what it is about.
    const auto partition_1_stops = [&](const std::string& bad_record) {
        writer.append(1, {bad_record});
        REQUIRE(eventually(hang_wait, [&] { return projector.failed(); }));
        CHECK_FALSE(projector.caught_up());
        CHECK(projector.lag() == 1);
        CHECK(models->applied_sequence(1) == 1);

        // Partition 0 is still projected.
        cluster.submit(kim, charge{5});
        writer.publish(cluster);
        REQUIRE(heard.wait_for(0, 2));
        CHECK(models->balance(kim) == 15);
    };
    SECTION("too short to hold a chain link") { partition_1_stops("short"); }
    SECTION("a chain link and bytes that do not decode") { partition_1_stops(seal(chain_genesis, "not an event")); }
    SECTION("an event at the wrong offset") {
        event stray = cluster.events(1)[0];
        stray.sequence = 7;
        partition_1_stops(seal(chain_genesis, encode(stray)));
    }
    projector.stop();
}

TEST_CASE("stop joins promptly with nothing to read, and start after stop resumes") {
    temp_directory directory;
    auto log = open_log(directory.path("log"), 3);
    auto models = open_models(directory.path("models"), 3);
    projections::projector projector(log->events(), *models, nullptr);
    CHECK(projector.caught_up());  // an empty log is caught up
    projector.start();
    projector.stop();
    projector.stop();  // a second stop is harmless

    event_writer writer(log->events());
    engine_cluster cluster(3);
    user_id kim = id_in_partition<user_id>(2, 3, 100);
    cluster.submit(kim, charge{10});
    writer.publish(cluster);
    projector.start();
    REQUIRE(eventually(hang_wait, [&] { return projector.caught_up(); }));
    CHECK(models->balance(kim) == 10);
}

TEST_CASE("queries from other threads while the projector applies see consistent seat maps") {
    temp_directory directory;
    auto log = open_log(directory.path("log"), 2);
    event_writer writer(log->events());
    engine_cluster cluster(2);
    concert_id concert = id_in_partition<concert_id>(1, 2, 1);
    const day_number eve = *days_from_civil(2026, 12, 24);
    create_concert c = small_concert(concert);
    c.schedules = {{eve, 2'000, 1'000}};
    c.max_holds_per_user = 100;
    cluster.submit(user_id{}, c);
    writer.publish(cluster);

    auto models = open_models(directory.path("models"), 2);
    projections::projector projector(log->events(), *models, nullptr);
    projector.start();

    std::atomic<bool> done{false};
    std::atomic<int> inconsistencies{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) {
        readers.emplace_back([&] {
            while (!done.load()) {
                if (auto d = models->date(concert, eve)) {
                    if (d->available_seats + d->held_seats + d->sold_seats != d->total_seats) ++inconsistencies;
                }
                if (auto seats = models->seats(concert, eve, false); seats && seats->size() != 2'000) ++inconsistencies;
                (void)models->concerts();
                (void)models->waiting_total();
            }
        });
    }
    // 100 users each hold 10 seats and cancel every other hold, in 10 appends.
    for (int round = 0; round < 10; ++round) {
        for (std::uint64_t i = 0; i < 10; ++i) {
            user_id u{1'000 + round * 10 + i};
            auto join = cluster.submit(u, enqueue{concert});
            std::uint64_t ticket = std::get<queue_joined>(cluster.answer_to(join)->body).ticket;
            for (std::uint32_t k = 0; k < 10; ++k) {
                auto seat = static_cast<std::uint32_t>(1 + (round * 10 + i) * 10 + k);
                auto hold = cluster.submit(u, hold_seat{concert, ticket, eve, seat});
                if (k % 2 != 0) continue;
                reservation_id held = std::get<seat_held>(cluster.answer_to(hold)->body).reservation.id;
                cluster.submit(u, cancel_hold{held});
            }
        }
        writer.publish(cluster);
    }
    REQUIRE(eventually(hang_wait, [&] { return projector.caught_up(); }));
    done.store(true);
    for (auto& t : readers) t.join();
    projector.stop();
    CHECK(inconsistencies.load() == 0);
    auto d = models->date(concert, eve);
    CHECK(d->held_seats == 500);
    CHECK(d->available_seats == 1'500);
    CHECK(models->seats(concert, eve, true)->size() == 1'500);
    CHECK(models->analytics(concert)->dates[0].holds_cancelled == 500);
}
