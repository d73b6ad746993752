//===- Tokenizer.cpp - The embedded SentencePiece model -------------------===//
#include "Tokenizer.h"

#include <sentencepiece_processor.h>

using namespace mlir::hymba;

Tokenizer::Tokenizer()
    : sp(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
Tokenizer::~Tokenizer() = default;

bool Tokenizer::load(const std::string &proto, std::string &error) {
  auto status = sp->LoadFromSerializedProto(proto);
  if (!status.ok()) {
    error = "embedded tokenizer: " + status.ToString();
    return false;
  }
  return true;
}

std::vector<int32_t> Tokenizer::encode(const std::string &text) const {
  std::vector<int> ids;
  sp->Encode(text, &ids).IgnoreError();
  return {ids.begin(), ids.end()};
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids) const {
  // Ids the SentencePiece model does not know (e.g. [PAD] = 32000) decode
  // to nothing rather than failing.
  std::vector<int> known;
  for (int32_t id : ids)
    if (id >= 0 && id < sp->GetPieceSize())
      known.push_back(id);
  std::string text;
  sp->Decode(known, &text).IgnoreError();
  return text;
}
