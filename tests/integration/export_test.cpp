// `encore export` on a real node's data directory: a small onsale over HTTP (users, charges, two
// concerts, the queue, holds, payments, a refund, a refused payment, a cancel, an expiry),
// exported to SQLite while the node is still running; the file, opened with the `sqlite3` command
// line, agrees with GET /analytics/concerts/{id} and GET /users/me/balance, and the node goes on
// serving. Then, on the stopped node, CSV and JSON Lines have the same row counts as SQLite,
// `--concert` keeps one concert, and a bad command line exits 2, a missing data dir 3.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "tests/integration/export_checks.hpp"

namespace encore::test {
namespace {

TEST_CASE("encore export: a running node's log in SQLite agrees with the analytics and the balances", "[export]") {
    server_options options;
    options.partitions = 2;
    server_process server(options);
    http_client client(server.host(), server.port());
    const onsale o = drive_onsale(client, server.admin_key());
    const std::string out = server.data_dir() + "-export";
    std::filesystem::remove_all(out);
    const std::string db = out + "/onsale.db";

    const command_run live = run_export("--data-dir " + server.data_dir() + " --format sqlite --out " + db);
    INFO(live.output);
    REQUIRE(live.status == 0);
    CHECK(live.output.find("export written: sqlite") != std::string::npos);
    // The node did not notice: it goes on writing and answering.
    REQUIRE_STATUS(charge(client, o.users[0], 1), 200);

    SECTION("the dates table and the reservations agree with the analytics") {
        check_export_against_analytics(client, server.admin_key(), db, o);
    }

    SECTION("balances and wallet entries agree with GET /users/me/balance") {
        // The charge of 1 after the export is not in it.
        check_export_against_balances(client, db, o, {{o.users[0].id, 1}});
    }

    SECTION("stopped: csv and jsonl have the rows of sqlite; --concert keeps one concert") {
        REQUIRE(server.stop() == 0);
        const std::string stopped = out + "/stopped.db";
        REQUIRE(run_export("--data-dir " + server.data_dir() + " --out " + stopped).status == 0);
        REQUIRE(run_export("--data-dir " + server.data_dir() + " --format csv --out " + out + "/csv").status == 0);
        REQUIRE(run_export("--data-dir " + server.data_dir() + " --format jsonl --out " + out + "/jsonl").status == 0);
        check_formats_agree(stopped, out + "/csv", out + "/jsonl");
        std::ifstream csv(out + "/csv/concerts.csv", std::ios::binary);
        const std::string text((std::istreambuf_iterator<char>(csv)), std::istreambuf_iterator<char>());
        CHECK(text.rfind("concert_id,title,venue,", 0) == 0);
        CHECK(text.find("\"Encore, \"\"live\"\"\"") != std::string::npos);
        CHECK(text.find("\r\n") != std::string::npos);
        std::ifstream events(out + "/jsonl/events.jsonl");
        std::string line;
        REQUIRE(std::getline(events, line));
        const json first = json::parse(line);
        CHECK(first.at("json").is_object());
        CHECK(first.at("json").at("type") == first.at("type"));

        const std::string one = out + "/one.db";
        REQUIRE(run_export("--data-dir " + server.data_dir() + " --concert " + o.concert + " --out " + one).status == 0);
        check_concert_export(one, o);
    }

    SECTION("a bad command line exits 2, a missing data dir 3") {
        CHECK(run_export("--data-dir " + server.data_dir() + " --out " + out + "/x.db --no-such-flag 1").status == 2);
        CHECK(run_export("--data-dir " + server.data_dir() + " --format parquet --out " + out + "/x").status == 2);
        CHECK(run_export("--data-dir " + server.data_dir()).status == 2);
        CHECK(run_export("--data-dir " + server.data_dir() + " --concert nope --out " + out + "/x.db").status == 2);
        CHECK(run_export("--data-dir " + server.data_dir() + " --concert c-00000000000000ff --out " + out + "/x.db").status == 2);
        CHECK(!std::filesystem::exists(out + "/x.db"));
        CHECK(run_export("--data-dir " + out + "/no-such-dir --out " + out + "/x.db").status == 3);
    }
    std::filesystem::remove_all(out);
}

}  // namespace
}  // namespace encore::test
