// Splits expression text into tokens.
//
// Tokens: identifiers `[A-Za-z_][A-Za-z0-9_]*` (with the keywords true, false, null and in),
// integers (decimal digits), numbers (`1.5`, `1e3`, `2.5E-2`: digits on both sides of the point),
// strings in single or double quotes, and the punctuation of the grammar. Whitespace (space, tab,
// CR, LF) separates tokens. Strings may not span lines; their escapes are \\ \' \" \n \r \t and
// \uXXXX (a Unicode scalar value, stored as UTF-8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/expr/expression.h"

namespace ombud::expr {

enum class TokenKind : std::uint8_t {
  end,  // after the last token; offset is the text's size, length 0
  identifier,
  integer,
  number,
  string,
  kw_true,
  kw_false,
  kw_null,
  kw_in,
  lparen,
  rparen,
  lbracket,
  rbracket,
  dot,
  comma,
  question,
  colon,
  bang,
  minus,
  plus,
  star,
  slash,
  percent,
  lt,
  le,
  gt,
  ge,
  eq,
  ne,
  logical_and,
  logical_or,
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::size_t offset = 0;
  std::size_t length = 0;
  std::string text;           // identifier: the name; string: the decoded contents
  std::uint64_t integer = 0;  // integer: the value (may exceed INT64_MAX; the parser decides)
  double number = 0;          // number: the value (always finite)
};

struct LexResult {
  std::vector<Token> tokens;   // ends with a TokenKind::end token when there is no error
  std::optional<Error> error;  // the first lexical error; tokens are then incomplete
};

LexResult lex(std::string_view text);

}  // namespace ombud::expr
