#include "events/types.hpp"

#include "events/command.hpp"
#include "events/event.hpp"

namespace encore {

std::size_t utf8_characters(std::string_view text) {
    std::size_t n = 0;
    for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

std::string_view refusal_code(refusal r) {
    switch (r) {
        case refusal::none: return "NONE";
        case refusal::invalid_request: return "INVALID_REQUEST";
        case refusal::invalid_amount: return "INVALID_AMOUNT";
        case refusal::balance_limit: return "BALANCE_LIMIT";
        case refusal::concert_not_found: return "CONCERT_NOT_FOUND";
        case refusal::queue_token_invalid: return "QUEUE_TOKEN_INVALID";
        case refusal::queue_token_expired: return "QUEUE_TOKEN_EXPIRED";
        case refusal::not_your_turn: return "NOT_YOUR_TURN";
        case refusal::date_not_bookable: return "DATE_NOT_BOOKABLE";
        case refusal::invalid_seat: return "INVALID_SEAT";
        case refusal::seat_taken: return "SEAT_TAKEN";
        case refusal::hold_limit: return "HOLD_LIMIT";
        case refusal::reservation_not_found: return "RESERVATION_NOT_FOUND";
        case refusal::already_paid: return "ALREADY_PAID";
        case refusal::hold_expired: return "HOLD_EXPIRED";
        case refusal::reservation_cancelled: return "RESERVATION_CANCELLED";
        case refusal::insufficient_balance: return "INSUFFICIENT_BALANCE";
        case refusal::concert_exists: return "CONCERT_EXISTS";
        case refusal::idempotency_key_reused: return "IDEMPOTENCY_KEY_REUSED";
        case refusal::ticket_limit: return "TICKET_LIMIT";
        case refusal::not_paid: return "NOT_PAID";
        case refusal::already_refunded: return "ALREADY_REFUNDED";
        case refusal::refund_not_allowed: return "REFUND_NOT_ALLOWED";
        case refusal::no_adjacent_seats: return "NO_ADJACENT_SEATS";
        case refusal::sales_paused: return "SALES_PAUSED";
        case refusal::not_blocked: return "NOT_BLOCKED";
        case refusal::date_exists: return "DATE_EXISTS";
        case refusal::precondition_failed: return "PRECONDITION_FAILED";
        case refusal::section_not_found: return "SECTION_NOT_FOUND";
        case refusal::section_full: return "SECTION_FULL";
        case refusal::not_eligible: return "NOT_ELIGIBLE";
        case refusal::grade_not_on_sale: return "GRADE_NOT_ON_SALE";
        case refusal::not_on_list: return "NOT_ON_LIST";
        case refusal::already_claimed: return "ALREADY_CLAIMED";
        case refusal::already_eligible: return "ALREADY_ELIGIBLE";
        case refusal::not_claimed: return "NOT_CLAIMED";
        case refusal::phase_started: return "PHASE_STARTED";
        case refusal::ticket_used: return "TICKET_USED";
        case refusal::scanner_not_found: return "SCANNER_NOT_FOUND";
    }
    return "UNKNOWN";
}

std::string_view to_string(seat_status s) {
    switch (s) {
        case seat_status::available: return "AVAILABLE";
        case seat_status::held: return "HELD";
        case seat_status::sold: return "SOLD";
        case seat_status::blocked: return "BLOCKED";
    }
    return "UNKNOWN";
}

std::string_view to_string(reservation_status s) {
    switch (s) {
        case reservation_status::held: return "HELD";
        case reservation_status::confirmed: return "CONFIRMED";
        case reservation_status::expired: return "EXPIRED";
        case reservation_status::cancelled: return "CANCELLED";
        case reservation_status::refunded: return "REFUNDED";
    }
    return "UNKNOWN";
}

std::string_view to_string(queue_status s) {
    switch (s) {
        case queue_status::waiting: return "WAITING";
        case queue_status::active: return "ACTIVE";
        case queue_status::expired: return "EXPIRED";
        case queue_status::completed: return "COMPLETED";
    }
    return "UNKNOWN";
}

std::string_view to_string(command_type t) {
    switch (t) {
        case command_type::create_concert: return "CreateConcert";
        case command_type::register_user: return "RegisterUser";
        case command_type::enqueue: return "Enqueue";
        case command_type::tick: return "Tick";
        case command_type::hold_seat: return "HoldSeat";
        case command_type::cancel_hold: return "CancelHold";
        case command_type::pay: return "Pay";
        case command_type::charge: return "Charge";
        case command_type::debit_request: return "DebitRequest";
        case command_type::debit_result: return "DebitResult";
        case command_type::claim_key: return "ClaimKey";
        case command_type::refund: return "Refund";
        case command_type::credit_request: return "CreditRequest";
        case command_type::credit_result: return "CreditResult";
        case command_type::pause_sales: return "PauseSales";
        case command_type::block_seats: return "BlockSeats";
        case command_type::update_concert: return "UpdateConcert";
        case command_type::add_dates: return "AddDates";
        case command_type::add_eligible: return "AddEligible";
        case command_type::claim_eligibility: return "ClaimEligibility";
        case command_type::change_scanner: return "ChangeScanner";
        case command_type::check_in: return "CheckIn";
    }
    return "Unknown";
}

std::string_view to_string(event_type t) {
    switch (t) {
        case event_type::concert_created: return "ConcertCreated";
        case event_type::user_registered: return "UserRegistered";
        case event_type::queue_joined: return "QueueJoined";
        case event_type::queue_admitted: return "QueueAdmitted";
        case event_type::queue_left: return "QueueLeft";
        case event_type::seat_held: return "SeatHeld";
        case event_type::hold_expired: return "HoldExpired";
        case event_type::hold_cancelled: return "HoldCancelled";
        case event_type::payment_started: return "PaymentStarted";
        case event_type::wallet_debited: return "WalletDebited";
        case event_type::debit_refused: return "DebitRefused";
        case event_type::payment_confirmed: return "PaymentConfirmed";
        case event_type::payment_failed: return "PaymentFailed";
        case event_type::charged: return "Charged";
        case event_type::refused: return "Refused";
        case event_type::idempotent_replay: return "IdempotentReplay";
        case event_type::key_claimed: return "KeyClaimed";
        case event_type::refund_started: return "RefundStarted";
        case event_type::wallet_credited: return "WalletCredited";
        case event_type::credit_refused: return "CreditRefused";
        case event_type::reservation_refunded: return "ReservationRefunded";
        case event_type::refund_failed: return "RefundFailed";
        case event_type::queue_placed: return "QueuePlaced";
        case event_type::sales_paused: return "SalesPaused";
        case event_type::sales_resumed: return "SalesResumed";
        case event_type::active_extended: return "ActiveExtended";
        case event_type::seats_blocked: return "SeatsBlocked";
        case event_type::seats_released: return "SeatsReleased";
        case event_type::concert_updated: return "ConcertUpdated";
        case event_type::dates_added: return "DatesAdded";
        case event_type::phase_opened: return "PhaseOpened";
        case event_type::phase_closed: return "PhaseClosed";
        case event_type::eligible_added: return "EligibleAdded";
        case event_type::eligibility_claimed: return "EligibilityClaimed";
        case event_type::claim_freed: return "ClaimFreed";
        case event_type::scanner_added: return "ScannerAdded";
        case event_type::scanner_removed: return "ScannerRemoved";
        case event_type::tickets_checked: return "TicketsChecked";
    }
    return "Unknown";
}

}  // namespace encore
