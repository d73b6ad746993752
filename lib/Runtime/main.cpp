//===- main.cpp - Command line of a compiled Hymba model ------------------===//
//
// Runs the model code hymba-compile generated: tokenizes, prefills, decodes
// with the chosen sampler and streams text. Holds no model math.
//
//===----------------------------------------------------------------------===//

#include "ApiTypes.h"
#include "ChatTemplate.h"
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
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <vector>

using namespace mlir::hymba;

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
  bool forPrefixState = !opts.prefixStateOut.empty();
  if (forPrefixState) {
    if (!checkTargetCPU(error) || !initModelDevice(error))
      die(error);
    ModelFile model;
    if (!model.open("/proc/self/exe", forPrefixState, error))
      die(error);
    Session session(model);
    std::string snapshot;
    if (!session.start(error) || !session.computePrefixState(snapshot, error) ||
        !writeOutputFile(opts.prefixStateOut, snapshot.data(), snapshot.size(),
                         error))
      die(error);
    return 0;
  }

  // Everything else goes through the C API (include/hymba/hymba.h), as a
  // program linking the library would.
  hymba_model *modelHandle = nullptr;
  if (hymba_model_open("/proc/self/exe", &modelHandle) != HYMBA_OK)
    die(hymba_last_error());
  std::unique_ptr<hymba_model, void (*)(hymba_model *)> model(
      modelHandle, hymba_model_close);
  bool hasTokenizer = hymba_model_has_tokenizer(model.get());
  const Tokenizer &tokenizer = model->tokenizer;
  if (opts.serve) {
    hymba_server_options so = hymba_server_options_default();
    so.host = opts.host.c_str();
    so.port = int(opts.port);
    so.sessions = int(opts.serveSessions);
    so.queue = int(opts.serveQueue);
    so.model_name = opts.modelName.c_str();
    if (hymba_serve(model.get(), &so) != HYMBA_OK)
      die(hymba_last_error());
    return 0;
  }
  if (!opts.perplexityFile.empty()) {
    if (!hasTokenizer)
      die("--perplexity needs the tokenizer, and this model was compiled "
          "without tokenizer.model");
    if (!runPerplexity(model->file, tokenizer, opts.perplexityFile,
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
    prompt = tokenizer.encode(
        chatPrompt({{"system", opts.system}, {"user", *opts.prompt}}));
  } else {
    prompt = tokenizer.encode(*opts.prompt);
    prompt.insert(prompt.begin(), hymba_model_bos(model.get()));
  }
  bool textOut = hasTokenizer && !opts.printIds;
  int32_t eos = hymba_model_eos(model.get());

  hymba_session *sessionHandle = nullptr;
  if (hymba_session_create(model.get(), &sessionHandle) != HYMBA_OK)
    die(hymba_last_error());
  std::unique_ptr<hymba_session, void (*)(hymba_session *)> session(
      sessionHandle, hymba_session_free);
  int64_t capacity = hymba_model_max_seq_len(model.get());
  if (int64_t(prompt.size()) > capacity)
    die("the prompt has " + std::to_string(prompt.size()) +
        " tokens but this executable holds at most " +
        std::to_string(capacity) + " (recompile with a larger --max-seq-len)");
  int64_t vocab = hymba_model_vocab_size(model.get());
  bool keepAll = !opts.logitsOut.empty();
  std::vector<float> saved;
  hymba_sampling sampling = hymba_sampling_default();
  sampling.temperature = opts.sampling.temperature;
  sampling.top_k = opts.sampling.topK;
  sampling.top_p = opts.sampling.topP;
  sampling.seed = opts.sampling.seed;
  if (hymba_session_set_sampling(session.get(), &sampling) != HYMBA_OK)
    die(hymba_last_error());
  // Feeds tokens; with --logits-out, keeps every row.
  auto feed = [&](const int32_t *ids, size_t n) {
    size_t old = saved.size();
    if (keepAll) {
      size_t need = old + n * size_t(vocab);
      try {
        saved.resize(need);
      } catch (const std::bad_alloc &) {
        die("out of memory: --logits-out keeps the logits of every row, " +
            std::to_string(need * sizeof(float)) + " bytes for " +
            std::to_string(need / size_t(vocab)) + " rows");
      }
    }
    if (hymba_session_feed(session.get(), ids, n,
                           keepAll ? saved.data() + old : nullptr) != HYMBA_OK)
      die(hymba_last_error());
  };

  auto t0 = std::chrono::steady_clock::now();
  size_t chunk =
      opts.prefillChunk > 0 ? size_t(opts.prefillChunk) : prompt.size();
  for (size_t start = 0; start < prompt.size(); start += chunk)
    feed(prompt.data() + start, std::min(chunk, prompt.size() - start));
  auto tPrefill = std::chrono::steady_clock::now();
  unsigned long long launchesPrefill = kernelLaunches();

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
    int32_t id;
    if (hymba_session_sample(session.get(), &id) != HYMBA_OK)
      die(hymba_last_error());
    generated.push_back(id);
    if (step == 0)
      tFirst = std::chrono::steady_clock::now();
    if (id == eos && !opts.ignoreEos)
      break;
    emit(id);
    if (step + 1 == opts.numPredict)
      break;
    if (hymba_session_length(session.get()) >= capacity) {
      std::fprintf(stderr,
                   "\nnote: stopped at the compiled capacity of %lld "
                   "tokens\n",
                   (long long)capacity);
      break;
    }
    feed(&id, 1);
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
