//===- Conv1d.cpp - hymba.causal_conv1d to loops --------------------------===//
//
// The depthwise causal conv reads the stored conv window as its left
// extension and then shifts the window.
//
// CPU form with vectors: one item per block of `vl` channels (the lanes),
// walking the chunk's rows in order with the last K-1 rows of the extended
// input carried in registers: each row is loaded once, the K tap weights
// and the bias are loaded once per block, and after the last row the
// carried rows are the new window, stored by the same item. Channels past
// the last full block, the GPU form and buffers that cannot be read as
// vectors take the element-wise form: one item per (row, channel) reading
// each tap from the chunk or the window (an scf.if), then a second loop
// refreshing the window.
//
//===----------------------------------------------------------------------===//
#include "Common.h"
#include "Patterns.h"

#include "dialects/hymba/HymbaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::hymba;

namespace {
/// f32 or bf16: what the vector form widens to f32.
bool floatOrBF16(Value mem) {
  Type t = cast<MemRefType>(mem.getType()).getElementType();
  return t.isF32() || t.isBF16();
}

/// `vector.load` of `lanes` elements of `mem` at `idx`, widened to f32.
Value loadF32Vector(ImplicitLocOpBuilder &b, Value mem, ValueRange idx,
                    int64_t lanes) {
  Type elem = cast<MemRefType>(mem.getType()).getElementType();
  Value v = vector::LoadOp::create(b, VectorType::get({lanes}, elem), mem, idx);
  return elem.isBF16() ? widenBF16Exactly(b, v) : v;
}

struct LowerCausalConv1d : OpRewritePattern<CausalConv1dOp> {
  LowerCausalConv1d(MLIRContext *ctx, KernelForm form, int64_t vectorWidth)
      : OpRewritePattern(ctx), form(form), vectorWidth(vectorWidth) {}

  LogicalResult matchAndRewrite(CausalConv1dOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    int64_t channels = op.getInput().getType().getDimSize(1);
    int64_t lanes = vectorLanes(op);
    int64_t vectorChannels = lanes ? channels / lanes * lanes : 0;
    if (vectorChannels > 0)
      buildVectorBlocks(b, op, lanes, vectorChannels);
    if (vectorChannels < channels)
      buildElementwise(b, op, vectorChannels);
    rewriter.eraseOp(op);
    return success();
  }

private:
  /// Channels per vector item, or 0 where the element-wise form is used.
  int64_t vectorLanes(CausalConv1dOp op) const {
    if (form != KernelForm::CPU || vectorWidth < 2)
      return 0;
    auto w = cast<MemRefType>(op.getWeight().getType());
    Value mems[] = {op.getInput(), op.getBias(), op.getConvState(),
                    op.getInit()};
    bool ok = w.getLayout().isIdentity() && w.hasStaticShape() &&
              floatOrBF16(op.getWeight()) && floatOrBF16(op.getBias()) &&
              llvm::all_of(mems, [](Value m) {
                // Rows read as vectors.
                return cast<MemRefType>(m.getType()).isLastDimUnitStride();
              });
    return ok ? vectorWidth : 0;
  }

  /// Channels [0, vectorChannels) in blocks of `lanes`, one item each.
  void buildVectorBlocks(ImplicitLocOpBuilder &b, CausalConv1dOp op,
                         int64_t lanes, int64_t vectorChannels) const {
    int64_t taps = op.getWeight().getType().getDimSize(2);
    Value x = op.getInput(), bias = op.getBias(), state = op.getConvState();
    Value out = op.getInit();
    // [C, 1, K] is contiguous: a block's K x lanes weights are one run.
    Value flatW = memref::CollapseShapeOp::create(
        b, op.getWeight(), ArrayRef<ReassociationIndices>{{0, 1, 2}});
    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
    Value rows = rowCount(b, x);
    scf::ParallelOp::create(
        b, ValueRange{c0}, ValueRange{indexConst(b, vectorChannels / lanes)},
        ValueRange{c1}, [&](OpBuilder &nb, Location loc, ValueRange iv) {
          ImplicitLocOpBuilder ib(loc, nb);
          Value ch = arith::MulIOp::create(ib, iv[0], indexConst(ib, lanes));
          // Lane l of the run is channel l / K, tap l % K: tap j's weights
          // are lanes j, j + K, ...
          Value first = arith::MulIOp::create(ib, ch, indexConst(ib, taps));
          Value run = loadF32Vector(ib, flatW, ValueRange{first}, lanes * taps);
          SmallVector<Value> weights;
          for (int64_t j = 0; j < taps; ++j) {
            SmallVector<int64_t> picks;
            for (int64_t l = 0; l < lanes; ++l)
              picks.push_back(l * taps + j);
            weights.push_back(vector::ShuffleOp::create(ib, run, run, picks));
          }
          Value biasVec = loadF32Vector(ib, bias, ValueRange{ch}, lanes);
          // The extended rows t .. t + K - 2 before row t: at first the
          // stored window.
          SmallVector<Value> window;
          for (int64_t r = 0; r + 1 < taps; ++r)
            window.push_back(loadF32Vector(
                ib, state, ValueRange{indexConst(ib, r), ch}, lanes));
          auto loop = scf::ForOp::create(
              ib, c0, rows, c1, window,
              [&](OpBuilder &fb, Location l, Value t, ValueRange carried) {
                ImplicitLocOpBuilder rb(l, fb);
                SmallVector<Value> extended(carried.begin(), carried.end());
                extended.push_back(
                    loadF32Vector(rb, x, ValueRange{t, ch}, lanes));
                // Tap by tap, as the element-wise form adds them.
                Value acc = biasVec;
                for (int64_t j = 0; j < taps; ++j)
                  acc = arith::AddFOp::create(
                      rb, acc,
                      arith::MulFOp::create(rb, weights[j], extended[j]));
                vector::StoreOp::create(rb, buildSilu(rb, acc), out,
                                        ValueRange{t, ch});
                scf::YieldOp::create(rb,
                                     ArrayRef<Value>(extended).drop_front());
              });
          // After the last row the carried rows are extended rows T .. T +
          // K - 2: the new window.
          for (int64_t r = 0; r + 1 < taps; ++r)
            vector::StoreOp::create(ib, loop.getResult(r), state,
                                    ValueRange{indexConst(ib, r), ch});
          scf::ReduceOp::create(ib);
        });
  }

