//===- ModelConfig.cpp - Parse and validate a Hymba config.json -----------===//
//
// Unsupported values are rejected with the key that carries them, never
// silently turned into a different model (issue: checkpoint import).
//
//===----------------------------------------------------------------------===//

#include "hymba/Import/ModelConfig.h"
#include "hymba/Import/InputFile.h"
#include "hymba/Import/JsonInteger.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <set>

using namespace mlir::hymba;
using llvm::json::Object;
using llvm::json::Value;

namespace {
/// Reads typed keys from the config object, remembering the first error.
class ConfigReader {
public:
  ConfigReader(const Object &obj, llvm::StringRef path)
      : obj(obj), path(path) {}

  llvm::Error error(const llvm::Twine &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": " + msg);
  }

  /// An integer key in [min, max]; `fallback` when absent (or required when
  /// no fallback).
  llvm::Expected<int64_t> integer(llvm::StringRef key,
                                  std::optional<int64_t> fallback, int64_t min,
                                  int64_t max) {
    const Value *v = obj.get(key);
    if (!v || v->kind() == Value::Null) {
      if (!fallback)
        return error(llvm::formatv("missing required key '{0}'", key));
      return *fallback;
    }
    std::optional<int64_t> i = jsonInteger(*v);
    if (!i || *i < min)
      return error(llvm::formatv("key '{0}' must be an integer >= {1}, got {2}",
                                 key, min, render(*v)));
    if (*i > max)
      return error(llvm::formatv("key '{0}' is {1}, more than the {2} this "
                                 "compiler supports",
                                 key, *i, max));
    return *i;
  }

  llvm::Expected<double> number(llvm::StringRef key, double fallback,
                                bool positive, double max) {
    const Value *v = obj.get(key);
    if (!v || v->kind() == Value::Null)
      return fallback;
    std::optional<double> d = v->getAsNumber();
    if (!d || !std::isfinite(*d) || (positive && *d <= 0))
      return error(llvm::formatv("key '{0}' must be a {1}number, got {2}", key,
                                 positive ? "positive " : "", render(*v)));
    if (*d > max)
      return error(llvm::formatv("key '{0}' is {1}, more than the {2} this "
                                 "compiler supports",
                                 key, render(*v), max));
    return *d;
  }

  llvm::Expected<bool> boolean(llvm::StringRef key, bool fallback) {
    const Value *v = obj.get(key);
    if (!v || v->kind() == Value::Null)
      return fallback;
    std::optional<bool> b = v->getAsBoolean();
    if (!b)
      return error(llvm::formatv("key '{0}' must be true or false, got {1}",
                                 key, render(*v)));
    return *b;
  }

  llvm::Expected<std::string> string(llvm::StringRef key,
                                     llvm::StringRef fallback) {
    const Value *v = obj.get(key);
    if (!v || v->kind() == Value::Null)
      return fallback.str();
    std::optional<llvm::StringRef> s = v->getAsString();
    if (!s)
      return error(llvm::formatv("key '{0}' must be a string, got {1}", key,
                                 render(*v)));
    return s->str();
  }

  llvm::Expected<std::vector<int64_t>> intList(llvm::StringRef key,
                                               const Value *v) {
    const llvm::json::Array *arr = v ? v->getAsArray() : nullptr;
    if (!arr)
      return error(
          llvm::formatv("key '{0}' must be a list of integers, got {1}", key,
                        v ? render(*v) : "nothing"));
    std::vector<int64_t> out;
    for (const Value &e : *arr) {
      std::optional<int64_t> i = jsonInteger(e);
      if (!i)
        return error(llvm::formatv(
            "key '{0}' must be a list of integers, found {1}", key, render(e)));
      out.push_back(*i);
    }
    return out;
  }

  static std::string render(const Value &v) {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << v;
    if (s.size() > 40)
      s = s.substr(0, 37) + "...";
    return s;
  }

  const Object &obj;
  llvm::StringRef path;
};

