// `encore export --kafka` on a live two-process cluster: the onsale of export_test.cpp (users,
// charges, two concerts, the queue, holds, payments, a refund, a refused payment, a cancel, an
// expiry) driven through one process, exported from the topics to SQLite, CSV and JSON Lines while
// both processes run; the file, opened with the `sqlite3` command line, agrees with what the other
// process serves (GET /analytics/concerts/{id}, GET /users/me/balance) and with the replay of
// `encore audit --kafka`. Then produce answers arrive too late, so the mock writes batches twice:
// the export drops the repeated events and still agrees. A wrong partition count exits 2.

#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/integration/export_checks.hpp"
#include "tests/integration/kafka_load.hpp"

namespace encore::test {
namespace {

using namespace std::chrono_literals;

// What the process answers about the onsale, for waiting until another process answers the same.
json served(http_client& client, const std::string& admin_key, const onsale& o) {
    json out;
    for (const std::string& c : {o.concert, o.other_concert}) {
        auto reply = call(client, "GET", "/analytics/concerts/" + c, {}, admin_header(admin_key));
        out[c] = reply.status == 200 ? reply.json().at("dates") : json(reply.status);
    }
    for (const user_account& u : o.users) out[u.id] = balance_of(client, u);
    return out;
}

// Waits until process `b` answers what `a` does about the onsale.
void wait_same(http_client& a, http_client& b, const std::string& admin_key, const onsale& o) {
    json seen_a, seen_b;
    const bool same = eventually(30s, [&] {
        seen_a = served(a, admin_key, o);
        seen_b = served(b, admin_key, o);
        return seen_a == seen_b;
    }, 50ms);
    INFO("process A: " << seen_a.dump() << "\nprocess B: " << seen_b.dump());
    REQUIRE(same);
}

// Every registered user's balance in the export is the replayed one.
void check_balances_replayed(const std::string& db, const json& state) {
    const json users = query(db, "SELECT user_id, balance FROM users");
    CHECK(users.size() == state.at("balances").size());
    for (const json& u : users) {
        INFO(u.dump());
        CHECK(state.at("balances").at(u.at("user_id").get<std::string>()) == u.at("balance"));
    }
}

std::uint64_t summed(const json& state, const char* field) {
    std::uint64_t n = 0;
    for (const json& p : state.at("partitions")) n += p.at(field).get<std::uint64_t>();
    return n;
}

TEST_CASE("encore export --kafka: a live cluster's topics agree with the analytics, the balances and the audit", "[kafka][export]") {
    kafka_cluster_options options;
    // A produce unanswered for 2 s is sent again: with answers delayed by 3 s (below), the mock
    // writes those batches twice.
    options.server_args = {"--kafka-config", "socket.timeout.ms=2000"};
    kafka_cluster cluster(2, options);
    const std::string& key = cluster.options().admin_key;
    http_client a(cluster.server(0).host(), cluster.server(0).port(), 20s);
    http_client b(cluster.server(1).host(), cluster.server(1).port(), 20s);
    const onsale o = drive_onsale(a, key);
    wait_same(a, b, key, o);

    const std::string out = cluster.root_dir() + "/export";
    std::filesystem::create_directories(out);
    const std::string from = "--kafka " + cluster.bootstrap() + " --partitions " + std::to_string(cluster.options().partitions) +
                             " --topic-prefix " + cluster.topic_prefix();
    // Without --partitions the count comes from the topics.
    const std::string discovered = "--kafka " + cluster.bootstrap() + " --topic-prefix " + cluster.topic_prefix();
    const std::string db = out + "/x.sqlite";
    const command_run sqlite = run_export(from + " --format sqlite --out " + db);
    INFO(sqlite.output);
    REQUIRE(sqlite.status == 0);
    CHECK(sqlite.output.find("export written: sqlite") != std::string::npos);
    REQUIRE(run_export(discovered + " --format jsonl --out " + out + "/jsonl").status == 0);
    REQUIRE(run_export(discovered + " --format csv --out " + out + "/csv").status == 0);
    const json state = audited_state(cluster);
    INFO(state.at("output").get<std::string>());
    // The cluster goes on writing and answering.
    REQUIRE_STATUS(charge(a, o.users[0], 1), 200);
    REQUIRE(eventually(30s, [&] { return balance_of(b, o.users[0]) == balance_of(a, o.users[0]); }));

    // Checked against process B, which answered none of the onsale's commands.
    check_export_against_analytics(b, key, db, o);
    check_export_against_balances(b, db, o, {{o.users[0].id, 1}});
    check_formats_agree(db, out + "/csv", out + "/jsonl");
    check_balances_replayed(db, state);
    CHECK(static_cast<std::uint64_t>(scalar(db, "SELECT count(*) FROM events")) == summed(state, "events"));

    const std::string one = out + "/one.sqlite";
    REQUIRE(run_export(from + " --concert " + o.concert + " --out " + one).status == 0);
    check_concert_export(one, o);

    // Produce answers 3 s late on every broker: the producers send those batches again, and the
    // mock keeps both copies. Charges with an idempotency key, retried until answered, so each is
    // applied once whatever the replies lost.
    for (int broker = 1; broker <= cluster.options().brokers; ++broker)
        REQUIRE(cluster.control("broker-errors " + std::to_string(broker) + " 0 2 0 3000") == "ok");
    std::int64_t late = 0;
    for (std::size_t i = 0; i < o.users.size(); ++i) {
        const header_list once = {{"Idempotency-Key", "late-charge-" + std::to_string(i)}};
        const bool charged = eventually(60s, [&] {
            try {
                return charge(a, o.users[i], 100, once).status == 200;
            } catch (const std::runtime_error&) {
                return false;  // the connection was lost: try again, with the same key
            }
        }, 200ms);
        REQUIRE(charged);
        late += 100;
    }
    wait_same(a, b, key, o);
    const std::string after = out + "/after.sqlite";
    REQUIRE(run_export(from + " --out " + after).status == 0);
    const json replayed = audited_state(cluster);
    INFO(replayed.at("output").get<std::string>());
    check_export_against_analytics(b, key, after, o);
    check_export_against_balances(b, after, o);
    check_balances_replayed(after, replayed);
    CHECK(scalar(after, "SELECT sum(amount) FROM wallet_entries WHERE type = 'CHARGE'") ==
          scalar(db, "SELECT sum(amount) FROM wallet_entries WHERE type = 'CHARGE'") + 1 + late);
    CHECK(static_cast<std::uint64_t>(scalar(after, "SELECT count(*) FROM events")) == summed(replayed, "events"));
    const std::uint64_t repeats = summed(replayed, "repeats");
    // Whether the late produce answers met an event batch here depends on timing; the readers' and
    // the audit's handling of a repeat is required where it is made deterministic: unit_kafka's
    // lost produce answer and unit_replay's Kafka audit. Here it is reported.
    std::fprintf(stderr, "export --kafka: %llu repeated events in the topic, none exported twice\n",
                 static_cast<unsigned long long>(repeats));

    // The topics have 8 partitions: another count is a usage error, and nothing is written.
    CHECK(run_export("--kafka " + cluster.bootstrap() + " --partitions 3 --topic-prefix " + cluster.topic_prefix() + " --out " +
                     out + "/wrong.sqlite").status == 2);
    CHECK(!std::filesystem::exists(out + "/wrong.sqlite"));
    CHECK(run_export(discovered + " --partitions 0 --out " + out + "/zero.sqlite").status == 2);
    CHECK(!std::filesystem::exists(out + "/zero.sqlite"));
    // So is the audit's.
    const command_run wrong_audit = run_command("(" + std::string(ENCORE_BINARY) + " audit " + discovered + " --partitions 3 2>&1) 2>/dev/null");
    INFO(wrong_audit.output);
    CHECK(wrong_audit.status == 2);
    CHECK(wrong_audit.output.find("has 8 partitions, expected 3") != std::string::npos);
}

}  // namespace
}  // namespace encore::test
