#include "adapters/sql/pg_batch.h"

#include <boost/json/serialize.hpp>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

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

// All the names a statement with `RETURNING name` gave.
std::set<std::string> returned(soci::statement& st, const std::string& name) {
  std::set<std::string> out;
  if (st.execute(true)) {
    do {
      out.insert(name);
    } while (st.fetch());
  }
  return out;
}

constexpr const char* kInstanceColumns =
    "id, workflow, version, state, business_key, assignee, queue, ended, revision, created_at, "
    "updated_at, sla_due_at, sla_breached, body";
// The arrays of the instance columns, in kInstanceColumns order, as params 0..13.
constexpr const char* kInstanceArrays =
    "CAST(:id AS text[]), CAST(:workflow AS text[]), CAST(:version AS integer[]), "
    "CAST(:state AS text[]), CAST(:key AS text[]), CAST(:assignee AS text[]), "
    "CAST(:queue AS text[]), CAST(:ended AS smallint[]), CAST(:revision AS bigint[]), "
    "CAST(:created AS bigint[]), CAST(:updated AS bigint[]), CAST(:due AS bigint[]), "
    "CAST(:breached AS smallint[]), CAST(:body AS text[])";

}  // namespace

std::string pg_text_array(std::span<const std::string> texts) {
  std::string a;
  begin_array(a);
  for (const std::string& t : texts) add(a, t);
  end_array(a);
  return a;
}

// Each instance of the batch once, with its revision before the batch and its last commit.
struct PgBatchWriter::Rows {
  struct Instance {
    long long expected = 0;  // 0: new in this batch
    const ombud::Instance* last = nullptr;
  };
  std::vector<std::string> order;  // ids in order of first commit
  std::map<std::string, Instance, std::less<>> instances;
};

PgBatchWriter::PgBatchWriter(soci::session& s)
    : insert_instances_(s),
      update_instances_(s),
      delete_fired_(s),
      insert_idempotency_(s),
      insert_used_keys_(s),
      insert_history_(s),
      delete_timers_(s),
      upsert_timers_(s),
      update_counters_(s),
      insert_counters_(s),
      insert_outbox_(s) {
  auto prepare = [&](soci::statement& st, std::size_t params, const std::string& query) {
    for (std::size_t i = 0; i < params; ++i) st.exchange(soci::use(params_[i]));
    st.alloc();
    st.prepare(query);
    st.define_and_bind();
  };
  // New instances. ON CONFLICT DO NOTHING rather than an error (which would abort the whole
  // transaction); the row count says whether an id was taken.
  prepare(insert_instances_, 14,
          std::string("INSERT INTO instances (") + kInstanceColumns + ") SELECT * FROM unnest(" +
              kInstanceArrays + ") ON CONFLICT (id) DO NOTHING");
  // Optimistic concurrency: each row changes only if it is still at the revision its batch
  // loaded; the row count says whether all were. Param 14: the expected revisions.
  prepare(update_instances_, 15,
          std::string("UPDATE instances AS t SET workflow = v.workflow, version = v.version, "
                      "state = v.state, business_key = v.business_key, assignee = v.assignee, "
                      "queue = v.queue, ended = v.ended, revision = v.revision, "
                      "created_at = v.created_at, updated_at = v.updated_at, "
                      "sla_due_at = v.sla_due_at, sla_breached = v.sla_breached, body = v.body "
                      "FROM unnest(") +
              kInstanceArrays + ", CAST(:expected AS bigint[])) AS v(" + kInstanceColumns +
              ", expected) WHERE t.id = v.id AND t.revision = v.expected");
  // Exactly once: whoever deletes a timer's row fires it; the row count says whether all were
  // still there.
  prepare(delete_fired_, 3,
          "DELETE FROM timers AS t USING unnest(CAST(:i AS text[]), CAST(:t AS bigint[]), "
          "CAST(:d AS bigint[])) AS v(instance_id, timer_id, due_at) WHERE t.instance_id = "
          "v.instance_id AND t.timer_id = v.timer_id AND t.due_at = v.due_at");
  prepare(insert_idempotency_, 3,
          "INSERT INTO idempotency_keys (idempotency_key, response, created_at) SELECT * FROM "
          "unnest(CAST(:k AS text[]), CAST(:r AS text[]), CAST(:a AS bigint[])) "
          "ON CONFLICT (idempotency_key) DO NOTHING");
  prepare(insert_used_keys_, 2,
          "INSERT INTO used_keys (workflow, business_key) SELECT * FROM unnest(CAST(:w AS "
          "text[]), CAST(:k AS text[])) ON CONFLICT DO NOTHING");
  // One row per step, keyed by the revision it committed (schema 4).
  prepare(insert_history_, 6,
          "INSERT INTO history (instance_id, revision, at, actor, input, entries) SELECT * FROM "
          "unnest(CAST(:i AS text[]), CAST(:r AS bigint[]), CAST(:a AS bigint[]), CAST(:actor AS "
          "text[]), CAST(:input AS text[]), CAST(:entries AS text[]))");
  prepare(delete_timers_, 2,
          "DELETE FROM timers AS t USING unnest(CAST(:i AS text[]), CAST(:t AS bigint[])) AS "
          "v(instance_id, timer_id) WHERE t.instance_id = v.instance_id AND t.timer_id = "
          "v.timer_id");
  // Timer ids are never reused within an instance; arming one again moves it and drops its
  // lease rather than failing the whole step.
  prepare(upsert_timers_, 3,
          "INSERT INTO timers (instance_id, timer_id, due_at) SELECT * FROM unnest(CAST(:i AS "
          "text[]), CAST(:t AS bigint[]), CAST(:d AS bigint[])) ON CONFLICT (instance_id, "
          "timer_id) DO UPDATE SET due_at = excluded.due_at, lease_owner = NULL, "
          "lease_until = NULL");
  update_counters_.exchange(soci::into(counter_name_));
  prepare(update_counters_, 3,
          "UPDATE counters AS c SET value = v.value FROM unnest(CAST(:n AS text[]), CAST(:e AS "
          "bigint[]), CAST(:v AS bigint[])) AS v(name, expected, value) WHERE c.name = v.name "
          "AND c.value = v.expected RETURNING c.name");
  insert_counters_.exchange(soci::into(counter_name_));
  prepare(insert_counters_, 2,
          "INSERT INTO counters (name, value) SELECT * FROM unnest(CAST(:n AS text[]), CAST(:v AS "
          "bigint[])) ON CONFLICT (name) DO NOTHING RETURNING name");
  prepare(insert_outbox_, 4,
          "INSERT INTO outbox (instance_id, kind, payload, attempts, created_at, "
          "next_attempt_at, last_error) SELECT i, k, p, 0, a, a, '' FROM unnest(CAST(:i AS "
          "text[]), CAST(:k AS text[]), CAST(:p AS text[]), CAST(:a AS bigint[])) AS v(i, k, p, "
          "a)");
}

