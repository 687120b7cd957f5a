// The Catch2 runner of unit_runner; the tests live in the other files of this folder.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
