//===- VectorizeLinear.cpp - Register-tiled vector code for x @ W^T
//--------===//
//
// The projections dominate Hymba's run time: in decode each weight element
// is used once, so speed is memory bandwidth; in prefill they are dense
// GEMMs. This pass finds them structurally (a linalg.generic contraction
// y[t, n] += x[t, k] * w(n, k) with its indexing maps) after bufferization
// and emits register-tiled vector code for the target's vector registers.
//
// Panel-stored weights (#hymba.panels, the CPU default) get the outer-product
// micro-kernel of GEMM libraries: MR rows of x broadcast one element at a
// time against NV vectors of a weight panel, MR x NV accumulators in
// registers, K in blocks so a panel slice stays in L1. Weights in the plain
// [N, K] layout get a dot-product kernel (4x4 tiles, reduction at the end).
// Quantized panels (hymba.dequantize, WeightAccess.h) get the same
// micro-kernel, the weight vectors unpacked and scaled in registers, one
// quantization group of k at a time. bf16 panels interleaved by 2 along K
// (--compute=bf16) get the same micro-kernel over pairs of k: x is packed
// once per projection into bf16 pairs (rounded to nearest even), and each
// step is one AVX512_BF16 dot product (x86vector.avx512.dot, vdpbf16ps) per
// accumulator, or, where the target lacks it, two f32 FMAs that compute the
// same sum in the same order.
//
//===----------------------------------------------------------------------===//

#include "Int8DotKernel.h"
#include "LoweringUtils.h"
#include "WeightPrefetch.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"

#include <optional>

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAVECTORIZELINEAR
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;
using namespace mlir::hymba;

namespace {
/// Rows and columns of the dot-product kernel's tiles.
constexpr int64_t kDotBlock = 4;
/// Independent accumulator sets of a one-row (decode) tile: with two
/// vectors per panel, 8 FMA chains in flight cover a 4-cycle FMA latency at
/// two FMAs per cycle.
constexpr int64_t kDecodeChains = 4;

/// scf.if (cond) { thenBody } else { elseBody }, without results.
void ifElse(ImplicitLocOpBuilder &b, Value cond,
            function_ref<void(ImplicitLocOpBuilder &)> thenBody,
            function_ref<void(ImplicitLocOpBuilder &)> elseBody) {
  auto branch = [](function_ref<void(ImplicitLocOpBuilder &)> body) {
    return [body](OpBuilder &ob, Location l) {
      ImplicitLocOpBuilder bb(l, ob);
      body(bb);
      scf::YieldOp::create(bb);
    };
  };
  scf::IfOp::create(b, cond, branch(thenBody), branch(elseBody));
}

/// The dot-product form for a plain [N, K] weight (K contiguous).
struct DotKernel {
  Value x, w, y; // memrefs [T, K], [N, K], [T, N]
  int64_t k, vl; // reduction length, vector width
  VectorType accType, wType;

  Value cIdx(ImplicitLocOpBuilder &b, int64_t v) const {
    return arith::ConstantIndexOp::create(b, v);
  }

  /// y[ts[i], ns[j]] = sum_k x[ts[i], k] * w[ns[j], k] for all i, j.
  void emitTile(ImplicitLocOpBuilder &b, ArrayRef<Value> ts,
                ArrayRef<Value> ns) const {
    size_t count = ts.size() * ns.size();
    int64_t kMain = k / vl * vl;
    Value c0 = cIdx(b, 0);
    Value zeroVec = arith::ConstantOp::create(
        b, accType, DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0f)));
    SmallVector<Value> init(count, zeroVec);
    SmallVector<Value> sums;
    if (kMain > 0) {
      auto loop = scf::ForOp::create(
          b, c0, cIdx(b, kMain), cIdx(b, vl), init,
          [&](OpBuilder &nb, Location loc, Value kk, ValueRange acc) {
            ImplicitLocOpBuilder ib(loc, nb);
            SmallVector<Value> xs, ws, next;
            for (Value t : ts)
              xs.push_back(
                  vector::LoadOp::create(ib, accType, x, ValueRange{t, kk}));
            for (Value n : ns) {
              Value wv =
                  vector::LoadOp::create(ib, wType, w, ValueRange{n, kk});
              if (wType != accType)
                wv = arith::ExtFOp::create(ib, accType, wv);
              ws.push_back(wv);
            }
            for (size_t i = 0; i < ts.size(); ++i)
              for (size_t j = 0; j < ns.size(); ++j)
                next.push_back(vector::FMAOp::create(ib, xs[i], ws[j],
                                                     acc[i * ns.size() + j]));
            scf::YieldOp::create(ib, next);
          });
      for (Value v : loop.getResults())
        sums.push_back(vector::ReductionOp::create(
            b, vector::CombiningKind::ADD, v, arith::FastMathFlags::reassoc));
    } else {
      sums.assign(count, f32Const(b, 0.0));
    }
    if (kMain < k) {
      auto tail = scf::ForOp::create(
          b, cIdx(b, kMain), cIdx(b, k), cIdx(b, 1), sums,
          [&](OpBuilder &nb, Location loc, Value kk, ValueRange acc) {
            ImplicitLocOpBuilder ib(loc, nb);
            SmallVector<Value> next;
            for (size_t i = 0; i < ts.size(); ++i) {
              Value xv = memref::LoadOp::create(ib, x, ValueRange{ts[i], kk});
              for (size_t j = 0; j < ns.size(); ++j) {
                Value wv = widenToF32(
                    ib, memref::LoadOp::create(ib, w, ValueRange{ns[j], kk}));
                next.push_back(
                    math::FmaOp::create(ib, xv, wv, acc[i * ns.size() + j]));
              }
            }
            scf::YieldOp::create(ib, next);
          });
      sums.assign(tail.getResults().begin(), tail.getResults().end());
    }
    // y holds the generic's initial value (zeros, or a fused residual).
    for (size_t i = 0; i < ts.size(); ++i)
      for (size_t j = 0; j < ns.size(); ++j) {
        Value old = memref::LoadOp::create(b, y, ValueRange{ts[i], ns[j]});
        memref::StoreOp::create(
            b, arith::AddFOp::create(b, old, sums[i * ns.size() + j]), y,
            ValueRange{ts[i], ns[j]});
      }
  }

  static SmallVector<Value> offsets(ImplicitLocOpBuilder &b, Value base,
                                    int64_t n) {
    SmallVector<Value> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(
          arith::AddIOp::create(b, base, arith::ConstantIndexOp::create(b, i)));
    return out;
  }

  /// Rows [r0, r1) against all N columns.
  void emitRows(ImplicitLocOpBuilder &b, int64_t n, Value r0, Value r1) const {
    Value c0 = cIdx(b, 0), c1 = cIdx(b, 1), cB = cIdx(b, kDotBlock);
    Value rowsMain = arith::AddIOp::create(
        b, r0,
        arith::MulIOp::create(
            b, arith::DivUIOp::create(b, arith::SubIOp::create(b, r1, r0), cB),
            cB));
    int64_t nMain = n / kDotBlock * kDotBlock;
    if (nMain > 0) {
      scf::ParallelOp::create(
          b, ValueRange{c0}, ValueRange{cIdx(b, nMain)}, ValueRange{cB},
          [&](OpBuilder &pb, Location loc, ValueRange iv) {
            ImplicitLocOpBuilder ib(loc, pb);
            SmallVector<Value> ns = offsets(ib, iv[0], kDotBlock);
            scf::ForOp::create(
                ib, r0, rowsMain, cB, ValueRange{},
                [&](OpBuilder &fb, Location l, Value t, ValueRange) {
                  ImplicitLocOpBuilder tb(l, fb);
                  emitTile(tb, offsets(tb, t, kDotBlock), ns);
                  scf::YieldOp::create(tb);
                });
            scf::ForOp::create(
                ib, rowsMain, r1, c1, ValueRange{},
                [&](OpBuilder &fb, Location l, Value t, ValueRange) {
                  ImplicitLocOpBuilder tb(l, fb);
                  emitTile(tb, {t}, ns);
                  scf::YieldOp::create(tb);
                });
            scf::ReduceOp::create(ib);
          });
    }
    if (nMain < n) {
      scf::ParallelOp::create(b, ValueRange{r0, cIdx(b, nMain)},
                              ValueRange{r1, cIdx(b, n)}, ValueRange{c1, c1},
                              [&](OpBuilder &pb, Location loc, ValueRange iv) {
                                ImplicitLocOpBuilder ib(loc, pb);
                                emitTile(ib, {iv[0]}, {iv[1]});
                                scf::ReduceOp::create(ib);
                              });
    }
  }

  /// All rows, `rowChunk` at a time: a chunk of x stays in cache while every
  /// column block streams past it, instead of all of x streaming past every
  /// column block (the prefill case; a decode step is one chunk).
  void emit(ImplicitLocOpBuilder &b, int64_t n, int64_t rowChunk) const {
    Value rows = memref::DimOp::create(b, x, cIdx(b, 0));
    Value chunk = cIdx(b, rowChunk);
    scf::ForOp::create(b, cIdx(b, 0), rows, chunk, ValueRange{},
                       [&](OpBuilder &fb, Location l, Value r0, ValueRange) {
                         ImplicitLocOpBuilder cb(l, fb);
                         Value r1 = arith::MinUIOp::create(
                             cb, arith::AddIOp::create(cb, r0, chunk), rows);
                         emitRows(cb, n, r0, r1);
                         scf::YieldOp::create(cb);
                       });
  }
};

