// How fast and how small TimerQueue is with a look-ahead window of 1M timers, against the
// textbook alternative measured in the same run: std::priority_queue plus an std::unordered_map
// of live keys, where cancel only forgets the key and the stale heap entry is skipped when it
// surfaces ("lazy cancel").
//
// Memory is the change in the heap in use across building the structure (bench/heap_meter.h:
// jemalloc's stats.allocated, or glibc's mallinfo2() in a build without jemalloc), so it counts
// what the process really pays: allocator rounding per node and the arrays' growth slack.
//
// Run from a Release build: build/bench/timer_queue_bench [timers] [runs]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <limits>
#include <queue>
#include <random>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "bench/heap_meter.h"
#include "engine/timer_queue.h"

namespace ombud {
namespace {

// CPU time of this thread rather than wall time: the machine is shared, and time spent
// descheduled while others build is not the structure's cost (their cache pressure still is).
struct Clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<Clock, duration>;
  static time_point now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  }
};

class LazyCancelQueue {
 public:
  bool insert(Timestamp due, TimerKey key) {
    const std::uint64_t seq = next_seq_++;
    const bool fresh = live_.insert_or_assign(key, seq).second;
    heap_.push(Entry{due, seq, key});
    return fresh;
  }
  bool cancel(const TimerKey& key) { return live_.erase(key) > 0; }
  std::size_t pop_due(Timestamp now, std::size_t max, std::vector<DueEntry>& out) {
    std::size_t popped = 0;
    while (popped < max && !heap_.empty() && heap_.top().due <= now) {
      const Entry e = heap_.top();
      heap_.pop();
      const auto it = live_.find(e.key);
      if (it == live_.end() || it->second != e.seq) continue;  // cancelled or re-inserted
      live_.erase(it);
      out.push_back(DueEntry{e.due, e.key});
      ++popped;
    }
    return popped;
  }
  // Popping what cancel left behind: the part of a cancel's cost this design defers.
  std::size_t drain_stale() {
    std::size_t skipped = 0;
    while (!heap_.empty()) {
      const Entry e = heap_.top();
      heap_.pop();
      const auto it = live_.find(e.key);
      if (it == live_.end() || it->second != e.seq) ++skipped;
    }
    return skipped;
  }

 private:
  struct Entry {
    Timestamp due;
    std::uint64_t seq;
    TimerKey key;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return b.due < a.due || (b.due == a.due && b.seq < a.seq);
    }
  };
  struct KeyHash {
    std::size_t operator()(const TimerKey& k) const noexcept {
      return static_cast<std::size_t>(k.instance * 0x9e3779b97f4a7c15ULL ^ k.timer);
    }
  };
  std::priority_queue<Entry, std::vector<Entry>, Later> heap_;
  std::unordered_map<TimerKey, std::uint64_t, KeyHash> live_;
  std::uint64_t next_seq_ = 0;
};

std::size_t heap_in_use() { return bench::heap().in_use(); }

struct Workload {
  std::vector<Timestamp> dues;         // within a 10-minute window, in insertion order
  std::vector<TimerKey> keys;          // four timers per instance
  std::vector<TimerKey> cancel_order;  // the same keys, shuffled
};

Workload make_workload(std::size_t n) {
  Workload w;
  w.dues.reserve(n);
  w.keys.reserve(n);
  std::mt19937_64 rng(1987);  // fixed: every run and every build measures the same workload
  std::uniform_int_distribution<std::int64_t> window(0, std::int64_t{10} * 60 * 1000);
  const Timestamp start{Millis{1'800'000'000'000}};
  for (std::size_t i = 0; i < n; ++i) {
    w.dues.push_back(start + Millis{window(rng)});
    w.keys.push_back(TimerKey{1'000'000 + i / 4, i % 4 + 1});
  }
  w.cancel_order = w.keys;
  std::shuffle(w.cancel_order.begin(), w.cancel_order.end(), rng);
  return w;
}

double ns_per(Clock::duration d, std::size_t ops) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()) /
         static_cast<double>(ops);
}

struct Run {
  double insert_ns = 0;
  double cancel_ns = 0;
  double pop_ns = 0;
  double stale_ns = 0;  // baseline only
  double bytes_full = 0;
  double bytes_cancelled = 0;
  double self_reported = 0;  // TimerQueue only
  std::uint64_t checksum = 0;
};

template <typename Queue>
void insert_all(Queue& q, const Workload& w) {
  for (std::size_t i = 0; i < w.keys.size(); ++i) q.insert(w.dues[i], w.keys[i]);
}

