// Recovery in Kafka mode when the checkpoints are gone: the mock cluster keeps ~5 MiB per partition,
// so the snapshots topic can lose a partition's latest checkpoint. A new owner then rebuilds the
// partition by replaying its command log from offset zero, and must write no event a second time.

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/integration/kafka_load.hpp"
#include "tests/support/run_command.hpp"

namespace encore::test {
namespace {

using namespace std::chrono_literals;

// Enough ~800 KB messages to push everything older out of a mock partition (5 MiB).
constexpr int filler_messages = 8;
constexpr std::size_t filler_bytes = 800'000;


// The keys of the snapshots topic's messages, read with kcat.
std::set<std::string> snapshot_keys(const kafka_cluster& cluster) {
    const std::string out = run_output("kcat -C -b " + cluster.bootstrap() + " -t " + cluster.topic_prefix() +
                                  "snapshots -e -q -f '%k\\n' 2>/dev/null");
    std::set<std::string> keys;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) keys.insert(line);
    }
    return keys;
}

TEST_CASE("without checkpoints a new owner rebuilds from offset zero and writes no event twice", "[kafka][recovery]") {
    kafka_cluster cluster(1);
    std::vector<user_account> users;
    std::string concert, paid_id;
    guest observer;
    std::map<std::string, std::int64_t> balances;
    {
        http_client client(cluster.server(0).host(), cluster.server(0).port(), 20s);
        concert = create_concert_on(client, cluster.options().admin_key, concert_body(20, 1'000));
        observer = admitted_guest(client, concert);
        for (int i = 0; i < 8; ++i) {
            users.push_back(new_user(client));
            REQUIRE_STATUS(charge(client, users.back(), 5'000 + i), 200);
        }
        const guest buyer = admitted_guest(client, concert);
        REQUIRE_STATUS(charge(client, buyer.user, 3'000), 200);
        auto held = hold(client, buyer, concert, 3);
        REQUIRE_STATUS(held, 201);
        paid_id = held.json().at("reservationId");
        REQUIRE_STATUS(pay(client, buyer.user, paid_id), 201);
        users.push_back(buyer.user);
        for (const auto& u : users) balances[u.id] = balance_of(client, u);
    }
    // A clean stop leaves a checkpoint for every partition that applied something.
    REQUIRE(cluster.server(0).stop() == 0);
    const auto before = snapshot_keys(cluster);
    INFO("snapshot keys before: " << before.size());
    REQUIRE(!before.empty());

    // Push them out of the mock's snapshots partition with big messages under a key no partition has.
    const std::string filler = cluster.root_dir() + "/filler";
    {
        std::ofstream out(filler);
        for (int i = 0; i < filler_messages; ++i) out << std::string(filler_bytes, 'x') << "\n";
    }
    run_output("kcat -P -b " + cluster.bootstrap() + " -t " + cluster.topic_prefix() + "snapshots -k 99999 -X message.max.bytes=4000000 -l " +
          filler + " 2>&1");
    const auto after = snapshot_keys(cluster);
    for (const auto& key : before) {
        INFO("checkpoint of partition " << key);
        CHECK(after.count(key) == 0);
    }

    // A new process on a fresh data directory: every partition from offset zero, every read model
    // from the first event.
    kafka_server& fresh = cluster.add_server();
    std::string why;
    if (!cluster.wait_balanced(60s, &why)) FAIL("the new process did not take over: " << why);
    http_client client(fresh.host(), fresh.port(), 20s);
    for (const auto& u : users) {
        INFO("user " << u.id);
        CHECK(balance_of(client, u) == balances.at(u.id));
    }
    CHECK(reservation(client, users.back(), paid_id).json().at("status") == "CONFIRMED");
    CHECK(seat_status(client, observer, concert, 3) == "SOLD");
    CHECK(fresh.stderr_tail(1 << 20).find("\"from\":0") != std::string::npos);
    // And it goes on.
    auto more = charge(client, users.front(), 1);
    REQUIRE_STATUS(more, 200);
    CHECK(more.json().at("balance") == balances.at(users.front().id) + 1);

    // Nothing was written twice: the replay knew which events were already in the topic.
    const json state = audited_state(cluster);
    INFO(state.at("output").get<std::string>());
    std::uint64_t repeats = 0;
    for (const auto& p : state.at("partitions")) repeats += p.at("repeats").get<std::uint64_t>();
    CHECK(repeats == 0);
}

}  // namespace
}  // namespace encore::test
