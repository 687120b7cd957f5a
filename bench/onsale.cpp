// `encore bench onsale`: one onsale at the scale DESIGN.md designs for ("The scale we design
// for"), against one embedded node (synced log) started in this process on a temporary data dir,
// everything over loopback HTTP with keep-alive connections driven by one Asio thread.
//
//  1. setup    one concert (--dates x --seats-per-date, activeCapacity --capacity); --users users
//              created with POST /users, and the ones who will pay charged with the price of a seat;
//  2. burst    every user joins the waiting room (POST /concerts/{id}/queue) in user order, as
//              fast as the connections allow; enqueue latency by order of issue (does enqueue get
//              slower as the queue grows?);
//  3. onsale   --seconds of: most connections polling positions (GET .../queue, half of the polls
//              on the front of the queue, where admissions are discovered, half cycling over every
//              waiting user), --streams event streams (their own connections), and a quarter of the
//              connections acting for the admitted users they discover: seat map (gzip,
//              If-None-Match once they have an ETag), hold (half of the picks aim at the best 2% of
//              a date's seats, so users collide), then pay (90%: COMPLETED, which admits the next
//              user) or cancel and walk away (10%); and --map-readers connections, each as one of
//              the first users admitted, reloading a random date's whole seat map (gzip,
//              If-None-Match) as fast as it comes, or (--map-view sections) the overview and
//              one section's map in turn, as the fan's page does for a large venue;
//  4. restart  node->stop(), start again on the same data dir, time until ready();
//  5. check    every user who tried a hold reads their reservations from the restarted node: a
//              (date, seat) CONFIRMED twice is a double sale; /metrics' checkpoint figures.
// Progress on stderr every few seconds; one JSON object as the last line on stdout.

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/field.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "node/node.hpp"
#include "events/diagnostics.hpp"
#include "events/time.hpp"
#include "events/types.hpp"
#include "http/client.hpp"
#include "bench/support.hpp"

namespace encore::bench {
namespace {

namespace asio = bench::asio;
namespace http = bench::beast::http;
using bench::clock_type;
using bench::route_stats;
using bench::tcp;
using namespace std::chrono_literals;

// The fixed shape of the onsale.
// An admitted user who cancels (or gives up) cannot hand the slot back: it stays ACTIVE until its
// TTL, so the TTL bounds how long walk-aways keep slots from the queue.
constexpr std::uint32_t active_ttl_seconds = 60;
constexpr std::uint32_t hold_ttl_seconds = 60;
constexpr std::uint32_t max_holds_per_user = 4;
constexpr std::int64_t seat_price = 100'000;
constexpr std::uint64_t pay_percent = 90;       // of the users: those are charged, and pay their hold
constexpr std::uint64_t popular_percent = 50;   // of the seat picks: aimed at the popular seats
constexpr std::uint32_t popular_per_mille = 20;  // the popular seats: the first 2% of each date
constexpr std::uint64_t refresh_percent = 30;   // admitted users who reload the seat map before holding
constexpr unsigned hold_attempts_max = 4;        // SEAT_TAKEN this often: the user gives up
constexpr unsigned setup_retries_max = 5;        // 503s (or broken connections) per setup request
constexpr auto progress_every = 5s;
constexpr auto estimate_after = 5s;  // wait estimates are compared from this far into the onsale


// VmRSS of this process, in bytes (0 if /proc is not there).
std::uint64_t rss_bytes() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    }
    return 0;
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// Strings of one kind per user in fixed-size slots (a length byte, then the text): the server signs
// fixed-size claims, so every token of a kind has the same length, and a million std::strings
// would cost the load generator more than the server's own per-user state.
class slot_table {
public:
    slot_table(std::size_t count, std::size_t width) : width_(width), bytes_(count * (width + 1), '\0') {}
    void set(std::size_t i, std::string_view text) {
        if (text.size() > width_) throw std::runtime_error("a token is longer than the load generator expects: " + std::string(text));
        char* at = &bytes_[i * (width_ + 1)];
        at[0] = static_cast<char>(text.size());
        std::memcpy(at + 1, text.data(), text.size());
    }
    std::string_view get(std::size_t i) const {
        const char* at = &bytes_[i * (width_ + 1)];
        return {at + 1, static_cast<unsigned char>(at[0])};
    }
    std::size_t bytes() const { return bytes_.size(); }

private:
    std::size_t width_;
    std::vector<char> bytes_;
};

// Where the load generator believes each user is.
enum class phase : std::uint8_t {
    none,       // not in the queue yet
    waiting,    // WAITING at the last answer
    active,     // seen ACTIVE, waiting for an acting connection
    acting,     // an acting connection is on it
    paid,       // paid: COMPLETED
    cancelled,  // held, then cancelled and walked away (stays ACTIVE until its TTL)
    gave_up,    // SEAT_TAKEN too often, or nothing left it knew to be free
    expired,    // its token was EXPIRED before it acted, or its hold expired
    failed,     // an unexpected answer
};

enum route : std::size_t { r_register, r_charge, r_enqueue, r_poll, r_seat_map, r_hold, r_pay, r_cancel, r_reservations, r_pick, r_places,
                           r_map_read, r_count };
const std::vector<std::string> route_names = {"register", "charge", "enqueue", "poll", "seat_map", "hold", "pay", "cancel", "reservations",
                                              "pick_by_grade", "standing_places", "map_read"};

// The stadium layout (--layout stadium): 40 sections of 25 rows of 50 seats, ten of each grade,
// VIP nearest the stage; two standing zones of VIP places. Prices under seat_price, so that a
// charged user can pay any one seat.
constexpr std::uint32_t stadium_sections = 40, stadium_rows = 25, stadium_seats_per_row = 50, stadium_standing = 5'000;
const std::array<std::pair<const char*, std::int64_t>, 4> stadium_grades = {{{"VIP", 99'000}, {"R", 88'000}, {"S", 77'000}, {"A", 66'000}}};
constexpr std::uint64_t pick_percent = 30;    // of the holds in a stadium: best available by grade
constexpr std::uint64_t places_percent = 5;   // ... and places of a standing zone

nlohmann::json stadium_venue() {
    nlohmann::json grades = nlohmann::json::array(), sections = nlohmann::json::array();
    for (const auto& [grade, price] : stadium_grades) grades.push_back({{"grade", grade}, {"price", price}});
    sections.push_back({{"section", "FLOOR-1"}, {"grade", "VIP"}, {"standing", stadium_standing}, {"gate", "G1"}});
    sections.push_back({{"section", "FLOOR-2"}, {"grade", "VIP"}, {"standing", stadium_standing}, {"gate", "G1"}});
    for (std::uint32_t i = 0; i < stadium_sections; ++i) {
        const auto grade = stadium_grades[i / (stadium_sections / stadium_grades.size())].first;
        sections.push_back({{"section", "S" + std::to_string(101 + i)}, {"grade", grade}, {"rows", stadium_rows},
                            {"seatsPerRow", stadium_seats_per_row}, {"gate", "G" + std::to_string(2 + i / 10)}});
    }
    return {{"grades", grades}, {"layout", {{"sections", sections}}}};
}

std::string json_error_code(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("code") && j["error"]["code"].is_string())
        return j["error"]["code"].get<std::string>();
    return {};
}

