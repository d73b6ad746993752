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
Value cIdx(ImplicitLocOpBuilder &b, int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}

/// A fresh f32 buffer [rows, width] and the tensor that stands for it.
std::pair<Value, Value> allocRows(ImplicitLocOpBuilder &b, Value rows,
                                  int64_t width) {
  auto type = MemRefType::get({ShapedType::kDynamic, width}, b.getF32Type());
  Value buf = memref::AllocOp::create(b, type, ValueRange{rows});
  auto tensorType =
      RankedTensorType::get({ShapedType::kDynamic, width}, b.getF32Type());
  Value t = bufferization::ToTensorOp::create(b, tensorType, buf,
                                              /*restrict=*/true,
                                              /*writable=*/true);
  return {buf, t};
}

Value load(ImplicitLocOpBuilder &b, Value mem, ValueRange idx) {
  return widenToF32(b, memref::LoadOp::create(b, mem, idx));
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
/// the code for one (row, head) item. For each item, one pass over the
/// visible keys with an online softmax: running max m, running sum l, and
/// the output row as accumulator. Keys at positions >= `position` come from
/// this chunk, earlier ones from the cache.
struct AttentionLowering {
  int64_t heads, kvHeads, window, numMeta, qd, vd, rep;
  float scale;
  Value q, k, v, kc, vc, pos, rows, out, outTensor;

  AttentionLowering(ImplicitLocOpBuilder &b, AttentionOp op)
      : heads(op.getNumHeads()), kvHeads(op.getNumKvHeads()),
        window(op.getWindow()), numMeta(op.getNumMeta()),
        qd(op.getQuery().getType().getDimSize(1) / heads),
        vd(op.getValue().getType().getDimSize(1) / kvHeads),
        rep(heads / kvHeads), scale(op.getScale().convertToFloat()),
        q(toReadOnlyBuffer(b, op.getQuery())),
        k(toReadOnlyBuffer(b, op.getKey())),
        v(toReadOnlyBuffer(b, op.getValue())), kc(op.getKCache()),
        vc(op.getVCache()), pos(op.getPosition()), rows(rowCount(b, q)) {
    std::tie(out, outTensor) = allocRows(b, rows, heads * vd);
  }

  /// Output row `t`, head `h`.
  void emitItem(ImplicitLocOpBuilder &ib, Value t, Value h) const {
    Value c0 = cIdx(ib, 0), c1 = cIdx(ib, 1);
    Value i = arith::AddIOp::create(ib, pos, t);
    Value kvh = arith::DivUIOp::create(ib, h, cIdx(ib, rep));
    Value qCol0 = arith::MulIOp::create(ib, h, cIdx(ib, qd));
    Value kCol0 = arith::MulIOp::create(ib, kvh, cIdx(ib, qd));
    Value vCol0 = arith::MulIOp::create(ib, kvh, cIdx(ib, vd));
    Value oCol0 = arith::MulIOp::create(ib, h, cIdx(ib, vd));
    Value zero = f32Const(ib, 0.0);

    scf::ForOp::create(
        ib, c0, cIdx(ib, vd), c1, ValueRange{},
        [&](OpBuilder &fb, Location l, Value d, ValueRange) {
          ImplicitLocOpBuilder bb(l, fb);
          memref::StoreOp::create(
              bb, zero, out,
              ValueRange{t, arith::AddIOp::create(bb, oCol0, d)});
          scf::YieldOp::create(bb);
        });

    // Visits key position j: returns the updated (m, l).
    auto visit = [&](ImplicitLocOpBuilder &kb, Value j, Value m,
                     Value l) -> std::pair<Value, Value> {
      Value fromChunk =
          arith::CmpIOp::create(kb, arith::CmpIPredicate::uge, j, pos);
      // Row index into the chunk or the cache, and the buffer to use.
      auto dot = [&](ImplicitLocOpBuilder &db, Value buf, Value row) {
        return scf::ForOp::create(
                   db, c0, cIdx(db, qd), c1, ValueRange{zero},
                   [&](OpBuilder &fb, Location lc, Value d, ValueRange acc) {
                     ImplicitLocOpBuilder eb(lc, fb);
                     Value qv =
                         load(eb, q, {t, arith::AddIOp::create(eb, qCol0, d)});
                     Value kv = load(
                         eb, buf, {row, arith::AddIOp::create(eb, kCol0, d)});
                     Value s = arith::AddFOp::create(
                         eb, acc[0], arith::MulFOp::create(eb, qv, kv));
                     scf::YieldOp::create(eb, ValueRange{s});
                   })
            .getResult(0);
      };
      auto ifOp = scf::IfOp::create(
          kb, fromChunk,
          [&](OpBuilder &tb, Location lc) {
            ImplicitLocOpBuilder eb(lc, tb);
            scf::YieldOp::create(
                eb, ValueRange{dot(eb, k, arith::SubIOp::create(eb, j, pos))});
          },
          [&](OpBuilder &tb, Location lc) {
            ImplicitLocOpBuilder eb(lc, tb);
            scf::YieldOp::create(
                eb, ValueRange{dot(eb, kc, cacheRow(eb, j, window, numMeta))});
          });
      Value s =
          arith::MulFOp::create(kb, ifOp.getResult(0), f32Const(kb, scale));
      Value mNew = arith::MaximumFOp::create(kb, m, s);
      Value corr = math::ExpOp::create(kb, arith::SubFOp::create(kb, m, mNew));
      Value p = math::ExpOp::create(kb, arith::SubFOp::create(kb, s, mNew));
      Value lNew =
          arith::AddFOp::create(kb, arith::MulFOp::create(kb, l, corr), p);
      auto accumulate = [&](ImplicitLocOpBuilder &ab, Value buf, Value row) {
        scf::ForOp::create(
            ab, c0, cIdx(ab, vd), c1, ValueRange{},
            [&](OpBuilder &fb, Location lc, Value d, ValueRange) {
              ImplicitLocOpBuilder eb(lc, fb);
              Value oc = arith::AddIOp::create(eb, oCol0, d);
              Value o = memref::LoadOp::create(eb, out, ValueRange{t, oc});
              Value vv =
                  load(eb, buf, {row, arith::AddIOp::create(eb, vCol0, d)});
              Value upd =
                  arith::AddFOp::create(eb, arith::MulFOp::create(eb, o, corr),
                                        arith::MulFOp::create(eb, p, vv));
              memref::StoreOp::create(eb, upd, out, ValueRange{t, oc});
              scf::YieldOp::create(eb);
            });
      };
      scf::IfOp::create(
          kb, fromChunk,
          [&](OpBuilder &tb, Location lc) {
            ImplicitLocOpBuilder eb(lc, tb);
            accumulate(eb, v, arith::SubIOp::create(eb, j, pos));
            scf::YieldOp::create(eb);
          },
          [&](OpBuilder &tb, Location lc) {
            ImplicitLocOpBuilder eb(lc, tb);
            accumulate(eb, vc, cacheRow(eb, j, window, numMeta));
            scf::YieldOp::create(eb);
          });
      return {mNew, lNew};
    };
    auto keyLoop = [&](Value lo, Value hi, Value m, Value l) {
      auto loop = scf::ForOp::create(
          ib, lo, hi, c1, ValueRange{m, l},
          [&](OpBuilder &fb, Location lc, Value j, ValueRange st) {
            ImplicitLocOpBuilder kb(lc, fb);
            auto [mN, lN] = visit(kb, j, st[0], st[1]);
            scf::YieldOp::create(kb, ValueRange{mN, lN});
          });
      return std::make_pair(loop.getResult(0), loop.getResult(1));
    };

    // Visible keys: [0, min(M, lo)) then [lo, i], lo = max(i - W, 0).
    Value lo = c0;
    if (window > 0) {
      Value w = cIdx(ib, window);
      Value far = arith::CmpIOp::create(ib, arith::CmpIPredicate::uge, i, w);
      lo =
          arith::SelectOp::create(ib, far, arith::SubIOp::create(ib, i, w), c0);
    }
    Value metaEnd = arith::MinUIOp::create(ib, cIdx(ib, numMeta), lo);
    Value negInf = f32Const(ib, -std::numeric_limits<float>::infinity());
    auto [m1, l1] = keyLoop(c0, metaEnd, negInf, zero);
    auto [m2, l2] = keyLoop(lo, arith::AddIOp::create(ib, i, c1), m1, l1);
    (void)m2;
    Value inv = arith::DivFOp::create(ib, f32Const(ib, 1.0), l2);
    scf::ForOp::create(
        ib, c0, cIdx(ib, vd), c1, ValueRange{},
        [&](OpBuilder &fb, Location lc, Value d, ValueRange) {
          ImplicitLocOpBuilder eb(lc, fb);
          Value oc = arith::AddIOp::create(eb, oCol0, d);
          Value o = memref::LoadOp::create(eb, out, ValueRange{t, oc});
          memref::StoreOp::create(eb, arith::MulFOp::create(eb, o, inv), out,
                                  ValueRange{t, oc});
          scf::YieldOp::create(eb);
        });
  }
};

struct LowerAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    AttentionLowering att(b, op);
    Value c0 = cIdx(b, 0), c1 = cIdx(b, 1);
    scf::ParallelOp::create(
        b, ValueRange{c0, c0}, ValueRange{att.rows, cIdx(b, att.heads)},
        ValueRange{c1, c1}, [&](OpBuilder &nb, Location loc, ValueRange iv) {
          ImplicitLocOpBuilder ib(loc, nb);
          att.emitItem(ib, iv[0], iv[1]);
          scf::ReduceOp::create(ib);
        });
    rewriter.replaceOp(op, att.outTensor);
    return success();
  }
};

