// SqlStore over SOCI. SOCI stays inside this file (and the other .cpp files of the adapter): the
// header is a pimpl, so code that uses the store does not compile SOCI's headers.
#include "adapters/sql/sql_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "adapters/sql/history_row.h"
#include "adapters/sql/instance_row.h"
#include "adapters/sql/migrations.h"
#include "adapters/sql/pg_batch.h"
#include "adapters/sql/sqlite_checkpointer.h"
#include "engine/fnv1a.h"
#include "engine/generations.h"

namespace ombud::sql {

namespace {

// Timestamps are integer milliseconds since the Unix epoch in every table.
long long to_ms(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp from_ms(long long ms) { return Timestamp{Millis{ms}}; }

long long to_limit(std::size_t n) {
  return n > static_cast<std::size_t>(LLONG_MAX) ? LLONG_MAX : static_cast<long long>(n);
}

std::string json_text(const boost::json::object& o) { return boost::json::serialize(o); }

boost::json::object json_object(const std::string& text, std::string_view what) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) {
    throw StoreError("stored " + std::string(what) +
                     " is not a JSON object: " + (ec ? ec.message() : std::string("wrong type")));
  }
  return std::move(v.as_object());
}

// A PostgreSQL advisory lock key, the same on every node. Its basis lacks a digit of FNV's
// standard one; it stays, since nodes of an older build must compute the same keys.
long long lock_key(std::string_view scope, std::string_view name) {
  Fnv1a h(1469598103934665603ULL);
  h.mix(scope);
  h.mix("\x1f");
  h.mix(name);
  return static_cast<long long>(h.value());
}

constexpr long long kMigrationLock = 0x6f6d627564LL;  // "ombud"

// SQLite's connect string for SOCI: a bare path unless it contains '=', which SOCI would read as
// a keyword; then quoted.
std::string sqlite_connect_string(const std::string& path) {
  if (path.find('=') == std::string::npos) return path;
  return "db=\"" + path + "\"";
}

std::string_view synchronous_pragma(StoreOptions::Synchronous s) {
  switch (s) {
    case StoreOptions::Synchronous::full:
      return "FULL";
    case StoreOptions::Synchronous::normal:
      return "NORMAL";
    case StoreOptions::Synchronous::off:
      return "OFF";
  }
  return "FULL";
}

// A transaction on one pooled session; rolled back unless commit() returned, so the connection
// never goes back to the pool inside a transaction. A write on SQLite uses BEGIN IMMEDIATE so the
// write lock is taken up front: a deferred transaction that reads first could fail with
// SQLITE_BUSY when it tries to write, without waiting for busy_timeout.
class Transaction {
 public:
  Transaction(soci::session& s, Dialect d)
      : Transaction(s, d == Dialect::sqlite ? "BEGIN IMMEDIATE" : "BEGIN") {}
  Transaction(soci::session& s, const char* begin) : session_(s) { session_ << begin; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (done_) return;
    try {
      session_ << "ROLLBACK";
    } catch (...) {  // NOLINT(bugprone-empty-catch): the original error is what matters
    }
  }
  void commit() {
    session_ << "COMMIT";
    done_ = true;
  }

 private:
  soci::session& session_;
  bool done_ = false;
};

Instance instance_from_body(const std::string& body) {
  std::string error;
  auto in = instance_from_json(json_object(body, "instance"), &error);
  if (!in) throw StoreError("stored instance is not readable: " + error);
  return std::move(*in);
}

// The parameters of one instance row, kept alive while a statement is bound to them.
struct InstanceRow {
  // Every column but the body and the expected revision.
  void set_columns(const Instance& in) {
    id = in.id;
    workflow = in.workflow;
    version = in.version;
    state = in.state;
    key = in.key;
    assignee = in.assignee;
    queue = in.queue;
    ended = in.ended ? 1 : 0;
    revision = static_cast<long long>(in.revision);
    created_at = to_ms(in.created_at);
    updated_at = to_ms(in.updated_at);
    const SlaColumns sla = sla_columns(in);
    sla_due_at = sla.due_at ? to_ms(*sla.due_at) : 0;
    sla_due_ind = sla.due_at ? soci::i_ok : soci::i_null;
    sla_breached = sla.breached ? 1 : 0;
  }
  void assign(const Commit& c) {
    set_columns(c.instance);
    expected = static_cast<long long>(c.expected_revision);
    body = json_text(to_json(c.instance));
  }
  std::string id, workflow;
  int version = 0;
  std::string state, key, assignee, queue;
  int ended = 0;
  long long revision = 0, expected = 0, created_at = 0, updated_at = 0;
  long long sla_due_at = 0;
  soci::indicator sla_due_ind = soci::i_null;
  int sla_breached = 0;
  std::string body;
};

// Runs a statement that selects at most one row and steps it to its end: an SQLite statement
// left on a row would keep its connection's read snapshot open (and the WAL from being
// checkpointed) until it is run again. True when there was a row.
bool fetch_one(soci::statement& st) {
  const bool got = st.execute(true);
  if (got) {
    while (st.fetch()) {
    }
  }
  return got;
}

struct RowHint;
using RowHints = std::unordered_map<std::string, RowHint>;

// The statements of every commit and every load, prepared once per pooled connection and bound
// to the members below, which each call fills before it executes a statement. Preparing anew
// per step cost SQLite a parse and PostgreSQL two more round trips (prepare, deallocate) for
// each statement. Never moved: the statements hold the members' addresses.
struct Prepared {
  explicit Prepared(soci::session& s);
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;

  InstanceRow row;
  std::string timer_instance;  // timers: the fired, cancelled and armed ones
  long long timer_id = 0, timer_due = 0;
  std::string idempotency_key, response;
  long long at = 0;  // history: one row per step
  std::string kind, actor, input, entries;
  std::string counter;  // counters
  long long counter_value = 0, counter_expected = 0;
  std::string payload;  // outbox (with kind and at)
  std::string load_id, load_body;
  soci::indicator load_ind = soci::i_null;
  // The lookups a step makes (by key, counters, idempotency, open cases): the text parameters,
  // and what they read back.
  std::string lookup_a, lookup_b, found_text;
  soci::indicator found_ind = soci::i_null;
  long long found_number = 0;

  soci::statement insert_instance, delete_fired, insert_idempotency, insert_used_key,
      insert_open_key, delete_open_key, insert_history, delete_timer, upsert_timer, update_counter,
      insert_counter, insert_outbox, load_instance, read_counter, count_used_key, read_response,
      count_open_cases, find_open_by_key;

  // The indexed columns an UPDATE may leave alone, as bits of `changed` below.
  enum Column : unsigned {
    kState = 1,
    kKey = 2,
    kAssignee = 4,
    kQueue = 8,
    kEnded = 16,
    kSlaDue = 32,
    kAllIndexed = 63,  // what a commit with nothing known of the row sets
  };
  // An UPDATE of the instance row that sets the always-changing columns (revision, body, ...)
  // and of the indexed ones only those in `changed`: SQLite rewrites the index entries of
  // every column an UPDATE sets, changed or not. Prepared on first use of each combination.
  // Optimistic concurrency: the row changes only if nobody committed since it was loaded. (An
  // instance's workflow and creation time never change, so no UPDATE sets them.)
  soci::statement& update_changed(unsigned changed);
  // The instance in load_body, with a hint of its row's columns in `read`.
  Instance take_loaded(RowHints& read);
  std::map<unsigned, soci::statement> updates;

  // PostgreSQL: many instances in one read (made on first use; SQLite reads them one by one).
  soci::statement& load_many() {
    if (!load_many_statement) {
      load_many_statement = std::make_unique<soci::statement>(
          (session.prepare << "SELECT body FROM instances WHERE id = ANY(CAST(:ids AS text[]))",
           soci::into(load_body, load_ind), soci::use(load_ids)));
    }
    return *load_many_statement;
  }
  std::string load_ids;
  std::unique_ptr<soci::statement> load_many_statement;

  // PostgreSQL: many idempotency answers in one read (made on first use).
  soci::statement& read_responses() {
    if (!read_responses_statement) {
      read_responses_statement = std::make_unique<soci::statement>(
          (session.prepare << "SELECT idempotency_key, response FROM idempotency_keys "
                              "WHERE idempotency_key = ANY(CAST(:keys AS text[]))",
           soci::into(response_key), soci::into(found_text, found_ind), soci::use(response_keys)));
    }
    return *read_responses_statement;
  }
  std::string response_keys, response_key;
  std::unique_ptr<soci::statement> read_responses_statement;