// Everything the phases share.
struct onsale_state {
    onsale_bench_options s;
    std::string concert;
    std::vector<std::string> dates;
    std::uint32_t popular_seats = 1;
    slot_table user_tokens;
    slot_table queue_tokens;
    std::vector<phase> phases;
    // Latency of each user's request of the setup and burst phases, by user: sized (and touched)
    // before the baseline RSS reading, so they do not count as the server's growth.
    std::vector<std::uint32_t> register_us, charge_us, enqueue_us;
    std::vector<route_stats> stats = std::vector<route_stats>(r_count);
    // What the load generator knows of each date's seats: taken by someone (held or sold).
    std::vector<std::vector<std::uint8_t>> taken;
    std::deque<std::uint32_t> admitted;   // seen ACTIVE, not yet acted for
    std::deque<std::uint32_t> readers;    // seen ACTIVE, for the map readers (the first ones admitted)
    unsigned readers_wanted = 0;
    std::uint64_t map_reads_not_modified = 0, map_read_bytes = 0;
    std::vector<std::uint32_t> tried;     // users that sent a hold: the double-sale check reads theirs
    std::uint64_t seen_active = 0, expired_unserved = 0, holds_placed = 0, seat_taken = 0, pays_confirmed = 0,
                  cancels = 0, gave_up = 0, hold_expired = 0, connection_errors = 0, unexpected = 0;
    std::map<std::string, std::uint64_t> unexpected_answers;  // "route status CODE" → count
    // Wait estimates: the first estimate a front-of-queue user got in the onsale, and when.
    std::unordered_map<std::uint32_t, std::pair<clock_type::time_point, std::uint64_t>> first_estimate;
    std::vector<double> estimate_ratios;  // real wait (to discovered ACTIVE) / estimate
    std::uint64_t stream_opens = 0, stream_events = 0, stream_bytes = 0, stream_closed_by_server = 0;
    std::vector<std::uint32_t> stream_first_event_us;

    explicit onsale_state(const onsale_bench_options& settings)
        : s(settings), user_tokens(settings.users, 64), queue_tokens(settings.users, 96), phases(settings.users, phase::none),
          register_us(settings.users, 0), charge_us(settings.users, 0), enqueue_us(settings.users, 0) {}

    bool payer(std::uint32_t user) const { return mix(s.seed * 0x100000001b3ULL ^ user) % 100 < pay_percent; }
    std::string auth(std::uint32_t user) const { return "Authorization: Bearer " + std::string(user_tokens.get(user)) + "\r\n"; }
    std::string admission(std::uint32_t user) const {
        return "Authorization: Bearer " + std::string(user_tokens.get(user)) + "\r\nX-Queue-Token: " +
               std::string(queue_tokens.get(user)) + "\r\n";
    }
    void note_unexpected(const char* what, unsigned status, const std::string& body) {
        ++unexpected;
        ++unexpected_answers[std::string(what) + " " + std::to_string(status) + " " + json_error_code(body)];
    }
    // The per-user bytes this load generator keeps itself (excluded from bytes_per_waiting_user).
    double own_bytes_per_user() const {
        return static_cast<double>(user_tokens.bytes() + queue_tokens.bytes() + phases.size() * sizeof(phase) +
                                   (register_us.size() + charge_us.size() + enqueue_us.size()) * sizeof(std::uint32_t)) /
               s.users;
    }
};

// ---- setup, burst and check: jobs in order over many connections ------------------------------

// One job per index 0..count-1, issued in index order; a job is one or more requests in sequence
// on one connection. `request(job, stage)` gives the request of a stage; `reply(job, stage, response,
// us)` records the answer and returns the next stage, or -1 when the job is done. A broken
// connection is re-opened and the request sent again.
class job_runner {
public:
    using request_fn = std::function<std::string(std::size_t job, int stage)>;
    using reply_fn = std::function<int(std::size_t job, int stage, const bench::http_connection::response& r, std::uint32_t us)>;

    job_runner(const char* name, std::uint16_t port, unsigned connections, std::size_t count, request_fn request, reply_fn reply,
               std::function<std::string()> progress_detail = {})
        : name_(name), count_(count), request_(std::move(request)), reply_(std::move(reply)), detail_(std::move(progress_detail)),
          at_(asio::ip::make_address("127.0.0.1"), port), timer_(io_) {
        connections = static_cast<unsigned>(std::min<std::size_t>(connections, std::max<std::size_t>(count, 1)));
        for (unsigned i = 0; i < connections; ++i) workers_.push_back(std::make_unique<worker>(io_, at_));
    }

    // Runs every job; returns the seconds it took. Throws if a connection keeps failing.
    double run() {
        started_ = clock_type::now();
        last_ = {started_, 0};
        for (auto& w : workers_) connect(*w);
        tick();
        io_.run();
        if (failure_) throw std::runtime_error(*failure_);
        return seconds_since(started_);
    }
    std::uint64_t connection_errors() const { return connection_errors_; }

private:
    struct worker {
        worker(asio::io_context& io, tcp::endpoint at) : http(io, at) {}
        bench::http_connection http;
        std::size_t job = 0;
        int stage = -1;  // -1: no job
        unsigned errors = 0;
        clock_type::time_point sent;
    };

    void connect(worker& w) {
        w.http.connect([this, &w](boost::system::error_code ec) {
            if (ec) return broken(w, ec);
            if (w.stage < 0) return take(w);
            send(w);
        });
    }
    void take(worker& w) {
        if (failure_ || next_ >= count_) {
            w.http.close();
            if (++idle_ == workers_.size()) timer_.cancel();
            return;
        }
        w.job = next_++;
        w.stage = 0;
        send(w);
    }
    void send(worker& w) {
        w.sent = clock_type::now();
        w.http.exchange(request_(w.job, w.stage), [this, &w](boost::system::error_code ec) {
            if (ec) return broken(w, ec);
            w.errors = 0;
            w.stage = reply_(w.job, w.stage, w.http.reply(), bench::micros_since(w.sent));
            if (w.stage < 0) {
                ++done_;
                return take(w);
            }
            send(w);
        });
    }
    void broken(worker& w, boost::system::error_code ec) {
        ++connection_errors_;
        if (++w.errors > setup_retries_max) {
            failure_ = std::string(name_) + ": a connection failed " + std::to_string(w.errors) + " times in a row: " + ec.message();
            w.http.close();
            if (++idle_ == workers_.size()) timer_.cancel();
            return;
        }
        connect(w);  // then the same request again
    }
    void tick() {
        timer_.expires_after(progress_every);
        timer_.async_wait([this](boost::system::error_code ec) {
            if (ec || idle_ == workers_.size()) return;
            auto now = clock_type::now();
            double rate = static_cast<double>(done_ - last_.second) / std::chrono::duration<double>(now - last_.first).count();
            last_ = {now, done_};
            std::fprintf(stderr, "bench onsale: %s: %zu of %zu done (%.0f/s), %.0f s%s\n", name_, done_, count_, rate,
                         seconds_since(started_), detail_ ? detail_().c_str() : "");
            tick();
        });
    }

    const char* name_;
    std::size_t count_;
    request_fn request_;
    reply_fn reply_;
    std::function<std::string()> detail_;
    asio::io_context io_;
    tcp::endpoint at_;
    asio::steady_timer timer_;
    std::vector<std::unique_ptr<worker>> workers_;
    std::size_t next_ = 0, done_ = 0, idle_ = 0;
    std::uint64_t connection_errors_ = 0;
    std::optional<std::string> failure_;
    clock_type::time_point started_;
    std::pair<clock_type::time_point, std::size_t> last_;
};