// Pops in batches as a timer loop would.
template <typename Queue>
std::uint64_t pop_all(Queue& q) {
  std::vector<DueEntry> batch;
  batch.reserve(256);
  std::uint64_t checksum = 0;
  const Timestamp end_of_time{Millis{std::numeric_limits<std::int64_t>::max()}};
  while (true) {
    batch.clear();
    if (q.pop_due(end_of_time, 256, batch) == 0) break;
    for (const DueEntry& t : batch) checksum += t.key.timer;
  }
  return checksum;
}

template <typename Queue>
Run measure(const Workload& w) {
  const std::size_t n = w.keys.size();
  Run r;
  {
    const std::size_t before = heap_in_use();
    Queue q;
    auto t0 = Clock::now();
    insert_all(q, w);
    auto t1 = Clock::now();
    r.insert_ns = ns_per(t1 - t0, n);
    r.bytes_full = static_cast<double>(heap_in_use() - before) / static_cast<double>(n);
    if constexpr (std::is_same_v<Queue, TimerQueue>) {
      r.self_reported = static_cast<double>(q.allocated_bytes()) / static_cast<double>(n);
    }
    t0 = Clock::now();
    for (const TimerKey& k : w.cancel_order) r.checksum += q.cancel(k) ? 1 : 0;
    t1 = Clock::now();
    r.cancel_ns = ns_per(t1 - t0, n);
    r.bytes_cancelled = static_cast<double>(heap_in_use() - before) / static_cast<double>(n);
    if constexpr (std::is_same_v<Queue, LazyCancelQueue>) {
      t0 = Clock::now();
      r.checksum += q.drain_stale();
      t1 = Clock::now();
      r.stale_ns = ns_per(t1 - t0, n);
    }
  }
  {
    Queue q;
    insert_all(q, w);
    const auto t0 = Clock::now();
    r.checksum += pop_all(q);
    const auto t1 = Clock::now();
    r.pop_ns = ns_per(t1 - t0, n);
  }
  return r;
}

double median(const std::vector<Run>& runs, double Run::*field) {
  std::vector<double> v;
  v.reserve(runs.size());
  for (const Run& r : runs) v.push_back(r.*field);
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void row(const char* what, const std::vector<Run>& ours, const std::vector<Run>& base,
         double Run::*field, const char* ratio_note) {
  const double a = median(ours, field);
  const double b = median(base, field);
  std::printf("%-36s %12.1f %12.1f %10.2fx  %s\n", what, a, b, b / a, ratio_note);
}

int run(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  if (n == 0 || runs <= 0) {
    std::fprintf(stderr, "usage: timer_queue_bench [timers > 0] [runs > 0]\n");
    return 2;
  }
  const Workload w = make_workload(n);

  std::vector<Run> ours;
  std::vector<Run> base;
  std::uint64_t checksum = 0;
  for (int i = 0; i < runs; ++i) {
    // Alternating keeps a burst of load from other processes from landing on one side only.
    ours.push_back(measure<TimerQueue>(w));
    base.push_back(measure<LazyCancelQueue>(w));
    checksum += ours.back().checksum + base.back().checksum;
  }

  std::printf("TimerQueue vs priority_queue + unordered_map with lazy cancel\n");
  std::printf("%zu timers due within 10 minutes, 4 per instance; median of %d runs;\n", n, runs);
  std::printf("times are this thread's CPU time (CLOCK_THREAD_CPUTIME_ID)\n\n");
  std::printf("%-36s %12s %12s %11s\n", "", "TimerQueue", "baseline", "ratio");
  row("insert, ns/op", ours, base, &Run::insert_ns, "(baseline / TimerQueue: >1 = we are faster)");
  row("cancel (random order), ns/op", ours, base, &Run::cancel_ns, "");
  row("pop all (batches of 256), ns/op", ours, base, &Run::pop_ns, "");
  std::printf("%-36s %12s %12.1f %11s  %s\n", "pop of cancelled entries, ns/op", "-",
              median(base, &Run::stale_ns), "", "(what lazy cancel defers; TimerQueue has none)");
  std::printf("\nmemory (%s delta)\n", bench::heap().measure());
  row("bytes/timer, 1M queued", ours, base, &Run::bytes_full, "(>1 = we are smaller)");
  row("bytes/timer, after cancelling all", ours, base, &Run::bytes_cancelled,
      "(the baseline's heap still holds every entry)");
  std::printf("%-36s %12.1f\n", "TimerQueue::allocated_bytes()/timer",
              median(ours, &Run::self_reported));
  std::printf("\nchecksum %llu\n", static_cast<unsigned long long>(checksum));
  return 0;
}

}  // namespace
}  // namespace ombud

int main(int argc, char** argv) { return ombud::run(argc, argv); }
