//===- ModelBuilder.cpp - Build Hymba IR for a model config ---------------===//
//
// One function per concern: the entry points, the layer stack, one decoder
// layer, the attention branch and the SSM branch. Each decoder layer is a
// function of its own in the IR too (@hymba_layer_<i>, called in order by
// @hymba_layers), so that layers of one kind can later share their code
// (hymba-merge-equivalent-functions) instead of being lowered 32 times. The IR
// follows SPEC.md 3.8 line by line so that a reader can check one against the
// other.
//
//===----------------------------------------------------------------------===//

#include "hymba/Import/ModelBuilder.h"
#include "dialects/hymba/HymbaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

#include <cmath>
#include <map>
#include <optional>

using namespace mlir;
namespace hy = mlir::hymba;
using hy::BuildOptions;
using hy::ModelConfig;
using hy::WeightType;

namespace {
class ModelIRBuilder {
public:
  ModelIRBuilder(MLIRContext &ctx, const ModelConfig &c, const BuildOptions &o)
      : c(c), opts(o), b(&ctx), loc(b.getUnknownLoc()) {}

  OwningOpRef<ModuleOp> build();

private:
  /// While alive, ops are built at a NameLoc naming the checkpoint module
  /// they come from ("model.layers.3.mamba"), so that a diagnostic about one
  /// says which layer it is about.
  struct NamedLoc {
    NamedLoc(ModelIRBuilder &m, const Twine &name) : m(m), saved(m.loc) {
      m.loc = NameLoc::get(m.b.getStringAttr(name));
    }
    ~NamedLoc() { m.loc = saved; }
    ModelIRBuilder &m;
    Location saved;
  };

  // Types.
  Type f32() { return b.getF32Type(); }
  Type weightElt() {
    return opts.weightType == WeightType::BF16 ? Type(b.getBF16Type()) : f32();
  }
  bool quantized() const {
    return opts.weightType == WeightType::INT8 ||
           opts.weightType == WeightType::INT4;
  }
  RankedTensorType rows(int64_t width) {
    return RankedTensorType::get({ShapedType::kDynamic, width}, f32());
  }
  MemRefType byteBuffer() {
    return MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
  }

  // References into the parameter and state buffers.
  Value weight(const std::string &name, ArrayRef<int64_t> shape) {
    auto type = RankedTensorType::get(shape, weightElt());
    return hy::WeightOp::create(b, loc, type, params, b.getStringAttr(name),
                                IntegerAttr(), /*scales=*/false)
        .getResult();
  }
  Value layerWeight(int64_t layer, const char *name, ArrayRef<int64_t> shape) {
    return weight("model.layers." + std::to_string(layer) + "." + name, shape);
  }
  /// An [out, in] weight that only projections and embedding lookups read:
  /// quantized per group of inputs when the build asks for it.
  Value projectionWeight(const std::string &name, ArrayRef<int64_t> shape) {
    if (!quantized())
      return weight(name, shape);
    Type valueType =
        b.getIntegerType(opts.weightType == WeightType::INT4 ? 4 : 8);
    int64_t groups = (shape[1] + opts.quantGroup - 1) / opts.quantGroup;
    Value values = hy::WeightOp::create(
        b, loc, RankedTensorType::get(shape, valueType), params,
        b.getStringAttr(name), IntegerAttr(), /*scales=*/false);
    Value scales = hy::WeightOp::create(
        b, loc, RankedTensorType::get({shape[0], groups}, b.getBF16Type()),
        params, b.getStringAttr(name), IntegerAttr(), /*scales=*/true);
    return hy::DequantizeOp::create(b, loc, RankedTensorType::get(shape, f32()),
                                    values, scales,
                                    b.getI64IntegerAttr(opts.quantGroup))
        .getResult();
  }
  Value layerProjection(int64_t layer, const char *name,
                        ArrayRef<int64_t> shape) {
    return projectionWeight(
        "model.layers." + std::to_string(layer) + "." + name, shape);
  }
  Value stateBuffer(const std::string &name, int64_t rows, int64_t width) {
    auto type = MemRefType::get({rows, width}, f32());
    return hy::StateBufferOp::create(b, loc, type, state, b.getStringAttr(name),
                                     IntegerAttr())
        .getResult();
  }

