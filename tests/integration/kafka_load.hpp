#pragma once
// Light load on a Kafka-mode cluster and the checks that follow it, shared by the failover and
// fault tests. Workers charge, hold and pay against any live process; what they were told is
// recorded, and "in doubt" is a command whose answer was lost (the process died, or 503) — it may
// or may not be in effect. Workers never use Catch assertions; the test's main thread checks.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/integration/api.hpp"
#include "tests/integration/kafka_cluster.hpp"

namespace encore::test {

// The HTTP endpoints of a cluster's processes, and which may be used (a worker stops using a
// process once the test marks it down, before killing it).
struct endpoints {
    std::vector<std::pair<std::string, std::uint16_t>> addresses;
    std::unique_ptr<std::atomic<bool>[]> up;

    explicit endpoints(kafka_cluster& cluster);
    void mark_down(std::size_t i) { up[i].store(false); }
    void refresh(kafka_cluster& cluster);  // ports after restarts; every running process up
};

struct load_record {
    user_account user;
    std::int64_t charged_acknowledged = 0;
    std::int64_t charged_in_doubt = 0;
    std::vector<std::string> holds_acknowledged;
    std::vector<std::string> payments_acknowledged;
    std::uint64_t answered = 0;     // 2xx and expected refusals
    std::uint64_t unavailable = 0;  // 503s and lost connections
    std::string unexpected;          // a reply no correct server gives
};

inline constexpr std::uint32_t load_seats = 40;
inline constexpr std::int64_t load_price = 300;

// One worker: charges, holds and pays until `stop`, on random live processes.
void run_load(const endpoints& at, const std::string& concert, std::uint64_t seed, load_record& rec,
              std::atomic<std::uint64_t>& answered, const std::atomic<bool>& stop);

// What one process answers about the users and concerts of a test.
struct cluster_view {
    std::map<std::string, std::int64_t> balances;      // user id -> balance
    std::map<std::string, std::int64_t> charges;       // user id -> sum of CHARGE history entries
    std::map<std::string, std::int64_t> payments;      // user id -> sum of PAYMENT history entries
    std::map<std::string, std::string> reservations;   // reservation id -> status
    std::map<std::string, std::string> seats;          // "concert/date/seat" -> HELD or SOLD
    std::map<std::string, int> confirmed_per_seat;     // "concert/date/seat" -> CONFIRMED reservations
    std::int64_t confirmed_total = 0;                  // prices of CONFIRMED reservations

    bool conserved() const;  // balances + confirmed prices == charges
    std::string describe_money() const;  // the sums, and each user whose wallet does not add up
    bool operator==(const cluster_view&) const = default;
};

// Reads the view through `client`. `observers` holds one admitted guest per concert, for the seat
// maps.
cluster_view read_view(http_client& client, const std::vector<user_account>& users,
                       const std::map<std::string, guest>& observers);

// Waits until every live process answers the same view and it conserves money; returns it, or
// throws std::runtime_error saying why not.
cluster_view settled_view(kafka_cluster& cluster, const std::vector<user_account>& users,
                          const std::map<std::string, guest>& observers, std::chrono::milliseconds timeout);

// Runs `encore audit --kafka ... --state-json` and returns the replayed state; throws if the audit
// fails.
nlohmann::json audited_state(kafka_cluster& cluster);

// The user id's partition (routing is a fixed hash of the id: events/ids.hpp).
std::uint32_t partition_of_user(const std::string& user_id_text, std::uint32_t partitions);
std::uint32_t partition_of_concert(const std::string& concert_id_text, std::uint32_t partitions);

// POST /admin/concerts on any process.
std::string create_concert_on(http_client& client, const std::string& admin_key, const json& body);

}  // namespace encore::test
