#include "adapters/sql/pg_batch.h"

#include <boost/json/serialize.hpp>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "adapters/sql/history_row.h"
#include "adapters/sql/instance_row.h"
#include "engine/instance.h"

namespace ombud::sql {

namespace {

long long to_ms(Timestamp t) { return t.time_since_epoch().count(); }

// PostgreSQL array literals, built in place: {"a","b \"c\"",NULL,42}. Bound as text and cast
// in the query (CAST(:p AS text[])), so a batch of any size is one prepared statement.
void begin_array(std::string& a) { a.assign("{"); }
void next_element(std::string& a) {
  if (a.size() > 1) a += ',';
}
void add(std::string& a, std::string_view text) {
  next_element(a);
  a += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') a += '\\';
    a += c;
  }
  a += '"';
}
void add(std::string& a, long long n) {
  next_element(a);
  a += std::to_string(n);
}
void add_null(std::string& a) {
  next_element(a);
  a += "NULL";
}
void end_array(std::string& a) { a += '}'; }

// The statement. Every parameter appears once, in params_ order; the rows of a kind the batch
// has none of are an empty array. No row is changed by two of its WITH queries (PostgreSQL
// leaves unspecified which change wins): a fired timer that is armed again is moved by
// `fired_moved`, and is neither in `cancelled` nor in `armed`.
constexpr const char* kWrite =
    // Instances (params 0..14): new ones (expected revision 0) are inserted, ON CONFLICT DO
    // NOTHING rather than an error so that a taken id is counted as a conflict; the others
    // change only if they are still at the revision their batch loaded.
    "WITH inst AS (SELECT * FROM unnest(CAST(:id AS text[]), CAST(:workflow AS text[]), "
    "CAST(:version AS integer[]), CAST(:state AS text[]), CAST(:key AS text[]), "
    "CAST(:assignee AS text[]), CAST(:queue AS text[]), CAST(:ended AS smallint[]), "
    "CAST(:revision AS bigint[]), CAST(:created AS bigint[]), CAST(:updated AS bigint[]), "
    "CAST(:due AS bigint[]), CAST(:breached AS smallint[]), CAST(:body AS text[]), "
    "CAST(:expected AS bigint[])) AS v(id, workflow, version, state, business_key, assignee, "
    "queue, ended, revision, created_at, updated_at, sla_due_at, sla_breached, body, expected)), "
    "inst_new AS (INSERT INTO instances (id, workflow, version, state, business_key, assignee, "
    "queue, ended, revision, created_at, updated_at, sla_due_at, sla_breached, body) "
    "SELECT id, workflow, version, state, business_key, assignee, queue, ended, revision, "
    "created_at, updated_at, sla_due_at, sla_breached, body FROM inst WHERE expected = 0 "
    "ON CONFLICT (id) DO NOTHING RETURNING 1), "
    "inst_moved AS (UPDATE instances AS t SET version = v.version, state = v.state, business_key = "
    "v.business_key, "
    "assignee = v.assignee, queue = v.queue, ended = v.ended, revision = v.revision, "
    "updated_at = v.updated_at, sla_due_at = v.sla_due_at, sla_breached = v.sla_breached, "
    "body = v.body FROM inst AS v WHERE v.expected <> 0 AND t.id = v.id "
    "AND t.revision = v.expected RETURNING 1), "
    // Timers that fired (15..18): each row must still be there at the due time the step saw.
    // Exactly once: whoever deletes (or moves) the row fires it.
    "fired AS (SELECT * FROM unnest(CAST(:fired_instance AS text[]), CAST(:fired_timer AS "
    "bigint[]), CAST(:fired_due AS bigint[]), CAST(:moved_to AS bigint[])) AS f(instance_id, "
    "timer_id, due_at, moved_to)), "
    "fired_gone AS (DELETE FROM timers AS t USING fired AS f WHERE f.moved_to IS NULL AND "
    "t.instance_id = f.instance_id AND t.timer_id = f.timer_id AND t.due_at = f.due_at "
    "RETURNING 1), "
    "fired_moved AS (UPDATE timers AS t SET due_at = f.moved_to, lease_owner = NULL, "
    "lease_until = NULL FROM fired AS f WHERE f.moved_to IS NOT NULL AND t.instance_id = "
    "f.instance_id AND t.timer_id = f.timer_id AND t.due_at = f.due_at RETURNING 1), "
    // Idempotency keys (19..21), each new; business keys (22..24), kept once: a new case's
    // under key_policy unique (claimed = 1) must be new.
    "keys AS (SELECT * FROM unnest(CAST(:idempotency_key AS text[]), CAST(:response AS "
    "text[]), CAST(:answered AS bigint[])) AS k(idempotency_key, response, created_at)), "
    "keys_new AS (INSERT INTO idempotency_keys (idempotency_key, response, created_at) "
    "SELECT * FROM keys ON CONFLICT (idempotency_key) DO NOTHING RETURNING 1), "
    "used_in AS (SELECT * FROM unnest(CAST(:used_workflow AS text[]), CAST(:used_key AS "
    "text[]), CAST(:used_claimed AS smallint[])) AS u(workflow, business_key, claimed)), "
    "used AS (INSERT INTO used_keys (workflow, business_key) SELECT workflow, business_key "
    "FROM used_in ON CONFLICT DO NOTHING RETURNING workflow, business_key), "
    // Open business keys (25..27, schema 10): a new case under key_policy one_open claims its
    // key, which must be free; a case that ended (28) gives its key back.
    "opening AS (SELECT * FROM unnest(CAST(:open_workflow AS text[]), CAST(:open_key AS "
    "text[]), CAST(:open_instance AS text[])) AS o(workflow, business_key, instance_id)), "
    "opened AS (INSERT INTO open_keys (workflow, business_key, instance_id) SELECT * FROM "
    "opening ON CONFLICT DO NOTHING RETURNING 1), "
    "closed AS (DELETE FROM open_keys AS o USING unnest(CAST(:closed_instance AS text[])) AS "
    "c(instance_id) WHERE o.instance_id = c.instance_id), "
    // History (29..34): one row per step, keyed by the revision it committed (schema 4).
    "steps AS (INSERT INTO history (instance_id, revision, at, actor, input, entries) "
    "SELECT * FROM unnest(CAST(:step_instance AS text[]), CAST(:step_revision AS bigint[]), "
    "CAST(:step_at AS bigint[]), CAST(:actor AS text[]), CAST(:input AS text[]), "
    "CAST(:entries AS text[]))), "
    // Timers cancelled (35..36) and armed (37..39): what the batch leaves behind. Timer ids
    // are never reused within an instance; arming one again at another time moves it and drops
    // its lease, at the same time leaves the row and its lease alone.
    "cancelled AS (DELETE FROM timers AS t USING unnest(CAST(:cancelled_instance AS text[]), "
    "CAST(:cancelled_timer AS bigint[])) AS v(instance_id, timer_id) WHERE t.instance_id = "
    "v.instance_id AND t.timer_id = v.timer_id), "
    "armed AS (INSERT INTO timers (instance_id, timer_id, due_at) SELECT * FROM unnest(CAST("
    ":armed_instance AS text[]), CAST(:armed_timer AS bigint[]), CAST(:armed_due AS "
    "bigint[])) ON CONFLICT (instance_id, timer_id) DO UPDATE SET due_at = excluded.due_at, "
    "lease_owner = NULL, lease_until = NULL WHERE timers.due_at <> excluded.due_at), "
    // Counters (40..42) move only from the value the batch's first step read; one never
    // written reads as 0 and is inserted.
    "moves AS (SELECT * FROM unnest(CAST(:counter AS text[]), CAST(:counter_expected AS "
    "bigint[]), CAST(:counter_value AS bigint[])) AS m(name, expected, value)), "
    "moved AS (UPDATE counters AS c SET value = m.value FROM moves AS m WHERE c.name = m.name "
    "AND c.value = m.expected RETURNING 1), "
    "counted AS (INSERT INTO counters (name, value) SELECT name, value FROM moves WHERE "
    "expected = 0 ON CONFLICT (name) DO NOTHING RETURNING 1), "
    // Outbox (43..46).
    "sent AS (INSERT INTO outbox (instance_id, kind, payload, attempts, created_at, "
    "next_attempt_at, last_error) SELECT i, k, p, 0, a, a, '' FROM unnest(CAST(:message_instance "
    "AS text[]), CAST(:message_kind AS text[]), CAST(:payload AS text[]), CAST(:queued AS "
    "bigint[])) AS v(i, k, p, a)) "
    // A count short: a conflict. ombud_conflict (schema 6) raises a serialization failure.
    "SELECT CASE WHEN (SELECT count(*) FROM inst_new) + (SELECT count(*) FROM inst_moved) <> "
    "(SELECT count(*) FROM inst) THEN ombud_conflict('an instance') "
    "WHEN (SELECT count(*) FROM fired_gone) + (SELECT count(*) FROM fired_moved) <> "
    "(SELECT count(*) FROM fired) THEN ombud_conflict('a fired timer') "
    "WHEN (SELECT count(*) FROM keys_new) <> (SELECT count(*) FROM keys) "
    "THEN ombud_conflict('an idempotency key') "
    "WHEN EXISTS (SELECT 1 FROM used_in AS u WHERE u.claimed = 1 AND NOT EXISTS (SELECT 1 FROM "
    "used AS n WHERE n.workflow = u.workflow AND n.business_key = u.business_key)) "
    "THEN ombud_conflict('a business key (unique)') "
    "WHEN (SELECT count(*) FROM opened) <> (SELECT count(*) FROM opening) "
    "THEN ombud_conflict('a business key (one_open)') "
    "WHEN (SELECT count(*) FROM moved) + (SELECT count(*) FROM counted) <> "
    "(SELECT count(*) FROM moves) THEN ombud_conflict('a counter') ELSE 0 END";

// The first parameter of each kind of row, and how many it has.
struct Span {
  std::size_t first, count;
};
constexpr Span kInstances{0, 15}, kFired{15, 4}, kKeys{19, 3}, kUsed{22, 3}, kOpen{25, 3},
    kClosed{28, 1}, kSteps{29, 6}, kCancelled{35, 2}, kArmed{37, 3}, kCounters{40, 3},
    kOutbox{43, 4};
static_assert(kOutbox.first + kOutbox.count == PgBatchWriter::kParams);

}  // namespace

