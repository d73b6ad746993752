//===- PayloadReader.h - Validate the payload of an executable --*- C++ -*-===//
//
// The payload is read from a file that may have been truncated, edited or
// swapped (see Payload.h): everything is bounds-checked against the file
// size and compared with the facts the model code was compiled with before
// any of it is used. Pure logic over a read callback, so it can be fuzzed.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_PAYLOADREADER_H
#define HYMBA_RUNTIME_PAYLOADREADER_H

#include "hymba/Runtime/Payload.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace mlir::hymba {

/// What a payload holds, once checked.
struct PayloadContents {
  PayloadTrailer trailer{};
  std::string tokenizer; // empty: none
  std::string snapshot;  // empty: not folded (or not read, below)
  /// Set by the caller: check the snapshot's place but leave `snapshot`
  /// empty (ModelFile maps it instead of copying it into memory).
  bool skipSnapshot = false;
  /// Integer metadata; every key below is present and in range.
  std::map<std::string, int64_t> meta;
  std::string weightDtype; // "f32", "bf16", "int8" or "int4"
};

/// Reads `n` bytes at `offset` of the file into `dst`; false on a short read.
using ReadAt = std::function<bool(void *dst, uint64_t n, uint64_t offset)>;

/// Reads and checks the payload of a file of `fileSize` bytes against
/// `facts` (kNumModelFacts values; null: the model code has none, refused).
/// `forPrefixState`: the compile-time run that computes the snapshot, which
/// the payload cannot have yet. On failure returns false and sets `error`.
bool readPayload(uint64_t fileSize, const ReadAt &readAt, const uint64_t *facts,
                 bool forPrefixState, PayloadContents &out, std::string &error);

/// Parses "key=value" metadata lines into `out`; false with `error` on a
/// malformed line, a missing key or a value out of range.
bool parseMetadata(const std::string &text, PayloadContents &out,
                   std::string &error);

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_PAYLOADREADER_H
