//===- CudaDriver.cpp - GPU memory and the mgpu* entry points -------------===//
//
// MLIR's gpu-to-llvm lowering calls the mgpu* functions below (the
// signatures of MLIR 22). Debian ships no libmlir_cuda_runtime, so the
// runtime provides them on top of the CUDA driver API, which it declares
// itself and opens with dlopen: nothing here needs the CUDA toolkit to
// build, and a machine without a driver gets a clear error, not a loader
// failure.
//
// Execution model: all model work goes to one in-order stream.
// hymba-gpu-device-buffers guarantees that host code never dereferences a
// model buffer, so nothing needs to wait for a kernel except a copy back to
// the host (copyFromModel) and the waits gpu-async-region leaves at function
// boundaries. Device buffers come from a cache keyed by size: a decode step
// allocates the same sizes every time, and returning a buffer to the cache
// is safe without waiting because any later user is queued behind the
// kernels that used it on the same stream.
//
//===----------------------------------------------------------------------===//

#include "ModelMemory.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <unordered_map>
#include <vector>

namespace {
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUevent_st;
using CUcontext = CUctx_st *;
using CUmodule = CUmod_st *;
using CUfunction = CUfunc_st *;
using CUstream = CUstream_st *;
using CUevent = CUevent_st *;
constexpr unsigned kEventDisableTiming = 2;

struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, CUstream, void **,
                             void **);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventDestroy)(CUevent);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventSynchronize)(CUevent);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
  CUresult (*cuMemsetD16Async)(CUdeviceptr, unsigned short, size_t, CUstream);
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*cuGetErrorString)(CUresult, const char **);
} driver;
bool ready = false;
CUstream modelStream = nullptr;
unsigned long long launches = 0;

void check(CUresult r, const char *what) {
  if (r == 0)
    return;
  const char *msg = "unknown error";
  if (driver.cuGetErrorString)
    driver.cuGetErrorString(r, &msg);
  std::fprintf(stderr, "error: CUDA %s failed: %s\n", what, msg);
  std::exit(1);
}

template <typename Fn> bool bind(void *lib, Fn &fn, const char *name) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
  return fn != nullptr;
}

