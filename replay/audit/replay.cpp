// The audit's replay and checks over the log interface; see replay.hpp.

#include "replay/audit/replay.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <iterator>
#include <deque>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <filesystem>
#include <optional>
#include <set>
#include <tuple>

#include "engine/engine.hpp"
#include "events/codec.hpp"
#include "events/diagnostics.hpp"
#include "events/ids.hpp"
#include "events/refund_policy.hpp"
#include "projections/rebuild.hpp"
#include "replay/progress.hpp"

namespace encore::replay::audit {
namespace {

// Records asked for per read; the embedded log returns up to 16,384, a Kafka fetch what it has.
constexpr std::size_t read_batch = 4096;

// ---- reading ahead, and rebuilding beside the replay --------------------------------------------

// A bounded FIFO between two threads: the producer blocks while it is full, the consumer while it
// is empty. `close` (producer) ends it after what is queued; `cancel` (consumer) makes pushes fail.
template <class T>
class handoff {
public:
    explicit handoff(std::size_t capacity) : capacity_(capacity) {}

    bool push(T item) {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return cancelled_ || items_.size() < capacity_; });
        if (cancelled_) return false;
        items_.push_back(std::move(item));
        changed_.notify_all();
        return true;
    }
    // Without waiting: false when full (the item is dropped) / nullopt when empty.
    bool try_push(T item) {
        std::lock_guard lock(mutex_);
        if (cancelled_ || items_.size() >= capacity_) return false;
        items_.push_back(std::move(item));
        changed_.notify_all();
        return true;
    }
    std::optional<T> try_pop() {
        std::lock_guard lock(mutex_);
        if (items_.empty()) return std::nullopt;
        T item = std::move(items_.front());
        items_.pop_front();
        changed_.notify_all();
        return item;
    }
    std::optional<T> pop() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return closed_ || !items_.empty(); });
        if (items_.empty()) return std::nullopt;
        T item = std::move(items_.front());
        items_.pop_front();
        changed_.notify_all();
        return item;
    }
    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        changed_.notify_all();
    }
    void cancel() {
        std::lock_guard lock(mutex_);
        cancelled_ = closed_ = true;
        changed_.notify_all();
    }

private:
    const std::size_t capacity_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<T> items_;
    bool closed_ = false, cancelled_ = false;
};

// Batches read ahead on a thread of its own.
constexpr std::size_t batches_read_ahead = 4;
constexpr std::size_t chunks_queued_for_rebuild = 8;

[[noreturn]] void cannot_read(std::uint32_t p, const char* stream, std::uint64_t offset, const std::string& why) {
    throw unreadable{"partition " + std::to_string(p) + ": reading the " + stream + " log at offset " +
                     std::to_string(offset) + ": " + why};
}

// Reads [0, end) of one partition of a stream on its own thread, a few batches ahead of the
// replay, so that RocksDB's (or the Kafka fetches') work overlaps the engine's. The batches the
// replay is done with come back to be filled again, so a scan's memory is touched once.
class stream_reader {
public:
    stream_reader(log_stream& stream, std::uint32_t p, std::uint64_t end, std::chrono::milliseconds wait, const char* name)
        : stream_(stream), p_(p), end_(end), wait_(wait), name_(name), queue_(batches_read_ahead),
          spares_(batches_read_ahead + 2) {
        thread_ = std::thread([this] {
            diag::name_thread(std::string("audit-read-") + name_);
            read_all();
        });
    }
    ~stream_reader() {
        queue_.cancel();
        thread_.join();
    }
    stream_reader(const stream_reader&) = delete;
    stream_reader& operator=(const stream_reader&) = delete;

    // Replaces `batch` (done with) by the next one; false, with `batch` empty, once [0, end) has
    // been read. Throws `unreadable`.
    bool next(log_batch& batch) {
        std::optional<log_batch> got = queue_.pop();
        batch.clear();
        spares_.try_push(std::move(batch));
        batch = got ? std::move(*got) : log_batch{};
        if (got) return true;
        std::lock_guard lock(error_mutex_);
        if (error_) cannot_read(p_, name_, error_offset_, *error_);
        return false;
    }

private:
    void read_all() {
        std::uint64_t offset = 0;
        while (offset < end_) {
            log_batch batch = spares_.try_pop().value_or(log_batch{});
            auto read = stream_.read_into(p_, offset, read_batch, wait_, batch);
            if (!read || batch.empty()) {
                std::lock_guard lock(error_mutex_);
                error_ = read ? "records below the end " + std::to_string(end_) + " do not arrive" : read.err().message;
                error_offset_ = offset;
                break;
            }
            std::size_t below_end = batch.size();
            while (below_end > 0 && batch.offset(below_end - 1) >= end_) --below_end;
            batch.truncate(below_end);
            if (batch.empty()) break;
            offset = batch.offset(batch.size() - 1) + 1;
            if (!queue_.push(std::move(batch))) return;
        }
        queue_.close();
    }

    log_stream& stream_;
    const std::uint32_t p_;
    const std::uint64_t end_;
    const std::chrono::milliseconds wait_;
    const char* const name_;
    handoff<log_batch> queue_;
    handoff<log_batch> spares_;
    std::mutex error_mutex_;
    std::optional<std::string> error_;
    std::uint64_t error_offset_ = 0;
    std::thread thread_;
};

// A batch's replayed events on their way to the rebuild, with their encodings, which the replay
// makes for the chain and the rebuild keeps as outcomes.
struct replayed_chunk {
    std::vector<event> events;
    std::string bytes;               // the events' encodings, one after the other
    std::vector<std::size_t> ends;   // where each one ends in `bytes`