  // PostgreSQL: the whole group commit in one statement (made on first use).
  PgBatchWriter& pg_batch() {
    if (!pg_batch_writer) pg_batch_writer = std::make_unique<PgBatchWriter>(session);
    return *pg_batch_writer;
  }
  std::unique_ptr<PgBatchWriter> pg_batch_writer;
  soci::session& session;  // the pooled session the statements belong to
};

// What a store knows of an instance row at one revision: its indexed columns. A commit
// expecting exactly that revision finds exactly these values in the row (its UPDATE's WHERE
// makes sure), so it writes only the columns that differ.
struct RowHint {
  long long revision = 0;
  std::string state, key, assignee, queue;
  int ended = 0;
  long long sla_due_at = 0;
  soci::indicator sla_due_ind = soci::i_null;
  // The row's body, when the store keeps documents (SQLite) and this hint comes from a commit.
  std::shared_ptr<const std::string> document;

  static RowHint of(const InstanceRow& r) {
    return {r.revision, r.state,      r.key,         r.assignee, r.queue,
            r.ended,    r.sla_due_at, r.sla_due_ind, nullptr};
  }
  unsigned changed(const InstanceRow& r) const {
    unsigned bits = 0;
    if (state != r.state) bits |= Prepared::kState;
    if (key != r.key) bits |= Prepared::kKey;
    if (assignee != r.assignee) bits |= Prepared::kAssignee;
    if (queue != r.queue) bits |= Prepared::kQueue;
    if (ended != r.ended) bits |= Prepared::kEnded;
    if (sla_due_ind != r.sla_due_ind ||
        (r.sla_due_ind == soci::i_ok && sla_due_at != r.sla_due_at)) {
      bits |= Prepared::kSlaDue;
    }
    return bits;
  }
};

Instance Prepared::take_loaded(RowHints& read) {
  Instance in = instance_from_body(load_body);
  row.set_columns(in);  // the row's columns, derived as a commit of it derives them
  read.insert_or_assign(in.id, RowHint::of(row));
  return in;
}

// The lookups one call or several make on a leased connection's statements.

// The instances among `ids` that exist, appended to `out` (their rows' hints in `read`): SQLite
// one by one, PostgreSQL in one query.
void load_rows(Prepared& p, bool sqlite, std::span<const std::string> ids, RowHints& read,
               std::vector<Instance>& out) {
  if (ids.empty()) return;
  if (sqlite) {
    for (const std::string& id : ids) {
      p.load_id = id;
      if (fetch_one(p.load_instance) && p.load_ind == soci::i_ok) {
        out.push_back(p.take_loaded(read));
      }
    }
    return;
  }
  p.load_ids = pg_text_array(ids);
  soci::statement& st = p.load_many();
  if (st.execute(true)) {
    do {
      if (p.load_ind == soci::i_ok) out.push_back(p.take_loaded(read));
    } while (st.fetch());
  }
}

std::optional<boost::json::object> stored_response(Prepared& p, const std::string& key) {
  p.lookup_a = key;
  if (!fetch_one(p.read_response) || p.found_ind != soci::i_ok) return std::nullopt;
  return json_object(p.found_text, "idempotent response");
}

std::optional<std::string> open_by_key(Prepared& p, const std::string& workflow,
                                       const std::string& key) {
  p.lookup_a = workflow;
  p.lookup_b = key;
  if (!fetch_one(p.find_open_by_key) || p.found_ind != soci::i_ok) return std::nullopt;
  return p.found_text;
}

Prepared::Prepared(soci::session& s)
    // A new instance. ON CONFLICT DO NOTHING rather than catching a unique violation: on
    // PostgreSQL an error would abort the transaction, and the row count says the same.
    : insert_instance(
          (s.prepare << "INSERT INTO instances (id, workflow, version, state, business_key, "
                        "assignee, queue, ended, revision, created_at, updated_at, sla_due_at, "
                        "sla_breached, body) VALUES (:id, :workflow, :version, :state, :key, "
                        ":assignee, :queue, :ended, :revision, :created, :updated, :sla_due, "
                        ":breached, :body) ON CONFLICT (id) DO NOTHING",
           soci::use(row.id), soci::use(row.workflow), soci::use(row.version), soci::use(row.state),
           soci::use(row.key), soci::use(row.assignee), soci::use(row.queue), soci::use(row.ended),
           soci::use(row.revision), soci::use(row.created_at), soci::use(row.updated_at),
           soci::use(row.sla_due_at, row.sla_due_ind), soci::use(row.sla_breached),
           soci::use(row.body))),
      // Exactly once: whoever deletes the row fires the timer; everyone else conflicts.
      delete_fired((s.prepare << "DELETE FROM timers WHERE instance_id = :i AND timer_id = :t "
                                 "AND due_at = :d",
                    soci::use(timer_instance), soci::use(timer_id), soci::use(timer_due))),
      insert_idempotency(
          (s.prepare << "INSERT INTO idempotency_keys (idempotency_key, response, created_at) "
                        "VALUES (:k, :r, :a) ON CONFLICT (idempotency_key) DO NOTHING",
           soci::use(idempotency_key), soci::use(response), soci::use(row.updated_at))),
      insert_used_key((s.prepare << "INSERT INTO used_keys (workflow, business_key) "
                                    "VALUES (:w, :k) ON CONFLICT DO NOTHING",
                       soci::use(row.workflow), soci::use(row.key))),
      // key_policy one_open: a start claims its business key, the case's end gives it back.
      insert_open_key((s.prepare << "INSERT INTO open_keys (workflow, business_key, instance_id) "
                                    "VALUES (:w, :k, :i) ON CONFLICT DO NOTHING",
                       soci::use(row.workflow), soci::use(row.key), soci::use(row.id))),
      delete_open_key(
          (s.prepare << "DELETE FROM open_keys WHERE instance_id = :i", soci::use(row.id))),
      // A step's entries in one row, keyed by the revision the step committed (schema 4).
      insert_history(
          (s.prepare << "INSERT INTO history (instance_id, revision, at, actor, input, entries) "
                        "VALUES (:i, :r, :a, :actor, :input, :entries)",
           soci::use(row.id), soci::use(row.revision), soci::use(at), soci::use(actor),
           soci::use(input), soci::use(entries))),
      delete_timer((s.prepare << "DELETE FROM timers WHERE instance_id = :i AND timer_id = :t",
                    soci::use(timer_instance), soci::use(timer_id))),
      // Timer ids are never reused within an instance; arming one again at another time moves
      // it and drops its lease rather than failing the whole step. Armed again at the same time
      // (the case's earliest once more, decision 0013), the row and its lease stay as they are.
      upsert_timer(
          (s.prepare << "INSERT INTO timers (instance_id, timer_id, due_at) VALUES (:i, :t, :d) "
                        "ON CONFLICT (instance_id, timer_id) DO UPDATE SET due_at = "
                        "excluded.due_at, lease_owner = NULL, lease_until = NULL "
                        "WHERE timers.due_at <> excluded.due_at",
           soci::use(timer_instance), soci::use(timer_id), soci::use(timer_due))),
      update_counter((s.prepare << "UPDATE counters SET value = :v WHERE name = :n AND value = :e",
                      soci::use(counter_value), soci::use(counter), soci::use(counter_expected))),
      insert_counter((s.prepare << "INSERT INTO counters (name, value) VALUES (:n, :v) "
                                   "ON CONFLICT (name) DO NOTHING",
                      soci::use(counter), soci::use(counter_value))),
      insert_outbox(
          (s.prepare << "INSERT INTO outbox (instance_id, kind, payload, attempts, created_at, "
                        "next_attempt_at, last_error) VALUES (:i, :k, :p, 0, :c, :n, '')",
           soci::use(row.id), soci::use(kind), soci::use(payload), soci::use(row.updated_at),
           soci::use(row.updated_at))),
      load_instance((s.prepare << "SELECT body FROM instances WHERE id = :id",
                     soci::into(load_body, load_ind), soci::use(load_id))),
      read_counter((s.prepare << "SELECT value FROM counters WHERE name = :n",
                    soci::into(found_number, found_ind), soci::use(lookup_a))),
      count_used_key(
          (s.prepare << "SELECT COUNT(*) FROM used_keys WHERE workflow = :w AND business_key = :k",
           soci::into(found_number), soci::use(lookup_a), soci::use(lookup_b))),
      read_response(
          (s.prepare << "SELECT response FROM idempotency_keys WHERE idempotency_key = :k",
           soci::into(found_text, found_ind), soci::use(lookup_a))),
      count_open_cases(
          (s.prepare << "SELECT COUNT(*) FROM instances WHERE assignee = :p AND assignee <> '' "
                        "AND ended = 0",
           soci::into(found_number), soci::use(lookup_a))),
      find_open_by_key(
          (s.prepare << "SELECT id FROM instances WHERE workflow = :w AND business_key = :k AND "
                        "ended = 0 ORDER BY id LIMIT 1",
           soci::into(found_text, found_ind), soci::use(lookup_a), soci::use(lookup_b))),
      session(s) {}

struct OutboxRow {
  long long id = 0;
  std::string instance_id, kind, payload, last_error;
  int attempts = 0;
  long long created_at = 0, next_attempt_at = 0, delivered_at = 0;
  soci::indicator delivered_ind = soci::i_null;

