//===- Conv1d.cpp - hymba.causal_conv1d to loops --------------------------===//
//
// The depthwise causal conv reads the stored conv window as its left
// extension and then shifts the window: two scf.parallel loops.
//
//===----------------------------------------------------------------------===//
#include "Common.h"
#include "Patterns.h"

#include "dialects/hymba/HymbaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::hymba;

namespace {
/// Depthwise causal conv over the chunk extended on the left by the stored
/// window: extended row e < K-1 is conv_state[e], else input[e - (K-1)].
struct LowerCausalConv1d : OpRewritePattern<CausalConv1dOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CausalConv1dOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    int64_t channels = op.getInput().getType().getDimSize(1);
    int64_t taps = op.getWeight().getType().getDimSize(2);
    Value x = op.getInput(), w = op.getWeight(), bias = op.getBias();
    Value state = op.getConvState();
    Value rows = rowCount(b, x);
    Value out = op.getInit();
    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1),
          cC = indexConst(b, channels);
    Value history = indexConst(b, taps - 1);

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
        b, ValueRange{c0, c0}, ValueRange{rows, cC}, ValueRange{c1, c1},
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
        b, ValueRange{c0}, ValueRange{cC}, ValueRange{c1},
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
    rewriter.eraseOp(op);
    return success();
  }
};
} // namespace

void hymba::populateConv1dLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerCausalConv1d>(patterns.getContext());
}
