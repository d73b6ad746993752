//===- Attention.cpp - hymba.attention to loops ---------------------------===//
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
#include <tuple>

using namespace mlir;
using namespace mlir::hymba;

AttentionLowering::AttentionLowering(ImplicitLocOpBuilder &b, AttentionOp op,
                                     int64_t vectorWidth)
    : heads(op.getNumHeads()), kvHeads(op.getNumKvHeads()),
      window(op.getWindow()), numMeta(op.getNumMeta()),
      qd(op.getQuery().getType().getDimSize(1) / heads),
      vd(op.getValue().getType().getDimSize(1) / kvHeads), rep(heads / kvHeads),
      scale(op.getScale().convertToFloat()), q(op.getQuery()), k(op.getKey()),
      v(op.getValue()), kc(op.getKCache()), vc(op.getVCache()),
      pos(op.getPosition()),
      qpos(op.getQueryOffset()
               ? arith::AddIOp::create(b, pos, op.getQueryOffset()).getResult()
               : pos),
      rows(rowCount(b, q)), out(op.getInit()) {
  // Rows are read as vectors only where they are contiguous (a memref form
  // operand may have any layout).
  bool contiguous = llvm::all_of(ValueRange{q, k, v, out}, [](Value m) {
    return cast<MemRefType>(m.getType()).isLastDimUnitStride();
  });
  // The widest power of two up to vectorWidth that splits both head dims.
  for (int64_t w = contiguous ? vectorWidth : 0; w >= 4 && !vl; w /= 2)
    if (qd % w == 0 && vd % w == 0)
      vl = w;
  if (vl == 0)
    return;
  // A chunk of at most rowBlock rows (fewer than vl: decode) splits its keys
  // instead of its rows: every item reads whole cache rows of its key range,
  // in order, for all KV heads, and leaves its partial results for
  // emitSplitCombine.
  Value c0 = indexConst(b, 0);
  chunkSpan = keySpan(b, c0, rows);
  auto rowsAre = [&](arith::CmpIPredicate p, int64_t n) -> Value {
    return arith::CmpIOp::create(b, p, rows, indexConst(b, n));
  };
  splitChunk = arith::AndIOp::create(
      b, rowsAre(arith::CmpIPredicate::ugt, 0),
      arith::AndIOp::create(b, rowsAre(arith::CmpIPredicate::ule, rowBlock),
                            rowsAre(arith::CmpIPredicate::ult, vl)));
  splits = arith::SelectOp::create(
      b, splitChunk,
      arith::CeilDivUIOp::create(b, chunkSpan.n, indexConst(b, keysPerSplit)),
      c0);
  splitQueries = arith::MulIOp::create(b, rows, indexConst(b, heads));
  // One row per (split, query); at least one, so that no allocation is
  // empty.
  Value partRows = arith::MaxUIOp::create(
      b, arith::MulIOp::create(b, splits, splitQueries), indexConst(b, 1));
  Type f32 = b.getF32Type();
  partO = memref::AllocOp::create(
      b, MemRefType::get({ShapedType::kDynamic, vd}, f32),
      ValueRange{partRows});
  partM = memref::AllocOp::create(
      b, MemRefType::get({ShapedType::kDynamic}, f32), ValueRange{partRows});
  partL = memref::AllocOp::create(
      b, MemRefType::get({ShapedType::kDynamic}, f32), ValueRange{partRows});
}

