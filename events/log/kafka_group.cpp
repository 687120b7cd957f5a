#include "events/log/kafka_group.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <utility>

#include "events/diagnostics.hpp"

namespace encore {
namespace {

constexpr std::string_view component = "kafka-group";
// The poll thread reports a consumer error at most this often: a broker that is down would
// otherwise log a line per poll.
constexpr std::chrono::seconds error_report_interval{1};

using setting_list = std::vector<std::pair<std::string, std::string>>;

void log_line(const rd_kafka_t* handle, int syslog_level, const char* facility, const char* text) {
    const diag::level l = syslog_level <= 3   ? diag::level::error
                          : syslog_level == 4 ? diag::level::warn
                          : syslog_level <= 6 ? diag::level::info
                                              : diag::level::debug;
    diag::write(l, component, text, {{"client", rd_kafka_name(handle)}, {"facility", facility}});
}

void on_rebalance(rd_kafka_t* handle, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions, void* opaque);

}  // namespace

struct kafka_group::state {
    std::string topic;
    std::uint32_t partitions = 0;
    kafka_group_listener listener;
    std::chrono::milliseconds poll_interval{100};
    rd_kafka_t* handle = nullptr;
    std::thread poller;
    std::atomic<bool> stopping{false};
    bool left = false;  // leave() ran; touched by the owner's thread only

    std::atomic<bool> joined{false};
    std::atomic<std::uint64_t> rebalances{0};
    mutable std::mutex assignment_mutex;
    std::set<std::uint32_t> assignment;  // under assignment_mutex

    ~state() {
        if (handle != nullptr) rd_kafka_destroy(handle);
    }

    std::vector<std::uint32_t> ours(const rd_kafka_topic_partition_list_t* list) const {
        std::vector<std::uint32_t> out;
        for (int i = 0; list != nullptr && i < list->cnt; ++i) {
            const rd_kafka_topic_partition_t& tp = list->elems[i];
            if (topic == tp.topic && tp.partition >= 0 && static_cast<std::uint32_t>(tp.partition) < partitions)
                out.push_back(static_cast<std::uint32_t>(tp.partition));
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    void assign(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* list, bool cooperative) {
        // Nothing is ever consumed through the group: start at the end, and pause at once.
        for (int i = 0; i < list->cnt; ++i) list->elems[i].offset = RD_KAFKA_OFFSET_END;
        if (cooperative) {
            if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, list)) {
                diag::error(component, "incremental assign failed", {{"error", rd_kafka_error_string(e)}});
                rd_kafka_error_destroy(e);
            }
        } else if (const rd_kafka_resp_err_t e = rd_kafka_assign(rk, list); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            diag::error(component, "assign failed", {{"error", rd_kafka_err2str(e)}});
        }
        if (list->cnt > 0) {
            if (const rd_kafka_resp_err_t e = rd_kafka_pause_partitions(rk, list); e != RD_KAFKA_RESP_ERR_NO_ERROR)
                diag::warn(component, "pausing the assigned partitions failed", {{"error", rd_kafka_err2str(e)}});
        }
        const std::vector<std::uint32_t> given = ours(list);
        {
            std::lock_guard lock(assignment_mutex);
            assignment.insert(given.begin(), given.end());
        }
        joined.store(true);
        ++rebalances;
        diag::info(component, "partitions assigned to this process",
                   {{"partitions", given}, {"protocol", cooperative ? "cooperative" : "eager"}});
        if (listener.assigned) listener.assigned(given);
    }

    void revoke(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* list, bool cooperative) {
        const std::vector<std::uint32_t> taken = ours(list);
        const bool lost = rd_kafka_assignment_lost(rk) != 0;
        diag::info(component, lost ? "partitions lost (the session expired): releasing them"
                                   : "partitions revoked: releasing them",
                   {{"partitions", taken}});
        // Stop the runners first; acknowledging before would let a new owner start while this
        // process still writes.
        if (listener.revoked) listener.revoked(taken);
        if (cooperative) {
            if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, list)) {
                diag::error(component, "incremental unassign failed", {{"error", rd_kafka_error_string(e)}});
                rd_kafka_error_destroy(e);
            }
        } else if (const rd_kafka_resp_err_t e = rd_kafka_assign(rk, nullptr); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            diag::error(component, "unassign failed", {{"error", rd_kafka_err2str(e)}});
        }
        {
            std::lock_guard lock(assignment_mutex);
            if (cooperative) {
                for (std::uint32_t p : taken) assignment.erase(p);
            } else {
                assignment.clear();
            }
        }
        ++rebalances;
    }

    // The poll thread: serves rebalances, drops whatever a fetch delivered, and at the end closes
    // the consumer (which revokes through the callback and leaves the group).
    void poll_loop() {
        auto last_report = std::chrono::steady_clock::time_point{};
        while (!stopping.load()) {
            rd_kafka_message_t* m = rd_kafka_consumer_poll(handle, static_cast<int>(poll_interval.count()));
            if (m == nullptr) continue;
            if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                const auto now = std::chrono::steady_clock::now();
                if (now - last_report >= error_report_interval) {
                    last_report = now;
                    diag::warn(component, "group consumer error", {{"error", rd_kafka_message_errstr(m)}});
                }
            }
            rd_kafka_message_destroy(m);
        }
        if (const rd_kafka_resp_err_t e = rd_kafka_consumer_close(handle); e != RD_KAFKA_RESP_ERR_NO_ERROR)
            diag::warn(component, "closing the group consumer failed", {{"error", rd_kafka_err2str(e)}});
    }
};