/// Copies the chunk rows that later queries can still see into the cache.
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
    scf::ForOp::create(
        b, c0, rows, c1, ValueRange{},
        [&](OpBuilder &fb, Location loc, Value r, ValueRange) {
          ImplicitLocOpBuilder ib(loc, fb);
          Value p = arith::AddIOp::create(ib, pos, r);
          // Never write past the cache (the runtime rejects such positions
          // before running; this keeps memory safe regardless).
          Value keep = arith::CmpIOp::create(
              ib, arith::CmpIPredicate::ult, p,
              cIdx(ib,
                   window ? std::numeric_limits<int64_t>::max() : capacity));
          if (window > 0) {
            // Meta rows always; otherwise only the last `window` rows.
            Value isMeta = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult,
                                                 p, cIdx(ib, numMeta));
            Value recent = arith::CmpIOp::create(
                ib, arith::CmpIPredicate::uge,
                arith::AddIOp::create(ib, r, cIdx(ib, window)), rows);
            keep = arith::OrIOp::create(ib, isMeta, recent);
          }
          scf::IfOp::create(ib, keep, [&](OpBuilder &tb, Location lc) {
            ImplicitLocOpBuilder eb(lc, tb);
            Value slot = cacheRow(eb, p, window, numMeta);
            for (auto [src, dst, width] :
                 {std::make_tuple(k, kc, kw), std::make_tuple(v, vc, vw)}) {
              scf::ForOp::create(
                  eb, c0, cIdx(eb, width), c1, ValueRange{},
                  [&, src = src, dst = dst](OpBuilder &cb, Location l2, Value c,
                                            ValueRange) {
                    ImplicitLocOpBuilder xb(l2, cb);
                    Value x = memref::LoadOp::create(xb, src, ValueRange{r, c});
                    memref::StoreOp::create(xb, x, dst, ValueRange{slot, c});
                    scf::YieldOp::create(xb);
                  });
            }
            scf::YieldOp::create(eb);
          });
          scf::YieldOp::create(ib);
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
      Value inChunk =
          arith::CmpIOp::create(eb, arith::CmpIPredicate::uge, e, history);
      return scf::IfOp::create(
                 eb, inChunk,
                 [&](OpBuilder &tb, Location l) {
                   ImplicitLocOpBuilder xb(l, tb);
                   scf::YieldOp::create(
                       xb, ValueRange{memref::LoadOp::create(
                               xb, x,
                               ValueRange{arith::SubIOp::create(xb, e, history),
                                          c})});
                 },
                 [&](OpBuilder &tb, Location l) {
                   ImplicitLocOpBuilder xb(l, tb);
                   scf::YieldOp::create(xb, ValueRange{memref::LoadOp::create(
                                                xb, state, ValueRange{e, c})});
                 })
          .getResult(0);
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

    // New window row r = extended row T + r. Ascending r only reads rows
    // (T + r >= r + 1) that have not been overwritten yet.
    scf::ForOp::create(b, c0, history, c1, ValueRange{},
                       [&](OpBuilder &fb, Location loc, Value r, ValueRange) {
                         ImplicitLocOpBuilder ib(loc, fb);
                         Value e = arith::AddIOp::create(ib, rows, r);
                         scf::ParallelOp::create(
                             ib, ValueRange{c0}, ValueRange{cC}, ValueRange{c1},
                             [&](OpBuilder &pb, Location l, ValueRange cv) {
                               ImplicitLocOpBuilder eb(l, pb);
                               memref::StoreOp::create(
                                   eb, extended(eb, e, cv[0]), state,
                                   ValueRange{r, cv[0]});
                               scf::ReduceOp::create(eb);
                             });
                         scf::YieldOp::create(ib);
                       });
    rewriter.replaceOp(op, outTensor);
    return success();
  }
};

