//===- AttentionQueryLanes.cpp - Prefill attention, queries in lanes ------===//
//
// The CPU attention item for chunks of at least a vector of rows: vl
// consecutive query rows of every head of one KV head, one row per vector
// lane. Both products
// of attention then become the register-tiled outer products of a GEMM
// micro-kernel: the scores of a key block are vl vectors (one per key)
// built by FMAs of a query column with a broadcast key element, and p . V
// accumulates vl output columns (one vector per column, lanes = queries)
// by FMAs of a key's weights with a broadcast value element. The online
// softmax works element-wise across the score vectors, so no step needs a
// horizontal reduction, and every FMA chain is independent of the others
// within a block.
//
//===----------------------------------------------------------------------===//
#include "Attention.h"
#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::hymba;

namespace {
/// `a[0] op a[1] op ...` as a balanced tree (short dependency chains).
Value treeCombine(SmallVector<Value> vals,
                  function_ref<Value(Value, Value)> combine) {
  while (vals.size() > 1) {
    SmallVector<Value> next;
    for (size_t i = 0; i + 1 < vals.size(); i += 2)
      next.push_back(combine(vals[i], vals[i + 1]));
    if (vals.size() % 2)
      next.push_back(vals.back());
    vals = std::move(next);
  }
  return vals[0];
}

/// scf.for over [lb, ub) by `step` carrying `init`; `body` returns the next
/// values of the carried ones.
SmallVector<Value> forLoop(
    ImplicitLocOpBuilder &b, Value lb, Value ub, int64_t step, ValueRange init,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value, ValueRange)>
        body) {
  auto loop = scf::ForOp::create(
      b, lb, ub, indexConst(b, step), init,
      [&](OpBuilder &fb, Location l, Value iv, ValueRange carried) {
        ImplicitLocOpBuilder lb(l, fb);
        scf::YieldOp::create(lb, body(lb, iv, carried));
      });
  return SmallVector<Value>(loop.getResults());
}
} // namespace

