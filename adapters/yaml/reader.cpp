#include "adapters/yaml/reader.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace ombud::yaml {

namespace {

std::string quoted_list(std::span<const std::string_view> names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

bool is_name(std::string_view s) {
  if (s.empty() || s.front() < 'a' || s.front() > 'z') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool is_null_spelling(std::string_view s) {
  return s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || begin == end) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

bool Reader::expect_map(const Node& node, std::string_view what) {
  if (node.is_map()) return true;
  error(node, std::string(what) + " must be a map, got " + std::string(node.describe()));
  return false;
}

bool Reader::expect_sequence(const Node& node, std::string_view what) {
  if (node.is_sequence()) return true;
  error(node, std::string(what) + " must be a list, got " + std::string(node.describe()));
  return false;
}

void Reader::check_keys(const Node& map, std::span<const std::string_view> allowed,
                        std::string_view what) {
  std::vector<std::string> candidates(allowed.begin(), allowed.end());
  for (const auto& [key, value] : map.entries) {
    bool known = false;
    for (auto a : allowed) known = known || key.value == a;
    if (known) continue;
    std::string hint = did_you_mean(key.value, candidates);
    if (hint.empty()) hint = " (expected one of: " + quoted_list(allowed) + ")";
    error(key, "unknown key '" + key.value + "' in " + std::string(what) + hint);
  }
}

const Node* Reader::require(const Node& map, std::string_view key, std::string_view what) {
  const Node* n = map.find(key);
  if (n == nullptr)
    error(map, std::string(what) + " is missing required key '" + std::string(key) + "'");
  return n;
}

std::optional<std::string> Reader::string(const Node& node, std::string_view what) {
  if (node.is_scalar()) return node.value;
  error(node, std::string(what) + " must be a string, got " + std::string(node.describe()));
  return std::nullopt;
}

std::optional<std::int64_t> Reader::integer(const Node& node, std::string_view what) {
  if (node.is_scalar() && !node.quoted) {
    if (auto v = parse_int(node.value)) return v;
  }
  error(node, std::string(what) + " must be a whole number" +
                  (node.is_scalar() ? ", got '" + node.value + "'"
                                    : ", got " + std::string(node.describe())));
  return std::nullopt;
}

std::optional<double> Reader::number(const Node& node, std::string_view what) {
  if (node.is_scalar() && !node.quoted) {
    if (auto v = parse_double(node.value)) return v;
  }
  error(node, std::string(what) + " must be a number" +
                  (node.is_scalar() ? ", got '" + node.value + "'"
                                    : ", got " + std::string(node.describe())));
  return std::nullopt;
}

std::optional<bool> Reader::boolean(const Node& node, std::string_view what) {
  if (node.is_scalar() && !node.quoted) {
    if (node.value == "true") return true;
    if (node.value == "false") return false;
  }
  if (node.is_scalar() && node.quoted && (node.value == "true" || node.value == "false")) {
    error(node, std::string(what) + " must be true or false without quotes: quoted, \"" +
                    node.value + "\" is text");
    return std::nullopt;
  }
  error(node, std::string(what) + " must be true or false" +
                  (node.is_scalar() ? ", got '" + node.value + "'"
                                    : ", got " + std::string(node.describe())));
  return std::nullopt;
}

std::optional<Duration> Reader::duration(const Node& node, std::string_view what) {
  if (node.is_scalar()) {
    if (auto d = parse_duration(node.value)) return d;
    error(node, std::string(what) + ": '" + node.value +
                    "' is not a duration (use 30s, 15m, 4h, 2d, 1w or combinations such as 1d4h)");
    return std::nullopt;
  }
  error(node, std::string(what) + " must be a duration, got " + std::string(node.describe()));
  return std::nullopt;
}

std::optional<std::string> Reader::name(const Node& node, std::string_view what) {
  auto s = string(node, what);
  if (!s) return std::nullopt;
  if (!is_name(*s)) {
    error(node,
          std::string(what) + " '" + *s +
              "' is not a valid name (lower-case letters, digits and '_', starting with a letter)");
    return std::nullopt;
  }
  return s;
}

std::vector<std::string> Reader::string_list(const Node& node, std::string_view what,
                                             std::vector<SourcePos>* positions) {
  std::vector<std::string> out;
  if (!expect_sequence(node, what)) return out;
  for (const auto& item : node.items) {
    if (auto s = string(item, std::string(what) + " entries")) {
      out.push_back(*s);
      if (positions != nullptr) positions->push_back(item.pos);
    }
  }
  return out;
}

bool Reader::is_expression(const Node& node) {
  if (!node.is_scalar()) return false;
  std::string_view v = node.value;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\n'))
    v.remove_suffix(1);
  return v.size() >= 3 && v.substr(0, 2) == "${" && v.back() == '}';
}

std::optional<Expr> Reader::expression(const Node& node, bool bare, std::string_view what) {
  if (!node.is_scalar()) {
    error(node, std::string(what) + " must be an expression, got " + std::string(node.describe()));
    return std::nullopt;
  }
  std::size_t begin = 0;
  std::size_t end = node.value.size();
  if (is_expression(node)) {
    begin = node.value.find("${") + 2;
    end = node.value.rfind('}');
  } else if (!bare) {
    error(node, std::string(what) + " must be an expression written as ${ ... }");
    return std::nullopt;
  }
  // Skip the blanks after `${` so that `origin` is the first character of the expression.
  while (begin < end && (node.value[begin] == ' ' || node.value[begin] == '\t')) ++begin;
  while (end > begin && (node.value[end - 1] == ' ' || node.value[end - 1] == '\t' ||
                         node.value[end - 1] == '\n')) {
    --end;
  }
  Expr e;
  e.text = node.value.substr(begin, end - begin);
  e.origin = position_in_scalar(doc_, node, begin);
  e.exact_origin = e.origin != node.pos || node.value.find('\n') == std::string::npos;
  if (e.text.empty()) {
    error(node, std::string(what) + " is an empty expression");
    return std::nullopt;
  }
  expr::ParseResult parsed = expr::parse(e.text);
  for (const auto& err : parsed.errors) error(e.pos_at(err.offset), err.message);
  if (parsed.errors.empty()) e.ast = std::move(parsed.root);
  return e;
}

boost::json::value Reader::scalar_to_json(const Node& node) {
  if (node.is_null()) return nullptr;
  if (!node.is_scalar()) return nullptr;
  // Not a braced list: boost::json::value{x} would build a one-element array.
  if (node.quoted)
    return boost::json::value(node.value);  // NOLINT(modernize-return-braced-init-list)
  const std::string& s = node.value;
  if (is_null_spelling(s)) return nullptr;
  if (s == "true") return true;
  if (s == "false") return false;
  if (auto i = parse_int(s)) return *i;
  if (auto d = parse_double(s)) return *d;
  return boost::json::value(s);  // NOLINT(modernize-return-braced-init-list)
}

std::optional<ValueSpec> Reader::value(const Node& node) {
  ValueSpec spec;
  spec.pos = node.pos;
  switch (node.kind) {
    case Node::Kind::null:
      spec.kind = ValueSpec::Kind::literal;
      spec.literal = nullptr;
      return spec;
    case Node::Kind::scalar:
      if (is_expression(node)) {
        auto e = expression(node, false, "value");
        if (!e || !e->ast) return std::nullopt;
        spec.kind = ValueSpec::Kind::expression;
        spec.expression = std::move(e);
        return spec;
      }
      if (const auto open = node.value.find("${"); open != std::string::npos) {
        // Text around `${ … }` (or an unclosed one) would be kept as written, braces and all:
        // never what was meant.
        const bool closed = node.value.find('}', open) != std::string::npos;
        error(position_in_scalar(doc_, node, open),
              closed ? "a value is plain text or one ${ … } expression, not text around one: "
                       "join them inside it, e.g. ${ 'Reason: ' + event.reason }"
                     : "this ${ is not closed with }; text that holds ${ itself is a string "
                       "inside an expression: ${ 'code ${A7' }");
        return std::nullopt;
      }
      spec.kind = ValueSpec::Kind::literal;
      spec.literal = scalar_to_json(node);
      return spec;
    case Node::Kind::sequence: {
      spec.kind = ValueSpec::Kind::array;
      bool ok = true;
      for (const auto& item : node.items) {
        auto v = value(item);
        if (v) spec.array.push_back(std::move(*v));
        ok = ok && v.has_value();
      }
      if (!ok) return std::nullopt;
      return spec;
    }
    case Node::Kind::map: {
      spec.kind = ValueSpec::Kind::object;
      bool ok = true;
      for (const auto& [k, v] : node.entries) {
        auto inner = value(v);
        if (inner) spec.object.emplace_back(k.value, std::move(*inner));
        ok = ok && inner.has_value();
      }
      if (!ok) return std::nullopt;
      return spec;
    }
  }
  return std::nullopt;
}

}  // namespace ombud::yaml
