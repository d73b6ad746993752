//===- HymbaOps.cpp - Hymba op verifiers ----------------------------------===//
//
// Verifiers check what the shapes in SPEC.md imply. Dynamic extents are
// accepted wherever a static one is expected: the chunk length is only known
// at run time, and the runtime checks it there.
//
//===----------------------------------------------------------------------===//

#include "dialects/hymba/HymbaOps.h"

#include <cmath>

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::hymba;

namespace {
/// An epsilon or a scale: `<= 0` is false for NaN, and an infinite one
/// turns every output into 0 or NaN.
bool isFinitePositive(double v) { return v > 0.0 && std::isfinite(v); }

/// Returns true if two extents may be equal (either is dynamic, or both agree).
bool compatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

std::string extentStr(int64_t e) {
  return ShapedType::isDynamic(e) ? std::string("?") : std::to_string(e);
}

/// Emits "<what> has <actual> but <expected> was expected (<why>)" unless the
/// extents are compatible.
LogicalResult expectExtent(Operation *op, StringRef what, int64_t actual,
                           int64_t expected, StringRef why) {
  if (compatible(actual, expected))
    return success();
  return op->emitOpError() << what << " is " << extentStr(actual)
                           << " but must be " << extentStr(expected) << " ("
                           << why << ")";
}

int64_t dim(Value v, unsigned i) {
  return cast<ShapedType>(v.getType()).getDimSize(i);
}

/// Checks that `width` splits into `heads` equal heads and returns the head
/// dim (dynamic if the width is dynamic).
FailureOr<int64_t> headDim(Operation *op, StringRef what, int64_t width,
                           int64_t heads) {
  if (ShapedType::isDynamic(width))
    return ShapedType::kDynamic;
  if (width % heads != 0)
    return op->emitOpError() << what << " width " << width
                             << " is not divisible by " << heads << " heads";
  return width / heads;
}

/// The memory effects of a destination-style Hymba op: every memref operand
/// is read, except the init, which is only written (the op writes all of it);
/// the state buffers in `readWritten` are read and written.
void hymbaBufferEffects(
    DestinationStyleOpInterface op, ArrayRef<Value> readWritten,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    if (!op.isDpsInit(&operand))
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
    if (op.isDpsInit(&operand) || llvm::is_contained(readWritten, operand.get()))
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

/// A destination-style op is either on tensors (before bufferization) or on
/// memrefs (after it): its activation and weight operands are all of the
/// init's kind (the state buffers are memrefs in both).
LogicalResult verifyOneForm(DestinationStyleOpInterface op,
                            ArrayRef<Value> stateBuffers) {
  bool buffers = isa<MemRefType>(op.getDpsInits().front().getType());
  for (OpOperand &operand : op->getOpOperands()) {
    Type type = operand.get().getType();
    if (!isa<ShapedType>(type) ||
        llvm::is_contained(stateBuffers, operand.get()))
      continue;
    if (isa<MemRefType>(type) != buffers)
      return op->emitOpError("operand #")
             << operand.getOperandNumber() << " is a "
             << (buffers ? "tensor" : "memref") << " but the init is a "
             << (buffers ? "memref" : "tensor")
             << " (all tensors before bufferization, all memrefs after)";
  }
  return success();
}
} // namespace

#define GET_OP_CLASSES
#include "dialects/hymba/HymbaOps.cpp.inc"

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty checkpoint tensor name");
  if (!getResult().getType().hasStaticShape())
    return emitOpError("result must have a static shape, the checkpoint's");
  if (getOffsetAttr() && getOffsetAttr().getInt() < 0)
    return emitOpError("offset must be non-negative");
  auto type = cast<RankedTensorType>(getResult().getType());
  if (Attribute encoding = type.getEncoding()) {
    if (!isa<PanelsAttr>(encoding))
      return emitOpError("result encoding must be #hymba.panels, got ")
             << encoding;
    if (type.getRank() != 2)
      return emitOpError("only a [out, in] matrix can be stored in panels");
    if (type.getElementType().isInteger(4) &&
        cast<PanelsAttr>(encoding).getWidth() % 2 != 0)
      return emitOpError("i4 panels pack two lanes per byte: the panel width "
                         "must be even, got ")
             << cast<PanelsAttr>(encoding).getWidth();
  }
  bool integer = type.getElementType().isInteger();
  if (integer && type.getRank() != 2)
    return emitOpError("quantized values must be an [out, in] matrix");
  if (getScales() && (integer || !type.getElementType().isBF16() ||
                      type.getRank() != 2))
    return emitOpError("scales of a quantized tensor must be a bf16 matrix, "
                       "got ")
           << type;
  return success();
}

