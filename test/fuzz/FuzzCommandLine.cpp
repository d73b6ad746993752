//===- FuzzCommandLine.cpp - libFuzzer target: the executable's flags -----===//
//
// The input, split at NUL bytes, is argv[1..]. Accepted command lines must
// hold what was asked for: numbers in their ranges.
//
//===----------------------------------------------------------------------===//
#include "CommandLine.h"

#include <string>
#include <vector>

using namespace mlir::hymba;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<std::string> args = {"model"};
  std::string cur;
  for (size_t i = 0; i < size && args.size() < 64; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += char(data[i]);
    }
  }
  args.push_back(cur);
  std::vector<const char *> argv;
  for (const std::string &a : args)
    argv.push_back(a.c_str());
  argv.push_back(nullptr);
  Options o;
  std::string error;
  if (!parseCommandLine(int(args.size()), argv.data(), o, error) || o.help)
    return 0;
  // hymba-compile's internal mode ignores everything else on the line;
  // --serve takes its prompts from HTTP requests.
  bool internal = !o.prefixStateOut.empty();
  if (o.serve && !internal) {
    if (o.prompt || o.tokens || !o.perplexityFile.empty() || o.port < 0 ||
        o.port > 65535 || o.serveSessions < 1 || o.serveSessions > 64 ||
        o.serveQueue < 0 || o.serveQueue > 4096 || o.host.empty())
      __builtin_trap();
    return 0;
  }
  if (o.numPredict < 0 || o.prefillChunk < 0 || o.sampling.topK < 0 ||
      !(o.sampling.temperature >= 0 && o.sampling.temperature <= 100) ||
      !(o.sampling.topP >= 0 && o.sampling.topP <= 1) || o.perplexityCtx < 2 ||
      (!internal && !o.prompt && !o.tokens && o.perplexityFile.empty()) ||
      (!internal && !o.perplexityFile.empty() && (o.prompt || o.tokens)))
    __builtin_trap();
  if (o.tokens)
    for (int32_t id : *o.tokens)
      if (id < 0)
        __builtin_trap();
  return 0;
}
