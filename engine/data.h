#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/interned_name.h"

namespace ombud {

// An instance's `data`: its fields in the order they were added, each an interned name and a
// JSON value, in one heap block of exactly the fields it holds.
//
// It behaves as the boost::json::object it replaces (the same look-ups, the same order, and
// an erase that moves the last field into the gap, as boost::json::object::erase does), and
// converts to and from one at the edges (JSON documents, the API). What differs is the memory:
// an object keeps each key in a heap block of its own next to a 32-byte slot per field, so a
// complaint's nine fields cost about 670 bytes. Here the block holds the values (24 bytes each)
// followed by their names (4 bytes each, shared by every instance): 252 bytes for nine fields,
// plus the strings too long to sit inside their value.
class Data {
 public:
  // A field in place: its name and its value. `V` is const for a const Data.
  template <typename V>
  class BasicEntry {
   public:
    BasicEntry(const InternedName* name, V* value) noexcept : name_(name), value_(value) {}
    const std::string& key() const noexcept { return name_->str(); }
    const InternedName& name() const noexcept { return *name_; }
    V& value() const noexcept { return *value_; }

   private:
    const InternedName* name_;
    V* value_;
  };
  using Entry = BasicEntry<boost::json::value>;
  using ConstEntry = BasicEntry<const boost::json::value>;

  template <typename V>
  class BasicIterator {
   public:
    BasicIterator(const InternedName* name, V* value) noexcept : name_(name), value_(value) {}
    BasicEntry<V> operator*() const noexcept { return {name_, value_}; }
    struct Arrow {
      BasicEntry<V> entry;
      const BasicEntry<V>* operator->() const noexcept { return &entry; }
    };
    Arrow operator->() const noexcept { return {**this}; }
    BasicIterator& operator++() noexcept {
      ++name_;
      ++value_;
      return *this;
    }
    friend bool operator==(const BasicIterator& a, const BasicIterator& b) noexcept {
      return a.value_ == b.value_;
    }

   private:
    const InternedName* name_;
    V* value_;
  };
  using iterator = BasicIterator<boost::json::value>;
  using const_iterator = BasicIterator<const boost::json::value>;

  Data() noexcept = default;
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
  Data(Data&& other) noexcept;
  Data& operator=(Data&& other) noexcept;
  ~Data();

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t capacity() const noexcept { return capacity_; }
  void reserve(std::size_t n);

  const_iterator begin() const noexcept { return {names(), values_}; }
  const_iterator end() const noexcept { return {names() + size_, values_ + size_}; }
  iterator begin() noexcept { return {names(), values_}; }
  iterator end() noexcept { return {names() + size_, values_ + size_}; }

  const boost::json::value* if_contains(std::string_view key) const noexcept;
  boost::json::value* if_contains(std::string_view key) noexcept;
  bool contains(std::string_view key) const noexcept { return if_contains(key) != nullptr; }
  // Throws std::out_of_range when the field is absent.
  const boost::json::value& at(std::string_view key) const;
  boost::json::value& at(std::string_view key);

  // The field's value, added as null at the end when absent.
  boost::json::value& operator[](std::string_view key);
  // Adds the field at the end unless it is there; returns it and whether it was added.
  std::pair<Entry, bool> emplace(std::string_view key, boost::json::value value);
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
  static constexpr std::size_t kNotFound = static_cast<std::size_t>(-1);

  // The block: capacity_ values, then capacity_ names.
  InternedName* names() const noexcept {
    return reinterpret_cast<InternedName*>(values_ + capacity_);  // NOLINT: laid out in grow()
  }
  std::size_t find(std::string_view key) const noexcept;
  void grow(std::size_t capacity);  // moves the fields to a block of exactly `capacity`
  void release() noexcept;

  boost::json::value* values_ = nullptr;
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = 0;
};

}  // namespace ombud
