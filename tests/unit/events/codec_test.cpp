// The binary codec: canonical round trips for every command and event type, and corrupt input
// (truncations, bad tags and versions, trailing bytes, out-of-range values, garbage) that must be
// refused with an error and never crash or read out of bounds.

#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "events/codec.hpp"
#include "samples.hpp"

using namespace encore;
using namespace encore::test;

namespace {

// The decode half of a round trip: the bytes decode, and encode back to themselves.
template <class Decoded>
void require_canonical(const std::string& bytes, const Decoded& decoded) {
    REQUIRE(decoded.ok());
    REQUIRE((encode(*decoded) == bytes));  // not expanded: binary
}

void check_round_trip(const command& c) {
    std::string bytes = encode(c);
    auto decoded = decode_command(bytes);
    INFO(to_string(c.type()) << ": " << (decoded.ok() ? "" : decoded.err().message));
    REQUIRE(decoded.ok());
    CHECK(*decoded == c);
    require_canonical(bytes, decoded);
}

void check_round_trip(const event& e) {
    std::string bytes = encode(e);
    auto decoded = decode_event(bytes);
    INFO(to_string(e.type()) << ": " << (decoded.ok() ? "" : decoded.err().message));
    REQUIRE(decoded.ok());
    CHECK(*decoded == e);
    require_canonical(bytes, decoded);
}

std::vector<std::string> sample_records(bool commands) {
    std::vector<std::string> out;
    if (commands) {
        for (const command& c : sample_commands()) out.push_back(encode(c));
    } else {
        for (const event& e : sample_events()) out.push_back(encode(e));
    }
    return out;
}

// Decodes `bytes` as a command or event; whatever comes back must not be a half-decoded value:
// either an error, or a record that encodes back to exactly `bytes`.
bool decodes(bool commands, const std::string& bytes) {
    if (commands) {
        auto c = decode_command(bytes);
        if (c.ok()) require_canonical(bytes, c);
        return c.ok();
    }
    auto e = decode_event(bytes);
    if (e.ok()) require_canonical(bytes, e);
    return e.ok();
}

std::string mutate(std::string bytes, std::mt19937_64& rng) {
    std::size_t at = bytes.empty() ? 0 : rng() % bytes.size();
    switch (rng() % 4) {
        case 0:
            if (!bytes.empty()) bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8)));
            break;
        case 1:
            if (!bytes.empty()) bytes[at] = static_cast<char>(rng());
            break;
        case 2: bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(rng())); break;
        default:
            if (!bytes.empty()) bytes.erase(at, 1);
            break;
    }
    return bytes;
}

}  // namespace

TEST_CASE("the samples cover every command and event type", "[codec]") {
    std::set<command_type> commands;
    for (const command& c : sample_commands()) commands.insert(c.type());
    CHECK(commands.size() == command_type_count);
    std::set<event_type> events;
    for (const event& e : sample_events()) events.insert(e.type());
    CHECK(events.size() == event_type_count);
}

TEST_CASE("every command type round-trips", "[codec]") {
    for (const command& c : sample_commands()) check_round_trip(c);
}

TEST_CASE("every event type round-trips", "[codec]") {
    for (const event& e : sample_events()) check_round_trip(e);
}

TEST_CASE("random records of every type round-trip", "[codec]") {
    std::mt19937_64 rng(20261224);
    random_filler fill(rng);
    for (int i = 0; i < 20'000; ++i) {
        check_round_trip(fill.random_command());
        check_round_trip(fill.random_event());
    }
}

TEST_CASE("encode appends to what the buffer holds", "[codec]") {
    command c = sample_commands().at(1);
    std::string out = "prefix";
    encode(c, out);
    CHECK(out == "prefix" + encode(c));
}

TEST_CASE("records start with the version, then the type tag", "[codec]") {
    for (const command& c : sample_commands()) {
        std::string bytes = encode(c);
        CHECK(static_cast<std::uint8_t>(bytes[0]) == codec_version);
        CHECK(static_cast<std::uint8_t>(bytes[1]) == static_cast<std::uint8_t>(c.type()));
    }
    for (const event& e : sample_events()) {
        std::string bytes = encode(e);
        CHECK(static_cast<std::uint8_t>(bytes[1]) == static_cast<std::uint8_t>(e.type()));
    }
}

TEST_CASE("every truncation of a valid record is an error", "[codec][corrupt]") {
    for (bool commands : {true, false}) {
        for (const std::string& bytes : sample_records(commands)) {
            for (std::size_t n = 0; n < bytes.size(); ++n) {
                INFO("kept " << n << " of " << bytes.size() << " bytes");
                CHECK_FALSE(decodes(commands, bytes.substr(0, n)));
            }
        }
    }
}

TEST_CASE("an unknown type tag is an error", "[codec][corrupt]") {
    for (bool commands : {true, false}) {
        unsigned first_unknown = commands ? command_type_count : event_type_count;
        for (std::string bytes : sample_records(commands)) {
            for (unsigned tag = first_unknown; tag <= 255; ++tag) {
                bytes[1] = static_cast<char>(tag);
                CHECK_FALSE(decodes(commands, bytes));
            }
        }
    }
}