  /// Channels [firstChannel, C), one item per (row, channel); then the
  /// window update.
  void buildElementwise(ImplicitLocOpBuilder &b, CausalConv1dOp op,
                        int64_t firstChannel) const {
    int64_t channels = op.getInput().getType().getDimSize(1);
    int64_t taps = op.getWeight().getType().getDimSize(2);
    Value x = op.getInput(), w = op.getWeight(), bias = op.getBias();
    Value state = op.getConvState();
    Value rows = rowCount(b, x);
    Value out = op.getInit();
    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1),
          cFirst = indexConst(b, firstChannel), cC = indexConst(b, channels);
    Value history = indexConst(b, taps - 1);

    // Extended row e < K-1 is conv_state[e], else input[e - (K-1)].
    auto extended = [&](ImplicitLocOpBuilder &eb, Value e, Value c) {
      return chunkOrState(
          eb, e, history,
          [&](ImplicitLocOpBuilder &xb, Value row) {
            return SmallVector<Value>{
                memref::LoadOp::create(xb, x, ValueRange{row, c})};
          },
          [&](ImplicitLocOpBuilder &xb) {
            return SmallVector<Value>{
                memref::LoadOp::create(xb, state, ValueRange{e, c})};
          })[0];
    };

    scf::ParallelOp::create(
        b, ValueRange{c0, cFirst}, ValueRange{rows, cC}, ValueRange{c1, c1},
        [&](OpBuilder &nb, Location loc, ValueRange iv) {
          ImplicitLocOpBuilder ib(loc, nb);
          Value t = iv[0], c = iv[1];
          Value init = loadF32(ib, bias, {c});
          auto loop = scf::ForOp::create(
              ib, c0, indexConst(ib, taps), c1, ValueRange{init},
              [&](OpBuilder &fb, Location l, Value tap, ValueRange acc) {
                ImplicitLocOpBuilder eb(l, fb);
                Value e = arith::AddIOp::create(eb, t, tap);
                Value xv = extended(eb, e, c);
                Value wv = loadF32(eb, w, {c, c0, tap});
                scf::YieldOp::create(
                    eb, ValueRange{arith::AddFOp::create(
                            eb, acc[0], arith::MulFOp::create(eb, wv, xv))});
              });
          memref::StoreOp::create(ib, buildSilu(ib, loop.getResult(0)), out,
                                  ValueRange{t, c});
          scf::ReduceOp::create(ib);
        });

    // New window row r = extended row T + r, one channel per item. Ascending
    // r only reads rows (T + r >= r + 1) that have not been overwritten yet.
    scf::ParallelOp::create(
        b, ValueRange{cFirst}, ValueRange{cC}, ValueRange{c1},
        [&](OpBuilder &pb, Location loc, ValueRange cv) {
          ImplicitLocOpBuilder ib(loc, pb);
          scf::ForOp::create(
              ib, c0, history, c1, ValueRange{},
              [&](OpBuilder &fb, Location l, Value r, ValueRange) {
                ImplicitLocOpBuilder eb(l, fb);
                Value e = arith::AddIOp::create(eb, rows, r);
                memref::StoreOp::create(eb, extended(eb, e, cv[0]), state,
                                        ValueRange{r, cv[0]});
                scf::YieldOp::create(eb);
              });
          scf::ReduceOp::create(ib);
        });
  }

  KernelForm form;
  int64_t vectorWidth;
};
} // namespace

void hymba::populateConv1dLoweringPatterns(RewritePatternSet &patterns,
                                           KernelForm form,
                                           int64_t vectorWidth) {
  patterns.add<LowerCausalConv1d>(patterns.getContext(), form, vectorWidth);
}
