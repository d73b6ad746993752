//===- Scan.cpp - hymba.selective_scan to loops ---------------------------===//
//
// The selective scan is sequential in time and independent per channel:
// channels are the parallel items, time the loop that carries the state.
//
//===----------------------------------------------------------------------===//
#include "Scan.h"
#include "Common.h"
#include "Patterns.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::hymba;

ScanRows::ScanRows(Value operand, Value normWeight, FloatAttr epsilon)
    : rows(operand), gamma(normWeight) {
  if (gamma)
    eps = epsilon.getValue().convertToFloat();
}

namespace {
/// The scan's delta: softplus with the kernel's threshold (identity above
/// 20, where log1p(exp(x)) equals x in f32 anyway but would overflow exp).
Value buildSoftplus(ImplicitLocOpBuilder &b, Value x) {
  Value soft = math::Log1pOp::create(b, math::ExpOp::create(b, x));
  Value big =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, f32Const(b, 20.0));
  return arith::SelectOp::create(b, big, x, soft);
}

/// Widest channel count lowered in the vectorizable tile form.
constexpr int64_t kMaxScanTile = 64;

/// State and A blocks move between the channel-major buffers ([channels,
/// state]) and the tile's state-major scratch ([state, channels]) as
/// 16 x 16 blocks transposed in registers, when the state size is 16 (all
/// Hymba checkpoints) and the tile a multiple of 16.
constexpr int64_t kBlock = 16;

/// rows[i][j] -> rows[j][i] for kBlock vectors of kBlock lanes: four rounds
/// of two-input shuffles; round b pairs rows i and i + b (bit b of i clear)
/// and, within each 2b-lane chunk, gathers their first b lanes into row i
/// and their last b into row i + b.
void transposeBlock(ImplicitLocOpBuilder &b, SmallVectorImpl<Value> &rows) {
  for (int64_t half = kBlock / 2; half >= 1; half /= 2) {
    SmallVector<int64_t> low, high;
    for (int64_t chunk = 0; chunk < kBlock; chunk += 2 * half) {
      for (int64_t t = 0; t < half; ++t)
        low.push_back(chunk + t), high.push_back(chunk + half + t);
      for (int64_t t = 0; t < half; ++t)
        low.push_back(kBlock + chunk + t),
            high.push_back(kBlock + chunk + half + t);
    }
    for (int64_t i = 0; i < kBlock; ++i) {
      if (i & half)
        continue;
      Value r = rows[i], partner = rows[i + half];
      rows[i] = vector::ShuffleOp::create(b, r, partner, low);
      rows[i + half] = vector::ShuffleOp::create(b, r, partner, high);
    }
  }
}

/// `mem` (static [channels, state]) as a memref whose rows are contiguous,
/// which vector loads and stores need. The state views and weights are rows
/// of contiguous elements (memref.view of a flat buffer, and slices of
/// whole rows); a buffer type with unknown strides (a memref-form op built
/// by hand, or a layout bufferization could not infer) only hides that, so
/// the cast states what already holds.
Value withContiguousRows(ImplicitLocOpBuilder &b, Value mem) {
  auto type = cast<MemRefType>(mem.getType());
  if (type.isLastDimUnitStride())
    return mem;
  // A reinterpret_cast of the buffer's own metadata: a memref.cast to the
  // more static type would be folded back into the loads.
  auto meta = memref::ExtractStridedMetadataOp::create(b, mem);
  auto layout = StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                                       {ShapedType::kDynamic, 1});
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(type.getDimSize(0)),
                                     b.getIndexAttr(type.getDimSize(1))};
  SmallVector<OpFoldResult> strides = {meta.getStrides()[0], b.getIndexAttr(1)};
  return memref::ReinterpretCastOp::create(
      b,
      MemRefType::get(type.getShape(), type.getElementType(), layout,
                      type.getMemorySpace()),
      meta.getBaseBuffer(), OpFoldResult(meta.getOffset()), sizes, strides);
}

