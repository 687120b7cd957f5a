// Refund fees (API.md "Refund fees, and cancelling a date"): a venue's dates with startsAt follow
// the refund policy's tiers, a reservation keeps the policy it was paid under, the refund shows
// its amount and fee, the wallet gets the amount and the analytics the fee.

#include <catch2/catch.hpp>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

constexpr std::int64_t hour_ms = 3'600'000;

// Grade R at 100,000, one section of 10 seats. The first date starts in 100 hours (the 20% tier),
// the second in 10 (under every tier), the third has no startsAt (refundsUntil, fee-free).
json fee_concert_body() {
    json body = concert_body();
    body.erase("schedules");
    body["title"] = "Fees";
    body["grades"] = json::array({{{"grade", "R"}, {"price", 100'000}}});
    body["layout"] = {{"sections", json::array({{{"section", "A"}, {"grade", "R"}, {"rows", 1}, {"seatsPerRow", 10}}})}};
    body["schedules"] = json::array({{{"date", concert_date}, {"startsAt", instant_text(now_ms() + 100 * hour_ms)}},
                                     {{"date", other_date}, {"startsAt", instant_text(now_ms() + 10 * hour_ms)}},
                                     {{"date", "2030-12-26"}}});
    body["refundsUntil"] = "2099-01-01T00:00:00.000Z";
    body["refundPolicy"] = {{"freeWithinHours", 0},
                            {"fees", json::array({{{"hoursBefore", 240}, {"won", 4'000}},
                                                  {{"hoursBefore", 72}, {"percent", 20}},
                                                  {{"hoursBefore", 24}, {"percent", 30}}})}};
    return body;
}

http_reply refund(http_client& client, const user_account& user, const std::string& reservation) {
    return call(client, "POST", "/reservations/" + reservation + "/refund", {}, bearer(user.token));
}

// Holds `seat` of `date` for `g` (one turn holds several; a payment ends the turn, and the holds
// stay payable); returns the reservation id.
std::string held(http_client& client, const guest& g, const std::string& concert, std::uint32_t seat, std::string_view date) {
    auto reply = hold(client, g, concert, seat, date);
    REQUIRE_STATUS(reply, 201);
    return reply.json().at("reservationId").get<std::string>();
}

}  // namespace

TEST_CASE("refund fees: the tier before startsAt, the policy paid under, the wallet and the analytics", "[refunds][fees]") {
    server_process server;
    http_client client(server.host(), server.port());
    const json body = fee_concert_body();
    const std::string concert = create_concert(client, server, body);
    const header_list admin = admin_header(server.admin_key());

    // The policy is public: the concert list and the admin's concert show it as it was sent.
    auto concerts = call(client, "GET", "/concerts", {}).json().at("concerts");
    REQUIRE(concerts.size() == 1);
    CHECK(concerts.at(0).at("refundPolicy") == body.at("refundPolicy"));
    CHECK(call(client, "GET", "/admin/concerts/" + concert, {}, admin).json().at("refundPolicy") == body.at("refundPolicy"));

    guest fan = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, fan.user, 1'000'000), 200);
    const std::string soon = held(client, fan, concert, 1, concert_date);
    const std::string too_late = held(client, fan, concert, 1, other_date);
    const std::string undated = held(client, fan, concert, 1, "2030-12-26");
    for (const std::string& id : {soon, too_late, undated}) REQUIRE_STATUS(pay(client, fan.user, id), 201);

    // 100 hours before the show: the 72-hour tier, 20% of 100,000.
    auto refunded = refund(client, fan.user, soon);
    REQUIRE_STATUS(refunded, 200);
    CHECK(refunded.json().at("refund") == json{{"amount", 80'000}, {"fee", 20'000}});
    CHECK(refunded.json().at("balance") == 1'000'000 - 300'000 + 80'000);
    CHECK(reservation(client, fan.user, soon).json().at("refund") == json{{"amount", 80'000}, {"fee", 20'000}});
    // 10 hours before: under the last tier.
    CHECK_ERROR(refund(client, fan.user, too_late), 409, "REFUND_NOT_ALLOWED");
    CHECK_FALSE(reservation(client, fan.user, too_late).json().contains("refund"));
    // No startsAt: refundsUntil, in full.
    auto full = refund(client, fan.user, undated);
    REQUIRE_STATUS(full, 200);
    CHECK(full.json().at("refund") == json{{"amount", 100'000}, {"fee", 0}});

    // A new policy applies to payments from now on; the reservation paid before keeps the old one.
    const guest second = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, second.user, 1'000'000), 200);
    const std::string before_change = held(client, second, concert, 2, concert_date);
    const std::string after_change = held(client, second, concert, 3, concert_date);
    REQUIRE_STATUS(pay(client, second.user, before_change), 201);
    const json flat = {{"fees", json::array({{{"hoursBefore", 0}, {"won", 1'000}}})}};
    REQUIRE_STATUS(call(client, "PATCH", "/admin/concerts/" + concert, json{{"refundPolicy", flat}}.dump(), admin), 200);
    REQUIRE_STATUS(pay(client, second.user, after_change), 201);
    CHECK(refund(client, second.user, before_change).json().at("refund") == json{{"amount", 80'000}, {"fee", 20'000}});
    CHECK(refund(client, second.user, after_change).json().at("refund") == json{{"amount", 99'000}, {"fee", 1'000}});
    CHECK(balance_of(client, second.user) == 1'000'000 - 21'000);
    CHECK(call(client, "GET", "/admin/concerts/" + concert, {}, admin).json().at("refundPolicy") ==
          json{{"freeWithinHours", 0}, {"fees", flat.at("fees")}});

    // The wallet history shows each refund's amount; the analytics keep the fees as revenue.
    auto analytics = call(client, "GET", "/analytics/concerts/" + concert, {}, admin).json();
    INFO(analytics.dump());
    const json& first_date = analytics.at("dates").at(0);
    REQUIRE(first_date.at("date") == concert_date);
    CHECK(first_date.at("refunds") == 3);
    CHECK(first_date.at("refundFees") == 41'000);
    CHECK(first_date.at("revenue") == 41'000);  // three seats paid, all refunded: the fees stay
    CHECK(first_date.at("grades").at(0).at("revenue") == 0);

    // The change log shows the new policy.
    auto changes = call(client, "GET", "/admin/concerts/" + concert + "/changes", {}, admin).json().at("changes");
    REQUIRE(changes.size() == 1);
    CHECK(changes.at(0).at("fields") == json{{"refundPolicy", {{"freeWithinHours", 0}, {"fees", flat.at("fees")}}}});

    // Removing it: later payments of dated seats cannot be refunded by the tiers, and follow
    // refundsUntil (in full).
    REQUIRE_STATUS(call(client, "PATCH", "/admin/concerts/" + concert, json{{"refundPolicy", nullptr}}.dump(), admin), 200);
    CHECK_FALSE(call(client, "GET", "/admin/concerts/" + concert, {}, admin).json().contains("refundPolicy"));
    const guest third = admitted_guest(client, concert);
    REQUIRE_STATUS(charge(client, third.user, 1'000'000), 200);
    const std::string no_policy = held(client, third, concert, 4, concert_date);
    REQUIRE_STATUS(pay(client, third.user, no_policy), 201);
    CHECK(refund(client, third.user, no_policy).json().at("refund") == json{{"amount", 100'000}, {"fee", 0}});
}

TEST_CASE("refund policies that are refused with 400, changing nothing", "[refunds][fees]") {
    server_process server;
    http_client client(server.host(), server.port());
    const header_list admin = admin_header(server.admin_key());
    auto with_policy = [](json policy) {
        json body = fee_concert_body();
        body["refundPolicy"] = std::move(policy);
        return body;
    };
    const std::vector<std::pair<std::string, json>> bad = {
        {"tiers by increasing hoursBefore", with_policy({{"fees", json::array({{{"hoursBefore", 24}, {"percent", 10}}, {{"hoursBefore", 72}, {"percent", 20}}})}})},
        {"a tier with won and percent", with_policy({{"fees", json::array({{{"hoursBefore", 24}, {"percent", 10}, {"won", 1}}})}})},
        {"a tier with neither", with_policy({{"fees", json::array({{{"hoursBefore", 24}}})}})},
        {"a percent over 100", with_policy({{"fees", json::array({{{"hoursBefore", 24}, {"percent", 101}}})}})},
        {"no fees", with_policy({{"freeWithinHours", 24}})},
        {"an empty list", with_policy({{"fees", json::array()}})},
        {"a misspelt field", with_policy({{"fees", json::array({{{"hoursBefore", 24}, {"percent", 10}}})}, {"freeHours", 1}})},
        {"a negative hoursBefore", with_policy({{"fees", json::array({{{"hoursBefore", -1}, {"percent", 10}}})}})},
        {"not an object", with_policy("10%")},
        {"without a venue", [] {
             json body = concert_body();
             body["refundPolicy"] = {{"fees", json::array({{{"hoursBefore", 24}, {"percent", 10}}})}};
             return body;
         }()},
    };
    for (const auto& [name, body] : bad) {
        INFO(name);
        CHECK_ERROR(call(client, "POST", "/admin/concerts", body.dump(), admin), 400, "INVALID_REQUEST");
    }
    CHECK(call(client, "GET", "/concerts", {}).json().at("concerts").empty());

    // PATCH: the same checks, and none on a concert without a venue.
    const std::string plain = create_concert(client, server, concert_body());
    CHECK_ERROR(call(client, "PATCH", "/admin/concerts/" + plain,
                     json{{"refundPolicy", {{"fees", json::array({{{"hoursBefore", 24}, {"percent", 10}}})}}}}.dump(), admin),
                400, "INVALID_REQUEST");
    const std::string venue = create_concert(client, server, fee_concert_body());
    const auto revision = call(client, "GET", "/admin/concerts/" + venue, {}, admin).json().at("revision");
    CHECK_ERROR(call(client, "PATCH", "/admin/concerts/" + venue, json{{"refundPolicy", bad.front().second.at("refundPolicy")}}.dump(), admin),
                400, "INVALID_REQUEST");
    CHECK(call(client, "GET", "/admin/concerts/" + venue, {}, admin).json().at("revision") == revision);
}

}  // namespace encore::test
