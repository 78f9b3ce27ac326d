// Static types. A subexpression with an error gets type dyn, which is compatible with everything,
// so one mistake is reported once instead of once per enclosing operator.

#include <algorithm>
#include <utility>

#include "engine/diagnostics.h"
#include "engine/expr/ast.h"
#include "engine/expr/builtins.h"

namespace ombud::expr {

namespace {

Type dyn() { return Type::of(TypeKind::dyn); }

Type element_of(const Type& list) { return list.element ? *list.element : dyn(); }

bool is_numeric(TypeKind k) { return k == TypeKind::integer || k == TypeKind::number; }

bool is_orderable(TypeKind k) {
  return is_numeric(k) || k == TypeKind::string || k == TypeKind::timestamp ||
         k == TypeKind::duration || k == TypeKind::boolean;
}

// Whether values of the two types can be compared with `==` (null compares with anything).
bool compatible(const Type& a, const Type& b) {
  if (a.kind == TypeKind::dyn || b.kind == TypeKind::dyn) return true;
  if (a.kind == TypeKind::null || b.kind == TypeKind::null) return true;
  if (is_numeric(a.kind) && is_numeric(b.kind)) return true;
  if (a.kind != b.kind) return false;
  if (a.kind == TypeKind::list) return compatible(element_of(a), element_of(b));
  return true;
}

// The type that holds values of both (compatible) types.
Type unify(const Type& a, const Type& b) {
  if (a.kind == TypeKind::null) return b;
  if (b.kind == TypeKind::null) return a;
  if (a.kind == TypeKind::dyn || b.kind == TypeKind::dyn) return dyn();
  if (a.kind != b.kind) return Type::of(TypeKind::number);  // int and number
  if (a.kind == TypeKind::list) return Type::list_of(unify(element_of(a), element_of(b)));
  return a;
}

bool ordered(const Type& a, const Type& b) {
  if (a.kind == TypeKind::dyn) return b.kind == TypeKind::dyn || is_orderable(b.kind);
  if (b.kind == TypeKind::dyn) return is_orderable(a.kind);
  if (is_numeric(a.kind) && is_numeric(b.kind)) return true;
  return a.kind == b.kind && is_orderable(a.kind);
}

// Which operand kinds an arithmetic operator accepts at all (for operands of type dyn).
bool arithmetic_operand(Op op, TypeKind k) {
  switch (op) {
    case Op::add:
      return is_numeric(k) || k == TypeKind::string || k == TypeKind::list ||
             k == TypeKind::timestamp || k == TypeKind::duration;
    case Op::sub:
      return is_numeric(k) || k == TypeKind::timestamp || k == TypeKind::duration;
    case Op::mul:
    case Op::div:
      return is_numeric(k);
    case Op::mod:
      return k == TypeKind::integer;
    default:
      return false;
  }
}

std::optional<Type> arithmetic(Op op, const Type& a, const Type& b) {
  const TypeKind x = a.kind;
  const TypeKind y = b.kind;
  if (x == TypeKind::dyn || y == TypeKind::dyn) {
    const bool ok = (x == TypeKind::dyn || arithmetic_operand(op, x)) &&
                    (y == TypeKind::dyn || arithmetic_operand(op, y));
    return ok ? std::optional<Type>(dyn()) : std::nullopt;
  }
  if (op == Op::mod) {
    if (x == TypeKind::integer && y == TypeKind::integer) return a;
    return std::nullopt;
  }
  if (is_numeric(x) && is_numeric(y)) {
    return Type::of(x == TypeKind::integer && y == TypeKind::integer ? TypeKind::integer
                                                                     : TypeKind::number);
  }
  if (op == Op::add) {
    if (x == TypeKind::string && y == TypeKind::string) return a;
    if (x == TypeKind::list && y == TypeKind::list) {
      return compatible(element_of(a), element_of(b)) ? unify(a, b) : Type::list_of(dyn());
    }
    if (x == TypeKind::timestamp && y == TypeKind::duration) return a;
    if (x == TypeKind::duration && y == TypeKind::timestamp) return b;
    if (x == TypeKind::duration && y == TypeKind::duration) return a;
  }
  if (op == Op::sub) {
    if (x == TypeKind::timestamp && y == TypeKind::duration) return a;
    if (x == TypeKind::timestamp && y == TypeKind::timestamp) return Type::of(TypeKind::duration);
    if (x == TypeKind::duration && y == TypeKind::duration) return a;
  }
  return std::nullopt;
}

std::string types_phrase(const std::vector<Type>& types) {
  std::string out;
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (i > 0) out += i + 1 == types.size() ? " and " : ", ";
    out += types[i].name();
  }
  return out;
}

std::string arguments_phrase(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " argument" : " arguments");
}

