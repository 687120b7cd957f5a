#include "events/json.hpp"

#include <type_traits>

#include "events/fields.hpp"
#include "events/ids.hpp"
#include "events/time.hpp"

namespace encore {
namespace {

template <class T> struct is_vector : std::false_type {};
template <class T> struct is_vector<std::vector<T>> : std::true_type {};

bool is_instant_field(std::string_view name) {
    return name == "accepted_at" || name == "held_at" || name == "expires_at" || name == "paid_at" ||
           name == "active_until" || name == "refunds_until" || name == "refunded_at" || name == "since" || name == "starts_at";
}

nlohmann::json position_json(const log_position& p) {
    if (p == no_position) return nullptr;
    return {{"partition", p.partition}, {"offset", p.offset}};
}

struct renderer {
    nlohmann::json& out;

    template <class T>
    void operator()(const char* name, const T& v) {
        if constexpr (std::is_same_v<T, reservation_seats>) {
            return;  // rendered inside its reservation, as "seats"
        } else if constexpr (is_boxed<T>::value) {
            (*this)(name, v.get());
        } else if constexpr (std::is_base_of_v<record_tail, T>) {
            fields::each(const_cast<T&>(v), renderer{out});  // the later fields, beside the others
        } else {
            // The pre-queue's seed stays in the raw log: whoever could read it could predict the order.
            if (std::string_view(name) != "queue_seed") out[name] = value(name, v);
        }
    }

    template <class T>
    static nlohmann::json value(std::string_view name, const T& v) {
        if constexpr (std::is_same_v<T, user_id>) {
            return v.value == 0 ? nlohmann::json(nullptr) : nlohmann::json(to_text(v));
        } else if constexpr (std::is_same_v<T, concert_id>) {
            return to_text(v);
        } else if constexpr (std::is_same_v<T, reservation_id>) {
            if (v.value == 0 && name == "payment") return nullptr;
            return name == "payment" ? payment_text(v) : reservation_text(v);
        } else if constexpr (std::is_same_v<T, log_position>) {
            return position_json(v);
        } else if constexpr (std::is_same_v<T, refusal>) {
            return refusal_code(v);
        } else if constexpr (std::is_same_v<T, command_type>) {
            return to_string(v);
        } else if constexpr (std::is_enum_v<T>) {
            return to_string(v);
        } else if constexpr (std::is_same_v<T, day_number>) {
            return name == "date" ? nlohmann::json(format_date(v)) : nlohmann::json(v);
        } else if constexpr (std::is_same_v<T, time_ms>) {
            if (is_instant_field(name)) return v == 0 ? nlohmann::json(nullptr) : nlohmann::json(format_instant(v));
            return v;
        } else if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, std::string>) {
            return v;
        } else if constexpr (is_vector<T>::value) {
            auto a = nlohmann::json::array();
            for (const auto& item : v) a.push_back(value(name, item));
            return a;
        } else {
            nlohmann::json o = nlohmann::json::object();
            fields::each(const_cast<T&>(v), renderer{o});
            if constexpr (std::is_same_v<T, reservation>) {
                o["seats"] = seats_of(v);
                if (v.extra.refunded_at != 0) o["refunded_at"] = format_instant(v.extra.refunded_at);
                if (!v.extra.grades.by_grade.empty()) {
                    auto grades = nlohmann::json::array();
                    for (const grade_amount& g : v.extra.grades.by_grade) grades.push_back({{"grade", g.grade}, {"amount", g.amount}});
                    o["price_by_grade"] = std::move(grades);
                }
                if (v.extra.grades.standing.refund.fee != 0) o["refund_fee"] = v.extra.grades.standing.refund.fee;
                if (is_standing(v)) {
                    const reservation_standing& z = v.extra.grades.standing;
                    o["standing"] = {{"section", z.name}, {"places", z.places}, {"entry_first", z.entry_first}};
                }
            }
            return o;
        }
    }
};

}  // namespace

nlohmann::json to_json(const command& c) {
    nlohmann::json j;
    j["type"] = to_string(c.type());
    fields::each(const_cast<command_meta&>(c.meta), renderer{j});
    std::visit([&](const auto& body) { fields::each(const_cast<std::decay_t<decltype(body)>&>(body), renderer{j}); },
               c.body);
    return j;
}

nlohmann::json to_json(const event& e) {
    nlohmann::json j;
    j["type"] = to_string(e.type());
    j["sequence"] = e.sequence;
    j["cause"] = position_json(e.cause);
    j["answers"] = position_json(e.answers);
    j["at"] = format_instant(e.at);
    std::visit([&](const auto& body) { fields::each(const_cast<std::decay_t<decltype(body)>&>(body), renderer{j}); },
               e.body);
    return j;
}

nlohmann::json to_json(const reservation& r) { return renderer::value("reservation", r); }

}  // namespace encore
