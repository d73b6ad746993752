//===- LowerStatefulToLoops.cpp - State-carrying Hymba ops to loops -------===//
//
// Attention, the KV-cache append, the causal conv and the selective scan read
// and update explicit state buffers, so they are lowered to scf loops over
// memrefs: tensor operands are taken as read-only buffers, results are fresh
// buffers handed back as tensors (bufferization.to_tensor restrict). The
// outer loops are scf.parallel over independent rows/heads/channels, ready
// for multi-threading.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "hymba/Dialect/HymbaOps.h"
#include "hymba/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBALOWERSTATEFULTOLOOPS
#include "hymba/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;
using namespace mlir::hymba;

namespace {
Value cIdx(ImplicitLocOpBuilder &b, int64_t v) { return indexConst(b, v); }

Value load(ImplicitLocOpBuilder &b, Value mem, ValueRange idx) {
  return loadF32(b, mem, idx);
}

/// The scan's delta: softplus with the kernel's threshold (identity above
/// 20, where log1p(exp(x)) equals x in f32 anyway but would overflow exp).
Value buildSoftplus(ImplicitLocOpBuilder &b, Value x) {
  Value soft = math::Log1pOp::create(b, math::ExpOp::create(b, x));
  Value big =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, f32Const(b, 20.0));
  return arith::SelectOp::create(b, big, x, soft);
}

/// Ring-buffer row of absolute position `p` for a cache with `window` > 0:
/// meta rows stay put, later positions cycle through `window` rows.
Value cacheRow(ImplicitLocOpBuilder &b, Value p, int64_t window,
               int64_t numMeta) {
  if (window == 0)
    return p;
  Value m = cIdx(b, numMeta);
  Value isMeta = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, p, m);
  Value ring = arith::AddIOp::create(
      b, m,
      arith::RemUIOp::create(b, arith::SubIOp::create(b, p, m),
                             cIdx(b, window)));
  return arith::SelectOp::create(b, isMeta, p, ring);
}

/// Rows before `boundary` live in stored state, later ones in this chunk:
/// one scf.if yielding `fromChunk(p - boundary)` when p >= boundary and
/// `fromState()` otherwise (the KV cache for attention keys, the conv
/// window for the conv's left extension).
using RowRead = function_ref<SmallVector<Value>(ImplicitLocOpBuilder &)>;
using ChunkRowRead =
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value)>;
ValueRange chunkOrState(ImplicitLocOpBuilder &b, Value p, Value boundary,
                        ChunkRowRead fromChunk, RowRead fromState) {
  Value inChunk =
      arith::CmpIOp::create(b, arith::CmpIPredicate::uge, p, boundary);
  return scf::IfOp::create(
             b, inChunk,
             [&](OpBuilder &tb, Location l) {
               ImplicitLocOpBuilder eb(l, tb);
               scf::YieldOp::create(
                   eb, fromChunk(eb, arith::SubIOp::create(eb, p, boundary)));
             },
             [&](OpBuilder &tb, Location l) {
               ImplicitLocOpBuilder eb(l, tb);
               scf::YieldOp::create(eb, fromState(eb));
             })
      ->getResults();
}

struct LowerStateBuffer : OpRewritePattern<StateBufferOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(StateBufferOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getOffset())
      return rewriter.notifyMatchFailure(op, "no offset assigned");
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    rewriter.replaceOp(op, viewAt(b, op.getState(), *op.getOffset(),
                                  op.getResult().getType()));
    return success();
  }
};

/// Lowers one hymba.attention: its operands as buffers, a fresh output, and
/// the code for one work item. Every item makes one pass over the visible
/// keys with an online softmax (running max m, running sum l). Keys at
/// positions >= `position` come from this chunk, earlier ones from the
/// cache. The CPU form's item is a (row, head) pair accumulating the output
/// row in memory; the GPU form's item is one output element (row, head,
/// value column) whose accumulator is a register, so a decode step has
/// heads * v_head_dim threads instead of heads.
struct AttentionLowering {
  int64_t heads, kvHeads, window, numMeta, qd, vd, rep;
  float scale;
  /// CPU form: f32 lanes of the vectors a head's q, k, v rows and output
  /// accumulator are read in (0: one element at a time).
  int64_t vl = 0;
  Value q, k, v, kc, vc, pos, rows, out, outTensor;

  AttentionLowering(ImplicitLocOpBuilder &b, AttentionOp op,
                    int64_t vectorWidth = 0)
      : heads(op.getNumHeads()), kvHeads(op.getNumKvHeads()),
        window(op.getWindow()), numMeta(op.getNumMeta()),
        qd(op.getQuery().getType().getDimSize(1) / heads),
        vd(op.getValue().getType().getDimSize(1) / kvHeads),
        rep(heads / kvHeads), scale(op.getScale().convertToFloat()),
        // Row-contiguous layouts: the CPU form reads rows as vectors.
        q(toReadOnlyBuffer(b, op.getQuery(), /*contiguousRows=*/true)),
        k(toReadOnlyBuffer(b, op.getKey(), /*contiguousRows=*/true)),
        v(toReadOnlyBuffer(b, op.getValue(), /*contiguousRows=*/true)),
        kc(op.getKCache()),
        vc(op.getVCache()), pos(op.getPosition()), rows(rowCount(b, q)) {
    std::tie(out, outTensor) = allocRows(b, rows, heads * vd);
    // The widest power of two up to vectorWidth that splits both head dims.
    for (int64_t w = vectorWidth; w >= 4 && !vl; w /= 2)
      if (qd % w == 0 && vd % w == 0)
        vl = w;
  }