  OutboxMessage message() const {
    OutboxMessage m;
    m.id = static_cast<std::uint64_t>(id);
    m.instance_id = instance_id;
    m.kind = kind;
    m.payload = json_object(payload, "outbox payload");
    m.attempts = attempts;
    m.created_at = from_ms(created_at);
    m.next_attempt_at = from_ms(next_attempt_at);
    m.last_error = last_error;
    if (delivered_ind == soci::i_ok) m.delivered_at = from_ms(delivered_at);
    return m;
  }
};

struct InboxRow {
  long long id = 0;
  std::string source, reason, payload, replayed_into, dedup_key;
  long long received_at = 0;

  InboxEntry entry() const {
    return {static_cast<std::uint64_t>(id),
            source,
            from_ms(received_at),
            reason,
            json_object(payload, "inbox payload"),
            replayed_into,
            dedup_key};
  }
};

constexpr const char* kInboxColumns =
    "id, source, received_at, reason, payload, replayed_into, dedup_key";

template <class Row>
void bind_inbox(soci::statement& st, Row& r) {
  st.exchange(soci::into(r.id));
  st.exchange(soci::into(r.source));
  st.exchange(soci::into(r.received_at));
  st.exchange(soci::into(r.reason));
  st.exchange(soci::into(r.payload));
  st.exchange(soci::into(r.replayed_into));
  st.exchange(soci::into(r.dedup_key));
}

constexpr const char* kOutboxColumns =
    "id, instance_id, kind, payload, attempts, created_at, next_attempt_at, last_error, "
    "delivered_at";

void bind_outbox(soci::statement& st, OutboxRow& r) {
  st.exchange(soci::into(r.id));
  st.exchange(soci::into(r.instance_id));
  st.exchange(soci::into(r.kind));
  st.exchange(soci::into(r.payload));
  st.exchange(soci::into(r.attempts));
  st.exchange(soci::into(r.created_at));
  st.exchange(soci::into(r.next_attempt_at));
  st.exchange(soci::into(r.last_error));
  st.exchange(soci::into(r.delivered_at, r.delivered_ind));
}

// Prepares a statement whose into/use elements were added with exchange(): the way SOCI builds
// a query whose shape (not its values) is decided at run time.
void prepare(soci::statement& st, const std::string& query) {
  st.alloc();
  st.prepare(query);
  st.define_and_bind();
}

soci::statement& Prepared::update_changed(unsigned changed) {
  if (auto it = updates.find(changed); it != updates.end()) return it->second;
  soci::statement st(session);
  std::string query =
      "UPDATE instances SET version = :version, revision = :revision, updated_at = :updated, "
      "sla_breached = :breached, body = :body";
  st.exchange(soci::use(row.version));
  st.exchange(soci::use(row.revision));
  st.exchange(soci::use(row.updated_at));
  st.exchange(soci::use(row.sla_breached));
  st.exchange(soci::use(row.body));
  auto set = [&](Column column, const char* sql, auto& value) {
    if ((changed & column) == 0) return;
    query += sql;
    st.exchange(soci::use(value));
  };
  set(kState, ", state = :state", row.state);
  set(kKey, ", business_key = :key", row.key);
  set(kAssignee, ", assignee = :assignee", row.assignee);
  set(kQueue, ", queue = :queue", row.queue);
  set(kEnded, ", ended = :ended", row.ended);
  if ((changed & kSlaDue) != 0) {
    query += ", sla_due_at = :sla_due";
    st.exchange(soci::use(row.sla_due_at, row.sla_due_ind));
  }
  query += " WHERE id = :id AND revision = :expected";
  st.exchange(soci::use(row.id));
  st.exchange(soci::use(row.expected));
  prepare(st, query);
  return updates.emplace(changed, std::move(st)).first->second;
}

// Runs `query` with a Row's columns bound by `bind_columns` and then `params` bound in order,
// and returns `convert(row)` for every row the query gives.
template <class Row, class Bind, class Convert, class... Params>
auto select_rows(soci::session& s, const std::string& query, Bind bind_columns, Convert convert,
                 const Params&... params) {
  Row r;
  soci::statement st(s);
  bind_columns(st, r);
  (st.exchange(soci::use(params)), ...);
  prepare(st, query);
  st.execute();
  std::vector<decltype(convert(r))> out;
  while (st.fetch()) out.push_back(convert(r));
  return out;
}

// The first row, for a query by key.
template <class T>
std::optional<T> first(std::vector<T> rows) {
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

}  // namespace

std::optional<StoreOptions::Synchronous> parse_synchronous(std::string_view text) {
  if (text == "full") return StoreOptions::Synchronous::full;
  if (text == "normal") return StoreOptions::Synchronous::normal;
  if (text == "off") return StoreOptions::Synchronous::off;
  return std::nullopt;
}

struct SqlStore::Impl {
  StoreUrl url;
  std::string shown_url;  // for messages: never the password
  StoreOptions options;
  std::size_t pool_size = 1;
  std::unique_ptr<soci::connection_pool> pool;
  // SQLite has one writer per database; writers queue here instead of spinning on SQLITE_BUSY.
  std::mutex writer;

  bool sqlite() const { return url.dialect == Dialect::sqlite; }

  [[noreturn]] void fail(std::string_view what, const std::exception& e) const {
    throw StoreError("store " + shown_url + ": " + std::string(what) + ": " + e.what());
  }

  // Runs `f(session)` on a pooled connection; database errors become StoreError. A read the
  // server's dropping the connection failed is made once more, on the connection opened again.
  template <class F>
  auto read(std::string_view what, F&& f) const {
    return on_connection(what, std::forward<F>(f), true);
  }

  // A pooled connection held for one call: its slot is this caller's alone until given back,
  // and the session is the pooled one itself (not a stand-in), so its slot can be told by its
  // address even while its connection is closed.
  struct Lease {
    explicit Lease(soci::connection_pool& p) : pool(p), position(p.lease()) {}
    ~Lease() { pool.give_back(position); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    soci::session& session() const { return pool.at(position); }

    soci::connection_pool& pool;
    std::size_t position;
  };

  // A read is made again while the slot it ran on had been dropped and was opened again: every
  // connection of the pool may have been dropped at once, and each attempt revives one.
  template <class F>
  auto on_connection(std::string_view what, F&& f, bool read_only) const {
    for (std::size_t attempts_left = read_only ? pool_size : 0;; --attempts_left) {
      const bool again = attempts_left > 0;
      try {
        const Lease lease(*pool);
        soci::session& s = lease.session();
        try {
          return f(s);
        } catch (const std::exception&) {
          if (revive(s) && again) continue;
          throw;
        }
      } catch (const StoreError&) {
        throw;
      } catch (const std::exception& e) {
        fail(what, e);
      }
    }
  }

  // Runs `f(session, transaction)` inside a transaction; `f` commits it or it is rolled back.
  // The writer mutex is taken before the connection so that a writer never holds a pooled
  // connection while it waits (which could exhaust the pool).
  template <class F>
  auto write(std::string_view what, F&& f) {
    std::unique_lock lock(writer, std::defer_lock);
    if (sqlite()) lock.lock();
    try {
      const Lease lease(*pool);
      soci::session& s = lease.session();
      try {
        Transaction tx(s, url.dialect);
        return f(s, tx);
      } catch (const std::exception&) {
        // Not made again: the commit may have reached the server before the connection broke.
        // The caller hears of the failure; the next write finds the connection open again.
        revive(s);
        throw;
      }
    } catch (const StoreError&) {
      throw;
    } catch (const std::exception& e) {
      fail(what, e);
    }
  }

  // Runs `f(session)` on a pooled PostgreSQL session in autocommit mode, as reads run: each
  // statement `f` runs is a transaction of its own.
  template <class F>
  auto write_statement(std::string_view what, F&& f) const {
    // Not made again when the connection broke: the statement may have committed.
    return on_connection(what, std::forward<F>(f), false);
  }

  // The prepared statements of each pooled connection (by pool position), made on first use.
  // A position is leased to one caller at a time, so its entry needs no lock.
  mutable std::vector<std::unique_ptr<Prepared>> prepared;

