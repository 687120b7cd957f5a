// The Kafka-mode integration suite's main, with a listener that prints the logs of the live
// processes (every `encore serve --kafka` and the `encore kafka-mock`) when an assertion fails.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

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
