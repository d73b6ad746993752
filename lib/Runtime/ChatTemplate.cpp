//===- ChatTemplate.cpp - The Instruct chat template ----------------------===//
#include "ChatTemplate.h"

using namespace mlir::hymba;

std::string mlir::hymba::chatPrompt(const std::vector<ChatMessage> &messages) {
  std::string s = "<extra_id_0>System";
  size_t first = 0;
  if (!messages.empty() && messages[0].role == "system") {
    // The executable's --system "" adds nothing (SPEC.md section 5).
    if (!messages[0].content.empty())
      s += "\n" + messages[0].content;
    first = 1;
  }
  s += "\n\n";
  for (size_t i = first; i < messages.size(); ++i)
    s += (messages[i].role == "user" ? "<extra_id_1>User\n"
                                     : "<extra_id_1>Assistant\n") +
         messages[i].content + "\n";
  return s + "<extra_id_1>Assistant\n";
}
