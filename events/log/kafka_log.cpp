#include "events/log/kafka_log.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <charconv>
#include <cstring>
#include <exception>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "events/chain.hpp"
#include "events/codec.hpp"
#include "events/diagnostics.hpp"
#include "events/json.hpp"
#include "events/text.hpp"

namespace encore {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view component = "kafka";

// ---- Limits and timeouts ------------------------------------------------------------------------

// The partition count of a topic; routing hashes into it, so a typo must not ask for millions.
// Metadata, watermark and offset queries at open and on refresh. Generous: a broker that does not
// answer in this time is as good as down for an owner deciding what to do.
constexpr std::chrono::milliseconds query_timeout = 10s;
// The refresh `end()` does on its own when its cached ends are stale: short, because its callers
// (metrics, readiness) would rather get the last known end than wait.
constexpr std::chrono::milliseconds end_query_timeout = 1s;
// The longest one `read` waits for records that are known to exist (below the end): a fetch that
// takes longer means the cluster is unavailable, which the reader must hear about.
constexpr std::chrono::milliseconds fetch_known_records_wait = 30s;
// The longest one `read` waits for new records, whatever it asks: a reader loops anyway, and a huge
// wait would overflow librdkafka's int milliseconds.
constexpr std::chrono::milliseconds read_wait_max = 1h;
// The poll thread wakes at least this often to check whether it must stop.
constexpr int poll_interval_ms = 100;
// How long closing waits for outstanding deliveries before failing them.
constexpr std::chrono::milliseconds close_flush_wait = 10s;
// Room for Kafka's framing around the largest checkpoint value.
constexpr std::size_t message_overhead_bytes = 1u << 20;
// Records waiting in the producer before an append is refused (errc::unavailable): a stalled
// cluster turns into refusals, not unbounded memory. librdkafka's default is 100000.
constexpr int producer_queue_messages_max = 1'000'000;
// Prefetched bytes kept per partition by a stream consumer (librdkafka's default is 64 MiB per
// partition, which P partitions × two streams would multiply), and the most one fetch returns.
constexpr std::size_t stream_prefetch_bytes = 8u << 20;
// The largest message of the stream topics: a record at its limit, in base64 beside its JSON
// rendering (numbers as decimal text take up to ~3 times their binary bytes).
constexpr std::size_t stream_message_bytes_max = 8 * kafka_record_bytes_max;
// The prefetch of the consumer that reads single last records (read_last).
constexpr std::size_t last_record_prefetch_bytes = 1u << 20;

// ---- Record envelopes ---------------------------------------------------------------------------

constexpr std::string_view record_member = "\"record\":\"";

struct rendering {
    std::string key;          // the command or event type, or "undecoded"
    nlohmann::json document;  // an object
};

rendering render(kafka_stream_kind kind, std::string_view record) {
    if (kind == kafka_stream_kind::commands) {
        auto decoded = decode_command(record);
        if (decoded) return {std::string(to_string(decoded->type())), to_json(*decoded)};
    } else {
        sealed_event sealed;
        if (unseal(record, sealed)) {
            auto decoded = decode_event(sealed.event_bytes);
            if (decoded) {
                nlohmann::json document = to_json(*decoded);
                document["link"] = to_hex(sealed.link);
                return {std::string(to_string(decoded->type())), std::move(document)};
            }
        }
    }
    // Not ours to judge: the log stores what it is given, and readers report what does not decode.
    return {"undecoded", nlohmann::json::object()};
}

// One message for the commands or events topic: its key and its envelope.
struct stream_message {
    std::string key;
    std::string value;
};

stream_message make_stream_message(kafka_stream_kind kind, std::string_view record) {
    stream_message message;
    try {
        rendering r = render(kind, record);
        assert(r.document.is_object() && !r.document.contains("record"));
        message.key = std::move(r.key);
        // Invalid UTF-8 in a name is replaced, not thrown: the rendering is for people; the record
        // itself travels in base64, untouched.
        message.value = r.document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } catch (const std::exception& e) {
        diag::warn(component, "a record could not be rendered as JSON", {{"error", e.what()}});
        message.key = "undecoded";
        message.value = "{}";
    }
    assert(message.value.size() >= 2 && message.value.back() == '}');
    message.value.pop_back();
    if (message.value.size() > 1) message.value.push_back(',');
    message.value.append(record_member);
    base64_encode(record, message.value);
    message.value.append("\"}");
    return message;
}

// The fast path: the envelope ends with "record":"<base64>"}, and base64 has no quote, so the
// member is found from the end without parsing the JSON before it.
std::optional<std::string_view> envelope_record_fast(std::string_view value) {
    if (value.size() < record_member.size() + 3 || !value.ends_with("\"}")) return std::nullopt;
    const std::size_t closing = value.size() - 2;
    const void* quote = memrchr(value.data(), '"', closing);
    if (quote == nullptr) return std::nullopt;
    const std::size_t opening = static_cast<std::size_t>(static_cast<const char*>(quote) - value.data());
    if (opening + 1 < record_member.size()) return std::nullopt;
    const std::size_t member = opening + 1 - record_member.size();
    if (value.substr(member, record_member.size()) != record_member) return std::nullopt;
    if (member == 0 || (value[member - 1] != ',' && value[member - 1] != '{')) return std::nullopt;
    return value.substr(opening + 1, closing - opening - 1);
}

// ---- librdkafka plumbing ------------------------------------------------------------------------

struct conf_deleter {
    void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct topic_conf_deleter {
    void operator()(rd_kafka_topic_conf_t* conf) const { rd_kafka_topic_conf_destroy(conf); }
};
struct handle_deleter {
    void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
struct topic_deleter {
    void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
};
struct partition_list_deleter {
    void operator()(rd_kafka_topic_partition_list_t* list) const { rd_kafka_topic_partition_list_destroy(list); }
};
struct message_deleter {
    void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
using conf_ptr = std::unique_ptr<rd_kafka_conf_t, conf_deleter>;
using topic_conf_ptr = std::unique_ptr<rd_kafka_topic_conf_t, topic_conf_deleter>;
using handle_ptr = std::unique_ptr<rd_kafka_t, handle_deleter>;
using topic_ptr = std::unique_ptr<rd_kafka_topic_t, topic_deleter>;
using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter>;
using message_ptr = std::unique_ptr<rd_kafka_message_t, message_deleter>;

// Errors that go away when the cluster comes back; the rest are errc::io.
bool is_transient(rd_kafka_resp_err_t err) {
    switch (err) {
        case RD_KAFKA_RESP_ERR__TIMED_OUT:
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
        case RD_KAFKA_RESP_ERR__TRANSPORT:
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
        case RD_KAFKA_RESP_ERR__RESOLVE:
        case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
        case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
        case RD_KAFKA_RESP_ERR__DESTROY:
        case RD_KAFKA_RESP_ERR__WAIT_COORD:
        case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
        case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
        case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
        case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
        case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
        case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
        case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
        case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
            return true;
        default:
            return false;
    }
}

error kafka_error(std::string_view what, rd_kafka_resp_err_t err) {
    return error{is_transient(err) ? errc::unavailable : errc::io,
                 "kafka: " + std::string(what) + ": " + rd_kafka_err2name(err) + " (" + rd_kafka_err2str(err) + ")"};
}

// librdkafka's own log lines, from its threads, as our structured lines.
void log_line(const rd_kafka_t* handle, int syslog_level, const char* facility, const char* text) {
    diag::level l = syslog_level <= 3   ? diag::level::error
                    : syslog_level == 4 ? diag::level::warn
                    : syslog_level <= 6 ? diag::level::info
                                        : diag::level::debug;
    // Every open would warn that the gapless guarantee we ask for is "experimental": we know.
    if (std::string_view(facility) == "CONFWARN" && std::string_view(text).find("enable.gapless.guarantee") != std::string_view::npos)
        l = diag::level::debug;
    diag::write(l, component, text, {{"client", rd_kafka_name(handle)}, {"facility", facility}});
}

// Settings that our guarantees rest on; `--kafka-config` may not change them.
constexpr std::array<std::string_view, 16> fixed_settings = {
    "bootstrap.servers",   "metadata.broker.list",     "enable.idempotence",       "acks",
    "request.required.acks", "enable.gapless.guarantee", "transactional.id",       "partitioner",
    "enable.auto.commit",  "auto.commit.enable",       "enable.auto.offset.store", "auto.offset.reset",
    "group.id",            "enable.partition.eof",     "allow.auto.create.topics", "isolation.level",
};

using setting_list = std::vector<std::pair<std::string, std::string>>;

result<conf_ptr> make_conf(const kafka_options& options, const std::string& client_id, const setting_list& ours) {
    conf_ptr conf(rd_kafka_conf_new());
    std::array<char, 512> why{};
    auto set = [&](const std::string& key, const std::string& value) -> std::optional<error> {
        if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), why.data(), why.size()) != RD_KAFKA_CONF_OK)
            return error{errc::invalid, "kafka: configuration " + key + "=" + value + ": " + why.data()};
        return std::nullopt;
    };
    setting_list all = {
        {"bootstrap.servers", options.bootstrap},
        {"client.id", client_id},
        // librdkafka backs off reconnecting up to 10 s by default: after a broker comes back, that
        // would be 10 s more of failed appends and stalled reads for every partition it leads.
        {"reconnect.backoff.max.ms", "1000"},
    };
    all.insert(all.end(), ours.begin(), ours.end());
    all.insert(all.end(), options.config.begin(), options.config.end());
    for (const auto& [key, value] : all) {
        if (auto failed = set(key, value)) return *failed;
    }
    rd_kafka_conf_set_log_cb(conf.get(), log_line);
    return conf;
}

result<handle_ptr> make_handle(rd_kafka_type_t type, conf_ptr conf) {
    std::array<char, 512> why{};
    rd_kafka_t* handle = rd_kafka_new(type, conf.get(), why.data(), why.size());
    if (handle == nullptr) return error{errc::invalid, std::string("kafka: cannot create a client: ") + why.data()};
    conf.release();  // rd_kafka_new took it
    return handle_ptr(handle);
}

result<topic_ptr> make_topic(rd_kafka_t* handle, const std::string& name, const setting_list& settings) {
    // Start from the handle's default topic configuration, which holds the topic-level settings
    // given globally (message.timeout.ms, acks…); a fresh one would silently drop them.
    topic_conf_ptr conf(rd_kafka_default_topic_conf_dup(handle));
    std::array<char, 512> why{};
    for (const auto& [key, value] : settings) {
        if (rd_kafka_topic_conf_set(conf.get(), key.c_str(), value.c_str(), why.data(), why.size()) != RD_KAFKA_CONF_OK)
            return error{errc::invalid, "kafka: topic configuration " + key + "=" + value + ": " + why.data()};
    }
    rd_kafka_topic_t* topic = rd_kafka_topic_new(handle, name.c_str(), conf.get());
    if (topic == nullptr) return kafka_error("cannot use topic " + name, rd_kafka_last_error());
    conf.release();  // rd_kafka_topic_new took it
    return topic_ptr(topic);
}

int clamp_ms(std::chrono::milliseconds wait) {
    return static_cast<int>(std::clamp(wait, std::chrono::milliseconds::zero(), read_wait_max).count());
}

std::string partition_text(std::uint32_t partition) { return std::to_string(partition); }

std::optional<std::uint32_t> parse_partition(const void* key, std::size_t size) {
    const char* text = static_cast<const char*>(key);
    std::uint32_t partition = 0;
    if (text == nullptr || size == 0) return std::nullopt;
    auto [end, ec] = std::from_chars(text, text + size, partition);
    if (ec != std::errc() || end != text + size) return std::nullopt;
    return partition;
}

// ---- The producer -------------------------------------------------------------------------------

// One append call (or one checkpoint) in flight. Created by `send`, completed once: by the delivery
// report of its last record on the poll thread, or, when records never reached librdkafka, through
// the deferred queue, also on the poll thread.
struct pending_call {
    std::mutex mutex;
    std::size_t outstanding = 0;  // records not yet reported, plus one while `send` is producing
    std::uint64_t first_offset = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t last_offset = 0;
    std::optional<error> failure;
    append_callback done;
    std::atomic<std::uint64_t>* end = nullptr;  // the stream partition's known end, if any
};

// The one producer of a kafka_log and its poll thread. Thread-safe; owned by kafka_log::state.
class producer {
public:
    producer() = default;
    producer(const producer&) = delete;
    producer& operator=(const producer&) = delete;
    ~producer() {
        close();
        handle_.reset();
    }

