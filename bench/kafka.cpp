// `encore bench kafka`: what Kafka mode adds to every record, on this machine: the cost of the
// records' envelope (JSON rendering and base64, and its unwrap on the read side) against the plain
// codec, and the time from an append until a reader waiting at the partition's end has the record,
// on librdkafka's mock cluster in this process. Prints one JSON object; asserts nothing.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "events/chain.hpp"
#include "events/codec.hpp"
#include "events/log/kafka_log.hpp"
#include "events/log/kafka_mock.hpp"

namespace encore::bench {
namespace {

// One wallet event of a partition, sealed into its chain as the runners write it.
std::string event_record(std::uint64_t sequence, chain_link& head) {
    event e;
    e.sequence = sequence;
    e.cause = log_position{0, sequence};
    e.at = 1'700'000'000'000 + static_cast<time_ms>(sequence);
    e.body = charged{user_id{42}, 1000, static_cast<won>(1000 * (sequence + 1))};
    std::string bytes = encode(e);
    head = chain_next(head, bytes);
    return seal(head, bytes);
}

// Nanoseconds per record of `each` over every record; each phase runs twice, the second counts.
template <class Each>
double nanoseconds_per_record(std::size_t records, Each&& each) {
    double per = 0;
    for (int round = 0; round < 2; ++round) {
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < records; ++i) each(i);
        per = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
              static_cast<double>(records);
    }
    return per;
}

nlohmann::json envelope_cost(std::size_t count) {
    chain_link head = chain_genesis;
    std::vector<std::string> records;
    for (std::uint64_t s = 0; s < count; ++s) records.push_back(event_record(s, head));
    std::vector<std::string> envelopes(records.size());
    std::size_t sink = 0;
    const double render = nanoseconds_per_record(count, [&](std::size_t i) {
        envelopes[i] = kafka_envelope(kafka_stream_kind::events, records[i]);
    });
    const double unwrap = nanoseconds_per_record(count, [&](std::size_t i) { sink += kafka_unwrap(envelopes[i]).size(); });
    const double parse = nanoseconds_per_record(count, [&](std::size_t i) { sink += nlohmann::json::parse(envelopes[i]).size(); });
    const double decode = nanoseconds_per_record(count, [&](std::size_t i) {
        sealed_event sealed;
        sink += unseal(records[i], sealed) && decode_event(sealed.event_bytes).ok();
    });
    if (sink == 0) throw std::runtime_error("the envelopes unwrapped to nothing");
    return {{"records", count},
            {"record_bytes", records[0].size()},
            {"envelope_bytes", envelopes[0].size()},
            {"envelope_ns_per_record", render},
            {"unwrap_ns_per_record", unwrap},
            {"full_json_parse_ns_per_record", parse},
            {"unseal_and_decode_ns_per_record", decode}};
}

nlohmann::json append_to_read(int appends, const std::vector<std::pair<std::string, std::string>>& config) {
    auto mock = kafka_mock::start(1, 1, "bench.");
    if (!mock) throw std::runtime_error(mock.err().message);
    kafka_options k;
    k.bootstrap = (*mock)->bootstrap_servers();
    k.partitions = 1;
    k.topic_prefix = (*mock)->topic_prefix();
    k.config = config;
    k.client_id = "encore-bench";
    auto log = kafka_log::open(k);
    if (!log) throw std::runtime_error(log.err().message);
    std::vector<double> latencies_ms;
    for (int i = 0; i < appends; ++i) {
        const auto offset = static_cast<std::uint64_t>(i);
        auto reader = std::async(std::launch::async, [&] {
            auto got = (*log)->commands().read(0, offset, 10, std::chrono::seconds(30));
            if (!got || got->empty()) throw std::runtime_error("the reader did not get the record");
            return std::chrono::steady_clock::now();
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the reader waits in a fetch
        const auto start = std::chrono::steady_clock::now();
        if (auto appended = (*log)->commands().append_and_wait(0, {"x"}); !appended)
            throw std::runtime_error(appended.err().message);
        latencies_ms.push_back(std::chrono::duration<double, std::milli>(reader.get() - start).count());
    }
    std::sort(latencies_ms.begin(), latencies_ms.end());
    return {{"appends", appends},
            {"median_ms", latencies_ms[latencies_ms.size() / 2]},
            {"max_ms", latencies_ms.back()}};
}

}  // namespace

int run_kafka_bench(const kafka_bench_options& o) {
    const std::uint64_t records = o.records, appends = o.appends;
    std::fprintf(stderr, "bench kafka: %llu envelopes, then %llu appends on the mock cluster\n",
                 static_cast<unsigned long long>(records), static_cast<unsigned long long>(appends));
    const nlohmann::json out = {{"envelope", envelope_cost(records)},
                                {"append_to_read", append_to_read(static_cast<int>(appends), o.kafka_config)}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
}

}  // namespace encore::bench
