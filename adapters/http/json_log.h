// Structured logs: one JSON object per line, via spdlog.
//
//   auto logger = make_json_logger("http", sink);
//   log_fields(*logger, spdlog::level::info, "request", {{"request_id", id}, {"status", 200}});
//   → {"ts":"2026-05-01T08:00:00.123Z","level":"info","logger":"http","msg":"request",
//      "request_id":"…","status":200}
//
// Plain `logger->info("text")` also works and yields {"ts":…,"level":…,"logger":…,"msg":"text"}.
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <concepts>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace ombud::http {

// Formats every record as one JSON line: UTC time with milliseconds, level, logger name, the
// message, and the fields log_fields() attached.
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// A logger writing JSON lines to `sink` (all levels from info up by default).
std::shared_ptr<spdlog::logger> make_json_logger(std::string name, spdlog::sink_ptr sink);

// One member of a log line: a name and a text, integer, number or boolean value. Texts are
// viewed, not copied: a field lives only as long as the log_fields() call that it is written in.
class LogField {
 public:
  LogField(std::string_view name, std::string_view text)
      : name_(name), kind_(Kind::text), text_(text) {}
  LogField(std::string_view name, const char* text) : LogField(name, std::string_view(text)) {}
  LogField(std::string_view name, const std::string& text)
      : LogField(name, std::string_view(text)) {}
  template <class T>
  LogField(std::string_view name, T* pointer) = delete;  // not a bool: say what to log
  LogField(std::string_view name, bool value)
      : name_(name), kind_(Kind::boolean), integer_(value) {}
  template <std::integral T>
  requires(!std::same_as<T, bool>) LogField(std::string_view name, T value)
      : name_(name),
        kind_(std::is_signed_v<T> ? Kind::integer : Kind::unsigned_integer),
        integer_(static_cast<long long>(value)) {}
  template <std::floating_point T>
  LogField(std::string_view name, T value) : name_(name), kind_(Kind::number), number_(value) {}

  // Appends `,"name":value`.
  void append_to(std::string& out) const;

 private:
  enum class Kind { text, integer, unsigned_integer, number, boolean };
  std::string_view name_;
  Kind kind_;
  std::string_view text_;
  long long integer_ = 0;
  double number_ = 0;
};

// Logs `message` with `fields` as top-level JSON members. Cheap when the level is disabled: the
// fields are not serialised.
void log_fields(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view message,
                std::initializer_list<LogField> fields);

}  // namespace ombud::http
