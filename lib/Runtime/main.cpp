//===- main.cpp - Command line of a compiled Hymba model ------------------===//
//
// Runs the model code hymba-compile generated: tokenizes, prefills, decodes
// with the chosen sampler and streams text. Holds no model math.
//
//===----------------------------------------------------------------------===//

#include "CommandLine.h"
#include "CpuCheck.h"
#include "ModelFile.h"
#include "ModelMemory.h"
#include "NpyWriter.h"
#include "OutputFile.h"
#include "Perplexity.h"
#include "Sampler.h"
#include "Session.h"
#include "TextStream.h"
#include "Tokenizer.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <vector>

using namespace hymba;

namespace {
[[noreturn]] void die(const std::string &msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  std::exit(1);
}

/// Prints to stdout; a failed write (a full disk, /dev/full) ends the run
/// with exit code 1 rather than generating into the void.
void print(const std::string &text) {
  if ((!text.empty() &&
       std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) ||
      std::fflush(stdout) != 0 || std::ferror(stdout))
    die(std::string("cannot write to standard output: ") +
        std::strerror(errno));
}

/// The Instruct chat template of SPEC.md section 5 for one user turn.
std::string chatPrompt(const std::string &system, const std::string &user) {
  std::string s = "<extra_id_0>System";
  if (!system.empty())
    s += "\n" + system;
  s += "\n\n<extra_id_1>User\n" + user + "\n<extra_id_1>Assistant\n";
  return s;
}

double seconds(std::chrono::steady_clock::time_point a,
               std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
} // namespace

int main(int argc, char **argv) {
  Options opts;
  std::string error;
  if (!parseCommandLine(argc, argv, opts, error))
    die(error);
  if (opts.help) {
    std::printf(kUsage, argv[0]);
    print("");
    return 0;
  }
  if (!checkTargetCPU(error))
    die(error);
  bool forPrefixState = !opts.prefixStateOut.empty();
  if (!initModelDevice(error))
    die(error);
  ModelFile model;
  if (!model.open("/proc/self/exe", forPrefixState, error))
    die(error);

  if (forPrefixState) {
    Session session(model);
    std::string snapshot;
    if (!session.start(error) || !session.computePrefixState(snapshot, error) ||
        !writeOutputFile(opts.prefixStateOut, snapshot.data(), snapshot.size(),
                         error))
      die(error);
    return 0;
  }

  Tokenizer tokenizer;
  bool hasTokenizer = !model.tokenizerProto().empty();
  if (hasTokenizer && !tokenizer.load(model.tokenizerProto(), error))
    die(error);
  if (!opts.perplexityFile.empty()) {
    if (!hasTokenizer)
      die("--perplexity needs the tokenizer, and this model was compiled "
          "without tokenizer.model");
    if (!runPerplexity(model, tokenizer, opts.perplexityFile,
                       opts.perplexityCtx, error))
      die(error);
    print(""); // a failed write on stdout is an error
    return 0;
  }
  if (opts.prompt && !hasTokenizer)
    die("this model was compiled without tokenizer.model: use --tokens and "
        "--ids");

  std::vector<int32_t> prompt;
  if (opts.tokens) {
    prompt = *opts.tokens;
  } else if (opts.chat) {
    prompt = tokenizer.encode(chatPrompt(opts.system, *opts.prompt));
  } else {
    prompt = tokenizer.encode(*opts.prompt);
    prompt.insert(prompt.begin(), int32_t(model.meta("bos_token_id")));
  }
  bool textOut = hasTokenizer && !opts.printIds;
  int32_t eos = int32_t(model.meta("eos_token_id"));

  Session session(model);
  if (!session.start(error))
    die(error);
  if (int64_t(prompt.size()) > session.capacity())
    die("the prompt has " + std::to_string(prompt.size()) +
        " tokens but this executable holds at most " +
        std::to_string(session.capacity()) +
        " (recompile with a larger --max-seq-len)");
  int64_t vocab = session.vocab();
  bool keepAll = !opts.logitsOut.empty();
  std::vector<float> logits, saved;

  auto t0 = std::chrono::steady_clock::now();
  size_t chunk =
      opts.prefillChunk > 0 ? size_t(opts.prefillChunk) : prompt.size();
  for (size_t start = 0; start < prompt.size(); start += chunk) {
    std::vector<int32_t> part(prompt.begin() + start,
                              prompt.begin() +
                                  std::min(prompt.size(), start + chunk));
    if (!session.feed(part, logits, keepAll, error))
      die(error);
    if (keepAll)
      saved.insert(saved.end(), logits.begin(), logits.end());
  }
  auto tPrefill = std::chrono::steady_clock::now();
  unsigned long long launchesPrefill = kernelLaunches();
  const float *last = logits.data() + logits.size() - vocab;

  Sampler sampler(opts.sampling);
  std::vector<int32_t> generated;
  std::optional<TextStream> text;
  if (textOut)
    text.emplace(tokenizer, prompt);
  auto emit = [&](int32_t id) {
    if (text)
      print(text->push(id));
    else
      print((generated.size() > 1 ? " " : "") + std::to_string(id));
  };
  std::chrono::steady_clock::time_point tFirst = tPrefill;
  for (int64_t step = 0; step < opts.numPredict; ++step) {
    int32_t id = sampler.next(last, vocab);
    generated.push_back(id);
    if (step == 0)
      tFirst = std::chrono::steady_clock::now();
    if (id == eos && !opts.ignoreEos)
      break;
    emit(id);
    if (step + 1 == opts.numPredict)
      break;
    if (session.tokens() >= session.capacity()) {
      std::fprintf(stderr,
                   "\nnote: stopped at the compiled capacity of %lld "
                   "tokens\n",
                   (long long)session.capacity());
      break;
    }
    if (!session.feed({id}, logits, false, error))
      die(error);
    if (keepAll)
      saved.insert(saved.end(), logits.begin(), logits.end());
    last = logits.data();
  }
  auto tEnd = std::chrono::steady_clock::now();
  print((text ? text->finish() : "") + "\n");

  if (keepAll && !writeNpy(opts.logitsOut, saved, int64_t(saved.size()) / vocab,
                           vocab, error))
    die(error);
  if (opts.stats) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double prefill = seconds(t0, tPrefill);
    int64_t decoded = int64_t(generated.size()) - 1;
    double decode = seconds(tPrefill, tEnd) - seconds(tPrefill, tFirst);
    std::fprintf(stderr,
                 "prefill: %zu tokens in %.3f s (%.2f tokens/s)\n"
                 "decode: %lld tokens in %.3f s (%.2f tokens/s)\n"
                 "time to first token: %.3f s\npeak RSS: %.1f MiB\n",
                 prompt.size(), prefill, prompt.size() / prefill,
                 (long long)std::max<int64_t>(decoded, 0), decode,
                 decoded > 0 ? decoded / decode : 0.0, seconds(t0, tFirst),
                 ru.ru_maxrss / 1024.0);
    if (unsigned long long total = kernelLaunches())
      std::fprintf(stderr,
                   "GPU kernel launches: %llu for the prompt, %.1f per decode "
                   "step\n",
                   launchesPrefill,
                   decoded > 0 ? double(total - launchesPrefill) / decoded
                               : 0.0);
  }
  return 0;
}