    // Encodes `e` at the end of `bytes`; the view is valid until the next call.
    std::string_view add_encoding(const event& e) {
        const std::size_t start = bytes.size();
        encode(e, bytes);
        ends.push_back(bytes.size());
        return std::string_view(bytes).substr(start);
    }
    void clear() {
        events.clear();
        bytes.clear();
        ends.clear();
    }
};

// Applies the replayed events to the read model rebuild on a thread of its own. The chunks the
// events came in go back to the replay, emptied, to be filled again: a chunk is about a megabyte,
// and a fresh one each time would cost its pages' first touch every time.
class rebuild_worker {
public:
    explicit rebuild_worker(projections::rebuilt_partition& rebuilt)
        : rebuilt_(rebuilt), queue_(chunks_queued_for_rebuild), spares_(chunks_queued_for_rebuild + 2) {
        thread_ = std::thread([this] {
            diag::name_thread("audit-rebuild");
            apply_all();
        });
    }
    ~rebuild_worker() {
        queue_.cancel();
        if (thread_.joinable()) thread_.join();
    }
    rebuild_worker(const rebuild_worker&) = delete;
    rebuild_worker& operator=(const rebuild_worker&) = delete;

    void push(replayed_chunk chunk) { queue_.push(std::move(chunk)); }
    // An emptied chunk from before, if one is back; else a new one.
    replayed_chunk spare() { return spares_.try_pop().value_or(replayed_chunk{}); }
    // Waits for everything pushed; the first failure (the sequence it began at, and why), if any.
    std::optional<std::pair<std::uint64_t, std::string>> finish() {
        queue_.close();
        thread_.join();
        return failure_;
    }

private:
    void apply_all() {
        std::vector<std::string_view> encoded;
        while (std::optional<replayed_chunk> chunk = queue_.pop()) {
            if (!failure_) {
                encoded.clear();
                for (std::size_t i = 0, start = 0; i < chunk->ends.size(); start = chunk->ends[i++])
                    encoded.push_back(std::string_view(chunk->bytes).substr(start, chunk->ends[i] - start));
                const std::uint64_t at = rebuilt_.applied();
                if (auto r = rebuilt_.apply(chunk->events, encoded); !r) failure_ = {{at, r.err().message}};
            }
            chunk->clear();
            spares_.try_push(std::move(*chunk));
        }
        if (!failure_) rebuilt_.finish();
    }

    projections::rebuilt_partition& rebuilt_;
    handoff<replayed_chunk> queue_;
    handoff<replayed_chunk> spares_;
    std::optional<std::pair<std::uint64_t, std::string>> failure_;  // the worker's until finish
    std::thread thread_;
};

// ---- the stored events, read in batches beside the replay ---------------------------------------

// One stored event, as the cursor hands it out.
struct stored_event {
    std::uint64_t offset = 0;
    bool sealed = false;  // false: the record is too short to hold a chain link
    sealed_event record;
};

// The stored events of one partition below `end`, one new sequence at a time. Without repeats every
// record is the next sequence; with repeats (Kafka) each record is decoded for its sequence, and a
// repeat must carry the first copy's link and extend the chain from the link before it, which (the
// links being SHA-256 over the bytes) makes it byte-identical to the first copy.
class event_cursor {
public:
    event_cursor(log_stream& events, std::uint32_t p, std::uint64_t end, const options& o)
        : reader_(events, p, end, o.read_wait, "event"), p_(p), options_(o) {}

    // The next event of a new sequence, or nullptr when the stored events below `end` are done.
    // Inconsistencies among the stored copies are added to `failures`.
    const stored_event* next(std::vector<failure>& failures) {
        for (;;) {
            if (index_ == batch_.size() && !refill()) return nullptr;
            const std::size_t at = index_++;
            current_.offset = batch_.offset(at);
            current_.sealed = unseal(batch_.bytes(at), current_.record);
            if (!options_.repeats_possible || !current_.sealed) {
                ++sequence_;
                return &current_;
            }
            auto e = decode_event(current_.record.event_bytes);
            if (!e) {
                ++sequence_;  // compared with the replay, where it fails
                return &current_;
            }
            if (e->sequence < sequence_) {
                check_repeat(e->sequence, failures);
                continue;
            }
            if (e->sequence > sequence_ && !reported_gap_) {
                reported_gap_ = true;
                failures.push_back({"events", p_, current_.offset, std::nullopt,
                                    "event " + std::to_string(sequence_) + " is missing (this offset holds event " +
                                        std::to_string(e->sequence) + ")"});
            }
            sequence_ = e->sequence + 1;
            links_.resize(sequence_);
            links_.back() = current_.record.link;
            return &current_;
        }
    }
    std::uint64_t repeats() const { return repeats_; }

private:
    bool refill() {
        index_ = 0;
        return reader_.next(batch_);
    }

    void check_repeat(std::uint64_t sequence, std::vector<failure>& failures) {
        ++repeats_;
        const chain_link& previous = sequence == 0 ? chain_genesis : links_[sequence - 1];
        if (links_[sequence] == current_.record.link && chain_next(previous, current_.record.event_bytes) == current_.record.link)
            return;
        failures.push_back({"events", p_, current_.offset, std::nullopt,
                            "event " + std::to_string(sequence) + " is stored again with other bytes"});
    }

