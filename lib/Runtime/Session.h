//===- Session.h - One sequence's decode state ------------------*- C++ -*-===//
#ifndef HYMBA_RUNTIME_SESSION_H
#define HYMBA_RUNTIME_SESSION_H

#include "ModelFile.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::hymba {

/// Owns the state arena of one sequence (KV caches, conv and SSM states, all
/// laid out by the compiler) and feeds it chunks of tokens. The first chunk
/// starts the sequence (meta tokens prepended at position 0); later chunks,
/// including single decode steps, continue from the stored state.
class Session {
public:
  explicit Session(const ModelFile &model);
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  /// Allocates the state; false with `error` (the bytes needed) when the
  /// model does not fit in memory. Call before anything else.
  bool start(std::string &error);

  /// Forgets every token fed: the state is as after start().
  void reset();

  /// Runs `ids`; fills `logits` with [ids.size(), vocab] rows (only the last
  /// row when `allRows` is false). Returns false with `error` set if the
  /// sequence would exceed the compiled capacity or an id is out of range.
  bool feed(const std::vector<int32_t> &ids, std::vector<float> &logits,
            bool allRows, std::string &error);

  /// Runs the meta-token prefix on a fresh state and returns the state
  /// arena (the driver stores it in the executable at compile time).
  bool computePrefixState(std::string &out, std::string &error);

  int64_t tokens() const { return numTokens; }
  int64_t capacity() const { return maxSeqLen; }
  int64_t vocab() const { return vocabSize; }

private:
  void loadInitialState();
  const ModelFile &model;
  int8_t *state = nullptr; // in model memory (ModelMemory.h)
  int32_t *ids = nullptr;  // the chunk's token ids, in model memory
  int64_t numTokens = 0;   // real tokens consumed so far
  int64_t numMeta, maxSeqLen, vocabSize;
};

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_SESSION_H
