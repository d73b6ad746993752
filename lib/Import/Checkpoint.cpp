//===- Checkpoint.cpp - A validated HuggingFace Hymba checkpoint ----------===//
#include "hymba/Import/Checkpoint.h"
#include "hymba/Import/InputFile.h"
#include "hymba/Runtime/Payload.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <sentencepiece_processor.h>

using namespace mlir::hymba;

namespace {
llvm::Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

std::string join(llvm::StringRef dir, llvm::StringRef file) {
  llvm::SmallString<256> p(dir);
  llvm::sys::path::append(p, file);
  return std::string(p);
}

std::string shapeStr(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// The shard file names listed by model.safetensors.index.json, checked to
/// exist, with the tensor -> file map for cross-checking.
llvm::Expected<std::vector<std::string>>
readIndex(llvm::StringRef dir, llvm::StringRef indexPath,
          llvm::StringMap<std::string> &weightMap) {
  auto buf = readRegularFile(indexPath, kMaxIndexBytes);
  if (!buf)
    return buf.takeError();
  llvm::Expected<llvm::json::Value> v = llvm::json::parse((*buf)->getBuffer());
  if (!v)
    return fail(indexPath + ": invalid JSON: " + llvm::toString(v.takeError()));
  const llvm::json::Object *obj = v->getAsObject();
  const llvm::json::Object *map = obj ? obj->getObject("weight_map") : nullptr;
  if (!map)
    return fail(indexPath + ": missing the 'weight_map' object");
  std::vector<std::string> shards;
  llvm::StringSet<> seen;
  for (const auto &kv : *map) {
    std::optional<llvm::StringRef> file = kv.second.getAsString();
    if (!file || file->empty() || file->contains('/'))
      return fail(indexPath + ": weight_map entry '" +
                  llvm::StringRef(kv.first) +
                  "' must name a shard file in the same directory");
    weightMap[kv.first] = file->str();
    if (seen.insert(*file).second) {
      std::string path = join(dir, *file);
      if (!llvm::sys::fs::exists(path))
        return fail(indexPath + ": names shard '" + *file + "' (for tensor '" +
                    llvm::StringRef(kv.first) + "'), which does not exist");
      shards.push_back(path);
    }
  }
  llvm::sort(shards);
  return shards;
}
} // namespace

std::vector<std::pair<std::string, std::vector<int64_t>>>
mlir::hymba::expectedTensors(const ModelConfig &c) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> t;
  int64_t H = c.hiddenSize, E = c.dInner;
  t.push_back({"model.embed_tokens.weight", {c.vocabSize, H}});
  if (c.numMeta > 0)
    t.push_back({"model.memory_tokens", {c.numMeta, H}});
  t.push_back({"model.final_layernorm.weight", {H}});
  if (!c.tiedEmbeddings)
    t.push_back({"lm_head.weight", {c.vocabSize, H}});
  for (int64_t i = 0; i < c.numLayers; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    auto add = [&](const char *n, std::vector<int64_t> s) {
      t.push_back({p + n, std::move(s)});
    };
    add("input_layernorm.weight", {H});
    add("pre_moe_layernorm.weight", {H});
    add("moe.experts.0.gate_proj.weight", {c.intermediateSize, H});
    add("moe.experts.0.up_proj.weight", {c.intermediateSize, H});
    add("moe.experts.0.down_proj.weight", {H, c.intermediateSize});
    add("mamba.in_proj.weight", {c.inProjRows(i), H});
    add("mamba.out_proj.weight", {H, E});
    add("mamba.conv1d.weight", {E, 1, c.dConv});
    add("mamba.conv1d.bias", {E});
    add("mamba.x_proj.0.weight", {c.dtRank + 2 * c.dState, E});
    add("mamba.dt_proj.0.weight", {E, c.dtRank});
    add("mamba.dt_proj.0.bias", {E});
    add("mamba.A_log.0", {E, c.dState});
    add("mamba.D.0", {E});
    add("mamba.dt_layernorm.weight", {c.dtRank});
    add("mamba.B_layernorm.weight", {c.dState});
    add("mamba.C_layernorm.weight", {c.dState});
    add("mamba.pre_avg_layernorm1.weight", {E});
    add("mamba.pre_avg_layernorm2.weight", {E});
  }
  return t;
}

const TensorInfo &Checkpoint::tensor(llvm::StringRef name) const {
  return *byName.lookup(name);
}

void Checkpoint::releasePages(const TensorInfo &t) const {
  for (const std::unique_ptr<SafeTensorsFile> &f : files)
    if (f->holds(t))
      f->releasePages(t);
}

