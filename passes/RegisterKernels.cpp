//===- RegisterKernels.cpp - GPU-form builders for the dense ops ----------===//
#include "RegisterKernels.h"
#include "LoweringUtils.h"
#include "WeightAccess.h"
#include "dialects/hymba/HymbaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

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

/// A fresh [rows, cols] f32 tensor whose element (t, j) is `body(t, j)`: a
/// linalg.generic with all-parallel (t, j) and no inputs but `inputs` (read
/// element (t, j), passed to `body`); the dot products read their rows
/// through the read-only buffers captured from above. One-shot-bufferize
/// gives the result its buffer, and convert-linalg-to-parallel-loops makes
/// the generic the kernel's scf.parallel over (t, j).
Value forEachOutput(
    ImplicitLocOpBuilder &b, Value rows, int64_t cols, ValueRange inputs,
    function_ref<Value(ImplicitLocOpBuilder &, Value, Value, ValueRange)>
        body) {
  MLIRContext *ctx = b.getContext();
  auto type =
      RankedTensorType::get({ShapedType::kDynamic, cols}, b.getF32Type());
  Value empty = tensor::EmptyOp::create(b, type, ValueRange{rows});
  SmallVector<AffineMap> maps(inputs.size() + 1,
                              AffineMap::getMultiDimIdentityMap(2, ctx));
  return linalg::GenericOp::create(
             b, TypeRange{type}, inputs, ValueRange{empty}, maps,
             ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::parallel},
             [&](OpBuilder &nb, Location loc, ValueRange args) {
               ImplicitLocOpBuilder ib(loc, nb);
               Value t = linalg::IndexOp::create(ib, 0);
               Value j = linalg::IndexOp::create(ib, 1);
               linalg::YieldOp::create(
                   ib, ValueRange{body(ib, t, j, args.drop_back())});
             })
      .getResult(0);
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
  int64_t cols = cast<ShapedType>(w.getType()).getDimSize(0);
  Value rows = rowCount(b, ins.front().x);
  SmallVector<Value> extra;
  if (residual)
    extra.push_back(residual);
  return forEachOutput(
      b, rows, cols, extra,
      [&](ImplicitLocOpBuilder &ib, Value t, Value j, ValueRange res) {
        Value y;
        for (const InputBuffers &in : ins) {
          Value d = dots(ib, in, {wBuf}, t, j).front();
          y = y ? arith::AddFOp::create(ib, y, d).getResult() : d;
        }
        if (coefficient != 1.0f)
          y = arith::MulFOp::create(ib, y, f32Const(ib, coefficient));
        if (!res.empty())
          y = arith::AddFOp::create(ib, res.front(), y);
        return y;
      });
}

Value hymba::buildRegisterGatedUp(ImplicitLocOpBuilder &b,
                                  const ProjectionInput &input, Value gate,
                                  Value up) {
  InputBuffers in = buffersOf(b, input);
  WeightBuffers gBuf = buffersOf(b, gate), uBuf = buffersOf(b, up);
  int64_t cols = cast<ShapedType>(gate.getType()).getDimSize(0);
  Value rows = rowCount(b, in.x);
  return forEachOutput(
      b, rows, cols, {},
      [&](ImplicitLocOpBuilder &ib, Value t, Value j, ValueRange) -> Value {
        SmallVector<Value> gu = dots(ib, in, {gBuf, uBuf}, t, j);
        return arith::MulFOp::create(ib, buildSilu(ib, gu[0]), gu[1]);
      });
}

Value hymba::buildRegisterRMSNorm(ImplicitLocOpBuilder &b, Value x, Value gamma,
                                  float eps) {
  Value xBuf = toReadOnlyBuffer(b, x);
  int64_t width = widthOf(x);
  Value rows = rowCount(b, xBuf);
  // 1 / rms per row: a generic over rows whose item sums the row's squares
  // in a register (an scf.for over the read-only row).
  MLIRContext *ctx = b.getContext();
  auto d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);
  auto invType = RankedTensorType::get({ShapedType::kDynamic}, b.getF32Type());
  Value invEmpty = tensor::EmptyOp::create(b, invType, ValueRange{rows});
  Value invTensor =
      linalg::GenericOp::create(
          b, TypeRange{invType}, ValueRange{}, ValueRange{invEmpty},
          ArrayRef<AffineMap>{AffineMap::get(1, 0, {d0}, ctx)},
          ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
          [&](OpBuilder &nb, Location loc, ValueRange) {
            ImplicitLocOpBuilder ib(loc, nb);
            Value t = linalg::IndexOp::create(ib, 0);
            Value c0 = cIdx(ib, 0), c1 = cIdx(ib, 1);
            auto sum = scf::ForOp::create(
                ib, c0, cIdx(ib, width), c1, ValueRange{f32Const(ib, 0.0)},
                [&](OpBuilder &fb, Location l, Value k, ValueRange acc) {
                  ImplicitLocOpBuilder kb(l, fb);
                  Value v = loadF32(kb, xBuf, {t, k});
                  scf::YieldOp::create(
                      kb, ValueRange{arith::AddFOp::create(
                              kb, acc[0], arith::MulFOp::create(kb, v, v))});
                });
            linalg::YieldOp::create(
                ib, ValueRange{buildInvRMS(ib, sum.getResult(0), width, eps)});
          })
          .getResult(0);
  // Scale each element: x * inv[row] * gamma[col].
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
