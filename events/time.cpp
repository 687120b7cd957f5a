#include "events/time.hpp"

#include <cstdio>

namespace encore {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days algorithms.
constexpr std::int64_t civil_to_days(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

constexpr civil days_to_civil(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

std::optional<day_number> days_from_civil(int year, unsigned month, unsigned day) {
    static constexpr unsigned month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1) return std::nullopt;
    unsigned last = month_days[month - 1] + (month == 2 && is_leap(year) ? 1 : 0);
    if (day > last) return std::nullopt;
    return static_cast<day_number>(civil_to_days(year, month, day));
}

std::optional<day_number> parse_date(std::string_view t) {
    if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
    auto digits = [&](std::size_t from, std::size_t n) -> int {
        int v = 0;
        for (std::size_t i = from; i < from + n; ++i) {
            if (t[i] < '0' || t[i] > '9') return -1;
            v = v * 10 + (t[i] - '0');
        }
        return v;
    };
    int y = digits(0, 4), m = digits(5, 2), d = digits(8, 2);
    if (y < 0 || m < 0 || d < 0) return std::nullopt;
    return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::optional<time_ms> parse_instant(std::string_view t) {
    if (t.size() != 20 && t.size() != 24) return std::nullopt;
    if (t[10] != 'T' || t[13] != ':' || t[16] != ':' || t.back() != 'Z') return std::nullopt;
    if (t.size() == 24 && t[19] != '.') return std::nullopt;
    auto day = parse_date(t.substr(0, 10));
    auto digits = [&](std::size_t from, std::size_t n) -> int {
        int v = 0;
        for (std::size_t i = from; i < from + n; ++i) {
            if (t[i] < '0' || t[i] > '9') return -1;
            v = v * 10 + (t[i] - '0');
        }
        return v;
    };
    int h = digits(11, 2), m = digits(14, 2), s = digits(17, 2), ms = t.size() == 24 ? digits(20, 3) : 0;
    if (!day || h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 59 || ms < 0) return std::nullopt;
    return static_cast<time_ms>(*day) * 86'400'000 + ((h * 60 + m) * 60 + s) * 1000LL + ms;
}

std::string format_date(day_number day) {
    civil c = days_to_civil(day);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.year), c.month, c.day);
    return buf;
}

std::string format_instant(time_ms at) {
    // Floor division that neither negates `at` nor multiplies back: both overflow for the most
    // negative times a decoded record can hold.
    std::int64_t days = at / 86'400'000;
    std::int64_t ms_of_day = at % 86'400'000;
    if (ms_of_day < 0) {
        ms_of_day += 86'400'000;
        --days;
    }
    civil c = days_to_civil(days);
    auto s = ms_of_day / 1000;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(c.year), c.month,
                  c.day, static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60),
                  static_cast<long long>(s % 60), static_cast<long long>(ms_of_day % 1000));
    return buf;
}

}  // namespace encore
