// The Kafka-mode integration suite's main, with a listener that prints the logs of the live
// processes (every `encore serve --kafka` and the `encore kafka-mock`) when an assertion fails.
#define CATCH_CONFIG_RUNNER
#include "tests/support/catch_main.hpp"

#include "tests/integration/kafka_cluster.hpp"

namespace {

struct cluster_logs_on_failure : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;

    bool assertionEnded(const Catch::AssertionStats& stats) override {
        if (!stats.assertionResult.isOk()) {
            for (const auto* cluster : encore::test::kafka_cluster::live()) cluster->report_logs();
        }
        return true;
    }
};

}  // namespace

CATCH_REGISTER_LISTENER(cluster_logs_on_failure)

int main(int argc, char* argv[]) { return encore::test::run_catch_session(argc, argv); }
