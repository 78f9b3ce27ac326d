// The in-memory look-ahead of a node's timers: which timer is due next, cheap to arm and cancel.
//
// The database is the source of truth for timers (ARCHITECTURE.md, "Time, timers and clocks");
// a node keeps only the next few minutes of them here, refilled from the `due_at` index, and
// pops the due ones to step their instances. On a busy node that window can hold ~1M timers, and
// most SLA timers are cancelled before they fire, so insert and cancel must be cheap and an
// entry small.
//
// Design: a 4-ary min-heap of 16-byte entries (due, sequence, node) ordered by (due, sequence),
// over a slab of 24-byte nodes (key, heap position, hash-chain link) found through a chained
// hash table of 4-byte bucket heads; about 44–48 bytes per timer plus the arrays' growth slack
// (allocated_bytes() tells). Four children sit side by side in one or two cache lines and the
// heap is half as deep as a binary one, which is what the sift loops pay for at 1M entries.
// A hierarchical timing wheel (Varghese & Lauck) would make insert and cancel O(1), but pops
// must come out in exact (due, insertion) order at millisecond resolution, which a wheel only
// gives by sorting within slots and re-sorting cascaded entries; a heap gives it for free, and
// inserting random due times into it costs O(1) on average anyway.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/time.h"

namespace ombud {

// Which timer: `instance` is a handle the runtime gives each instance (the integer key of its
// row, say) rather than its string id, so that a key is 16 bytes, hashes cheaply and never
// allocates; `timer` is the instance's PendingTimer::id.
struct TimerKey {
  std::uint64_t instance = 0;
  std::uint64_t timer = 0;
  friend bool operator==(const TimerKey&, const TimerKey&) = default;
};

struct DueEntry {
  Timestamp due{};
  TimerKey key;
  friend bool operator==(const DueEntry&, const DueEntry&) = default;
};

// Timers keyed by TimerKey, popped in order of due time; timers due at the same instant pop in
// the order they were inserted (a re-insert counts as a new insertion).
//
// Each key is held at most once: inserting a key that is already queued replaces its due time.
// Costs with n timers queued: insert, cancel and popping one timer O(log n) (insert O(1) on
// average for random due times); next_due, size O(1). At most 2^32 - 2 timers at once.
//
// Not thread-safe: one owner (the node's timer loop) calls everything.
class TimerQueue {
 public:
  TimerQueue() = default;
  // For tests: renumber the tie-breaking sequence after `sequence_space` inserts instead of
  // after ~4 billion, so the renumbering (an O(n log n) sort) can be exercised. Must be > 0.
  explicit TimerQueue(std::uint32_t sequence_space);

  // Queues `key` to fire at `due`, or moves it to `due` if it is already queued. Returns true
  // when the key was new. Throws std::bad_alloc (or std::length_error past the size limit) and
  // then leaves the queue unchanged.
  bool insert(Timestamp due, TimerKey key);

  // Removes `key`. Returns false, changing nothing, when it is not queued.
  bool cancel(const TimerKey& key);

  // Removes up to `max` timers due at or before `now`, earliest first, and appends them to
  // `out`; returns how many. If appending throws, the timer being appended and all later ones
  // stay queued and those already appended stay in `out`, so no timer is lost.
  std::size_t pop_due(Timestamp now, std::size_t max, std::vector<DueEntry>& out);
  std::vector<DueEntry> pop_due(Timestamp now, std::size_t max);

  // The earliest due time, or nullopt when empty: how long the timer loop may sleep.
  std::optional<Timestamp> next_due() const;
  // The due time of `key`, or nullopt when it is not queued.
  std::optional<Timestamp> due_of(const TimerKey& key) const;

  std::size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }

  // Makes room for `count` timers in total, so that loading a window allocates once.
  void reserve(std::size_t count);
  // Bytes held by the queue's arrays (their capacity, not only what is in use).
  std::size_t allocated_bytes() const;

 private:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  struct HeapEntry {
    Timestamp due;
    std::uint32_t seq;   // insertion order among equal due times
    std::uint32_t node;  // index into nodes_
  };
  struct Node {
    TimerKey key;
    std::uint32_t heap_pos;  // kNone while the node is free
    std::uint32_t next;      // next node in the bucket's chain, or in the free list
  };
  // The per-timer memory budget the design comment promises.
  static_assert(sizeof(HeapEntry) == 16);
  static_assert(sizeof(Node) == 24);

  static bool before(const HeapEntry& a, const HeapEntry& b) {
    return a.due < b.due || (a.due == b.due && a.seq < b.seq);
  }
  std::size_t bucket_of(const TimerKey& key) const;
  // The link (bucket head or a node's `next`) that holds `key`'s node, or the kNone link ending
  // its chain. Requires buckets_ to be non-empty.
  std::uint32_t* find_link(const TimerKey& key);
  std::uint32_t find_node(const TimerKey& key) const;
  void rehash(std::size_t bucket_count);
  std::uint32_t take_sequence();
  void renumber_sequences();
  void place(std::size_t pos, const HeapEntry& entry);
  void sift_up(std::size_t pos, HeapEntry entry);
  void sift_down(std::size_t pos, HeapEntry entry);
  void remove_at(std::size_t pos);
  void free_node(std::uint32_t node);

  std::vector<HeapEntry> heap_;
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> buckets_;  // chain heads; size is 0 or a power of two
  std::uint32_t free_ = kNone;          // head of the free-node list
  std::uint32_t next_seq_ = 0;
  std::uint32_t sequence_space_ = UINT32_MAX;
};

}  // namespace ombud
