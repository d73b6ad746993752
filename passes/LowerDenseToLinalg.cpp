//===- LowerDenseToLinalg.cpp - Stateless Hymba ops to linalg on tensors --===//
//
// Each stateless op becomes linalg.generic ops on tensors (plus tensor ops
// for slicing): matmuls keep the weight's storage type and widen it in the
// body, so bf16 weights are read as bf16. Weight references become views of
// the parameter buffer at their assigned offsets.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RegisterKernels.h"
#include "WeightAccess.h"
#include "dialects/hymba/HymbaOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBALOWERDENSETOLINALG
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;
using namespace mlir::hymba;

namespace {
using utils::IteratorType;

int64_t resultWidth(Operation *op) {
  return cast<ShapedType>(op->getResult(0).getType()).getDimSize(1);
}

/// A weight becomes a read-only tensor over its bytes in the parameter
/// buffer, in its storage layout: a panel-encoded [N, K] weight becomes the
/// [ceil(N / W), K, W] tensor it is stored as, which the projection and
/// embedding lowerings index accordingly. The to_tensor is the boundary
/// between the function's parameter-buffer argument and tensor IR, not a
/// hand bufferization: `restrict` says that no other tensor aliases the
/// view (each weight is its own slot, and CSE leaves one view per weight
/// and function), and without `writable` one-shot-bufferize never writes
/// into it (a writer of the weight's tensor gets a copy).
void lowerWeight(IRRewriter &rewriter, WeightOp op) {
  rewriter.setInsertionPoint(op);
  ImplicitLocOpBuilder b = builderAt(rewriter, op);
  RankedTensorType type =
      storageType(cast<RankedTensorType>(op.getResult().getType()));
  auto memType = MemRefType::get(type.getShape(), type.getElementType());
  Value view = viewAt(b, op.getParams(), *op.getOffset(), memType);
  rewriter.replaceOpWithNewOp<bufferization::ToTensorOp>(
      op, type, view, /*restrict=*/true, /*writable=*/false);
}

struct LowerEmbed : OpRewritePattern<EmbedOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EmbedOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    MLIRContext *ctx = op.getContext();
    int64_t width = op.getResult().getType().getDimSize(1);
    WeightSource table = weightSource(op.getTable());
    Value out = emptyRows(b, op.getIds(), width);
    auto d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);
    SmallVector<AffineMap> maps = {AffineMap::get(2, 0, {d0}, ctx),
                                   AffineMap::get(2, 0, {d0, d1}, ctx)};
    Value res =
        linalg::GenericOp::create(
            b, TypeRange{out.getType()}, ValueRange{op.getIds()},
            ValueRange{out}, maps,
            ArrayRef<IteratorType>{IteratorType::parallel,
                                   IteratorType::parallel},
            [&](OpBuilder &nb, Location loc, ValueRange a) {
              ImplicitLocOpBuilder ib(loc, nb);
              Value row =
                  arith::IndexCastOp::create(ib, ib.getIndexType(), a[0]);
              Value col = linalg::IndexOp::create(ib, 1);
              linalg::YieldOp::create(
                  ib, ValueRange{loadWeightElement(ib, table, table.data,
                                                   table.scales, row, col)});
            })
            .getResult(0);
    rewriter.replaceOp(op, res);
    return success();
  }
};