std::string pg_text_array(std::span<const std::string> texts) {
  std::string a;
  begin_array(a);
  for (const std::string& t : texts) add(a, t);
  end_array(a);
  return a;
}

PgBatchWriter::PgBatchWriter(soci::session& s) : write_(s) {
  write_.exchange(soci::into(checked_));
  for (std::string& p : params_) write_.exchange(soci::use(p));
  write_.alloc();
  write_.prepare(kWrite);
  write_.define_and_bind();
}

bool PgBatchWriter::write(std::span<const Commit> commits) {
  for (std::string& p : params_) begin_array(p);
  if (!fill_instances(commits)) return false;
  fill_timers(commits);
  fill_keys_and_history(commits);
  if (!fill_counters(commits)) return false;
  fill_outbox(commits);
  for (std::string& p : params_) end_array(p);
  // Throws a serialization failure (40001) when a count was short: the caller's conflict.
  write_.execute(true);
  return checked_ == 0;
}

bool PgBatchWriter::fill_instances(std::span<const Commit> commits) {
  // Each instance once, with its revision before the batch and its last commit.
  struct Row {
    long long expected = 0;              // 0: new in this batch
    KeyPolicy policy = KeyPolicy::none;  // of a new one's key
    const Instance* last = nullptr;
  };
  std::vector<std::string_view> order;  // ids in order of first commit
  std::unordered_map<std::string_view, Row> rows;
  for (const Commit& c : commits) {
    const long long expected = static_cast<long long>(c.expected_revision);
    auto [it, first] = rows.try_emplace(c.instance.id);
    if (first) {
      order.push_back(c.instance.id);
      it->second.expected = expected;
      it->second.policy = c.key_policy;
    } else if (static_cast<long long>(it->second.last->revision) != expected) {
      return false;  // not a chain of commits, each on the one before
    }
    it->second.last = &c.instance;
  }
  const auto p = params_.begin() + static_cast<std::ptrdiff_t>(kInstances.first);
  const auto opening = params_.begin() + static_cast<std::ptrdiff_t>(kOpen.first);
  const auto closed = params_.begin() + static_cast<std::ptrdiff_t>(kClosed.first);
  for (const std::string_view id : order) {
    const Row& r = rows.find(id)->second;
    const Instance& in = *r.last;
    // A case that starts and ends within the batch neither claims its key nor gives it back.
    if (!in.key.empty() && r.expected == 0 && r.policy == KeyPolicy::one_open && !in.ended) {
      add(opening[0], in.workflow);
      add(opening[1], in.key);
      add(opening[2], in.id);
    } else if (!in.key.empty() && r.expected != 0 && in.ended) {
      add(closed[0], in.id);
    }
    add(p[0], in.id);
    add(p[1], in.workflow);
    add(p[2], static_cast<long long>(in.version));
    add(p[3], in.state);
    add(p[4], in.key);
    add(p[5], in.assignee);
    add(p[6], in.queue);
    add(p[7], in.ended ? 1LL : 0LL);
    add(p[8], static_cast<long long>(in.revision));
    add(p[9], to_ms(in.created_at));
    add(p[10], to_ms(in.updated_at));
    const SlaColumns sla = sla_columns(in);
    if (sla.due_at) {
      add(p[11], to_ms(*sla.due_at));
    } else {
      add_null(p[11]);
    }
    add(p[12], sla.breached ? 1LL : 0LL);
    add(p[13], boost::json::serialize(to_json(in)));
    add(p[14], r.expected);
  }
  return true;
}