    static result<std::unique_ptr<producer>> open(const kafka_options& options) {
        auto made = std::make_unique<producer>();
        const std::string max_message = std::to_string(kafka_checkpoint_bytes_max + message_overhead_bytes);
        setting_list ours = {
            {"enable.idempotence", "true"},
            {"acks", "all"},
            // Any error that could leave a hole in a partition stops the producer (a fatal error:
            // every later append fails) instead of writing on after the hole.
            {"enable.gapless.guarantee", "true"},
            {"allow.auto.create.topics", "false"},
            {"message.max.bytes", max_message},
            {"queue.buffering.max.messages", std::to_string(producer_queue_messages_max)},
            // The runner waits for its events before it reads on: a long linger is latency on
            // every command. Under load batches form anyway while requests are in flight.
            {"linger.ms", "1"},
        };
        auto conf = make_conf(options, options.client_id, ours);
        if (!conf) return conf.err();
        rd_kafka_conf_set_dr_msg_cb(conf->get(), &producer::on_delivery);
        rd_kafka_conf_set_error_cb(conf->get(), &producer::on_error);
        rd_kafka_conf_set_opaque(conf->get(), made.get());
        auto handle = make_handle(RD_KAFKA_PRODUCER, std::move(conf).value());
        if (!handle) return handle.err();
        made->handle_ = std::move(handle).value();
        made->thread_ = std::thread([p = made.get()] { p->poll_loop(); });
        return made;
    }

