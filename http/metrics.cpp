#include "http/metrics.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>

namespace encore::http {
namespace {

bool valid_name(std::string_view name, bool colon_allowed) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                            (colon_allowed && c == ':');
        const bool digit = c >= '0' && c <= '9';
        if (!letter && !(digit && i > 0)) return false;
    }
    return true;
}

// Label values escape backslash, double quote and newline; HELP text escapes only backslash and
// newline (format 0.0.4).
void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && escape_quote) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

// Integral values print without a fraction (counts stay readable); others in the shortest form
// that reads back exactly.
void append_number(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
        return;
    }
    constexpr double exact_integer_max = 9007199254740992.0;  // 2^53
    char buffer[64];
    std::to_chars_result written{};
    if (std::trunc(value) == value && std::fabs(value) < exact_integer_max) {
        written = std::to_chars(buffer, buffer + sizeof buffer, static_cast<std::int64_t>(value));
    } else {
        written = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general);
    }
    assert(written.ec == std::errc{});
    out.append(buffer, written.ptr);
}

void append_number(std::string& out, std::uint64_t value) {
    char buffer[32];
    const auto written = std::to_chars(buffer, buffer + sizeof buffer, value);
    assert(written.ec == std::errc{});
    out.append(buffer, written.ptr);
}

std::string_view type_name(metric_kind kind) {
    switch (kind) {
        case metric_kind::counter: return "counter";
        case metric_kind::gauge: return "gauge";
        case metric_kind::histogram: return "histogram";
    }
    assert(false && "unknown metric kind");
    return "untyped";
}

}  // namespace

histogram::histogram(std::shared_ptr<const std::vector<double>> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_->size() + 1)) {
    assert(upper_bounds_->size() <= histogram_buckets_max);
}

void histogram::observe(double value) {
    const auto& bounds = *upper_bounds_;
    // Prometheus buckets are inclusive upper bounds: value <= le.
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
    counts_[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
    snapshot result;
    result.cumulative_counts.reserve(upper_bounds_->size() + 1);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i <= upper_bounds_->size(); ++i) {
        running += counts_[i].load(std::memory_order_relaxed);
        result.cumulative_counts.push_back(running);
    }
    result.sum = sum_.load(std::memory_order_relaxed);
    return result;
}

family_base::family_base(std::string name, std::string help, std::vector<std::string> label_names,
                         metric_kind kind)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)),
      kind_(kind) {
    assert(valid_name(name_, true));
    for (const auto& label : label_names_) {
        assert(valid_name(label, false));
        assert(label.rfind("__", 0) != 0 && "names starting with __ are reserved");
        assert(!(kind_ == metric_kind::histogram && label == "le"));
        (void)label;
    }
}

void family_base::render(std::string& out) const {
    out += "# HELP ";
    out += name_;
    out += ' ';
    append_escaped(out, help_, false);
    out += "\n# TYPE ";
    out += name_;
    out += ' ';
    out += type_name(kind_);
    out += '\n';
    render_series(out);
}

std::string family_base::series_key(std::span<const std::string_view> label_values) {
    std::string key;
    for (const auto value : label_values) {
        key += std::to_string(value.size());
        key += ':';
        key += value;
    }
    return key;
}

void family_base::append_labels(std::string& out, const std::vector<std::string>& label_values,
                                std::string_view extra_name, std::string_view extra_value) const {
    assert(label_values.size() == label_names_.size());
    if (label_values.empty() && extra_name.empty()) return;
    out += '{';
    bool first = true;
    const auto append_one = [&](std::string_view name, std::string_view value) {
        if (!first) out += ',';
        first = false;
        out += name;
        out += "=\"";
        append_escaped(out, value, true);
        out += '"';
    };
    for (std::size_t i = 0; i < label_values.size(); ++i) append_one(label_names_[i], label_values[i]);
    if (!extra_name.empty()) append_one(extra_name, extra_value);
    out += '}';
}

template <class Metric>
void metric_family<Metric>::assert_label_count(std::size_t count) const {
    assert(count == label_names().size() && "label values must match the family's label names");
    (void)count;
}

template <class Metric>
void metric_family<Metric>::render_series(std::string& out) const {
    std::shared_lock lock(mutex_);
    for (const auto& [key, one] : series_) {
        if constexpr (std::is_same_v<Metric, histogram>) {
            render_histogram(out, one.label_values, *one.metric);
        } else {
            out += name();
            append_labels(out, one.label_values);
            out += ' ';
            append_number(out, one.metric->value());
            out += '\n';
        }
    }
}

void family_base::render_histogram(std::string& out, const std::vector<std::string>& label_values,
                                   const histogram& metric) const {
    const auto snapshot = metric.read();
    const auto& bounds = metric.upper_bounds();
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        std::string le;
        if (i < bounds.size()) {
            append_number(le, bounds[i]);
        } else {
            le = "+Inf";
        }
        out += name_;
        out += "_bucket";
        append_labels(out, label_values, "le", le);
        out += ' ';
        append_number(out, snapshot.cumulative_counts[i]);
        out += '\n';
    }
    out += name_;
    out += "_sum";
    append_labels(out, label_values);
    out += ' ';
    append_number(out, snapshot.sum);
    out += '\n';
    out += name_;
    out += "_count";
    append_labels(out, label_values);
    out += ' ';
    // The +Inf bucket is the count, so a scrape never sees count and buckets disagree.
    append_number(out, snapshot.cumulative_counts.back());
    out += '\n';
}

