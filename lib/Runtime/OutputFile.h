//===- OutputFile.h - Write a file without trusting its path ----*- C++ -*-===//
//
// The runtime's counterpart of hymba/Codegen/OutputFile.h (which needs
// LLVM): a regular file or a new name is written to a temporary file created
// with mkstemp (O_EXCL, random name) in the same directory and renamed over
// it, so nothing partial is left behind and a planted symlink redirects
// nothing; a symlink at the path itself is followed (its target is
// replaced); an existing device, FIFO or socket is written in place, never
// replaced.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_OUTPUTFILE_H
#define HYMBA_RUNTIME_OUTPUTFILE_H

#include <cstddef>
#include <string>

namespace mlir::hymba {

/// Writes `size` bytes at `data` to `path`; false with `error` (naming the
/// path) on failure.
bool writeOutputFile(const std::string &path, const void *data, size_t size,
                     std::string &error);

/// The same for several pieces written one after another.
struct OutputPiece {
  const void *data;
  size_t size;
};
bool writeOutputFile(const std::string &path, const OutputPiece *pieces,
                     size_t count, std::string &error);

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_OUTPUTFILE_H
