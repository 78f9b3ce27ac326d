#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/interned_name.h"

namespace ombud {

// An instance's `data`: its fields in the order they were added, each an interned name and a
// JSON value, in one array of exactly the fields it holds.
//
// It behaves as the boost::json::object it replaces (the same look-ups, the same order, and
// an erase that moves the last field into the gap, as boost::json::object::erase does), and
// converts to and from one at the edges (JSON documents, the API). What differs is the memory:
// an object keeps each key in a heap block of its own next to a 32-byte slot per field, so a
// complaint's nine fields cost about 670 bytes; here a field is 24 bytes (its name is shared by
// every instance) and the fields one block, about 370 bytes with the long strings.
class Data {
 public:
  class Entry {
   public:
    Entry(InternedName key, boost::json::value value) : key_(key), value_(std::move(value)) {}

    const std::string& key() const noexcept { return key_.str(); }
    const InternedName& name() const noexcept { return key_; }
    const boost::json::value& value() const noexcept { return value_; }
    boost::json::value& value() noexcept { return value_; }

   private:
    friend class Data;
    InternedName key_;
    boost::json::value value_;
  };

  Data() = default;
  Data(const boost::json::object& object);  // NOLINT(google-explicit-constructor): data is JSON
  Data(std::initializer_list<std::pair<boost::json::string_view, boost::json::value_ref>> init);
  Data& operator=(const boost::json::object& object);
  Data& operator=(
      std::initializer_list<std::pair<boost::json::string_view, boost::json::value_ref>> init) {
    return *this = boost::json::object(init);
  }

  // A copy holds exactly the fields of the original, no spare room.
  Data(const Data& other) : Data(other, 0) {}
  // A copy with room for `spare` more fields.
  Data(const Data& other, std::size_t spare);
  Data& operator=(const Data& other);
  Data(Data&&) noexcept = default;
  Data& operator=(Data&&) noexcept = default;

  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }
  std::size_t capacity() const noexcept { return fields_.capacity(); }
  void reserve(std::size_t n) { fields_.reserve(n); }

  const Entry* begin() const noexcept { return fields_.data(); }
  const Entry* end() const noexcept { return fields_.data() + fields_.size(); }
  Entry* begin() noexcept { return fields_.data(); }
  Entry* end() noexcept { return fields_.data() + fields_.size(); }

  const boost::json::value* if_contains(std::string_view key) const noexcept;
  boost::json::value* if_contains(std::string_view key) noexcept;
  bool contains(std::string_view key) const noexcept { return if_contains(key) != nullptr; }
  // Throws std::out_of_range when the field is absent.
  const boost::json::value& at(std::string_view key) const;
  boost::json::value& at(std::string_view key);

  // The field's value, added as null at the end when absent.
  boost::json::value& operator[](std::string_view key);
  // Adds the field at the end unless it is there; returns it and whether it was added.
  std::pair<Entry*, bool> emplace(std::string_view key, boost::json::value value);
  // Removes the field, moving the last one into its place. Returns how many were removed.
  std::size_t erase(std::string_view key);

  boost::json::object to_object() const;
  friend void tag_invoke(const boost::json::value_from_tag&, boost::json::value& json,
                         const Data& data) {
    json = data.to_object();
  }

  // The same fields with equal values, in any order (as boost::json::object compares).
  friend bool operator==(const Data& a, const Data& b) noexcept;

 private:
  const Entry* find(std::string_view key) const noexcept;

  std::vector<Entry> fields_;
};

}  // namespace ombud