    rd_kafka_t* handle() const { return handle_.get(); }
    bool fatal() const { return fatal_.load(); }

    // Produces `messages` to `partition` of `topic` in order; `done` gets the offset of the first
    // once all are delivered, or the first error.
    void send(rd_kafka_topic_t* topic, std::uint32_t partition, std::vector<stream_message> messages,
              append_callback done, std::atomic<std::uint64_t>* end) {
        assert(!messages.empty());
        if (auto refused = refusal()) return complete_later(std::move(done), *refused);
        auto* call = new pending_call;
        call->outstanding = messages.size() + 1;
        call->done = std::move(done);
        call->end = end;
        std::size_t produced = 0;
        for (stream_message& m : messages) {
            const int rc = rd_kafka_produce(topic, static_cast<std::int32_t>(partition), RD_KAFKA_MSG_F_COPY,
                                            m.value.data(), m.value.size(), m.key.data(), m.key.size(), call);
            if (rc != 0) {
                const rd_kafka_resp_err_t err = rd_kafka_last_error();
                std::lock_guard lock(call->mutex);
                if (!call->failure) call->failure = kafka_error("producing to partition " + partition_text(partition), err);
                break;
            }
            ++produced;
        }
        // Records that never reached librdkafka will get no report: count them, and the guard, off.
        release(call, messages.size() - produced + 1);
    }

    // Calls `done` on the poll thread: callbacks never run on the appending thread, whose locks
    // they might need.
    void complete_later(append_callback done, result<std::uint64_t> outcome) {
        std::unique_lock lock(deferred_mutex_);
        if (poll_stopped_) {
            // The poll thread is gone (an append after close, against the contract): no other
            // thread is left to report on.
            lock.unlock();
            done(std::move(outcome));
            return;
        }
        deferred_.emplace_back(std::move(done), std::move(outcome));
        lock.unlock();
        rd_kafka_yield(handle_.get());
    }

    // Stops taking appends, waits (bounded) for outstanding reports, fails the rest, stops the
    // poll thread. Every callback has run when it returns. The handle stays until destruction:
    // the topics made on it must be destroyed first.
    void close() {
        if (closed_ || !handle_) return;  // closed already, or never opened
        closed_ = true;
        closing_.store(true);
        const auto deadline = std::chrono::steady_clock::now() + close_flush_wait;
        while (rd_kafka_outq_len(handle_.get()) > 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(5ms);
        if (rd_kafka_outq_len(handle_.get()) > 0) {
            diag::warn(component, "closing with undelivered records: they are failed, their outcome is unknown",
                       {{"records", rd_kafka_outq_len(handle_.get())}});
            const rd_kafka_resp_err_t err = rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) diag::warn(component, "purge failed", {{"error", rd_kafka_err2str(err)}});
            const auto purge_deadline = std::chrono::steady_clock::now() + close_flush_wait;
            while (rd_kafka_outq_len(handle_.get()) > 0 && std::chrono::steady_clock::now() < purge_deadline)
                std::this_thread::sleep_for(5ms);
        }
        stopping_.store(true);
        rd_kafka_yield(handle_.get());
        thread_.join();
        // This thread is the poll thread now: serve what is left, then report directly.
        while (rd_kafka_poll(handle_.get(), 0) > 0) {
        }
        {
            std::lock_guard lock(deferred_mutex_);
            poll_stopped_ = true;
        }
        drain_deferred();
    }

private:
    std::optional<error> refusal() {
        if (closing_.load()) return error{errc::unavailable, "kafka: the log is closing"};
        if (fatal_.load()) {
            std::lock_guard lock(fatal_mutex_);
            return error{errc::io, "kafka: the producer stopped after a fatal error (reopen the log): " + fatal_reason_};
        }
        return std::nullopt;
    }

    void drain_deferred() {
        std::vector<std::pair<append_callback, result<std::uint64_t>>> ready;
        {
            std::lock_guard lock(deferred_mutex_);
            ready.swap(deferred_);
        }
        for (auto& [done, outcome] : ready) done(std::move(outcome));
    }

    void poll_loop() {
        while (!stopping_.load()) {
            rd_kafka_poll(handle_.get(), poll_interval_ms);
            drain_deferred();
        }
    }

    // Takes `count` off the call's outstanding records; the last one out completes it.
    void release(pending_call* call, std::size_t count, bool on_poll_thread = false) {
        std::unique_lock lock(call->mutex);
        assert(call->outstanding >= count);
        call->outstanding -= count;
        if (call->outstanding > 0) return;
        lock.unlock();
        result<std::uint64_t> outcome = call->failure ? result<std::uint64_t>(*call->failure)
                                                      : result<std::uint64_t>(call->first_offset);
        if (!call->failure && call->end != nullptr) {
            std::uint64_t known = call->end->load();
            while (known < call->last_offset + 1 && !call->end->compare_exchange_weak(known, call->last_offset + 1)) {
            }
        }
        append_callback done = std::move(call->done);
        delete call;
        if (on_poll_thread) {
            done(std::move(outcome));
        } else {
            complete_later(std::move(done), std::move(outcome));
        }
    }

