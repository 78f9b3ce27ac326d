#include "engine/assignment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/directory.h"

namespace ombud {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

// Open cases per person; anyone not listed holds none.
class MapWorkload final : public Workload {
 public:
  MapWorkload() = default;
  MapWorkload(std::initializer_list<std::pair<const std::string, int>> loads) : loads_(loads) {}

  int open_cases(std::string_view person) const override {
    const auto it = loads_.find(person);
    return it == loads_.end() ? 0 : it->second;
  }
  void set(const std::string& person, int load) { loads_[person] = load; }

 private:
  std::map<std::string, int, std::less<>> loads_;
};

Person person(std::string id, std::vector<std::string> roles, std::string manager,
              std::vector<std::string> skills, int capacity) {
  Person p;
  p.id = std::move(id);
  p.name = p.id;
  p.roles = std::move(roles);
  p.manager = std::move(manager);
  p.skills = std::move(skills);
  p.capacity = capacity;
  return p;
}

Queue queue(std::string name, std::vector<std::string> members, std::vector<std::string> roles) {
  Queue q;
  q.name = std::move(name);
  q.members = std::move(members);
  q.roles = std::move(roles);
  return q;
}

// A small complaints department. People are listed out of id order, and the explicit queue
// members too, so that every "sorted by id" below is the code's doing.
Config department() {
  Config c;
  c.people = {
      person("wang.fang", {"agent"}, "chen.jing", {"gas", "delivery"}, 0),
      person("zhang.wei", {"manager"}, "", {}, 0),
      person("li.na", {"agent"}, "chen.jing", {"billing", "gas"}, 20),
      person("chen.jing", {"supervisor"}, "zhang.wei", {}, 30),
      person("liu.yang", {"agent"}, "chen.jing", {"billing"}, 15),
  };
  c.queues = {
      queue("complaints", {"wang.fang", "li.na", "liu.yang"}, {}),
      queue("agents", {}, {"agent"}),
      queue("escalations", {"li.na", "chen.jing"}, {"agent", "supervisor"}),
      queue("billing", {"liu.yang", "li.na"}, {}),
      queue("empty", {}, {}),
  };
  return c;
}

std::vector<std::string> ids(const std::vector<const Person*>& people) {
  std::vector<std::string> out;
  out.reserve(people.size());
  for (const Person* p : people) out.push_back(p->id);
  return out;
}

class AssignmentTest : public testing::Test {
 protected:
  AssignmentChoice from_queue(std::string_view q, AssignStrategy strategy,
                              const std::vector<std::string>& skills = {},
                              std::int64_t cursor = 0) {
    return choose_from_queue(directory, workload, q, strategy, skills, cursor);
  }
  AssignmentChoice round_robin(std::string_view q, std::int64_t cursor,
                               const std::vector<std::string>& skills = {}) {
    return from_queue(q, AssignStrategy::round_robin, skills, cursor);
  }
  AssignmentChoice least_loaded(std::string_view q, const std::vector<std::string>& skills = {}) {
    return from_queue(q, AssignStrategy::least_loaded, skills);
  }

