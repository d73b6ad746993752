//===- SafeTensors.h - Validating safetensors reader ------------*- C++ -*-===//
//
// Maps a .safetensors file and checks its header completely before anything
// reads tensor bytes: header length, JSON shape, dtypes, and that the data
// offsets are in bounds, ordered, non-overlapping and match shape x dtype.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_IMPORT_SAFETENSORS_H
#define HYMBA_IMPORT_SAFETENSORS_H

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir::hymba {

enum class DType { F32, F16, BF16 };

llvm::StringRef dtypeName(DType t);
int64_t dtypeBytes(DType t);

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const char *data = nullptr; // points into the mapped file
  int64_t numBytes = 0;
  std::string file;

  int64_t numElements() const;
};

class SafeTensorsFile {
public:
  static llvm::Expected<std::unique_ptr<SafeTensorsFile>>
  open(llvm::StringRef path);
  /// Checks the bytes of a safetensors file (`path` names it in errors).
  static llvm::Expected<std::unique_ptr<SafeTensorsFile>>
  parse(std::unique_ptr<llvm::MemoryBuffer> bytes, llvm::StringRef path);

  const std::vector<TensorInfo> &tensors() const { return infos; }
  /// Hands the pages holding `t` (a tensor of this file) back to the page
  /// cache once its bytes have been used: a mapped file's pages count in
  /// the process's RSS until then. A later read maps them again. Does
  /// nothing when the file was read into memory instead of mapped.
  void releasePages(const TensorInfo &t) const;
  /// Whether `t` is one of this file's tensors.
  bool holds(const TensorInfo &t) const;

private:
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  std::vector<TensorInfo> infos;
};

} // namespace mlir::hymba

#endif // HYMBA_IMPORT_SAFETENSORS_H
