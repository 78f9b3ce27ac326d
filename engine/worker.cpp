#include "engine/worker.h"

#include <algorithm>
#include <atomic>
#include <optional>

namespace ombud {

namespace {

RuntimeResult error_result(RuntimeResult::Status status, std::string message) {
  RuntimeResult r;
  r.status = status;
  r.error = std::move(message);
  return r;
}

// A store failure (database down, disk full) answers the caller with an error; nothing of its
// request was written, so it may safely retry.
RuntimeResult store_error(const std::string& what) {
  RuntimeResult r = error_result(RuntimeResult::Status::unavailable, "store: " + what);
  r.store_failure = true;
  return r;
}

}  // namespace

Worker::Worker(Store& store, const Clock& clock, StepContext context, WorkerOptions options,
               OutboxSink* sink)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      sink_(sink),
      batch_store_(store),
      batch_runtime_(batch_store_, clock, context),
      direct_runtime_(store, clock, std::move(context)) {
  batch_store_.remember_committed(options_.remember_instances.value_or(0));
  batch_store_.wait_for_sealed = [this] { wait_flight_finished(); };
}

Worker::~Worker() { stop(); }

void Worker::add_definition(std::shared_ptr<const Definition> def, int version) {
  {
    const std::lock_guard lock(mutex_);
    new_definitions_.emplace_back(std::move(def), version);
    poked_ = true;
  }
  if (!thread_.joinable()) {
    // Not running yet: register now so the first requests see it.
    register_new_definitions();
    return;
  }
  wake_.notify_one();
}

void Worker::register_new_definitions() {
  for (auto& [d, v] : new_definitions_) {
    batch_runtime_.add_definition(*d, v);
    direct_runtime_.add_definition(*d, v);
    definitions_.push_back(d);
  }
  new_definitions_.clear();
}

void Worker::take_queued(std::vector<Pending>& batch) {
  // A request submitted after its workflow was published must find it.
  register_new_definitions();
  while (!queue_.empty() && batch.size() < options_.max_batch) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
}

void Worker::start() {
  if (thread_.joinable()) return;
  {
    const std::lock_guard lock(mutex_);
    stopping_ = false;
    claimer_stopping_ = false;
    claim_order_.reset();
    claimed_answer_.reset();
  }
  outbox_stopping_ = false;
  renew_all_ = true;
  claiming_ = false;
  forgotten_while_claiming_.clear();
  claimed_through_ = Timestamp::min();
  armed_since_claim_.reset();
  {
    const std::lock_guard lock(flight_mutex_);
    committer_stopping_ = false;
  }
  committer_thread_ = std::thread([this] { commit_loop(); });
  claimer_thread_ = std::thread([this] { claim_loop(); });
  thread_ = std::thread([this] { loop(); });
  const bool forgets =
      options_.keep_idempotency_keys.count() > 0 || options_.keep_delivered_messages.count() > 0;
  if (sink_ != nullptr || forgets) outbox_thread_ = std::thread([this] { outbox_loop(); });
}

void Worker::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();  // settles the batch in flight before it returns
  if (claimer_thread_.joinable()) claimer_thread_.join();  // the worker thread stopped it
  {
    const std::lock_guard lock(flight_mutex_);
    committer_stopping_ = true;
  }
  flight_cv_.notify_all();
  if (committer_thread_.joinable()) committer_thread_.join();
  {
    const std::lock_guard lock(outbox_mutex_);
    outbox_stopping_ = true;
  }
  outbox_wake_.notify_one();
  if (outbox_thread_.joinable()) outbox_thread_.join();
}

void Worker::enqueue(Pending p) {
  {
    const std::lock_guard lock(mutex_);
    queue_.push_back(std::move(p));
  }
  wake_.notify_one();
}

namespace {

template <typename Request>
std::future<RuntimeResult> submit_for_future(Worker& worker, Request request) {
  auto promise = std::make_shared<std::promise<RuntimeResult>>();
  auto future = promise->get_future();
  worker.submit(std::move(request),
                [promise](RuntimeResult r) { promise->set_value(std::move(r)); });
  return future;
}

}  // namespace

