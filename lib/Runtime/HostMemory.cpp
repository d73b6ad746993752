//===- HostMemory.cpp - Model buffers of CPU executables ------------------===//
#include "ModelMemory.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <sys/mman.h>

bool mlir::hymba::initModelDevice(std::string &) {
  // The model code mallocs its temporaries on every call and frees them
  // before it returns. With glibc's defaults a freed block of more than
  // 128 KB goes back to the kernel (an mmap'd block, or a trimmed heap top),
  // so every decode step faulted fresh zeroed pages in again: ~3,800 page
  // faults per step of the 1.5B model. Kept in the heap, they are reused.
  // (32 MB is the largest mmap threshold glibc accepts; larger blocks are
  // prefill temporaries, where a fault per page is noise.)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return true;
}

void *mlir::hymba::placeParams(void *mapped, size_t) { return mapped; }

bool mlir::hymba::paramsAreCopied() { return false; }

namespace {
/// 64-byte aligned, like the buffers the model code allocates itself;
/// blocks of 2 MB and more on huge pages where the kernel allows them. Null
/// when it cannot be had, the rounding overflowing included. `rounded` gets
/// the size actually allocated.
void *allocHostPages(size_t bytes, size_t &rounded) {
  constexpr size_t kHugePage = 2 << 20;
  size_t align = bytes >= kHugePage ? kHugePage : 64;
  if (bytes > SIZE_MAX - (align - 1))
    return nullptr;
  rounded = (bytes + align - 1) / align * align;
  if (!rounded)
    rounded = align;
  void *p = std::aligned_alloc(align, rounded);
  if (p && align == kHugePage)
    (void)madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}
} // namespace

void *mlir::hymba::allocModelBuffer(size_t bytes) {
  // The state arena (KV caches, conv and SSM states) is large: on huge
  // pages, zeroing it at start-up takes one fault per 2 MB, not per 4 KB.
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

void mlir::hymba::freeModelBuffer(void *ptr) { std::free(ptr); }

void mlir::hymba::copyToModel(void *dst, const void *src, size_t bytes) {
  std::memcpy(dst, src, bytes);
}

void mlir::hymba::copyFromModel(void *dst, const void *src, size_t bytes) {
  std::memcpy(dst, src, bytes);
}

unsigned long long mlir::hymba::kernelLaunches() { return 0; }