  // PostgreSQL: when the server dropped the connection `s` leases (a restart, a failover,
  // pg_terminate_backend), opens it again with its settings and returns true; its prepared
  // statements went with the old connection. False when the connection is fine (the error was
  // something else) or cannot be opened now (the next call tries again).
  bool revive(soci::session& s) const noexcept {
    if (sqlite()) return false;
    try {
      bool connected = false;
      try {
        // PostgreSQL's check pings the server, and throws when the ping fails.
        connected = s.get_backend() != nullptr && s.is_connected();
      } catch (const std::exception&) {
        connected = false;
      }
      if (connected) return false;
      // `s` is a leased slot's own session (Lease): no other thread touches that slot now.
      for (std::size_t i = 0; i < pool_size; ++i) {
        if (&pool->at(i) != &s) continue;
        // The statements were prepared on the old connection: deallocating them there would
        // only fail, so they are let go without it.
        (void)prepared[i].release();  // NOLINT(bugprone-unused-return-value): leaked, see above
        pool->at(i).reconnect();
        pool->at(i) << "SET client_min_messages = warning";
        return true;
      }
    } catch (const std::exception&) {
      // The server is still away.
    }
    return false;
  }

  // SQLite: checkpoints the log off the committing thread (StoreOptions::checkpoint_pages).
  // Declared after `pool` and `prepared`: unhooks the connections before they close.
  std::unique_ptr<SqliteCheckpointer> checkpointer;

  Prepared& prepared_for(soci::session& s) {
    for (std::size_t i = 0; i < pool_size; ++i) {
      if (&pool->at(i) != &s) continue;  // a leased slot's own session (Lease)
      if (!prepared[i]) prepared[i] = std::make_unique<Prepared>(pool->at(i));
      return *prepared[i];
    }
    throw StoreError("store " + shown_url + ": a session that is not from the pool");
  }

  // Row hints of committed (or read) instance rows, by id; bounded by clearing.
  static constexpr std::size_t kMaxHints = 100'000;
  std::mutex hints_mutex;
  RowHints hints;

  // The hint for `id` at exactly `revision`: from this transaction's own commits first.
  std::optional<RowHint> hint_for(const std::string& id, long long revision,
                                  const RowHints& pending) {
    if (auto it = pending.find(id); it != pending.end()) {
      if (it->second.revision == revision) return it->second;
      return std::nullopt;
    }
    const std::lock_guard lock(hints_mutex);
    auto it = hints.find(id);
    if (it == hints.end() || it->second.revision != revision) return std::nullopt;
    return it->second;
  }
  // The documents of the instances this store committed or read last (SQLite, decision 0007).
  // Commits put theirs in commit order (under the writer mutex), so while this process is the
  // only writer of the file a kept document is the row's current body. A read puts its document
  // only if no commit was kept meanwhile (`epoch` unchanged): a read that raced with a commit
  // could otherwise keep an older revision over the newer one. A conflict may mean that someone
  // else wrote the file: every kept document is dropped.
  struct Documents {
    std::mutex mutex;
    Generations<std::shared_ptr<const std::string>> kept;  // capacity set once, at open
    std::uint64_t epoch = 0;  // changes whenever commits' documents are kept or all are dropped

    std::shared_ptr<const std::string> find(const std::string& id) {
      if (kept.capacity() == 0) return nullptr;
      const std::lock_guard lock(mutex);
      const auto* document = kept.find(id);
      return document != nullptr ? *document : nullptr;
    }
    std::uint64_t now() {
      const std::lock_guard lock(mutex);
      return epoch;
    }
    // A document read from the file, by a read that began at epoch `began`.
    void put_read(const std::string& id, const std::string& document, std::uint64_t began) {
      if (kept.capacity() == 0) return;
      auto shared = std::make_shared<const std::string>(document);
      const std::lock_guard lock(mutex);
      if (epoch == began) kept.put(id, std::move(shared));
    }
    // Keeps the documents of a committed transaction; if that fails half way, keeps none.
    void put_all(RowHints& committed) {
      if (kept.capacity() == 0) return;
      const std::lock_guard lock(mutex);
      ++epoch;
      try {
        for (auto& [id, hint] : committed) {
          if (hint.document) kept.put(id, std::move(hint.document));
        }
      } catch (...) {
        kept.clear();
        throw;
      }
    }
    void forget() {
      const std::lock_guard lock(mutex);
      ++epoch;
      kept.clear();
    }
  } documents;

  // Keeps hints of committed rows (never of a transaction that may still roll back).
  void remember(RowHints& committed) {
    documents.put_all(committed);
    const std::lock_guard lock(hints_mutex);
    if (hints.size() + committed.size() > kMaxHints) hints.clear();
    for (auto& [id, hint] : committed) {
      auto it = hints.find(id);
      // A row read or written meanwhile at a later revision keeps the later hint.
      if (it != hints.end() && it->second.revision > hint.revision) continue;
      hints.insert_or_assign(id, std::move(hint));
    }
  }

  void open();
  std::vector<AppliedMigration> migrate();
  bool apply(soci::session& s, const Commit& c, RowHints& pending);
  std::string skip_locked() const { return sqlite() ? "" : " FOR UPDATE SKIP LOCKED"; }
};

void SqlStore::Impl::open() {
  pool_size = std::max<std::size_t>(1, options.pool_size);
  documents.kept.set_capacity(sqlite() ? options.cached_documents : 0);
  pool = std::make_unique<soci::connection_pool>(pool_size);
  prepared.resize(pool_size);
  if (sqlite()) {
    const std::filesystem::path parent = std::filesystem::path(url.sqlite_path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      throw StoreError("store " + shown_url + ": cannot create directory " + parent.string() +
                       ": " + ec.message());
    }
    // A new store is readable by its owner only: it holds complainants' names and numbers and
    // the token hashes. SQLite gives its -wal and -shm files the database file's permissions.
    if (url.sqlite_path != ":memory:") {
      const int fd = ::open(url.sqlite_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0) ::close(fd);
    }
  }
  for (std::size_t i = 0; i < pool_size; ++i) {
    soci::session& s = pool->at(i);
    try {
      if (sqlite()) {
        s.open(soci::sqlite3, sqlite_connect_string(url.sqlite_path));
        // PRAGMA values cannot be bound parameters; these come from StoreOptions, not from input.
        s << "PRAGMA busy_timeout = " + std::to_string(options.busy_timeout.count());
        if (i == 0) {
          // WAL is a property of the file and persists; readers then never block the writer.
          std::string mode;
          s << "PRAGMA journal_mode = WAL", soci::into(mode);
          if (mode != "wal") {
            throw StoreError("store " + shown_url + ": cannot switch to WAL mode (got '" + mode +
                             "')");
          }
        }
        // The page cache is per connection; SQLite's default (2 MB) is smaller than the
        // indexes a busy store touches, and every miss is a read from the file.
        s << "PRAGMA cache_size = -32768";  // KiB
        // synchronous is per connection: every pooled connection gets it.
        s << "PRAGMA synchronous = " + std::string(synchronous_pragma(options.synchronous));
      } else {
        s.open(soci::postgresql, url.connect_string);
        // Without this, every CREATE TABLE IF NOT EXISTS of a migration check prints a NOTICE.
        s << "SET client_min_messages = warning";
      }
    } catch (const StoreError&) {
      throw;
    } catch (const std::exception& e) {
      throw StoreError("store " + shown_url + ": cannot open: " + e.what());
    }
  }
  if (sqlite() && options.checkpoint_pages > 0) {
    try {
      checkpointer = std::make_unique<SqliteCheckpointer>(
          url.sqlite_path, synchronous_pragma(options.synchronous), options.checkpoint_pages);
    } catch (const std::exception& e) {
      throw StoreError("store " + shown_url + ": " + e.what());
    }
    for (std::size_t i = 0; i < pool_size; ++i) {
      auto* backend = static_cast<soci::sqlite3_session_backend*>(pool->at(i).get_backend());
      checkpointer->watch(backend->conn_);
    }
  }
}

std::vector<AppliedMigration> SqlStore::Impl::migrate() {
  return write("migrate", [&](soci::session& s, Transaction& tx) {
    if (!sqlite()) {
      // Several nodes starting together: one migrates, the others then find nothing to do.
      long long key = kMigrationLock;
      s << "SELECT pg_advisory_xact_lock(:k)", soci::use(key);
    }
    s << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
         "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
    long long current = 0;
    soci::indicator ind = soci::i_null;
    s << "SELECT MAX(version) FROM schema_migrations", soci::into(current, ind);
    if (ind != soci::i_ok) current = 0;
    if (const int known = latest_schema_version(); current > known) {
      // Written by a newer ombud: this build would misread or miswrite its rows. A node already
      // running when another one migrated keeps running; one that starts now refuses.
      throw StoreError("store " + shown_url + ": schema at version " + std::to_string(current) +
                       ", newer than this ombud knows (" + std::to_string(known) +
                       "): run the newer ombud, or a database this version wrote");
    }
    const long long now =
        to_ms(std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()));
    std::vector<AppliedMigration> applied;
    for (const Migration& m : migrations(url.dialect)) {
      if (m.version <= current) continue;
      for (const std::string& statement : m.statements) s << statement;
      int version = m.version;
      std::string name = m.name;
      long long at = now;
      s << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :a)",
          soci::use(version), soci::use(name), soci::use(at);
      applied.push_back({m.version, m.name, from_ms(now)});
    }
    tx.commit();
    return applied;
  });
}

