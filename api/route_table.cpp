// The route table (route_table.hpp): each row a method, a path, its handler and its documentation.

#include "api/route_table.hpp"

#include <deque>
#include <string>

#include "api/service_impl.hpp"
#include "api/web_assets.hpp"

namespace encore::api {
namespace {

// Hold errors, in API.md's order of checks: the admission's first.
constexpr errors_at not_admitted_403 = {403, "QUEUE_TOKEN_INVALID QUEUE_TOKEN_EXPIRED"};
constexpr errors_at not_admitted_429 = {429, "NOT_YOUR_TURN"};
constexpr errors_at no_concert = {404, "CONCERT_NOT_FOUND"};
constexpr errors_at no_reservation = {404, "RESERVATION_NOT_FOUND"};
constexpr errors_at bad_query = {400, "INVALID_REQUEST"};
// A history read from RocksDB that failed (an I/O error, a damaged block).
constexpr errors_at storage_read = {503, "STORAGE_UNAVAILABLE"};

using impl = service::impl;

std::vector<route> api_and_fixed_routes();
void add_web_file_routes(std::vector<route>& rows);

}  // namespace

std::span<const route> route_table() {
    static const std::vector<route> routes = [] {
        std::vector<route> rows = api_and_fixed_routes();
        add_web_file_routes(rows);
        return rows;
    }();
    return routes;
}

namespace {

// API.md's routes and the fixed paths of operations.
std::vector<route> api_and_fixed_routes() {
    namespace http = boost::beast::http;
    // Captureless lambdas: each row says whether the route is a command, a query or a stream.
    return {
        {http::verb::post, "/users", [](impl& s, request_context& rc) { commands::post_users(s.commands, rc); },
         "createUser", "users", access::none, "Create a user and get a user token", "NewUser",
         {{201, "the new user and its token"}}, "UserCreated", {}, {}},
        {http::verb::get, "/users/me/balance", [](impl& s, request_context& rc) { queries::balance(s.queries, rc); },
         "getBalance", "users", access::user, "The caller's balance", "",
         {{200, "the balance"}}, "Balance", {}, {}},
        {http::verb::post, "/users/me/balance/charge", [](impl& s, request_context& rc) { commands::post_charge(s.commands, rc); },
         "chargeWallet", "users", access::user, "Charge the wallet", "Charge",
         {{200, "the balance after the charge"}}, "Balance", {{400, "INVALID_AMOUNT"}, {422, "BALANCE_LIMIT"}}, {}},
        {http::verb::get, "/users/me/balance/history", [](impl& s, request_context& rc) { queries::history(s.queries, rc); },
         "listWalletHistory", "users", access::user, "Wallet history, newest first, paged", "",
         {{200, "a page of entries"}}, "WalletHistory", {bad_query, storage_read}, {"limit", "cursor"}},
        {http::verb::get, "/users/me/reservations", [](impl& s, request_context& rc) { queries::my_reservations(s.queries, rc); },
         "listMyReservations", "users", access::user, "The caller's reservations, newest first, paged", "",
         {{200, "a page of reservations"}}, "ReservationPage", {bad_query}, {"limit", "cursor"}},
        {http::verb::post, "/admin/concerts", [](impl& s, request_context& rc) { commands::post_concert(s.commands, rc); },
         "createConcert", "catalog", access::admin, "Create a concert", "ConcertRequest",
         {{201, "the concert's id"}}, "ConcertCreated", {{409, "CONCERT_EXISTS"}}, {}},
        {http::verb::get, "/admin/concerts/{concertId}", [](impl& s, request_context& rc) { queries::admin_concert(s.queries, rc); },
         "getConcertAdmin", "catalog", access::admin,
         "The concert in its creation shape, every default filled in (posted again, it makes the same concert), "
         "whether it is paused, and each date's status", "",
         {{200, "the concert"}}, "AdminConcert", {no_concert}, {"IfNoneMatch"}},
        {http::verb::patch, "/admin/concerts/{concertId}", [](impl& s, request_context& rc) { commands::patch_concert(s.commands, rc); },
         "updateConcert", "organizer", access::admin,
         "Change the concert's settings (the fields given, in their creation shape). A lowered cap or TTL evicts nobody: "
         "it applies to the next hold or admission; a larger activeCapacity admits at once. With If-Match, only if "
         "the concert is still as that ETag says", "ConcertPatch",
         {{200, "the concert as GET /admin/concerts/{concertId} shows it, with its new ETag"}}, "AdminConcert",
         {no_concert, {409, "PHASE_STARTED"}, {412, "PRECONDITION_FAILED"}}, {"IfMatch"}},
        {http::verb::post, "/admin/concerts/{concertId}/dates", [](impl& s, request_context& rc) { commands::post_dates(s.commands, rc); },
         "addDates", "organizer", access::admin, "Add dates to the concert, in the creation shape of schedules", "NewDates",
         {{201, "the concert as GET /admin/concerts/{concertId} shows it"}}, "AdminConcert",
         {no_concert, {409, "DATE_EXISTS"}}, {}},
        {http::verb::post, "/admin/concerts/{concertId}/dates/{date}/blocks", [](impl& s, request_context& rc) { commands::post_blocks(s.commands, rc); },
         "blockSeats", "organizer", access::admin,
         "Take seats off sale (BLOCKED): all of them or none; seats blocked already stay so", "SeatBlock",
         {{200, "the seats named, now BLOCKED"}}, "SeatsBlocked",
         {{404, "CONCERT_NOT_FOUND DATE_NOT_FOUND"}, {409, "SEAT_TAKEN"}, {422, "INVALID_SEAT"}}, {}},
        {http::verb::delete_, "/admin/concerts/{concertId}/dates/{date}/blocks", [](impl& s, request_context& rc) { commands::delete_blocks(s.commands, rc); },
         "releaseSeats", "organizer", access::admin, "Put blocked seats back on sale: all of them or none", "SeatRelease",
         {{200, "the seats named, AVAILABLE again"}}, "SeatsReleased",
         {{404, "CONCERT_NOT_FOUND DATE_NOT_FOUND"}, {409, "NOT_BLOCKED"}, {422, "INVALID_SEAT"}}, {}},
        {http::verb::post, "/admin/concerts/{concertId}/pause", [](impl& s, request_context& rc) { commands::post_pause(s.commands, rc); },
         "pauseSales", "organizer", access::admin,
         "Pause the sale: users still join the waiting room, nobody is admitted, holds get SALES_PAUSED; pay, cancel and "
         "refund work as usual. Pausing a paused sale changes nothing", "",
         {{200, "paused, and since when"}}, "SalesPaused", {no_concert}, {}},
        {http::verb::post, "/admin/concerts/{concertId}/resume", [](impl& s, request_context& rc) { commands::post_resume(s.commands, rc); },
         "resumeSales", "organizer", access::admin,
         "Resume the sale: ACTIVE users' activeUntil moves later by the pause's length, and free slots admit at once", "",
         {{200, "not paused"}}, "SalesResumed", {no_concert}, {}},
        {http::verb::post, "/admin/concerts/{concertId}/phases/{phase}/eligible", [](impl& s, request_context& rc) { commands::post_eligible(s.commands, rc); },
         "addEligible", "phases", access::admin,
         "Add ids to a LIST phase's list, 1..10,000 a request (up to 1,000,000 a phase; adding after the phase opened is "
         "allowed). Ids are kept only as keyed hashes: nothing shows them again", "EligibleIds",
         {{200, "how many ids were new, and the list's size"}}, "EligibleAdded",
         {{404, "CONCERT_NOT_FOUND PHASE_NOT_FOUND"}}, {}},
        {http::verb::delete_, "/admin/concerts/{concertId}/phases/{phase}/claims", [](impl& s, request_context& rc) { commands::delete_claim(s.commands, rc); },
         "freeClaim", "phases", access::admin,
         "Free a wrongly made claim: the id may be claimed again, and its user is no longer eligible", "Claim",
         {{200, "freed"}}, "ClaimFreed", {{404, "CONCERT_NOT_FOUND PHASE_NOT_FOUND NOT_CLAIMED"}}, {}},
        {http::verb::get, "/admin/concerts/{concertId}/changes", [](impl& s, request_context& rc) { queries::concert_changes(s.queries, rc); },
         "listConcertChanges", "organizer", access::admin,
         "Every change of the organizer's (pause, resume, blocks, settings, dates) with its time, oldest first, paged", "",
         {{200, "a page of changes"}}, "ConcertChanges", {bad_query, no_concert, storage_read}, {"limit", "cursor"}},
        // Tickets and the door.
        {http::verb::get, "/reservations/{reservationId}/tickets", [](impl& s, request_context& rc) { door::reservation_tickets(s.door, rc); },
         "listTickets", "tickets", access::user,
         "A paid reservation's tickets, one per seat or standing place, each with its signed code (VALID, ADMITTED once "
         "scanned at the door, REVOKED once refunded)", "", {{200, "the tickets"}}, "TicketList",
         {no_reservation, {409, "NOT_PAID"}}, {}},
        {http::verb::get, "/tickets/{ticketId}/qr.svg", [](impl& s, request_context& rc) { door::ticket_qr(s.door, rc); },
         "getTicketQr", "tickets", access::user, "A ticket's code as a QR code (SVG), for the fan to show at the door", "",
         {{200, "the QR code"}}, "", {{404, "TICKET_NOT_FOUND"}}, {}, content::svg},
        {http::verb::get, "/concerts/{concertId}/ticket-key", [](impl& s, request_context& rc) { door::ticket_key(s.door, rc); },
         "getTicketKey", "tickets", access::none,
         "The concert's Ed25519 public key: a ticket's code is a JWS (EdDSA) any JOSE library verifies offline with it", "",
         {{200, "the key"}}, "TicketKey", {no_concert}, {}},
        {http::verb::post, "/admin/concerts/{concertId}/scanners", [](impl& s, request_context& rc) { door::post_scanner(s.door, rc); },
         "addScanner", "door", access::admin,
         "A scanner for the door, at one gate of the venue (or every gate): its key checks in tickets of this concert only", "NewScanner",
         {{201, "the scanner and its key"}}, "Scanner", {no_concert}, {}},
        {http::verb::get, "/admin/concerts/{concertId}/scanners", [](impl& s, request_context& rc) { door::list_scanners(s.door, rc); },
         "listScanners", "door", access::admin, "The concert's scanners, with the keys of those not removed", "",
         {{200, "the scanners"}}, "ScannerList", {no_concert}, {}},
        {http::verb::delete_, "/admin/concerts/{concertId}/scanners/{scannerId}", [](impl& s, request_context& rc) { door::delete_scanner(s.door, rc); },
         "removeScanner", "door", access::admin, "Remove a scanner: its key stops working at once", "",
         {{200, "removed"}}, "ScannerRemoved", {{404, "CONCERT_NOT_FOUND SCANNER_NOT_FOUND"}}, {}},
        {http::verb::get, "/admin/concerts/{concertId}/dates/{date}/tickets", [](impl& s, request_context& rc) { door::date_tickets(s.door, rc); },
         "listDateTickets", "door", access::scanner,
         "A date's tickets, for a door working offline: holders, seats or zones, entry numbers and statuses (revocations); a "
         "scanner's gate unless ?gate= names another (tickets without a gate are on every gate's list). Paged by reservation: a "
         "page holds the tickets of up to `limit` reservations", "",
         {{200, "a page of tickets"}}, "DateTickets", {bad_query, {404, "CONCERT_NOT_FOUND DATE_NOT_FOUND"}}, {"gate", "limit", "cursor"}},
        {http::verb::post, "/admin/concerts/{concertId}/checkins", [](impl& s, request_context& rc) { door::post_checkin(s.door, rc); },
         "checkIn", "door", access::scanner,
         "Check a ticket in at the scanner's gate: the concert's partition decides, so two gates scanning one ticket admit it "
         "once; the same scanId again answers its first result", "CheckIn",
         {{200, "ADMITTED, with the ticket"}}, "CheckedIn",
         {{400, "INVALID_REQUEST INVALID_TICKET"}, no_concert, {409, "ALREADY_ADMITTED WRONG_DATE WRONG_GATE"}, {410, "TICKET_REVOKED"}}, {}},
        {http::verb::post, "/admin/concerts/{concertId}/checkins/batch", [](impl& s, request_context& rc) { door::post_checkin_batch(s.door, rc); },
         "checkInBatch", "door", access::scanner,
         "Upload scans made offline (1..1,000), applied in upload order: the door let their holders in, so a first scan is "
         "ADMITTED at any gate and a later one of the same ticket DUPLICATE with the first; never counted twice", "CheckInBatch",
         {{200, "a result per scan, in order"}}, "CheckInResults", {{400, "INVALID_REQUEST"}, no_concert}, {}},
        {http::verb::get, "/admin/concerts/{concertId}/checkins", [](impl& s, request_context& rc) { door::checkins(s.door, rc); },
         "listCheckins", "door", access::admin, "Admissions per gate, in all and over time", "",
         {{200, "the admissions"}}, "Checkins", {bad_query, no_concert}, {"bucketSeconds"}},
        {http::verb::get, "/concerts", [](impl& s, request_context& rc) { queries::concerts(s.queries, rc); },
         "listConcerts", "catalog", access::none, "Every concert with its dates, prices and rules of sale", "",
         {{200, "the concerts"}}, "ConcertList", {}, {}},
        {http::verb::get, "/concerts/{concertId}/dates", [](impl& s, request_context& rc) { queries::dates(s.queries, rc); },
         "listDates", "catalog", access::queue, "Dates with at least one available seat", "",
         {{200, "the dates"}}, "DateList", {not_admitted_403, not_admitted_429, no_concert}, {}},
        {http::verb::get, "/concerts/{concertId}/dates/{date}/seats", [](impl& s, request_context& rc) { queries::seats(s.queries, rc); },
         "getSeatMap", "catalog", access::queue,
         "The seat map, ascending by number (gzip with Accept-Encoding: gzip)", "", {{200, "the seats"}}, "SeatMap",
         {not_admitted_403, not_admitted_429, {404, "CONCERT_NOT_FOUND DATE_NOT_FOUND"}, bad_query}, {"status", "grade", "section", "overview", "IfNoneMatch"}},
        {http::verb::post, "/concerts/{concertId}/queue", [](impl& s, request_context& rc) { commands::post_queue(s.commands, rc); },
         "joinQueue", "queue", access::user, "Enter the waiting room", "",
         {{201, "joined: a new queue token"}, {200, "this user already has a live token for the concert: that same token"}},
         "QueueJoined", {no_concert, {403, "NOT_ELIGIBLE"}}, {}},
        {http::verb::get, "/concerts/{concertId}/phases", [](impl& s, request_context& rc) { queries::phases(s.queries, rc); },
         "listPhases", "phases", access::user,
         "The concert's sale phases: which is open, and whether the caller may join each (an ALL phase, or a LIST phase "
         "whose list the caller claimed an id of)", "",
         {{200, "the phases, in order"}}, "PhaseList", {no_concert}, {}},
        {http::verb::post, "/concerts/{concertId}/phases/{phase}/claim", [](impl& s, request_context& rc) { commands::post_claim(s.commands, rc); },
         "claimEligibility", "phases", access::user,
         "Prove the caller is on a LIST phase's list with an id the organizer handed out: one id, one person, for good. "
         "The same claim again is 200. After 10 ids not on the list within an hour, 429 until the oldest is an hour old "
         "(counted by each node)", "Claim",
         {{200, "the caller may join the phase"}}, "ClaimMade",
         {{404, "CONCERT_NOT_FOUND PHASE_NOT_FOUND NOT_ON_LIST"}, {409, "ALREADY_CLAIMED ALREADY_ELIGIBLE"}, {429, "RATE_LIMITED"}}, {}},
        {http::verb::get, "/concerts/{concertId}/queue", [](impl& s, request_context& rc) { queries::queue(s.queries, rc); },
         "getQueueStatus", "queue", access::queue, "Queue status, position and estimated wait", "",
         {{200, "the status"}}, "QueueStatus", {{403, "QUEUE_TOKEN_INVALID"}}, {}},
        {http::verb::get, "/concerts/{concertId}/queue/stream", [](impl& s, request_context& rc) {
             if (s.streams.open(rc)) s.housekeeping_wake.notify_all();
         },
         "streamQueueStatus", "queue", access::stream,
         "Server-Sent Events of the queue status: one whenever status or position changes", "",
         {{200, "the event stream; it ends after EXPIRED or COMPLETED"}}, "", {{403, "QUEUE_TOKEN_INVALID"}},
         {"token", "queueToken"}, content::event_stream},
        {http::verb::post, "/concerts/{concertId}/dates/{date}/seats/{seat}/hold", [](impl& s, request_context& rc) { commands::post_hold(s.commands, rc); },
         "holdSeat", "reservations", access::queue,
         "Hold one seat until now + holdTtlSeconds", "", {{201, "the reservation, HELD"}}, "Reservation",
         {not_admitted_403, not_admitted_429, no_concert, {422, "DATE_NOT_BOOKABLE INVALID_SEAT"},
          {409, "SALES_PAUSED SEAT_TAKEN HOLD_LIMIT TICKET_LIMIT"}}, {}},
        {http::verb::post, "/concerts/{concertId}/dates/{date}/holds", [](impl& s, request_context& rc) { commands::post_holds(s.commands, rc); },
         "holdSeats", "reservations", access::queue,
         "Hold several seats, or the best available, together or not at all", "HoldRequest",
         {{201, "the reservation, HELD"}}, "Reservation",
         {not_admitted_403, not_admitted_429, no_concert, {422, "DATE_NOT_BOOKABLE SECTION_NOT_FOUND INVALID_SEAT"},
          {409, "SALES_PAUSED SEAT_TAKEN HOLD_LIMIT TICKET_LIMIT NO_ADJACENT_SEATS SECTION_FULL"}}, {}},
        {http::verb::get, "/reservations/{reservationId}", [](impl& s, request_context& rc) { queries::reservation(s.queries, rc); },
         "getReservation", "reservations", access::user,
         "A reservation of the caller (another user's is not found)", "", {{200, "the reservation"}}, "Reservation", {no_reservation}, {}},
        {http::verb::delete_, "/reservations/{reservationId}", [](impl& s, request_context& rc) { commands::delete_reservation(s.commands, rc); },
         "cancelReservation", "reservations", access::user,
         "Cancel a hold: its seats are AVAILABLE again", "", {{200, "the reservation, CANCELLED"}}, "Reservation",
         {no_reservation, {409, "ALREADY_PAID HOLD_EXPIRED RESERVATION_CANCELLED ALREADY_REFUNDED"}}, {}},
        {http::verb::post, "/reservations/{reservationId}/pay", [](impl& s, request_context& rc) { commands::post_pay(s.commands, rc); },
         "payReservation", "reservations", access::user,
         "Pay a hold from the wallet: its seats are SOLD and the queue token COMPLETED", "", {{201, "the payment"}}, "Payment",
         {{402, "INSUFFICIENT_BALANCE"}, no_reservation, {409, "ALREADY_PAID RESERVATION_CANCELLED ALREADY_REFUNDED"}, {410, "HOLD_EXPIRED"}}, {}},
        {http::verb::post, "/reservations/{reservationId}/refund", [](impl& s, request_context& rc) { commands::post_refund(s.commands, rc); },
         "refundReservation", "reservations", access::user,
         "Refund a CONFIRMED reservation: its seats are AVAILABLE again and the price, less the fee of the refund policy it was paid "
         "under (a date with startsAt), credited to the wallet; a date without startsAt refunds in full until refundsUntil",
         "", {{200, "the reservation, REFUNDED"}}, "RefundedReservation",
         {no_reservation, {409, "NOT_PAID ALREADY_REFUNDED REFUND_NOT_ALLOWED"}, {422, "BALANCE_LIMIT"}}, {}},
        {http::verb::get, "/analytics/concerts/{concertId}", [](impl& s, request_context& rc) { queries::analytics(s.queries, rc); },
         "getAnalytics", "analytics", access::admin,
         "Sales, holds, refunds and conversion per date; the queue's figures", "", {{200, "the figures"}}, "Analytics", {no_concert}, {}},
        {http::verb::get, "/analytics/concerts/{concertId}/timeline", [](impl& s, request_context& rc) { queries::timeline(s.queries, rc); },
         "getTimeline", "analytics", access::admin,
         "Queue, holds, sales and revenue by buckets of partition time, oldest first", "", {{200, "the buckets"}}, "Timeline",
         {bad_query, no_concert}, {"bucketSeconds", "from", "to"}},
        {http::verb::get, "/admin/concerts/{concertId}/dates/{date}/seats/{seat}/history", [](impl& s, request_context& rc) { queries::seat_history(s.queries, rc); },
         "getSeatHistory", "analytics", access::admin,
         "A seat's holds, expiries, cancels, sale and refunds, oldest first, paged", "", {{200, "a page of entries"}}, "SeatHistory",
         {bad_query, {404, "CONCERT_NOT_FOUND DATE_NOT_FOUND SEAT_NOT_FOUND"}, storage_read}, {"limit", "cursor"}},

        // The fixed paths: operations and the web pages' files.
        {http::verb::get, "/healthz", operations::health,
         "getHealth", "operations", access::none, "Liveness: 200 while the process serves", "",
         {{200, "serving"}}, "Health", {}, {}},
        {http::verb::get, "/readyz", operations::readiness,
         "getReadiness", "operations", access::none,
         "Readiness: the engine recovered and the projections within 1 s of the log", "", {{200, "ready"}}, "Ready", {{503, "NOT_READY"}}, {}},
        {http::verb::get, "/metrics", operations::metrics,
         "getMetrics", "operations", access::none, "Prometheus metrics", "",
         {{200, "the Prometheus text format"}}, "", {}, {}, content::prometheus},
        {http::verb::get, "/openapi.json", operations::openapi,
         "getOpenApi", "operations", access::none, "This document", "",
         {{200, "the OpenAPI document"}}, "OpenApiDocument", {}, {}},
    };
}

// "getWebFileAppJs" for app.js.
std::string web_file_operation_id(const web_asset& asset) {
    std::string id = "getWebFile";
    bool word_start = true;
    for (const char c : asset.file) {
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum) id += word_start && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
        word_start = !alnum;
    }
    return id;
}

// The web pages' files: a row for each file embedded from api/web/ (web_assets.hpp, the list
// web_files of api/CMakeLists.txt) at the path it is served at, so that a new file needs no row
// here. `text` holds the strings the rows point to.
void add_web_file_routes(std::vector<route>& rows) {
    static std::deque<std::string> text;
    for (const web_asset& asset : web_assets()) {
        const std::string_view type = asset.content_type.substr(0, asset.content_type.find(';'));
        const char* kind = type == "text/html"         ? "a web page"
                           : type == "text/javascript" ? "a script (ES module)"
                                                       : "a style sheet";
        const std::string& path = text.emplace_back(asset.path);
        const std::string& id = text.emplace_back(web_file_operation_id(asset));
        const std::string& summary = text.emplace_back("api/web/" + std::string(asset.file) + ": " + kind);
        rows.push_back({boost::beast::http::verb::get, path.c_str(), operations::web_file, id.c_str(), "pages", access::none,
                        summary.c_str(), "", {{200, "the file"}}, "", {}, {"IfNoneMatch"}, content::web_file});
    }
}

}  // namespace

bool route_matches(const route& r, std::span<const std::string_view> segments) {
    const std::string_view pattern = r.path;
    std::size_t i = 0;
    std::size_t pos = 0;
    while (pos < pattern.size()) {
        if (pattern[pos] == '/') {
            ++pos;
            continue;
        }
        auto next = pattern.find('/', pos);
        if (next == std::string_view::npos) next = pattern.size();
        const std::string_view part = pattern.substr(pos, next - pos);
        const bool parameter = part.starts_with('{');
        if (i >= segments.size() || segments[i].empty() || (!parameter && part != segments[i])) return false;
        ++i;
        pos = next;
    }
    return i == segments.size();
}

std::string route_label(const route& r) {
    std::string label(boost::beast::http::to_string(r.method));
    label += ' ';
    for (const char* c = r.path; *c != '\0'; ++c) {
        label += *c;
        if (*c == '{') {
            while (*c != '}') ++c;
            label += '}';
        }
    }
    return label;
}

}  // namespace encore::api
