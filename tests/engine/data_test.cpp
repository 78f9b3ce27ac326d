// Data must behave as the boost::json::object it replaced in Instance: same order of fields,
// same erase, same equality, and a lossless round trip through JSON.
#include "engine/data.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace ombud {
namespace {

std::vector<std::string> keys(const Data& d) {
  std::vector<std::string> out;
  for (const auto& field : d) out.push_back(field.key());
  return out;
}

TEST(Data, KeepsTheOrderFieldsWereAddedIn) {
  Data d;
  d["phone"] = "13800000000";
  d.emplace("channel", "agency");
  d["score"] = 4;
  d["phone"] = "13900000000";  // overwriting keeps the position
  EXPECT_EQ(keys(d), (std::vector<std::string>{"phone", "channel", "score"}));
  EXPECT_EQ(boost::json::serialize(d.to_object()),
            R"({"phone":"13900000000","channel":"agency","score":4})");
}

TEST(Data, EraseMovesTheLastFieldIntoTheGapAsAJsonObjectDoes) {
  const char* text = R"({"a":1,"b":2,"c":3,"d":4})";
  Data d = boost::json::parse(text).as_object();
  boost::json::object o = boost::json::parse(text).as_object();
  EXPECT_EQ(d.erase("b"), 1U);
  o.erase("b");
  EXPECT_EQ(d.erase("missing"), 0U);
  EXPECT_EQ(boost::json::serialize(d.to_object()), boost::json::serialize(o));
  EXPECT_EQ(keys(d), (std::vector<std::string>{"a", "d", "c"}));
}

TEST(Data, LooksUpAndAddsLikeAnObject) {
  Data d{{"score", 5}, {"tags", boost::json::array{"x"}}};
  ASSERT_NE(d.if_contains("score"), nullptr);
  EXPECT_EQ(d.at("score"), 5);
  EXPECT_TRUE(d.contains("tags"));
  EXPECT_FALSE(d.contains("note"));
  EXPECT_EQ(d.if_contains("note"), nullptr);
  EXPECT_THROW((void)d.at("note"), std::out_of_range);
  EXPECT_TRUE(d["note"].is_null());  // added as null, at the end
  EXPECT_EQ(d.size(), 3U);
  auto [field, added] = d.emplace("score", 1);  // there already: left alone
  EXPECT_FALSE(added);
  EXPECT_EQ(field.value(), 5);
}

TEST(Data, ComparesFieldsInAnyOrder) {
  const Data a = boost::json::parse(R"({"x":1,"y":"two"})").as_object();
  const Data b = boost::json::parse(R"({"y":"two","x":1})").as_object();
  const Data c = boost::json::parse(R"({"y":"two","x":2})").as_object();
  const Data d = boost::json::parse(R"({"y":"two"})").as_object();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  EXPECT_NE(d, a);
}

TEST(Data, RoundTripsThroughJsonWithNestedValues) {
  const char* text =
      R"({"phone":"13800000000","summary":"a string well past the short-string buffer",)"
      R"("ratio":0.5,"big":18446744073709551615,"meta":{"k":[1,null,true]},"none":null})";
  const boost::json::value parsed = boost::json::parse(text);
  const Data d = parsed.as_object();
  EXPECT_EQ(d.to_object(), parsed.as_object());
  // The same text, fields in the same order.
  EXPECT_EQ(boost::json::serialize(d.to_object()), boost::json::serialize(parsed));
  EXPECT_EQ(boost::json::serialize(boost::json::value_from(d)), boost::json::serialize(parsed));
}

TEST(Data, CopiesHoldExactlyTheirFieldsOrTheRoomAskedFor) {
  Data d;
  d.reserve(8);
  d["a"] = 1;
  d["b"] = "a long string that lives on the heap, copied with its field";
  const Data copy(d);
  EXPECT_EQ(copy.capacity(), 2U);
  EXPECT_EQ(copy, d);
  const Data roomy(d, 3);
  EXPECT_EQ(roomy.capacity(), 5U);
  EXPECT_EQ(roomy, d);
  Data assigned;
  assigned = d;
  EXPECT_EQ(assigned.capacity(), 2U);
  d["b"] = "changed";
  EXPECT_NE(copy, d);  // the copy owns its values
}

TEST(Data, AssignsMovesAndErasesDownToEmpty) {
  Data d{{"a", 1}, {"b", "a long string that lives on the heap, kept by its field"}};
  const Data original = d;
  d = *&d;  // self-assignment keeps the fields
  EXPECT_EQ(d, original);
  Data target{{"x", "overwritten: its own long string is freed by the move"}};
  target = std::move(d);
  EXPECT_EQ(target, original);
  EXPECT_TRUE(d.empty());            // NOLINT(bugprone-use-after-move): a moved-from Data is empty
  EXPECT_EQ(target.erase("b"), 1U);  // the last field
  EXPECT_EQ(target.erase("a"), 1U);  // the only field
  EXPECT_TRUE(target.empty());
  target["again"] = 2;
  EXPECT_EQ(boost::json::serialize(target.to_object()), R"({"again":2})");
}

// The new field's name is taken before the array grows: here it is the text of a field of the
// same Data, which growing moves.
TEST(Data, AddsAFieldNamedByOneOfItsOwnValues) {
  Data d;
  d["k"] = "short";  // kept inside the value, so it moves with the array
  ASSERT_EQ(d.capacity(), 1U);
  d[std::string_view(d.at("k").as_string())] = 1;
  EXPECT_EQ(boost::json::serialize(d.to_object()), R"({"k":"short","short":1})");
}

TEST(Data, KeysAreSharedAcrossInstances) {
  const Data a{{"customer_name", "Li Na"}};
  const Data b{{"customer_name", "Wang Fang"}};
  EXPECT_EQ(&a.begin()->key(), &b.begin()->key());
}

}  // namespace
}  // namespace ombud