LogicalResult DequantizeOp::verify() {
  auto values = getValues().getType(), scales = getScales().getType();
  auto result = getResult().getType();
  if (getGroupSize() <= 0)
    return emitOpError("group_size must be positive, got ") << getGroupSize();
  if (!values.hasStaticShape() || !scales.hasStaticShape())
    return emitOpError("values and scales must have static shapes");
  if (scales.getDimSize(0) != values.getDimSize(0) ||
      scales.getDimSize(1) != getNumGroups())
    return emitOpError("scales must be [")
           << values.getDimSize(0) << ", " << getNumGroups()
           << "] (one per row and group of " << getGroupSize()
           << " inputs), got " << scales;
  // One panel width for both; only the values may also be interleaved
  // along K (for int8 dot products), by a factor that divides the group so
  // that no interleaved run of inputs straddles two scales.
  auto valuePanels = getPanels(values), scalePanels = getPanels(scales);
  if (bool(valuePanels) != bool(scalePanels) ||
      (valuePanels && valuePanels.getWidth() != scalePanels.getWidth()))
    return emitOpError("values and scales must share one storage encoding");
  if (scalePanels && scalePanels.getInterleave() != 1)
    return emitOpError("scales cannot be interleaved along K");
  if (valuePanels && getGroupSize() % valuePanels.getInterleave() != 0)
    return emitOpError("values interleaved by ")
           << valuePanels.getInterleave()
           << " along K need a group size that is a multiple of it, got "
           << getGroupSize();
  if (result.getShape() != values.getShape() || result.getEncoding())
    return emitOpError("result must be the plain f32 [out, in] tensor ")
           << values.getShape() << ", got " << result;
  // Stored operands must say which part of the quantized tensor they are.
  if (auto w = getValues().getDefiningOp<WeightOp>(); w && w.getScales())
    return emitOpError("values come from a weight marked `scales`");
  if (auto w = getScales().getDefiningOp<WeightOp>(); w && !w.getScales())
    return emitOpError("scales come from a weight not marked `scales`");
  return success();
}

LogicalResult StateBufferOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty state buffer name");
  if (!getResult().getType().hasStaticShape())
    return emitOpError("state buffers must have a static shape");
  if (getOffsetAttr() && getOffsetAttr().getInt() < 0)
    return emitOpError("offset must be non-negative");
  return success();
}

LogicalResult EmbedOp::verify() {
  if (failed(expectExtent(*this, "result row count", dim(getResult(), 0),
                          dim(getIds(), 0), "one row per id")))
    return failure();
  return expectExtent(*this, "result width", dim(getResult(), 1),
                      dim(getTable(), 1), "the embedding width");
}

LogicalResult PrependMetaOp::verify() {
  if (failed(expectExtent(*this, "input width", dim(getInput(), 1),
                          dim(getMeta(), 1), "the meta-token width")) ||
      failed(expectExtent(*this, "result width", dim(getResult(), 1),
                          dim(getMeta(), 1), "the meta-token width")))
    return failure();
  int64_t rows = dim(getInput(), 0);
  int64_t expected = ShapedType::isDynamic(rows) ? ShapedType::kDynamic
                                                 : rows + dim(getMeta(), 0);
  return expectExtent(*this, "result row count", dim(getResult(), 0), expected,
                      "meta rows plus input rows");
}

LogicalResult RMSNormOp::verify() {
  if (!isFinitePositive(getEpsilon().convertToDouble()))
    return emitOpError("epsilon must be positive and finite");
  if (getInput().getType() != getResult().getType())
    return emitOpError("result type must equal the input type");
  return expectExtent(*this, "weight length", dim(getWeight(), 0),
                      dim(getInput(), 1), "the normalised width");
}

LogicalResult LinearOp::verify() {
  if (failed(expectExtent(*this, "weight input width (dim 1)",
                          dim(getWeight(), 1), dim(getInput(), 1),
                          "the input width")) ||
      failed(expectExtent(*this, "result row count", dim(getResult(), 0),
                          dim(getInput(), 0), "one row per input row")))
    return failure();
  return expectExtent(*this, "result width", dim(getResult(), 1),
                      dim(getWeight(), 0), "the weight's output rows");
}

