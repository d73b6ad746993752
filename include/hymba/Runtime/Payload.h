//===- Payload.h - Data appended to a compiled Hymba executable -*- C++ -*-===//
//
// A compiled model is one file: the linked runtime + model code, followed by
// a payload that the driver appends and the runtime maps at start-up:
//
//   [ELF executable][pad to 4 KiB][parameters][tokenizer.model][metadata]
//   [PayloadTrailer]
//
// When the meta-token prefix is folded, the driver runs the executable once
// to compute the prefix state and appends [state snapshot][metadata]
// [PayloadTrailer]; the runtime always reads the last trailer.
//
// The parameter block is page-aligned so it can be mmap'ed in place.
// Metadata is "key=value\n" text. This header is shared by the driver and
// the runtime and depends on nothing but the C++ standard library.
//
// The payload is data in a file anyone can edit, so the model object carries
// the facts it was compiled for (ModelFacts, the global `hymba_model_facts`
// the driver adds to the generated code): the runtime refuses a payload whose
// sizes, metadata or prefix snapshot do not match them.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_PAYLOAD_H
#define HYMBA_RUNTIME_PAYLOAD_H

#include <cstdint>

namespace mlir::hymba {

inline constexpr char kPayloadMagic[8] = {'H', 'Y', 'M', 'B',
                                          'A', 'P', 'K', '1'};
inline constexpr uint64_t kPayloadAlignment = 4096;

struct PayloadTrailer {
  uint64_t paramsOffset; // from the start of the file
  uint64_t paramsBytes;
  uint64_t tokenizerOffset;
  uint64_t tokenizerBytes; // 0: no tokenizer, ids only
  uint64_t metadataOffset;
  uint64_t metadataBytes;
  uint64_t stateBytes; // size of the state arena the model code expects
  // State after the meta-token prefix, computed at compile time
  // (hymba-fold-meta-tokens); 0 bytes: sequences start from zeroed state.
  uint64_t stateSnapshotOffset;
  uint64_t stateSnapshotBytes;
  char magic[8];
};

/// The most tokens a sequence may hold (--max-seq-len): KV caches grow with
/// it, and every size derived from it must stay far from overflowing.
inline constexpr int64_t kMaxSeqLenLimit = int64_t(1) << 20;

/// Payloads are refused beyond these sizes (the model object knows the
/// exact sizes; these bound what is read before it is compared).
inline constexpr uint64_t kMaxMetadataBytes = 64 << 10;
inline constexpr uint64_t kMaxTokenizerBytes = 64ull << 20;

/// Indexes into `hymba_model_facts`, an array of uint64_t in the model
/// object.
enum ModelFact : unsigned {
  kFactMagic,        // kModelFactsMagic
  kFactParamsBytes,  // PayloadTrailer::paramsBytes
  kFactStateBytes,   // PayloadTrailer::stateBytes
  kFactMetadataHash, // payloadHash() of the metadata text
  kFactFlags,        // kFactFolded...
  kNumModelFacts
};
inline constexpr uint64_t kModelFactsMagic = 0x31544341464d5948; // "HYMFACT1"
/// The program runs the meta-token prefix at compile time: a payload
/// without a prefix state snapshot cannot run.
inline constexpr uint64_t kFactFolded = 1;

/// FNV-1a, 64 bits: a checksum of the metadata against accidental or casual
/// edits (not a defence against a forger, who could edit the code too).
inline uint64_t payloadHash(const char *data, uint64_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint64_t i = 0; i < n; ++i) {
    h ^= uint8_t(data[i]);
    h *= 0x100000001b3ull;
  }
  return h;
}

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_PAYLOAD_H
