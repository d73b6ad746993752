//===- ModelFile.cpp - The payload of the running executable --------------===//
#include "ModelFile.h"
#include "ModelMemory.h"
#include "hymba/Runtime/Payload.h"

#include <cstring>
#include <fcntl.h>
#include <sstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace hymba;

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

bool ModelFile::open(const std::string &path, std::string &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open: " + strerror(errno);
    return false;
  }
  struct stat st;
  PayloadTrailer tr;
  bool ok = fstat(fd, &st) == 0 && uint64_t(st.st_size) >= sizeof(tr) &&
            readAt(fd, &tr, sizeof(tr), st.st_size - sizeof(tr)) &&
            std::memcmp(tr.magic, kPayloadMagic, sizeof(tr.magic)) == 0;
  uint64_t size = st.st_size;
  if (ok)
    ok = tr.paramsOffset % kPayloadAlignment == 0 &&
         tr.paramsOffset + tr.paramsBytes <= size &&
         tr.tokenizerOffset + tr.tokenizerBytes <= size &&
         tr.metadataOffset + tr.metadataBytes <= size &&
         tr.stateSnapshotOffset + tr.stateSnapshotBytes <= size &&
         (tr.stateSnapshotBytes == 0 || tr.stateSnapshotBytes == tr.stateBytes);
  if (!ok) {
    close(fd);
    error =
        path + ": no model payload (was this file produced by hymba-compile?)";
    return false;
  }
  std::string meta(tr.metadataBytes, '\0');
  tokenizer.assign(tr.tokenizerBytes, '\0');
  snapshot.assign(tr.stateSnapshotBytes, '\0');
  if (!readAt(fd, meta.data(), meta.size(), tr.metadataOffset) ||
      !readAt(fd, tokenizer.data(), tokenizer.size(), tr.tokenizerOffset) ||
      !readAt(fd, snapshot.data(), snapshot.size(), tr.stateSnapshotOffset)) {
    close(fd);
    error = path + ": cannot read the model payload";
    return false;
  }
  std::istringstream lines(meta);
  for (std::string line; std::getline(lines, line);) {
    size_t eq = line.find('=');
    if (eq != std::string::npos)
      metadata[line.substr(0, eq)] = line.substr(eq + 1);
  }
  paramsSize = tr.paramsBytes;
  stateSize = tr.stateBytes;
  mapBytes = paramsSize ? paramsSize : 1;
  mapBase = mmap(nullptr, mapBytes, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd,
                 tr.paramsOffset);
  close(fd);
  if (mapBase == MAP_FAILED) {
    mapBase = nullptr;
    error = path + ": cannot map the parameters: " + strerror(errno);
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
  if (mapBase)
    munmap(mapBase, mapBytes);
  else if (paramsPtr)
    freeModelBuffer(paramsPtr);
}

int64_t ModelFile::meta(const std::string &key) const {
  auto it = metadata.find(key);
  return it == metadata.end() ? -1 : std::stoll(it->second);
}
