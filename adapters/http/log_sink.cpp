#include "adapters/http/log_sink.h"

#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <utility>

#include "adapters/http/json_log.h"

namespace ombud::http {

BufferedLogSink::BufferedLogSink(int fd, std::chrono::milliseconds interval, std::size_t capacity,
                                 spdlog::level::level_enum flush_level)
    : fd_(fd),
      interval_(interval),
      capacity_(capacity),
      flush_level_(flush_level),
      formatter_(std::make_shared<JsonLogFormatter>()) {
  buffer_.reserve(capacity_);
  flusher_ = std::thread([this] { flush_periodically(); });
}

BufferedLogSink::~BufferedLogSink() {
  {
    const std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  flusher_.join();
  flush();
}

void BufferedLogSink::log(const spdlog::details::log_msg& msg) {
  // Formatted outside the lock: only the append is serialised.
  spdlog::memory_buf_t line;
  formatter_.load()->format(msg, line);
  bool full = false;
  {
    const std::lock_guard lock(mutex_);
    buffer_.append(line.data(), line.size());
    full = buffer_.size() >= capacity_;
  }
  if (full || msg.level >= flush_level_) flush();
}

void BufferedLogSink::flush() {
  const std::lock_guard order(write_mutex_);
  std::string out;
  {
    const std::lock_guard lock(mutex_);
    if (buffer_.empty()) return;
    out.reserve(capacity_);
    out.swap(buffer_);
  }
  write_out(out);
}

void BufferedLogSink::set_pattern(const std::string& /*pattern*/) {
  throw std::logic_error("BufferedLogSink writes JSON lines; it takes no pattern");
}

void BufferedLogSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  formatter_.store(std::shared_ptr<spdlog::formatter>(std::move(formatter)));
}

void BufferedLogSink::write_out(const std::string& text) const {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

void BufferedLogSink::flush_periodically() {
  std::unique_lock lock(stop_mutex_);
  while (!stopping_) {
    stop_.wait_for(lock, interval_, [this] { return stopping_; });
    lock.unlock();
    flush();
    lock.lock();
  }
}

}  // namespace ombud::http
