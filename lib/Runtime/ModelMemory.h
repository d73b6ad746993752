//===- ModelMemory.h - Where the model code's buffers live ------*- C++ -*-===//
//
// The generated code reads parameters, state and token ids, and returns
// logits, in the memory of the device it runs on: host memory for CPU
// executables (HostMemory.cpp), GPU memory for CUDA ones (CudaDriver.cpp).
// The rest of the runtime moves data across only through these calls.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_MODELMEMORY_H
#define HYMBA_RUNTIME_MODELMEMORY_H

#include <cstddef>
#include <string>

namespace mlir::hymba {

/// Prepares the device; false with a message when it is unusable (CUDA: no
/// driver or no GPU). Always true on the CPU.
bool initModelDevice(std::string &error);

/// Host memory the parameters can be read into instead of mapped (CPU
/// executables: 2 MB pages where the kernel allows them, see HostMemory.cpp),
/// not zeroed; release it with freeModelBuffer. Null where the model reads
/// its parameters elsewhere (a GPU) or when none can be had.
void *allocParamsMemory(size_t bytes);

/// The parameters as the model code reads them: on the CPU the mapped
/// payload itself, on the GPU a copy uploaded once.
void *placeParams(void *mapped, size_t bytes);
/// True when placeParams made a copy (release it with freeModelBuffer).
bool paramsAreCopied();

/// A zeroed buffer for the model code.
void *allocModelBuffer(size_t bytes);
/// Frees a buffer from allocModelBuffer or placeParams, or one the model
/// code returned (its `allocated` pointer).
void freeModelBuffer(void *ptr);

/// Copies between host memory and model buffers; copies to the host wait
/// for the model's queued work first.
void copyToModel(void *dst, const void *src, size_t bytes);
void copyFromModel(void *dst, const void *src, size_t bytes);

/// Kernels launched so far (0 on the CPU), for --stats.
unsigned long long kernelLaunches();

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_MODELMEMORY_H
