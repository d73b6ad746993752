//===- ModelFile.h - The payload of the running executable ------*- C++ -*-===//
#ifndef HYMBA_RUNTIME_MODELFILE_H
#define HYMBA_RUNTIME_MODELFILE_H

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace mlir::hymba {

/// Reads the payload appended to the executable (see Payload.h). On the CPU
/// the parameters are read into memory on huge pages (or, with HYMBA_MMAP=1
/// and for the compile-time prefix run, mapped with their pages
/// pre-faulted); on the GPU they are uploaded once from the mapping.
class ModelFile {
public:
  /// Opens `path` (normally /proc/self/exe) and checks its payload
  /// (PayloadReader.h); `forPrefixState`: the compile-time run that computes
  /// the prefix snapshot. On failure returns false and sets `error`.
  bool open(const std::string &path, bool forPrefixState, std::string &error);
  ~ModelFile();

  /// The parameters in model memory (ModelMemory.h).
  int8_t *params() const { return paramsPtr; }
  uint64_t paramsBytes() const { return paramsSize; }
  uint64_t stateBytes() const { return stateSize; }
  const std::string &tokenizerProto() const { return tokenizer; }
  /// State after the meta tokens (empty when not folded at compile time),
  /// mapped from the file.
  std::string_view stateSnapshot() const { return snapshot; }
  /// Integer metadata (vocab_size, num_meta_tokens, max_seq_len, ...).
  int64_t meta(const std::string &key) const;
  /// The parameters' file mapping (null when they were copied to a device).
  void *mappedParams() const { return mapBase; }
  uint64_t mappedBytes() const { return mapBytes; }

private:
  int8_t *paramsPtr = nullptr;
  void *mapBase = nullptr;
  uint64_t mapBytes = 0;
  uint64_t paramsSize = 0, stateSize = 0;
  std::string tokenizer;
  std::string_view snapshot;
  void *snapshotMap = nullptr;
  uint64_t snapshotMapBytes = 0;
  std::map<std::string, int64_t> metadata;
};

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_MODELFILE_H