/// A projection found in the IR: y[t, n] += x[t, k] * w(n, k), where w is a
/// plain [N, K] matrix (panel == 0) or its [ceil(N / W), K, W] panel storage
/// read through (n floordiv W, k, n mod W) (panel == W); or, quantized
/// (bits 8 or 4), panel-stored values and bf16 scales (WeightAccess.h):
/// w(n, k) = float(q(n, k)) * float(s[n floordiv W, k floordiv group, n mod
/// W]).
struct Projection {
  Value x, w, y;
  int64_t panel = 0;
  /// 2: bf16 panels [P, ceil(K / 2), W, 2] read through (n floordiv W, k
  /// floordiv 2, n mod W, k mod 2), multiplied by x rounded to bf16.
  int64_t interleave = 1;
  Value scales;
  int64_t bits = 0, group = 0;
  /// --compute=int8: x holds int8 values, xScales their f32 scale per row
  /// and group, and w int8 panels interleaved by 4 along K.
  Value xScales;
};

/// `v` is float(q) or float(sign-extended nibble of q) for the block
/// argument q: sitofp(q), or sitofp(shrsi(shli(q, _), 4)).
bool isUnpackedValue(Value v, Value q) {
  auto conv = v.getDefiningOp<arith::SIToFPOp>();
  if (!conv)
    return false;
  Value in = conv.getIn();
  if (in == q)
    return true;
  auto shr = in.getDefiningOp<arith::ShRSIOp>();
  auto shl = shr ? shr.getLhs().getDefiningOp<arith::ShLIOp>() : nullptr;
  return shl && shl.getLhs() == q;
}

/// Matches the maps of quantized panel storage: values through (n floordiv
/// W, k, n mod W) (i8) or (n floordiv W, k, (n mod W) mod (W / 2)) (i4),
/// scales through (n floordiv W, k floordiv G, n mod W).
bool matchQuantizedMaps(Projection &p, AffineMap values, AffineMap scales) {
  auto sType = cast<MemRefType>(p.scales.getType());
  auto qType = cast<MemRefType>(p.w.getType());
  if (sType.getRank() != 3 || qType.getRank() != 3 ||
      !sType.getElementType().isBF16() || !qType.getElementType().isInteger(8))
    return false;
  MLIRContext *ctx = values.getContext();
  AffineExpr n = getAffineDimExpr(1, ctx), k = getAffineDimExpr(2, ctx);
  int64_t width = sType.getDimSize(2);
  if (ShapedType::isDynamic(width) || width < 2)
    return false;
  if (values == AffineMap::get(3, 0, {n.floorDiv(width), k, n % width}, ctx))
    p.bits = 8;
  else if (values ==
           AffineMap::get(
               3, 0, {n.floorDiv(width), k, (n % width) % (width / 2)}, ctx))
    p.bits = 4;
  else
    return false;
  if (scales.getNumResults() != 3)
    return false;
  auto div = dyn_cast<AffineBinaryOpExpr>(scales.getResult(1));
  auto group = div ? dyn_cast<AffineConstantExpr>(div.getRHS()) : nullptr;
  if (!group || div.getKind() != AffineExprKind::FloorDiv || div.getLHS() != k)
    return false;
  p.group = group.getValue();
  p.panel = width;
  return scales ==
         AffineMap::get(
             3, 0, {n.floorDiv(width), k.floorDiv(p.group), n % width}, ctx);
}

/// `v` is `x` rounded to bf16 as roundToBF16 (LoweringUtils.h) builds it:
/// bitcast(select(cmpf uno(x, x), _, _)).
bool isRoundedToBF16(Value v, Value x) {
  auto cast = v.getDefiningOp<arith::BitcastOp>();
  auto select = cast ? cast.getIn().getDefiningOp<arith::SelectOp>() : nullptr;
  auto isNaN =
      select ? select.getCondition().getDefiningOp<arith::CmpFOp>() : nullptr;
  return isNaN && isNaN.getPredicate() == arith::CmpFPredicate::UNO &&
         isNaN.getLhs() == x && isNaN.getRhs() == x;
}

/// Loops (parallel t, parallel n, reduction k), the iteration space of
/// every projection form.
bool hasProjectionLoops(linalg::GenericOp op) {
  auto iters = op.getIteratorTypesArray();
  return iters.size() == 3 && iters[0] == utils::IteratorType::parallel &&
         iters[1] == utils::IteratorType::parallel &&
         iters[2] == utils::IteratorType::reduction;
}

