#pragma once
// Internal to api/: one date's seat map kept in pieces, so that a change of a few seats renders
// and compresses only the pieces holding them. Seats are numbered section by section, so with a
// layout each section is a piece; without one, each run of `run_seats` seats. A piece is the JSON
// of its seats, raw and as raw-deflate blocks ending on a byte boundary (zlib's sync flush,
// compressed on its own), with its CRC-32. A map (every seat, one section's, or none: the
// overview) is the concatenation of a head, its pieces and a tail (`sections`, rendered at every
// update: a few bytes a section); its gzip form (RFC 1952) is the concatenation of their blocks
// behind a gzip header, closed by an empty final block and the CRC-32 combined from the pieces'.
// Nothing is compressed twice, and the 50,000-seat map of a date whose seats changed in one
// section costs one section's rendering.
//
// Threads: none; the caller serialises calls (seat_maps: one mutex per date).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/types.hpp"
#include "events/venue.hpp"
#include "projections/read_models.hpp"

namespace encore::api {

// What a map holds: every seat, one section's seats, or none (`overview`: the sections alone).
struct map_shape {
    bool overview = false;
    std::optional<std::uint32_t> section;
};

class seat_map_pieces {
public:
    static constexpr std::uint32_t run_seats = 1024;

    // Brings the pieces up to the date's seats as they are now, `version` being the date's seat
    // version read before this call (the pieces show at least every change up to it): re-renders
    // the pieces with a seat whose status changed, all of them when `revision` (prices) changed.
    // false when the concert or the date is not in the read models.
    bool update(const projections::read_models& models, const create_concert& catalog, std::uint64_t revision,
                day_number date, std::uint64_t version);

    bool ready() const { return ready_; }
    std::uint64_t version() const { return version_; }
    std::uint64_t revision() const { return revision_; }
    // The venue of the catalog the pieces were rendered from (once ready).
    const venue_map& venue() const { return venue_; }

    std::size_t raw_size(const map_shape& shape) const;
    std::string body(const map_shape& shape) const;
    std::string gzip(const map_shape& shape) const;
    // The map of the seats of one status, grade or section (each optional; grade and section
    // with a layout only), rendered from the seats as they are kept; the sections as in any map.
    std::string filtered(std::optional<seat_status> status, std::optional<std::uint32_t> grade,
                         std::optional<std::uint32_t> section) const;
    // The bytes held (raw and compressed), for the cache's budget.
    std::size_t bytes() const { return bytes_; }

private:
    struct piece {
        std::string raw, deflated;
        std::uint32_t crc = 0;
        void set(std::string text);
    };
    void reset(const create_concert& catalog, std::uint64_t revision, day_number date, std::uint32_t seats);
    void append_seat(std::string& text, std::uint32_t n) const;
    void render_piece(std::size_t i);
    void render_tail(const std::vector<projections::zone_count>& zones);
    template <typename F>
    void each_piece(const map_shape& shape, F&& f) const;

    bool ready_ = false;
    std::uint64_t version_ = 0, revision_ = 0;
    day_number date_{};
    venue_map venue_;
    const create_concert* catalog_ = nullptr;  // valid during update() only
    std::vector<won> prices_;                  // per grade on this date (with a layout)
    won price_ = 0;                            // the date's price (without one)
    std::uint32_t per_row_ = 0;                // seats per row (without one)
    std::vector<std::string> section_names_, grade_names_;
    std::vector<std::uint32_t> first_, last_;  // per piece: its seats first..last (first > last: none)
    std::vector<seat_status> status_;          // per seat - 1, as rendered
    std::vector<std::uint32_t> available_;     // per piece: its available seats
    std::vector<piece> pieces_;
    piece head_, tail_, comma_;
    std::size_t bytes_ = 0;
};

}  // namespace encore::api
