#include "api/seat_map_pieces.hpp"

#include <zlib.h>

#include <cassert>
#include <cstdio>

#include "api/documents.hpp"
#include "events/ids.hpp"
#include "events/time.hpp"

namespace encore::api {
namespace {

void append_number(std::string& body, std::uint64_t n) {
    char number[24];
    body.append(number, static_cast<std::size_t>(std::snprintf(number, sizeof number, "%llu", static_cast<unsigned long long>(n))));
}

// Raw deflate (no header) at level 1, ended by a sync flush: byte-aligned, not final, so that
// blocks compressed apart can follow one another in one stream.
std::string deflate_piece(const std::string& in) {
    z_stream z{};
    int ok = deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    assert(ok == Z_OK);
    std::string out(deflateBound(&z, in.size()) + 16, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    ok = deflate(&z, Z_SYNC_FLUSH);
    assert(ok == Z_OK && z.avail_in == 0 && z.avail_out != 0);
    (void)ok;
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

void append_le32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

void seat_map_pieces::piece::set(std::string text) {
    raw = std::move(text);
    deflated = deflate_piece(raw);
    crc = static_cast<std::uint32_t>(crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(raw.data()), static_cast<uInt>(raw.size())));
}

void seat_map_pieces::reset(const create_concert& catalog, std::uint64_t revision, day_number date, std::uint32_t seats) {
    ready_ = false;
    bytes_ = 0;
    tail_ = piece{};
    revision_ = revision;
    date_ = date;
    venue_ = venue_map(catalog);
    std::size_t schedule = 0;
    while (schedule + 1 < catalog.schedules.size() && catalog.schedules[schedule].date != date) ++schedule;
    const venue_layout& layout = catalog.options.sale.venue;
    prices_.clear();
    for (std::uint32_t g = 0; g < layout.grades.size(); ++g) prices_.push_back(grade_price_on(catalog, schedule, g));
    price_ = catalog.schedules[schedule].price;
    per_row_ = seats_per_row_of(catalog, date);
    section_names_.clear();
    grade_names_.clear();
    for (const auto& s : layout.sections) section_names_.push_back(s.section);
    for (const auto& g : layout.grades) grade_names_.push_back(g.grade);
    first_.clear();
    last_.clear();
    if (venue_.has_layout()) {
        // A section's seats are the rows that name it, contiguous in layout order.
        first_.assign(venue_.sections(), 1);
        last_.assign(venue_.sections(), 0);
        const auto& rows = venue_.row_first();
        for (std::size_t r = 0; r < rows.size(); ++r) {
            const std::uint32_t s = venue_.row_section(r);
            const std::uint32_t end = r + 1 < rows.size() ? rows[r + 1] - 1 : seats;
            if (first_[s] > last_[s]) first_[s] = rows[r];
            last_[s] = end;
        }
    } else {
        for (std::uint32_t first = 1; first <= seats; first += run_seats) {
            first_.push_back(first);
            last_.push_back(std::min(seats, first + run_seats - 1));
        }
    }
    pieces_.assign(first_.size(), piece{});
    available_.assign(first_.size(), 0);
    status_.assign(seats, seat_status::available);
    head_.set(R"({"concertId":")" + to_text(catalog.concert) + R"(","date":")" + format_date(date) + R"(","seats":[)");
    comma_.set(",");
    bytes_ = head_.raw.size() + head_.deflated.size() + comma_.raw.size() + comma_.deflated.size();
}

// Seat `n` as the map shows it: without a layout its row and the date's price, with one its
// section, row, place in the row, grade and the grade's price on this date.
void seat_map_pieces::append_seat(std::string& text, std::uint32_t n) const {
    const seat_status status = status_[n - 1];
    text += R"({"number":)";
    append_number(text, n);
    if (!venue_.has_layout()) {
        text += R"(,"row":)";
        append_number(text, (n - 1) / per_row_ + 1);
        text += R"(,"status":")";
        text += to_string(status);
        text += R"(","price":)";
        append_number(text, static_cast<std::uint64_t>(price_));
        text += '}';
        return;
    }
    const seat_place place = venue_.place_of(n);
    const std::uint32_t g = venue_.grade_of_section(place.section);
    text += R"(,"section":")" + section_names_[place.section] + R"(","row":)";
    append_number(text, place.row);
    text += R"(,"seatInRow":)";
    append_number(text, place.seat_in_row);
    text += R"(,"grade":")" + grade_names_[g] + R"(","status":")";
    text += to_string(status);
    text += R"(","price":)";
    append_number(text, static_cast<std::uint64_t>(prices_[g]));
    text += '}';
}

void seat_map_pieces::render_piece(std::size_t i) {
    std::string text;
    text.reserve((last_[i] >= first_[i] ? last_[i] - first_[i] + 1 : 0) * 96);
    std::uint32_t available = 0;
    for (std::uint32_t n = first_[i]; n <= last_[i]; ++n) {
        if (status_[n - 1] == seat_status::available) ++available;
        if (n != first_[i]) text += ',';
        append_seat(text, n);
    }
    available_[i] = available;
    bytes_ -= pieces_[i].raw.size() + pieces_[i].deflated.size();
    pieces_[i].set(std::move(text));
    bytes_ += pieces_[i].raw.size() + pieces_[i].deflated.size();
}

