#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "engine/expr/ast.h"
#include "engine/expr/expression.h"
#include "engine/expr/lexer.h"
#include "engine/expr/parser.h"

namespace ombud::expr {
namespace {

// The tree as an S-expression, so that a test states the expected shape in one line.
std::string sexpr(const Node& n) {
  const auto children_from = [&](std::size_t first) {
    std::string out;
    for (std::size_t i = first; i < n.children.size(); ++i) out += " " + sexpr(n.children[i]);
    return out;
  };
  switch (n.kind) {
    case NodeKind::literal:
      if (const auto* s = std::get_if<std::string>(&n.literal.v)) return "'" + *s + "'";
      return n.literal.to_string();
    case NodeKind::list: {
      const std::string inner = children_from(0);
      return "[" + (inner.empty() ? inner : inner.substr(1)) + "]";
    }
    case NodeKind::ident:
      return n.name;
    case NodeKind::select:
      return "(. " + sexpr(n.children[0]) + " " + n.name + ")";
    case NodeKind::index:
      return "([]" + children_from(0) + ")";
    case NodeKind::call:
      return "(" + n.name + children_from(0) + ")";
    case NodeKind::method:
      return "(." + n.name + children_from(0) + ")";
    case NodeKind::unary:
    case NodeKind::binary:
      return "(" + std::string(op_symbol(n.op)) + children_from(0) + ")";
    case NodeKind::ternary:
      return "(?:" + children_from(0) + ")";
  }
  return "?";
}

std::string tree(std::string_view text) {
  const ParseResult r = parse(text);
  if (!r.errors.empty()) return "error: " + r.errors[0].message;
  return sexpr(*r.root);
}

// The single syntax error of `text`.
Error syntax_error(std::string_view text) {
  const ParseResult r = parse(text);
  EXPECT_EQ(r.root, nullptr);
  EXPECT_EQ(r.errors.size(), 1u);
  return r.errors.empty() ? Error{} : r.errors[0];
}

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// ---- Precedence and shape ---------------------------------------------------------------------

TEST(Parser, MultiplicationBindsTighterThanAddition) {
  EXPECT_EQ(tree("1 + 2 * 3"), "(+ 1 (* 2 3))");
  EXPECT_EQ(tree("1 * 2 + 3"), "(+ (* 1 2) 3)");
  EXPECT_EQ(tree("7 % 2 - 8 / 4"), "(- (% 7 2) (/ 8 4))");
}

TEST(Parser, BinaryOperatorsAssociateLeft) {
  EXPECT_EQ(tree("1 - 2 - 3"), "(- (- 1 2) 3)");
  EXPECT_EQ(tree("8 / 4 / 2"), "(/ (/ 8 4) 2)");
  EXPECT_EQ(tree("a || b || c"), "(|| (|| a b) c)");
}

TEST(Parser, FollowsTheCelPrecedenceLadder) {
  EXPECT_EQ(tree("a || b && c == d + e * -f.g"), "(|| a (&& b (== c (+ d (* e (- (. f g)))))))");
  EXPECT_EQ(tree("!a && b"), "(&& (! a) b)");
  EXPECT_EQ(tree("a < b == c"), "(== (< a b) c)");
  EXPECT_EQ(tree("a ? b || c : d && e"), "(?: a (|| b c) (&& d e))");
}

TEST(Parser, InHasRelationPrecedence) {
  EXPECT_EQ(tree("1 + 1 in [2] && true"), "(&& (in (+ 1 1) [2]) true)");
  EXPECT_EQ(tree("data.channel in ['phone', 'visit']"), "(in (. data channel) ['phone' 'visit'])");
}

TEST(Parser, TernaryIsRightAssociative) {
  EXPECT_EQ(tree("a ? b : c ? d : e"), "(?: a b (?: c d e))");
  EXPECT_EQ(tree("a ? b ? c : d : e"), "(?: a (?: b c d) e)");
}

TEST(Parser, ParenthesesOverridePrecedence) {
  EXPECT_EQ(tree("(1 + 2) * 3"), "(* (+ 1 2) 3)");
  EXPECT_EQ(tree("!(a && b)"), "(! (&& a b))");
}

TEST(Parser, UnaryOperatorsNest) {
  EXPECT_EQ(tree("!!true"), "(! (! true))");
  EXPECT_EQ(tree("--1"), "(- (- 1))");
  EXPECT_EQ(tree("-data.score"), "(- (. data score))");
}

TEST(Parser, ChainsMembersIndexesAndMethodCalls) {
  EXPECT_EQ(tree("data.tags[0].startsWith('x')"), "(.startsWith ([] (. data tags) 0) 'x')");
  EXPECT_EQ(tree("data.obj.inner['k']"), "([] (. (. data obj) inner) 'k')");
  EXPECT_EQ(tree("data.phone.size()"), "(.size (. data phone))");
}

TEST(Parser, ParsesFunctionCalls) {
  EXPECT_EQ(tree("min(1, 2)"), "(min 1 2)");
  EXPECT_EQ(tree("has(data.score)"), "(has (. data score))");
  EXPECT_EQ(tree("size([])"), "(size [])");
  EXPECT_EQ(tree("max(1, 2,)"), "(max 1 2)");
  EXPECT_EQ(tree("duration('1d4h')"), "(duration '1d4h')");
}

TEST(Parser, ParsesListLiterals) {
  EXPECT_EQ(tree("[]"), "[]");
  EXPECT_EQ(tree("[1, 'a', [true, null]]"), "[1 'a' [true null]]");
  EXPECT_EQ(tree("[1, 2,]"), "[1 2]");
}

TEST(Parser, RecordsTheNamingTokenOfEachNode) {
  const ParseResult r = parse("data.score >= 3");
  ASSERT_TRUE(r.errors.empty());
  const Node& root = *r.root;
  EXPECT_EQ(root.kind, NodeKind::binary);
  EXPECT_EQ(root.op, Op::ge);
  EXPECT_EQ(root.offset, 11u);
  EXPECT_EQ(root.length, 2u);
  const Node& field = root.children[0];
  EXPECT_EQ(field.kind, NodeKind::select);
  EXPECT_EQ(field.name, "score");
  EXPECT_EQ(field.offset, 5u);
  EXPECT_EQ(field.length, 5u);
  EXPECT_EQ(field.children[0].offset, 0u);
  EXPECT_EQ(field.children[0].length, 4u);
  EXPECT_EQ(root.children[1].offset, 14u);
  EXPECT_EQ(root.children[1].length, 1u);
}

// ---- Literals ---------------------------------------------------------------------------------

TEST(Lexer, ReadsIntegersAndNumbers) {
  const ParseResult r = parse("[007, 1.5, 1e3, 2.5E-2, 0]");
  ASSERT_TRUE(r.errors.empty());
  const auto& items = r.root->children;
  EXPECT_EQ(items[0].literal, Value{std::int64_t{7}});
  EXPECT_EQ(items[1].literal, Value{1.5});
  EXPECT_EQ(items[2].literal, Value{1000.0});
  EXPECT_EQ(items[3].literal, Value{0.025});
  EXPECT_EQ(items[4].literal, Value{std::int64_t{0}});
}

TEST(Lexer, TreatsAPointBeforeALetterAsSelection) { EXPECT_EQ(tree("1.size()"), "(.size 1)"); }

TEST(Lexer, DecodesStringEscapes) {
  const ParseResult r = parse(R"('a\nb\t\'q\' \"d\" \\ \u00e9\u4e2d')");
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.root->literal, Value{std::string("a\nb\t'q' \"d\" \\ \xC3\xA9\xE4\xB8\xAD")});
}

TEST(Lexer, AcceptsBothQuoteStyles) {
  const ParseResult single = parse("'it\"s'");
  const ParseResult dbl = parse("\"it's\"");
  ASSERT_TRUE(single.errors.empty());
  ASSERT_TRUE(dbl.errors.empty());
  EXPECT_EQ(single.root->literal, Value{std::string("it\"s")});
  EXPECT_EQ(dbl.root->literal, Value{std::string("it's")});
}

TEST(Parser, ReadsKeywordLiterals) {
  const ParseResult r = parse("[true, false, null]");
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.root->children[0].literal, Value{true});
  EXPECT_EQ(r.root->children[1].literal, Value{false});
  EXPECT_TRUE(r.root->children[2].literal.is_null());
}

