// Counters, gauges and histograms with labels, exposed in the Prometheus text format 0.0.4.
//
//   MetricsRegistry registry;
//   auto& requests = registry.counter("ombud_http_requests_total", "HTTP requests answered.",
//                                     {"route", "status"});
//   requests.labels({"/v1/instances/{id}", "200"}).inc();
//   std::string text = registry.expose();  // served at /metrics
//
// Thread-safety: everything may be called from any thread. The hot path is one shared-lock map
// lookup in labels() and one relaxed atomic add; a caller with a fixed label set can keep the
// reference labels() returns (it stays valid as long as the registry) and skip the lookup.
// Families are registered at start-up; a bad name, a duplicate family or a wrong number of label
// values throws std::invalid_argument (programming errors, found by the first test that runs).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ombud::http {

class Counter {
 public:
  // `amount` must not be negative (a counter only goes up; Prometheus reads a drop as a restart).
  void inc(double amount = 1.0) { value_.fetch_add(amount, std::memory_order_relaxed); }
  // For a count another component keeps (its own tally since start), read when scraped.
  void set_total(double total) { value_.store(total, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void inc(double amount = 1.0) { value_.fetch_add(amount, std::memory_order_relaxed); }
  void dec(double amount = 1.0) { value_.fetch_sub(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, strictly increasing and finite; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);

  // Counts `value` in the first bucket whose bound is >= value (buckets are "le", inclusive).
  void observe(double value);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;  // equals cumulative.back(), so a scrape is self-consistent
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative; +Inf last
  std::atomic<double> sum_{0.0};
};

// The Prometheus client default buckets, in seconds: 5 ms … 10 s.
std::vector<double> default_latency_buckets();

namespace detail {

// Orders label-value tuples; transparent so a lookup needs no std::string copies.
struct LabelValuesLess {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;
  virtual void expose(std::string& out) const = 0;
  const std::string& name() const { return name_; }

 protected:
  void check_arity(std::size_t count) const;
  // `name{a="x",b="y"` + extra label (for `le`) + `}` — or just `name` without labels.
  void append_series_name(std::string& out, std::string_view suffix,
                          std::span<const std::string> values, std::string_view extra_name = {},
                          std::string_view extra_value = {}) const;
  void append_header(std::string& out, std::string_view type) const;

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

}  // namespace detail

// All series of one metric name, one per combination of label values.
template <class Metric>
class MetricFamily final : public detail::FamilyBase {
 public:
  MetricFamily(std::string name, std::string help, std::vector<std::string> label_names,
               std::vector<double> bounds = {});

  // The series for these label values (in the order of the family's label names), created at
  // zero on first use.
  Metric& labels(std::span<const std::string_view> values);
  Metric& labels(std::initializer_list<std::string_view> values) {
    return labels(std::span<const std::string_view>(values.begin(), values.size()));
  }

  void expose(std::string& out) const override;

 private:
  std::vector<double> bounds_;  // histograms only
  mutable std::shared_mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>, detail::LabelValuesLess>
      series_;  // guarded by mutex_
};

class MetricsRegistry {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  MetricFamily<Counter>& counter(std::string name, std::string help,
                                 std::vector<std::string> label_names = {});
  MetricFamily<Gauge>& gauge(std::string name, std::string help,
                             std::vector<std::string> label_names = {});
  MetricFamily<Histogram>& histogram(std::string name, std::string help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> bounds = default_latency_buckets());

  // Every family in registration order, each series sorted by label values.
  std::string expose() const;

 private:
  template <class Metric>
  MetricFamily<Metric>& add(std::string name, std::string help,
                            std::vector<std::string> label_names, std::vector<double> bounds);

  mutable std::shared_mutex mutex_;
  std::vector<std::unique_ptr<detail::FamilyBase>> families_;  // guarded by mutex_
};

}  // namespace ombud::http