/// The int8 dot-product form (ActivationQuantization.h): inputs q_x [T, K]
/// i8 through (t, k), s_x [T, groups] f32 through (t, k floordiv G), the
/// weight's i8 values in panels interleaved by 4 [P, K / 4, W, 4] through
/// (n floordiv W, k floordiv 4, n mod W, k mod 4) (or i4 pairs [P, K / 4,
/// W / 2, 4] through (.., (n mod W) mod (W / 2), ..)) and its bf16 scales
/// [P, groups, W] through (n floordiv W, k floordiv G, n mod W); body
/// acc + (sitofp(q_x) * s_x) * (unpacked(q_w) * extf(s_w)).
std::optional<Projection> matchInt8DotProjection(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 4 ||
      op.getNumDpsInits() != 1 || op.getNumLoops() != 3)
    return std::nullopt;
  if (!hasProjectionLoops(op))
    return std::nullopt;
  Projection p;
  p.x = op.getDpsInputs()[0];
  p.xScales = op.getDpsInputs()[1];
  p.w = op.getDpsInputs()[2];
  p.scales = op.getDpsInputs()[3];
  p.y = op.getDpsInits()[0];
  auto qxType = cast<MemRefType>(p.x.getType());
  auto sxType = cast<MemRefType>(p.xScales.getType());
  auto wType = cast<MemRefType>(p.w.getType());
  auto sType = cast<MemRefType>(p.scales.getType());
  auto yType = cast<MemRefType>(p.y.getType());
  if (!qxType.getElementType().isInteger(8) ||
      !sxType.getElementType().isF32() ||
      !wType.getElementType().isInteger(8) ||
      !sType.getElementType().isBF16() || !yType.getElementType().isF32() ||
      wType.getRank() != 4 || sType.getRank() != 3 ||
      wType.getDimSize(3) != 4 || ShapedType::isDynamic(wType.getDimSize(2)))
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  AffineExpr t = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto groupExpr = dyn_cast<AffineBinaryOpExpr>(
      maps[1].getNumResults() == 2 ? maps[1].getResult(1) : AffineExpr());
  auto group =
      groupExpr ? dyn_cast<AffineConstantExpr>(groupExpr.getRHS()) : nullptr;
  if (!group || groupExpr.getKind() != AffineExprKind::FloorDiv)
    return std::nullopt;
  p.group = group.getValue();
  p.panel = sType.getDimSize(2);
  if (ShapedType::isDynamic(p.panel) || p.panel < 2)
    return std::nullopt;
  p.bits = wType.getDimSize(2) == p.panel ? 8 : 4;
  if (p.bits == 4 && wType.getDimSize(2) * 2 != p.panel)
    return std::nullopt;
  auto get = [&](ArrayRef<AffineExpr> results) {
    return AffineMap::get(3, 0, results, ctx);
  };
  int64_t width = p.panel;
  AffineExpr lane = p.bits == 4 ? (n % width) % (width / 2) : n % width;
  if (maps[0] != get({t, k}) || maps[1] != get({t, k.floorDiv(p.group)}) ||
      maps[2] != get({n.floorDiv(width), k.floorDiv(4), lane, k % 4}) ||
      maps[3] != get({n.floorDiv(width), k.floorDiv(p.group), n % width}) ||
      maps[4] != get({t, n}))
    return std::nullopt;
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add || add.getLhs() != body.getArgument(4))
    return std::nullopt;
  auto mul = add.getRhs().getDefiningOp<arith::MulFOp>();
  auto xs = mul ? mul.getLhs().getDefiningOp<arith::MulFOp>() : nullptr;
  auto ws = mul ? mul.getRhs().getDefiningOp<arith::MulFOp>() : nullptr;
  auto isSIToFP = [](Value v, Value of) {
    auto conv = v.getDefiningOp<arith::SIToFPOp>();
    return conv && conv.getIn() == of;
  };
  auto wScale = ws ? ws.getRhs().getDefiningOp<arith::ExtFOp>() : nullptr;
  if (!xs || !ws || !wScale || !isSIToFP(xs.getLhs(), body.getArgument(0)) ||
      xs.getRhs() != body.getArgument(1) ||
      !(p.bits == 8 ? isSIToFP(ws.getLhs(), body.getArgument(2))
                    : isUnpackedValue(ws.getLhs(), body.getArgument(2))) ||
      wScale.getIn() != body.getArgument(3))
    return std::nullopt;
  return p;
}

/// Matches the contraction by its structure: three loops (parallel t,
/// parallel n, reduction k), the indexing maps above, and a body that adds
/// x * widen(w) to the output.
std::optional<Projection> matchProjection(linalg::GenericOp op) {
  bool quantized = op.getNumDpsInputs() == 3;
  if (!op.hasPureBufferSemantics() ||
      (op.getNumDpsInputs() != 2 && !quantized) || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != 3)
    return std::nullopt;
  if (!hasProjectionLoops(op))
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  AffineExpr t = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps[0] != AffineMap::get(3, 0, {t, k}, ctx) ||
      maps.back() != AffineMap::get(3, 0, {t, n}, ctx))
    return std::nullopt;
  Projection p;
  p.x = op.getDpsInputs()[0];
  p.w = op.getDpsInputs()[1];
  p.y = op.getDpsInits()[0];
  auto wType = cast<MemRefType>(p.w.getType());
  Block &body = op.getRegion().front();
  Value acc = body.getArguments().back();
  if (quantized) {
    // Only panel storage gets the vector kernel; plain quantized weights
    // (--no-pack-weights) stay scalar loops.
    p.scales = op.getDpsInputs()[2];
    if (!matchQuantizedMaps(p, maps[1], maps[2]))
      return std::nullopt;
  } else if (wType.getRank() == 4) {
    // bf16 pairs along K (#hymba.panels<W, interleave = 2>).
    int64_t width = wType.getDimSize(2);
    if (ShapedType::isDynamic(width) || wType.getDimSize(3) != 2 ||
        !wType.getElementType().isBF16() ||
        maps[1] !=
            AffineMap::get(3, 0,
                           {n.floorDiv(width), k.floorDiv(2), n % width, k % 2},
                           ctx))
      return std::nullopt;
    p.panel = width;
    p.interleave = 2;
  } else if (maps[1] != AffineMap::get(3, 0, {n, k}, ctx)) {
    if (wType.getRank() != 3 || ShapedType::isDynamic(wType.getDimSize(2)))
      return std::nullopt;
    int64_t width = wType.getDimSize(2);
    if (maps[1] != AffineMap::get(3, 0, {n.floorDiv(width), k, n % width}, ctx))
      return std::nullopt;
    p.panel = width;
  }
  // Body: yield(acc + x * widen(w)), in either operand order; quantized:
  // yield(acc + x * (unpack(q) * widen(s))).
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  Value other = add.getLhs() == acc   ? add.getRhs()
                : add.getRhs() == acc ? add.getLhs()
                                      : Value();
  auto mul = other ? other.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return std::nullopt;
  auto isWeight = [&](Value v) {
    if (quantized) {
      auto deq = v.getDefiningOp<arith::MulFOp>();
      auto scale = deq ? deq.getRhs().getDefiningOp<arith::ExtFOp>() : nullptr;
      return scale && scale.getIn() == body.getArgument(2) &&
             isUnpackedValue(deq.getLhs(), body.getArgument(1));
    }
    if (auto ext = v.getDefiningOp<arith::ExtFOp>())
      v = ext.getIn();
    return v == body.getArgument(1);
  };
  // The interleaved bf16 layout multiplies x rounded to bf16.
  auto isInput = [&](Value v) {
    return p.interleave == 1 ? v == body.getArgument(0)
                             : isRoundedToBF16(v, body.getArgument(0));
  };
  bool xw = isInput(mul.getLhs()) && isWeight(mul.getRhs());
  bool wx = isInput(mul.getRhs()) && isWeight(mul.getLhs());
  if (!xw && !wx)
    return std::nullopt;
  if (!cast<MemRefType>(p.x.getType()).getElementType().isF32() ||
      !cast<MemRefType>(p.y.getType()).getElementType().isF32())
    return std::nullopt;
  return p;
}

/// The outer-product micro-kernel over panel-stored weights.
///
///   for row chunks of at most x-chunk-bytes of x      (x chunk in L3)
///   scf.parallel over panels p                        (threads)
///     for k blocks [kb, kb + kBlock)                  (panel slice in L1)
///       for row tiles of `rows` rows                  (x rows broadcast)
///         accumulators[rows][nv] = y tile
///         for k in block: nv weight vectors, rows broadcasts, rows*nv FMAs
///         y tile = accumulators
///       the last T % rows rows: tiles of 8, 4, 2, 1 rows
///
/// The weight panels are zero-padded to whole panels, so weight loads never
/// need masks; only the y columns of the last, partial panel do.
struct PanelKernel {
  Value x, w, y;       // memrefs [T, K] f32, [P, K, W] any float, [T, N] f32
  int64_t n, k, panel; // output features, reduction length, panel width
  int64_t vl, rows;    // f32 lanes per vector, rows per register tile
  int64_t kBlock;      // a multiple of `group` when quantized
  /// Quantized weights: w holds i8 values ([P, K, W]) or i4 pairs ([P, K,
  /// W / 2], lane j and j + W/2 in byte j); scales [P, groups, W] bf16.
  Value scales;
  int64_t bits = 0, group = 0;
  /// --compute=int8: the integer dot-product tile instead of the f32 one.
  std::optional<Int8DotKernel> int8Dot = std::nullopt;
  /// > 0: a one-row tile (decode) prefetches its weight rows this many k
  /// rows of `w` ahead (quantized panels only: see runOnOperation).
  int64_t prefetchRows = 0;
  /// Rows of x per pass over the panels (a multiple of `rows`, or 0: all).
  int64_t rowChunk = 0;
  /// Panels a one-row x (a decode step) reads at once, each a sequential
  /// stream of its own (emitDecode); 1: one panel at a time.
  int64_t decodeStreams = 1;
  /// The target's vector registers.
  int64_t registers = 16;

