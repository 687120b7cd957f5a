#pragma once
// What the `encore export` tests share, for the embedded log (export_test.cpp) and Kafka mode
// (kafka_export_test.cpp): running the command line, reading the SQLite file through the `sqlite3`
// command line, a small onsale over HTTP, and the checks that an export agrees with what the node
// serves (GET /analytics/concerts/{id}, GET /users/me/balance) and that its formats agree with
// each other. The checks use Catch assertions: call them from the test's main thread.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/api.hpp"
#include "tests/support/run_command.hpp"

namespace encore::test {

// `encore export ARGUMENTS`, its standard error to /dev/null.
command_run run_export(const std::string& arguments);

// The rows of a query, through the sqlite3 command line's JSON mode.
json query(const std::string& file, const std::string& sql);
// The single value of a one-row query (NULL as 0).
std::int64_t scalar(const std::string& file, const std::string& sql);
std::size_t lines_of(const std::string& path);

// Every table an export writes.
extern const std::vector<std::string> export_table_names;

struct onsale {
    std::string concert, other_concert;
    std::vector<user_account> users;
    std::vector<std::string> reservations;  // of the first concert: paid, paid and refunded, cancelled, expired
};

// Four admitted fans of the first concert: two pay (one of them then refunds), one cancels, one
// lets the hold expire after a payment refused for want of money; one fan of a second concert
// holds a seat. Everything through `client`.
onsale drive_onsale(http_client& client, const std::string& admin_key);

// The `dates` table and the rows underneath (seats, reservations, payments, refunds, queue
// entries, events) agree with GET /analytics/concerts/{id} as `client` answers it, and hold what
// drive_onsale did.
void check_export_against_analytics(http_client& client, const std::string& admin_key, const std::string& db, const onsale& o);

// Every user's balance and last wallet entry agree with GET /users/me/balance, less what was
// charged after the export (`charged_since`, by user id); money is conserved.
void check_export_against_balances(http_client& client, const std::string& db, const onsale& o,
                                   const std::map<std::string, std::int64_t>& charged_since = {});

// An export of `--concert o.concert` alone: its tables hold that concert, its payments and refunds
// (and no charges), its four fans and its events.
void check_concert_export(const std::string& db, const onsale& o);

// The CSV and JSON Lines folders have the rows of the SQLite file, table by table.
void check_formats_agree(const std::string& db, const std::string& csv_dir, const std::string& jsonl_dir);

}  // namespace encore::test
