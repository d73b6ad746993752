//===- LibraryWriter.h - hymba-compile --emit=lib ---------------*- C++ -*-===//
#ifndef HYMBA_CODEGEN_LIBRARYWRITER_H
#define HYMBA_CODEGEN_LIBRARYWRITER_H

#include "hymba/Codegen/ExecutableWriter.h"

namespace mlir::hymba {

/// Writes the model as a library into directory `dir` (created if missing):
///   libNAME.so   model code + runtime, exporting only the C API (hymba.h)
///   libNAME.a    the same objects for static linking
///   NAME.h       the C API with the model's facts and how to link
///   NAME.hymba   the payload (weights, tokenizer, metadata, prefix state)
/// The payload is a file beside the libraries rather than inside them: a
/// static archive has no place for it, and one mapped file serves both
/// libraries (and any number of processes, through the page cache) exactly
/// as the executable's own payload is mapped. `spec` is what writeExecutable
/// takes (its outputPath is ignored): the executable is built first, in a
/// temporary file, because computing the folded prefix state runs it.
llvm::Error writeLibrary(ExecutableSpec spec, const Checkpoint &checkpoint,
                         llvm::StringRef dir, llvm::StringRef name);

} // namespace mlir::hymba

#endif // HYMBA_CODEGEN_LIBRARYWRITER_H