/// Row `row` of a [rows, kBlock] buffer as f32 lanes.
Value loadBlockRow(ImplicitLocOpBuilder &b, Value mem, Value row) {
  Type element = cast<MemRefType>(mem.getType()).getElementType();
  Value v = vector::LoadOp::create(b, VectorType::get({kBlock}, element), mem,
                                   ValueRange{row, indexConst(b, 0)});
  if (element.isF32())
    return v;
  return arith::ExtFOp::create(b, VectorType::get({kBlock}, b.getF32Type()), v);
}

/// Row t of B or C in registers, normalised when a norm was folded in.
SmallVector<Value> loadScanRow(ImplicitLocOpBuilder &b, const ScanRows &m,
                               Value t, int64_t dState) {
  SmallVector<Value> row;
  for (int64_t n = 0; n < dState; ++n)
    row.push_back(loadF32(b, m.rows, {t, indexConst(b, n)}));
  if (!m.gamma)
    return row;
  Value sumSq = f32Const(b, 0.0);
  for (Value v : row)
    sumSq = arith::AddFOp::create(b, sumSq, arith::MulFOp::create(b, v, v));
  Value inv = buildInvRMS(b, sumSq, dState, m.eps);
  for (int64_t n = 0; n < dState; ++n)
    row[n] = arith::MulFOp::create(b, arith::MulFOp::create(b, row[n], inv),
                                   loadF32(b, m.gamma, {indexConst(b, n)}));
  return row;
}

/// 1 / rms of row t of a folded-norm B or C (the sum of squares in d_state
/// order, as loadScanRow), or null without a norm.
Value rowInvRMS(ImplicitLocOpBuilder &b, const ScanRows &m, Value t,
                int64_t dState) {
  if (!m.gamma)
    return Value();
  auto loop = scf::ForOp::create(
      b, indexConst(b, 0), indexConst(b, dState), indexConst(b, 1),
      ValueRange{f32Const(b, 0.0)},
      [&](OpBuilder &fb, Location l, Value n, ValueRange acc) {
        ImplicitLocOpBuilder nb(l, fb);
        Value v = loadF32(nb, m.rows, {t, n});
        scf::YieldOp::create(nb,
                             ValueRange{arith::AddFOp::create(
                                 nb, acc[0], arith::MulFOp::create(nb, v, v))});
      });
  return buildInvRMS(b, loop.getResult(0), dState, m.eps);
}

/// Element n of row t of B or C, normalised by `inv` (rowInvRMS) when set.
Value loadScanElement(ImplicitLocOpBuilder &b, const ScanRows &m, Value t,
                      Value n, Value inv) {
  Value v = loadF32(b, m.rows, {t, n});
  if (!inv)
    return v;
  return arith::MulFOp::create(b, arith::MulFOp::create(b, v, inv),
                               loadF32(b, m.gamma, {n}));
}

} // namespace

void hymba::lowerScanTile(ImplicitLocOpBuilder &b, const ScanBuffers &in,
                          int64_t tile, int64_t dState, Value out) {
  // Heap scratch, freed after the tile by the deallocation pipeline (like
  // the attention's). Not the stack: a tile op inside a loop (the time
  // chunks of a tiled scan, or a transform script's tiling) would add its
  // scratch to the stack on every iteration until the function returns
  // (2.2 KB per chunk and tile: the 8 MB main-thread stack overflowed at
  // 1500 tokens with --no-fuse), and memref.alloca_scope cannot hold the
  // tile's loops through the CFG conversion.
  Type f32 = b.getF32Type();
  auto matType = MemRefType::get({dState, tile}, f32);
  auto vecType = MemRefType::get({tile}, f32);
  ScanScratch heap;
  heap.h = memref::AllocOp::create(b, matType);
  heap.a = memref::AllocOp::create(b, matType);
  heap.delta = memref::AllocOp::create(b, vecType);
  heap.du = memref::AllocOp::create(b, vecType);
  heap.y = memref::AllocOp::create(b, vecType);
  lowerScanTileInto(b, in, tile, dState, out, heap);
}