collected_family::collected_family(std::string name, std::string help, std::vector<std::string> label_names,
                                   metric_kind kind, sample_collector collect)
    : family_base(std::move(name), std::move(help), std::move(label_names), kind), collect_(std::move(collect)) {
    assert(kind != metric_kind::histogram && "a collected family holds counters or gauges");
}

void collected_family::render_series(std::string& out) const {
    for (const collected_sample& sample : collect_()) {
        out += name();
        append_labels(out, sample.label_values);
        out += ' ';
        append_number(out, sample.value);
        out += '\n';
    }
}

template class metric_family<counter>;
template class metric_family<gauge>;
template class metric_family<histogram>;

family_base* metrics_registry::find(const std::string& name, metric_kind kind,
                                    const std::vector<std::string>& label_names) const {
    for (const auto& family : families_) {
        if (family->name() != name) continue;
        assert(family->kind() == kind && "a metric name is registered twice with different kinds");
        assert(family->label_names() == label_names &&
               "a metric name is registered twice with different labels");
        (void)kind;
        (void)label_names;
        return family.get();
    }
    return nullptr;
}

counter_family& metrics_registry::add_counter(std::string name, std::string help,
                                              std::vector<std::string> label_names) {
    std::lock_guard lock(mutex_);
    if (auto* existing = find(name, metric_kind::counter, label_names)) {
        return static_cast<counter_family&>(*existing);
    }
    const bool unlabelled = label_names.empty();
    auto family = std::make_unique<counter_family>(std::move(name), std::move(help),
                                                   std::move(label_names), metric_kind::counter,
                                                   [] { return std::make_unique<counter>(); });
    // An unlabelled metric exists from the start, so a scrape shows 0 rather than nothing.
    if (unlabelled) family->with({});
    families_.push_back(std::move(family));
    return static_cast<counter_family&>(*families_.back());
}

gauge_family& metrics_registry::add_gauge(std::string name, std::string help,
                                          std::vector<std::string> label_names) {
    std::lock_guard lock(mutex_);
    if (auto* existing = find(name, metric_kind::gauge, label_names)) {
        return static_cast<gauge_family&>(*existing);
    }
    const bool unlabelled = label_names.empty();
    auto family = std::make_unique<gauge_family>(std::move(name), std::move(help),
                                                 std::move(label_names), metric_kind::gauge,
                                                 [] { return std::make_unique<gauge>(); });
    if (unlabelled) family->with({});
    families_.push_back(std::move(family));
    return static_cast<gauge_family&>(*families_.back());
}

histogram_family& metrics_registry::add_histogram(std::string name, std::string help,
                                                  std::vector<std::string> label_names,
                                                  std::vector<double> upper_bounds) {
    assert(!upper_bounds.empty() && upper_bounds.size() <= histogram_buckets_max);
    assert(std::adjacent_find(upper_bounds.begin(), upper_bounds.end(),
                              std::greater_equal<>()) == upper_bounds.end() &&
           "histogram bounds must be strictly increasing");
    assert(std::all_of(upper_bounds.begin(), upper_bounds.end(),
                       [](double b) { return std::isfinite(b); }));
    std::lock_guard lock(mutex_);
    if (auto* existing = find(name, metric_kind::histogram, label_names)) {
        return static_cast<histogram_family&>(*existing);
    }
    const bool unlabelled = label_names.empty();
    auto bounds = std::make_shared<const std::vector<double>>(std::move(upper_bounds));
    auto family = std::make_unique<histogram_family>(
        std::move(name), std::move(help), std::move(label_names), metric_kind::histogram,
        [bounds] { return std::make_unique<histogram>(bounds); });
    if (unlabelled) family->with({});
    families_.push_back(std::move(family));
    return static_cast<histogram_family&>(*families_.back());
}

void metrics_registry::add_callback_gauge(std::string name, std::string help,
                                          std::function<double()> read) {
    assert(read);
    std::lock_guard lock(mutex_);
    if (auto* existing = find(name, metric_kind::gauge, {})) {
        static_cast<gauge_family&>(*existing).with_callback({}, std::move(read));
        return;
    }
    auto family = std::make_unique<gauge_family>(std::move(name), std::move(help),
                                                 std::vector<std::string>{}, metric_kind::gauge,
                                                 [] { return std::make_unique<gauge>(); });
    family->with_callback({}, std::move(read));
    families_.push_back(std::move(family));
}

std::string metrics_registry::render() const {
    std::string out;
    std::lock_guard lock(mutex_);
    for (const auto& family : families_) family->render(out);
    return out;
}

void metrics_registry::add_collector(std::string name, std::string help, metric_kind kind,
                                     std::vector<std::string> label_names, sample_collector collect) {
    assert(collect);
    std::lock_guard lock(mutex_);
    // Another family of this name would be cast to the wrong type by the add_* that found it.
    assert(find(name, kind, label_names) == nullptr && "a collected family is registered once");
    families_.push_back(std::make_unique<collected_family>(std::move(name), std::move(help), std::move(label_names),
                                                           kind, std::move(collect)));
}

}  // namespace encore::http