std::future<RuntimeResult> Worker::submit(StartRequest request) {
  return submit_for_future(*this, std::move(request));
}

std::future<RuntimeResult> Worker::submit(EventRequest request) {
  return submit_for_future(*this, std::move(request));
}

std::future<RuntimeResult> Worker::submit(AssignRequest request) {
  return submit_for_future(*this, std::move(request));
}

void Worker::submit(AssignRequest request, Done done) {
  enqueue({std::move(request), std::move(done)});
}

std::future<RuntimeResult> Worker::submit(ResolveIncidentRequest request) {
  return submit_for_future(*this, std::move(request));
}

void Worker::submit(ResolveIncidentRequest request, Done done) {
  enqueue({std::move(request), std::move(done)});
}

void Worker::submit(StartRequest request, Done done) {
  enqueue({std::move(request), std::move(done)});
}

void Worker::submit(EventRequest request, Done done) {
  enqueue({std::move(request), std::move(done)});
}

void Worker::poke() {
  {
    const std::lock_guard lock(mutex_);
    poked_ = true;
  }
  wake_.notify_one();
}

WorkerStats Worker::stats() const {
  const std::lock_guard lock(mutex_);
  return stats_;
}

void Worker::request_claim(Timestamp now) {
  // Takes new leases and renews the ones this node holds that run out within half a lease; a
  // timer already in memory keeps its place. After a start or a failure every lease this node
  // holds is renewed and returned: timers it held before are not in memory (any more).
  if (claiming_) return;  // one at a time; asked again once this one is taken
  claiming_ = true;
  next_refill_ = now + options_.refill_every;
  refill_soon_ = false;
  TimerClaim claim{.node = options_.node,
                   .until = now + options_.lookahead,
                   .now = now,
                   .lease_until = now + options_.lease,
                   .renew_before = renew_all_ ? Timestamp::max() : now + options_.lease / 2,
                   .limit = options_.claim_limit};
  if (renew_all_ || sweep_soon_ || now >= next_sweep_) {
    // A lease under 4 ms (tests) makes every claim a sweep.
    next_sweep_ = now + std::min<Millis>(options_.sweep_every, options_.lease / 4);
    sweep_soon_ = false;
  } else {
    // The slice beyond what was claimed, and from just before what this node armed since.
    claim.after = claimed_through_;
    if (armed_since_claim_) claim.after = std::min(claim.after, *armed_since_claim_ - Millis(1));
  }
  armed_since_claim_.reset();
  renew_all_ = false;
  {
    const std::lock_guard lock(mutex_);
    claim_order_ = std::move(claim);
  }
  claim_cv_.notify_one();
}

void Worker::claim_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    claim_cv_.wait(lock, [&] { return claimer_stopping_ || claim_order_.has_value(); });
    if (!claim_order_) return;
    Claimed answer;
    answer.asked = *std::exchange(claim_order_, std::nullopt);
    lock.unlock();
    // On a thread of its own: a claim writes each row it leases, and the worker steps meanwhile.
    try {
      answer.timers = store_.claim_timers(answer.asked);
    } catch (const std::exception&) {
      answer.failed = true;
    }
    lock.lock();
    claimed_answer_ = std::move(answer);
    wake_.notify_one();
  }
}

void Worker::take_claim(Claimed claimed) {
  claiming_ = false;
  if (claimed.failed) {
    // Asked again at the next refill, for the whole look-ahead; a renewal of every lease is
    // still owed if this one was to give it.
    if (claimed.asked.renew_before == Timestamp::max()) renew_all_ = true;
    sweep_soon_ = true;
    forgotten_while_claiming_.clear();
    const std::lock_guard lock(mutex_);
    stats_.store_errors += 1;
    return;
  }
  // A claim cut short by its limit covered the look-ahead only up to its last timer.
  claimed_through_ = claimed.timers.size() >= claimed.asked.limit && !claimed.timers.empty()
                         ? claimed.timers.back().due - Millis(1)
                         : claimed.asked.until;
  for (const auto& t : claimed.timers) {
    const std::pair<std::string, std::uint64_t> key{t.instance_id, t.timer_id};
    // Fired (its row deleted) after the claim read it, or let go by a failed batch (claimed
    // again by the renewal that failure asked for).
    if (forgotten_while_claiming_.contains(key)) continue;
    if (!claimed_.insert(key).second) continue;
    timers_.insert(t.due, {acquire_handle(t.instance_id), t.timer_id});
  }
  forgotten_while_claiming_.clear();
  const std::lock_guard lock(mutex_);
  stats_.timers_in_memory = timers_.size();
}