void hymba::lowerScanTileInto(ImplicitLocOpBuilder &b, const ScanBuffers &in,
                              int64_t tile, int64_t dState, Value out,
                              const ScanScratch &scratch) {
  Type f32 = b.getF32Type();
  Value u = in.u, dt = in.dt, bias = in.bias, aLog = in.aLog, dv = in.d,
        z = in.z, state = in.state;
  Value h = scratch.h, a = scratch.a, delta = scratch.delta, du = scratch.du,
        y = scratch.y;
  // A decode step is one time step, so moving the state in and out and
  // computing A = -exp(A_log) cost as much as the step: done by blocks, they
  // are loads, shuffles and stores (element-wise, LLVM makes them gathers).
  // The scratch rows must be contiguous, and the state and A_log of the
  // tile static [tile, 16] (withContiguousRows).
  auto contiguous = [](Value m) {
    return cast<MemRefType>(m.getType()).isLastDimUnitStride();
  };
  // Static [tile, 16] rows whose inner stride is 1 or unknown (the cast
  // below states it); a known stride other than 1 takes the element-wise
  // path.
  auto staticRows = [](Value m) {
    auto type = cast<MemRefType>(m.getType());
    if (type.getRank() != 2 || !type.hasStaticShape())
      return false;
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(type.getStridesAndOffset(strides, offset)))
      return false;
    return strides[1] == 1 || ShapedType::isDynamic(strides[1]);
  };
  bool byBlocks = dState == kBlock && tile % kBlock == 0 && contiguous(h) &&
                  contiguous(a) && staticRows(state) && staticRows(aLog);
  if (byBlocks) {
    state = withContiguousRows(b, state);
    aLog = withContiguousRows(b, aLog);
    forRange(b, tile / kBlock, [&](ImplicitLocOpBuilder &bb, Value blk) {
      Value c0 = arith::MulIOp::create(bb, blk, indexConst(bb, kBlock));
      SmallVector<Value> hRows, aRows;
      for (int64_t i = 0; i < kBlock; ++i) {
        Value c = arith::AddIOp::create(bb, c0, indexConst(bb, i));
        hRows.push_back(loadBlockRow(bb, state, c));
        aRows.push_back(arith::NegFOp::create(
            bb, math::ExpOp::create(bb, loadBlockRow(bb, aLog, c))));
      }
      transposeBlock(bb, hRows);
      transposeBlock(bb, aRows);
      for (int64_t n = 0; n < kBlock; ++n) {
        vector::StoreOp::create(bb, hRows[n], h,
                                ValueRange{indexConst(bb, n), c0});
        vector::StoreOp::create(bb, aRows[n], a,
                                ValueRange{indexConst(bb, n), c0});
      }
    });
  } else {
    forRange(b, dState, [&](ImplicitLocOpBuilder &nb, Value n) {
      forRange(nb, tile, [&](ImplicitLocOpBuilder &cb, Value c) {
        memref::StoreOp::create(
            cb, memref::LoadOp::create(cb, state, ValueRange{c, n}), h,
            ValueRange{n, c});
        Value av = arith::NegFOp::create(
            cb, math::ExpOp::create(cb, loadF32(cb, aLog, {c, n})));
        memref::StoreOp::create(cb, av, a, ValueRange{n, c});
      });
    });
  }
  Value rows = rowCount(b, u);
  scf::ForOp::create(
      b, indexConst(b, 0), rows, indexConst(b, 1), ValueRange{},
      [&](OpBuilder &fb, Location l, Value t, ValueRange) {
        ImplicitLocOpBuilder tb(l, fb);
        Value bInv = rowInvRMS(tb, in.b, t, dState);
        Value cInv = rowInvRMS(tb, in.c, t, dState);
        forRange(tb, tile, [&](ImplicitLocOpBuilder &cb, Value c) {
          Value raw = arith::AddFOp::create(cb, loadF32(cb, dt, {t, c}),
                                            loadF32(cb, bias, {c}));
          Value dl = buildSoftplus(cb, raw);
          Value uv = loadF32(cb, u, {t, c});
          memref::StoreOp::create(cb, dl, delta, ValueRange{c});
          memref::StoreOp::create(cb, arith::MulFOp::create(cb, dl, uv), du,
                                  ValueRange{c});
          memref::StoreOp::create(
              cb, arith::MulFOp::create(cb, loadF32(cb, dv, {c}), uv), y,
              ValueRange{c});
        });
        forRange(tb, dState, [&](ImplicitLocOpBuilder &nb, Value n) {
          Value bn = loadScanElement(nb, in.b, t, n, bInv);
          Value cn = loadScanElement(nb, in.c, t, n, cInv);
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
          Value gate = buildSilu(cb, loadF32(cb, z, {t, c}));
          memref::StoreOp::create(
              cb,
              arith::MulFOp::create(
                  cb, memref::LoadOp::create(cb, y, ValueRange{c}), gate),
              out, ValueRange{t, c});
        });
        scf::YieldOp::create(tb);
      });
  if (byBlocks) {
    forRange(b, tile / kBlock, [&](ImplicitLocOpBuilder &bb, Value blk) {
      Value c0 = arith::MulIOp::create(bb, blk, indexConst(bb, kBlock));
      SmallVector<Value> rows;
      for (int64_t n = 0; n < kBlock; ++n)
        rows.push_back(
            vector::LoadOp::create(bb, VectorType::get({kBlock}, f32), h,
                                   ValueRange{indexConst(bb, n), c0}));
      transposeBlock(bb, rows);
      for (int64_t i = 0; i < kBlock; ++i)
        vector::StoreOp::create(
            bb, rows[i], state,
            ValueRange{arith::AddIOp::create(bb, c0, indexConst(bb, i)),
                       indexConst(bb, 0)});
    });
    return;
  }
  forRange(b, dState, [&](ImplicitLocOpBuilder &nb, Value n) {
    forRange(nb, tile, [&](ImplicitLocOpBuilder &cb, Value c) {
      memref::StoreOp::create(cb,
                              memref::LoadOp::create(cb, h, ValueRange{n, c}),
                              state, ValueRange{c, n});
    });
  });
}

