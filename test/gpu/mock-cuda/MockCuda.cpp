//===- MockCuda.cpp - A stand-in libcuda.so.1 for host-side tests ---------===//
//
// Lets a GPU executable's host code run on a machine without a GPU: kernels
// are not executed (launches are checked and counted), but everything else
// the runtime does with the driver happens. Device memory is a shared-memory
// file mapped twice: the addresses handed to the program are mapped
// PROT_NONE, so any host access to device memory crashes the test, while
// copies and memsets go through a second, writable mapping. This checks the
// compiler's promise (hymba-gpu-device-buffers) and the runtime's use of the
// driver: module loading from global constructors, the buffer cache, the
// stream, uploads and downloads. Fatbins passed to cuModuleLoadData must
// carry the fatbin magic; launch shapes must be valid CUDA shapes.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

namespace {
constexpr size_t kArena = size_t(8) << 30; // address space only (sparse)
char *device = nullptr;                    // PROT_NONE view (the program's)
char *shadow = nullptr;                    // writable view (ours)
size_t used = 0;
unsigned long long launches = 0;

[[noreturn]] void die(const char *what) {
  std::fprintf(stderr, "mock libcuda: %s\n", what);
  std::abort();
}

void mapArena() {
  int fd = memfd_create("mock-cuda-device", 0);
  if (fd < 0 || ftruncate(fd, kArena) != 0)
    die("cannot create the device arena");
  device = static_cast<char *>(
      mmap(nullptr, kArena, PROT_NONE, MAP_SHARED | MAP_NORESERVE, fd, 0));
  shadow = static_cast<char *>(mmap(nullptr, kArena, PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_NORESERVE, fd, 0));
  if (device == MAP_FAILED || shadow == MAP_FAILED)
    die("cannot map the device arena");
}

char *ours(unsigned long long p, size_t bytes) {
  char *d = reinterpret_cast<char *>(p);
  if (d < device || d + bytes > device + used)
    die("a copy or memset outside allocated device memory");
  return shadow + (d - device);
}

struct Report {
  ~Report() {
    if (std::getenv("MOCK_CUDA_REPORT"))
      std::fprintf(stderr, "mock libcuda: %llu launches, %zu bytes allocated\n",
                   launches, used);
  }
} report;
} // namespace

extern "C" {
int cuInit(unsigned) {
  if (!device)
    mapArena();
  return 0;
}
int cuDeviceGetCount(int *n) { return *n = 1, 0; }
int cuDeviceGet(int *d, int) { return *d = 0, 0; }
int cuDevicePrimaryCtxRetain(void **ctx, int) {
  static int context;
  return *ctx = &context, 0;
}
int cuCtxSetCurrent(void *) { return 0; }
int cuModuleLoadData(void **module, const void *image) {
  uint32_t magic;
  std::memcpy(&magic, image, 4);
  if (magic != 0xBA55ED50u)
    die("cuModuleLoadData: the image is not a fatbin");
  static int mod;
  return *module = &mod, 0;
}
int cuModuleUnload(void *) { return 0; }
int cuModuleGetFunction(void **f, void *, const char *name) {
  if (!name || !*name)
    die("cuModuleGetFunction: no kernel name");
  static int fn;
  return *f = &fn, 0;
}
int cuLaunchKernel(void *, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                   unsigned by, unsigned bz, unsigned smem, void *,
                   void **params, void **) {
  if (!gx || !gy || !gz || !bx || !by || !bz || uint64_t(bx) * by * bz > 1024 ||
      gy > 65535 || gz > 65535 || smem > 48 * 1024 || !params)
    die("cuLaunchKernel: invalid launch shape");
  ++launches;
  return 0;
}
int cuStreamCreate(void **s, unsigned) {
  static int stream;
  return *s = &stream, 0;
}
int cuStreamSynchronize(void *) { return 0; }
int cuStreamWaitEvent(void *, void *, unsigned) { return 0; }
int cuEventCreate(void **e, unsigned) {
  static int event;
  return *e = &event, 0;
}
int cuEventDestroy_v2(void *) { return 0; }
int cuEventRecord(void *, void *) { return 0; }
int cuEventSynchronize(void *) { return 0; }
int cuMemAlloc_v2(unsigned long long *p, size_t bytes) {
  size_t start = (used + 255) / 256 * 256;
  if (start + bytes > kArena)
    return 2; // CUDA_ERROR_OUT_OF_MEMORY
  used = start + bytes;
  *p = reinterpret_cast<unsigned long long>(device + start);
  return 0;
}
int cuMemFree_v2(unsigned long long) { return 0; }
int cuMemcpyHtoDAsync_v2(unsigned long long dst, const void *src, size_t n,
                         void *) {
  std::memcpy(ours(dst, n), src, n);
  return 0;
}
int cuMemcpyDtoHAsync_v2(void *dst, unsigned long long src, size_t n, void *) {
  std::memcpy(dst, ours(src, n), n);
  return 0;
}
int cuMemcpyAsync(unsigned long long dst, unsigned long long src, size_t n,
                  void *) {
  std::memmove(ours(dst, n), ours(src, n), n);
  return 0;
}
int cuMemsetD8Async(unsigned long long dst, unsigned char v, size_t n, void *) {
  std::memset(ours(dst, n), v, n);
  return 0;
}
int cuMemsetD16Async(unsigned long long dst, unsigned short v, size_t n,
                     void *) {
  auto *p = reinterpret_cast<uint16_t *>(ours(dst, 2 * n));
  for (size_t i = 0; i < n; ++i)
    p[i] = v;
  return 0;
}
int cuMemsetD32Async(unsigned long long dst, unsigned v, size_t n, void *) {
  auto *p = reinterpret_cast<uint32_t *>(ours(dst, 4 * n));
  for (size_t i = 0; i < n; ++i)
    p[i] = v;
  return 0;
}
int cuGetErrorString(int, const char **s) { return *s = "mock error", 0; }
}