  /// Panels per decode tile: `decodeStreams`, but one for unpacked
  /// (quantized) weights on a target with fewer than 32 vector registers:
  /// with AVX2's 16, LLVM's schedule of the unrolled group loop of two
  /// int8 panels spilled 14-22 vectors (test/codegen/gemm-asm.test).
  int64_t streams() const { return bits && registers < 32 ? 1 : decodeStreams; }

  /// bf16 pairs (interleave 2): w is [P, ceil(K / 2), 2 W] bf16 (lane j of
  /// a row holds w(j, 2 kk) and w(j, 2 kk + 1)), x is [T, ceil(K / 2)] i32
  /// holding x(t, 2 kk) (low half) and x(t, 2 kk + 1) as bf16, and `k`,
  /// `kBlock` count pairs. `bf16Dot`: AVX512_BF16 dot products; otherwise
  /// f32 FMAs of the widened halves, odd then even (vdpbf16ps's order).
  int64_t interleave = 1;
  bool bf16Dot = true;

  /// One vector of a panel's columns: its offset in the panel and how many
  /// of its lanes are real output features (the rest is padding).
  struct Lane {
    int64_t offset, valid;
  };

  VectorType accType() const {
    return VectorType::get({vl}, Float32Type::get(x.getContext()));
  }

  /// The bf16 in the high / low half of each i32 lane of `pair`, as f32.
  Value highHalf(ImplicitLocOpBuilder &b, Value pair) const {
    auto type = cast<VectorType>(pair.getType());
    Value mask = arith::ConstantOp::create(
        b, type,
        DenseElementsAttr::get(type,
                               b.getI32IntegerAttr(int32_t(0xffff0000u))));
    return arith::BitcastOp::create(b, accType(),
                                    arith::AndIOp::create(b, pair, mask));
  }
  Value lowHalf(ImplicitLocOpBuilder &b, Value pair) const {
    auto type = cast<VectorType>(pair.getType());
    Value sixteen = arith::ConstantOp::create(
        b, type, DenseElementsAttr::get(type, b.getI32IntegerAttr(16)));
    return arith::BitcastOp::create(b, accType(),
                                    arith::ShLIOp::create(b, pair, sixteen));
  }

