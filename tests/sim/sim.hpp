#pragma once
// The seeded simulation of a whole deployment: P partitions, each a partition_state with its own
// command log, clients sending random (often conflicting, sometimes invalid or repeated) commands,
// saga messages delivered late, in any interleaving of channels and sometimes twice, clocks
// jumping past every deadline, and partitions snapshotted and restored at random. After every step
// it checks the invariants that make the service correct, and judges every answer against the
// state it was decided on. At the end it replays each partition's log from empty state (and once
// more through a snapshot) and requires the same event bytes and state hash.
//
// One world per seed, single-threaded; everything derives from the seed.

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/engine.hpp"

namespace encore::sim {

// A broken invariant: carries what broke; the driver adds the seed and how to reproduce.
struct failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Saga messages from one partition to another, in the order the origin emitted them. Those before
// `delivered` have been appended to the target's log.
struct channel {
    std::vector<command> messages;
    std::size_t delivered = 0;
};

struct payment_record {
    reservation_id reservation;
    won amount = 0;
    int started = 0;
    int debited = 0;
    int refused = 0;
    int confirmed = 0;
    int failed = 0;
    int refunds_started = 0;
    int refunds_failed = 0;
    int credited = 0;
    int refunded = 0;
    // At its confirmation: the refund policy in force, the date's startsAt, when, how many tickets.
    refund_terms policy;
    time_ms starts_at = 0;
    time_ms paid_at = 0;
    std::uint32_t tickets = 0;
    won price = 0;
    // The fee its refund started with (the reservation's refund must keep it).
    won fee = 0;
};

// What a partition remembers of an idempotency key: its first request and what it asked for.
struct key_use {
    log_position first;
    time_ms forget_at = 0;
    std::uint64_t fingerprint = 0;
};

class world {
public:
    world(std::uint64_t seed, std::size_t steps);
    // Runs every step, drains the saga channels, and checks the end state and the replay.
    void run();
    std::uint32_t partitions() const { return partitions_; }
    std::size_t step_number() const { return step_; }
    // The last commands applied, for a failure report.
    std::string recent_commands() const;
    // How often each event, refusal and race happened: the simulation must reach them all.
    const std::map<std::string, std::uint64_t>& stats() const { return stats_; }

private:
    // world.cpp
    void open_wallets();
    void create_catalog();
    create_concert random_concert(std::uint64_t id);
    refund_terms random_refund_policy();
    void step();
    void client_step();
    command random_client_command();
    won charge_amount(user_id user);
    command_body queue_or_hold(user_id user, const create_concert& concert);
    seat_choice random_seats(const schedule& date, std::uint32_t& seat);
    command_body pay_or_cancel(command_meta& meta);
    command_body organizer_command(const create_concert& concert);
    command_body door_command();
    static constexpr std::uint64_t list_ids = 8;
    static list_key list_id(std::uint64_t n);
    add_eligible random_list(concert_id c, std::uint32_t phase);
    void repeat_keyed_command();
    void reuse_key();
    void deliver_step();
    void redeliver_step();
    void advance_clock();
    void snapshot_step();
    void drain();
    log_position append(std::uint32_t partition, const command& c);
    const event* answer_to(log_position at) const;
    void send(const command& c);
    // model.cpp: the answers and the events, judged as they come
    void count(const command& c, const std::vector<event>& events);
    void check_envelope(std::uint32_t partition, log_position at, const std::vector<event>& events,
                        std::uint64_t first_sequence);
    void check_answers(const command& c, log_position at, const std::vector<event>& events);
    void record_event(std::uint32_t partition, const event& e);
    void record_queue_event(const event& e);
    void record_money_event(std::uint32_t partition, const event& e);
    void judge(const command& c, log_position at, const std::vector<event>& events);
    bool judge_replay(const command& c, log_position at, const event* answer);
    void judge_claim(const event& answer);
    void judge_charge(const command& c, const event& answer);
    void judge_enqueue(const command& c, log_position at, const event& answer);
    void judge_hold(const command& c, log_position at, const event& answer);
    void judge_phase_hold(const engine::concert_state& c, user_id user, const std::set<std::uint32_t>& grades);
    void judge_list(const command& c, log_position at, const event& answer);
    void judge_pick(const engine::concert_state& c, const engine::date_state& d, const reservation& held, std::uint32_t n,
                    const pick_filter& filter);
    void judge_reservation(const command& c, log_position at, const event* answer);
    void judge_refund(const command& c, log_position at, const event* answer);
    void judge_organizer(const command& c, log_position at, const event& answer);
    void judge_door(const command& c, log_position at, const event& answer);
    bool ticket_admitted(reservation_id r) const;
    // invariants.cpp
    void check_invariants();
    void check_partition(const engine::partition_state& s);
    void check_concert(const engine::partition_state& s, const engine::concert_state& c, std::uint32_t index);
    void check_money();
    void check_end();
    void check_replay();