class Checker {
 public:
  Checker(const CheckScope& scope, std::vector<Error>& errors) : scope_(scope), errors_(errors) {}

  Type visit(const Node& n) {
    switch (n.kind) {
      case NodeKind::literal:
        return Type::of(n.literal.kind());
      case NodeKind::list:
        return list(n);
      case NodeKind::ident:
        return ident(n);
      case NodeKind::select:
        return select(n);
      case NodeKind::index:
        return index(n);
      case NodeKind::call:
        return call(n);
      case NodeKind::method:
        return method(n);
      case NodeKind::unary:
        return unary(n);
      case NodeKind::binary:
        return binary(n);
      case NodeKind::ternary:
        return ternary(n);
    }
    return dyn();
  }

 private:
  Type fail(const Node& at, std::string message) {
    errors_.push_back(Error{at.offset, std::max<std::size_t>(at.length, 1), std::move(message)});
    return dyn();
  }

  Type list(const Node& n) {
    std::optional<Type> element;
    bool mixed = false;
    for (const auto& child : n.children) {
      const Type t = visit(child);
      if (!element) {
        element = t;
      } else if (compatible(*element, t)) {
        element = unify(*element, t);
      } else {
        mixed = true;
      }
    }
    return Type::list_of(mixed || !element ? dyn() : *element);
  }

  Type ident(const Node& n) {
    if (n.name == "data") {
      if (scope_.data == nullptr) return fail(n, "data fields are not available here");
      return Type::of(TypeKind::map);
    }
    if (n.name == "event") {
      if (scope_.event == nullptr) return fail(n, "event fields are not available here");
      return Type::of(TypeKind::map);
    }
    if (n.name == "body") {
      if (!scope_.body) return fail(n, "body is only available in webhook routes");
      return Type::of(TypeKind::map);
    }
    if (n.name == "instance") return Type::of(TypeKind::map);
    if (n.name == "now") return Type::of(TypeKind::timestamp);
    return fail(
        n, "unknown identifier '" + n.name + "'" + did_you_mean(n.name, names_of(kIdentifiers)));
  }

  static bool is_root(const Node& n) {
    return n.kind == NodeKind::ident &&
           (n.name == "data" || n.name == "event" || n.name == "instance" || n.name == "body");
  }

  // The schema field `n` selects (`data.f`, `event.f`), if any.
  const FieldSchema* schema_field(const Node& n) const {
    if (n.kind != NodeKind::select || n.children[0].kind != NodeKind::ident) return nullptr;
    const std::string& root = n.children[0].name;
    const Schema* schema = root == "data" ? scope_.data : root == "event" ? scope_.event : nullptr;
    return schema != nullptr ? schema->find(n.name) : nullptr;
  }

  Type select(const Node& n) {
    const Node& target = n.children[0];
    if (is_root(target)) return root_field(target, n);
    const Type t = visit(target);
    if (t.kind == TypeKind::map || t.kind == TypeKind::dyn) return dyn();
    return fail(n, "cannot select field '" + n.name + "' from " + t.name());
  }

  Type root_field(const Node& root, const Node& n) {
    if (root.name == "body") {
      // A payload has no schema: any field may be there, of any type.
      if (!scope_.body) return ident(root);
      return dyn();
    }
    if (root.name == "instance") {
      if (const InstanceField* field = find_instance_field(n.name)) {
        return type_of_field(field->type);
      }
      return fail(n, "instance has no field '" + n.name + "'" +
                         did_you_mean(n.name, instance_field_names()));
    }
    const bool is_data = root.name == "data";
    const Schema* schema = is_data ? scope_.data : scope_.event;
    if (schema == nullptr) return ident(root);  // reports that the fields are unavailable
    if (const FieldSchema* field = schema->find(n.name)) return type_of_field(field->type);
    if (schema->unreadable_field(n.name)) return dyn();
    std::string owner = is_data ? "data" : "event";
    if (!is_data && !scope_.event_name.empty()) owner += " '" + scope_.event_name + "'";
    return fail(n,
                owner + " has no field '" + n.name + "'" + did_you_mean(n.name, schema->names()));
  }

  Type index(const Node& n) {
    const Type target = visit(n.children[0]);
    const Type key = visit(n.children[1]);
    switch (target.kind) {
      case TypeKind::list:
        if (key.kind == TypeKind::integer || key.kind == TypeKind::dyn) return element_of(target);
        return fail(n, "list index must be int, not " + key.name());
      case TypeKind::map:
        if (key.kind == TypeKind::string || key.kind == TypeKind::dyn) return dyn();
        return fail(n, "map key must be string, not " + key.name());
      case TypeKind::dyn:
        return dyn();
      default:
        return fail(n, "cannot index " + target.name());
    }
  }

