#include "engine/timer_queue.h"

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace ombud {

namespace {

constexpr std::size_t kArity = 4;
constexpr std::size_t kMinBuckets = 16;
// Node indices and heap positions are 32-bit (that is what keeps entries small); kNone marks
// "no node", so one index less than 2^32 - 1 is usable.
constexpr std::size_t kMaxTimers = UINT32_MAX - 1;

// Timer ids count up within an instance and instance handles are often sequential too, so the
// key is spread by a full 64-bit mixer (MurmurHash3's finalizer) before its low bits pick a
// bucket.
std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::size_t buckets_for(std::size_t count) { return std::bit_ceil(std::max(count, kMinBuckets)); }

}  // namespace

TimerQueue::TimerQueue(std::uint32_t sequence_space) : sequence_space_(sequence_space) {
  if (sequence_space == 0) throw std::invalid_argument("TimerQueue: sequence_space must be > 0");
}

std::size_t TimerQueue::bucket_of(const TimerKey& key) const {
  const std::uint64_t h = mix(key.instance * 0x9e3779b97f4a7c15ULL ^ mix(key.timer));
  return static_cast<std::size_t>(h) & (buckets_.size() - 1);
}

std::uint32_t* TimerQueue::find_link(const TimerKey& key) {
  std::uint32_t* link = &buckets_[bucket_of(key)];
  while (*link != kNone && !(nodes_[*link].key == key)) link = &nodes_[*link].next;
  return link;
}

std::uint32_t TimerQueue::find_node(const TimerKey& key) const {
  if (buckets_.empty()) return kNone;
  std::uint32_t node = buckets_[bucket_of(key)];
  while (node != kNone && !(nodes_[node].key == key)) node = nodes_[node].next;
  return node;
}

void TimerQueue::rehash(std::size_t bucket_count) {
  std::vector<std::uint32_t> fresh(bucket_count, kNone);  // the only step that may throw
  buckets_.swap(fresh);
  // Every live node is referenced by exactly one heap entry, which makes the heap the list of
  // nodes to relink; free nodes are skipped without a scan of the slab.
  for (const HeapEntry& e : heap_) {
    Node& n = nodes_[e.node];
    std::uint32_t& head = buckets_[bucket_of(n.key)];
    n.next = head;
    head = e.node;
  }
}

std::uint32_t TimerQueue::take_sequence() {
  if (next_seq_ >= sequence_space_) renumber_sequences();
  return next_seq_++;
}

// Sequence numbers only need to order timers with equal due times, so when they run out they
// are reassigned 0..n-1 in pop order. A sorted array is a valid heap, so nothing else moves.
void TimerQueue::renumber_sequences() {
  std::sort(heap_.begin(), heap_.end(), before);
  for (std::size_t i = 0; i < heap_.size(); ++i) {
    heap_[i].seq = static_cast<std::uint32_t>(i);
    nodes_[heap_[i].node].heap_pos = static_cast<std::uint32_t>(i);
  }
  next_seq_ = static_cast<std::uint32_t>(heap_.size());
}

void TimerQueue::place(std::size_t pos, const HeapEntry& entry) {
  heap_[pos] = entry;
  nodes_[entry.node].heap_pos = static_cast<std::uint32_t>(pos);
}

// Both sifts move a hole rather than swapping, so each level costs one write per array.
void TimerQueue::sift_up(std::size_t pos, HeapEntry entry) {
  while (pos > 0) {
    const std::size_t parent = (pos - 1) / kArity;
    if (!before(entry, heap_[parent])) break;
    place(pos, heap_[parent]);
    pos = parent;
  }
  place(pos, entry);
}

void TimerQueue::sift_down(std::size_t pos, HeapEntry entry) {
  const std::size_t n = heap_.size();
  for (;;) {
    const std::size_t first = pos * kArity + 1;
    if (first >= n) break;
    const std::size_t end = std::min(first + kArity, n);
    std::size_t best = first;
    for (std::size_t c = first + 1; c < end; ++c) {
      if (before(heap_[c], heap_[best])) best = c;
    }
    if (!before(heap_[best], entry)) break;
    place(pos, heap_[best]);
    pos = best;
  }
  place(pos, entry);
}

void TimerQueue::remove_at(std::size_t pos) {
  const HeapEntry last = heap_.back();
  heap_.pop_back();
  if (pos == heap_.size()) return;
  if (pos > 0 && before(last, heap_[(pos - 1) / kArity])) {
    sift_up(pos, last);
  } else {
    sift_down(pos, last);
  }
}

void TimerQueue::free_node(std::uint32_t node) {
  nodes_[node].heap_pos = kNone;
  nodes_[node].next = free_;
  free_ = node;
}

bool TimerQueue::insert(Timestamp due, TimerKey key) {
  if (const std::uint32_t existing = find_node(key); existing != kNone) {
    // Taken first: renumbering may move the entry.
    const std::uint32_t seq = take_sequence();
    const std::size_t pos = nodes_[existing].heap_pos;
    // The new sequence number is the largest, so the entry can only move up if it is now due
    // strictly earlier.
    const bool earlier = due < heap_[pos].due;
    const HeapEntry entry{due, seq, existing};
    if (earlier) {
      sift_up(pos, entry);
    } else {
      sift_down(pos, entry);
    }
    return false;
  }

  // Everything that can throw happens before the queue changes: the bucket array, a spare node
  // (kept on the free list, so a failure below leaves it merely unused) and the heap slot.
  if (heap_.size() >= kMaxTimers) throw std::length_error("TimerQueue: too many timers");
  if (heap_.size() + 1 > buckets_.size()) rehash(buckets_for(2 * buckets_.size()));
  if (free_ == kNone) {
    nodes_.push_back(Node{key, kNone, kNone});
    free_ = static_cast<std::uint32_t>(nodes_.size() - 1);
  }
  const std::uint32_t node = free_;
  heap_.push_back(HeapEntry{due, take_sequence(), node});

  free_ = nodes_[node].next;
  std::uint32_t& head = buckets_[bucket_of(key)];
  nodes_[node] = Node{key, kNone, head};
  head = node;
  sift_up(heap_.size() - 1, heap_.back());
  return true;
}

bool TimerQueue::cancel(const TimerKey& key) {
  if (buckets_.empty()) return false;
  std::uint32_t* link = find_link(key);
  const std::uint32_t node = *link;
  if (node == kNone) return false;
  *link = nodes_[node].next;
  remove_at(nodes_[node].heap_pos);
  free_node(node);
  return true;
}

std::size_t TimerQueue::pop_due(Timestamp now, std::size_t max, std::vector<DueEntry>& out) {
  std::size_t popped = 0;
  while (popped < max && !heap_.empty() && heap_.front().due <= now) {
    const std::uint32_t node = heap_.front().node;
    const TimerKey key = nodes_[node].key;
    out.push_back(DueEntry{heap_.front().due, key});  // may throw: nothing removed yet
    std::uint32_t* link = find_link(key);
    *link = nodes_[node].next;
    remove_at(0);
    free_node(node);
    ++popped;
  }
  return popped;
}

std::vector<DueEntry> TimerQueue::pop_due(Timestamp now, std::size_t max) {
  std::vector<DueEntry> out;
  pop_due(now, max, out);
  return out;
}

std::optional<Timestamp> TimerQueue::next_due() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front().due;
}

std::optional<Timestamp> TimerQueue::due_of(const TimerKey& key) const {
  const std::uint32_t node = find_node(key);
  if (node == kNone) return std::nullopt;
  return heap_[nodes_[node].heap_pos].due;
}

void TimerQueue::reserve(std::size_t count) {
  if (count > kMaxTimers) throw std::length_error("TimerQueue: too many timers");
  heap_.reserve(count);
  nodes_.reserve(count);
  if (buckets_for(count) > buckets_.size()) rehash(buckets_for(count));
}

std::size_t TimerQueue::allocated_bytes() const {
  return heap_.capacity() * sizeof(HeapEntry) + nodes_.capacity() * sizeof(Node) +
         buckets_.capacity() * sizeof(std::uint32_t);
}

}  // namespace ombud