  /// y[t0 + i, p * W + lanes] += sum_{k in [k0, k1)} x[t0 + i, k] * w(p, k)
  /// for i < m and every panel p of `ps` (all with the same `lanes`), with
  /// m x ps.size() x lanes.size() accumulators in registers. A decode tile
  /// over several panels reads one weight stream per panel (emitDecode).
  void emitTile(ImplicitLocOpBuilder &b, Value t0, int64_t m,
                ArrayRef<Value> ps, ArrayRef<Lane> lanes, Value k0,
                Value k1) const {
    VectorType acc = accType();
    auto wElt = cast<MemRefType>(w.getType()).getElementType();
    VectorType wVec = VectorType::get({vl}, wElt);
    // Accumulator column a is lane a % lanes.size() of panel
    // ps[a / lanes.size()].
    size_t cols = ps.size() * lanes.size();
    SmallVector<Value> rowIdx, colIdx, masks;
    SmallVector<Value> col0s;
    for (Value p : ps)
      col0s.push_back(arith::MulIOp::create(b, p, indexConst(b, panel)));
    for (int64_t i = 0; i < m; ++i)
      rowIdx.push_back(arith::AddIOp::create(b, t0, indexConst(b, i)));
    for (Value col0 : col0s) {
      for (const Lane &lane : lanes) {
        colIdx.push_back(
            arith::AddIOp::create(b, col0, indexConst(b, lane.offset)));
        masks.push_back(lane.valid < vl
                            ? vector::ConstantMaskOp::create(
                                  b, VectorType::get({vl}, b.getI1Type()),
                                  ArrayRef<int64_t>{lane.valid})
                                  .getResult()
                            : Value());
      }
    }
    Value zero;
    auto zeroVector = [&]() {
      if (!zero)
        zero = arith::ConstantOp::create(
            b, acc, DenseElementsAttr::get(acc, b.getF32FloatAttr(0.0f)));
      return zero;
    };
    auto loadY = [&](int64_t i, size_t j) -> Value {
      SmallVector<Value, 2> idx = {rowIdx[i], colIdx[j]};
      if (!masks[j])
        return vector::LoadOp::create(b, acc, y, idx);
      return vector::MaskedLoadOp::create(b, acc, y, idx, masks[j],
                                          zeroVector());
    };
    SmallVector<Value> init;
    for (int64_t i = 0; i < m; ++i)
      for (size_t j = 0; j < cols; ++j)
        init.push_back(loadY(i, j));
    // An i4 pair sign-extended to an i32 lane is v = 16 hi + lo (lo
    // unsigned). One op isolates each nibble at a known power of two:
    // v << 28 = lo * 2^28 (signed) and v & -16 = hi * 16; the scales of the
    // low and high lanes carry 2^-28 and 2^-4 instead. Powers of two are
    // exact, so the products equal q * scale bit for bit.
    VectorType i32Vec = VectorType::get({vl}, b.getI32Type());
    Value shift28, highMask;
    size_t half = size_t(panel / vl / 2);
    if (bits == 4) {
      shift28 = arith::ConstantOp::create(
          b, i32Vec, DenseElementsAttr::get(i32Vec, b.getI32IntegerAttr(28)));
      highMask = arith::ConstantOp::create(
          b, i32Vec, DenseElementsAttr::get(i32Vec, b.getI32IntegerAttr(-16)));
    }
    // A decode tile prefetches a weight line once: where a row is shorter
    // than a line (int8: 2 rows per line, int4: 4), only the rows that
    // start one, which the chained k loop below knows (its steps are
    // k, k+1, ... from a k that starts a line). Prefetching every row had
    // each line prefetched 2 or 4 times.
    int64_t lineRows = rowsPerLine(w);
    bool prefetchThisRow = true;
    // The weight vectors of panel p at k, as f32: widened, or the quantized
    // values unpacked (their group's scale is applied to the group's sums).
    auto panelVectors = [&](ImplicitLocOpBuilder &ib, Value p, Value kk) {
      SmallVector<Value> ws;
      if (interleave == 2) {
        // Raw bf16 pair vectors; widened halves without bf16Dot: odd
        // (high half of each i32 lane) then even, per lane vector.
        VectorType pairVec = VectorType::get({2 * vl}, ib.getBF16Type());
        for (const Lane &lane : lanes) {
          Value v = vector::LoadOp::create(
              ib, pairVec, w,
              ValueRange{p, kk, indexConst(ib, 2 * lane.offset)});
          if (bf16Dot) {
            ws.push_back(v);
            continue;
          }
          Value pair = vector::BitCastOp::create(ib, i32Vec, v);
          ws.push_back(highHalf(ib, pair));
          ws.push_back(lowHalf(ib, pair));
        }
        return ws;
      }
      if (bits == 4) {
        // Byte j of the row holds lanes j and j + W/2: vector h of bytes
        // unpacks into lane vectors h (low nibbles) and h + W/(2 vl).
        VectorType byteVec = VectorType::get({vl}, ib.getI8Type());
        SmallVector<Value> low, high;
        for (size_t h = 0; h < half && h < lanes.size(); ++h) {
          Value bytes = arith::ExtSIOp::create(
              ib, i32Vec,
              vector::LoadOp::create(
                  ib, byteVec, w, ValueRange{p, kk, indexConst(ib, h * vl)}));
          if (m == 1 && prefetchThisRow)
            prefetchWeights(ib, w, p, kk, h * vl, prefetchRows);
          low.push_back(arith::ShLIOp::create(ib, bytes, shift28));
          high.push_back(arith::AndIOp::create(ib, bytes, highMask));
        }
        for (size_t j = 0; j < lanes.size(); ++j)
          ws.push_back(arith::SIToFPOp::create(
              ib, acc, j < half ? low[j] : high[j - half]));
      } else {
        for (const Lane &lane : lanes) {
          Value v = vector::LoadOp::create(
              ib, wVec, w, ValueRange{p, kk, indexConst(ib, lane.offset)});
          if (m == 1 && prefetchThisRow)
            prefetchWeights(ib, w, p, kk, lane.offset, prefetchRows);
          if (bits == 8)
            ws.push_back(arith::SIToFPOp::create(ib, acc, v));
          else
            ws.push_back(wVec == acc ? v : arith::ExtFOp::create(ib, acc, v));
        }
      }
      return ws;
    };
    auto weightVectors = [&](ImplicitLocOpBuilder &ib, Value kk) {
      SmallVector<Value> ws;
      for (Value p : ps)
        llvm::append_range(ws, panelVectors(ib, p, kk));
      return ws;
    };
    // One k step: the weight vectors at k, one broadcast per row, one FMA
    // per accumulator.
    size_t tileSize = init.size();
    auto kStep = [&](ImplicitLocOpBuilder &ib, Value kk, ValueRange accs) {
      SmallVector<Value> ws = weightVectors(ib, kk), next;
      if (interleave == 2) {
        for (int64_t i = 0; i < m; ++i) {
          Value pair = vector::BroadcastOp::create(
              ib, i32Vec,
              memref::LoadOp::create(ib, x, ValueRange{rowIdx[i], kk}));
          Value xs = vector::BitCastOp::create(
              ib, VectorType::get({2 * vl}, ib.getBF16Type()), pair);
          Value xOdd, xEven;
          if (!bf16Dot) {
            xOdd = highHalf(ib, pair);
            xEven = lowHalf(ib, pair);
          }
          for (size_t j = 0; j < cols; ++j) {
            Value a = accs[i * cols + j];
            if (bf16Dot) {
              next.push_back(
                  x86vector::DotBF16Op::create(ib, acc, a, xs, ws[j]));
              continue;
            }
            a = vector::FMAOp::create(ib, xOdd, ws[2 * j], a);
            next.push_back(vector::FMAOp::create(ib, xEven, ws[2 * j + 1], a));
          }
        }
        return next;
      }
      for (int64_t i = 0; i < m; ++i) {
        Value xv = memref::LoadOp::create(ib, x, ValueRange{rowIdx[i], kk});
        Value xb = vector::BroadcastOp::create(ib, acc, xv);
        for (size_t j = 0; j < cols; ++j)
          next.push_back(
              vector::FMAOp::create(ib, xb, ws[j], accs[i * cols + j]));
      }
      return next;
    };
    // A one-row tile (decode) has too few accumulators to hide the FMA
    // latency: its k loop keeps `chains` independent sets (k, k+1, ...
    // round robin), summed at the end; a tile over several panels has that
    // many more accumulators per set and needs fewer sets.
    int64_t chains =
        m == 1 ? std::max<int64_t>(1, kDecodeChains / int64_t(ps.size())) : 1;
    SmallVector<Value> sets(init);
    for (int64_t c = 1; c < chains; ++c)
      sets.append(tileSize, zeroVector());
    Value cChains = indexConst(b, chains);
    // k in [ka, kb) into the sets: the chained main loop, then the last
    // (kb - ka) % chains steps into the first set.
    auto steps = [&](ImplicitLocOpBuilder &sb, Value ka, Value kb,
                     ValueRange in) {
      Value kMain =
          chains == 1
              ? kb
              : arith::AddIOp::create(
                    sb, ka,
                    arith::MulIOp::create(
                        sb,
                        arith::DivUIOp::create(
                            sb, arith::SubIOp::create(sb, kb, ka), cChains),
                        cChains))
                    .getResult();
      auto main = scf::ForOp::create(
          sb, ka, kMain, cChains, in,
          [&](OpBuilder &nb, Location loc, Value kk, ValueRange accs) {
            ImplicitLocOpBuilder ib(loc, nb);
            SmallVector<Value> next;
            for (int64_t c = 0; c < chains; ++c) {
              Value kc =
                  c ? arith::AddIOp::create(ib, kk, indexConst(ib, c)) : kk;
              prefetchThisRow = chains % lineRows != 0 || c % lineRows == 0;
              llvm::append_range(
                  next, kStep(ib, kc, accs.slice(c * tileSize, tileSize)));
            }
            prefetchThisRow = true;
            scf::YieldOp::create(ib, next);
          });
      SmallVector<Value> out(main.getResults());
      if (chains == 1)
        return out;
      SmallVector<Value> first(out.begin(), out.begin() + tileSize);
      auto tail = scf::ForOp::create(
          sb, kMain, kb, indexConst(sb, 1), first,
          [&](OpBuilder &nb, Location loc, Value kk, ValueRange accs) {
            ImplicitLocOpBuilder ib(loc, nb);
            scf::YieldOp::create(ib, kStep(ib, kk, accs));
          });
      llvm::copy(tail.getResults(), out.begin());
      return out;
    };
    auto sumChains = [&](ImplicitLocOpBuilder &sb, SmallVector<Value> all) {
      for (int64_t c = 1; c < chains; ++c)
        for (size_t a = 0; a < tileSize; ++a)
          all[a] = arith::AddFOp::create(sb, all[a], all[c * tileSize + a]);
      all.resize(tileSize);
      return all;
    };
    SmallVector<Value> results;
    if (int8Dot) {
      SmallVector<int64_t> offsets;
      for (const Lane &lane : lanes)
        offsets.push_back(lane.offset);
      results = int8Dot->accumulate(b, rowIdx, ps, offsets, k0, k1, init);
    } else if (!bits) {
      results = sumChains(b, steps(b, k0, k1, sets));
    } else {
      // One group of `group` k at a time (k0 is a multiple of the group):
      // the tile sums the group's unscaled products into fresh accumulators
      // and adds each sum times its scale vector to the tile once per group
      // (one FMA per accumulator and group). Scaling every weight vector at
      // every k instead cost a multiply on the FMA ports per weight vector:
      // 2 per 24 FMAs of a 12-row AVX-512 tile, whose prefill ran at 0.89
      // of the bf16 tile's rate (0.96 with the sums scaled).
      VectorType scaleVec = VectorType::get({vl}, b.getBF16Type());
      auto groups = scf::ForOp::create(
          b, k0, k1, indexConst(b, group), init,
          [&](OpBuilder &nb, Location loc, Value kg, ValueRange accs) {
            ImplicitLocOpBuilder ib(loc, nb);
            Value g = arith::DivUIOp::create(ib, kg, indexConst(ib, group));
            SmallVector<Value> scaleVecs;
            for (size_t a = 0; a < cols; ++a) {
              Value p = ps[a / lanes.size()];
              size_t j = a % lanes.size();
              const Lane &lane = lanes[j];
              // The scales are a second, slower stream beside the weights,
              // which a decode tile waits on unless they are prefetched too
              // (2-3% of its time): as many groups ahead as the weight rows.
              // (The integer dot-product tile lost 3-4% with the same
              // prefetch and has none.)
              if (m == 1)
                prefetchWeights(ib, scales, p, g, lane.offset,
                                (prefetchRows + group - 1) / group);
              Value raw = vector::LoadOp::create(
                  ib, scaleVec, scales,
                  ValueRange{p, g, indexConst(ib, lane.offset)});
              // Widened by hand (widenBF16Exactly): from an arith.extf,
              // LLVM narrowed the group's scaling back to bf16 arithmetic,
              // which x86-64-v3 emulates with __truncsfbf2 calls.
              Value sv = widenBF16Exactly(ib, raw);
              if (bits == 4) {
                // The nibbles' powers of two (see above).
                sv = arith::MulFOp::create(
                    ib, sv,
                    arith::ConstantOp::create(
                        ib, acc,
                        DenseElementsAttr::get(
                            acc, ib.getF32FloatAttr(j < half ? 0x1p-28f
                                                             : 0x1p-4f))));
              }
              scaleVecs.push_back(sv);
            }
            Value kEnd = arith::MinUIOp::create(
                ib, arith::AddIOp::create(ib, kg, indexConst(ib, group)), k1);
            SmallVector<Value> zeros(chains * tileSize, zeroVector());
            SmallVector<Value> sums = sumChains(ib, steps(ib, kg, kEnd, zeros));
            SmallVector<Value> next;
            for (size_t a = 0; a < tileSize; ++a)
              next.push_back(vector::FMAOp::create(
                  ib, sums[a], scaleVecs[a % cols], accs[a]));
            scf::YieldOp::create(ib, next);
          });
      results.assign(groups.getResults().begin(), groups.getResults().end());
    }
    for (int64_t i = 0; i < m; ++i)
      for (size_t j = 0; j < cols; ++j) {
        Value v = results[i * cols + j];
        SmallVector<Value, 2> idx = {rowIdx[i], colIdx[j]};
        if (masks[j])
          vector::MaskedStoreOp::create(b, y, idx, masks[j], v);
        else
          vector::StoreOp::create(b, v, y, idx);
      }
  }