// Writes one commit inside the caller's transaction. False: a conflict (the caller rolls back).
bool SqlStore::Impl::apply(soci::session& s, const Commit& c, RowHints& pending) {
  Prepared& p = prepared_for(s);
  InstanceRow& r = p.row;
  r.assign(c);
  std::optional<RowHint> hint;
  if (c.expected_revision != 0) hint = hint_for(r.id, r.expected, pending);
  soci::statement& write_instance =
      c.expected_revision == 0
          ? p.insert_instance
          : p.update_changed(hint ? hint->changed(r) : unsigned{Prepared::kAllIndexed});
  write_instance.execute(true);
  if (write_instance.get_affected_rows() != 1) return false;

  if (c.fired) {
    p.timer_instance = c.fired->instance_id;
    p.timer_id = static_cast<long long>(c.fired->timer_id);
    p.timer_due = to_ms(c.fired->due);
    p.delete_fired.execute(true);
    if (p.delete_fired.get_affected_rows() != 1) return false;
  }

  if (!c.idempotency_key.empty()) {
    p.idempotency_key = c.idempotency_key;
    p.response = boost::json::serialize(c.response);
    p.insert_idempotency.execute(true);
    if (p.insert_idempotency.get_affected_rows() != 1) return false;
  }

  if (!r.key.empty()) {
    p.insert_used_key.execute(true);
    // A new case's key under its workflow's policy: taken meanwhile (another node) → conflict.
    if (c.expected_revision == 0 && c.key_policy == KeyPolicy::unique &&
        p.insert_used_key.get_affected_rows() != 1) {
      return false;
    }
    if (c.expected_revision == 0 && c.key_policy == KeyPolicy::one_open && !c.instance.ended) {
      p.insert_open_key.execute(true);
      if (p.insert_open_key.get_affected_rows() != 1) return false;
    }
    if (c.instance.ended) p.delete_open_key.execute(true);
  }

  if (!c.history.empty()) {
    // One row: the step's entries, who caused it and what (replay reads the input back).
    p.at = to_ms(c.history.front().at);
    p.actor = c.actor;
    p.input = c.input.empty() ? std::string() : json_text(c.input);
    p.entries = history_entries_text(c.history);
    p.insert_history.execute(true);
  }
  RowHint written = RowHint::of(r);
  // The body was bound for the statement above only; the next assign() refills it.
  if (documents.kept.capacity() > 0)
    written.document = std::make_shared<const std::string>(std::move(r.body));
  pending.insert_or_assign(r.id, std::move(written));

  for (const DueTimer& t : c.cancelled) {
    p.timer_instance = t.instance_id;
    p.timer_id = static_cast<long long>(t.timer_id);
    p.delete_timer.execute(true);
  }

  for (const DueTimer& t : c.armed) {
    p.timer_instance = t.instance_id;
    p.timer_id = static_cast<long long>(t.timer_id);
    p.timer_due = to_ms(t.due);
    p.upsert_timer.execute(true);
  }

  // A counter moves only from the value the step read: two nodes handing out the same serial
  // (or instance id) conflict instead. A counter never written reads as 0 and is inserted.
  for (const CounterWrite& w : c.counters) {
    p.counter = w.name;
    p.counter_value = w.value;
    p.counter_expected = w.expected;
    p.update_counter.execute(true);
    if (p.update_counter.get_affected_rows() == 1) continue;
    if (w.expected != 0) return false;
    p.insert_counter.execute(true);
    if (p.insert_counter.get_affected_rows() != 1) return false;
  }

  p.kind = "notification";
  for (const Notification& n : c.notifications) {
    p.payload = json_text(outbox_payload(n));
    p.insert_outbox.execute(true);
  }
  p.kind = "webhook";
  for (const OutboundWebhook& w : c.webhooks) {
    p.payload = json_text(outbox_payload(w));
    p.insert_outbox.execute(true);
  }
  return true;
}

// SqlStore -------------------------------------------------------------------------------------

SqlStore::SqlStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqlStore::~SqlStore() = default;

std::unique_ptr<SqlStore> open_store(const std::string& url, const StoreOptions& options) {
  std::string error;
  auto parsed = parse_store_url(url, &error);
  if (!parsed) throw StoreError(error);
  auto impl = std::make_unique<SqlStore::Impl>();
  impl->url = std::move(*parsed);
  impl->shown_url = shown_store_url(url);
  impl->options = options;
  if (!impl->url.sqlite_synchronous.empty()) {
    impl->options.synchronous = *parse_synchronous(impl->url.sqlite_synchronous);
  }
  impl->open();
  std::unique_ptr<SqlStore> store(new SqlStore(std::move(impl)));
  if (options.migrate) store->migrate();
  return store;
}

std::vector<AppliedMigration> SqlStore::migrate() { return impl_->migrate(); }

std::vector<AppliedMigration> SqlStore::applied_migrations() const {
  return impl_->read("read migrations", [](soci::session& s) {
    std::vector<AppliedMigration> out;
    int version = 0;
    std::string name;
    long long at = 0;
    soci::statement st =
        (s.prepare << "SELECT version, name, applied_at FROM schema_migrations ORDER BY version",
         soci::into(version), soci::into(name), soci::into(at));
    st.execute();
    while (st.fetch()) out.push_back({version, name, from_ms(at)});
    return out;
  });
}

int SqlStore::latest_schema_version() {
  static const int latest = migrations(Dialect::sqlite).back().version;
  return latest;
}

Dialect SqlStore::dialect() const { return impl_->url.dialect; }

StoreSettings SqlStore::settings() const {
  return impl_->read("read settings", [&](soci::session& s) {
    StoreSettings out;
    out.dialect = impl_->url.dialect;
    out.pool_size = impl_->pool_size;
    if (impl_->sqlite()) {
      int sync = -1;
      s << "PRAGMA journal_mode", soci::into(out.journal_mode);
      s << "PRAGMA synchronous", soci::into(sync);
      s << "PRAGMA busy_timeout", soci::into(out.busy_timeout_ms);
      s << "SELECT sqlite_version()", soci::into(out.server_version);
      static constexpr const char* kNames[] = {"off", "normal", "full", "extra"};
      out.synchronous = sync >= 0 && sync <= 3 ? kNames[sync] : std::to_string(sync);
    } else {
      s << "SHOW synchronous_commit", soci::into(out.synchronous);
      s << "SHOW server_version", soci::into(out.server_version);
    }
    return out;
  });
}

std::optional<CheckpointCounts> SqlStore::checkpoint_counts() const {
  if (!impl_->checkpointer) return std::nullopt;
  return impl_->checkpointer->counts();
}

std::int64_t SqlStore::get(std::string_view counter) const {
  return impl_->read("read counter", [&](soci::session& s) -> std::int64_t {
    Prepared& p = impl_->prepared_for(s);
    p.lookup_a = counter;
    const bool got = fetch_one(p.read_counter);
    return got && p.found_ind == soci::i_ok ? p.found_number : 0;
  });
}

std::int64_t SqlStore::reserve(std::string_view counter, std::int64_t count) {
  return impl_->write("reserve ids", [&](soci::session& s, Transaction& tx) -> std::int64_t {
    std::string name(counter);
    long long add = count, value = 0;
    s << "INSERT INTO counters (name, value) VALUES (:n, :c) ON CONFLICT (name) DO UPDATE "
         "SET value = counters.value + excluded.value RETURNING value",
        soci::use(name), soci::use(add), soci::into(value);
    tx.commit();
    return value;
  });
}

std::optional<Instance> SqlStore::load(const std::string& id) const {
  return impl_->read("load instance", [&](soci::session& s) -> std::optional<Instance> {
    Prepared& p = impl_->prepared_for(s);
    p.load_id = id;
    if (!fetch_one(p.load_instance) || p.load_ind != soci::i_ok) return std::nullopt;
    RowHints read;
    Instance in = p.take_loaded(read);
    impl_->remember(read);
    return in;
  });
}

std::optional<std::string> SqlStore::load_document(const std::string& id) const {
  // The body column holds exactly to_json(instance), serialized.
  if (auto kept = impl_->documents.find(id)) return *kept;
  const std::uint64_t began = impl_->documents.now();  // before the read
  auto document = impl_->read("load instance", [&](soci::session& s) -> std::optional<std::string> {
    Prepared& p = impl_->prepared_for(s);
    p.load_id = id;
    if (!fetch_one(p.load_instance) || p.load_ind != soci::i_ok) return std::nullopt;
    return p.load_body;
  });
  if (document) impl_->documents.put_read(id, *document, began);
  return document;
}