    stream_reader reader_;
    const std::uint32_t p_;
    const options& options_;
    log_batch batch_;
    std::size_t index_ = 0;
    std::uint64_t sequence_ = 0;  // the next new sequence
    std::vector<chain_link> links_;  // per sequence, the first copy's link (repeats only)
    std::uint64_t repeats_ = 0;
    bool reported_gap_ = false;
    stored_event current_;
};

// ---- money and seats, from the replayed events --------------------------------------------------

struct account {
    std::int64_t charges = 0, payments = 0, refunds = 0, balance = 0;
};

struct seat_key {
    std::uint64_t concert;
    std::int32_t date;
    std::uint32_t seat;
    bool operator==(const seat_key&) const = default;
};
struct seat_key_hash {
    std::size_t operator()(const seat_key& k) const {
        return std::hash<std::uint64_t>{}(k.concert * 0x9E3779B97F4A7C15ULL ^
                                          (static_cast<std::uint64_t>(static_cast<std::uint32_t>(k.date)) << 32 | k.seat));
    }
};

// Per partition: every wallet event must move the user's balance by its amount, and every
// confirmed seat must be new.
class ledger {
public:
    explicit ledger(std::uint32_t p) : p_(p) {}

    void add(const event& e, std::uint64_t event_offset, std::vector<failure>& failures) {
        standing(e, event_offset, failures);
        phases(e, event_offset, failures);
        refund_fees(e, event_offset, failures);
        door(e, event_offset, failures);
        if (const auto* c = std::get_if<charged>(&e.body)) {
            account& a = accounts_[c->user.value];
            a.charges += c->amount;
            follow(a, a.balance + c->amount, c->balance, c->user, e, event_offset, failures);
        } else if (const auto* d = std::get_if<wallet_debited>(&e.body)) {
            account& a = accounts_[d->user.value];
            a.payments += d->amount;
            follow(a, a.balance - d->amount, d->balance, d->user, e, event_offset, failures);
        } else if (const auto* r = std::get_if<debit_refused>(&e.body)) {
            account& a = accounts_[r->user.value];
            follow(a, a.balance, r->balance, r->user, e, event_offset, failures);
        } else if (const auto* c = std::get_if<wallet_credited>(&e.body)) {
            account& a = accounts_[c->user.value];
            a.refunds += c->amount;
            follow(a, a.balance + c->amount, c->balance, c->user, e, event_offset, failures);
        } else if (const auto* r = std::get_if<credit_refused>(&e.body)) {
            account& a = accounts_[r->user.value];
            follow(a, a.balance, r->balance, r->user, e, event_offset, failures);
        } else if (const auto* f = std::get_if<reservation_refunded>(&e.body)) {
            // The seats are no longer sold, and may be sold again.
            const reservation& s = f->reservation;
            for (std::uint32_t seat : seats_of(s)) {
                if (sold_.erase({s.concert.value, s.date, seat}) == 1) --seats_sold_;
            }
        } else if (const auto* p = std::get_if<payment_confirmed>(&e.body)) {
            const reservation& s = p->reservation;
            for (std::uint32_t seat : seats_of(s)) {
                ++seats_sold_;
                if (!sold_.insert({s.concert.value, s.date, seat}).second) {
                    ++seats_sold_twice_;
                    failures.push_back({"seats", p_, event_offset, std::nullopt,
                                        "seat " + std::to_string(seat) + " of " + to_text(s.concert) + " on day " +
                                            std::to_string(s.date) + " is sold again (reservation " +
                                            reservation_text(s.id) + ")"});
                }
            }
        }
    }

    // At the end: every user's balance in the replayed state is charges + refunds - payments.
    money close(const engine::partition_state& state, std::uint64_t end_offset, std::vector<failure>& failures) const {
        money m;
        std::map<std::uint64_t, std::string> wrong;  // sorted, so the report names the first user
        for (const auto& [user, w] : state.wallets) {
            m.balances += w.balance;
            auto it = accounts_.find(user.value);
            const account a = it == accounts_.end() ? account{} : it->second;
            if (a.charges - a.payments + a.refunds != w.balance)
                wrong[user.value] = "balance " + std::to_string(w.balance) + " but charges " + std::to_string(a.charges) +
                                    " - payments " + std::to_string(a.payments) + " + refunds " +
                                    std::to_string(a.refunds) + " = " + std::to_string(a.charges - a.payments + a.refunds);
        }
        for (const auto& [user, a] : accounts_) {
            m.charges += a.charges;
            m.payments += a.payments;
            m.refunds += a.refunds;
            if (!state.wallets.contains(user_id{user}) && a.charges - a.payments + a.refunds != 0)
                wrong[user] = "wallet events of a user without a wallet";
        }
        if (!wrong.empty())
            failures.push_back({"money", p_, end_offset, to_text(user_id{wrong.begin()->first}),
                                wrong.begin()->second + " (" + std::to_string(wrong.size()) + " users)"});
        return m;
    }
    std::uint64_t seats_sold() const { return seats_sold_; }
    std::uint64_t seats_sold_twice() const { return seats_sold_twice_; }

private:
    void follow(account& a, std::int64_t expected, std::int64_t stated, user_id user, const event& e,
                std::uint64_t event_offset, std::vector<failure>& failures) {
        if (stated != expected && !reported_)
            failures.push_back({"money", p_, event_offset, to_text(user),
                                std::string(to_string(e.type())) + " states balance " + std::to_string(stated) +
                                    ", the previous events give " + std::to_string(expected)});
        reported_ |= stated != expected;
        a.balance = stated;
    }