bool PgBatchWriter::write(std::span<const Commit> commits) {
  Rows rows;
  for (const Commit& c : commits) {
    const long long expected = static_cast<long long>(c.expected_revision);
    auto [it, first] = rows.instances.try_emplace(c.instance.id);
    if (first) {
      rows.order.push_back(c.instance.id);
      it->second.expected = expected;
    } else if (it->second.last == nullptr ||
               static_cast<long long>(it->second.last->revision) != expected) {
      return false;  // not a chain of commits, each on the one before
    }
    it->second.last = &c.instance;
  }
  if (!write_instances(rows)) return false;

  // Timers that fired: each row must still be there.
  std::set<std::tuple<std::string, std::uint64_t>> fired;
  for (auto& p : params_) begin_array(p);
  for (const Commit& c : commits) {
    if (!c.fired) continue;
    fired.emplace(c.fired->instance_id, c.fired->timer_id);
    add(params_[0], c.fired->instance_id);
    add(params_[1], static_cast<long long>(c.fired->timer_id));
    add(params_[2], to_ms(c.fired->due));
  }
  if (!fired.empty()) {
    for (std::size_t i = 0; i < 3; ++i) end_array(params_[i]);
    delete_fired_.execute(true);
    if (delete_fired_.get_affected_rows() != static_cast<long long>(fired.size())) return false;
  }

  // Idempotency keys (each new) and business keys (kept once).
  std::size_t keys = 0;
  for (auto& p : params_) begin_array(p);
  for (const Commit& c : commits) {
    if (c.idempotency_key.empty()) continue;
    ++keys;
    add(params_[0], c.idempotency_key);
    add(params_[1], c.response.text());
    add(params_[2], to_ms(c.instance.updated_at));
  }
  if (keys > 0) {
    for (std::size_t i = 0; i < 3; ++i) end_array(params_[i]);
    insert_idempotency_.execute(true);
    if (insert_idempotency_.get_affected_rows() != static_cast<long long>(keys)) return false;
  }
  std::set<std::pair<std::string, std::string>> used;
  for (auto& p : params_) begin_array(p);
  for (const Commit& c : commits) {
    if (c.instance.key.empty() || !used.emplace(c.instance.workflow, c.instance.key).second) {
      continue;
    }
    add(params_[0], c.instance.workflow);
    add(params_[1], c.instance.key);
  }
  if (!used.empty()) {
    for (std::size_t i = 0; i < 2; ++i) end_array(params_[i]);
    insert_used_keys_.execute(true);
  }

  write_history(commits);

  // Timers armed and cancelled: only what the batch leaves behind, the last word per timer.
  std::map<std::pair<std::string, std::uint64_t>, std::optional<Timestamp>> timers;
  for (const Commit& c : commits) {
    for (const DueTimer& t : c.cancelled) timers[{t.instance_id, t.timer_id}] = std::nullopt;
    for (const DueTimer& t : c.armed) timers[{t.instance_id, t.timer_id}] = t.due;
  }
  std::size_t cancelled = 0, armed = 0;
  for (auto& p : params_) begin_array(p);
  for (const auto& [key, due] : timers) {
    if (due) continue;
    ++cancelled;
    add(params_[0], key.first);
    add(params_[1], static_cast<long long>(key.second));
  }
  if (cancelled > 0) {
    for (std::size_t i = 0; i < 2; ++i) end_array(params_[i]);
    delete_timers_.execute(true);
  }
  for (auto& p : params_) begin_array(p);
  for (const auto& [key, due] : timers) {
    if (!due) continue;
    ++armed;
    add(params_[0], key.first);
    add(params_[1], static_cast<long long>(key.second));
    add(params_[2], to_ms(*due));
  }
  if (armed > 0) {
    for (std::size_t i = 0; i < 3; ++i) end_array(params_[i]);
    upsert_timers_.execute(true);
  }

  if (!write_counters(commits)) return false;

  std::size_t messages = 0;
  for (auto& p : params_) begin_array(p);
  auto message = [&](const Commit& c, std::string_view kind, const boost::json::object& payload) {
    ++messages;
    add(params_[0], c.instance.id);
    add(params_[1], kind);
    add(params_[2], boost::json::serialize(payload));
    add(params_[3], to_ms(c.instance.updated_at));
  };
  for (const Commit& c : commits) {
    for (const Notification& n : c.notifications) message(c, "notification", outbox_payload(n));
    for (const OutboundWebhook& w : c.webhooks) message(c, "webhook", outbox_payload(w));
  }
  if (messages > 0) {
    for (std::size_t i = 0; i < 4; ++i) end_array(params_[i]);
    insert_outbox_.execute(true);
  }
  return true;
}

