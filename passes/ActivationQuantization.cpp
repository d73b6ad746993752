//===- ActivationQuantization.cpp - x quantized for integer dot products --===//
#include "ActivationQuantization.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::hymba;

int64_t hymba::groupChunkLanes(int64_t group) {
  int64_t lanes = 32;
  while (group % lanes)
    lanes /= 2;
  return lanes;
}

namespace {
/// `for i in [0, n) step 1` carrying `init`, for a body that yields.
scf::ForOp forCount(
    ImplicitLocOpBuilder &b, Value n, ValueRange init,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value, ValueRange)>
        body) {
  return scf::ForOp::create(
      b, indexConst(b, 0), n, indexConst(b, 1), init,
      [&](OpBuilder &nb, Location loc, Value i, ValueRange acc) {
        ImplicitLocOpBuilder ib(loc, nb);
        scf::YieldOp::create(ib, body(ib, i, acc));
      });
}
} // namespace

QuantizedActivations hymba::buildQuantizedActivations(ImplicitLocOpBuilder &b,
                                                      Value x, int64_t group) {
  int64_t k = cast<RankedTensorType>(x.getType()).getDimSize(1);
  int64_t groups = (k + group - 1) / group;
  int64_t lanes = groupChunkLanes(group);
  Type f32 = b.getF32Type(), f64 = b.getF64Type();
  VectorType f32Vec = VectorType::get({lanes}, f32);
  VectorType f64Vec = VectorType::get({lanes}, f64);
  VectorType i8Vec = VectorType::get({lanes}, b.getI8Type());
  // K's last group is shorter when the group does not divide K: its reads
  // are padded with zeros (which leave the maximum alone) and its writes
  // masked.
  bool inBounds = k % group == 0;
  Value rows = rowCount(b, x);
  auto f32Groups = RankedTensorType::get({ShapedType::kDynamic, groups}, f32);
  auto i8Rows = RankedTensorType::get({ShapedType::kDynamic, k}, b.getI8Type());
  Value scales = tensor::EmptyOp::create(b, f32Groups, ValueRange{rows});
  Value values = tensor::EmptyOp::create(b, i8Rows, ValueRange{rows});
  Value chunks = indexConst(b, group / lanes);
  auto splat = [](ImplicitLocOpBuilder &ib, VectorType type, double v) {
    return arith::ConstantOp::create(
        ib, type,
        DenseElementsAttr::get(type, FloatAttr::get(type.getElementType(), v)));
  };
  // The rows and their groups, each group's vectors loaded twice (for its
  // maximum, then its values): explicit vectors rather than loops for
  // LLVM's vectorizer, whose versioned loops at every projection cost more
  // compile time than the loops themselves.
  auto rowLoop = forCount(
      b, rows, ValueRange{scales, values},
      [&](ImplicitLocOpBuilder &rb, Value t, ValueRange acc) {
        auto groupLoop = forCount(
            rb, indexConst(rb, groups), acc,
            [&](ImplicitLocOpBuilder &gb, Value g, ValueRange acc) {
              Value k0 = arith::MulIOp::create(gb, g, indexConst(gb, group));
              auto chunkStart = [&](ImplicitLocOpBuilder &cb, Value c) {
                return arith::AddIOp::create(
                    cb, k0,
                    arith::MulIOp::create(cb, c, indexConst(cb, lanes)));
              };
              auto read = [&](ImplicitLocOpBuilder &cb, Value c) -> Value {
                return vector::TransferReadOp::create(
                    cb, f32Vec, x, ValueRange{t, chunkStart(cb, c)},
                    f32Const(cb, 0.0), ArrayRef<bool>{inBounds});
              };
              // amax = max over the group of |x|.
              Value amax =
                  forCount(gb, chunks, ValueRange{f32Const(gb, 0.0)},
                           [&](ImplicitLocOpBuilder &cb, Value c,
                               ValueRange m) -> SmallVector<Value> {
                             return {vector::ReductionOp::create(
                                 cb, vector::CombiningKind::MAXIMUMF,
                                 math::AbsFOp::create(cb, read(cb, c)), m[0])};
                           })
                      .getResult(0);
              // scale = amax / C.
              Value scale = arith::DivFOp::create(
                  gb, amax, f32Const(gb, kActivationQuantSteps));
              // q = clamp(roundeven(x * C / amax), -127, 127), in f64: x * C
              // is exact there and the quotient correctly rounded, so q
              // depends only on the exact ratio x / amax (see the header
              // for C).
              Value amax64 = arith::ExtFOp::create(gb, f64, amax);
              Value isZero = arith::CmpFOp::create(
                  gb, arith::CmpFPredicate::OEQ, amax64,
                  arith::ConstantOp::create(gb, gb.getF64FloatAttr(0.0)));
              Value divisor = vector::BroadcastOp::create(gb, f64Vec, amax64);
              Value q =
                  forCount(
                      gb, chunks, ValueRange{acc[1]},
                      [&](ImplicitLocOpBuilder &cb, Value c,
                          ValueRange out) -> SmallVector<Value> {
                        Value xd =
                            arith::ExtFOp::create(cb, f64Vec, read(cb, c));
                        Value ratio = arith::DivFOp::create(
                            cb,
                            arith::MulFOp::create(
                                cb, xd,
                                splat(cb, f64Vec, kActivationQuantSteps)),
                            divisor);
                        Value r = math::RoundEvenOp::create(
                            cb, arith::SelectOp::create(
                                    cb, isZero, splat(cb, f64Vec, 0.0), ratio));
                        r = arith::MinimumFOp::create(
                            cb,
                            arith::MaximumFOp::create(
                                cb, r, splat(cb, f64Vec, -127.0)),
                            splat(cb, f64Vec, 127.0));
                        return {vector::TransferWriteOp::create(
                                    cb, arith::FPToSIOp::create(cb, i8Vec, r),
                                    out[0], ValueRange{t, chunkStart(cb, c)},
                                    ArrayRef<bool>{inBounds})
                                    .getResult()};
                      })
                      .getResult(0);
              Value s =
                  tensor::InsertOp::create(gb, scale, acc[0], ValueRange{t, g});
              return SmallVector<Value>{s, q};
            });
        return SmallVector<Value>(groupLoop.getResults());
      });
  return {rowLoop.getResult(1), rowLoop.getResult(0)};
}