void AttentionLowering::emitQueryLaneItem(ImplicitLocOpBuilder &ib, Value t0,
                                          Value g) const {
  Type f32 = ib.getF32Type(), i32 = ib.getI32Type();
  auto vt = VectorType::get({vl}, f32);
  auto it = VectorType::get({vl}, i32);
  auto idx = [](ImplicitLocOpBuilder &b, int64_t v) {
    return indexConst(b, v);
  };
  auto splatI = [&](ImplicitLocOpBuilder &b, Value x) -> Value {
    return vector::BroadcastOp::create(b, it,
                                       arith::IndexCastOp::create(b, i32, x));
  };
  auto add = [](ImplicitLocOpBuilder &b, Value x, Value y) -> Value {
    return arith::AddIOp::create(b, x, y);
  };
  auto mul = [](ImplicitLocOpBuilder &b, Value x, int64_t y) -> Value {
    return arith::MulIOp::create(b, x, indexConst(b, y));
  };
  auto noResults = SmallVector<Value>{};
  Value c0 = idx(ib, 0), c1 = idx(ib, 1);
  Value lastRow = arith::SubIOp::create(ib, rows, c1);
  Value nr = arith::MinUIOp::create(ib, idx(ib, vl),
                                    arith::SubIOp::create(ib, rows, t0));
  // The group's heads are rep consecutive heads: their query and output
  // columns are contiguous.
  Value qCol0 = mul(ib, g, rep * qd), oCol0 = mul(ib, g, rep * vd);
  Value kCol0 = mul(ib, g, qd), vCol0 = mul(ib, g, vd);

  // Scratch, heap (freed by the deallocation pipeline): per head of the
  // group, the scaled queries and the output accumulators transposed (one
  // vector per head-dim column), the running max and sum; the block's
  // weights (one vector per key) and its packed keys and values, shared by
  // the heads.
  Value qT = memref::AllocOp::create(ib, MemRefType::get({rep * qd, vl}, f32));
  Value oT = memref::AllocOp::create(ib, MemRefType::get({rep * vd, vl}, f32));
  Value mBuf = memref::AllocOp::create(ib, MemRefType::get({rep, vl}, f32));
  Value lBuf = memref::AllocOp::create(ib, MemRefType::get({rep, vl}, f32));
  Value pT = memref::AllocOp::create(ib, MemRefType::get({vl, vl}, f32));
  Value kPack = memref::AllocOp::create(ib, MemRefType::get({vl, qd}, f32));
  Value vPack = memref::AllocOp::create(ib, MemRefType::get({vl, vd}, f32));

  // Lane r holds row min(t0 + r, rows - 1): lanes past the chunk repeat its
  // last row and are never stored.
  Value scaleC = f32Const(ib, scale);
  forLoop(ib, c0, idx(ib, vl), 1, {},
          [&](ImplicitLocOpBuilder &rb, Value r, ValueRange) {
            Value row = arith::MinUIOp::create(rb, add(rb, t0, r), lastRow);
            forLoop(rb, c0, idx(rb, rep * qd), 1, {},
                    [&](ImplicitLocOpBuilder &db, Value e, ValueRange) {
                      Value x = loadF32(db, q, {row, add(db, qCol0, e)});
                      memref::StoreOp::create(
                          db, arith::MulFOp::create(db, x, scaleC), qT,
                          ValueRange{e, r});
                      return noResults;
                    });
            return noResults;
          });
  Value zeros = f32Const(ib, vt, 0.0f);
  Value negInf = f32Const(ib, vt, -std::numeric_limits<float>::infinity());
  forLoop(ib, c0, idx(ib, rep * vd), 1, {},
          [&](ImplicitLocOpBuilder &db, Value e, ValueRange) {
            vector::StoreOp::create(db, zeros, oT, ValueRange{e, c0});
            return noResults;
          });
  forLoop(ib, c0, idx(ib, rep), 1, {},
          [&](ImplicitLocOpBuilder &hb, Value hh, ValueRange) {
            vector::StoreOp::create(hb, negInf, mBuf, ValueRange{hh, c0});
            vector::StoreOp::create(hb, zeros, lBuf, ValueRange{hh, c0});
            return noResults;
          });

  // What each lane's query sees, as i32 vectors: keys j < metaEnd (the meta
  // prefix) and lo <= j <= i (the window).
  Value lanes = laneIndices(ib);
  Value rowV = arith::MinUIOp::create(
      ib, arith::AddIOp::create(ib, lanes, splatI(ib, t0)),
      splatI(ib, lastRow));
  Value iV = arith::AddIOp::create(ib, rowV, splatI(ib, qpos));
  Value loV = windowStart(ib, iV);
  Value metaEndV = metaEnd(ib, loV);

  KeySpan span = keySpan(ib, t0, nr);
  auto noNaN = arith::FastMathFlags::nnan;
  forLoop(
      ib, c0, span.n, vl, {},
      [&](ImplicitLocOpBuilder &kb, Value v0, ValueRange) {
        // Keys and values are packed once per block for all heads of the group:
        // the window of a long prompt is megabytes, read from L3 (or memory)
        // once per item.
        packKeyBlock(kb, span, v0, kCol0, vCol0, /*kvGroups=*/1, kPack, vPack,
                     /*prefetchNext=*/false);
        forLoop(
            kb, c0, idx(kb, rep), 1, {},
            [&](ImplicitLocOpBuilder &hb, Value hh, ValueRange) {
              Value qOff = mul(hb, hh, qd), oOff = mul(hb, hh, vd);
              // Scores: one vector per key, lanes = queries.
              SmallVector<Value> s = forLoop(
                  hb, c0, idx(hb, qd), 1, SmallVector<Value>(vl, zeros),
                  [&](ImplicitLocOpBuilder &db, Value d, ValueRange acc) {
                    Value qv = vector::LoadOp::create(
                        db, vt, qT, ValueRange{add(db, qOff, d), c0});
                    SmallVector<Value> next;
                    for (int64_t l = 0; l < vl; ++l) {
                      Value kl = vector::BroadcastOp::create(
                          db, vt, loadF32(db, kPack, {idx(db, l), d}));
                      next.push_back(vector::FMAOp::create(db, kl, qv, acc[l]));
                    }
                    return next;
                  });
              // Mask each key's vector to the lanes that see it (a key past the
              // span is seen by none).
              for (int64_t l = 0; l < vl; ++l) {
                Value vi = add(hb, v0, idx(hb, l));
                Value first = arith::CmpIOp::create(
                    hb, arith::CmpIPredicate::ult, vi, span.n1);
                Value j = arith::SelectOp::create(
                    hb, first, vi,
                    arith::SubIOp::create(hb, add(hb, span.a2, vi), span.n1));
                Value inSpan = arith::CmpIOp::create(
                    hb, arith::CmpIPredicate::ult, vi, span.n);
                Value jv = splatI(hb, j);
                auto cmp = [&](arith::CmpIPredicate p, Value a, Value b) {
                  return arith::CmpIOp::create(hb, p, a, b);
                };
                Value sees = arith::OrIOp::create(
                    hb, cmp(arith::CmpIPredicate::ult, jv, metaEndV),
                    arith::AndIOp::create(
                        hb, cmp(arith::CmpIPredicate::uge, jv, loV),
                        cmp(arith::CmpIPredicate::ule, jv, iV)));
                Value live = arith::AndIOp::create(
                    hb, sees,
                    vector::BroadcastOp::create(
                        hb, VectorType::get({vl}, hb.getI1Type()), inSpan));
                s[l] = arith::SelectOp::create(hb, live, s[l], negInf);
              }
              // Online softmax, lane-wise. The max is taken as if no score were
              // NaN (a score is NaN only where q or k is, and then so is the
              // output); a lane that has seen no key yet keeps m = -inf and
              // subtracts 0 instead, so its corrections and weights are 0.
              Value m =
                  vector::LoadOp::create(hb, vt, mBuf, ValueRange{hh, c0});
              Value lsum =
                  vector::LoadOp::create(hb, vt, lBuf, ValueRange{hh, c0});
              Value mNew = arith::MaxNumFOp::create(
                  hb, m,
                  treeCombine(s,
                              [&](Value a, Value b) -> Value {
                                return arith::MaxNumFOp::create(hb, a, b,
                                                                noNaN);
                              }),
                  noNaN);
              Value mRef, corr;
              std::tie(mRef, corr) = softmaxReference(hb, m, mNew);
              SmallVector<Value> p;
              for (int64_t l = 0; l < vl; ++l) {
                p.push_back(math::ExpOp::create(
                    hb, arith::SubFOp::create(hb, s[l], mRef)));
                vector::StoreOp::create(hb, p.back(), pT,
                                        ValueRange{idx(hb, l), c0});
              }
              Value lNew = vector::FMAOp::create(
                  hb, lsum, corr,
                  treeCombine(p, [&](Value a, Value b) -> Value {
                    return arith::AddFOp::create(hb, a, b);
                  }));
              vector::StoreOp::create(hb, mNew, mBuf, ValueRange{hh, c0});
              vector::StoreOp::create(hb, lNew, lBuf, ValueRange{hh, c0});
              // p . V: vl output columns at a time, rescaled by corr once.
              forLoop(
                  hb, c0, idx(hb, vd), vl, {},
                  [&](ImplicitLocOpBuilder &cb, Value dc, ValueRange) {
                    Value col0 = add(cb, oOff, dc);
                    SmallVector<Value> acc;
                    for (int64_t i = 0; i < vl; ++i)
                      acc.push_back(arith::MulFOp::create(
                          cb,
                          vector::LoadOp::create(
                              cb, vt, oT,
                              ValueRange{add(cb, col0, idx(cb, i)), c0}),
                          corr));
                    acc = forLoop(
                        cb, c0, idx(cb, vl), 1, acc,
                        [&](ImplicitLocOpBuilder &lb, Value l, ValueRange a) {
                          Value pl = vector::LoadOp::create(lb, vt, pT,
                                                            ValueRange{l, c0});
                          SmallVector<Value> next;
                          for (int64_t i = 0; i < vl; ++i) {
                            Value vli = vector::BroadcastOp::create(
                                lb, vt,
                                loadF32(lb, vPack,
                                        {l, add(lb, dc, idx(lb, i))}));
                            next.push_back(
                                vector::FMAOp::create(lb, vli, pl, a[i]));
                          }
                          return next;
                        });
                    for (int64_t i = 0; i < vl; ++i)
                      vector::StoreOp::create(
                          cb, acc[i], oT,
                          ValueRange{add(cb, col0, idx(cb, i)), c0});
                    return noResults;
                  });
              return noResults;
            });
        return noResults;
      });

  // Normalize, then store the chunk's rows back in row-major order.
  forLoop(
      ib, c0, idx(ib, rep * vd), 1, {},
      [&](ImplicitLocOpBuilder &db, Value e, ValueRange) {
        Value hh = arith::DivUIOp::create(db, e, idx(db, vd));
        Value lsum = vector::LoadOp::create(db, vt, lBuf, ValueRange{hh, c0});
        Value o = vector::LoadOp::create(db, vt, oT, ValueRange{e, c0});
        vector::StoreOp::create(db, arith::DivFOp::create(db, o, lsum), oT,
                                ValueRange{e, c0});
        return noResults;
      });
  forLoop(
      ib, c0, nr, 1, {}, [&](ImplicitLocOpBuilder &rb, Value r, ValueRange) {
        Value row = add(rb, t0, r);
        forLoop(rb, c0, idx(rb, rep * vd), 1, {},
                [&](ImplicitLocOpBuilder &db, Value e, ValueRange) {
                  memref::StoreOp::create(db, loadF32(db, oT, {e, r}), out,
                                          ValueRange{row, add(db, oCol0, e)});
                  return noResults;
                });
        return noResults;
      });
}