// Retries a 503 (a command not projected in time: POST /users, a charge and an enqueue are safe
// to repeat) up to setup_retries_max times; anything else unexpected stops the benchmark.
struct retry_budget {
    std::vector<std::uint8_t> used;
    explicit retry_budget(std::size_t n) : used(n, 0) {}
    bool again(std::size_t job, unsigned status, const char* what, const std::string& body) {
        if (status == 503 && used[job] < setup_retries_max) {
            ++used[job];
            return true;
        }
        throw std::runtime_error(std::string("setup failed at ") + what + ": " + std::to_string(status) + " " + body);
    }
};

void create_users(onsale_state& st, std::uint16_t port) {
    retry_budget retries(st.s.users);
    const std::string charge_body = R"({"amount":)" + std::to_string(seat_price) + "}";
    std::uint64_t charged = 0;
    job_runner runner(
        "users", port, st.s.connections, st.s.users,
        [&](std::size_t job, int stage) {
            const auto u = static_cast<std::uint32_t>(job);
            if (stage == 0) return bench::post_request("/users", "", "{}");
            return bench::post_request("/users/me/balance/charge", st.auth(u), charge_body);
        },
        [&](std::size_t job, int stage, const bench::http_connection::response& r, std::uint32_t us) {
            const auto u = static_cast<std::uint32_t>(job);
            const unsigned status = r.result_int();
            st.stats[stage == 0 ? r_register : r_charge].statuses[status]++;
            if (stage == 0) {
                st.register_us[u] = us;
                if (status != 201) return retries.again(job, status, "POST /users", r.body()) ? 0 : -1;
                auto j = nlohmann::json::parse(r.body(), nullptr, false);
                if (!j.is_object() || !j.contains("token")) throw std::runtime_error("POST /users answered without a token: " + r.body());
                st.user_tokens.set(u, j["token"].get<std::string>());
                return st.payer(u) ? 1 : -1;
            }
            st.charge_us[u] = us;
            if (status != 200) return retries.again(job, status, "POST /users/me/balance/charge", r.body()) ? 1 : -1;
            ++charged;
            return -1;
        },
        [&] { return ", " + std::to_string(charged) + " charged"; });
    runner.run();
    st.connection_errors += runner.connection_errors();
}

double enqueue_everyone(onsale_state& st, std::uint16_t port) {
    retry_budget retries(st.s.users);
    const std::string target = "/concerts/" + st.concert + "/queue";
    std::uint64_t active = 0;
    job_runner runner(
        "burst", port, st.s.connections, st.s.users,
        [&](std::size_t job, int) { return bench::post_request(target, st.auth(static_cast<std::uint32_t>(job)), ""); },
        [&](std::size_t job, int, const bench::http_connection::response& r, std::uint32_t us) {
            const auto u = static_cast<std::uint32_t>(job);
            const unsigned status = r.result_int();
            st.stats[r_enqueue].statuses[status]++;
            st.enqueue_us[u] = us;  // the last try's, if a 503 was retried
            if (status != 201 && status != 200) return retries.again(job, status, "POST /concerts/{id}/queue", r.body()) ? 0 : -1;
            auto j = nlohmann::json::parse(r.body(), nullptr, false);
            if (!j.is_object() || !j.contains("queueToken")) throw std::runtime_error("enqueue answered without a queue token: " + r.body());
            st.queue_tokens.set(u, j["queueToken"].get<std::string>());
            if (j["status"] == "ACTIVE") {
                st.phases[u] = phase::active;
                st.admitted.push_back(u);
                ++active;
                ++st.seen_active;
            } else {
                st.phases[u] = phase::waiting;
            }
            return -1;
        },
        [&] { return ", " + std::to_string(active) + " admitted at once"; });
    double seconds = runner.run();
    st.connection_errors += runner.connection_errors();
    return seconds;
}

// ---- the onsale: pollers, acting users, event streams ----------------------------------------

struct onsale_clock {
    clock_type::time_point started, until;
    bool over() const { return clock_type::now() >= until; }
};

// The front of the queue, where admissions are discovered, and a cursor cycling over everyone.
class poll_picker {
public:
    poll_picker(onsale_state& st) : st_(st), window_(std::max<std::uint32_t>(st.s.capacity, 256)) {}
    // The next user to poll, or nullopt when nobody is waiting.
    std::optional<std::uint32_t> next() {
        const std::uint32_t n = st_.s.users;
        if ((turn_++ & 1) == 0) {
            while (front_ < n && st_.phases[front_] != phase::waiting) ++front_;
            for (unsigned tries = 0; front_ < n && tries < 64; ++tries) {
                std::uint32_t u = front_ + (front_cursor_++ % window_);
                if (u < n && st_.phases[u] == phase::waiting) return u;
            }
        }
        for (unsigned tries = 0; tries < 256; ++tries) {
            std::uint32_t u = global_++ % n;
            if (st_.phases[u] == phase::waiting) return u;
        }
        if (front_ < n && st_.phases[front_] == phase::waiting) return front_;
        return std::nullopt;
    }
    // Whether a user is at the front (so its first estimate is worth comparing with its real wait).
    bool at_front(std::uint32_t u) const { return u < front_ + window_; }

private:
    onsale_state& st_;
    std::uint32_t window_;
    std::uint32_t front_ = 0;
    std::uint64_t front_cursor_ = 0, global_ = 0, turn_ = 0;
};

// One keep-alive connection of the onsale: a poller, or (`acting`) one that acts for the admitted
// users it is handed first and polls when there is none.
// A keep-alive connection of the onsale phase: connects, then runs `next()`; when the server
// closes it, opens another and carries on (20 times at most in a row).
class onsale_connection {
public:
    virtual ~onsale_connection() = default;
    void start() { connect(); }

protected:
    onsale_connection(asio::io_context& io, tcp::endpoint at, onsale_state& st, const onsale_clock& clock)
        : http_(io, at), timer_(io), st_(st), clock_(clock) {}
    virtual void next() = 0;
    void broken() {
        ++st_.connection_errors;
        if (clock_.over() || ++errors_ > 20) return;
        connect();
    }

    bench::http_connection http_;
    asio::steady_timer timer_;
    onsale_state& st_;
    const onsale_clock& clock_;
    unsigned errors_ = 0;

private:
    void connect() {
        http_.connect([this](boost::system::error_code ec) {
            if (ec) return broken();
            next();
        });
    }
};

class onsale_client : public onsale_connection {
public:
    onsale_client(asio::io_context& io, tcp::endpoint at, onsale_state& st, poll_picker& picker, const onsale_clock& clock,
                  bool acting, std::uint64_t seed)
        : onsale_connection(io, at, st, clock), picker_(picker), acting_(acting), random_(seed) {}

private:
    enum class step { none, seat_map, hold, pick, places, pay, cancel };
    enum class kind { poll, act };