bool PgBatchWriter::write_instances(const Rows& rows) {
  for (const bool created : {true, false}) {
    std::size_t n = 0;
    for (auto& p : params_) begin_array(p);
    for (const std::string& id : rows.order) {
      const Rows::Instance& r = rows.instances.find(id)->second;
      if ((r.expected == 0) != created) continue;
      ++n;
      const ombud::Instance& in = *r.last;
      add(params_[0], in.id);
      add(params_[1], in.workflow);
      add(params_[2], static_cast<long long>(in.version));
      add(params_[3], in.state);
      add(params_[4], in.key);
      add(params_[5], in.assignee);
      add(params_[6], in.queue);
      add(params_[7], in.ended ? 1LL : 0LL);
      add(params_[8], static_cast<long long>(in.revision));
      add(params_[9], to_ms(in.created_at));
      add(params_[10], to_ms(in.updated_at));
      const SlaColumns sla = sla_columns(in);
      if (sla.due_at) {
        add(params_[11], to_ms(*sla.due_at));
      } else {
        add_null(params_[11]);
      }
      add(params_[12], sla.breached ? 1LL : 0LL);
      add(params_[13], boost::json::serialize(to_json(in)));
      add(params_[14], r.expected);
    }
    if (n == 0) continue;
    for (auto& p : params_) end_array(p);
    soci::statement& st = created ? insert_instances_ : update_instances_;
    st.execute(true);
    if (st.get_affected_rows() != static_cast<long long>(n)) return false;
  }
  return true;
}

void PgBatchWriter::write_history(std::span<const Commit> commits) {
  std::size_t n = 0;
  for (auto& p : params_) begin_array(p);
  for (const Commit& c : commits) {
    if (c.history.empty()) continue;
    ++n;
    add(params_[0], c.instance.id);
    add(params_[1], static_cast<long long>(c.instance.revision));
    add(params_[2], to_ms(c.history.front().at));
    add(params_[3], c.actor);
    add(params_[4], c.input.empty() ? std::string() : boost::json::serialize(c.input));
    add(params_[5], history_entries_text(c.history));
  }
  if (n == 0) return;
  for (std::size_t i = 0; i < 6; ++i) end_array(params_[i]);
  insert_history_.execute(true);
}

bool PgBatchWriter::write_counters(std::span<const Commit> commits) {
  // A counter moves only from the value the batch's first step read to the value its last
  // step wrote: two nodes handing out the same serial conflict instead. A counter never
  // written reads as 0 and is inserted.
  std::map<std::string, std::pair<long long, long long>, std::less<>> moves;
  std::vector<std::string> order;
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
  if (order.empty()) return true;
  for (auto& p : params_) begin_array(p);
  for (const std::string& name : order) {
    add(params_[0], name);
    add(params_[1], moves[name].first);
    add(params_[2], moves[name].second);
  }
  for (std::size_t i = 0; i < 3; ++i) end_array(params_[i]);
  const std::set<std::string> updated = returned(update_counters_, counter_name_);
  std::size_t missing = 0;
  for (auto& p : params_) begin_array(p);
  for (const std::string& name : order) {
    if (updated.count(name) > 0) continue;
    if (moves[name].first != 0) return false;
    ++missing;
    add(params_[0], name);
    add(params_[1], moves[name].second);
  }
  if (missing == 0) return true;
  for (std::size_t i = 0; i < 2; ++i) end_array(params_[i]);
  return returned(insert_counters_, counter_name_).size() == missing;
}

}  // namespace ombud::sql
