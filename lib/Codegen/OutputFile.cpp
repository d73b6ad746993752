//===- OutputFile.cpp - Safe output files and temporaries -----------------===//
#include "hymba/Codegen/OutputFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>

using namespace mlir::hymba;

namespace {
llvm::Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Flushes `os` and turns a stream error into an llvm::Error; clears it so
/// the stream's destructor does not abort with "IO failure on output
/// stream".
llvm::Error finish(llvm::raw_fd_ostream &os, llvm::StringRef path) {
  os.flush();
  if (!os.has_error())
    return llvm::Error::success();
  std::error_code ec = os.error();
  os.clear_error();
  return fail(path + ": write failed: " + ec.message());
}
} // namespace

llvm::Expected<OutputTarget> mlir::hymba::resolveOutput(llvm::StringRef path,
                                                        bool allowSpecial) {
  std::string p = path.str();
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno != ENOENT)
      return fail(path + ": " + std::strerror(errno));
    llvm::StringRef dir = llvm::sys::path::parent_path(path);
    if (!dir.empty() && !llvm::sys::fs::is_directory(dir))
      return fail(path + ": cannot write: directory '" + dir +
                  "' does not exist");
    return OutputTarget{p, false};
  }
  OutputTarget target{p, false};
  if (S_ISLNK(st.st_mode)) {
    // Replace the file the link names, never the link itself.
    char resolved[PATH_MAX];
    if (!::realpath(p.c_str(), resolved) || ::stat(resolved, &st) != 0)
      return fail(path + ": is a symlink to a missing file (" +
                  std::strerror(errno) + ")");
    target.path = resolved;
  }
  if (S_ISDIR(st.st_mode))
    return fail(path + ": is a directory");
  if (S_ISREG(st.st_mode))
    return target;
  if (!allowSpecial)
    return fail(path + ": is not a regular file (a device, FIFO or socket); "
                       "this output must be a regular file");
  target.inPlace = true;
  return target;
}

llvm::Error mlir::hymba::writeOutputFile(
    llvm::StringRef path,
    llvm::function_ref<llvm::Error(llvm::raw_pwrite_stream &)> write,
    unsigned mode) {
  if (path == "-") {
    llvm::raw_fd_ostream &os = llvm::outs();
    llvm::Error e = write(os);
    llvm::Error w = finish(os, "<stdout>");
    if (e) {
      llvm::consumeError(std::move(w));
      return e;
    }
    return w;
  }
  llvm::Expected<OutputTarget> target = resolveOutput(path, true);
  if (!target)
    return target.takeError();

  if (target->inPlace) {
    int fd;
    if (std::error_code ec = llvm::sys::fs::openFileForWrite(
            target->path, fd, llvm::sys::fs::CD_OpenExisting))
      return fail(path + ": cannot open: " + ec.message());
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    llvm::Error e = write(os);
    llvm::Error w = finish(os, path);
    if (e) {
      llvm::consumeError(std::move(w));
      return e;
    }
    return w;
  }

  llvm::Expected<llvm::sys::fs::TempFile> tmp =
      llvm::sys::fs::TempFile::create(target->path + ".tmp-%%%%%%", mode);
  if (!tmp)
    return fail(path + ": cannot create: " + llvm::toString(tmp.takeError()));
  llvm::Error e = llvm::Error::success();
  {
    llvm::raw_fd_ostream os(tmp->FD, /*shouldClose=*/false);
    e = write(os);
    llvm::Error w = finish(os, path);
    if (!e)
      e = std::move(w);
    else
      llvm::consumeError(std::move(w));
  }
  if (e) {
    llvm::consumeError(tmp->discard());
    return e;
  }
  if (llvm::Error k = tmp->keep(target->path))
    return fail(path + ": cannot write: " + llvm::toString(std::move(k)));
  return llvm::Error::success();
}

llvm::Expected<TempPath> TempPath::create(llvm::StringRef prefix,
                                          llvm::StringRef suffix) {
  llvm::SmallString<128> p;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile(prefix, suffix, p))
    return fail("cannot create a temporary file in $TMPDIR: " + ec.message());
  std::string err;
  llvm::sys::RemoveFileOnSignal(p, &err);
  return TempPath(p);
}

TempPath &TempPath::operator=(TempPath &&other) {
  if (this != &other) {
    remove();
    path = std::move(other.path);
    other.path.clear();
  }
  return *this;
}

void TempPath::remove() {
  if (path.empty())
    return;
  llvm::sys::fs::remove(path);
  llvm::sys::DontRemoveFileOnSignal(path);
  path.clear();
}

TempPath::~TempPath() { remove(); }

void mlir::hymba::ignoreFileSizeSignal() { std::signal(SIGXFSZ, SIG_IGN); }
