//===- main.cpp - Command line of a compiled Hymba model ------------------===//
//
// Runs the model code hymba-compile generated: tokenizes, prefills, decodes
// with the chosen sampler and streams text. Holds no model math.
//
//===----------------------------------------------------------------------===//

#include "CpuCheck.h"
#include "ModelFile.h"
#include "ModelMemory.h"
#include "NpyWriter.h"
#include "Perplexity.h"
#include "Sampler.h"
#include "Session.h"
#include "Tokenizer.h"

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
struct Options {
  std::optional<std::string> prompt;
  std::optional<std::vector<int32_t>> tokens;
  int64_t numPredict = 32;
  int64_t prefillChunk = 0; // 0: the whole prompt at once
  SamplingOptions sampling;
  bool ignoreEos = false, printIds = false, chat = false, stats = false;
  std::string system;
  std::string logitsOut;
  std::string prefixStateOut; // internal: used by hymba-compile
  std::string perplexityFile;
  int64_t perplexityCtx = 128;
};

const char *kUsage =
    "usage: %s [--prompt TEXT | --tokens ID,ID,...] [options]\n"
    "\n"
    "Generates text with the Hymba model compiled into this executable.\n"
    "\n"
    "  -p, --prompt TEXT      prompt text (tokenized with BOS prepended)\n"
    "  --tokens 1,2,3         prompt as token ids, nothing added\n"
    "  -n, --n-predict N      tokens to generate (default 32)\n"
    "  --temperature T        0 = greedy (default)\n"
    "  --top-k K              sample among the K most likely tokens\n"
    "  --top-p P              nucleus sampling threshold (default 1.0)\n"
    "  --seed S               random seed for sampling (default 0)\n"
    "  --ignore-eos           keep generating after the end-of-sequence token\n"
    "  --ids                  print generated token ids instead of text\n"
    "  --logits-out FILE.npy  save float32 logits [T + N - 1, vocab]\n"
    "  --chat                 wrap the prompt in the Instruct chat template\n"
    "  --system TEXT          system message for --chat\n"
    "  --prefill-chunk N      feed the prompt N tokens at a time\n"
    "  --stats                print prefill/decode speed, TTFT and peak RSS\n"
    "  --perplexity FILE      perplexity of the model on FILE's text\n"
    "  --ctx N                tokens per perplexity chunk, BOS included (128)\n"
    "  -h, --help             this help\n";

[[noreturn]] void die(const std::string &msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  std::exit(1);
}

int64_t parseInt(const std::string &flag, const char *text, int64_t min) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text, &end, 10);
  if (errno || !*text || *end || v < min)
    die(flag + " expects an integer >= " + std::to_string(min) + ", got '" +
        text + "'");
  return v;
}

float parseFloat(const std::string &flag, const char *text, float min,
                 float max) {
  char *end = nullptr;
  errno = 0;
  float v = std::strtof(text, &end);
  if (errno || !*text || *end || !(v >= min && v <= max))
    die(flag + " expects a number in [" + std::to_string(min) + ", " +
        std::to_string(max) + "], got '" + text + "'");
  return v;
}

std::vector<int32_t> parseIds(const char *text) {
  std::vector<int32_t> ids;
  std::string s(text), item;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    item = s.substr(start, comma == std::string::npos ? std::string::npos
                                                      : comma - start);
    ids.push_back(int32_t(parseInt("--tokens", item.c_str(), 0)));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return ids;
}

Options parseArgs(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc)
        die(a + " needs a value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      std::printf(kUsage, argv[0]);
      std::exit(0);
    } else if (a == "-p" || a == "--prompt") {
      o.prompt = value();
    } else if (a == "--tokens") {
      o.tokens = parseIds(value());
    } else if (a == "-n" || a == "--n-predict") {
      o.numPredict = parseInt(a, value(), 0);
    } else if (a == "--temperature" || a == "--temp") {
      o.sampling.temperature = parseFloat(a, value(), 0.0f, 100.0f);
    } else if (a == "--top-k") {
      o.sampling.topK = int(parseInt(a, value(), 0));
    } else if (a == "--top-p") {
      o.sampling.topP = parseFloat(a, value(), 0.0f, 1.0f);
    } else if (a == "--seed") {
      o.sampling.seed = uint64_t(parseInt(a, value(), 0));
    } else if (a == "--prefill-chunk") {
      o.prefillChunk = parseInt(a, value(), 1);
    } else if (a == "--ignore-eos") {
      o.ignoreEos = true;
    } else if (a == "--ids") {
      o.printIds = true;
    } else if (a == "--logits-out") {
      o.logitsOut = value();
    } else if (a == "--chat") {
      o.chat = true;
    } else if (a == "--system") {
      o.system = value();
    } else if (a == "--hymba-internal-prefix-state") {
      o.prefixStateOut = value();
      return o;
    } else if (a == "--stats") {
      o.stats = true;
    } else if (a == "--perplexity") {
      o.perplexityFile = value();
    } else if (a == "--ctx") {
      o.perplexityCtx = parseInt(a, value(), 2);
    } else {
      die("unknown argument '" + a + "' (see --help)");
    }
  }
  if (!o.perplexityFile.empty()) {
    if (o.prompt || o.tokens)
      die("--perplexity scores a file: give no --prompt or --tokens");
    return o;
  }
  if (o.prompt && o.tokens)
    die("give either --prompt or --tokens, not both");
  if (!o.prompt && !o.tokens)
    die("nothing to do: give --prompt TEXT or --tokens IDS (see --help)");
  if (o.chat && !o.prompt)
    die("--chat needs --prompt");
  return o;
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
  Options opts = parseArgs(argc, argv);
  std::string error;
  if (!checkTargetCPU(error))
    die(error);
  if (!initModelDevice(error))
    die(error);
  ModelFile model;
  if (!model.open("/proc/self/exe", error))
    die(error);

  if (!opts.prefixStateOut.empty()) {
    Session session(model);
    std::string snapshot;
    FILE *f = nullptr;
    if (!session.computePrefixState(snapshot, error) ||
        !(f = std::fopen(opts.prefixStateOut.c_str(), "wb")) ||
        std::fwrite(snapshot.data(), 1, snapshot.size(), f) !=
            snapshot.size() ||
        std::fclose(f) != 0)
      die(error.empty() ? opts.prefixStateOut + ": cannot write" : error);
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
  std::string printed;
  // The prompt's own text, to cut from each decode of prompt + output.
  std::string promptText = textOut ? tokenizer.decode(prompt) : "";
  auto emit = [&](int32_t id) {
    if (!textOut) {
      std::printf(generated.size() > 1 ? " %d" : "%d", id);
    } else {
      // Decode prompt + output together so word boundaries come out right,
      // and print only what is new.
      std::vector<int32_t> all(prompt);
      all.insert(all.end(), generated.begin(), generated.end());
      std::string text = tokenizer.decode(all);
      std::string tail =
          text.size() > promptText.size() ? text.substr(promptText.size()) : "";
      if (tail.compare(0, printed.size(), printed) == 0) {
        std::fputs(tail.c_str() + printed.size(), stdout);
        printed = tail;
      }
    }
    std::fflush(stdout);
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
  std::printf("\n");
  std::fflush(stdout);

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