    // Standing zones: never more places held and sold than the zone's capacity, and entry numbers
    // given one after another in payment order (1, 2, 3… per date and zone), none twice.
    struct zone {
        std::uint32_t capacity = 0, taken = 0, entries = 0;
    };
    void standing(const event& e, std::uint64_t event_offset, std::vector<failure>& failures) {
        if (const auto* c = std::get_if<concert_created>(&e.body)) {
            std::vector<std::uint32_t>& capacity = capacities_[c->concert.concert.value];
            for (const section_layout& s : c->concert.options.sale.venue->sections) capacity.push_back(s.standing);
            return;
        }
        const reservation* r = nullptr;
        int sign = 0;
        bool paid = false, refunded = false;
        if (const auto* h = std::get_if<seat_held>(&e.body)) r = &h->reservation, sign = 1;
        if (const auto* x = std::get_if<hold_expired>(&e.body)) r = &x->reservation, sign = -1;
        if (const auto* x = std::get_if<hold_cancelled>(&e.body)) r = &x->reservation, sign = -1;
        if (const auto* x = std::get_if<reservation_refunded>(&e.body)) r = &x->reservation, sign = -1, refunded = true;
        if (const auto* x = std::get_if<payment_confirmed>(&e.body)) r = &x->reservation, paid = true;
        if (r == nullptr || !is_standing(*r)) return;
        const reservation_standing& z = r->extra.grades.standing;
        auto capacity = capacities_.find(r->concert.value);
        const std::string where = "standing zone " + z.name + " of " + to_text(r->concert) + " on day " + std::to_string(r->date);
        if (capacity == capacities_.end() || z.section >= capacity->second.size() || capacity->second[z.section] == 0) {
            failures.push_back({"seats", p_, event_offset, std::nullopt, "places of a section that is no " + where});
            return;
        }
        zone& counted = zones_[{r->concert.value, r->date, z.section}];
        counted.capacity = capacity->second[z.section];
        if (sign > 0) {
            counted.taken += z.places;
            if (counted.taken > counted.capacity)
                failures.push_back({"seats", p_, event_offset, std::nullopt,
                                    where + " has " + std::to_string(counted.taken) + " places taken, over its capacity of " +
                                        std::to_string(counted.capacity) + " (reservation " + reservation_text(r->id) + ")"});
        } else if (sign < 0) {
            counted.taken -= std::min(counted.taken, z.places);
            if (refunded) seats_sold_ -= std::min<std::uint64_t>(seats_sold_, z.places);
        }
        if (paid) {
            if (z.entry_first != counted.entries + 1)
                failures.push_back({"seats", p_, event_offset, std::nullopt,
                                    where + " gives entry number " + std::to_string(z.entry_first) + " where " +
                                        std::to_string(counted.entries + 1) + " is next (reservation " + reservation_text(r->id) + ")"});
            counted.entries = std::max(counted.entries, z.entry_first + z.places - 1);
            seats_sold_ += z.places;
        }
    }

    // Sale phases: every hold placed while a LIST phase was open is by a user who had claimed an id
    // of its list (and not had the claim freed) before it, and of a grade the phase sells.
    struct phased_concert {
        std::vector<sale_phase> phases;
        std::optional<std::uint32_t> open;                      // the phase open now
        std::set<std::pair<std::uint32_t, std::uint64_t>> claims;  // (phase, user)
    };
    void phases(const event& e, std::uint64_t event_offset, std::vector<failure>& failures) {
        if (const auto* c = std::get_if<concert_created>(&e.body)) {
            if (!c->concert.options.sale.venue->plan.phases.empty())
                phased_[c->concert.concert.value].phases = c->concert.options.sale.venue->plan.phases;
            return;
        }
        auto concert_of = [&](concert_id id) -> phased_concert* {
            auto it = phased_.find(id.value);
            return it == phased_.end() ? nullptr : &it->second;
        };
        if (const auto* o = std::get_if<phase_opened>(&e.body)) {
            if (auto* c = concert_of(o->concert)) c->open = o->phase;
        } else if (const auto* x = std::get_if<phase_closed>(&e.body)) {
            if (auto* c = concert_of(x->concert)) c->open.reset();
        } else if (const auto* m = std::get_if<eligibility_claimed>(&e.body)) {
            if (auto* c = concert_of(m->concert)) c->claims.insert({m->phase, m->user.value});
        } else if (const auto* f = std::get_if<claim_freed>(&e.body)) {
            if (auto* c = concert_of(f->concert)) c->claims.erase({f->phase, f->user.value});
        } else if (const auto* h = std::get_if<seat_held>(&e.body)) {
            phased_concert* c = concert_of(h->reservation.concert);
            if (c == nullptr) return;
            const reservation& r = h->reservation;
            if (!c->open || *c->open >= c->phases.size()) {
                failures.push_back({"phases", p_, event_offset, to_text(r.user),
                                    "a hold of " + to_text(r.concert) + " while none of its sale phases is open (reservation " + reservation_text(r.id) + ")"});
                return;
            }
            const sale_phase& p = c->phases[*c->open];
            if (p.list && !c->claims.contains({*c->open, r.user.value}))
                failures.push_back({"phases", p_, event_offset, to_text(r.user),
                                    "a hold in the LIST phase " + p.phase + " of " + to_text(r.concert) + " by a user without a claim (reservation " +
                                        reservation_text(r.id) + ")"});
            for (const grade_amount& g : r.extra.grades.by_grade) {
                if (!p.grades.empty() && !std::binary_search(p.grades.begin(), p.grades.end(), g.grade))
                    failures.push_back({"phases", p_, event_offset, to_text(r.user),
                                        "a hold of a grade the phase " + p.phase + " of " + to_text(r.concert) + " does not sell (reservation " +
                                            reservation_text(r.id) + ")"});
            }
        }
    }