  /// Columns [offset, offset + width) of a [rows, *] tensor.
  Value columns(Value t, int64_t offset, int64_t width) {
    Value n = tensor::DimOp::create(b, loc, t, 0);
    SmallVector<OpFoldResult> offs = {b.getIndexAttr(0),
                                      b.getIndexAttr(offset)};
    SmallVector<OpFoldResult> sizes = {n, b.getIndexAttr(width)};
    SmallVector<OpFoldResult> strides = {b.getIndexAttr(1), b.getIndexAttr(1)};
    return tensor::ExtractSliceOp::create(b, loc, rows(width), t, offs, sizes,
                                          strides)
        .getResult();
  }
  /// The destination of an op writing [rows of `like`, width] (the `outs`
  /// of the destination-style Hymba ops).
  Value emptyRows(Value like, int64_t width) {
    Value n = tensor::DimOp::create(b, loc, like, 0);
    return tensor::EmptyOp::create(b, loc, rows(width), ValueRange{n})
        .getResult();
  }
  Value rmsNorm(Value x, Value w) {
    return hy::RMSNormOp::create(b, loc, x.getType(), x, w,
                                 b.getF32FloatAttr(c.rmsEps))
        .getResult();
  }
  Value linear(Value x, Value w) {
    int64_t out = cast<RankedTensorType>(w.getType()).getDimSize(0);
    return hy::LinearOp::create(b, loc, rows(out), x, w).getResult();
  }
  Value rope(Value x) {
    if (!c.rope)
      return x;
    return hy::RopeOp::create(b, loc, x.getType(), x, position,
                              b.getI64IntegerAttr(c.headDim),
                              b.getF64FloatAttr(float(c.ropeBase)))
        .getResult();
  }

  int64_t windowOf(int64_t layer) const {
    // A window at least as long as the longest sequence never drops a key:
    // the layer is then global, and needs no ring buffer.
    if (c.isGlobal(layer) || *c.slidingWindow >= opts.maxSeqLen)
      return 0;
    return *c.slidingWindow;
  }
  int64_t cacheRows(int64_t layer) const {
    int64_t w = windowOf(layer);
    return c.numMeta + (w ? w : opts.maxSeqLen);
  }

  func::FuncOp buildLayersFn(ModuleOp module);
  func::FuncOp buildLayerFn(ModuleOp module, int64_t i);
  void buildEntry(ModuleOp module, func::FuncOp layers, bool start);
  Value buildLayer(int64_t i, Value h);
  Value buildSSM(int64_t i, Value x, Value z);