  bool arity(const Node& n, std::string_view what, std::size_t count, std::size_t expected,
             bool at_least = false) {
    if (count == expected || (at_least && count > expected)) return true;
    fail(n, std::string(what) + " '" + n.name + "' takes " + (at_least ? "at least " : "") +
                arguments_phrase(expected) + ", not " + std::to_string(count));
    return false;
  }

  Type call(const Node& n) {
    if (n.name == "has") return has(n);
    std::vector<Type> args;
    args.reserve(n.children.size());
    for (const auto& child : n.children) args.push_back(visit(child));
    const auto cannot = [&] {
      return fail(n, "function '" + n.name + "' cannot be applied to " + types_phrase(args));
    };
    if (n.name == "min" || n.name == "max") {
      if (!arity(n, "function", args.size(), 2, true)) return dyn();
      if (auto result = extremum(args)) return *result;
      return cannot();
    }
    if (std::find(kFunctions.begin(), kFunctions.end(), n.name) == kFunctions.end()) {
      return fail(n,
                  "unknown function '" + n.name + "'" + did_you_mean(n.name, names_of(kFunctions)));
    }
    if (!arity(n, "function", args.size(), 1)) return dyn();
    const TypeKind k = args[0].kind;
    if (n.name == "size") {
      if (k == TypeKind::string || k == TypeKind::list || k == TypeKind::map ||
          k == TypeKind::dyn) {
        return Type::of(TypeKind::integer);
      }
      return cannot();
    }
    if (n.name == "string") return Type::of(TypeKind::string);
    if (n.name == "int") {
      if (is_numeric(k) || k == TypeKind::string || k == TypeKind::dyn) {
        return Type::of(TypeKind::integer);
      }
      return cannot();
    }
    const bool is_duration = n.name == "duration";
    const TypeKind result = is_duration ? TypeKind::duration : TypeKind::timestamp;
    if (k != TypeKind::string && k != result && k != TypeKind::dyn) return cannot();
    const Node& arg = n.children[0];
    if (arg.kind == NodeKind::literal && k == TypeKind::string) {
      const auto& text = std::get<std::string>(arg.literal.v);
      if (is_duration && !parse_duration(text)) {
        fail(arg, "invalid duration '" + text +
                      "' (expected a duration such as 30s, 15m, 4h, 2d, 1w or 1d4h)");
      } else if (!is_duration && !parse_timestamp(text)) {
        fail(arg, "invalid timestamp '" + text +
                      "' (expected an RFC 3339 instant such as 2026-11-23T09:00:00+08:00)");
      }
    }
    return Type::of(result);
  }

  // The type of min/max over `args`, or nullopt when they cannot be ordered together.
  static std::optional<Type> extremum(const std::vector<Type>& args) {
    std::optional<Type> result;
    bool saw_dyn = false;
    for (const auto& t : args) {
      if (t.kind == TypeKind::dyn) {
        saw_dyn = true;
        continue;
      }
      if (!is_orderable(t.kind)) return std::nullopt;
      if (!result) {
        result = t;
      } else if (!ordered(*result, t)) {
        return std::nullopt;
      } else if (result->kind != t.kind) {
        result = Type::of(TypeKind::number);
      }
    }
    if (!result || (saw_dyn && is_numeric(result->kind))) return dyn();
    return result;
  }

  Type has(const Node& n) {
    if (n.children.size() != 1 || n.children[0].kind != NodeKind::select) {
      for (const auto& child : n.children) visit(child);
      return fail(n.children.empty() ? n : n.children[0],
                  "has() needs a field selection such as has(data.score)");
    }
    visit(n.children[0]);
    return Type::of(TypeKind::boolean);
  }

  Type method(const Node& n) {
    const Type receiver = visit(n.children[0]);
    std::vector<Type> args;
    for (std::size_t i = 1; i < n.children.size(); ++i) args.push_back(visit(n.children[i]));
    if (std::find(kMethods.begin(), kMethods.end(), n.name) == kMethods.end()) {
      return fail(n, "unknown method '" + n.name + "'" + did_you_mean(n.name, names_of(kMethods)));
    }
    const TypeKind k = receiver.kind;
    if (n.name == "size") {
      if (!arity(n, "method", args.size(), 0)) return dyn();
      if (k == TypeKind::string || k == TypeKind::list || k == TypeKind::map ||
          k == TypeKind::dyn) {
        return Type::of(TypeKind::integer);
      }
      return fail(n, "method 'size' cannot be applied to " + receiver.name());
    }
    if (!arity(n, "method", args.size(), 1)) return dyn();
    if (k != TypeKind::string && k != TypeKind::dyn) {
      return fail(n, "method '" + n.name + "' cannot be applied to " + receiver.name());
    }
    if (args[0].kind != TypeKind::string && args[0].kind != TypeKind::dyn) {
      return fail(n.children[1],
                  "argument of '" + n.name + "' must be string, not " + args[0].name());
    }
    return Type::of(n.name == "trimPrefix" || n.name == "remove" ? TypeKind::string
                                                                 : TypeKind::boolean);
  }