    // Refund fees: every refund credits the price less its fee, and a reservation paid under a
    // refund policy, for a date with startsAt, keeps the fee that policy gives at the refund's time.
    struct fee_terms {
        refund_terms terms;
        std::map<std::int32_t, time_ms> starts;  // per date with startsAt
    };
    struct paid_under {
        refund_terms terms;
        time_ms starts_at = 0, paid_at = 0;
        won price = 0;
        std::uint32_t tickets = 0;
    };
    void refund_fees(const event& e, std::uint64_t event_offset, std::vector<failure>& failures) {
        if (const auto* c = std::get_if<concert_created>(&e.body)) {
            const create_concert& cc = c->concert;
            fee_terms& t = fee_terms_[cc.concert.value];
            t.terms = cc.options.sale.venue->plan.refunds;
            for (std::size_t i = 0; i < cc.schedules.size(); ++i) t.starts[cc.schedules[i].date] = starts_at_of(cc, cc.schedules[i].date);
        } else if (const auto* u = std::get_if<concert_updated>(&e.body)) {
            if ((u->settings.set & concert_settings::refund_policy_field) != 0) fee_terms_[u->concert.value].terms = u->settings.phases.refund_policy;
        } else if (const auto* p = std::get_if<payment_confirmed>(&e.body)) {
            const reservation& r = p->reservation;
            auto t = fee_terms_.find(r.concert.value);
            if (t == fee_terms_.end() || t->second.terms.fees.empty()) return;
            auto starts = t->second.starts.find(r.date);
            if (starts == t->second.starts.end() || starts->second == 0) return;
            paid_under_[r.id.value] = {t->second.terms, starts->second, r.paid_at, r.price, tickets_of(r)};
        } else if (const auto* s = std::get_if<refund_started>(&e.body)) {
            refunding_[s->reservation.value] = s->amount;
            auto paid = paid_under_.find(s->reservation.value);
            if (paid == paid_under_.end()) return;
            const paid_under& u = paid->second;
            const auto fee = refund_fee(u.terms, u.starts_at, u.paid_at, e.at, u.price, u.tickets);
            if (!fee || s->amount != u.price - *fee)
                failures.push_back({"money", p_, event_offset, to_text(s->user),
                                    "the refund of reservation " + reservation_text(s->reservation) + " credits " + std::to_string(s->amount) +
                                        " where the policy it was paid under gives " +
                                        (fee ? std::to_string(u.price - *fee) + " (fee " + std::to_string(*fee) + ")" : std::string("no refund"))});
        } else if (const auto* f = std::get_if<refund_failed>(&e.body)) {
            refunding_.erase(f->reservation.value);
        } else if (const auto* r = std::get_if<reservation_refunded>(&e.body)) {
            const reservation& x = r->reservation;
            const won fee = x.extra.grades.standing.refund.fee;
            auto started = refunding_.find(x.id.value);
            if (started == refunding_.end() || fee < 0 || fee > x.price || started->second != x.price - fee)
                failures.push_back({"money", p_, event_offset, to_text(x.user),
                                    "reservation " + reservation_text(x.id) + " is refunded with a fee of " + std::to_string(fee) + " of its " +
                                        std::to_string(x.price) + ", which is not what its refund credited"});
            if (started != refunding_.end()) refunding_.erase(started);
            paid_under_.erase(x.id.value);
        }
    }

    // The door: a ticket is admitted once; later scans that find it admitted are listed.
    void door(const event& e, std::uint64_t event_offset, std::vector<failure>& failures) {
        const auto* checked = std::get_if<tickets_checked>(&e.body);
        if (checked == nullptr) return;
        for (const scan_outcome& o : checked->outcomes) {
            if (o.again) continue;
            const std::pair<std::uint64_t, std::uint32_t> key{o.reservation.value, o.ticket};
            if (o.result == scan_result::admitted) {
                ++door_.admitted;
                if (!admitted_.emplace(key, checked->gate).second) {
                    ++door_.admitted_twice;
                    failures.push_back({"door", p_, event_offset, std::nullopt,
                                        "ticket " + ticket_text(o.reservation, o.ticket) + " of " + to_text(checked->concert) + " is admitted again"});
                }
                scans_[key] += 1;
            } else if (o.result == scan_result::duplicate) {
                ++door_.duplicate_scans;
                scans_[key] += 1;
                if (!admitted_.contains(key))
                    failures.push_back({"door", p_, event_offset, std::nullopt,
                                        "ticket " + ticket_text(o.reservation, o.ticket) + " is a duplicate of an admission the log does not have"});
            }
        }
    }

public:
    door_summary door_summary_of() const {
        door_summary out = door_;
        for (const auto& [key, scans] : scans_) {
            if (scans < 2) continue;
            auto first = admitted_.find(key);
            out.rescanned.push_back({ticket_text(reservation_id{key.first}, key.second), scans,
                                     first == admitted_.end() ? std::string() : first->second});
        }
        return out;
    }

private:
    door_summary door_;
    std::map<std::pair<std::uint64_t, std::uint32_t>, std::string> admitted_;  // ticket -> gate of its admission
    std::map<std::pair<std::uint64_t, std::uint32_t>, std::uint64_t> scans_;

