#include "adapters/http/json_log.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

#include "engine/details.h"

namespace ombud::http {
namespace {

// spdlog hands a formatter only the message text, so log_fields() passes its members inside the
// text, marked by a leading ASCII record separator that no human-written message starts with.
// The formatter splices such a payload in as members instead of quoting it as "msg".
constexpr char kFieldsMarker = '\x1e';

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

// `digits` decimal digits of `value`, zero-padded.
char* put_digits(char* at, unsigned value, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return at + digits;
}

}  // namespace

void LogField::append_to(std::string& out) const {
  out += ',';
  append_json_string(out, name_);
  out += ':';
  switch (kind_) {
    case Kind::text:
      append_json_string(out, text_);
      return;
    case Kind::boolean:
      out += integer_ != 0 ? "true" : "false";
      return;
    case Kind::integer:
    case Kind::unsigned_integer: {
      char buf[24];
      const auto r =
          kind_ == Kind::integer
              ? std::to_chars(buf, buf + sizeof buf, integer_)
              : std::to_chars(buf, buf + sizeof buf, static_cast<unsigned long long>(integer_));
      out.append(buf, r.ptr);
      return;
    }
    case Kind::number: {
      if (!std::isfinite(number_)) {  // JSON has no infinities
        out += "null";
        return;
      }
      char buf[32];
      const auto r = std::to_chars(buf, buf + sizeof buf, number_);
      out.append(buf, r.ptr);
      return;
    }
  }
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using namespace std::chrono;
  const auto ms = time_point_cast<milliseconds>(msg.time);
  const auto day = floor<days>(ms);
  const year_month_day date(day);
  const hh_mm_ss time(ms - day);
  // {"ts":"2026-05-01T08:00:00.123Z","level":"
  char ts[48] = R"({"ts":")";
  char* at = ts + 7;
  at = put_digits(at, static_cast<unsigned>(static_cast<int>(date.year())), 4);
  *at++ = '-';
  at = put_digits(at, static_cast<unsigned>(date.month()), 2);
  *at++ = '-';
  at = put_digits(at, static_cast<unsigned>(date.day()), 2);
  *at++ = 'T';
  at = put_digits(at, static_cast<unsigned>(time.hours().count()), 2);
  *at++ = ':';
  at = put_digits(at, static_cast<unsigned>(time.minutes().count()), 2);
  *at++ = ':';
  at = put_digits(at, static_cast<unsigned>(time.seconds().count()), 2);
  *at++ = '.';
  at = put_digits(at, static_cast<unsigned>(time.subseconds().count()), 3);
  const std::string_view rest = R"(Z","level":")";
  at = std::copy(rest.begin(), rest.end(), at);
  dest.append(ts, at);
  const auto level = spdlog::level::to_string_view(msg.level);
  dest.append(level.data(), level.data() + level.size());
  std::string text = R"(","logger":)";
  append_json_string(text, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  if (!payload.empty() && payload.front() == kFieldsMarker) {
    text += ',';
    text += payload.substr(1);
  } else {
    text += R"(,"msg":)";
    append_json_string(text, payload);
  }
  text += "}\n";
  append(dest, text);
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
                std::initializer_list<LogField> fields) {
  if (!logger.should_log(level)) return;
  std::string payload(1, kFieldsMarker);
  payload.reserve(256);
  payload += R"("msg":)";
  append_json_string(payload, message);
  for (const LogField& field : fields) field.append_to(payload);
  // Passed as the message itself, never as a format string: braces in values stay literal.
  logger.log(level, spdlog::string_view_t(payload.data(), payload.size()));
}

}  // namespace ombud::http