  Config config = department();
  ConfigDirectory directory{config};
  MapWorkload workload;
};

// ---- ConfigDirectory ----------------------------------------------------------------------------

TEST_F(AssignmentTest, DirectoryFindsPeopleById) {
  ASSERT_NE(directory.person("li.na"), nullptr);
  EXPECT_EQ(directory.person("li.na")->capacity, 20);
  EXPECT_EQ(directory.person("nobody"), nullptr);
}

TEST_F(AssignmentTest, QueueMembersAreExplicitMembersSortedById) {
  EXPECT_THAT(ids(directory.queue_members("complaints")),
              ElementsAre("li.na", "liu.yang", "wang.fang"));
}

TEST_F(AssignmentTest, QueueMembersIncludeRoleHoldersOnce) {
  // li.na is both an explicit member and an agent; chen.jing both a member and a supervisor.
  EXPECT_THAT(ids(directory.queue_members("escalations")),
              ElementsAre("chen.jing", "li.na", "liu.yang", "wang.fang"));
}

TEST_F(AssignmentTest, UnknownQueueHasNoMembers) {
  EXPECT_THAT(directory.queue_members("nope"), IsEmpty());
}

TEST_F(AssignmentTest, PeopleWithRoleAreSortedById) {
  EXPECT_THAT(ids(directory.people_with_role("agent")),
              ElementsAre("li.na", "liu.yang", "wang.fang"));
  EXPECT_THAT(directory.people_with_role("janitor"), IsEmpty());
}

// ---- Round robin --------------------------------------------------------------------------------

TEST_F(AssignmentTest, RoundRobinWalksEveryoneInOrderAndWraps) {
  std::vector<std::string> picks;
  std::vector<std::int64_t> cursors;
  std::int64_t cursor = 0;
  for (int i = 0; i < 4; ++i) {
    const AssignmentChoice c = round_robin("complaints", cursor);
    ASSERT_TRUE(c.person) << c.reason;
    picks.push_back(*c.person);
    cursor = c.next_cursor;
    cursors.push_back(cursor);
  }
  EXPECT_THAT(picks, ElementsAre("li.na", "liu.yang", "wang.fang", "li.na"));
  EXPECT_THAT(cursors, ElementsAre(1, 2, 0, 1));
}

TEST_F(AssignmentTest, RoundRobinContinuesFromAStoredCursorAfterARestart) {
  std::int64_t stored = 0;
  {
    const ConfigDirectory before_restart(config);
    stored = choose_from_queue(before_restart, workload, "complaints", AssignStrategy::round_robin,
                               {}, stored)
                 .next_cursor;
    stored = choose_from_queue(before_restart, workload, "complaints", AssignStrategy::round_robin,
                               {}, stored)
                 .next_cursor;
  }
  const ConfigDirectory after_restart(config);
  const AssignmentChoice c = choose_from_queue(after_restart, workload, "complaints",
                                               AssignStrategy::round_robin, {}, stored);
  EXPECT_EQ(c.person, "wang.fang");
}

TEST_F(AssignmentTest, RoundRobinIsFairWhenEveryPickIsAFreshCall) {
  std::map<std::string, int> counts;
  std::int64_t stored = 0;
  for (int i = 0; i < 30; ++i) {
    // Nothing survives between picks but the stored cursor, as across restarts.
    const Config reloaded = department();
    const ConfigDirectory fresh(reloaded);
    const AssignmentChoice c = choose_from_queue(fresh, MapWorkload{}, "complaints",
                                                 AssignStrategy::round_robin, {}, stored);
    ASSERT_TRUE(c.person) << c.reason;
    ++counts[*c.person];
    stored = c.next_cursor;
  }
  EXPECT_EQ(counts,
            (std::map<std::string, int>{{"li.na", 10}, {"liu.yang", 10}, {"wang.fang", 10}}));
}

TEST_F(AssignmentTest, RoundRobinSkipsPeopleAtCapacity) {
  workload.set("li.na", 20);  // capacity 20
  const AssignmentChoice c = round_robin("complaints", 0);
  EXPECT_EQ(c.person, "liu.yang");
  EXPECT_EQ(c.next_cursor, 2);
}

TEST_F(AssignmentTest, RoundRobinSkipsPeopleAtCapacityWhenWrapping) {
  // billing is li.na, liu.yang; from position 1 a full liu.yang sends the walk round to li.na.
  workload.set("liu.yang", 15);
  const AssignmentChoice c = round_robin("billing", 1);
  EXPECT_EQ(c.person, "li.na");
  EXPECT_EQ(c.next_cursor, 1);
}

TEST_F(AssignmentTest, RoundRobinSkipsPeopleLackingSkills) {
  // liu.yang has no gas skill: the walk goes li.na, wang.fang, li.na, ...
  std::vector<std::string> picks;
  std::int64_t cursor = 0;
  for (int i = 0; i < 4; ++i) {
    const AssignmentChoice c = round_robin("complaints", cursor, {"gas"});
    ASSERT_TRUE(c.person) << c.reason;
    picks.push_back(*c.person);
    cursor = c.next_cursor;
  }
  EXPECT_THAT(picks, ElementsAre("li.na", "wang.fang", "li.na", "wang.fang"));
}

TEST_F(AssignmentTest, RoundRobinNeedsEverySkill) {
  EXPECT_EQ(round_robin("complaints", 1, {"gas", "billing"}).person, "li.na");
}

TEST_F(AssignmentTest, RoundRobinMapsAnyCursorOntoAPosition) {
  // A cursor stored when the queue was longer, or a negative one, still picks someone.
  EXPECT_EQ(round_robin("complaints", 7).person, "liu.yang");  // 7 mod 3 = 1
  EXPECT_EQ(round_robin("complaints", -1).person, "wang.fang");
}

TEST_F(AssignmentTest, RoundRobinOverAQueueOfRoleHolders) {
  EXPECT_EQ(round_robin("agents", 2).person, "wang.fang");
}

// ---- Least loaded -------------------------------------------------------------------------------

TEST_F(AssignmentTest, LeastLoadedPicksFewestOpenCases) {
  workload = MapWorkload{{"li.na", 5}, {"liu.yang", 2}, {"wang.fang", 9}};
  EXPECT_EQ(least_loaded("complaints").person, "liu.yang");
}

TEST_F(AssignmentTest, LeastLoadedBreaksTiesById) {
  workload = MapWorkload{{"li.na", 4}, {"liu.yang", 3}, {"wang.fang", 3}};
  EXPECT_EQ(least_loaded("complaints").person, "liu.yang");
}

TEST_F(AssignmentTest, LeastLoadedSkipsPeopleAtCapacity) {
  // liu.yang has the fewest but is full; wang.fang has the most but no limit (capacity 0).
  workload = MapWorkload{{"li.na", 19}, {"liu.yang", 15}, {"wang.fang", 40}};
  EXPECT_EQ(least_loaded("complaints").person, "li.na");
  workload.set("li.na", 20);
  EXPECT_EQ(least_loaded("complaints").person, "wang.fang");
}

TEST_F(AssignmentTest, LeastLoadedOnlyAmongThoseWithTheSkills) {
  workload = MapWorkload{{"li.na", 5}, {"liu.yang", 0}, {"wang.fang", 9}};
  EXPECT_EQ(least_loaded("complaints", {"gas"}).person, "li.na");
}

TEST_F(AssignmentTest, LeastLoadedOverAQueueOfRoleHolders) {
  workload = MapWorkload{{"li.na", 5}, {"liu.yang", 7}, {"wang.fang", 1}, {"chen.jing", 0}};
  EXPECT_EQ(least_loaded("agents").person, "wang.fang");
  EXPECT_EQ(least_loaded("escalations").person, "chen.jing");
}

TEST_F(AssignmentTest, LeastLoadedKeepsTheCursor) {
  EXPECT_EQ(from_queue("complaints", AssignStrategy::least_loaded, {}, 2).next_cursor, 2);
}

// ---- Nobody eligible ----------------------------------------------------------------------------

TEST_F(AssignmentTest, UnknownQueueSaysSo) {
  const AssignmentChoice c = round_robin("nope", 0);
  EXPECT_FALSE(c.person);
  EXPECT_EQ(c.reason, "queue 'nope' has no members");
}

TEST_F(AssignmentTest, EmptyQueueSaysSo) {
  for (AssignStrategy s : {AssignStrategy::round_robin, AssignStrategy::least_loaded}) {
    const AssignmentChoice c = from_queue("empty", s);
    EXPECT_FALSE(c.person);
    EXPECT_EQ(c.reason, "queue 'empty' has no members");
  }
}

TEST_F(AssignmentTest, NobodyWithTheSkillsNamesThem) {
  const AssignmentChoice c = round_robin("complaints", 0, {"gas", "plumbing"});
  EXPECT_FALSE(c.person);
  EXPECT_EQ(c.reason, "nobody in queue 'complaints' has skills gas, plumbing");
  EXPECT_EQ(least_loaded("complaints", {"plumbing"}).reason,
            "nobody in queue 'complaints' has skill plumbing");
}

TEST_F(AssignmentTest, EveryoneAtCapacityListsTheLoads) {
  workload = MapWorkload{{"li.na", 20}, {"liu.yang", 16}};
  for (AssignStrategy s : {AssignStrategy::round_robin, AssignStrategy::least_loaded}) {
    const AssignmentChoice c = from_queue("billing", s);
    EXPECT_FALSE(c.person);
    EXPECT_EQ(c.reason, "everyone in queue 'billing' is at capacity (li.na 20/20, liu.yang 16/15)");
  }
}

TEST_F(AssignmentTest, EveryoneWithTheSkillsAtCapacityListsOnlyThem) {
  // wang.fang could take it (no limit) but lacks billing.
  workload = MapWorkload{{"li.na", 20}, {"liu.yang", 15}};
  const AssignmentChoice c = round_robin("complaints", 0, {"billing"});
  EXPECT_FALSE(c.person);
  EXPECT_EQ(c.reason,
            "everyone in queue 'complaints' with skill billing is at capacity (li.na 20/20, "
            "liu.yang 15/15)");
}

TEST_F(AssignmentTest, NobodyEligibleKeepsTheCursor) {
  // The caller stores next_cursor after every attempt; a failed one must not lose the place.
  workload = MapWorkload{{"li.na", 20}, {"liu.yang", 15}};
  EXPECT_EQ(round_robin("billing", 1).next_cursor, 1);
  EXPECT_EQ(round_robin("empty", 5).next_cursor, 5);
}

// ---- By role, manager, person -------------------------------------------------------------------

TEST_F(AssignmentTest, ByRolePicksTheLeastLoadedHolder) {
  workload = MapWorkload{{"li.na", 3}, {"liu.yang", 1}, {"wang.fang", 1}};
  EXPECT_EQ(choose_by_role(directory, workload, "agent").person, "liu.yang");
  EXPECT_EQ(choose_by_role(directory, workload, "supervisor").person, "chen.jing");
}

TEST_F(AssignmentTest, ByRoleSkipsHoldersAtCapacity) {
  workload = MapWorkload{{"li.na", 20}, {"liu.yang", 1}, {"wang.fang", 5}};
  EXPECT_EQ(choose_by_role(directory, workload, "agent").person, "liu.yang");
}

TEST_F(AssignmentTest, ByRoleWithNobodyHoldingItSaysSo) {
  const AssignmentChoice c = choose_by_role(directory, workload, "janitor");
  EXPECT_FALSE(c.person);
  EXPECT_EQ(c.reason, "nobody has role 'janitor'");
}

TEST_F(AssignmentTest, ByRoleWithEveryoneAtCapacityListsTheLoads) {
  workload = MapWorkload{{"chen.jing", 31}};
  const AssignmentChoice c = choose_by_role(directory, workload, "supervisor");
  EXPECT_FALSE(c.person);
  EXPECT_EQ(c.reason, "everyone with role 'supervisor' is at capacity (chen.jing 31/30)");
}

TEST_F(AssignmentTest, ManagerOfPicksTheManager) {
  EXPECT_EQ(choose_manager_of(directory, "li.na").person, "chen.jing");
  EXPECT_EQ(choose_manager_of(directory, "chen.jing").person, "zhang.wei");
}

TEST_F(AssignmentTest, ManagerOfSomeoneAtTheTopSaysSo) {
  const AssignmentChoice c = choose_manager_of(directory, "zhang.wei");
  EXPECT_FALSE(c.person);
  EXPECT_EQ(c.reason, "zhang.wei has no manager");
}

TEST_F(AssignmentTest, ManagerOfAnUnknownPersonSaysSo) {
  const AssignmentChoice c = choose_manager_of(directory, "x");
  EXPECT_FALSE(c.person);
  EXPECT_EQ(c.reason, "unknown person 'x'");
}

TEST_F(AssignmentTest, ManagerOutsideTheDirectorySaysSo) {
  config.people.push_back(person("new.hire", {"agent"}, "left.company", {}, 0));
  const AssignmentChoice c = choose_manager_of(directory, "new.hire");
  EXPECT_FALSE(c.person);
  EXPECT_EQ(c.reason, "new.hire's manager 'left.company' is not in the directory");
}

TEST_F(AssignmentTest, PersonPicksThemWhenKnown) {
  const AssignmentChoice c = choose_person(directory, "wang.fang");
  EXPECT_EQ(c.person, "wang.fang");
  EXPECT_EQ(c.reason, "");
}

TEST_F(AssignmentTest, PersonUnknownSaysSo) {
  const AssignmentChoice c = choose_person(directory, "x");
  EXPECT_FALSE(c.person);
  EXPECT_EQ(c.reason, "unknown person 'x'");
}

}  // namespace
}  // namespace ombud