AttentionLowering::Item AttentionLowering::itemAt(ImplicitLocOpBuilder &ib,
                                                  Value t, Value h) const {
  Value kvh = arith::DivUIOp::create(ib, h, indexConst(ib, rep));
  return {t,
          arith::AddIOp::create(ib, qpos, t),
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
  Value lo = windowStart(ib, i);
  SmallVector<Value> afterMeta = keyLoop(c0, metaEnd(ib, lo), init);
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

namespace {
/// One vector whose lane k is the sum of the lanes of `vecs[k]` (vecs.size()
/// equals their lane count, a power of two). Pairs of vectors are folded
/// into one by adding their low and high half-segments, log2(n) times: n - 1
/// shuffle pairs and adds for n sums instead of n full reductions, and the
/// scores of a key block come out as one vector, lane k for key k.
Value transposeReduce(ImplicitLocOpBuilder &b, SmallVector<Value> vecs) {
  int64_t n = vecs.size();
  for (int64_t w = n; vecs.size() > 1; w /= 2) {
    // Each vector holds n / w keys in segments of w lanes; the result of a
    // pair holds the first's keys then the second's in segments of w / 2.
    SmallVector<int64_t> lo, hi;
    for (int64_t src = 0; src < 2; ++src)
      for (int64_t seg = 0; seg < n / w; ++seg)
        for (int64_t e = 0; e < w / 2; ++e) {
          lo.push_back(src * n + seg * w + e);
          hi.push_back(src * n + seg * w + w / 2 + e);
        }
    SmallVector<Value> next;
    for (size_t i = 0; i < vecs.size(); i += 2)
      next.push_back(arith::AddFOp::create(
          b, vector::ShuffleOp::create(b, vecs[i], vecs[i + 1], lo),
          vector::ShuffleOp::create(b, vecs[i], vecs[i + 1], hi)));
    vecs = std::move(next);
  }
  return vecs[0];
}

} // namespace

Value AttentionLowering::windowStart(ImplicitLocOpBuilder &b, Value i) const {
  Value c0 = intConst(b, i.getType(), 0);
  if (window == 0)
    return c0;
  Value w = intConst(b, i.getType(), window);
  Value far = arith::CmpIOp::create(b, arith::CmpIPredicate::uge, i, w);
  return arith::SelectOp::create(b, far, arith::SubIOp::create(b, i, w), c0);
}

Value AttentionLowering::metaEnd(ImplicitLocOpBuilder &b, Value lo) const {
  return arith::MinUIOp::create(b, intConst(b, lo.getType(), numMeta), lo);
}

std::pair<Value, Value>
AttentionLowering::softmaxReference(ImplicitLocOpBuilder &b, Value m,
                                    Value mNew) const {
  Type type = mNew.getType();
  Value none = arith::CmpFOp::create(
      b, arith::CmpFPredicate::OEQ, mNew,
      f32Const(b, type, -std::numeric_limits<float>::infinity()));
  Value mRef = arith::SelectOp::create(b, none, f32Const(b, type, 0.0f), mNew);
  return {mRef, math::ExpOp::create(b, arith::SubFOp::create(b, m, mRef))};
}

Value AttentionLowering::laneIndices(ImplicitLocOpBuilder &b) const {
  SmallVector<int32_t> ids;
  for (int64_t l = 0; l < vl; ++l)
    ids.push_back(l);
  return arith::ConstantOp::create(
      b, DenseElementsAttr::get(VectorType::get({vl}, b.getI32Type()),
                                ArrayRef<int32_t>(ids)));
}

AttentionLowering::KeySpan
AttentionLowering::keySpan(ImplicitLocOpBuilder &b, Value t0, Value nr) const {
  // The meta prefix of the last row and the window from the first row's
  // start to the last row, made disjoint (each query masks what it does not
  // see).
  Value c1 = indexConst(b, 1);
  Value iFirst = arith::AddIOp::create(b, qpos, t0);
  Value end = arith::AddIOp::create(b, iFirst, nr);
  Value iLast = arith::SubIOp::create(b, end, c1);
  Value loFirst = windowStart(b, iFirst);
  Value metaU =
      arith::MinUIOp::create(b, loFirst, metaEnd(b, windowStart(b, iLast)));
  Value n2 = arith::SubIOp::create(b, end, loFirst);
  return {metaU, loFirst, arith::AddIOp::create(b, metaU, n2)};
}

Value AttentionLowering::anyRows(ImplicitLocOpBuilder &b, Value m) const {
  auto type = MemRefType::get(
      {ShapedType::kDynamic, cast<MemRefType>(m.getType()).getDimSize(1)},
      b.getF32Type(),
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                             {ShapedType::kDynamic, 1}));
  return memref::CastOp::create(b, type, m);
}

std::pair<Value, Value> AttentionLowering::keyLocation(ImplicitLocOpBuilder &b,
                                                       const KeySpan &span,
                                                       Value vi) const {
  vi = arith::MinUIOp::create(
      b, vi, arith::SubIOp::create(b, span.n, indexConst(b, 1)));
  Value first =
      arith::CmpIOp::create(b, arith::CmpIPredicate::ult, vi, span.n1);
  Value j = arith::SelectOp::create(
      b, first, vi,
      arith::SubIOp::create(b, arith::AddIOp::create(b, span.a2, vi), span.n1));
  Value inChunk = arith::CmpIOp::create(b, arith::CmpIPredicate::uge, j, pos);
  Value row =
      arith::SelectOp::create(b, inChunk, arith::SubIOp::create(b, j, pos),
                              cacheRow(b, j, window, numMeta));
  return {inChunk, row};
}

void AttentionLowering::prefetchRows(ImplicitLocOpBuilder &b, Value inChunk,
                                     Value row, Value kCol0, Value vCol0,
                                     int64_t kWidth, int64_t vWidth,
                                     int64_t locality) const {
  constexpr int64_t lineFloats = 64 / sizeof(float);
  auto prefetch = [&](Value chunk, Value cache, Value col0, int64_t width) {
    Value src = arith::SelectOp::create(b, inChunk, anyRows(b, chunk),
                                        anyRows(b, cache));
    for (int64_t c = 0; c < width; c += lineFloats)
      memref::PrefetchOp::create(
          b, src,
          ValueRange{row, arith::AddIOp::create(b, col0, indexConst(b, c))},
          /*isWrite=*/false, locality, /*isDataCache=*/true);
  };
  prefetch(k, kc, kCol0, kWidth);
  prefetch(v, vc, vCol0, vWidth);
}

void AttentionLowering::packKeyBlock(ImplicitLocOpBuilder &kb,
                                     const KeySpan &span, Value v0, Value kCol0,
                                     Value vCol0, int64_t kvGroups, Value kPack,
                                     Value vPack, bool prefetchNext) const {
  auto vt = VectorType::get({vl}, kb.getF32Type());
  // Chunk and cache rows as one buffer type, so that a key's buffer is a
  // select and one loop walks keys of both.
  Value kAny = anyRows(kb, k), kcAny = anyRows(kb, kc), vAny = anyRows(kb, v),
        vcAny = anyRows(kb, vc);
  // One key per iteration (a loop, not unrolled: the IR of a 32-layer
  // model stays small).
  forRange(kb, vl, [&](ImplicitLocOpBuilder &pb, Value l) {
    // Lanes past the end read the last key again (masked by the caller).
    Value vi = arith::AddIOp::create(pb, v0, l);
    Value inChunk, row;
    std::tie(inChunk, row) = keyLocation(pb, span, vi);
    auto pack = [&](Value chunk, Value cache, Value col0, int64_t width,
                    Value dst) {
      Value src = arith::SelectOp::create(pb, inChunk, chunk, cache);
      for (int64_t c = 0; c < width; c += vl) {
        Value col = arith::AddIOp::create(pb, col0, indexConst(pb, c));
        Value vec = vector::LoadOp::create(pb, vt, src, ValueRange{row, col});
        vector::StoreOp::create(pb, vec, dst, ValueRange{l, indexConst(pb, c)});
      }
    };
    int64_t kWidth = kvGroups * qd, vWidth = kvGroups * vd;
    pack(kAny, kcAny, kCol0, kWidth, kPack);
    pack(vAny, vcAny, vCol0, vWidth, vPack);
    // The same lane's key of the next block, one prefetch per 64-byte line
    // of its K and V columns: in a decode step every cache row comes from
    // memory once, and between two packs the block's arithmetic leaves the
    // memory idle. One block ahead is a block's work (every query of the
    // item) ahead. Into L1 for one KV head's columns, into L2 for whole
    // rows (60 KB a block for Hymba; prefetched into L1 they evicted the
    // block being worked on, and the step ran 10% slower than with none).
    if (prefetchNext) {
      Value nextInChunk, nextRow;
      std::tie(nextInChunk, nextRow) = keyLocation(
          pb, span, arith::AddIOp::create(pb, vi, indexConst(pb, vl)));
      prefetchRows(pb, nextInChunk, nextRow, kCol0, vCol0, kWidth, vWidth,
                   /*locality=*/kvGroups == 1 ? 3 : 2);
    }
  });
}

/// `fn(i)` for i in [0, n): a loop, or the body alone at i = 0 when n is 1.
static void
forRangeOrOnce(ImplicitLocOpBuilder &b, int64_t n,
               function_ref<void(ImplicitLocOpBuilder &, Value)> fn) {
  if (n == 1)
    return fn(b, indexConst(b, 0));
  forRange(b, n, fn);
}

void AttentionLowering::groupedPV(ImplicitLocOpBuilder &b,
                                  const QueryWalk &queries, Value gl,
                                  Value pBuf, Value cBuf, Value vPack,
                                  Value oBuf, OutputAt outAt) const {
  // A register tile of g queries x c vectors of value columns: each packed
  // V vector loaded once feeds g FMAs (one per query's weight), where a
  // query at a time reloads it for every query and chains its 16 FMAs per
  // accumulator. The tile fits the vector registers: 24 accumulators with
  // 16-lane vectors (32 registers), 12 with narrower ones.
  int64_t budget = vl >= 16 ? 24 : 12, nv = vd / vl;
  int64_t g = 1, c = 1;
  for (int64_t d = 1; d <= rep; ++d)
    if (rep % d == 0 && d <= budget)
      g = d;
  for (int64_t d = 1; d <= nv; ++d)
    if (nv % d == 0 && g * d <= budget)
      c = d;
  Type f32 = b.getF32Type();
  auto vt = VectorType::get({vl}, f32);
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value vOff = arith::MulIOp::create(b, gl, indexConst(b, vd));
  scf::ForOp::create(
      b, c0, queries.w.nr, c1, ValueRange{},
      [&](OpBuilder &fb, Location l, Value r, ValueRange) {
        ImplicitLocOpBuilder rb(l, fb);
        forRangeOrOnce(rb, rep / g, [&](ImplicitLocOpBuilder &jb, Value j) {
          Value q0 = arith::AddIOp::create(
              jb, arith::MulIOp::create(jb, r, indexConst(jb, rep)),
              arith::MulIOp::create(jb, j, indexConst(jb, g)));
          SmallVector<Value> qi, row, o0, corr;
          for (int64_t k = 0; k < g; ++k) {
            qi.push_back(arith::AddIOp::create(jb, q0, indexConst(jb, k)));
            std::pair<Value, Value> at =
                outAt(jb, queries.ofHead(jb, gl, qi.back()));
            row.push_back(at.first);
            o0.push_back(at.second);
            corr.push_back(vector::BroadcastOp::create(
                jb, vt, memref::LoadOp::create(jb, cBuf, qi.back())));
          }
          forRangeOrOnce(
              jb, nv / c, [&](ImplicitLocOpBuilder &cb, Value chunk) {
                Value col0 =
                    arith::MulIOp::create(cb, chunk, indexConst(cb, c * vl));
                auto colOf = [&](ImplicitLocOpBuilder &xb, Value base,
                                 int64_t v) -> Value {
                  return arith::AddIOp::create(
                      xb, arith::AddIOp::create(xb, base, col0),
                      indexConst(xb, v * vl));
                };
                // Accumulators [query][vector], rescaled by each query's
                // correction for its new running max.
                SmallVector<Value> acc;
                for (int64_t k = 0; k < g; ++k)
                  for (int64_t v = 0; v < c; ++v)
                    acc.push_back(arith::MulFOp::create(
                        cb,
                        vector::LoadOp::create(
                            cb, vt, oBuf,
                            ValueRange{row[k], colOf(cb, o0[k], v)}),
                        corr[k]));
                auto keys = scf::ForOp::create(
                    cb, c0, indexConst(cb, vl), c1, acc,
                    [&](OpBuilder &kf, Location kl, Value key, ValueRange a) {
                      ImplicitLocOpBuilder eb(kl, kf);
                      SmallVector<Value> vv;
                      for (int64_t v = 0; v < c; ++v)
                        vv.push_back(vector::LoadOp::create(
                            eb, vt, vPack,
                            ValueRange{key, colOf(eb, vOff, v)}));
                      SmallVector<Value> next;
                      for (int64_t k = 0; k < g; ++k) {
                        Value pk = vector::BroadcastOp::create(
                            eb, vt,
                            memref::LoadOp::create(eb, pBuf,
                                                   ValueRange{qi[k], key}));
                        for (int64_t v = 0; v < c; ++v)
                          next.push_back(vector::FMAOp::create(eb, pk, vv[v],
                                                               a[k * c + v]));
                      }
                      scf::YieldOp::create(eb, next);
                    });
                for (int64_t k = 0; k < g; ++k)
                  for (int64_t v = 0; v < c; ++v)
                    vector::StoreOp::create(
                        cb, keys.getResult(k * c + v), oBuf,
                        ValueRange{row[k], colOf(cb, o0[k], v)});
              });
        });
        scf::YieldOp::create(rb);
      });
}

std::pair<Value, Value> AttentionLowering::walkKeys(ImplicitLocOpBuilder &ib,
                                                    const KeyWalk &w,
                                                    Value oBuf,
                                                    OutputAt outAt) const {
  Type f32 = ib.getF32Type(), i32 = ib.getI32Type();
  auto vt = VectorType::get({vl}, f32);
  auto it = VectorType::get({vl}, i32);
  auto splat = [&](ImplicitLocOpBuilder &b, Value x) -> Value {
    return vector::BroadcastOp::create(
        b, isa<IndexType>(x.getType()) ? it : vt,
        isa<IndexType>(x.getType()) ? arith::IndexCastOp::create(b, i32, x)
                                    : x);
  };
  auto col = [&](ImplicitLocOpBuilder &b, Value col0, int64_t c) -> Value {
    return arith::AddIOp::create(b, col0, indexConst(b, c));
  };
  auto rowVectors = [&](ImplicitLocOpBuilder &rb, Value buf, Value row,
                        Value col0, int64_t width) {
    SmallVector<Value> vecs;
    for (int64_t c = 0; c < width; c += vl)
      vecs.push_back(vector::LoadOp::create(rb, vt, buf,
                                            ValueRange{row, col(rb, col0, c)}));
    return vecs;
  };
  Value c0 = indexConst(ib, 0);
  QueryWalk queries(*this, w);

  // Running max of every query, and its running sum as vl partial sums
  // (lane k sums the weights of keys k mod vl; one reduction at the end
  // instead of one per block). Heap scratch, freed by the deallocation
  // pipeline; the output accumulators are the caller's.
  int64_t slots = rowBlock * rep * w.ng;
  Value mBuf = memref::AllocOp::create(ib, MemRefType::get({slots}, f32));
  Value lBuf = memref::AllocOp::create(ib, MemRefType::get({slots, vl}, f32));
  Value negInfS = f32Const(ib, -std::numeric_limits<float>::infinity());
  Value zeros = arith::ConstantOp::create(
      ib, vt, DenseElementsAttr::get(vt, ib.getF32FloatAttr(0.0f)));
  queries.forEach(ib, [&](ImplicitLocOpBuilder &b, const QueryWalk::Query &q) {
    memref::StoreOp::create(b, negInfS, mBuf, ValueRange{q.slot});
    vector::StoreOp::create(b, zeros, lBuf, ValueRange{q.slot, c0});
    auto [row, o0] = outAt(b, q);
    for (int64_t c = 0; c < vd; c += vl)
      vector::StoreOp::create(b, zeros, oBuf, ValueRange{row, col(b, o0, c)});
  });

  Value n1 = w.span.n1, a2 = w.span.a2;
  Value lanes = laneIndices(ib);
  Value negInf = arith::ConstantOp::create(
      ib, vt,
      DenseElementsAttr::get(
          vt, ib.getF32FloatAttr(-std::numeric_limits<float>::infinity())));

  // The block's K and V rows of the item's KV heads: whole cache rows when
  // the item has every KV head.
  // The block's K and V rows of the walk's KV heads: whole cache rows when
  // it has every KV head.
  Value kPack =
      memref::AllocOp::create(ib, MemRefType::get({vl, w.ng * qd}, f32));
  Value vPack =
      memref::AllocOp::create(ib, MemRefType::get({vl, w.ng * vd}, f32));
  Value kCol0 = arith::MulIOp::create(ib, w.g0, indexConst(ib, qd));
  Value vCol0 = arith::MulIOp::create(ib, w.g0, indexConst(ib, vd));
  // The block's weights p and output corrections of each query of the
  // current KV head, for the grouped p . V.
  int64_t perHead = rowBlock * rep;
  Value pBuf = memref::AllocOp::create(ib, MemRefType::get({perHead, vl}, f32));
  Value cBuf = memref::AllocOp::create(ib, MemRefType::get({perHead}, f32));

  scf::ForOp::create(
      ib, w.kLo, w.kHi, indexConst(ib, vl), ValueRange{},
      [&](OpBuilder &fb, Location lc, Value v0, ValueRange) {
        ImplicitLocOpBuilder kb(lc, fb);
        packKeyBlock(kb, w.span, v0, kCol0, vCol0, w.ng, kPack, vPack,
                     w.prefetchNext);
        // Key positions and liveness of the lanes, as i32 vectors.
        Value vv = arith::AddIOp::create(kb, splat(kb, v0), lanes);
        Value inFirst = arith::CmpIOp::create(kb, arith::CmpIPredicate::slt, vv,
                                              splat(kb, n1));
        Value jv = arith::SelectOp::create(
            kb, inFirst, vv,
            arith::SubIOp::create(kb,
                                  arith::AddIOp::create(kb, splat(kb, a2), vv),
                                  splat(kb, n1)));
        Value inRange = arith::CmpIOp::create(kb, arith::CmpIPredicate::slt, vv,
                                              splat(kb, w.kHi));
        queries.forEachHead(kb, [&](ImplicitLocOpBuilder &hb, Value gl) {
          queries.forEachOf(
              hb, gl,
              [&](ImplicitLocOpBuilder &qb, const QueryWalk::Query &qy) {
                Value i = arith::AddIOp::create(qb, qpos, qy.t);
                Value lo = windowStart(qb, i);
                auto cmp = [&](arith::CmpIPredicate p, Value a, Value b) {
                  return arith::CmpIOp::create(qb, p, a, b);
                };
                Value sees = arith::OrIOp::create(
                    qb,
                    cmp(arith::CmpIPredicate::slt, jv,
                        splat(qb, metaEnd(qb, lo))),
                    arith::AndIOp::create(
                        qb, cmp(arith::CmpIPredicate::sge, jv, splat(qb, lo)),
                        cmp(arith::CmpIPredicate::sle, jv, splat(qb, i))));
                Value live = arith::AndIOp::create(qb, sees, inRange);
                // Scores of the vl keys: vl dot products folded into one
                // vector.
                SmallVector<Value> qv = rowVectors(
                    qb, q, qy.t,
                    arith::MulIOp::create(qb, qy.h, indexConst(qb, qd)), qd);
                Value kOff =
                    arith::MulIOp::create(qb, qy.gl, indexConst(qb, qd));
                SmallVector<Value> dots;
                for (int64_t l = 0; l < vl; ++l) {
                  SmallVector<Value> kv =
                      rowVectors(qb, kPack, indexConst(qb, l), kOff, qd);
                  Value dot = arith::MulFOp::create(qb, qv[0], kv[0]);
                  for (size_t c = 1; c < qv.size(); ++c)
                    dot = vector::FMAOp::create(qb, qv[c], kv[c], dot);
                  dots.push_back(dot);
                }
                Value s = arith::MulFOp::create(qb, transposeReduce(qb, dots),
                                                splat(qb, f32Const(qb, scale)));
                s = arith::SelectOp::create(qb, live, s, negInf);
                // Online softmax step for the block. The max is taken as if no
                // score were NaN (`nnan`: a tree of vmaxps, not a chain of NaN
                // checks): a score is NaN only where q or k is, and then the
                // weights p = exp(s - m) and the output are NaN whatever m is.
                // A query that has seen no key yet keeps m = -inf; subtracting
                // 0 instead keeps its corrections and weights 0 (not exp(nan)).
                auto noNaN = arith::FastMathFlags::nnan;
                Value m = memref::LoadOp::create(qb, mBuf, ValueRange{qy.slot});
                Value mNew = arith::MaxNumFOp::create(
                    qb, m,
                    vector::ReductionOp::create(
                        qb, vector::CombiningKind::MAXNUMF, s, noNaN),
                    noNaN);
                Value mRef, corr;
                std::tie(mRef, corr) = softmaxReference(qb, m, mNew);
                Value p = math::ExpOp::create(
                    qb, arith::SubFOp::create(qb, s, splat(qb, mRef)));
                Value corrV = splat(qb, corr);
                Value lOld = vector::LoadOp::create(qb, vt, lBuf,
                                                    ValueRange{qy.slot, c0});
                vector::StoreOp::create(
                    qb, vector::FMAOp::create(qb, lOld, corrV, p), lBuf,
                    ValueRange{qy.slot, c0});
                memref::StoreOp::create(qb, mNew, mBuf, ValueRange{qy.slot});
                vector::StoreOp::create(qb, p, pBuf, ValueRange{qy.qi, c0});
                memref::StoreOp::create(qb, corr, cBuf, ValueRange{qy.qi});
              });
          groupedPV(hb, queries, gl, pBuf, cBuf, vPack, oBuf, outAt);
        });
        scf::YieldOp::create(kb);
      });
  return {mBuf, lBuf};
}

AttentionLowering::QueryWalk::QueryWalk(const AttentionLowering &att,
                                        const KeyWalk &w)
    : att(att), w(w) {}

AttentionLowering::QueryWalk::Query
AttentionLowering::QueryWalk::at(ImplicitLocOpBuilder &b, Value slot) const {
  Value perHead = arith::MulIOp::create(b, w.nr, indexConst(b, att.rep));
  return ofHead(b, arith::DivUIOp::create(b, slot, perHead),
                arith::RemUIOp::create(b, slot, perHead));
}

void AttentionLowering::QueryWalk::forEachHead(
    ImplicitLocOpBuilder &b,
    function_ref<void(ImplicitLocOpBuilder &, Value)> fn) const {
  forRangeOrOnce(b, w.ng, fn);
}

AttentionLowering::QueryWalk::Query
AttentionLowering::QueryWalk::ofHead(ImplicitLocOpBuilder &b, Value gl,
                                     Value qi) const {
  // Query qi of local KV head gl is row t0 + qi / rep, head g * rep + qi %
  // rep, slot gl * nr * rep + qi.
  Value cRep = indexConst(b, att.rep);
  Value g = arith::AddIOp::create(b, w.g0, gl);
  Value slot = qi;
  if (w.ng != 1)
    slot = arith::AddIOp::create(
        b, arith::MulIOp::create(b, gl, arith::MulIOp::create(b, w.nr, cRep)),
        qi);
  return Query{
      slot, gl, qi,
      arith::AddIOp::create(b, w.t0, arith::DivUIOp::create(b, qi, cRep)),
      arith::AddIOp::create(b, arith::MulIOp::create(b, g, cRep),
                            arith::RemUIOp::create(b, qi, cRep))};
}

void AttentionLowering::QueryWalk::forEachOf(
    ImplicitLocOpBuilder &b, Value gl,
    function_ref<void(ImplicitLocOpBuilder &, const Query &)> fn) const {
  Value perHead = arith::MulIOp::create(b, w.nr, indexConst(b, att.rep));
  scf::ForOp::create(b, indexConst(b, 0), perHead, indexConst(b, 1),
                     ValueRange{},
                     [&](OpBuilder &fb, Location l, Value qi, ValueRange) {
                       ImplicitLocOpBuilder qb(l, fb);
                       fn(qb, ofHead(qb, gl, qi));
                       scf::YieldOp::create(qb);
                     });
}

void AttentionLowering::QueryWalk::forEach(
    ImplicitLocOpBuilder &b,
    function_ref<void(ImplicitLocOpBuilder &, const Query &)> fn) const {
  forEachHead(
      b, [&](ImplicitLocOpBuilder &gb, Value gl) { forEachOf(gb, gl, fn); });
}

void AttentionLowering::emitBlockItem(ImplicitLocOpBuilder &ib, Value t0,
                                      Value g) const {
  Type f32 = ib.getF32Type();
  auto vt = VectorType::get({vl}, f32);
  Value c0 = indexConst(ib, 0);
  Value nr = arith::MinUIOp::create(ib, indexConst(ib, rowBlock),
                                    arith::SubIOp::create(ib, rows, t0));
  KeySpan span = keySpan(ib, t0, nr);
  KeyWalk w{t0, nr, g, 1, span, c0, span.n, /*prefetchNext=*/true};
  // The output rows are the accumulators.
  auto outAt = [&](ImplicitLocOpBuilder &b, const QueryWalk::Query &q) {
    return std::make_pair(
        q.t, arith::MulIOp::create(b, q.h, indexConst(b, vd)).getResult());
  };
  Value lBuf = walkKeys(ib, w, out, outAt).second;
  QueryWalk(*this, w).forEach(
      ib, [&](ImplicitLocOpBuilder &b, const QueryWalk::Query &qy) {
        Value sum = vector::ReductionOp::create(
            b, vector::CombiningKind::ADD,
            vector::LoadOp::create(b, vt, lBuf, ValueRange{qy.slot, c0}),
            arith::FastMathFlags::reassoc);
        Value inv = vector::BroadcastOp::create(
            b, vt, arith::DivFOp::create(b, f32Const(b, 1.0), sum));
        Value o0 = arith::MulIOp::create(b, qy.h, indexConst(b, vd));
        for (int64_t c = 0; c < vd; c += vl) {
          Value idx[] = {qy.t, arith::AddIOp::create(b, o0, indexConst(b, c))};
          vector::StoreOp::create(
              b,
              arith::MulFOp::create(b, vector::LoadOp::create(b, vt, out, idx),
                                    inv),
              out, idx);
        }
      });
}

void AttentionLowering::emitSplitItem(ImplicitLocOpBuilder &ib,
                                      Value split) const {
  Type f32 = ib.getF32Type();
  auto vt = VectorType::get({vl}, f32);
  Value c0 = indexConst(ib, 0);
  Value kLo = arith::MulIOp::create(ib, split, indexConst(ib, keysPerSplit));
  Value kHi = arith::MinUIOp::create(
      ib, arith::AddIOp::create(ib, kLo, indexConst(ib, keysPerSplit)),
      chunkSpan.n);
  // Whole cache rows, read in order, the next block's prefetched into L2
  // (packKeyBlock).
  KeyWalk w{c0,
            rows,
            c0,
            kvHeads,
            chunkSpan,
            kLo,
            kHi,
            /*prefetchNext=*/true};
  Value first = arith::MulIOp::create(ib, split, splitQueries);
  auto outAt = [&](ImplicitLocOpBuilder &b, const QueryWalk::Query &q) {
    return std::make_pair(arith::AddIOp::create(b, first, q.slot).getResult(),
                          c0);
  };
  Value mBuf, lBuf;
  std::tie(mBuf, lBuf) = walkKeys(ib, w, partO, outAt);
  QueryWalk(*this, w).forEach(
      ib, [&](ImplicitLocOpBuilder &b, const QueryWalk::Query &qy) {
        Value at = arith::AddIOp::create(b, first, qy.slot);
        memref::StoreOp::create(
            b, memref::LoadOp::create(b, mBuf, ValueRange{qy.slot}), partM,
            ValueRange{at});
        memref::StoreOp::create(
            b,
            vector::ReductionOp::create(
                b, vector::CombiningKind::ADD,
                vector::LoadOp::create(b, vt, lBuf, ValueRange{qy.slot, c0}),
                arith::FastMathFlags::reassoc),
            partL, ValueRange{at});
      });
}

void AttentionLowering::emitSplitCombine(ImplicitLocOpBuilder &b) const {
  if (vl == 0)
    return;
  Type f32 = b.getF32Type();
  auto vt = VectorType::get({vl}, f32);
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  // One item per query of the chunk (none when it was not split): its
  // partial results weighted by exp(m_s - M), M the largest running max. A
  // parallel loop, not a serial one after the items: with --target=cuda
  // --kernel-form=cpu every loop that touches model buffers is a kernel.
  Value queries = arith::SelectOp::create(b, splitChunk, splitQueries, c0);
  KeyWalk w{c0, rows, c0, kvHeads, chunkSpan, c0, c0, false};
  QueryWalk walk(*this, w);
  scf::ParallelOp::create(
      b, ValueRange{c0}, ValueRange{queries}, ValueRange{c1},
      [&](OpBuilder &nb, Location l, ValueRange iv) {
        ImplicitLocOpBuilder qb(l, nb);
        QueryWalk::Query qy = walk.at(qb, iv[0]);
        auto atSplit = [&](ImplicitLocOpBuilder &sb, Value s) -> Value {
          return arith::AddIOp::create(
              sb, arith::MulIOp::create(sb, s, splitQueries), qy.slot);
        };
        auto noNaN = arith::FastMathFlags::nnan;
        Value mMax =
            scf::ForOp::create(
                qb, c0, splits, c1,
                ValueRange{
                    f32Const(qb, -std::numeric_limits<float>::infinity())},
                [&](OpBuilder &fb, Location ll, Value s, ValueRange acc) {
                  ImplicitLocOpBuilder sb(ll, fb);
                  Value m = memref::LoadOp::create(sb, partM,
                                                   ValueRange{atSplit(sb, s)});
                  scf::YieldOp::create(sb, ValueRange{arith::MaxNumFOp::create(
                                               sb, acc[0], m, noNaN)});
                })
                .getResult(0);
        Value mRef = softmaxReference(qb, mMax, mMax).first;
        SmallVector<Value> init(
            1 + vd / vl,
            arith::ConstantOp::create(
                qb, vt, DenseElementsAttr::get(vt, qb.getF32FloatAttr(0.0f))));
        init[0] = f32Const(qb, 0.0);
        auto sums = scf::ForOp::create(
            qb, c0, splits, c1, init,
            [&](OpBuilder &fb, Location ll, Value s, ValueRange acc) {
              ImplicitLocOpBuilder sb(ll, fb);
              Value at = atSplit(sb, s);
              Value wgt = math::ExpOp::create(
                  sb, arith::SubFOp::create(
                          sb, memref::LoadOp::create(sb, partM, ValueRange{at}),
                          mRef));
              SmallVector<Value> next = {arith::AddFOp::create(
                  sb, acc[0],
                  arith::MulFOp::create(
                      sb, memref::LoadOp::create(sb, partL, ValueRange{at}),
                      wgt))};
              Value wv = vector::BroadcastOp::create(sb, vt, wgt);
              for (int64_t c = 0; c < vd; c += vl)
                next.push_back(vector::FMAOp::create(
                    sb, wv,
                    vector::LoadOp::create(sb, vt, partO,
                                           ValueRange{at, indexConst(sb, c)}),
                    acc[1 + c / vl]));
              scf::YieldOp::create(sb, next);
            });
        Value inv = vector::BroadcastOp::create(
            qb, vt,
            arith::DivFOp::create(qb, f32Const(qb, 1.0), sums.getResult(0)));
        Value o0 = arith::MulIOp::create(qb, qy.h, indexConst(qb, vd));
        for (int64_t c = 0; c < vd; c += vl)
          vector::StoreOp::create(
              qb, arith::MulFOp::create(qb, sums.getResult(1 + c / vl), inv),
              out,
              ValueRange{qy.t,
                         arith::AddIOp::create(qb, o0, indexConst(qb, c))});
        scf::ReduceOp::create(qb);
      });
}

Value AttentionLowering::useQueryLanes(ImplicitLocOpBuilder &b) const {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::uge, rows,
                               indexConst(b, vl));
}

