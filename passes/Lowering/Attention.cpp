//===- Attention.cpp - hymba.attention to loops
//----------------------------===//
//
// Every work item makes one online-softmax pass over exactly the keys its
// query sees (meta prefix, then the window), reading keys before
// `position` from the cache and later ones from the chunk.
//
//===----------------------------------------------------------------------===//
#include "Attention.h"
#include "Common.h"
#include "Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::hymba;

AttentionLowering::AttentionLowering(ImplicitLocOpBuilder &b, AttentionOp op,
                                     int64_t vectorWidth)
    : heads(op.getNumHeads()), kvHeads(op.getNumKvHeads()),
      window(op.getWindow()), numMeta(op.getNumMeta()),
      qd(op.getQuery().getType().getDimSize(1) / heads),
      vd(op.getValue().getType().getDimSize(1) / kvHeads), rep(heads / kvHeads),
      scale(op.getScale().convertToFloat()),
      // Row-contiguous layouts: the CPU form reads rows as vectors.
      q(toReadOnlyBuffer(b, op.getQuery(), /*contiguousRows=*/true)),
      k(toReadOnlyBuffer(b, op.getKey(), /*contiguousRows=*/true)),
      v(toReadOnlyBuffer(b, op.getValue(), /*contiguousRows=*/true)),
      kc(op.getKCache()), vc(op.getVCache()), pos(op.getPosition()),
      rows(rowCount(b, q)) {
  std::tie(out, outTensor) = allocRows(b, rows, heads * vd);
  // The widest power of two up to vectorWidth that splits both head dims.
  for (int64_t w = vectorWidth; w >= 4 && !vl; w /= 2)
    if (qd % w == 0 && vd % w == 0)
      vl = w;
}

AttentionLowering::Item AttentionLowering::itemAt(ImplicitLocOpBuilder &ib,
                                                  Value t, Value h) const {
  Value kvh = arith::DivUIOp::create(ib, h, indexConst(ib, rep));
  return {t,
          arith::AddIOp::create(ib, pos, t),
          arith::MulIOp::create(ib, h, indexConst(ib, qd)),
          arith::MulIOp::create(ib, kvh, indexConst(ib, qd)),
          arith::MulIOp::create(ib, kvh, indexConst(ib, vd)),
          arith::MulIOp::create(ib, h, indexConst(ib, vd))};
}

SmallVector<Value>
AttentionLowering::forEachVisibleKey(ImplicitLocOpBuilder &ib, Value i,
                                     ValueRange init, KeyBody body) const {
  Value c0 = indexConst(ib, 0), c1 = indexConst(ib, 1);
  auto keyLoop = [&](Value lo, Value hi, ValueRange carried) {
    auto loop = scf::ForOp::create(
        ib, lo, hi, c1, carried,
        [&](OpBuilder &fb, Location lc, Value j, ValueRange st) {
          ImplicitLocOpBuilder kb(lc, fb);
          scf::YieldOp::create(kb, body(kb, j, st));
        });
    return SmallVector<Value>(loop.getResults());
  };
  Value lo = c0;
  if (window > 0) {
    Value w = indexConst(ib, window);
    Value far = arith::CmpIOp::create(ib, arith::CmpIPredicate::uge, i, w);
    lo = arith::SelectOp::create(ib, far, arith::SubIOp::create(ib, i, w), c0);
  }
  Value metaEnd = arith::MinUIOp::create(ib, indexConst(ib, numMeta), lo);
  SmallVector<Value> afterMeta = keyLoop(c0, metaEnd, init);
  return keyLoop(lo, arith::AddIOp::create(ib, i, c1), afterMeta);
}

ValueRange AttentionLowering::atKey(ImplicitLocOpBuilder &kb, Value j,
                                    Value chunkBuf, Value cacheBuf,
                                    RowReader read) const {
  return chunkOrState(
      kb, j, pos,
      [&](ImplicitLocOpBuilder &eb, Value row) {
        return read(eb, chunkBuf, row);
      },
      [&](ImplicitLocOpBuilder &eb) {
        return read(eb, cacheBuf, cacheRow(eb, j, window, numMeta));
      });
}