struct LowerPrependMeta : OpRewritePattern<PrependMetaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PrependMetaOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    auto metaType = op.getMeta().getType();
    int64_t m = metaType.getDimSize(0), width = metaType.getDimSize(1);
    // Widen the meta rows to f32 (a copy only when they are stored narrower).
    Value meta = op.getMeta();
    if (!metaType.getElementType().isF32()) {
      auto f32Type = RankedTensorType::get(metaType.getShape(), b.getF32Type());
      Value empty = tensor::EmptyOp::create(b, f32Type, ValueRange{});
      MLIRContext *ctx = op.getContext();
      AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
      meta =
          linalg::GenericOp::create(
              b, TypeRange{f32Type}, ValueRange{meta}, ValueRange{empty},
              ArrayRef<AffineMap>{id, id},
              ArrayRef<IteratorType>{IteratorType::parallel,
                                     IteratorType::parallel},
              [](OpBuilder &nb, Location loc, ValueRange a) {
                ImplicitLocOpBuilder ib(loc, nb);
                linalg::YieldOp::create(ib, ValueRange{widenToF32(ib, a[0])});
              })
              .getResult(0);
    }
    Value rows = rowCount(b, op.getInput());
    Value total =
        arith::AddIOp::create(b, rows, arith::ConstantIndexOp::create(b, m));
    Value out =
        tensor::EmptyOp::create(b, op.getResult().getType(), ValueRange{total});
    SmallVector<OpFoldResult> one = {b.getIndexAttr(1), b.getIndexAttr(1)};
    out = tensor::InsertSliceOp::create(
        b, meta, out,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(m), b.getIndexAttr(width)}, one);
    out = tensor::InsertSliceOp::create(
        b, op.getInput(), out,
        ArrayRef<OpFoldResult>{b.getIndexAttr(m), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{rows, b.getIndexAttr(width)}, one);
    rewriter.replaceOp(op, out);
    return success();
  }
};

struct LowerRMSNorm : OpRewritePattern<RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RMSNormOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    rewriter.replaceOp(op, buildRMSNorm(b, op.getInput(), op.getWeight(),
                                        op.getEpsilon().convertToFloat()));
    return success();
  }
};

struct LowerLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    rewriter.replaceOp(op, buildLinear(b, op.getInput(), op.getWeight(),
                                       resultWidth(op)));
    return success();
  }
};

/// RoPE as two generics: the cosine and sine of every (row, frequency)
/// angle, then the rotation, element-wise, reading the partner element of
/// the other half with tensor.extract. Angles follow the reference exactly:
/// inv_f = 1 / base^(2j/d) in f32 (folded to constants here, with the libm
/// powf the generated code called), theta = f32(pos) * inv_f. The angles
/// depend on the row and j only: computed once per row and frequency they
/// are shared by every head (and, being the same ops on the same operands,
/// CSE merges the tables of the layers' q and k), where the rotation used
/// to call pow, cos and sin for every element.
struct LowerRope : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RopeOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    MLIRContext *ctx = b.getContext();
    Value x = op.getInput();
    int64_t d = op.getHeadDim(), half = d / 2;
    float base = float(op.getBase().convertToDouble());
    SmallVector<float> invF;
    for (int64_t j = 0; j < half; ++j)
      invF.push_back(1.0f / ::powf(base, float(2 * j) / float(d)));
    Value inv = arith::ConstantOp::create(
        b, DenseElementsAttr::get(RankedTensorType::get({half}, b.getF32Type()),
                                  ArrayRef<float>(invF)));
    Value position = op.getPosition();
    Value cosInit = emptyRows(b, x, half), sinInit = emptyRows(b, x, half);
    auto rowCol = AffineMap::getMultiDimIdentityMap(2, ctx);
    auto tables = linalg::GenericOp::create(
        b, TypeRange{cosInit.getType(), sinInit.getType()}, ValueRange{inv},
        ValueRange{cosInit, sinInit},
        ArrayRef<AffineMap>{AffineMap::get(2, 0, getAffineDimExpr(1, ctx)),
                            rowCol, rowCol},
        ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                      utils::IteratorType::parallel},
        [&](OpBuilder &nb, Location loc, ValueRange a) {
          ImplicitLocOpBuilder ib(loc, nb);
          Value pos = arith::AddIOp::create(ib, position,
                                            linalg::IndexOp::create(ib, 0));
          Value posf = arith::UIToFPOp::create(
              ib, ib.getF32Type(),
              arith::IndexCastUIOp::create(ib, ib.getI64Type(), pos));
          Value theta = arith::MulFOp::create(ib, posf, a[0]);
          linalg::YieldOp::create(ib,
                                  ValueRange{math::CosOp::create(ib, theta),
                                             math::SinOp::create(ib, theta)});
        });
    Value cosT = tables.getResult(0), sinT = tables.getResult(1);
    Value res = buildElementwise(
        b, ValueRange{x}, [&](ImplicitLocOpBuilder &ib, ValueRange a) {
          Value t = linalg::IndexOp::create(ib, 0);
          Value c = linalg::IndexOp::create(ib, 1);
          Value cD = arith::ConstantIndexOp::create(ib, d);
          Value cHalf = arith::ConstantIndexOp::create(ib, half);
          Value i = arith::RemUIOp::create(ib, c, cD);
          Value lower =
              arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, i, cHalf);
          Value j = arith::SelectOp::create(
              ib, lower, i, arith::SubIOp::create(ib, i, cHalf));
          Value partnerCol = arith::SelectOp::create(
              ib, lower, arith::AddIOp::create(ib, c, cHalf),
              arith::SubIOp::create(ib, c, cHalf));
          Value partner =
              tensor::ExtractOp::create(ib, x, ValueRange{t, partnerCol});
          Value cosv = tensor::ExtractOp::create(ib, cosT, ValueRange{t, j});
          Value sinv = tensor::ExtractOp::create(ib, sinT, ValueRange{t, j});
          Value rotated = arith::MulFOp::create(ib, partner, sinv);
          Value signedRot = arith::SelectOp::create(
              ib, lower, arith::NegFOp::create(ib, rotated), rotated);
          return arith::AddFOp::create(
                     ib, arith::MulFOp::create(ib, a[0], cosv), signedRot)
              .getResult();
        });
    rewriter.replaceOp(op, res);
    return success();
  }
};

