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

void *mlir::hymba::allocModelBuffer(size_t bytes) {
  // 64-byte aligned, like the buffers the model code allocates itself;
  // buffers of 2 MB and more (the state arena: KV caches, conv and SSM
  // states) on huge pages where the kernel allows them, so zeroing the
  // arena at start-up takes one fault per 2 MB instead of one per 4 KB.
  // Null when it cannot be had, the rounding overflowing included.
  constexpr size_t kHugePage = 2 << 20;
  size_t align = bytes >= kHugePage ? kHugePage : 64;
  if (bytes > SIZE_MAX - (align - 1))
    return nullptr;
  size_t rounded = (bytes + align - 1) / align * align;
  void *p = std::aligned_alloc(align, rounded ? rounded : align);
  if (!p)
    return nullptr;
  if (align == kHugePage)
    (void)madvise(p, rounded, MADV_HUGEPAGE);
  std::memset(p, 0, rounded);
  return p;
}

void mlir::hymba::freeModelBuffer(void *ptr) { std::free(ptr); }

void mlir::hymba::copyToModel(void *dst, const void *src, size_t bytes) {
  std::memcpy(dst, src, bytes);
}

void mlir::hymba::copyFromModel(void *dst, const void *src, size_t bytes) {
  std::memcpy(dst, src, bytes);
}

unsigned long long mlir::hymba::kernelLaunches() { return 0; }
