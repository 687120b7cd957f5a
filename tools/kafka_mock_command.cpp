// `encore kafka-mock`: librdkafka's mock cluster in this process, with Encore's topics, for tests and
// for trying Kafka mode without a broker. Prints the bootstrap servers as the first stdout line,
// then answers control lines on stdin (fault injection for tests) until SIGTERM/SIGINT.
//
// Control lines, one per line, each answered by one line, "ok" or "error: <why>":
//   broker-down ID | broker-up ID           take a broker down (it keeps leading its partitions) or up
//   produce-errors N [CODE]                 the next N produce requests fail (default 6, NOT_LEADER)
//   fetch-errors N [CODE]                   the same for fetch requests
//   broker-errors ID API N CODE [RTT_MS]    the next N requests of ApiKey API to broker ID
//   rtt ID MS                               every answer of broker ID (-1: all) is delayed by MS
//   leader TOPIC PARTITION ID               move a partition's leadership
//   ping                                    nothing; answers ok
// Threads: the main thread waits for the signal; one thread reads stdin; the mock runs on
// librdkafka's threads.

#include <csignal>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <thread>

#include <poll.h>
#include <unistd.h>

#include "events/diagnostics.hpp"
#include "events/log/kafka_mock.hpp"
#include "events/types.hpp"
#include "tools/subcommands.hpp"

namespace encore::tools {
namespace {

// NOT_LEADER_FOR_PARTITION: retriable, written nowhere, so retried without duplicates.
constexpr int default_request_error = 6;
constexpr int control_poll_ms = 100;
constexpr std::size_t control_line_bytes_max = 4096;

std::string execute(kafka_mock& mock, const std::string& line) {
    std::istringstream in(line);
    std::string verb;
    in >> verb;
    auto outcome = [](const result<unit>& r) { return r ? std::string("ok") : "error: " + r.err().message; };
    if (verb.empty() || verb == "ping") return "ok";
    if (verb == "broker-down" || verb == "broker-up") {
        int id = 0;
        if (!(in >> id)) return "error: " + verb + " ID";
        return outcome(mock.set_broker_down(id, verb == "broker-down"));
    }
    if (verb == "produce-errors" || verb == "fetch-errors") {
        std::size_t count = 0;
        int code = default_request_error;
        if (!(in >> count)) return "error: " + verb + " N [CODE]";
        in >> code;
        mock.push_request_errors(verb == "produce-errors" ? kafka_api_produce : kafka_api_fetch, count, code);
        return "ok";
    }
    if (verb == "broker-errors") {
        int id = 0, api = 0, code = 0, rtt = 0;
        std::size_t count = 0;
        if (!(in >> id >> api >> count >> code)) return "error: broker-errors ID API N CODE [RTT_MS]";
        in >> rtt;
        return outcome(mock.push_broker_request_errors(id, static_cast<std::int16_t>(api), count, code, rtt));
    }
    if (verb == "rtt") {
        int id = 0, ms = 0;
        if (!(in >> id >> ms) || ms < 0) return "error: rtt ID MS";
        if (id != -1) return outcome(mock.set_rtt(id, ms));
        for (int b = 1; b <= mock.brokers(); ++b) {
            if (auto r = mock.set_rtt(b, ms); !r) return outcome(r);
        }
        return "ok";
    }
    if (verb == "leader") {
        std::string topic;
        std::uint32_t partition = 0;
        int id = 0;
        if (!(in >> topic >> partition >> id)) return "error: leader TOPIC PARTITION ID";
        return outcome(mock.set_partition_leader(topic, partition, id));
    }
    return "error: unknown command '" + verb + "'";
}

// Reads control lines from stdin until `done`; end of input just ends the reading.
void serve_control(kafka_mock& mock, std::mutex& mock_mutex, const bool& done) {
    std::string pending;
    char buffer[512];
    for (;;) {
        {
            std::lock_guard lock(mock_mutex);
            if (done) return;
        }
        pollfd p{STDIN_FILENO, POLLIN, 0};
        const int ready = ::poll(&p, 1, control_poll_ms);
        if (ready <= 0) continue;
        // Started in the background of an interactive shell, stdin is the terminal of the job in
        // the foreground: reading it would stop this process (SIGTTIN). Leave it alone.
        if (::isatty(STDIN_FILENO) && ::tcgetpgrp(STDIN_FILENO) != ::getpgrp()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(control_poll_ms));
            continue;
        }
        const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n <= 0) return;  // end of input (or a closed stdin): no more control
        pending.append(buffer, static_cast<std::size_t>(n));
        for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
            std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            std::string reply;
            {
                std::lock_guard lock(mock_mutex);
                if (done) return;
                reply = execute(mock, line);
            }
            diag::info("kafka-mock", "control", {{"command", line}, {"reply", reply}});
            std::printf("%s\n", reply.c_str());
            std::fflush(stdout);
        }
        if (pending.size() > control_line_bytes_max) pending.clear();
    }
}

