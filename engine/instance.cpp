#include "engine/instance.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace ombud {

namespace {

constexpr std::array<std::string_view, 6> kStatusNames{"idle", "running",  "paused",
                                                       "met",  "breached", "cancelled"};

std::int64_t ms(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp at_ms(std::int64_t v) { return Timestamp(Millis(v)); }

// Reading helpers that record the first problem and keep going with a default.
struct Reader {
  const boost::json::object& o;
  std::string* error;

  // Records the first problem only. Built with append: GCC 12 at -O3 warns falsely
  // (-Wrestrict) about the equivalent operator+ chain.
  void fail(std::string_view before, std::string_view key, std::string_view after) const {
    if (error == nullptr || !error->empty()) return;
    error->append(before).append(key).append(after);
  }

  const boost::json::value* get(std::string_view key) const {
    auto it = o.find(key);
    if (it == o.end()) {
      fail("missing '", key, "'");
      return nullptr;
    }
    return &it->value();
  }
  std::string str(std::string_view key) const {
    const auto* v = get(key);
    if (v != nullptr && v->is_string()) return std::string(v->as_string());
    if (v != nullptr) fail("'", key, "' is not a string");
    return {};
  }
  std::int64_t num(std::string_view key) const {
    const auto* v = get(key);
    if (v != nullptr && v->is_int64()) return v->as_int64();
    if (v != nullptr && v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
    if (v != nullptr) fail("'", key, "' is not an integer");
    return 0;
  }
  bool flag(std::string_view key) const {
    const auto* v = get(key);
    if (v != nullptr && v->is_bool()) return v->as_bool();
    if (v != nullptr) fail("'", key, "' is not a boolean");
    return false;
  }
  const boost::json::array* arr(std::string_view key) const {
    const auto* v = get(key);
    if (v != nullptr && v->is_array()) return &v->as_array();
    if (v != nullptr) fail("'", key, "' is not a list");
    return nullptr;
  }
};

}  // namespace

FiredCounts::FiredCounts(std::initializer_list<int> counts) {
  FiredCounts built;  // its destructor frees a block if a later push_back throws
  for (int c : counts) built.push_back(c);
  *this = std::move(built);
}

FiredCounts::FiredCounts(const FiredCounts& other) { *this = other; }

FiredCounts::FiredCounts(FiredCounts&& other) noexcept { *this = std::move(other); }

FiredCounts& FiredCounts::operator=(const FiredCounts& other) {
  if (this == &other) return *this;
  if (!other.on_heap() || other.size_ == 0) {
    release();
    if (other.on_heap()) {
      size_ = 0;
      return *this;
    }
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    size_ = other.size_;
    return *this;
  }
  if (!on_heap() || capacity_ < other.size_) {
    const std::size_t capacity = std::max<std::size_t>(other.size_, kInline * 2);
    int* block = new int[capacity];
    release();
    set_heap(block);
    capacity_ = static_cast<std::uint16_t>(capacity);
  }
  std::copy(other.heap(), other.heap() + other.size_, heap());
  size_ = other.size_;
  return *this;
}

FiredCounts& FiredCounts::operator=(FiredCounts&& other) noexcept {
  if (this == &other) return *this;
  release();
  std::memcpy(bytes_, other.bytes_, sizeof bytes_);
  size_ = other.size_;
  capacity_ = other.capacity_;
  other.size_ = 0;
  other.capacity_ = 0;
  std::memset(other.bytes_, 0, sizeof other.bytes_);
  return *this;
}

FiredCounts::~FiredCounts() { release(); }

void FiredCounts::release() noexcept {
  if (on_heap()) delete[] heap();
  capacity_ = 0;
  std::memset(bytes_, 0, sizeof bytes_);
}

int* FiredCounts::heap() const noexcept {
  int* block = nullptr;
  std::memcpy(&block, bytes_, sizeof block);
  return block;
}

void FiredCounts::set_heap(int* block) noexcept { std::memcpy(bytes_, &block, sizeof block); }

int FiredCounts::operator[](std::size_t i) const noexcept {
  if (on_heap()) return heap()[i];
  std::uint16_t count = 0;
  std::memcpy(&count, bytes_ + i * sizeof count, sizeof count);
  return count;
}

void FiredCounts::reserve_heap(std::size_t n) {
  if (n > std::numeric_limits<std::uint16_t>::max()) {
    throw std::length_error("an SLA has more escalation levels than a clock can count");
  }
  n = std::max({n, std::size_t{size_}, kInline * 2});
  if (on_heap() && capacity_ >= n) return;
  int* block = new int[n]();
  for (std::size_t i = 0; i < size_; ++i) block[i] = (*this)[i];
  release();
  set_heap(block);
  capacity_ = static_cast<std::uint16_t>(n);
}

void FiredCounts::set(std::size_t i, int count) {
  if (!on_heap() && (count < 0 || count > kInlineMax)) reserve_heap(size_);
  if (on_heap()) {
    heap()[i] = count;
    return;
  }
  const auto narrow = static_cast<std::uint16_t>(count);
  std::memcpy(bytes_ + i * sizeof narrow, &narrow, sizeof narrow);
}

void FiredCounts::push_back(int count) {
  if (on_heap() ? size_ == capacity_ : size_ == kInline) reserve_heap(std::size_t{size_} * 2);
  // Moves to the heap first if the count does not fit inline, so that a throw changes nothing.
  if (!on_heap() && (count < 0 || count > kInlineMax)) reserve_heap(std::size_t{size_} + 1);
  ++size_;
  set(size_ - 1U, count);
}

void FiredCounts::resize(std::size_t n, int count) {
  if (n > (on_heap() ? std::size_t{capacity_} : kInline)) reserve_heap(n);
  const std::size_t old = size_;
  size_ = static_cast<std::uint16_t>(n);
  for (std::size_t i = old; i < n; ++i) set(i, count);
}

void FiredCounts::assign(std::size_t n, int count) {
  resize(n, count);
  for (std::size_t i = 0; i < n; ++i) set(i, count);
}

bool operator==(const FiredCounts& a, const FiredCounts& b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

std::string_view sla_status_name(SlaClock::Status s) {
  return kStatusNames.at(static_cast<std::size_t>(s));
}

std::span<const std::string_view> sla_status_names() { return kStatusNames; }

const SlaClock* Instance::sla(std::string_view name) const {
  for (const auto& c : slas) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

boost::json::object to_json(const Instance& in) {
  boost::json::array slas;
  for (const auto& c : in.slas) {
    boost::json::array fired;
    for (std::size_t i = 0; i < c.fired.size(); ++i) fired.push_back(c.fired[i]);
    using Status = SlaClock::Status;
    const bool stopped = c.stopped();
    slas.push_back(
        boost::json::object{{"name", c.name.str()},
                            {"status", sla_status_name(c.status)},
                            {"cycle", c.cycle},
                            {"started_at", ms(c.started_at)},
                            {"due_at", ms(c.due_at)},
                            {"budget_ms", c.budget.count()},
                            {"elapsed_ms", c.elapsed.count()},
                            {"running_since", c.status == Status::running ? ms(c.since) : 0},
                            {"paused_ms", c.paused_total.count()},
                            {"paused_since", c.status == Status::paused ? ms(c.since) : 0},
                            {"stopped_at", stopped ? ms(c.since) : 0},
                            {"breached", c.breached},
                            {"fired", std::move(fired)}});
  }
  boost::json::array timers;
  for (const auto& t : in.timers) {
    timers.push_back(boost::json::object{
        {"id", t.id},
        {"kind", t.kind == PendingTimer::Kind::state ? "state" : "escalation"},
        {"due", ms(t.due)},
        {"state", t.kind == PendingTimer::Kind::state ? std::string_view(t.owner) : ""},
        {"index", t.index},
        {"sla", t.kind == PendingTimer::Kind::escalation ? std::string_view(t.owner) : ""},
        {"cycle", t.cycle}});
  }
  boost::json::array incidents;
  for (const auto& i : in.incidents) {
    incidents.push_back(
        boost::json::object{{"at", ms(i.at)}, {"message", i.message}, {"resolved", i.resolved}});
  }
  return {{"id", in.id},
          {"workflow", in.workflow.str()},
          {"version", in.version},
          {"state", in.state.str()},
          {"data", in.data.to_object()},
          {"key", in.key},
          {"assignee", in.assignee},
          {"queue", in.queue.str()},
          {"priority", priority_name(in.priority)},
          {"created_at", ms(in.created_at)},
          {"updated_at", ms(in.updated_at)},
          {"ended", in.ended},
          {"slas", std::move(slas)},
          {"timers", std::move(timers)},
          {"incidents", std::move(incidents)},
          {"next_timer_id", in.next_timer_id},
          {"revision", in.revision}};
}

std::optional<Instance> instance_from_json(const boost::json::value& json, std::string* error) {
  std::string local_error;
  std::string* err = error != nullptr ? error : &local_error;
  err->clear();
  if (!json.is_object()) {
    *err = "an instance must be a JSON object";
    return std::nullopt;
  }
  const Reader r{json.as_object(), err};
  Instance in;
  in.id = r.str("id");
  in.workflow = r.str("workflow");
  in.version = static_cast<int>(r.num("version"));
  in.state = r.str("state");
  if (const auto* d = r.get("data"); d != nullptr && d->is_object()) in.data = d->as_object();
  in.key = r.str("key");
  in.assignee = r.str("assignee");
  in.queue = r.str("queue");
  const auto p = priority_from_name(r.str("priority"));
  if (!p && err->empty()) *err = "unknown priority";
  in.priority = p.value_or(Priority::normal);
  in.created_at = at_ms(r.num("created_at"));
  in.updated_at = at_ms(r.num("updated_at"));
  in.ended = r.flag("ended");
  if (const auto* slas = r.arr("slas")) {
    for (const auto& v : *slas) {
      if (!v.is_object()) continue;
      const Reader s{v.as_object(), err};
      SlaClock c;
      c.name = s.str("name");
      const std::string status = s.str("status");
      for (std::size_t k = 0; k < kStatusNames.size(); ++k) {
        if (kStatusNames[k] == status) c.status = static_cast<SlaClock::Status>(k);
      }
      c.cycle = static_cast<int>(s.num("cycle"));
      c.started_at = at_ms(s.num("started_at"));
      c.due_at = at_ms(s.num("due_at"));
      c.budget = Millis(s.num("budget_ms"));
      c.elapsed = Millis(s.num("elapsed_ms"));
      c.paused_total = Millis(s.num("paused_ms"));
      switch (c.status) {
        case SlaClock::Status::running:
          c.since = at_ms(s.num("running_since"));
          break;
        case SlaClock::Status::paused:
          c.since = at_ms(s.num("paused_since"));
          break;
        case SlaClock::Status::met:
        case SlaClock::Status::breached:
        case SlaClock::Status::cancelled:
          c.since = at_ms(s.num("stopped_at"));
          break;
        case SlaClock::Status::idle:
          break;
      }
      c.breached = s.flag("breached");
      if (const auto* fired = s.arr("fired")) {
        for (const auto& f : *fired)
          c.fired.push_back(f.is_int64() ? static_cast<int>(f.as_int64()) : 0);
      }
      in.slas.push_back(std::move(c));
    }
  }
  if (const auto* timers = r.arr("timers")) {
    for (const auto& v : *timers) {
      if (!v.is_object()) continue;
      const Reader t{v.as_object(), err};
      PendingTimer pt;
      pt.id = static_cast<std::uint64_t>(t.num("id"));
      pt.kind = t.str("kind") == "escalation" ? PendingTimer::Kind::escalation
                                              : PendingTimer::Kind::state;
      pt.due = at_ms(t.num("due"));
      pt.owner = t.str(pt.kind == PendingTimer::Kind::state ? "state" : "sla");
      pt.index = static_cast<int>(t.num("index"));
      pt.cycle = static_cast<int>(t.num("cycle"));
      in.timers.push_back(std::move(pt));
    }
  }
  if (const auto* incidents = r.arr("incidents")) {
    for (const auto& v : *incidents) {
      if (!v.is_object()) continue;
      const Reader i{v.as_object(), err};
      in.incidents.push_back({at_ms(i.num("at")), i.str("message"), i.flag("resolved")});
    }
  }
  in.next_timer_id = static_cast<std::uint64_t>(r.num("next_timer_id"));
  in.revision = static_cast<std::uint64_t>(r.num("revision"));
  if (!err->empty()) return std::nullopt;
  return in;
}

const PendingTimer* earliest_timer(const std::vector<PendingTimer>& timers) {
  const PendingTimer* first = nullptr;
  for (const PendingTimer& t : timers) {
    if (first == nullptr || t.due < first->due || (t.due == first->due && t.id < first->id)) {
      first = &t;
    }
  }
  return first;
}

}  // namespace ombud
