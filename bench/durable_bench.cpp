// The durable-state benchmarks of issue 4 (docs/benchmarks.md, "Durable state"): what the
// Worker's group commit and claimed timers achieve on a real store, measured through the same
// composition `ombud serve` uses (Node::open → open_store_url → Worker).
//
//   durable_bench --store URL --mode transitions --clients N [--drivers D] [--seconds S]
//                 [--warmup S]
//   durable_bench --store URL --mode timers [--count 100000] [--within 10] [--lead S]
//   durable_bench --store URL --mode restart [--count 1000000] [--spread-days 7]
//   durable_bench --mode raw-sqlite --path FILE [--rows-per-txn K] [--instances K] [--seconds S]
//   durable_bench --store URL --mode probe      (exit 0 when the store opens)
//
// URL is whatever open_store_url accepts (memory:, sqlite:PATH, postgresql://...). Each mode
// prints readable lines and then one JSON object as its last line, which
// bench/run_durable_bench.sh reads to put every figure next to the baseline it ran in the same
// script. This program asserts nothing: it reports.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "adapters/node/node.h"
#include "engine/batch_store.h"
#include "engine/runtime.h"
#include "engine/time.h"

namespace {

using ombud::Timestamp;
using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// Wall-clock milliseconds with a fraction: timer lateness is "commit time − due", and due
// times are wall-clock instants (the engine's clock is the system clock).
double wall_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Nearest-rank percentile; sorts `v`. 0 for an empty sample.
double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

class Args {
 public:
  Args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string key = argv[i];
      if (key.rfind("--", 0) != 0 || i + 1 >= argc) {
        throw std::runtime_error("expected --option value, got '" + key + "'");
      }
      values_[key.substr(2)] = argv[++i];
    }
  }
  std::string str(const std::string& key, const std::string& fallback = "") const {
    auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
  }
  double num(const std::string& key, double fallback) const {
    auto it = values_.find(key);
    return it == values_.end() ? fallback : std::stod(it->second);
  }

 private:
  std::map<std::string, std::string> values_;
};

void print_json(const boost::json::object& out) {
  std::cout << boost::json::serialize(out) << "\n";
}

std::unique_ptr<ombud::Node> open_node(const std::string& url, const std::string& workflows) {
  ombud::NodeOptions options;
  options.store_url = url;
  options.workflow_paths = {workflows};
  options.published_by = "durable_bench";
  ombud::Diagnostics diags;
  auto node = ombud::Node::open(options, diags);
  if (!node) {
    for (const auto& d : diags.items()) std::cerr << d.to_string() << "\n";
    throw std::runtime_error("cannot open the node on " + url);
  }
  return node;
}

int latest_version(ombud::Store& store, const std::string& workflow) {
  for (const auto& d : store.latest_definitions()) {
    if (d.name == workflow) return d.version;
  }
  throw std::runtime_error("workflow '" + workflow + "' is not published in the store");
}

// --- transitions --------------------------------------------------------------------------------

// N clients, each owning one pingpong instance and sending its next event only after the
// previous one was acknowledged (its commit returned): the closed loop an API client sees. With
// many clients the Worker's group commit puts many of their steps into one transaction.
//
// Who drives the clients (`--drivers D`):
// - 0: one thread per client, blocked on the future of its request;
// - D > 0: D threads, each driving clients c with c % D == d. An answer is handed to its
//   driver's queue by the Worker's `done` callback, and the driver sends that client's next
//   event: how `pgbench -j 2` drives its 256 connections, and how the server's connection
//   coroutines wait for their answers, without a thread each.
struct ClientTally {
  std::vector<double> latency_ms;
  std::uint64_t acked = 0;
  std::uint64_t errors = 0;
  std::string first_error;
};

// 0: warming up, 1: measuring, 2: stop. Answers count only when they arrive while measuring.
enum Phase : int { kWarmup = 0, kMeasure = 1, kStop = 2 };

