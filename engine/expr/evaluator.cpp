// Evaluation. Every failure is a returned error at the node that caused it; nothing throws and
// no arithmetic is left to overflow, so the same tree and context always give the same result.
// The semantics are summarised in engine/expr/expression.h.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "engine/expr/ast.h"
#include "engine/expr/builtins.h"

namespace ombud::expr {

namespace {

constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();
// Bounds that keep every duration and timestamp computation far from int64 overflow and every
// timestamp printable as RFC 3339: durations up to about 31,000 years, instants in years 0–9999.
constexpr std::int64_t kMaxDurationDays = 10'000'000;
constexpr std::int64_t kMaxDurationMillis = 1'000'000'000'000'000;
constexpr std::int64_t kMinTimestampMillis = -62'167'219'200'000;  // 0000-01-01T00:00:00Z
constexpr std::int64_t kMaxTimestampMillis = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
constexpr double kTwoTo63 = 9223372036854775808.0;

std::string kind_name(TypeKind k) {
  if (k == TypeKind::list) return "list";
  return Type::of(k).name();
}

std::string kind_name(const Value& v) { return kind_name(v.kind()); }

// Keeps messages short: long text is cut (at a UTF-8 boundary) and marked.
std::string shortened(std::string_view s, std::size_t limit) {
  if (s.size() <= limit) return std::string(s);
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "...";
}

std::string quoted(std::string_view s) { return "'" + shortened(s, 32) + "'"; }

// How a value appears inside a message: strings quoted, everything short.
std::string shown(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v.v)) return quoted(*s);
  return shortened(v.to_string(), 40);
}

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_numeric(const Value& v) {
  return std::holds_alternative<std::int64_t>(v.v) || std::holds_alternative<double>(v.v);
}

double as_double(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v.v)) return static_cast<double>(*i);
  return std::get<double>(v.v);
}