    static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
        auto* self = static_cast<producer*>(opaque);
        auto* call = static_cast<pending_call*>(message->_private);
        {
            std::lock_guard lock(call->mutex);
            if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (!call->failure) {
                    call->failure = kafka_error("delivering to partition " + std::to_string(message->partition),
                                                message->err);
                }
            } else if (message->offset < 0) {
                // Delivered, but without an offset: librdkafka reports a retried batch that the
                // broker had already written (DUPLICATE_SEQUENCE_NUMBER) this way. The record is in
                // the log; where is unknown, so the caller gets an outcome in doubt.
                if (!call->failure) {
                    call->failure = error{errc::unavailable, "kafka: delivered to partition " + std::to_string(message->partition) +
                                                                 " without an offset (a retried batch); its position is unknown"};
                }
            } else {
                const auto offset = static_cast<std::uint64_t>(message->offset);
                call->first_offset = std::min(call->first_offset, offset);
                call->last_offset = std::max(call->last_offset, offset);
            }
        }
        self->release(call, 1, true);
    }

    static void on_error(rd_kafka_t* handle, int err, const char* reason, void* opaque) {
        auto* self = static_cast<producer*>(opaque);
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
            std::array<char, 512> why{};
            const rd_kafka_resp_err_t original = rd_kafka_fatal_error(handle, why.data(), why.size());
            {
                std::lock_guard lock(self->fatal_mutex_);
                self->fatal_reason_ = std::string(rd_kafka_err2name(original)) + ": " + why.data();
            }
            self->fatal_.store(true);
            diag::error(component, "the producer hit a fatal error; every later append fails",
                        {{"error", rd_kafka_err2name(original)}, {"reason", why.data()}});
            return;
        }
        diag::warn(component, reason, {{"error", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))}});
    }

    handle_ptr handle_;
    std::thread thread_;
    bool closed_ = false;  // close() ran; touched by the owner's thread only
    std::atomic<bool> closing_{false};
    std::atomic<bool> stopping_{false};
    std::atomic<bool> fatal_{false};
    std::mutex fatal_mutex_;
    std::string fatal_reason_;
    std::mutex deferred_mutex_;
    std::vector<std::pair<append_callback, result<std::uint64_t>>> deferred_;  // under deferred_mutex_
    bool poll_stopped_ = false;                                                // under deferred_mutex_
};

// ---- The last record of a partition ---------------------------------------------------------------

// Reads single last records for read_last() on a consumer handle of its own: starting a stream's
// fetcher at the end would take the partition's fetcher away from its reader (the projector),
// and both would pay for restarting it. One read at a time; thread-safe.
class last_record_reader {
public:
    explicit last_record_reader(handle_ptr consumer) : consumer_(std::move(consumer)) {}
    ~last_record_reader() = default;

    result<std::optional<log_entry>> read(const std::string& topic_name, std::uint32_t partition) {
        std::lock_guard lock(mutex_);
        auto topic = topic_of(topic_name);
        if (!topic) return topic.err();
        const auto p = static_cast<std::int32_t>(partition);
        std::int64_t low = 0, high = 0;
        const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(consumer_.get(), topic_name.c_str(), p, &low, &high,
                                                                         static_cast<int>(query_timeout.count()));
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("reading the end of " + topic_name, err);
        if (high <= 0 || high <= low) return std::optional<log_entry>();
        if (rd_kafka_consume_start(*topic, p, high - 1) != 0)
            return kafka_error("starting to fetch the end of " + topic_name, rd_kafka_last_error());
        message_ptr m(rd_kafka_consume(*topic, p, static_cast<int>(fetch_known_records_wait.count())));
        const rd_kafka_resp_err_t last_error = m ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_last_error();
        if (rd_kafka_consume_stop(*topic, p) != 0)
            diag::warn(component, "stopping the last-record fetcher failed", {{"topic", topic_name}, {"partition", partition}});
        if (!m) return kafka_error("reading the last record of " + topic_name, last_error);
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("reading the last record of " + topic_name, m->err);
        if (m->offset != high - 1)
            return error{errc::unavailable, "kafka: the last record of " + topic_name + " partition " + std::to_string(partition) +
                                                " came back at offset " + std::to_string(m->offset)};
        std::string_view value(static_cast<const char*>(m->payload), m->payload == nullptr ? 0 : m->len);
        return std::optional<log_entry>(log_entry{static_cast<std::uint64_t>(m->offset), kafka_unwrap(value)});
    }

private:
    result<rd_kafka_topic_t*> topic_of(const std::string& name) {
        auto it = topics_.find(name);
        if (it != topics_.end()) return it->second.get();
        auto made = make_topic(consumer_.get(), name, {{"auto.offset.reset", "error"}});
        if (!made) return made.err();
        rd_kafka_topic_t* raw = made->get();
        topics_.emplace(name, std::move(made).value());
        return raw;
    }

    std::mutex mutex_;
    handle_ptr consumer_;
    std::map<std::string, topic_ptr> topics_;  // declared after the handle: destroyed first
};

// ---- A stream: commands or events ---------------------------------------------------------------

// Where one partition's reader is: its local fetch queue was started at some offset and `next` is
// the offset of the next record it will hand out. Guarded by its mutex (one reader at a time).
struct partition_reader {
    std::mutex mutex;
    bool started = false;
    bool restart = false;  // after an error: start the fetcher again at `next`
    std::uint64_t next = 0;
    std::vector<rd_kafka_message_t*> taken;  // reused by every read: what one batch takes
};

// A `log_stream` over one topic. Thread-safe; owned by kafka_log::state.
class stream final : public log_stream {
public:
    stream(kafka_stream_kind kind, std::string topic_name, std::uint32_t partitions, producer& out,
           topic_ptr producer_topic, handle_ptr consumer, topic_ptr consumer_topic, last_record_reader& last)
        : kind_(kind), topic_name_(std::move(topic_name)), producer_(out), producer_topic_(std::move(producer_topic)),
          consumer_(std::move(consumer)), consumer_topic_(std::move(consumer_topic)), last_(last), ends_(partitions) {
        readers_.reserve(partitions);
        for (std::uint32_t p = 0; p < partitions; ++p) readers_.push_back(std::make_unique<partition_reader>());
    }

    ~stream() override { stop_fetchers(); }

    std::uint32_t partitions() const override { return static_cast<std::uint32_t>(ends_.size()); }

    void append(std::uint32_t partition, std::vector<std::string> records, append_callback done) override {
        assert(done);
        if (partition >= partitions()) return producer_.complete_later(std::move(done), out_of_range(partition));
        std::vector<stream_message> messages;
        messages.reserve(records.size());
        for (const std::string& record : records) {
            if (record.size() > kafka_record_bytes_max) {
                return producer_.complete_later(
                    std::move(done), error{errc::invalid, "kafka: " + topic_name_ + ": a record of " +
                                                              std::to_string(record.size()) +
                                                              " bytes is over kafka_record_bytes_max (" +
                                                              std::to_string(kafka_record_bytes_max) + ")"});
            }
            messages.push_back(make_stream_message(kind_, record));
        }
        if (messages.empty()) {
            // Nothing to write: the offset its first record would have had.
            return producer_.complete_later(std::move(done), end(partition));
        }
        producer_.send(producer_topic_.get(), partition, std::move(messages), std::move(done), &ends_[partition]);
    }

