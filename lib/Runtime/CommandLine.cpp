//===- CommandLine.cpp - Flags of a compiled Hymba model ------------------===//
#include "CommandLine.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>

using namespace mlir::hymba;

const char *const mlir::hymba::kUsage =
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
    "  --serve                serve an OpenAI-compatible HTTP API instead\n"
    "  --host ADDR            address to listen on (default 127.0.0.1)\n"
    "  --port N               port (default 8080; 0 picks a free one)\n"
    "  --sessions N           requests decoded interleaved (default 2)\n"
    "  --queue N              requests waiting beyond those (default 16)\n"
    "  --model-name NAME      the model id the server reports (hymba)\n"
    "  -h, --help             this help\n"
    "\n"
    "Environment: OMP_NUM_THREADS=N threads (default: all CPUs);\n"
    "HYMBA_MMAP=1 maps the weights from this file instead of reading them\n"
    "onto huge pages (a quicker start, page cache shared between processes,\n"
    "slower decode).\n";

namespace {
/// A decimal integer in [min, max]: digits only (a leading '-' when min < 0),
/// no spaces, no overflow.
bool parseInt(const std::string &flag, const char *text, int64_t min,
              int64_t max, int64_t &out, std::string &error) {
  const char *p = text;
  bool ok = *p && (std::isdigit((unsigned char)*p) || (*p == '-' && min < 0));
  char *end = nullptr;
  errno = 0;
  long long v = ok ? std::strtoll(text, &end, 10) : 0;
  if (!ok || errno || *end || v < min || v > max) {
    error = flag + " expects an integer in [" + std::to_string(min) + ", " +
            std::to_string(max) + "], got '" + text + "'";
    return false;
  }
  out = v;
  return true;
}

/// The same for the full uint64_t range (--seed).
bool parseU64(const std::string &flag, const char *text, uint64_t &out,
              std::string &error) {
  char *end = nullptr;
  errno = 0;
  unsigned long long v =
      std::isdigit((unsigned char)*text) ? std::strtoull(text, &end, 10) : 0;
  if (!std::isdigit((unsigned char)*text) || errno || *end) {
    error = flag + " expects an integer in [0, " +
            std::to_string(std::numeric_limits<uint64_t>::max()) + "], got '" +
            text + "'";
    return false;
  }
  out = v;
  return true;
}

bool parseFloat(const std::string &flag, const char *text, float min, float max,
                float &out, std::string &error) {
  char *end = nullptr;
  errno = 0;
  float v = *text ? std::strtof(text, &end) : NAN;
  if (!*text || errno || *end || !(v >= min && v <= max)) {
    error = flag + " expects a number in [" + std::to_string(min) + ", " +
            std::to_string(max) + "], got '" + text + "'";
    return false;
  }
  out = v;
  return true;
}

bool parseIds(const char *text, std::vector<int32_t> &ids, std::string &error) {
  std::string s(text);
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(
        start, comma == std::string::npos ? std::string::npos : comma - start);
    int64_t id;
    if (!parseInt("--tokens", item.c_str(), 0,
                  std::numeric_limits<int32_t>::max(), id, error))
      return false;
    ids.push_back(int32_t(id));
    if (comma == std::string::npos)
      return true;
    start = comma + 1;
  }
}

/// One flag: its spellings, and what it does with its value (null for flags
/// without a value).
struct Flag {
  std::vector<std::string> names;
  std::function<bool(Options &, const std::string &name, const char *value,
                     std::string &error)>
      withValue;
  std::function<void(Options &)> noValue;
};

