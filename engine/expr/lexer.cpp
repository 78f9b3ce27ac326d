#include "engine/expr/lexer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

namespace ombud::expr {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  LexResult run() {
    LexResult out;
    while (!error_) {
      skip_space();
      if (pos_ >= text_.size()) {
        out.tokens.push_back(Token{TokenKind::end, text_.size(), 0, {}, 0, 0});
        break;
      }
      Token token = next();
      if (!error_) out.tokens.push_back(std::move(token));
    }
    out.error = std::move(error_);
    return out;
  }

 private:
  void skip_space() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
      ++pos_;
    }
  }

  void fail(std::size_t offset, std::size_t length, std::string message) {
    if (!error_) error_ = Error{offset, length, std::move(message)};
  }

  Token make(TokenKind kind, std::size_t length) {
    Token t{kind, pos_, length, {}, 0, 0};
    pos_ += length;
    return t;
  }

  char peek(std::size_t ahead) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  Token next() {
    const char c = text_[pos_];
    if (is_ident_start(c)) return identifier();
    if (is_digit(c)) return number();
    if (c == '\'' || c == '"') return string();
    const char d = peek(1);
    switch (c) {
      case '(':
        return make(TokenKind::lparen, 1);
      case ')':
        return make(TokenKind::rparen, 1);
      case '[':
        return make(TokenKind::lbracket, 1);
      case ']':
        return make(TokenKind::rbracket, 1);
      case '.':
        return make(TokenKind::dot, 1);
      case ',':
        return make(TokenKind::comma, 1);
      case '?':
        return make(TokenKind::question, 1);
      case ':':
        return make(TokenKind::colon, 1);
      case '-':
        return make(TokenKind::minus, 1);
      case '+':
        return make(TokenKind::plus, 1);
      case '*':
        return make(TokenKind::star, 1);
      case '/':
        return make(TokenKind::slash, 1);
      case '%':
        return make(TokenKind::percent, 1);
      case '!':
        return d == '=' ? make(TokenKind::ne, 2) : make(TokenKind::bang, 1);
      case '<':
        return d == '=' ? make(TokenKind::le, 2) : make(TokenKind::lt, 1);
      case '>':
        return d == '=' ? make(TokenKind::ge, 2) : make(TokenKind::gt, 1);
      case '=':
        if (d == '=') return make(TokenKind::eq, 2);
        fail(pos_, 1, "unexpected character '=' (did you mean '=='?)");
        return {};
      case '&':
        if (d == '&') return make(TokenKind::logical_and, 2);
        fail(pos_, 1, "unexpected character '&' (did you mean '&&'?)");
        return {};
      case '|':
        if (d == '|') return make(TokenKind::logical_or, 2);
        fail(pos_, 1, "unexpected character '|' (did you mean '||'?)");
        return {};
      default:
        break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x21 && byte < 0x7F) {
      fail(pos_, 1, std::string("unexpected character '") + c + "'");
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      fail(pos_, 1, std::string("unexpected byte 0x") + kHex[byte >> 4] + kHex[byte & 0xF]);
    }
    return {};
  }

  Token identifier() {
    std::size_t end = pos_;
    while (end < text_.size() && is_ident_char(text_[end])) ++end;
    const std::string_view word = text_.substr(pos_, end - pos_);
    TokenKind kind = TokenKind::identifier;
    if (word == "true") kind = TokenKind::kw_true;
    if (word == "false") kind = TokenKind::kw_false;
    if (word == "null") kind = TokenKind::kw_null;
    if (word == "in") kind = TokenKind::kw_in;
    Token t = make(kind, word.size());
    if (kind == TokenKind::identifier) t.text = std::string(word);
    return t;
  }

  Token number() {
    const std::size_t start = pos_;
    std::size_t end = pos_;
    while (end < text_.size() && is_digit(text_[end])) ++end;
    bool fractional = false;
    // A point starts a fraction only before a digit, so that `1.foo` stays a selection.
    if (end + 1 < text_.size() && text_[end] == '.' && is_digit(text_[end + 1])) {
      fractional = true;
      ++end;
      while (end < text_.size() && is_digit(text_[end])) ++end;
    }
    if (end < text_.size() && (text_[end] == 'e' || text_[end] == 'E')) {
      std::size_t exp = end + 1;
      if (exp < text_.size() && (text_[exp] == '+' || text_[exp] == '-')) ++exp;
      if (exp < text_.size() && is_digit(text_[exp])) {
        fractional = true;
        end = exp;
        while (end < text_.size() && is_digit(text_[end])) ++end;
      }
    }
    if (end < text_.size() && is_ident_char(text_[end])) {
      std::size_t word_end = end;
      while (word_end < text_.size() && is_ident_char(text_[word_end])) ++word_end;
      const std::string word(text_.substr(start, word_end - start));
      std::string message = "invalid number '" + word + "'";
      if (parse_duration(word)) message += " (write durations as duration('" + word + "'))";
      fail(start, word_end - start, std::move(message));
      return {};
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + end;
    Token t = make(fractional ? TokenKind::number : TokenKind::integer, end - start);
    if (fractional) {
      const auto [ptr, ec] = std::from_chars(first, last, t.number);
      if (ec != std::errc() || ptr != last || !std::isfinite(t.number)) {
        fail(start, end - start, "number literal is out of range");
      }
    } else {
      const auto [ptr, ec] = std::from_chars(first, last, t.integer);
      if (ec != std::errc() || ptr != last)
        fail(start, end - start, "integer literal is out of range");
    }
    return t;
  }

  Token string() {
    const std::size_t start = pos_;
    const char quote = text_[pos_];
    std::string value;
    std::size_t i = pos_ + 1;
    while (true) {
      if (i >= text_.size() || text_[i] == '\n' || text_[i] == '\r') {
        fail(start, 1, "unterminated string");
        return {};
      }
      const char c = text_[i];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++i;
        continue;
      }
      const char e = i + 1 < text_.size() ? text_[i + 1] : '\0';
      switch (e) {
        case '\\':
          value += '\\';
          break;
        case '\'':
          value += '\'';
          break;
        case '"':
          value += '"';
          break;
        case 'n':
          value += '\n';
          break;
        case 'r':
          value += '\r';
          break;
        case 't':
          value += '\t';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          bool ok = i + 6 <= text_.size();
          for (std::size_t k = 0; ok && k < 4; ++k) {
            const int h = hex_value(text_[i + 2 + k]);
            ok = h >= 0;
            cp = cp * 16 + static_cast<std::uint32_t>(h < 0 ? 0 : h);
          }
          if (!ok || (cp >= 0xD800 && cp <= 0xDFFF)) {
            fail(i, std::min<std::size_t>(6, text_.size() - i),
                 "invalid \\u escape (expected four hex digits of a Unicode scalar value)");
            return {};
          }
          append_utf8(value, cp);
          i += 6;
          continue;
        }
        default: {
          const auto byte = static_cast<unsigned char>(e);
          if (i + 1 >= text_.size() || e == '\n' || e == '\r') {
            fail(start, 1, "unterminated string");
          } else if (byte >= 0x20 && byte < 0x7F) {
            fail(i, 2, std::string("invalid escape sequence '\\") + e + "'");
          } else {
            fail(i, 1, "invalid escape sequence");
          }
          return {};
        }
      }
      i += 2;
    }
    pos_ = start;
    Token t = make(TokenKind::string, i + 1 - start);
    t.text = std::move(value);
    return t;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::optional<Error> error_;
};

}  // namespace

LexResult lex(std::string_view text) { return Lexer(text).run(); }

}  // namespace ombud::expr