  /// Rows [r0, r1) of panel `p` for k in [k0, k1): full tiles of `rows`
  /// rows, then the remainder in tiles of decreasing powers of two.
  void emitPanel(ImplicitLocOpBuilder &b, Value p, ArrayRef<Lane> lanes,
                 Value k0, Value k1, Value r0, Value r1) const {
    Value c0 = indexConst(b, 0), cRows = indexConst(b, rows);
    Value total = arith::SubIOp::create(b, r1, r0);
    Value fullEnd = arith::AddIOp::create(
        b, r0,
        arith::MulIOp::create(b, arith::DivUIOp::create(b, total, cRows),
                              cRows));
    scf::ForOp::create(b, r0, fullEnd, cRows, ValueRange{},
                       [&](OpBuilder &fb, Location l, Value t, ValueRange) {
                         ImplicitLocOpBuilder tb(l, fb);
                         emitTile(tb, t, rows, {p}, lanes, k0, k1);
                         scf::YieldOp::create(tb);
                       });
    // rem = r1 - fullEnd < rows, covered by the binary digits of rem.
    Value rem = arith::SubIOp::create(b, r1, fullEnd);
    Value t = fullEnd;
    for (int64_t m = llvm::PowerOf2Ceil(rows) / 2; m >= 1; m /= 2) {
      if (m >= rows)
        continue;
      Value bit = arith::AndIOp::create(b, rem, indexConst(b, m));
      Value has = arith::CmpIOp::create(b, arith::CmpIPredicate::ne, bit, c0);
      scf::IfOp::create(b, has, [&](OpBuilder &ob, Location l) {
        ImplicitLocOpBuilder ib(l, ob);
        emitTile(ib, t, m, {p}, lanes, k0, k1);
        scf::YieldOp::create(ib);
      });
      t = arith::AddIOp::create(b, t, bit);
    }
  }

  /// The vectors of panel `p`: full panels have W / vl full vectors; the
  /// last one stops at the last real output feature.
  SmallVector<Lane> lanesOf(int64_t validColumns) const {
    SmallVector<Lane> lanes;
    for (int64_t off = 0; off < panel && off < validColumns; off += vl)
      lanes.push_back({off, std::min(vl, validColumns - off)});
    return lanes;
  }

  /// `body(lanes)` for panel p: the full panel's lanes, or, where the last
  /// panel is partial, a run-time choice between those and its lanes.
  void withPanelLanes(
      ImplicitLocOpBuilder &b, Value p,
      function_ref<void(ImplicitLocOpBuilder &, ArrayRef<Lane>)> body) const {
    int64_t fullPanels = n / panel;
    if (fullPanels * panel == n)
      return body(b, lanesOf(panel));
    Value isFull = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, p,
                                         indexConst(b, fullPanels));
    ifElse(
        b, isFull, [&](ImplicitLocOpBuilder &tb) { body(tb, lanesOf(panel)); },
        [&](ImplicitLocOpBuilder &tb) {
          body(tb, lanesOf(n - fullPanels * panel));
        });
  }

  /// y += x w^T: with streams() > 1, a one-row x (known only at run
  /// time: prefill chunks and decode steps share the code) takes
  /// emitDecode, any other emitRows.
  void emit(ImplicitLocOpBuilder &b) const {
    Value c0 = indexConst(b, 0);
    Value total = memref::DimOp::create(b, x, c0);
    if (streams() > 1) {
      Value oneRow = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, total,
                                           indexConst(b, 1));
      ifElse(
          b, oneRow, [&](ImplicitLocOpBuilder &tb) { emitDecode(tb); },
          [&](ImplicitLocOpBuilder &eb) { emitRows(eb, total); });
      return;
    }
    emitRows(b, total);
  }

  /// One x row (a decode step) against all panels, S = streams() panels
  /// per tile over all of K. With S streams and H = (full panels) / S,
  /// item i < H reads panels i, i + H, ..., i + (S - 1) H side by side;
  /// the panels past S H (a last full one, the partial one) are items of
  /// one panel. A thread's static share of the items then reads S
  /// sequential streams, each from its own part of the weights: the
  /// hardware prefetcher runs ahead on each, where one stream (a tile of
  /// one panel) keeps too few lines in flight to reach the read bandwidth.
  void emitDecode(ImplicitLocOpBuilder &b) const {
    int64_t panels = (n + panel - 1) / panel, fullPanels = n / panel;
    int64_t streamCount = streams();
    int64_t groupsOf = fullPanels / streamCount;
    int64_t singles = panels - groupsOf * streamCount;
    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1), cK = indexConst(b, k);
    auto singlePanel = [&](ImplicitLocOpBuilder &sb, Value p) {
      withPanelLanes(sb, p,
                     [&](ImplicitLocOpBuilder &tb, ArrayRef<Lane> lanes) {
                       emitTile(tb, c0, 1, {p}, lanes, c0, cK);
                     });
    };
    scf::ParallelOp::create(
        b, ValueRange{c0}, ValueRange{indexConst(b, groupsOf + singles)},
        ValueRange{c1}, [&](OpBuilder &pb, Location loc, ValueRange iv) {
          ImplicitLocOpBuilder ib(loc, pb);
          Value i = iv[0];
          auto grouped = [&](ImplicitLocOpBuilder &gb) {
            SmallVector<Value> ps = {i};
            for (int64_t s = 1; s < streamCount; ++s)
              ps.push_back(
                  arith::AddIOp::create(gb, i, indexConst(gb, s * groupsOf)));
            emitTile(gb, c0, 1, ps, lanesOf(panel), c0, cK);
          };
          if (groupsOf == 0) {
            singlePanel(ib, i);
          } else if (singles == 0) {
            grouped(ib);
          } else {
            Value isGrouped = arith::CmpIOp::create(
                ib, arith::CmpIPredicate::ult, i, indexConst(ib, groupsOf));
            // Item i >= H is panel S H + (i - H).
            ifElse(ib, isGrouped, grouped, [&](ImplicitLocOpBuilder &tb) {
              singlePanel(
                  tb, arith::AddIOp::create(
                          tb, i, indexConst(tb, groupsOf * (streamCount - 1))));
            });
          }
          scf::ReduceOp::create(ib);
        });
  }

  /// Every panel passes over x `rowChunk` rows at a time (all rows when
  /// rowChunk is 0 or T is smaller): each panel reads all of its chunk of
  /// x, which past a few MB of x (thousands of rows, K in the thousands)
  /// no longer stays in cache from one panel to the next and would come
  /// from memory once per panel; per chunk the weights are read again
  /// instead, once per pass.
  void emitRows(ImplicitLocOpBuilder &b, Value total) const {
    Value c0 = indexConst(b, 0);
    if (rowChunk <= 0)
      return emitChunk(b, c0, total);
    Value chunk = indexConst(b, rowChunk);
    scf::ForOp::create(
        b, c0, total, chunk, ValueRange{},
        [&](OpBuilder &fb, Location l, Value r0, ValueRange) {
          ImplicitLocOpBuilder cb(l, fb);
          emitChunk(cb, r0,
                    arith::MinUIOp::create(
                        cb, arith::AddIOp::create(cb, r0, chunk), total));
          scf::YieldOp::create(cb);
        });
  }

  /// Rows [r0, r1) of every panel, panels in parallel.
  void emitChunk(ImplicitLocOpBuilder &b, Value r0, Value r1) const {
    int64_t panels = (n + panel - 1) / panel;
    Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
    scf::ParallelOp::create(
        b, ValueRange{c0}, ValueRange{indexConst(b, panels)}, ValueRange{c1},
        [&](OpBuilder &pb, Location loc, ValueRange iv) {
          ImplicitLocOpBuilder ib(loc, pb);
          Value p = iv[0];
          Value cK = indexConst(ib, k), cKB = indexConst(ib, kBlock);
          scf::ForOp::create(
              ib, c0, cK, cKB, ValueRange{},
              [&](OpBuilder &fb, Location l, Value k0, ValueRange) {
                ImplicitLocOpBuilder kb(l, fb);
                Value k1 = arith::MinUIOp::create(
                    kb, arith::AddIOp::create(kb, k0, cKB), cK);
                withPanelLanes(
                    kb, p, [&](ImplicitLocOpBuilder &tb, ArrayRef<Lane> lanes) {
                      emitPanel(tb, p, lanes, k0, k1, r0, r1);
                    });
                scf::YieldOp::create(kb);
              });
          scf::ReduceOp::create(ib);
        });
  }
};

