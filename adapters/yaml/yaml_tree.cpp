#include "adapters/yaml/yaml_tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <cstdio>
#include <map>
#include <optional>
#include <sstream>

namespace ombud::yaml {

namespace {

// Expanded aliases can blow a small file up exponentially ("billion laughs"); no workflow or
// config needs anywhere near this many nodes.
constexpr std::size_t kMaxNodes = 200'000;

SourcePos to_pos(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

std::string_view strip(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Builds the tree from yaml-cpp's events. A container is open while its children arrive; maps
// collect alternating key and value nodes.
class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(std::string_view file, Diagnostics& diags) : file_(file), diags_(diags) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Node n;
    n.kind = Node::Kind::null;
    n.pos = to_pos(mark);
    finish(std::move(n), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      diags_.error(file_, to_pos(mark), "unknown alias");
      Node n;
      n.pos = to_pos(mark);
      finish(std::move(n), 0);
      return;
    }
    const std::size_t size = count(it->second);
    if (nodes_ + size > kMaxNodes) {
      if (!too_large_) {
        diags_.error(file_, to_pos(mark), "document too large after expanding aliases");
        too_large_ = true;
      }
      Node n;
      n.pos = to_pos(mark);
      finish(std::move(n), 0);
      return;
    }
    nodes_ += size;
    finish(Node(it->second), 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Node n;
    n.kind = Node::Kind::scalar;
    n.value = value;
    n.quoted = tag == "!";
    n.pos = to_pos(mark);
    ++nodes_;
    finish(std::move(n), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(Node::Kind::sequence, mark, anchor);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(Node::Kind::map, mark, anchor);
  }
  void OnMapEnd() override { close(); }

  bool has_root() const { return has_root_; }
  Node take_root() { return std::move(root_); }

 private:
  struct Open {
    Node node;
    YAML::anchor_t anchor = 0;
    std::vector<Node> pending_keys;  // maps: the key waiting for its value (0 or 1 entries)
  };

  void open(Node::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    Open o;
    o.node.kind = kind;
    o.node.pos = to_pos(mark);
    o.anchor = anchor;
    ++nodes_;
    stack_.push_back(std::move(o));
  }

  void close() {
    Open o = std::move(stack_.back());
    stack_.pop_back();
    finish(std::move(o.node), o.anchor);
  }

  void finish(Node n, YAML::anchor_t anchor) {
    if (anchor != 0) anchors_[anchor] = n;
    if (stack_.empty()) {
      if (!has_root_) {
        root_ = std::move(n);
        has_root_ = true;
      }
      return;
    }
    Open& parent = stack_.back();
    if (parent.node.kind == Node::Kind::sequence) {
      parent.node.items.push_back(std::move(n));
      return;
    }
    if (parent.pending_keys.empty()) {
      parent.pending_keys.push_back(std::move(n));
      return;
    }
    Node key = std::move(parent.pending_keys.back());
    parent.pending_keys.clear();
    add_entry(parent.node, std::move(key), std::move(n));
  }

  void add_entry(Node& map, Node key, Node value) {
    if (!key.is_scalar()) {
      diags_.error(file_, key.pos,
                   "map keys must be plain names, not " + std::string(key.describe()));
      return;
    }
    for (const auto& [existing, _] : map.entries) {
      if (existing.value == key.value) {
        diags_.error(file_, key.pos,
                     "duplicate key '" + key.value + "' (first defined at line " +
                         std::to_string(existing.pos.line) + ")");
        return;
      }
    }
    map.entries.emplace_back(std::move(key), std::move(value));
  }

  static std::size_t count(const Node& n) {
    std::size_t total = 1;
    for (const auto& item : n.items) total += count(item);
    for (const auto& [k, v] : n.entries) total += count(k) + count(v);
    return total;
  }

  std::string_view file_;
  Diagnostics& diags_;
  std::vector<Open> stack_;
  std::map<YAML::anchor_t, Node> anchors_;
  Node root_;
  bool has_root_ = false;
  std::size_t nodes_ = 0;
  bool too_large_ = false;
};

}  // namespace

const Node* Node::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k.value == key) return &v;
  }
  return nullptr;
}

std::string_view Node::describe() const {
  switch (kind) {
    case Kind::null:
      return "nothing";
    case Kind::scalar:
      return "a value";
    case Kind::sequence:
      return "a list";
    case Kind::map:
      return "a map";
  }
  return "a value";
}