void tally(ClientTally& me, const ombud::RuntimeResult& answer, double ms, int phase) {
  if (phase != kMeasure) return;
  if (answer.status == ombud::RuntimeResult::Status::ok) {
    me.acked += 1;
    me.latency_ms.push_back(ms);
  } else {
    me.errors += 1;
    if (me.first_error.empty()) me.first_error = answer.error;
  }
}

ombud::EventRequest pingpong_event(const std::string& id, bool ping) {
  ombud::EventRequest ev;
  ev.instance_id = id;
  ev.event = ping ? "ping" : "pong";
  return ev;
}

// One client per thread; returns once `phase` is kStop.
void drive_on_threads(ombud::Worker& worker, const std::vector<std::string>& ids,
                      std::vector<ClientTally>& tallies, const std::atomic<int>& phase) {
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < ids.size(); ++c) {
    threads.emplace_back([&, c] {
      ClientTally& me = tallies[c];
      bool ping = true;
      while (phase.load(std::memory_order_relaxed) != kStop) {
        const auto t0 = SteadyClock::now();
        ombud::RuntimeResult answer = worker.submit(pingpong_event(ids[c], ping)).get();
        if (answer.status == ombud::RuntimeResult::Status::ok) ping = !ping;
        tally(me, answer,
              std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count(),
              phase.load(std::memory_order_relaxed));
      }
    });
  }
  for (auto& t : threads) t.join();
}

// `drivers` threads, each with a queue of answers its clients are waiting for.
void drive_with_callbacks(ombud::Worker& worker, const std::vector<std::string>& ids,
                          std::vector<ClientTally>& tallies, const std::atomic<int>& phase,
                          int drivers) {
  struct Arrived {
    std::size_t client;
    ombud::RuntimeResult answer;
  };
  struct Driver {
    std::mutex mutex;
    std::condition_variable wake;
    std::vector<Arrived> arrived;  // guarded by mutex
  };
  std::vector<Driver> queues(static_cast<std::size_t>(drivers));
  std::vector<char> ping(ids.size(), 1);  // not vector<bool>: drivers write neighbouring clients
  std::vector<SteadyClock::time_point> sent(ids.size());
  const auto send = [&](std::size_t c) {
    sent[c] = SteadyClock::now();
    Driver& mine = queues[c % queues.size()];
    worker.submit(pingpong_event(ids[c], ping[c]), [&mine, c](ombud::RuntimeResult answer) {
      const std::lock_guard lock(mine.mutex);
      mine.arrived.push_back({c, std::move(answer)});
      if (mine.arrived.size() == 1) mine.wake.notify_one();
    });
  };
  std::vector<std::thread> threads;
  for (std::size_t d = 0; d < queues.size(); ++d) {
    threads.emplace_back([&, d] {
      Driver& me = queues[d];
      std::size_t outstanding = 0;
      for (std::size_t c = d; c < ids.size(); c += queues.size(), ++outstanding) send(c);
      std::vector<Arrived> batch;
      while (outstanding > 0) {
        {
          std::unique_lock lock(me.mutex);
          me.wake.wait(lock, [&] { return !me.arrived.empty(); });
          batch.swap(me.arrived);
        }
        const int now_phase = phase.load(std::memory_order_relaxed);
        const auto now = SteadyClock::now();
        for (Arrived& a : batch) {
          --outstanding;
          if (a.answer.status == ombud::RuntimeResult::Status::ok) ping[a.client] = !ping[a.client];
          tally(tallies[a.client], a.answer,
                std::chrono::duration<double, std::milli>(now - sent[a.client]).count(), now_phase);
          if (now_phase != kStop) {
            send(a.client);
            ++outstanding;
          }
        }
        batch.clear();
      }
    });
  }
  for (auto& t : threads) t.join();
}

