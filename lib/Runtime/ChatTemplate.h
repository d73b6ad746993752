//===- ChatTemplate.h - The Instruct chat template --------------*- C++ -*-===//
//
// Hymba's Instruct template (the chat_template of its tokenizer_config.json):
//   <extra_id_0>System[\n SYSTEM]\n\n
//   <extra_id_1>User\n USER\n   <extra_id_1>Assistant\n REPLY\n   ...
//   <extra_id_1>Assistant\n          (the generation prompt)
// Used by `exe --chat` and the server's /v1/chat/completions.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_CHATTEMPLATE_H
#define HYMBA_RUNTIME_CHATTEMPLATE_H

#include <string>
#include <vector>

namespace mlir::hymba {

struct ChatMessage {
  std::string role; // "system" (first only), "user" or "assistant"
  std::string content;
};

/// The prompt text for `messages`, ending with the assistant's turn. A
/// system message counts only in first place (callers refuse others).
std::string chatPrompt(const std::vector<ChatMessage> &messages);

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_CHATTEMPLATE_H
