//===- FuzzSafeTensors.cpp - libFuzzer target: the safetensors reader -----===//
//
// Any byte string as a .safetensors file: the reader must return a result
// or an error, never crash, hang or read out of bounds (ASan+UBSan).
//
//===----------------------------------------------------------------------===//
#include "hymba/Import/SafeTensors.h"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buf = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz");
  auto file = mlir::hymba::SafeTensorsFile::parse(std::move(buf), "fuzz");
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  // Touch every tensor's bytes: the reader promised they are in bounds.
  volatile uint8_t sink = 0;
  for (const mlir::hymba::TensorInfo &t : (*file)->tensors())
    if (t.numBytes > 0)
      sink = sink ^ uint8_t(t.data[0]) ^ uint8_t(t.data[t.numBytes - 1]);
  (void)sink;
  return 0;
}
