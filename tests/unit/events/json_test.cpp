// Spot checks of the JSON rendering people read (`encore events`, audits): ids in text form,
// dates and instants as API.md spells them, codes by name, absent values as null.

#include <catch2/catch.hpp>

#include "events/json.hpp"
#include "samples.hpp"

using namespace encore;
using namespace encore::test;
using nlohmann::json;

namespace {

const event& sample_event(event_type t) {
    static const std::vector<event> events = sample_events();
    return events.at(static_cast<std::size_t>(t));
}

}  // namespace

TEST_CASE("a command renders its type, meta and body", "[json]") {
    command c = sample_commands().at(static_cast<std::size_t>(command_type::hold_seat));
    json j = to_json(c);
    CHECK(j["type"] == "HoldSeat");
    CHECK(j["accepted_at"] == "2026-12-24T19:00:00.000Z");
    CHECK(j["user"] == "u-00000000000004d2");
    CHECK(j["idempotency_key"] == "key-1");
    CHECK(j["origin"].is_null());
    CHECK(j["concert"] == "c-0000000000c0ffee");
    CHECK(j["ticket"] == 9);
    CHECK(j["date"] == "2026-12-24");
    CHECK(j["seat"] == 17);
}

TEST_CASE("a catalog renders its schedules with dates", "[json]") {
    json j = to_json(sample_commands().at(0));
    CHECK(j["type"] == "CreateConcert");
    CHECK(j["user"].is_null());  // the admin
    CHECK(j["title"] == "IU 2026");
    REQUIRE(j["schedules"].size() == 2);
    CHECK(j["schedules"][0] == json({{"date", "2026-12-24"}, {"seats", 50}, {"price", 80000}}));
    CHECK(j["schedules"][1]["date"] == "2026-12-25");
    CHECK(j["queue"] == json({{"active_capacity", 7}, {"active_ttl_seconds", 120}}));
    CHECK(j["hold_ttl_seconds"] == 90);
    CHECK(j["max_holds_per_user"] == 2);
}

TEST_CASE("saga steps render their origin and payment ids", "[json]") {
    json j = to_json(sample_commands().at(static_cast<std::size_t>(command_type::debit_request)));
    CHECK(j["type"] == "DebitRequest");
    CHECK(j["origin"] == json({{"partition", 2}, {"offset", 77}}));
    CHECK(j["payment"] == "p-3-1240");
    CHECK(j["reservation"] == "r-3-1234");
    CHECK(j["amount"] == 80000);
    json result = to_json(sample_commands().at(static_cast<std::size_t>(command_type::debit_result)));
    CHECK(result["debited"] == true);
    CHECK(result["balance"] == 20000);
}

TEST_CASE("an event renders its envelope", "[json]") {
    const event& e = sample_event(event_type::charged);
    json j = to_json(e);
    CHECK(j["type"] == "Charged");
    CHECK(j["sequence"] == e.sequence);
    CHECK(j["cause"] == json({{"partition", e.cause.partition}, {"offset", e.cause.offset}}));
    CHECK(j["at"] == "2026-12-24T19:00:00.114Z");
    CHECK(j["amount"] == 100000);
    CHECK(j["balance"] == 100000);
    event unanswered = e;
    unanswered.answers = no_position;
    CHECK(to_json(unanswered)["answers"].is_null());
}

TEST_CASE("a reservation renders as API.md spells it", "[json]") {
    json j = to_json(sample_reservation());
    CHECK(j["id"] == "r-3-1234");
    CHECK(j["concert"] == "c-0000000000c0ffee");
    CHECK(j["user"] == "u-00000000000004d2");
    CHECK(j["date"] == "2026-12-24");
    CHECK(j["seat"] == 17);
    CHECK(j["price"] == 80000);
    CHECK(j["status"] == "CONFIRMED");
    CHECK(j["held_at"] == "2026-12-24T19:00:00.000Z");
    CHECK(j["expires_at"] == "2026-12-24T19:05:00.000Z");
    CHECK(j["paid_at"] == "2026-12-24T19:01:00.000Z");
    CHECK(j["payment"] == "p-3-1240");

    reservation held = sample_reservation();
    held.status = reservation_status::held;
    held.paid_at = 0;
    held.payment = payment_id{};
    json h = to_json(held);
    CHECK(h["status"] == "HELD");
    CHECK(h["paid_at"].is_null());
    CHECK(h["payment"].is_null());
}

TEST_CASE("refusals, queue events and replays render by name", "[json]") {
    json r = to_json(sample_event(event_type::refused));
    CHECK(r["type"] == "Refused");
    CHECK(r["command"] == "HoldSeat");
    CHECK(r["reason"] == "NOT_YOUR_TURN");
    CHECK(r["detail"] == 42);

    json q = to_json(sample_event(event_type::queue_joined));
    CHECK(q["status"] == "WAITING");
    CHECK(q["position"] == 5);
    CHECK(q["active_until"].is_null());
    CHECK(q["fresh"] == false);

    json a = to_json(sample_event(event_type::queue_admitted));
    CHECK(a["active_until"] == "2026-12-24T19:10:00.000Z");

    json f = to_json(sample_event(event_type::payment_failed));
    CHECK(f["reason"] == "INSUFFICIENT_BALANCE");

    json i = to_json(sample_event(event_type::idempotent_replay));
    CHECK(i["first"] == json({{"partition", 3}, {"offset", 1200}}));

    json s = to_json(sample_event(event_type::seat_held));
    CHECK(s["reservation"]["id"] == "r-3-1234");
}

TEST_CASE("every refusal has its API.md code", "[json]") {
    CHECK(refusal_code(refusal::seat_taken) == "SEAT_TAKEN");
    CHECK(refusal_code(refusal::not_your_turn) == "NOT_YOUR_TURN");
    CHECK(refusal_code(refusal::concert_exists) == "CONCERT_EXISTS");
    for (unsigned r = 1; r <= refusal_max; ++r) {
        std::string_view code = refusal_code(static_cast<refusal>(r));
        CHECK(code != "UNKNOWN");
        CHECK(code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == std::string_view::npos);
    }
}

TEST_CASE("every record of every type renders", "[json]") {
    for (const command& c : sample_commands()) CHECK(to_json(c)["type"] == to_string(c.type()));
    for (const event& e : sample_events()) CHECK(to_json(e)["type"] == to_string(e.type()));
    std::mt19937_64 rng(3);
    random_filler fill(rng);
    for (int i = 0; i < 2'000; ++i) {
        // Random strings are not UTF-8: only the structure is checked, not the text.
        CHECK(to_json(fill.random_command()).is_object());
        CHECK(to_json(fill.random_event()).is_object());
    }
}
