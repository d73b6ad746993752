//===- CudaDriver.h - The CUDA driver, opened at run time -------*- C++ -*-===//
//
// GPU executables reach the CUDA driver through dlopen("libcuda.so.1"), so
// that on a machine without a GPU or driver they start, say so clearly and
// exit 1 instead of failing in the dynamic loader.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_CUDADRIVER_H
#define HYMBA_RUNTIME_CUDADRIVER_H

#include <cstddef>
#include <string>

namespace hymba {

/// Opens the driver, initialises it and makes device 0's primary context
/// current. False with a message naming what is missing.
bool initCuda(std::string &error);

/// Memory reachable from host code and kernels (CUDA managed memory).
void *allocShared(size_t bytes);
void freeShared(void *ptr);

/// Waits for all queued GPU work.
void synchronizeGPU();

} // namespace hymba

#endif // HYMBA_RUNTIME_CUDADRIVER_H