/// x [T, K] f32 packed into bf16 pairs for the interleaved kernel: a new
/// [T, ceil(K / 2)] i32 buffer whose element (t, kk) holds x(t, 2 kk) rounded
/// to bf16 in its low half and x(t, 2 kk + 1) (0 past K) in its high half.
/// Rows in parallel, `vl` pairs per vector step, the last K % (2 vl) inputs
/// one pair at a time.
Value packBF16Pairs(ImplicitLocOpBuilder &b, Value x, int64_t k, int64_t vl) {
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  int64_t pairs = (k + 1) / 2, kMain = k / (2 * vl) * (2 * vl);
  Value rows = memref::DimOp::create(b, x, c0);
  auto packedType =
      MemRefType::get({ShapedType::kDynamic, pairs}, b.getI32Type());
  Value packed = memref::AllocOp::create(b, packedType, ValueRange{rows});
  Type i32 = b.getI32Type();
  auto i32Const = [&](ImplicitLocOpBuilder &ib, Type type, int32_t v) {
    TypedAttr attr = ib.getI32IntegerAttr(v);
    if (auto vec = dyn_cast<VectorType>(type))
      attr = DenseElementsAttr::get(vec, attr);
    return arith::ConstantOp::create(ib, attr).getResult();
  };
  // The pair (lo, hi) of rounded bits (low halves zero) as one i32.
  auto combine = [&](ImplicitLocOpBuilder &ib, Value lo, Value hi) {
    return arith::OrIOp::create(
        ib, arith::ShRUIOp::create(ib, lo, i32Const(ib, lo.getType(), 16)), hi);
  };
  scf::ParallelOp::create(
      b, ValueRange{c0}, ValueRange{rows}, ValueRange{c1},
      [&](OpBuilder &pb, Location loc, ValueRange iv) {
        ImplicitLocOpBuilder ib(loc, pb);
        Value t = iv[0];
        if (kMain > 0) {
          auto wide = VectorType::get({2 * vl}, ib.getF32Type());
          SmallVector<int64_t> even, odd;
          for (int64_t i = 0; i < vl; ++i) {
            even.push_back(2 * i);
            odd.push_back(2 * i + 1);
          }
          scf::ForOp::create(
              ib, c0, indexConst(ib, kMain), indexConst(ib, 2 * vl),
              ValueRange{},
              [&](OpBuilder &fb, Location l, Value kk, ValueRange) {
                ImplicitLocOpBuilder vb(l, fb);
                Value bits = roundedBF16Bits(
                    vb, vector::LoadOp::create(vb, wide, x, ValueRange{t, kk}));
                Value lo = vector::ShuffleOp::create(vb, bits, bits, even);
                Value hi = vector::ShuffleOp::create(vb, bits, bits, odd);
                Value at = arith::DivUIOp::create(vb, kk, indexConst(vb, 2));
                vector::StoreOp::create(vb, combine(vb, lo, hi), packed,
                                        ValueRange{t, at});
                scf::YieldOp::create(vb);
              });
        }
        if (kMain < k) {
          scf::ForOp::create(
              ib, indexConst(ib, kMain / 2), indexConst(ib, pairs), c1,
              ValueRange{},
              [&](OpBuilder &fb, Location l, Value kk, ValueRange) {
                ImplicitLocOpBuilder sb(l, fb);
                Value k0 = arith::MulIOp::create(sb, kk, indexConst(sb, 2));
                Value k1 = arith::AddIOp::create(sb, k0, indexConst(sb, 1));
                Value lo = roundedBF16Bits(
                    sb, memref::LoadOp::create(sb, x, ValueRange{t, k0}));
                Value inside = arith::CmpIOp::create(
                    sb, arith::CmpIPredicate::ult, k1, indexConst(sb, k));
                // x(t, K) does not exist: the pad input is 0.
                auto hi = scf::IfOp::create(
                    sb, inside,
                    [&](OpBuilder &ob, Location l2) {
                      ImplicitLocOpBuilder tb(l2, ob);
                      scf::YieldOp::create(
                          tb,
                          roundedBF16Bits(tb, memref::LoadOp::create(
                                                  tb, x, ValueRange{t, k1})));
                    },
                    [&](OpBuilder &ob, Location l2) {
                      ImplicitLocOpBuilder tb(l2, ob);
                      scf::YieldOp::create(tb, i32Const(tb, i32, 0));
                    });
                memref::StoreOp::create(sb, combine(sb, lo, hi.getResult(0)),
                                        packed, ValueRange{t, kk});
                scf::YieldOp::create(sb);
              });
        }
        scf::ReduceOp::create(ib);
      });
  return packed;
}