std::uint64_t Worker::acquire_handle(const std::string& instance_id) {
  auto [it, added] = handles_.try_emplace(instance_id, 0);
  if (added) {
    if (free_handles_.empty()) {
      it->second = handle_ids_.size();
      handle_ids_.push_back(instance_id);
      handle_refs_.push_back(0);
    } else {
      it->second = free_handles_.back();
      free_handles_.pop_back();
      handle_ids_[it->second] = instance_id;
    }
  }
  handle_refs_[it->second] += 1;
  return it->second;
}

void Worker::forget_claim(const DueTimer& t) {
  if (claimed_.erase({t.instance_id, t.timer_id}) == 0) return;
  if (claiming_) forgotten_while_claiming_.insert({t.instance_id, t.timer_id});
  auto it = handles_.find(t.instance_id);
  if (it == handles_.end()) return;
  // A handle no claimed timer refers to is reused, so memory follows the claimed window, not
  // every instance that ever had a timer on this node.
  if (--handle_refs_[it->second] == 0) {
    handle_ids_[it->second].clear();
    free_handles_.push_back(it->second);
    handles_.erase(it);
  }
}

RuntimeResult Worker::run_one(Runtime& runtime, const Pending& p) {
  for (int attempt = 0;; ++attempt) {
    RuntimeResult r = std::visit(
        [&](const auto& request) {
          using T = std::decay_t<decltype(request)>;
          if constexpr (std::is_same_v<T, StartRequest>) {
            return runtime.start(request);
          } else if constexpr (std::is_same_v<T, AssignRequest>) {
            return runtime.assign(request);
          } else if constexpr (std::is_same_v<T, ResolveIncidentRequest>) {
            return runtime.resolve_incident(request);
          } else {
            return runtime.send(request);
          }
        },
        p.request);
    if (r.status != RuntimeResult::Status::conflict || attempt >= options_.conflict_retries) {
      return r;
    }
    if (&runtime == &direct_runtime_) {
      // Another node won the race for the same row; let it finish before reading again.
      // Jittered and growing, so two nodes retrying do not collide in step (≤ 64 ms).
      const std::int64_t ceiling_us = std::int64_t{500} << std::min(attempt, 7);
      std::uniform_int_distribution<std::int64_t> pick(0, ceiling_us);
      std::this_thread::sleep_for(std::chrono::microseconds(pick(jitter_)));
    }
  }
}

void Worker::step_batch(std::vector<Pending>& batch, std::vector<DueTimer>& timers, Flight& out) {
  batch_store_.discard();
  out.results.clear();
  out.fired.clear();
  step_into(batch, timers, out);
}

void Worker::step_into(std::span<const Pending> requests, std::span<const DueTimer> timers,
                       Flight& out) {
  // What the steps will ask the store, asked in one go: the instances they step, their
  // idempotency keys, the open cases of the business keys they name (an event by business key
  // is then read by its step).
  ReadAhead ask;
  ask.instances.reserve(requests.size() + timers.size());
  for (const auto& p : requests) {
    if (const auto* s = std::get_if<StartRequest>(&p.request)) {
      ask.idempotency_keys.push_back(s->idempotency_key);
      // Only a one_open workflow asks whether the key has an open case before it starts one.
      const Definition* def = s->key.empty() ? nullptr : batch_runtime_.definition(s->workflow);
      if (def != nullptr && def->key_policy == KeyPolicy::one_open) {
        ask.open_keys.emplace_back(s->workflow, s->key);
      }
    } else if (const auto* e = std::get_if<EventRequest>(&p.request)) {
      ask.idempotency_keys.push_back(e->idempotency_key);
      if (e->instance_id.empty()) {
        ask.open_keys.emplace_back(e->workflow, e->key);
      } else {
        ask.instances.push_back(e->instance_id);
      }
    } else if (const auto* a = std::get_if<AssignRequest>(&p.request)) {
      ask.instances.push_back(a->instance_id);
    } else if (const auto* i = std::get_if<ResolveIncidentRequest>(&p.request)) {
      ask.instances.push_back(i->instance_id);
    }
  }
  for (const auto& t : timers) ask.instances.push_back(t.instance_id);
  batch_store_.prefetch(ask);
  out.results.reserve(out.results.size() + requests.size());
  for (const auto& p : requests) out.results.push_back(run_one(batch_runtime_, p));
  for (const auto& t : timers) {
    if (auto r = batch_runtime_.fire_timer(t)) out.fired.push_back(std::move(*r));
  }
  out.armed_soon = batch_store_.earliest_armed();
}

