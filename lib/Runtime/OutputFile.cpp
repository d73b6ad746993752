//===- OutputFile.cpp - Write a file without trusting its path ------------===//
#include "OutputFile.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir::hymba;

namespace {
bool writeAll(int fd, const OutputPiece *pieces, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const char *p = static_cast<const char *>(pieces[i].data);
    size_t n = pieces[i].size;
    while (n) {
      ssize_t w = ::write(fd, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return false;
      p += w;
      n -= size_t(w);
    }
  }
  return true;
}

std::string withErrno(const std::string &path, const char *what) {
  return path + ": " + what + ": " + std::strerror(errno);
}
} // namespace

bool mlir::hymba::writeOutputFile(const std::string &path, const void *data,
                                  size_t size, std::string &error) {
  OutputPiece piece{data, size};
  return writeOutputFile(path, &piece, 1, error);
}

bool mlir::hymba::writeOutputFile(const std::string &path,
                                  const OutputPiece *pieces, size_t count,
                                  std::string &error) {
  std::string target = path;
  struct stat st;
  bool exists = ::lstat(path.c_str(), &st) == 0;
  if (exists && S_ISLNK(st.st_mode)) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved) || ::stat(resolved, &st) != 0) {
      error = withErrno(path, "is a symlink to a missing file");
      return false;
    }
    target = resolved;
  }
  if (exists && S_ISDIR(st.st_mode)) {
    error = path + ": is a directory";
    return false;
  }
  if (exists && !S_ISREG(st.st_mode)) {
    // A device, FIFO or socket: write in place.
    int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      error = withErrno(path, "cannot open");
      return false;
    }
    bool ok = writeAll(fd, pieces, count);
    int saved = errno;
    ok &= ::close(fd) == 0;
    if (!ok) {
      errno = saved;
      error = withErrno(path, "write failed");
    }
    return ok;
  }

  // Same directory as the target, so the rename cannot cross file systems.
  size_t slash = target.rfind('/');
  std::string dir =
      slash == std::string::npos ? "" : target.substr(0, slash + 1);
  std::string base =
      slash == std::string::npos ? target : target.substr(slash + 1);
  std::string tmp = dir + "." + base + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    error = withErrno(path, "cannot create a temporary file beside it");
    return false;
  }
  mode_t mask = ::umask(0);
  ::umask(mask);
  bool ok = ::fchmod(fd, 0666 & ~mask) == 0 && writeAll(fd, pieces, count);
  int saved = errno;
  ok &= ::close(fd) == 0;
  if (ok && ::rename(tmp.c_str(), target.c_str()) != 0) {
    saved = errno;
    ok = false;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    errno = saved;
    error = withErrno(path, "cannot write");
  }
  return ok;
}
