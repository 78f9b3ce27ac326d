#include "engine/expr/parser.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <utility>

#include "engine/expr/ast.h"
#include "engine/expr/lexer.h"

namespace ombud::expr {

std::string_view op_symbol(Op op) {
  switch (op) {
    case Op::none:
      return "";
    case Op::logical_not:
      return "!";
    case Op::negate:
      return "-";
    case Op::mul:
      return "*";
    case Op::div:
      return "/";
    case Op::mod:
      return "%";
    case Op::add:
      return "+";
    case Op::sub:
      return "-";
    case Op::lt:
      return "<";
    case Op::le:
      return "<=";
    case Op::gt:
      return ">";
    case Op::ge:
      return ">=";
    case Op::eq:
      return "==";
    case Op::ne:
      return "!=";
    case Op::in:
      return "in";
    case Op::logical_and:
      return "&&";
    case Op::logical_or:
      return "||";
  }
  return "";
}

namespace {

constexpr std::uint64_t kMinIntMagnitude =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1;

std::string too_deep_message() {
  return "expression nests too deeply (more than " + std::to_string(kMaxNestingDepth) + " levels)";
}

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens)
      : text_(text), tokens_(std::move(tokens)) {}

  ParseResult run() {
    Parsed root = expr();
    if (!failed() && peek().kind != TokenKind::end) {
      fail_at(peek(), "expected an operator or end of expression, found " + describe(peek()));
    }
    ParseResult out;
    if (failed()) {
      out.errors.push_back(std::move(*error_));
    } else {
      out.root = std::make_shared<const Node>(std::move(root.node));
    }
    return out;
  }

 private:
  struct Parsed {
    Node node;
    int height = 0;  // nesting depth, counting parentheses (see kMaxNestingDepth)
  };

  // Bounds the recursion before any subtree exists to measure: every recursive descent goes
  // through here, and the depth of descent never exceeds the height of the tree being built.
  class Descent {
   public:
    explicit Descent(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxNestingDepth) p_.fail_at(p_.opener(), too_deep_message());
    }
    ~Descent() { --p_.depth_; }
    Descent(const Descent&) = delete;
    Descent& operator=(const Descent&) = delete;

