// Fuzzes the expression language end to end: parse, check (with and without an event in scope)
// and evaluate (with and without event and data). Besides crashes, sanitizer reports and
// timeouts, it traps when an error points outside the text or when a well-typed expression
// evaluates to a value of another type than check() promised.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/expr/expression.h"

namespace {

using namespace ombud;
using namespace ombud::expr;

FieldSchema field(std::string name, FieldType type) {
  FieldSchema f;
  f.name = std::move(name);
  f.type = type;
  return f;
}

Schema data_schema() {
  Schema s;
  s.fields.push_back(field("phone", FieldType::string));
  FieldSchema channel = field("channel", FieldType::enum_);
  channel.values = {"phone", "visit", "letter", "email", "agency"};
  s.fields.push_back(channel);
  s.fields.push_back(field("received_at", FieldType::timestamp));
  s.fields.push_back(field("summary", FieldType::string));  // declared, absent from the data
  s.fields.push_back(field("score", FieldType::int_));
  s.fields.push_back(field("ratio", FieldType::number));
  s.fields.push_back(field("active", FieldType::bool_));
  s.fields.push_back(field("goal", FieldType::duration));
  s.fields.push_back(field("tags", FieldType::list));
  s.fields.push_back(field("meta", FieldType::object));
  return s;
}

Schema event_schema() {
  Schema s;
  s.fields.push_back(field("score", FieldType::int_));
  s.fields.push_back(field("agent", FieldType::string));
  return s;
}

void require(bool condition) {
  if (!condition) __builtin_trap();
}

void require_inside(const Error& e, std::size_t size) {
  require(e.offset <= size && e.length <= size - e.offset);
}

// A value may be null where any type is expected (absent fields), and an int where a number is.
void require_conforms(const Value& value, const Type& type) {
  if (type.kind == TypeKind::dyn || value.is_null()) return;
  if (type.kind == TypeKind::number && value.kind() == TypeKind::integer) return;
  require(value.kind() == type.kind);
  if (type.kind == TypeKind::list && type.element) {
    for (const auto& element : std::get<List>(value.v)) require_conforms(element, *type.element);
  }
}

void evaluate_in(const Node& root, const EvalContext& ctx, const std::optional<Type>& type,
                 std::size_t size) {
  const EvalResult result = evaluate(root, ctx);
  if (result.ok()) {
    if (type) require_conforms(*result.value, *type);
    (void)to_json(*result.value);
    (void)result.value->to_string();
    (void)is_true(result);
  } else {
    require_inside(result.error, size);
    require(!result.error.message.empty());
    require(!is_true(result));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  const ParseResult parsed = parse(text);
  if (!parsed.root) {
    require(!parsed.errors.empty());
    for (const auto& e : parsed.errors) require_inside(e, size);
    return 0;
  }

  const Schema data = data_schema();
  const Schema event = event_schema();
  const Data data_json = boost::json::parse(R"({
      "phone": "13800000000", "channel": "agency", "received_at": "2026-11-20T09:00:00Z",
      "score": 4, "ratio": 0.5, "active": true, "goal": "1d4h",
      "tags": ["a", 2, [3.5, null]], "meta": {"k": "v", "n": null, "deep": {"x": 2}}
  })")
                             .as_object();
  const boost::json::object event_json =
      boost::json::parse(R"({"score": 2, "agent": "li"})").as_object();
  const boost::json::object instance_json = boost::json::parse(R"({
      "id": "c-1", "state": "in_progress", "workflow": "complaint", "version": 3,
      "key": "13800000000", "assignee": "li", "priority": "high",
      "created_at": "2026-11-19T08:00:00Z"
  })")
                                                .as_object();

  std::vector<Error> errors;
  const Type with_event = check(*parsed.root, CheckScope{&data, &event, "visited"}, errors);
  const bool well_typed = errors.empty();
  std::vector<Error> errors_without_event;
  check(*parsed.root, CheckScope{&data, nullptr, ""}, errors_without_event);
  for (const auto& e : errors) require_inside(e, size);
  for (const auto& e : errors_without_event) require_inside(e, size);
  // Taking the event away can only add problems.
  require(errors_without_event.size() >= errors.size());

  EvalContext ctx;
  ctx.data = &data_json;
  ctx.data_schema = &data;
  ctx.event = &event_json;
  ctx.event_schema = &event;
  ctx.instance = &instance_json;
  ctx.now = *parse_timestamp("2026-11-23T09:00:00Z");
  evaluate_in(*parsed.root, ctx, well_typed ? std::optional<Type>(with_event) : std::nullopt, size);

  ctx.event = nullptr;
  evaluate_in(*parsed.root, ctx, std::nullopt, size);
  ctx.data = nullptr;
  ctx.data_schema = nullptr;
  ctx.instance = nullptr;
  evaluate_in(*parsed.root, ctx, std::nullopt, size);
  return 0;
}