void Worker::pop_due(Timestamp now, std::size_t limit, std::vector<DueTimer>& out) {
  due_.clear();
  timers_.pop_due(now, limit, due_);
  out.reserve(out.size() + due_.size());
  for (const auto& d : due_) out.push_back({handle_ids_[d.key.instance], d.key.timer, d.due});
}

void Worker::absorb(std::vector<Pending>& batch, std::vector<DueTimer>& timers, Flight& out) {
  // Until the batch below is written, what arrives or comes due is stepped into this one: it
  // leaves with everything that was ready when the store became free, instead of leaving that
  // for the batch after it, a whole write later.
  if (!flight_) return;
  for (;;) {
    const std::size_t requests_before = batch.size();
    const std::size_t timers_before = timers.size();
    {
      std::unique_lock lock(mutex_);
      const auto ready = [&] { return flight_landed_ || stopping_ || !queue_.empty(); };
      const Timestamp now = clock_.now();
      const auto next = timers_.next_due();
      if (!ready() && (!next || *next > now)) {
        const Millis wait =
            next ? std::min<Millis>(*next - now, options_.refill_every) : options_.refill_every;
        wake_.wait_for(lock, wait, ready);
      }
      if (flight_landed_ || stopping_) return;
      take_queued(batch);
    }
    if (timers.size() < options_.max_batch) {
      pop_due(clock_.now(), options_.max_batch - timers.size(), timers);
    }
    if (batch.size() == requests_before && timers.size() == timers_before) {
      // Full, or woken for nothing: the write below is awaited by settle_flight().
      if (batch.size() >= options_.max_batch || timers.size() >= options_.max_batch) return;
      continue;
    }
    // In the batch before they are stepped: if a step throws, fail_batch answers them too.
    step_into(std::span(batch).subspan(requests_before), std::span(timers).subspan(timers_before),
              out);
  }
}

