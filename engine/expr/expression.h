// The expression language: a small, side-effect-free subset of CEL.
//
//   parse(text)           → syntax tree + syntax errors (never throws)
//   check(tree, scope)    → static type + type errors, against the data/event schemas
//   evaluate(tree, ctx)   → a Value, or an error value (never throws, always terminates)
//
// Syntax: literals (null, true, false, 12, 1.5, 'str', "str", [a, b]), `data.f`, `event.f`,
// `instance.{id,state,workflow,version,key,assignee,priority,created_at}`, `now`, `body.f` (a
// webhook's payload, only where the caller provides one), member access
// and indexing (`data.tags[0]`, `data.obj.x`), operators `! -` (unary) `* / % + - < <= > >= == !=
// in && || ?:` with CEL precedence, functions `size(x)`, `has(data.f)`, `duration('1d4h')`,
// `timestamp('2026-11-23T09:00:00+08:00')`, `string(x)`, `int(x)`, `min(a, b)`, `max(a, b)`, and
// methods `s.startsWith(x)`, `s.endsWith(x)`, `s.contains(x)`.
//
// Positions in errors are byte offsets into the expression text; the caller maps them to file
// line:column (see Expr in engine/definition.h).
//
// Semantics (the tests in tests/engine/expr pin each of these down):
// - Fields: `data.f` reads the stored JSON as the schema's type (timestamps and durations from
//   their canonical strings). A declared field that is absent, or stored as JSON null, reads as
//   null, so `has(data.f)` and `data.f == null` test it; using null in arithmetic or an ordering
//   is an error. `has(x.f)` is true when the key is present and not null. Reading an undeclared
//   field, or a key a JSON object lacks, is an error. `instance.*` fields come from
//   EvalContext::instance the same way (version int, created_at timestamp, the rest strings).
// - `body.f` reads a webhook payload (EvalContext::body) without a schema: JSON as it came, and
//   an absent key reads as null like an absent declared field, because senders leave fields out.
// - Numbers: int op int stays int and overflow is an error; mixing int and number gives number;
//   a non-finite number result is an error; `/` and `%` by zero are errors (for numbers too);
//   `%` takes ints only; `int(x)` truncates numbers toward zero and parses decimal strings.
// - Equality: `==` compares ints and numbers by value, durations by wall-clock length, lists
//   element-wise, maps as JSON; values of different kinds are unequal (statically, `==` needs
//   compatible types; null is compatible with every type). Orderings (`<` ...) work on numbers,
//   strings (bytewise), bools, timestamps and durations (by wall-clock length).
// - Time: timestamp ± duration counts a duration's days as 24 h (wall clock); timestamp −
//   timestamp is a duration without days. Results outside years 0000–9999 (or durations beyond
//   about 31,000 years) are errors.
// - `x in list` tests membership by `==`; `'k' in map` tests key presence; `'s' in string` tests
//   for a substring. `size` counts Unicode code points for strings.
// - `&&` and `||` are commutative as in CEL: `false && <error>` and `<error> && false` are false,
//   `true || <error>` and `<error> || true` are true; otherwise an error wins.
// - Value's operator== is structural (same alternative, same contents), unlike the language's
//   `==`.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/data.h"
#include "engine/schema.h"
#include "engine/time.h"

namespace ombud::expr {

struct Node;  // the syntax tree; defined in engine/expr/ast.h

struct Error {
  std::size_t offset = 0;  // byte offset of the offending token in the expression text
  std::size_t length = 0;  // bytes it spans (at least 1 when known)
  std::string message;
};

// ---- Static types -----------------------------------------------------------------------------

enum class TypeKind { dyn, null, boolean, integer, number, string, timestamp, duration, list, map };

struct Type {
  TypeKind kind = TypeKind::dyn;
  // For lists: the element type (dyn when unknown or mixed).
  std::shared_ptr<const Type> element;

  static Type of(TypeKind k) { return Type{k, nullptr}; }
  static Type list_of(Type element);
  std::string name() const;  // "int", "string", "list<int>", "dyn", ...
};

// The static type a schema field has in expressions (enum → string, object → map, list →
// list<dyn>).
Type type_of_field(FieldType type);

// ---- Runtime values ---------------------------------------------------------------------------

struct Value;
using List = std::vector<Value>;
using Map = boost::json::object;  // objects from data/event are kept as JSON

struct Value {
  std::variant<std::monostate, bool, std::int64_t, double, std::string, Timestamp, Duration, List,
               Map>
      v;

  bool is_null() const { return std::holds_alternative<std::monostate>(v); }
  TypeKind kind() const;
  std::string to_string() const;  // for messages and `string(x)`
  friend bool operator==(const Value& a, const Value& b);
};

// Converts a value to JSON for storing in instance data: timestamps and durations become their
// canonical strings (format_timestamp / format_duration).
boost::json::value to_json(const Value& value);

// Converts JSON to a value, using `type` to turn strings into timestamps/durations where the
// schema says so. Returns nullopt when the JSON cannot be read as that type.
std::optional<Value> from_json(const boost::json::value& json, FieldType type);
// Without a schema type: numbers, strings, bools, arrays and objects map to the obvious kinds.
Value from_json(const boost::json::value& json);

// ---- Parse ------------------------------------------------------------------------------------

struct ParseResult {
  std::shared_ptr<const Node> root;  // null when there are errors
  std::vector<Error> errors;
};

// Nesting is bounded (64 levels) and input length is bounded (8 KiB): deeper or longer input is
// an error, never a stack overflow.
ParseResult parse(std::string_view text);

// ---- Check ------------------------------------------------------------------------------------

struct CheckScope {
  const Schema* data = nullptr;   // null: `data.*` is not available here
  const Schema* event = nullptr;  // null: `event.*` is not available here
  std::string event_name;         // for messages ("event 'visited' has no field 'scroe'")
  bool body = false;              // `body.*` (a webhook payload, untyped) is available
  // The workflow's states, for `instance.state == 'x'` (null: not checked).
  const std::vector<std::string>* states = nullptr;
};

// Returns the static type of the expression and appends type errors (unknown fields with "did
// you mean", operator/argument mismatches, `duration('bogus')` literals, ...).
Type check(const Node& root, const CheckScope& scope, std::vector<Error>& errors);

// ---- Evaluate ---------------------------------------------------------------------------------

struct EvalContext {
  const Data* data = nullptr;  // the instance's
  const Schema* data_schema = nullptr;
  const boost::json::object* event = nullptr;
  const Schema* event_schema = nullptr;
  const boost::json::object* instance = nullptr;  // id, state, workflow, version, key, ...
  const boost::json::object* body = nullptr;      // a webhook's payload, for `body.*`
  Timestamp now{};
};

struct EvalResult {
  std::optional<Value> value;  // set on success
  Error error;                 // set when value is empty (division by zero, missing field, ...)

  bool ok() const { return value.has_value(); }
};

// Deterministic: the same tree and context always give the same result. Work is bounded by the
// tree's size (no loops in the language), and no exception escapes.
EvalResult evaluate(const Node& root, const EvalContext& ctx);

// Truthiness for guards: only `true` is true; an error or any other value is false.
bool is_true(const EvalResult& result);

}  // namespace ombud::expr