TEST(Parser, FoldsTheMinimumInt64Literal) {
  const ParseResult r = parse("-9223372036854775808");
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.root->kind, NodeKind::literal);
  EXPECT_EQ(r.root->literal, Value{std::numeric_limits<std::int64_t>::min()});
  EXPECT_EQ(r.root->length, 20u);
}

TEST(Parser, RejectsIntegerLiteralsBeyondInt64) {
  const Error e = syntax_error("1 + 9223372036854775808");
  EXPECT_EQ(e.offset, 4u);
  EXPECT_EQ(e.length, 19u);
  EXPECT_EQ(e.message, "integer literal is out of range");
  EXPECT_EQ(syntax_error("99999999999999999999").message, "integer literal is out of range");
}

TEST(Lexer, RejectsNumberLiteralsBeyondDouble) {
  const Error e = syntax_error("x * 1e999");
  EXPECT_EQ(e.offset, 4u);
  EXPECT_EQ(e.length, 5u);
  EXPECT_EQ(e.message, "number literal is out of range");
}

TEST(Lexer, SuggestsTheDurationFunctionForUnquotedDurations) {
  const Error e = syntax_error("now - data.received_at > 3d");
  EXPECT_EQ(e.offset, 25u);
  EXPECT_EQ(e.length, 2u);
  EXPECT_EQ(e.message, "invalid number '3d' (write durations as duration('3d'))");
  EXPECT_EQ(syntax_error("12abc").message, "invalid number '12abc'");
}

