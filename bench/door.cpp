// `encore bench door`: a sold-out date's tickets checked in at the door over HTTP. A venue of
// `gates` sections (one gate each) holds `tickets` seats; every seat is bought (reservations of 100
// seats), each gate gets a scanner, and each scanner's connection checks in its gate's tickets in
// a shuffled order, `duplicate_percent` of them scanned a second time later (a fan who shows the
// same QR code twice). Prints check-ins per second, latency, and what was admitted: each ticket
// once, the second scans refused ALREADY_ADMITTED, and nothing admitted twice (exit 1 otherwise).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "bench/support.hpp"
#include "events/diagnostics.hpp"

namespace encore::bench {
namespace {

using json = nlohmann::json;
constexpr std::uint32_t seats_per_reservation = 100;
constexpr std::uint32_t seats_per_row = 50;

struct scan {
    std::string code;
    std::string ticket;
    bool second = false;  // a duplicate scan
};

struct door_figures {
    route_stats checkins;
    std::uint64_t admitted = 0, already_admitted = 0, other = 0;
    std::set<std::string> admitted_tickets;
    std::uint64_t admitted_twice = 0;
};

// One scanner's connection: its scans one after another.
class scanner_connection {
public:
    scanner_connection(asio::io_context& io, tcp::endpoint at, std::string target, std::string key, std::string date,
                       std::vector<scan> scans, door_figures& figures)
        : http_(io, at), target_(std::move(target)), header_("X-Scanner-Key: " + key + "\r\n"), date_(std::move(date)),
          scans_(std::move(scans)), figures_(figures) {}
    void start() {
        http_.connect([this](boost::system::error_code ec) {
            if (ec) throw std::runtime_error("bench door: a scanner could not connect: " + ec.message());
            next();
        });
    }

private:
    void next() {
        if (at_ == scans_.size()) return http_.close();
        const json body = {{"code", scans_[at_].code}, {"date", date_}};
        sent_ = clock_type::now();
        http_.exchange(post_request(target_, header_, body.dump()), [this](boost::system::error_code ec) {
            if (ec) throw std::runtime_error("bench door: a check-in failed: " + ec.message());
            const unsigned status = http_.reply().result_int();
            figures_.checkins.record(micros_since(sent_), status);
            if (status == 200) {
                ++figures_.admitted;
                if (!figures_.admitted_tickets.insert(scans_[at_].ticket).second) ++figures_.admitted_twice;
            } else if (status == 409 && http_.reply().body().find("ALREADY_ADMITTED") != std::string::npos) {
                ++figures_.already_admitted;
            } else {
                ++figures_.other;
            }
            ++at_;
            next();
        });
    }