TEST_CASE("a tag flipped to another known type never half-decodes", "[codec][corrupt]") {
    // Some layouts coincide (Pay and CancelHold both carry one reservation id), so such a record
    // may decode; `decodes` then requires it to be a complete, canonical record of the new type.
    for (bool commands : {true, false}) {
        unsigned count = commands ? command_type_count : event_type_count;
        for (std::string bytes : sample_records(commands)) {
            for (unsigned tag = 0; tag < count; ++tag) {
                bytes[1] = static_cast<char>(tag);
                static_cast<void>(decodes(commands, bytes));
            }
        }
    }
    std::string cancel = encode(sample_commands().at(5));
    cancel[1] = static_cast<char>(command_type::pay);
    auto as_pay = decode_command(cancel);
    REQUIRE(as_pay.ok());
    CHECK(as_pay->type() == command_type::pay);
}

TEST_CASE("an unknown format version is an error", "[codec][corrupt]") {
    for (bool commands : {true, false}) {
        for (std::string bytes : sample_records(commands)) {
            for (int version : {0, codec_version + 1, 255}) {
                bytes[0] = static_cast<char>(version);
                CHECK_FALSE(decodes(commands, bytes));
            }
        }
    }
    std::string bytes = encode(sample_commands().at(0));
    bytes[0] = 7;
    auto decoded = decode_command(bytes);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.err().code == errc::corrupt);
    CHECK(decoded.err().message.find("version") != std::string::npos);
}

TEST_CASE("trailing bytes after a record are an error", "[codec][corrupt]") {
    for (bool commands : {true, false}) {
        for (const std::string& bytes : sample_records(commands)) {
            CHECK_FALSE(decodes(commands, bytes + '\0'));
            CHECK_FALSE(decodes(commands, bytes + "xyz"));
            CHECK_FALSE(decodes(commands, bytes + bytes));
        }
    }
}

TEST_CASE("booleans and enumerations out of range are errors", "[codec][corrupt]") {
    SECTION("a boolean byte of 2") {
        event e = sample_events().at(static_cast<std::size_t>(event_type::queue_left));
        std::string bytes = encode(e);  // `completed` is the last byte
        REQUIRE(bytes.back() == 1);
        bytes.back() = 2;
        CHECK_FALSE(decode_event(bytes).ok());
    }
    SECTION("a refusal code past the last one") {
        event e = sample_events().at(static_cast<std::size_t>(event_type::refused));
        std::string bytes = encode(e);  // … reason (1), user (8), detail (8)
        std::size_t reason = bytes.size() - 17;
        REQUIRE(static_cast<std::uint8_t>(bytes[reason]) == static_cast<std::uint8_t>(refusal::not_your_turn));
        bytes[reason] = static_cast<char>(refusal_max + 1);
        CHECK_FALSE(decode_event(bytes).ok());
        bytes[reason] = static_cast<char>(refusal_max);
        CHECK(decode_event(bytes).ok());
    }
    SECTION("a command type past the last one") {
        event e = sample_events().at(static_cast<std::size_t>(event_type::refused));
        std::string bytes = encode(e);
        bytes[bytes.size() - 18] = static_cast<char>(command_type_count);
        CHECK_FALSE(decode_event(bytes).ok());
    }
    SECTION("a queue status past the last one") {
        event e = sample_events().at(static_cast<std::size_t>(event_type::queue_joined));
        std::string bytes = encode(e);  // … status (1), position (8), active_until (8), fresh (1)
        bytes[bytes.size() - 18] = 4;
        CHECK_FALSE(decode_event(bytes).ok());
    }
}

TEST_CASE("a length or count that runs past the record is an error", "[codec][corrupt]") {
    command c{command_meta{sample_time, user_id{1}, "", no_position}, sample_catalog()};
    std::string bytes = encode(c);
    const auto& catalog = std::get<create_concert>(c.body);
    // version, tag, meta (time 8, user 8, key 2, origin 12), concert 8, title, venue: then the count.
    std::size_t title = 2 + 30 + 8;
    std::size_t count = title + 2 + catalog.title.size() + 2 + catalog.venue.size();
    REQUIRE(static_cast<std::uint8_t>(bytes[title]) == catalog.title.size());
    REQUIRE(static_cast<std::uint8_t>(bytes[count]) == catalog.schedules.size());
    SECTION("string length") {
        bytes[title] = static_cast<char>(0xFF);
        bytes[title + 1] = static_cast<char>(0xFF);
        CHECK_FALSE(decode_command(bytes).ok());
    }
    SECTION("element count") {
        bytes[count] = static_cast<char>(0xFF);
        bytes[count + 1] = static_cast<char>(0xFF);
        CHECK_FALSE(decode_command(bytes).ok());
        bytes[count] = 3;  // one element more than the record holds
        bytes[count + 1] = 0;
        CHECK_FALSE(decode_command(bytes).ok());
    }
}

