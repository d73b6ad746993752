//===- TextStream.cpp - Print generated tokens as text, as they come ------===//
#include "TextStream.h"

using namespace mlir::hymba;

namespace {
/// Tokens of context decoded before the new ones: enough for word
/// boundaries and a character begun in the prompt.
constexpr size_t kContextTokens = 4;

bool endsIncomplete(const std::string &text) {
  static const std::string replacement = "\xEF\xBF\xBD"; // U+FFFD
  return text.size() >= replacement.size() &&
         text.compare(text.size() - replacement.size(), replacement.size(),
                      replacement) == 0;
}
} // namespace

TextStream::TextStream(const Tokenizer &tokenizer,
                       const std::vector<int32_t> &context)
    : tokenizer(tokenizer),
      ids(context.end() - std::min(context.size(), kContextTokens),
          context.end()),
      prefix(0), read(ids.size()) {}

std::string TextStream::pending() const {
  std::string before = tokenizer.decode(
      std::vector<int32_t>(ids.begin() + prefix, ids.begin() + read));
  std::string all =
      tokenizer.decode(std::vector<int32_t>(ids.begin() + prefix, ids.end()));
  // Decoding more tokens only appends text; if a tokenizer ever rewrote the
  // context, print from where the context's text ends anyway.
  return all.size() > before.size() ? all.substr(before.size()) : "";
}

std::string TextStream::push(int32_t id) {
  ids.push_back(id);
  std::string text = pending();
  if (text.empty() || endsIncomplete(text))
    return "";
  prefix = read;
  read = ids.size();
  // Keep the stored sequence short: only the context is needed.
  if (prefix > kContextTokens) {
    ids.erase(ids.begin(), ids.begin() + prefix);
    read -= prefix;
    prefix = 0;
  }
  return text;
}

std::string TextStream::finish() {
  std::string text = pending();
  prefix = read = ids.size();
  return text;
}
