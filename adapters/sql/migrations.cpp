#include "adapters/sql/migrations.h"

#include <string_view>
#include <utility>

namespace ombud::sql {

namespace {

// The few spellings that differ between the dialects, as placeholders in the shared text.
//   {serial}  an auto-assigned id that is never reused, even after deletes
//   {key}     text that is compared and ordered byte by byte; PostgreSQL would otherwise use
//             the database's locale, and ids must sort the same on every store (cursors)
//   {clustered}  after a table read and written by its primary key: SQLite then stores the rows
//             in the key's B-tree (WITHOUT ROWID) instead of a rowid table plus an index
// A statement that starts with {sqlite} or {postgresql} runs on that database only (spelled as
// "" on the other).
std::string spell(std::string_view text, Dialect d) {
  for (const auto& [prefix, only] :
       {std::pair{std::string_view("{sqlite}"), Dialect::sqlite},
        std::pair{std::string_view("{postgresql}"), Dialect::postgresql}}) {
    if (!text.starts_with(prefix)) continue;
    if (d != only) return {};
    text.remove_prefix(prefix.size());
  }
  static constexpr std::pair<std::string_view, std::string_view> kSqlite[] = {
      {"{serial}", "INTEGER PRIMARY KEY AUTOINCREMENT"},
      {"{key}", "TEXT"},
      {"{clustered}", " WITHOUT ROWID"}};
  static constexpr std::pair<std::string_view, std::string_view> kPostgres[] = {
      {"{serial}", "BIGSERIAL PRIMARY KEY"}, {"{key}", "TEXT COLLATE \"C\""}, {"{clustered}", ""}};
  std::string out(text);
  for (const auto& [from, to] : d == Dialect::sqlite ? std::span(kSqlite) : std::span(kPostgres)) {
    for (auto pos = out.find(from); pos != std::string::npos; pos = out.find(from, pos)) {
      out.replace(pos, from.size(), to);
      pos += to.size();
    }
  }
  return out;
}

struct MigrationText {
  int version;
  std::string_view name;
  std::vector<std::string_view> statements;
};

// Timestamps (every *_at column) are BIGINT milliseconds since the Unix epoch, UTC, on both
// databases. Flags are SMALLINT 0/1 rather than PostgreSQL's boolean so that both dialects bind
// and read them the same way. JSON is kept as text: it is read back whole, never queried inside.
// Empty strings, not NULL, stand for "none" in text columns, as in the engine's structs; NULL is
// kept for the columns where absence is queried (leases, delivery, SLA deadline).
const std::vector<MigrationText>& texts() {
  static const std::vector<MigrationText> list = {
      {1,
       "create_schema",
       {
           R"(CREATE TABLE definitions (
  name {key} NOT NULL,
  version INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  source TEXT NOT NULL,
  published_by TEXT NOT NULL,
  published_at BIGINT NOT NULL,
  PRIMARY KEY (name, version)))",

           R"(CREATE TABLE instances (
  id {key} PRIMARY KEY,
  workflow {key} NOT NULL,
  version INTEGER NOT NULL,
  state {key} NOT NULL,
  business_key {key} NOT NULL,
  assignee {key} NOT NULL,
  queue {key} NOT NULL,
  ended SMALLINT NOT NULL,
  revision BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  sla_due_at BIGINT,
  sla_breached SMALLINT NOT NULL,
  body TEXT NOT NULL))",
           // A call from a complainant lands on their open case: looked up on every webhook.
           "CREATE INDEX instances_open_by_key ON instances (workflow, business_key) "
           "WHERE ended = 0",
           "CREATE INDEX instances_by_workflow_state ON instances (workflow, state, id)",
           // Listings by person and least-loaded assignment (open_cases).
           "CREATE INDEX instances_by_assignee ON instances (assignee, ended)",
           "CREATE INDEX instances_by_queue ON instances (queue, ended)",
           // ?sla=at_risk|breached listings over open cases.
           "CREATE INDEX instances_sla_due ON instances (sla_due_at) WHERE ended = 0",

