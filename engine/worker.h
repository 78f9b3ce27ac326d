// The worker: the runtime on a thread of its own, with group commit, durable timers and the
// outbox — what `ombud serve` and `ombud pipe` run on.
//
// Callers on any thread submit starts and events and get a future. The worker takes everything
// queued (up to max_batch), runs each request's step against a BatchStore, writes all their
// commits in one transaction and only then fulfils the futures: a caller is acknowledged after
// its commit, and one fsync acknowledges many callers. Requests for one instance are applied in
// the order they were submitted.
//
// Pipelined: a second thread (the committer) writes a batch while the worker thread steps the
// next one on top of it, as if it were committed. The next batch is handed over only once the
// one before is written; if that one was not written (a conflict, a store failure), the batch
// stepped on top of it is dropped and stepped again. At most one batch is being written.
//
// Timers: the database is the source of truth. The worker claims (leases) the timers due within
// `lookahead` into an in-memory queue, refills it every `refill_every`, and fires each when due.
// A claim runs on a thread of its own (the claimer), so the worker steps while it leases;
// the timer's row is deleted by the commit of the step it causes, so it fires exactly once even
// when two nodes race for it. Timers overdue at start-up fire at once, late, with the lateness
// in history. A dead node's leases expire after `lease` and the living claim its timers.
//
// Outbox: a fourth thread claims undelivered notifications and webhooks, hands them to the
// OutboxSink, and marks them delivered or failed (retried with exponential backoff). A slow or
// failing sink never delays a step. The same thread forgets old idempotency answers and
// delivered messages (housekeeping).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "engine/batch_store.h"
#include "engine/clock.h"
#include "engine/runtime.h"
#include "engine/timer_queue.h"

