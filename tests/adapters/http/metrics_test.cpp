// The metrics registry: exact Prometheus text, escaping, and concurrent updates.
#include "adapters/http/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ombud::http {
namespace {

TEST(Metrics, CounterWithLabelsExposesSortedSeries) {
  MetricsRegistry registry;
  auto& requests =
      registry.counter("ombud_http_requests_total", "HTTP requests answered.", {"route", "status"});
  requests.labels({"/v1/instances", "200"}).inc();
  requests.labels({"/v1/instances", "200"}).inc(2);
  requests.labels({"/healthz", "200"}).inc();
  EXPECT_EQ(registry.expose(),
            "# HELP ombud_http_requests_total HTTP requests answered.\n"
            "# TYPE ombud_http_requests_total counter\n"
            "ombud_http_requests_total{route=\"/healthz\",status=\"200\"} 1\n"
            "ombud_http_requests_total{route=\"/v1/instances\",status=\"200\"} 3\n");
}

TEST(Metrics, UnlabelledMetricsShowZeroFromTheStart) {
  MetricsRegistry registry;
  registry.counter("ombud_timers_fired_total", "Timers fired.");
  auto& pending = registry.gauge("ombud_timers_pending", "Timers armed and not yet fired.");
  pending.labels({}).set(7);
  pending.labels({}).dec(2);
  EXPECT_EQ(registry.expose(),
            "# HELP ombud_timers_fired_total Timers fired.\n"
            "# TYPE ombud_timers_fired_total counter\n"
            "ombud_timers_fired_total 0\n"
            "# HELP ombud_timers_pending Timers armed and not yet fired.\n"
            "# TYPE ombud_timers_pending gauge\n"
            "ombud_timers_pending 5\n");
}

TEST(Metrics, HistogramHasCumulativeBucketsSumAndCount) {
  MetricsRegistry registry;
  auto& latency = registry.histogram("ombud_store_commit_seconds", "Store commit latency.",
                                     {"store"}, {0.125, 1});
  auto& sqlite = latency.labels({"sqlite"});
  // Binary fractions, so the sum is exact.
  sqlite.observe(0.0625);
  sqlite.observe(0.125);  // bounds are inclusive: this is in le="0.125"
  sqlite.observe(0.5);
  sqlite.observe(3);
  EXPECT_EQ(registry.expose(),
            "# HELP ombud_store_commit_seconds Store commit latency.\n"
            "# TYPE ombud_store_commit_seconds histogram\n"
            "ombud_store_commit_seconds_bucket{store=\"sqlite\",le=\"0.125\"} 2\n"
            "ombud_store_commit_seconds_bucket{store=\"sqlite\",le=\"1\"} 3\n"
            "ombud_store_commit_seconds_bucket{store=\"sqlite\",le=\"+Inf\"} 4\n"
            "ombud_store_commit_seconds_sum{store=\"sqlite\"} 3.6875\n"
            "ombud_store_commit_seconds_count{store=\"sqlite\"} 4\n");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  auto& c = registry.counter("x_total", "Help with \\ and\nnewline \"quotes\" kept.", {"v"});
  c.labels({"a\"b\\c\nd"}).inc();
  EXPECT_EQ(registry.expose(),
            "# HELP x_total Help with \\\\ and\\nnewline \"quotes\" kept.\n"
            "# TYPE x_total counter\n"
            "x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Metrics, RejectsBadNamesDuplicatesAndWrongArity) {
  MetricsRegistry registry;
  EXPECT_THROW(registry.counter("1bad", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("bad-name", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "h", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h_seconds", "h", {"le"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h2_seconds", "h", {}, {1, 1}), std::invalid_argument);
  auto& c = registry.counter("ok_total", "h", {"a"});
  EXPECT_THROW(registry.counter("ok_total", "h"), std::invalid_argument);
  EXPECT_THROW(c.labels({"x", "y"}), std::invalid_argument);
}

TEST(Metrics, ConcurrentIncrementsAreAllCounted) {
  MetricsRegistry registry;
  auto& c = registry.counter("hits_total", "h", {"worker"});
  auto& h = registry.histogram("lat_seconds", "h", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.labels({t % 2 == 0 ? "even" : "odd"}).inc();
        h.labels({}).observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.labels({"even"}).value(), 20000);
  EXPECT_EQ(c.labels({"odd"}).value(), 20000);
  EXPECT_EQ(h.labels({}).snapshot().count, 40000U);
}

}  // namespace
}  // namespace ombud::http
