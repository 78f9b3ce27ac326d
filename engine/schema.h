// Field schemas: the typed shape of an instance's data and of each event's payload.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/diagnostics.h"

namespace ombud {

class Directory;

enum class FieldType { string, int_, number, bool_, enum_, timestamp, duration, list, object };

// "string", "int", ... as written in YAML; nullopt for an unknown name.
std::optional<FieldType> field_type_from_name(std::string_view name);
std::string_view field_type_name(FieldType type);
std::vector<std::string> field_type_names();

struct FieldSchema {
  std::string name;
  FieldType type = FieldType::string;
  bool required = false;
  bool internal = false;  // data only: set by the workflow's actions, refused in start data
  // string: a person id of the directory (checked when one is loaded); with person_role, of a
  // person holding that role (`person: account_manager`).
  bool person = false;
  std::string person_role;
  std::optional<boost::json::value> default_value;  // already checked against `type`
  std::vector<std::string> values;                  // enum members
  std::optional<double> min;                        // int/number: value; string/list: size
  std::optional<double> max;
  SourcePos pos;
};

struct Schema {
  std::vector<FieldSchema> fields;  // in declaration order
  // Fields declared but not readable (an unknown type): the loader reported each once, and the
  // checks do not report every use of one as a field that does not exist.
  std::vector<std::string> unreadable;
  SourcePos pos;

  const FieldSchema* find(std::string_view name) const;
  bool unreadable_field(std::string_view name) const;
  std::vector<std::string> names() const;
};

// Checks a JSON value against one field's type and bounds. Returns "" when it conforms, else a
// short reason ("expected int, got string", "5 is above max 4", "'x' is not one of a, b").
// Timestamps and durations are JSON strings in their canonical text forms.
std::string check_field_value(const FieldSchema& field, const boost::json::value& value);

// Whether `id`, the value of a `person` field, is someone in the directory, holding the field's
// role when it names one. "" when so, else the problem ("nobody called 'x' in the directory").
std::string person_problem(const FieldSchema& field, std::string_view id,
                           const Directory& directory);

}  // namespace ombud