    const std::uint32_t p_;
    std::unordered_map<std::uint64_t, fee_terms> fee_terms_;
    std::unordered_map<std::uint64_t, paid_under> paid_under_;  // by reservation
    std::unordered_map<std::uint64_t, won> refunding_;          // by reservation: the amount its refund credits
    std::unordered_map<std::uint64_t, phased_concert> phased_;
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> capacities_;  // per concert, per section
    std::map<std::tuple<std::uint64_t, std::int32_t, std::uint32_t>, zone> zones_;
    std::unordered_map<std::uint64_t, account> accounts_;
    std::unordered_set<seat_key, seat_key_hash> sold_;
    std::uint64_t seats_sold_ = 0, seats_sold_twice_ = 0;
    bool reported_ = false;
};

// ---- one partition ------------------------------------------------------------------------------

struct partition_outcome {
    partition_summary summary;
    std::vector<failure> failures;
    std::unique_ptr<projections::rebuilt_partition> rebuilt;  // null: read models not compared
    // The stored events end before the replay's: at a command boundary (`behind_from`, the first
    // command without stored events) or inside one command's events.
    bool behind = false;
    std::optional<std::uint64_t> behind_from;
    std::uint64_t stored_end = 0;  // the event log's end at this pass
};

// Replays one partition and checks it against its stored events. Runs on one replay thread.
class partition_audit {
public:
    partition_audit(log_stream& commands, log_stream& events, std::uint32_t p, const options& o,
                    std::optional<std::uint64_t> models_applied, replay_progress& progress)
        : commands_(commands), events_(events), p_(p), options_(o), models_applied_(models_applied),
          progress_(progress) {}

    partition_outcome run();

private:
    // What one pass over the partition carries from event to event.
    struct pass {
        event_cursor cursor;
        ledger wallets;
        partition_outcome out;
        std::string bytes;  // the replayed event, encoded
        chain_link head = chain_genesis;
        bool comparing = true;  // until the first difference, or the end of the stored events
    };

    partition_outcome once(std::uint64_t command_end, std::uint64_t event_end);
    // `chunk`: where the event's encoding is made for the rebuild (null: no rebuild).
    void check_event(const event& e, bool first_of_command, std::uint64_t command_offset, pass& at,
                     replayed_chunk* chunk);
    // Compares one replayed event with its stored copy; false once they differ.
    bool matches(const stored_event& stored, const event& e, std::string_view bytes, const chain_link& head,
                 std::uint64_t command_offset, std::vector<failure>& failures) const;
    void finish(partition_outcome& out, std::uint64_t command_end, std::uint64_t extra, std::uint64_t extra_offset);

    log_stream& commands_;
    log_stream& events_;
    const std::uint32_t p_;
    const options& options_;
    const std::optional<std::uint64_t> models_applied_;
    replay_progress& progress_;
    engine::partition_state state_;
};

bool partition_audit::matches(const stored_event& stored, const event& e, std::string_view bytes,
                              const chain_link& head, std::uint64_t command_offset, std::vector<failure>& failures) const {
    const bool same_bytes = stored.sealed && stored.record.event_bytes == bytes;
    if (same_bytes && stored.record.link == head) return true;
    const std::string what = "event " + std::to_string(e.sequence) + " (" + std::string(to_string(e.type())) +
                             ", of command " + std::to_string(command_offset) + ")";
    if (!stored.sealed)
        failures.push_back({"events", p_, stored.offset, std::nullopt, what + ": the record is too short to hold a chain link"});
    else if (!same_bytes)
        failures.push_back({"events", p_, stored.offset, std::nullopt, what + " differs from the replay"});
    else
        failures.push_back({"chain", p_, stored.offset, std::nullopt,
                            what + ": the stored chain link differs from the recomputed " + to_hex(head)});
    return false;
}

// One replayed event: into the chain, against its stored copy, into the ledger.
void partition_audit::check_event(const event& e, bool first_of_command, std::uint64_t command_offset, pass& at,
                                  replayed_chunk* chunk) {
    std::string_view bytes;
    if (chunk != nullptr) {
        bytes = chunk->add_encoding(e);
    } else {
        at.bytes.clear();
        encode(e, at.bytes);
        bytes = at.bytes;
    }
    at.head = chain_next(at.head, bytes);
    std::uint64_t offset = e.sequence;  // its offset when every event is stored once
    if (at.comparing) {
        const stored_event* stored = at.cursor.next(at.out.failures);
        if (stored == nullptr) {
            at.comparing = false;
            at.out.behind = true;
            if (first_of_command) at.out.behind_from = command_offset;
        } else {
            offset = stored->offset;
            at.comparing = matches(*stored, e, bytes, at.head, command_offset, at.out.failures);
            at.out.summary.events_checked += at.comparing ? 1 : 0;
        }
    }
    at.wallets.add(e, offset, at.out.failures);
}

