#include "events/venue.hpp"

#include <algorithm>

namespace encore {

venue_map::venue_map(const create_concert& catalog) {
    const venue_layout& layout = catalog.options.sale.venue;
    for (const grade_price& g : layout.grades) grade_names_.push_back(g.grade);
    std::uint32_t next = 1;
    for (const section_layout& s : layout.sections) {
        section_names_.push_back(s.section);
        std::uint32_t gate = 0;
        if (!s.gate.empty()) {
            gate = gate_named(s.gate);
            if (gate == 0) {
                gate_names_.push_back(s.gate);
                gate = static_cast<std::uint32_t>(gate_names_.size());
            }
        }
        section_gate_.push_back(gate);
        grade_.push_back(s.grade);
        standing_.push_back(s.standing);
        standing_places_ += s.standing;
        section_row_.push_back(static_cast<std::uint32_t>(row_first_.size()));
        sections_.push_back(s.rows.empty() ? 0 : next);
        for (std::uint32_t seats : s.rows) {
            row_first_.push_back(next);
            row_section_.push_back(static_cast<std::uint32_t>(sections_.size() - 1));
            next += seats;
        }
    }
    seats_ = next - 1;
}

std::size_t venue_map::row_of(std::uint32_t seat) const {
    auto it = std::upper_bound(row_first_.begin(), row_first_.end(), seat);
    return static_cast<std::size_t>(it - row_first_.begin()) - 1;
}

seat_place venue_map::place_of(std::uint32_t seat) const {
    const std::size_t row = row_of(seat);
    const std::uint32_t section = row_section_[row];
    return {section, static_cast<std::uint32_t>(row - section_row_[section] + 1), seat - row_first_[row] + 1};
}

std::optional<std::uint32_t> venue_map::section_named(std::string_view name) const {
    auto it = std::find(section_names_.begin(), section_names_.end(), name);
    if (it == section_names_.end()) return std::nullopt;
    return static_cast<std::uint32_t>(it - section_names_.begin());
}

std::uint32_t venue_map::gate_named(std::string_view name) const {
    auto it = std::find(gate_names_.begin(), gate_names_.end(), name);
    return it == gate_names_.end() ? 0 : static_cast<std::uint32_t>(it - gate_names_.begin()) + 1;
}

std::optional<std::uint32_t> venue_map::grade_named(std::string_view name) const {
    auto it = std::find(grade_names_.begin(), grade_names_.end(), name);
    if (it == grade_names_.end()) return std::nullopt;
    return static_cast<std::uint32_t>(it - grade_names_.begin());
}

bool venue_map::grade_has_seats(std::uint32_t grade) const {
    for (std::size_t i = 0; i < grade_.size(); ++i) {
        if (grade_[i] == grade && standing_[i] == 0) return true;
    }
    return false;
}

std::uint64_t layout_standing(const venue_layout& layout) {
    std::uint64_t places = 0;
    for (const section_layout& s : layout.sections) places += s.standing;
    return places;
}

std::uint64_t layout_seats(const venue_layout& layout) {
    std::uint64_t seats = 0;
    for (const section_layout& s : layout.sections)
        for (std::uint32_t n : s.rows) seats += n;
    return seats;
}

won grade_price_on(const create_concert& catalog, std::size_t schedule, std::uint32_t grade) {
    const venue_layout& layout = catalog.options.sale.venue;
    if (schedule < layout.prices.size() && grade < layout.prices[schedule].size() && layout.prices[schedule][grade] != no_date_price)
        return layout.prices[schedule][grade];
    return grade < layout.grades.size() ? layout.grades[grade].price : 0;
}

}  // namespace encore