Value AttentionLowering::score(ImplicitLocOpBuilder &kb, const Item &it,
                               Value j) const {
  // Independent partial sums: a single accumulator makes the dot product
  // one chain of dependent adds, which is what bounds a GPU thread that
  // walks all keys.
  int64_t parts = qd % 8 == 0 ? 8 : qd % 4 == 0 ? 4 : qd % 2 == 0 ? 2 : 1;
  Value dot =
      atKey(kb, j, k, kc, [&](ImplicitLocOpBuilder &db, Value buf, Value row) {
        SmallVector<Value> zeros(parts, f32Const(db, 0.0));
        auto loop = scf::ForOp::create(
            db, indexConst(db, 0), indexConst(db, qd), indexConst(db, parts),
            zeros, [&](OpBuilder &fb, Location lc, Value d0, ValueRange acc) {
              ImplicitLocOpBuilder eb(lc, fb);
              SmallVector<Value> next;
              for (int64_t p = 0; p < parts; ++p) {
                Value d = arith::AddIOp::create(eb, d0, indexConst(eb, p));
                Value qv = loadF32(
                    eb, q, {it.t, arith::AddIOp::create(eb, it.qCol0, d)});
                Value kv = loadF32(
                    eb, buf, {row, arith::AddIOp::create(eb, it.kCol0, d)});
                next.push_back(arith::AddFOp::create(
                    eb, acc[p], arith::MulFOp::create(eb, qv, kv)));
              }
              scf::YieldOp::create(eb, next);
            });
        SmallVector<Value> sums(loop.getResults());
        for (size_t width = sums.size(); width > 1; width /= 2)
          for (size_t i = 0; i < width / 2; ++i)
            sums[i] = arith::AddFOp::create(db, sums[i], sums[i + width / 2]);
        return SmallVector<Value>{sums[0]};
      })[0];
  return arith::MulFOp::create(kb, dot, f32Const(kb, scale));
}

AttentionLowering::SoftmaxStep
AttentionLowering::softmaxStep(ImplicitLocOpBuilder &kb, Value s, Value m,
                               Value l) const {
  Value mNew = arith::MaximumFOp::create(kb, m, s);
  Value corr = math::ExpOp::create(kb, arith::SubFOp::create(kb, m, mNew));
  Value p = math::ExpOp::create(kb, arith::SubFOp::create(kb, s, mNew));
  Value lNew = arith::AddFOp::create(kb, arith::MulFOp::create(kb, l, corr), p);
  return {mNew, corr, p, lNew};
}

void AttentionLowering::emitItemVectors(ImplicitLocOpBuilder &ib, Value t,
                                        Value h) const {
  Item it = itemAt(ib, t, h);
  auto vt = VectorType::get({vl}, ib.getF32Type());
  auto zeros = [&](ImplicitLocOpBuilder &zb) -> Value {
    return arith::ConstantOp::create(
        zb, vt, DenseElementsAttr::get(vt, zb.getF32FloatAttr(0.0f)));
  };
  auto rowVectors = [&](ImplicitLocOpBuilder &rb, Value buf, Value row,
                        Value col0, int64_t width) {
    SmallVector<Value> vecs;
    for (int64_t c = 0; c < width; c += vl)
      vecs.push_back(vector::LoadOp::create(
          rb, vt, buf,
          ValueRange{row, arith::AddIOp::create(rb, col0, indexConst(rb, c))}));
    return vecs;
  };
  SmallVector<Value> init = {
      f32Const(ib, -std::numeric_limits<float>::infinity()), f32Const(ib, 0.0)};
  for (int64_t c = 0; c < vd; c += vl)
    init.push_back(zeros(ib));
  SmallVector<Value> last = forEachVisibleKey(
      ib, it.i, init, [&](ImplicitLocOpBuilder &kb, Value j, ValueRange st) {
        SmallVector<Value> qv = rowVectors(kb, q, it.t, it.qCol0, qd);
        ValueRange kv = atKey(
            kb, j, k, kc, [&](ImplicitLocOpBuilder &rb, Value buf, Value r) {
              return rowVectors(rb, buf, r, it.kCol0, qd);
            });
        Value dotv = arith::MulFOp::create(kb, qv[0], kv[0]);
        for (size_t c = 1; c < qv.size(); ++c)
          dotv = vector::FMAOp::create(kb, qv[c], kv[c], dotv);
        Value dot =
            vector::ReductionOp::create(kb, vector::CombiningKind::ADD, dotv,
                                        arith::FastMathFlags::reassoc);
        Value sc = arith::MulFOp::create(kb, dot, f32Const(kb, scale));
        SoftmaxStep sm = softmaxStep(kb, sc, st[0], st[1]);
        ValueRange vv = atKey(
            kb, j, v, vc, [&](ImplicitLocOpBuilder &rb, Value buf, Value r) {
              return rowVectors(rb, buf, r, it.vCol0, vd);
            });
        Value corr = vector::BroadcastOp::create(kb, vt, sm.corr);
        Value p = vector::BroadcastOp::create(kb, vt, sm.p);
        SmallVector<Value> next = {sm.m, sm.l};
        for (size_t c = 0; c < vv.size(); ++c)
          next.push_back(vector::FMAOp::create(
              kb, p, vv[c], arith::MulFOp::create(kb, st[2 + c], corr)));
        return next;
      });
  Value inv = vector::BroadcastOp::create(
      ib, vt, arith::DivFOp::create(ib, f32Const(ib, 1.0), last[1]));
  for (int64_t c = 0; c < vd; c += vl)
    vector::StoreOp::create(
        ib, arith::MulFOp::create(ib, last[2 + c / vl], inv), out,
        ValueRange{t, arith::AddIOp::create(ib, it.oCol0, indexConst(ib, c))});
}

