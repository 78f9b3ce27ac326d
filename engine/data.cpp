#include "engine/data.h"

#include <algorithm>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace ombud {

namespace {

constexpr std::size_t kSlot = sizeof(boost::json::value) + sizeof(InternedName);
static_assert(alignof(InternedName) <= alignof(boost::json::value));

// Builds field `i` in room reserved for it: the value first, then its name, so that a value
// whose copy throws leaves nothing behind. The caller counts the field once this returns.
template <class V>
void place(boost::json::value* values, InternedName* names, std::size_t i, InternedName name,
           V&& value) {
  ::new (values + i) boost::json::value(std::forward<V>(value));
  ::new (names + i) InternedName(name);
}

}  // namespace

Data::Data(const boost::json::object& object) { *this = object; }

Data::Data(std::initializer_list<std::pair<boost::json::string_view, boost::json::value_ref>> init)
    : Data(boost::json::object(init)) {}

// Fields are built in a local Data and moved in at the end: a copy that throws half way leaves
// the target as it was, and the local's destructor frees what was built. The name is made
// before the value is placed, so nothing placed is left uncounted.
Data& Data::operator=(const boost::json::object& object) {
  Data fields;
  fields.reserve(object.size());
  for (const auto& kv : object) {
    place(fields.values_, fields.names(), fields.size_, InternedName(std::string_view(kv.key())),
          kv.value());
    ++fields.size_;
  }
  return *this = std::move(fields);
}

Data::Data(const Data& other, std::size_t spare) {
  Data fields;
  fields.reserve(other.size_ + spare);
  for (std::size_t i = 0; i < other.size_; ++i) {
    place(fields.values_, fields.names(), i, other.names()[i], other.values_[i]);
    ++fields.size_;
  }
  *this = std::move(fields);
}

Data& Data::operator=(const Data& other) {
  if (this != &other) *this = Data(other);
  return *this;
}

Data::Data(Data&& other) noexcept
    : values_(std::exchange(other.values_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

Data& Data::operator=(Data&& other) noexcept {
  if (this != &other) {
    release();
    values_ = std::exchange(other.values_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

Data::~Data() { release(); }

void Data::release() noexcept {
  for (std::size_t i = 0; i < size_; ++i) values_[i].~value();
  ::operator delete(values_);
  values_ = nullptr;
  size_ = 0;
  capacity_ = 0;
}

void Data::reserve(std::size_t n) {
  if (n > capacity_) grow(n);
}

void Data::grow(std::size_t capacity) {
  if (capacity > std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("data has too many fields");
  }
  auto* values = static_cast<boost::json::value*>(::operator new(capacity* kSlot));
  auto* names = reinterpret_cast<InternedName*>(values + capacity);  // NOLINT: the block's layout
  for (std::size_t i = 0; i < size_; ++i) {
    ::new (values + i) boost::json::value(std::move(values_[i]));
    ::new (names + i) InternedName(this->names()[i]);
    values_[i].~value();
  }
  ::operator delete(values_);
  values_ = values;
  capacity_ = static_cast<std::uint32_t>(capacity);
}

std::size_t Data::find(std::string_view key) const noexcept {
  const InternedName* n = names();
  for (std::size_t i = 0; i < size_; ++i) {
    if (n[i].str() == key) return i;
  }
  return kNotFound;
}

const boost::json::value* Data::if_contains(std::string_view key) const noexcept {
  const std::size_t i = find(key);
  return i != kNotFound ? values_ + i : nullptr;
}

boost::json::value* Data::if_contains(std::string_view key) noexcept {
  const std::size_t i = find(key);
  return i != kNotFound ? values_ + i : nullptr;
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
  return emplace(key, nullptr).first.value();
}

std::pair<Data::Entry, bool> Data::emplace(std::string_view key, boost::json::value value) {
  std::size_t i = find(key);
  if (i != kNotFound) return {Entry(names() + i, values_ + i), false};
  // Named before growing: `key` may be the text of one of these fields, which growing moves.
  const InternedName name(key);
  // Grows as a std::vector would, so adding fields one by one stays amortized O(1).
  if (size_ == capacity_) grow(std::max<std::size_t>(1, std::size_t{capacity_} * 2));
  i = size_;
  place(values_, names(), i, name, std::move(value));
  ++size_;
  return {Entry(names() + i, values_ + i), true};
}

std::size_t Data::erase(std::string_view key) {
  const std::size_t i = find(key);
  if (i == kNotFound) return 0;
  const std::size_t last = size_ - 1U;
  if (i != last) {
    values_[i] = std::move(values_[last]);
    names()[i] = names()[last];
  }
  values_[last].~value();
  --size_;
  return 1;
}

boost::json::object Data::to_object() const {
  boost::json::object o(size_);
  for (std::size_t i = 0; i < size_; ++i) o.emplace(names()[i].str(), values_[i]);
  return o;
}

bool operator==(const Data& a, const Data& b) noexcept {
  if (a.size() != b.size()) return false;
  for (const auto& field : a) {
    const boost::json::value* other = b.if_contains(field.key());
    if (other == nullptr || !(*other == field.value())) return false;
  }
  return true;
}

}  // namespace ombud
