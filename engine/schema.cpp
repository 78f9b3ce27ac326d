#include "engine/schema.h"

#include <algorithm>

#include <array>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "engine/directory.h"
#include "engine/time.h"

namespace ombud {

namespace {

constexpr std::array<std::pair<FieldType, std::string_view>, 9> kFieldTypeNames{{
    {FieldType::string, "string"},
    {FieldType::int_, "int"},
    {FieldType::number, "number"},
    {FieldType::bool_, "bool"},
    {FieldType::enum_, "enum"},
    {FieldType::timestamp, "timestamp"},
    {FieldType::duration, "duration"},
    {FieldType::list, "list"},
    {FieldType::object, "object"},
}};

// What a JSON value is, in the words of the schema ("int", "list", ...).
std::string_view json_kind_name(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "bool";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      return "int";
    case boost::json::kind::double_:
      return "number";
    case boost::json::kind::string:
      return "string";
    case boost::json::kind::array:
      return "list";
    case boost::json::kind::object:
      return "object";
  }
  return "value";
}

std::string format_bound(double d) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

// Sizes of strings count Unicode code points, as `size()` does in expressions.
std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool is_integral(const boost::json::value& value) {
  if (value.is_int64()) return true;
  if (value.is_uint64()) {
    return value.get_uint64() <=
           static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  }
  if (value.is_double()) {
    const double d = value.get_double();
    return std::trunc(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0;
  }
  return false;
}

// `show` spells the amount, and is called only when a bound is broken: most values are checked
// on every step, and are within bounds.
template <typename Show>
std::string check_bounds(const FieldSchema& field, double amount, std::string_view what,
                         const Show& show) {
  const bool below = field.min && amount < *field.min;
  const bool above = field.max && amount > *field.max;
  if (!below && !above) return {};
  const std::string shown = show();
  const std::string subject = what.empty() ? shown : std::string(what) + " " + shown;
  if (below) return subject + " is below min " + format_bound(*field.min);
  return subject + " is above max " + format_bound(*field.max);
}

std::string mismatch(const FieldSchema& field, const boost::json::value& value) {
  return "expected " + std::string(field_type_name(field.type)) + ", got " +
         std::string(json_kind_name(value));
}

}  // namespace

std::optional<FieldType> field_type_from_name(std::string_view name) {
  for (const auto& [type, spelled] : kFieldTypeNames) {
    if (spelled == name) return type;
  }
  return std::nullopt;
}

std::string_view field_type_name(FieldType type) {
  for (const auto& [t, spelled] : kFieldTypeNames) {
    if (t == type) return spelled;
  }
  return "?";
}

std::vector<std::string> field_type_names() {
  std::vector<std::string> out;
  out.reserve(kFieldTypeNames.size());
  for (const auto& entry : kFieldTypeNames) out.emplace_back(entry.second);
  return out;
}

const FieldSchema* Schema::find(std::string_view name) const {
  for (const auto& field : fields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

bool Schema::unreadable_field(std::string_view name) const {
  return std::find(unreadable.begin(), unreadable.end(), name) != unreadable.end();
}

std::vector<std::string> Schema::names() const {
  std::vector<std::string> out;
  out.reserve(fields.size());
  for (const auto& field : fields) out.push_back(field.name);
  return out;
}

std::string check_field_value(const FieldSchema& field, const boost::json::value& value) {
  // Null is how an optional field is left unset.
  if (value.is_null()) return field.required ? mismatch(field, value) : std::string();
  switch (field.type) {
    case FieldType::string: {
      if (!value.is_string()) return mismatch(field, value);
      if (!field.min && !field.max) return {};
      const std::size_t n = code_points(value.get_string());
      return check_bounds(field, static_cast<double>(n), "size", [n] { return std::to_string(n); });
    }
    case FieldType::int_:
      if (value.is_uint64() && !is_integral(value)) {
        return boost::json::serialize(value) + " is out of range for int";
      }
      if (!is_integral(value)) return mismatch(field, value);
      return check_bounds(field, value.to_number<double>(), "", [&value] {
        return value.is_double() ? format_bound(value.get_double()) : boost::json::serialize(value);
      });
    case FieldType::number:
      if (!value.is_number()) return mismatch(field, value);
      return check_bounds(field, value.to_number<double>(), "", [&value] {
        return value.is_double() ? format_bound(value.get_double()) : boost::json::serialize(value);
      });
    case FieldType::bool_:
      if (!value.is_bool()) return mismatch(field, value);
      return {};
    case FieldType::enum_: {
      if (!value.is_string()) return mismatch(field, value);
      const std::string_view s = value.get_string();
      for (const auto& member : field.values) {
        if (member == s) return {};
      }
      std::string members;
      for (const auto& member : field.values) {
        if (!members.empty()) members += ", ";
        members += member;
      }
      return "'" + std::string(s) + "' is not one of " + members;
    }
    case FieldType::timestamp:
      if (!value.is_string()) return mismatch(field, value);
      if (!parse_timestamp(value.get_string())) {
        return "'" + std::string(value.get_string()) + "' is not a timestamp";
      }
      return {};
    case FieldType::duration:
      if (!value.is_string()) return mismatch(field, value);
      if (!parse_duration(value.get_string())) {
        return "'" + std::string(value.get_string()) + "' is not a duration";
      }
      return {};
    case FieldType::list:
      if (!value.is_array()) return mismatch(field, value);
      return check_bounds(field, static_cast<double>(value.get_array().size()), "size",
                          [&value] { return std::to_string(value.get_array().size()); });
    case FieldType::object:
      if (!value.is_object()) return mismatch(field, value);
      return {};
  }
  return {};
}

std::string person_problem(const FieldSchema& field, std::string_view id,
                           const Directory& directory) {
  const Person* p = directory.person(id);
  if (p == nullptr) return "nobody called '" + std::string(id) + "' in the directory";
  if (!field.person_role.empty() &&
      std::find(p->roles.begin(), p->roles.end(), field.person_role) == p->roles.end()) {
    return std::string(id) + " does not have the role " + field.person_role;
  }
  return "";
}

}  // namespace ombud
