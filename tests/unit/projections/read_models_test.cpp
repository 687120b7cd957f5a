// The read models against real RocksDB on a fresh temporary directory, fed with the events the real
// engine produces for realistic command sequences.

#include <catch2/catch.hpp>

#include <sstream>

#include "tests/unit/projections/harness.hpp"

namespace {

using namespace encore;
using namespace encore::test;
using projections::history_entry;
using projections::read_models;

const day_number christmas_eve = *days_from_civil(2026, 12, 24);
const day_number christmas = *days_from_civil(2026, 12, 25);

create_concert make_concert(concert_id id, std::vector<schedule> schedules, std::uint32_t capacity = 100,
                            std::uint32_t active_ttl_seconds = 600) {
    create_concert c;
    c.concert = id;
    c.title = "IU 2026";
    c.venue = "Jamsil";
    c.schedules = std::move(schedules);
    c.queue = {capacity, active_ttl_seconds};
    return c;
}

// One scene: a cluster of the real engine, read models on a temp dir, and the usual ids.
struct scene {
    explicit scene(std::uint32_t partitions = 1)
        : cluster(partitions), models(open_models(directory.path("models"), partitions)) {}

    void project() { cluster.project(*models); }
    void reopen() {
        models.reset();
        models = open_models(directory.path("models"), cluster.partitions());
    }

    user_id user(std::uint64_t start) { return id_in_partition<user_id>(0, 1, start); }
    void create(const create_concert& c) {
        auto at = cluster.submit(user_id{}, c);
        REQUIRE(std::holds_alternative<concert_created>(cluster.answer_to(at)->body));
    }
    void register_and_charge(user_id u, won amount) {
        cluster.submit(u, register_user{"kim"});
        if (amount > 0) cluster.submit(u, charge{amount});
    }
    // Enqueues and returns the ticket.
    std::uint64_t join(concert_id c, user_id u) {
        auto at = cluster.submit(u, enqueue{c});
        return std::get<queue_joined>(cluster.answer_to(at)->body).ticket;
    }
    // Holds a seat and returns the reservation id.
    reservation_id hold(concert_id c, user_id u, std::uint64_t ticket, day_number d, std::uint32_t seat) {
        auto at = cluster.submit(u, hold_seat{c, ticket, d, seat});
        const event* answer = cluster.answer_to(at);
        REQUIRE(answer != nullptr);
        REQUIRE(std::holds_alternative<seat_held>(answer->body));
        return std::get<seat_held>(answer->body).reservation.id;
    }

    temp_directory directory;
    engine_cluster cluster;
    std::unique_ptr<read_models> models;
};

std::vector<std::uint32_t> numbers_of(const std::vector<projections::seat_view>& seats) {
    std::vector<std::uint32_t> out;
    for (const auto& s : seats) out.push_back(s.number);
    return out;
}

// Everything the queries return about the given ids, as text: two stores that answer alike dump alike.
std::string dump(const read_models& m, const std::vector<concert_id>& concerts, const std::vector<user_id>& users,
                 const std::vector<log_position>& requests) {
    std::ostringstream out;
    for (const auto& c : m.concerts()) {
        out << "concert " << c.config.concert.value << " " << c.config.title << "\n";
        for (const auto& d : c.dates)
            out << " date " << d.date << " " << d.total_seats << "/" << d.available_seats << "/" << d.held_seats << "/"
                << d.sold_seats << " " << d.price << "\n";
    }
    for (concert_id c : concerts) {
        auto view = m.concert(c);
        if (!view) continue;
        for (const auto& d : view->dates) {
            out << "seats " << d.date << ":";
            auto seats = m.seats(c, d.date, false);
            for (const auto& s : *seats) {
                if (s.status != seat_status::available) out << " " << s.number << "=" << to_string(s.status);
            }
            out << "\n";
        }
        auto a = m.analytics(c);
        out << "analytics " << a->waiting << " " << a->active << " " << a->admitted_total << " "
            << a->median_wait_seconds << "\n";
        for (const auto& d : a->dates)
            out << " " << d.date << " " << d.sold << " " << d.held << " " << d.available << " " << d.revenue << " "
                << d.holds_placed << " " << d.holds_expired << " " << d.holds_cancelled << "\n";
        for (user_id u : users) {
            if (auto q = m.queue(c, u))
                out << "queue " << u.value << " " << q->ticket << " " << to_string(q->status) << " " << q->position
                    << " " << q->estimated_wait_seconds << " " << q->active_until << "\n";
        }
    }
    for (user_id u : users) {
        out << "user " << u.value << " " << m.user_exists(u) << " " << m.balance(u) << "\n";
        auto history = m.history(u, 100);
        REQUIRE(history);
        for (const auto& h : *history)
            out << " history " << static_cast<int>(h.type) << " " << h.amount << " " << h.balance_after << " " << h.at
                << " " << h.reservation.value << "\n";
        for (const auto& r : m.reservations_of(u))
            out << " reservation " << r.id.value << " " << to_string(r.status) << " " << r.seat << " " << r.paid_at
                << " " << r.payment.value << "\n";
    }
    for (log_position p : requests) {
        auto o = outcome_of(m, p);
        out << "outcome " << p.partition << ":" << p.offset << " " << (o ? std::string(to_string(o->type())) : "-")
            << "\n";
    }
    out << "waiting_total " << m.waiting_total() << "\n";
    return out.str();
}

}  // namespace

