// A store written before schema 4, when every history entry was a row of its own: the rows, and
// what reading and extending them must give once migration 4 made a row per step. Shared by the
// SQLite and the PostgreSQL upgrade tests, which differ in how they write the old schema.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "adapters/sql/migrations.h"
#include "adapters/sql/sql_store.h"

namespace ombud::testing {

// The schema as migrations 1..`version` left it, then a case "c-1" at revision 2 with three
// entries (the first and the third each carried a step's input) and a case "c-2" with one.
inline std::vector<std::string> legacy_store(sql::Dialect dialect, int version) {
  std::vector<std::string> out = {
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
      "applied_at BIGINT NOT NULL)"};
  for (const sql::Migration& m : sql::migrations(dialect)) {
    if (m.version > version) break;
    out.insert(out.end(), m.statements.begin(), m.statements.end());
    out.push_back("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", '" +
                  m.name + "', 0)");
  }
  const std::vector<std::string> rows = {
      "INSERT INTO instances VALUES ('c-1', 'complaint', 1, 'intake', 'k-1', 'li.na', '', 0, 2, "
      "0, 0, NULL, 0, '')",
      "INSERT INTO history VALUES ('c-1', 1, 1000, 'started', 'started in intake', "
      R"('{"via":"phone","score":1.5E0,"note":"say \"hi\"\n","tags":["a",{"b":null}]}', )"
      R"('hook:phones', '{"workflow":"complaint"}'))",
      "INSERT INTO history VALUES ('c-1', 2, 1000, 'assigned', 'assigned to li.na', "
      R"('{"to":"li.na"}', 'hook:phones', ''))",
      "INSERT INTO history VALUES ('c-1', 3, 2000, 'event', 'ping', '{}', 'li.na', "
      R"('{"event":"ping"}'))",
      "INSERT INTO history VALUES ('c-2', 1, 500, 'started', 'started', '{}', 'api', '')",
  };
  out.insert(out.end(), rows.begin(), rows.end());
  return out;
}

// After migration 4: every old entry reads back as it was written, in order and numbered as
// before; a new step goes on after them at seq 4.
inline void expect_legacy_history_kept(sql::SqlStore& store) {
  const auto before = store.history("c-1");
  ASSERT_EQ(before.size(), 3u);
  EXPECT_EQ(before[0].seq, 1u);
  EXPECT_EQ(before[0].actor, "hook:phones");
  EXPECT_EQ(before[0].entry.at, Timestamp{Millis{1000}});
  EXPECT_EQ(before[0].entry.kind, "started");
  EXPECT_EQ(before[0].entry.details.text(),
            R"({"via":"phone","score":1.5E0,"note":"say \"hi\"\n","tags":["a",{"b":null}]})");
  EXPECT_EQ(before[0].input, (boost::json::object{{"workflow", "complaint"}}));
  EXPECT_EQ(before[1].seq, 2u);
  EXPECT_EQ(before[1].entry.message, "assigned to li.na");
  EXPECT_EQ(before[1].entry.details.text(), R"({"to":"li.na"})");
  EXPECT_TRUE(before[1].input.empty());
  EXPECT_EQ(before[2].seq, 3u);
  EXPECT_EQ(before[2].actor, "li.na");
  EXPECT_EQ(before[2].entry.at, Timestamp{Millis{2000}});
  EXPECT_EQ(before[2].input, (boost::json::object{{"event", "ping"}}));
  ASSERT_EQ(store.history("c-2").size(), 1u);

  Commit c;
  c.instance.id = "c-1";
  c.instance.workflow = "complaint";
  c.instance.version = 1;
  c.instance.state = "resolved";
  c.instance.revision = 3;
  c.expected_revision = 2;
  c.actor = "li.na";
  c.input = {{"event", "resolve"}};
  c.history.push_back({Timestamp{Millis{3000}}, "event", "resolve", Details()});
  c.history.push_back({Timestamp{Millis{3000}}, "transition", "resolve: intake → resolved",
                       Details().add("from", "intake").add("to", "resolved")});
  ASSERT_EQ(store.commit(c), CommitResult::ok);
  const auto after = store.history("c-1");
  ASSERT_EQ(after.size(), 5u);
  EXPECT_EQ(after[3].seq, 4u);
  EXPECT_EQ(after[3].input, (boost::json::object{{"event", "resolve"}}));
  EXPECT_EQ(after[4].seq, 5u);
  EXPECT_TRUE(after[4].input.empty());
  EXPECT_EQ(after[4].entry.details.text(), R"({"from":"intake","to":"resolved"})");
}

}  // namespace ombud::testing
