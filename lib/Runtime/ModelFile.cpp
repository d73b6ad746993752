//===- ModelFile.cpp - The payload of the running executable --------------===//
#include "ModelFile.h"
#include "ModelAbi.h"
#include "ModelMemory.h"
#include "PayloadReader.h"
#include "hymba/Runtime/Payload.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir::hymba;

namespace {
bool readAt(int fd, void *dst, uint64_t n, uint64_t off) {
  char *p = static_cast<char *>(dst);
  while (n) {
    ssize_t r = pread(fd, p, n, off);
    if (r <= 0)
      return false;
    p += r;
    n -= r;
    off += r;
  }
  return true;
}
} // namespace

bool ModelFile::open(const std::string &path, bool forPrefixState,
                     std::string &error) {
  // Messages name the file the user ran, not /proc/self/exe.
  std::string shown = path;
  char real[4096];
  ssize_t n = readlink(path.c_str(), real, sizeof(real));
  if (n > 0 && size_t(n) < sizeof(real))
    shown.assign(real, size_t(n));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = shown + ": cannot open: " + strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    error = shown + ": not a regular file";
    return false;
  }
  PayloadContents payload;
  // The snapshot (the state after the meta tokens: KV caches, 165 MB for
  // the 1.5B model) is mapped below rather than read into a string.
  payload.skipSnapshot = true;
  std::string why;
  if (!readPayload(
          uint64_t(st.st_size),
          [&](void *dst, uint64_t n, uint64_t off) {
            return readAt(fd, dst, n, off);
          },
          hymba_model_facts, forPrefixState, payload, why)) {
    close(fd);
    error = shown + ": " + why;
    return false;
  }
  const PayloadTrailer &tr = payload.trailer;
  tokenizer = std::move(payload.tokenizer);
  metadata = std::move(payload.meta);
  paramsSize = tr.paramsBytes;
  stateSize = tr.stateBytes;
  if (tr.stateSnapshotBytes) {
    uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
    uint64_t start = tr.stateSnapshotOffset / page * page;
    snapshotMapBytes = tr.stateSnapshotOffset - start + tr.stateSnapshotBytes;
    snapshotMap = mmap(nullptr, snapshotMapBytes, PROT_READ, MAP_PRIVATE, fd,
                       off_t(start));
    if (snapshotMap == MAP_FAILED) {
      snapshotMap = nullptr;
      close(fd);
      error = shown + ": cannot map the prefix state: " + strerror(errno);
      return false;
    }
    madvise(snapshotMap, snapshotMapBytes, MADV_WILLNEED);
    snapshot = std::string_view(static_cast<const char *>(snapshotMap) +
                                    (tr.stateSnapshotOffset - start),
                                tr.stateSnapshotBytes);
  }
  // CPU executables read the parameters into their own memory on huge pages
  // (ModelMemory.h: allocParamsMemory), which pre-faults them too.
  // HYMBA_MMAP=1 maps the file instead: a quicker start, and the page cache
  // shared by every process that runs the same model.
  const char *mapOnly = getenv("HYMBA_MMAP");
  bool read = !forPrefixState && paramsSize &&
              !(mapOnly && *mapOnly && std::string(mapOnly) != "0");
  if (void *own = read ? allocParamsMemory(paramsSize) : nullptr) {
    errno = 0;
    if (!readAt(fd, own, paramsSize, tr.paramsOffset)) {
      int err = errno;
      freeModelBuffer(own);
      close(fd);
      error = shown + ": cannot read the parameters: " +
              (err ? strerror(err) : "the file is shorter than its payload");
      return false;
    }
    close(fd);
    paramsPtr = static_cast<int8_t *>(own);
    return true;
  }
  mapBytes = paramsSize ? paramsSize : 1;
  // The compile-time prefix run reads each weight once and releases it
  // (PageReleaser.h): faulting everything in first would only raise its
  // peak memory.
  mapBase = mmap(nullptr, mapBytes, PROT_READ,
                 MAP_PRIVATE | (forPrefixState ? 0 : MAP_POPULATE), fd,
                 tr.paramsOffset);
  close(fd);
  if (mapBase == MAP_FAILED) {
    mapBase = nullptr;
    error = shown + ": cannot map the parameters: " + strerror(errno);
    return false;
  }
  madvise(mapBase, mapBytes, MADV_WILLNEED);
  paramsPtr = static_cast<int8_t *>(placeParams(mapBase, paramsSize));
  if (paramsAreCopied()) { // the device holds its own copy now
    munmap(mapBase, mapBytes);
    mapBase = nullptr;
  }
  return true;
}

ModelFile::~ModelFile() {
  if (snapshotMap)
    munmap(snapshotMap, snapshotMapBytes);
  if (mapBase)
    munmap(mapBase, mapBytes);
  else if (paramsPtr)
    freeModelBuffer(paramsPtr);
}

int64_t ModelFile::meta(const std::string &key) const {
  // readPayload checked that every key the runtime uses is present.
  auto it = metadata.find(key);
  return it == metadata.end() ? -1 : it->second;
}