LogicalResult RopeOp::verify() {
  int64_t hd = getHeadDimAttr().getInt();
  if (hd <= 0 || hd % 2 != 0)
    return emitOpError("head_dim must be positive and even, got ") << hd;
  if (getBase().convertToDouble() <= 1.0)
    return emitOpError("base must be greater than 1");
  if (getInput().getType() != getResult().getType())
    return emitOpError("result type must equal the input type");
  int64_t width = dim(getInput(), 1);
  if (!ShapedType::isDynamic(width) && width % hd != 0)
    return emitOpError("input width ")
           << width << " is not a multiple of head_dim " << hd;
  return success();
}

LogicalResult SwiGLUMLPOp::verify() {
  int64_t hidden = dim(getInput(), 1);
  int64_t inter = dim(getGate(), 0);
  if (getGate().getType().getShape() != getUp().getType().getShape())
    return emitOpError("gate and up weights must have the same shape");
  if (failed(expectExtent(*this, "gate input width (dim 1)", dim(getGate(), 1),
                          hidden, "the input width")) ||
      failed(expectExtent(*this, "down output rows (dim 0)", dim(getDown(), 0),
                          hidden, "the input width")) ||
      failed(expectExtent(*this, "down input width (dim 1)", dim(getDown(), 1),
                          inter, "the intermediate width")))
    return failure();
  if (getInput().getType() != getResult().getType())
    return emitOpError("result type must equal the input type");
  return success();
}

void AttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  hymbaBufferEffects(*this, {}, effects);
}

LogicalResult AttentionOp::verify() {
  if (failed(verifyOneForm(*this, {getKCache(), getVCache()})))
    return failure();
  int64_t heads = getNumHeadsAttr().getInt(),
          kvHeads = getNumKvHeadsAttr().getInt();
  if (heads <= 0 || kvHeads <= 0)
    return emitOpError("num_heads and num_kv_heads must be positive");
  if (heads % kvHeads != 0)
    return emitOpError("num_heads (")
           << heads << ") must be a multiple of num_kv_heads (" << kvHeads
           << ")";
  if (getWindowAttr().getInt() < 0)
    return emitOpError("window must be 0 (global) or positive, got ")
           << getWindowAttr().getInt();
  if (getNumMetaAttr().getInt() < 0)
    return emitOpError("num_meta must be non-negative");
  if (!isFinitePositive(getScale().convertToDouble()))
    return emitOpError("scale must be positive and finite");

  FailureOr<int64_t> qd = headDim(*this, "query", dim(getQuery(), 1), heads);
  FailureOr<int64_t> kd = headDim(*this, "key", dim(getKey(), 1), kvHeads);
  FailureOr<int64_t> vd = headDim(*this, "value", dim(getValue(), 1), kvHeads);
  if (failed(qd) || failed(kd) || failed(vd))
    return failure();
  if (failed(
          expectExtent(*this, "key head dim", *kd, *qd, "the query head dim")))
    return failure();
  int64_t rows = dim(getQuery(), 0), keyRows = dim(getKey(), 0);
  if (!getQueryOffset()) {
    if (failed(expectExtent(*this, "key row count", keyRows, rows,
                            "one key per query row")))
      return failure();
  } else {
    // A tile of query rows sees the chunk's keys up to its last row.
    std::optional<int64_t> offset;
    APInt constant;
    if (matchPattern(getQueryOffset(), m_ConstantInt(&constant)))
      offset = constant.getSExtValue();
    if (offset && *offset < 0)
      return emitOpError("query_offset must be non-negative, got ") << *offset;
    int64_t last = rows;
    if (!ShapedType::isDynamic(rows) && offset)
      last = *offset + rows;
    if (!ShapedType::isDynamic(last) && !ShapedType::isDynamic(keyRows) &&
        keyRows < last)
      return emitOpError("key row count ")
             << keyRows << " is less than query_offset + query rows (" << last
             << "): a query tile sees the chunk's keys up to its own row";
  }
  if (failed(getQueryOffset()
                 ? expectExtent(*this, "value row count", dim(getValue(), 0),
                                keyRows, "one value per key row")
                 : expectExtent(*this, "value row count", dim(getValue(), 0),
                                rows, "one value per query row")) ||
      failed(expectExtent(*this, "k_cache width", dim(getKCache(), 1),
                          dim(getKey(), 1), "the key width")) ||
      failed(expectExtent(*this, "v_cache width", dim(getVCache(), 1),
                          dim(getValue(), 1), "the value width")) ||
      failed(expectExtent(*this, "v_cache rows", dim(getVCache(), 0),
                          dim(getKCache(), 0), "the k_cache rows")))
    return failure();
  if (getWindowAttr().getInt() > 0 &&
      failed(expectExtent(*this, "k_cache rows", dim(getKCache(), 0),
                          getNumMetaAttr().getInt() + getWindowAttr().getInt(),
                          "num_meta + window for a sliding-window ring")))
    return failure();
  if (failed(expectExtent(*this, "init row count", dim(getInit(), 0), rows,
                          "one row per query row")))
    return failure();
  int64_t outWidth =
      ShapedType::isDynamic(*vd) ? ShapedType::kDynamic : heads * *vd;
  return expectExtent(*this, "init width", dim(getInit(), 1), outWidth,
                      "num_heads * value head dim");
}

void KVCacheWriteOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  // Key and value are read in their memref form (tensors carry no memory
  // effects); the caches are written (the rows the chunk keeps), not read.
  for (OpOperand *operand : {&getKeyMutable(), &getValueMutable()})
    if (isa<MemRefType>(operand->get().getType()))
      effects.emplace_back(MemoryEffects::Read::get(), operand,
                           SideEffects::DefaultResource::get());
  for (OpOperand *operand : {&getKCacheMutable(), &getVCacheMutable()})
    effects.emplace_back(MemoryEffects::Write::get(), operand,
                         SideEffects::DefaultResource::get());
}

LogicalResult KVCacheWriteOp::verify() {
  if (isa<MemRefType>(getKey().getType()) !=
      isa<MemRefType>(getValue().getType()))
    return emitOpError("key and value must both be tensors (before "
                       "bufferization) or both memrefs (after it)");
  if (getWindowAttr().getInt() < 0)
    return emitOpError("window must be 0 (global) or positive, got ")
           << getWindowAttr().getInt();
  if (getNumMetaAttr().getInt() < 0)
    return emitOpError("num_meta must be non-negative");
  if (failed(expectExtent(*this, "value row count", dim(getValue(), 0),
                          dim(getKey(), 0), "the key row count")) ||
      failed(expectExtent(*this, "k_cache width", dim(getKCache(), 1),
                          dim(getKey(), 1), "the key width")) ||
      failed(expectExtent(*this, "v_cache width", dim(getVCache(), 1),
                          dim(getValue(), 1), "the value width")) ||
      failed(expectExtent(*this, "v_cache rows", dim(getVCache(), 0),
                          dim(getKCache(), 0), "the k_cache rows")))
    return failure();
  if (getWindowAttr().getInt() > 0)
    return expectExtent(*this, "k_cache rows", dim(getKCache(), 0),
                        getNumMetaAttr().getInt() + getWindowAttr().getInt(),
                        "num_meta + window for a sliding-window ring");
  return success();
}

void CausalConv1dOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  hymbaBufferEffects(*this, {getConvState()}, effects);
}

LogicalResult CausalConv1dOp::verify() {
  if (failed(verifyOneForm(*this, {getConvState()})))
    return failure();
  int64_t channels = dim(getInput(), 1);
  auto wShape = getWeight().getType().getShape();
  if (failed(expectExtent(*this, "weight channels (dim 0)", wShape[0], channels,
                          "the input width")))
    return failure();
  if (wShape[1] != 1)
    return emitOpError("weight dim 1 is ")
           << extentStr(wShape[1]) << " but must be 1 (depthwise conv)";
  if (ShapedType::isDynamic(wShape[2]) || wShape[2] < 1)
    return emitOpError(
        "weight kernel size (dim 2) must be a static extent >= 1");
  if (failed(expectExtent(*this, "bias length", dim(getBias(), 0), channels,
                          "the input width")) ||
      failed(expectExtent(*this, "conv_state rows", dim(getConvState(), 0),
                          wShape[2] - 1, "kernel size - 1")) ||
      failed(expectExtent(*this, "conv_state width", dim(getConvState(), 1),
                          channels, "the input width")))
    return failure();
  if (getInput().getType().getShape() != getInit().getType().getShape())
    return emitOpError("init shape must equal the input shape");
  return success();
}

void SelectiveScanOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  hymbaBufferEffects(*this, {getSsmState()}, effects);
}

