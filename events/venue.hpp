#pragma once
// A concert's venue as numbers: the layout of the catalog (events/command.hpp, venue_layout) read
// into where each seat is. Seats are numbered 1..N per date in layout order, section by section,
// row by row; every date has the whole layout. Pure, built from the catalog alone, so the engine,
// the read models, the API and the export all place a seat alike.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/command.hpp"

namespace encore {

struct seat_place {
    std::uint32_t section = 0;      // index into the layout's sections
    std::uint32_t row = 0;          // 1-based within the section, as printed on the ticket
    std::uint32_t seat_in_row = 0;  // 1-based
};

class venue_map {
public:
    venue_map() = default;
    explicit venue_map(const create_concert& catalog);

    bool has_layout() const { return !sections_.empty(); }
    // Seated places of one date (standing zones have no seat numbers).
    std::uint32_t seats() const { return seats_; }
    // `seat` in 1..seats().
    seat_place place_of(std::uint32_t seat) const;
    std::uint32_t grade_of(std::uint32_t seat) const { return grade_[place_of(seat).section]; }
    std::uint32_t grade_of_section(std::uint32_t section) const { return grade_[section]; }
    std::uint32_t sections() const { return static_cast<std::uint32_t>(grade_.size()); }
    // A standing zone's capacity; 0 for a seated section.
    std::uint32_t standing(std::uint32_t section) const { return standing_[section]; }
    bool has_standing() const { return standing_places_ != 0; }
    // Whether grade `grade` has a seated section.
    bool grade_has_seats(std::uint32_t grade) const;
    // The rows of the whole layout in seat order: the first seat of each, and each one's section.
    const std::vector<std::uint32_t>& row_first() const { return row_first_; }
    std::uint32_t row_section(std::size_t row) const { return row_section_[row]; }
    // The row (index into row_first) holding `seat`.
    std::size_t row_of(std::uint32_t seat) const;
    std::optional<std::uint32_t> section_named(std::string_view name) const;
    // The venue's gates, each once, in the order its sections name them; a section's gate
    // (an index into gates() + 1; 0 when it names none), and a gate's index + 1 (0: none of them).
    const std::vector<std::string>& gates() const { return gate_names_; }
    std::uint32_t gate_of_section(std::uint32_t section) const { return section_gate_[section]; }
    std::uint32_t gate_named(std::string_view name) const;
    std::optional<std::uint32_t> grade_named(std::string_view name) const;

private:
    std::vector<std::string> section_names_, grade_names_, gate_names_;
    std::vector<std::uint32_t> section_gate_;
    std::uint32_t seats_ = 0;
    std::vector<std::uint32_t> sections_;       // per section: its first seat (0 for a standing zone)
    std::vector<std::uint32_t> section_row_;    // per section: the index of its first row
    std::vector<std::uint32_t> grade_;          // per section: its grade
    std::vector<std::uint32_t> standing_;       // per section: its standing capacity (0: seated)
    std::uint32_t standing_places_ = 0;
    std::vector<std::uint32_t> row_first_;
    std::vector<std::uint32_t> row_section_;
};

// The seats of the whole layout (what each date's schedule `seats` must be).
std::uint64_t layout_seats(const venue_layout& layout);
// Its places of the standing zones.
std::uint64_t layout_standing(const venue_layout& layout);
// The price of grade `grade` on the catalog's schedule `schedule` (the date's override, else the grade's).
won grade_price_on(const create_concert& catalog, std::size_t schedule, std::uint32_t grade);

}  // namespace encore
