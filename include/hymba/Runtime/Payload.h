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
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_PAYLOAD_H
#define HYMBA_RUNTIME_PAYLOAD_H

#include <cstdint>

namespace hymba {

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

} // namespace hymba

#endif // HYMBA_RUNTIME_PAYLOAD_H