void Worker::process(std::vector<Pending>& batch, std::vector<DueTimer>& timers) {
  auto f = std::make_unique<Flight>();
  for (;;) {
    std::optional<std::string> failure;
    try {
      step_batch(batch, timers, *f);
      absorb(batch, timers, *f);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    // Only a batch whose predecessor is written may be written: settle that one first. If it
    // was not written, this batch saw things that never happened; step it again.
    if (!settle_flight() && !failure) continue;
    if (failure) {
      batch_store_.discard();
      fail_batch(batch, timers, *failure);
      return;
    }
    break;
  }
  f->commits = batch_store_.seal();
  f->batch = std::move(batch);
  f->timers = std::move(timers);
  flight_ = std::move(f);
  bool more_waiting = false;
  {
    const std::lock_guard lock(mutex_);
    more_waiting = !queue_.empty();
  }
  if (const auto next = timers_.next_due()) more_waiting = more_waiting || *next <= clock_.now();
  // A lone request (or timer) with nothing else waiting is written here, which saves its caller
  // two thread hand-overs. A bigger batch means others are about: more are likely on their way
  // (a caller answered a moment ago sends its next request), and they are stepped while the
  // committer writes this one instead of waiting for this thread's write and fsync.
  const bool lone = flight_->batch.size() + flight_->timers.size() <= 1;
  if (lone && !more_waiting) {
    commit_flight(*flight_);
    {
      const std::lock_guard lock(flight_mutex_);
      flight_->finished = true;
    }
    settle_flight();
    return;
  }
  {
    const std::lock_guard lock(flight_mutex_);
    to_commit_ = flight_.get();
  }
  flight_cv_.notify_all();
}

void Worker::commit_loop() {
  for (;;) {
    Flight* f = nullptr;
    {
      std::unique_lock lock(flight_mutex_);
      flight_cv_.wait(lock, [&] { return committer_stopping_ || to_commit_ != nullptr; });
      if (to_commit_ == nullptr) return;  // stopping, and the worker settled its last batch
      f = std::exchange(to_commit_, nullptr);
    }
    commit_flight(*f);
    // The loop's flag first: settle_flight() clears it after it saw `finished`, so a flag left
    // set never makes the loop wait for the next batch's write. `f` may be gone once finished.
    {
      const std::lock_guard lock(mutex_);
      flight_landed_ = true;
    }
    wake_.notify_one();
    {
      const std::lock_guard lock(flight_mutex_);
      f->finished = true;
    }
    flight_cv_.notify_all();
  }
}

void Worker::commit_flight(Flight& f) {
  const auto started = std::chrono::steady_clock::now();
  try {
    const CommitResult result = f.commits.empty() ? CommitResult::ok : store_.commit_all(f.commits);
    f.outcome = result == CommitResult::ok ? Flight::Outcome::written : Flight::Outcome::conflict;
  } catch (const std::exception& e) {
    f.outcome = Flight::Outcome::failed;
    f.error = e.what();
    return;
  }
  // Outside the try: what the metric does must not turn a written batch into a failed one.
  if (on_flush && !f.commits.empty()) on_flush(std::chrono::steady_clock::now() - started);
  if (f.outcome != Flight::Outcome::written) return;  // the worker redoes it one by one
  {
    const std::lock_guard lock(mutex_);
    // A batch of repeats and refusals wrote nothing: no group commit to count.
    if (!f.commits.empty()) stats_.batches += 1;
    stats_.requests += f.batch.size();
    stats_.timers_fired += f.fired.size();
  }
  if (on_commit) {
    on_commit(f.results);
    if (!f.fired.empty()) on_commit(f.fired);
  }
  for (std::size_t i = 0; i < f.batch.size(); ++i) f.batch[i].done(std::move(f.results[i]));
}

void Worker::wait_flight_finished() {
  if (!flight_) return;
  std::unique_lock lock(flight_mutex_);
  flight_cv_.wait(lock, [&] { return flight_->finished; });
}

bool Worker::settle_flight() {
  if (!flight_) return true;
  wait_flight_finished();
  std::unique_ptr<Flight> f = std::move(flight_);
  {
    const std::lock_guard lock(mutex_);
    flight_landed_ = false;
  }
  switch (f->outcome) {
    case Flight::Outcome::written:
      batch_store_.landed(true);
      for (const auto& t : f->timers) forget_claim(t);
      // A timer this batch armed that comes due before the next periodic refill is claimed on
      // the next turn; the others wait for the refill (claiming after every batch would
      // re-lease the whole window each time).
      if (f->armed_soon) {
        if (*f->armed_soon <= next_refill_) refill_soon_ = true;
        armed_since_claim_ =
            std::min(armed_since_claim_.value_or(Timestamp::max()), *f->armed_soon);
      }
      return true;
    case Flight::Outcome::conflict:
      // Another node changed something this batch read. Nothing was written: redo each request
      // on its own, reloading what changed.
      batch_store_.landed(false);
      {
        const std::lock_guard lock(mutex_);
        stats_.conflicts += 1;
      }
      redo_one_by_one(f->batch, f->timers);
      return false;
    case Flight::Outcome::failed:
      batch_store_.landed(false);
      fail_batch(f->batch, f->timers, f->error);
      return false;
  }
  return false;
}

void Worker::fail_batch(std::vector<Pending>& batch, const std::vector<DueTimer>& timers,
                        const std::string& error) {
  {
    const std::lock_guard lock(mutex_);
    stats_.store_errors += 1;
  }
  for (auto& p : batch) p.done(store_error(error));
  // The timers stay claimed in the database; forget them here and claim them again.
  for (const auto& t : timers) forget_claim(t);
  refill_soon_ = true;
  renew_all_ = true;
}

void Worker::redo_one_by_one(std::vector<Pending>& batch, std::vector<DueTimer>& timers) {
  // The direct runtime writes past the batch, so what the batch kept is no longer current.
  batch_store_.forget_committed();
  std::vector<RuntimeResult> committed;
  for (auto& p : batch) {
    try {
      RuntimeResult r = run_one(direct_runtime_, p);
      committed.push_back(r);
      p.done(std::move(r));
    } catch (const std::exception& e) {
      p.done(store_error(e.what()));
    }
  }
  std::uint64_t fired = 0;
  for (const auto& t : timers) {
    forget_claim(t);
    try {
      // A conflict here means the row is gone: fired or cancelled elsewhere. Nothing to do.
      if (auto r = direct_runtime_.fire_timer(t);
          r && r->status != RuntimeResult::Status::conflict) {
        committed.push_back(std::move(*r));
        ++fired;
      }
    } catch (const std::exception&) {
      refill_soon_ = true;  // still in the database; claimed again
      renew_all_ = true;
    }
  }
  refill_soon_ = true;
  sweep_soon_ = true;  // what the steps armed is not known here
  {
    const std::lock_guard lock(mutex_);
    stats_.batches += 1;
    stats_.requests += batch.size();
    stats_.timers_fired += fired;
  }
  if (on_commit) on_commit(committed);
}

void Worker::loop() {
  request_claim(clock_.now());
  for (;;) {
    std::vector<Pending> batch;
    bool landed = false;
    std::optional<Claimed> claimed;
    {
      std::unique_lock lock(mutex_);
      const Timestamp now = clock_.now();
      // While a claim is under way its answer wakes the loop; the next one is asked after it.
      Timestamp wake_at = claiming_ ? Timestamp::max() : refill_soon_ ? now : next_refill_;
      if (auto next = timers_.next_due()) wake_at = std::min(wake_at, *next);
      if (queue_.empty() && !stopping_ && !poked_ && !flight_landed_ && new_definitions_.empty() &&
          !claimed_answer_ && wake_at > now) {
        // The clock may be a ManualClock: a wait is bounded by the refill period either way.
        wake_.wait_for(lock, std::min<Millis>(wake_at - now, options_.refill_every));
      }
      poked_ = false;
      take_queued(batch);
      landed = flight_landed_;
      claimed = std::exchange(claimed_answer_, std::nullopt);
      if (stopping_ && batch.empty() && queue_.empty()) break;
    }
    if (landed) settle_flight();
    if (claimed) take_claim(std::move(*claimed));
    const Timestamp now = clock_.now();
    if (refill_soon_ || now >= next_refill_) request_claim(now);
    std::vector<DueTimer> timers;
    pop_due(now, options_.max_batch, timers);
    if (!batch.empty() || !timers.empty()) process(batch, timers);
  }
  settle_flight();
  // The claimer first: a claim finishing after the release would lease timers again.
  {
    const std::lock_guard lock(mutex_);
    claimer_stopping_ = true;
    claim_order_.reset();
  }
  claim_cv_.notify_one();
  if (claimer_thread_.joinable()) claimer_thread_.join();
  try {
    store_.release_timers(options_.node);
  } catch (const std::exception&) {
    // The leases expire on their own.
  }
}

// Outbox messages claimed and delivered together.
constexpr std::size_t kOutboxBatch = 64;

void Worker::outbox_loop() {
  std::optional<Timestamp> next_housekeeping;  // the first pass runs at once
  std::unique_lock lock(outbox_mutex_);
  while (!outbox_stopping_) {
    lock.unlock();
    const std::size_t handled = sink_ != nullptr ? deliver_outbox() : 0;
    const Timestamp now = clock_.now();
    if (!next_housekeeping || now >= *next_housekeeping) {
      // A backlog left (a first pass over a long-kept store) goes on at the next poll.
      next_housekeeping = housekeeping(now) ? now : now + options_.housekeeping_every;
    }
    lock.lock();
    // A full batch goes on at once. A smaller one waits for the poll: claiming again at once
    // would claim messages one or two at a time, each claim and its delivered mark a commit
    // (an fsync on SQLite) that the steps' group commits wait behind.
    if (handled < kOutboxBatch) {
      outbox_wake_.wait_for(lock, options_.outbox_poll, [&] { return outbox_stopping_; });
    }
  }
}

bool Worker::outbox_stop_requested() {
  const std::lock_guard lock(outbox_mutex_);
  return outbox_stopping_;
}

std::size_t Worker::deliver_outbox() {
  std::size_t handled = 0;
  try {
    const Timestamp now = clock_.now();
    // The lease: a message this node claimed and did not finish (it died) is retried after
    // it, by whichever node claims it then.
    const Timestamp lease_until = now + options_.lease;
    auto messages = store_.claim_outbox(now, lease_until, kOutboxBatch);
    handled = messages.size();
    // The batch is shared out among the senders, a message at a time. A stop waits for the
    // deliveries under way, not the batch. And the senders stop taking messages while half the
    // lease is left: past that, another node may claim the rest and send them too. What is not
    // tried here is claimed again when its lease runs out.
    std::vector<std::optional<std::string>> errors(messages.size());  // unset: not tried
    std::atomic<std::size_t> next{0};
    auto send = [&] {
      for (std::size_t i = next++; i < messages.size(); i = next++) {
        if (outbox_stop_requested() || clock_.now() >= lease_until - options_.lease / 2) return;
        try {
          errors[i] = sink_->deliver(messages[i]);
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      }
    };
    {
      std::vector<std::jthread> senders;
      const std::size_t wanted =
          std::min(std::max<std::size_t>(options_.outbox_senders, 1), messages.size());
      for (std::size_t k = 1; k < wanted; ++k) senders.emplace_back(send);
      send();
    }                                      // every sender has returned
    std::vector<std::uint64_t> delivered;  // marked together, in one commit
    for (std::size_t i = 0; i < messages.size(); ++i) {
      if (!errors[i]) continue;
      const OutboxMessage& m = messages[i];
      if (errors[i]->empty()) {
        delivered.push_back(m.id);
        continue;
      }
      try {
        Millis wait = options_.backoff_first;
        for (int k = 1; k < m.attempts && wait < options_.backoff_max; ++k) wait *= 2;
        store_.outbox_failed(m.id, *errors[i], clock_.now() + std::min(wait, options_.backoff_max));
        const std::lock_guard stats_lock(mutex_);
        stats_.outbox_failed += 1;
      } catch (const std::exception&) {
        // Not recorded (the store is away): the message is claimed again after its lease.
      }
    }
    if (!delivered.empty()) {
      // If this fails (the store is away), they are claimed again after their lease and sent
      // again, as after a crash: delivery is at least once.
      store_.outbox_delivered(delivered, clock_.now());
      const std::lock_guard stats_lock(mutex_);
      stats_.outbox_delivered += delivered.size();
    }
  } catch (const std::exception&) {
    // The store is unavailable; try again on the next poll.
  }
  return handled;
}

bool Worker::housekeeping(Timestamp now) {
  ForgetBefore f;
  if (options_.keep_idempotency_keys.count() > 0) {
    f.idempotency_keys = now - options_.keep_idempotency_keys;
  }
  if (options_.keep_delivered_messages.count() > 0) {
    f.delivered_messages = now - options_.keep_delivered_messages;
  }
  if (f.idempotency_keys == Timestamp::min() && f.delivered_messages == Timestamp::min()) {
    return false;
  }
  // A few short writes per pass: on SQLite each one holds the writer that group commits wait
  // for, so a long backlog is worked off a slice at a time.
  try {
    for (int slice = 0; slice < 8; ++slice) {
      const Forgotten got = store_.forget(f);
      {
        const std::lock_guard stats_lock(mutex_);
        stats_.forgotten_keys += got.idempotency_keys;
        stats_.forgotten_messages += got.delivered_messages;
      }
      if (got.idempotency_keys < f.limit && got.delivered_messages < f.limit) return false;
    }
    return true;
  } catch (const std::exception&) {
    return false;  // the store is unavailable; the next pass tries again
  }
}

}  // namespace ombud