           R"(CREATE TABLE history (
  instance_id {key} NOT NULL,
  seq BIGINT NOT NULL,
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL,
  details TEXT NOT NULL,
  actor TEXT NOT NULL,
  input TEXT NOT NULL,
  PRIMARY KEY (instance_id, seq)))",

           R"(CREATE TABLE timers (
  instance_id {key} NOT NULL,
  timer_id BIGINT NOT NULL,
  due_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until BIGINT,
  PRIMARY KEY (instance_id, timer_id)))",
           // Refilling the in-memory look-ahead window and claiming: earliest first.
           "CREATE INDEX timers_due ON timers (due_at, instance_id, timer_id)",

           R"(CREATE TABLE outbox (
  id {serial},
  instance_id {key} NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  last_error TEXT NOT NULL,
  delivered_at BIGINT))",
           // The deliverer only ever looks at what is still to be sent.
           "CREATE INDEX outbox_undelivered ON outbox (next_attempt_at, id) "
           "WHERE delivered_at IS NULL",

           R"(CREATE TABLE idempotency_keys (
  idempotency_key {key} PRIMARY KEY,
  response TEXT NOT NULL,
  created_at BIGINT NOT NULL))",

           R"(CREATE TABLE counters (
  name {key} PRIMARY KEY,
  value BIGINT NOT NULL))",

           R"(CREATE TABLE inbox (
  id {serial},
  source TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  reason TEXT NOT NULL,
  payload TEXT NOT NULL,
  replayed_into TEXT NOT NULL))",
           "CREATE INDEX inbox_open ON inbox (id) WHERE replayed_into = ''",

           // Every (workflow, business key) ever used, open or ended: key_used().
           R"(CREATE TABLE used_keys (
  workflow {key} NOT NULL,
  business_key {key} NOT NULL,
  PRIMARY KEY (workflow, business_key)))",
       }},
      {2,
       "api_tokens_and_inbox_dedup",
       {
           // Only the SHA-256 of a token is kept; `id` is a public prefix of it.
           R"(CREATE TABLE api_tokens (
  hash {key} PRIMARY KEY,
  id {key} NOT NULL UNIQUE,
  role TEXT NOT NULL,
  person TEXT NOT NULL,
  label TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked SMALLINT NOT NULL))",
           // A sender's event id: a webhook delivered twice lands in the inbox once.
           "ALTER TABLE inbox ADD COLUMN dedup_key TEXT NOT NULL DEFAULT ''",
           "CREATE UNIQUE INDEX inbox_dedup ON inbox (dedup_key) WHERE dedup_key <> ''",
       }},
      {3,
       "sqlite_clustered_keys",
       {
           // On SQLite a table whose primary key is not an integer is a rowid table plus a
           // separate index on the key, so every history row, timer and key was written twice.
           // Tables read and written by their key alone are rebuilt clustered on it (WITHOUT
           // ROWID). PostgreSQL has nothing to change.
           R"({sqlite}CREATE TABLE history_clustered (
  instance_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL,
  details TEXT NOT NULL,
  actor TEXT NOT NULL,
  input TEXT NOT NULL,
  PRIMARY KEY (instance_id, seq)) WITHOUT ROWID)",
           "{sqlite}INSERT INTO history_clustered SELECT instance_id, seq, at, kind, message, "
           "details, actor, input FROM history",
           "{sqlite}DROP TABLE history",
           "{sqlite}ALTER TABLE history_clustered RENAME TO history",

           R"({sqlite}CREATE TABLE timers_clustered (
  instance_id TEXT NOT NULL,
  timer_id BIGINT NOT NULL,
  due_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until BIGINT,
  PRIMARY KEY (instance_id, timer_id)) WITHOUT ROWID)",
           "{sqlite}INSERT INTO timers_clustered SELECT instance_id, timer_id, due_at, "
           "lease_owner, lease_until FROM timers",
           "{sqlite}DROP TABLE timers",
           "{sqlite}ALTER TABLE timers_clustered RENAME TO timers",
           "{sqlite}CREATE INDEX timers_due ON timers (due_at, instance_id, timer_id)",

           R"({sqlite}CREATE TABLE used_keys_clustered (
  workflow TEXT NOT NULL,
  business_key TEXT NOT NULL,
  PRIMARY KEY (workflow, business_key)) WITHOUT ROWID)",
           "{sqlite}INSERT INTO used_keys_clustered SELECT workflow, business_key FROM used_keys",
           "{sqlite}DROP TABLE used_keys",
           "{sqlite}ALTER TABLE used_keys_clustered RENAME TO used_keys",

           R"({sqlite}CREATE TABLE idempotency_keys_clustered (
  idempotency_key TEXT PRIMARY KEY,
  response TEXT NOT NULL,
  created_at BIGINT NOT NULL) WITHOUT ROWID)",
           "{sqlite}INSERT INTO idempotency_keys_clustered SELECT idempotency_key, response, "
           "created_at FROM idempotency_keys",
           "{sqlite}DROP TABLE idempotency_keys",
           "{sqlite}ALTER TABLE idempotency_keys_clustered RENAME TO idempotency_keys",
       }},
      {4,
       "history_row_per_step",
       {
           // A step's history entries become one row, keyed by the revision the step committed,
           // instead of a row per entry (docs/decisions/0010): a step writes one history row and
           // one index entry, and needs no "last seq" of the instance to number its entries.
           R"(CREATE TABLE history_steps (
  instance_id {key} NOT NULL,
  revision BIGINT NOT NULL,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  input TEXT NOT NULL,
  entries TEXT NOT NULL,
  PRIMARY KEY (instance_id, revision)){clustered})",
           // Rows written before: their step boundaries were not recorded, so each entry becomes
           // a step of its own, numbered -n .. -1 in its old order (before every new revision,
           // which is at least 1).
           "{sqlite}INSERT INTO history_steps SELECT instance_id, "
           "seq - MAX(seq) OVER (PARTITION BY instance_id) - 1, at, actor, input, "
           "json_array(json_object('at', at, 'kind', kind, 'message', message, 'details', "
           "json(details))) FROM history",
           "{postgresql}INSERT INTO history_steps SELECT instance_id, "
           "seq - MAX(seq) OVER (PARTITION BY instance_id) - 1, at, actor, input, "
           "CAST(json_build_array(json_build_object('at', at, 'kind', kind, 'message', message, "
           "'details', CAST(details AS json))) AS text) FROM history",
           "DROP TABLE history",
           "ALTER TABLE history_steps RENAME TO history",
           // Nothing looked instances up by queue then (schema 9 does, for open cases waiting
           // unassigned); and only assigned cases by their assignee
           // (open_cases, ?assignee=), so unassigned ones need no index entry.
           "DROP INDEX instances_by_queue",
           "DROP INDEX instances_by_assignee",
           "CREATE INDEX instances_by_assignee ON instances (assignee, ended) "
           "WHERE assignee <> ''",
       }},
      {5,
       "timers_updated_in_place",
       {
           // A claim rewrites every timer row it leases (lease_owner, lease_until: no index
           // covers them). With room left on each page, PostgreSQL writes the new version beside
           // the old one (a HOT update) instead of adding an entry to both timer indexes: a
           // fraction of the WAL, which every commit's flush waits for. Pages written from now
           // on keep half of themselves free; SQLite updates rows in place anyway.
           "{postgresql}ALTER TABLE timers SET (fillfactor = 50)",
       }},
      {6,
       "commit_in_one_statement",
       {
           // PostgreSQL writes a group commit as one statement, its own transaction (see
           // adapters/sql/pg_batch.h). When a row count it checks is short (a revision moved, a
           // fired timer is gone, ...) it calls this, and the error undoes the whole statement.
           // SQLSTATE 40001, a serialization failure: the store reports it as a conflict.
           "{postgresql}CREATE FUNCTION ombud_conflict(what text) RETURNS integer "
           "LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION '% changed since the batch read it', "
           "what USING ERRCODE = 'serialization_failure'; END$$",
       }},
      {7,
       "forget_by_age",
       {
           // Housekeeping (Store::forget) drops idempotency answers and delivered messages
           // oldest first, a bounded number per call: each call reads the oldest rows of an
           // index instead of scanning the table.
           "CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at)",
           "CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL",
       }},
      {8,
       "one_timer_row_per_case",
       {
           // No statement: rows written before stay valid (decision 0013). The version marks the
           // stores whose cases keep only their earliest timer as a row: a build from before,
           // which expects a row per timer, would fire a case's row and never write the next.
           // Builds since schema 6 refuse a store newer than they know.
       }},
      {9,
       "cases_waiting_in_queues",
       {
           // GET /v1/instances?queue=Q: the open cases waiting, unassigned, in a queue. Only
           // those have an entry; a case a person works on costs the index nothing.
           "CREATE INDEX instances_waiting ON instances (queue, id) "
           "WHERE assignee = '' AND ended = 0",
       }},
      {10,
       "open_business_keys",
       {
           // key_policy one_open held by the database, not only by the node that starts a case:
           // two nodes sharing PostgreSQL each saw no open case for a caller and both opened one.
           // A start claims its key here (a taken key is a conflict) and the case's end gives it
           // back. Cases open now: one row per key (the oldest case, should two hold it).
           R"(CREATE TABLE open_keys (
  workflow {key} NOT NULL,
  business_key {key} NOT NULL,
  instance_id {key} NOT NULL,
  PRIMARY KEY (workflow, business_key)){clustered})",
           "INSERT INTO open_keys SELECT workflow, business_key, MIN(id) FROM instances "
           "WHERE ended = 0 AND business_key <> '' GROUP BY workflow, business_key",
           "CREATE INDEX open_keys_by_instance ON open_keys (instance_id)",
       }},
  };
  return list;
}

}  // namespace

std::vector<Migration> migrations(Dialect dialect) {
  std::vector<Migration> out;
  for (const auto& t : texts()) {
    Migration m{t.version, std::string(t.name), {}};
    for (auto s : t.statements) {
      std::string spelled = spell(s, dialect);
      if (!spelled.empty()) m.statements.push_back(std::move(spelled));
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace ombud::sql
