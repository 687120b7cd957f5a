#include "events/codec.hpp"

#include <bit>
#include <cassert>
#include <cstring>
#include <type_traits>

#include "events/binary.hpp"
#include "events/fields.hpp"

namespace encore {
namespace {

template <class E> constexpr std::uint8_t enum_max = 0;
template <> constexpr std::uint8_t enum_max<refusal> = refusal_max;
template <> constexpr std::uint8_t enum_max<reservation_status> = 4;
template <> constexpr std::uint8_t enum_max<queue_status> = 3;
template <> constexpr std::uint8_t enum_max<command_type> = command_type_count - 1;
template <> constexpr std::uint8_t enum_max<scan_result> = scan_result_max;

template <class T> struct is_named : std::false_type {};
template <class Tag, class T> struct is_named<named<Tag, T>> : std::true_type {};
template <class T> struct is_vector : std::false_type {};
template <class T> struct is_vector<std::vector<T>> : std::true_type {};

class writer : public byte_writer {
public:
    using byte_writer::byte_writer;

    template <class T>
    void operator()(const char*, const T& v) { put(v); }

    template <class T>
    void put(const T& v) {
        if constexpr (std::is_same_v<T, bool>) {
            put_int<std::uint8_t>(v ? 1 : 0);
        } else if constexpr (std::is_enum_v<T>) {
            put_int(static_cast<std::uint8_t>(v));
        } else if constexpr (std::is_integral_v<T>) {
            put_int(v);
        } else if constexpr (is_named<T>::value || std::is_same_v<T, reservation_id>) {
            put_int(v.value);
        } else if constexpr (std::is_same_v<T, log_position>) {
            put_int(v.partition);
            put_int(v.offset);
        } else if constexpr (std::is_same_v<T, std::string>) {
            put_string(v);
        } else if constexpr (is_vector<T>::value) {
            assert(v.size() <= 0xFFFF);
            put_int(static_cast<std::uint16_t>(v.size()));
            for (const auto& item : v) put(item);
        } else if constexpr (is_boxed<T>::value) {
            put(v.get());
        } else if constexpr (std::is_base_of_v<record_tail, T>) {
            if (v != T{}) fields::each(const_cast<T&>(v), *this);
        } else {
            fields::each(const_cast<T&>(v), *this);
        }
    }
};

class reader : public byte_reader {
public:
    using byte_reader::byte_reader;

    template <class T>
    void operator()(const char*, T& v) { get(v); }

    template <class T>
    void get(T& v) {
        if (failed()) return;
        if constexpr (std::is_same_v<T, bool>) {
            auto b = get_int<std::uint8_t>();
            if (b > 1) fail("boolean out of range");
            v = b == 1;
        } else if constexpr (std::is_enum_v<T>) {
            auto b = get_int<std::uint8_t>();
            if (b > enum_max<T>) fail("enumeration out of range");
            v = static_cast<T>(b);
        } else if constexpr (std::is_integral_v<T>) {
            v = get_int<T>();
        } else if constexpr (is_named<T>::value || std::is_same_v<T, reservation_id>) {
            v.value = get_int<decltype(v.value)>();
        } else if constexpr (std::is_same_v<T, log_position>) {
            v.partition = get_int<std::uint32_t>();
            v.offset = get_int<std::uint64_t>();
        } else if constexpr (std::is_same_v<T, std::string>) {
            v = get_string();
        } else if constexpr (is_vector<T>::value) {
            auto n = get_int<std::uint16_t>();
            v.clear();
            // Each element takes at least one byte: a count larger than what is left is corrupt.
            if (n > remaining()) return fail("element count runs past the record");
            v.reserve(n);
            for (std::uint16_t i = 0; i < n && !failed(); ++i) get(v.emplace_back());
        } else if constexpr (is_boxed<T>::value) {
            v.reset();
            if (at_end()) return;  // a tail not written: unset
            get(v.mut());
            if (!failed() && v.get() == std::remove_cvref_t<decltype(v.get())>{}) v.reset();
        } else if constexpr (std::is_base_of_v<record_tail, T>) {
            v = T{};
            if (at_end()) return;  // written before these fields existed
            fields::each(v, *this);
            if (!failed() && v == T{}) fail("a record tail of defaults, which the encoder leaves out");
        } else {
            fields::each(v, *this);
        }
    }
};

// Builds the variant alternative `index` at run time (the tag byte chooses it).
template <class Variant, std::size_t I = 0>
bool emplace_by_index(Variant& v, std::size_t index, reader& r) {
    if constexpr (I < std::variant_size_v<Variant>) {
        if (index == I) {
            r.get(v.template emplace<I>());
            return true;
        }
        return emplace_by_index<Variant, I + 1>(v, index, r);
    } else {
        return false;
    }
}

template <class Record, class Header>
result<Record> decode_record(std::string_view bytes, Header&& header) {
    if (bytes.size() > record_size_max) return error{errc::corrupt, "record larger than the limit"};
    reader r(bytes);
    auto version = r.get_int<std::uint8_t>();
    auto tag = r.get_int<std::uint8_t>();
    if (r.failed()) return error{errc::corrupt, r.why()};
    if (version != codec_version) return error{errc::corrupt, "unknown format version " + std::to_string(version)};
    Record rec;
    header(r, rec);
    if (!emplace_by_index(rec.body, tag, r)) return error{errc::corrupt, "unknown record type " + std::to_string(tag)};
    if (r.failed()) return error{errc::corrupt, r.why()};
    if (!r.at_end()) return error{errc::corrupt, "trailing bytes after the record"};
    return rec;
}

}  // namespace

void encode(const command& c, std::string& out) {
    writer w(out);
    w.put_int(codec_version);
    w.put_int(static_cast<std::uint8_t>(c.body.index()));
    w.put(c.meta);
    std::visit([&](const auto& body) { w.put(body); }, c.body);
}

void encode(const event& e, std::string& out) {
    writer w(out);
    w.put_int(codec_version);
    w.put_int(static_cast<std::uint8_t>(e.body.index()));
    w.put(e.sequence);
    w.put(e.cause);
    w.put(e.answers);
    w.put(e.at);
    std::visit([&](const auto& body) { w.put(body); }, e.body);
}

std::uint64_t request_fingerprint(const command& c) {
    std::string bytes;
    writer w(bytes);
    w.put_int(static_cast<std::uint8_t>(c.body.index()));
    std::visit([&](const auto& body) { w.put(body); }, c.body);
    return fnv1a_64(bytes);
}

std::string encode(const command& c) {
    std::string out;
    encode(c, out);
    return out;
}

std::string encode(const event& e) {
    std::string out;
    encode(e, out);
    return out;
}

result<command> decode_command(std::string_view bytes) {
    return decode_record<command>(bytes, [](reader& r, command& c) { r.get(c.meta); });
}

result<event> decode_event(std::string_view bytes) {
    return decode_record<event>(bytes, [](reader& r, event& e) {
        r.get(e.sequence);
        r.get(e.cause);
        r.get(e.answers);
        r.get(e.at);
    });
}

}  // namespace encore
