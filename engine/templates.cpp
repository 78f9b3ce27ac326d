#include "engine/templates.h"

#include <memory>
#include <shared_mutex>
#include <unordered_map>

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

// A template text cut into literal text and parsed placeholders, once: a complaint start
// notifies, and parsing its template's placeholders again each time cost more than the rest of
// the message.
struct Part {
  std::string text;                               // literal text, or the error a placeholder gives
  std::shared_ptr<const expr::Node> placeholder;  // null: `text` is what to write
};
using Compiled = std::vector<Part>;

Compiled compile(std::string_view text) {
  Compiled out;
  const std::size_t unclosed = scan(
      text,
      [&](std::string_view literal) {
        out.push_back({std::string(literal), nullptr});
      },
      [&](std::string_view expression, std::size_t) {
        expr::ParseResult parsed = expr::parse(expression);
        if (parsed.root) {
          out.push_back({"", std::move(parsed.root)});
        } else {
          out.push_back({"<error: " + parsed.errors.front().message + ">", nullptr});
        }
      });
  if (unclosed != std::string_view::npos) out.push_back({"<error: unterminated ${>", nullptr});
  return out;
}

// Templates are few and live as long as the config: kept by their text, for every thread.
const Compiled& compiled(const std::string& text) {
  static std::shared_mutex mutex;
  static std::unordered_map<std::string, std::unique_ptr<const Compiled>> kept;
  {
    const std::shared_lock lock(mutex);
    if (auto it = kept.find(text); it != kept.end()) return *it->second;
  }
  auto made = std::make_unique<const Compiled>(compile(text));
  const std::unique_lock lock(mutex);
  return *kept.try_emplace(text, std::move(made)).first->second;
}

std::string render(const std::string& text, const expr::EvalContext& ctx) {
  std::string out;
  out.reserve(text.size());
  for (const Part& part : compiled(text)) {
    if (!part.placeholder) {
      out += part.text;
      continue;
    }
    const expr::EvalResult r = expr::evaluate(*part.placeholder, ctx);
    out += r.ok() ? r.value->to_string() : "<error: " + r.error.message + ">";
  }
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