  const ModelConfig &c;
  const BuildOptions &opts;
  OpBuilder b;
  Location loc;
  // Arguments of the function being built.
  Value params, state, position;
  // The chunk keys and values a layer attends with: its own, or its group
  // owner's (the layer function's arguments, or the owner's values when the
  // layers are inline).
  std::map<int64_t, std::pair<Value, Value>> chunkKV;
};

Value ModelIRBuilder::buildSSM(int64_t i, Value x, Value z) {
  int64_t E = c.dInner, R = c.dtRank, N = c.dState;
  std::string p = "layers." + std::to_string(i) + ".";
  NamedLoc named(*this, "model." + p + "mamba");
  Value convState = stateBuffer(p + "conv_state", c.dConv - 1, E);
  Value u = hy::CausalConv1dOp::create(
                b, loc, x.getType(), x,
                layerWeight(i, "mamba.conv1d.weight", {E, 1, c.dConv}),
                layerWeight(i, "mamba.conv1d.bias", {E}), convState,
                emptyRows(x, E))
                .getResult();
  Value xp = linear(u, layerProjection(i, "mamba.x_proj.0.weight", {R + 2 * N, E}));
  Value dtr = rmsNorm(columns(xp, 0, R),
                      layerWeight(i, "mamba.dt_layernorm.weight", {R}));
  Value bm = rmsNorm(columns(xp, R, N),
                     layerWeight(i, "mamba.B_layernorm.weight", {N}));
  Value cm = rmsNorm(columns(xp, R + N, N),
                     layerWeight(i, "mamba.C_layernorm.weight", {N}));
  Value dt = linear(dtr, layerProjection(i, "mamba.dt_proj.0.weight", {E, R}));
  Value ssmState = stateBuffer(p + "ssm_state", E, N);
  return hy::SelectiveScanOp::create(
             b, loc, u.getType(), u, dt,
             layerWeight(i, "mamba.dt_proj.0.bias", {E}),
             layerWeight(i, "mamba.A_log.0", {E, N}), bm, cm,
             layerWeight(i, "mamba.D.0", {E}), z, ssmState, emptyRows(u, E),
             /*b_norm=*/Value(), /*c_norm=*/Value(), /*norm_epsilon=*/nullptr)
      .getResult();
}

Value ModelIRBuilder::buildLayer(int64_t i, Value h) {
  int64_t H = c.hiddenSize, E = c.dInner;
  int64_t qw = c.qWidth(), kw = c.kWidth(), vw = c.vWidth();
  std::string layer = "model.layers." + std::to_string(i);
  NamedLoc named(*this, layer);

  // One projection feeds both branches (SPEC.md 3.3).
  Value a = rmsNorm(h, layerWeight(i, "input_layernorm.weight", {H}));
  Value proj =
      linear(a, layerProjection(i, "mamba.in_proj.weight", {c.inProjRows(i), H}));
  int64_t xOff = c.inProjRows(i) - 2 * E;
  Value q = rope(columns(proj, 0, qw));
  if (c.ownsKV(i))
    chunkKV[i] = {rope(columns(proj, qw, kw)), columns(proj, qw + kw, vw)};
  Value x = columns(proj, xOff, E);
  Value z = columns(proj, xOff + E, E);

  // Attention branch: keys and values of the group's producer.
  std::optional<NamedLoc> attention(std::in_place, *this, layer + ".self_attn");
  int64_t src = c.kvSource(i);
  auto [k, v] = chunkKV.at(src);
  std::string cache = "layers." + std::to_string(src) + ".";
  Value kCache = stateBuffer(cache + "k_cache", cacheRows(src), kw);
  Value vCache = stateBuffer(cache + "v_cache", cacheRows(src), vw);
  Value att =
      hy::AttentionOp::create(
          b, loc, rows(c.numHeads * c.vHeadDim), q, k, v, kCache, vCache,
          position, /*query_offset=*/Value(),
          emptyRows(q, c.numHeads * c.vHeadDim),
          b.getI64IntegerAttr(c.numHeads), b.getI64IntegerAttr(c.numKVHeads),
          b.getI64IntegerAttr(windowOf(src)), b.getI64IntegerAttr(c.numMeta),
          b.getF32FloatAttr(1.0f / std::sqrt(float(c.headDim))))
          .getResult();
  // The chunk joins the cache once the last layer sharing it has attended.
  if (c.lastKVReader(src) == i)
    hy::KVCacheWriteOp::create(b, loc, k, v, kCache, vCache, position,
                               b.getI64IntegerAttr(windowOf(src)),
                               b.getI64IntegerAttr(c.numMeta));
  attention.reset();

  Value s = buildSSM(i, x, z);
  Value mixed = hy::HybridMergeOp::create(
                    b, loc, rows(H), att, s,
                    layerWeight(i, "mamba.pre_avg_layernorm1.weight", {E}),
                    layerWeight(i, "mamba.pre_avg_layernorm2.weight", {E}),
                    layerProjection(i, "mamba.out_proj.weight", {H, E}),
                    /*residual=*/Value(), b.getF32FloatAttr(c.rmsEps))
                    .getResult();
  h = arith::AddFOp::create(b, loc, h, mixed);

  int64_t F = c.intermediateSize;
  NamedLoc mlpLoc(*this, layer + ".moe");
  Value m = rmsNorm(h, layerWeight(i, "pre_moe_layernorm.weight", {H}));
  Value mlp = hy::SwiGLUMLPOp::create(
                  b, loc, rows(H), m,
                  layerProjection(i, "moe.experts.0.gate_proj.weight", {F, H}),
                  layerProjection(i, "moe.experts.0.up_proj.weight", {F, H}),
                  layerProjection(i, "moe.experts.0.down_proj.weight", {H, F}))
                  .getResult();
  return arith::AddFOp::create(b, loc, h, mlp);
}

/// @hymba_layer_<i>(params, state, h, position[, k, v]) -> (h[, k, v]): a
/// layer that reads another layer's chunk keys and values takes them as
/// arguments; a layer whose keys and values others read returns them.
func::FuncOp ModelIRBuilder::buildLayerFn(ModuleOp module, int64_t i) {
  int64_t src = c.kvSource(i);
  bool readsShared = src != i, shared = c.lastKVReader(i) != i;
  SmallVector<Type> inputs = {byteBuffer(), byteBuffer(), rows(c.hiddenSize),
                              b.getIndexType()};
  SmallVector<Type> results = {rows(c.hiddenSize)};
  SmallVector<Type> kv = {rows(c.kWidth()), rows(c.vWidth())};
  if (readsShared)
    inputs.append(kv);
  if (shared)
    results.append(kv);
  b.setInsertionPointToEnd(module.getBody());
  auto fn = func::FuncOp::create(b, loc, "hymba_layer_" + std::to_string(i),
                                 b.getFunctionType(inputs, results));
  fn.setPrivate();
  Block *body = fn.addEntryBlock();
  b.setInsertionPointToStart(body);
  params = body->getArgument(0);
  state = body->getArgument(1);
  position = body->getArgument(3);
  chunkKV.clear();
  if (readsShared)
    chunkKV[src] = {body->getArgument(4), body->getArgument(5)};
  SmallVector<Value> out = {buildLayer(i, body->getArgument(2))};
  if (shared)
    out.append({chunkKV.at(i).first, chunkKV.at(i).second});
  func::ReturnOp::create(b, loc, out);
  return fn;
}

func::FuncOp ModelIRBuilder::buildLayersFn(ModuleOp module) {
  SmallVector<func::FuncOp> layerFns;
  for (int64_t i = 0; opts.layerFunctions && i < c.numLayers; ++i)
    layerFns.push_back(buildLayerFn(module, i));
  b.setInsertionPointToEnd(module.getBody());
  auto type = b.getFunctionType(
      {byteBuffer(), byteBuffer(), rows(c.hiddenSize), b.getIndexType()},
      {rows(c.hiddenSize)});
  auto fn = func::FuncOp::create(b, loc, "hymba_layers", type);
  fn.setPrivate();
  Block *body = fn.addEntryBlock();
  b.setInsertionPointToStart(body);
  Value h = body->getArgument(2);
  if (!opts.layerFunctions) {
    params = body->getArgument(0);
    state = body->getArgument(1);
    position = body->getArgument(3);
    chunkKV.clear();
    for (int64_t i = 0; i < c.numLayers; ++i)
      h = buildLayer(i, h);
    func::ReturnOp::create(b, loc, h);
    return fn;
  }
  // Chunk keys and values returned by the owner of each shared group.
  std::map<int64_t, std::pair<Value, Value>> sharedKV;
  for (int64_t i = 0; i < c.numLayers; ++i) {
    SmallVector<Value> args = {body->getArgument(0), body->getArgument(1), h,
                               body->getArgument(3)};
    if (int64_t src = c.kvSource(i); src != i)
      args.append({sharedKV.at(src).first, sharedKV.at(src).second});
    auto call = func::CallOp::create(b, loc, layerFns[i], args);
    h = call.getResult(0);
    if (c.lastKVReader(i) != i)
      sharedKV[i] = {call.getResult(1), call.getResult(2)};
  }
  func::ReturnOp::create(b, loc, h);
  return fn;
}

void ModelIRBuilder::buildEntry(ModuleOp module, func::FuncOp layers,
                                bool start) {
  b.setInsertionPointToEnd(module.getBody());
  auto idsType = RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type());
  // (params, state, ids, logit rows[, pos]): the position last, so that the
  // folded @hymba_start is @hymba_continue with M appended.
  SmallVector<Type> inputs = {byteBuffer(), byteBuffer(), idsType,
                              b.getIndexType()};
  if (!start)
    inputs.push_back(b.getIndexType());
  auto fn =
      func::FuncOp::create(b, loc, start ? hy::kStartFn : hy::kContinueFn,
                           b.getFunctionType(inputs, {rows(c.vocabSize)}));
  fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  Block *body = fn.addEntryBlock();
  b.setInsertionPointToStart(body);
  params = body->getArgument(0);
  state = body->getArgument(1);
  Value ids = body->getArgument(2);
  int64_t H = c.hiddenSize;

