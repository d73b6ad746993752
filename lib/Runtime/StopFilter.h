//===- StopFilter.h - OpenAI `stop` strings over streamed text --*- C++ -*-===//
//
// Generated text arrives in pieces; a stop string may span several. The
// filter passes text through except a tail that could still begin a stop
// string, and reports a stop string as soon as it is complete (the text
// before it is the reply, the stop string itself is not).
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_STOPFILTER_H
#define HYMBA_RUNTIME_STOPFILTER_H

#include <string>
#include <vector>

namespace mlir::hymba {

class StopFilter {
public:
  explicit StopFilter(std::vector<std::string> stops)
      : stops(std::move(stops)) {}

  /// Adds `piece`; returns the text that can be sent now. Sets `stopped`
  /// when a stop string completed (nothing after it is ever returned).
  std::string push(const std::string &piece, bool &stopped) {
    held += piece;
    size_t cut = std::string::npos;
    for (const std::string &s : stops)
      cut = std::min(cut, held.find(s));
    if (cut != std::string::npos) {
      stopped = true;
      std::string out = held.substr(0, cut);
      held.clear();
      return out;
    }
    // Hold back the longest tail that is a prefix of some stop string.
    size_t keep = 0;
    for (const std::string &s : stops)
      for (size_t n = std::min(s.size() - 1, held.size()); n > keep; --n)
        if (held.compare(held.size() - n, n, s, 0, n) == 0) {
          keep = n;
          break;
        }
    std::string out = held.substr(0, held.size() - keep);
    held.erase(0, held.size() - keep);
    return out;
  }

  /// The held-back tail, at the end of generation.
  std::string finish() {
    std::string out;
    out.swap(held);
    return out;
  }

private:
  std::vector<std::string> stops; // none empty
  std::string held;
};

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_STOPFILTER_H
