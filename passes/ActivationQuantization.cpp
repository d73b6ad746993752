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
  int64_t groups = (k + group - 1) / group, padded = groups * group;
  Value rows = rowCount(b, x);
  // x as [T, groups, group] (zero-padded to whole groups: a zero changes no
  // group's maximum and quantizes to 0), so that the innermost loop of each
  // generic stays within one group, whose maximum is loop-invariant there:
  // LLVM vectorizes those loops. Over [T, K] the group index k / group
  // changed inside the innermost loop and both loops stayed scalar (~6% of
  // an int4 --compute=int8 decode step).
  if (padded != k) {
    auto paddedType =
        RankedTensorType::get({ShapedType::kDynamic, padded}, b.getF32Type());
    x = tensor::PadOp::create(
        b, paddedType, x,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(padded - k)},
        f32Const(b, 0.0));
  }
  SmallVector<ReassociationIndices> byGroup = {{0}, {1, 2}};
  auto groupedType = [&](Type element) {
    return RankedTensorType::get({ShapedType::kDynamic, groups, group},
                                 element);
  };
  SmallVector<OpFoldResult> groupedShape = {rows, b.getIndexAttr(groups),
                                            b.getIndexAttr(group)};
  Value grouped = tensor::ExpandShapeOp::create(b, groupedType(b.getF32Type()),
                                                x, byGroup, groupedShape);
  AffineExpr t = getAffineDimExpr(0, ctx), g = getAffineDimExpr(1, ctx),
             kk = getAffineDimExpr(2, ctx);
  AffineMap elements = AffineMap::get(3, 0, {t, g, kk}, ctx);
  AffineMap perGroup = AffineMap::get(3, 0, {t, g}, ctx);
  auto groupsOf = [&](Type element) {
    return RankedTensorType::get({ShapedType::kDynamic, groups}, element);
  };

  // amax[t, g] = max over the group of |x|, as the integer maximum of the
  // bit patterns with the sign cleared: for non-negative floats the
  // integer order is the float order, and an integer max reduction
  // vectorizes where a float one needs fast-math flags.
  Value zeroBits =
      linalg::FillOp::create(
          b, arith::ConstantOp::create(b, b.getI32IntegerAttr(0)).getResult(),
          tensor::EmptyOp::create(b, groupsOf(b.getI32Type()), ValueRange{rows})
              .getResult())
          .getResult(0);
  Value amaxBits =
      linalg::GenericOp::create(
          b, TypeRange{zeroBits.getType()}, ValueRange{grouped},
          ValueRange{zeroBits}, ArrayRef<AffineMap>{elements, perGroup},
          ArrayRef<IteratorType>{IteratorType::parallel, IteratorType::parallel,
                                 IteratorType::reduction},
          [](OpBuilder &nb, Location loc, ValueRange a) {
            ImplicitLocOpBuilder ib(loc, nb);
            Value bits = arith::AndIOp::create(
                ib, arith::BitcastOp::create(ib, ib.getI32Type(), a[0]),
                arith::ConstantOp::create(ib,
                                          ib.getI32IntegerAttr(0x7fffffff)));
            linalg::YieldOp::create(
                ib, ValueRange{arith::MaxSIOp::create(ib, a[1], bits)});
          })
          .getResult(0);
  Value amax = buildElementwise(
      b, ValueRange{amaxBits}, [](ImplicitLocOpBuilder &ib, ValueRange a) {
        return arith::BitcastOp::create(ib, ib.getF32Type(), a[0]);
      });

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
  Value values =
      linalg::GenericOp::create(
          b, TypeRange{groupedType(b.getI8Type())}, ValueRange{grouped, amax},
          ValueRange{tensor::EmptyOp::create(b, groupedType(b.getI8Type()),
                                             ValueRange{rows})
                         .getResult()},
          ArrayRef<AffineMap>{elements, perGroup, elements},
          SmallVector<IteratorType>(3, IteratorType::parallel),
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
  auto i8Rows =
      RankedTensorType::get({ShapedType::kDynamic, padded}, b.getI8Type());
  values = tensor::CollapseShapeOp::create(b, i8Rows, values, byGroup);
  if (padded != k)
    values = tensor::ExtractSliceOp::create(
        b, values, ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{rows, b.getIndexAttr(k)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  return {values, scales};
}
