// Dates (`YYYY-MM-DD`, proleptic Gregorian, 1970..9999) and instants (RFC 3339 UTC with
// milliseconds), as API.md spells them.

#include <catch2/catch.hpp>

#include <limits>

#include "events/time.hpp"

using namespace encore;

TEST_CASE("dates parse to days since 1970-01-01", "[time]") {
    CHECK(parse_date("1970-01-01") == 0);
    CHECK(parse_date("1970-01-02") == 1);
    CHECK(parse_date("2000-03-01") == 11'017);
    CHECK(parse_date("2026-12-24") == 20'811);
    CHECK(parse_date("9999-12-31") == 2'932'896);
    CHECK(days_from_civil(2026, 12, 24) == 20'811);
}

TEST_CASE("leap years follow the Gregorian rules", "[time]") {
    CHECK(parse_date("2024-02-29").has_value());        // divisible by 4
    CHECK_FALSE(parse_date("2023-02-29").has_value());
    CHECK(parse_date("2000-02-29").has_value());        // divisible by 400
    CHECK_FALSE(parse_date("2100-02-29").has_value());  // divisible by 100 only
    CHECK_FALSE(parse_date("2024-02-30").has_value());
    CHECK(*parse_date("2024-03-01") - *parse_date("2024-02-28") == 2);
    CHECK(*parse_date("2023-03-01") - *parse_date("2023-02-28") == 1);
    CHECK(*parse_date("2001-01-01") - *parse_date("2000-01-01") == 366);
    CHECK(*parse_date("2101-01-01") - *parse_date("2100-01-01") == 365);
}

TEST_CASE("invalid dates are refused", "[time]") {
    const char* bad[] = {
        "",           "2024-1-01",   "2024-01-1",   "24-01-01",    "2024/01/01", "2024-01-01 ",
        " 2024-01-01", "2024-00-10", "2024-13-01",  "2024-01-00",  "2024-01-32", "2024-04-31",
        "2024-06-31", "2024-09-31",  "2024-11-31",  "1969-12-31",  "0000-01-01", "10000-01-01",
        "abcd-ef-gh", "2024-0a-01",  "2024-01-0x",  "+024-01-01",  "2024-+1-01", "2024--1-01",
        "2024-01-01T00:00:00Z",
    };
    for (const char* text : bad) {
        INFO(text);
        CHECK_FALSE(parse_date(text).has_value());
    }
    CHECK_FALSE(days_from_civil(2024, 0, 1).has_value());
    CHECK_FALSE(days_from_civil(2024, 13, 1).has_value());
    CHECK_FALSE(days_from_civil(2024, 1, 0).has_value());
    CHECK_FALSE(days_from_civil(1969, 12, 31).has_value());
    CHECK_FALSE(days_from_civil(10'000, 1, 1).has_value());
}

TEST_CASE("every date from 1970 to 9999 round-trips through text", "[time]") {
    day_number last = *parse_date("9999-12-31");
    for (day_number day = 0; day <= last; ++day) {
        std::string text = format_date(day);
        auto parsed = parse_date(text);
        if (!parsed || *parsed != day) FAIL_CHECK(day << " printed as " << text);
    }
    CHECK(format_date(0) == "1970-01-01");
    CHECK(format_date(20'811) == "2026-12-24");
    CHECK(format_date(*parse_date("2024-02-29")) == "2024-02-29");
}

TEST_CASE("instants print as RFC 3339 UTC with milliseconds", "[time]") {
    CHECK(format_instant(0) == "1970-01-01T00:00:00.000Z");
    CHECK(format_instant(1) == "1970-01-01T00:00:00.001Z");
    CHECK(format_instant(86'399'999) == "1970-01-01T23:59:59.999Z");
    CHECK(format_instant(86'400'000) == "1970-01-02T00:00:00.000Z");
    CHECK(format_instant(1'798'138'800'000) == "2026-12-24T19:00:00.000Z");
    CHECK(format_instant(1'798'138'800'000 + 300'007) == "2026-12-24T19:05:00.007Z");
    CHECK(format_instant(951'782'400'000) == "2000-02-29T00:00:00.000Z");
    CHECK(format_instant(253'402'300'799'999) == "9999-12-31T23:59:59.999Z");
    CHECK(format_instant(-1) == "1969-12-31T23:59:59.999Z");
    CHECK(format_instant(-86'400'000) == "1969-12-31T00:00:00.000Z");
    CHECK(format_instant(-86'400'001) == "1969-12-30T23:59:59.999Z");
}

TEST_CASE("any instant a record can carry prints without overflow", "[time]") {
    // A decoded record may hold any 64-bit time; rendering it must not overflow.
    for (time_ms at : {std::numeric_limits<time_ms>::min(), std::numeric_limits<time_ms>::min() + 1,
                       std::numeric_limits<time_ms>::max()}) {
        std::string text = format_instant(at);
        CHECK(text.size() >= 24);
        CHECK(text.back() == 'Z');
    }
}
