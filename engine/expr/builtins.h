// The names the language predefines, shared by the checker and the evaluator so that both agree
// on what exists.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "engine/schema.h"

namespace ombud::expr {

struct InstanceField {
  std::string_view name;
  FieldType type;  // how the value is stored in the instance object
};

inline constexpr std::array<InstanceField, 8> kInstanceFields{{
    {"id", FieldType::string},
    {"state", FieldType::string},
    {"workflow", FieldType::string},
    {"version", FieldType::int_},
    {"key", FieldType::string},
    {"assignee", FieldType::string},
    {"priority", FieldType::string},
    {"created_at", FieldType::timestamp},
}};

inline const InstanceField* find_instance_field(std::string_view name) {
  for (const auto& field : kInstanceFields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

inline constexpr std::array<std::string_view, 5> kIdentifiers{"data", "event", "instance", "now",
                                                              "body"};
inline constexpr std::array<std::string_view, 8> kFunctions{
    "size", "has", "duration", "timestamp", "string", "int", "min", "max"};
inline constexpr std::array<std::string_view, 6> kMethods{"startsWith", "endsWith", "contains",
                                                          "trimPrefix", "remove",   "size"};

// For "did you mean" hints.
template <std::size_t N>
std::vector<std::string> names_of(const std::array<std::string_view, N>& names) {
  return {names.begin(), names.end()};
}

inline std::vector<std::string> instance_field_names() {
  std::vector<std::string> out;
  for (const auto& field : kInstanceFields) out.emplace_back(field.name);
  return out;
}

}  // namespace ombud::expr
