#include "tests/integration/kafka_load.hpp"

#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include "events/ids.hpp"

namespace encore::test {
namespace {

constexpr std::chrono::milliseconds worker_timeout{20'000};
// Light load: each worker pauses this long between requests.
constexpr std::chrono::milliseconds worker_pause{15};
constexpr std::chrono::milliseconds view_poll_interval{250};

std::uint64_t parse_hex_id(const std::string& text, char kind) {
    if (text.size() != 18 || text[0] != kind || text[1] != '-') throw std::runtime_error("not an id: " + text);
    return std::stoull(text.substr(2), nullptr, 16);
}

}  // namespace

endpoints::endpoints(kafka_cluster& cluster) : up(std::make_unique<std::atomic<bool>[]>(cluster.size())) { refresh(cluster); }

void endpoints::refresh(kafka_cluster& cluster) {
    addresses.clear();
    for (std::size_t i = 0; i < cluster.size(); ++i) {
        addresses.emplace_back(cluster.server(i).host(), cluster.server(i).port());
        up[i].store(cluster.server(i).running());
    }
}

std::uint32_t partition_of_user(const std::string& text, std::uint32_t partitions) {
    return partition_of(user_id{parse_hex_id(text, 'u')}, partitions);
}

std::uint32_t partition_of_concert(const std::string& text, std::uint32_t partitions) {
    return partition_of(concert_id{parse_hex_id(text, 'c')}, partitions);
}

std::string create_concert_on(http_client& client, const std::string& admin_key, const json& body) {
    auto reply = call(client, "POST", "/admin/concerts", body.dump(), admin_header(admin_key));
    expect_status(reply, 201, "POST /admin/concerts");
    return reply.json().at("concertId").get<std::string>();
}

void run_load(const endpoints& at, const std::string& concert, std::uint64_t seed, load_record& rec,
              std::atomic<std::uint64_t>& answered, const std::atomic<bool>& stop) {
    std::mt19937_64 rng(seed);
    std::map<std::size_t, std::unique_ptr<http_client>> clients;
    std::size_t current = 0;
    auto pick = [&]() -> http_client* {
        std::vector<std::size_t> live;
        for (std::size_t i = 0; i < at.addresses.size(); ++i) {
            if (at.up[i].load()) live.push_back(i);
        }
        if (live.empty()) return nullptr;
        current = live[rng() % live.size()];
        auto& c = clients[current];
        if (!c) c = std::make_unique<http_client>(at.addresses[current].first, at.addresses[current].second, worker_timeout);
        return c.get();
    };
    auto fail = [&](const std::string& what, const http_reply& r) { rec.unexpected = what + ": " + describe(r); };
    auto lost = [&] {
        clients.erase(current);
        ++rec.unavailable;
    };
    std::string queue_token;
    std::vector<std::string> unpaid;
    while (!stop.load() && rec.unexpected.empty()) {
        std::this_thread::sleep_for(worker_pause);
        http_client* client = pick();
        if (client == nullptr) return;
        const header_list auth = bearer(rec.user.token);
        if (queue_token.empty()) {
            auto joined = client->request("POST", "/concerts/" + concert + "/queue", {}, auth);
            if (!joined) {
                lost();
                continue;
            }
            if (joined->status == 503) {
                ++rec.unavailable;
                continue;
            }
            if (joined->status != 201 && joined->status != 200) return fail("enqueue", *joined);
            if (joined->json().at("status") != "ACTIVE") return fail("enqueue (capacity is ample)", *joined);
            queue_token = joined->json().at("queueToken");
            continue;
        }
        const auto op = rng() % 4;
        if (op <= 1) {
            const std::int64_t amount = 1 + static_cast<std::int64_t>(rng() % 500);
            auto r = client->request("POST", "/users/me/balance/charge", json{{"amount", amount}}.dump(), auth);
            if (!r || r->status == 503) {
                if (!r) lost(); else ++rec.unavailable;
                rec.charged_in_doubt += amount;
                continue;
            }
            if (r->status != 200) return fail("charge", *r);
            rec.charged_acknowledged += amount;
        } else if (op == 2 || unpaid.empty()) {
            const auto seat = 1 + rng() % load_seats;
            auto r = client->request("POST", hold_path(concert, concert_date, std::to_string(seat)), {},
                                     auth + header_list{{"X-Queue-Token", queue_token}});
            if (!r || r->status == 503) {
                if (!r) lost(); else ++rec.unavailable;
                continue;  // in doubt: the hold may exist; nothing relies on knowing it
            }
            if (r->status == 201) {
                rec.holds_acknowledged.push_back(r->json().at("reservationId"));
                unpaid.push_back(rec.holds_acknowledged.back());
            } else if (r->status == 403) {
                queue_token.clear();  // a payment in doubt completed the token: queue again
                continue;
            } else if (r->status != 409) {
                return fail("hold", *r);  // SEAT_TAKEN and HOLD_LIMIT are expected
            }
        } else {
            const std::string id = unpaid.back();
            auto r = client->request("POST", "/reservations/" + id + "/pay", {}, auth);
            if (!r || r->status == 503) {
                if (!r) lost(); else ++rec.unavailable;
                unpaid.pop_back();  // in doubt: it may be paid; never paid twice from here
                continue;
            }
            if (r->status == 201) {
                rec.payments_acknowledged.push_back(id);
                unpaid.clear();      // the other holds stay HELD
                queue_token.clear();  // COMPLETED: queue again
            } else if (r->status == 402) {
                continue;  // not enough money yet
            } else if (r->status == 409 && error_code_of(*r) == "ALREADY_PAID") {
                unpaid.pop_back();  // an earlier payment in doubt went through
            } else {
                return fail("pay", *r);
            }
        }
        ++rec.answered;
        answered.fetch_add(1);
    }
}

bool cluster_view::conserved() const {
    std::int64_t in_wallets = 0, charged = 0;
    for (const auto& [user, b] : balances) in_wallets += b;
    for (const auto& [user, c] : charges) charged += c;
    if (in_wallets + confirmed_total != charged) return false;
    for (const auto& [user, b] : balances) {
        if (b != charges.at(user) - payments.at(user) || b < 0) return false;
    }
    return true;
}

std::string cluster_view::describe_money() const {
    std::int64_t in_wallets = 0, charged = 0, paid = 0;
    for (const auto& [user, b] : balances) in_wallets += b;
    for (const auto& [user, c] : charges) charged += c;
    for (const auto& [user, p] : payments) paid += p;
    std::string out = "balances " + std::to_string(in_wallets) + " + confirmed " + std::to_string(confirmed_total) +
                      " vs charges " + std::to_string(charged) + " (payments in histories " + std::to_string(paid) + ")";
    for (const auto& [user, b] : balances) {
        if (b != charges.at(user) - payments.at(user))
            out += "; " + user + ": balance " + std::to_string(b) + " != " + std::to_string(charges.at(user)) + " - " +
                   std::to_string(payments.at(user));
    }
    std::size_t held = 0;
    for (const auto& [id, status] : reservations) held += status == "HELD";
    return out + "; " + std::to_string(held) + " reservations HELD";
}

// Every item of a paged list, following nextCursor.
std::vector<json> every_page(http_client& client, const std::string& path, const std::string& field, const user_account& u) {
    std::vector<json> items;
    std::string cursor;
    for (;;) {
        auto page = call(client, "GET", path + "?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor), {}, bearer(u.token));
        expect_status(page, 200, path);
        const json body = page.json();
        for (const json& item : body.at(field)) items.push_back(item);
        if (!body.contains("nextCursor")) return items;
        cursor = body.at("nextCursor").get<std::string>();
    }
}

cluster_view read_view(http_client& client, const std::vector<user_account>& users,
                       const std::map<std::string, guest>& observers) {
    cluster_view v;
    for (const auto& u : users) {
        v.balances[u.id] = balance_of(client, u);
        std::int64_t charges = 0, payments = 0;
        for (const json& e : every_page(client, "/users/me/balance/history", "entries", u)) {
            const auto amount = std::abs(e.at("amount").get<std::int64_t>());
            if (e.at("type") == "CHARGE") charges += amount;
            if (e.at("type") == "PAYMENT") payments += amount;
            if (e.at("type") == "REFUND") payments -= amount;
        }
        v.charges[u.id] = charges;
        v.payments[u.id] = payments;
        for (const json& r : every_page(client, "/users/me/reservations", "reservations", u)) {
            const std::string status = r.at("status");
            v.reservations[r.at("reservationId")] = status;
            if (status != "CONFIRMED") continue;
            v.confirmed_total += r.at("price").get<std::int64_t>();
            ++v.confirmed_per_seat[r.at("concertId").get<std::string>() + "/" + r.at("date").get<std::string>() + "/" +
                                   std::to_string(r.at("seat").get<int>())];
        }
    }
    for (const auto& [concert, observer] : observers) {
        auto map = call(client, "GET", seats_path(concert), {}, observer.headers());
        expect_status(map, 200, "seat map");
        const json seats = map.json().at("seats");
        for (const json& s : seats) {
            if (s.at("status") == "AVAILABLE") continue;
            v.seats[concert + "/" + std::string(concert_date) + "/" + std::to_string(s.at("number").get<int>())] = s.at("status");
        }
    }
    return v;
}

cluster_view settled_view(kafka_cluster& cluster, const std::vector<user_account>& users,
                          const std::map<std::string, guest>& observers, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string why;
    for (;;) {
        std::vector<cluster_view> views;
        try {
            for (std::size_t i = 0; i < cluster.size(); ++i) {
                if (!cluster.server(i).running()) continue;
                http_client client(cluster.server(i).host(), cluster.server(i).port());
                views.push_back(read_view(client, users, observers));
            }
            if (views.empty()) throw std::runtime_error("no process is running");
            bool same = true;
            for (const auto& v : views) same &= v == views.front();
            if (!same) {
                why = "the processes do not agree yet";
            } else if (!views.front().conserved()) {
                why = "money is not conserved (yet): " + views.front().describe_money();
            } else {
                return views.front();
            }
        } catch (const std::runtime_error& e) {
            why = e.what();
        }
        if (std::chrono::steady_clock::now() >= deadline) throw std::runtime_error("the cluster did not settle: " + why);
        std::this_thread::sleep_for(view_poll_interval);
    }
}

nlohmann::json audited_state(kafka_cluster& cluster) {
    const std::string path = cluster.root_dir() + "/audit-state.json";
    std::string output;
    const int status = cluster.audit(output, path);
    if (status != 0) throw std::runtime_error("encore audit --kafka failed (" + std::to_string(status) + "):\n" + output);
    std::ifstream in(path);
    nlohmann::json state = nlohmann::json::parse(in, nullptr, false);
    if (state.is_discarded()) throw std::runtime_error("the audit wrote no readable state:\n" + output);
    state["output"] = output;
    return state;
}

}  // namespace encore::test
