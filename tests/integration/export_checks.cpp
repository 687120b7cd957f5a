#include "tests/integration/export_checks.hpp"

#include <catch2/catch.hpp>

#include <fstream>

namespace encore::test {

command_run run_export(const std::string& arguments) {
    return run_command(std::string(ENCORE_BINARY) + " export " + arguments + " 2>/dev/null");
}

json query(const std::string& file, const std::string& sql) {
    std::string quoted = "'";  // for the shell: single quotes, each ' in the SQL as '\''
    for (char c : sql) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    const command_run r = run_command("sqlite3 -json " + file + " " + quoted + "' 2>/dev/null");
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

const std::vector<std::string> export_table_names = {"events",   "concerts",       "dates",         "seats", "reservations", "payments",
                                                     "refunds",  "wallet_entries", "queue_entries", "users", "columns"};

onsale drive_onsale(http_client& client, const std::string& admin_key) {
    onsale o;
    // Holds of 10 s: the hold meant to expire is placed first, so its time runs while the others
    // are made; each of the others is paid or cancelled by the very next request, well within its
    // 10 s however loaded the machine.
    json body = concert_body(20, 80'000, 100, 600, 10);
    body["title"] = "Encore, \"live\"";
    body["refundsUntil"] = "2099-01-01T00:00:00.000Z";
    o.concert = create_concert(client, admin_key, body);
    o.other_concert = create_concert(client, admin_key, concert_body(10, 5'000));
    // Fan i holds seat i + 1 and is users[i], with reservations[i].
    o.users.resize(4);
    o.reservations.resize(4);
    const auto held_by = [&](std::size_t fan, std::int64_t amount) {
        const guest g = admitted_guest(client, o.concert);
        o.users[fan] = g.user;
        REQUIRE_STATUS(charge(client, g.user, amount), 200);
        auto held = hold(client, g, o.concert, static_cast<std::uint32_t>(fan + 1));
        REQUIRE_STATUS(held, 201);
        o.reservations[fan] = held.json().at("reservationId").get<std::string>();
        return o.reservations[fan];
    };
    // The fourth fan's payment is refused for want of money, and the hold then expires.
    const std::string expiring = held_by(3, 10'000);
    REQUIRE_ERROR(pay(client, o.users[3], expiring), 402, "INSUFFICIENT_BALANCE");
    const std::string paid = held_by(0, 100'000);
    REQUIRE_STATUS(pay(client, o.users[0], paid), 201);
    const std::string refunded = held_by(1, 100'000);
    REQUIRE_STATUS(pay(client, o.users[1], refunded), 201);
    REQUIRE_STATUS(call(client, "POST", "/reservations/" + refunded + "/refund", {}, bearer(o.users[1].token)), 200);
    const std::string cancelled = held_by(2, 100'000);
    REQUIRE_STATUS(cancel(client, o.users[2], cancelled), 200);
    const guest other = admitted_guest(client, o.other_concert);
    o.users.push_back(other.user);
    REQUIRE_STATUS(charge(client, other.user, 7'000), 200);
    REQUIRE_STATUS(hold(client, other, o.other_concert, 3), 201);
    // The organizer blocks the last two seats and gives the other concert a second date.
    REQUIRE_STATUS(call(client, "POST", "/admin/concerts/" + o.concert + "/dates/" + std::string(concert_date) + "/blocks",
                        json{{"seats", {19, 20}}, {"reason", "camera"}}.dump(), admin_header(admin_key)), 200);
    REQUIRE_STATUS(call(client, "POST", "/admin/concerts/" + o.other_concert + "/dates",
                        json{{"schedules", {{{"date", "2030-12-27"}, {"seats", 5}, {"price", 6'000}}}}}.dump(), admin_header(admin_key)), 201);
    REQUIRE(eventually(std::chrono::seconds(60), [&] {
        return reservation(client, o.users[3], expiring).json().at("status") == "EXPIRED";
    }));
    return o;
}

void check_export_against_analytics(http_client& client, const std::string& admin_key, const std::string& db, const onsale& o) {
    auto reply = call(client, "GET", "/analytics/concerts/" + o.concert, {}, admin_header(admin_key));
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
    CHECK(d.at("seats_blocked") == a.at("seatsBlocked"));
    CHECK(a.at("seatsBlocked") == 2);
    CHECK(scalar(db, "SELECT count(*) FROM seats" + where + " AND status = 'BLOCKED'") == 2);
    CHECK(scalar(db, "SELECT count(*) FROM dates WHERE concert_id = '" + o.other_concert + "'") == 2);
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
    CHECK(scalar(db, "SELECT count(*) FROM seats") == 35);  // 20, and 10 + 5 (the date added)
    // A row, where the catalog has seatsPerRow, is ceil(seat / seatsPerRow).
    CHECK(scalar(db, "SELECT count(*) FROM seats s JOIN dates d USING (concert_id, date) WHERE d.seats_per_row IS NOT NULL"
                     " AND s.row != (s.seat + d.seats_per_row - 1) / d.seats_per_row") == 0);
    CHECK(query(db, "SELECT title FROM concerts" + where).at(0).at("title") == "Encore, \"live\"");
    // Each reservation's status is the one the API serves.
    for (std::size_t i = 0; i < o.reservations.size(); ++i) {  // reservation i is users[i]'s
        const std::string& id = o.reservations[i];
        INFO(id);
        const json rows = query(db, "SELECT status FROM reservations WHERE reservation_id = '" + id + "'");
        REQUIRE(rows.size() == 1);
        CHECK(rows[0].at("status") == reservation(client, o.users.at(i), id).json().at("status"));
    }
}

void check_export_against_balances(http_client& client, const std::string& db, const onsale& o,
                                   const std::map<std::string, std::int64_t>& charged_since) {
    for (const user_account& u : o.users) {
        const auto since = charged_since.find(u.id);
        const std::int64_t served = balance_of(client, u) - (since == charged_since.end() ? 0 : since->second);
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
    CHECK(scalar(db, "SELECT count(*) FROM columns WHERE \"table\" = 'seats'") == 11);
}

void check_concert_export(const std::string& db, const onsale& o) {
    CHECK(scalar(db, "SELECT count(*) FROM concerts") == 1);
    CHECK(scalar(db, "SELECT count(*) FROM reservations WHERE concert_id != '" + o.concert + "'") == 0);
    CHECK(scalar(db, "SELECT count(*) FROM reservations") == 4);
    CHECK(scalar(db, "SELECT count(*) FROM wallet_entries WHERE type = 'CHARGE'") == 0);
    CHECK(scalar(db, "SELECT sum(amount) FROM wallet_entries WHERE type = 'PAYMENT'") == 160'000);
    CHECK(scalar(db, "SELECT sum(amount) FROM wallet_entries WHERE type = 'REFUND'") == 80'000);
    CHECK(scalar(db, "SELECT count(*) FROM refunds") == 1);
    CHECK(scalar(db, "SELECT count(*) FROM seats") == 20);
    CHECK(scalar(db, "SELECT count(*) FROM users") == 4);
    CHECK(scalar(db, "SELECT count(*) FROM events WHERE json LIKE '%" + o.other_concert + "%'") == 0);
}

void check_formats_agree(const std::string& db, const std::string& csv_dir, const std::string& jsonl_dir) {
    for (const std::string& t : export_table_names) {
        INFO(t);
        const std::int64_t rows = scalar(db, "SELECT count(*) FROM \"" + t + "\"");
        if (!csv_dir.empty()) CHECK(lines_of(csv_dir + "/" + t + ".csv") == static_cast<std::size_t>(rows) + 1);
        if (!jsonl_dir.empty()) CHECK(lines_of(jsonl_dir + "/" + t + ".jsonl") == static_cast<std::size_t>(rows));
    }
}

}  // namespace encore::test
