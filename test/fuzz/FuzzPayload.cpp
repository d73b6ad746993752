//===- FuzzPayload.cpp - libFuzzer target: the executable's payload reader ===//
//
// Any byte string as the executable file: trailer, metadata, tokenizer and
// snapshot checks. The facts the model code would carry are taken from the
// input's own trailer (and its first byte for the folded flag), so the
// fuzzer also gets past the size comparisons to the metadata parser and the
// SentencePiece loader.
//
//===----------------------------------------------------------------------===//
#include "PayloadReader.h"
#include "Tokenizer.h"

#include <cstring>

using namespace mlir::hymba;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ReadAt readAt = [&](void *dst, uint64_t n, uint64_t off) {
    if (off > size || n > size - off)
      return false;
    std::memcpy(dst, data + off, n);
    return true;
  };
  uint64_t facts[kNumModelFacts] = {};
  facts[kFactMagic] = kModelFactsMagic;
  PayloadTrailer tr;
  if (size >= sizeof(tr)) {
    std::memcpy(&tr, data + size - sizeof(tr), sizeof(tr));
    facts[kFactParamsBytes] = tr.paramsBytes;
    facts[kFactStateBytes] = tr.stateBytes;
    if (tr.metadataOffset <= size &&
        tr.metadataBytes <= size - tr.metadataOffset)
      facts[kFactMetadataHash] =
          payloadHash(reinterpret_cast<const char *>(data) + tr.metadataOffset,
                      tr.metadataBytes);
  }
  facts[kFactFlags] = size && (data[0] & 1) ? kFactFolded : 0;
  PayloadContents out;
  std::string error;
  bool forPrefixState = size && (data[0] & 2);
  if (!readPayload(size, readAt, facts, forPrefixState, out, error))
    return 0;
  if (!out.tokenizer.empty()) {
    Tokenizer tok;
    if (tok.load(out.tokenizer, error))
      (void)tok.decode(tok.encode("fuzz"));
  }
  return 0;
}
