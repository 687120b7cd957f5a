// `encore export` on a real node's data directory: a small onsale over HTTP (users, charges, two
// concerts, the queue, holds, payments, a refund, a refused payment, a cancel, an expiry),
// exported to SQLite while the node is still running; the file, opened with the `sqlite3` command
// line, agrees with GET /analytics/concerts/{id} and GET /users/me/balance, and the node goes on
// serving. Then, on the stopped node, CSV and JSON Lines have the same row counts as SQLite,
// `--concert` keeps one concert, and a bad command line exits 2, a missing data dir 3.

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

struct command_run {
    int status = -1;
    std::string output;  // stdout
};

command_run run(const std::string& command) {
    FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r");
    REQUIRE(pipe != nullptr);
    command_run r;
    char buffer[4096];
    std::size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, got);
    const int status = ::pclose(pipe);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

command_run run_export(const std::string& arguments) { return run(std::string(ENCORE_BINARY) + " export " + arguments); }

// The rows of a query, through the sqlite3 command line's JSON mode.
json query(const std::string& file, const std::string& sql) {
    std::string quoted = "'";  // for the shell: single quotes, each ' in the SQL as '\''
    for (char c : sql) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    const command_run r = run("sqlite3 -json " + file + " " + quoted + "'");
    INFO(sql << "\n" << r.output);
    REQUIRE(r.status == 0);
    if (r.output.find_first_not_of(" \n") == std::string::npos) return json::array();
    return json::parse(r.output);
}

std::int64_t scalar(const std::string& file, const std::string& sql) {
    const json rows = query(file, sql);
    REQUIRE(rows.size() == 1);
    const json& v = rows[0].begin().value();
    return v.is_null() ? 0 : v.get<std::int64_t>();
}

std::size_t lines_of(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::size_t n = 0;
    std::string line;
    while (std::getline(in, line)) ++n;
    return n;
}

const std::vector<std::string> table_names = {"events",   "concerts",       "dates",         "seats", "reservations", "payments",
                                              "refunds",  "wallet_entries", "queue_entries", "users", "columns"};

struct onsale {
    std::string concert, other_concert;
    std::vector<user_account> users;
};

