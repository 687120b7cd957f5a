#pragma once
// The main() of every Catch2 test binary: Catch's own, except that it takes -w (--warn) any number
// of times, as Catch2 v3 does. Catch2 v2 (2.13) takes one: a second is an "Unrecognised token", so
// ctest could not ask for both `-w NoTests` (a test name that matches nothing fails) and
// `-w NoAssertions` (a test case or section that asserts nothing fails). The warnings are gathered
// here and set on the session; everything else goes to Catch as it came.
//
// A test's main.cpp:
//     #define CATCH_CONFIG_RUNNER
//     #include "tests/support/catch_main.hpp"
//     int main(int argc, char* argv[]) { return encore::test::run_catch_session(argc, argv); }

#include <catch2/catch.hpp>

#include <cstdio>
#include <string_view>
#include <vector>

namespace encore::test {

inline int run_catch_session(int argc, char* argv[]) {
    using Catch::WarnAbout;
    WarnAbout::What warnings = WarnAbout::Nothing;
    std::vector<char*> passed_on;
    for (int i = 0; i < argc; ++i) {
        const std::string_view argument = argv[i];
        if (i == 0 || (argument != "-w" && argument != "--warn")) {
            passed_on.push_back(argv[i]);
            continue;
        }
        if (i + 1 == argc) {
            std::fprintf(stderr, "%s needs a warning name: NoAssertions or NoTests\n", argv[i]);
            return 1;
        }
        const std::string_view name = argv[++i];
        if (name == "NoAssertions") {
            warnings = static_cast<WarnAbout::What>(warnings | WarnAbout::NoAssertions);
        } else if (name == "NoTests") {
            warnings = static_cast<WarnAbout::What>(warnings | WarnAbout::NoTests);
        } else {
            std::fprintf(stderr, "Unrecognised warning: '%s'\n", argv[i]);
            return 1;
        }
    }
    Catch::Session session;
    const int parsed = session.applyCommandLine(static_cast<int>(passed_on.size()), passed_on.data());
    if (parsed != 0) return parsed;
    session.configData().warnings = static_cast<WarnAbout::What>(session.configData().warnings | warnings);
    return session.run();
}

}  // namespace encore::test