void PgBatchWriter::fill_timers(std::span<const Commit> commits) {
  // The last word of the batch on each timer it touched, in commit order: a fired timer's
  // row is gone, unless a later step of the batch arms it again.
  struct Word {
    std::optional<Timestamp> fired_due;  // the row the batch's first fire of it removes
    std::optional<Timestamp> due;        // armed at the end; nullopt: no row left
  };
  std::map<std::pair<std::string_view, std::uint64_t>, Word> words;
  for (const Commit& c : commits) {
    if (c.fired) {
      Word& w = words[{c.fired->instance_id, c.fired->timer_id}];
      if (!w.fired_due) w.fired_due = c.fired->due;
      w.due.reset();
    }
    for (const DueTimer& t : c.cancelled) words[{t.instance_id, t.timer_id}].due.reset();
    for (const DueTimer& t : c.armed) words[{t.instance_id, t.timer_id}].due = t.due;
  }
  const auto fired = params_.begin() + static_cast<std::ptrdiff_t>(kFired.first);
  const auto cancelled = params_.begin() + static_cast<std::ptrdiff_t>(kCancelled.first);
  const auto armed = params_.begin() + static_cast<std::ptrdiff_t>(kArmed.first);
  for (const auto& [key, w] : words) {
    const long long timer = static_cast<long long>(key.second);
    if (w.fired_due) {
      add(fired[0], key.first);
      add(fired[1], timer);
      add(fired[2], to_ms(*w.fired_due));
      if (w.due) {
        add(fired[3], to_ms(*w.due));
      } else {
        add_null(fired[3]);
      }
    } else if (w.due) {
      add(armed[0], key.first);
      add(armed[1], timer);
      add(armed[2], to_ms(*w.due));
    } else {
      add(cancelled[0], key.first);
      add(cancelled[1], timer);
    }
  }
}