void AttentionLowering::emitItem(ImplicitLocOpBuilder &ib, Value t,
                                 Value h) const {
  if (vl > 0)
    return emitItemVectors(ib, t, h);
  Value c0 = indexConst(ib, 0), c1 = indexConst(ib, 1),
        zero = f32Const(ib, 0.0);
  Item it = itemAt(ib, t, h);
  auto overHeadDim = [&](ImplicitLocOpBuilder &lb,
                         function_ref<void(ImplicitLocOpBuilder &, Value)> fn) {
    scf::ForOp::create(lb, c0, indexConst(lb, vd), c1, ValueRange{},
                       [&](OpBuilder &fb, Location l, Value d, ValueRange) {
                         ImplicitLocOpBuilder bb(l, fb);
                         fn(bb, d);
                         scf::YieldOp::create(bb);
                       });
  };
  auto outCol = [&](ImplicitLocOpBuilder &bb, Value d) -> Value {
    return arith::AddIOp::create(bb, it.oCol0, d);
  };
  overHeadDim(ib, [&](ImplicitLocOpBuilder &bb, Value d) {
    memref::StoreOp::create(bb, zero, out, ValueRange{t, outCol(bb, d)});
  });
  Value negInf = f32Const(ib, -std::numeric_limits<float>::infinity());
  SmallVector<Value> last = forEachVisibleKey(
      ib, it.i, ValueRange{negInf, zero},
      [&](ImplicitLocOpBuilder &kb, Value j, ValueRange st) {
        SoftmaxStep sm = softmaxStep(kb, score(kb, it, j), st[0], st[1]);
        atKey(
            kb, j, v, vc, [&](ImplicitLocOpBuilder &ab, Value buf, Value row) {
              overHeadDim(ab, [&](ImplicitLocOpBuilder &eb, Value d) {
                Value oc = outCol(eb, d);
                Value o = memref::LoadOp::create(eb, out, ValueRange{t, oc});
                Value vv = loadF32(
                    eb, buf, {row, arith::AddIOp::create(eb, it.vCol0, d)});
                memref::StoreOp::create(
                    eb,
                    arith::AddFOp::create(eb,
                                          arith::MulFOp::create(eb, o, sm.corr),
                                          arith::MulFOp::create(eb, sm.p, vv)),
                    out, ValueRange{t, oc});
              });
              return SmallVector<Value>{};
            });
        return SmallVector<Value>{sm.m, sm.l};
      });
  Value inv = arith::DivFOp::create(ib, f32Const(ib, 1.0), last[1]);
  overHeadDim(ib, [&](ImplicitLocOpBuilder &eb, Value d) {
    Value oc = outCol(eb, d);
    Value o = memref::LoadOp::create(eb, out, ValueRange{t, oc});
    memref::StoreOp::create(eb, arith::MulFOp::create(eb, o, inv), out,
                            ValueRange{t, oc});
  });
}

