//===- RegisterKernels.cpp - GPU-form builders for the dense ops ----------===//
#include "RegisterKernels.h"
#include "LoweringUtils.h"
#include "WeightAccess.h"
#include "dialects/hymba/HymbaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::hymba;

namespace {
Value cIdx(ImplicitLocOpBuilder &b, int64_t v) { return indexConst(b, v); }

int64_t widthOf(Value shaped) {
  return cast<ShapedType>(shaped.getType()).getDimSize(1);
}

/// An input's buffers inside the kernel.
struct InputBuffers {
  Value x, gamma;
  float eps;
  int64_t width;
};

InputBuffers buffersOf(ImplicitLocOpBuilder &b, const ProjectionInput &in) {
  return {toReadOnlyBuffer(b, in.x),
          in.gamma ? toReadOnlyBuffer(b, in.gamma) : Value(), in.eps,
          widthOf(in.x)};
}

/// A weight's storage buffers inside the kernel.
struct WeightBuffers {
  WeightSource source;
  Value data, scales;

  Value load(ImplicitLocOpBuilder &b, Value n, Value k) const {
    return loadWeightElement(b, source, data, scales, n, k);
  }
};

WeightBuffers buffersOf(ImplicitLocOpBuilder &b, Value weight) {
  WeightSource source = weightSource(weight);
  return {source, toReadOnlyBuffer(b, source.data),
          source.scales ? toReadOnlyBuffer(b, source.scales) : Value()};
}

/// One scf.parallel over (t, j) in [rows, cols); `body` stores item (t, j).
void forEachOutput(
    ImplicitLocOpBuilder &b, Value rows, int64_t cols,
    function_ref<void(ImplicitLocOpBuilder &, Value, Value)> body) {
  Value c0 = cIdx(b, 0), c1 = cIdx(b, 1);
  scf::ParallelOp::create(b, ValueRange{c0, c0},
                          ValueRange{rows, cIdx(b, cols)}, ValueRange{c1, c1},
                          [&](OpBuilder &nb, Location loc, ValueRange iv) {
                            ImplicitLocOpBuilder ib(loc, nb);
                            body(ib, iv[0], iv[1]);
                            scf::ReduceOp::create(ib);
                          });
}

/// Dot products of row t of `in` with row j of each weight in `ws`, in one k
/// loop, each scaled by the row's 1/rms when the input is normalised.
SmallVector<Value> dots(ImplicitLocOpBuilder &b, const InputBuffers &in,
                        ArrayRef<WeightBuffers> ws, Value t, Value j) {
  bool norm = static_cast<bool>(in.gamma);
  SmallVector<Value> init(ws.size() + (norm ? 1 : 0), f32Const(b, 0.0));
  auto loop = scf::ForOp::create(
      b, cIdx(b, 0), cIdx(b, in.width), cIdx(b, 1), init,
      [&](OpBuilder &fb, Location l, Value k, ValueRange acc) {
        ImplicitLocOpBuilder kb(l, fb);
        Value raw = loadF32(kb, in.x, {t, k});
        Value xv =
            norm ? arith::MulFOp::create(kb, raw, loadF32(kb, in.gamma, {k}))
                       .getResult()
                 : raw;
        SmallVector<Value> next;
        for (auto [i, w] : llvm::enumerate(ws))
          next.push_back(arith::AddFOp::create(
              kb, acc[i],
              arith::MulFOp::create(kb, xv, w.load(kb, j, k))));
        if (norm)
          next.push_back(arith::AddFOp::create(
              kb, acc.back(), arith::MulFOp::create(kb, raw, raw)));
        scf::YieldOp::create(kb, next);
      });
  SmallVector<Value> out(loop.getResults().take_front(ws.size()));
  if (norm) {
    Value inv = buildInvRMS(b, loop.getResults().back(), in.width, in.eps);
    for (Value &v : out)
      v = arith::MulFOp::create(b, v, inv);
  }
  return out;
}
} // namespace

ProjectionInput hymba::projectionInputOf(Value input) {
  if (auto norm = input.getDefiningOp<RMSNormOp>())
    return {norm.getInput(), norm.getWeight(),
            norm.getEpsilon().convertToFloat()};
  return {input, Value(), 0.0f};
}