ReadAheadAnswers SqlStore::read_ahead(const ReadAhead& ask) const {
  ReadAheadAnswers out;
  if (ask.instances.empty() && ask.idempotency_keys.empty() && ask.open_keys.empty()) return out;
  impl_->read("read ahead", [&](soci::session& s) {
    Prepared& p = impl_->prepared_for(s);
    // SQLite: the reads in one read transaction, which takes the WAL's read lock and checks the
    // page cache once instead of once per statement. PostgreSQL reads as it would without it.
    std::optional<Transaction> reads;
    if (impl_->sqlite()) reads.emplace(s, "BEGIN");
    RowHints read;
    load_rows(p, impl_->sqlite(), ask.instances, read, out.instances);
    if (!ask.idempotency_keys.empty()) {
      if (impl_->sqlite()) {
        for (const std::string& key : ask.idempotency_keys) {
          if (auto response = stored_response(p, key)) out.responses[key] = std::move(*response);
        }
      } else {
        p.response_keys = pg_text_array(ask.idempotency_keys);
        soci::statement& st = p.read_responses();
        if (st.execute(true)) {
          do {
            if (p.found_ind == soci::i_ok) {
              out.responses[p.response_key] = json_object(p.found_text, "idempotent response");
            }
          } while (st.fetch());
        }
      }
    }
    // One by one on both: few batches carry many business keys.
    for (const auto& [workflow, key] : ask.open_keys) {
      if (auto id = open_by_key(p, workflow, key)) out.open[{workflow, key}] = std::move(*id);
    }
    if (reads) reads->commit();
    impl_->remember(read);
  });
  return out;
}

std::optional<std::string> SqlStore::find_open_by_key(const std::string& workflow,
                                                      const std::string& key) const {
  return impl_->read("find open instance", [&](soci::session& s) {
    return open_by_key(impl_->prepared_for(s), workflow, key);
  });
}

bool SqlStore::key_used(const std::string& workflow, const std::string& key) const {
  return impl_->read("check key", [&](soci::session& s) {
    Prepared& p = impl_->prepared_for(s);
    p.lookup_a = workflow;
    p.lookup_b = key;
    p.found_number = 0;
    fetch_one(p.count_used_key);
    return p.found_number > 0;
  });
}

std::optional<boost::json::object> SqlStore::idempotent_response(const std::string& key) const {
  return impl_->read("read idempotency key", [&](soci::session& s) {
    return stored_response(impl_->prepared_for(s), key);
  });
}

CommitResult SqlStore::commit(const Commit& c) { return commit_all({&c, 1}); }

CommitResult SqlStore::commit_all(std::span<const Commit> commits) {
  if (commits.empty()) return CommitResult::ok;
  try {
    return write_all(commits);
  } catch (...) {
    // A commit that failed may or may not be in the file (a failure at COMMIT itself): no kept
    // document is trusted any more.
    impl_->documents.forget();
    throw;
  }
}

CommitResult SqlStore::write_all(std::span<const Commit> commits) {
  if (!impl_->sqlite()) {
    // One statement, its own transaction: one round trip (adapters/sql/pg_batch.h). PostgreSQL
    // writes rows whole: it needs no hints.
    return impl_->write_statement("commit", [&](soci::session& s) {
      try {
        return impl_->prepared_for(s).pg_batch().write(commits) ? CommitResult::ok
                                                                : CommitResult::conflict;
      } catch (const soci::postgresql_soci_error& e) {
        // A count the statement checks was short (ombud_conflict: 40001), or two nodes'
        // batches locked the same rows in different orders and PostgreSQL aborted one
        // (deadlock). Nothing of it was written; it is a conflict like a stale revision, and
        // the caller reloads and retries.
        const std::string state = e.sqlstate();
        if (state == "40P01" || state == "40001") return CommitResult::conflict;
        throw;
      }
    });
  }
  return impl_->write("commit", [&](soci::session& s, Transaction& tx) {
    // No round trips: row by row, with statements prepared once.
    RowHints written;
    for (const Commit& c : commits) {
      if (!impl_->apply(s, c, written)) {
        impl_->documents.forget();      // perhaps someone else wrote the file
        return CommitResult::conflict;  // ~Transaction rolls back
      }
    }
    tx.commit();
    impl_->remember(written);
    return CommitResult::ok;
  });
}

std::vector<DueTimer> SqlStore::due_timers(Timestamp until, std::size_t limit) const {
  return impl_->read("read due timers", [&](soci::session& s) {
    std::vector<DueTimer> out;
    std::string id;
    long long timer = 0, due = 0, before = to_ms(until), n = to_limit(limit);
    soci::statement st =
        (s.prepare << "SELECT instance_id, timer_id, due_at FROM timers WHERE due_at <= :u "
                      "ORDER BY due_at, instance_id, timer_id LIMIT :n",
         soci::into(id), soci::into(timer), soci::into(due), soci::use(before), soci::use(n));
    st.execute();
    while (st.fetch()) out.push_back({id, static_cast<std::uint64_t>(timer), from_ms(due)});
    return out;
  });
}

std::optional<Timestamp> SqlStore::next_timer_due() const {
  return impl_->read("read next timer", [&](soci::session& s) -> std::optional<Timestamp> {
    long long due = 0;
    soci::indicator ind = soci::i_null;
    s << "SELECT MIN(due_at) FROM timers", soci::into(due, ind);
    if (ind != soci::i_ok) return std::nullopt;
    return from_ms(due);
  });
}

std::vector<DueTimer> SqlStore::claim_timers(const TimerClaim& claim) {
  // One statement picks and leases, the pick walking the due index over the asked slice only.
  // On PostgreSQL, SKIP LOCKED lets nodes claiming at the same moment take different timers
  // instead of queueing behind each other's row locks, and the picked rows are updated by their
  // ctid: matched by key, the planner hashed the whole table on every claim. A row another
  // transaction changed after this statement began and left claimable (a release racing this
  // claim) is locked by the pick at a ctid the update cannot see, and is left for the next
  // sweep (Worker: at most `sweep_every` later), as are rows SKIP LOCKED passed over. On SQLite
  // the writer mutex already makes claims one at a time, and the key lookup is a search of the
  // primary key.
  static constexpr std::string_view kPick =
      "SELECT {what} FROM timers WHERE due_at > :after AND due_at <= :until AND "
      "(lease_owner IS NULL OR lease_until <= :now OR (lease_owner = :node AND lease_until <= "
      ":renew)) ORDER BY due_at, instance_id, timer_id LIMIT :n";
  const auto pick = [](std::string_view what) {
    std::string q(kPick);
    q.replace(q.find("{what}"), 6, what);
    return q;
  };
  const std::string query =
      "UPDATE timers SET lease_owner = :owner, lease_until = :lease WHERE " +
      (impl_->sqlite() ? "(instance_id, timer_id) IN (" + pick("instance_id, timer_id") + ")"
                       : "ctid = ANY(ARRAY(" + pick("ctid") + impl_->skip_locked() + "))") +
      " RETURNING instance_id, timer_id, due_at";
  return impl_->write("claim timers", [&](soci::session& s, Transaction& tx) {
    std::vector<DueTimer> out;
    std::string owner = claim.node, node = claim.node, id;
    long long lease = to_ms(claim.lease_until), after = to_ms(claim.after),
              until = to_ms(claim.until), at = to_ms(claim.now), renew = to_ms(claim.renew_before),
              n = to_limit(claim.limit), timer = 0, due = 0;
    {
      soci::statement st = (s.prepare << query, soci::into(id), soci::into(timer), soci::into(due),
                            soci::use(owner), soci::use(lease), soci::use(after), soci::use(until),
                            soci::use(at), soci::use(node), soci::use(renew), soci::use(n));
      st.execute();
      while (st.fetch()) out.push_back({id, static_cast<std::uint64_t>(timer), from_ms(due)});
    }
    tx.commit();
    // RETURNING has no order of its own.
    std::sort(out.begin(), out.end(), [](const DueTimer& a, const DueTimer& b) {
      return std::tie(a.due, a.instance_id, a.timer_id) <
             std::tie(b.due, b.instance_id, b.timer_id);
    });
    return out;
  });
}

void SqlStore::release_timers(const std::string& node) {
  impl_->write("release timers", [&](soci::session& s, Transaction& tx) {
    s << "UPDATE timers SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = :n",
        soci::use(node);
    tx.commit();
    return 0;
  });
}

std::size_t SqlStore::pending_timers() const {
  return impl_->read("count timers", [&](soci::session& s) {
    long long n = 0;
    s << "SELECT COUNT(*) FROM timers", soci::into(n);
    return static_cast<std::size_t>(n);
  });
}