int run_transitions(const Args& args, const std::string& workflows) {
  const std::string url = args.str("store", "memory:");
  const int clients = static_cast<int>(args.num("clients", 1));
  const int drivers = static_cast<int>(args.num("drivers", 0));
  const double seconds = args.num("seconds", 10);
  const double warmup = args.num("warmup", 2);

  auto node = open_node(url, workflows);
  ombud::Worker& worker = node->worker();
  worker.start();

  // Every client's instance first, each start committed before the loop begins.
  std::vector<std::string> ids;
  std::string start_error;
  std::vector<std::future<ombud::RuntimeResult>> starts;
  for (int c = 0; c < clients; ++c) {
    ombud::StartRequest start;
    start.workflow = "pingpong";
    starts.push_back(worker.submit(std::move(start)));
  }
  for (auto& f : starts) {
    ombud::RuntimeResult r = f.get();
    if (r.status != ombud::RuntimeResult::Status::ok || !r.instance) {
      if (start_error.empty()) start_error = "start: " + r.error;
      continue;
    }
    ids.push_back(r.instance->id);
  }
  if (!start_error.empty()) {
    worker.stop();
    std::fprintf(stderr, "transitions: %s\n", start_error.c_str());
    return 1;
  }

  std::atomic<int> phase{kWarmup};
  std::vector<ClientTally> results(ids.size());
  for (auto& r : results) r.latency_ms.reserve(1 << 16);
  std::thread drive([&] {
    if (drivers > 0) {
      drive_with_callbacks(worker, ids, results, phase, drivers);
    } else {
      drive_on_threads(worker, ids, results, phase);
    }
  });
  std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
  const ombud::WorkerStats before = worker.stats();
  const auto t0 = SteadyClock::now();
  phase = kMeasure;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  phase = kStop;
  const double elapsed = seconds_since(t0);
  const ombud::WorkerStats after = worker.stats();
  drive.join();
  worker.stop();

  std::vector<double> latency;
  std::uint64_t acked = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  for (auto& c : results) {
    acked += c.acked;
    errors += c.errors;
    if (first_error.empty()) first_error = c.first_error;
    latency.insert(latency.end(), c.latency_ms.begin(), c.latency_ms.end());
  }
  const double per_s = static_cast<double>(acked) / elapsed;
  const auto batches = after.batches - before.batches;
  const double mean_batch = batches == 0 ? 0
                                         : static_cast<double>(after.requests - before.requests) /
                                               static_cast<double>(batches);
  const double p50 = percentile(latency, 0.50);
  const double p99 = percentile(latency, 0.99);
  std::printf(
      "transitions  store=%s clients=%d drivers=%d: %.0f transitions/s acknowledged over %.1f s, "
      "latency p50 %.2f ms p99 %.2f ms, %.1f requests per commit, %llu errors%s%s\n",
      url.c_str(), clients, drivers, per_s, elapsed, p50, p99, mean_batch,
      static_cast<unsigned long long>(errors),
      first_error.empty() ? "" : " — first: ", first_error.c_str());
  print_json({{"mode", "transitions"},
              {"clients", clients},
              {"drivers", drivers},
              {"seconds", elapsed},
              {"acked", acked},
              {"errors", errors},
              {"transitions_per_s", std::round(per_s)},
              {"p50_ms", p50},
              {"p99_ms", p99},
              {"requests_per_commit", mean_batch}});
  return errors == 0 ? 0 : 1;
}

// --- arming deadline instances ------------------------------------------------------------------

// Starts deadline instances straight against the store, `chunk` starts per commit_all: the same
// Runtime step and BatchStore the Worker uses for a group commit, without a Worker running, so
// the timers are real engine timers (armed by the `at:` of deadline.yaml) that exist only in the
// store until a Worker claims them. `due(i)` gives instance i's deadline.
class DeadlineArmer {
 public:
  DeadlineArmer(ombud::Node& node, std::size_t chunk)
      : batch_(node.store()),
        runtime_(batch_, node.clock(), node.context()),
        definition_(node.definition("deadline")),
        chunk_(chunk) {
    if (!definition_) throw std::runtime_error("deadline workflow not loaded");
    runtime_.add_definition(*definition_, latest_version(node.store(), "deadline"));
  }

