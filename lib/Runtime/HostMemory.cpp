//===- HostMemory.cpp - Model buffers of CPU executables ------------------===//
#include "ModelMemory.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

bool hymba::initModelDevice(std::string &) { return true; }

void *hymba::placeParams(void *mapped, size_t) { return mapped; }

bool hymba::paramsAreCopied() { return false; }

void *hymba::allocModelBuffer(size_t bytes) {
  // 64-byte aligned, like the buffers the model code allocates itself.
  // Null when it cannot be had, the rounding overflowing included.
  if (bytes > SIZE_MAX - 63)
    return nullptr;
  size_t rounded = (bytes + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, rounded ? rounded : 64);
  if (p)
    std::memset(p, 0, rounded);
  return p;
}

void hymba::freeModelBuffer(void *ptr) { std::free(ptr); }

void hymba::copyToModel(void *dst, const void *src, size_t bytes) {
  std::memcpy(dst, src, bytes);
}

void hymba::copyFromModel(void *dst, const void *src, size_t bytes) {
  std::memcpy(dst, src, bytes);
}

unsigned long long hymba::kernelLaunches() { return 0; }