Value AttentionLowering::itemCount(ImplicitLocOpBuilder &b) const {
  if (vl == 0)
    return arith::MulIOp::create(b, rows, indexConst(b, heads));
  Value blocks = arith::CeilDivUIOp::create(b, rows, indexConst(b, rowBlock));
  Value laneBlocks = arith::CeilDivUIOp::create(b, rows, indexConst(b, vl));
  return arith::SelectOp::create(
      b, useQueryLanes(b),
      arith::MulIOp::create(b, laneBlocks, indexConst(b, kvHeads)),
      arith::SelectOp::create(
          b, splitChunk, splits,
          arith::MulIOp::create(b, blocks, indexConst(b, kvHeads))));
}

void AttentionLowering::emitItemAt(ImplicitLocOpBuilder &ib, Value item) const {
  if (vl == 0) {
    Value cH = indexConst(ib, heads);
    return emitItem(ib, arith::DivUIOp::create(ib, item, cH),
                    arith::RemUIOp::create(ib, item, cH));
  }
  // Consecutive items are consecutive row blocks of one (KV) head, so a
  // thread's next item finds most of its keys in cache.
  auto blockOf = [&](ImplicitLocOpBuilder &b, int64_t rowsPerItem,
                     function_ref<void(Value, Value)> emit) {
    Value per = indexConst(b, rowsPerItem);
    Value blocks = arith::CeilDivUIOp::create(b, rows, per);
    emit(arith::MulIOp::create(b, arith::RemUIOp::create(b, item, blocks), per),
         arith::DivUIOp::create(b, item, blocks));
  };
  auto branch = [](ImplicitLocOpBuilder &b, Value cond,
                   function_ref<void(ImplicitLocOpBuilder &)> then,
                   function_ref<void(ImplicitLocOpBuilder &)> otherwise) {
    scf::IfOp::create(
        b, cond,
        [&](OpBuilder &tb, Location l) {
          ImplicitLocOpBuilder eb(l, tb);
          then(eb);
          scf::YieldOp::create(eb);
        },
        [&](OpBuilder &tb, Location l) {
          ImplicitLocOpBuilder eb(l, tb);
          otherwise(eb);
          scf::YieldOp::create(eb);
        });
  };
  branch(
      ib, useQueryLanes(ib),
      [&](ImplicitLocOpBuilder &b) {
        blockOf(b, vl, [&](Value t0, Value g) { emitQueryLaneItem(b, t0, g); });
      },
      [&](ImplicitLocOpBuilder &b) {
        branch(
            b, splitChunk,
            [&](ImplicitLocOpBuilder &sb) { emitSplitItem(sb, item); },
            [&](ImplicitLocOpBuilder &sb) {
              blockOf(sb, rowBlock,
                      [&](Value t0, Value g) { emitBlockItem(sb, t0, g); });
            });
      });
}