// ---- Lexical errors ---------------------------------------------------------------------------

TEST(Lexer, RejectsUnterminatedStringAtItsOpeningQuote) {
  const Error e = syntax_error("data.x == 'abc");
  EXPECT_EQ(e.offset, 10u);
  EXPECT_EQ(e.length, 1u);
  EXPECT_EQ(e.message, "unterminated string");
}

TEST(Lexer, RejectsStringsSpanningLines) {
  const Error e = syntax_error("\"ab\ncd\"");
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.message, "unterminated string");
}

TEST(Lexer, RejectsAStringEndingInABackslash) {
  EXPECT_EQ(syntax_error("'abc\\").message, "unterminated string");
}

TEST(Lexer, RejectsUnknownEscapesAtTheBackslash) {
  const Error e = syntax_error("'ab\\qc'");
  EXPECT_EQ(e.offset, 3u);
  EXPECT_EQ(e.length, 2u);
  EXPECT_EQ(e.message, "invalid escape sequence '\\q'");
}

TEST(Lexer, RejectsMalformedUnicodeEscapes) {
  const Error e = syntax_error("'x\\u12g4'");
  EXPECT_EQ(e.offset, 2u);
  EXPECT_EQ(e.length, 6u);
  EXPECT_EQ(e.message, "invalid \\u escape (expected four hex digits of a Unicode scalar value)");
  EXPECT_EQ(syntax_error("'\\ud800'").offset, 1u);  // a lone surrogate is no scalar value
  EXPECT_EQ(syntax_error("'\\u12").offset, 1u);
}

TEST(Lexer, RejectsUnexpectedCharactersWithHints) {
  Error e = syntax_error("1 # 2");
  EXPECT_EQ(e.offset, 2u);
  EXPECT_EQ(e.length, 1u);
  EXPECT_EQ(e.message, "unexpected character '#'");
  e = syntax_error("a & b");
  EXPECT_EQ(e.offset, 2u);
  EXPECT_EQ(e.message, "unexpected character '&' (did you mean '&&'?)");
  EXPECT_EQ(syntax_error("a | b").message, "unexpected character '|' (did you mean '||'?)");
  EXPECT_EQ(syntax_error("a = b").message, "unexpected character '=' (did you mean '=='?)");
  e = syntax_error("a \x01");
  EXPECT_EQ(e.offset, 2u);
  EXPECT_EQ(e.message, "unexpected byte 0x01");
}

// ---- Syntax errors ----------------------------------------------------------------------------

TEST(Parser, ReportsAnUnexpectedTokenAtItsOffset) {
  const Error e = syntax_error("1 + * 2");
  EXPECT_EQ(e.offset, 4u);
  EXPECT_EQ(e.length, 1u);
  EXPECT_EQ(e.message, "expected an expression, found '*'");
}

TEST(Parser, ReportsAnEmptyExpression) {
  const Error e = syntax_error("   ");
  EXPECT_EQ(e.offset, 3u);
  EXPECT_EQ(e.length, 0u);
  EXPECT_EQ(e.message, "expected an expression, found end of expression");
}