    result<std::vector<log_entry>> read(std::uint32_t partition, std::uint64_t from, std::size_t max,
                                        std::chrono::milliseconds wait) override {
        if (partition >= partitions()) return out_of_range(partition);
        if (max == 0) return std::vector<log_entry>{};
        max = std::min(max, kafka_read_records_max);
        partition_reader& reader = *readers_[partition];
        std::lock_guard lock(reader.mutex);
        if (auto positioned = position(reader, partition, from); !positioned) return positioned.err();

        // Records below the end exist: wait for them as long as a fetch may take, not just `wait`.
        const bool known = from < ends_[partition].load();
        const int wait_ms = known ? std::max(clamp_ms(wait), clamp_ms(fetch_known_records_wait)) : clamp_ms(wait);
        const auto p = static_cast<std::int32_t>(partition);
        message_ptr first(rd_kafka_consume(consumer_topic_.get(), p, wait_ms));
        if (!first) {
            const rd_kafka_resp_err_t err = rd_kafka_last_error();
            if (err != RD_KAFKA_RESP_ERR__TIMED_OUT) return kafka_error(where(partition, from), err);
            if (known) {
                return error{errc::unavailable, "kafka: " + where(partition, from) + ": records below the end " +
                                                    std::to_string(ends_[partition].load()) + " did not arrive in " +
                                                    std::to_string(wait_ms) + " ms"};
            }
            return std::vector<log_entry>{};
        }
        // Then whatever else is already in the local queue, without waiting for more.
        reader.taken.resize(max - 1);
        const ssize_t fetched =
            max > 1 ? rd_kafka_consume_batch(consumer_topic_.get(), p, 0, reader.taken.data(), reader.taken.size()) : 0;
        std::vector<message_ptr> batch;
        batch.reserve(1 + static_cast<std::size_t>(std::max<ssize_t>(fetched, 0)));
        batch.push_back(std::move(first));
        for (ssize_t i = 0; i < fetched; ++i) batch.emplace_back(reader.taken[static_cast<std::size_t>(i)]);
        return convert(reader, partition, from, batch);
    }

    std::uint64_t end(std::uint32_t partition) override {
        assert(partition < partitions());
        if (stale()) {
            std::lock_guard lock(refresh_mutex_);
            // Whoever waited for the lock while another thread refreshed finds the ends fresh.
            if (stale()) {
                if (auto refreshed = query_ends(end_query_timeout); !refreshed) {
                    diag::warn(component, "the end of the log could not be refreshed; using the last known one",
                               {{"topic", topic_name_}, {"error", refreshed.err().message}});
                }
            }
        }
        return ends_[partition].load();
    }

    result<unit> refresh_ends() {
        std::lock_guard lock(refresh_mutex_);
        return query_ends(query_timeout);
    }

    result<std::optional<log_entry>> read_last(std::uint32_t partition) override {
        if (partition >= partitions()) return out_of_range(partition);
        auto last = last_.read(topic_name_, partition);
        if (last && last->has_value()) raise_end(partition, (*last)->offset + 1);
        return last;
    }

    void stop_fetchers() {
        for (std::uint32_t p = 0; p < partitions(); ++p) {
            std::lock_guard lock(readers_[p]->mutex);
            if (readers_[p]->started) {
                if (rd_kafka_consume_stop(consumer_topic_.get(), static_cast<std::int32_t>(p)) != 0)
                    diag::warn(component, "stopping a fetcher failed", {{"topic", topic_name_}, {"partition", p}});
                readers_[p]->started = false;
            }
        }
    }

private:
    bool stale() const { return std::chrono::steady_clock::now() - last_refresh() >= kafka_end_refresh_interval; }

    // Asks the partition leaders for every partition's high watermark at once. Under refresh_mutex_.
    result<unit> query_ends(std::chrono::milliseconds timeout) {
        partition_list_ptr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions())));
        for (std::uint32_t p = 0; p < partitions(); ++p) {
            rd_kafka_topic_partition_list_add(list.get(), topic_name_.c_str(), static_cast<std::int32_t>(p))->offset =
                RD_KAFKA_OFFSET_END;
        }
        // A timestamp of "end" (-1) asks ListOffsets for the latest offset: the high watermark.
        const rd_kafka_resp_err_t err =
            rd_kafka_offsets_for_times(producer_.handle(), list.get(), static_cast<int>(timeout.count()));
        // Stamp the attempt even when it failed, so that a down cluster costs one query per interval.
        last_refresh_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count());
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("reading the end of " + topic_name_, err);
        for (int i = 0; i < list->cnt; ++i) {
            const rd_kafka_topic_partition_t& entry = list->elems[i];
            if (entry.err != RD_KAFKA_RESP_ERR_NO_ERROR)
                return kafka_error("reading the end of " + topic_name_ + " partition " + std::to_string(entry.partition), entry.err);
            if (entry.offset >= 0 && static_cast<std::uint32_t>(entry.partition) < partitions())
                raise_end(static_cast<std::uint32_t>(entry.partition), static_cast<std::uint64_t>(entry.offset));
        }
        return unit{};
    }

    static error out_of_range(std::uint32_t partition) {
        return error{errc::invalid, "kafka: partition " + std::to_string(partition) + " is out of range"};
    }

    std::string where(std::uint32_t partition, std::uint64_t offset) const {
        return "reading " + topic_name_ + " partition " + std::to_string(partition) + " at " + std::to_string(offset);
    }

    std::chrono::steady_clock::time_point last_refresh() const {
        return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(last_refresh_ns_.load()));
    }

    void raise_end(std::uint32_t partition, std::uint64_t end) {
        std::uint64_t known = ends_[partition].load();
        while (known < end && !ends_[partition].compare_exchange_weak(known, end)) {
        }
    }

    // Makes the partition's local queue deliver from `from` next: a reader that goes on where it
    // stopped keeps its prefetched records; any other offset restarts the fetcher there.
    result<unit> position(partition_reader& reader, std::uint32_t partition, std::uint64_t from) {
        if (reader.started && !reader.restart && reader.next == from) return unit{};
        const auto p = static_cast<std::int32_t>(partition);
        if (reader.started) {
            if (rd_kafka_consume_stop(consumer_topic_.get(), p) != 0)
                return kafka_error("stopping the fetcher of " + topic_name_, rd_kafka_last_error());
            reader.started = false;
        }
        if (from > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return error{errc::invalid, "kafka: offset " + std::to_string(from) + " is out of range"};
        if (rd_kafka_consume_start(consumer_topic_.get(), p, static_cast<std::int64_t>(from)) != 0)
            return kafka_error("starting to fetch " + topic_name_, rd_kafka_last_error());
        reader.started = true;
        reader.restart = false;
        reader.next = from;
        return unit{};
    }

    result<std::vector<log_entry>> convert(partition_reader& reader, std::uint32_t partition, std::uint64_t from,
                                           const std::vector<message_ptr>& batch) {
        std::vector<log_entry> entries;
        entries.reserve(batch.size());
        for (const message_ptr& m : batch) {
            if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                // The fetcher's position is unknown after an error; start it again where we are.
                reader.restart = true;
                if (!entries.empty()) break;
                if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET || m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
                    return error{errc::invalid, "kafka: " + where(partition, from) + ": the offset is outside the log (" +
                                                    rd_kafka_message_errstr(m.get()) + ")"};
                }
                return kafka_error(where(partition, from), m->err);
            }
            if (m->offset < 0 || static_cast<std::uint64_t>(m->offset) < reader.next) continue;  // stale
            const auto offset = static_cast<std::uint64_t>(m->offset);
            std::string_view value(static_cast<const char*>(m->payload), m->payload == nullptr ? 0 : m->len);
            entries.push_back(log_entry{offset, kafka_unwrap(value)});
            reader.next = offset + 1;
        }
        if (!entries.empty()) raise_end(partition, entries.back().offset + 1);
        std::int64_t low = 0, high = 0;
        if (rd_kafka_get_watermark_offsets(consumer_.get(), topic_name_.c_str(), static_cast<std::int32_t>(partition),
                                           &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            high > 0) {
            raise_end(partition, static_cast<std::uint64_t>(high));
        }
        return entries;
    }

    kafka_stream_kind kind_;
    std::string topic_name_;
    producer& producer_;
    topic_ptr producer_topic_;
    handle_ptr consumer_;
    topic_ptr consumer_topic_;
    last_record_reader& last_;
    std::vector<std::unique_ptr<partition_reader>> readers_;
    std::vector<std::atomic<std::uint64_t>> ends_;  // the known end of each partition; only grows
    std::mutex refresh_mutex_;
    std::atomic<std::chrono::steady_clock::rep> last_refresh_ns_{0};
};

