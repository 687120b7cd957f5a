// The integration suite's main, with a listener that prints the live servers' logs when an
// assertion fails, so that a failure in ctest output comes with the server's side of the story.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

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
