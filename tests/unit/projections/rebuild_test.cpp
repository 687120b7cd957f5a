// The audit's rebuild of the outcomes: requests answered late, answered again, or answered by
// another partition than their own, each compared with a real store fed the same events.

#include <catch2/catch.hpp>

#include <vector>

#include "projections/rebuild.hpp"
#include "tests/unit/projections/harness.hpp"

namespace {

using namespace encore;
using namespace encore::test;

// An answer to `request` that changes no model but the outcome; `detail` tells two answers apart.
event answer(std::uint64_t sequence, log_position request, std::uint64_t detail) {
    event e;
    e.sequence = sequence;
    e.cause = request;
    e.answers = request;
    e.at = test_epoch + static_cast<time_ms>(sequence);
    e.body = refused{command_type::hold_seat, refusal::seat_taken, user_id{1}, detail};
    return e;
}

// Feeds `answers` (request, detail), in this order, to partition 0 of a real store and of a
// rebuild, and returns their differences.
std::vector<projections::model_difference> compare_after(const std::vector<std::pair<log_position, std::uint64_t>>& answers) {
    constexpr std::uint32_t partitions = 2;
    std::vector<event> events;
    for (const auto& [request, detail] : answers) events.push_back(answer(events.size(), request, detail));
    temp_directory directory;
    {
        auto models = open_models(directory.path("models"), partitions);
        REQUIRE(models->apply(0, events).ok());
    }
    projections::rebuilt_partition p0(0, events.size()), p1(1, 0);
    REQUIRE(p0.apply(events).ok());
    p0.finish();
    p1.finish();
    CHECK(p0.size() > 0);
    auto stored = projections::stored_models::open(directory.path("models"), partitions);
    REQUIRE(stored);
    const std::vector<const projections::rebuilt_partition*> rebuilt{&p0, &p1};
    auto differences = projections::compare(**stored, rebuilt, 2, {});
    REQUIRE(differences);
    return *differences;
}

log_position at(std::uint32_t partition, std::uint64_t offset) { return {partition, offset}; }

}  // namespace

TEST_CASE("the rebuild keeps each request's last answer, however late it comes") {
    std::vector<std::pair<log_position, std::uint64_t>> answers;
    for (std::uint64_t offset = 0; offset < 200; ++offset) answers.push_back({at(0, offset), 0});

    SECTION("answered in order") {
        CHECK(compare_after(answers).empty());
    }
    SECTION("a few answered again after later ones (a payment confirmed after its saga)") {
        answers.push_back({at(0, 3), 1});
        answers.push_back({at(0, 200), 0});
        answers.push_back({at(0, 3), 2});   // twice behind: the second wins
        answers.push_back({at(0, 150), 1});
        answers.push_back({at(0, 199), 1});
        answers.push_back({at(0, 201), 0});
        answers.push_back({at(0, 201), 1});  // again at once, in place
        CHECK(compare_after(answers).empty());
    }
    SECTION("answered late for the first time") {
        answers.erase(answers.begin() + 40);  // offset 40 answered only after 199
        answers.push_back({at(0, 40), 7});
        CHECK(compare_after(answers).empty());
    }
    SECTION("many behind: an answer to another partition's request early on") {
        answers.insert(answers.begin() + 10, {at(1, 5), 0});  // every later answer sorts below it
        answers.push_back({at(0, 20), 3});
        CHECK(compare_after(answers).empty());
    }
}

TEST_CASE("the rebuild's outcomes are compared value by value and key by key") {
    std::vector<std::pair<log_position, std::uint64_t>> answers;
    for (std::uint64_t offset = 0; offset < 50; ++offset) answers.push_back({at(0, offset), 0});
    answers.push_back({at(0, 10), 5});
    const std::vector<projections::model_difference> none = compare_after(answers);
    CHECK(none.empty());

    // The store applied the same events; a rebuild that kept the first answer of offset 10
    // instead of the last would differ there. Fed the answers without the last one, the store
    // disagrees with a rebuild fed all of them at exactly that key.
    constexpr std::uint32_t partitions = 2;
    std::vector<event> all, but_last;
    for (const auto& [request, detail] : answers) all.push_back(answer(all.size(), request, detail));
    but_last.assign(all.begin(), all.end() - 1);
    but_last.push_back(answer(all.size() - 1, at(0, 50), 0));  // the same count of events
    temp_directory directory;
    {
        auto models = open_models(directory.path("models"), partitions);
        REQUIRE(models->apply(0, but_last).ok());
    }
    projections::rebuilt_partition p0(0, all.size()), p1(1, 0);
    REQUIRE(p0.apply(all).ok());
    p0.finish();
    p1.finish();
    auto stored = projections::stored_models::open(directory.path("models"), partitions);
    REQUIRE(stored);
    const std::vector<const projections::rebuilt_partition*> rebuilt{&p0, &p1};
    auto differences = projections::compare(**stored, rebuilt, 2, {});
    REQUIRE(differences);
    REQUIRE(differences->size() == 1);
    // The first differing key of partition 0: offset 10's answer (offset 50 comes later in order).
    CHECK((*differences)[0].key == projections::printable_key(std::string("o") + std::string("\0\0\0\0", 4) +
                                                               std::string("\0\0\0\0\0\0\0\x0a", 8)));
    CHECK_THAT((*differences)[0].message, Catch::Contains("differs"));
}
