//===- HostMemory.cpp - Model buffers of CPU executables ------------------===//
#include "ModelMemory.h"

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <mutex>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unordered_map>

// ASan's allocator ignores mallopt, and poisons a freed block's shadow:
// reserving heap pages there would only cost memory.
#if defined(__SANITIZE_ADDRESS__)
#define HYMBA_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HYMBA_ADDRESS_SANITIZER 1
#endif
#endif
#ifndef HYMBA_ADDRESS_SANITIZER
#define HYMBA_ADDRESS_SANITIZER 0
#endif

namespace {
constexpr size_t kHugePage = 2 << 20;

#if !HYMBA_ADDRESS_SANITIZER
/// True when RLIMIT_AS or strict overcommit accounting bounds what this
/// process may reserve (only the heap reservation below asks, which ASan
/// builds leave out).
bool addressSpaceIsLimited() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    return true;
  std::FILE *f = std::fopen("/proc/sys/vm/overcommit_memory", "r");
  if (!f)
    return false;
  int mode = 0;
  bool strict = std::fscanf(f, "%d", &mode) == 1 && mode == 2;
  std::fclose(f);
  return strict;
}
#endif

/// Sets glibc's heap up for the model code's temporaries (once a process).
void setUpHeap() {
  // The model code mallocs its temporaries on every call and frees them
  // before it returns. With glibc's defaults a freed block of more than
  // 128 KB goes back to the kernel (an mmap'd block, or a trimmed heap top),
  // so every decode step faulted fresh zeroed pages in again: ~3,800 page
  // faults per step of the 1.5B model. Kept in the heap, they are reused.
  // The threshold for mmap'd blocks alone is not enough: 32 MB is the
  // largest glibc accepts, and the projection outputs of a long prefill
  // chunk are larger (2048 rows x 8960 f32 = 73 MB), so every layer faulted
  // them in again, 4 KB at a time, each page zeroed by the kernel first. No
  // block is mmap'd now (the parameters and the state, which live as long
  // as the model, are mapped by this file itself).
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
#if !HYMBA_ADDRESS_SANITIZER
  // The heap's first GB on 2 MB pages (glibc's malloc.hugetlb tunable does
  // this, but only when set in the environment before the program starts):
  // the first layer of a long prefill faults its temporaries in 2 MB at a
  // time, and the GEMMs that stream them miss the TLB 512x less often. On a
  // 2000-token prefill of a 6-layer 1.5B-width model: 200k page faults and
  // 2-3 s of system time with mmap'd blocks, 79k from 4 KB heap pages, 2.7k
  // from these. The block is address space until touched and stays in the
  // heap once freed (below the trim threshold), where the model code's
  // temporaries reuse it. Not where the address space or the commit charge
  // is limited (RLIMIT_AS, vm.overcommit_memory=2): a GB held for later
  // would only make a real allocation fail sooner. aligned_alloc, not
  // malloc: executables wrap malloc to end the run when it fails.
  if (!addressSpaceIsLimited()) {
    constexpr size_t kReserve = size_t(1) << 30;
    if (void *block = std::aligned_alloc(kHugePage, kReserve)) {
      (void)madvise(block, kReserve, MADV_HUGEPAGE);
      std::free(block);
    }
  }
#endif
}
} // namespace

bool mlir::hymba::initModelDevice(std::string &) {
  static const bool heapReady = (setUpHeap(), true);
  (void)heapReady;
  return true;
}

void *mlir::hymba::placeParams(void *mapped, size_t) { return mapped; }

bool mlir::hymba::paramsAreCopied() { return false; }

namespace {
/// The blocks allocHostPages mapped, by address, with their mapped sizes.
std::mutex mappedLock;
std::unordered_map<void *, size_t> &mappedBlocks() {
  static std::unordered_map<void *, size_t> blocks;
  return blocks;
}

/// 64-byte aligned, like the buffers the model code allocates itself;
/// blocks of 2 MB and more mapped on their own, 2 MB aligned, on huge pages
/// where the kernel allows them (not from the heap, which keeps what it
/// once held). Null when it cannot be had, the rounding overflowing
/// included. `rounded` gets the size actually allocated.
void *allocHostPages(size_t bytes, size_t &rounded) {
  if (bytes < kHugePage) {
    rounded = bytes ? (bytes + 63) / 64 * 64 : 64;
    return std::aligned_alloc(64, rounded);
  }
  if (bytes > SIZE_MAX - 2 * kHugePage)
    return nullptr;
  rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  size_t span = rounded + kHugePage;
  void *raw = mmap(nullptr, span, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    return nullptr;
  uintptr_t start = (uintptr_t(raw) + kHugePage - 1) & ~(kHugePage - 1);
  size_t head = start - uintptr_t(raw);
  if (head)
    munmap(raw, head);
  if (size_t tail = span - head - rounded)
    munmap(reinterpret_cast<char *>(start) + rounded, tail);
  void *p = reinterpret_cast<void *>(start);
  (void)madvise(p, rounded, MADV_HUGEPAGE);
  std::lock_guard<std::mutex> lock(mappedLock);
  mappedBlocks().emplace(p, rounded);
  return p;
}
} // namespace

void *mlir::hymba::allocModelBuffer(size_t bytes) {
  // The state arena (KV caches, conv and SSM states) is large: on huge
  // pages, zeroing it at start-up takes one fault per 2 MB, not per 4 KB.
  // (A mapped block reads as zero already; the memset faults it in now,
  // not during the first model calls. A small one comes from the heap.)
  size_t rounded = 0;
  void *p = allocHostPages(bytes, rounded);
  if (p)
    std::memset(p, 0, rounded);
  return p;
}

void *mlir::hymba::allocParamsMemory(size_t bytes) {
  // A decode step streams every weight once. On the 4 KB pages of a file
  // mapping, each 4 KB costs a TLB miss and stops the hardware prefetcher
  // at the page boundary; on 2 MB pages one thread streams them faster.
  size_t rounded = 0;
  return allocHostPages(bytes, rounded);
}

void mlir::hymba::freeModelBuffer(void *ptr) {
  {
    std::lock_guard<std::mutex> lock(mappedLock);
    auto it = mappedBlocks().find(ptr);
    if (it != mappedBlocks().end()) {
      munmap(ptr, it->second);
      mappedBlocks().erase(it);
      return;
    }
  }
  std::free(ptr);
}

void mlir::hymba::copyToModel(void *dst, const void *src, size_t bytes) {
  std::memcpy(dst, src, bytes);
}

void mlir::hymba::copyFromModel(void *dst, const void *src, size_t bytes) {
  std::memcpy(dst, src, bytes);
}

unsigned long long mlir::hymba::kernelLaunches() { return 0; }