template <typename T>
int sign_of_compare(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Exact, unlike converting the int to double (which rounds above 2^53).
std::optional<int> compare_int_double(std::int64_t i, double d) {
  if (std::isnan(d)) return std::nullopt;
  if (d < -kTwoTo63) return 1;
  if (d >= kTwoTo63) return -1;
  const double whole = std::trunc(d);
  const auto w = static_cast<std::int64_t>(whole);
  if (i != w) return i < w ? -1 : 1;
  const double fraction = d - whole;
  return fraction > 0 ? -1 : (fraction < 0 ? 1 : 0);
}

// The order of two values, or nullopt when they cannot be ordered against each other.
std::optional<int> compare(const Value& a, const Value& b) {
  const auto* ai = std::get_if<std::int64_t>(&a.v);
  const auto* bi = std::get_if<std::int64_t>(&b.v);
  const auto* ad = std::get_if<double>(&a.v);
  const auto* bd = std::get_if<double>(&b.v);
  if (ai && bi) return sign_of_compare(*ai, *bi);
  if (ai && bd) return compare_int_double(*ai, *bd);
  if (ad && bi) {
    const auto r = compare_int_double(*bi, *ad);
    return r ? std::optional<int>(-*r) : std::nullopt;
  }
  if (ad && bd) {
    if (std::isnan(*ad) || std::isnan(*bd)) return std::nullopt;
    return sign_of_compare(*ad, *bd);
  }
  if (a.kind() != b.kind()) return std::nullopt;
  switch (a.kind()) {
    case TypeKind::string:
      return sign_of_compare(std::get<std::string>(a.v), std::get<std::string>(b.v));
    case TypeKind::boolean:
      return sign_of_compare(std::get<bool>(a.v), std::get<bool>(b.v));
    case TypeKind::timestamp:
      return sign_of_compare(std::get<Timestamp>(a.v), std::get<Timestamp>(b.v));
    case TypeKind::duration:
      return sign_of_compare(std::get<Duration>(a.v).wall_clock(),
                             std::get<Duration>(b.v).wall_clock());
    default:
      return std::nullopt;
  }
}

// The language's `==`: numbers by value across int and number, durations by length, lists
// element by element, maps as JSON; values of different kinds are simply unequal.
bool equals(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
  if (is_numeric(a) && is_numeric(b)) return compare(a, b) == 0;
  if (a.kind() != b.kind()) return false;
  if (const auto* al = std::get_if<List>(&a.v)) {
    const auto& bl = std::get<List>(b.v);
    return al->size() == bl.size() && std::equal(al->begin(), al->end(), bl.begin(), equals);
  }
  if (const auto* am = std::get_if<Map>(&a.v)) return *am == std::get<Map>(b.v);
  return compare(a, b) == 0;
}

bool duration_in_range(const Duration& d) {
  return d.days >= -kMaxDurationDays && d.days <= kMaxDurationDays &&
         d.clock.count() >= -kMaxDurationMillis && d.clock.count() <= kMaxDurationMillis;
}

bool timestamp_in_range(std::int64_t ms) {
  return ms >= kMinTimestampMillis && ms <= kMaxTimestampMillis;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t out = 0;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(first, last, out);
  if (ec != std::errc() || ptr != last || s.empty()) return std::nullopt;
  return out;
}

class Evaluator {
 public:
  explicit Evaluator(const EvalContext& ctx) : ctx_(ctx) {}

  EvalResult visit(const Node& n) {
    switch (n.kind) {
      case NodeKind::literal:
        return ok(n.literal);
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
    return fail(n, "unknown syntax node");
  }

 private:
  static EvalResult ok(Value v) {
    EvalResult r;
    r.value = std::move(v);
    return r;
  }

  static EvalResult fail(const Node& n, std::string message) {
    EvalResult r;
    r.error = Error{n.offset, std::max<std::size_t>(n.length, 1), std::move(message)};
    return r;
  }

  static EvalResult cannot_apply(const Node& n, const Value& a) {
    return fail(
        n, "operator '" + std::string(op_symbol(n.op)) + "' cannot be applied to " + kind_name(a));
  }

  static EvalResult cannot_apply(const Node& n, const Value& a, const Value& b) {
    return fail(n, "operator '" + std::string(op_symbol(n.op)) + "' cannot be applied to " +
                       kind_name(a) + " and " + kind_name(b));
  }

  EvalResult list(const Node& n) {
    List out;
    out.reserve(n.children.size());
    for (const auto& child : n.children) {
      EvalResult r = visit(child);
      if (!r.ok()) return r;
      out.push_back(std::move(*r.value));
    }
    return ok(Value{std::move(out)});
  }

  EvalResult ident(const Node& n) {
    if (n.name == "now") return ok(Value{ctx_.now});
    if (is_root(n)) {
      const Root root = root_of(n.name);
      if (!root.available()) return fail(n, n.name + " fields are not available here");
      return ok(Value{root.data != nullptr ? root.data->to_object() : *root.object});
    }
    return fail(n, "unknown identifier '" + n.name + "'");
  }

  struct Root {
    const boost::json::object* object = nullptr;
    const Data* data = nullptr;  // instead of `object`, for `data`
    const Schema* schema = nullptr;

    bool available() const { return object != nullptr || data != nullptr; }
    const boost::json::value* find(std::string_view key) const {
      return data != nullptr ? data->if_contains(key) : object->if_contains(key);
    }
  };

  Root root_of(std::string_view name) const {
    if (name == "data") return {nullptr, ctx_.data, ctx_.data_schema};
    if (name == "event") return {ctx_.event, nullptr, ctx_.event_schema};
    if (name == "body") return {ctx_.body, nullptr, nullptr};
    return {ctx_.instance, nullptr, nullptr};
  }

  static bool is_root(const Node& n) {
    return n.kind == NodeKind::ident &&
           (n.name == "data" || n.name == "event" || n.name == "instance" || n.name == "body");
  }

  struct FieldSlot {
    const boost::json::value* json = nullptr;  // null when the key is absent
    std::optional<FieldType> type;             // nullopt: no schema, read the JSON untyped
  };

  // Finds the JSON behind `data.f`, `event.f` or `instance.f`, or the error that it cannot exist.
  std::variant<FieldSlot, EvalResult> root_field(const Node& root, const Node& n) const {
    const Root r = root_of(root.name);
    if (!r.available()) return fail(root, root.name + " fields are not available here");
    FieldSlot slot;
    if (root.name == "instance") {
      const InstanceField* field = find_instance_field(n.name);
      if (field == nullptr) return fail(n, "instance has no field '" + n.name + "'");
      slot.type = field->type;
    } else if (r.schema != nullptr) {
      const FieldSchema* field = r.schema->find(n.name);
      if (field == nullptr) return fail(n, root.name + " has no field '" + n.name + "'");
      slot.type = field->type;
    }
    slot.json = r.find(n.name);
    return slot;
  }

  EvalResult select(const Node& n) {
    const Node& target = n.children[0];
    if (is_root(target)) {
      auto found = root_field(target, n);
      if (auto* failure = std::get_if<EvalResult>(&found)) return std::move(*failure);
      const FieldSlot& slot = std::get<FieldSlot>(found);
      // A declared field that is absent reads as null, so `has()` and `== null` can test it.
      if (slot.json == nullptr || slot.json->is_null()) return ok(Value{});
      if (!slot.type) return ok(from_json(*slot.json));
      if (auto value = from_json(*slot.json, *slot.type)) return ok(std::move(*value));
      return fail(n, target.name + " field '" + n.name + "' holds " + shown(from_json(*slot.json)) +
                         ", which is not a valid " + std::string(field_type_name(*slot.type)));
    }
    EvalResult r = visit(target);
    if (!r.ok()) return r;
    const auto* map = std::get_if<Map>(&r.value->v);
    if (map == nullptr) {
      return fail(n, "cannot select field '" + n.name + "' from " + kind_name(*r.value));
    }
    const auto* json = map->if_contains(n.name);
    if (json == nullptr) return fail(n, "no such key " + quoted(n.name));
    return ok(from_json(*json));
  }

  EvalResult index(const Node& n) {
    EvalResult target = visit(n.children[0]);
    if (!target.ok()) return target;
    EvalResult key = visit(n.children[1]);
    if (!key.ok()) return key;
    if (const auto* list = std::get_if<List>(&target.value->v)) {
      const auto* i = std::get_if<std::int64_t>(&key.value->v);
      if (i == nullptr) return fail(n, "list index must be int, not " + kind_name(*key.value));
      if (*i < 0 || static_cast<std::uint64_t>(*i) >= list->size()) {
        return fail(n, "index " + std::to_string(*i) + " is out of range (size " +
                           std::to_string(list->size()) + ")");
      }
      return ok((*list)[static_cast<std::size_t>(*i)]);
    }
    if (const auto* map = std::get_if<Map>(&target.value->v)) {
      const auto* k = std::get_if<std::string>(&key.value->v);
      if (k == nullptr) return fail(n, "map key must be string, not " + kind_name(*key.value));
      const auto* json = map->if_contains(*k);
      if (json == nullptr) return fail(n, "no such key " + quoted(*k));
      return ok(from_json(*json));
    }
    return fail(n, "cannot index " + kind_name(*target.value));
  }

  // Evaluates the arguments in order; the first error wins.
  std::optional<EvalResult> arguments(const Node& n, std::size_t first, List& out) {
    for (std::size_t i = first; i < n.children.size(); ++i) {
      EvalResult r = visit(n.children[i]);
      if (!r.ok()) return r;
      out.push_back(std::move(*r.value));
    }
    return std::nullopt;
  }

  static std::string kinds_phrase(const List& args) {
    std::string out;
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (i > 0) out += i + 1 == args.size() ? " and " : ", ";
      out += kind_name(args[i]);
    }
    return out;
  }

  EvalResult call(const Node& n) {
    if (n.name == "has") return has(n);
    if (std::find(kFunctions.begin(), kFunctions.end(), n.name) == kFunctions.end()) {
      return fail(n, "unknown function '" + n.name + "'");
    }
    List args;
    if (auto failure = arguments(n, 0, args)) return std::move(*failure);
    const bool extremum = n.name == "min" || n.name == "max";
    if (extremum ? args.size() < 2 : args.size() != 1) {
      return fail(n, "function '" + n.name + "' takes " +
                         (extremum ? "at least 2 arguments" : "1 argument") + ", not " +
                         std::to_string(args.size()));
    }
    const auto cannot = [&] {
      return fail(n, "function '" + n.name + "' cannot be applied to " + kinds_phrase(args));
    };
    if (extremum) return min_max(n, args, n.name == "min");
    Value& arg = args[0];
    if (n.name == "size") {
      if (auto s = size_of(arg)) return ok(Value{*s});
      return cannot();
    }
    if (n.name == "string") {
      if (std::holds_alternative<std::string>(arg.v)) return ok(std::move(arg));
      return ok(Value{arg.to_string()});
    }
    if (n.name == "int") return to_int(n, arg);
    const bool is_duration = n.name == "duration";
    if (is_duration && std::holds_alternative<Duration>(arg.v)) return ok(std::move(arg));
    if (!is_duration && std::holds_alternative<Timestamp>(arg.v)) return ok(std::move(arg));
    const auto* text = std::get_if<std::string>(&arg.v);
    if (text == nullptr) return cannot();
    if (is_duration) {
      if (auto d = parse_duration(*text)) return ok(Value{*d});
    } else if (auto t = parse_timestamp(*text)) {
      return ok(Value{*t});
    }
    return fail(n, "cannot convert " + quoted(*text) + " to " + n.name);
  }

  static std::optional<std::int64_t> size_of(const Value& v) {
    if (const auto* s = std::get_if<std::string>(&v.v)) {
      return static_cast<std::int64_t>(code_points(*s));
    }
    if (const auto* l = std::get_if<List>(&v.v)) return static_cast<std::int64_t>(l->size());
    if (const auto* m = std::get_if<Map>(&v.v)) return static_cast<std::int64_t>(m->size());
    return std::nullopt;
  }

  static EvalResult to_int(const Node& n, const Value& arg) {
    if (const auto* i = std::get_if<std::int64_t>(&arg.v)) return ok(Value{*i});
    if (const auto* d = std::get_if<double>(&arg.v)) {
      // Truncates toward zero, as C and CEL do.
      const double whole = std::trunc(*d);
      if (std::isnan(whole) || whole < -kTwoTo63 || whole >= kTwoTo63) {
        return fail(n, "cannot convert " + shown(arg) + " to int (out of range)");
      }
      return ok(Value{static_cast<std::int64_t>(whole)});
    }
    if (const auto* s = std::get_if<std::string>(&arg.v)) {
      if (auto i = parse_int(*s)) return ok(Value{*i});
      return fail(n, "cannot convert " + quoted(*s) + " to int");
    }
    return fail(n, "function 'int' cannot be applied to " + kind_name(arg));
  }

  static EvalResult min_max(const Node& n, List& args, bool is_min) {
    std::size_t best = 0;
    bool any_number = false;
    bool all_numeric = true;
    for (std::size_t i = 0; i < args.size(); ++i) {
      any_number = any_number || std::holds_alternative<double>(args[i].v);
      all_numeric = all_numeric && is_numeric(args[i]);
      const auto order = compare(args[i], args[best]);
      if (!order) {
        return fail(n, "function '" + n.name + "' cannot be applied to " + kinds_phrase(args));
      }
      if (is_min ? *order < 0 : *order > 0) best = i;
    }
    // min(1, 2.5) is a number, as its static type says.
    if (all_numeric && any_number) return ok(Value{as_double(args[best])});
    return ok(std::move(args[best]));
  }

  EvalResult has(const Node& n) {
    if (n.children.size() != 1 || n.children[0].kind != NodeKind::select) {
      return fail(n, "has() needs a field selection such as has(data.score)");
    }
    const Node& selection = n.children[0];
    const Node& target = selection.children[0];
    const auto present = [](const boost::json::value* json) {
      return ok(Value{json != nullptr && !json->is_null()});
    };
    if (is_root(target)) {
      auto found = root_field(target, selection);
      if (auto* failure = std::get_if<EvalResult>(&found)) return std::move(*failure);
      return present(std::get<FieldSlot>(found).json);
    }
    // The map lives in `r`, so it is inspected before `r` goes away.
    EvalResult r = visit(target);
    if (!r.ok()) return r;
    const auto* map = std::get_if<Map>(&r.value->v);
    if (map == nullptr) {
      return fail(selection,
                  "cannot select field '" + selection.name + "' from " + kind_name(*r.value));
    }
    return present(map->if_contains(selection.name));
  }

  EvalResult method(const Node& n) {
    EvalResult receiver = visit(n.children[0]);
    if (!receiver.ok()) return receiver;
    List args;
    if (auto failure = arguments(n, 1, args)) return std::move(*failure);
    if (std::find(kMethods.begin(), kMethods.end(), n.name) == kMethods.end()) {
      return fail(n, "unknown method '" + n.name + "'");
    }
    const std::size_t expected = n.name == "size" ? 0 : 1;
    if (args.size() != expected) {
      return fail(n, "method '" + n.name + "' takes " + std::to_string(expected) +
                         (expected == 1 ? " argument" : " arguments") + ", not " +
                         std::to_string(args.size()));
    }
    const Value& self = *receiver.value;
    if (n.name == "size") {
      if (auto s = size_of(self)) return ok(Value{*s});
      return fail(n, "method 'size' cannot be applied to " + kind_name(self));
    }
    const auto* s = std::get_if<std::string>(&self.v);
    if (s == nullptr)
      return fail(n, "method '" + n.name + "' cannot be applied to " + kind_name(self));
    const auto* x = std::get_if<std::string>(&args[0].v);
    if (x == nullptr) {
      return fail(n.children[1],
                  "argument of '" + n.name + "' must be string, not " + kind_name(args[0]));
    }
    const std::string_view text = *s;
    if (n.name == "startsWith") return ok(Value{text.substr(0, x->size()) == *x});
    if (n.name == "trimPrefix") {
      return ok(Value{std::string(text.starts_with(*x) ? text.substr(x->size()) : text)});
    }
    if (n.name == "remove") {
      // Every occurrence of x taken out, left to right: '139 0000 1111'.remove(' ').
      if (x->empty()) return ok(Value{std::string(text)});
      std::string out;
      for (std::size_t at = 0;;) {
        const std::size_t found = text.find(*x, at);
        out += text.substr(at, found - at);
        if (found == std::string_view::npos) break;
        at = found + x->size();
      }
      return ok(Value{std::move(out)});
    }
    if (n.name == "endsWith") {
      return ok(Value{text.size() >= x->size() && text.substr(text.size() - x->size()) == *x});
    }
    return ok(Value{text.find(*x) != std::string_view::npos});
  }

  EvalResult unary(const Node& n) {
    EvalResult r = visit(n.children[0]);
    if (!r.ok()) return r;
    Value& v = *r.value;
    if (n.op == Op::logical_not) {
      if (const auto* b = std::get_if<bool>(&v.v)) return ok(Value{!*b});
      return cannot_apply(n, v);
    }
    if (const auto* i = std::get_if<std::int64_t>(&v.v)) {
      if (*i == kInt64Min) return fail(n, "integer overflow in -(" + std::to_string(*i) + ")");
      return ok(Value{-*i});
    }
    if (const auto* d = std::get_if<double>(&v.v)) return ok(Value{-*d});
    if (const auto* d = std::get_if<Duration>(&v.v)) {
      if (!duration_in_range(*d)) return fail(n, "duration out of range");
      return ok(Value{Duration{-d->days, -d->clock}});
    }
    return cannot_apply(n, v);
  }

  // CEL's commutative logic: a side that decides the result (false for &&, true for ||) wins
  // over an error or a non-bool on the other side, whichever order they come in.
  EvalResult logical(const Node& n) {
    const bool decisive = n.op == Op::logical_or;
    EvalResult a = visit(n.children[0]);
    const bool* ab = a.ok() ? std::get_if<bool>(&a.value->v) : nullptr;
    if (ab != nullptr && *ab == decisive) return a;
    EvalResult b = visit(n.children[1]);
    const bool* bb = b.ok() ? std::get_if<bool>(&b.value->v) : nullptr;
    if (bb != nullptr && *bb == decisive) return b;
    if (!a.ok()) return a;
    if (ab == nullptr) return cannot_apply(n, *a.value);
    if (!b.ok()) return b;
    if (bb == nullptr) return cannot_apply(n, *b.value);
    return b;
  }

  EvalResult binary(const Node& n) {
    if (n.op == Op::logical_and || n.op == Op::logical_or) return logical(n);
    EvalResult ra = visit(n.children[0]);
    if (!ra.ok()) return ra;
    EvalResult rb = visit(n.children[1]);
    if (!rb.ok()) return rb;
    const Value& a = *ra.value;
    const Value& b = *rb.value;
    switch (n.op) {
      case Op::eq:
        return ok(Value{equals(a, b)});
      case Op::ne:
        return ok(Value{!equals(a, b)});
      case Op::lt:
      case Op::le:
      case Op::gt:
      case Op::ge: {
        const auto order = compare(a, b);
        if (!order) return cannot_apply(n, a, b);
        const int o = *order;
        const bool result = n.op == Op::lt   ? o < 0
                            : n.op == Op::le ? o <= 0
                            : n.op == Op::gt ? o > 0
                                             : o >= 0;
        return ok(Value{result});
      }
      case Op::in:
        return in(n, a, b);
      default:
        return arithmetic(n, a, b);
    }
  }

  static EvalResult in(const Node& n, const Value& item, const Value& container) {
    if (const auto* list = std::get_if<List>(&container.v)) {
      return ok(Value{std::any_of(list->begin(), list->end(),
                                  [&](const Value& element) { return equals(item, element); })});
    }
    const auto* key = std::get_if<std::string>(&item.v);
    if (key != nullptr) {
      if (const auto* map = std::get_if<Map>(&container.v)) return ok(Value{map->contains(*key)});
      if (const auto* s = std::get_if<std::string>(&container.v)) {
        return ok(Value{s->find(*key) != std::string::npos});
      }
    }
    return cannot_apply(n, item, container);
  }

  static EvalResult integer_arithmetic(const Node& n, std::int64_t a, std::int64_t b) {
    std::int64_t out = 0;
    bool overflow = false;
    switch (n.op) {
      case Op::add:
        overflow = __builtin_add_overflow(a, b, &out);
        break;
      case Op::sub:
        overflow = __builtin_sub_overflow(a, b, &out);
        break;
      case Op::mul:
        overflow = __builtin_mul_overflow(a, b, &out);
        break;
      case Op::div:
        if (b == 0) return fail(n, "division by zero");
        overflow = a == kInt64Min && b == -1;
        if (!overflow) out = a / b;
        break;
      case Op::mod:
        if (b == 0) return fail(n, "modulo by zero");
        // INT64_MIN % -1 is 0 mathematically but undefined in C++.
        out = b == -1 ? 0 : a % b;
        break;
      default:
        return fail(n, "unknown operator");
    }
    if (overflow) {
      return fail(n, "integer overflow in " + std::to_string(a) + " " +
                         std::string(op_symbol(n.op)) + " " + std::to_string(b));
    }
    return ok(Value{out});
  }

  static EvalResult number_arithmetic(const Node& n, double a, double b) {
    double out = 0;
    switch (n.op) {
      case Op::add:
        out = a + b;
        break;
      case Op::sub:
        out = a - b;
        break;
      case Op::mul:
        out = a * b;
        break;
      case Op::div:
        if (b == 0) return fail(n, "division by zero");
        out = a / b;
        break;
      default:
        return fail(n, "unknown operator");
    }
    if (!std::isfinite(out)) {
      return fail(n, "number overflow in " + Value{a}.to_string() + " " +
                         std::string(op_symbol(n.op)) + " " + Value{b}.to_string());
    }
    return ok(Value{out});
  }

  static EvalResult shift(const Node& n, Timestamp t, const Duration& d, bool forward) {
    if (!duration_in_range(d)) return fail(n, "duration out of range");
    std::int64_t out = 0;
    const std::int64_t delta = d.wall_clock().count();
    const bool overflow = forward
                              ? __builtin_add_overflow(t.time_since_epoch().count(), delta, &out)
                              : __builtin_sub_overflow(t.time_since_epoch().count(), delta, &out);
    if (overflow || !timestamp_in_range(out)) return fail(n, "timestamp out of range");
    return ok(Value{Timestamp(Millis(out))});
  }

  static EvalResult arithmetic(const Node& n, const Value& a, const Value& b) {
    const auto* ai = std::get_if<std::int64_t>(&a.v);
    const auto* bi = std::get_if<std::int64_t>(&b.v);
    if (ai && bi) return integer_arithmetic(n, *ai, *bi);
    if (is_numeric(a) && is_numeric(b) && n.op != Op::mod) {
      return number_arithmetic(n, as_double(a), as_double(b));
    }
    const auto* at = std::get_if<Timestamp>(&a.v);
    const auto* bt = std::get_if<Timestamp>(&b.v);
    const auto* ad = std::get_if<Duration>(&a.v);
    const auto* bd = std::get_if<Duration>(&b.v);
    if (n.op == Op::add) {
      if (const auto* as = std::get_if<std::string>(&a.v)) {
        if (const auto* bs = std::get_if<std::string>(&b.v)) return ok(Value{*as + *bs});
      }
      if (const auto* al = std::get_if<List>(&a.v)) {
        if (const auto* bl = std::get_if<List>(&b.v)) {
          List out = *al;
          out.insert(out.end(), bl->begin(), bl->end());
          return ok(Value{std::move(out)});
        }
      }
      if (at && bd) return shift(n, *at, *bd, true);
      if (ad && bt) return shift(n, *bt, *ad, true);
    }
    if (n.op == Op::sub) {
      if (at && bd) return shift(n, *at, *bd, false);
      if (at && bt) {
        std::int64_t ms = 0;
        if (__builtin_sub_overflow(at->time_since_epoch().count(), bt->time_since_epoch().count(),
                                   &ms) ||
            ms < -kMaxDurationMillis || ms > kMaxDurationMillis) {
          return fail(n, "duration out of range");
        }
        // Elapsed wall-clock time, so it carries no calendar days.
        return ok(Value{Duration{0, Millis(ms)}});
      }
    }
    if ((n.op == Op::add || n.op == Op::sub) && ad && bd) {
      if (!duration_in_range(*ad) || !duration_in_range(*bd)) {
        return fail(n, "duration out of range");
      }
      const std::int64_t sign = n.op == Op::add ? 1 : -1;
      const Duration out{ad->days + sign * bd->days, ad->clock + sign * bd->clock};
      if (!duration_in_range(out)) return fail(n, "duration out of range");
      return ok(Value{out});
    }
    return cannot_apply(n, a, b);
  }

  EvalResult ternary(const Node& n) {
    EvalResult condition = visit(n.children[0]);
    if (!condition.ok()) return condition;
    const auto* b = std::get_if<bool>(&condition.value->v);
    if (b == nullptr) {
      return fail(n, "condition of '?:' must be bool, not " + kind_name(*condition.value));
    }
    return visit(n.children[*b ? 1 : 2]);
  }

  const EvalContext& ctx_;
};

}  // namespace

EvalResult evaluate(const Node& root, const EvalContext& ctx) { return Evaluator(ctx).visit(root); }

bool is_true(const EvalResult& result) {
  if (!result.ok()) return false;
  const auto* b = std::get_if<bool>(&result.value->v);
  return b != nullptr && *b;
}

}  // namespace ombud::expr
