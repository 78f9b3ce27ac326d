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
#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>

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

// Logs `message` with `fields` as top-level JSON members. Cheap when the level is disabled: the
// fields are not serialised.
void log_fields(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view message,
                const boost::json::object& fields);

}  // namespace ombud::http