partition_outcome partition_audit::once(std::uint64_t command_end, std::uint64_t event_end) {
    state_ = engine::make_partition(p_, options_.partitions);
    pass at{.cursor = event_cursor(events_, p_, event_end, options_), .wallets = ledger(p_)};
    at.out.summary.partition = p_;
    at.out.stored_end = event_end;
    std::optional<rebuild_worker> rebuilder;
    if (models_applied_) {
        at.out.rebuilt = std::make_unique<projections::rebuilt_partition>(p_, *models_applied_);
        rebuilder.emplace(*at.out.rebuilt);
    }
    stream_reader commands(commands_, p_, command_end, options_.read_wait, "command");
    engine::apply_output applied;
    replayed_chunk replayed;  // the batch's events, for the rebuild
    replayed_chunk* chunk = rebuilder ? &replayed : nullptr;
    for (log_batch batch; commands.next(batch);) {
        for (std::size_t r = 0; r < batch.size(); ++r) {
            const std::uint64_t offset = batch.offset(r);
            applied.clear();
            engine::apply_record(state_, batch.bytes(r), {p_, offset}, applied);
            for (std::size_t i = 0; i < applied.events.size(); ++i)
                check_event(applied.events[i], i == 0, offset, at, chunk);
            if (rebuilder) std::move(applied.events.begin(), applied.events.end(), std::back_inserter(replayed.events));
        }
        if (rebuilder) rebuilder->push(std::exchange(replayed, rebuilder->spare()));
        at.out.summary.commands += batch.size();
        progress_.replayed(batch.size());
    }
    if (rebuilder) {
        if (auto failed = rebuilder->finish()) {
            at.out.failures.push_back({"read_models", p_, failed->first, std::nullopt,
                                       "rebuilding from the replayed events: " + failed->second});
            rebuilder.reset();
            at.out.rebuilt.reset();
        }
    }
    std::uint64_t extra = 0, extra_offset = 0;
    if (at.comparing) {
        while (const stored_event* stored = at.cursor.next(at.out.failures)) {
            if (extra++ == 0) extra_offset = stored->offset;
        }
    }
    partition_outcome out = std::move(at.out);
    out.summary.events = state_.next_event_sequence;
    out.summary.head = at.head;
    out.summary.repeats = at.cursor.repeats();
    out.summary.wallet = at.wallets.close(state_, out.summary.events, out.failures);
    out.summary.seats_sold = at.wallets.seats_sold();
    out.summary.seats_sold_twice = at.wallets.seats_sold_twice();
    out.summary.door = at.wallets.door_summary_of();
    finish(out, command_end, extra, extra_offset);
    return out;
}

// Stored events the replay does not produce: a live cluster's newer ones, or a failure.
void partition_audit::finish(partition_outcome& out, std::uint64_t command_end, std::uint64_t extra,
                             std::uint64_t extra_offset) {
    if (models_applied_) out.summary.models_applied = *models_applied_;
    if (extra == 0) return;
    if (options_.refresh_ends) {
        if (auto refreshed = options_.refresh_ends(); !refreshed) cannot_read(p_, "command", command_end, refreshed.err().message);
        if (commands_.end(p_) != command_end) {
            out.summary.newer = extra;
            return;
        }
    }
    out.failures.push_back({"events", p_, extra_offset, std::nullopt,
                            "the event log holds " + std::to_string(extra) + " events the replay does not produce"});
}

partition_outcome partition_audit::run() {
    for (int attempt = 1;; ++attempt) {
        const std::uint64_t command_end = commands_.end(p_);
        // Events after commands: what the commands below command_end produced was written first.
        const std::uint64_t event_end = events_.end(p_);
        partition_outcome out = once(command_end, event_end);
        if (!out.behind) {
            if (options_.keep_states) out.summary.state = std::move(state_);
            out.summary.state_hash = engine::state_hash(out.summary.state ? *out.summary.state : state_);
            return out;
        }
        if (attempt < options_.behind_attempts) {
            std::this_thread::sleep_for(options_.behind_pause);
            if (options_.refresh_ends)
                if (auto refreshed = options_.refresh_ends(); !refreshed) cannot_read(p_, "event", 0, refreshed.err().message);
            continue;
        }
        if (options_.behind_attempts == 1 && out.behind_from) {
            // A stopped node that had not applied its newest commands yet: replayed, not compared.
            out.summary.unapplied_commands = command_end - *out.behind_from;
        } else {
            out.failures.push_back({"events", p_, out.stored_end, std::nullopt,
                                    "event " + std::to_string(out.stored_end) + " is missing: the replay produces " +
                                        std::to_string(out.summary.events) + " events, the log stores " +
                                        std::to_string(out.stored_end)});
        }
        if (options_.keep_states) out.summary.state = std::move(state_);
        out.summary.state_hash = engine::state_hash(out.summary.state ? *out.summary.state : state_);
        return out;
    }
}

// ---- the whole audit ----------------------------------------------------------------------------

// The stored read models, or null with a note or a failure saying why they are not compared.
std::unique_ptr<projections::stored_models> open_models(const options& o, report& r) {
    if (o.models_directory.empty()) return nullptr;
    auto opened = projections::stored_models::open(o.models_directory, o.partitions);
    if (opened) return std::move(opened).value();
    std::error_code ec;
    if (!std::filesystem::exists(o.models_directory, ec)) {
        r.notes.push_back("no read models in " + o.models_directory + ": not compared");
        return nullptr;
    }
    // The storage failing, or RocksDB finding a block damaged: the data could not be read (exit 3).
    if (opened.err().code == errc::io || opened.err().message.find(": Corruption:") != std::string::npos)
        throw unreadable{opened.err().message};
    r.failures.push_back({"read_models", 0, 0, std::nullopt, opened.err().message});
    return nullptr;
}

