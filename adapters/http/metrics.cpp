#include "adapters/http/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <mutex>
#include <stdexcept>

namespace ombud::http {
namespace {

// Go's strconv formatting is what Prometheus writes; the shortest round-trip form parses the
// same ("0.25", "1e+06", "3").
void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
  }
}

void append_number(std::string& out, std::uint64_t value) { out += std::to_string(value); }

// Label values escape backslash, double quote and newline; HELP text only backslash and newline.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

std::vector<double> default_latency_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
    }
  }
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::observe(double value) {
  const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snap;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snap.cumulative.push_back(running);
  }
  snap.count = running;
  snap.sum = sum_.load(std::memory_order_relaxed);
  return snap;
}

namespace detail {

void FamilyBase::check_arity(std::size_t count) const {
  if (count != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + " takes " +
                                std::to_string(label_names_.size()) + " label values, got " +
                                std::to_string(count));
  }
}

void FamilyBase::append_series_name(std::string& out, std::string_view suffix,
                                    std::span<const std::string> values,
                                    std::string_view extra_name,
                                    std::string_view extra_value) const {
  out += name_;
  out += suffix;
  if (label_names_.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  const auto label = [&](std::string_view name, std::string_view value) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  };
  for (std::size_t i = 0; i < label_names_.size(); ++i) label(label_names_[i], values[i]);
  if (!extra_name.empty()) label(extra_name, extra_value);
  out += '}';
}

void FamilyBase::append_header(std::string& out, std::string_view type) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  append_escaped(out, help_, false);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace detail

template <class Metric>
MetricFamily<Metric>::MetricFamily(std::string name, std::string help,
                                   std::vector<std::string> label_names, std::vector<double> bounds)
    : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
      bounds_(std::move(bounds)) {
  if (!valid_name(name_, true)) throw std::invalid_argument("invalid metric name '" + name_ + "'");
  for (const auto& label : label_names_) {
    // "__" is reserved for Prometheus; "le" is the histogram's own bucket label.
    if (!valid_name(label, false) || label.starts_with("__") ||
        (std::is_same_v<Metric, Histogram> && label == "le")) {
      throw std::invalid_argument("metric " + name_ + ": invalid label name '" + label + "'");
    }
  }
  // A family without labels has exactly one series; show it at zero from the start.
  if (label_names_.empty()) labels(std::span<const std::string_view>{});
}

template <class Metric>
Metric& MetricFamily<Metric>::labels(std::span<const std::string_view> values) {
  check_arity(values.size());
  {
    const std::shared_lock lock(mutex_);
    const auto it = series_.find(values);
    if (it != series_.end()) return *it->second;
  }
  const std::unique_lock lock(mutex_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    std::unique_ptr<Metric> metric;
    if constexpr (std::is_same_v<Metric, Histogram>) {
      metric = std::make_unique<Histogram>(bounds_);
    } else {
      metric = std::make_unique<Metric>();
    }
    it = series_.emplace(std::vector<std::string>(values.begin(), values.end()), std::move(metric))
             .first;
  }
  return *it->second;
}

template <class Metric>
void MetricFamily<Metric>::expose(std::string& out) const {
  const std::shared_lock lock(mutex_);
  if constexpr (std::is_same_v<Metric, Histogram>) {
    append_header(out, "histogram");
    std::string le;
    for (const auto& [values, histogram] : series_) {
      const auto snap = histogram->snapshot();
      for (std::size_t i = 0; i < snap.cumulative.size(); ++i) {
        le.clear();
        append_number(le, i < bounds_.size() ? bounds_[i] : INFINITY);
        append_series_name(out, "_bucket", values, "le", le);
        out += ' ';
        append_number(out, snap.cumulative[i]);
        out += '\n';
      }
      append_series_name(out, "_sum", values);
      out += ' ';
      append_number(out, snap.sum);
      out += '\n';
      append_series_name(out, "_count", values);
      out += ' ';
      append_number(out, snap.count);
      out += '\n';
    }
  } else {
    append_header(out, std::is_same_v<Metric, Counter> ? "counter" : "gauge");
    for (const auto& [values, metric] : series_) {
      append_series_name(out, "", values);
      out += ' ';
      append_number(out, metric->value());
      out += '\n';
    }
  }
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

template <class Metric>
MetricFamily<Metric>& MetricsRegistry::add(std::string name, std::string help,
                                           std::vector<std::string> label_names,
                                           std::vector<double> bounds) {
  auto family = std::make_unique<MetricFamily<Metric>>(std::move(name), std::move(help),
                                                       std::move(label_names), std::move(bounds));
  auto& result = *family;
  const std::unique_lock lock(mutex_);
  for (const auto& existing : families_) {
    if (existing->name() == result.name()) {
      throw std::invalid_argument("metric " + result.name() + " is registered twice");
    }
  }
  families_.push_back(std::move(family));
  return result;
}

MetricFamily<Counter>& MetricsRegistry::counter(std::string name, std::string help,
                                                std::vector<std::string> label_names) {
  return add<Counter>(std::move(name), std::move(help), std::move(label_names), {});
}

MetricFamily<Gauge>& MetricsRegistry::gauge(std::string name, std::string help,
                                            std::vector<std::string> label_names) {
  return add<Gauge>(std::move(name), std::move(help), std::move(label_names), {});
}

MetricFamily<Histogram>& MetricsRegistry::histogram(std::string name, std::string help,
                                                    std::vector<std::string> label_names,
                                                    std::vector<double> bounds) {
  Histogram check(bounds);  // reject bad bounds at registration, not at the first observation
  return add<Histogram>(std::move(name), std::move(help), std::move(label_names),
                        std::move(bounds));
}

std::string MetricsRegistry::expose() const {
  std::string out;
  const std::shared_lock lock(mutex_);
  for (const auto& family : families_) family->expose(out);
  return out;
}

}  // namespace ombud::http