const std::vector<Flag> &flags() {
  using S = const std::string &;
  static const std::vector<Flag> table = {
      {{"-p", "--prompt"},
       [](Options &o, S, const char *v, std::string &) {
         o.prompt = v;
         return true;
       },
       nullptr},
      {{"--tokens"},
       [](Options &o, S, const char *v, std::string &e) {
         o.tokens.emplace();
         return parseIds(v, *o.tokens, e);
       },
       nullptr},
      {{"-n", "--n-predict"},
       [](Options &o, S n, const char *v, std::string &e) {
         return parseInt(n, v, 0, std::numeric_limits<int64_t>::max(),
                         o.numPredict, e);
       },
       nullptr},
      {{"--temperature", "--temp"},
       [](Options &o, S n, const char *v, std::string &e) {
         return parseFloat(n, v, 0.0f, 100.0f, o.sampling.temperature, e);
       },
       nullptr},
      {{"--top-k"},
       [](Options &o, S n, const char *v, std::string &e) {
         int64_t k;
         if (!parseInt(n, v, 0, std::numeric_limits<int>::max(), k, e))
           return false;
         o.sampling.topK = int(k);
         return true;
       },
       nullptr},
      {{"--top-p"},
       [](Options &o, S n, const char *v, std::string &e) {
         return parseFloat(n, v, 0.0f, 1.0f, o.sampling.topP, e);
       },
       nullptr},
      {{"--seed"},
       [](Options &o, S n, const char *v, std::string &e) {
         return parseU64(n, v, o.sampling.seed, e);
       },
       nullptr},
      {{"--prefill-chunk"},
       [](Options &o, S n, const char *v, std::string &e) {
         return parseInt(n, v, 1, std::numeric_limits<int64_t>::max(),
                         o.prefillChunk, e);
       },
       nullptr},
      {{"--logits-out"},
       [](Options &o, S n, const char *v, std::string &e) {
         if (!*v) {
           e = n + " needs a file name";
           return false;
         }
         o.logitsOut = v;
         return true;
       },
       nullptr},
      {{"--system"},
       [](Options &o, S, const char *v, std::string &) {
         o.system = v;
         return true;
       },
       nullptr},
      {{"--perplexity"},
       [](Options &o, S n, const char *v, std::string &e) {
         if (!*v) {
           e = n + " needs a file name";
           return false;
         }
         o.perplexityFile = v;
         return true;
       },
       nullptr},
      {{"--ctx"},
       [](Options &o, S n, const char *v, std::string &e) {
         return parseInt(n, v, 2, std::numeric_limits<int64_t>::max(),
                         o.perplexityCtx, e);
       },
       nullptr},
      {{"--host"},
       [](Options &o, S n, const char *v, std::string &e) {
         if (!*v) {
           e = n + " needs an address";
           return false;
         }
         o.host = v;
         return true;
       },
       nullptr},
      {{"--port"},
       [](Options &o, S n, const char *v, std::string &e) {
         return parseInt(n, v, 0, 65535, o.port, e);
       },
       nullptr},
      {{"--sessions"},
       [](Options &o, S n, const char *v, std::string &e) {
         return parseInt(n, v, 1, 64, o.serveSessions, e);
       },
       nullptr},
      {{"--queue"},
       [](Options &o, S n, const char *v, std::string &e) {
         return parseInt(n, v, 0, 4096, o.serveQueue, e);
       },
       nullptr},
      {{"--model-name"},
       [](Options &o, S n, const char *v, std::string &e) {
         if (!*v) {
           e = n + " needs a name";
           return false;
         }
         o.modelName = v;
         return true;
       },
       nullptr},
      {{"--serve"}, nullptr, [](Options &o) { o.serve = true; }},
      {{"--ignore-eos"}, nullptr, [](Options &o) { o.ignoreEos = true; }},
      {{"--ids"}, nullptr, [](Options &o) { o.printIds = true; }},
      {{"--chat"}, nullptr, [](Options &o) { o.chat = true; }},
      {{"--stats"}, nullptr, [](Options &o) { o.stats = true; }},
  };
  return table;
}

const Flag *findFlag(const std::string &name) {
  for (const Flag &f : flags())
    for (const std::string &n : f.names)
      if (n == name)
        return &f;
  return nullptr;
}
} // namespace

bool mlir::hymba::parseCommandLine(int argc, const char *const *argv,
                                   Options &o, std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      o.help = true;
      return true;
    }
    if (a == "--hymba-internal-prefix-state") {
      // hymba-compile runs the program once this way; nothing else applies.
      if (i + 1 >= argc || !*argv[i + 1]) {
        error = a + " needs a value";
        return false;
      }
      o.prefixStateOut = argv[i + 1];
      return true;
    }
    const Flag *flag = findFlag(a);
    if (!flag) {
      error = "unknown argument '" + a + "' (see --help)";
      return false;
    }
    if (flag->noValue) {
      flag->noValue(o);
      continue;
    }
    if (i + 1 >= argc) {
      error = a + " needs a value";
      return false;
    }
    if (!flag->withValue(o, a, argv[++i], error))
      return false;
  }
  if (o.serve) {
    if (o.prompt || o.tokens || !o.perplexityFile.empty()) {
      error = "--serve takes its prompts from HTTP requests: give no "
              "--prompt, --tokens or --perplexity";
      return false;
    }
    return true;
  }
  if (!o.perplexityFile.empty()) {
    if (o.prompt || o.tokens) {
      error = "--perplexity scores a file: give no --prompt or --tokens";
      return false;
    }
    return true;
  }
  if (o.prompt && o.tokens) {
    error = "give either --prompt or --tokens, not both";
    return false;
  }
  if (!o.prompt && !o.tokens) {
    error = "nothing to do: give --prompt TEXT or --tokens IDS (see --help)";
    return false;
  }
  if (o.chat && !o.prompt) {
    error = "--chat needs --prompt";
    return false;
  }
  return true;
}