struct VectorizeLinearPass
    : hymba::impl::HymbaVectorizeLinearBase<VectorizeLinearPass> {
  using Base::Base;

  /// Rows per register tile: rows x nv accumulators, nv weight vectors and
  /// one broadcast must fit the vector registers; quantized weights also
  /// keep nv scale vectors and two temporaries for unpacking (with one
  /// fewer, LLVM's unrolled AVX-512 int8 loop spills a scale vector).
  /// The f32 emulation of bf16 pairs keeps two widened halves per weight
  /// vector and two per broadcast pair (`twoHalves`).
  int64_t tileRows(int64_t nv, bool quantized, bool twoHalves = false) const {
    int64_t reserved = quantized || twoHalves ? 2 * nv + 3 : nv + 1;
    return std::max<int64_t>(1, (vectorRegisters - reserved) / nv);
  }

  /// Rows of an int8 dot-product tile: rows x nv i32 sums and as many f32
  /// accumulators, nv weight vectors, the x broadcast and the sign-flip
  /// constant; int4 also keeps the nv nibble halves it unpacks (measured on
  /// the 1.5B widths, 512-token prefill: int8 gains 3-4% from its seventh
  /// AVX-512 row, int4 loses up to 5% with it). test/codegen/gemm-asm.test
  /// checks the spills.
  int64_t int8DotTileRows(int64_t nv, int64_t bits,
                          Int8DotKernel::Form form) const {
    int64_t reserved = nv + 2 + (bits == 4 ? nv : 0);
    // pmaddubsw's form also keeps the ones pmaddwd multiplies by (and, for
    // int8, |x|, in place of the sign-flip constant) and its pair sums.
    if (form == Int8DotKernel::Form::MaddUbs)
      reserved += 2;
    return std::max<int64_t>(1, (vectorRegisters - reserved) / (2 * nv));
  }

  /// How the integer dot products are computed on this target.
  Int8DotKernel::Form int8DotForm() const {
    if (vnni)
      return Int8DotKernel::Form::VNNI;
    return maddubs ? Int8DotKernel::Form::MaddUbs
                   : Int8DotKernel::Form::Portable;
  }

  void runOnOperation() override {
    if (rowChunk < kDotBlock || rowChunk % kDotBlock) {
      getOperation()->emitError()
          << "row-chunk must be a positive multiple of " << kDotBlock;
      return signalPassFailure();
    }
    if (vectorWidth <= 0 || vectorRegisters < 4 || kBlockSize <= 0 ||
        decodeStreams < 1) {
      getOperation()->emitError()
          << "vector-width, k-block and decode-streams must be positive and "
             "vector-registers at least 4";
      return signalPassFailure();
    }
    SmallVector<std::pair<linalg::GenericOp, Projection>> targets;
    getOperation()->walk([&](linalg::GenericOp op) {
      std::optional<Projection> p = matchProjection(op);
      if (!p)
        p = matchInt8DotProjection(op);
      if (p)
        targets.push_back({op, *p});
    });
    Type f32 = Float32Type::get(&getContext());
    for (auto &[op, proj] : targets) {
      auto xType = cast<MemRefType>(proj.x.getType());
      auto wType = cast<MemRefType>(proj.w.getType());
      auto yType = cast<MemRefType>(proj.y.getType());
      // vector.load needs unit stride in the minor dimension.
      if (!xType.isLastDimUnitStride() || !wType.isLastDimUnitStride() ||
          !yType.isLastDimUnitStride() ||
          (proj.scales &&
           !cast<MemRefType>(proj.scales.getType()).isLastDimUnitStride()))
        continue;
      ImplicitLocOpBuilder b(op.getLoc(), op);
      if (proj.panel) {
        if (proj.panel % vectorWidth != 0) {
          op.emitOpError() << "weight panel width " << proj.panel
                           << " is not a multiple of the vector width "
                           << int64_t(vectorWidth);
          return signalPassFailure();
        }
        int64_t nv = proj.panel / vectorWidth;
        // i4 rows unpack into pairs of lane vectors; an odd count of them
        // leaves the projection to the scalar loops.
        if (proj.bits == 4 && nv % 2 != 0)
          continue;
        PanelKernel kernel{proj.x,
                           proj.w,
                           proj.y,
                           yType.getDimSize(1),
                           wType.getDimSize(1),
                           proj.panel,
                           vectorWidth,
                           tileRows(nv, proj.bits != 0),
                           kBlockSize,
                           proj.scales,
                           proj.bits,
                           proj.group};
        if (proj.bits)
          kernel.kBlock =
              std::max<int64_t>(1, kBlockSize / proj.group) * proj.group;
        // A buffer of x the kernel reads (bf16 pairs, group sums), freed
        // after it.
        Value scratch;
        if (proj.interleave == 2) {
          if (xType.isDynamicDim(1))
            continue;
          // The kernel walks pairs of k: rows of 2 W bf16 (a view of the
          // same bytes), against x packed into pairs.
          auto collapsed = memref::CollapseShapeOp::computeCollapsedType(
              wType, {{0}, {1}, {2, 3}});
          if (!memref::CollapseShapeOp::isGuaranteedCollapsible(
                  wType, {{0}, {1}, {2, 3}}))
            continue;
          kernel.w = memref::CollapseShapeOp::create(
              b, collapsed, proj.w,
              ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
          scratch = packBF16Pairs(b, proj.x, xType.getDimSize(1), vectorWidth);
          kernel.x = scratch;
          kernel.interleave = 2;
          kernel.bf16Dot = bf16Dot;
          kernel.rows = tileRows(nv, false, !bf16Dot);
          kernel.kBlock = std::max<int64_t>(1, kBlockSize / 2);
        } else if (proj.xScales) {
          // vpdpbusd reads 4 inputs per lane: quads of x and of the panel
          // rows [P, K / 4, W, 4], seen as [P, K / 4, 4 W] bytes.
          SmallVector<ReassociationIndices> quads = {{0}, {1}, {2, 3}};
          kernel.k = xType.getDimSize(1);
          if (ShapedType::isDynamic(kernel.k) || kernel.k % 4 ||
              kernel.k > wType.getDimSize(1) * 4 || proj.group % 4 ||
              (vectorWidth != 8 && vectorWidth != 16) ||
              !memref::CollapseShapeOp::isGuaranteedCollapsible(wType, quads)) {
            op.emitOpError("int8 dot products need K and the group size to "
                           "be multiples of 4, a vector width of 8 or 16 and "
                           "contiguous panels");
            return signalPassFailure();
          }
          Int8DotKernel::Form form = int8DotForm();
          kernel.rows = int8DotTileRows(nv, proj.bits, form);
          // Group sums of x only where the weights' bias is taken back.
          if (Int8DotKernel::biasShift(form, proj.bits) >= 0)
            scratch = buildGroupSums(b, proj.x, proj.group);
          kernel.int8Dot = Int8DotKernel{
              proj.x,      proj.xScales,
              scratch,     memref::CollapseShapeOp::create(b, proj.w, quads),
              proj.scales, proj.group,
              proj.bits,   vectorWidth,
              form};
          kernel.int8Dot->prefetchRows =
              rowsForBytes(kernel.int8Dot->w, prefetchDistance);
        }
        // Only quantized panels are prefetched, whose tiles unpack every
        // weight vector and gained 10-20% with one stream per tile. Float
        // panels stream at the read bandwidth without (f32 lost ~5% with
        // them); bf16 ones did too once decode tiles read two panels side
        // by side: on Zen 4, without prefetches bf16 decoded 1.18x (1
        // thread) and 1.15x (2 threads) faster, and --compute=bf16 1.26x (1
        // thread), medians of 4-8 alternated rounds.
        if (proj.bits)
          kernel.prefetchRows = rowsForBytes(kernel.w, prefetchDistance);
        auto xm = cast<MemRefType>(kernel.x.getType());
        if (xChunkBytes > 0 && !xm.isDynamicDim(1)) {
          int64_t rowBytes =
              xm.getDimSize(1) * int64_t(xm.getElementTypeBitWidth() / 8);
          if (rowBytes > 0)
            kernel.rowChunk =
                std::max<int64_t>(1, xChunkBytes / (rowBytes * kernel.rows)) *
                kernel.rows;
        }
        kernel.decodeStreams = decodeStreams;
        kernel.registers = vectorRegisters;
        kernel.emit(b);
        if (scratch)
          memref::DeallocOp::create(b, scratch);
      } else {
        DotKernel kernel;
        kernel.x = proj.x;
        kernel.w = proj.w;
        kernel.y = proj.y;
        kernel.k = wType.getDimSize(1);
        kernel.vl = vectorWidth;
        kernel.accType = VectorType::get({vectorWidth}, f32);
        kernel.wType = VectorType::get({vectorWidth}, wType.getElementType());
        kernel.emit(b, yType.getDimSize(1), rowChunk);
      }
      op.erase();
    }
  }
};
} // namespace
