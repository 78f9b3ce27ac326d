#include "adapters/sql/store_url.h"

#include "adapters/sql/sql_store.h"  // parse_synchronous

#include <boost/url/params_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/url.hpp>
#include <boost/url/url_view.hpp>

namespace ombud::sql {

namespace {

constexpr std::string_view kForms =
    "use sqlite:PATH or postgresql://user@host:port/database[?param=value]";

// A libpq keyword value, quoted as libpq wants it (single quotes; backslash escapes ' and \),
// so that spaces or quotes in a value cannot inject further keywords.
std::string libpq_value(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

bool plain_keyword(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::string shown_store_url(std::string_view url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return std::string(url);
  boost::urls::url copy(*parsed);
  if (copy.has_password()) copy.set_password("***");
  // libpq takes the password as a parameter too: postgresql://host/db?password=...
  if (copy.params().contains("password")) copy.params().set("password", "***");
  return std::string(copy.buffer());
}

namespace {

std::optional<StoreUrl> fail(std::string* error, std::string_view url, std::string_view what) {
  if (error) *error = "store URL '" + shown_store_url(url) + "': " + std::string(what);
  return std::nullopt;
}

std::optional<StoreUrl> parse_postgresql(std::string_view url, std::string* error) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return fail(error, url, "not a valid URL (" + parsed.error().message() + ")");
  const boost::urls::url_view& u = *parsed;
  std::string conn;
  auto add = [&](std::string_view keyword, std::string_view value) {
    if (!conn.empty()) conn += ' ';
    conn += keyword;
    conn += '=';
    conn += libpq_value(value);
  };
  std::string host = u.host();
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // IPv6 literal
  }
  if (host.empty()) return fail(error, url, "no host (" + std::string(kForms) + ")");
  add("host", host);
  if (u.has_port()) {
    if (u.port_number() == 0) return fail(error, url, "bad port '" + std::string(u.port()) + "'");
    add("port", u.port());
  }
  std::string db = u.path();
  if (!db.empty() && db.front() == '/') db.erase(0, 1);
  if (db.empty() || db.find('/') != std::string::npos) {
    return fail(error, url,
                "expected one database name after the host (" + std::string(kForms) + ")");
  }
  add("dbname", db);
  if (u.has_userinfo() && !u.user().empty()) add("user", u.user());
  if (u.has_password()) add("password", u.password());
  for (const auto& p : u.params()) {
    if (!plain_keyword(p.key)) {
      return fail(error, url, "bad connection parameter '" + std::string(p.key) + "'");
    }
    if (p.key == "host" || p.key == "port" || p.key == "dbname" || p.key == "user" ||
        p.key == "password") {
      return fail(error, url,
                  "parameter '" + std::string(p.key) + "' belongs in the URL itself, not after ?");
    }
    add(p.key, p.value);
  }
  return StoreUrl{Dialect::postgresql, "", "", std::move(conn)};
}

}  // namespace

std::optional<StoreUrl> parse_store_url(std::string_view url, std::string* error) {
  if (url.starts_with("sqlite:")) {
    std::string path(url.substr(7));
    std::string synchronous;
    if (const auto q = path.find('?'); q != std::string::npos) {
      const auto query = boost::urls::parse_query(std::string_view(path).substr(q + 1));
      if (!query) return fail(error, url, "bad query (" + query.error().message() + ")");
      for (const auto& p : boost::urls::params_view(*query)) {
        if (p.key != "synchronous") {
          return fail(
              error, url,
              "unknown parameter '" + p.key + "' (sqlite takes synchronous=full|normal|off)");
        }
        if (!parse_synchronous(p.value)) {
          return fail(error, url, "synchronous must be full, normal or off, not '" + p.value + "'");
        }
        synchronous = p.value;
      }
      path.resize(q);
    }
    if (path.starts_with("//")) {
      return fail(error, url, "write sqlite:PATH (sqlite:var/ombud.db or sqlite:/abs/path.db)");
    }
    if (path.empty()) return fail(error, url, "no file after 'sqlite:'");
    if (path == ":memory:" || path.starts_with("file:")) {
      // Each pooled connection would get its own private memory database.
      return fail(error, url, "only a database file is supported, not '" + path + "'");
    }
    return StoreUrl{Dialect::sqlite, path, synchronous, {}};
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return parse_postgresql(url, error);
  }
  const auto colon = url.find(':');
  if (colon == std::string_view::npos)
    return fail(error, url, "no scheme (" + std::string(kForms) + ")");
  return fail(error, url,
              "unsupported scheme '" + std::string(url.substr(0, colon)) + "' (" +
                  std::string(kForms) + ")");
}

}  // namespace ombud::sql