   private:
    Parser& p_;
  };

  const Token& peek() const { return tokens_[pos_]; }
  // The token that opened the level being entered: `(`, `[`, `,` or a unary operator.
  const Token& opener() const { return pos_ > 0 ? tokens_[pos_ - 1] : peek(); }
  bool at(TokenKind kind) const { return !failed() && peek().kind == kind; }
  const Token& take() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool failed() const { return error_.has_value(); }

  void fail_at(const Token& t, std::string message) {
    if (!error_) error_ = Error{t.offset, t.length, std::move(message)};
  }

  std::string describe(const Token& t) const {
    if (t.kind == TokenKind::end) return "end of expression";
    constexpr std::size_t kShown = 24;
    std::string shown(text_.substr(t.offset, std::min(t.length, kShown)));
    if (t.length > kShown) shown += "...";
    if (t.kind == TokenKind::string) return "string " + shown;
    return "'" + shown + "'";
  }

  bool expect(TokenKind kind, std::string_view spelled) {
    if (failed()) return false;
    if (peek().kind != kind) {
      fail_at(peek(), "expected " + std::string(spelled) + ", found " + describe(peek()));
      return false;
    }
    take();
    return true;
  }

  static Node leaf(NodeKind kind, const Token& t) {
    Node n;
    n.kind = kind;
    n.offset = t.offset;
    n.length = t.length;
    return n;
  }

  // A node over `children`, one level above the highest of them.
  Parsed combine(NodeKind kind, Op op, const Token& t, std::vector<Parsed> children) {
    Parsed out{leaf(kind, t), 1};
    out.node.op = op;
    out.node.children.reserve(children.size());
    for (auto& child : children) {
      out.height = std::max(out.height, child.height + 1);
      out.node.children.push_back(std::move(child.node));
    }
    if (out.height > kMaxNestingDepth) fail_at(t, too_deep_message());
    return out;
  }

  Parsed expr() {
    const Descent descent(*this);
    if (failed()) return {};
    Parsed condition = logical_or();
    if (!at(TokenKind::question)) return condition;
    const Token& question = take();
    Parsed then_branch = expr();
    if (!expect(TokenKind::colon, "':'")) return {};
    Parsed else_branch = expr();
    if (failed()) return {};
    std::vector<Parsed> parts;
    parts.push_back(std::move(condition));
    parts.push_back(std::move(then_branch));
    parts.push_back(std::move(else_branch));
    return combine(NodeKind::ternary, Op::none, question, std::move(parts));
  }

  using Level = Parsed (Parser::*)();

  Parsed chain(Level next, std::initializer_list<std::pair<TokenKind, Op>> ops) {
    Parsed left = (this->*next)();
    while (!failed()) {
      const auto match = std::find_if(
          ops.begin(), ops.end(), [&](const auto& entry) { return entry.first == peek().kind; });
      if (match == ops.end()) break;
      const Token& op_token = take();
      Parsed right = (this->*next)();
      if (failed()) break;
      std::vector<Parsed> operands;
      operands.push_back(std::move(left));
      operands.push_back(std::move(right));
      left = combine(NodeKind::binary, match->second, op_token, std::move(operands));
    }
    return left;
  }

  Parsed logical_or() {
    return chain(&Parser::logical_and, {{TokenKind::logical_or, Op::logical_or}});
  }
  Parsed logical_and() {
    return chain(&Parser::relation, {{TokenKind::logical_and, Op::logical_and}});
  }
  Parsed relation() {
    return chain(&Parser::additive, {{TokenKind::lt, Op::lt},
                                     {TokenKind::le, Op::le},
                                     {TokenKind::gt, Op::gt},
                                     {TokenKind::ge, Op::ge},
                                     {TokenKind::eq, Op::eq},
                                     {TokenKind::ne, Op::ne},
                                     {TokenKind::kw_in, Op::in}});
  }
  Parsed additive() {
    return chain(&Parser::multiplicative,
                 {{TokenKind::plus, Op::add}, {TokenKind::minus, Op::sub}});
  }
  Parsed multiplicative() {
    return chain(
        &Parser::unary,
        {{TokenKind::star, Op::mul}, {TokenKind::slash, Op::div}, {TokenKind::percent, Op::mod}});
  }

  Parsed unary() {
    if (!at(TokenKind::bang) && !at(TokenKind::minus)) return postfix(primary());
    const Token& op_token = take();
    // -9223372036854775808 is the only way to write INT64_MIN, and its magnitude alone does not
    // fit an int64, so the sign is folded into the literal.
    if (op_token.kind == TokenKind::minus && at(TokenKind::integer) &&
        peek().integer == kMinIntMagnitude) {
      const Token& digits = take();
      Parsed literal{leaf(NodeKind::literal, op_token), 1};
      literal.node.length = digits.offset + digits.length - op_token.offset;
      literal.node.literal.v = std::numeric_limits<std::int64_t>::min();
      return postfix(std::move(literal));
    }
    const Descent descent(*this);
    Parsed operand = unary();
    if (failed()) return {};
    std::vector<Parsed> operands;
    operands.push_back(std::move(operand));
    const Op op = op_token.kind == TokenKind::bang ? Op::logical_not : Op::negate;
    return combine(NodeKind::unary, op, op_token, std::move(operands));
  }

  Parsed postfix(Parsed target) {
    while (!failed()) {
      if (at(TokenKind::dot)) {
        take();
        if (!at(TokenKind::identifier)) {
          fail_at(peek(), "expected a field name after '.', found " + describe(peek()));
          return {};
        }
        const Token& name = take();
        std::vector<Parsed> parts;
        parts.push_back(std::move(target));
        NodeKind kind = NodeKind::select;
        if (at(TokenKind::lparen)) {
          kind = NodeKind::method;
          take();
          if (!arguments(TokenKind::rparen, "')'", parts)) return {};
        }
        target = combine(kind, Op::none, name, std::move(parts));
        target.node.name = name.text;
      } else if (at(TokenKind::lbracket)) {
        const Token& bracket = take();
        Parsed index = expr();
        if (!expect(TokenKind::rbracket, "']'")) return {};
        std::vector<Parsed> parts;
        parts.push_back(std::move(target));
        parts.push_back(std::move(index));
        target = combine(NodeKind::index, Op::none, bracket, std::move(parts));
      } else {
        break;
      }
    }
    return target;
  }

  // Reads `expr, expr, ...` up to and including `close` (the opening token is already taken).
  bool arguments(TokenKind close, std::string_view close_spelled, std::vector<Parsed>& out) {
    while (!failed()) {
      if (at(close)) {
        take();
        return true;
      }
      out.push_back(expr());
      if (failed()) return false;
      if (at(TokenKind::comma)) {
        take();
      } else if (!at(close)) {
        fail_at(peek(),
                "expected ',' or " + std::string(close_spelled) + ", found " + describe(peek()));
      }
    }
    return false;
  }

  Parsed primary() {
    if (failed()) return {};
    const Token& t = take();
    Parsed out{leaf(NodeKind::literal, t), 1};
    switch (t.kind) {
      case TokenKind::integer:
        if (t.integer > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          fail_at(t, "integer literal is out of range");
          return {};
        }
        out.node.literal.v = static_cast<std::int64_t>(t.integer);
        return out;
      case TokenKind::number:
        out.node.literal.v = t.number;
        return out;
      case TokenKind::string:
        out.node.literal.v = t.text;
        return out;
      case TokenKind::kw_true:
        out.node.literal.v = true;
        return out;
      case TokenKind::kw_false:
        out.node.literal.v = false;
        return out;
      case TokenKind::kw_null:
        return out;
      case TokenKind::identifier: {
        if (!at(TokenKind::lparen)) {
          out.node.kind = NodeKind::ident;
          out.node.name = t.text;
          return out;
        }
        take();
        std::vector<Parsed> args;
        if (!arguments(TokenKind::rparen, "')'", args)) return {};
        Parsed call = combine(NodeKind::call, Op::none, t, std::move(args));
        call.node.name = t.text;
        return call;
      }
      case TokenKind::lparen: {
        Parsed inner = expr();
        if (!expect(TokenKind::rparen, "')'")) return {};
        if (++inner.height > kMaxNestingDepth) fail_at(t, too_deep_message());
        return inner;
      }
      case TokenKind::lbracket: {
        std::vector<Parsed> elements;
        if (!arguments(TokenKind::rbracket, "']'", elements)) return {};
        return combine(NodeKind::list, Op::none, t, std::move(elements));
      }
      default:
        fail_at(t, "expected an expression, found " + describe(t));
        return {};
    }
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::optional<Error> error_;
};

}  // namespace

ParseResult parse(std::string_view text) {
  ParseResult out;
  if (text.size() > kMaxExpressionLength) {
    out.errors.push_back(Error{kMaxExpressionLength, text.size() - kMaxExpressionLength,
                               "expression is too long (" + std::to_string(text.size()) +
                                   " bytes; the limit is " + std::to_string(kMaxExpressionLength) +
                                   ")"});
    return out;
  }
  LexResult lexed = lex(text);
  if (lexed.error) {
    out.errors.push_back(std::move(*lexed.error));
    return out;
  }
  return Parser(text, std::move(lexed.tokens)).run();
}

}  // namespace ombud::expr