  Value table = projectionWeight("model.embed_tokens.weight", {c.vocabSize, H});
  Value h = hy::EmbedOp::create(b, loc, rows(H), table, ids).getResult();
  Value pos;
  if (start) {
    pos = arith::ConstantIndexOp::create(b, loc, 0);
    if (c.numMeta > 0)
      h = hy::PrependMetaOp::create(
              b, loc, rows(H), weight("model.memory_tokens", {c.numMeta, H}), h)
              .getResult();
  } else {
    pos = body->getArgument(4);
  }
  h = func::CallOp::create(b, loc, layers, ValueRange{params, state, h, pos})
          .getResult(0);
  // Logits of the chunk's last min(logit rows, tokens) rows only (never the
  // meta rows): generation needs the last one, and a 32k-wide head applied
  // to every prompt row is a few percent of a prefill's arithmetic and a
  // logits buffer of 128 KB per row.
  Value n = tensor::DimOp::create(b, loc, ids, 0);
  Value want = arith::MinUIOp::create(b, loc, body->getArgument(3), n);
  Value total = tensor::DimOp::create(b, loc, h, 0);
  SmallVector<OpFoldResult> offs = {
      arith::SubIOp::create(b, loc, total, want).getResult(),
      b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {want, b.getIndexAttr(H)};
  SmallVector<OpFoldResult> strides = {b.getIndexAttr(1), b.getIndexAttr(1)};
  h = tensor::ExtractSliceOp::create(b, loc, rows(H), h, offs, sizes, strides);
  h = rmsNorm(h, weight("model.final_layernorm.weight", {H}));
  Value head =
      c.tiedEmbeddings ? table
                       : projectionWeight("lm_head.weight", {c.vocabSize, H});
  func::ReturnOp::create(b, loc, linear(h, head));
}

OwningOpRef<ModuleOp> ModelIRBuilder::build() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  // A summary of the model for readers and for the driver's runtime header.
  SmallVector<NamedAttribute> info = {
      b.getNamedAttr("vocab_size", b.getI64IntegerAttr(c.vocabSize)),
      b.getNamedAttr("hidden_size", b.getI64IntegerAttr(c.hiddenSize)),
      b.getNamedAttr("num_layers", b.getI64IntegerAttr(c.numLayers)),
      b.getNamedAttr("num_meta_tokens", b.getI64IntegerAttr(c.numMeta)),
      b.getNamedAttr("max_seq_len", b.getI64IntegerAttr(opts.maxSeqLen)),
      b.getNamedAttr("bos_token_id", b.getI64IntegerAttr(c.bosTokenId)),
      b.getNamedAttr("eos_token_id", b.getI64IntegerAttr(c.eosTokenId)),
  };
  b.getContext()
      ->getLoadedDialect<hy::HymbaDialect>()
      ->getModelAttrHelper()
      .setAttr(*module, b.getDictionaryAttr(info));
  func::FuncOp layers = buildLayersFn(*module);
  buildEntry(*module, layers, /*start=*/true);
  buildEntry(*module, layers, /*start=*/false);
  return module;
}
} // namespace

OwningOpRef<ModuleOp>(hy::buildModel)(MLIRContext &ctx,
                                      const ModelConfig &config,
                                      const BuildOptions &options) {
  ctx.loadDialect<hy::HymbaDialect, func::FuncDialect, arith::ArithDialect,
                  tensor::TensorDialect>();
  return ModelIRBuilder(ctx, config, options).build();
}