bool bindAll(void *lib) {
  return bind(lib, driver.cuInit, "cuInit") &&
         bind(lib, driver.cuDeviceGetCount, "cuDeviceGetCount") &&
         bind(lib, driver.cuDeviceGet, "cuDeviceGet") &&
         bind(lib, driver.cuDevicePrimaryCtxRetain,
              "cuDevicePrimaryCtxRetain") &&
         bind(lib, driver.cuCtxSetCurrent, "cuCtxSetCurrent") &&
         bind(lib, driver.cuModuleLoadData, "cuModuleLoadData") &&
         bind(lib, driver.cuModuleUnload, "cuModuleUnload") &&
         bind(lib, driver.cuModuleGetFunction, "cuModuleGetFunction") &&
         bind(lib, driver.cuLaunchKernel, "cuLaunchKernel") &&
         bind(lib, driver.cuStreamCreate, "cuStreamCreate") &&
         bind(lib, driver.cuStreamSynchronize, "cuStreamSynchronize") &&
         bind(lib, driver.cuStreamWaitEvent, "cuStreamWaitEvent") &&
         bind(lib, driver.cuEventCreate, "cuEventCreate") &&
         bind(lib, driver.cuEventDestroy, "cuEventDestroy_v2") &&
         bind(lib, driver.cuEventRecord, "cuEventRecord") &&
         bind(lib, driver.cuEventSynchronize, "cuEventSynchronize") &&
         bind(lib, driver.cuMemAlloc, "cuMemAlloc_v2") &&
         bind(lib, driver.cuMemFree, "cuMemFree_v2") &&
         bind(lib, driver.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2") &&
         bind(lib, driver.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2") &&
         bind(lib, driver.cuMemcpyAsync, "cuMemcpyAsync") &&
         bind(lib, driver.cuMemsetD8Async, "cuMemsetD8Async") &&
         bind(lib, driver.cuMemsetD16Async, "cuMemsetD16Async") &&
         bind(lib, driver.cuMemsetD32Async, "cuMemsetD32Async") &&
         bind(lib, driver.cuGetErrorString, "cuGetErrorString");
}

/// gpu-to-llvm loads kernel modules from global constructors, i.e. before
/// main: every entry point makes sure the driver is there, or exits with a
/// clear message.
void requireDriver() {
  std::string error;
  if (!mlir::hymba::initModelDevice(error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    std::exit(1);
  }
}

/// Device buffers by size, reused across steps (see the file comment).
class BufferCache {
public:
  void *take(size_t bytes) {
    bytes = bytes ? bytes : 1;
    std::vector<CUdeviceptr> &list = free[bytes];
    CUdeviceptr p = 0;
    if (!list.empty()) {
      p = list.back();
      list.pop_back();
    } else if (driver.cuMemAlloc(&p, bytes) != 0) {
      // Out of memory: give the cached buffers back and try once more.
      driver.cuStreamSynchronize(modelStream);
      release();
      check(driver.cuMemAlloc(&p, bytes), "cuMemAlloc");
    }
    sizes[p] = bytes;
    return reinterpret_cast<void *>(p);
  }
  void give(void *ptr) {
    if (!ptr)
      return;
    auto it = sizes.find(reinterpret_cast<CUdeviceptr>(ptr));
    if (it == sizes.end())
      return; // not ours (a view or a foreign pointer): leave it
    free[it->second].push_back(it->first);
    sizes.erase(it);
  }

private:
  void release() {
    for (auto &[bytes, list] : free)
      for (CUdeviceptr p : list)
        driver.cuMemFree(p);
    free.clear();
  }
  std::unordered_map<size_t, std::vector<CUdeviceptr>> free;
  std::unordered_map<CUdeviceptr, size_t> sizes;
};
BufferCache &cache() {
  static BufferCache *c = new BufferCache; // lives until exit
  return *c;
}
} // namespace

bool mlir::hymba::initModelDevice(std::string &error) {
  if (ready)
    return true;
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    error = "this executable runs on an NVIDIA GPU, but the CUDA driver "
            "(libcuda.so.1) is not available: " +
            std::string(dlerror());
    return false;
  }
  if (!bindAll(lib)) {
    error = "the CUDA driver (libcuda.so.1) lacks an entry point the "
            "runtime needs; is the driver too old?";
    return false;
  }
  int count = 0;
  if (driver.cuInit(0) != 0 || driver.cuDeviceGetCount(&count) != 0 ||
      count == 0) {
    error = "this executable runs on an NVIDIA GPU, but no CUDA device is "
            "available";
    return false;
  }
  CUdevice dev;
  CUcontext ctx;
  check(driver.cuDeviceGet(&dev, 0), "cuDeviceGet");
  check(driver.cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
  check(driver.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
  check(driver.cuStreamCreate(&modelStream, 0), "cuStreamCreate");
  ready = true;
  return true;
}

void *mlir::hymba::allocParamsMemory(size_t) {
  return nullptr; // placeParams uploads them from the mapping
}

void *mlir::hymba::placeParams(void *mapped, size_t bytes) {
  // The upload overwrites every byte: no zero fill first.
  requireDriver();
  void *dev = cache().take(bytes);
  copyToModel(dev, mapped, bytes);
  return dev;
}

bool mlir::hymba::paramsAreCopied() { return true; }

void *mlir::hymba::allocModelBuffer(size_t bytes) {
  requireDriver();
  void *p = cache().take(bytes);
  check(driver.cuMemsetD8Async(reinterpret_cast<CUdeviceptr>(p), 0, bytes,
                               modelStream),
        "cuMemsetD8Async");
  return p;
}

void mlir::hymba::freeModelBuffer(void *ptr) { cache().give(ptr); }

void mlir::hymba::copyToModel(void *dst, const void *src, size_t bytes) {
  // Synchronous from the caller's view: `src` may be reused right away.
  check(driver.cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(dst), src, bytes,
                                 modelStream),
        "cuMemcpyHtoDAsync");
  check(driver.cuStreamSynchronize(modelStream), "cuStreamSynchronize");
}

void mlir::hymba::copyFromModel(void *dst, const void *src, size_t bytes) {
  check(driver.cuMemcpyDtoHAsync(dst, reinterpret_cast<CUdeviceptr>(src), bytes,
                                 modelStream),
        "cuMemcpyDtoHAsync");
  check(driver.cuStreamSynchronize(modelStream), "cuStreamSynchronize");
}

unsigned long long mlir::hymba::kernelLaunches() { return launches; }

// The entry points MLIR's gpu-to-llvm lowering calls.
extern "C" {
void *mgpuModuleLoad(void *data, int64_t /*size*/) {
  requireDriver();
  CUmodule m = nullptr;
  check(driver.cuModuleLoadData(&m, data), "cuModuleLoadData");
  return m;
}
void *mgpuModuleLoadJIT(void *data, int /*optLevel*/) {
  return mgpuModuleLoad(data, 0);
}
void mgpuModuleUnload(void *module) {
  if (ready)
    driver.cuModuleUnload(static_cast<CUmodule>(module));
}
void *mgpuModuleGetFunction(void *module, const char *name) {
  CUfunction f = nullptr;
  check(driver.cuModuleGetFunction(&f, static_cast<CUmodule>(module), name),
        "cuModuleGetFunction");
  return f;
}
void mgpuLaunchKernel(void *f, int64_t gx, int64_t gy, int64_t gz, int64_t bx,
                      int64_t by, int64_t bz, int32_t smem, void * /*stream*/,
                      void **params, void **extra, size_t /*paramsCount*/) {
  ++launches;
  check(driver.cuLaunchKernel(static_cast<CUfunction>(f), gx, gy, gz, bx, by,
                              bz, smem, modelStream, params, extra),
        "cuLaunchKernel");
}
// Every "stream" the generated code asks for is the model stream.
void *mgpuStreamCreate() {
  requireDriver();
  return modelStream;
}
void mgpuStreamDestroy(void * /*stream*/) {}
void mgpuStreamSynchronize(void * /*stream*/) {
  check(driver.cuStreamSynchronize(modelStream), "cuStreamSynchronize");
}
void mgpuStreamWaitEvent(void * /*stream*/, void *event) {
  check(driver.cuStreamWaitEvent(modelStream, static_cast<CUevent>(event), 0),
        "cuStreamWaitEvent");
}
void *mgpuEventCreate() {
  requireDriver();
  CUevent e = nullptr;
  check(driver.cuEventCreate(&e, kEventDisableTiming), "cuEventCreate");
  return e;
}
void mgpuEventDestroy(void *event) {
  driver.cuEventDestroy(static_cast<CUevent>(event));
}
void mgpuEventSynchronize(void *event) {
  check(driver.cuEventSynchronize(static_cast<CUevent>(event)),
        "cuEventSynchronize");
}
void mgpuEventRecord(void *event, void * /*stream*/) {
  check(driver.cuEventRecord(static_cast<CUevent>(event), modelStream),
        "cuEventRecord");
}
void *mgpuMemAlloc(uint64_t bytes, void * /*stream*/, bool hostShared) {
  requireDriver();
  if (hostShared) {
    std::fprintf(stderr, "error: the model code asked for host-shared GPU "
                         "memory, which this runtime does not provide\n");
    std::exit(1);
  }
  return cache().take(bytes);
}
void mgpuMemFree(void *ptr, void * /*stream*/) { cache().give(ptr); }
void mgpuMemcpy(void *dst, void *src, size_t bytes, void * /*stream*/) {
  check(driver.cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                             reinterpret_cast<CUdeviceptr>(src), bytes,
                             modelStream),
        "cuMemcpyAsync");
}
void mgpuMemset32(void *dst, unsigned value, size_t count, void * /*stream*/) {
  check(driver.cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value,
                                count, modelStream),
        "cuMemsetD32Async");
}
void mgpuMemset16(void *dst, unsigned short value, size_t count,
                  void * /*stream*/) {
  check(driver.cuMemsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value,
                                count, modelStream),
        "cuMemsetD16Async");
}
void mgpuSetDefaultDevice(int32_t /*device*/) {}
}