    void next() override {
        if (clock_.over()) return;
        if (acting_ && user_ == no_user && !st_.admitted.empty()) {
            user_ = st_.admitted.front();
            st_.admitted.pop_front();
            st_.phases[user_] = phase::acting;
            st_.tried.push_back(user_);
            attempts_ = 0;
            maps_ = 0;
            etag_.clear();
            date_ = static_cast<std::uint32_t>(random_() % st_.s.dates);
            step_ = step::seat_map;
        }
        if (user_ != no_user) return send(kind::act, act_request());
        auto u = picker_.next();
        if (!u) {  // nobody waits: look again shortly
            timer_.expires_after(10ms);
            timer_.async_wait([this](boost::system::error_code) { next(); });
            return;
        }
        polled_ = *u;
        send(kind::poll, bench::get_request("/concerts/" + st_.concert + "/queue", st_.admission(polled_)));
    }

    void send(kind k, std::string request) {
        kind_ = k;
        sent_ = clock_type::now();
        http_.exchange(std::move(request), [this](boost::system::error_code ec) {
            if (ec) return broken();
            errors_ = 0;
            const std::uint32_t us = bench::micros_since(sent_);
            if (kind_ == kind::poll) polled(us);
            else acted(us);
            next();
        });
    }


    void polled(std::uint32_t us) {
        const auto& r = http_.reply();
        const unsigned status = r.result_int();
        st_.stats[r_poll].record(us, status);
        if (status != 200) return st_.note_unexpected("poll", status, r.body());
        auto j = nlohmann::json::parse(r.body(), nullptr, false);
        if (!j.is_object() || !j.contains("status")) return st_.note_unexpected("poll", status, r.body());
        const std::string& s = j["status"].get_ref<const std::string&>();
        if (st_.phases[polled_] != phase::waiting) return;  // another connection learnt it meanwhile
        if (s == "ACTIVE") {
            st_.phases[polled_] = phase::active;
            if (st_.readers_wanted > 0) {
                --st_.readers_wanted;
                st_.readers.push_back(polled_);
            } else {
                st_.admitted.push_back(polled_);
            }
            ++st_.seen_active;
            if (auto it = st_.first_estimate.find(polled_); it != st_.first_estimate.end()) {
                double waited = std::chrono::duration<double>(clock_type::now() - it->second.first).count();
                st_.estimate_ratios.push_back(waited / static_cast<double>(it->second.second));
                st_.first_estimate.erase(it);
            }
        } else if (s == "EXPIRED") {
            st_.phases[polled_] = phase::expired;
            ++st_.expired_unserved;
        } else if (s == "WAITING") {
            auto wait = j.value("estimatedWaitSeconds", std::uint64_t{0});
            // Estimates of a second or two are mostly rounding: compare the longer ones. In the
            // first seconds the node has seen no admission rate yet and gives the worst case
            // (API.md): leave those out too.
            if (wait >= 5 && clock_type::now() - clock_.started >= estimate_after && picker_.at_front(polled_) &&
                st_.first_estimate.size() < 100'000)
                st_.first_estimate.try_emplace(polled_, clock_type::now(), wait);
        } else {
            st_.note_unexpected("poll status", status, s);
        }
    }

    std::string date_path() const { return "/concerts/" + st_.concert + "/dates/" + st_.dates[date_]; }

    std::string act_request() {
        switch (step_) {
            case step::seat_map: {
                std::string headers = st_.admission(user_) + "Accept-Encoding: gzip\r\n";
                if (!etag_.empty()) headers += "If-None-Match: " + etag_ + "\r\n";
                return bench::get_request(date_path() + "/seats", headers);
            }
            case step::hold:
                return bench::post_request(date_path() + "/seats/" + std::to_string(seat_) + "/hold", st_.admission(user_), "");
            case step::pick:  // best available in a grade
                return bench::post_request(date_path() + "/holds", st_.admission(user_),
                                           R"({"count":1,"grade":")" + std::string(stadium_grades[grade_].first) + "\"}");
            case step::places:  // a place of a standing zone
                return bench::post_request(date_path() + "/holds", st_.admission(user_),
                                           std::string(R"({"count":1,"section":"FLOOR-)") + (random_() % 2 == 0 ? "1" : "2") + "\"}");
            case step::pay: return bench::post_request("/reservations/" + reservation_ + "/pay", st_.auth(user_), "");
            case step::cancel: return bench::delete_request("/reservations/" + reservation_, st_.auth(user_));
            case step::none: break;
        }
        throw std::logic_error("no step to act");
    }

    // A seat of date_: half of the picks at the popular seats, taken or not (so users collide);
    // the others at a seat this generator does not know to be taken. 0: it knows of none free.
    std::uint32_t pick_seat() {
        auto& taken = st_.taken[date_];
        if (random_() % 100 < popular_percent) return 1 + static_cast<std::uint32_t>(random_() % st_.popular_seats);
        for (int tries = 0; tries < 8; ++tries) {
            auto seat = 1 + static_cast<std::uint32_t>(random_() % st_.s.seats_per_date);
            if (!taken[seat - 1]) return seat;
        }
        auto start = static_cast<std::uint32_t>(random_() % st_.s.seats_per_date);
        for (std::uint32_t k = 0; k < st_.s.seats_per_date; ++k) {
            std::uint32_t seat = (start + k) % st_.s.seats_per_date + 1;
            if (!taken[seat - 1]) return seat;
        }
        return 0;
    }

    void done(phase p) {
        st_.phases[user_] = p;
        user_ = no_user;
        step_ = step::none;
    }

    void to_hold() {
        if (st_.s.layout == "stadium") {
            // In a stadium some fans ask for the best seat of a grade, a few for standing places.
            const auto roll = random_() % 100;
            seat_ = 0;
            if (roll < places_percent) {
                step_ = step::places;
                return;
            }
            if (roll < places_percent + pick_percent) {
                grade_ = static_cast<std::uint32_t>(random_() % stadium_grades.size());
                step_ = step::pick;
                return;
            }
        }
        seat_ = pick_seat();
        for (std::uint32_t d = 1; seat_ == 0 && d < st_.s.dates; ++d) {  // this date is sold out as far as we know
            date_ = (date_ + 1) % st_.s.dates;
            etag_.clear();
            seat_ = pick_seat();
        }
        if (seat_ == 0) {
            ++st_.gave_up;
            return done(phase::gave_up);
        }
        step_ = step::hold;
    }

