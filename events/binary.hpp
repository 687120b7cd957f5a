#pragma once
// Little-endian byte writing and bounds-checked reading: the building blocks of the log codec and
// of engine snapshots. A reader never reads past its input; it records the first failure instead.

#include <bit>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace encore {

static_assert(std::endian::native == std::endian::little, "byte_writer copies integers as they are in memory");

// FNV-1a, 64 bits: a hash stable across builds and machines (std::hash is not), for fingerprints,
// checksums against tearing and ETags; not against an adversary.
inline std::uint64_t fnv1a_64(std::string_view bytes) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char b : bytes) h = (h ^ b) * 0x100000001b3ULL;
    return h;
}

class byte_writer {
public:
    explicit byte_writer(std::string& out) : out_(out) {}

    template <class T>
    void put_int(T v) {
        static_assert(std::is_integral_v<T>);
        char bytes[sizeof(T)];
        std::memcpy(bytes, &v, sizeof(T));
        out_.append(bytes, sizeof(T));
    }
    void put_string(std::string_view s) {
        assert(s.size() <= 0xFFFF);
        put_int(static_cast<std::uint16_t>(s.size()));
        out_.append(s);
    }
    // For blobs that may exceed 64 KiB (snapshots).
    void put_long_string(std::string_view s) {
        put_int(static_cast<std::uint64_t>(s.size()));
        out_.append(s);
    }

private:
    std::string& out_;
};

class byte_reader {
public:
    explicit byte_reader(std::string_view in) : in_(in) {}
    bool failed() const { return failed_; }
    bool at_end() const { return pos_ == in_.size(); }
    std::size_t remaining() const { return in_.size() - pos_; }
    const std::string& why() const { return why_; }

    template <class T>
    T get_int() {
        static_assert(std::is_integral_v<T>);
        T v{};
        if (failed_ || remaining() < sizeof(T)) {
            fail("record ends early");
            return v;
        }
        std::memcpy(&v, in_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    std::string get_string() { return take(get_int<std::uint16_t>()); }
    std::string get_long_string() { return take(get_int<std::uint64_t>()); }

    void fail(std::string why) {
        if (!failed_) why_ = std::move(why);
        failed_ = true;
    }

private:
    std::string take(std::uint64_t n) {
        if (failed_) return {};
        if (remaining() < n) {
            fail("string runs past the record");
            return {};
        }
        std::string s(in_.data() + pos_, n);
        pos_ += n;
        return s;
    }

    std::string_view in_;
    std::size_t pos_ = 0;
    bool failed_ = false;
    std::string why_;
};

}  // namespace encore
