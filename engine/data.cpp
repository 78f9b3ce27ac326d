#include "engine/data.h"

#include <stdexcept>
#include <string>

namespace ombud {

Data::Data(const boost::json::object& object) { *this = object; }

Data::Data(std::initializer_list<std::pair<boost::json::string_view, boost::json::value_ref>> init)
    : Data(boost::json::object(init)) {}

Data& Data::operator=(const boost::json::object& object) {
  std::vector<Entry> fields;
  fields.reserve(object.size());
  for (const auto& kv : object)
    fields.emplace_back(InternedName(std::string_view(kv.key())), kv.value());
  fields_ = std::move(fields);
  return *this;
}

Data::Data(const Data& other, std::size_t spare) {
  fields_.reserve(other.fields_.size() + spare);
  fields_.insert(fields_.end(), other.fields_.begin(), other.fields_.end());
}

Data& Data::operator=(const Data& other) {
  if (this != &other) {
    Data copy(other);
    fields_ = std::move(copy.fields_);
  }
  return *this;
}

const Data::Entry* Data::find(std::string_view key) const noexcept {
  for (const Entry& e : fields_) {
    if (e.key_.str() == key) return &e;
  }
  return nullptr;
}

const boost::json::value* Data::if_contains(std::string_view key) const noexcept {
  const Entry* e = find(key);
  return e != nullptr ? &e->value_ : nullptr;
}

boost::json::value* Data::if_contains(std::string_view key) noexcept {
  const Entry* e = find(key);
  return e != nullptr ? &const_cast<Entry*>(e)->value_ : nullptr;
}

const boost::json::value& Data::at(std::string_view key) const {
  const auto* v = if_contains(key);
  if (v == nullptr) throw std::out_of_range("data has no field '" + std::string(key) + "'");
  return *v;
}

boost::json::value& Data::at(std::string_view key) {
  auto* v = if_contains(key);
  if (v == nullptr) throw std::out_of_range("data has no field '" + std::string(key) + "'");
  return *v;
}

boost::json::value& Data::operator[](std::string_view key) {
  return emplace(key, nullptr).first->value_;
}

std::pair<Data::Entry*, bool> Data::emplace(std::string_view key, boost::json::value value) {
  if (const Entry* e = find(key)) return {const_cast<Entry*>(e), false};
  fields_.emplace_back(InternedName(key), std::move(value));
  return {&fields_.back(), true};
}

std::size_t Data::erase(std::string_view key) {
  const Entry* e = find(key);
  if (e == nullptr) return 0;
  auto it = fields_.begin() + (e - fields_.data());
  if (it + 1 != fields_.end()) *it = std::move(fields_.back());
  fields_.pop_back();
  return 1;
}

boost::json::object Data::to_object() const {
  boost::json::object o(fields_.size());
  for (const Entry& e : fields_) o.emplace(e.key_.str(), e.value_);
  return o;
}

bool operator==(const Data& a, const Data& b) noexcept {
  if (a.size() != b.size()) return false;
  for (const Data::Entry& e : a) {
    const Data::Entry* other = b.find(e.key());
    if (other == nullptr || !(other->value() == e.value())) return false;
  }
  return true;
}

}  // namespace ombud
