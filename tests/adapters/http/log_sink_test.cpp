#include "adapters/http/log_sink.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "adapters/http/json_log.h"

namespace ombud::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A temporary file standing in for stderr: read_all() returns what was written since the last
// call.
class Pipe {
 public:
  Pipe() : file_(std::tmpfile()) {
    if (file_ == nullptr) throw std::runtime_error("tmpfile");
  }
  ~Pipe() { std::fclose(file_); }
  int write_end() const { return ::fileno(file_); }
  std::string read_all() {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::pread(write_end(), buf, sizeof buf, offset_);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
      offset_ += n;
    }
    return out;
  }

 private:
  std::FILE* file_;
  off_t offset_ = 0;
};

constexpr auto kLong = std::chrono::hours(1);  // no periodic flush within a test

TEST(BufferedLogSink, HoldsInfoLinesAndWritesThemBeforeAWarningOrError) {
  Pipe pipe;
  auto sink = std::make_shared<BufferedLogSink>(pipe.write_end(), kLong);
  auto log = make_json_logger("t", sink);
  log->info("first");
  log->info("second");
  EXPECT_EQ(pipe.read_all(), "");
  log->warn("third");
  const std::string out = pipe.read_all();
  ASSERT_THAT(out, HasSubstr("\"msg\":\"third\""));
  EXPECT_LT(out.find("first"), out.find("second"));
  EXPECT_LT(out.find("second"), out.find("third"));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
  log->info("held");
  log->error("failed");
  EXPECT_THAT(pipe.read_all(), HasSubstr("\"msg\":\"failed\""));
  EXPECT_THROW(sink->set_pattern("%v"), std::logic_error);  // it writes JSON lines only
}

TEST(BufferedLogSink, WritesWhenFullOnFlushAndWhenDestroyed) {
  Pipe pipe;
  {
    auto sink = std::make_shared<BufferedLogSink>(pipe.write_end(), kLong, 1000);
    auto log = make_json_logger("t", sink);
    log->info("a");
    EXPECT_EQ(pipe.read_all(), "");
    log->flush();
    EXPECT_THAT(pipe.read_all(), HasSubstr("\"msg\":\"a\""));
    for (int i = 0; i < 20; ++i) log->info("line {}", i);  // ~80 bytes each: past 1000
    const std::string some = pipe.read_all();
    EXPECT_THAT(some, HasSubstr("line 0\""));
    EXPECT_THAT(some, Not(HasSubstr("line 19\"")));
  }
  EXPECT_THAT(pipe.read_all(), HasSubstr("line 19\""));
}

TEST(BufferedLogSink, AQuietServersLinesAppearWithoutAFlush) {
  Pipe pipe;
  auto sink = std::make_shared<BufferedLogSink>(pipe.write_end(), std::chrono::milliseconds(20));
  auto log = make_json_logger("t", sink);
  log->info("quiet");
  std::string out;
  for (int i = 0; i < 500 && out.empty(); ++i) {  // up to 5 s on a loaded machine
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    out = pipe.read_all();
  }
  EXPECT_THAT(out, HasSubstr("\"msg\":\"quiet\""));
}

TEST(BufferedLogSink, LinesFromManyThreadsArriveWhole) {
  Pipe pipe;
  constexpr int kThreads = 4, kLines = 2000;
  {
    auto sink =
        std::make_shared<BufferedLogSink>(pipe.write_end(), std::chrono::milliseconds(1), 4096);
    auto log = make_json_logger("t", sink);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kLines; ++i) {
          log_fields(*log, spdlog::level::info, "request", {{"thread", t}, {"n", i}});
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  const std::string out = pipe.read_all();
  std::vector<int> next(kThreads, 0);
  std::size_t start = 0, lines = 0;
  while (start < out.size()) {
    const std::size_t end = out.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    const auto line = boost::json::parse(out.substr(start, end - start)).as_object();
    const auto t = static_cast<std::size_t>(line.at("thread").as_int64());
    EXPECT_EQ(line.at("n").as_int64(), next[t]) << "thread " << t << "'s lines out of order";
    next[t] = static_cast<int>(line.at("n").as_int64()) + 1;
    ++lines;
    start = end + 1;
  }
  EXPECT_EQ(lines, std::size_t{kThreads} * kLines);
}

}  // namespace
}  // namespace ombud::http