void PgBatchWriter::fill_keys_and_history(std::span<const Commit> commits) {
  const auto keys = params_.begin() + static_cast<std::ptrdiff_t>(kKeys.first);
  const auto used = params_.begin() + static_cast<std::ptrdiff_t>(kUsed.first);
  const auto steps = params_.begin() + static_cast<std::ptrdiff_t>(kSteps.first);
  // A key claimed under `unique` by a new case goes in as claimed even if an earlier commit of
  // the batch kept it too: written once, checked as new.
  std::map<std::pair<std::string_view, std::string_view>, bool> kept;  // → claimed
  for (const Commit& c : commits) {
    if (c.instance.key.empty()) continue;
    bool& claimed = kept[{c.instance.workflow, c.instance.key}];
    claimed = claimed || (c.expected_revision == 0 && c.key_policy == KeyPolicy::unique);
  }
  for (const auto& [key, claimed] : kept) {
    add(used[0], key.first);
    add(used[1], key.second);
    add(used[2], claimed ? 1LL : 0LL);
  }
  for (const Commit& c : commits) {
    if (!c.idempotency_key.empty()) {
      add(keys[0], c.idempotency_key);
      add(keys[1], boost::json::serialize(c.response));
      add(keys[2], to_ms(c.instance.updated_at));
    }
    if (!c.history.empty()) {
      add(steps[0], c.instance.id);
      add(steps[1], static_cast<long long>(c.instance.revision));
      add(steps[2], to_ms(c.history.front().at));
      add(steps[3], c.actor);
      add(steps[4], c.input.empty() ? std::string() : boost::json::serialize(c.input));
      add(steps[5], history_entries_text(c.history));
    }
  }
}

bool PgBatchWriter::fill_counters(std::span<const Commit> commits) {
  // A counter moves only from the value the batch's first step read to the value its last
  // step wrote: two nodes handing out the same serial conflict instead.
  std::map<std::string_view, std::pair<long long, long long>> moves;
  std::vector<std::string_view> order;
  for (const Commit& c : commits) {
    for (const CounterWrite& w : c.counters) {
      auto [it, first] = moves.try_emplace(w.name, w.expected, w.value);
      if (first) {
        order.push_back(w.name);
      } else {
        if (it->second.second != w.expected) return false;
        it->second.second = w.value;
      }
    }
  }
  const auto p = params_.begin() + static_cast<std::ptrdiff_t>(kCounters.first);
  for (const std::string_view name : order) {
    add(p[0], name);
    add(p[1], moves[name].first);
    add(p[2], moves[name].second);
  }
  return true;
}

void PgBatchWriter::fill_outbox(std::span<const Commit> commits) {
  const auto p = params_.begin() + static_cast<std::ptrdiff_t>(kOutbox.first);
  auto message = [&](const Commit& c, std::string_view kind, const boost::json::object& payload) {
    add(p[0], c.instance.id);
    add(p[1], kind);
    add(p[2], boost::json::serialize(payload));
    add(p[3], to_ms(c.instance.updated_at));
  };
  for (const Commit& c : commits) {
    for (const Notification& n : c.notifications) message(c, "notification", outbox_payload(n));
    for (const OutboundWebhook& w : c.webhooks) message(c, "webhook", outbox_payload(w));
  }
}

}  // namespace ombud::sql