    void acted(std::uint32_t us) {
        const auto& r = http_.reply();
        const unsigned status = r.result_int();
        switch (step_) {
            case step::seat_map: {
                st_.stats[r_seat_map].record(us, status);
                if (status == 200 || status == 304) {
                    if (auto e = r.find(http::field::etag); e != r.end()) etag_ = std::string(e->value());
                    // A browser reloads the map now and then before choosing: If-None-Match.
                    if (++maps_ == 1 && random_() % 100 < refresh_percent) return;
                    return to_hold();
                }
                if (status == 403) {
                    ++st_.expired_unserved;
                    return done(phase::expired);
                }
                st_.note_unexpected("seat_map", status, r.body());
                return done(phase::failed);
            }
            case step::hold: {
                st_.stats[r_hold].record(us, status);
                if (status == 201) {
                    auto j = nlohmann::json::parse(r.body(), nullptr, false);
                    if (!j.is_object() || !j.contains("reservationId")) {
                        st_.note_unexpected("hold", status, r.body());
                        return done(phase::failed);
                    }
                    reservation_ = j["reservationId"].get<std::string>();
                    st_.taken[date_][seat_ - 1] = 1;
                    ++st_.holds_placed;
                    step_ = st_.payer(user_) ? step::pay : step::cancel;
                    return;
                }
                const std::string code = json_error_code(r.body());
                if (status == 409 && code == "SEAT_TAKEN") {
                    st_.taken[date_][seat_ - 1] = 1;
                    ++st_.seat_taken;
                    if (++attempts_ >= hold_attempts_max) {
                        ++st_.gave_up;
                        return done(phase::gave_up);
                    }
                    step_ = step::seat_map;  // look at the map again (If-None-Match), then another seat
                    return;
                }
                if (status == 403) {
                    ++st_.expired_unserved;
                    return done(phase::expired);
                }
                st_.note_unexpected("hold", status, r.body());
                return done(phase::failed);
            }
            case step::pick:
            case step::places: {
                const bool pick = step_ == step::pick;
                st_.stats[pick ? r_pick : r_places].record(us, status);
                if (status == 201) {
                    auto j = nlohmann::json::parse(r.body(), nullptr, false);
                    if (!j.is_object() || !j.contains("reservationId")) {
                        st_.note_unexpected(pick ? "pick" : "places", status, r.body());
                        return done(phase::failed);
                    }
                    reservation_ = j["reservationId"].get<std::string>();
                    if (pick && !j["seats"].empty()) {
                        seat_ = j["seats"][0].get<std::uint32_t>();
                        if (seat_ >= 1 && seat_ <= st_.s.seats_per_date) st_.taken[date_][seat_ - 1] = 1;
                    }
                    ++st_.holds_placed;
                    step_ = st_.payer(user_) ? step::pay : step::cancel;
                    return;
                }
                const std::string code = json_error_code(r.body());
                if (status == 409 && (code == "NO_ADJACENT_SEATS" || code == "SECTION_FULL")) {
                    ++st_.seat_taken;
                    if (++attempts_ >= hold_attempts_max) {
                        ++st_.gave_up;
                        return done(phase::gave_up);
                    }
                    return to_hold();
                }
                if (status == 403) {
                    ++st_.expired_unserved;
                    return done(phase::expired);
                }
                st_.note_unexpected(pick ? "pick" : "places", status, r.body());
                return done(phase::failed);
            }
            case step::pay:
                st_.stats[r_pay].record(us, status);
                if (status == 201) {
                    ++st_.pays_confirmed;
                    return done(phase::paid);
                }
                if (status == 410) {
                    ++st_.hold_expired;
                    return done(phase::expired);
                }
                st_.note_unexpected("pay", status, r.body());
                return done(phase::failed);
            case step::cancel:
                st_.stats[r_cancel].record(us, status);
                if (status == 200) {
                    if (seat_ != 0) st_.taken[date_][seat_ - 1] = 0;  // standing places have no seat
                    ++st_.cancels;
                    return done(phase::cancelled);
                }
                st_.note_unexpected("cancel", status, r.body());
                return done(phase::failed);
            case step::none: break;
        }
    }

    static constexpr std::uint32_t no_user = UINT32_MAX;
    poll_picker& picker_;
    bool acting_;
    std::mt19937_64 random_;
    kind kind_ = kind::poll;
    clock_type::time_point sent_;
    std::uint32_t polled_ = 0;
    // The user acted for.
    std::uint32_t user_ = no_user;
    step step_ = step::none;
    std::uint32_t date_ = 0, seat_ = 0, grade_ = 0;
    unsigned attempts_ = 0, maps_ = 0;
    std::string etag_, reservation_;
};

// GET /concerts/{id}/queue/stream of one waiting user, read until the server ends it (the user was
// served) or the onsale ends; then the next user's. Counts `event: queue` blocks.
class stream_client {
public:
    stream_client(asio::io_context& io, tcp::endpoint at, onsale_state& st, const onsale_clock& clock, unsigned index)
        : socket_(io), at_(at), st_(st), clock_(clock), index_(index) {}

    void start() { open(); }
    void close() {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

private:
    void open() {
        if (clock_.over()) return;
        // Users spread over the whole queue, a different one at each re-open.
        const std::uint32_t n = st_.s.users;
        std::uint32_t u = static_cast<std::uint32_t>((static_cast<std::uint64_t>(index_) * n / std::max(1u, st_.s.streams) +
                                                      static_cast<std::uint64_t>(opens_) * 7919) % n);
        for (std::uint32_t k = 0; k < n && st_.phases[u] != phase::waiting; ++k) u = (u + 1) % n;
        ++opens_;
        ++st_.stream_opens;
        request_ = bench::get_request("/concerts/" + st_.concert + "/queue/stream", st_.admission(u));
        carry_.clear();
        first_ = true;
        boost::system::error_code ignored;
        socket_.close(ignored);
        socket_.async_connect(at_, [this](boost::system::error_code ec) {
            if (ec) return ended(false);
            opened_ = clock_type::now();
            asio::async_write(socket_, asio::buffer(request_), [this](boost::system::error_code ec2, std::size_t) {
                if (ec2) return ended(false);
                read();
            });
        });
    }
    void read() {
        socket_.async_read_some(asio::buffer(chunk_), [this](boost::system::error_code ec, std::size_t n) {
            if (ec) return ended(ec == asio::error::eof);
            st_.stream_bytes += n;
            if (first_ && carry_.empty() && std::string_view(chunk_.data(), n).rfind("HTTP/1.1 200", 0) != 0) {
                st_.note_unexpected("stream", 0, std::string(chunk_.data(), std::min<std::size_t>(n, 200)));
                return ended(false);
            }
            carry_.append(chunk_.data(), n);
            for (std::size_t at = carry_.find("event: queue"); at != std::string::npos; at = carry_.find("event: queue", at + 1)) {
                ++st_.stream_events;
                if (first_) st_.stream_first_event_us.push_back(bench::micros_since(opened_));
                first_ = false;
            }
            if (carry_.size() > 16) carry_.erase(0, carry_.size() - 16);
            read();
        });
    }
    void ended(bool by_server) {
        if (clock_.over()) return;
        if (by_server) ++st_.stream_closed_by_server;
        else ++st_.connection_errors;
        if (++failures_ > 100) return;
        open();
    }

    tcp::socket socket_;
    tcp::endpoint at_;
    onsale_state& st_;
    const onsale_clock& clock_;
    unsigned index_;
    unsigned opens_ = 0, failures_ = 0;
    std::string request_, carry_;
    std::array<char, 16 * 1024> chunk_;
    bool first_ = true;
    clock_type::time_point opened_;
};

// A map reader (--map-readers): an admitted user's browser reloading one date's whole seat map,
// gzip and If-None-Match with the ETag it last got, as fast as the answers come.
class map_reader : public onsale_connection {
public:
    map_reader(asio::io_context& io, tcp::endpoint at, onsale_state& st, const onsale_clock& clock, std::uint64_t seed)
        : onsale_connection(io, at, st, clock), random_(seed) {}

private:
    void next() override {
        if (clock_.over()) return;
        if (user_ == no_user) {
            if (st_.readers.empty()) {  // not yet admitted
                timer_.expires_after(10ms);
                timer_.async_wait([this](boost::system::error_code) { next(); });
                return;
            }
            user_ = st_.readers.front();
            st_.readers.pop_front();
        }
        const std::uint32_t date = static_cast<std::uint32_t>(random_() % st_.s.dates);
        path_ = "/concerts/" + st_.concert + "/dates/" + st_.dates[date] + "/seats";
        if (st_.s.map_view == "sections") {
            // The fan's page: the overview, then a section's map.
            if (++reads_ % 2 == 1) path_ += "?overview=true";
            else path_ += "?section=S" + std::to_string(101 + random_() % stadium_sections);
        }
        std::string headers = st_.admission(user_) + "Accept-Encoding: gzip\r\n";
        if (auto it = etags_.find(path_); it != etags_.end()) headers += "If-None-Match: " + it->second + "\r\n";
        sent_ = clock_type::now();
        http_.exchange(bench::get_request(path_, headers),
                       [this](boost::system::error_code ec) {
                           if (ec) return broken();
                           read(bench::micros_since(sent_));
                           next();
                       });
    }

