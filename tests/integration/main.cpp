// The integration suite's main, with a listener that prints the live servers' logs when an
// assertion fails, so that a failure in ctest output comes with the server's side of the story.
#define CATCH_CONFIG_RUNNER
#include "tests/support/catch_main.hpp"

#include "tests/integration/server_process.hpp"

namespace {

struct server_log_on_failure : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;

    bool assertionEnded(const Catch::AssertionStats& stats) override {
        if (!stats.assertionResult.isOk()) {
            for (const auto* server : encore::test::server_process::live()) server->report_log();
        }
        return true;
    }
};

}  // namespace

CATCH_REGISTER_LISTENER(server_log_on_failure)

int main(int argc, char* argv[]) { return encore::test::run_catch_session(argc, argv); }
