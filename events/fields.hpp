#pragma once
// Internal to events/: one list of each record's fields, walked by the binary codec and by the
// JSON rendering alike, so the two can never disagree about what a record holds.

#include "events/command.hpp"
#include "events/event.hpp"

namespace encore::fields {

template <class S, class F> void each(S& s, F&& f) = delete;

#define ENCORE_FIELD(name) f(#name, s.name)

template <class F> void each(schedule& s, F&& f) { ENCORE_FIELD(date); ENCORE_FIELD(seats); ENCORE_FIELD(price); }
template <class F> void each(queue_settings& s, F&& f) { ENCORE_FIELD(active_capacity); ENCORE_FIELD(active_ttl_seconds); }
template <class F> void each(create_concert& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(title); ENCORE_FIELD(venue); ENCORE_FIELD(schedules); ENCORE_FIELD(queue);
    ENCORE_FIELD(hold_ttl_seconds); ENCORE_FIELD(max_holds_per_user); ENCORE_FIELD(options);
}
template <class F> void each(catalog_options& s, F&& f) {
    ENCORE_FIELD(claim_seconds); ENCORE_FIELD(max_tickets_per_user); ENCORE_FIELD(refunds_until); ENCORE_FIELD(seats_per_row);
    ENCORE_FIELD(sale);
}
template <class F> void each(sale_options& s, F&& f) { ENCORE_FIELD(onsale_at); ENCORE_FIELD(queue_seed); ENCORE_FIELD(venue); }
template <class F> void each(grade_price& s, F&& f) { ENCORE_FIELD(grade); ENCORE_FIELD(price); }
template <class F> void each(section_layout& s, F&& f) {
    ENCORE_FIELD(section); ENCORE_FIELD(grade); ENCORE_FIELD(rows); ENCORE_FIELD(standing); ENCORE_FIELD(gate);
}
template <class F> void each(venue_layout& s, F&& f) {
    ENCORE_FIELD(grades); ENCORE_FIELD(sections); ENCORE_FIELD(starts_at); ENCORE_FIELD(prices); ENCORE_FIELD(plan);
}
template <class F> void each(sale_phase& s, F&& f) {
    ENCORE_FIELD(phase); ENCORE_FIELD(name); ENCORE_FIELD(opens_at); ENCORE_FIELD(closes_at); ENCORE_FIELD(list);
    ENCORE_FIELD(grades); ENCORE_FIELD(max_tickets); ENCORE_FIELD(queue_seed);
}
template <class F> void each(phase_plan& s, F&& f) { ENCORE_FIELD(phases); ENCORE_FIELD(refunds); }
template <class F> void each(refund_tier& s, F&& f) { ENCORE_FIELD(hours_before); ENCORE_FIELD(won_per_ticket); ENCORE_FIELD(percent); }
template <class F> void each(refund_terms& s, F&& f) { ENCORE_FIELD(free_within_hours); ENCORE_FIELD(fees); }
template <class F> void each(list_key& s, F&& f) { ENCORE_FIELD(high); ENCORE_FIELD(low); }
template <class F> void each(add_eligible& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(phase); ENCORE_FIELD(keys); }
template <class F> void each(claim_eligibility& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(phase); ENCORE_FIELD(key); ENCORE_FIELD(freed); }
template <class F> void each(phase_opened& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(phase); }
template <class F> void each(phase_closed& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(phase); ENCORE_FIELD(expired_below); }
template <class F> void each(eligible_added& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(phase); ENCORE_FIELD(added); ENCORE_FIELD(total); }
template <class F> void each(eligibility_claimed& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(phase); ENCORE_FIELD(user); ENCORE_FIELD(fresh); }
template <class F> void each(claim_freed& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(phase); ENCORE_FIELD(user); }
template <class F> void each(pick_filter& s, F&& f) { ENCORE_FIELD(grade); ENCORE_FIELD(section); }
template <class F> void each(change_scanner& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(scanner); ENCORE_FIELD(name); ENCORE_FIELD(gate); ENCORE_FIELD(removed);
}
template <class F> void each(ticket_scan& s, F&& f) {
    ENCORE_FIELD(reservation); ENCORE_FIELD(ticket); ENCORE_FIELD(date); ENCORE_FIELD(scan_id); ENCORE_FIELD(scanned_at);
}
template <class F> void each(check_in& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(scanner); ENCORE_FIELD(gate); ENCORE_FIELD(offline); ENCORE_FIELD(scans);
}
template <class F> void each(scanner_added& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(scanner); ENCORE_FIELD(name); ENCORE_FIELD(gate); }
template <class F> void each(scanner_removed& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(scanner); }
template <class F> void each(scan_outcome& s, F&& f) {
    ENCORE_FIELD(reservation); ENCORE_FIELD(ticket); ENCORE_FIELD(result); ENCORE_FIELD(first_at); ENCORE_FIELD(first_gate);
    ENCORE_FIELD(scan_id); ENCORE_FIELD(scanned_at); ENCORE_FIELD(again);
}
template <class F> void each(tickets_checked& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(scanner); ENCORE_FIELD(gate); ENCORE_FIELD(offline); ENCORE_FIELD(outcomes);
}
template <class F> void each(register_user& s, F&& f) { ENCORE_FIELD(name); }
template <class F> void each(enqueue& s, F&& f) { ENCORE_FIELD(concert); }
template <class F> void each(tick&, F&&) {}
template <class F> void each(seat_choice& s, F&& f) { ENCORE_FIELD(seats); ENCORE_FIELD(count); ENCORE_FIELD(filter); }
template <class F> void each(hold_seat& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(ticket); ENCORE_FIELD(date); ENCORE_FIELD(seat); ENCORE_FIELD(choice);
}
template <class F> void each(cancel_hold& s, F&& f) { ENCORE_FIELD(reservation); }
template <class F> void each(pay& s, F&& f) { ENCORE_FIELD(reservation); }
template <class F> void each(charge& s, F&& f) { ENCORE_FIELD(amount); }
template <class F> void each(debit_request& s, F&& f) { ENCORE_FIELD(payment); ENCORE_FIELD(reservation); ENCORE_FIELD(amount); }
template <class F> void each(debit_result& s, F&& f) {
    ENCORE_FIELD(payment); ENCORE_FIELD(reservation); ENCORE_FIELD(debited); ENCORE_FIELD(balance);
}
template <class F> void each(claim_key& s, F&& f) { ENCORE_FIELD(fingerprint); }
template <class F> void each(refund& s, F&& f) { ENCORE_FIELD(reservation); }
template <class F> void each(credit_request& s, F&& f) {
    ENCORE_FIELD(payment); ENCORE_FIELD(reservation); ENCORE_FIELD(amount); ENCORE_FIELD(request_offset);
}
template <class F> void each(credit_result& s, F&& f) {
    ENCORE_FIELD(payment); ENCORE_FIELD(reservation); ENCORE_FIELD(credited); ENCORE_FIELD(balance); ENCORE_FIELD(request_offset);
}
template <class F> void each(pause_sales& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(paused); }
template <class F> void each(block_seats& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(date); ENCORE_FIELD(seats); ENCORE_FIELD(blocked); ENCORE_FIELD(reason);
}
template <class F> void each(concert_settings& s, F&& f) {
    ENCORE_FIELD(set); ENCORE_FIELD(title); ENCORE_FIELD(venue); ENCORE_FIELD(hold_ttl_seconds);
    ENCORE_FIELD(max_holds_per_user); ENCORE_FIELD(max_tickets_per_user); ENCORE_FIELD(refunds_until);
    ENCORE_FIELD(active_capacity); ENCORE_FIELD(active_ttl_seconds); ENCORE_FIELD(claim_seconds); ENCORE_FIELD(grades);
    ENCORE_FIELD(phases);
}
template <class F> void each(settings_phases& s, F&& f) { ENCORE_FIELD(phases); ENCORE_FIELD(refund_policy); }
template <class F> void each(update_concert& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(conditional); ENCORE_FIELD(revision); ENCORE_FIELD(settings);
}
template <class F> void each(add_dates& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(schedules); ENCORE_FIELD(seats_per_row); }
template <class F> void each(command_meta& s, F&& f) {
    ENCORE_FIELD(accepted_at); ENCORE_FIELD(user); ENCORE_FIELD(idempotency_key); ENCORE_FIELD(origin);
}

// A reservation's seats after the first are not among its fields: they are a record tail, which
// must end a record, so each event carrying a reservation lists them last (ENCORE_SEATS).
template <class F> void each(reservation_seats& s, F&& f) { ENCORE_FIELD(more_seats); ENCORE_FIELD(refunded_at); ENCORE_FIELD(grades); }
template <class F> void each(grade_amount& s, F&& f) { ENCORE_FIELD(grade); ENCORE_FIELD(amount); }
template <class F> void each(reservation_standing& s, F&& f) {
    ENCORE_FIELD(section); ENCORE_FIELD(name); ENCORE_FIELD(places); ENCORE_FIELD(entry_first); ENCORE_FIELD(refund);
}
template <class F> void each(reservation_refund& s, F&& f) { ENCORE_FIELD(fee); }
template <class F> void each(reservation_grades& s, F&& f) { ENCORE_FIELD(by_grade); ENCORE_FIELD(standing); }
#define ENCORE_SEATS f("extra", s.reservation.extra)
template <class F> void each(reservation& s, F&& f) {
    ENCORE_FIELD(id); ENCORE_FIELD(concert); ENCORE_FIELD(user); ENCORE_FIELD(date); ENCORE_FIELD(seat); ENCORE_FIELD(price);
    ENCORE_FIELD(status); ENCORE_FIELD(held_at); ENCORE_FIELD(expires_at); ENCORE_FIELD(paid_at); ENCORE_FIELD(payment);
}
template <class F> void each(concert_created& s, F&& f) { ENCORE_FIELD(concert); }
template <class F> void each(user_registered& s, F&& f) { ENCORE_FIELD(user); ENCORE_FIELD(name); }
template <class F> void each(queue_joined& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(user); ENCORE_FIELD(ticket); ENCORE_FIELD(status); ENCORE_FIELD(position);
    ENCORE_FIELD(active_until); ENCORE_FIELD(fresh); ENCORE_FIELD(details);
}
template <class F> void each(queue_joined::later& s, F&& f) { ENCORE_FIELD(pre_queue); }
template <class F> void each(queue_placed& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(user); ENCORE_FIELD(ticket); ENCORE_FIELD(place);
}
template <class F> void each(queue_admitted& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(user); ENCORE_FIELD(ticket); ENCORE_FIELD(active_until);
}
template <class F> void each(queue_left& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(user); ENCORE_FIELD(ticket); ENCORE_FIELD(completed);
}
template <class F> void each(seat_held& s, F&& f) { ENCORE_FIELD(reservation); ENCORE_SEATS; }
template <class F> void each(hold_expired& s, F&& f) { ENCORE_FIELD(reservation); ENCORE_SEATS; }
template <class F> void each(hold_cancelled& s, F&& f) { ENCORE_FIELD(reservation); ENCORE_SEATS; }
template <class F> void each(payment_started& s, F&& f) {
    ENCORE_FIELD(payment); ENCORE_FIELD(reservation); ENCORE_FIELD(user); ENCORE_FIELD(amount);
}
template <class F> void each(wallet_debited& s, F&& f) {
    ENCORE_FIELD(payment); ENCORE_FIELD(reservation); ENCORE_FIELD(user); ENCORE_FIELD(amount); ENCORE_FIELD(balance);
}
template <class F> void each(debit_refused& s, F&& f) {
    ENCORE_FIELD(payment); ENCORE_FIELD(reservation); ENCORE_FIELD(user); ENCORE_FIELD(amount); ENCORE_FIELD(balance);
}
template <class F> void each(payment_confirmed& s, F&& f) { ENCORE_FIELD(reservation); ENCORE_FIELD(balance); ENCORE_SEATS; }
template <class F> void each(payment_failed& s, F&& f) {
    ENCORE_FIELD(payment); ENCORE_FIELD(reservation); ENCORE_FIELD(user); ENCORE_FIELD(reason); ENCORE_FIELD(balance);
}
template <class F> void each(charged& s, F&& f) { ENCORE_FIELD(user); ENCORE_FIELD(amount); ENCORE_FIELD(balance); }
template <class F> void each(refused& s, F&& f) {
    ENCORE_FIELD(command); ENCORE_FIELD(reason); ENCORE_FIELD(user); ENCORE_FIELD(detail);
}
template <class F> void each(idempotent_replay& s, F&& f) { ENCORE_FIELD(first); }
template <class F> void each(key_claimed& s, F&& f) { ENCORE_FIELD(user); }
template <class F> void each(refund_started& s, F&& f) {
    ENCORE_FIELD(payment); ENCORE_FIELD(reservation); ENCORE_FIELD(user); ENCORE_FIELD(amount);
}
template <class F> void each(wallet_credited& s, F&& f) {
    ENCORE_FIELD(payment); ENCORE_FIELD(reservation); ENCORE_FIELD(user); ENCORE_FIELD(amount); ENCORE_FIELD(balance);
}
template <class F> void each(credit_refused& s, F&& f) {
    ENCORE_FIELD(payment); ENCORE_FIELD(reservation); ENCORE_FIELD(user); ENCORE_FIELD(amount); ENCORE_FIELD(balance);
}
template <class F> void each(reservation_refunded& s, F&& f) {
    ENCORE_FIELD(reservation); ENCORE_FIELD(refunded_at); ENCORE_FIELD(balance); ENCORE_SEATS;
}
template <class F> void each(refund_failed& s, F&& f) {
    ENCORE_FIELD(payment); ENCORE_FIELD(reservation); ENCORE_FIELD(user); ENCORE_FIELD(reason); ENCORE_FIELD(balance);
}

template <class F> void each(sales_paused& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(revision); ENCORE_FIELD(since); }
template <class F> void each(sales_resumed& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(revision); ENCORE_FIELD(pause_ms); }
template <class F> void each(active_extended& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(user); ENCORE_FIELD(ticket); ENCORE_FIELD(active_until);
}
template <class F> void each(seats_blocked& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(revision); ENCORE_FIELD(date); ENCORE_FIELD(seats); ENCORE_FIELD(reason);
}
template <class F> void each(seats_released& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(revision); ENCORE_FIELD(date); ENCORE_FIELD(seats);
}
template <class F> void each(concert_updated& s, F&& f) { ENCORE_FIELD(concert); ENCORE_FIELD(revision); ENCORE_FIELD(settings); }
template <class F> void each(dates_added& s, F&& f) {
    ENCORE_FIELD(concert); ENCORE_FIELD(revision); ENCORE_FIELD(schedules); ENCORE_FIELD(seats_per_row);
}

#undef ENCORE_SEATS
#undef ENCORE_FIELD

}  // namespace encore::fields
