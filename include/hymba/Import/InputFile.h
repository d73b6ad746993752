//===- InputFile.h - Read a checkpoint file without trusting it -*- C++ -*-===//
//
// Checkpoint directories come from the internet: any of their files may be
// a FIFO (opening it would block forever), a device (/dev/zero never ends),
// a directory or a symlink to one of those. Every checkpoint file is opened
// without blocking, must be a regular file and must fit the size limit of
// its kind.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_IMPORT_INPUTFILE_H
#define HYMBA_IMPORT_INPUTFILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>

namespace mlir::hymba {

/// Size limits per kind of file; far above any real checkpoint's.
inline constexpr uint64_t kMaxConfigBytes = 1 << 20;
inline constexpr uint64_t kMaxIndexBytes = 64 << 20;

/// The contents of the regular file `path` (mapped when large), at most
/// `maxBytes` long; errors name the path.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readRegularFile(llvm::StringRef path, uint64_t maxBytes = UINT64_MAX);

} // namespace mlir::hymba

#endif // HYMBA_IMPORT_INPUTFILE_H
