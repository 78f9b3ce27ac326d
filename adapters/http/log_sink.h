// Where `ombud serve` writes its JSON log lines: a file descriptor (stderr), written in blocks.
//
// Every request logs one line. Written as it came (spdlog's stderr sink), each line cost a
// write() system call made while holding a lock that every I/O thread and the worker take, so
// the threads queued behind each other's writes. This sink formats a record on the calling
// thread, appends it to a buffer under a short lock, and writes the buffer out in one write():
// - when it holds `capacity` bytes,
// - at once for a record at `flush_level` (warn) or above, with everything before it,
// - on flush() and when the sink is destroyed,
// - and from a thread of its own every `interval`, so a quiet server's lines appear promptly.
//
// The trade-off: if the process is killed, the info lines of the last `interval` may be lost.
// Warnings and errors are never held back.
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/sinks/sink.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace ombud::http {

class BufferedLogSink final : public spdlog::sinks::sink {
 public:
  explicit BufferedLogSink(int fd,
                           std::chrono::milliseconds interval = std::chrono::milliseconds(200),
                           std::size_t capacity = 64 * 1024,
                           spdlog::level::level_enum flush_level = spdlog::level::warn);
  ~BufferedLogSink() override;
  BufferedLogSink(const BufferedLogSink&) = delete;
  BufferedLogSink& operator=(const BufferedLogSink&) = delete;

  void log(const spdlog::details::log_msg& msg) override;
  void flush() override;
  // Throws std::logic_error: this sink writes JSON lines (see formatter_).
  void set_pattern(const std::string& pattern) override;
  // `formatter` must keep no state between calls.
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  // Writes `text` out whole (short writes and EINTR retried). A failing write drops the text:
  // a log must never stop the server.
  void write_out(const std::string& text) const;
  void flush_periodically();

  const int fd_;
  const std::chrono::milliseconds interval_;
  const std::size_t capacity_;
  const spdlog::level::level_enum flush_level_;
  // Called from several threads at once, so it must keep no state between calls:
  // JsonLogFormatter (the default) keeps none; spdlog's pattern formatter does, which is why
  // set_pattern() is refused.
  std::atomic<std::shared_ptr<spdlog::formatter>> formatter_;

  std::mutex mutex_;  // buffer_
  std::string buffer_;
  std::mutex write_mutex_;  // keeps blocks in order on the descriptor
  std::mutex stop_mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread flusher_;
};

}  // namespace ombud::http