void AttentionLowering::emitLane(ImplicitLocOpBuilder &ib, Value t, Value h,
                                 Value d) const {
  Value zero = f32Const(ib, 0.0);
  Item it = itemAt(ib, t, h);
  Value vcol = arith::AddIOp::create(ib, it.vCol0, d);
  Value negInf = f32Const(ib, -std::numeric_limits<float>::infinity());
  SmallVector<Value> last = forEachVisibleKey(
      ib, it.i, ValueRange{negInf, zero, zero},
      [&](ImplicitLocOpBuilder &kb, Value j, ValueRange st) {
        SoftmaxStep sm = softmaxStep(kb, score(kb, it, j), st[0], st[1]);
        Value vv = atKey(
            kb, j, v, vc, [&](ImplicitLocOpBuilder &eb, Value buf, Value row) {
              return SmallVector<Value>{loadF32(eb, buf, {row, vcol})};
            })[0];
        Value o =
            arith::AddFOp::create(kb, arith::MulFOp::create(kb, st[2], sm.corr),
                                  arith::MulFOp::create(kb, sm.p, vv));
        return SmallVector<Value>{sm.m, sm.l, o};
      });
  Value inv = arith::DivFOp::create(ib, f32Const(ib, 1.0), last[1]);
  memref::StoreOp::create(
      ib, arith::MulFOp::create(ib, last[2], inv), out,
      ValueRange{t, arith::AddIOp::create(ib, it.oCol0, d)});
}

Value AttentionLowering::laneCount(ImplicitLocOpBuilder &b) const {
  return arith::MulIOp::create(b, rows, indexConst(b, heads * vd));
}

void AttentionLowering::emitLaneAt(ImplicitLocOpBuilder &ib, Value lane) const {
  Value cVd = indexConst(ib, vd), cH = indexConst(ib, heads);
  Value d = arith::RemUIOp::create(ib, lane, cVd);
  Value th = arith::DivUIOp::create(ib, lane, cVd);
  emitLane(ib, arith::DivUIOp::create(ib, th, cH),
           arith::RemUIOp::create(ib, th, cH), d);
}

Value hymba::buildAttentionLoops(ImplicitLocOpBuilder &b, AttentionOp op,
                                 KernelForm form, int64_t vectorWidth) {
  bool gpuForm = form == KernelForm::GPU;
  AttentionLowering att(b, op, gpuForm ? 0 : vectorWidth);
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  SmallVector<Value> lb = {c0, c0}, ub = {att.rows, indexConst(b, att.heads)},
                     step = {c1, c1};
  if (gpuForm) {
    lb.push_back(c0);
    ub.push_back(indexConst(b, att.vd));
    step.push_back(c1);
  }
  scf::ParallelOp::create(b, lb, ub, step,
                          [&](OpBuilder &nb, Location loc, ValueRange iv) {
                            ImplicitLocOpBuilder ib(loc, nb);
                            if (gpuForm)
                              att.emitLane(ib, iv[0], iv[1], iv[2]);
                            else
                              att.emitItem(ib, iv[0], iv[1]);
                            scf::ReduceOp::create(ib);
                          });
  return att.outTensor;
}

namespace {
struct LowerAttention : OpRewritePattern<AttentionOp> {
  LowerAttention(MLIRContext *ctx, KernelForm form, int64_t vectorWidth)
      : OpRewritePattern(ctx), form(form), vectorWidth(vectorWidth) {}
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    rewriter.replaceOp(op, buildAttentionLoops(b, op, form, vectorWidth));
    return success();
  }
  KernelForm form;
  int64_t vectorWidth;
};
} // namespace

void hymba::populateAttentionLoweringPatterns(RewritePatternSet &patterns,
                                              KernelForm form,
                                              int64_t vectorWidth) {
  patterns.add<LowerAttention>(patterns.getContext(), form, vectorWidth);
}
