//===- OutputFile.h - Safe output files and temporaries ---------*- C++ -*-===//
//
// Every file hymba-compile writes goes through here, because an output path
// is user input like any other:
//  - a regular file (or a new name) is written to a temporary file created
//    with O_EXCL under a random name in the same directory, then renamed
//    over it: on any error or signal nothing, not even a partial file, is
//    left behind;
//  - a symlink is followed, so the file it names is replaced, not the link;
//  - an existing device, FIFO or socket (`-o /dev/null`, a pipe) is never
//    replaced: it is opened and written in place, or refused where the
//    output must be a regular file (an executable).
// Temporaries elsewhere (objects, link outputs) are removed on every exit
// path, SIGINT and SIGTERM included.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_CODEGEN_OUTPUTFILE_H
#define HYMBA_CODEGEN_OUTPUTFILE_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mlir::hymba {

/// Where and how an output path is written.
struct OutputTarget {
  /// The file to create or replace (a symlink's target), or the special
  /// file to write in place.
  std::string path;
  /// An existing non-regular file: write in place, never rename over it.
  bool inPlace = false;
};

/// Resolves `path` as described above. Fails for directories, dangling
/// symlinks and, unless `allowSpecial`, for non-regular files.
llvm::Expected<OutputTarget> resolveOutput(llvm::StringRef path,
                                           bool allowSpecial);

/// Writes what `write` produces to `path` ("-": stdout), atomically for
/// regular files, in place for special ones. `write` reports its own
/// errors; a write error of the stream is reported here. Never leaves a
/// partial file behind.
llvm::Error writeOutputFile(
    llvm::StringRef path,
    llvm::function_ref<llvm::Error(llvm::raw_pwrite_stream &)> write,
    unsigned mode = 0644);

/// A unique temporary file in $TMPDIR, removed when this goes out of scope
/// and when the process is killed by SIGINT/SIGTERM/SIGHUP.
class TempPath {
public:
  /// Creates the (empty) file "$TMPDIR/<prefix>-XXXXXX.<suffix>".
  static llvm::Expected<TempPath> create(llvm::StringRef prefix,
                                         llvm::StringRef suffix);
  TempPath() = default;
  TempPath(TempPath &&other) : path(std::move(other.path)) {
    other.path.clear();
  }
  TempPath &operator=(TempPath &&other);
  ~TempPath();
  llvm::StringRef str() const { return path; }
  bool empty() const { return path.empty(); }

private:
  explicit TempPath(llvm::StringRef p) : path(p) {}
  void remove();
  llvm::SmallString<128> path;
};

/// Makes write errors return EFBIG instead of killing the process, so a
/// write past `ulimit -f` is reported and temporaries are removed.
void ignoreFileSizeSignal();

} // namespace mlir::hymba

#endif // HYMBA_CODEGEN_OUTPUTFILE_H
