//===- InputFile.cpp - Read a checkpoint file without trusting it ---------===//
#include "hymba/Import/InputFile.h"

#include "llvm/Support/FormatVariadic.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir::hymba;

namespace {
llvm::Error fail(llvm::StringRef path, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + msg);
}
} // namespace

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
mlir::hymba::readRegularFile(llvm::StringRef path, uint64_t maxBytes) {
  std::string p = path.str();
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  int fd = ::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return fail(path, llvm::Twine("cannot read: ") + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(path, S_ISDIR(st.st_mode)
                          ? "is a directory, expected a regular file"
                          : "is not a regular file (a FIFO, device or "
                            "socket); refusing to read it");
  }
  if (uint64_t(st.st_size) > maxBytes) {
    ::close(fd);
    return fail(path, llvm::formatv("is {0} bytes, more than the {1} a file "
                                    "of this kind may have",
                                    uint64_t(st.st_size), maxBytes));
  }
  auto buf = llvm::MemoryBuffer::getOpenFile(fd, path, uint64_t(st.st_size),
                                             /*RequiresNullTerminator=*/false);
  ::close(fd);
  if (!buf)
    return fail(path, "cannot read: " + buf.getError().message());
  return std::move(*buf);
}
