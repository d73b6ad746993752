//===- ActivationQuantization.cpp - x quantized for integer dot products --===//
#include "ActivationQuantization.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::hymba;

QuantizedActivations hymba::buildQuantizedActivations(ImplicitLocOpBuilder &b,
                                                      Value x, int64_t group) {
  MLIRContext *ctx = b.getContext();
  using utils::IteratorType;
  int64_t k = cast<RankedTensorType>(x.getType()).getDimSize(1);
  int64_t groups = (k + group - 1) / group;
  AffineExpr t = getAffineDimExpr(0, ctx), kk = getAffineDimExpr(1, ctx);
  AffineMap rowsByK = AffineMap::get(2, 0, {t, kk}, ctx);
  // (t, k) -> (t, k floordiv group): the group of input k.
  AffineMap groupOfK = AffineMap::get(2, 0, {t, kk.floorDiv(group)}, ctx);
  Value rows = rowCount(b, x);
  auto f32Groups =
      RankedTensorType::get({ShapedType::kDynamic, groups}, b.getF32Type());
  Value empty = tensor::EmptyOp::create(b, f32Groups, ValueRange{rows});

  // amax[t, g] = max over the group of |x[t, k]|.
  Value init = linalg::FillOp::create(b, f32Const(b, 0.0), empty).getResult(0);
  Value amax =
      linalg::GenericOp::create(
          b, TypeRange{f32Groups}, ValueRange{x}, ValueRange{init},
          ArrayRef<AffineMap>{rowsByK, groupOfK},
          ArrayRef<IteratorType>{IteratorType::parallel,
                                 IteratorType::reduction},
          [](OpBuilder &nb, Location loc, ValueRange a) {
            ImplicitLocOpBuilder ib(loc, nb);
            Value mag = math::AbsFOp::create(ib, a[0]);
            linalg::YieldOp::create(
                ib, ValueRange{arith::MaximumFOp::create(ib, a[1], mag)});
          })
          .getResult(0);

  // scale = amax / C.
  Value scales = buildElementwise(b, ValueRange{amax},
                                  [](ImplicitLocOpBuilder &ib, ValueRange a) {
                                    return arith::DivFOp::create(
                                        ib, a[0],
                                        f32Const(ib, kActivationQuantSteps));
                                  });

  // q[t, k] = clamp(roundeven(x * C / amax), -127, 127), in f64: x * C is
  // exact there and the quotient correctly rounded, so q depends only on
  // the exact ratio x / amax (see the header for C).
  auto i8Rows =
      RankedTensorType::get({ShapedType::kDynamic, k}, b.getI8Type());
  Value values =
      linalg::GenericOp::create(
          b, TypeRange{i8Rows}, ValueRange{x, amax},
          ValueRange{tensor::EmptyOp::create(b, i8Rows, ValueRange{rows})
                         .getResult()},
          ArrayRef<AffineMap>{rowsByK, groupOfK, rowsByK},
          ArrayRef<IteratorType>{IteratorType::parallel,
                                 IteratorType::parallel},
          [](OpBuilder &nb, Location loc, ValueRange a) {
            ImplicitLocOpBuilder ib(loc, nb);
            Type f64 = ib.getF64Type();
            auto c = [&](double v) {
              return arith::ConstantOp::create(ib, ib.getF64FloatAttr(v));
            };
            Value x = arith::ExtFOp::create(ib, f64, a[0]);
            Value m = arith::ExtFOp::create(ib, f64, a[1]);
            Value ratio = arith::DivFOp::create(
                ib, arith::MulFOp::create(ib, x, c(kActivationQuantSteps)), m);
            Value isZero =
                arith::CmpFOp::create(ib, arith::CmpFPredicate::OEQ, m, c(0));
            Value r = math::RoundEvenOp::create(
                ib, arith::SelectOp::create(ib, isZero, c(0), ratio));
            r = arith::MinimumFOp::create(
                ib, arith::MaximumFOp::create(ib, r, c(-127.0)), c(127.0));
            linalg::YieldOp::create(
                ib, ValueRange{arith::FPToSIOp::create(ib, ib.getI8Type(), r)});
          })
          .getResult(0);
  return {values, scales};
}
