//===- KVCache.cpp - hymba.kv_cache_write to loops ------------------------===//
//
// The chunk's keys and values join the cache: one scf.parallel copy of the
// rows later queries can still see.
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
/// Copies the chunk rows that later queries can still see into the cache:
/// one scf.parallel over (row, column of K then V). The kept rows land in
/// distinct cache rows (meta rows at their position; of the others only the
/// last `window`, which map to distinct ring rows), so the items are
/// independent.
struct LowerKVCacheWrite : OpRewritePattern<KVCacheWriteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(KVCacheWriteOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    int64_t window = op.getWindow(), numMeta = op.getNumMeta();
    Value k = op.getKey(), v = op.getValue();
    Value kc = op.getKCache(), vc = op.getVCache();
    int64_t kw = op.getKCache().getType().getDimSize(1);
    int64_t vw = op.getVCache().getType().getDimSize(1);
    int64_t capacity = op.getKCache().getType().getDimSize(0);
    Value rows = rowCount(b, k);
    Value pos = op.getPosition();
    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
    scf::ParallelOp::create(
        b, ValueRange{c0, c0}, ValueRange{rows, indexConst(b, kw + vw)},
        ValueRange{c1, c1}, [&](OpBuilder &pb, Location loc, ValueRange iv) {
          ImplicitLocOpBuilder ib(loc, pb);
          Value r = iv[0], col = iv[1];
          Value p = arith::AddIOp::create(ib, pos, r);
          Value keep;
          if (window > 0) {
            // Meta rows always; otherwise only the last `window` rows.
            Value isMeta = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult,
                                                 p, indexConst(ib, numMeta));
            Value recent = arith::CmpIOp::create(
                ib, arith::CmpIPredicate::uge,
                arith::AddIOp::create(ib, r, indexConst(ib, window)), rows);
            keep = arith::OrIOp::create(ib, isMeta, recent);
          } else {
            // Never write past the cache (the runtime rejects such positions
            // before running; this keeps memory safe regardless).
            keep = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, p,
                                         indexConst(ib, capacity));
          }
          scf::IfOp::create(ib, keep, [&](OpBuilder &tb, Location lc) {
            ImplicitLocOpBuilder eb(lc, tb);
            Value slot = cacheRow(eb, p, window, numMeta);
            Value isKey = arith::CmpIOp::create(eb, arith::CmpIPredicate::ult,
                                                col, indexConst(eb, kw));
            auto copy = [&](Value src, Value dst, Value c) {
              return [=](OpBuilder &cb, Location l2) {
                ImplicitLocOpBuilder xb(l2, cb);
                Value x = memref::LoadOp::create(xb, src, ValueRange{r, c});
                memref::StoreOp::create(xb, x, dst, ValueRange{slot, c});
                scf::YieldOp::create(xb);
              };
            };
            scf::IfOp::create(
                eb, isKey, copy(k, kc, col),
                copy(v, vc,
                     arith::SubIOp::create(eb, col, indexConst(eb, kw))));
            scf::YieldOp::create(eb);
          });
          scf::ReduceOp::create(ib);
        });
    rewriter.eraseOp(op);
    return success();
  }
};
} // namespace

void hymba::populateKVCacheLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerKVCacheWrite>(patterns.getContext());
}
