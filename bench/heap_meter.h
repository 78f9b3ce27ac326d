// Heap use of this process, read from whichever allocator serves malloc: jemalloc (what the
// ombud executables link, docs/decisions/0008-jemalloc.md) or glibc's (a build with
// -DOMBUD_JEMALLOC=OFF, or under the sanitizers). Benchmarks take the difference across the
// work they measure.
//
//   - jemalloc: "stats.allocated", the bytes of the size classes handed out to live objects
//     (a 20-byte request counts 24), after a thread-cache flush and an epoch refresh.
//   - glibc: mallinfo2() uordblks + hblkhd, the bytes of the chunks in use, their 8-byte
//     headers and rounding to 16 included, plus mmap'ed blocks.
//
// Resident memory (VmRSS) is read too, as an allocator-neutral cross-check: it also holds
// what the allocator keeps in reserve and its own bookkeeping.
#pragma once

#include <dlfcn.h>
#include <malloc.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace ombud::bench {

class HeapMeter {
 public:
  HeapMeter() : mallctl_(reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"))) {}

  const char* allocator() const { return mallctl_ != nullptr ? "jemalloc" : "glibc"; }

  // What `in_use()` counts, for a figure's label.
  const char* measure() const {
    return mallctl_ != nullptr ? "jemalloc stats.allocated" : "glibc mallinfo2 uordblks+hblkhd";
  }

  std::size_t in_use() const {
    if (mallctl_ == nullptr) {
      const struct mallinfo2 m = mallinfo2();
      return m.uordblks + m.hblkhd;
    }
    mallctl_("thread.tcache.flush", nullptr, nullptr, nullptr, 0);
    std::uint64_t epoch = 1;
    std::size_t size = sizeof epoch;
    mallctl_("epoch", &epoch, &size, &epoch, size);
    std::size_t allocated = 0;
    size = sizeof allocated;
    if (mallctl_("stats.allocated", &allocated, &size, nullptr, 0) != 0) return 0;
    return allocated;
  }

  // VmRSS in bytes, 0 when /proc is not there.
  static std::size_t resident() {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (f == nullptr) return 0;
    char line[256];
    std::size_t kib = 0;
    while (std::fgets(line, sizeof line, f) != nullptr) {
      if (std::strncmp(line, "VmRSS:", 6) == 0) {
        std::sscanf(line + 6, "%zu", &kib);
        break;
      }
    }
    std::fclose(f);
    return kib * 1024;
  }

 private:
  using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
  Mallctl mallctl_;
};

// The process's one meter (it looks jemalloc up once).
inline const HeapMeter& heap() {
  static const HeapMeter meter;
  return meter;
}

}  // namespace ombud::bench