void AttentionLowering::emitItem(ImplicitLocOpBuilder &ib, Value t,
                                 Value h) const {
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

void hymba::buildAttentionLoops(ImplicitLocOpBuilder &b, AttentionOp op,
                                KernelForm form, int64_t vectorWidth) {
  bool gpuForm = form == KernelForm::GPU;
  AttentionLowering att(b, op, gpuForm ? 0 : vectorWidth);
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  // Vectorized CPU form: flash-style items; else (row, head) items (GPU:
  // and value columns).
  bool blocks = !gpuForm && att.vl > 0;
  SmallVector<Value> lb = {c0}, ub = {att.itemCount(b)}, step = {c1};
  if (!blocks) {
    lb = {c0, c0};
    ub = {att.rows, indexConst(b, att.heads)};
    step = {c1, c1};
  }
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
                            else if (blocks)
                              att.emitItemAt(ib, iv[0]);
                            else
                              att.emitItem(ib, iv[0], iv[1]);
                            scf::ReduceOp::create(ib);
                          });
  att.emitSplitCombine(b);
}

namespace {
struct LowerAttention : OpRewritePattern<AttentionOp> {
  LowerAttention(MLIRContext *ctx, KernelForm form, int64_t vectorWidth)
      : OpRewritePattern(ctx), form(form), vectorWidth(vectorWidth) {}
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    buildAttentionLoops(b, op, form, vectorWidth);
    rewriter.eraseOp(op);
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