namespace {

// The length of the UTF-8 sequence starting at text[i], or 0 when none starts there (a stray
// or truncated continuation, an overlong form, a surrogate, past U+10FFFF) or it is a NUL.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto at = [&](std::size_t k) -> unsigned {
    return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0U;
  };
  const auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return at(k) >= lo && at(k) <= hi;
  };
  const unsigned c = at(0);
  if (c == 0) return 0;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// YAML files are UTF-8 (every name, message and value ombud keeps and serves as JSON is). Reports
// the first byte that is not, at its line and column (in characters), and returns false.
bool check_utf8(const std::string& file, std::string_view text, Diagnostics& diags) {
  SourcePos pos{1, 1};
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence(text, i);
    if (n == 0) {
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(text[i]));
      diags.error(file, pos,
                  text[i] == '\0'
                      ? std::string("a NUL byte; a YAML file is UTF-8 text")
                      : std::string("byte ") + byte + " is not UTF-8; save the file as UTF-8");
      return false;
    }
    if (text[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
    i += n;
  }
  return true;
}

// A tab in the leading whitespace of the line yaml-cpp stopped at (`line`, 0-based): it stops
// on the tab's own line. Only there: elsewhere such a tab may be text inside a block scalar.
std::optional<SourcePos> indentation_tab(std::string_view text, int line) {
  SourcePos pos{1, 1};
  bool leading = true;
  for (char c : text) {
    if (pos.line > line + 1) break;
    if (c == '\n') {
      ++pos.line;
      pos.column = 1;
      leading = true;
      continue;
    }
    if (leading && c == '\t' && pos.line == line + 1) return pos;
    if (c != ' ') leading = false;
    ++pos.column;
  }
  return std::nullopt;
}

}  // namespace

Document parse(std::string file, std::string text, Diagnostics& diags) {
  Document doc;
  doc.file = std::move(file);
  doc.text = std::move(text);
  if (!check_utf8(doc.file, doc.text, diags)) return doc;  // not complete
  std::istringstream in(doc.text);
  TreeBuilder builder(doc.file, diags);
  const std::size_t errors_before = diags.error_count();
  try {
    YAML::Parser parser(in);
    if (parser.HandleNextDocument(builder)) {
      TreeBuilder extra(doc.file, diags);
      if (parser.HandleNextDocument(extra) && extra.has_root()) {
        Node second = extra.take_root();
        diags.error(doc.file, second.pos,
                    "expected a single YAML document; found another one here");
      }
    }
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports a tab in the indentation as whatever it expected next ("end of map not
    // found"); the tab itself is what an admin has to find.
    if (auto tab = indentation_tab(doc.text, e.mark.line)) {
      diags.error(doc.file, *tab, "a tab in the indentation; YAML indents with spaces only");
      return doc;
    }
    // e.msg is yaml-cpp's message without its own position prefix.
    diags.error(doc.file, to_pos(e.mark), "YAML syntax error: " + e.msg);
    return doc;
  } catch (const std::exception& e) {
    diags.error(doc.file, {}, std::string("could not read YAML: ") + e.what());
    return doc;
  }
  if (builder.has_root()) doc.root = builder.take_root();
  doc.complete = true;
  doc.ok = diags.error_count() == errors_before;
  return doc;
}

SourcePos position_in_scalar(const Document& doc, const Node& scalar, std::size_t offset) {
  if (scalar.pos.line <= 0 || scalar.value.find('\n') != std::string::npos) return scalar.pos;
  // Find the scalar's source line.
  std::size_t line_start = 0;
  for (int line = 1; line < scalar.pos.line; ++line) {
    line_start = doc.text.find('\n', line_start);
    if (line_start == std::string::npos) return scalar.pos;
    ++line_start;
  }
  std::size_t line_end = doc.text.find('\n', line_start);
  if (line_end == std::string::npos) line_end = doc.text.size();
  const std::string_view line(doc.text.data() + line_start, line_end - line_start);
  const auto from = static_cast<std::size_t>(scalar.pos.column - 1);
  if (from > line.size()) return scalar.pos;
  const std::string_view value = strip(scalar.value);
  if (value.empty()) return scalar.pos;
  const std::size_t at = line.find(value, from);
  // Only trust a match right where the scalar starts (allowing for an opening quote).
  if (at == std::string_view::npos || at > from + 1) return scalar.pos;
  const auto leading_ws = static_cast<std::size_t>(value.data() - scalar.value.data());
  const std::size_t in_value = offset >= leading_ws ? offset - leading_ws : 0;
  return {scalar.pos.line, static_cast<int>(at + in_value) + 1};
}

}  // namespace ombud::yaml
