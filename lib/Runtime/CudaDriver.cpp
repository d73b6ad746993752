//===- CudaDriver.cpp - mgpu* entry points over a dlopen'ed CUDA driver ---===//
//
// MLIR's gpu-to-llvm lowering calls the mgpu* functions below (the
// signatures of MLIR 22). Debian ships no libmlir_cuda_runtime, so the
// runtime provides them on top of the CUDA driver API, which it declares
// itself: nothing here needs the CUDA toolkit to build.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>

namespace {
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
using CUcontext = CUctx_st *;
using CUmodule = CUmod_st *;
using CUfunction = CUfunc_st *;
using CUstream = CUstream_st *;
constexpr unsigned kMemAttachGlobal = 1;

struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, CUstream, void **,
                             void **);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpy)(CUdeviceptr, CUdeviceptr, size_t);
  CUresult (*cuMemsetD32)(CUdeviceptr, unsigned, size_t);
  CUresult (*cuMemsetD16)(CUdeviceptr, unsigned short, size_t);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUcontext context = nullptr;
} driver;
bool ready = false;

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
} // namespace

namespace {
void requireDriver();
} // namespace

bool hymba::initCuda(std::string &error) {
  if (ready)
    return true;
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    error = "this executable runs on an NVIDIA GPU, but the CUDA driver "
            "(libcuda.so.1) is not available: " +
            std::string(dlerror());
    return false;
  }
  bool ok =
      bind(lib, driver.cuInit, "cuInit") &&
      bind(lib, driver.cuDeviceGetCount, "cuDeviceGetCount") &&
      bind(lib, driver.cuDeviceGet, "cuDeviceGet") &&
      bind(lib, driver.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain") &&
      bind(lib, driver.cuCtxSetCurrent, "cuCtxSetCurrent") &&
      bind(lib, driver.cuCtxSynchronize, "cuCtxSynchronize") &&
      bind(lib, driver.cuModuleLoadData, "cuModuleLoadData") &&
      bind(lib, driver.cuModuleUnload, "cuModuleUnload") &&
      bind(lib, driver.cuModuleGetFunction, "cuModuleGetFunction") &&
      bind(lib, driver.cuLaunchKernel, "cuLaunchKernel") &&
      bind(lib, driver.cuStreamCreate, "cuStreamCreate") &&
      bind(lib, driver.cuStreamDestroy, "cuStreamDestroy_v2") &&
      bind(lib, driver.cuStreamSynchronize, "cuStreamSynchronize") &&
      bind(lib, driver.cuMemAllocManaged, "cuMemAllocManaged") &&
      bind(lib, driver.cuMemAlloc, "cuMemAlloc_v2") &&
      bind(lib, driver.cuMemFree, "cuMemFree_v2") &&
      bind(lib, driver.cuMemcpy, "cuMemcpy") &&
      bind(lib, driver.cuMemsetD32, "cuMemsetD32_v2") &&
      bind(lib, driver.cuMemsetD16, "cuMemsetD16_v2") &&
      bind(lib, driver.cuGetErrorString, "cuGetErrorString");
  if (!ok) {
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
  check(driver.cuDeviceGet(&dev, 0), "cuDeviceGet");
  check(driver.cuDevicePrimaryCtxRetain(&driver.context, dev),
        "cuDevicePrimaryCtxRetain");
  check(driver.cuCtxSetCurrent(driver.context), "cuCtxSetCurrent");
  ready = true;
  return true;
}

void *hymba::allocShared(size_t bytes) {
  requireDriver();
  CUdeviceptr p = 0;
  check(driver.cuMemAllocManaged(&p, bytes ? bytes : 1, kMemAttachGlobal),
        "cuMemAllocManaged");
  return reinterpret_cast<void *>(p);
}

void hymba::freeShared(void *ptr) {
  if (ptr)
    check(driver.cuMemFree(reinterpret_cast<CUdeviceptr>(ptr)), "cuMemFree");
}

void hymba::synchronizeGPU() {
  check(driver.cuCtxSynchronize(), "cuCtxSynchronize");
}

namespace {
/// gpu-to-llvm loads kernel modules from global constructors, i.e. before
/// main: every entry point makes sure the driver is there, or exits with a
/// clear message.
void requireDriver() {
  std::string error;
  if (!hymba::initCuda(error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    std::exit(1);
  }
}
} // namespace

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
                      int64_t by, int64_t bz, int32_t smem, void *stream,
                      void **params, void **extra, size_t /*paramsCount*/) {
  check(driver.cuLaunchKernel(static_cast<CUfunction>(f), gx, gy, gz, bx, by,
                              bz, smem, static_cast<CUstream>(stream), params,
                              extra),
        "cuLaunchKernel");
}
void *mgpuStreamCreate() {
  requireDriver();
  CUstream s = nullptr;
  check(driver.cuStreamCreate(&s, 0), "cuStreamCreate");
  return s;
}
void mgpuStreamDestroy(void *s) {
  driver.cuStreamDestroy(static_cast<CUstream>(s));
}
void mgpuStreamSynchronize(void *s) {
  check(driver.cuStreamSynchronize(static_cast<CUstream>(s)),
        "cuStreamSynchronize");
}
void *mgpuMemAlloc(uint64_t bytes, void * /*stream*/, bool hostShared) {
  requireDriver();
  if (hostShared)
    return hymba::allocShared(bytes);
  CUdeviceptr p = 0;
  check(driver.cuMemAlloc(&p, bytes ? bytes : 1), "cuMemAlloc");
  return reinterpret_cast<void *>(p);
}
void mgpuMemFree(void *ptr, void * /*stream*/) {
  driver.cuCtxSynchronize();
  hymba::freeShared(ptr);
}
void mgpuMemcpy(void *dst, void *src, size_t bytes, void * /*stream*/) {
  check(driver.cuMemcpy(reinterpret_cast<CUdeviceptr>(dst),
                        reinterpret_cast<CUdeviceptr>(src), bytes),
        "cuMemcpy");
}
void mgpuMemset32(void *dst, unsigned value, size_t count, void * /*stream*/) {
  check(driver.cuMemsetD32(reinterpret_cast<CUdeviceptr>(dst), value, count),
        "cuMemsetD32");
}
void mgpuMemset16(void *dst, unsigned short value, size_t count,
                  void * /*stream*/) {
  check(driver.cuMemsetD16(reinterpret_cast<CUdeviceptr>(dst), value, count),
        "cuMemsetD16");
}
void mgpuSetDefaultDevice(int32_t /*device*/) {}
}