struct kafka_mock_flags {
    unsigned brokers = 3;
    std::uint32_t partitions = 8;
    std::string topic_prefix;
};

int kafka_mock_command(const kafka_mock_flags& f) {
    const int brokers = static_cast<int>(f.brokers);
    const std::uint32_t partitions = f.partitions;
    const std::string& prefix = f.topic_prefix;

    sigset_t stop_signals = block_stop_signals();

    auto started = kafka_mock::start(brokers, partitions, prefix);
    if (!started) {
        diag::error("kafka-mock", "cannot start", {{"error", started.err().message}});
        return 1;
    }
    std::unique_ptr<kafka_mock> mock = std::move(started).value();
    // The first line is the bootstrap list, alone: scripts read it with `head -1`.
    std::printf("%s\n", mock->bootstrap_servers().c_str());
    std::fflush(stdout);
    diag::info("kafka-mock", "running",
               {{"bootstrap", mock->bootstrap_servers()}, {"brokers", brokers}, {"partitions", partitions},
                {"topics", {prefix + "commands", prefix + "events", prefix + "snapshots"}}});

    std::mutex mock_mutex;
    bool done = false;
    std::thread control([&] { serve_control(*mock, mock_mutex, done); });
    int received = 0;
    sigwait(&stop_signals, &received);
    {
        std::lock_guard lock(mock_mutex);
        done = true;
    }
    control.join();
    diag::info("kafka-mock", "stopping", {{"signal", received}});
    mock.reset();
    return 0;
}

}  // namespace

subcommand add_kafka_mock(CLI::App& encore) {
    CLI::App* app = encore.add_subcommand(
        "kafka-mock", "Starts librdkafka's mock cluster on loopback with the topics created, prints its bootstrap "
                      "servers as the first line on stdout and runs until SIGTERM/SIGINT. For tests and trying Kafka "
                      "mode out; it keeps everything in memory (~5 MiB per partition).");
    auto flags = std::make_shared<kafka_mock_flags>();
    number_flag(*app, "--brokers", flags->brokers, "brokers of the cluster", 1, kafka_mock_brokers_max);
    number_flag(*app, "--partitions", flags->partitions, "partitions of <P>commands and <P>events", 1, partitions_max);
    text_flag(*app, "--topic-prefix", flags->topic_prefix, "the topics are <P>commands, <P>events and <P>snapshots", "P");
    app->footer(
        "Control lines on stdin, each answered \"ok\" or \"error: ...\":\n"
        "  broker-down ID | broker-up ID          take a broker down (it keeps leading its partitions) or up\n"
        "  produce-errors N [CODE]                the next N produce requests fail (default 6, NOT_LEADER)\n"
        "  fetch-errors N [CODE]                  the same for fetch requests\n"
        "  broker-errors ID API N CODE [RTT_MS]   the next N requests of ApiKey API to broker ID\n"
        "  rtt ID MS                              every answer of broker ID (-1: all) is delayed by MS\n"
        "  leader TOPIC PARTITION ID              move a partition's leadership\n"
        "  ping                                   nothing; answers ok");
    return {app, [flags] { return kafka_mock_command(*flags); }};
}

}  // namespace encore::tools