TEST(Parser, ReportsAMissingClosingParenthesisAtTheEnd) {
  const Error e = syntax_error("(1 + 2");
  EXPECT_EQ(e.offset, 6u);
  EXPECT_EQ(e.message, "expected ')', found end of expression");
}

TEST(Parser, ReportsTokensAfterACompleteExpression) {
  const Error e = syntax_error("data.a data.b");
  EXPECT_EQ(e.offset, 7u);
  EXPECT_EQ(e.length, 4u);
  EXPECT_EQ(e.message, "expected an operator or end of expression, found 'data'");
  EXPECT_EQ(syntax_error("1 'x'").message,
            "expected an operator or end of expression, found string 'x'");
}

TEST(Parser, ReportsAMissingFieldNameAfterADot) {
  const Error e = syntax_error("data.(x)");
  EXPECT_EQ(e.offset, 5u);
  EXPECT_EQ(e.message, "expected a field name after '.', found '('");
}

TEST(Parser, ReportsAMissingColonInATernary) {
  const Error e = syntax_error("a ? b c");
  EXPECT_EQ(e.offset, 6u);
  EXPECT_EQ(e.message, "expected ':', found 'c'");
}

TEST(Parser, ReportsABadArgumentSeparator) {
  const Error e = syntax_error("min(1 2)");
  EXPECT_EQ(e.offset, 6u);
  EXPECT_EQ(e.message, "expected ',' or ')', found '2'");
  EXPECT_EQ(syntax_error("[1, 2").message, "expected ',' or ']', found end of expression");
  EXPECT_EQ(syntax_error("data.tags[0").message, "expected ']', found end of expression");
}

// ---- Limits -----------------------------------------------------------------------------------

TEST(Parser, AcceptsNestingUpToTheLimit) {
  static_assert(kMaxNestingDepth == 64);
  EXPECT_TRUE(parse(repeat("(", 63) + "1" + repeat(")", 63)).errors.empty());
  EXPECT_TRUE(parse("1" + repeat(" + 1", 63)).errors.empty());
  EXPECT_TRUE(parse(repeat("!", 63) + "true").errors.empty());
}

TEST(Parser, RejectsParenthesesNestedBeyondTheLimit) {
  const Error e = syntax_error(repeat("(", 64) + "1" + repeat(")", 64));
  EXPECT_EQ(e.offset, 63u);
  EXPECT_EQ(e.length, 1u);
  EXPECT_EQ(e.message, "expression nests too deeply (more than 64 levels)");
}

TEST(Parser, RejectsOperatorChainsBeyondTheLimit) {
  const Error e = syntax_error("1" + repeat(" + 1", 64));
  EXPECT_EQ(e.offset, 1u + 63 * 4 + 1);  // the 64th '+'
  EXPECT_EQ(e.message, "expression nests too deeply (more than 64 levels)");
  EXPECT_EQ(syntax_error(repeat("-", 64) + "1").offset, 63u);
  EXPECT_EQ(syntax_error("x" + repeat(".f", 64)).message,
            "expression nests too deeply (more than 64 levels)");
}

TEST(Parser, SurvivesPathologicalNesting) {
  EXPECT_EQ(syntax_error(repeat("(", 8000)).message,
            "expression nests too deeply (more than 64 levels)");
  EXPECT_EQ(syntax_error(repeat("[", 8000)).message,
            "expression nests too deeply (more than 64 levels)");
  EXPECT_EQ(syntax_error(repeat("!", 8000) + "x").message,
            "expression nests too deeply (more than 64 levels)");
  EXPECT_EQ(syntax_error(repeat("f(", 4000)).message,
            "expression nests too deeply (more than 64 levels)");
}

TEST(Parser, RejectsTextLongerThan8KiB) {
  static_assert(kMaxExpressionLength == 8192);
  EXPECT_TRUE(parse(std::string(8191, ' ') + "1").errors.empty());
  const Error e = syntax_error(std::string(8192, ' ') + "12");
  EXPECT_EQ(e.offset, 8192u);
  EXPECT_EQ(e.length, 2u);
  EXPECT_EQ(e.message, "expression is too long (8194 bytes; the limit is 8192)");
}

}  // namespace
}  // namespace ombud::expr