  template <typename DueOf, typename OnArmed>
  void arm(std::size_t count, DueOf due_of, OnArmed on_armed) {
    for (std::size_t i = 0; i < count; ++i) {
      ombud::StartRequest start;
      start.workflow = "deadline";
      start.data["due"] = ombud::format_timestamp(due_of(i));
      ombud::RuntimeResult r = runtime_.start(start);
      if (r.status != ombud::RuntimeResult::Status::ok || !r.instance) {
        throw std::runtime_error("arming failed: " + r.error);
      }
      on_armed(r.instance->id, i);
      if (batch_.pending() >= chunk_) flush();
    }
    flush();
  }

 private:
  void flush() {
    if (batch_.pending() == 0) return;
    if (batch_.flush() != ombud::CommitResult::ok) throw std::runtime_error("arming conflicted");
  }

  ombud::BatchStore batch_;
  ombud::Runtime runtime_;
  std::shared_ptr<const ombud::Definition> definition_;
  std::size_t chunk_;
};

// --- timers -------------------------------------------------------------------------------------

// `count` timers due evenly over `within` seconds, armed before the Worker starts; then the
// Worker claims them (lookahead window, refills) and fires each in a step whose commit deletes
// the timer's row. Lateness = wall-clock time after that commit − due.
int run_timers(const Args& args, const std::string& workflows) {
  const std::string url = args.str("store", "memory:");
  const auto count = static_cast<std::size_t>(args.num("count", 100'000));
  const double within_s = args.num("within", 10);
  const double timeout_s = args.num("timeout", within_s + 600);
  const auto chunk = static_cast<std::size_t>(args.num("chunk", 1000));

  auto node = open_node(url, workflows);
  DeadlineArmer armer(*node, chunk);

  // All deadlines must lie ahead when arming ends, or the first ones would be late before the
  // Worker even started. How long arming takes depends on the store, so time a calibration
  // chunk first (due a day ahead: outside any lookahead, never fired here) unless --lead is set.
  double lead_s = args.num("lead", -1);
  const std::size_t calibration = std::min<std::size_t>(1000, count);
  if (lead_s < 0) {
    const Timestamp far = node->clock().now() + std::chrono::hours(24);
    const auto c0 = SteadyClock::now();
    armer.arm(
        calibration, [&](std::size_t) { return far; }, [](const std::string&, std::size_t) {});
    const double per_timer = seconds_since(c0) / static_cast<double>(calibration);
    lead_s = 2.0 + 1.5 * per_timer * static_cast<double>(count);
  }

  std::unordered_map<std::string, double> due_ms;  // instance id → due (wall ms)
  due_ms.reserve(count);
  const Timestamp first_due =
      node->clock().now() + std::chrono::milliseconds(static_cast<std::int64_t>(lead_s * 1000));
  const double spacing_ms = within_s * 1000 / static_cast<double>(count);
  auto due_of = [&](std::size_t i) {
    return first_due + std::chrono::milliseconds(
                           static_cast<std::int64_t>(spacing_ms * static_cast<double>(i)));
  };
  const auto a0 = SteadyClock::now();
  armer.arm(count, due_of, [&](const std::string& id, std::size_t i) {
    due_ms[id] = static_cast<double>(due_of(i).time_since_epoch().count());
  });
  const double arm_s = seconds_since(a0);
  const double first_due_ms = static_cast<double>(first_due.time_since_epoch().count());
  const double slack_ms = first_due_ms - wall_ms();
  std::printf("timers  store=%s: armed %zu timers in %.2f s (%.0f/s); first due in %.0f ms%s\n",
              url.c_str(), count, arm_s, static_cast<double>(count) / arm_s, slack_ms,
              slack_ms < 0 ? " (arming overran: the first timers start late)" : "");

  // Written by on_commit (one call at a time); read after stop() joined the worker.
  std::vector<double> lateness;
  lateness.reserve(count);
  // The worst lateness among the timers due in each second of the window: where a tail comes
  // from (a slow start, a stall, falling behind towards the end).
  std::vector<double> worst_by_second(static_cast<std::size_t>(within_s) + 2, 0.0);
  double last_fire_ms = 0;
  std::atomic<std::size_t> fired{0};
  ombud::Worker& worker = node->worker();
  worker.on_commit = [&](std::span<const ombud::RuntimeResult> results) {
    const double now = wall_ms();
    std::size_t n = 0;
    for (const auto& r : results) {
      if (!r.instance || r.instance->state != "fired") continue;
      auto it = due_ms.find(r.instance->id);
      if (it == due_ms.end()) continue;
      lateness.push_back(now - it->second);
      const double second = std::max(0.0, (it->second - first_due_ms) / 1000);
      double& worst =
          worst_by_second[std::min(static_cast<std::size_t>(second), worst_by_second.size() - 1)];
      worst = std::max(worst, now - it->second);
      ++n;
    }
    if (n > 0) last_fire_ms = now;
    fired.fetch_add(n, std::memory_order_release);
  };
  const double started_ms = wall_ms();
  worker.start();
  const auto w0 = SteadyClock::now();
  while (fired.load(std::memory_order_acquire) < count && seconds_since(w0) < timeout_s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  worker.stop();
  const ombud::WorkerStats stats = worker.stats();

  const std::size_t n = lateness.size();
  // The arrival rate caps fires/s at count/within: a store that keeps up shows that rate and a
  // small lateness; one that cannot shows its own capacity and a growing lateness.
  const double window_s = (last_fire_ms - std::max(first_due_ms, started_ms)) / 1000;
  const double per_s = window_s > 0 ? static_cast<double>(n) / window_s : 0;
  const double p50 = percentile(lateness, 0.50);
  const double p99 = percentile(lateness, 0.99);
  const double max = lateness.empty() ? 0 : lateness.back();
  std::printf(
      "timers  store=%s: %zu of %zu fired in %.2f s after the first was due: %.0f fires/s, "
      "lateness p50 %.1f ms p99 %.1f ms max %.1f ms (%llu commits)\n",
      url.c_str(), n, count, window_s, per_s, p50, p99, max,
      static_cast<unsigned long long>(stats.batches));
  std::printf("timers  worst lateness by second of due time (ms):");
  for (double w : worst_by_second) std::printf(" %.0f", w);
  std::printf("\n");
  print_json({{"mode", "timers"},
              {"count", count},
              {"fired", n},
              {"within_s", within_s},
              {"arm_s", arm_s},
              {"fires_per_s", std::round(per_s)},
              {"lateness_p50_ms", p50},
              {"lateness_p99_ms", p99},
              {"lateness_max_ms", max},
              {"commits", stats.batches}});
  return n == count ? 0 : 1;
}

// --- restart ------------------------------------------------------------------------------------

// With `count` timers pending in the store, the time from opening the node (store open,
// migrations check, definitions loaded) through Worker::start and its first refill to the first
// request answered. A store that already holds the timers (an earlier run) is not refilled.
int run_restart(const Args& args, const std::string& workflows) {
  const std::string url = args.str("store", "memory:");
  const auto count = static_cast<std::size_t>(args.num("count", 1'000'000));
  const double spread_days = args.num("spread-days", 7);
  const auto chunk = static_cast<std::size_t>(args.num("chunk", 2000));

  auto node = open_node(url, workflows);
  const std::size_t present = node->store().pending_timers();
  double populate_s = 0;
  if (present < count) {
    // Due from a minute ahead over `spread_days`: a realistic backlog, of which the lookahead
    // window (10 s) holds only a handful — what a restart must not load whole.
    const Timestamp from = node->clock().now() + std::chrono::minutes(1);
    const double spacing_ms = spread_days * 86'400'000 / static_cast<double>(count);
    DeadlineArmer armer(*node, chunk);
    const auto p0 = SteadyClock::now();
    armer.arm(
        count - present,
        [&](std::size_t i) {
          return from + std::chrono::milliseconds(
                            static_cast<std::int64_t>(spacing_ms * static_cast<double>(i)));
        },
        [](const std::string&, std::size_t) {});
    populate_s = seconds_since(p0);
    std::printf("restart  store=%s: populated %zu timers in %.1f s (%.0f/s)\n", url.c_str(),
                count - present, populate_s, static_cast<double>(count - present) / populate_s);
  }

  const bool persistent = url != "memory:";
  ombud::StartRequest probe;
  probe.workflow = "deadline";
  probe.data["due"] = ombud::format_timestamp(node->clock().now() + std::chrono::hours(24));

  double open_s = 0;
  double ready_s = 0;
  ombud::RuntimeResult answer;
  if (persistent) {
    node.reset();  // closes the store: the next open reads everything from disk / the server
    const auto t0 = SteadyClock::now();
    auto reopened = open_node(url, workflows);
    open_s = seconds_since(t0);
    reopened->worker().start();
    answer = reopened->worker().submit(std::move(probe)).get();
    ready_s = seconds_since(t0);
    reopened->worker().stop();
  } else {
    // Nothing survives a memory: store, so only a new Worker on the same store is timed: its
    // start, first refill and first answer (the ceiling of what a restart can cost).
    ombud::Worker worker(node->store(), node->clock(), node->context());
    worker.add_definition(node->definition("deadline"), latest_version(node->store(), "deadline"));
    const auto t0 = SteadyClock::now();
    worker.start();
    answer = worker.submit(std::move(probe)).get();
    ready_s = seconds_since(t0);
    worker.stop();
  }
  const bool ok = answer.status == ombud::RuntimeResult::Status::ok;
  std::printf(
      "restart  store=%s, %zu pending timers: ready to serve in %.3f s (node open %.3f s, worker "
      "start + first refill + first answer %.3f s)%s%s\n",
      url.c_str(), count, ready_s, open_s, ready_s - open_s,
      ok ? "" : " — first request failed: ", ok ? "" : answer.error.c_str());
  print_json({{"mode", "restart"},
              {"count", count},
              {"persistent", persistent},
              {"populate_s", populate_s},
              {"open_s", open_s},
              {"ready_s", ready_s},
              {"ok", ok}});
  return ok ? 0 : 1;
}

// --- raw SQLite baseline
// --------------------------------------------------------------------------

void check_sqlite(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
  }
}

// The ceiling for the SQLite store on this disk: rows shaped like the store's history table of
// schema 3 (a row per entry), inserted with a prepared statement, WAL and synchronous=FULL (the
// store's durable default), `rows-per-txn` rows per BEGIN IMMEDIATE … COMMIT, one writer
// (SQLite has only one).
int run_raw_sqlite(const Args& args) {
  const std::string path = args.str("path");
  if (path.empty()) throw std::runtime_error("--mode raw-sqlite needs --path FILE");
  const int rows_per_txn = static_cast<int>(args.num("rows-per-txn", 1));
  const double seconds = args.num("seconds", 5);
  // 0: every 8 consecutive rows belong to one instance, so inserts append at the end of the
  // key order. K > 0: row n belongs to instance n % K, as when K instances take turns (the
  // transitions mode's pattern), so a transaction's rows land at up to K places in the key.
  const auto instances = static_cast<std::uint64_t>(args.num("instances", 0));

  sqlite3* db = nullptr;
  check_sqlite(sqlite3_open(path.c_str(), &db), db, "open");
  const std::unique_ptr<sqlite3, int (*)(sqlite3*)> close(db, sqlite3_close);
  auto exec = [&](const char* sql) {
    check_sqlite(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), db, sql);
  };
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");
  exec(
      "CREATE TABLE IF NOT EXISTS history (instance_id TEXT NOT NULL, seq BIGINT NOT NULL, "
      "at BIGINT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL, details TEXT NOT NULL, "
      "actor TEXT NOT NULL, PRIMARY KEY (instance_id, seq))");
  sqlite3_stmt* insert = nullptr;
  check_sqlite(sqlite3_prepare_v2(db, "INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?)", -1,
                                  &insert, nullptr),
               db, "prepare");
  const std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> finalize(insert, sqlite3_finalize);

  // A transition's history row as the store writes it (≈200 bytes).
  static const std::string kMessage = "ping: ping_side → pong_side";
  static const std::string kDetails =
      R"({"from":"ping_side","to":"pong_side","event":"ping","data":{},"actor":"durable_bench"})";
  const std::string run = std::to_string(SteadyClock::now().time_since_epoch().count());
  std::uint64_t rows = 0;
  std::uint64_t txns = 0;
  std::vector<double> commit_ms;
  const auto t0 = SteadyClock::now();
  while (seconds_since(t0) < seconds) {
    const auto c0 = SteadyClock::now();
    exec("BEGIN IMMEDIATE");
    for (int k = 0; k < rows_per_txn; ++k, ++rows) {
      const std::uint64_t instance = instances == 0 ? rows / 8 : rows % instances;
      const std::string id = "raw-" + run + "-" + std::to_string(instance);
      sqlite3_bind_text(insert, 1, id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(insert, 2, static_cast<sqlite3_int64>(rows));
      sqlite3_bind_int64(insert, 3, static_cast<sqlite3_int64>(wall_ms()));
      sqlite3_bind_text(insert, 4, "transition", -1, SQLITE_STATIC);
      sqlite3_bind_text(insert, 5, kMessage.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(insert, 6, kDetails.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(insert, 7, "durable_bench", -1, SQLITE_STATIC);
      check_sqlite(sqlite3_step(insert), db, "insert");
      sqlite3_reset(insert);
    }
    exec("COMMIT");
    ++txns;
    commit_ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - c0).count());
  }
  const double elapsed = seconds_since(t0);
  const double rows_per_s = static_cast<double>(rows) / elapsed;
  const double p50 = percentile(commit_ms, 0.50);
  const double p99 = percentile(commit_ms, 0.99);
  std::printf(
      "raw-sqlite  %s, %d row(s)/txn, %s, WAL + synchronous=FULL: %.0f rows/s, "
      "%.0f txns/s, txn p50 %.2f ms p99 %.2f ms\n",
      path.c_str(), rows_per_txn,
      instances == 0 ? "appended" : (std::to_string(instances) + " instances taking turns").c_str(),
      rows_per_s, static_cast<double>(txns) / elapsed, p50, p99);
  print_json({{"mode", "raw-sqlite"},
              {"rows_per_txn", rows_per_txn},
              {"instances", instances},
              {"rows", rows},
              {"seconds", elapsed},
              {"rows_per_s", std::round(rows_per_s)},
              {"txns_per_s", std::round(static_cast<double>(txns) / elapsed)},
              {"txn_p50_ms", p50},
              {"txn_p99_ms", p99}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args(argc, argv);
    const std::string mode = args.str("mode");
    const std::string workflows = args.str("workflows", OMBUD_SOURCE_DIR "/bench/workflows");
    if (mode == "transitions") return run_transitions(args, workflows);
    if (mode == "timers") return run_timers(args, workflows);
    if (mode == "restart") return run_restart(args, workflows);
    if (mode == "raw-sqlite") return run_raw_sqlite(args);
    if (mode == "probe") {
      // Whether open_store_url can open --store in this build (the script skips what cannot).
      open_node(args.str("store", "memory:"), workflows);
      return 0;
    }
    std::cerr << "usage: durable_bench --mode transitions|timers|restart|raw-sqlite [--store URL] "
                 "[options]  (see the top of bench/durable_bench.cpp)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "durable_bench: " << e.what() << "\n";
    return 1;
  }
}