Value hymba::buildRegisterProjection(ImplicitLocOpBuilder &b,
                                     ArrayRef<ProjectionInput> inputs, Value w,
                                     float coefficient, Value residual) {
  SmallVector<InputBuffers> ins;
  for (const ProjectionInput &in : inputs)
    ins.push_back(buffersOf(b, in));
  WeightBuffers wBuf = buffersOf(b, w);
  Value resBuf = residual ? toReadOnlyBuffer(b, residual) : Value();
  int64_t cols = cast<ShapedType>(w.getType()).getDimSize(0);
  Value rows = rowCount(b, ins.front().x);
  auto [out, outTensor] = allocRows(b, rows, cols);
  forEachOutput(b, rows, cols, [&](ImplicitLocOpBuilder &ib, Value t, Value j) {
    Value y;
    for (const InputBuffers &in : ins) {
      Value d = dots(ib, in, {wBuf}, t, j).front();
      y = y ? arith::AddFOp::create(ib, y, d).getResult() : d;
    }
    if (coefficient != 1.0f)
      y = arith::MulFOp::create(ib, y, f32Const(ib, coefficient));
    if (resBuf)
      y = arith::AddFOp::create(ib, loadF32(ib, resBuf, {t, j}), y);
    memref::StoreOp::create(ib, y, out, ValueRange{t, j});
  });
  return outTensor;
}

Value hymba::buildRegisterGatedUp(ImplicitLocOpBuilder &b,
                                  const ProjectionInput &input, Value gate,
                                  Value up) {
  InputBuffers in = buffersOf(b, input);
  WeightBuffers gBuf = buffersOf(b, gate), uBuf = buffersOf(b, up);
  int64_t cols = cast<ShapedType>(gate.getType()).getDimSize(0);
  Value rows = rowCount(b, in.x);
  auto [out, outTensor] = allocRows(b, rows, cols);
  forEachOutput(b, rows, cols, [&](ImplicitLocOpBuilder &ib, Value t, Value j) {
    SmallVector<Value> gu = dots(ib, in, {gBuf, uBuf}, t, j);
    memref::StoreOp::create(
        ib, arith::MulFOp::create(ib, buildSilu(ib, gu[0]), gu[1]), out,
        ValueRange{t, j});
  });
  return outTensor;
}

Value hymba::buildRegisterRMSNorm(ImplicitLocOpBuilder &b, Value x, Value gamma,
                                  float eps) {
  Value xBuf = toReadOnlyBuffer(b, x);
  int64_t width = widthOf(x);
  Value rows = rowCount(b, xBuf);
  auto type = MemRefType::get({ShapedType::kDynamic}, b.getF32Type());
  Value inv = memref::AllocOp::create(b, type, ValueRange{rows});
  Value c0 = cIdx(b, 0), c1 = cIdx(b, 1);
  scf::ParallelOp::create(
      b, ValueRange{c0}, ValueRange{rows}, ValueRange{c1},
      [&](OpBuilder &nb, Location loc, ValueRange iv) {
        ImplicitLocOpBuilder ib(loc, nb);
        auto sum = scf::ForOp::create(
            ib, c0, cIdx(ib, width), c1, ValueRange{f32Const(ib, 0.0)},
            [&](OpBuilder &fb, Location l, Value k, ValueRange acc) {
              ImplicitLocOpBuilder kb(l, fb);
              Value v = loadF32(kb, xBuf, {iv[0], k});
              scf::YieldOp::create(
                  kb, ValueRange{arith::AddFOp::create(
                          kb, acc[0], arith::MulFOp::create(kb, v, v))});
            });
        memref::StoreOp::create(ib,
                                buildInvRMS(ib, sum.getResult(0), width, eps),
                                inv, ValueRange{iv[0]});
        scf::ReduceOp::create(ib);
      });
  auto invTensor = bufferization::ToTensorOp::create(
      b, RankedTensorType::get({ShapedType::kDynamic}, b.getF32Type()), inv,
      /*restrict=*/true, /*writable=*/true);
  // Scale each element: x * inv[row] * gamma[col].
  MLIRContext *ctx = b.getContext();
  auto d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);
  Value out = emptyRows(b, x, width);
  return linalg::GenericOp::create(
             b, TypeRange{out.getType()}, ValueRange{x, invTensor, gamma},
             ValueRange{out},
             ArrayRef<AffineMap>{AffineMap::get(2, 0, {d0, d1}, ctx),
                                 AffineMap::get(2, 0, {d0}, ctx),
                                 AffineMap::get(2, 0, {d1}, ctx),
                                 AffineMap::get(2, 0, {d0, d1}, ctx)},
             ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::parallel},
             [](OpBuilder &nb, Location loc, ValueRange a) {
               ImplicitLocOpBuilder ib(loc, nb);
               Value normed = arith::MulFOp::create(ib, a[0], a[1]);
               linalg::YieldOp::create(
                   ib, ValueRange{arith::MulFOp::create(ib, normed,
                                                        widenToF32(ib, a[2]))});
             })
      .getResult(0);
}