// Upper bounds on every numeric key: far above any Hymba model (1.5B:
// hidden 1600, 32 layers, 25 heads, d_state 16, 128 meta tokens, vocab
// 32001), and low enough that no size derived from them (weight shapes,
// state buffers: products of a few of them and max_seq_len) can overflow 64
// bits, so an absurd config gets a message naming its key, not a wrapped
// shape or an out-of-memory abort.
constexpr int64_t kMaxVocab = int64_t(1) << 22;
constexpr int64_t kMaxWidth = int64_t(1) << 16;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxHeadDim = 4096;
constexpr int64_t kMaxExpand = 16;
constexpr int64_t kMaxDState = 1024;
constexpr int64_t kMaxDConv = 64;
constexpr int64_t kMaxMeta = 4096;
constexpr int64_t kMaxPositions = int64_t(1) << 24;
constexpr int64_t kMaxCount = int64_t(1) << 20;
/// float32 holds the RoPE base in the generated code.
constexpr double kMaxRopeTheta = 1e12;

#define HYMBA_TRY(var, expr)                                                   \
  auto var##OrErr = (expr);                                                    \
  if (!var##OrErr)                                                             \
    return var##OrErr.takeError();                                             \
  auto var = *var##OrErr;
} // namespace

llvm::Expected<ModelConfig> ModelConfig::load(llvm::StringRef path) {
  auto buf = readRegularFile(path, kMaxConfigBytes);
  if (!buf)
    return buf.takeError();
  return parse((*buf)->getBuffer(), path);
}

