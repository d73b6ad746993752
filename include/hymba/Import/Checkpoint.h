//===- Checkpoint.h - A validated HuggingFace Hymba checkpoint --*- C++ -*-===//
//
// Opens a checkpoint directory (config.json, model.safetensors or a sharded
// set with model.safetensors.index.json, optional tokenizer.model) and checks
// that it holds exactly the tensors SPEC.md section 2 names, with the shapes
// the config implies. Tensor bytes stay in the mapped files.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_IMPORT_CHECKPOINT_H
#define HYMBA_IMPORT_CHECKPOINT_H

#include "hymba/Import/ModelConfig.h"
#include "hymba/Import/SafeTensors.h"

#include "llvm/ADT/StringMap.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mlir::hymba {

/// Official tensor names and shapes for `config`, in checkpoint order.
std::vector<std::pair<std::string, std::vector<int64_t>>>
expectedTensors(const ModelConfig &config);

class Checkpoint {
public:
  static llvm::Expected<std::unique_ptr<Checkpoint>> open(llvm::StringRef dir);

  const ModelConfig &config() const { return cfg; }
  /// The tensor called `name`; it exists (open() checked every name).
  const TensorInfo &tensor(llvm::StringRef name) const;
  /// Drops `t`'s pages from this process's memory after its bytes have
  /// been copied out (SafeTensorsFile::releasePages), so that converting a
  /// checkpoint tensor by tensor never holds more than one tensor of it.
  void releasePages(const TensorInfo &t) const;
  /// Storage dtype shared by the checkpoint's tensors (the widest if mixed).
  DType storageType() const { return storage; }
  /// Path of tokenizer.model, or empty when the checkpoint has none.
  const std::string &tokenizerPath() const { return tokenizer; }
  /// Its contents, as checked when the checkpoint was opened.
  const std::string &tokenizerData() const { return tokenizerBytes; }
  const std::string &directory() const { return dir; }

private:
  ModelConfig cfg;
  std::string dir;
  std::string tokenizer, tokenizerBytes;
  DType storage = DType::F32;
  std::vector<std::unique_ptr<SafeTensorsFile>> files;
  llvm::StringMap<const TensorInfo *> byName;
};

} // namespace mlir::hymba

#endif // HYMBA_IMPORT_CHECKPOINT_H