/// The intermediate width of each SwiGLU MLP (the down projection's input
/// width), read before the weights become storage tensors: interleaved
/// panels store ceil(K / F) groups, which do not say K.
using IntermediateWidths = llvm::DenseMap<Operation *, int64_t>;

struct LowerSwiGLU : OpRewritePattern<SwiGLUMLPOp> {
  LowerSwiGLU(MLIRContext *ctx, const IntermediateWidths &widths)
      : OpRewritePattern(ctx), widths(widths) {}
  const IntermediateWidths &widths;
  LogicalResult matchAndRewrite(SwiGLUMLPOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    int64_t inter = widths.lookup(op);
    Value gate = buildLinear(b, op.getInput(), op.getGate(), inter);
    Value up = buildLinear(b, op.getInput(), op.getUp(), inter);
    Value act = buildElementwise(
        b, ValueRange{gate, up}, [](ImplicitLocOpBuilder &ib, ValueRange a) {
          return arith::MulFOp::create(ib, buildSilu(ib, a[0]), a[1])
              .getResult();
        });
    rewriter.replaceOp(op,
                       buildLinear(b, act, op.getDown(), resultWidth(op)));
    return success();
  }
};

struct LowerHybridMerge : OpRewritePattern<HybridMergeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(HybridMergeOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    // One fused epilogue: both norms and their mean in two generics, then
    // the projection (accumulating into the residual when fused).
    Value mean =
        buildNormMean(b, op.getAttention(), op.getAttentionNorm(), op.getSsm(),
                      op.getSsmNorm(), op.getEpsilon().convertToFloat());
    rewriter.replaceOp(op, buildLinear(b, mean, op.getOutProj(),
                                       resultWidth(op), op.getResidual()));
    return success();
  }
};

/// GPU form of the projections: register-accumulating kernels with a
/// producing RMS norm folded in (RegisterKernels.h).
struct LowerLinearGPU : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    rewriter.replaceOp(
        op, buildRegisterProjection(b, {projectionInputOf(op.getInput())},
                                    op.getWeight(), 1.0f, Value()));
    return success();
  }
};

/// Gate and up in one kernel; the down projection accumulates into the
/// residual when the MLP's only user adds it to one.
struct LowerSwiGLUGPU : OpRewritePattern<SwiGLUMLPOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SwiGLUMLPOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    Value act = buildRegisterGatedUp(b, projectionInputOf(op.getInput()),
                                     op.getGate(), op.getUp());
    auto add = dyn_cast<arith::AddFOp>(op->hasOneUse() ? *op->getUsers().begin()
                                                       : nullptr);
    if (!add) {
      rewriter.replaceOp(
          op, buildRegisterProjection(b, {ProjectionInput{act, Value()}},
                                      op.getDown(), 1.0f, Value()));
      return success();
    }
    Value residual =
        add.getLhs() == op.getResult() ? add.getRhs() : add.getLhs();
    // The residual may be defined after the MLP: build at the add.
    ImplicitLocOpBuilder ab = builderAt(rewriter, add);
    rewriter.replaceOp(
        add, buildRegisterProjection(ab, {ProjectionInput{act, Value()}},
                                     op.getDown(), 1.0f, residual));
    rewriter.eraseOp(op);
    return success();
  }
};

