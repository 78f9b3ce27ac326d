// Scheduled starts on a running node: made once when they come due, once again by nobody (another
// node, a restart), late after a short outage, reported missed after a long one, and reported
// when the workflow refuses them.
#include "adapters/node/scheduler.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ombud {
namespace {

using namespace std::chrono_literals;
using Kind = ScheduleOutcome::Kind;

// Every day at 09:00 Shanghai (01:00 UTC) a stand-up case for the sales team; one open at a time.
constexpr const char* kStandup = R"(workflow: standup
calendar: none
key: "${ data.team }"
key_policy: one_open
schedule:
  cron: "0 9 * * *"
  timezone: Asia/Shanghai
  data: {team: sales, for_day: "${ now }"}
data:
  team: {type: string, required: true}
  for_day: {type: timestamp}
events:
  done: {}
initial: open
states:
  open:
    on:
      done: closed
  closed: {type: final}
)";

Timestamp utc(const std::string& text) {
  auto t = parse_timestamp(text);
  if (!t) ADD_FAILURE() << "not a timestamp: " << text;
  return t.value_or(Timestamp{});
}

class SchedulerTest : public ::testing::Test {
 protected:
  // A node on a file store whose standup workflow is published at `published`.
  void open_at(Timestamp published) {
    dir_ = std::filesystem::temp_directory_path() /
           ("ombud-scheduler-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "standup.yaml") << kStandup;
    clock_.set(published);
    reopen();
  }

  // The node again on the same store (a restart), its clock where it is.
  void reopen() {
    if (node_) node_->worker().stop();
    node_.reset();
    NodeOptions options;
    options.workflow_paths = {(dir_ / "standup.yaml").string()};
    options.store_url = "sqlite:" + (dir_ / "ombud.db").string();
    options.clock = &clock_;
    Diagnostics diags;
    node_ = Node::open(options, diags);
    ASSERT_TRUE(node_) << (diags.items().empty() ? "" : diags.items()[0].to_string());
    node_->worker().start();
  }

  void TearDown() override {
    if (node_) node_->worker().stop();
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::size_t cases() {
    InstanceFilter all;
    all.workflow = "standup";
    all.limit = 100;
    return node_->store().find_instances(all).size();
  }

  ManualClock clock_{Timestamp{}};
  std::filesystem::path dir_;
  std::unique_ptr<Node> node_;
};

TEST_F(SchedulerTest, AStartIsMadeWhenItComesDueAndOnce) {
  open_at(utc("2026-11-30T00:00:00Z"));  // 08:00 in Shanghai
  Scheduler scheduler(*node_);
  EXPECT_TRUE(scheduler.run_due().empty());

  clock_.set(utc("2026-11-30T01:00:03Z"));
  const auto made = scheduler.run_due();
  ASSERT_EQ(made.size(), 1U);
  EXPECT_EQ(made[0].kind, Kind::started) << made[0].error;
  EXPECT_EQ(made[0].due, utc("2026-11-30T01:00:00Z"));
  const auto started = node_->store().load(made[0].instance_id);
  ASSERT_TRUE(started);
  // `now` in the schedule's data is the minute it came due.
  EXPECT_EQ(started->data.at("for_day"), boost::json::value("2026-11-30T01:00:00Z"));
  EXPECT_TRUE(scheduler.run_due().empty());  // asked once

  // A second node on the same store (or this one restarted) asks for it again: made before.
  Scheduler other(*node_);
  const auto again = other.run_due();
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].kind, Kind::done_before);
  EXPECT_EQ(again[0].instance_id, made[0].instance_id);
  EXPECT_EQ(cases(), 1U);
}

TEST_F(SchedulerTest, AStartDueWhileTheNodeWasDownIsMadeLateAfterARestart) {
  open_at(utc("2026-11-30T00:00:00Z"));
  clock_.set(utc("2026-11-30T03:00:00Z"));  // down over 09:00, back at 11:00 Shanghai
  reopen();
  Scheduler scheduler(*node_);
  const auto made = scheduler.run_due();
  ASSERT_EQ(made.size(), 1U);
  EXPECT_EQ(made[0].kind, Kind::started) << made[0].error;
  EXPECT_EQ(made[0].due, utc("2026-11-30T01:00:00Z"));
  EXPECT_EQ(cases(), 1U);
}

// one_open: the next day's start while the first day's case is open is refused and reported,
// and the day after, with the case closed, starts again.
TEST_F(SchedulerTest, AStartTheWorkflowRefusesIsReportedWithWhy) {
  open_at(utc("2026-11-30T00:00:00Z"));
  Scheduler scheduler(*node_);
  clock_.set(utc("2026-11-30T01:00:01Z"));
  const auto first = scheduler.run_due();
  ASSERT_EQ(first.size(), 1U);
  ASSERT_EQ(first[0].kind, Kind::started);

  clock_.set(utc("2026-12-01T01:00:01Z"));
  const auto second = scheduler.run_due();
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(second[0].kind, Kind::refused);
  EXPECT_NE(second[0].error.find("open"), std::string::npos) << second[0].error;

  EventRequest done;
  done.instance_id = first[0].instance_id;
  done.event = "done";
  done.actor = "test";
  ASSERT_EQ(node_->worker().submit(std::move(done)).get().status, RuntimeResult::Status::ok);
  clock_.set(utc("2026-12-02T01:00:01Z"));
  const auto third = scheduler.run_due();
  ASSERT_EQ(third.size(), 1U);
  EXPECT_EQ(third[0].kind, Kind::started) << third[0].error;
  EXPECT_EQ(cases(), 2U);
}

TEST_F(SchedulerTest, StartsDueLongerAgoThanTheCatchUpAreNotMade) {
  open_at(utc("2026-11-20T00:00:00Z"));
  clock_.set(utc("2026-11-30T03:00:00Z"));
  reopen();
  Scheduler scheduler(*node_, 24h);
  const auto made = scheduler.run_due();
  ASSERT_EQ(made.size(), 1U);
  EXPECT_EQ(made[0].kind, Kind::started);
  EXPECT_EQ(made[0].due, utc("2026-11-30T01:00:00Z"));
  EXPECT_EQ(cases(), 1U);
}

// A stop during a pass ends it between starts; the next node to start asks for the rest.
TEST_F(SchedulerTest, AStopEndsAPassBetweenStarts) {
  open_at(utc("2026-11-30T00:00:00Z"));
  clock_.set(utc("2026-11-30T01:00:03Z"));
  std::stop_source stopping;
  stopping.request_stop();
  Scheduler scheduler(*node_);
  EXPECT_TRUE(scheduler.run_due(stopping.get_token()).empty());
  EXPECT_EQ(cases(), 0U);
  EXPECT_EQ(Scheduler(*node_).run_due().size(), 1U);
}

}  // namespace
}  // namespace ombud