namespace {

void on_rebalance(rd_kafka_t* handle, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* s = static_cast<kafka_group::state*>(opaque);
    const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE";
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        s->assign(handle, partitions, cooperative);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        s->revoke(handle, partitions, cooperative);
    } else {
        diag::error(component, "rebalance failed; releasing everything", {{"error", rd_kafka_err2str(err)}});
        s->revoke(handle, partitions, false);
    }
}

result<rd_kafka_conf_t*> make_conf(const kafka_group_options& o, kafka_group::state* s) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    const std::string group = o.group_id.empty() ? o.log.topic_prefix + "encore-engines" : o.group_id;
    setting_list all = {
        {"bootstrap.servers", o.log.bootstrap},
        {"client.id", o.log.client_id + "-group"},
        {"group.id", group},
        {"reconnect.backoff.max.ms", "1000"},
        {"session.timeout.ms", std::to_string(o.session_timeout_ms)},
        // librdkafka wants heartbeats well inside the session: at most a third of it.
        {"heartbeat.interval.ms", std::to_string(std::min(o.heartbeat_interval_ms, o.session_timeout_ms / 3))},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "latest"},
        {"enable.partition.eof", "false"},
    };
    // The operator's settings come last (SASL, TLS, the assignor, timeouts); kafka_log::open has
    // refused the ones our guarantees rest on.
    all.insert(all.end(), o.log.config.begin(), o.log.config.end());
    std::array<char, 512> why{};
    for (const auto& [key, value] : all) {
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), why.data(), why.size()) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            return error{errc::invalid, "kafka group: configuration " + key + "=" + value + ": " + why.data()};
        }
    }
    rd_kafka_conf_set_log_cb(conf, log_line);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, s);
    return conf;
}

}  // namespace

result<std::unique_ptr<kafka_group>> kafka_group::join(const kafka_group_options& options, kafka_group_listener listener) {
    if (options.log.bootstrap.empty()) return error{errc::invalid, "kafka group: no bootstrap servers given"};
    if (options.log.partitions == 0) return error{errc::invalid, "kafka group: no partition count given"};
    auto s = std::make_unique<state>();
    s->topic = options.log.topic_prefix + "commands";
    s->partitions = options.log.partitions;
    s->listener = std::move(listener);
    s->poll_interval = options.poll_interval;
    auto conf = make_conf(options, s.get());
    if (!conf) return conf.err();
    std::array<char, 512> why{};
    s->handle = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, why.data(), why.size());
    if (s->handle == nullptr) {
        rd_kafka_conf_destroy(*conf);
        return error{errc::invalid, std::string("kafka group: cannot create the consumer: ") + why.data()};
    }
    rd_kafka_poll_set_consumer(s->handle);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, s->topic.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t err = rd_kafka_subscribe(s->handle, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return error{errc::unavailable, std::string("kafka group: cannot subscribe to ") + s->topic + ": " + rd_kafka_err2str(err)};
    state* raw = s.get();
    s->poller = std::thread([raw] { raw->poll_loop(); });
    diag::info(component, "joining the engine group", {{"topic", s->topic}, {"session_timeout_ms", options.session_timeout_ms}});
    return std::unique_ptr<kafka_group>(new kafka_group(std::move(s)));
}

kafka_group::kafka_group(std::unique_ptr<state> s) : state_(std::move(s)) {}

kafka_group::~kafka_group() { leave(); }

void kafka_group::leave() {
    if (!state_ || state_->left) return;
    state_->left = true;
    state_->stopping.store(true);
    if (state_->poller.joinable()) state_->poller.join();
    diag::info(component, "left the engine group");
}

bool kafka_group::joined() const { return state_->joined.load(); }

std::vector<std::uint32_t> kafka_group::assignment() const {
    std::lock_guard lock(state_->assignment_mutex);
    return {state_->assignment.begin(), state_->assignment.end()};
}

std::uint64_t kafka_group::rebalances() const { return state_->rebalances.load(); }

}  // namespace encore
