// Sale phases over HTTP (API.md "Sale phases"): a fan club's LIST phase (VIP only, one seat each)
// open now and closing in 15 s, then the general sale 2 s later. The list uploaded as ids kept only
// as keyed hashes, claims (one id one person, the same claim again, the organizer freeing one, the
// rate limit on ids not on the list), NOT_ELIGIBLE naming the next phase a user may join,
// GRADE_NOT_ON_SALE and the phase's cap, the close expiring the phase's tokens while its holds stay
// payable, and the general sale's pre-queue admitted when it opens.

#include <catch2/catch.hpp>

#include "tests/integration/api.hpp"
#include "tests/integration/export_checks.hpp"

#include <filesystem>

namespace encore::test {
namespace {

// The presale's requests (two dozen, each acknowledged after an fsync) take a second or two here;
// a CI machine busy with other tests' fsyncs can take ten times that, so the presale lasts 25 s.
constexpr std::int64_t presale_ms = 25'000;
constexpr std::int64_t general_after_ms = 27'000;

// A venue of VIP seats 1..3 (A) and R seats 4..6 (B).
json phased_body(std::int64_t now) {
    json body = concert_body();
    body.erase("schedules");
    body["title"] = "Presale";
    body["grades"] = json::array({{{"grade", "VIP"}, {"price", 100'000}}, {{"grade", "R"}, {"price", 60'000}}});
    body["layout"] = {{"sections", json::array({{{"section", "A"}, {"grade", "VIP"}, {"rows", 1}, {"seatsPerRow", 3}},
                                                {{"section", "B"}, {"grade", "R"}, {"rows", 1}, {"seatsPerRow", 3}}})}};
    body["schedules"] = json::array({{{"date", concert_date}}});
    body["salePhases"] = json::array({{{"phase", "fanclub"}, {"name", "Fan club presale"}, {"opensAt", instant_text(now - 60'000)},
                                       {"closesAt", instant_text(now + presale_ms)}, {"eligibility", "LIST"}, {"grades", {"VIP"}},
                                       {"maxTicketsPerUser", 1}},
                                      {{"phase", "general"}, {"name", "General sale"}, {"opensAt", instant_text(now + general_after_ms)}}});
    return body;
}

http_reply claim(http_client& client, const user_account& u, const std::string& concert, const std::string& id,
                 const std::string& phase = "fanclub") {
    return call(client, "POST", "/concerts/" + concert + "/phases/" + phase + "/claim", json{{"id", id}}.dump(), bearer(u.token));
}

json phases_of(http_client& client, const user_account& u, const std::string& concert) {
    auto reply = call(client, "GET", "/concerts/" + concert + "/phases", {}, bearer(u.token));
    expect_status(reply, 200, "GET phases");
    return reply.json().at("phases");
}

}  // namespace

TEST_CASE("a fan club presale, then the general sale: lists, claims, eligibility, grades and caps", "[phases]") {
    server_process server;
    http_client client(server.host(), server.port());
    const std::int64_t now = now_ms();
    const json body = phased_body(now);
    const std::string concert = create_concert(client, server, body);
    const header_list admin = admin_header(server.admin_key());
    const std::string eligible_path = "/admin/concerts/" + concert + "/phases/fanclub/eligible";

    // The list: ids added in batches; a repeat is not new.
    auto added = call(client, "POST", eligible_path, json{{"ids", {"FC7Q2M9X4K1P", "FC-0000-0002X"}}}.dump(), admin);
    REQUIRE_STATUS(added, 200);
    CHECK(added.json() == json{{"added", 2}, {"total", 2}});
    auto more = call(client, "POST", eligible_path, json{{"ids", {"FC7Q2M9X4K1P", "FC-0000-0003Y"}}}.dump(), admin);
    REQUIRE_STATUS(more, 200);
    CHECK(more.json() == json{{"added", 1}, {"total", 3}});
    CHECK_ERROR(call(client, "POST", eligible_path, json{{"ids", {"short"}}}.dump(), admin), 400, "INVALID_REQUEST");
    CHECK_ERROR(call(client, "POST", "/admin/concerts/" + concert + "/phases/nope/eligible", json{{"ids", {"FC7Q2M9X4K1P"}}}.dump(), admin),
                404, "PHASE_NOT_FOUND");

    // Claims: one id, one person.
    const user_account member = new_user(client), other = new_user(client), guesser = new_user(client);
    auto claimed = claim(client, member, concert, "FC7Q2M9X4K1P");
    REQUIRE_STATUS(claimed, 200);
    CHECK(claimed.json() == json{{"phase", "fanclub"}, {"eligible", true}});
    CHECK_STATUS(claim(client, member, concert, "FC7Q2M9X4K1P"), 200);
    CHECK_ERROR(claim(client, other, concert, "FC7Q2M9X4K1P"), 409, "ALREADY_CLAIMED");
    CHECK_ERROR(claim(client, member, concert, "FC-0000-0002X"), 409, "ALREADY_ELIGIBLE");
    CHECK_ERROR(claim(client, other, concert, "NOT-ON-THE-LIST"), 404, "NOT_ON_LIST");

    // What each user sees of the phases.
    const json seen = phases_of(client, member, concert);
    INFO(seen.dump());
    REQUIRE(seen.size() == 2);
    CHECK(seen.at(0).at("phase") == "fanclub");
    CHECK(seen.at(0).at("eligibility") == "LIST");
    CHECK(seen.at(0).at("grades") == json::array({"VIP"}));
    CHECK(seen.at(0).at("eligible") == true);
    CHECK(seen.at(0).at("open") == true);
    CHECK(seen.at(1).at("grades") == json::array({"VIP", "R"}));
    CHECK(seen.at(1).at("eligible") == true);
    CHECK(seen.at(1).at("open") == false);
    CHECK(phases_of(client, other, concert).at(0).at("eligible") == false);

    // Not on the list: NOT_ELIGIBLE, with when the general sale opens.
    auto refused = enqueue(client, other, concert);
    CHECK_STATUS(refused, 403);
    CHECK(refused.json().at("error").at("code") == "NOT_ELIGIBLE");
    CHECK(refused.json().at("error").at("opensAt") == body.at("salePhases").at(1).at("opensAt"));

    // On the list: admitted; the presale sells VIP only, one seat each.
    auto joined = enqueue(client, member, concert);
    REQUIRE_STATUS(joined, 201);
    REQUIRE(joined.json().at("status") == "ACTIVE");
    const guest fan{member, joined.json().at("queueToken").get<std::string>()};
    REQUIRE_STATUS(charge(client, member, 1'000'000), 200);
    CHECK_ERROR(hold(client, fan, concert, 4), 409, "GRADE_NOT_ON_SALE");
    auto vip = hold(client, fan, concert, 1);
    REQUIRE_STATUS(vip, 201);
    CHECK_ERROR(hold(client, fan, concert, 2), 409, "TICKET_LIMIT");

    // Ten ids not on the list within the hour, and the eleventh claim waits.
    for (int i = 0; i < 10; ++i) CHECK_ERROR(claim(client, guesser, concert, "GUESS-" + std::to_string(100'000 + i)), 404, "NOT_ON_LIST");
    auto limited = claim(client, guesser, concert, "FC-0000-0002X");
    CHECK_ERROR(limited, 429, "RATE_LIMITED");
    REQUIRE(limited.header("Retry-After").has_value());
    CHECK(std::stoll(*limited.header("Retry-After")) > 3000);

    // The organizer frees a claim made in error: the id is free again.
    CHECK_STATUS(call(client, "DELETE", "/admin/concerts/" + concert + "/phases/fanclub/claims", json{{"id", "FC-0000-0003Y"}}.dump(), admin), 404);
    auto freed = call(client, "DELETE", "/admin/concerts/" + concert + "/phases/fanclub/claims", json{{"id", "FC7Q2M9X4K1P"}}.dump(), admin);
    REQUIRE_STATUS(freed, 200);
    CHECK(freed.json() == json{{"phase", "fanclub"}, {"freed", true}});
    CHECK(phases_of(client, member, concert).at(0).at("eligible") == false);
    REQUIRE_STATUS(claim(client, member, concert, "FC7Q2M9X4K1P"), 200);

    // The creation shape lists the phases, never their seeds.
    auto shape = call(client, "GET", "/admin/concerts/" + concert, {}, admin).json();
    CHECK(shape.at("salePhases").at(0) == json{{"phase", "fanclub"}, {"name", "Fan club presale"}, {"opensAt", body.at("salePhases").at(0).at("opensAt")},
                                                {"closesAt", body.at("salePhases").at(0).at("closesAt")}, {"eligibility", "LIST"},
                                                {"grades", {"VIP"}}, {"maxTicketsPerUser", 1}});
    CHECK(shape.dump().find("seed") == std::string::npos);

    // Everything above happened while the presale was open.
    INFO("the presale's requests took " << now_ms() - now << " ms of its " << presale_ms);
    REQUIRE(now_ms() < now + presale_ms);
    eventually(std::chrono::milliseconds(30'000), [&] { return now_ms() > now + presale_ms + 200; });
    // The presale closed: the member's token is EXPIRED; the hold placed in it can still be paid.
    const bool expired = eventually(std::chrono::milliseconds(30'000), [&] {
        return queue_state(client, member, concert, fan.queue_token).at("status") == "EXPIRED";
    });
    CHECK(expired);
    CHECK_STATUS(pay(client, member, vip.json().at("reservationId")), 201);
    auto waiting = enqueue(client, other, concert);
    REQUIRE_STATUS(waiting, 201);
    const guest late{other, waiting.json().at("queueToken").get<std::string>()};
    const bool admitted = eventually(std::chrono::milliseconds(30'000), [&] {
        return queue_state(client, other, concert, late.queue_token).at("status") == "ACTIVE";
    });
    REQUIRE(admitted);
    CHECK(phases_of(client, other, concert).at(1).at("open") == true);
    CHECK_STATUS(hold(client, late, concert, 4), 201);

    // The ids are kept as keyed hashes only: no export or data file holds one. And the audit,
    // replaying the log, finds every hold of the presale made by a claimant.
    REQUIRE(server.stop() == 0);
    const std::string out = server.data_dir() + "-export";
    std::filesystem::remove_all(out);
    REQUIRE(run_export("--data-dir " + server.data_dir() + " --format jsonl --out " + out).status == 0);
    for (const char* id : {"FC7Q2M9X4K1P", "FC-0000-0002X", "FC-0000-0003Y"}) {
        INFO(id);
        CHECK(run_command("grep -r -l -a -F -- '" + std::string(id) + "' " + out + " " + server.data_dir() + " 2>/dev/null").output.empty());
    }
    const command_run audit = run_command(std::string(ENCORE_BINARY) + " audit --data-dir " + server.data_dir() + " --json 2>/dev/null");
    INFO(audit.output);
    CHECK(audit.status == 0);
    CHECK(json::parse(audit.output, nullptr, false).value("passed", false) == true);
}

TEST_CASE("the organizer changes the sale phases by PATCH: the open one as it is, the others in their places", "[phases]") {
    server_process server;
    http_client client(server.host(), server.port());
    const std::int64_t now = now_ms();
    json body = phased_body(now);  // the presale open, the general sale to come
    body["salePhases"][1]["opensAt"] = instant_text(now + 600'000);
    const std::string concert = create_concert(client, server, body);
    const header_list admin = admin_header(server.admin_key());
    const std::string path = "/admin/concerts/" + concert;
    const json before = call(client, "GET", path, {}, admin).json().at("salePhases");

    // The general sale an hour later, and a resale for a list after it.
    json later = before;
    later[1]["opensAt"] = instant_text(now + 3'600'000);
    later.push_back({{"phase", "resale"}, {"name", "Resale"}, {"opensAt", instant_text(now + 7'200'000)}, {"eligibility", "LIST"}});
    auto patched = call(client, "PATCH", path, json{{"salePhases", later}}.dump(), admin);
    REQUIRE_STATUS(patched, 200);
    INFO(patched.body);
    REQUIRE(patched.json().at("salePhases").size() == 3);
    CHECK(patched.json().at("salePhases").at(1).at("opensAt") == later[1]["opensAt"]);
    CHECK(patched.json().at("salePhases").at(2).at("grades") == json{"VIP", "R"});
    CHECK(patched.json().dump().find("eed") == std::string::npos);  // no seed in any answer
    // The new phase has a list of its own.
    auto listed = call(client, "POST", path + "/phases/resale/eligible", json{{"ids", {"RESALE-000000001"}}}.dump(), admin);
    REQUIRE_STATUS(listed, 200);
    CHECK(listed.json() == json{{"added", 1}, {"total", 1}});
    // A fan sees the three.
    const user_account fan = new_user(client);
    CHECK(phases_of(client, fan, concert).size() == 3);

    // The open presale changed: 409 PHASE_STARTED, and nothing changes.
    json changed = later;
    changed[0]["maxTicketsPerUser"] = 4;
    CHECK_ERROR(call(client, "PATCH", path, json{{"salePhases", changed}}.dump(), admin), 409, "PHASE_STARTED");
    // A phase out of its place, or none at all: 400 with a reason.
    json renamed = later;
    renamed[1]["phase"] = "general-2";
    auto moved = call(client, "PATCH", path, json{{"salePhases", renamed}}.dump(), admin);
    CHECK_STATUS(moved, 400);
    CHECK_THAT(moved.json().at("error").at("message").get<std::string>(), Catch::Contains("must stay in its place"));
    CHECK_ERROR(call(client, "PATCH", path, json{{"salePhases", nullptr}}.dump(), admin), 400, "INVALID_REQUEST");
    // The resale, which has a list now, cannot be removed.
    json shorter = later;
    shorter.erase(2);
    CHECK_ERROR(call(client, "PATCH", path, json{{"salePhases", shorter}}.dump(), admin), 409, "PHASE_STARTED");
    CHECK(call(client, "GET", path, {}, admin).json().at("salePhases") == patched.json().at("salePhases"));

    // The change log says what was set, grades by name.
    const json changes = call(client, "GET", path + "/changes", {}, admin).json().at("changes");
    REQUIRE(changes.size() == 1);
    CHECK(changes.at(0).at("type") == "UPDATED");
    CHECK(changes.at(0).at("fields").at("salePhases") == patched.json().at("salePhases"));

    // A concert created without phases has none to change.
    const std::string plain = create_concert(client, server, concert_body());
    CHECK_ERROR(call(client, "PATCH", "/admin/concerts/" + plain, json{{"salePhases", later}}.dump(), admin), 400, "INVALID_REQUEST");
}

TEST_CASE("sale phases that cannot be are refused with 400 and a reason", "[phases]") {
    server_process server;
    http_client client(server.host(), server.port());
    auto refused = [&](const std::function<void(json&)>& change) {
        json body = phased_body(now_ms());
        change(body);
        auto reply = call(client, "POST", "/admin/concerts", body.dump(), admin_header(server.admin_key()));
        CHECK_STATUS(reply, 400);
        return reply.json().at("error").at("message").get<std::string>();
    };
    CHECK_THAT(refused([](json& b) { b["onsaleAt"] = "2030-01-01T00:00:00.000Z"; }), Catch::Contains("do not go together"));
    CHECK_THAT(refused([](json& b) { b["salePhases"][1]["phase"] = "fanclub"; }), Catch::Contains("distinct"));
    CHECK_THAT(refused([](json& b) { b["salePhases"][0]["grades"] = {"S"}; }), Catch::Contains("grades must name"));
    CHECK_THAT(refused([](json& b) { b["salePhases"][0]["eligibility"] = "SOME"; }), Catch::Contains("ALL or LIST"));
    CHECK_THAT(refused([](json& b) {
                   b["salePhases"][0].erase("closesAt");
                   std::swap(b["salePhases"][0]["opensAt"], b["salePhases"][1]["opensAt"]);
               }),
               Catch::Contains("increasing opensAt"));
    CHECK_THAT(refused([](json& b) { b["salePhases"][0]["closesAt"] = "2099-01-01T00:00:00.000Z"; }), Catch::Contains("do not overlap"));
    CHECK_THAT(refused([](json& b) { b["salePhases"][0]["color"] = "red"; }), Catch::Contains("not a field of a sale phase"));
}

}  // namespace encore::test