void SqlStore::backup_to(const std::string& file) const {
  if (!impl_->sqlite()) {
    throw StoreError("store " + impl_->shown_url +
                     ": back PostgreSQL up with its own tools (pg_dump, or a base backup)");
  }
  // Made empty and the owner's first: VACUUM INTO fills an empty file and keeps its mode.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw StoreError("backup: cannot create " + file + ": " + std::strerror(errno) +
                     (errno == EEXIST ? " (name a new file)" : ""));
  }
  ::close(fd);
  try {
    impl_->read("back up", [&](soci::session& s) {
      s << "VACUUM INTO :file", soci::use(file);
      return 0;
    });
  } catch (...) {
    std::filesystem::remove(file);
    throw;
  }
}

std::size_t SqlStore::undelivered_messages() const {
  return impl_->read("count undelivered messages", [&](soci::session& s) {
    long long n = 0;
    s << "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL", soci::into(n);
    return static_cast<std::size_t>(n);
  });
}

std::vector<StoredHistory> SqlStore::history(const std::string& instance_id) const {
  return impl_->read("read history", [&](soci::session& s) {
    // A row per step (schema 4), in the order the steps committed; its entries are numbered on
    // from the step before, 1, 2, 3, ... per instance.
    std::vector<StoredHistory> out;
    std::string actor, input, entries;
    soci::statement st =
        (s.prepare << "SELECT actor, input, entries FROM history WHERE instance_id = :i "
                      "ORDER BY revision",
         soci::into(actor), soci::into(input), soci::into(entries), soci::use(instance_id));
    st.execute();
    while (st.fetch()) {
      bool first = true;
      for (HistoryEntry& h : history_entries_from_text(entries)) {
        // What caused the step rides on its first entry, as Store::history promises.
        boost::json::object cause;
        if (first && !input.empty()) cause = json_object(input, "history input");
        first = false;
        out.push_back({out.size() + 1, actor, std::move(h), std::move(cause)});
      }
    }
    return out;
  });
}

int SqlStore::open_cases(std::string_view person) const {
  if (person.empty()) return 0;  // unassigned cases belong to nobody
  return impl_->read("count open cases", [&](soci::session& s) {
    Prepared& p = impl_->prepared_for(s);
    p.lookup_a = person;
    p.found_number = 0;
    fetch_one(p.count_open_cases);
    return static_cast<int>(p.found_number);
  });
}

std::vector<Instance> SqlStore::find_instances(const InstanceFilter& f) const {
  // The shape of the query depends on which filters are set; every value is still bound.
  std::string query = "SELECT body FROM instances WHERE id > :after";
  std::vector<std::string> values{f.after_id};
  auto filter = [&](std::string_view column, const std::string& value) {
    if (value.empty()) return;
    query += " AND " + std::string(column) + " = :p" + std::to_string(values.size());
    values.push_back(value);
  };
  filter("workflow", f.workflow);
  filter("state", f.state);
  filter("assignee", f.assignee);
  // Lets the planner use the index of assigned cases (migration 4), which has no others.
  if (!f.assignee.empty()) query += " AND assignee <> ''";
  filter("queue", f.queue);
  // Waiting: open and unassigned; the same words as the index of waiting cases (schema 9).
  if (!f.queue.empty()) query += " AND assignee = '' AND ended = 0";
  filter("business_key", f.key);
  if (f.open_only) query += " AND ended = 0";
  // The same conditions as sla_matches(), on the deadline columns.
  const long long now = to_ms(f.now);
  const long long risk_until = to_ms(f.now + f.at_risk_within);
  if (f.sla == InstanceFilter::Sla::breached) {
    query += " AND (sla_breached = 1 OR sla_due_at <= " + std::to_string(now) + ")";
  } else if (f.sla == InstanceFilter::Sla::at_risk) {
    query += " AND sla_breached = 0 AND sla_due_at > " + std::to_string(now) +
             " AND sla_due_at <= " + std::to_string(risk_until);
  }
  query += " ORDER BY id LIMIT :n";
  return impl_->read("list instances", [&](soci::session& s) {
    std::vector<Instance> out;
    std::string body;
    long long n = to_limit(f.limit);
    soci::statement st(s);
    st.exchange(soci::into(body));
    for (const std::string& v : values) st.exchange(soci::use(v));
    st.exchange(soci::use(n));
    prepare(st, query);
    st.execute();
    while (st.fetch()) out.push_back(instance_from_body(body));
    return out;
  });
}

namespace {

struct DefinitionRow {
  std::string name, content_hash, source, published_by;
  int version = 0;
  long long published_at = 0;

  PublishedDefinition definition() const {
    return {name, version, content_hash, source, published_by, from_ms(published_at)};
  }
};

constexpr const char* kDefinitionColumns =
    "name, version, content_hash, source, published_by, published_at";

void bind_definition(soci::statement& st, DefinitionRow& r) {
  st.exchange(soci::into(r.name));
  st.exchange(soci::into(r.version));
  st.exchange(soci::into(r.content_hash));
  st.exchange(soci::into(r.source));
  st.exchange(soci::into(r.published_by));
  st.exchange(soci::into(r.published_at));
}

std::vector<PublishedDefinition> fetch_definitions(soci::session& s, const std::string& query,
                                                   const std::string* name) {
  std::vector<PublishedDefinition> out;
  DefinitionRow r;
  soci::statement st(s);
  bind_definition(st, r);
  if (name) st.exchange(soci::use(*name));
  prepare(st, query);
  st.execute();
  while (st.fetch()) out.push_back(r.definition());
  return out;
}

}  // namespace

PublishResult SqlStore::publish_definition(const PublishedDefinition& d, EarlierContent earlier) {
  return impl_->write("publish definition", [&](soci::session& s, Transaction& tx) {
    if (!impl_->sqlite()) {
      // Two admins publishing the same workflow at once would both pick the same next version.
      long long key = lock_key("definition", d.name);
      s << "SELECT pg_advisory_xact_lock(:k)", soci::use(key);
    }
    auto versions =
        fetch_definitions(s,
                          std::string("SELECT ") + kDefinitionColumns +
                              " FROM definitions WHERE name = :n ORDER BY version DESC LIMIT 1",
                          &d.name);
    if (!versions.empty() && versions.front().content_hash == d.content_hash) {
      return PublishResult{versions.front(), false};
    }
    if (earlier == EarlierContent::keep_latest && !versions.empty()) {
      int same = 0;
      soci::indicator ind = soci::i_ok;
      s << "SELECT MIN(version) FROM definitions WHERE name = :n AND content_hash = :h",
          soci::into(same, ind), soci::use(d.name), soci::use(d.content_hash);
      if (ind == soci::i_ok && same > 0) return PublishResult{versions.front(), false, same};
    }
    PublishedDefinition out = d;
    out.version = versions.empty() ? 1 : versions.front().version + 1;
    long long at = to_ms(out.published_at);
    s << "INSERT INTO definitions (name, version, content_hash, source, published_by, "
         "published_at) VALUES (:n, :v, :h, :s, :b, :a)",
        soci::use(out.name), soci::use(out.version), soci::use(out.content_hash),
        soci::use(out.source), soci::use(out.published_by), soci::use(at);
    tx.commit();
    return PublishResult{out, true};
  });
}

std::vector<PublishedDefinition> SqlStore::definition_versions(const std::string& name) const {
  return impl_->read("read definition versions", [&](soci::session& s) {
    return fetch_definitions(s,
                             std::string("SELECT ") + kDefinitionColumns +
                                 " FROM definitions WHERE name = :n ORDER BY version",
                             &name);
  });
}

std::vector<PublishedDefinition> SqlStore::latest_definitions() const {
  return impl_->read("read latest definitions", [&](soci::session& s) {
    return fetch_definitions(
        s,
        std::string("SELECT ") + kDefinitionColumns +
            " FROM definitions d WHERE version = (SELECT MAX(version) FROM definitions "
            "WHERE name = d.name) ORDER BY name",
        nullptr);
  });
}

std::vector<OutboxMessage> SqlStore::claim_outbox(Timestamp now, Timestamp lease_until,
                                                  std::size_t limit) {
  const std::string query =
      "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = :lease WHERE id IN "
      "(SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= :now "
      "ORDER BY id LIMIT :n" +
      impl_->skip_locked() + ") RETURNING " + kOutboxColumns;
  return impl_->write("claim outbox", [&](soci::session& s, Transaction& tx) {
    std::vector<OutboxMessage> out;
    OutboxRow r;
    long long lease = to_ms(lease_until), at = to_ms(now), n = to_limit(limit);
    {
      soci::statement st(s);
      bind_outbox(st, r);
      st.exchange(soci::use(lease));
      st.exchange(soci::use(at));
      st.exchange(soci::use(n));
      prepare(st, query);
      st.execute();
      while (st.fetch()) out.push_back(r.message());
    }
    tx.commit();
    std::sort(out.begin(), out.end(),
              [](const OutboxMessage& a, const OutboxMessage& b) { return a.id < b.id; });
    return out;
  });
}

