//===- Tokenizer.h - The embedded SentencePiece model -----------*- C++ -*-===//
#ifndef HYMBA_RUNTIME_TOKENIZER_H
#define HYMBA_RUNTIME_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace mlir::hymba {

class Tokenizer {
public:
  Tokenizer();
  ~Tokenizer();
  /// Loads a serialized tokenizer.model; false with `error` on failure.
  bool load(const std::string &proto, std::string &error);
  std::vector<int32_t> encode(const std::string &text) const;
  std::string decode(const std::vector<int32_t> &ids) const;

private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp;
};

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_TOKENIZER_H
