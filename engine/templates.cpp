#include "engine/templates.h"

#include "engine/expr/expression.h"
#include "engine/time.h"

namespace ombud {

namespace {

// The end of the placeholder whose `${` is at `open`: the offset of its closing `}` (braces and
// quotes inside the expression are skipped over), or npos when it never closes.
std::size_t placeholder_end(std::string_view text, std::size_t open) {
  int depth = 0;
  char quote = 0;
  for (std::size_t i = open + 2; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (depth == 0) return i;
      --depth;
    }
  }
  return std::string_view::npos;
}

// Calls `literal(text)` for the text between placeholders and `placeholder(expression, offset)`
// for each placeholder. Returns npos, or the offset of a `${` that is never closed (after the
// text before it).
template <class Literal, class Placeholder>
std::size_t scan(std::string_view text, Literal literal, Placeholder placeholder) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find("${", i);
    if (open == std::string_view::npos) break;
    literal(text.substr(i, open - i));
    const std::size_t close = placeholder_end(text, open);
    if (close == std::string_view::npos) return open;
    placeholder(text.substr(open + 2, close - open - 2), open);
    i = close + 1;
  }
  if (i < text.size()) literal(text.substr(i));
  return std::string_view::npos;
}

std::string render(std::string_view text, const expr::EvalContext& ctx) {
  std::string out;
  out.reserve(text.size());
  const std::size_t unclosed = scan(
      text, [&](std::string_view literal) { out += literal; },
      [&](std::string_view expression, std::size_t) {
        const expr::ParseResult parsed = expr::parse(expression);
        if (!parsed.root) {
          out += "<error: " + parsed.errors.front().message + ">";
          return;
        }
        const expr::EvalResult r = expr::evaluate(*parsed.root, ctx);
        out += r.ok() ? r.value->to_string() : "<error: " + r.error.message + ">";
      });
  if (unclosed != std::string_view::npos) out += "<error: unterminated ${>";
  return out;
}

}  // namespace

boost::json::object instance_fields(const Instance& in) {
  return {{"id", in.id},
          {"state", in.state},
          {"workflow", in.workflow},
          {"version", in.version},
          {"key", in.key},
          {"assignee", in.assignee},
          {"priority", priority_name(in.priority)},
          {"created_at", format_timestamp(in.created_at)}};
}

std::vector<PlaceholderProblem> placeholder_problems(std::string_view text) {
  std::vector<PlaceholderProblem> out;
  const std::size_t unclosed = scan(
      text, [](std::string_view) {},
      [&](std::string_view expression, std::size_t offset) {
        const expr::ParseResult parsed = expr::parse(expression);
        if (!parsed.root) {
          out.push_back({offset + 2 + parsed.errors.front().offset,
                         "placeholder '${" + std::string(expression) +
                             "}': " + parsed.errors.front().message});
        }
      });
  if (unclosed != std::string_view::npos) {
    out.push_back({unclosed, "a placeholder '${' is never closed with '}'"});
  }
  return out;
}

void render_notification(const Config& config, Notification& n, const Instance& instance,
                         const Schema* data_schema, Timestamp now) {
  const NotificationTemplate* t =
      n.template_name.empty() ? nullptr : config.find_template(n.template_name);
  if (t == nullptr) {
    n.subject = instance.workflow + " " + instance.id + ": " + instance.state;
    n.body = "Case " + instance.id + " of workflow " + instance.workflow + " is in state " +
             instance.state + " (priority " + std::string(priority_name(instance.priority)) +
             (instance.assignee.empty() ? "" : ", assigned to " + instance.assignee) + ").";
    return;
  }
  const boost::json::object fields = instance_fields(instance);
  expr::EvalContext ctx;
  ctx.data = &instance.data;
  ctx.data_schema = data_schema;
  ctx.instance = &fields;
  ctx.now = now;
  n.subject = render(t->subject, ctx);
  n.body = render(t->body, ctx);
}

}  // namespace ombud