// The end of the seats array and, with a layout, the sections in layout order with their
// grade's price on this date and the seats (or places) left.
void seat_map_pieces::render_tail(const std::vector<projections::zone_count>& zones) {
    std::string text = "]";
    if (venue_.has_layout()) {
        const venue_layout& layout = catalog_->options.sale.venue;
        text += R"(,"sections":[)";
        for (std::size_t i = 0; i < layout.sections.size(); ++i) {
            const section_layout& s = layout.sections[i];
            if (i != 0) text += ',';
            text += R"({"section":")" + s.section + R"(","grade":")" + grade_names_[s.grade] + R"(","price":)";
            append_number(text, static_cast<std::uint64_t>(prices_[s.grade]));
            if (!s.gate.empty()) text += R"(,"gate":")" + s.gate + "\"";
            std::uint32_t left = available_[i];
            if (s.standing != 0) {
                text += R"(,"standing":)";
                append_number(text, s.standing);
                left = i < zones.size() ? zones[i].available() : s.standing;
            }
            text += R"(,"available":)";
            append_number(text, left);
            text += '}';
        }
        text += ']';
    }
    text += '}';
    bytes_ -= tail_.raw.size() + tail_.deflated.size();
    tail_.set(std::move(text));
    bytes_ += tail_.raw.size() + tail_.deflated.size();
}

bool seat_map_pieces::update(const projections::read_models& models, const create_concert& catalog, std::uint64_t revision,
                             day_number date, std::uint64_t version) {
    auto seats = models.seats(catalog.concert, date, false);
    auto zones = models.zone_counts(catalog.concert, date);
    if (!seats || !zones) return false;
    catalog_ = &catalog;
    const bool fresh = !ready_ || revision != revision_ || date != date_ || seats->size() != status_.size();
    if (fresh) reset(catalog, revision, date, static_cast<std::uint32_t>(seats->size()));
    // Seats ascend from 1 and pieces cover them in order: walk both together.
    std::size_t p = 0;
    std::vector<bool> dirty(pieces_.size(), fresh);
    for (const projections::seat_view& s : *seats) {
        while (p < last_.size() && (first_[p] > last_[p] || last_[p] < s.number)) ++p;
        if (status_[s.number - 1] == s.status) continue;
        status_[s.number - 1] = s.status;
        if (p < dirty.size()) dirty[p] = true;
    }
    for (std::size_t i = 0; i < pieces_.size(); ++i) {
        if (dirty[i]) render_piece(i);
    }
    render_tail(*zones);
    catalog_ = nullptr;
    version_ = version;
    ready_ = true;
    return true;
}

template <typename F>
void seat_map_pieces::each_piece(const map_shape& shape, F&& f) const {
    f(head_);
    if (!shape.overview) {
        bool first = true;
        for (std::size_t i = 0; i < pieces_.size(); ++i) {
            if (shape.section && *shape.section != i) continue;
            if (pieces_[i].raw.empty()) continue;
            if (!first) f(comma_);
            first = false;
            f(pieces_[i]);
        }
    }
    f(tail_);
}

std::string seat_map_pieces::filtered(std::optional<seat_status> status, std::optional<std::uint32_t> grade,
                                      std::optional<std::uint32_t> section) const {
    std::string out = head_.raw;
    bool first = true;
    for (std::size_t i = 0; i < first_.size(); ++i) {
        if (section && *section != i) continue;
        if (grade && venue_.grade_of_section(static_cast<std::uint32_t>(i)) != *grade) continue;
        for (std::uint32_t n = first_[i]; n <= last_[i]; ++n) {
            if (status && status_[n - 1] != *status) continue;
            if (!first) out += ',';
            first = false;
            append_seat(out, n);
        }
    }
    out += tail_.raw;
    return out;
}

std::size_t seat_map_pieces::raw_size(const map_shape& shape) const {
    std::size_t n = 0;
    each_piece(shape, [&](const piece& p) { n += p.raw.size(); });
    return n;
}

std::string seat_map_pieces::body(const map_shape& shape) const {
    std::string out;
    out.reserve(raw_size(shape));
    each_piece(shape, [&](const piece& p) { out += p.raw; });
    return out;
}

std::string seat_map_pieces::gzip(const map_shape& shape) const {
    static constexpr char header[] = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, '\xff'};  // deflate, no name, no time, OS unknown
    std::size_t size = sizeof header + 2 + 8;
    each_piece(shape, [&](const piece& p) { size += p.deflated.size(); });
    std::string out;
    out.reserve(size);
    out.append(header, sizeof header);
    uLong crc = crc32(0, nullptr, 0);
    std::uint64_t length = 0;
    each_piece(shape, [&](const piece& p) {
        out += p.deflated;
        crc = crc32_combine(crc, p.crc, static_cast<z_off_t>(p.raw.size()));
        length += p.raw.size();
    });
    out += '\x03';  // an empty final block with fixed codes: the stream ends here
    out += '\x00';
    append_le32(out, static_cast<std::uint32_t>(crc));
    append_le32(out, static_cast<std::uint32_t>(length));
    return out;
}

}  // namespace encore::api