    void read(std::uint32_t us) {
        const auto& r = http_.reply();
        const unsigned status = r.result_int();
        st_.stats[r_map_read].record(us, status);
        if (status != 200 && status != 304) return st_.note_unexpected("map_read", status, r.body());
        if (status == 304) ++st_.map_reads_not_modified;
        st_.map_read_bytes += r.body().size();
        if (auto e = r.find(http::field::etag); e != r.end()) etags_[path_] = std::string(e->value());
    }

    std::mt19937_64 random_;
    std::unordered_map<std::string, std::string> etags_;  // per path read
    std::string path_;
    std::uint64_t reads_ = 0;
    static constexpr std::uint32_t no_user = UINT32_MAX;
    std::uint32_t user_ = no_user;
    clock_type::time_point sent_;
};

double run_onsale(onsale_state& st, std::uint16_t port) {
    asio::io_context io;
    tcp::endpoint at(asio::ip::make_address("127.0.0.1"), port);
    onsale_clock clock;
    clock.started = clock_type::now();
    clock.until = clock.started + std::chrono::seconds(st.s.seconds);
    poll_picker picker(st);
    const unsigned acting = std::max(1u, st.s.connections / 4);
    std::vector<std::unique_ptr<onsale_client>> clients;
    for (unsigned i = 0; i < st.s.connections; ++i)
        clients.push_back(std::make_unique<onsale_client>(io, at, st, picker, clock, i < acting, st.s.seed * 1000 + i));
    std::vector<std::unique_ptr<stream_client>> streams;
    for (unsigned i = 0; i < st.s.streams; ++i) streams.push_back(std::make_unique<stream_client>(io, at, st, clock, i));
    st.readers_wanted = st.s.map_readers;
    std::vector<std::unique_ptr<map_reader>> readers;
    for (unsigned i = 0; i < st.s.map_readers; ++i) readers.push_back(std::make_unique<map_reader>(io, at, st, clock, st.s.seed * 7000 + i));
    for (auto& c : clients) c->start();
    for (auto& c : streams) c->start();
    for (auto& c : readers) c->start();

    // Progress, and the end: streams never end by themselves.
    asio::steady_timer timer(io);
    struct counts {
        clock_type::time_point at;
        std::size_t polls, maps, holds, pays;
    } last{clock.started, 0, 0, 0, 0};
    std::function<void()> tick = [&] {
        auto now = clock_type::now();
        timer.expires_at(std::min(now + progress_every, clock.until));
        timer.async_wait([&](boost::system::error_code) {
            auto t = clock_type::now();
            counts c{t, st.stats[r_poll].latency_us.size(), st.stats[r_seat_map].latency_us.size(), st.stats[r_hold].latency_us.size(),
                     st.stats[r_pay].latency_us.size()};
            double dt = std::chrono::duration<double>(t - last.at).count();
            auto rate = [dt](std::size_t a, std::size_t b) { return static_cast<double>(a - b) / dt; };
            std::fprintf(stderr,
                         "bench onsale: onsale: %.0f s, polls %zu (%.0f/s), seat maps %zu (%.0f/s), holds %zu (%.0f/s, %llu placed), "
                         "pays %zu (%.0f/s), seen ACTIVE %llu, to act for %zu, stream events %llu\n",
                         seconds_since(clock.started), c.polls, rate(c.polls, last.polls), c.maps, rate(c.maps, last.maps), c.holds,
                         rate(c.holds, last.holds), static_cast<unsigned long long>(st.holds_placed), c.pays, rate(c.pays, last.pays),
                         static_cast<unsigned long long>(st.seen_active), st.admitted.size(),
                         static_cast<unsigned long long>(st.stream_events));
            last = c;
            if (clock.over()) {
                for (auto& s : streams) s->close();
                return;
            }
            tick();
        });
    };
    tick();
    io.run();
    return seconds_since(clock.started);
}

// ---- the node, its figures and the checks ------------------------------------------------------

// The value of a gauge without labels in Prometheus text, or nullopt.
std::optional<double> metric(const std::string& text, const std::string& name) {
    std::size_t at = 0;
    while ((at = text.find(name, at)) != std::string::npos) {
        const bool line_start = at == 0 || text[at - 1] == '\n';
        const std::size_t after = at + name.size();
        if (line_start && after < text.size() && text[after] == ' ') return std::stod(text.substr(after + 1, text.find('\n', after) - after - 1));
        at = after;
    }
    return std::nullopt;
}

nlohmann::json analytics(std::uint16_t port, const std::string& concert) {
    encore::http::http_client admin("127.0.0.1", port);
    return bench::must_json(admin.request("GET", "/analytics/concerts/" + concert, "", {{"X-Admin-Key", bench::admin_key}}), 200, "analytics");
}

// One user's queue status (for the restart check).
nlohmann::json queue_status(std::uint16_t port, const onsale_state& st, std::uint32_t u) {
    encore::http::http_client c("127.0.0.1", port);
    return bench::must_json(c.request("GET", "/concerts/" + st.concert + "/queue", "",
                                      {{"Authorization", "Bearer " + std::string(st.user_tokens.get(u))},
                                       {"X-Queue-Token", std::string(st.queue_tokens.get(u))}}),
                            200, "queue status");
}

struct sale_check {
    std::uint64_t confirmed = 0, sold_twice = 0;
};

// Every reservation of every user who tried a hold, from the (restarted) node.
sale_check check_sales(onsale_state& st, std::uint16_t port) {
    std::map<std::pair<std::string, std::uint64_t>, int> sold;
    job_runner runner(
        "check", port, st.s.connections, st.tried.size(),
        [&](std::size_t job, int) { return bench::get_request("/users/me/reservations?limit=1000", st.auth(st.tried[job])); },
        [&](std::size_t, int, const bench::http_connection::response& r, std::uint32_t us) {
            st.stats[r_reservations].record(us, r.result_int());
            if (r.result_int() != 200) throw std::runtime_error("GET /users/me/reservations: " + std::to_string(r.result_int()) + " " + r.body());
            auto j = nlohmann::json::parse(r.body(), nullptr, false);
            if (!j.is_object() || !j.contains("reservations")) throw std::runtime_error("GET /users/me/reservations: " + r.body());
            for (const auto& res : j["reservations"]) {
                if (res["status"] != "CONFIRMED") continue;
                // API.md's Reservation lists every seat in `seats`; a server without it has `seat` only.
                if (res.contains("seats")) {
                    for (const auto& seat : res["seats"]) ++sold[{res["date"].get<std::string>(), seat.get<std::uint64_t>()}];
                } else {
                    ++sold[{res["date"].get<std::string>(), res["seat"].get<std::uint64_t>()}];
                }
            }
            return -1;
        });
    runner.run();
    sale_check out;
    for (const auto& [seat, n] : sold) {
        out.confirmed += static_cast<std::uint64_t>(n);
        if (n > 1) ++out.sold_twice;
    }
    return out;
}

double tenth_p99_ms(const std::vector<std::uint32_t>& by_issue, bool last) {
    const std::size_t n = std::max<std::size_t>(by_issue.size() / 10, 1);
    std::vector<std::uint32_t> part = last ? std::vector<std::uint32_t>(by_issue.end() - static_cast<std::ptrdiff_t>(n), by_issue.end())
                                           : std::vector<std::uint32_t>(by_issue.begin(), by_issue.begin() + static_cast<std::ptrdiff_t>(n));
    std::sort(part.begin(), part.end());
    return bench::quantile_ms(part, 0.99);
}

// The latencies kept by user (setup, burst) as a route's figures.
void fill_route(route_stats& r, const std::vector<std::uint32_t>& by_user, bool only_payers, const onsale_state& st) {
    r.latency_us.reserve(by_user.size());
    for (std::uint32_t u = 0; u < by_user.size(); ++u) {
        if (!only_payers || st.payer(u)) r.latency_us.push_back(by_user[u]);
    }
}

}  // namespace

