#include "adapters/http/json_log.h"

#include <spdlog/fmt/fmt.h>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <chrono>

namespace ombud::http {
namespace {

// spdlog hands a formatter only the message text, so log_fields() passes its members inside the
// text, marked by a leading ASCII record separator that no human-written message starts with.
// The formatter splices such a payload in as members instead of quoting it as "msg".
constexpr char kFieldsMarker = '\x1e';

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

void append_json_string(spdlog::memory_buf_t& dest, std::string_view text) {
  append(dest, boost::json::serialize(boost::json::string(text)));
}

}  // namespace

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using namespace std::chrono;
  const auto ms = time_point_cast<milliseconds>(msg.time);
  const auto day = floor<days>(ms);
  const year_month_day date(day);
  const hh_mm_ss time(ms - day);
  fmt::format_to(std::back_inserter(dest),
                 R"({{"ts":"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z","level":")",
                 static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                 static_cast<unsigned>(date.day()), time.hours().count(), time.minutes().count(),
                 time.seconds().count(), time.subseconds().count());
  const auto level = spdlog::level::to_string_view(msg.level);
  dest.append(level.data(), level.data() + level.size());
  append(dest, R"(","logger":)");
  append_json_string(dest, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  if (!payload.empty() && payload.front() == kFieldsMarker) {
    append(dest, ",");
    append(dest, payload.substr(1));
  } else {
    append(dest, R"(,"msg":)");
    append_json_string(dest, payload);
  }
  append(dest, "}\n");
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

std::shared_ptr<spdlog::logger> make_json_logger(std::string name, spdlog::sink_ptr sink) {
  auto logger = std::make_shared<spdlog::logger>(std::move(name), std::move(sink));
  logger->set_formatter(std::make_unique<JsonLogFormatter>());
  logger->set_level(spdlog::level::info);
  return logger;
}

void log_fields(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view message,
                const boost::json::object& fields) {
  if (!logger.should_log(level)) return;
  std::string payload(1, kFieldsMarker);
  payload += R"("msg":)";
  payload += boost::json::serialize(boost::json::string(message));
  for (const auto& member : fields) {
    payload += ',';
    payload += boost::json::serialize(boost::json::string(member.key()));
    payload += ':';
    payload += boost::json::serialize(member.value());
  }
  // Passed as an argument, never as the format string: braces in values must stay literal.
  logger.log(level, "{}", payload);
}

}  // namespace ombud::http