// Replays every partition on up to o.threads threads, the longest logs first.
std::vector<partition_outcome> replay_all(log_stream& commands, log_stream& events, const options& o,
                                          const projections::stored_models* stored, replay_progress& progress) {
    std::vector<std::uint32_t> order(o.partitions);
    for (std::uint32_t p = 0; p < o.partitions; ++p) order[p] = p;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return commands.end(a) > commands.end(b); });
    std::vector<partition_outcome> outcomes(o.partitions);
    std::atomic<std::size_t> next{0};
    std::mutex failed_mutex;
    std::optional<unreadable> failed;
    auto worker = [&] {
        for (std::size_t i = next++; i < order.size(); i = next++) {
            const std::uint32_t p = order[i];
            try {
                std::optional<std::uint64_t> applied;
                if (stored != nullptr) applied = stored->applied(p);
                outcomes[p] = partition_audit(commands, events, p, o, applied, progress).run();
            } catch (const unreadable& e) {
                std::lock_guard lock(failed_mutex);
                if (!failed) failed = e;
                next = order.size();
                return;
            }
        }
    };
    std::vector<std::thread> pool;
    const unsigned threads = std::clamp<unsigned>(o.threads, 1, o.partitions);
    for (unsigned t = 1; t < threads; ++t)
        pool.emplace_back([&] {
            diag::name_thread("audit-replay");
            worker();
        });
    worker();
    for (std::thread& t : pool) t.join();
    if (failed) throw *failed;
    return outcomes;
}

void compare_models(const projections::stored_models& stored, std::vector<partition_outcome>& outcomes,
                    const options& o, replay_progress& progress, report& r) {
    std::vector<const projections::rebuilt_partition*> rebuilt;
    std::uint64_t keys = 0;
    for (partition_outcome& out : outcomes) {
        rebuilt.push_back(out.rebuilt.get());
        if (out.rebuilt) keys += out.rebuilt->size();
    }
    progress.next_stage("comparing read models", keys, "keys");
    auto differences = projections::compare(stored, rebuilt, o.threads,
                                            [&](std::uint64_t compared) { progress.reached(compared); });
    if (!differences) throw unreadable{differences.err().message};
    progress.reached(keys);  // the comparison reports only now and then: its last line says all
    // The rebuilds hold a few allocations per key, a million or more: freeing them one by one
    // takes longer than comparing them, and the process ends once the report is printed, so they
    // are handed to it rather than freed here. They stay reachable from a process-wide list, so
    // that a leak checker (LeakSanitizer in the sanitizer build) sees memory kept, not lost.
    static auto* kept_until_exit = new std::vector<std::unique_ptr<projections::rebuilt_partition>>;
    for (partition_outcome& out : outcomes) kept_until_exit->push_back(std::move(out.rebuilt));
    for (const projections::model_difference& d : *differences)
        r.failures.push_back({"read_models", d.partition, stored.applied(d.partition), d.key, d.message});
    r.models_compared = true;
    r.model_keys = keys;
}

void add_up(std::vector<partition_outcome>& outcomes, report& r) {
    for (partition_outcome& out : outcomes) {
        partition_summary& s = out.summary;
        r.commands += s.commands;
        r.events += s.events;
        r.seats_sold += s.seats_sold;
        r.seats_sold_twice += s.seats_sold_twice;
        r.door.admitted += s.door.admitted;
        r.door.admitted_twice += s.door.admitted_twice;
        r.door.duplicate_scans += s.door.duplicate_scans;
        r.door.rescanned.insert(r.door.rescanned.end(), s.door.rescanned.begin(), s.door.rescanned.end());
        r.total.charges += s.wallet.charges;
        r.total.balances += s.wallet.balances;
        r.total.payments += s.wallet.payments;
        r.total.refunds += s.wallet.refunds;
        if (s.unapplied_commands > 0)
            r.notes.push_back("partition " + std::to_string(s.partition) + ": the last " +
                              std::to_string(s.unapplied_commands) +
                              " commands have no stored events yet (the node stopped before applying them); "
                              "replayed, not compared");
        if (s.models_applied < s.events && out.rebuilt)
            r.notes.push_back("partition " + std::to_string(s.partition) + ": the read models have applied " +
                              std::to_string(s.models_applied) + " of " + std::to_string(s.events) +
                              " events; compared at that point");
        r.failures.insert(r.failures.end(), out.failures.begin(), out.failures.end());
        r.partitions.push_back(std::move(s));
    }
    if (r.total.charges != r.total.balances + r.total.payments - r.total.refunds)
        r.failures.push_back({"money", 0, 0, std::nullopt,
                              "in total, charges " + std::to_string(r.total.charges) + " != balances " +
                                  std::to_string(r.total.balances) + " + payments " + std::to_string(r.total.payments) +
                                  " - refunds " + std::to_string(r.total.refunds)});
}

}  // namespace

report run(log_stream& commands, log_stream& events, const options& o) {
    const auto started = std::chrono::steady_clock::now();
    report r;
    std::unique_ptr<projections::stored_models> stored = open_models(o, r);
    std::uint64_t total = 0;
    for (std::uint32_t p = 0; p < o.partitions; ++p) total += commands.end(p);
    replay_progress progress(o.progress, "audit", total, "commands");
    std::vector<partition_outcome> outcomes = replay_all(commands, events, o, stored.get(), progress);
    const auto replayed = std::chrono::steady_clock::now();
    r.replay_seconds = std::chrono::duration<double>(replayed - started).count();
    if (stored) compare_models(*stored, outcomes, o, progress, r);
    r.compare_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - replayed).count();
    progress.finish();
    add_up(outcomes, r);
    std::stable_sort(r.failures.begin(), r.failures.end(), [](const failure& a, const failure& b) {
        return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
    });
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return r;
}

}  // namespace encore::replay::audit
