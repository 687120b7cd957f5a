#include "events/log/kafka_mock.hpp"

#include "events/types.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>
#include <vector>

namespace encore {
namespace {

// Kafka clusters usually keep three copies; the mock only records the replica list.
constexpr int replication_factor_max = 3;

error mock_error(std::string_view what, rd_kafka_resp_err_t err) {
    return error{errc::io, std::string(what) + ": " + rd_kafka_err2str(err)};
}

}  // namespace

struct kafka_mock::state {
    rd_kafka_t* handle = nullptr;  // the mock cluster's bookkeeping handle; never produces
    rd_kafka_mock_cluster_t* cluster = nullptr;
    std::string bootstrap;
    std::string prefix;
    std::uint32_t partitions = 0;
    int brokers = 0;

    ~state() {
        if (cluster != nullptr) rd_kafka_mock_cluster_destroy(cluster);
        if (handle != nullptr) rd_kafka_destroy(handle);
    }
};

result<std::unique_ptr<kafka_mock>> kafka_mock::start(int brokers, std::uint32_t partitions,
                                                      std::string topic_prefix) {
    if (brokers < 1 || brokers > kafka_mock_brokers_max)
        return error{errc::invalid, "a mock cluster needs 1 to " + std::to_string(kafka_mock_brokers_max) + " brokers"};
    if (partitions < 1 || partitions > partitions_max)
        return error{errc::invalid, "a mock cluster needs 1 to " + std::to_string(partitions_max) + " partitions"};

    auto s = std::make_unique<state>();
    s->prefix = std::move(topic_prefix);
    s->partitions = partitions;
    s->brokers = brokers;

    std::array<char, 512> why{};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // The handle only hosts the cluster; keep its own logging quiet.
    if (rd_kafka_conf_set(conf, "log_level", "3", why.data(), why.size()) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return error{errc::io, std::string("mock cluster configuration: ") + why.data()};
    }
    s->handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why.data(), why.size());
    if (s->handle == nullptr) {
        rd_kafka_conf_destroy(conf);  // rd_kafka_new takes the configuration only when it succeeds
        return error{errc::io, std::string("cannot create the mock cluster's handle: ") + why.data()};
    }
    s->cluster = rd_kafka_mock_cluster_new(s->handle, brokers);
    if (s->cluster == nullptr) return error{errc::io, "cannot start the mock cluster"};
    s->bootstrap = rd_kafka_mock_cluster_bootstraps(s->cluster);

    const int replicas = std::min(brokers, replication_factor_max);
    const std::array<std::pair<std::string, std::uint32_t>, 3> topics = {{
        {s->prefix + "commands", partitions},
        {s->prefix + "events", partitions},
        {s->prefix + "snapshots", 1},
    }};
    for (const auto& [name, count] : topics) {
        rd_kafka_resp_err_t err =
            rd_kafka_mock_topic_create(s->cluster, name.c_str(), static_cast<int>(count), replicas);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return mock_error("cannot create mock topic " + name, err);
    }
    return std::unique_ptr<kafka_mock>(new kafka_mock(std::move(s)));
}

kafka_mock::kafka_mock(std::unique_ptr<state> state) : state_(std::move(state)) {}
kafka_mock::~kafka_mock() = default;

const std::string& kafka_mock::bootstrap_servers() const { return state_->bootstrap; }
const std::string& kafka_mock::topic_prefix() const { return state_->prefix; }
std::uint32_t kafka_mock::partitions() const { return state_->partitions; }
int kafka_mock::brokers() const { return state_->brokers; }

result<unit> kafka_mock::set_broker_down(int broker_id, bool down) {
    rd_kafka_resp_err_t err = down ? rd_kafka_mock_broker_set_down(state_->cluster, broker_id)
                                   : rd_kafka_mock_broker_set_up(state_->cluster, broker_id);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return mock_error("cannot set mock broker state", err);
    return unit{};
}

void kafka_mock::push_request_errors(std::int16_t api_key, std::size_t count, int kafka_error_code) {
    std::vector<rd_kafka_resp_err_t> errors(count, static_cast<rd_kafka_resp_err_t>(kafka_error_code));
    rd_kafka_mock_push_request_errors_array(state_->cluster, api_key, errors.size(), errors.data());
}

result<unit> kafka_mock::push_broker_request_errors(int broker_id, std::int16_t api_key, std::size_t count,
                                                    int kafka_error_code, int rtt_ms) {
    // The librdkafka call takes its (error, rtt) pairs as varargs: push them one at a time.
    for (std::size_t i = 0; i < count; ++i) {
        rd_kafka_resp_err_t err = rd_kafka_mock_broker_push_request_error_rtts(
            state_->cluster, broker_id, api_key, 1, static_cast<rd_kafka_resp_err_t>(kafka_error_code), rtt_ms);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return mock_error("cannot push a mock broker error", err);
    }
    return unit{};
}

result<std::size_t> kafka_mock::broker_request_errors_pending(int broker_id, std::int16_t api_key) {
    std::size_t pending = 0;
    rd_kafka_resp_err_t err = rd_kafka_mock_broker_error_stack_cnt(state_->cluster, broker_id, api_key, &pending);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return mock_error("cannot count mock broker errors", err);
    return pending;
}

result<unit> kafka_mock::set_rtt(int broker_id, int rtt_ms) {
    rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_rtt(state_->cluster, broker_id, rtt_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return mock_error("cannot set mock broker round-trip time", err);
    return unit{};
}

result<unit> kafka_mock::set_partition_leader(const std::string& topic, std::uint32_t partition, int broker_id) {
    rd_kafka_resp_err_t err =
        rd_kafka_mock_partition_set_leader(state_->cluster, topic.c_str(), static_cast<std::int32_t>(partition), broker_id);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return mock_error("cannot set mock partition leader", err);
    return unit{};
}

}  // namespace encore