    http_connection http_;
    std::string target_, header_, date_;
    std::vector<scan> scans_;
    door_figures& figures_;
    std::size_t at_ = 0;
    clock_type::time_point sent_;
};

}  // namespace

int run_door_bench(const door_bench_options& o) {
    if (o.tickets % (o.gates * seats_per_reservation) != 0)
        throw std::runtime_error("bench door: --tickets must be a multiple of --gates x 100");
    diag::set_level(diag::level::warn);
    const std::filesystem::path dir = fresh_data_dir("encore-bench-door");
    std::shared_ptr<encore::node> node = start_node(embedded_options(dir.string(), o.partitions), "the node");
    const std::uint16_t port = node->port();
    encore::http::http_client c("127.0.0.1", port);
    const encore::http::header_list admin = {{"X-Admin-Key", admin_key}};
    const std::string date = "2030-12-24";
    const std::uint32_t per_gate = o.tickets / o.gates;

    // The venue: a section per gate, rows of 50.
    json sections = json::array();
    for (unsigned g = 0; g < o.gates; ++g)
        sections.push_back({{"section", "S" + std::to_string(g + 1)}, {"grade", "R"}, {"rows", per_gate / seats_per_row},
                            {"seatsPerRow", seats_per_row}, {"gate", "G" + std::to_string(g + 1)}});
    const json catalog = {{"title", "Door bench"}, {"grades", {{{"grade", "R"}, {"price", 1000}}}}, {"layout", {{"sections", sections}}},
                          {"schedules", {{{"date", date}}}}, {"queue", {{"activeCapacity", 10'000}, {"activeTtlSeconds", 3600}}},
                          {"maxTicketsPerUser", seats_per_reservation}, {"maxHoldsPerUser", 1}, {"holdTtlSeconds", 3600}};
    const std::string concert = must_json(c.request("POST", "/admin/concerts", catalog.dump(), admin), 201, "concert").at("concertId");

    // Every seat bought, 100 a reservation, by a user each; their tickets' codes by gate.
    std::fprintf(stderr, "bench door: selling %u tickets at %u gates\n", o.tickets, o.gates);
    const auto selling = clock_type::now();
    std::vector<std::vector<scan>> by_gate(o.gates);
    for (std::uint32_t first = 1; first <= o.tickets; first += seats_per_reservation) {
        const json user = must_json(c.request("POST", "/users", "{}", {}), 201, "user");
        const encore::http::header_list token = {{"Authorization", "Bearer " + user.at("token").get<std::string>()}};
        must_json(c.request("POST", "/users/me/balance/charge", json{{"amount", 1'000'000}}.dump(), token), 200, "charge");
        const json queued = must_json(c.request("POST", "/concerts/" + concert + "/queue", "", token), 201, "queue");
        encore::http::header_list holder = token;
        holder.emplace_back("X-Queue-Token", queued.at("queueToken").get<std::string>());
        std::vector<std::uint32_t> seats(seats_per_reservation);
        std::iota(seats.begin(), seats.end(), first);
        const json held = must_json(c.request("POST", "/concerts/" + concert + "/dates/" + date + "/holds", json{{"seats", seats}}.dump(), holder),
                                    201, "hold");
        const std::string reservation = held.at("reservationId");
        must_json(c.request("POST", "/reservations/" + reservation + "/pay", "", token), 201, "pay");
        const json tickets = must_json(c.request("GET", "/reservations/" + reservation + "/tickets", "", token), 200, "tickets");
        for (const json& t : tickets.at("tickets")) {
            const std::string gate = t.at("gate");
            by_gate[std::stoul(gate.substr(1)) - 1].push_back({t.at("code"), t.at("ticketId"), false});
        }
    }
    const double selling_seconds = seconds_since(selling);

    // A scanner a gate; each scans its tickets shuffled, a share of them again later.
    std::mt19937_64 rng(o.seed);
    std::vector<std::string> keys;
    std::uint64_t scans_total = 0, seconds_expected = 0;
    for (unsigned g = 0; g < o.gates; ++g) {
        const json s = must_json(c.request("POST", "/admin/concerts/" + concert + "/scanners",
                                           json{{"name", "Gate " + std::to_string(g + 1)}, {"gate", "G" + std::to_string(g + 1)}}.dump(), admin),
                                 201, "scanner");
        keys.push_back(s.at("key"));
        std::vector<scan>& scans = by_gate[g];
        std::shuffle(scans.begin(), scans.end(), rng);
        const std::size_t again = scans.size() * o.duplicate_percent / 100;
        for (std::size_t i = 0; i < again; ++i) {
            scan twice = scans[i];
            twice.second = true;
            // Later in the line: somewhere after the first scan.
            const std::size_t at = i + 1 + rng() % (scans.size() - i);
            scans.insert(scans.begin() + static_cast<std::ptrdiff_t>(at), twice);
        }
        scans_total += scans.size();
        seconds_expected += again;
    }

    std::fprintf(stderr, "bench door: %u scanners checking in %llu scans\n", o.gates, static_cast<unsigned long long>(scans_total));
    door_figures figures;
    asio::io_context io;
    const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), port);
    std::vector<std::unique_ptr<scanner_connection>> scanners;
    const std::string target = "/admin/concerts/" + concert + "/checkins";
    for (unsigned g = 0; g < o.gates; ++g) {
        scanners.push_back(std::make_unique<scanner_connection>(io, at, target, keys[g], date, std::move(by_gate[g]), figures));
        scanners.back()->start();
    }
    const auto started = clock_type::now();
    io.run();
    const double seconds = seconds_since(started);

    const json checkins = must_json(c.request("GET", "/admin/concerts/" + concert + "/checkins", "", admin), 200, "checkins");
    std::uint64_t recorded = 0;
    for (const json& g : checkins.at("gates")) recorded += g.at("admitted").get<std::uint64_t>();
    json out = {{"benchmark", "door"},
                {"tickets", o.tickets},
                {"gates", o.gates},
                {"partitions", o.partitions},
                {"scans", scans_total},
                {"selling_seconds", selling_seconds},
                {"seconds", seconds},
                {"checkins", route_json(figures.checkins, seconds)},
                {"admitted", figures.admitted},
                {"already_admitted", figures.already_admitted},
                {"second_scans", seconds_expected},
                {"other_answers", figures.other},
                {"admitted_twice", figures.admitted_twice},
                {"admissions_recorded", recorded}};
    std::printf("%s\n", out.dump().c_str());
    node->stop();
    node.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    const bool right = figures.admitted == o.tickets && figures.admitted_twice == 0 && figures.already_admitted == seconds_expected &&
                       figures.other == 0 && recorded == o.tickets;
    if (!right) std::fprintf(stderr, "bench door: the admissions are not what the scans call for\n");
    return right ? 0 : 1;
}

}  // namespace encore::bench
