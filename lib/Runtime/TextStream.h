//===- TextStream.h - Print generated tokens as text, as they come -*- C++
//-*-===//
//
// SentencePiece text depends on neighbouring tokens (a word's leading space,
// characters spelt as several byte tokens), so each new token is decoded
// together with a few tokens before it, and only the text beyond theirs is
// printed. A character whose bytes have not all arrived decodes to U+FFFD:
// that text is held back until the next token completes it (or until the
// end, when it is printed as it is). Each step decodes a handful of tokens,
// never the whole sequence.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_TEXTSTREAM_H
#define HYMBA_RUNTIME_TEXTSTREAM_H

#include "Tokenizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::hymba {

class TextStream {
public:
  /// `context`: the prompt, whose text is not printed.
  TextStream(const Tokenizer &tokenizer, const std::vector<int32_t> &context);
  /// Adds a generated token; returns the text that is now complete.
  std::string push(int32_t id);
  /// The text still held back (an incomplete character at the end).
  std::string finish();

private:
  std::string pending() const;
  const Tokenizer &tokenizer;
  std::vector<int32_t> ids;
  /// ids[prefix, read) were printed already and give the new tokens their
  /// context; ids[read, end) are not printed yet.
  size_t prefix = 0, read = 0;
};

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_TEXTSTREAM_H