ScanChannel::ScanChannel(ImplicitLocOpBuilder &b, const ScanBuffers &in,
                         Value c, int64_t dState)
    : c(c), bias(loadF32(b, in.bias, {c})), dSkip(loadF32(b, in.d, {c})) {
  for (int64_t n = 0; n < dState; ++n)
    a.push_back(arith::NegFOp::create(
        b, math::ExpOp::create(b, loadF32(b, in.aLog, {c, indexConst(b, n)}))));
}

SmallVector<Value> ScanChannel::loadState(ImplicitLocOpBuilder &b,
                                          const ScanBuffers &in) const {
  SmallVector<Value> h;
  for (int64_t n = 0, e = a.size(); n < e; ++n)
    h.push_back(
        memref::LoadOp::create(b, in.state, ValueRange{c, indexConst(b, n)}));
  return h;
}

void ScanChannel::storeState(ImplicitLocOpBuilder &b, const ScanBuffers &in,
                             ValueRange h) const {
  for (auto [n, hn] : llvm::enumerate(h))
    memref::StoreOp::create(b, hn, in.state, ValueRange{c, indexConst(b, n)});
}

SmallVector<Value> ScanChannel::step(ImplicitLocOpBuilder &b,
                                     const ScanBuffers &in, Value t,
                                     ValueRange h, Value out) const {
  int64_t dState = a.size();
  Value raw = arith::AddFOp::create(b, loadF32(b, in.dt, {t, c}), bias);
  Value delta = buildSoftplus(b, raw);
  Value uv = loadF32(b, in.u, {t, c});
  Value du = arith::MulFOp::create(b, delta, uv);
  SmallVector<Value> bRow = loadScanRow(b, in.b, t, dState);
  SmallVector<Value> cRow = loadScanRow(b, in.c, t, dState);
  Value y = f32Const(b, 0.0);
  SmallVector<Value> hNew;
  for (int64_t n = 0; n < dState; ++n) {
    Value decay = math::ExpOp::create(b, arith::MulFOp::create(b, delta, a[n]));
    hNew.push_back(
        arith::AddFOp::create(b, arith::MulFOp::create(b, decay, h[n]),
                              arith::MulFOp::create(b, du, bRow[n])));
    y = arith::AddFOp::create(b, y,
                              arith::MulFOp::create(b, cRow[n], hNew.back()));
  }
  y = arith::AddFOp::create(b, y, arith::MulFOp::create(b, dSkip, uv));
  Value gate = buildSilu(b, loadF32(b, in.z, {t, c}));
  memref::StoreOp::create(b, arith::MulFOp::create(b, y, gate), out,
                          ValueRange{t, c});
  return hNew;
}

