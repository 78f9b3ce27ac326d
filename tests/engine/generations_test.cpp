#include "engine/generations.h"

#include <gtest/gtest.h>

#include <string>

namespace ombud {
namespace {

TEST(Generations, KeepsWhatWasUsedWithinHalfTheCapacity) {
  Generations<int> g;
  g.set_capacity(4);  // two per generation
  g.put("a", 1);
  g.put("b", 2);
  g.put("c", 3);                    // a and b become the older generation
  ASSERT_NE(g.find("a"), nullptr);  // used: back to the recent one, with c
  EXPECT_EQ(*g.find("a"), 1);
  g.put("d", 4);  // c and a become the older one; b is dropped
  EXPECT_EQ(g.find("b"), nullptr);
  EXPECT_TRUE(g.contains("a"));
  EXPECT_TRUE(g.contains("c"));
  EXPECT_EQ(*g.find("d"), 4);
}

TEST(Generations, ReplacingAnEntryMovesNothingOut) {
  Generations<int> g;
  g.set_capacity(4);
  g.put("a", 1);
  g.put("b", 2);
  g.put("b", 3);  // a replacement, not an addition: a stays in the recent generation
  g.put("c", 4);
  g.put("d", 5);  // a and b aged into the older generation, c and d are the recent one
  EXPECT_TRUE(g.contains("a"));
  EXPECT_TRUE(g.contains("c"));
  EXPECT_EQ(*g.find("b"), 3);
}

TEST(Generations, CapacityZeroKeepsNothingAndClearingForgetsAll) {
  Generations<std::string> g;
  g.put("a", "x");
  EXPECT_FALSE(g.contains("a"));
  g.set_capacity(10);
  g.put("a", "x");
  g.put("b", "y");
  g.clear();
  EXPECT_EQ(g.find("a"), nullptr);
  EXPECT_EQ(g.find("b"), nullptr);
  g.put("a", "z");
  g.set_capacity(0);
  EXPECT_FALSE(g.contains("a"));
}

}  // namespace
}  // namespace ombud
