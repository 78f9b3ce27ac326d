// The syntax tree of an expression, as built by parse() and read by check() and evaluate().
//
// A tree is immutable once built and owns all its nodes; it does not refer back to the source
// text. Trees made by parse() are at most kMaxNestingDepth levels deep (engine/expr/parser.h), so
// the recursive walks over them in the checker and the evaluator have a bounded stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/expr/expression.h"

namespace ombud::expr {

enum class NodeKind : std::uint8_t {
  literal,  // `literal` holds the value (null, bool, int, number or string)
  list,     // `[a, b]`: children are the elements
  ident,    // `data`, `event`, `instance`, `now` (or an unknown name, which check() rejects)
  select,   // `x.name`: children[0] is x
  index,    // `x[i]`: children[0] is x, children[1] is i
  call,     // `name(args...)`: children are the arguments
  method,   // `x.name(args...)`: children[0] is the receiver, then the arguments
  unary,    // `op x`
  binary,   // `x op y`
  ternary,  // `c ? a : b`: children are c, a, b
};

enum class Op : std::uint8_t {
  none,
  logical_not,  // !
  negate,       // unary -
  mul,
  div,
  mod,
  add,
  sub,
  lt,
  le,
  gt,
  ge,
  eq,
  ne,
  in,
  logical_and,
  logical_or,
};

// How the operator is written: "+", "&&", "in", ... ("" for Op::none).
std::string_view op_symbol(Op op);

struct Node {
  NodeKind kind = NodeKind::literal;
  Op op = Op::none;  // unary and binary nodes
  // The token that names the node, which is where errors about it point: the operator for
  // unary/binary nodes, `?` for a ternary, `[` for an index or list, the name for ident, select,
  // call and method nodes, the whole literal for literals.
  std::size_t offset = 0;
  std::size_t length = 0;
  std::string name;  // ident, select, call, method
  Value literal;     // literal
  std::vector<Node> children;
};

}  // namespace ombud::expr
