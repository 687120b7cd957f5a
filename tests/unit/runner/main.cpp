// The Catch2 runner of unit_runner; the tests live in the other files of this folder.
#define CATCH_CONFIG_RUNNER
#include "tests/support/catch_main.hpp"

int main(int argc, char* argv[]) { return encore::test::run_catch_session(argc, argv); }