int run_onsale_bench(const onsale_bench_options& s) {

    diag::set_level(diag::level::warn);
    const auto dir = bench::fresh_data_dir("encore-bench-onsale");
    const encore::node_options options = bench::embedded_options(dir.string(), s.partitions);
    std::shared_ptr<encore::node> node = bench::start_node(options, "the node");
    std::uint16_t port = node->port();

    // The concert.
    onsale_bench_options shape = s;
    if (s.layout == "stadium") shape.seats_per_date = stadium_sections * stadium_rows * stadium_seats_per_row;
    onsale_state st(shape);
    const bool stadium = s.layout == "stadium";
    st.popular_seats = std::max<std::uint32_t>(1, st.s.seats_per_date * popular_per_mille / 1000);
    st.taken.assign(s.dates, std::vector<std::uint8_t>(st.s.seats_per_date, 0));
    nlohmann::json catalog = {{"title", "bench onsale"},
                              {"venue", "loopback"},
                              {"queue", {{"activeCapacity", s.capacity}, {"activeTtlSeconds", active_ttl_seconds}}},
                              {"holdTtlSeconds", hold_ttl_seconds},
                              {"maxHoldsPerUser", max_holds_per_user},
                              {"schedules", nlohmann::json::array()}};
    const day_number first_day = *days_from_civil(2027, 1, 1);
    for (std::uint32_t d = 0; d < s.dates; ++d) {
        st.dates.push_back(format_date(first_day + static_cast<day_number>(d)));
        if (stadium) {
            catalog["schedules"].push_back({{"date", st.dates.back()}});
        } else {
            catalog["schedules"].push_back({{"date", st.dates.back()}, {"seats", s.seats_per_date}, {"price", seat_price}});
        }
    }
    if (stadium) catalog.update(stadium_venue());
    {
        encore::http::http_client admin("127.0.0.1", port);
        st.concert = bench::must_json(admin.request("POST", "/admin/concerts", catalog.dump(), {{"X-Admin-Key", bench::admin_key}}), 201,
                                      "concert")["concertId"];
    }
    // The load generator's per-user tables are allocated and written (so resident) by now: the
    // growth from here on is the node's (and RocksDB's, and the allocator's), not theirs.
    const std::uint64_t rss_before = rss_bytes();
    std::fprintf(stderr,
                 "bench onsale: node on port %u, concert %s: %u dates x %u seats, capacity %u; creating %u users over %u connections "
                 "(RSS %.0f MiB)\n",
                 port, st.concert.c_str(), s.dates, st.s.seats_per_date, s.capacity, s.users, s.connections,
                 static_cast<double>(rss_before) / (1 << 20));

    auto t = clock_type::now();
    create_users(st, port);
    const double setup_seconds = seconds_since(t);
    const std::uint64_t rss_after_setup = rss_bytes();
    std::fprintf(stderr, "bench onsale: %u users in %.1f s (RSS %.0f MiB); the burst\n", s.users, setup_seconds,
                 static_cast<double>(rss_after_setup) / (1 << 20));

    const double burst_seconds = enqueue_everyone(st, port);
    const std::uint64_t rss_after_burst = rss_bytes();
    nlohmann::json after_burst = analytics(port, st.concert);
    std::fprintf(stderr, "bench onsale: %u enqueued in %.1f s (RSS %.0f MiB, waiting %s, active %s); the onsale for %u s\n", s.users,
                 burst_seconds, static_cast<double>(rss_after_burst) / (1 << 20), after_burst["queue"]["waiting"].dump().c_str(),
                 after_burst["queue"]["active"].dump().c_str(), s.seconds);

    const double onsale_seconds = run_onsale(st, port);
    nlohmann::json after_onsale = analytics(port, st.concert);
    std::string metrics_text;
    {
        encore::http::http_client c("127.0.0.1", port);
        auto m = c.request("GET", "/metrics");
        if (m && m->status == 200) metrics_text = m->body;
    }

    // The restart, with the queue full: the last user still waits.
    const std::uint32_t probe = s.users - 1;
    nlohmann::json probe_before = queue_status(port, st, probe);
    std::fprintf(stderr, "bench onsale: stopping the node (last user: %s)\n", probe_before.dump().c_str());
    t = clock_type::now();
    node->stop();
    node.reset();
    const double stop_ms = seconds_since(t) * 1000;
    t = clock_type::now();
    auto restarted = encore::node::start(options);
    if (!restarted) throw std::runtime_error("restart failed: " + restarted.err().message);
    node = std::move(restarted).value();
    const double restart_open_ms = seconds_since(t) * 1000;  // start() returned; recovery may go on
    bench::wait_ready(*node, "the restarted node", std::chrono::minutes(10), 1ms);
    const double restart_ms = seconds_since(t) * 1000;
    port = node->port();
    nlohmann::json probe_after = queue_status(port, st, probe);
    std::fprintf(stderr, "bench onsale: stopped in %.0f ms, ready again in %.0f ms (last user: %s); checking %zu users' reservations\n",
                 stop_ms, restart_ms, probe_after.dump().c_str(), st.tried.size());

    const sale_check sales = check_sales(st, port);
    nlohmann::json after_restart = analytics(port, st.concert);
    node->stop();
    node.reset();
    std::filesystem::remove_all(dir);

    // Figures.
    fill_route(st.stats[r_register], st.register_us, false, st);
    fill_route(st.stats[r_charge], st.charge_us, true, st);
    fill_route(st.stats[r_enqueue], st.enqueue_us, false, st);
    std::uint64_t sold_by_analytics = 0;
    for (const auto& d : after_restart["dates"]) sold_by_analytics += d["seatsSold"].get<std::uint64_t>();
    const double admitted_in_onsale =
        after_onsale["queue"]["admittedTotal"].get<double>() - after_burst["queue"]["admittedTotal"].get<double>();
    std::sort(st.estimate_ratios.begin(), st.estimate_ratios.end());
    const double within_2x =
        st.estimate_ratios.empty()
            ? 0.0
            : static_cast<double>(std::count_if(st.estimate_ratios.begin(), st.estimate_ratios.end(), [](double r) { return r >= 0.5 && r <= 2.0; })) /
                  static_cast<double>(st.estimate_ratios.size());
    auto ratio_at = [&](double q) {
        return st.estimate_ratios.empty() ? 0.0 : st.estimate_ratios[static_cast<std::size_t>(q * static_cast<double>(st.estimate_ratios.size() - 1))];
    };
    std::sort(st.stream_first_event_us.begin(), st.stream_first_event_us.end());

    nlohmann::json routes = nlohmann::json::object();
    const double phase_seconds[r_count] = {setup_seconds, setup_seconds, burst_seconds, onsale_seconds, onsale_seconds,
                                           onsale_seconds, onsale_seconds, onsale_seconds, 0, onsale_seconds, onsale_seconds, onsale_seconds};
    for (std::size_t i = 0; i < r_count; ++i) {
        if (!st.stats[i].latency_us.empty()) routes[route_names[i]] = bench::route_json(st.stats[i], phase_seconds[i]);
    }
    auto per_second = [&](route r) { return routes.contains(route_names[r]) ? routes[route_names[r]]["per_second"] : nlohmann::json(0.0); };
    auto p99 = [&](route r) { return routes.contains(route_names[r]) ? routes[route_names[r]]["p99_ms"] : nlohmann::json(0.0); };

    const auto checkpoint_max = metric(metrics_text, "encore_checkpoint_seconds_max");
    const auto backpressure_max = metric(metrics_text, "encore_checkpoint_backpressure_seconds_max");
    nlohmann::json result = {
        {"benchmark", "onsale"},
        {"log", "embedded"},
        {"users", s.users},
        {"seats_per_date", st.s.seats_per_date},
        {"layout", s.layout.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.layout)},
        {"pick_by_grade_per_second", per_second(r_pick)},
        {"pick_by_grade_p99_ms", p99(r_pick)},
        {"standing_places_per_second", per_second(r_places)},
        {"dates", s.dates},
        {"connections", s.connections},
        {"streams", s.streams},
        {"partitions", s.partitions},
        {"capacity", s.capacity},
        {"seconds", s.seconds},
        {"seed", s.seed},
        {"active_ttl_seconds", active_ttl_seconds},
        {"hold_ttl_seconds", hold_ttl_seconds},
        {"max_holds_per_user", max_holds_per_user},
        {"setup_seconds", setup_seconds},
        {"users_per_second", s.users / setup_seconds},
        {"burst_seconds", burst_seconds},
        {"enqueue_per_second", s.users / burst_seconds},
        {"enqueue_p50_ms", routes["enqueue"]["p50_ms"]},
        {"enqueue_p99_ms", routes["enqueue"]["p99_ms"]},
        {"enqueue_p99_ms_first_tenth", tenth_p99_ms(st.enqueue_us, false)},
        {"enqueue_p99_ms_last_tenth", tenth_p99_ms(st.enqueue_us, true)},
        {"onsale_seconds", onsale_seconds},
        {"poll_per_second", per_second(r_poll)},
        {"poll_p99_ms", p99(r_poll)},
        {"seat_map_per_second", per_second(r_seat_map)},
        {"seat_map_p99_ms", p99(r_seat_map)},
        {"map_readers", s.map_readers},
        {"map_view", s.map_view},
        {"map_reads_per_second", per_second(r_map_read)},
        {"map_reads_p99_ms", p99(r_map_read)},
        {"map_reads_not_modified_share", st.stats[r_map_read].latency_us.empty() ? 0.0
                                             : static_cast<double>(st.map_reads_not_modified) / static_cast<double>(st.stats[r_map_read].latency_us.size())},
        {"map_read_megabytes_per_second", static_cast<double>(st.map_read_bytes) / 1e6 / onsale_seconds},
        {"hold_per_second", per_second(r_hold)},
        {"hold_p99_ms", p99(r_hold)},
        {"pay_per_second", per_second(r_pay)},
        {"pay_p99_ms", p99(r_pay)},
        {"admitted_per_second", admitted_in_onsale / onsale_seconds},
        {"admitted_in_onsale", admitted_in_onsale},
        {"seen_active", st.seen_active},
        {"expired_before_acting", st.expired_unserved},
        {"holds_placed", st.holds_placed},
        {"seat_taken", st.seat_taken},
        {"pays_confirmed", st.pays_confirmed},
        {"cancels", st.cancels},
        {"gave_up", st.gave_up},
        {"holds_expired_before_pay", st.hold_expired},
        {"seats_sold", sales.confirmed},
        {"seats_sold_by_analytics", sold_by_analytics},
        {"seats_sold_twice", sales.sold_twice},
        {"wait_estimate_ratio_p10", ratio_at(0.1)},
        {"wait_estimate_ratio_p50", ratio_at(0.5)},
        {"wait_estimate_ratio_p90", ratio_at(0.9)},
        {"wait_estimate_within_2x", within_2x},
        {"wait_estimate_samples", st.estimate_ratios.size()},
        {"stream_opens", st.stream_opens},
        {"stream_events", st.stream_events},
        {"stream_events_per_second", static_cast<double>(st.stream_events) / onsale_seconds},
        {"stream_closed_by_server", st.stream_closed_by_server},
        {"stream_first_event_p50_ms", bench::quantile_ms(st.stream_first_event_us, 0.5)},
        // RSS growth of this whole process (node, RocksDB memtables and caches, allocator slack)
        // from before the first user to after the burst, per user. It would include the load
        // generator's own per-user state (tokens, latencies: load_generator_bytes_per_user), but
        // that is allocated and written before the first reading, so it is already left out.
        {"bytes_per_waiting_user", static_cast<double>(rss_after_burst - rss_before) / s.users},
        {"bytes_per_user_setup", static_cast<double>(rss_after_setup - rss_before) / s.users},
        {"bytes_per_user_enqueue", static_cast<double>(rss_after_burst - rss_after_setup) / s.users},
        {"load_generator_bytes_per_user", st.own_bytes_per_user()},
        {"rss_mib_before_users", static_cast<double>(rss_before) / (1 << 20)},
        {"rss_mib_after_burst", static_cast<double>(rss_after_burst) / (1 << 20)},
        {"checkpoint_ms_max", checkpoint_max ? nlohmann::json(*checkpoint_max * 1000) : nlohmann::json(nullptr)},
        {"checkpoint_backpressure_ms_max", backpressure_max ? nlohmann::json(*backpressure_max * 1000) : nlohmann::json(nullptr)},
        {"checkpoints_written", metric(metrics_text, "encore_checkpoints_written").value_or(-1)},
        {"checkpoint_bytes_max", metric(metrics_text, "encore_checkpoint_bytes_max").value_or(-1)},
        {"stop_ms", stop_ms},
        {"restart_ms", restart_ms},
        {"restart_open_ms", restart_open_ms},
        {"restart_probe_before", probe_before},
        {"restart_probe_after", probe_after},
        {"queue_after_burst", after_burst["queue"]},
        {"queue_after_onsale", after_onsale["queue"]},
        {"connection_errors", st.connection_errors},
        {"unexpected_answers", st.unexpected_answers},
        {"routes", routes},
    };
    std::printf("%s\n", result.dump().c_str());
    return sales.sold_twice == 0 ? 0 : 1;
}

}  // namespace encore::bench
