// Catch2's main, alone in its translation unit so that the tests recompile without it.
#define CATCH_CONFIG_RUNNER
#include "tests/support/catch_main.hpp"

int main(int argc, char* argv[]) { return encore::test::run_catch_session(argc, argv); }
