#include "api/seat_maps.hpp"

#include <zlib.h>

#include <algorithm>
#include <cassert>

#include "events/venue.hpp"

namespace encore::api {
namespace {

// gzip (RFC 1952) at a low level: seat maps are repetitive, so level 1 already shrinks them ~15x
// and costs a fraction of the default level's time.
std::string compress(const std::string& in) {
    z_stream z{};
    int ok = deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    assert(ok == Z_OK);
    std::string out(deflateBound(&z, in.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    ok = deflate(&z, Z_FINISH);
    assert(ok == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The opaque part of an ETag: without W/, the quotes and the gzip form's "z".
std::string_view opaque(std::string_view tag) {
    tag = trim(tag);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') tag = tag.substr(1, tag.size() - 2);
    if (tag.ends_with('z')) tag.remove_suffix(1);
    return tag;
}

}  // namespace

bool seat_maps::matches(std::string_view header, std::string_view etag) {
    if (trim(header) == "*") return true;
    const std::string_view want = opaque(etag);
    while (!header.empty()) {
        const std::size_t comma = header.find(',');
        if (opaque(header.substr(0, comma)) == want) return true;
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    return false;
}

std::shared_ptr<seat_maps::entry> seat_maps::find(const key& k) {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = entries_.try_emplace(k);
    if (fresh) {
        it->second = std::make_shared<entry>();
        recency_.push_front(k);
        it->second->recency = recency_.begin();
    } else {
        recency_.splice(recency_.begin(), recency_, it->second->recency);
    }
    return it->second;
}

void seat_maps::account(std::ptrdiff_t bytes) {
    std::lock_guard lock(mutex_);
    bytes_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(bytes_) + bytes);
    // Forget the least recently used renderings; a request holding one keeps it alive until done.
    while (bytes_ > bytes_max && recency_.size() > 1) {
        auto victim = entries_.find(recency_.back());
        assert(victim != entries_.end());
        std::shared_ptr<entry> gone = victim->second;
        entries_.erase(victim);
        recency_.pop_back();
        std::lock_guard rendering(gone->rendering);
        bytes_ -= (gone->body ? gone->body->size() : 0) + (gone->gzip_body ? gone->gzip_body->size() : 0);
        gone->body.reset();
        gone->gzip_body.reset();
    }
}

std::shared_ptr<seat_maps::dated> seat_maps::find_date(concert_id c, day_number date) {
    std::lock_guard lock(mutex_);
    auto& d = dates_[{c.value, date}];
    if (!d) d = std::make_shared<dated>();
    return d;
}

void seat_maps::account_pieces(concert_id c, day_number date, const std::shared_ptr<dated>& d, std::size_t bytes) {
    std::lock_guard lock(mutex_);
    auto it = dates_.find({c.value, date});
    if (it == dates_.end() || it->second != d) return;  // forgotten meanwhile: its bytes went with it
    pieces_bytes_ = pieces_bytes_ - d->bytes + bytes;
    d->bytes = bytes;
    d->used = ++tick_;
    // Forget the dates least recently used; a request holding one keeps it alive until done.
    while (pieces_bytes_ > pieces_bytes_max && dates_.size() > 1) {
        auto victim = std::min_element(dates_.begin(), dates_.end(), [](const auto& a, const auto& b) { return a.second->used < b.second->used; });
        pieces_bytes_ -= victim->second->bytes;
        dates_.erase(victim);
    }
}

bool seat_maps::render(entry& e, std::ptrdiff_t& added, const projections::read_models& models, const create_concert& catalog,
                       std::uint64_t revision, day_number date, std::uint64_t version, const seat_filter& filter, bool gzip) {
    std::shared_ptr<dated> d = find_date(catalog.concert, date);
    std::size_t bytes = 0;
    {
        std::lock_guard lock(d->updating);
        seat_map_pieces& pieces = d->pieces;
        // Another request may have brought the pieces past the version this one read: taken as they are.
        if (!pieces.ready() || pieces.version() < version || pieces.revision() != revision) {
            if (!pieces.update(models, catalog, revision, date, version)) return false;
        }
        const venue_map& venue = pieces.venue();
        const std::optional<std::uint32_t> section = filter.section.empty() ? std::nullopt : venue.section_named(filter.section);
        const map_shape shape{filter.overview, section};
        const bool assembled = pieced(filter);
        if (e.version != pieces.version() || e.revision != pieces.revision()) {
            added -= static_cast<std::ptrdiff_t>((e.body ? e.body->size() : 0) + (e.gzip_body ? e.gzip_body->size() : 0));
            e.body.reset();
            e.gzip_body.reset();
            e.version = pieces.version();
            e.revision = pieces.revision();
            if (assembled) {
                e.raw_size = pieces.raw_size(shape);
            } else {
                // Filtered by status or grade: rendered whole from the seats the pieces keep.
                const std::optional<std::uint32_t> grade = filter.grade.empty() ? std::nullopt : venue.grade_named(filter.grade);
                e.body = std::make_shared<const std::string>(pieces.filtered(filter.status, grade, section));
                e.raw_size = e.body->size();
                added += static_cast<std::ptrdiff_t>(e.body->size());
            }
        }
        if (assembled && gzip && e.raw_size >= gzip_bytes_min && !e.gzip_body) {
            e.gzip_body = std::make_shared<const std::string>(pieces.gzip(shape));
            added += static_cast<std::ptrdiff_t>(e.gzip_body->size());
        } else if (assembled && !(gzip && e.raw_size >= gzip_bytes_min) && !e.body) {
            e.body = std::make_shared<const std::string>(pieces.body(shape));
            added += static_cast<std::ptrdiff_t>(e.body->size());
        }
        bytes = pieces.bytes();
    }
    account_pieces(catalog.concert, date, d, bytes);
    return true;
}

std::optional<seat_map_body> seat_maps::get(const projections::read_models& models, const create_concert& catalog,
                                            std::uint64_t revision, day_number date, const seat_filter& filter, bool gzip) {
    const concert_id c = catalog.concert;
    const std::optional<seat_status> only = filter.status;
    auto version = models.seats_version(c, date);
    if (!version) return std::nullopt;
    std::shared_ptr<entry> e = find({c.value, date, only ? static_cast<int>(*only) : -1, filter.grade, filter.section, filter.overview});
    std::ptrdiff_t added = 0;
    seat_map_body out;
    {
        std::lock_guard lock(e->rendering);
        // Kept if as new as the version read (another request may have brought it further) and
        // in the form asked: an assembled map in either form, a filtered one as its body (its
        // gzip form is made from it below).
        const bool stale = e->version == UINT64_MAX || e->version < *version || e->revision != revision;
        const bool zipped = pieced(filter) && gzip && e->raw_size >= gzip_bytes_min;
        if ((stale || !(zipped ? e->gzip_body : e->body)) && !render(*e, added, models, catalog, revision, date, *version, filter, gzip))
            return std::nullopt;
        // The filter's names are the venue's ([A-Za-z0-9_-]): safe inside a quoted tag.
        const std::string tag = "e" + std::to_string(epoch_) + "r" + std::to_string(e->revision) + "v" + std::to_string(e->version) +
                                (only ? "s" + std::to_string(static_cast<int>(*only)) : "") +
                                (filter.grade.empty() ? "" : "g" + filter.grade + ".") +
                                (filter.section.empty() ? "" : "n" + filter.section + ".") + (filter.overview ? "o" : "");
        out.gzip = gzip && e->raw_size >= gzip_bytes_min;
        if (out.gzip && !e->gzip_body) {
            e->gzip_body = std::make_shared<const std::string>(compress(*e->body));
            added += static_cast<std::ptrdiff_t>(e->gzip_body->size());
        }
        out.bytes = out.gzip ? e->gzip_body : e->body;
        out.etag = "\"" + tag + (out.gzip ? "z" : "") + "\"";
    }
    if (added != 0) account(added);
    return out;
}

}  // namespace encore::api
