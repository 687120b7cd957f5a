#include "api/seat_maps.hpp"

#include <zlib.h>

#include <cassert>
#include <cstdio>

#include "events/ids.hpp"
#include "events/time.hpp"

namespace encore::api {
namespace {

std::string render(concert_id c, day_number date, won price, std::uint32_t seats_per_row,
                   const std::vector<projections::seat_view>& seats, std::optional<seat_status> only) {
    std::string body = R"({"concertId":")" + to_text(c) + R"(","date":")" + format_date(date) + R"(","seats":[)";
    body.reserve(body.size() + seats.size() * 48);
    const std::string tail = R"(","price":)" + std::to_string(price) + "}";
    bool first = true;
    char number[16];
    for (const auto& s : seats) {
        if (only && s.status != *only) continue;
        if (!first) body += ',';
        first = false;
        body += R"({"number":)";
        body.append(number, static_cast<std::size_t>(std::snprintf(number, sizeof number, "%u", s.number)));
        body += R"(,"row":)";
        body.append(number, static_cast<std::size_t>(std::snprintf(number, sizeof number, "%u", (s.number - 1) / seats_per_row + 1)));
        body += R"(,"status":")";
        body += to_string(s.status);
        body += tail;
    }
    body += "]}";
    return body;
}

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

std::optional<seat_map_body> seat_maps::get(const projections::read_models& models, concert_id c, day_number date,
                                            won price, std::uint32_t seats_per_row, std::optional<seat_status> only,
                                            bool gzip) {
    auto version = models.seats_version(c, date);
    if (!version) return std::nullopt;
    std::shared_ptr<entry> e = find({c.value, date, only ? static_cast<int>(*only) : -1});
    std::ptrdiff_t added = 0;
    seat_map_body out;
    {
        std::lock_guard lock(e->rendering);
        if (e->version != *version || !e->body) {
            auto seats = models.seats(c, date, false);
            if (!seats) return std::nullopt;
            added -= static_cast<std::ptrdiff_t>((e->body ? e->body->size() : 0) + (e->gzip_body ? e->gzip_body->size() : 0));
            e->body = std::make_shared<const std::string>(render(c, date, price, seats_per_row, *seats, only));
            e->gzip_body.reset();
            e->version = *version;
            added += static_cast<std::ptrdiff_t>(e->body->size());
        }
        const std::string tag = "e" + std::to_string(epoch_) + "v" + std::to_string(e->version) +
                                (only ? "s" + std::to_string(static_cast<int>(*only)) : "");
        out.gzip = gzip && e->body->size() >= gzip_bytes_min;
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
