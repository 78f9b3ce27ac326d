// A bounded cache of recently used entries that keeps no bookkeeping per entry: two
// generations. put() adds to the recent one; a find() that hits the older one moves the entry
// back to the recent one; when the recent one holds half the capacity, it becomes the older one
// and what the older one held is dropped. An entry used within the last capacity/2 additions
// stays. Used for the committed instances a worker keeps (BatchStore) and the documents an
// SQLite store keeps (decision 0007). Not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>

namespace ombud {

template <class Value>
class Generations {
 public:
  // 0 keeps nothing.
  void set_capacity(std::size_t capacity) {
    capacity_ = capacity;
    if (capacity_ == 0) clear();
  }
  std::size_t capacity() const { return capacity_; }

  bool contains(const std::string& key) const {
    return recent_.count(key) > 0 || older_.count(key) > 0;
  }

  // The entry for `key`, or nullptr; valid until the next put() or find().
  Value* find(const std::string& key) {
    if (auto it = recent_.find(key); it != recent_.end()) return &it->second;
    auto old = older_.find(key);
    if (old == older_.end()) return nullptr;
    Value value = std::move(old->second);
    older_.erase(old);
    return &add(key, std::move(value));  // still in use: back to the recent generation
  }

  // Adds or replaces the entry for `key` (nothing with capacity 0). Take `key` from anything
  // but `value` itself: the value may be moved before the key is read.
  void put(const std::string& key, Value value) {
    if (capacity_ > 0) add(key, std::move(value));
  }

  void clear() {
    recent_.clear();
    older_.clear();
  }

 private:
  std::size_t capacity_ = 0;
  std::unordered_map<std::string, Value> recent_;
  std::unordered_map<std::string, Value> older_;

  Value& add(const std::string& key, Value value) {
    if (recent_.size() >= std::max<std::size_t>(1, capacity_ / 2) && recent_.count(key) == 0) {
      older_ = std::move(recent_);
      recent_.clear();
    }
    older_.erase(key);
    return recent_.insert_or_assign(key, std::move(value)).first->second;
  }
};

}  // namespace ombud
