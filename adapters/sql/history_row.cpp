#include "adapters/sql/history_row.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "adapters/sql/sql_store.h"

namespace ombud::sql {

std::string history_entries_text(std::span<const HistoryEntry> entries) {
  std::string out = "[";
  for (const HistoryEntry& h : entries) {
    if (out.size() > 1) out += ',';
    out += "{\"at\":";
    out += std::to_string(h.at.time_since_epoch().count());
    out += ",\"kind\":";
    append_json_string(out, h.kind);
    out += ",\"message\":";
    append_json_string(out, h.message);
    out += ",\"details\":";
    out += h.details.text();
    out += '}';
  }
  out += ']';
  return out;
}

namespace {

[[noreturn]] void malformed(std::string_view why) {
  throw StoreError("stored history entries are malformed: " + std::string(why));
}

const boost::json::value& field(const boost::json::object& o, std::string_view name) {
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr) malformed("an entry has no '" + std::string(name) + "'");
  return *v;
}

}  // namespace

std::vector<HistoryEntry> history_entries_from_text(std::string_view text) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text, ec);
  if (ec) malformed(ec.message());
  if (!v.is_array()) malformed("not a JSON array");
  std::vector<HistoryEntry> out;
  out.reserve(v.as_array().size());
  for (const boost::json::value& item : v.as_array()) {
    if (!item.is_object()) malformed("an entry is not an object");
    const boost::json::object& o = item.as_object();
    const boost::json::value& at = field(o, "at");
    const boost::json::value& kind = field(o, "kind");
    const boost::json::value& message = field(o, "message");
    const boost::json::value& details = field(o, "details");
    if (!at.is_int64() || !kind.is_string() || !message.is_string() || !details.is_object()) {
      malformed("an entry's at, kind, message or details has the wrong type");
    }
    // Details keep the text the engine wrote; the migration's (or PostgreSQL's) spacing is
    // normalised by serialising the parsed object once.
    out.push_back({Timestamp{Millis{at.as_int64()}}, std::string(kind.as_string()),
                   std::string(message.as_string()),
                   Details::from_text(boost::json::serialize(details.as_object()))});
  }
  return out;
}

}  // namespace ombud::sql