    // Random helpers.
    std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }
    std::int64_t between(std::int64_t lo, std::int64_t hi) {
        return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
    }
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

    std::mt19937_64 rng_;
    std::size_t steps_;
    std::size_t step_ = 0;
    std::uint32_t partitions_;
    time_ms now_;

    std::vector<engine::partition_state> states_;
    std::vector<std::string> openings_;  // each partition's state before its first command (a snapshot)
    std::vector<std::vector<command>> logs_;
    std::vector<std::vector<event>> events_;
    std::map<std::pair<std::uint32_t, std::uint32_t>, channel> channels_;
    std::vector<std::pair<std::uint32_t, log_position>> recent_;  // (partition, position) of the last commands

    // What the clients know, from the answers they got.
    std::vector<create_concert> concerts_;
    std::vector<user_id> users_;
    std::vector<user_id> whales_;  // wallets opened near balance_max
    struct token_view {
        std::uint64_t ticket = 0;
        queue_status status = queue_status::expired;
    };
    std::map<std::pair<std::uint64_t, std::uint64_t>, token_view> tokens_;  // (user, concert) -> latest token
    std::vector<std::pair<reservation_id, user_id>> reservations_;
    std::vector<std::pair<reservation_id, user_id>> bought_;  // confirmed at some point: refund candidates
    std::vector<command> keyed_;  // commands sent with a key, to send again
    std::uint64_t next_key_ = 1;

    // The reference model, built from the events.
    std::map<std::string, key_use> keys_;      // (partition, user, key) -> first use in that partition
    std::map<std::uint64_t, won> balances_;    // user -> balance
    won charged_total_ = 0;   // the opening balances included
    won debited_total_ = 0;
    won confirmed_total_ = 0;
    won credited_total_ = 0;  // refunds credited back to wallets
    std::map<payment_id, payment_record> payments_;
    std::set<payment_id> debits_in_flight_;    // debited, not yet confirmed
    std::map<std::uint64_t, std::uint64_t> last_admitted_;  // concert -> last place made ACTIVE
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> places_;  // (concert, ticket) -> pre-queue place
    std::set<log_position> pays_in_flight_;    // accepted Pays not answered yet
    std::set<std::uint64_t> created_;          // concerts created
    std::map<reservation_id, won> hold_prices_;  // each reservation's price when it was placed
    // The door, as the answers told it: each concert's scanners (gate, removed), and each ticket
    // admitted (by reservation and index) with its gate, scanner and scan id.
    struct scanner_model {
        std::string gate;
        bool removed = false;
    };
    std::map<std::uint64_t, std::map<std::uint64_t, scanner_model>> scanners_;
    struct admitted_model {
        std::string gate;
        std::uint64_t scanner = 0;
        std::string scan_id;
    };
    std::map<std::pair<std::uint64_t, std::uint32_t>, admitted_model> admitted_;
    // Per (concert, date, standing zone): the entry numbers given so far.
    std::map<std::tuple<std::uint64_t, day_number, std::uint32_t>, std::uint32_t> entries_;
    // Per concert, the loosest limits it has had (a cap the organizer lowered evicts nobody, so
    // what users hold is bounded by the loosest cap they held it under): capacity, holds, tickets
    // (0: no cap, ever).
    struct loosest_limits {
        std::uint32_t capacity = 0, holds = 0, tickets = 0;
        bool uncapped = false;
    };
    std::map<std::uint64_t, loosest_limits> loosest_;
    // Before each organizer's command: the state of its concert the judge compares the answer with.
    engine::concert_state before_change_;
    std::map<std::string, std::uint64_t> stats_;
};

}  // namespace encore::sim
