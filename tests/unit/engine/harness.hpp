#pragma once
// The engine test harness: builders for commands, a small world of partitions that routes each
// command as api/ does and carries saga messages between partitions, and a one-line description of
// each event so that scenarios read as "given these commands, when this one, then these events".
//
// Every client command the world applies is checked to get exactly one answering event (Pay: its
// refusal, or later its PaymentConfirmed/PaymentFailed), so no scenario can pass over a command
// the engine dropped silently.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "events/command.hpp"
#include "events/event.hpp"

namespace encore::test {

using engine::partition_state;

inline constexpr time_ms start_time = 20'788LL * 86'400'000;  // 2026-12-01T00:00:00.000Z
inline constexpr day_number eve = 20'811;                     // 2026-12-24: 3 seats at 80,000
inline constexpr day_number christmas = 20'812;               // 2026-12-25: 2 seats at 90,000
inline constexpr concert_id iu{7};
inline constexpr won eve_price = 80'000;
inline constexpr won christmas_price = 90'000;
inline constexpr user_id admin{0};
inline constexpr user_id u1{1}, u2{2}, u3{3}, u4{4}, u5{5};

// Small on purpose: capacity 2, active 600 s, holds 300 s, at most 2 holds per user.
create_concert catalog(concert_id id = iu);

// One step of a scenario: a command, accepted `after_ms` after the previous step.
struct step {
    time_ms after_ms = 0;
    command cmd;
};

step create(create_concert c = catalog());
step register_as(user_id u, std::string name);
step enqueue_as(user_id u, concert_id c = iu);
step hold(user_id u, std::uint64_t ticket, std::uint32_t seat, day_number date = eve, concert_id c = iu);
// Several seats in one hold, and the best `count` seats.
step hold_seats(user_id u, std::uint64_t ticket, std::vector<std::uint32_t> seats, day_number date = eve, concert_id c = iu);
step hold_best(user_id u, std::uint64_t ticket, std::uint32_t count, day_number date = eve, concert_id c = iu);
step cancel(user_id u, reservation_id r);
step pay(user_id u, reservation_id r);
step refund_of(user_id u, reservation_id r);
step charge_as(user_id u, won amount);
step tick();
// The organizer's controls (sent by the admin).
step pause(concert_id c = iu, bool paused = true);
step block(concert_id c, day_number date, std::vector<std::uint32_t> seats, bool blocked = true, std::string reason = "");
step update(concert_id c, concert_settings settings, std::optional<std::uint64_t> if_revision = std::nullopt);
step add_dates_to(concert_id c, std::vector<schedule> schedules);
// The door: a scanner added (at `gate`) or removed, and scans of tickets (held(n) names the n-th hold).
step add_scanner(std::string name, std::string gate = "", concert_id c = iu);
step remove_scanner(reservation_id scanner, concert_id c = iu);
step scan(reservation_id scanner, std::vector<ticket_scan> scans, bool offline = false, std::string admin_gate = "", concert_id c = iu);
step after(time_ms seconds, step s);
step after_ms(time_ms ms, step s);
step with_key(std::string key, step s);
// The claim_key the API sends to the caller's home partition for `request` (same user and key).
step claim_for(step request);
// The reservation of the n-th SeatHeld (1-based) of the world the step runs in.
reservation_id held(int n);

std::string describe(const event& e);
std::vector<std::string> describe(const std::vector<event>& events);

class world {
public:
    explicit world(std::uint32_t partitions = 1);

    // Routes the step's command to its partition and applies it; a Tick goes to every partition.
    // Saga messages it causes are delivered at once unless `hold_messages`. Returns every event.
    std::vector<event> run(step s);
    std::vector<event> run_all(const std::vector<step>& steps);
    // Applies the step on `partition` whatever its routing says.
    std::vector<event> run_on(std::uint32_t partition, step s);
    // Delivers the oldest pending saga message (or all of them).
    std::vector<event> deliver_one();
    std::vector<event> deliver_all();
    // Delivers again a message that was delivered before (a redelivery after a restart).
    std::vector<event> redeliver(std::size_t index);

    partition_state& state(std::uint32_t partition = 0) { return states_.at(partition); }
    std::uint32_t partition_of_concert(concert_id c) const;
    std::uint32_t partition_of_user(user_id u) const;
    const engine::reservation_record& record(reservation_id r) const;
    reservation_status status(reservation_id r) const { return record(r).status; }
    seat_status seat(std::uint32_t seat, day_number date = eve, concert_id c = iu) const;
    won balance(user_id u) const;
    const engine::attendee& attendee(user_id u, concert_id c = iu) const;
    reservation_id hold_id(int n) const { return holds_.at(static_cast<std::size_t>(n - 1)); }
    // The position the last applied command got.
    log_position last_position() const { return last_; }
    std::size_t pending() const { return pending_.size(); }
    // Pays accepted whose PaymentConfirmed/PaymentFailed has not come yet.
    std::size_t unanswered_pays() const;
    const std::vector<engine::outbound_command>& delivered() const { return delivered_; }

    time_ms now = start_time;
    bool hold_messages = false;

private:
    std::vector<event> apply_on(std::uint32_t partition, const command& c);
    std::uint32_t route(const command& c) const;
    command resolve(command c) const;
    void check_answers(const command& c, log_position at, const std::vector<event>& events);

    std::uint32_t partitions_;
    std::vector<partition_state> states_;
    std::deque<engine::outbound_command> pending_;
    std::vector<engine::outbound_command> delivered_;
    std::vector<reservation_id> holds_;
    std::map<log_position, int> pays_in_flight_;  // Pay position -> answers seen (0 until the end)
    log_position last_;
};

// A table row: given these commands, when this one, then these events (as `describe` puts them).
struct scenario {
    std::string name;
    std::vector<step> given;
    step when;
    std::vector<std::string> then;
};

// Runs each row in a fresh one-partition world.
void check_scenarios(const std::vector<scenario>& rows);

// `a` followed by `b`, for rows that share the start of their story.
std::vector<step> operator+(std::vector<step> a, const std::vector<step>& b);

}  // namespace encore::test
