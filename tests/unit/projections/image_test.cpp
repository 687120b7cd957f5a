// The image's point table: the one store every point query and every staged event reads, so a
// value written must read back exactly, whatever its size and however often it is rewritten.

#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "projections/image.hpp"

namespace encore::projections {
namespace {

std::map<std::string, std::string> contents(const point_table& t) {
    std::map<std::string, std::string> out;
    t.for_each([&](std::string_view k, std::string_view v) { out.emplace(k, v); });
    return out;
}

TEST_CASE("the point table reads back what was set, rewritten in place or resized, and forgets what was erased") {
    point_table t;
    CHECK(!t.find("b\x01").has_value());
    t.set(std::string("b\0\0\0\0\0\0\0\x07", 9), std::string(8, '\x01'));
    t.set("u1", "kim");
    t.set("q-long-key-of-17!", std::string(33, 'q'));
    t.set("empty", "");
    CHECK(t.size() == 4);
    CHECK(t.find(std::string("b\0\0\0\0\0\0\0\x07", 9)) == std::string(8, '\x01'));
    CHECK(t.find("u1") == "kim");
    CHECK(t.find("empty") == "");
    CHECK(!t.find("u2").has_value());
    CHECK(!t.find("u").has_value());  // a prefix of a key is not the key

    t.set("u1", "lee");  // same size: in place
    CHECK(t.find("u1") == "lee");
    t.set("u1", "a much longer name than before");  // resized
    CHECK(t.find("u1") == "a much longer name than before");
    t.set("u1", "");
    CHECK(t.find("u1") == "");
    CHECK(t.size() == 4);

    t.erase("u1");
    t.erase("never there");
    CHECK(!t.find("u1").has_value());
    CHECK(contents(t) == std::map<std::string, std::string>{{std::string("b\0\0\0\0\0\0\0\x07", 9), std::string(8, '\x01')},
                                                            {"q-long-key-of-17!", std::string(33, 'q')},
                                                            {"empty", ""}});
}

TEST_CASE("the point table keeps every one of many keys through its growth") {
    point_table t;
    std::map<std::string, std::string> expected;
    for (int i = 0; i < 20000; ++i) {
        std::string key = "k" + std::to_string(i * 7919);
        std::string value(static_cast<std::size_t>(i % 50), static_cast<char>('a' + i % 26));
        t.set(key, value);
        expected[key] = value;
        if (i % 3 == 0) {  // rewrite an earlier key with another size, and erase another
            std::string earlier = "k" + std::to_string((i / 2) * 7919);
            t.set(earlier, "x");
            expected[earlier] = "x";
            std::string gone = "k" + std::to_string((i / 3) * 7919);
            t.erase(gone);
            expected.erase(gone);
        }
    }
    CHECK(t.size() == expected.size());
    CHECK(contents(t) == expected);
    for (const auto& [k, v] : expected) REQUIRE(t.find(k) == v);
}

}  // namespace
}  // namespace encore::projections
