#include "api/requests.hpp"

#include <charconv>

#include <set>
#include <vector>

#include "events/text.hpp"
#include "events/types.hpp"

namespace encore::api {

request_context::request_context(http_request r, responder p) : request(std::move(r)), respond(std::move(p)) {
    std::string_view target(request.target().data(), request.target().size());
    auto q = target.find('?');
    std::string_view path = target.substr(0, q);
    if (q != std::string_view::npos) query = target.substr(q + 1);
    // Every '/' after the leading one starts a segment, so "//a", "/a//b" and "/a/" keep their
    // empty segments: no route matches an empty segment, and such paths are 404 rather than
    // aliases of "/a" and "/a/b" (one resource, one path).
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    if (path.empty()) return;
    std::size_t i = 0;
    for (;;) {
        auto next = path.find('/', i);
        if (next == std::string_view::npos) {
            segments.push_back(path.substr(i));
            break;
        }
        segments.push_back(path.substr(i, next - i));
        i = next + 1;
    }
}

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// RFC 3986 percent-decoding: "%3A" is ':'. A '%' not followed by two hex digits stays as it is;
// '+' stays '+' (it is a space only in HTML forms, and instants may carry offsets).
std::string percent_decoded(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
            i += 2;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

}  // namespace

std::optional<std::string_view> request_context::query_param(std::string_view name) const {
    if (!query_decoded_) {
        // Split first, then decode each name and value, so an encoded '&' or '=' is data.
        std::string_view rest = query;
        while (!rest.empty()) {
            auto amp = rest.find('&');
            std::string_view pair = rest.substr(0, amp);
            rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
            auto eq = pair.find('=');
            params_.emplace_back(percent_decoded(pair.substr(0, eq)),
                                 eq == std::string_view::npos ? std::string() : percent_decoded(pair.substr(eq + 1)));
        }
        query_decoded_ = true;
    }
    for (const auto& [key, value] : params_) {
        if (key == name) return std::string_view(value);
    }
    return std::nullopt;
}

std::string page_cursor(std::string_view position) { return hex(position); }

std::optional<page_request> request_context::paging() {
    page_request page;
    if (auto limit = query_param("limit")) {
        std::size_t value = 0;
        auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), value);
        if (ec != std::errc{} || end != limit->data() + limit->size() || value < 1 || value > page_limit_max) {
            fail(400, "INVALID_REQUEST", "limit must be an integer from 1 to 1000");
            return std::nullopt;
        }
        page.limit = value;
    }
    if (auto cursor = query_param("cursor")) {
        auto nibble = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            return -1;
        };
        bool valid = !cursor->empty() && cursor->size() % 2 == 0 && cursor->size() <= 2 * page_cursor_bytes_max;
        for (std::size_t i = 0; valid && i < cursor->size(); i += 2) {
            int high = nibble((*cursor)[i]), low = nibble((*cursor)[i + 1]);
            valid = high >= 0 && low >= 0;
            page.after.push_back(static_cast<char>(high * 16 + low));
        }
        if (!valid) {
            fail(400, "INVALID_REQUEST", "cursor must be the nextCursor of a previous page");
            return std::nullopt;
        }
    }
    return page;
}

std::string_view request_context::header(std::string_view name) const {
    auto it = request.find(boost::beast::string_view(name.data(), name.size()));
    if (it == request.end()) return {};
    return {it->value().data(), it->value().size()};
}

std::optional<nlohmann::json> request_context::json_object(bool empty_ok) {
    const std::string& body = request.body();
    if (empty_ok && body.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
    // Duplicate keys are refused: two parties reading "the" value of a repeated key may disagree
    // (one takes the first, another the last), which is how a check is slipped past a validator.
    std::vector<std::set<std::string>> keys_seen;
    bool duplicate = false;
    auto parsed = nlohmann::json::parse(
        body,
        [&](int, nlohmann::json::parse_event_t event, nlohmann::json& value) {
            using ev = nlohmann::json::parse_event_t;
            if (event == ev::object_start) keys_seen.emplace_back();
            if (event == ev::object_end && !keys_seen.empty()) keys_seen.pop_back();
            if (event == ev::key && !keys_seen.empty() && !keys_seen.back().insert(value.get<std::string>()).second)
                duplicate = true;
            return true;
        },
        false);
    if (!parsed.is_discarded() && duplicate) {
        fail(400, "INVALID_REQUEST", "the body repeats a key in one object");
        return std::nullopt;
    }
    if (parsed.is_discarded()) {
        fail(400, "INVALID_REQUEST", "the body is not valid JSON");
        return std::nullopt;
    }
    if (!parsed.is_object()) {
        fail(400, "INVALID_REQUEST", "the body must be a JSON object");
        return std::nullopt;
    }
    return parsed;
}

std::optional<std::string> request_context::idempotency_key() {
    std::string_view key = header("Idempotency-Key");
    if (request.find("Idempotency-Key") == request.end()) return std::string{};
    bool printable = std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
    if (key.empty() || key.size() > idempotency_key_length_max || !printable) {
        fail(400, "INVALID_REQUEST", "Idempotency-Key must be 1 to 64 printable ASCII characters");
        return std::nullopt;
    }
    return std::string(key);
}

void request_context::reply(unsigned status, const nlohmann::json& body) { send(json_response(status, body)); }
void request_context::reply_json_text(unsigned status, std::string body) { send(json_text_response(status, std::move(body))); }

void request_context::fail(unsigned status, std::string_view code, std::string_view message) {
    send(error_response(status, code, message));
}

void request_context::send(http_response response) {
    answered = true;
    respond.send(std::move(response), route);
}

}  // namespace encore::api
