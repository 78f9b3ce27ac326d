// A step's history entries as one row's text (schema 4): what is written reads back the same,
// and a row that is not such an array is a StoreError, never a half-read history.
#include "adapters/sql/history_row.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/sql/sql_store.h"

namespace ombud::sql {
namespace {

using ::testing::HasSubstr;

TEST(HistoryRow, EntriesReadBackAsWritten) {
  const std::vector<HistoryEntry> written = {
      {Timestamp{Millis{1764320400000}}, "event", "ping", Details()},
      {Timestamp{Millis{1764320400001}}, "transition", "ping: \"a\" → b\n",
       Details().add("from", "a").add("score", 2.5).add("n", std::int64_t{-3}).add("ok", true)},
  };
  const std::string text = history_entries_text(written);
  EXPECT_THAT(text, ::testing::StartsWith(
                        R"([{"at":1764320400000,"kind":"event","message":"ping","details":{}},)"));
  const std::vector<HistoryEntry> read = history_entries_from_text(text);
  ASSERT_EQ(read.size(), 2u);
  for (std::size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read[i].at, written[i].at);
    EXPECT_EQ(read[i].kind, written[i].kind);
    EXPECT_EQ(read[i].message, written[i].message);
    EXPECT_EQ(read[i].details.text(), written[i].details.text());
  }
  EXPECT_EQ(history_entries_text({}), "[]");
  EXPECT_TRUE(history_entries_from_text("[]").empty());
}

// Spaced as PostgreSQL's json_build_object writes migration 4's rows.
TEST(HistoryRow, ReadsEntriesWithAnySpacing) {
  const auto read = history_entries_from_text(
      R"([{"at" : 5, "kind" : "started", "message" : "started", "details" : {"via" : "phone"}}])");
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].details.text(), R"({"via":"phone"})");
}

TEST(HistoryRow, MalformedRowsAreStoreErrors) {
  for (const char* text : {"", "{}", "[1]", R"([{"kind":"event","message":"m","details":{}}])",
                           R"([{"at":"x","kind":"event","message":"m","details":{}}])",
                           R"([{"at":1,"kind":"event","message":"m","details":[]}])"}) {
    EXPECT_THROW(history_entries_from_text(text), StoreError) << text;
  }
  try {
    history_entries_from_text(R"([{"at":1,"message":"m","details":{}}])");
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no 'kind'"));
  }
}

}  // namespace
}  // namespace ombud::sql
