// A YAML document as a plain tree with source positions, built from yaml-cpp's event stream.
//
// yaml-cpp's own Node API silently keeps the last of two duplicate keys and loses the position of
// keys, so the loaders read this tree instead: every node knows its 1-based line:column, scalars
// remember whether they were quoted, duplicate keys are reported, aliases are expanded (with a
// bound on the expanded size), and parse errors become diagnostics instead of exceptions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/diagnostics.h"

namespace ombud::yaml {

struct Node {
  enum class Kind { null, scalar, sequence, map };

  // Declared so that clang accepts default construction of this self-referential aggregate.
  Node() = default;

  Kind kind = Kind::null;
  std::string value;    // scalars only
  bool quoted = false;  // 'x', "x", | and > scalars: always strings, never null/bool/number
  SourcePos pos;
  std::vector<Node> items;                     // sequences
  std::vector<std::pair<Node, Node>> entries;  // maps, in file order, keys unique

  bool is_null() const { return kind == Kind::null; }
  bool is_scalar() const { return kind == Kind::scalar; }
  bool is_sequence() const { return kind == Kind::sequence; }
  bool is_map() const { return kind == Kind::map; }

  // The value under a scalar key, or null when absent (maps only).
  const Node* find(std::string_view key) const;

  // "a map", "a list", "a string", "nothing" — for messages such as "expected a list, got a map".
  std::string_view describe() const;
};

struct Document {
  std::string file;
  std::string text;  // the source, kept for locating positions inside scalars
  Node root;
  bool ok = false;        // no problem of any kind was reported while parsing
  bool complete = false;  // false after a syntax error: the tree is then only a prefix
};

// Parses one YAML document. Syntax errors, duplicate keys, non-scalar keys, more than one
// document and documents whose aliases expand beyond a size limit are reported into `diags`
// with file:line:col. Never throws.
Document parse(std::string file, std::string text, Diagnostics& diags);

// The position of the character at byte `offset` of a scalar's value, when the scalar sits on
// one line and its text appears verbatim in the source (plain, or quoted without escapes);
// otherwise the scalar's own position. Lets expression errors point inside the expression.
SourcePos position_in_scalar(const Document& doc, const Node& scalar, std::size_t offset);

}  // namespace ombud::yaml