// ---- Checkpoints on the compacted snapshots topic -----------------------------------------------

// Key: the partition number in decimal; value: the checkpoint. `load` scans the topic from where
// the previous scan stopped to its end, remembering each key's latest offset, and then fetches that
// one message: the topic is read once per process, not once per partition. Thread-safe.
class checkpoints_topic final : public checkpoint_store {
public:
    checkpoints_topic(std::string topic_name, std::uint32_t partitions, producer& out, topic_ptr producer_topic,
                      handle_ptr consumer, topic_ptr consumer_topic)
        : topic_name_(std::move(topic_name)), partitions_(partitions), producer_(out),
          producer_topic_(std::move(producer_topic)), consumer_(std::move(consumer)),
          consumer_topic_(std::move(consumer_topic)) {}

    // Must not be called from an append callback: it waits for a delivery report, which the poll
    // thread running that callback would have to serve.
    result<unit> save(std::uint32_t partition, std::string bytes) override {
        if (partition >= partitions_) return error{errc::invalid, "kafka: partition " + std::to_string(partition) + " is out of range"};
        if (bytes.size() > kafka_checkpoint_bytes_max) {
            return error{errc::invalid, "kafka: a checkpoint of " + std::to_string(bytes.size()) +
                                            " bytes is over kafka_checkpoint_bytes_max (" +
                                            std::to_string(kafka_checkpoint_bytes_max) + ")"};
        }
        std::promise<result<std::uint64_t>> delivered;
        auto outcome = delivered.get_future();
        std::vector<stream_message> message;
        message.push_back(stream_message{partition_text(partition), std::move(bytes)});
        producer_.send(producer_topic_.get(), 0, std::move(message),
                       [&delivered](result<std::uint64_t> r) { delivered.set_value(std::move(r)); }, nullptr);
        auto r = outcome.get();
        if (!r) return r.err();
        return unit{};
    }

    result<std::optional<std::string>> load(std::uint32_t partition) override {
        if (partition >= partitions_) return error{errc::invalid, "kafka: partition " + std::to_string(partition) + " is out of range"};
        std::lock_guard lock(mutex_);
        // A second attempt only if the remembered message vanished (compaction removed it after
        // a newer one was scanned by someone else's process): then everything is read again.
        for (int attempt = 0; attempt < 2; ++attempt) {
            auto found = try_load(partition);
            if (!found || found->has_value()) {
                if (found) return std::move(**found);
                return found.err();
            }
            scanned_to_ = 0;
            latest_.clear();
        }
        return error{errc::unavailable, "kafka: the checkpoint of partition " + std::to_string(partition) + " keeps moving"};
    }

private:
    // The outer optional is empty when the remembered offset no longer holds the checkpoint.
    using attempt = result<std::optional<std::optional<std::string>>>;