  Type unary(const Node& n) {
    Type operand = visit(n.children[0]);
    const TypeKind k = operand.kind;
    if (n.op == Op::logical_not && (k == TypeKind::boolean || k == TypeKind::dyn)) {
      return Type::of(TypeKind::boolean);
    }
    if (n.op == Op::negate && (is_numeric(k) || k == TypeKind::duration || k == TypeKind::dyn)) {
      return operand;
    }
    return fail(n, "operator '" + std::string(op_symbol(n.op)) + "' cannot be applied to " +
                       operand.name());
  }

  Type binary(const Node& n) {
    const Type a = visit(n.children[0]);
    const Type b = visit(n.children[1]);
    const auto cannot = [&] {
      return fail(n, "operator '" + std::string(op_symbol(n.op)) + "' cannot be applied to " +
                         a.name() + " and " + b.name());
    };
    Type boolean = Type::of(TypeKind::boolean);
    switch (n.op) {
      case Op::logical_and:
      case Op::logical_or: {
        const auto is_bool = [](const Type& t) {
          return t.kind == TypeKind::boolean || t.kind == TypeKind::dyn;
        };
        return is_bool(a) && is_bool(b) ? boolean : cannot();
      }
      case Op::eq:
      case Op::ne:
        if (!compatible(a, b)) return cannot();
        check_enum_literal(n.children[0], n.children[1]);
        check_enum_literal(n.children[1], n.children[0]);
        return boolean;
      case Op::lt:
      case Op::le:
      case Op::gt:
      case Op::ge:
        return ordered(a, b) ? boolean : cannot();
      case Op::in:
        return in(n, a, b) ? boolean : cannot();
      default:
        break;
    }
    if (auto result = arithmetic(n.op, a, b)) return *result;
    return cannot();
  }

  bool in(const Node& n, const Type& item, const Type& container) {
    switch (container.kind) {
      case TypeKind::dyn:
        return true;
      case TypeKind::list:
        if (!compatible(item, element_of(container))) return false;
        if (n.children[1].kind == NodeKind::list) {
          for (const auto& element : n.children[1].children) {
            check_enum_literal(n.children[0], element);
          }
        }
        return true;
      case TypeKind::map:
      case TypeKind::string:
        return item.kind == TypeKind::string || item.kind == TypeKind::dyn;
      default:
        return false;
    }
  }

  // `data.channel == 'agncy'` can never hold: say so while the author is still editing.
  void check_enum_literal(const Node& field_node, const Node& literal) {
    if (scope_.states != nullptr && field_node.kind == NodeKind::select &&
        field_node.name == "state" && field_node.children[0].kind == NodeKind::ident &&
        field_node.children[0].name == "instance" && literal.kind == NodeKind::literal) {
      // `instance.state == 'waiting_custmer'` is never true: the guard would quietly never hold.
      const auto* text = std::get_if<std::string>(&literal.literal.v);
      if (text != nullptr &&
          std::find(scope_.states->begin(), scope_.states->end(), *text) == scope_.states->end()) {
        fail(literal, "'" + *text + "' is not a state of this workflow" +
                          did_you_mean(*text, *scope_.states));
      }
      return;
    }
    const FieldSchema* field = schema_field(field_node);
    if (field == nullptr || field->type != FieldType::enum_ || literal.kind != NodeKind::literal) {
      return;
    }
    const auto* text = std::get_if<std::string>(&literal.literal.v);
    if (text == nullptr) return;
    if (std::find(field->values.begin(), field->values.end(), *text) != field->values.end()) {
      return;
    }
    fail(literal, "'" + *text + "' is not one of the values of '" + field->name + "'" +
                      did_you_mean(*text, field->values));
  }

  Type ternary(const Node& n) {
    const Type condition = visit(n.children[0]);
    const Type a = visit(n.children[1]);
    const Type b = visit(n.children[2]);
    if (condition.kind != TypeKind::boolean && condition.kind != TypeKind::dyn) {
      fail(n, "condition of '?:' must be bool, not " + condition.name());
    }
    if (!compatible(a, b)) {
      return fail(n, "branches of '?:' have different types: " + a.name() + " and " + b.name());
    }
    return unify(a, b);
  }

  const CheckScope& scope_;
  std::vector<Error>& errors_;
};

}  // namespace

Type check(const Node& root, const CheckScope& scope, std::vector<Error>& errors) {
  return Checker(scope, errors).visit(root);
}

}  // namespace ombud::expr