// Four admitted fans of the first concert: two pay (one of them then refunds), one cancels, one lets the hold expire after a
// payment refused for want of money; one fan of a second concert holds a seat.
onsale drive(const server_process& server, http_client& client) {
    onsale o;
    json body = concert_body(20, 80'000, 100, 600, 2);
    body["title"] = "Encore, \"live\"";
    body["refundsUntil"] = "2099-01-01T00:00:00.000Z";
    o.concert = create_concert(client, server, body);
    o.other_concert = create_concert(client, server, concert_body(10, 5'000));
    std::vector<std::string> ids;
    for (std::uint32_t seat = 1; seat <= 4; ++seat) {
        const guest g = admitted_guest(client, o.concert);
        o.users.push_back(g.user);
        REQUIRE_STATUS(charge(client, g.user, seat == 4 ? 10'000 : 100'000), 200);
        auto held = hold(client, g, o.concert, seat);
        REQUIRE_STATUS(held, 201);
        ids.push_back(held.json().at("reservationId"));
    }
    REQUIRE_STATUS(pay(client, o.users[0], ids[0]), 201);
    REQUIRE_STATUS(pay(client, o.users[1], ids[1]), 201);
    REQUIRE_STATUS(call(client, "POST", "/reservations/" + ids[1] + "/refund", {}, bearer(o.users[1].token)), 200);
    REQUIRE_STATUS(cancel(client, o.users[2], ids[2]), 200);
    REQUIRE_ERROR(pay(client, o.users[3], ids[3]), 402, "INSUFFICIENT_BALANCE");
    REQUIRE(poll_until(std::chrono::seconds(15), [&] {
        return reservation(client, o.users[3], ids[3]).json().at("status") == "EXPIRED";
    }));
    const guest other = admitted_guest(client, o.other_concert);
    o.users.push_back(other.user);
    REQUIRE_STATUS(charge(client, other.user, 7'000), 200);
    REQUIRE_STATUS(hold(client, other, o.other_concert, 3), 201);
    return o;
}

TEST_CASE("encore export: a running node's log in SQLite agrees with the analytics and the balances", "[export]") {
    server_options options;
    options.partitions = 2;
    server_process server(options);
    http_client client(server.host(), server.port());
    const onsale o = drive(server, client);
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
        auto reply = call(client, "GET", "/analytics/concerts/" + o.concert, {}, admin_header(server.admin_key()));
        REQUIRE_STATUS(reply, 200);
        const json a = reply.json().at("dates").at(0);
        INFO(a.dump());
        const std::string where = " WHERE concert_id = '" + o.concert + "'";
        const json d = query(db, "SELECT * FROM dates" + where).at(0);
        INFO(d.dump());
        CHECK(d.at("seats_sold") == a.at("seatsSold"));
        CHECK(d.at("seats_held") == a.at("seatsHeld"));
        CHECK(d.at("seats_available") == a.at("seatsAvailable"));
        CHECK(d.at("revenue") == a.at("revenue"));
        CHECK(d.at("holds_placed") == a.at("holdsPlaced"));
        CHECK(d.at("holds_cancelled") == a.at("holdsCancelled"));
        CHECK(d.at("holds_expired") == a.at("holdsExpired"));
        CHECK(a.at("seatsSold") == 1);
        CHECK(a.at("revenue") == 80'000);
        // The same figures from the rows underneath.
        CHECK(scalar(db, "SELECT count(*) FROM seats" + where + " AND status = 'SOLD'") == 1);
        CHECK(scalar(db, "SELECT count(*) FROM reservations" + where) == a.at("holdsPlaced").get<std::int64_t>());
        CHECK(scalar(db, "SELECT count(*) FROM reservations" + where + " AND cancelled_at IS NOT NULL") == 1);
        CHECK(scalar(db, "SELECT count(*) FROM reservations" + where + " AND expired_at IS NOT NULL AND status = 'EXPIRED'") == 1);
        CHECK(scalar(db, "SELECT count(*) FROM reservations" + where + " AND paid_at IS NOT NULL AND status = 'CONFIRMED'") == 1);
        CHECK(scalar(db, "SELECT count(*) FROM reservations" + where + " AND refunded_at IS NOT NULL AND status = 'REFUNDED'") == 1);
        CHECK(scalar(db, "SELECT count(*) FROM refunds" + where + " AND status = 'REFUNDED' AND amount = 80000"
                         " AND credited_at IS NOT NULL AND refunded_at IS NOT NULL") == 1);
        CHECK(d.at("refunds") == 1);
        CHECK(scalar(db, "SELECT sum(amount) FROM payments" + where + " AND status = 'CONFIRMED'") == 160'000);
        CHECK(scalar(db, "SELECT count(*) FROM payments" + where + " AND status = 'FAILED' AND failure_reason = 'INSUFFICIENT_BALANCE'") == 1);
        CHECK(scalar(db, "SELECT count(*) FROM queue_entries" + where + " AND admitted_at IS NOT NULL") == 4);
        CHECK(scalar(db, "SELECT count(*) FROM queue_entries" + where + " AND outcome = 'COMPLETED'") == 2);
        CHECK(scalar(db, "SELECT count(*) FROM events WHERE type = 'SeatHeld'") == 5);
        CHECK(scalar(db, "SELECT count(*) FROM seats") == 30);
        // A row, where the catalog has seatsPerRow, is ceil(seat / seatsPerRow).
        CHECK(scalar(db, "SELECT count(*) FROM seats s JOIN dates d USING (concert_id, date) WHERE d.seats_per_row IS NOT NULL"
                         " AND s.row != (s.seat + d.seats_per_row - 1) / d.seats_per_row") == 0);
        CHECK(query(db, "SELECT title FROM concerts" + where).at(0).at("title") == "Encore, \"live\"");
    }

    SECTION("balances and wallet entries agree with GET /users/me/balance") {
        for (std::size_t i = 0; i < o.users.size(); ++i) {
            const user_account& u = o.users[i];
            // The charge of 1 after the export is not in it.
            const std::int64_t served = balance_of(client, u) - (i == 0 ? 1 : 0);
            INFO(u.id);
            CHECK(scalar(db, "SELECT balance FROM users WHERE user_id = '" + u.id + "'") == served);
            CHECK(scalar(db, "SELECT balance_after FROM wallet_entries WHERE user_id = '" + u.id +
                                 "' ORDER BY sequence DESC LIMIT 1") == served);
        }
        // Money is conserved: charges = balances + payments - refunds.
        CHECK(scalar(db, "SELECT sum(amount) FROM wallet_entries WHERE type = 'CHARGE'") ==
              scalar(db, "SELECT sum(balance) FROM users") + scalar(db, "SELECT sum(amount) FROM wallet_entries WHERE type = 'PAYMENT'") -
                  scalar(db, "SELECT sum(amount) FROM wallet_entries WHERE type = 'REFUND'"));
        CHECK(scalar(db, "SELECT sum(amount) FROM wallet_entries WHERE type = 'REFUND'") == 80'000);
        CHECK(scalar(db, "SELECT count(*) FROM columns WHERE \"table\" = 'seats'") == 8);
    }

    SECTION("stopped: csv and jsonl have the rows of sqlite; --concert keeps one concert") {
        REQUIRE(server.stop() == 0);
        const std::string stopped = out + "/stopped.db";
        REQUIRE(run_export("--data-dir " + server.data_dir() + " --out " + stopped).status == 0);
        REQUIRE(run_export("--data-dir " + server.data_dir() + " --format csv --out " + out + "/csv").status == 0);
        REQUIRE(run_export("--data-dir " + server.data_dir() + " --format jsonl --out " + out + "/jsonl").status == 0);
        for (const std::string& t : table_names) {
            INFO(t);
            const std::int64_t rows = scalar(stopped, "SELECT count(*) FROM \"" + t + "\"");
            CHECK(lines_of(out + "/csv/" + t + ".csv") == static_cast<std::size_t>(rows) + 1);
            CHECK(lines_of(out + "/jsonl/" + t + ".jsonl") == static_cast<std::size_t>(rows));
        }
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
        CHECK(scalar(one, "SELECT count(*) FROM concerts") == 1);
        CHECK(scalar(one, "SELECT count(*) FROM reservations WHERE concert_id != '" + o.concert + "'") == 0);
        CHECK(scalar(one, "SELECT count(*) FROM reservations") == 4);
        CHECK(scalar(one, "SELECT count(*) FROM wallet_entries WHERE type = 'CHARGE'") == 0);
        CHECK(scalar(one, "SELECT sum(amount) FROM wallet_entries WHERE type = 'PAYMENT'") == 160'000);
        CHECK(scalar(one, "SELECT sum(amount) FROM wallet_entries WHERE type = 'REFUND'") == 80'000);
        CHECK(scalar(one, "SELECT count(*) FROM refunds") == 1);
        CHECK(scalar(one, "SELECT count(*) FROM seats") == 20);
        CHECK(scalar(one, "SELECT count(*) FROM users") == 4);
        CHECK(scalar(one, "SELECT count(*) FROM events WHERE json LIKE '%" + o.other_concert + "%'") == 0);
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