llvm::Expected<ModelConfig> ModelConfig::parse(llvm::StringRef text,
                                               llvm::StringRef path) {
  auto errorAt = [&](const llvm::Twine &msg) -> llvm::Error {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": " + msg);
  };
  if (text.trim().empty())
    return errorAt("file is empty, expected a JSON object");
  llvm::Expected<Value> parsed = llvm::json::parse(text);
  if (!parsed)
    return errorAt("invalid JSON: " + llvm::toString(parsed.takeError()));
  const Object *obj = parsed->getAsObject();
  if (!obj)
    return errorAt("expected a JSON object at the top level");
  ConfigReader r(*obj, path);

  // Values the official model code does not implement: refuse them rather
  // than compile a different model.
  HYMBA_TRY(ropeType, r.string("rope_type", "default"));
  if (ropeType != "ntk" && ropeType != "default")
    return errorAt("key 'rope_type' is '" + ropeType +
                   "'; only 'ntk' and 'default' are supported");
  HYMBA_TRY(numExperts, r.integer("num_experts", 1, 1, kMaxCount));
  if (numExperts != 1)
    return errorAt(llvm::formatv("key 'num_experts' is {0}; only a single "
                                 "dense expert (1) is supported",
                                 numExperts));
  HYMBA_TRY(interspersed,
            r.integer("memory_tokens_interspersed_every", 0, 0, kMaxCount));
  if (interspersed != 0)
    return errorAt("key 'memory_tokens_interspersed_every' must be 0: meta "
                   "tokens interspersed in the prompt are not supported");
  HYMBA_TRY(kqNorm, r.string("kq_norm", "none"));
  if (kqNorm != "none")
    return errorAt("key 'kq_norm' is '" + kqNorm +
                   "'; only 'none' is supported");
  HYMBA_TRY(projBias, r.boolean("mamba_proj_bias", false));
  if (projBias)
    return errorAt("key 'mamba_proj_bias' is true; biased in_proj/out_proj "
                   "are not supported");
  HYMBA_TRY(convBias, r.boolean("mamba_conv_bias", true));
  if (!convBias)
    return errorAt("key 'mamba_conv_bias' is false; the conv bias is required");
  HYMBA_TRY(innerNorms, r.boolean("mamba_inner_layernorms", true));
  if (!innerNorms)
    return errorAt("key 'mamba_inner_layernorms' is false; only the "
                   "normalised dt/B/C variant is supported");
  for (llvm::StringRef key : {"hidden_act", "mlp_hidden_act"}) {
    HYMBA_TRY(act, r.string(key, "silu"));
    if (act != "silu")
      return errorAt("key '" + key + "' is '" + act +
                     "'; only 'silu' is supported");
  }

  ModelConfig c;
  HYMBA_TRY(vocab, r.integer("vocab_size", std::nullopt, 1, kMaxVocab));
  HYMBA_TRY(hidden, r.integer("hidden_size", std::nullopt, 1, kMaxWidth));
  HYMBA_TRY(inter, r.integer("intermediate_size", std::nullopt, 1, kMaxWidth));
  HYMBA_TRY(layers,
            r.integer("num_hidden_layers", std::nullopt, 1, kMaxLayers));
  HYMBA_TRY(heads,
            r.integer("num_attention_heads", std::nullopt, 1, kMaxHeads));
  HYMBA_TRY(kvHeads, r.integer("num_key_value_heads", heads, 1, kMaxHeads));
  HYMBA_TRY(attnHidden, r.integer("attn_hidden_size", -1, -1, kMaxWidth));
  HYMBA_TRY(kqHeadDim, r.integer("kq_head_dim", -1, -1, kMaxHeadDim));
  HYMBA_TRY(expand, r.integer("mamba_expand", 2, 1, kMaxExpand));
  HYMBA_TRY(dState, r.integer("mamba_d_state", 16, 1, kMaxDState));
  HYMBA_TRY(dConv, r.integer("mamba_d_conv", 4, 1, kMaxDConv));
  HYMBA_TRY(meta, r.integer("num_memory_tokens", 0, 0, kMaxMeta));
  HYMBA_TRY(eps, r.number("rms_norm_eps", 1e-6, true, 1.0));
  HYMBA_TRY(rope, r.boolean("rope", true));
  HYMBA_TRY(theta, r.number("rope_theta", 10000.0, true, kMaxRopeTheta));
  HYMBA_TRY(maxPos,
            r.integer("max_position_embeddings", 2048, 1, kMaxPositions));
  HYMBA_TRY(origMaxPos, r.integer("orig_max_position_embeddings", maxPos, 1,
                                  kMaxPositions));
  HYMBA_TRY(tied, r.boolean("tie_word_embeddings", true));
  HYMBA_TRY(bos, r.integer("bos_token_id", 1, 0, kMaxVocab));
  HYMBA_TRY(eos, r.integer("eos_token_id", 2, 0, kMaxVocab));

  c.vocabSize = vocab;
  c.hiddenSize = hidden;
  c.intermediateSize = inter;
  c.numLayers = layers;
  c.numHeads = heads;
  c.numKVHeads = kvHeads;
  c.dState = dState;
  c.dConv = dConv;
  c.numMeta = meta;
  c.rmsEps = eps;
  c.rope = rope;
  c.maxPositions = maxPos;
  c.tiedEmbeddings = tied;
  c.bosTokenId = bos;
  c.eosTokenId = eos;
  if (bos >= vocab || eos >= vocab)
    return errorAt(llvm::formatv("bos_token_id {0} / eos_token_id {1} must be "
                                 "below vocab_size {2}",
                                 bos, eos, vocab));

  // Head sizes, as HymbaAttention and HymbaBlock derive them.
  int64_t qHidden = attnHidden == -1 ? hidden : attnHidden;
  if (attnHidden == 0 || kqHeadDim == 0)
    return errorAt("keys 'attn_hidden_size' and 'kq_head_dim' must be -1 or "
                   "positive");
  if (kqHeadDim == -1 && qHidden % heads != 0)
    return errorAt(llvm::formatv("attention width {0} (hidden_size or "
                                 "attn_hidden_size) is not divisible by "
                                 "num_attention_heads {1}",
                                 qHidden, heads));
  c.headDim = kqHeadDim == -1 ? qHidden / heads : kqHeadDim;
  if (heads % kvHeads != 0)
    return errorAt(llvm::formatv("num_key_value_heads {0} does not divide "
                                 "num_attention_heads {1}",
                                 kvHeads, heads));
  c.dInner = expand * hidden;
  if (c.dInner % heads != 0)
    return errorAt(llvm::formatv("mamba_expand * hidden_size = {0} is not "
                                 "divisible by num_attention_heads {1}",
                                 c.dInner, heads));
  c.vHeadDim = c.dInner / heads;
  if (c.rope && c.headDim % 2 != 0)
    return errorAt(
        llvm::formatv("RoPE needs an even head dim, got {0}", c.headDim));

  // dt rank: an integer or "auto" = ceil(hidden / 16).
  const Value *dtRank = obj->get("mamba_dt_rank");
  if (!dtRank || dtRank->kind() == Value::Null ||
      (dtRank->getAsString() && *dtRank->getAsString() == "auto")) {
    c.dtRank = (hidden + 15) / 16;
  } else {
    HYMBA_TRY(rank, r.integer("mamba_dt_rank", std::nullopt, 1, kMaxWidth));
    c.dtRank = rank;
  }

  // Static NTK: base' = theta * (2 * max / orig - 1) ^ (d / (d - 2)).
  c.ropeBase = theta;
  if (ropeType == "ntk" && c.rope) {
    double ratio = 2.0 * double(maxPos) / double(origMaxPos) - 1.0;
    if (c.headDim <= 2 || ratio <= 0)
      return errorAt(
          "rope_type 'ntk' needs head dim > 2 and "
          "max_position_embeddings > orig_max_position_embeddings / 2");
    c.ropeBase = theta * std::pow(ratio, double(c.headDim) / (c.headDim - 2));
    if (!(c.ropeBase <= 1e30))
      return errorAt(llvm::formatv(
          "rope_type 'ntk' with rope_theta {0} and max_position_embeddings "
          "{1} gives a RoPE base of {2}, beyond float32",
          theta, maxPos, c.ropeBase));
  }

  // Attention layout: sliding window, global layers, KV groups.
  const Value *window = obj->get("sliding_window");
  if (window && window->kind() != Value::Null) {
    HYMBA_TRY(w, r.integer("sliding_window", std::nullopt, 1, kMaxPositions));
    c.slidingWindow = w;
  }
  if (const Value *g = obj->get("global_attn_idx");
      g && g->kind() != Value::Null) {
    HYMBA_TRY(list, r.intList("global_attn_idx", g));
    for (int64_t l : list)
      if (l < 0 || l >= layers)
        return errorAt(llvm::formatv("key 'global_attn_idx' names layer {0}, "
                                     "outside 0..{1}",
                                     l, layers - 1));
    c.globalLayers = list;
  }
  if (const Value *groups = obj->get("kv_reuse_group");
      groups && groups->kind() != Value::Null) {
    const llvm::json::Array *arr = groups->getAsArray();
    if (!arr)
      return errorAt(
          "key 'kv_reuse_group' must be a list of layer lists, got " +
          ConfigReader::render(*groups));
    std::set<int64_t> seen;
    for (const Value &g : *arr) {
      HYMBA_TRY(group, r.intList("kv_reuse_group", &g));
      if (group.empty())
        return errorAt("key 'kv_reuse_group' contains an empty group");
      for (int64_t l : group) {
        if (l < 0 || l >= layers)
          return errorAt(llvm::formatv("key 'kv_reuse_group' names layer {0}, "
                                       "outside 0..{1}",
                                       l, layers - 1));
        if (!seen.insert(l).second)
          return errorAt(
              llvm::formatv("key 'kv_reuse_group' names layer {0} twice", l));
      }
      for (int64_t l : llvm::ArrayRef(group).drop_front())
        if (l <= group.front())
          return errorAt(llvm::formatv(
              "key 'kv_reuse_group': consumer layer {0} comes before its "
              "producer {1} (the first layer of the group)",
              l, group.front()));
      c.kvGroups.push_back(group);
    }
    for (const auto &group : c.kvGroups)
      for (int64_t l : group)
        if (c.isGlobal(l) != c.isGlobal(group.front()))
          return errorAt(llvm::formatv(
              "key 'kv_reuse_group' mixes global and sliding-window layers "
              "({0} and {1}); a shared cache needs one attention pattern",
              group.front(), l));
  }
  return c;
}

bool ModelConfig::isGlobal(int64_t layer) const {
  return !slidingWindow || llvm::is_contained(globalLayers, layer);
}

int64_t ModelConfig::kvSource(int64_t layer) const {
  for (const auto &g : kvGroups)
    if (llvm::is_contained(llvm::ArrayRef(g).drop_front(), layer))
      return g.front();
  return layer;
}

int64_t ModelConfig::lastKVReader(int64_t owner) const {
  int64_t last = owner;
  for (const auto &g : kvGroups)
    if (g.front() == owner)
      for (int64_t l : g)
        last = std::max(last, l);
  return last;
}

int64_t ModelConfig::inProjRows(int64_t layer) const {
  return qWidth() + (ownsKV(layer) ? kWidth() + vWidth() : 0) + 2 * dInner;
}