/// Both branch norms, their mean, the output projection and the residual in
/// one kernel.
struct LowerHybridMergeGPU : OpRewritePattern<HybridMergeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(HybridMergeOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    float eps = op.getEpsilon().convertToFloat();
    ProjectionInput branches[] = {
        {op.getAttention(), op.getAttentionNorm(), eps},
        {op.getSsm(), op.getSsmNorm(), eps}};
    rewriter.replaceOp(op, buildRegisterProjection(b, branches, op.getOutProj(),
                                                   0.5f, op.getResidual()));
    return success();
  }
};

struct LowerRMSNormGPU : OpRewritePattern<RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RMSNormOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    rewriter.replaceOp(op,
                       buildRegisterRMSNorm(b, op.getInput(), op.getWeight(),
                                            op.getEpsilon().convertToFloat()));
    return success();
  }
};

struct LowerDenseToLinalgPass
    : hymba::impl::HymbaLowerDenseToLinalgBase<LowerDenseToLinalgPass> {
  using HymbaLowerDenseToLinalgBase::HymbaLowerDenseToLinalgBase;
  void runOnOperation() override {
    Operation *root = getOperation();
    bool gpuForm = kernelForm == KernelForm::GPU;
    if (failed(verifyOffsetsAssigned<WeightOp>(root)))
      return signalPassFailure();
    MLIRContext *ctx = &getContext();
    // Weights first, so that every consumer below sees the storage layout.
    SmallVector<WeightOp> weights;
    root->walk([&](WeightOp op) { weights.push_back(op); });
    for (WeightOp op : weights) {
      if (gpuForm && getPanels(op.getResult().getType())) {
        op.emitOpError("is stored in panels (hymba-pack-weights), a layout "
                       "only the CPU kernel form reads");
        return signalPassFailure();
      }
    }
    IntermediateWidths widths;
    root->walk([&](SwiGLUMLPOp op) {
      widths[op] = cast<ShapedType>(op.getDown().getType()).getDimSize(1);
    });
    IRRewriter rewriter(ctx);
    for (WeightOp op : weights)
      lowerWeight(rewriter, op);
    if (gpuForm) {
      // Projections first, so they fold the RMS norms that feed them (the
      // norms left without users then disappear as dead code).
      RewritePatternSet projections(ctx);
      projections.add<LowerLinearGPU, LowerSwiGLUGPU, LowerHybridMergeGPU>(ctx);
      if (failed(applyPatternsGreedily(root, std::move(projections))))
        return signalPassFailure();
    }
    RewritePatternSet patterns(ctx);
    patterns.add<LowerEmbed, LowerPrependMeta, LowerRope>(ctx);
    if (gpuForm)
      patterns.add<LowerRMSNormGPU>(ctx);
    else
      patterns.add<LowerRMSNorm, LowerLinear, LowerHybridMerge>(ctx);
    if (!gpuForm)
      patterns.add<LowerSwiGLU>(ctx, widths);
    if (failed(applyPatternsGreedily(root, std::move(patterns))))
      return signalPassFailure();
    // Every reader of a quantized weight dequantizes in its own loops; a
    // hymba.dequantize left with users would have nobody to lower it.
    WalkResult left = root->walk([&](DequantizeOp op) {
      if (op->use_empty()) {
        op.erase();
        return WalkResult::advance();
      }
      op.emitOpError("is read by ")
          << *op->user_begin()
          << ", which cannot read quantized weights (only projections and "
             "embedding lookups can)";
      return WalkResult::interrupt();
    });
    if (left.wasInterrupted())
      return signalPassFailure();
  }
};
} // namespace
