//===- VectorizeLinear.cpp - Register-blocked vector code for x @ W^T -----===//
//
// The projections dominate Hymba's run time: in decode each weight element
// is used once, so speed is memory bandwidth; in prefill they are dense
// GEMMs. Both want the reduction dimension K (contiguous in the [out, in]
// weight) in vector registers. This pass rewrites the buffer-level
// linalg.generic that hymba-lower-dense-to-linalg marks `hymba.linear` into:
//
//   scf.parallel over blocks of 4 output columns n
//     4 rows t x 4 columns: 16 vector accumulators, each x and W vector
//                           loaded once per 4 FMAs       (prefill)
//     1 row  t x 4 columns: 4 independent accumulators   (decode, T % 4)
//     1 x 1                 for the last N % 4 columns
//   each: k in steps of the vector width, a reduction, then a scalar tail.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "hymba/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAVECTORIZELINEAR
#include "hymba/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;
using namespace mlir::hymba;

namespace {
constexpr int64_t kBlock = 4;

struct LinearKernel {
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
    Value c0 = cIdx(b, 0), c1 = cIdx(b, 1), cB = cIdx(b, kBlock);
    Value rowsMain = arith::AddIOp::create(
        b, r0,
        arith::MulIOp::create(
            b, arith::DivUIOp::create(b, arith::SubIOp::create(b, r1, r0), cB),
            cB));
    int64_t nMain = n / kBlock * kBlock;
    if (nMain > 0) {
      scf::ParallelOp::create(
          b, ValueRange{c0}, ValueRange{cIdx(b, nMain)}, ValueRange{cB},
          [&](OpBuilder &pb, Location loc, ValueRange iv) {
            ImplicitLocOpBuilder ib(loc, pb);
            SmallVector<Value> ns = offsets(ib, iv[0], kBlock);
            scf::ForOp::create(
                ib, r0, rowsMain, cB, ValueRange{},
                [&](OpBuilder &fb, Location l, Value t, ValueRange) {
                  ImplicitLocOpBuilder tb(l, fb);
                  emitTile(tb, offsets(tb, t, kBlock), ns);
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

struct VectorizeLinearPass
    : hymba::impl::HymbaVectorizeLinearBase<VectorizeLinearPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> targets;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kLinearMarker) && op.hasPureBufferSemantics())
        targets.push_back(op);
    });
    if (rowChunk < kBlock || rowChunk % kBlock) {
      getOperation()->emitError()
          << "row-chunk must be a positive multiple of " << kBlock;
      return signalPassFailure();
    }
    for (linalg::GenericOp op : targets) {
      auto xType = cast<MemRefType>(op.getDpsInputs()[0].getType());
      auto wType = cast<MemRefType>(op.getDpsInputs()[1].getType());
      auto yType = cast<MemRefType>(op.getDpsInits()[0].getType());
      // vector.load needs unit stride in the minor dimension.
      if (!xType.isLastDimUnitStride() || !wType.isLastDimUnitStride())
        continue;
      LinearKernel kernel;
      kernel.x = op.getDpsInputs()[0];
      kernel.w = op.getDpsInputs()[1];
      kernel.y = op.getDpsInits()[0];
      kernel.k = wType.getDimSize(1);
      kernel.vl = vectorWidth;
      Type f32 = Float32Type::get(&getContext());
      kernel.accType = VectorType::get({vectorWidth}, f32);
      kernel.wType = VectorType::get({vectorWidth}, wType.getElementType());
      ImplicitLocOpBuilder b(op.getLoc(), op);
      kernel.emit(b, yType.getDimSize(1), rowChunk);
      op.erase();
    }
  }
};
} // namespace
