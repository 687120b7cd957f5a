// Catch2's main, alone in its translation unit so that the tests recompile without it.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