/// Widest channel count lowered in the vectorizable tile form.
constexpr int64_t kMaxScanTile = 64;

/// The scan's operands as buffers (tensors read through to_buffer).
struct ScanBuffers {
  Value u, dt, bias, aLog, b, c, d, z, state;
  ScanBuffers(ImplicitLocOpBuilder &builder, SelectiveScanOp op)
      : u(toReadOnlyBuffer(builder, op.getU())),
        dt(toReadOnlyBuffer(builder, op.getDt())),
        bias(toReadOnlyBuffer(builder, op.getDtBias())),
        aLog(toReadOnlyBuffer(builder, op.getALog())),
        b(toReadOnlyBuffer(builder, op.getB())),
        c(toReadOnlyBuffer(builder, op.getC())),
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

/// The scan over a small static channel tile (what hymba-tile-selective-scan
/// produces): time outermost, channels innermost over contiguous data. The
/// tile's state and A = -exp(a_log) live transposed ([d_state, tile]) in
/// stack buffers for the whole chunk, so every inner loop is a unit-stride
/// loop over channels that LLVM vectorizes.
/// Per-tile scratch of the scan: state and A transposed ([d_state, tile]),
/// and delta, delta*u and the output accumulator ([tile]).
struct ScanScratch {
  Value h, a, delta, du, y;
};

void lowerScanTile(ImplicitLocOpBuilder &b, const ScanBuffers &in, int64_t tile,
                   int64_t dState, Value out,
                   const ScanScratch *scratch = nullptr) {
  Type f32 = b.getF32Type();
  Value u = in.u, dt = in.dt, bias = in.bias, aLog = in.aLog, bm = in.b,
        cm = in.c, dv = in.d, z = in.z, state = in.state;
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

/// Sequential over time, parallel over channels; the state row of a channel
/// is updated in place in ssm_state. Small static channel tiles take the
/// vectorizable form of lowerScanTile instead.
struct LowerSelectiveScan : OpRewritePattern<SelectiveScanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SelectiveScanOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    int64_t channels = op.getU().getType().getDimSize(1);
    int64_t dState = op.getALog().getType().getDimSize(1);
    ScanBuffers in(b, op);
    Value u = in.u, dt = in.dt, dtBias = in.bias, aLog = in.aLog, bm = in.b,
          cm = in.c, dv = in.d, z = in.z, state = in.state;
    Value rows = rowCount(b, u);
    Value out, outTensor;
    std::tie(out, outTensor) = allocRows(b, rows, channels);
    Value c0 = cIdx(b, 0), c1 = cIdx(b, 1);
    if (channels <= kMaxScanTile) {
      lowerScanTile(b, in, channels, dState, out);
      rewriter.replaceOp(op, outTensor);
      return success();
    }

    scf::ParallelOp::create(
        b, ValueRange{c0}, ValueRange{cIdx(b, channels)}, ValueRange{c1},
        [&](OpBuilder &nb, Location loc, ValueRange iv) {
          ImplicitLocOpBuilder ib(loc, nb);
          Value c = iv[0];
          Value bias = load(ib, dtBias, {c});
          Value dSkip = load(ib, dv, {c});
          scf::ForOp::create(
              ib, c0, rows, c1, ValueRange{},
              [&](OpBuilder &fb, Location l, Value t, ValueRange) {
                ImplicitLocOpBuilder tb(l, fb);
                Value raw =
                    arith::AddFOp::create(tb, load(tb, dt, {t, c}), bias);
                Value delta = buildSoftplus(tb, raw);
                Value uv = load(tb, u, {t, c});
                Value du = arith::MulFOp::create(tb, delta, uv);
                auto inner = scf::ForOp::create(
                    tb, c0, cIdx(tb, dState), c1, ValueRange{f32Const(tb, 0.0)},
                    [&](OpBuilder &sb, Location l2, Value n, ValueRange acc) {
                      ImplicitLocOpBuilder eb(l2, sb);
                      Value a = arith::NegFOp::create(
                          eb, math::ExpOp::create(eb, load(eb, aLog, {c, n})));
                      Value decay = math::ExpOp::create(
                          eb, arith::MulFOp::create(eb, delta, a));
                      Value h =
                          memref::LoadOp::create(eb, state, ValueRange{c, n});
                      Value hNew = arith::AddFOp::create(
                          eb, arith::MulFOp::create(eb, decay, h),
                          arith::MulFOp::create(eb, du, load(eb, bm, {t, n})));
                      memref::StoreOp::create(eb, hNew, state,
                                              ValueRange{c, n});
                      Value y = arith::AddFOp::create(
                          eb, acc[0],
                          arith::MulFOp::create(eb, load(eb, cm, {t, n}),
                                                hNew));
                      scf::YieldOp::create(eb, ValueRange{y});
                    });
                Value y =
                    arith::AddFOp::create(tb, inner.getResult(0),
                                          arith::MulFOp::create(tb, dSkip, uv));
                Value gate = buildSilu(tb, load(tb, z, {t, c}));
                memref::StoreOp::create(tb, arith::MulFOp::create(tb, y, gate),
                                        out, ValueRange{t, c});
                scf::YieldOp::create(tb);
              });
          scf::ReduceOp::create(ib);
        });
    rewriter.replaceOp(op, outTensor);
    return success();
  }
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
                        SelectiveScanOp scanOp) {
  ImplicitLocOpBuilder b = builderAt(rewriter, attOp);
  AttentionLowering att(b, attOp);
  ScanBuffers scan(b, scanOp);
  int64_t channels = scanOp.getU().getType().getDimSize(1);
  int64_t dState = scanOp.getALog().getType().getDimSize(1);
  Value scanOut, scanTensor;
  std::tie(scanOut, scanTensor) = allocRows(b, rowCount(b, scan.u), channels);
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
  void runOnOperation() override {
    Operation *root = getOperation();
    if (failed(verifyOffsetsAssigned<StateBufferOp>(root)))
      return signalPassFailure();
    // Hybrid heads that hymba-fuse-hybrid-heads paired up: one region each.
    SmallVector<std::pair<AttentionOp, SelectiveScanOp>> fusedPairs;
    root->walk([&](AttentionOp att) {
      auto scan = dyn_cast_or_null<SelectiveScanOp>(att->getNextNode());
      if (!att->hasAttr(kFusedBranchesAttr) || !scan)
        return;
      int64_t channels = scan.getU().getType().getDimSize(1);
      if (!ShapedType::isDynamic(channels) && channels % kFusedScanTile == 0)
        fusedPairs.push_back({att, scan});
    });
    IRRewriter rewriter(&getContext());
    for (auto [att, scan] : fusedPairs)
      lowerFusedBranches(rewriter, att, scan);
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerStateBuffer, LowerAttention, LowerKVCacheWrite,
                 LowerCausalConv1d, LowerSelectiveScan>(&getContext());
    if (failed(applyPatternsGreedily(root, std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