TEST_CASE("the catalog lists concerts, dates with availability, and seat maps with a status filter") {
    scene s;
    concert_id first{11}, second{7};
    s.create(make_concert(first, {{christmas, 50'000, 50'000}, {christmas_eve, 3, 80'000}}));
    s.cluster.advance(second_ms);
    s.create(make_concert(second, {{christmas_eve, 10, 1'000}}));
    s.project();

    auto all = s.models->concerts();
    REQUIRE(all.size() == 2);
    // Creation order, not id order.
    CHECK(all[0].config.concert == first);
    CHECK(all[1].config.concert == second);
    CHECK(all[0].config.title == "IU 2026");
    REQUIRE(all[0].dates.size() == 2);
    CHECK(all[0].dates[0].date == christmas_eve);  // ascending by date
    CHECK(all[0].dates[0].total_seats == 3);
    CHECK(all[0].dates[0].available_seats == 3);
    CHECK(all[0].dates[0].price == 80'000);
    CHECK(all[0].dates[1].date == christmas);
    CHECK(all[0].dates[1].available_seats == 50'000);

    auto seats = s.models->seats(first, christmas_eve, false);
    REQUIRE(seats);
    CHECK(numbers_of(*seats) == std::vector<std::uint32_t>{1, 2, 3});
    for (const auto& seat : *seats) CHECK(seat.status == seat_status::available);
    CHECK(s.models->seats(first, christmas, false)->size() == 50'000);
    CHECK_FALSE(s.models->seats(first, christmas + 1, false));
    CHECK_FALSE(s.models->seats(concert_id{999}, christmas, false));
    CHECK_FALSE(s.models->concert(concert_id{999}));
    CHECK_FALSE(s.models->date(first, christmas + 1));

    user_id kim = s.user(100);
    s.register_and_charge(kim, 0);
    std::uint64_t ticket = s.join(first, kim);
    s.hold(first, kim, ticket, christmas_eve, 2);
    s.hold(first, kim, ticket, christmas, 50'000);
    s.project();

    seats = s.models->seats(first, christmas_eve, false);
    CHECK((*seats)[1].status == seat_status::held);
    CHECK(numbers_of(*s.models->seats(first, christmas_eve, true)) == std::vector<std::uint32_t>{1, 3});
    auto big = s.models->seats(first, christmas, true);
    CHECK(big->size() == 49'999);
    CHECK(big->back().number == 49'999);
    auto date = s.models->date(first, christmas_eve);
    REQUIRE(date);
    CHECK(date->available_seats == 2);
    CHECK(date->held_seats == 1);
    CHECK(s.models->concert(first)->dates[1].available_seats == 49'999);
}

TEST_CASE("a payment across partitions confirms the reservation, sells the seat and debits the wallet") {
    scene s(2);
    concert_id concert = id_in_partition<concert_id>(0, 2, 1);
    user_id kim = id_in_partition<user_id>(1, 2, 100);
    user_id lee = id_in_partition<user_id>(1, 2, kim.value + 1);
    s.create(make_concert(concert, {{christmas_eve, 50, 80'000}}));
    s.register_and_charge(kim, 100'000);
    s.register_and_charge(lee, 0);
    std::uint64_t ticket = s.join(concert, kim);
    s.cluster.advance(second_ms);
    reservation_id held = s.hold(concert, kim, ticket, christmas_eve, 7);
    s.cluster.advance(second_ms);
    log_position pay_request = s.cluster.submit(kim, pay{held});
    s.cluster.advance(second_ms);
    s.cluster.submit(kim, charge{5'000});
    s.project();

    auto r = s.models->find_reservation(held);
    REQUIRE(r);
    CHECK(r->status == reservation_status::confirmed);
    CHECK(r->user == kim);
    CHECK(r->seat == 7);
    CHECK(r->price == 80'000);
    CHECK(r->held_at == test_epoch + second_ms);
    CHECK(r->expires_at == r->held_at + 300 * second_ms);
    CHECK(r->paid_at > 0);
    CHECK(r->payment == payment_id::at(pay_request));
    auto mine = s.models->reservations_of(kim);
    REQUIRE(mine.size() == 1);
    CHECK(mine[0] == *r);
    CHECK(s.models->reservations_of(lee).empty());
    CHECK_FALSE(s.models->find_reservation(reservation_id::at({0, 999})));

    CHECK((*s.models->seats(concert, christmas_eve, false))[6].status == seat_status::sold);
    CHECK(s.models->balance(kim) == 25'000);
    auto read = s.models->history(kim, 10);
    REQUIRE(read);
    const auto& history = *read;
    REQUIRE(history.size() == 3);  // newest first
    CHECK(history[0].type == history_entry::kind::charge);
    CHECK(history[0].amount == 5'000);
    CHECK(history[0].balance_after == 25'000);
    CHECK(history[1].type == history_entry::kind::payment);
    CHECK(history[1].amount == 80'000);
    CHECK(history[1].balance_after == 20'000);
    CHECK(history[1].reservation == held);
    CHECK(history[2].type == history_entry::kind::charge);
    CHECK(history[2].amount == 100'000);
    CHECK(history[2].balance_after == 100'000);
    CHECK(history[2].at == test_epoch);
    CHECK(s.models->history(kim, 1)->size() == 1);
    CHECK(s.models->history(lee, 10)->empty());

    auto q = s.models->queue(concert, kim);
    REQUIRE(q);
    CHECK(q->status == queue_status::completed);
    CHECK(q->position == 0);
    auto outcome = outcome_of(*s.models, pay_request);
    REQUIRE(outcome);
    CHECK(outcome->type() == event_type::payment_confirmed);
    CHECK(std::get<payment_confirmed>(outcome->body).balance == 20'000);

    auto a = s.models->analytics(concert);
    REQUIRE(a);
    REQUIRE(a->dates.size() == 1);
    CHECK(a->dates[0].sold == 1);
    CHECK(a->dates[0].held == 0);
    CHECK(a->dates[0].available == 49);
    CHECK(a->dates[0].revenue == 80'000);
    CHECK(a->dates[0].holds_placed == 1);
    CHECK(a->active == 0);
    CHECK(a->admitted_total == 1);

    SECTION("a payment without the money fails and keeps the hold") {
        std::uint64_t lee_ticket = s.join(concert, lee);
        reservation_id lee_hold = s.hold(concert, lee, lee_ticket, christmas_eve, 8);
        log_position refused_pay = s.cluster.submit(lee, pay{lee_hold});
        s.project();
        auto failed = outcome_of(*s.models, refused_pay);
        REQUIRE(failed);
        CHECK(failed->type() == event_type::payment_failed);
        auto kept = s.models->find_reservation(lee_hold);
        CHECK(kept->status == reservation_status::held);
        CHECK(kept->payment == payment_id{});
        CHECK((*s.models->seats(concert, christmas_eve, false))[7].status == seat_status::held);
        CHECK(s.models->balance(lee) == 0);
        CHECK(s.models->history(lee, 10)->empty());
        CHECK(s.models->queue(concert, lee)->status == queue_status::active);
    }
}

TEST_CASE("a hold and its expiry in one apply call leave the seat available") {
    scene s;
    concert_id concert{5};
    user_id kim = s.user(100);
    s.create(make_concert(concert, {{christmas_eve, 10, 80'000}}));
    s.register_and_charge(kim, 0);
    std::uint64_t ticket = s.join(concert, kim);
    reservation_id expiring = s.hold(concert, kim, ticket, christmas_eve, 1);
    s.cluster.advance(second_ms);
    reservation_id cancelled = s.hold(concert, kim, ticket, christmas_eve, 2);
    log_position cancel_request = s.cluster.submit(kim, cancel_hold{cancelled});
    s.cluster.advance(299 * second_ms);  // the first hold's 300 s have passed, the active token's 600 s not
    s.cluster.tick(0);
    s.cluster.advance(second_ms);
    reservation_id kept = s.hold(concert, kim, ticket, christmas_eve, 3);

    // Everything, from the concert's creation on, in one call.
    REQUIRE(s.models->applied_sequence(0) == 0);
    s.project();
    CHECK(s.models->applied_sequence(0) == s.cluster.events(0).size());

    CHECK(s.models->find_reservation(expiring)->status == reservation_status::expired);
    CHECK(s.models->find_reservation(cancelled)->status == reservation_status::cancelled);
    CHECK(s.models->find_reservation(kept)->status == reservation_status::held);
    CHECK(numbers_of(*s.models->seats(concert, christmas_eve, true)) ==
          std::vector<std::uint32_t>{1, 2, 4, 5, 6, 7, 8, 9, 10});
    CHECK(outcome_of(*s.models, cancel_request)->type() == event_type::hold_cancelled);

    auto mine = s.models->reservations_of(kim);  // newest first
    REQUIRE(mine.size() == 3);
    CHECK(mine[0].id == kept);
    CHECK(mine[1].id == cancelled);
    CHECK(mine[2].id == expiring);

    auto a = s.models->analytics(concert);
    CHECK(a->dates[0].holds_placed == 3);
    CHECK(a->dates[0].holds_expired == 1);
    CHECK(a->dates[0].holds_cancelled == 1);
    CHECK(a->dates[0].held == 1);
    CHECK(a->dates[0].available == 9);
    CHECK(s.models->date(concert, christmas_eve)->available_seats == 9);
}

TEST_CASE("queue positions, admissions and the wait-time median follow the waiting room") {
    scene s;
    concert_id concert{5};
    user_id a = s.user(100), b = s.user(200), c = s.user(300);
    s.create(make_concert(concert, {{christmas_eve, 10, 80'000}}, 1, 60));
    std::uint64_t ticket_a = s.join(concert, a);
    s.cluster.advance(second_ms);
    std::uint64_t ticket_b = s.join(concert, b);
    s.cluster.advance(second_ms);
    std::uint64_t ticket_c = s.join(concert, c);
    s.project();

    auto qa = s.models->queue(concert, a);
    REQUIRE(qa);
    CHECK(qa->ticket == ticket_a);
    CHECK(qa->status == queue_status::active);
    CHECK(qa->position == 0);
    CHECK(qa->active_until == test_epoch + 60 * second_ms);
    auto qb = s.models->queue(concert, b);
    CHECK(qb->status == queue_status::waiting);
    CHECK(qb->position == 1);
    CHECK(qb->estimated_wait_seconds == 60);
    CHECK(qb->active_until == 0);
    auto qc = s.models->queue(concert, c);
    CHECK(qc->position == 2);
    CHECK(qc->estimated_wait_seconds == 120);
    CHECK_FALSE(s.models->queue(concert, s.user(400)));
    CHECK_FALSE(s.models->queue(concert_id{99}, a));
    CHECK(s.models->waiting_total() == 2);
    auto an = s.models->analytics(concert);
    CHECK(an->waiting == 2);
    CHECK(an->active == 1);
    CHECK(an->admitted_total == 1);
    CHECK(an->median_wait_seconds == 0);

    // A waiting user may not hold; asking again keeps the ticket.
    log_position early = s.cluster.submit(c, hold_seat{concert, ticket_c, christmas_eve, 1});
    log_position again = s.cluster.submit(b, enqueue{concert});
    s.project();
    auto refusal_event = outcome_of(*s.models, early);
    REQUIRE(refusal_event);
    CHECK(std::get<refused>(refusal_event->body).reason == refusal::not_your_turn);
    CHECK(std::get<refused>(refusal_event->body).detail == 2);
    auto repeat = outcome_of(*s.models, again);
    CHECK(std::get<queue_joined>(repeat->body).fresh == false);
    CHECK(s.models->queue(concert, b)->ticket == ticket_b);
    CHECK(s.models->waiting_total() == 2);

    // A's minute runs out: B is admitted after a 60 s wait, C moves up.
    s.cluster.advance(59 * second_ms);  // 61 s after A joined
    s.cluster.tick(0);
    s.project();
    CHECK(s.models->queue(concert, a)->status == queue_status::expired);
    CHECK(s.models->queue(concert, a)->active_until == 0);
    CHECK(s.models->queue(concert, b)->status == queue_status::active);
    CHECK(s.models->queue(concert, c)->position == 1);
    CHECK(s.models->queue(concert, c)->estimated_wait_seconds == 60);

    // A comes back: a new ticket behind C.
    std::uint64_t ticket_a2 = s.join(concert, a);
    CHECK(ticket_a2 == ticket_c + 1);
    s.cluster.advance(61 * second_ms);
    s.cluster.tick(0);
    s.project();
    CHECK(s.models->queue(concert, c)->status == queue_status::active);
    CHECK(s.models->queue(concert, a)->ticket == ticket_a2);
    CHECK(s.models->queue(concert, a)->position == 1);
    an = s.models->analytics(concert);
    CHECK(an->waiting == 1);
    CHECK(an->active == 1);
    CHECK(an->admitted_total == 3);
    // Waits 0 s (A), 60 s (B), 120 s (C): the median is 60 s, to the histogram's ~3%.
    CHECK(an->median_wait_seconds == Approx(60).epsilon(0.035));
    CHECK(s.models->waiting_total() == 1);
}

TEST_CASE("outcomes record refusals and idempotent replays, and a replay changes nothing") {
    scene s;
    user_id kim = s.user(100);
    s.register_and_charge(kim, 0);
    log_position first = s.cluster.submit(kim, charge{10'000}, "key-1");
    log_position repeat = s.cluster.submit(kim, charge{10'000}, "key-1");
    log_position too_much = s.cluster.submit(kim, charge{charge_amount_max + 1});
    log_position unknown_concert = s.cluster.submit(kim, enqueue{concert_id{42}});
    s.project();

    CHECK(outcome_of(*s.models, first)->type() == event_type::charged);
    auto replay = outcome_of(*s.models, repeat);
    REQUIRE(replay);
    CHECK(std::get<idempotent_replay>(replay->body).first == first);
    CHECK(*outcome_of(*s.models, first) == *s.cluster.answer_to(first));
    CHECK(std::get<refused>(outcome_of(*s.models, too_much)->body).reason == refusal::invalid_amount);
    CHECK(std::get<refused>(outcome_of(*s.models, unknown_concert)->body).reason == refusal::concert_not_found);
    CHECK_FALSE(outcome_of(*s.models, {0, 999}));
    CHECK(s.models->balance(kim) == 10'000);
    CHECK(s.models->history(kim, 10)->size() == 1);
    CHECK(s.models->user_exists(kim));
    CHECK_FALSE(s.models->user_exists(s.user(kim.value + 1)));
    CHECK(s.models->balance(s.user(kim.value + 1)) == 0);
}

TEST_CASE("a restart keeps everything, and applying the same events again changes nothing") {
    scene s(2);
    concert_id concert = id_in_partition<concert_id>(1, 2, 1);
    user_id kim = id_in_partition<user_id>(0, 2, 100);
    user_id lee = id_in_partition<user_id>(1, 2, 100);
    s.create(make_concert(concert, {{christmas_eve, 20, 80'000}, {christmas, 5, 90'000}}, 1, 60));
    s.register_and_charge(kim, 200'000);
    s.register_and_charge(lee, 1'000);
    std::uint64_t ticket = s.join(concert, kim);
    s.cluster.advance(second_ms);
    s.join(concert, lee);
    reservation_id sold = s.hold(concert, kim, ticket, christmas, 5);
    log_position pay_request = s.cluster.submit(kim, pay{sold});
    s.cluster.advance(second_ms);
    s.hold(concert, lee, s.join(concert, lee), christmas_eve, 3);
    s.project();

    const std::vector<concert_id> concerts{concert};
    const std::vector<user_id> users{kim, lee};
    const std::vector<log_position> requests{pay_request, {0, 0}, {1, 0}, {1, 3}};
    const std::string before = dump(*s.models, concerts, users, requests);
    INFO(before);
    CHECK(before.find("=SOLD") != std::string::npos);
    CHECK(before.find("=HELD") != std::string::npos);
    const std::uint64_t applied0 = s.models->applied_sequence(0), applied1 = s.models->applied_sequence(1);

    s.reopen();
    CHECK(s.models->applied_sequence(0) == applied0);
    CHECK(s.models->applied_sequence(1) == applied1);
    CHECK(dump(*s.models, concerts, users, requests) == before);

    // A redelivery from the start: every event is below the applied sequence.
    for (std::uint32_t p = 0; p < 2; ++p) REQUIRE(s.models->apply(p, s.cluster.events(p)).ok());
    CHECK(s.models->applied_sequence(0) == applied0);
    CHECK(s.models->applied_sequence(1) == applied1);
    CHECK(dump(*s.models, concerts, users, requests) == before);

    // An overlapping redelivery applies only what is new.
    s.cluster.advance(second_ms);
    s.cluster.submit(kim, charge{1});
    const auto& wallet_events = s.cluster.events(0);
    REQUIRE(wallet_events.size() == applied0 + 1);
    REQUIRE(s.models->apply(0, std::span<const event>(wallet_events).subspan(applied0 - 2)).ok());
    CHECK(s.models->applied_sequence(0) == applied0 + 1);
    CHECK(s.models->balance(kim) == 200'000 - 90'000 + 1);
    CHECK(s.models->history(kim, 10)->size() == 3);
}

TEST_CASE("a gap in the sequence is refused and applies nothing") {
    scene s;
    concert_id concert{5};
    user_id kim = s.user(100);
    s.create(make_concert(concert, {{christmas_eve, 10, 80'000}}));
    s.register_and_charge(kim, 10'000);
    s.cluster.submit(kim, charge{1});
    s.cluster.submit(kim, charge{2});
    const auto& all = s.cluster.events(0);
    REQUIRE(all.size() == 5);
    std::span<const event> events(all);

    REQUIRE(s.models->apply(0, events.first(2)).ok());
    CHECK(s.models->applied_sequence(0) == 2);

    auto skipped = s.models->apply(0, events.subspan(3));
    REQUIRE_FALSE(skipped.ok());
    CHECK(skipped.err().code == errc::invalid);
    // A gap inside the call: the first event would fit, but nothing of the call is applied.
    std::vector<event> holey{all[2], all[4]};
    REQUIRE_FALSE(s.models->apply(0, holey).ok());
    CHECK(s.models->applied_sequence(0) == 2);
    CHECK(s.models->balance(kim) == 0);

    REQUIRE(s.models->apply(0, events.subspan(2)).ok());
    CHECK(s.models->applied_sequence(0) == 5);
    CHECK(s.models->balance(kim) == 10'003);
    CHECK_FALSE(s.models->apply(1, events).ok());  // no such partition
}

TEST_CASE("events that contradict the read models are refused whole") {
    scene s;
    concert_id concert{5};
    user_id kim = s.user(100);
    s.create(make_concert(concert, {{christmas_eve, 10, 80'000}}));
    s.register_and_charge(kim, 0);
    s.hold(concert, kim, s.join(concert, kim), christmas_eve, 4);
    const auto& all = s.cluster.events(0);
    // The hold without the concert: a store that does not match its log.
    std::vector<event> orphan{all.back()};
    orphan[0].sequence = 0;
    auto refused_apply = s.models->apply(0, orphan);
    REQUIRE_FALSE(refused_apply.ok());
    CHECK(refused_apply.err().code == errc::corrupt);
    CHECK(s.models->applied_sequence(0) == 0);
    s.project();
    CHECK(s.models->date(concert, christmas_eve)->held_seats == 1);
}

TEST_CASE("a store is refused with another partition count") {
    temp_directory directory;
    open_models(directory.path("models"), 2).reset();
    projections::options o;
    o.directory = directory.path("models");
    o.partitions = 3;
    auto reopened = read_models::open(o);
    REQUIRE_FALSE(reopened.ok());
    CHECK(reopened.err().code == errc::invalid);
}

namespace encore::test {
namespace {

// Concert 7 with one slot of 600 s (the worst case tells a user at position p to wait p x 600 s)
// and 20 users in its queue, the first admitted.
struct admission_scene {
    scene s;
    concert_id concert{7};
    std::vector<user_id> users;
    std::vector<std::uint64_t> tickets;

    admission_scene() {
        s.create(make_concert(concert, {{christmas_eve, 10, 1'000}}, 1, 600));
        for (std::uint64_t i = 1; i <= 20; ++i) {
            users.push_back(s.user(1000 * i));
            s.register_and_charge(users.back(), 10'000);
            tickets.push_back(s.join(concert, users.back()));
        }
    }
    // Each admitted user buys a seat within 10 s, which admits the next: 8 admissions 10 s apart,
    // one per timeline bucket. Returns the time of the last.
    time_ms admit_eight() {
        time_ms last_admission = 0;
        for (std::size_t round = 0; round < 8; ++round) {
            s.cluster.advance(10 * second_ms);
            reservation_id r = s.hold(concert, users[round], tickets[round], christmas_eve, static_cast<std::uint32_t>(round + 1));
            s.cluster.submit(users[round], pay{r});
            last_admission = s.cluster.now;
        }
        s.project();
        return last_admission;
    }
    std::uint64_t estimate(std::size_t user, time_ms now) const { return s.models->queue(concert, users[user], now)->estimated_wait_seconds; }
};

TEST_CASE("the wait estimate follows the admission rate the concert has had, and the worst case before it") {
    admission_scene a;
    a.s.project();
    CHECK(a.s.models->queue(a.concert, a.users[5], a.s.cluster.now)->position == 5);
    CHECK(a.estimate(5, a.s.cluster.now) == 5 * 600);

    const time_ms last_admission = a.admit_eight();
    REQUIRE(a.s.models->queue(a.concert, a.users[8])->status == queue_status::active);
    auto q = a.s.models->queue(a.concert, a.users[12], last_admission);
    REQUIRE(q);
    CHECK(q->position == 4);
    CHECK(q->estimated_wait_seconds == 40);  // the real wait at this rate; the worst case says 2,400
    // The rate is measured up to now: a minute with no admission slows it (7 in 130 s).
    CHECK(a.estimate(12, last_admission + 60 * second_ms) == 75);
    // Five minutes with none: no recent rate, the worst case again.
    CHECK(a.estimate(12, last_admission + 301 * second_ms) == 4 * 600);
}

TEST_CASE("the admission rate survives a restart: it is read back from the timeline's admissions") {
    admission_scene a;
    const time_ms last_admission = a.admit_eight();
    const std::uint64_t live = a.estimate(12, last_admission);
    CHECK(live == 40);

    a.s.reopen();
    auto q = a.s.models->queue(a.concert, a.users[12], last_admission);
    REQUIRE(q);
    CHECK(q->position == 4);
    // The buckets say when within 10 s each admission came, not the instant: the estimate is the
    // same rate give or take a bucket, not the worst case of 4 x 600 s.
    INFO("live " << live << ", after the restart " << q->estimated_wait_seconds);
    CHECK(q->estimated_wait_seconds >= 30);
    CHECK(q->estimated_wait_seconds <= 60);
    // And it ages like a live rate: five minutes with no admission (and a bucket, as an admission
    // read back may sit up to a bucket later than it came), the worst case.
    CHECK(a.estimate(12, last_admission + 311 * second_ms) == 4 * 600);
}

}  // namespace
}  // namespace encore::test