void SqlStore::outbox_delivered(const std::vector<std::uint64_t>& ids, Timestamp at) {
  if (ids.empty()) return;
  impl_->write("mark outbox delivered", [&](soci::session& s, Transaction& tx) {
    long long row = 0;
    long long when = to_ms(at);
    soci::statement st = (s.prepare << "UPDATE outbox SET delivered_at = :a, last_error = '' "
                                       "WHERE id = :i",
                          soci::use(when), soci::use(row));
    for (const std::uint64_t id : ids) {
      row = static_cast<long long>(id);
      st.execute(true);
    }
    tx.commit();
    return 0;
  });
}

Forgotten SqlStore::forget(const ForgetBefore& f) {
  return impl_->write("forget", [&](soci::session& s, Transaction& tx) {
    Forgotten out;
    long long limit = static_cast<long long>(f.limit);
    // Oldest first, through the indexes of migration 7, at most `limit` rows each.
    auto drop = [&](Timestamp before, const char* query) -> std::size_t {
      if (before == Timestamp::min() || limit <= 0) return 0;
      long long t = to_ms(before);
      soci::statement st = (s.prepare << query, soci::use(t), soci::use(limit));
      st.execute(true);
      return static_cast<std::size_t>(st.get_affected_rows());
    };
    static_assert(kInboxKeyPrefix == "inbox:", "the query below spells the prefix out");
    out.idempotency_keys =
        drop(f.idempotency_keys,
             "DELETE FROM idempotency_keys WHERE idempotency_key IN (SELECT idempotency_key "
             "FROM idempotency_keys WHERE created_at < :t AND "
             "substr(idempotency_key, 1, 6) <> 'inbox:' ORDER BY created_at LIMIT :n)");
    out.delivered_messages =
        drop(f.delivered_messages,
             "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE delivered_at < :t "
             "ORDER BY delivered_at LIMIT :n)");
    tx.commit();
    return out;
  });
}

void SqlStore::outbox_failed(std::uint64_t id, const std::string& error,
                             Timestamp next_attempt_at) {
  impl_->write("mark outbox failed", [&](soci::session& s, Transaction& tx) {
    long long row = static_cast<long long>(id), next = to_ms(next_attempt_at);
    s << "UPDATE outbox SET last_error = :e, next_attempt_at = :n WHERE id = :i", soci::use(error),
        soci::use(next), soci::use(row);
    tx.commit();
    return 0;
  });
}

std::vector<OutboxMessage> SqlStore::outbox(bool undelivered_only, std::size_t limit) const {
  const std::string query = std::string("SELECT ") + kOutboxColumns + " FROM outbox" +
                            (undelivered_only ? " WHERE delivered_at IS NULL" : "") +
                            " ORDER BY id LIMIT :n";
  return impl_->read("read outbox", [&](soci::session& s) {
    return select_rows<OutboxRow>(
        s, query, bind_outbox, [](const OutboxRow& r) { return r.message(); }, to_limit(limit));
  });
}

std::uint64_t SqlStore::add_to_inbox(const InboxEntry& entry) {
  return impl_->write("add to inbox", [&](soci::session& s, Transaction& tx) {
    long long id = 0, at = to_ms(entry.received_at);
    std::string payload = json_text(entry.payload);
    s << "INSERT INTO inbox (source, received_at, reason, payload, replayed_into, dedup_key) "
         "VALUES (:s, :a, :r, :p, '', :k) ON CONFLICT (dedup_key) WHERE dedup_key <> '' "
         "DO NOTHING RETURNING id",
        soci::into(id), soci::use(entry.source), soci::use(at), soci::use(entry.reason),
        soci::use(payload), soci::use(entry.dedup_key);
    if (!s.got_data()) {
      // Delivered before: the entry kept then.
      s << "SELECT id FROM inbox WHERE dedup_key = :k", soci::into(id), soci::use(entry.dedup_key);
    } else if (!entry.dedup_key.empty()) {
      // A retry is answered with this entry (Runtime::replayed), without a read of its own.
      const std::string answer = json_text(inbox_answer(static_cast<std::uint64_t>(id)));
      s << "INSERT INTO idempotency_keys (idempotency_key, response, created_at) "
           "VALUES (:k, :r, :a) ON CONFLICT (idempotency_key) DO NOTHING",
          soci::use(entry.dedup_key), soci::use(answer), soci::use(at);
    }
    tx.commit();
    return static_cast<std::uint64_t>(id);
  });
}

std::vector<InboxEntry> SqlStore::inbox(bool open_only, std::uint64_t after_id,
                                        std::size_t limit) const {
  const std::string query = std::string("SELECT ") + kInboxColumns + " FROM inbox WHERE id > :a" +
                            (open_only ? " AND replayed_into = ''" : "") + " ORDER BY id LIMIT :n";
  return impl_->read("read inbox", [&](soci::session& s) {
    return select_rows<InboxRow>(
        s, query, bind_inbox<InboxRow>, [](const InboxRow& r) { return r.entry(); },
        static_cast<long long>(after_id), to_limit(limit));
  });
}

std::optional<InboxEntry> SqlStore::inbox_entry(std::uint64_t id) const {
  const std::string query = std::string("SELECT ") + kInboxColumns + " FROM inbox WHERE id = :i";
  return impl_->read("read inbox entry", [&](soci::session& s) {
    return first(select_rows<InboxRow>(
        s, query, bind_inbox<InboxRow>, [](const InboxRow& r) { return r.entry(); },
        static_cast<long long>(id)));
  });
}

namespace {

struct TokenRow {
  std::string hash, id, role, person, label;
  long long created_at = 0;
  int revoked = 0;

  ApiTokenRow token() const {
    return {id, hash, role, person, label, from_ms(created_at), revoked != 0};
  }
};

constexpr const char* kTokenColumns = "hash, id, role, person, label, created_at, revoked";

void bind_token(soci::statement& st, TokenRow& r) {
  st.exchange(soci::into(r.hash));
  st.exchange(soci::into(r.id));
  st.exchange(soci::into(r.role));
  st.exchange(soci::into(r.person));
  st.exchange(soci::into(r.label));
  st.exchange(soci::into(r.created_at));
  st.exchange(soci::into(r.revoked));
}

}  // namespace

void SqlStore::save_api_token(const ApiTokenRow& t) {
  impl_->write("save api token", [&](soci::session& s, Transaction& tx) {
    long long at = to_ms(t.created_at);
    int revoked = t.revoked ? 1 : 0;
    s << "INSERT INTO api_tokens (hash, id, role, person, label, created_at, revoked) VALUES "
         "(:h, :i, :r, :p, :l, :c, :v) ON CONFLICT (hash) DO UPDATE SET role = excluded.role, "
         "person = excluded.person, label = excluded.label, revoked = excluded.revoked",
        soci::use(t.hash), soci::use(t.id), soci::use(t.role), soci::use(t.person),
        soci::use(t.label), soci::use(at), soci::use(revoked);
    tx.commit();
    return 0;
  });
}

std::optional<ApiTokenRow> SqlStore::find_api_token(const std::string& hash) const {
  const std::string query =
      std::string("SELECT ") + kTokenColumns + " FROM api_tokens WHERE hash = :h";
  return impl_->read("find api token", [&](soci::session& s) {
    return first(select_rows<TokenRow>(
        s, query, bind_token, [](const TokenRow& r) { return r.token(); }, hash));
  });
}

std::vector<ApiTokenRow> SqlStore::api_tokens() const {
  const std::string query =
      std::string("SELECT ") + kTokenColumns + " FROM api_tokens ORDER BY created_at, id";
  return impl_->read("list api tokens", [&](soci::session& s) {
    return select_rows<TokenRow>(s, query, bind_token, [](const TokenRow& r) { return r.token(); });
  });
}

bool SqlStore::revoke_api_token(const std::string& id) {
  return impl_->write("revoke api token", [&](soci::session& s, Transaction& tx) {
    soci::statement st =
        (s.prepare << "UPDATE api_tokens SET revoked = 1 WHERE id = :i", soci::use(id));
    st.execute(true);
    const bool changed = st.get_affected_rows() == 1;
    tx.commit();
    return changed;
  });
}

bool SqlStore::mark_inbox_replayed(std::uint64_t id, const std::string& instance_id) {
  return impl_->write("mark inbox replayed", [&](soci::session& s, Transaction& tx) {
    long long row = static_cast<long long>(id);
    // Only an open entry changes: replaying twice is refused, also across nodes.
    soci::statement st = (s.prepare << "UPDATE inbox SET replayed_into = :r "
                                       "WHERE id = :i AND replayed_into = ''",
                          soci::use(instance_id), soci::use(row));
    st.execute(true);
    const bool changed = st.get_affected_rows() == 1;
    tx.commit();
    return changed;
  });
}

}  // namespace ombud::sql