void hymba::emitScanChannel(ImplicitLocOpBuilder &b, const ScanBuffers &in,
                            Value c, int64_t dState, Value out) {
  ScanChannel channel(b, in, c, dState);
  auto timeLoop = scf::ForOp::create(
      b, indexConst(b, 0), rowCount(b, in.u), indexConst(b, 1),
      channel.loadState(b, in),
      [&](OpBuilder &fb, Location l, Value t, ValueRange h) {
        ImplicitLocOpBuilder tb(l, fb);
        scf::YieldOp::create(tb, channel.step(tb, in, t, h, out));
      });
  channel.storeState(b, in, timeLoop.getResults());
}

ScanBuffers hymba::sliceChannels(ImplicitLocOpBuilder &b, const ScanBuffers &in,
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

void hymba::buildScanLoops(ImplicitLocOpBuilder &b, SelectiveScanOp op,
                           KernelForm form) {
  bool gpuForm = form == KernelForm::GPU;
  int64_t channels = op.getU().getType().getDimSize(1);
  int64_t dState = op.getALog().getType().getDimSize(1);
  ScanBuffers in(op);
  Value out = op.getInit();
  if (!gpuForm && channels <= kMaxScanTile) {
    lowerScanTile(b, in, channels, dState, out);
    return;
  }
  scf::ParallelOp::create(b, ValueRange{indexConst(b, 0)},
                          ValueRange{indexConst(b, channels)},
                          ValueRange{indexConst(b, 1)},
                          [&](OpBuilder &nb, Location loc, ValueRange iv) {
                            ImplicitLocOpBuilder ib(loc, nb);
                            emitScanChannel(ib, in, iv[0], dState, out);
                            scf::ReduceOp::create(ib);
                          });
}

bool hymba::hasStaticScanShape(SelectiveScanOp op) {
  auto shaped = [](Value v) { return cast<ShapedType>(v.getType()); };
  return !shaped(op.getU()).isDynamicDim(1) &&
         !shaped(op.getALog()).isDynamicDim(1);
}

namespace {
struct LowerSelectiveScan : OpRewritePattern<SelectiveScanOp> {
  LowerSelectiveScan(MLIRContext *ctx, KernelForm form)
      : OpRewritePattern(ctx), form(form) {}
  LogicalResult matchAndRewrite(SelectiveScanOp op,
                                PatternRewriter &rewriter) const override {
    if (!hasStaticScanShape(op))
      return rewriter.notifyMatchFailure(
          op, "the channel count or the state size is dynamic");
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    buildScanLoops(b, op, form);
    rewriter.eraseOp(op);
    return success();
  }
  KernelForm form;
};
} // namespace

void hymba::populateScanLoweringPatterns(RewritePatternSet &patterns,
                                         KernelForm form) {
  patterns.add<LowerSelectiveScan>(patterns.getContext(), form);
}