    attempt try_load(std::uint32_t partition) {
        std::int64_t low = 0, high = 0;
        const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
            consumer_.get(), topic_name_.c_str(), 0, &low, &high, static_cast<int>(query_timeout.count()));
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("reading the end of " + topic_name_, err);
        std::optional<std::optional<std::string>> seen;  // the value of `partition` met in this scan
        if (scanned_to_ < static_cast<std::uint64_t>(high)) {
            auto scanned = scan(partition, static_cast<std::uint64_t>(high), seen);
            if (!scanned) return scanned.err();
        }
        if (seen) return seen;
        auto it = latest_.find(partition);
        if (it == latest_.end()) return std::optional<std::optional<std::string>>(std::optional<std::string>());
        return fetch_one(partition, it->second);
    }

    // Reads [scanned_to_, end): remembers each key's latest offset, and keeps the value of `partition`.
    result<unit> scan(std::uint32_t partition, std::uint64_t end, std::optional<std::optional<std::string>>& seen) {
        fetcher running(*this, scanned_to_);
        if (!running.ok()) return running.failure();
        while (scanned_to_ < end) {
            auto next = running.next();
            if (!next) return next.err();
            const rd_kafka_message_t& m = *next->get();
            const auto key = parse_partition(m.key, m.key_len);
            const auto offset = static_cast<std::uint64_t>(m.offset);
            if (key) {
                if (m.payload == nullptr) {
                    latest_.erase(*key);  // a tombstone: the checkpoint was deleted
                } else {
                    latest_[*key] = offset;
                }
                if (*key == partition) {
                    seen = m.payload == nullptr ? std::optional<std::string>()
                                                : std::optional<std::string>(std::string(static_cast<const char*>(m.payload), m.len));
                }
            }
            scanned_to_ = offset + 1;
        }
        return unit{};
    }

    attempt fetch_one(std::uint32_t partition, std::uint64_t offset) {
        fetcher running(*this, offset);
        if (!running.ok()) return running.failure();
        auto next = running.next();
        if (!next) return next.err();
        const rd_kafka_message_t& m = *next->get();
        if (static_cast<std::uint64_t>(m.offset) != offset || parse_partition(m.key, m.key_len) != partition || m.payload == nullptr)
            return std::optional<std::optional<std::string>>();
        return std::optional<std::optional<std::string>>(std::string(static_cast<const char*>(m.payload), m.len));
    }

    // The snapshots partition's fetcher, started at an offset for one load and stopped after it, so
    // that no checkpoint is prefetched while nobody loads.
    class fetcher {
    public:
        fetcher(checkpoints_topic& owner, std::uint64_t from) : owner_(owner) {
            if (rd_kafka_consume_start(owner_.consumer_topic_.get(), 0, static_cast<std::int64_t>(from)) != 0)
                failure_ = kafka_error("starting to fetch " + owner_.topic_name_, rd_kafka_last_error());
        }
        ~fetcher() {
            if (!failure_ && rd_kafka_consume_stop(owner_.consumer_topic_.get(), 0) != 0)
                diag::warn(component, "stopping the snapshots fetcher failed", {{"topic", owner_.topic_name_}});
        }
        fetcher(const fetcher&) = delete;
        fetcher& operator=(const fetcher&) = delete;
        bool ok() const { return !failure_; }
        error failure() const { return *failure_; }

        result<message_ptr> next() {
            message_ptr m(rd_kafka_consume(owner_.consumer_topic_.get(), 0, static_cast<int>(fetch_known_records_wait.count())));
            if (!m) return kafka_error("reading " + owner_.topic_name_, rd_kafka_last_error());
            if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("reading " + owner_.topic_name_, m->err);
            if (m->offset < 0) return error{errc::io, "kafka: a message of " + owner_.topic_name_ + " has no offset"};
            return m;
        }

    private:
        checkpoints_topic& owner_;
        std::optional<error> failure_;
    };

    std::string topic_name_;
    std::uint32_t partitions_;
    producer& producer_;
    topic_ptr producer_topic_;
    handle_ptr consumer_;
    topic_ptr consumer_topic_;
    std::mutex mutex_;  // one load at a time: guards the fetcher and what the scans learnt
    std::uint64_t scanned_to_ = 0;
    std::map<std::uint32_t, std::uint64_t> latest_;  // partition -> offset of its latest checkpoint
};

// ---- Opening ------------------------------------------------------------------------------------

std::optional<error> validate(const kafka_options& options) {
    if (options.bootstrap.empty()) return error{errc::invalid, "kafka: no bootstrap servers given"};
    if (options.partitions > partitions_max) {
        return error{errc::invalid, "kafka: partitions must be in 1.." + std::to_string(partitions_max) + ", not " +
                                        std::to_string(options.partitions)};
    }
    for (const auto& [key, value] : options.config) {
        if (std::find(fixed_settings.begin(), fixed_settings.end(), key) != fixed_settings.end())
            return error{errc::invalid, "kafka: " + key + " is fixed by encore and cannot be configured"};
    }
    return std::nullopt;
}

// A legacy ("simple") consumer: no group, no commits, per-partition fetch queues started at
// explicit offsets.
result<handle_ptr> open_consumer(const kafka_options& options, const std::string& role, std::size_t message_bytes_max,
                                 std::size_t prefetch_bytes) {
    // librdkafka wants fetch.max.bytes >= message.max.bytes, and a response must fit a receive.
    const std::size_t fetch_bytes = std::max(message_bytes_max + message_overhead_bytes, prefetch_bytes);
    setting_list ours = {
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
        {"message.max.bytes", std::to_string(message_bytes_max + message_overhead_bytes)},
        {"fetch.max.bytes", std::to_string(fetch_bytes)},
        {"receive.message.max.bytes", std::to_string(fetch_bytes + message_overhead_bytes)},
        {"queued.max.messages.kbytes", std::to_string(fetch_bytes / 1024)},
        {"queued.min.messages", "10000"},
        // A reader waiting at the end sees a new record when its long poll returns; the broker
        // answers early when data arrives, the mock cluster only when this expires.
        {"fetch.wait.max.ms", std::to_string(options.fetch_wait_max_ms)},
        {"fetch.error.backoff.ms", "100"},
    };
    auto conf = make_conf(options, options.client_id + "-" + role, ours);
    if (!conf) return conf.err();
    return make_handle(RD_KAFKA_CONSUMER, std::move(conf).value());
}