namespace ombud {

// Where outbox messages go: e-mail/SMS gateways, webhook targets. Returns "" when delivered,
// else the error (the message is retried later).
// Called from several threads at once (WorkerOptions::outbox_senders).
class OutboxSink {
 public:
  virtual ~OutboxSink() = default;
  virtual std::string deliver(const OutboxMessage& message) = 0;
};

struct WorkerOptions {
  std::string node = "ombud-1";  // this node's name in timer leases; unique per node
  Millis lookahead{10'000};      // timers due this far ahead are claimed into memory
  Millis lease{30'000};          // how long a claim holds; a dead node's timers move after it
  // How often the claim is renewed and refilled. Small steps: a timer this node armed to come
  // due within the look-ahead is in memory after at most this long (one armed by another node,
  // after at most `sweep_every`), and each claim leases fewer rows.
  Millis refill_every{200};
  // A refill asks only for the slice of the look-ahead it has not claimed yet (and for what this
  // node armed inside it). This often it looks at every timer due within the look-ahead
  // instead: a dead node's expired leases move here, and this node's leases are renewed before
  // they run short. At most a quarter of `lease`.
  Millis sweep_every{2'000};
  std::size_t max_batch = 512;  // requests per group commit
  std::size_t claim_limit = 50'000;
  int conflict_retries = 8;  // reload-and-retry on a revision conflict (other nodes)
  Millis outbox_poll{500};
  // Deliveries under way at once, each on a thread of its own (the sink is called from all of
  // them): a receiver that takes its whole timeout holds one of them, not the rest of the batch.
  std::size_t outbox_senders = 4;
  Millis backoff_first{1'000};  // first retry of a failed delivery; doubles up to backoff_max
  Millis backoff_max{3'600'000};
  // How many committed instances the worker keeps in memory, so that the next event for one
  // is stepped without reading it back (0: none). Right only while this process is the one
  // writing them: a copy gone stale fails its commit's revision check (the batch is redone
  // from the store), but an event answered without a commit (rejected) would have been judged
  // on the stale copy. Unset: the node decides (SQLite, written by one node: 10,000;
  // PostgreSQL, shared by nodes: 0).
  std::optional<std::size_t> remember_instances;
  // Housekeeping, on the outbox thread: an idempotency answer is kept this long after its step
  // committed (a repeat of the key after that is a new request), a delivered message this long
  // after its delivery; zero keeps them for ever. Looked at every `housekeeping_every`, in
  // short writes (Store::forget). History and instances are never forgotten.
  Millis keep_idempotency_keys{std::chrono::hours(24 * 7)};
  Millis keep_delivered_messages{std::chrono::hours(24 * 30)};
  Millis housekeeping_every{60'000};
};

struct WorkerStats {
  std::uint64_t batches = 0;  // group commits that wrote something
  std::uint64_t requests = 0;
  std::uint64_t timers_fired = 0;
  std::uint64_t conflicts = 0;     // batches redone one by one
  std::uint64_t store_errors = 0;  // batches that failed to commit (callers got an error)
  std::uint64_t outbox_delivered = 0;
  std::uint64_t outbox_failed = 0;
  std::uint64_t forgotten_keys = 0;      // idempotency answers past keep_idempotency_keys
  std::uint64_t forgotten_messages = 0;  // delivered messages past keep_delivered_messages
  std::size_t timers_in_memory = 0;      // claimed and waiting
};

class Worker {
 public:
  // `store` must be thread-safe (the SQL store and MemoryStore are) and outlive the worker.
  Worker(Store& store, const Clock& clock, StepContext context, WorkerOptions options = {},
         OutboxSink* sink = nullptr);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Registers a definition version (new instances start on the highest). Safe while running.
  void add_definition(std::shared_ptr<const Definition> def, int version);

  void start();
  // Finishes what was submitted, gives up the timer leases and joins the threads.
  void stop();

  std::future<RuntimeResult> submit(StartRequest request);
  std::future<RuntimeResult> submit(EventRequest request);
  // The same, calling `done` once the answer is known (after the commit), on the committer
  // thread or the worker thread. `done` must be quick and must not block (the next batch's
  // write waits for it): the server posts the answer to the connection.
  using Done = std::function<void(RuntimeResult)>;
  void submit(StartRequest request, Done done);
  void submit(EventRequest request, Done done);
  std::future<RuntimeResult> submit(AssignRequest request);
  void submit(AssignRequest request, Done done);
  std::future<RuntimeResult> submit(ResolveIncidentRequest request);
  void submit(ResolveIncidentRequest request, Done done);
  // Wakes the loop now (tests with a ManualClock call it after moving the clock).
  void poke();

  WorkerStats stats() const;

  // Called after every committed batch with the results committed in it, requests and fired
  // timers (possibly in two calls), for metrics and logs: before the callers of a group commit
  // are answered, after those of a batch redone one by one. Set before start(). Called on the
  // committer thread or the worker thread (a batch written while nothing else waited, or redone
  // one by one), one call at a time.
  std::function<void(std::span<const RuntimeResult>)> on_commit;
  // Called with how long each group commit's transaction took (written or conflicted), for the
  // store latency metric. Set before start(). Same threads as on_commit, one call at a time.
  std::function<void(std::chrono::nanoseconds)> on_flush;

 private:
  struct Pending {
    std::variant<StartRequest, EventRequest, AssignRequest, ResolveIncidentRequest> request;
    Done done;
  };
  void enqueue(Pending p);

  void loop();
  void outbox_loop();
  // Delivers the messages due now; how many it claimed.
  std::size_t deliver_outbox();
  bool outbox_stop_requested();
  // Forgets what is past its keeping time; true when a backlog is left for the next pass.
  bool housekeeping(Timestamp now);
  // Asks the claimer for a claim (refill and renewal), unless one is under way.
  void request_claim(Timestamp now);
  // Takes a claim's timers into memory (worker thread).
  struct Claimed;
  void take_claim(Claimed claimed);
  // Registers what add_definition queued (worker thread, mutex_ held).
  void register_new_definitions();
  // Registers new definitions, then moves queued requests into `batch` up to max_batch (worker
  // thread, mutex_ held).
  void take_queued(std::vector<Pending>& batch);
  void claim_loop();
  std::uint64_t acquire_handle(const std::string& instance_id);
  void forget_claim(const DueTimer& timer);
  // A batch stepped and sealed, on its way to the store.
  struct Flight {
    std::span<const Commit> commits;  // sealed in batch_store_
    std::vector<Pending> batch;
    std::vector<RuntimeResult> results;  // one per request of `batch`
    std::vector<RuntimeResult> fired;
    std::vector<DueTimer> timers;
    std::optional<Timestamp> armed_soon;
    // Set by the committer.
    enum class Outcome { written, conflict, failed } outcome = Outcome::failed;
    std::string error;
    bool finished = false;  // guarded by flight_mutex_
  };
  void process(std::vector<Pending>& batch, std::vector<DueTimer>& timers);
  // Steps `batch` and `timers` into batch_store_ (on top of a sealed batch, if one is in
  // flight). Throws what the store throws.
  void step_batch(std::vector<Pending>& batch, std::vector<DueTimer>& timers, Flight& out);
  // Steps more into the batch being built, on top of what it holds.
  void step_into(std::span<const Pending> requests, std::span<const DueTimer> timers, Flight& out);
  // While a batch is in flight: takes what arrives or comes due into `batch` and `timers` and
  // steps it, until that batch is written (or this one is full).
  void absorb(std::vector<Pending>& batch, std::vector<DueTimer>& timers, Flight& out);
  // Takes up to `limit` timers due at `now` out of memory.
  void pop_due(Timestamp now, std::size_t limit, std::vector<DueTimer>& out);
  // Waits until the batch in flight (if any) is written or not, and finishes it: the kept
  // instances, the claims, a redo after a conflict, the errors after a failure. False: it was
  // not written, so what was stepped on top of it is gone and must be stepped again.
  bool settle_flight();
  void wait_flight_finished();
  void commit_loop();
  void commit_flight(Flight& f);
  // A batch nothing of which was written (the store failed): its callers get `unavailable`,
  // its timers are claimed again.
  void fail_batch(std::vector<Pending>& batch, const std::vector<DueTimer>& timers,
                  const std::string& error);
  RuntimeResult run_one(Runtime& runtime, const Pending& p);
  void redo_one_by_one(std::vector<Pending>& batch, std::vector<DueTimer>& timers);

  Store& store_;
  const Clock& clock_;
  WorkerOptions options_;
  OutboxSink* sink_;
  BatchStore batch_store_;
  Runtime batch_runtime_;   // steps against the batch
  Runtime direct_runtime_;  // steps straight against the store (conflict fallback)
  std::minstd_rand jitter_{std::random_device{}()};  // conflict backoff (worker thread only)

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  std::vector<std::pair<std::shared_ptr<const Definition>, int>> new_definitions_;
  std::vector<std::shared_ptr<const Definition>> definitions_;  // keeps them alive
  bool stopping_ = false;
  bool poked_ = false;
  WorkerStats stats_;

  // Worker thread only.
  TimerQueue timers_;
  std::vector<DueEntry> due_;                     // pop_due's scratch
  std::map<std::string, std::uint64_t> handles_;  // instance id → TimerKey::instance
  std::vector<std::string> handle_ids_;           // TimerKey::instance → instance id
  std::vector<std::uint32_t> handle_refs_;        // claimed timers per handle
  std::vector<std::uint64_t> free_handles_;
  std::set<std::pair<std::string, std::uint64_t>> claimed_;
  Timestamp next_refill_{};
  bool refill_soon_ = false;
  bool renew_all_ = true;    // the next refill renews (and returns) every lease this node holds
  bool claiming_ = false;    // a claim was asked for and not yet taken
  bool sweep_soon_ = false;  // the next claim looks at the whole look-ahead
  Timestamp next_sweep_{};
  // Every timer due up to here that nobody held was claimed, except rows another transaction
  // held locked at the time (SKIP LOCKED): those wait for the next sweep. A refill asks for
  // what lies beyond.
  Timestamp claimed_through_ = Timestamp::min();
  // The earliest timer this node armed (committed) since the last claim was asked for.
  std::optional<Timestamp> armed_since_claim_;
  // Timers forgotten while a claim was under way: fired (or failed) after it may have read
  // them, so it must not put them back into memory.
  std::set<std::pair<std::string, std::uint64_t>> forgotten_while_claiming_;

  // The claimer's order and answer, guarded by mutex_.
  struct Claimed {
    TimerClaim asked;
    std::vector<DueTimer> timers;
    bool failed = false;
  };
  std::optional<TimerClaim> claim_order_;
  std::optional<Claimed> claimed_answer_;
  bool claimer_stopping_ = false;
  std::condition_variable claim_cv_;

  // The batch in flight (owned by the worker thread; the committer writes it), and the hand-over.
  std::unique_ptr<Flight> flight_;
  std::mutex flight_mutex_;
  std::condition_variable flight_cv_;
  Flight* to_commit_ = nullptr;  // guarded by flight_mutex_
  bool committer_stopping_ = false;
  bool flight_landed_ = false;  // guarded by mutex_: wakes the loop to settle it

  std::mutex outbox_mutex_;
  std::condition_variable outbox_wake_;
  bool outbox_stopping_ = false;

  std::thread thread_;
  std::thread committer_thread_;
  std::thread claimer_thread_;
  std::thread outbox_thread_;
};

}  // namespace ombud