LogicalResult SelectiveScanOp::verify() {
  if (failed(verifyOneForm(*this, {getSsmState()})))
    return failure();
  int64_t rows = dim(getU(), 0), channels = dim(getU(), 1);
  int64_t dState = dim(getALog(), 1);
  if (failed(expectExtent(*this, "dt shape", dim(getDt(), 1), channels,
                          "the channel count")) ||
      failed(expectExtent(*this, "dt row count", dim(getDt(), 0), rows,
                          "the row count of u")) ||
      failed(expectExtent(*this, "z width", dim(getZ(), 1), channels,
                          "the channel count")) ||
      failed(expectExtent(*this, "z row count", dim(getZ(), 0), rows,
                          "the row count of u")) ||
      failed(expectExtent(*this, "dt_bias length", dim(getDtBias(), 0),
                          channels, "the channel count")) ||
      failed(expectExtent(*this, "d length", dim(getD(), 0), channels,
                          "the channel count")) ||
      failed(expectExtent(*this, "a_log rows", dim(getALog(), 0), channels,
                          "the channel count")) ||
      failed(expectExtent(*this, "b width", dim(getB(), 1), dState,
                          "the state size, a_log dim 1")) ||
      failed(expectExtent(*this, "c width", dim(getC(), 1), dState,
                          "the state size, a_log dim 1")) ||
      failed(expectExtent(*this, "b row count", dim(getB(), 0), rows,
                          "the row count of u")) ||
      failed(expectExtent(*this, "c row count", dim(getC(), 0), rows,
                          "the row count of u")) ||
      failed(expectExtent(*this, "ssm_state rows", dim(getSsmState(), 0),
                          channels, "the channel count")) ||
      failed(expectExtent(*this, "ssm_state width", dim(getSsmState(), 1),
                          dState, "the state size")))
    return failure();
  if (getU().getType().getShape() != getInit().getType().getShape())
    return emitOpError("init shape must equal the shape of u");
  // The folded B/C norms come as a whole: both weights and the epsilon.
  bool hasB = static_cast<bool>(getBNorm());
  bool hasC = static_cast<bool>(getCNorm());
  if (hasB != hasC)
    return emitOpError("b_norm and c_norm must be given together");
  if (hasB != static_cast<bool>(getNormEpsilonAttr()))
    return emitOpError("norm_epsilon must be set exactly when the b and c "
                       "norm weights are");
  if (!hasB)
    return success();
  if (!isFinitePositive(getNormEpsilonAttr().getValueAsDouble()))
    return emitOpError(
        "norm_epsilon must be positive and finite, as an rms_norm's");
  return failure(failed(expectExtent(*this, "b_norm length", dim(getBNorm(), 0),
                                     dState, "the state size, a_log dim 1")) ||
                 failed(expectExtent(*this, "c_norm length", dim(getCNorm(), 0),
                                     dState, "the state size, a_log dim 1")));
}

LogicalResult HybridMergeOp::verify() {
  int64_t width = dim(getAttention(), 1);
  if (getAttention().getType() != getSsm().getType())
    return emitOpError("attention and ssm branches must have the same type");
  if (failed(expectExtent(*this, "attention_norm length",
                          dim(getAttentionNorm(), 0), width,
                          "the branch width")) ||
      failed(expectExtent(*this, "ssm_norm length", dim(getSsmNorm(), 0), width,
                          "the branch width")) ||
      failed(expectExtent(*this, "out_proj input width (dim 1)",
                          dim(getOutProj(), 1), width, "the branch width")) ||
      failed(expectExtent(*this, "result width", dim(getResult(), 1),
                          dim(getOutProj(), 0), "out_proj rows")) ||
      failed(expectExtent(*this, "result row count", dim(getResult(), 0),
                          dim(getAttention(), 0), "one row per input row")))
    return failure();
  if (!isFinitePositive(getEpsilon().convertToDouble()))
    return emitOpError("epsilon must be positive and finite");
  if (getResidual() && getResidual().getType() != getResult().getType())
    return emitOpError("residual type must equal the result type");
  return success();
}

Value ParallelBranchesOp::yieldedValue(Region &region) {
  auto yield = cast<YieldOp>(region.front().getTerminator());
  return yield.getValues().front();
}

LogicalResult ParallelBranchesOp::verify() {
  for (auto [region, result] :
       llvm::zip(getRegions(), getOperation()->getResults())) {
    StringRef name = region == &getAttention() ? "attention" : "ssm";
    Block &block = region->front();
    auto yield = block.empty() ? YieldOp() : dyn_cast<YieldOp>(block.back());
    if (!yield || yield.getValues().size() != 1)
      return emitOpError() << "the " << name
                           << " region must end in hymba.yield of one value";
    if (yield.getValues().front().getType() != result.getType())
      return emitOpError() << "the " << name << " region yields "
                           << yield.getValues().front().getType()
                           << " but the result is " << result.getType();
  }
  return success();
}
