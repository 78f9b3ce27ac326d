// The parser's limits. parse() itself is declared in engine/expr/expression.h.
//
// Grammar (CEL precedence, loosest first):
//
//   expr    := or ['?' expr ':' expr]
//   or      := and {'||' and}
//   and     := rel {'&&' rel}
//   rel     := add {('<' | '<=' | '>' | '>=' | '==' | '!=' | 'in') add}
//   add     := mul {('+' | '-') mul}
//   mul     := unary {('*' | '/' | '%') unary}
//   unary   := ('!' | '-') unary | postfix
//   postfix := primary {'.' IDENT ['(' args ')'] | '[' expr ']'}
//   primary := literal | IDENT ['(' args ')'] | '(' expr ')' | '[' [args] ']'
//   args    := expr {',' expr} [',']
//
// Binary operators associate to the left, `?:` to the right.
#pragma once

#include <cstddef>

namespace ombud::expr {

// Longer text is rejected before it is read.
inline constexpr std::size_t kMaxExpressionLength = 8 * 1024;

// The nesting depth of an expression is the height of its syntax tree, where a parenthesised
// expression counts one level more than its contents. A left-associated chain such as
// `a + b + c` nests once per operator. Deeper expressions are rejected, which bounds the stack
// used by the parser, the checker and the evaluator.
inline constexpr int kMaxNestingDepth = 64;

}  // namespace ombud::expr