  /// Absolute position and first columns of row `t`, head `h`.
  struct Item {
    Value t, i, qCol0, kCol0, vCol0, oCol0;
  };
  Item itemAt(ImplicitLocOpBuilder &ib, Value t, Value h) const {
    Value kvh = arith::DivUIOp::create(ib, h, cIdx(ib, rep));
    return {t,
            arith::AddIOp::create(ib, pos, t),
            arith::MulIOp::create(ib, h, cIdx(ib, qd)),
            arith::MulIOp::create(ib, kvh, cIdx(ib, qd)),
            arith::MulIOp::create(ib, kvh, cIdx(ib, vd)),
            arith::MulIOp::create(ib, h, cIdx(ib, vd))};
  }

  /// Runs `body(j, carried)` for every key position j the query at absolute
  /// position i sees: the meta prefix [0, min(M, lo)) then the window
  /// [lo, i] with lo = max(i - W, 0). Returns the final carried values.
  using KeyBody = function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value,
                                                  ValueRange)>;
  SmallVector<Value> forEachVisibleKey(ImplicitLocOpBuilder &ib, Value i,
                                       ValueRange init, KeyBody body) const {
    Value c0 = cIdx(ib, 0), c1 = cIdx(ib, 1);
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
      Value w = cIdx(ib, window);
      Value far = arith::CmpIOp::create(ib, arith::CmpIPredicate::uge, i, w);
      lo =
          arith::SelectOp::create(ib, far, arith::SubIOp::create(ib, i, w), c0);
    }
    Value metaEnd = arith::MinUIOp::create(ib, cIdx(ib, numMeta), lo);
    SmallVector<Value> afterMeta = keyLoop(c0, metaEnd, init);
    return keyLoop(lo, arith::AddIOp::create(ib, i, c1), afterMeta);
  }

  /// `read(buffer, row)` on the row that holds key j: the chunk's key/value
  /// buffer or the cache (ring row), as one scf.if.
  using RowReader =
      function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value, Value)>;
  ValueRange atKey(ImplicitLocOpBuilder &kb, Value j, Value chunkBuf,
                   Value cacheBuf, RowReader read) const {
    return chunkOrState(
        kb, j, pos,
        [&](ImplicitLocOpBuilder &eb, Value row) {
          return read(eb, chunkBuf, row);
        },
        [&](ImplicitLocOpBuilder &eb) {
          return read(eb, cacheBuf, cacheRow(eb, j, window, numMeta));
        });
  }

  /// scale * (q_row . k_j) for the item's head.
  Value score(ImplicitLocOpBuilder &kb, const Item &it, Value j) const {
    // Independent partial sums: a single accumulator makes the dot product
    // one chain of dependent adds, which is what bounds a GPU thread that
    // walks all keys.
    int64_t parts = qd % 8 == 0 ? 8 : qd % 4 == 0 ? 4 : qd % 2 == 0 ? 2 : 1;
    Value dot = atKey(
        kb, j, k, kc, [&](ImplicitLocOpBuilder &db, Value buf, Value row) {
          SmallVector<Value> zeros(parts, f32Const(db, 0.0));
          auto loop = scf::ForOp::create(
              db, cIdx(db, 0), cIdx(db, qd), cIdx(db, parts), zeros,
              [&](OpBuilder &fb, Location lc, Value d0, ValueRange acc) {
                ImplicitLocOpBuilder eb(lc, fb);
                SmallVector<Value> next;
                for (int64_t p = 0; p < parts; ++p) {
                  Value d = arith::AddIOp::create(eb, d0, cIdx(eb, p));
                  Value qv = load(
                      eb, q, {it.t, arith::AddIOp::create(eb, it.qCol0, d)});
                  Value kv = load(
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

  /// The online-softmax step for score s: (m', correction, p, l').
  struct SoftmaxStep {
    Value m, corr, p, l;
  };
  SoftmaxStep softmaxStep(ImplicitLocOpBuilder &kb, Value s, Value m,
                          Value l) const {
    Value mNew = arith::MaximumFOp::create(kb, m, s);
    Value corr = math::ExpOp::create(kb, arith::SubFOp::create(kb, m, mNew));
    Value p = math::ExpOp::create(kb, arith::SubFOp::create(kb, s, mNew));
    Value lNew =
        arith::AddFOp::create(kb, arith::MulFOp::create(kb, l, corr), p);
    return {mNew, corr, p, lNew};
  }

  /// CPU form, vectorized: output row `t`, head `h`. The head's q row is
  /// read as qd / vl vectors; per key the score is a vector FMA chain and one
  /// reduction, and the output row is carried through the key loop as vd /
  /// vl vector accumulators (rescaled by the softmax correction), stored
  /// once at the end.
  void emitItemVectors(ImplicitLocOpBuilder &ib, Value t, Value h) const {
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
            ValueRange{row, arith::AddIOp::create(rb, col0, cIdx(rb, c))}));
      return vecs;
    };
    SmallVector<Value> init = {
        f32Const(ib, -std::numeric_limits<float>::infinity()),
        f32Const(ib, 0.0)};
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
          Value dot = vector::ReductionOp::create(
              kb, vector::CombiningKind::ADD, dotv,
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
          ValueRange{t, arith::AddIOp::create(ib, it.oCol0, cIdx(ib, c))});
  }

  /// CPU form: output row `t`, head `h`, accumulated in `out`.
  void emitItem(ImplicitLocOpBuilder &ib, Value t, Value h) const {
    if (vl > 0)
      return emitItemVectors(ib, t, h);
    Value c0 = cIdx(ib, 0), c1 = cIdx(ib, 1), zero = f32Const(ib, 0.0);
    Item it = itemAt(ib, t, h);
    auto overHeadDim =
        [&](ImplicitLocOpBuilder &lb,
            function_ref<void(ImplicitLocOpBuilder &, Value)> fn) {
          scf::ForOp::create(
              lb, c0, cIdx(lb, vd), c1, ValueRange{},
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
              kb, j, v, vc,
              [&](ImplicitLocOpBuilder &ab, Value buf, Value row) {
                overHeadDim(ab, [&](ImplicitLocOpBuilder &eb, Value d) {
                  Value oc = outCol(eb, d);
                  Value o = memref::LoadOp::create(eb, out, ValueRange{t, oc});
                  Value vv = load(
                      eb, buf, {row, arith::AddIOp::create(eb, it.vCol0, d)});
                  memref::StoreOp::create(
                      eb,
                      arith::AddFOp::create(
                          eb, arith::MulFOp::create(eb, o, sm.corr),
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

  /// GPU form: output element (row `t`, head `h`, value column `d`), its
  /// accumulator carried in a register through the key loop.
  void emitLane(ImplicitLocOpBuilder &ib, Value t, Value h, Value d) const {
    Value zero = f32Const(ib, 0.0);
    Item it = itemAt(ib, t, h);
    Value vcol = arith::AddIOp::create(ib, it.vCol0, d);
    Value negInf = f32Const(ib, -std::numeric_limits<float>::infinity());
    SmallVector<Value> last = forEachVisibleKey(
        ib, it.i, ValueRange{negInf, zero, zero},
        [&](ImplicitLocOpBuilder &kb, Value j, ValueRange st) {
          SoftmaxStep sm = softmaxStep(kb, score(kb, it, j), st[0], st[1]);
          Value vv =
              atKey(kb, j, v, vc,
                    [&](ImplicitLocOpBuilder &eb, Value buf, Value row) {
                      return SmallVector<Value>{load(eb, buf, {row, vcol})};
                    })[0];
          Value o = arith::AddFOp::create(
              kb, arith::MulFOp::create(kb, st[2], sm.corr),
              arith::MulFOp::create(kb, sm.p, vv));
          return SmallVector<Value>{sm.m, sm.l, o};
        });
    Value inv = arith::DivFOp::create(ib, f32Const(ib, 1.0), last[1]);
    memref::StoreOp::create(
        ib, arith::MulFOp::create(ib, last[2], inv), out,
        ValueRange{t, arith::AddIOp::create(ib, it.oCol0, d)});
  }

  /// Items of the GPU form: rows * heads * vd.
  Value laneCount(ImplicitLocOpBuilder &b) const {
    return arith::MulIOp::create(b, rows, cIdx(b, heads * vd));
  }
  /// Lane number -> (t, h, d), d fastest.
  void emitLaneAt(ImplicitLocOpBuilder &ib, Value lane) const {
    Value cVd = cIdx(ib, vd), cH = cIdx(ib, heads);
    Value d = arith::RemUIOp::create(ib, lane, cVd);
    Value th = arith::DivUIOp::create(ib, lane, cVd);
    emitLane(ib, arith::DivUIOp::create(ib, th, cH),
             arith::RemUIOp::create(ib, th, cH), d);
  }
};

/// CPU form: scf.parallel over (row, head). GPU form: scf.parallel over
/// (row, head, value column).
struct LowerAttention : OpRewritePattern<AttentionOp> {
  LowerAttention(MLIRContext *ctx, bool gpuForm, int64_t vectorWidth)
      : OpRewritePattern(ctx), gpuForm(gpuForm), vectorWidth(vectorWidth) {}
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    AttentionLowering att(b, op, gpuForm ? 0 : vectorWidth);
    Value c0 = cIdx(b, 0), c1 = cIdx(b, 1);
    SmallVector<Value> lb = {c0, c0}, ub = {att.rows, cIdx(b, att.heads)},
                       step = {c1, c1};
    if (gpuForm) {
      lb.push_back(c0);
      ub.push_back(cIdx(b, att.vd));
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
    rewriter.replaceOp(op, att.outTensor);
    return success();
  }
  bool gpuForm;
  int64_t vectorWidth;
};

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
    Value k = toReadOnlyBuffer(b, op.getKey());
    Value v = toReadOnlyBuffer(b, op.getValue());
    Value kc = op.getKCache(), vc = op.getVCache();
    int64_t kw = op.getKCache().getType().getDimSize(1);
    int64_t vw = op.getVCache().getType().getDimSize(1);
    int64_t capacity = op.getKCache().getType().getDimSize(0);
    Value rows = rowCount(b, k);
    Value pos = op.getPosition();
    Value c0 = cIdx(b, 0), c1 = cIdx(b, 1);
    scf::ParallelOp::create(
        b, ValueRange{c0, c0}, ValueRange{rows, cIdx(b, kw + vw)},
        ValueRange{c1, c1}, [&](OpBuilder &pb, Location loc, ValueRange iv) {
          ImplicitLocOpBuilder ib(loc, pb);
          Value r = iv[0], col = iv[1];
          Value p = arith::AddIOp::create(ib, pos, r);
          Value keep;
          if (window > 0) {
            // Meta rows always; otherwise only the last `window` rows.
            Value isMeta = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult,
                                                 p, cIdx(ib, numMeta));
            Value recent = arith::CmpIOp::create(
                ib, arith::CmpIPredicate::uge,
                arith::AddIOp::create(ib, r, cIdx(ib, window)), rows);
            keep = arith::OrIOp::create(ib, isMeta, recent);
          } else {
            // Never write past the cache (the runtime rejects such positions
            // before running; this keeps memory safe regardless).
            keep = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, p,
                                         cIdx(ib, capacity));
          }
          scf::IfOp::create(ib, keep, [&](OpBuilder &tb, Location lc) {
            ImplicitLocOpBuilder eb(lc, tb);
            Value slot = cacheRow(eb, p, window, numMeta);
            Value isKey = arith::CmpIOp::create(eb, arith::CmpIPredicate::ult,
                                                col, cIdx(eb, kw));
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
                copy(v, vc, arith::SubIOp::create(eb, col, cIdx(eb, kw))));
            scf::YieldOp::create(eb);
          });
          scf::ReduceOp::create(ib);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

/// Depthwise causal conv over the chunk extended on the left by the stored
/// window: extended row e < K-1 is conv_state[e], else input[e - (K-1)].
struct LowerCausalConv1d : OpRewritePattern<CausalConv1dOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CausalConv1dOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    int64_t channels = op.getInput().getType().getDimSize(1);
    int64_t taps = op.getWeight().getType().getDimSize(2);
    Value x = toReadOnlyBuffer(b, op.getInput());
    Value w = toReadOnlyBuffer(b, op.getWeight());
    Value bias = toReadOnlyBuffer(b, op.getBias());
    Value state = op.getConvState();
    Value rows = rowCount(b, x);
    Value out, outTensor;
    std::tie(out, outTensor) = allocRows(b, rows, channels);
    Value c0 = cIdx(b, 0), c1 = cIdx(b, 1), cC = cIdx(b, channels);
    Value history = cIdx(b, taps - 1);

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
          Value init = load(ib, bias, {c});
          auto loop = scf::ForOp::create(
              ib, c0, cIdx(ib, taps), c1, ValueRange{init},
              [&](OpBuilder &fb, Location l, Value tap, ValueRange acc) {
                ImplicitLocOpBuilder eb(l, fb);
                Value e = arith::AddIOp::create(eb, t, tap);
                Value xv = extended(eb, e, c);
                Value wv = load(eb, w, {c, c0, tap});
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
    rewriter.replaceOp(op, outTensor);
    return success();
  }
};

/// Widest channel count lowered in the vectorizable tile form.
constexpr int64_t kMaxScanTile = 64;

/// A scan operand read per time step ([T, d_state] B or C). With
/// `foldNorm`, an RMS norm producing it is applied as the row is read
/// (gamma set), so the norm needs no kernel of its own.
struct ScanRows {
  Value rows, gamma;
  float eps = 0.0f;
  ScanRows(ImplicitLocOpBuilder &b, Value operand, bool foldNorm) {
    auto norm = operand.getDefiningOp<RMSNormOp>();
    if (!foldNorm || !norm) {
      rows = toReadOnlyBuffer(b, operand);
      return;
    }
    rows = toReadOnlyBuffer(b, norm.getInput());
    gamma = toReadOnlyBuffer(b, norm.getWeight());
    eps = norm.getEpsilon().convertToFloat();
  }
};

/// The scan's operands as buffers (tensors read through to_buffer).
struct ScanBuffers {
  Value u, dt, bias, aLog;
  ScanRows b, c;
  Value d, z, state;
  ScanBuffers(ImplicitLocOpBuilder &builder, SelectiveScanOp op,
              bool foldNorms = false)
      : u(toReadOnlyBuffer(builder, op.getU())),
        dt(toReadOnlyBuffer(builder, op.getDt())),
        bias(toReadOnlyBuffer(builder, op.getDtBias())),
        aLog(toReadOnlyBuffer(builder, op.getALog())),
        b(builder, op.getB(), foldNorms), c(builder, op.getC(), foldNorms),
        d(toReadOnlyBuffer(builder, op.getD())),
        z(toReadOnlyBuffer(builder, op.getZ())), state(op.getSsmState()) {}
};

/// Emits `for i in [0, n): body(i)` with n a constant.
void forRange(ImplicitLocOpBuilder &b, int64_t n,
              function_ref<void(ImplicitLocOpBuilder &, Value)> body) {
  scf::ForOp::create(b, cIdx(b, 0), cIdx(b, n), cIdx(b, 1), ValueRange{},
                     [&](OpBuilder &fb, Location l, Value i, ValueRange) {
                       ImplicitLocOpBuilder ib(l, fb);
                       body(ib, i);
                       scf::YieldOp::create(ib);
                     });
}

/// Per-tile scratch of the scan: state and A transposed ([d_state, tile]),
/// and delta, delta*u and the output accumulator ([tile]).
struct ScanScratch {
  Value h, a, delta, du, y;
};

/// The scan over a small static channel tile (what hymba-tile-selective-scan
/// produces): time outermost, channels innermost over contiguous data. The
/// tile's state and A = -exp(a_log) live transposed ([d_state, tile]) in
/// stack buffers (or `scratch`) for the whole chunk, so every inner loop is
/// a unit-stride loop over channels that LLVM vectorizes. CPU form only: B
/// and C are read as they are (no folded norms).

void lowerScanTile(ImplicitLocOpBuilder &b, const ScanBuffers &in, int64_t tile,
                   int64_t dState, Value out,
                   const ScanScratch *scratch = nullptr) {
  Type f32 = b.getF32Type();
  Value u = in.u, dt = in.dt, bias = in.bias, aLog = in.aLog, bm = in.b.rows,
        cm = in.c.rows, dv = in.d, z = in.z, state = in.state;
  Value h, a, delta, du, y;
  if (scratch) {
    h = scratch->h, a = scratch->a, delta = scratch->delta, du = scratch->du;
    y = scratch->y;
  } else {
    auto matType = MemRefType::get({dState, tile}, f32);
    auto vecType = MemRefType::get({tile}, f32);
    h = memref::AllocaOp::create(b, matType);
    a = memref::AllocaOp::create(b, matType);
    delta = memref::AllocaOp::create(b, vecType);
    du = memref::AllocaOp::create(b, vecType);
    y = memref::AllocaOp::create(b, vecType);
  }
  forRange(b, dState, [&](ImplicitLocOpBuilder &nb, Value n) {
    forRange(nb, tile, [&](ImplicitLocOpBuilder &cb, Value c) {
      memref::StoreOp::create(
          cb, memref::LoadOp::create(cb, state, ValueRange{c, n}), h,
          ValueRange{n, c});
      Value av = arith::NegFOp::create(
          cb, math::ExpOp::create(cb, load(cb, aLog, {c, n})));
      memref::StoreOp::create(cb, av, a, ValueRange{n, c});
    });
  });
  Value rows = rowCount(b, u);
  scf::ForOp::create(
      b, cIdx(b, 0), rows, cIdx(b, 1), ValueRange{},
      [&](OpBuilder &fb, Location l, Value t, ValueRange) {
        ImplicitLocOpBuilder tb(l, fb);
        forRange(tb, tile, [&](ImplicitLocOpBuilder &cb, Value c) {
          Value raw = arith::AddFOp::create(cb, load(cb, dt, {t, c}),
                                            load(cb, bias, {c}));
          Value dl = buildSoftplus(cb, raw);
          Value uv = load(cb, u, {t, c});
          memref::StoreOp::create(cb, dl, delta, ValueRange{c});
          memref::StoreOp::create(cb, arith::MulFOp::create(cb, dl, uv), du,
                                  ValueRange{c});
          memref::StoreOp::create(
              cb, arith::MulFOp::create(cb, load(cb, dv, {c}), uv), y,
              ValueRange{c});
        });
        forRange(tb, dState, [&](ImplicitLocOpBuilder &nb, Value n) {
          Value bn = load(nb, bm, {t, n}), cn = load(nb, cm, {t, n});
          forRange(nb, tile, [&](ImplicitLocOpBuilder &cb, Value c) {
            Value decay = math::ExpOp::create(
                cb, arith::MulFOp::create(
                        cb, memref::LoadOp::create(cb, delta, ValueRange{c}),
                        memref::LoadOp::create(cb, a, ValueRange{n, c})));
            Value hNew = arith::AddFOp::create(
                cb,
                arith::MulFOp::create(
                    cb, decay, memref::LoadOp::create(cb, h, ValueRange{n, c})),
                arith::MulFOp::create(
                    cb, memref::LoadOp::create(cb, du, ValueRange{c}), bn));
            memref::StoreOp::create(cb, hNew, h, ValueRange{n, c});
            Value yv = arith::AddFOp::create(
                cb, memref::LoadOp::create(cb, y, ValueRange{c}),
                arith::MulFOp::create(cb, cn, hNew));
            memref::StoreOp::create(cb, yv, y, ValueRange{c});
          });
        });
        forRange(tb, tile, [&](ImplicitLocOpBuilder &cb, Value c) {
          Value gate = buildSilu(cb, load(cb, z, {t, c}));
          memref::StoreOp::create(
              cb,
              arith::MulFOp::create(
                  cb, memref::LoadOp::create(cb, y, ValueRange{c}), gate),
              out, ValueRange{t, c});
        });
        scf::YieldOp::create(tb);
      });
  forRange(b, dState, [&](ImplicitLocOpBuilder &nb, Value n) {
    forRange(nb, tile, [&](ImplicitLocOpBuilder &cb, Value c) {
      memref::StoreOp::create(cb,
                              memref::LoadOp::create(cb, h, ValueRange{n, c}),
                              state, ValueRange{c, n});
    });
  });
}

/// Row t of B or C in registers, normalised when a norm was folded in.
SmallVector<Value> loadScanRow(ImplicitLocOpBuilder &b, const ScanRows &m,
                               Value t, int64_t dState) {
  SmallVector<Value> row;
  for (int64_t n = 0; n < dState; ++n)
    row.push_back(load(b, m.rows, {t, cIdx(b, n)}));
  if (!m.gamma)
    return row;
  Value sumSq = f32Const(b, 0.0);
  for (Value v : row)
    sumSq = arith::AddFOp::create(b, sumSq, arith::MulFOp::create(b, v, v));
  Value inv = buildInvRMS(b, sumSq, dState, m.eps);
  for (int64_t n = 0; n < dState; ++n)
    row[n] = arith::MulFOp::create(b, arith::MulFOp::create(b, row[n], inv),
                                   load(b, m.gamma, {cIdx(b, n)}));
  return row;
}

/// One channel of the scan with its state in registers: A = -exp(a_log) and
/// the d_state state values are SSA values (the state is loop-carried
/// through the time loop), read from ssm_state before the loop and written
/// back after it. This is the form for one GPU thread per channel, and the
/// fallback for wide untiled scans on the CPU.
void emitScanChannel(ImplicitLocOpBuilder &b, const ScanBuffers &in, Value c,
                     int64_t dState, Value out) {
  Value c0 = cIdx(b, 0), c1 = cIdx(b, 1);
  Value bias = load(b, in.bias, {c});
  Value dSkip = load(b, in.d, {c});
  SmallVector<Value> a, h0;
  for (int64_t n = 0; n < dState; ++n) {
    Value nIdx = cIdx(b, n);
    a.push_back(arith::NegFOp::create(
        b, math::ExpOp::create(b, load(b, in.aLog, {c, nIdx}))));
    h0.push_back(memref::LoadOp::create(b, in.state, ValueRange{c, nIdx}));
  }
  auto timeLoop = scf::ForOp::create(
      b, c0, rowCount(b, in.u), c1, h0,
      [&](OpBuilder &fb, Location l, Value t, ValueRange h) {
        ImplicitLocOpBuilder tb(l, fb);
        Value raw = arith::AddFOp::create(tb, load(tb, in.dt, {t, c}), bias);
        Value delta = buildSoftplus(tb, raw);
        Value uv = load(tb, in.u, {t, c});
        Value du = arith::MulFOp::create(tb, delta, uv);
        SmallVector<Value> bRow = loadScanRow(tb, in.b, t, dState);
        SmallVector<Value> cRow = loadScanRow(tb, in.c, t, dState);
        Value y = f32Const(tb, 0.0);
        SmallVector<Value> hNew;
        for (int64_t n = 0; n < dState; ++n) {
          Value decay =
              math::ExpOp::create(tb, arith::MulFOp::create(tb, delta, a[n]));
          hNew.push_back(
              arith::AddFOp::create(tb, arith::MulFOp::create(tb, decay, h[n]),
                                    arith::MulFOp::create(tb, du, bRow[n])));
          y = arith::AddFOp::create(
              tb, y, arith::MulFOp::create(tb, cRow[n], hNew.back()));
        }
        y = arith::AddFOp::create(tb, y, arith::MulFOp::create(tb, dSkip, uv));
        Value gate = buildSilu(tb, load(tb, in.z, {t, c}));
        memref::StoreOp::create(tb, arith::MulFOp::create(tb, y, gate), out,
                                ValueRange{t, c});
        scf::YieldOp::create(tb, hNew);
      });
  for (int64_t n = 0; n < dState; ++n)
    memref::StoreOp::create(b, timeLoop.getResult(n), in.state,
                            ValueRange{c, cIdx(b, n)});
}

/// CPU: small static channel counts take the vectorizable tile form of
/// lowerScanTile; wider scans (and every scan in the GPU form) become an
/// scf.parallel over channels, one register-state channel per item.
struct LowerSelectiveScan : OpRewritePattern<SelectiveScanOp> {
  LowerSelectiveScan(MLIRContext *ctx, bool gpuForm)
      : OpRewritePattern(ctx), gpuForm(gpuForm) {}
  LogicalResult matchAndRewrite(SelectiveScanOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    int64_t channels = op.getU().getType().getDimSize(1);
    int64_t dState = op.getALog().getType().getDimSize(1);
    ScanBuffers in(b, op, /*foldNorms=*/gpuForm);
    Value out, outTensor;
    std::tie(out, outTensor) = allocRows(b, rowCount(b, in.u), channels);
    if (!gpuForm && channels <= kMaxScanTile) {
      lowerScanTile(b, in, channels, dState, out);
      rewriter.replaceOp(op, outTensor);
      return success();
    }
    scf::ParallelOp::create(b, ValueRange{cIdx(b, 0)},
                            ValueRange{cIdx(b, channels)},
                            ValueRange{cIdx(b, 1)},
                            [&](OpBuilder &nb, Location loc, ValueRange iv) {
                              ImplicitLocOpBuilder ib(loc, nb);
                              emitScanChannel(ib, in, iv[0], dState, out);
                              scf::ReduceOp::create(ib);
                            });
    rewriter.replaceOp(op, outTensor);
    return success();
  }
  bool gpuForm;
};

/// Channels per scan work item in a fused hybrid head.
constexpr int64_t kFusedScanTile = 16;

/// The scan operands restricted to channels [c0, c0 + tile).
ScanBuffers sliceChannels(ImplicitLocOpBuilder &b, const ScanBuffers &in,
                          Value c0, int64_t tile) {
  auto cols = [&](Value m) -> Value {
    SmallVector<OpFoldResult> one = {b.getIndexAttr(1), b.getIndexAttr(1)};
    return memref::SubViewOp::create(
        b, m, ArrayRef<OpFoldResult>{b.getIndexAttr(0), c0},
        ArrayRef<OpFoldResult>{rowCount(b, m), b.getIndexAttr(tile)}, one);
  };
  auto rowsOf = [&](Value m) -> Value {
    auto type = cast<MemRefType>(m.getType());
    SmallVector<OpFoldResult> offs(type.getRank(), b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes, strides(type.getRank(), b.getIndexAttr(1));
    offs[0] = c0;
    sizes.push_back(b.getIndexAttr(tile));
    for (int64_t d = 1; d < type.getRank(); ++d)
      sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
    return memref::SubViewOp::create(b, m, offs, sizes, strides);
  };
  ScanBuffers out = in;
  out.u = cols(in.u);
  out.dt = cols(in.dt);
  out.z = cols(in.z);
  out.bias = rowsOf(in.bias);
  out.aLog = rowsOf(in.aLog);
  out.d = rowsOf(in.d);
  out.state = rowsOf(in.state);
  return out;
}

/// An attention and the scan of the same layer that hymba-fuse-hybrid-heads
/// placed side by side: one scf.parallel whose items are the attention's
/// (row, head) pairs followed by the scan's channel tiles, so both branches
/// run in one parallel region (one fork/join per layer in decode).
void lowerFusedBranches(RewriterBase &rewriter, AttentionOp attOp,
                        SelectiveScanOp scanOp, bool gpuForm,
                        int64_t vectorWidth) {
  ImplicitLocOpBuilder b = builderAt(rewriter, attOp);
  AttentionLowering att(b, attOp, gpuForm ? 0 : vectorWidth);
  ScanBuffers scan(b, scanOp, /*foldNorms=*/gpuForm);
  int64_t channels = scanOp.getU().getType().getDimSize(1);
  int64_t dState = scanOp.getALog().getType().getDimSize(1);
  Value scanOut, scanTensor;
  std::tie(scanOut, scanTensor) = allocRows(b, rowCount(b, scan.u), channels);
  if (gpuForm) {
    // One kernel: attention output elements, then one scan channel each.
    Value lanes = att.laneCount(b);
    Value items = arith::AddIOp::create(b, lanes, cIdx(b, channels));
    scf::ParallelOp::create(
        b, ValueRange{cIdx(b, 0)}, ValueRange{items}, ValueRange{cIdx(b, 1)},
        [&](OpBuilder &nb, Location loc, ValueRange iv) {
          ImplicitLocOpBuilder ib(loc, nb);
          Value isAttention = arith::CmpIOp::create(
              ib, arith::CmpIPredicate::ult, iv[0], lanes);
          scf::IfOp::create(
              ib, isAttention,
              [&](OpBuilder &tb, Location l) {
                ImplicitLocOpBuilder eb(l, tb);
                att.emitLaneAt(eb, iv[0]);
                scf::YieldOp::create(eb);
              },
              [&](OpBuilder &tb, Location l) {
                ImplicitLocOpBuilder eb(l, tb);
                emitScanChannel(eb, scan,
                                arith::SubIOp::create(eb, iv[0], lanes), dState,
                                scanOut);
                scf::YieldOp::create(eb);
              });
          scf::ReduceOp::create(ib);
        });
    rewriter.replaceOp(scanOp, scanTensor);
    rewriter.replaceOp(attOp, att.outTensor);
    return;
  }
  // Scratch for every tile, allocated outside the parallel region (stack
  // buffers inside it would not survive the OpenMP lowering of the scf.if).
  int64_t tiles = channels / kFusedScanTile;
  auto alloc = [&](int64_t rows, int64_t cols) -> Value {
    return memref::AllocOp::create(
        b, MemRefType::get({rows, cols}, b.getF32Type()));
  };
  Value hAll = alloc(tiles * dState, kFusedScanTile);
  Value aAll = alloc(tiles * dState, kFusedScanTile);
  Value vecAll = alloc(3 * tiles, kFusedScanTile); // delta, du, y per tile
  Value attItems = arith::MulIOp::create(b, att.rows, cIdx(b, att.heads));
  Value items =
      arith::AddIOp::create(b, attItems, cIdx(b, channels / kFusedScanTile));
  scf::ParallelOp::create(
      b, ValueRange{cIdx(b, 0)}, ValueRange{items}, ValueRange{cIdx(b, 1)},
      [&](OpBuilder &nb, Location loc, ValueRange iv) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value isAttention = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult,
                                                  iv[0], attItems);
        scf::IfOp::create(
            ib, isAttention,
            [&](OpBuilder &tb, Location l) {
              ImplicitLocOpBuilder eb(l, tb);
              Value heads = cIdx(eb, att.heads);
              att.emitItem(eb, arith::DivUIOp::create(eb, iv[0], heads),
                           arith::RemUIOp::create(eb, iv[0], heads));
              scf::YieldOp::create(eb);
            },
            [&](OpBuilder &tb, Location l) {
              ImplicitLocOpBuilder eb(l, tb);
              Value c0 = arith::MulIOp::create(
                  eb, arith::SubIOp::create(eb, iv[0], attItems),
                  cIdx(eb, kFusedScanTile));
              SmallVector<OpFoldResult> one = {eb.getIndexAttr(1),
                                               eb.getIndexAttr(1)};
              Value outTile = memref::SubViewOp::create(
                  eb, scanOut, ArrayRef<OpFoldResult>{eb.getIndexAttr(0), c0},
                  ArrayRef<OpFoldResult>{rowCount(eb, scanOut),
                                         eb.getIndexAttr(kFusedScanTile)},
                  one);
              Value tileIdx = arith::SubIOp::create(eb, iv[0], attItems);
              auto rowsAt = [&](Value all, Value first, int64_t n) -> Value {
                return memref::SubViewOp::create(
                    eb, all, ArrayRef<OpFoldResult>{first, eb.getIndexAttr(0)},
                    ArrayRef<OpFoldResult>{eb.getIndexAttr(n),
                                           eb.getIndexAttr(kFusedScanTile)},
                    one);
              };
              auto vecAt = [&](int64_t which) -> Value {
                Value row = arith::AddIOp::create(
                    eb, arith::MulIOp::create(eb, tileIdx, cIdx(eb, 3)),
                    cIdx(eb, which));
                auto type = MemRefType::get(
                    {kFusedScanTile}, eb.getF32Type(),
                    StridedLayoutAttr::get(eb.getContext(),
                                           ShapedType::kDynamic, {1}));
                return memref::SubViewOp::create(
                    eb, type, vecAll,
                    ArrayRef<OpFoldResult>{row, eb.getIndexAttr(0)},
                    ArrayRef<OpFoldResult>{eb.getIndexAttr(1),
                                           eb.getIndexAttr(kFusedScanTile)},
                    one);
              };
              Value first =
                  arith::MulIOp::create(eb, tileIdx, cIdx(eb, dState));
              ScanScratch scratch{rowsAt(hAll, first, dState),
                                  rowsAt(aAll, first, dState), vecAt(0),
                                  vecAt(1), vecAt(2)};
              lowerScanTile(eb, sliceChannels(eb, scan, c0, kFusedScanTile),
                            kFusedScanTile, dState, outTile, &scratch);
              scf::YieldOp::create(eb);
            });
        scf::ReduceOp::create(ib);
      });
  // buffer-deallocation-pipeline frees the scratch (it owns every alloc).
  rewriter.replaceOp(scanOp, scanTensor);
  rewriter.replaceOp(attOp, att.outTensor);
}

struct LowerStatefulToLoopsPass
    : hymba::impl::HymbaLowerStatefulToLoopsBase<LowerStatefulToLoopsPass> {
  using HymbaLowerStatefulToLoopsBase::HymbaLowerStatefulToLoopsBase;
  void runOnOperation() override {
    Operation *root = getOperation();
    FailureOr<bool> gpuForm = parseKernelForm(root, kernelForm);
    if (failed(gpuForm) || failed(verifyOffsetsAssigned<StateBufferOp>(root)))
      return signalPassFailure();
    // Hybrid heads that hymba-fuse-hybrid-heads paired up: one region each.
    SmallVector<std::pair<AttentionOp, SelectiveScanOp>> fusedPairs;
    root->walk([&](AttentionOp att) {
      auto scan = dyn_cast_or_null<SelectiveScanOp>(att->getNextNode());
      if (!att->hasAttr(kFusedBranchesAttr) || !scan)
        return;
      int64_t channels = scan.getU().getType().getDimSize(1);
      if (*gpuForm || channels % kFusedScanTile == 0)
        fusedPairs.push_back({att, scan});
    });
    IRRewriter rewriter(&getContext());
    for (auto [att, scan] : fusedPairs)
      lowerFusedBranches(rewriter, att, scan, *gpuForm, vectorWidth);
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerStateBuffer, LowerKVCacheWrite, LowerCausalConv1d>(
        &getContext());
    patterns.add<LowerAttention>(&getContext(), *gpuForm, vectorWidth);
    patterns.add<LowerSelectiveScan>(&getContext(), *gpuForm);
    if (failed(applyPatternsGreedily(root, std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
