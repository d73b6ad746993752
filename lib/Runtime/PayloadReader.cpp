//===- PayloadReader.cpp - Validate the payload of an executable ----------===//
#include "PayloadReader.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

using namespace mlir::hymba;

namespace {
/// [offset, offset + bytes) lies within a file of `size` bytes (no overflow).
bool inFile(uint64_t offset, uint64_t bytes, uint64_t size) {
  return offset <= size && bytes <= size - offset;
}

bool parseInt64(const std::string &text, int64_t &v) {
  if (text.empty() || !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')))
    return false;
  char *end = nullptr;
  errno = 0;
  long long x = std::strtoll(text.c_str(), &end, 10);
  if (errno || *end)
    return false;
  v = x;
  return true;
}

struct KeyRange {
  const char *key;
  int64_t min, max;
};
} // namespace

bool mlir::hymba::parseMetadata(const std::string &text, PayloadContents &out,
                                std::string &error) {
  std::map<std::string, std::string> raw;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      error = "the metadata does not end with a newline";
      return false;
    }
    std::string line = text.substr(start, nl - start);
    start = nl + 1;
    size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0) {
      error = "malformed metadata line '" + line.substr(0, 40) + "'";
      return false;
    }
    if (!raw.emplace(line.substr(0, eq), line.substr(eq + 1)).second) {
      error = "metadata key '" + line.substr(0, eq) + "' appears twice";
      return false;
    }
  }
  // The keys the runtime uses, with the bounds the compiler enforces.
  const KeyRange keys[] = {
      {"vocab_size", 1, INT32_MAX},        {"hidden_size", 1, INT32_MAX},
      {"num_layers", 1, INT32_MAX},        {"num_meta_tokens", 0, INT32_MAX},
      {"max_seq_len", 1, kMaxSeqLenLimit}, {"bos_token_id", 0, INT32_MAX},
      {"eos_token_id", 0, INT32_MAX},
  };
  for (const KeyRange &k : keys) {
    auto it = raw.find(k.key);
    if (it == raw.end()) {
      error = std::string("metadata key '") + k.key + "' is missing";
      return false;
    }
    int64_t v;
    if (!parseInt64(it->second, v) || v < k.min || v > k.max) {
      error = std::string("metadata key '") + k.key + "' is '" +
              it->second.substr(0, 40) + "', expected an integer in [" +
              std::to_string(k.min) + ", " + std::to_string(k.max) + "]";
      return false;
    }
    out.meta[k.key] = v;
  }
  if (out.meta["bos_token_id"] >= out.meta["vocab_size"] ||
      out.meta["eos_token_id"] >= out.meta["vocab_size"]) {
    error = "metadata: bos_token_id/eos_token_id outside the vocabulary";
    return false;
  }
  auto dt = raw.find("weight_dtype");
  if (dt == raw.end() ||
      (dt->second != "f32" && dt->second != "bf16" && dt->second != "int8" &&
       dt->second != "int4")) {
    error = "metadata key 'weight_dtype' must be f32, bf16, int8 or int4";
    return false;
  }
  out.weightDtype = dt->second;
  return true;
}

bool mlir::hymba::readPayload(uint64_t size, const ReadAt &readAt,
                              const uint64_t *facts, bool forPrefixState,
                              PayloadContents &out, std::string &error) {
  PayloadTrailer &tr = out.trailer;
  if (size < sizeof(tr) || !readAt(&tr, sizeof(tr), size - sizeof(tr)) ||
      std::memcmp(tr.magic, kPayloadMagic, sizeof(tr.magic)) != 0) {
    error = "no model payload (was this file produced by hymba-compile?)";
    return false;
  }
  uint64_t end = size - sizeof(tr); // sections lie before the trailer
  auto bad = [&](const std::string &what) {
    error = "the model payload is damaged: " + what +
            " (a truncated or modified copy? compile it again)";
    return false;
  };
  if (tr.paramsOffset % kPayloadAlignment != 0 ||
      !inFile(tr.paramsOffset, tr.paramsBytes, end))
    return bad("the parameters lie outside the file");
  if (!inFile(tr.tokenizerOffset, tr.tokenizerBytes, end))
    return bad("the tokenizer lies outside the file");
  if (!inFile(tr.metadataOffset, tr.metadataBytes, end))
    return bad("the metadata lies outside the file");
  if (!inFile(tr.stateSnapshotOffset, tr.stateSnapshotBytes, end))
    return bad("the prefix state lies outside the file");
  if (tr.metadataBytes > kMaxMetadataBytes)
    return bad("the metadata is " + std::to_string(tr.metadataBytes) +
               " bytes");
  if (tr.tokenizerBytes > kMaxTokenizerBytes)
    return bad("the tokenizer is " + std::to_string(tr.tokenizerBytes) +
               " bytes");
  if (!facts || facts[kFactMagic] != kModelFactsMagic)
    return bad("the model code carries no layout facts");
  if (tr.paramsBytes != facts[kFactParamsBytes])
    return bad("the parameters are " + std::to_string(tr.paramsBytes) +
               " bytes, the model code expects " +
               std::to_string(facts[kFactParamsBytes]));
  if (tr.stateBytes != facts[kFactStateBytes])
    return bad("the state is " + std::to_string(tr.stateBytes) +
               " bytes, the model code expects " +
               std::to_string(facts[kFactStateBytes]));
  bool folded = facts[kFactFlags] & kFactFolded;
  if (tr.stateSnapshotBytes != 0 &&
      (!folded || tr.stateSnapshotBytes != tr.stateBytes))
    return bad("the prefix state snapshot does not match the model code");
  if (folded && tr.stateSnapshotBytes == 0 && !forPrefixState)
    return bad("the prefix state snapshot of the meta tokens is missing");

  std::string meta(tr.metadataBytes, '\0');
  out.tokenizer.assign(tr.tokenizerBytes, '\0');
  out.snapshot.assign(out.skipSnapshot ? 0 : tr.stateSnapshotBytes, '\0');
  if (!readAt(meta.data(), meta.size(), tr.metadataOffset) ||
      !readAt(out.tokenizer.data(), out.tokenizer.size(), tr.tokenizerOffset) ||
      !readAt(out.snapshot.data(), out.snapshot.size(),
              tr.stateSnapshotOffset)) {
    error = "cannot read the model payload";
    return false;
  }
  if (payloadHash(meta.data(), meta.size()) != facts[kFactMetadataHash])
    return bad("the metadata differs from what the model code was compiled "
               "for");
  std::string metaError;
  if (!parseMetadata(meta, out, metaError))
    return bad(metaError);
  return true;
}
