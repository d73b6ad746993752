//===- CommandLine.h - Flags of a compiled Hymba model ----------*- C++ -*-===//
//
// Parses the executable's command line into Options. Every number is
// range-checked (out of range is an error, never a silent truncation), and
// errors are returned, not printed, so the parser can be fuzzed. A new flag
// is one entry in the table in CommandLine.cpp plus its help line.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_COMMANDLINE_H
#define HYMBA_RUNTIME_COMMANDLINE_H

#include "Sampler.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::hymba {

struct Options {
  std::optional<std::string> prompt;
  std::optional<std::vector<int32_t>> tokens;
  int64_t numPredict = 32;
  int64_t prefillChunk = 0; // 0: the whole prompt at once
  SamplingOptions sampling;
  bool ignoreEos = false, printIds = false, chat = false, stats = false;
  bool help = false;
  std::string system;
  std::string logitsOut;
  std::string prefixStateOut; // internal: used by hymba-compile
  std::string perplexityFile;
  int64_t perplexityCtx = 128;
  // --serve: the OpenAI-compatible HTTP server (Server.h).
  bool serve = false;
  std::string host = "127.0.0.1";
  int64_t port = 8080;
  int64_t serveSessions = 2, serveQueue = 16;
  std::string modelName = "hymba";
};

/// The --help text; `%s` is the program name.
extern const char *const kUsage;

/// Parses argv[1..argc). Returns false with `error` set on a bad command
/// line. `help` is set (and nothing else checked) for -h/--help.
bool parseCommandLine(int argc, const char *const *argv, Options &out,
                      std::string &error);

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_COMMANDLINE_H