TEST_CASE("a record larger than the limit is refused", "[codec][corrupt]") {
    command c{command_meta{sample_time, user_id{1}, "", no_position}, register_user{std::string(60'000, 'k')}};
    CHECK(decode_command(encode(c)).ok());
    std::string bytes = encode(c);
    bytes.append(record_size_max, '\0');
    CHECK_FALSE(decode_command(bytes).ok());
    CHECK_FALSE(decode_event(bytes).ok());
}

TEST_CASE("random garbage never crashes the decoder", "[codec][corrupt]") {
    std::mt19937_64 rng(7);
    int decoded = 0;
    for (int i = 0; i < 200'000; ++i) {
        std::string bytes(rng() % 120, '\0');
        for (char& ch : bytes) ch = static_cast<char>(rng());
        if (rng() % 2 == 0 && bytes.size() >= 2) bytes[0] = static_cast<char>(codec_version);
        decoded += decodes(true, bytes) ? 1 : 0;
        decoded += decodes(false, bytes) ? 1 : 0;
    }
    CHECK(decoded < 2'000);  // garbage nearly always fails; what decodes was checked canonical
}

TEST_CASE("mutated records never crash the decoder", "[codec][corrupt]") {
    std::mt19937_64 rng(11);
    for (bool commands : {true, false}) {
        for (const std::string& bytes : sample_records(commands)) {
            for (int i = 0; i < 3'000; ++i) {
                std::string mutated = mutate(bytes, rng);
                if (rng() % 3 == 0) mutated = mutate(mutated, rng);
                static_cast<void>(decodes(commands, mutated));
            }
        }
    }
}

TEST_CASE("a catalog's later options: left out at their defaults, so older records keep their bytes", "[codec]") {
    command plain{command_meta{sample_time, user_id{}, "", no_position}, sample_catalog()};
    const std::string older = encode(plain);  // what a record written before the options looks like
    auto decoded = decode_command(older);
    REQUIRE(decoded.ok());
    CHECK(std::get<create_concert>(decoded->body).options == catalog_options{});
    CHECK(encode(*decoded) == older);

    command rich = plain;
    auto& options = std::get<create_concert>(rich.body).options;
    options.claim_seconds = 30;
    options.max_tickets_per_user = 8;
    options.refunds_until = sample_time + 86'400'000;
    options.seats_per_row = {10, 3};
    const std::string newer = encode(rich);
    // ...and the sale's options, a tail of that tail: catalogs with the options above keep their bytes.
    command richer = rich;
    std::get<create_concert>(richer.body).options.sale = {{}, sample_time + 3'600'000, 0x5eed};
    const std::string newest = encode(richer);
    CHECK(newest.size() == newer.size() + 8 + 8);
    CHECK(newest.compare(0, newer.size(), newer) == 0);
    auto richer_decoded = decode_command(newest);
    REQUIRE(richer_decoded.ok());
    CHECK(*richer_decoded == richer);
    CHECK_FALSE(decode_command(newer + std::string(8 + 8, '\0')).ok());
    CHECK(newer.size() == older.size() + 4 + 4 + 8 + 2 + 2 * 4);
    CHECK(newer.compare(0, older.size(), older) == 0);  // the options follow every older field
    auto rich_decoded = decode_command(newer);
    REQUIRE(rich_decoded.ok());
    CHECK(*rich_decoded == rich);

    // Options spelled out at their defaults are not canonical: the encoder never writes them.
    CHECK_FALSE(decode_command(older + std::string(4 + 4 + 8 + 2, '\0')).ok());
    // A tail cut short is corrupt.
    CHECK_FALSE(decode_command(newer.substr(0, newer.size() - 1)).ok());
}

TEST_CASE("a reservation's standing places: a tail of its grades, so reservations of seats keep their bytes", "[codec]") {
    reservation r = sample_reservation();
    r.extra.grades.by_grade = {{1, 80'000}};
    const event seated{1, log_position{3, 1}, no_position, sample_time, seat_held{r}};
    const std::string older = encode(seated);
    reservation places = r;
    places.seat = 0;
    places.extra.grades.standing = {{}, 2, "FLOOR", 2, 153};
    const event standing{1, log_position{3, 1}, no_position, sample_time, seat_held{places}};
    const std::string newer = encode(standing);
    auto decoded = decode_event(newer);
    REQUIRE(decoded.ok());
    CHECK(*decoded == standing);
    CHECK(tickets_of(std::get<seat_held>(decoded->body).reservation) == 2);
    CHECK(seats_of(std::get<seat_held>(decoded->body).reservation).empty());
    // The standing fields follow every field a reservation of seats has: section, name, places, entry.
    CHECK(newer.size() == older.size() + 4 + (2 + 5) + 4 + 4);
    auto seated_again = decode_event(older);
    REQUIRE(seated_again.ok());
    CHECK(encode(*seated_again) == older);
}