llvm::Expected<std::unique_ptr<Checkpoint>>
Checkpoint::open(llvm::StringRef dir) {
  if (!llvm::sys::fs::is_directory(dir))
    return fail(dir + ": not a checkpoint directory");
  auto ckpt = std::make_unique<Checkpoint>();
  ckpt->dir = dir.str();

  std::string configPath = join(dir, "config.json");
  if (!llvm::sys::fs::exists(configPath))
    return fail(configPath + ": missing (every checkpoint needs config.json)");
  llvm::Expected<ModelConfig> cfg = ModelConfig::load(configPath);
  if (!cfg)
    return cfg.takeError();
  ckpt->cfg = *cfg;

  std::string single = join(dir, "model.safetensors");
  std::string index = join(dir, "model.safetensors.index.json");
  std::vector<std::string> shardPaths;
  llvm::StringMap<std::string> weightMap;
  if (llvm::sys::fs::exists(index)) {
    auto shards = readIndex(dir, index, weightMap);
    if (!shards)
      return shards.takeError();
    shardPaths = *shards;
  } else if (llvm::sys::fs::exists(single)) {
    shardPaths = {single};
  } else {
    return fail(dir + ": no weights: expected model.safetensors or "
                      "model.safetensors.index.json");
  }

  for (const std::string &path : shardPaths) {
    auto file = SafeTensorsFile::open(path);
    if (!file)
      return file.takeError();
    for (const TensorInfo &t : (*file)->tensors()) {
      if (!ckpt->byName.try_emplace(t.name, &t).second)
        return fail(path + ": tensor '" + t.name + "' also appears in " +
                    ckpt->byName[t.name]->file);
      auto it = weightMap.find(t.name);
      if (!weightMap.empty() && (it == weightMap.end() ||
                                 it->second != llvm::sys::path::filename(path)))
        return fail(index + ": does not list tensor '" + t.name +
                    "' as stored in " + llvm::sys::path::filename(path));
    }
    ckpt->files.push_back(std::move(*file));
  }

  // Exactly the official tensors, with the shapes the config implies.
  llvm::StringSet<> expected;
  bool anyF32 = false, anyF16 = false;
  for (const auto &[name, shape] : expectedTensors(ckpt->cfg)) {
    expected.insert(name);
    const TensorInfo *t = ckpt->byName.lookup(name);
    if (!t)
      return fail(dir + ": tensor '" + name + "' is missing (expected shape " +
                  shapeStr(shape) + ")");
    if (t->shape != shape)
      return fail(t->file + ": tensor '" + name + "' has shape " +
                  shapeStr(t->shape) + " but config.json implies " +
                  shapeStr(shape));
    anyF32 |= t->dtype == DType::F32;
    anyF16 |= t->dtype == DType::F16;
  }
  for (const auto &kv : ckpt->byName) {
    llvm::StringRef name = kv.first();
    if (expected.contains(name))
      continue;
    if (name == "lm_head.weight" && ckpt->cfg.tiedEmbeddings) {
      // Tied: a stored head must be the embedding itself.
      const TensorInfo &head = *kv.second;
      const TensorInfo &emb = ckpt->tensor("model.embed_tokens.weight");
      if (head.shape != emb.shape || head.dtype != emb.dtype ||
          std::memcmp(head.data, emb.data, head.numBytes) != 0)
        return fail(head.file + ": tie_word_embeddings is true but tensor "
                                "'lm_head.weight' differs from "
                                "'model.embed_tokens.weight'");
      continue;
    }
    return fail(kv.second->file + ": unexpected tensor '" + name +
                "' (not part of the model config.json describes)");
  }
  ckpt->storage = anyF32 ? DType::F32 : anyF16 ? DType::F16 : DType::BF16;

  std::string tok = join(dir, "tokenizer.model");
  if (llvm::sys::fs::exists(tok)) {
    // Checked now, not when the executable first runs: it must load, and
    // every id it produces must be in the model's vocabulary.
    auto buf = readRegularFile(tok, kMaxTokenizerBytes);
    if (!buf)
      return buf.takeError();
    sentencepiece::SentencePieceProcessor sp;
    std::string bytes = (*buf)->getBuffer().str();
    auto status = sp.LoadFromSerializedProto(bytes);
    if (!status.ok())
      return fail(tok + ": not a SentencePiece model: " + status.ToString());
    if (sp.GetPieceSize() > ckpt->cfg.vocabSize)
      return fail(llvm::formatv("{0}: has {1} pieces, more than the "
                                "vocab_size {2} of config.json",
                                tok, sp.GetPieceSize(), ckpt->cfg.vocabSize));
    ckpt->tokenizer = tok;
    ckpt->tokenizerBytes = std::move(bytes);
  }
  return std::move(ckpt);
}
