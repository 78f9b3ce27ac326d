// History details are written straight to JSON text: the text must be exactly what
// boost::json::serialize gives for the same object, and parse back to it.
#include "engine/details.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

namespace ombud {
namespace {

TEST(Details, WritesTheTextSerializeGivesForTheSameObject) {
  const boost::json::object nested{{"k", boost::json::array{1, nullptr, true}}, {"r", 0.25}};
  const Details d = Details()
                        .add("sla", "resolve")
                        .add("cycle", 2)
                        .add("level", std::size_t{3})
                        .add("met", false)
                        .add("late_ms", std::numeric_limits<std::int64_t>::min())
                        .add("big", std::numeric_limits<std::uint64_t>::max())
                        .add("data", nested)
                        .add("ratio", boost::json::value(1.5e-7))
                        .add("none", boost::json::value(nullptr))
                        .add("note", std::string("say \"hi\"\n\tto 中文\\ \x01\x1f\x7f"));
  const boost::json::object same{{"sla", "resolve"},
                                 {"cycle", 2},
                                 {"level", std::size_t{3}},
                                 {"met", false},
                                 {"late_ms", std::numeric_limits<std::int64_t>::min()},
                                 {"big", std::numeric_limits<std::uint64_t>::max()},
                                 {"data", nested},
                                 {"ratio", 1.5e-7},
                                 {"none", nullptr},
                                 {"note", "say \"hi\"\n\tto 中文\\ \x01\x1f\x7f"}};
  EXPECT_EQ(d.text(), boost::json::serialize(same));
  EXPECT_EQ(d.object(), same);
}

// Objects and arrays (an event's data) are written field by field, not through serialize.
TEST(Details, WritesNestedValuesAsSerializeDoes) {
  const boost::json::object data =
      boost::json::parse(
          R"({"a":[1,2.5,-3,18446744073709551615,true,false,null,"x\"y",{"k":[]},{}],)"
          R"("b":{"c":{"d":"\u4e2d\n"}},"e":1e300,"f":-0.0,"g":[],"h":{}})")
          .as_object();
  const Details d = Details().add("data", data).add("same", boost::json::value(data));
  EXPECT_EQ(d.text(), boost::json::serialize(boost::json::object{{"data", data}, {"same", data}}));
  EXPECT_EQ(d.object().at("data"), data);
}

TEST(Details, EscapesEveryByteAsSerializeDoes) {
  for (int c = 0; c < 256; ++c) {
    std::string s = "a";
    s.push_back(static_cast<char>(c));
    std::string ours;
    append_json_string(ours, s);
    EXPECT_EQ(ours, boost::json::serialize(boost::json::value(boost::json::string_view(s))))
        << "byte " << c;
  }
}

// Strings are scanned 16 bytes at a time: a character to escape at any position of a long
// string, next to others or not, must come out as serialize writes it.
TEST(Details, EscapesLongStringsWithSpecialsAnywhere) {
  std::mt19937 random(7);
  const std::string specials = std::string("\"\\\n\t\x01\x1f", 6) + "\xc3\xa9";
  for (int round = 0; round < 5000; ++round) {
    std::string s(random() % 70, 'x');
    for (char& c : s) {
      const unsigned pick = random() % 8;
      if (pick == 0) c = specials[random() % specials.size()];
      if (pick == 1) c = static_cast<char>('a' + random() % 26);
    }
    std::string ours;
    append_json_string(ours, s);
    ASSERT_EQ(ours, boost::json::serialize(boost::json::value(boost::json::string_view(s))));
  }
}

// The 16-byte scan must stop at every byte that needs escaping, wherever it falls in a block.
TEST(Details, EscapesEveryByteAtEveryPositionOfABlock) {
  for (const std::size_t at : {0, 1, 15, 16, 17, 31, 39}) {
    for (int c = 0; c < 256; ++c) {
      std::string s(40, 'x');
      s[at] = static_cast<char>(c);
      std::string ours;
      append_json_string(ours, s);
      ASSERT_EQ(ours, boost::json::serialize(boost::json::value(boost::json::string_view(s))))
          << "byte " << c << " at " << at;
    }
  }
}

TEST(Details, EscapesNamesThatAreNotLiteralsAndWritesDoubles) {
  const std::string odd = "we\"ird\nname";
  const Details d = Details().add(odd, 1).add("ratio", 0.5).add("tiny", 1e-300);
  const boost::json::object same{{odd, 1}, {"ratio", 0.5}, {"tiny", 1e-300}};
  EXPECT_EQ(d.text(), boost::json::serialize(same));
}

TEST(Details, FromTextRejectsWhatIsNotAnObject) {
  EXPECT_THROW(Details::from_text(""), std::invalid_argument);
  EXPECT_THROW(Details::from_text("[1]"), std::invalid_argument);
  EXPECT_NO_THROW(Details::from_text(R"({"a": 1})"));  // as PostgreSQL's jsonb writes it
  EXPECT_EQ(Details::from_text(R"({"a": 1})").object(), (boost::json::object{{"a", 1}}));
}

TEST(Details, EmptyIsAnEmptyObjectAndTextRoundTrips) {
  EXPECT_TRUE(Details().empty());
  EXPECT_EQ(Details().text(), "{}");
  EXPECT_TRUE(Details().object().empty());
  EXPECT_TRUE(Details::from_text("{}").empty());
  const Details d = Details().add("to", "li.wei");
  EXPECT_EQ(Details::from_text(std::string(d.text())), d);
  EXPECT_NE(Details().add("to", "li.na"), d);
}

}  // namespace
}  // namespace ombud
