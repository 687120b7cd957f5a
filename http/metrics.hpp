#pragma once
// A small Prometheus registry: counters, gauges (stored or read by a callback) and histograms with
// fixed buckets, each in a family with fixed label names, rendered in the text exposition format
// 0.0.4.
//
// Cost model: creating a family or a label set takes a mutex once; the returned reference stays
// valid for the registry's lifetime, so a hot path keeps it and then pays one relaxed atomic add
// per update. `with(...)` on an existing label set takes a shared lock and one map lookup, cheap
// enough per request but not per inner-loop iteration.
//
// Thread safety: every member function may be called from any thread. The registry is owned by
// whoever wires the process together (tools/serve) and must outlive everything that records into
// it or renders it.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace encore::http {

// Request latency buckets in seconds: from half a millisecond (a query served from memory) to
// ten seconds (a command stuck behind a slow log append).
inline const std::vector<double>& latency_seconds_buckets() {
    static const std::vector<double> buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1.0,   2.5,   5.0,  10.0};
    return buckets;
}

// A histogram keeps one atomic per bucket; more buckets than this is a mistake in the caller.
inline constexpr std::size_t histogram_buckets_max = 64;

class counter {
public:
    void increment(std::uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

class gauge {
public:
    gauge() = default;
    // A callback gauge is read at render time; set() and add() must not be used on it.
    explicit gauge(std::function<double()> read) : read_(std::move(read)) {}

    void set(double value) { value_.store(value, std::memory_order_relaxed); }
    void add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
    double value() const { return read_ ? read_() : value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
    std::function<double()> read_;
};

class histogram {
public:
    // `upper_bounds` is strictly increasing and finite; the +Inf bucket is implicit.
    explicit histogram(std::shared_ptr<const std::vector<double>> upper_bounds);

    void observe(double value);

    struct snapshot {
        std::vector<std::uint64_t> cumulative_counts;  // one per bound, then +Inf
        double sum = 0.0;
    };
    snapshot read() const;
    const std::vector<double>& upper_bounds() const { return *upper_bounds_; }

private:
    std::shared_ptr<const std::vector<double>> upper_bounds_;
    // Per-bucket (not cumulative) counts, the last one for values above every bound.
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
    std::atomic<double> sum_{0.0};
};

enum class metric_kind { counter, gauge, histogram };

// The part of a family that does not depend on the metric type: its name, help, label names and
// the rendering of one series' label block.
class family_base {
public:
    family_base(std::string name, std::string help, std::vector<std::string> label_names,
                metric_kind kind);
    virtual ~family_base() = default;
    family_base(const family_base&) = delete;
    family_base& operator=(const family_base&) = delete;

    const std::string& name() const { return name_; }
    const std::vector<std::string>& label_names() const { return label_names_; }
    metric_kind kind() const { return kind_; }

    // Appends the HELP and TYPE lines and every series.
    void render(std::string& out) const;

protected:
    // Label values joined unambiguously (length-prefixed), the key of a series.
    static std::string series_key(std::span<const std::string_view> label_values);
    virtual void render_series(std::string& out) const = 0;
    // `{a="x",b="y"}` with an optional extra label (histogram `le`); empty when no labels at all.
    void append_labels(std::string& out, const std::vector<std::string>& label_values,
                       std::string_view extra_name = {}, std::string_view extra_value = {}) const;
    void render_histogram(std::string& out, const std::vector<std::string>& label_values,
                          const histogram& metric) const;

private:
    std::string name_;
    std::string help_;
    std::vector<std::string> label_names_;
    metric_kind kind_;
};

// One metric name with fixed label names; `with(values)` returns the series for those values,
// creating it on first use. References returned stay valid as long as the family.
template <class Metric>
class metric_family final : public family_base {
public:
    using factory = std::function<std::unique_ptr<Metric>()>;

    metric_family(std::string name, std::string help, std::vector<std::string> label_names,
                  metric_kind kind, factory make)
        : family_base(std::move(name), std::move(help), std::move(label_names), kind),
          make_(std::move(make)) {}

    Metric& with(std::initializer_list<std::string_view> label_values) {
        return with(std::span<const std::string_view>(label_values.begin(), label_values.size()));
    }
    Metric& with(std::span<const std::string_view> label_values) {
        return find_or_insert(label_values, make_);
    }
    // Only for gauges: a series whose value is read by `read` at render time. `read` runs under
    // this family's lock and must not touch the registry; it must stay callable for the
    // registry's lifetime. A second registration of the same label values keeps the first.
    // A template of its own (M is always Metric) so that clang, which instantiates the lambda
    // with the class, never builds a gauge into a counter family.
    template <class M = Metric>
        requires std::is_same_v<M, gauge>
    M& with_callback(std::initializer_list<std::string_view> label_values, std::function<double()> read) {
        return find_or_insert(
            std::span<const std::string_view>(label_values.begin(), label_values.size()),
            [&read] { return std::make_unique<M>(std::move(read)); });
    }

private:
    struct series {
        std::vector<std::string> label_values;
        std::unique_ptr<Metric> metric;
    };

    template <class Make>
    Metric& find_or_insert(std::span<const std::string_view> label_values, const Make& make) {
        const std::string key = series_key(label_values);
        {
            std::shared_lock lock(mutex_);
            if (auto it = series_.find(key); it != series_.end()) return *it->second.metric;
        }
        assert_label_count(label_values.size());
        std::unique_lock lock(mutex_);
        auto [it, inserted] = series_.try_emplace(key);
        if (inserted) {
            it->second.label_values.assign(label_values.begin(), label_values.end());
            it->second.metric = make();
        }
        return *it->second.metric;
    }
    void assert_label_count(std::size_t count) const;
    void render_series(std::string& out) const override;

    factory make_;
    mutable std::shared_mutex mutex_;
    // Ordered so that render() is deterministic (sorted by label values, as a diff would want).
    std::map<std::string, series, std::less<>> series_;
};

using counter_family = metric_family<counter>;
using gauge_family = metric_family<gauge>;
using histogram_family = metric_family<histogram>;
// Instantiated once, in metrics.cpp.
extern template class metric_family<counter>;
extern template class metric_family<gauge>;
extern template class metric_family<histogram>;

// A family whose series are all read by one callback at render time: for figures kept elsewhere
// (a counter another component owns, one series per concert). `collect` runs on the rendering
// thread, must not touch the registry, and must stay callable for the registry's lifetime. Each
// sample's label values match the family's label names; samples with equal labels are a mistake.
struct collected_sample {
    std::vector<std::string> label_values;
    double value = 0.0;
};
using sample_collector = std::function<std::vector<collected_sample>()>;

class collected_family final : public family_base {
public:
    collected_family(std::string name, std::string help, std::vector<std::string> label_names, metric_kind kind,
                     sample_collector collect);

private:
    void render_series(std::string& out) const override;
    sample_collector collect_;
};

// Owns the families. Registering an existing name again returns the existing family, which must
// have the same kind and label names (asserted); this lets two components share one metric.
class metrics_registry {
public:
    metrics_registry() = default;
    metrics_registry(const metrics_registry&) = delete;
    metrics_registry& operator=(const metrics_registry&) = delete;

    counter_family& add_counter(std::string name, std::string help,
                                std::vector<std::string> label_names = {});
    gauge_family& add_gauge(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
    histogram_family& add_histogram(std::string name, std::string help,
                                    std::vector<std::string> label_names,
                                    std::vector<double> upper_bounds = latency_seconds_buckets());
    // An unlabelled gauge read by `read` at render time (same rules as with_callback).
    void add_callback_gauge(std::string name, std::string help, std::function<double()> read);

    // A counter or gauge family whose series `collect` gives at render time (see collected_family).
    void add_collector(std::string name, std::string help, metric_kind kind, std::vector<std::string> label_names,
                       sample_collector collect);

    // Prometheus text exposition format 0.0.4, families in registration order.
    std::string render() const;

private:
    family_base* find(const std::string& name, metric_kind kind,
                      const std::vector<std::string>& label_names) const;

    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<family_base>> families_;
};

// The Content-Type of render()'s output.
inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace encore::http
