#pragma once
// Internal to api/: seat map bodies rendered once per change and kept, per concert, date and
// status filter, with their gzip form and an ETag. An onsale has thousands of admitted users
// reloading the same map; between two changes of a date's seats they all get the same bytes, and
// a browser that sends If-None-Match gets 304 without a body.
//
// A rendering is keyed by the date's seat version (projections: advanced after every seat change),
// read before rendering, so a kept body shows at least every change up to its version: a hold
// answered to a client is in every map that client reads afterwards (read-your-writes). ETags are
// "e<epoch>v<version>" (the epoch is random per process, so a restarted or another node never
// answers 304 to a body it did not render), "s<status>" for a filtered map and a "z" for the gzip
// form.
//
// Every map comes from the date's pieces (seat_map_pieces.hpp): those of every seat, of one
// section and the overview are assembled from them, so a change re-renders and recompresses only
// the pieces it touched; those filtered by status or grade are rendered from the seats they keep.
// A request that waited for another's rendering takes it if it is as new as the version it read.
//
// Threads: any I/O thread; one mutex guards the tables, one per entry its rendering and one per
// date its pieces, so a new version is rendered once while other requests for it wait. The
// entries hold at most `bytes_max` of bodies and the dates' pieces at most `pieces_bytes_max`;
// the least recently used go first.

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "api/seat_map_pieces.hpp"
#include "events/types.hpp"
#include "projections/read_models.hpp"

namespace encore::api {

// What a seat map shows: the seats of one status, grade or section (each optional), or none of
// them (`overview`: the sections alone, what a large venue's page opens on).
struct seat_filter {
    std::optional<seat_status> status;
    std::string grade, section;  // names of the venue's, checked by the caller; empty: all
    bool overview = false;
    auto operator<=>(const seat_filter&) const = default;
};

struct seat_map_body {
    std::shared_ptr<const std::string> bytes;
    std::string etag;  // quoted, ready for the header
    bool gzip = false;
};

class seat_maps {
public:
    static constexpr std::size_t bytes_max = 64u << 20;
    static constexpr std::size_t pieces_bytes_max = 128u << 20;
    // Bodies smaller than this are sent as they are: gzip would save less than it costs.
    static constexpr std::size_t gzip_bytes_min = 1024;

    explicit seat_maps(std::uint64_t epoch) : epoch_(epoch) {}

    // The body for the date's current seats, rendered if the kept one is older; nullopt when the
    // concert or date does not exist. Each seat's row, place and price come from the catalog:
    // without a layout, seat n is in row ceil(n / seatsPerRow) at the date's price; with one, in
    // its section's row at its grade's price, and the body lists the sections.
    // `revision` is the concert's (a price change moves it, and no seat).
    std::optional<seat_map_body> get(const projections::read_models& models, const create_concert& catalog,
                                     std::uint64_t revision, day_number date, const seat_filter& filter, bool gzip);
    // Whether an If-None-Match header value matches `etag` in either form (weak comparison,
    // lists and "*" included).
    static bool matches(std::string_view if_none_match, std::string_view etag);

private:
    using key = std::tuple<std::uint64_t, day_number, int, std::string, std::string, bool>;
    struct entry {
        std::mutex rendering;
        std::uint64_t version = UINT64_MAX;  // none yet
        std::uint64_t revision = 0;          // the concert's, when rendered
        std::shared_ptr<const std::string> body, gzip_body;
        std::size_t raw_size = 0;            // of the body, whichever form is kept
        std::list<key>::iterator recency;
    };
    struct dated {
        std::mutex updating;
        seat_map_pieces pieces;
        std::size_t bytes = 0;     // as last accounted
        std::uint64_t used = 0;    // the tick of its last use
    };
    std::shared_ptr<entry> find(const key& k);
    std::shared_ptr<dated> find_date(concert_id c, day_number date);
    void account(std::ptrdiff_t bytes);
    void account_pieces(concert_id c, day_number date, const std::shared_ptr<dated>& d, std::size_t bytes);
    // Every seat, a section's or none: assembled from the pieces (either form); by status or grade:
    // rendered from the seats they keep.
    static bool pieced(const seat_filter& f) { return !f.status && f.grade.empty(); }
    // Renders entry `e` (locked) from the date's pieces; false when the date is gone.
    bool render(entry& e, std::ptrdiff_t& added, const projections::read_models& models, const create_concert& catalog,
                std::uint64_t revision, day_number date, std::uint64_t version, const seat_filter& filter, bool gzip);

    std::uint64_t epoch_;
    std::mutex mutex_;
    std::map<key, std::shared_ptr<entry>> entries_;
    std::list<key> recency_;  // front = most recently used
    std::size_t bytes_ = 0;
    std::map<std::pair<std::uint64_t, day_number>, std::shared_ptr<dated>> dates_;
    std::size_t pieces_bytes_ = 0;
    std::uint64_t tick_ = 0;
};

}  // namespace encore::api