// The topic's partition count, from the brokers' metadata; errc::invalid when it does not exist.
result<std::uint32_t> topic_partitions(rd_kafka_t* handle, rd_kafka_topic_t* topic, const std::string& name) {
    const rd_kafka_metadata_t* metadata = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(handle, 0, topic, &metadata, static_cast<int>(query_timeout.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("reading the metadata of " + name, err);
    std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> owned(metadata, rd_kafka_metadata_destroy);
    for (int i = 0; i < metadata->topic_cnt; ++i) {
        const rd_kafka_metadata_topic_t& t = metadata->topics[i];
        if (name != t.topic) continue;
        if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return error{errc::invalid, "kafka: topic " + name + " does not exist"};
        if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("topic " + name, t.err);
        return static_cast<std::uint32_t>(std::max(t.partition_cnt, 0));
    }
    return error{errc::invalid, "kafka: topic " + name + " does not exist"};
}

// Checks that the topic exists with the expected number of partitions.
result<unit> check_topic(rd_kafka_t* handle, rd_kafka_topic_t* topic, const std::string& name, std::uint32_t partitions) {
    auto found = topic_partitions(handle, topic, name);
    if (!found && found.err().code == errc::invalid)
        return error{errc::invalid, found.err().message + " (create it with " + std::to_string(partitions) + " partitions)"};
    if (!found) return found.err();
    if (*found != partitions)
        return error{errc::invalid, "kafka: topic " + name + " has " + std::to_string(*found) + " partitions, expected " +
                                        std::to_string(partitions)};
    return unit{};
}

}  // namespace

// ---- Envelopes (public for tools and tests) ------------------------------------------------------

std::string kafka_envelope(kafka_stream_kind kind, std::string_view record) { return make_stream_message(kind, record).value; }

std::string kafka_unwrap(std::string_view value) {
    std::string record;
    if (auto encoded = envelope_record_fast(value); encoded && base64_decode(*encoded, record)) return record;
    // Slow path: a valid envelope written by another tool (members reordered, whitespace).
    nlohmann::json document = nlohmann::json::parse(value, nullptr, false);
    if (document.is_object()) {
        auto it = document.find("record");
        if (it != document.end() && it->is_string() && base64_decode(it->get_ref<const std::string&>(), record)) return record;
    }
    return std::string(value);
}

// ---- kafka_log ----------------------------------------------------------------------------------

struct kafka_log::state {
    // Declared first, destroyed last: the streams and checkpoints refer to it.
    std::unique_ptr<producer> out;
    std::unique_ptr<last_record_reader> last;  // the streams refer to it
    std::unique_ptr<stream> commands;
    std::unique_ptr<stream> events;
    std::unique_ptr<checkpoints_topic> checkpoints;

    ~state() {
        // Deliver (or fail) every append first, while the streams' known ends still exist.
        if (out) out->close();
    }
};

namespace {

result<std::unique_ptr<stream>> open_stream(const kafka_options& options, producer& out, last_record_reader& last,
                                            kafka_stream_kind kind, const std::string& name) {
    auto producer_topic = make_topic(out.handle(), name, {});
    if (!producer_topic) return producer_topic.err();
    if (auto checked = check_topic(out.handle(), producer_topic->get(), name, options.partitions); !checked) return checked.err();
    auto consumer = open_consumer(options, kind == kafka_stream_kind::commands ? "commands" : "events",
                                  stream_message_bytes_max, stream_prefetch_bytes);
    if (!consumer) return consumer.err();
    // An offset outside the log is an error to report, never a silent jump to an end.
    auto consumer_topic = make_topic(consumer->get(), name, {{"auto.offset.reset", "error"}});
    if (!consumer_topic) return consumer_topic.err();
    auto made = std::make_unique<stream>(kind, name, options.partitions, out, std::move(producer_topic).value(),
                                         std::move(consumer).value(), std::move(consumer_topic).value(), last);
    if (auto refreshed = made->refresh_ends(); !refreshed) return refreshed.err();
    return made;
}

result<std::unique_ptr<checkpoints_topic>> open_checkpoints(const kafka_options& options, producer& out, const std::string& name) {
    auto producer_topic = make_topic(out.handle(), name, {});
    if (!producer_topic) return producer_topic.err();
    if (auto checked = check_topic(out.handle(), producer_topic->get(), name, 1); !checked) return checked.err();
    auto consumer = open_consumer(options, "snapshots", kafka_checkpoint_bytes_max, kafka_checkpoint_bytes_max);
    if (!consumer) return consumer.err();
    // Compaction and retention leave holes: a start below the first kept offset begins there.
    auto consumer_topic = make_topic(consumer->get(), name, {{"auto.offset.reset", "smallest"}});
    if (!consumer_topic) return consumer_topic.err();
    return std::make_unique<checkpoints_topic>(name, options.partitions, out, std::move(producer_topic).value(),
                                               std::move(consumer).value(), std::move(consumer_topic).value());
}

// partitions 0: the commands topic's count, which must be a valid one.
result<std::uint32_t> resolve_partitions(const kafka_options& options, producer& out) {
    if (options.partitions != 0) return options.partitions;
    const std::string name = options.topic_prefix + "commands";
    auto topic = make_topic(out.handle(), name, {});
    if (!topic) return topic.err();
    auto found = topic_partitions(out.handle(), topic->get(), name);
    if (!found) return found.err();
    if (*found == 0 || *found > partitions_max)
        return error{errc::invalid, "kafka: topic " + name + " has " + std::to_string(*found) + " partitions; encore uses 1.." +
                                        std::to_string(partitions_max)};
    return *found;
}

}  // namespace

result<std::unique_ptr<kafka_log>> kafka_log::open(const kafka_options& given) {
    if (auto invalid = validate(given)) return *invalid;
    auto s = std::make_unique<state>();
    auto out = producer::open(given);
    if (!out) return out.err();
    s->out = std::move(out).value();
    kafka_options options = given;
    auto partitions = resolve_partitions(given, *s->out);
    if (!partitions) return partitions.err();
    options.partitions = *partitions;
    // Single records, read rarely: a small prefetch.
    auto last = open_consumer(options, "last", stream_message_bytes_max, last_record_prefetch_bytes);
    if (!last) return last.err();
    s->last = std::make_unique<last_record_reader>(std::move(last).value());
    auto commands = open_stream(options, *s->out, *s->last, kafka_stream_kind::commands, options.topic_prefix + "commands");
    if (!commands) return commands.err();
    s->commands = std::move(commands).value();
    auto events = open_stream(options, *s->out, *s->last, kafka_stream_kind::events, options.topic_prefix + "events");
    if (!events) return events.err();
    s->events = std::move(events).value();
    auto checkpoints = open_checkpoints(options, *s->out, options.topic_prefix + "snapshots");
    if (!checkpoints) return checkpoints.err();
    s->checkpoints = std::move(checkpoints).value();
    return std::unique_ptr<kafka_log>(new kafka_log(std::move(s)));
}

kafka_log::kafka_log(std::unique_ptr<state> state) : state_(std::move(state)) {}
kafka_log::~kafka_log() = default;

log_stream& kafka_log::commands() { return *state_->commands; }
log_stream& kafka_log::events() { return *state_->events; }
checkpoint_store& kafka_log::checkpoints() { return *state_->checkpoints; }

bool kafka_log::fatal() const { return state_->out->fatal(); }

result<std::string> kafka_log::cluster_id() {
    char* id = rd_kafka_clusterid(state_->out->handle(), static_cast<int>(query_timeout.count()));
    if (id == nullptr) return error{errc::unavailable, "kafka: the cluster id is not known (the brokers did not answer)"};
    std::string out(id);
    rd_kafka_mem_free(state_->out->handle(), id);
    return out;
}

result<unit> kafka_log::refresh_ends() {
    if (auto r = state_->commands->refresh_ends(); !r) return r;
    return state_->events->refresh_ends();
}

}  // namespace encore
