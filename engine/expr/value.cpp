// Types and values of the expression language, and their JSON forms.

#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <limits>

#include "engine/expr/expression.h"

namespace ombud::expr {

Type Type::list_of(Type element) {
  return Type{TypeKind::list, std::make_shared<const Type>(std::move(element))};
}

std::string Type::name() const {
  switch (kind) {
    case TypeKind::dyn:
      return "dyn";
    case TypeKind::null:
      return "null";
    case TypeKind::boolean:
      return "bool";
    case TypeKind::integer:
      return "int";
    case TypeKind::number:
      return "number";
    case TypeKind::string:
      return "string";
    case TypeKind::timestamp:
      return "timestamp";
    case TypeKind::duration:
      return "duration";
    case TypeKind::list:
      return "list<" + (element ? element->name() : std::string("dyn")) + ">";
    case TypeKind::map:
      return "map";
  }
  return "dyn";
}

Type type_of_field(FieldType type) {
  switch (type) {
    case FieldType::string:
    case FieldType::enum_:
      return Type::of(TypeKind::string);
    case FieldType::int_:
      return Type::of(TypeKind::integer);
    case FieldType::number:
      return Type::of(TypeKind::number);
    case FieldType::bool_:
      return Type::of(TypeKind::boolean);
    case FieldType::timestamp:
      return Type::of(TypeKind::timestamp);
    case FieldType::duration:
      return Type::of(TypeKind::duration);
    case FieldType::list:
      return Type::list_of(Type::of(TypeKind::dyn));
    case FieldType::object:
      return Type::of(TypeKind::map);
  }
  return Type::of(TypeKind::dyn);
}

TypeKind Value::kind() const {
  static constexpr TypeKind kKinds[] = {TypeKind::null,     TypeKind::boolean, TypeKind::integer,
                                        TypeKind::number,   TypeKind::string,  TypeKind::timestamp,
                                        TypeKind::duration, TypeKind::list,    TypeKind::map};
  static_assert(std::size(kKinds) == std::variant_size_v<decltype(v)>);
  return kKinds[v.index()];
}

namespace {

// The shortest text that reads back as the same double (`1.5`, `0.1`, `1e+20`; `2` for 2.0).
std::string format_number(double d) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

// Compact JSON, with numbers spelled as format_number does (Boost.JSON would write 1.5E0).
void write_json(const boost::json::value& json, std::string& out) {
  switch (json.kind()) {
    case boost::json::kind::double_:
      out += format_number(json.get_double());
      return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& element : json.get_array()) {
        if (!first) out += ',';
        first = false;
        write_json(element, out);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, element] : json.get_object()) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(boost::json::string(key));
        out += ':';
        write_json(element, out);
      }
      out += '}';
      return;
    }
    default:
      out += boost::json::serialize(json);
      return;
  }
}

}  // namespace

std::string Value::to_string() const {
  switch (kind()) {
    case TypeKind::null:
      return "null";
    case TypeKind::boolean:
      return std::get<bool>(v) ? "true" : "false";
    case TypeKind::integer:
      return std::to_string(std::get<std::int64_t>(v));
    case TypeKind::number:
      return format_number(std::get<double>(v));
    case TypeKind::string:
      return std::get<std::string>(v);
    case TypeKind::timestamp:
      return format_timestamp(std::get<Timestamp>(v));
    case TypeKind::duration:
      return format_duration(std::get<Duration>(v));
    case TypeKind::list:
    case TypeKind::map:
    case TypeKind::dyn:
      break;
  }
  std::string out;
  write_json(to_json(*this), out);
  return out;
}

// Structural: the same alternative holding the same contents. The language's `==` is looser
// (1 == 1.0, durations by length); see the evaluator.
bool operator==(const Value& a, const Value& b) { return a.v == b.v; }

boost::json::value to_json(const Value& value) {
  switch (value.kind()) {
    case TypeKind::null:
      return nullptr;
    case TypeKind::boolean:
      return std::get<bool>(value.v);
    case TypeKind::integer:
      return std::get<std::int64_t>(value.v);
    case TypeKind::number:
      return std::get<double>(value.v);
    case TypeKind::string:
      return boost::json::string(std::get<std::string>(value.v));
    case TypeKind::timestamp:
      return boost::json::string(format_timestamp(std::get<Timestamp>(value.v)));
    case TypeKind::duration:
      return boost::json::string(format_duration(std::get<Duration>(value.v)));
    case TypeKind::list: {
      boost::json::array out;
      const auto& list = std::get<List>(value.v);
      out.reserve(list.size());
      for (const auto& element : list) out.push_back(to_json(element));
      return out;
    }
    case TypeKind::map:
      return std::get<Map>(value.v);
    case TypeKind::dyn:
      break;
  }
  return nullptr;
}

Value from_json(const boost::json::value& json) {
  switch (json.kind()) {
    case boost::json::kind::null:
      return {};
    case boost::json::kind::bool_:
      return Value{json.get_bool()};
    case boost::json::kind::int64:
      return Value{json.get_int64()};
    case boost::json::kind::uint64: {
      const std::uint64_t u = json.get_uint64();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return Value{static_cast<std::int64_t>(u)};
      }
      return Value{static_cast<double>(u)};
    }
    case boost::json::kind::double_:
      return Value{json.get_double()};
    case boost::json::kind::string:
      return Value{std::string(json.get_string())};
    case boost::json::kind::array: {
      List list;
      list.reserve(json.get_array().size());
      for (const auto& element : json.get_array()) list.push_back(from_json(element));
      return Value{std::move(list)};
    }
    case boost::json::kind::object:
      return Value{json.get_object()};
  }
  return {};
}

std::optional<Value> from_json(const boost::json::value& json, FieldType type) {
  // JSON null is how an unset field is stored, whatever its type.
  if (json.is_null()) return Value{};
  switch (type) {
    case FieldType::string:
    case FieldType::enum_:
      if (json.is_string()) return Value{std::string(json.get_string())};
      return std::nullopt;
    case FieldType::int_:
      if (json.is_int64()) return Value{json.get_int64()};
      if (json.is_uint64()) {
        if (json.get_uint64() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          return std::nullopt;
        }
        return Value{static_cast<std::int64_t>(json.get_uint64())};
      }
      if (json.is_double()) {
        // JSON writers that only know doubles send 3 as 3.0; anything else is not an int.
        const double d = json.get_double();
        if (std::trunc(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
          return Value{static_cast<std::int64_t>(d)};
        }
      }
      return std::nullopt;
    case FieldType::number:
      if (json.is_number()) return Value{json.to_number<double>()};
      return std::nullopt;
    case FieldType::bool_:
      if (json.is_bool()) return Value{json.get_bool()};
      return std::nullopt;
    case FieldType::timestamp:
      if (json.is_string()) {
        if (auto t = parse_timestamp(json.get_string())) return Value{*t};
      }
      return std::nullopt;
    case FieldType::duration:
      if (json.is_string()) {
        if (auto d = parse_duration(json.get_string())) return Value{*d};
      }
      return std::nullopt;
    case FieldType::list:
      if (json.is_array()) return from_json(json);
      return std::nullopt;
    case FieldType::object:
      if (json.is_object()) return Value{json.get_object()};
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace ombud::expr
