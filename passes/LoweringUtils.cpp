//===- LoweringUtils.cpp - Builders shared by the Hymba lowerings ---------===//
#include "LoweringUtils.h"
#include "ActivationQuantization.h"
#include "WeightAccess.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;

namespace {
using utils::IteratorType;
constexpr IteratorType kPar = IteratorType::parallel;
constexpr IteratorType kRed = IteratorType::reduction;

AffineMap map(MLIRContext *ctx, unsigned dims, ArrayRef<unsigned> results) {
  SmallVector<AffineExpr> exprs;
  for (unsigned r : results)
    exprs.push_back(getAffineDimExpr(r, ctx));
  return AffineMap::get(dims, 0, exprs, ctx);
}

Value zeros(ImplicitLocOpBuilder &b, Value like, int64_t width) {
  Value empty = hymba::emptyRows(b, like, width);
  return linalg::FillOp::create(b, hymba::f32Const(b, 0.0), empty).getResult(0);
}
} // namespace

Value hymba::widenToF32(ImplicitLocOpBuilder &b, Value v) {
  if (v.getType().isF32())
    return v;
  return arith::ExtFOp::create(b, b.getF32Type(), v);
}

Value hymba::intConst(ImplicitLocOpBuilder &b, Type type, int64_t v) {
  TypedAttr attr = b.getIntegerAttr(getElementTypeOrSelf(type), v);
  if (auto vec = dyn_cast<VectorType>(type))
    attr = DenseElementsAttr::get(vec, attr);
  return arith::ConstantOp::create(b, attr);
}

Value hymba::roundedBF16Bits(ImplicitLocOpBuilder &b, Value x) {
  Type i32 = b.getI32Type();
  if (auto vec = dyn_cast<VectorType>(x.getType()))
    i32 = VectorType::get(vec.getShape(), i32);
  Value bits = arith::BitcastOp::create(b, i32, x);
  // bits + 0x7fff + (bit 16 of bits): ties go to the even bf16.
  Value lsb = arith::AndIOp::create(
      b, arith::ShRUIOp::create(b, bits, intConst(b, i32, 16)),
      intConst(b, i32, 1));
  Value rounded = arith::AndIOp::create(
      b,
      arith::AddIOp::create(
          b, bits, arith::AddIOp::create(b, lsb, intConst(b, i32, 0x7fff))),
      intConst(b, i32, int64_t(int32_t(0xffff0000u))));
  // A NaN could round into an infinity: keep it, quiet, in the high half.
  Value isNaN = arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, x, x);
  Value quiet = arith::OrIOp::create(
      b, arith::AndIOp::create(b, bits,
                               intConst(b, i32, int64_t(int32_t(0xffff0000u)))),
      intConst(b, i32, 0x00400000));
  return arith::SelectOp::create(b, isNaN, quiet, rounded);
}

Value hymba::roundToBF16(ImplicitLocOpBuilder &b, Value x) {
  return arith::BitcastOp::create(b, x.getType(), roundedBF16Bits(b, x));
}

Value hymba::widenBF16Exactly(ImplicitLocOpBuilder &b, Value bf16Vector) {
  auto type = cast<VectorType>(bf16Vector.getType());
  auto i32Vec = type.clone(b.getI32Type());
  Value bits = arith::ExtUIOp::create(
      b, i32Vec, arith::BitcastOp::create(b, type.clone(b.getI16Type()),
                                          bf16Vector));
  Value shifted = arith::ShLIOp::create(
      b, bits,
      arith::ConstantOp::create(
          b, i32Vec, DenseElementsAttr::get(i32Vec, b.getI32IntegerAttr(16))));
  return arith::BitcastOp::create(b, type.clone(b.getF32Type()), shifted);
}

bool hymba::isScalarElementwiseOp(Operation &op) {
  auto scalar = [](Type t) { return t.isIntOrFloat(); };
  return op.getNumResults() == 1 && op.getNumRegions() == 0 &&
         (isa<arith::ConstantOp>(op) ||
          OpTrait::hasElementwiseMappableTraits(&op)) &&
         llvm::all_of(op.getOperandTypes(), scalar) &&
         scalar(op.getResult(0).getType());
}

void hymba::cloneElementwiseOps(ImplicitLocOpBuilder &b, Block &body,
                                int64_t lanes, IRMapping &map,
                                function_ref<bool(Operation &)> skip) {
  auto widen = [&](Type t) -> Type {
    return lanes ? VectorType::get({lanes}, t) : t;
  };
  for (Operation &inner : body.without_terminator()) {
    if (skip && skip(inner))
      continue;
    // Values from outside the body are the same for every element.
    for (Value operand : inner.getOperands())
      if (lanes && !map.contains(operand) && operand.getParentBlock() != &body)
        map.map(operand, vector::BroadcastOp::create(
                             b, widen(operand.getType()), operand));
    auto ext = dyn_cast<arith::ExtFOp>(inner);
    if (lanes && ext && ext.getIn().getType().isBF16() &&
        ext.getType().isF32()) {
      map.map(ext.getResult(), widenBF16Exactly(b, map.lookup(ext.getIn())));
      continue;
    }
    Operation *clone = b.clone(inner, map);
    for (Value result : clone->getResults())
      result.setType(widen(result.getType()));
    if (auto cst = dyn_cast<arith::ConstantOp>(clone); cst && lanes)
      cst.setValueAttr(DenseElementsAttr::get(cast<ShapedType>(cst.getType()),
                                              cast<TypedAttr>(cst.getValue())));
  }
}

Value hymba::f32Const(ImplicitLocOpBuilder &b, double v) {
  return arith::ConstantOp::create(b, b.getF32FloatAttr(float(v)));
}

Value hymba::f32Const(ImplicitLocOpBuilder &b, Type type, double v) {
  TypedAttr attr = b.getF32FloatAttr(float(v));
  if (auto vec = dyn_cast<VectorType>(type))
    attr = DenseElementsAttr::get(vec, attr);
  return arith::ConstantOp::create(b, attr);
}

Value hymba::rowCount(ImplicitLocOpBuilder &b, Value shaped) {
  Value zero = arith::ConstantIndexOp::create(b, 0);
  if (isa<MemRefType>(shaped.getType()))
    return memref::DimOp::create(b, shaped, zero);
  return tensor::DimOp::create(b, shaped, zero);
}

Value hymba::emptyRows(ImplicitLocOpBuilder &b, Value like, int64_t width) {
  auto type =
      RankedTensorType::get({ShapedType::kDynamic, width}, b.getF32Type());
  return tensor::EmptyOp::create(b, type, ValueRange{rowCount(b, like)});
}

Value hymba::buildLinear(ImplicitLocOpBuilder &b, Value x, Value w, int64_t n,
                         Value accumulator) {
  MLIRContext *ctx = b.getContext();
  Value acc = accumulator ? accumulator : zeros(b, x, n);
  // (t, n, k): y[t, n] += x[t, k] * w[n, k], w read in its storage layout
  // (plain, panels, quantized: WeightAccess.h).
  WeightSource source = weightSource(w);
  SmallVector<Value> inputs = {x};
  SmallVector<AffineMap> maps = {map(ctx, 3, {0, 2})};
  // int8 and int4 values interleaved along K feed integer dot products
  // (--compute=int8), which multiply x quantized per group of the weight's
  // group size (ActivationQuantization.h): the projection reads x's int8
  // values and their scales instead of x.
  bool int8Dot = source.quantized() && source.interleave > 1;
  if (int8Dot) {
    QuantizedActivations q = buildQuantizedActivations(b, x, source.group);
    AffineExpr t = getAffineDimExpr(0, ctx), k = getAffineDimExpr(2, ctx);
    inputs = {q.values, q.scales};
    maps.push_back(AffineMap::get(3, 0, {t, k.floorDiv(source.group)}, ctx));
  }
  appendWeightOperands(source, 3, getAffineDimExpr(1, ctx),
                       getAffineDimExpr(2, ctx), inputs, maps);
  maps.push_back(map(ctx, 3, {0, 1}));
  auto generic = linalg::GenericOp::create(
      b, TypeRange{acc.getType()}, inputs, ValueRange{acc}, maps,
      ArrayRef<IteratorType>{kPar, kPar, kRed},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        ImplicitLocOpBuilder ib(loc, nb);
        size_t xArgs = int8Dot ? 2 : 1;
        Value weight = weightFromArguments(
            ib, source, args.slice(xArgs, args.size() - xArgs - 1), 1, 2);
        Value input = args[0];
        if (int8Dot)
          input = arith::MulFOp::create(
              ib, arith::SIToFPOp::create(ib, ib.getF32Type(), args[0]),
              args[1]);
        // bf16 weights in pairs along K feed bf16 dot products
        // (--compute=bf16), which multiply x rounded to bf16: the rounding is
        // part of the op's meaning, so every lowering of it agrees.
        if (source.interleave > 1 && isa<BFloat16Type>(getElementTypeOrSelf(
                                         source.data.getType())))
          input = roundToBF16(ib, input);
        Value prod = arith::MulFOp::create(ib, input, weight);
        linalg::YieldOp::create(
            ib, ValueRange{arith::AddFOp::create(ib, args.back(), prod)});
      });
  return generic.getResult(0);
}

Value hymba::buildRMSNorm(ImplicitLocOpBuilder &b, Value x, Value w,
                          float eps) {
  MLIRContext *ctx = b.getContext();
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t width = xType.getDimSize(1);
  // Sum of squares per row.
  auto rowsType = RankedTensorType::get({ShapedType::kDynamic}, b.getF32Type());
  Value empty =
      tensor::EmptyOp::create(b, rowsType, ValueRange{rowCount(b, x)});
  Value init = linalg::FillOp::create(b, f32Const(b, 0.0), empty).getResult(0);
  Value sumSq = linalg::GenericOp::create(
                    b, TypeRange{rowsType}, ValueRange{x}, ValueRange{init},
                    ArrayRef<AffineMap>{map(ctx, 2, {0, 1}), map(ctx, 2, {0})},
                    ArrayRef<IteratorType>{kPar, kRed},
                    [](OpBuilder &nb, Location loc, ValueRange a) {
                      ImplicitLocOpBuilder ib(loc, nb);
                      Value sq = arith::MulFOp::create(ib, a[0], a[0]);
                      linalg::YieldOp::create(
                          ib, ValueRange{arith::AddFOp::create(ib, a[1], sq)});
                    })
                    .getResult(0);
  Value out = emptyRows(b, x, width);
  return linalg::GenericOp::create(
             b, TypeRange{out.getType()}, ValueRange{x, sumSq, w},
             ValueRange{out},
             ArrayRef<AffineMap>{map(ctx, 2, {0, 1}), map(ctx, 2, {0}),
                                 map(ctx, 2, {1}), map(ctx, 2, {0, 1})},
             ArrayRef<IteratorType>{kPar, kPar},
             [&](OpBuilder &nb, Location loc, ValueRange a) {
               ImplicitLocOpBuilder ib(loc, nb);
               Value normed = arith::MulFOp::create(
                   ib, a[0], buildInvRMS(ib, a[1], width, eps));
               linalg::YieldOp::create(
                   ib, ValueRange{arith::MulFOp::create(ib, normed,
                                                        widenToF32(ib, a[2]))});
             })
      .getResult(0);
}

Value hymba::buildInvRMS(ImplicitLocOpBuilder &b, Value sumSq, int64_t width,
                         float eps) {
  Value mean = arith::DivFOp::create(b, sumSq, f32Const(b, double(width)));
  return math::RsqrtOp::create(
      b, arith::AddFOp::create(b, mean, f32Const(b, eps)));
}

Value hymba::buildNormMean(ImplicitLocOpBuilder &b, Value a, Value wa, Value s,
                           Value ws, float eps) {
  MLIRContext *ctx = b.getContext();
  int64_t width = cast<RankedTensorType>(a.getType()).getDimSize(1);
  auto rowsType = RankedTensorType::get({ShapedType::kDynamic}, b.getF32Type());
  Value empty =
      tensor::EmptyOp::create(b, rowsType, ValueRange{rowCount(b, a)});
  Value init = linalg::FillOp::create(b, f32Const(b, 0.0), empty).getResult(0);
  auto sums = linalg::GenericOp::create(
      b, TypeRange{rowsType, rowsType}, ValueRange{a, s},
      ValueRange{init, init},
      ArrayRef<AffineMap>{map(ctx, 2, {0, 1}), map(ctx, 2, {0, 1}),
                          map(ctx, 2, {0}), map(ctx, 2, {0})},
      ArrayRef<IteratorType>{kPar, kRed},
      [](OpBuilder &nb, Location loc, ValueRange v) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value sa = arith::AddFOp::create(ib, v[2],
                                         arith::MulFOp::create(ib, v[0], v[0]));
        Value ss = arith::AddFOp::create(ib, v[3],
                                         arith::MulFOp::create(ib, v[1], v[1]));
        linalg::YieldOp::create(ib, ValueRange{sa, ss});
      });
  Value out = emptyRows(b, a, width);
  return linalg::GenericOp::create(
             b, TypeRange{out.getType()},
             ValueRange{a, s, sums.getResult(0), sums.getResult(1), wa, ws},
             ValueRange{out},
             ArrayRef<AffineMap>{map(ctx, 2, {0, 1}), map(ctx, 2, {0, 1}),
                                 map(ctx, 2, {0}), map(ctx, 2, {0}),
                                 map(ctx, 2, {1}), map(ctx, 2, {1}),
                                 map(ctx, 2, {0, 1})},
             ArrayRef<IteratorType>{kPar, kPar},
             [&](OpBuilder &nb, Location loc, ValueRange v) {
               ImplicitLocOpBuilder ib(loc, nb);
               auto norm = [&](Value x, Value sum, Value w) {
                 Value inv = buildInvRMS(ib, sum, width, eps);
                 return arith::MulFOp::create(
                     ib, arith::MulFOp::create(ib, x, inv), widenToF32(ib, w));
               };
               Value sum = arith::AddFOp::create(ib, norm(v[0], v[2], v[4]),
                                                 norm(v[1], v[3], v[5]));
               linalg::YieldOp::create(ib, ValueRange{arith::MulFOp::create(
                                               ib, sum, f32Const(ib, 0.5))});
             })
      .getResult(0);
}

Value hymba::buildElementwise(
    ImplicitLocOpBuilder &b, ValueRange inputs,
    function_ref<Value(ImplicitLocOpBuilder &, ValueRange)> fn) {
  MLIRContext *ctx = b.getContext();
  int64_t width = cast<RankedTensorType>(inputs[0].getType()).getDimSize(1);
  Value out = emptyRows(b, inputs[0], width);
  SmallVector<AffineMap> maps(inputs.size() + 1, map(ctx, 2, {0, 1}));
  return linalg::GenericOp::create(
             b, TypeRange{out.getType()}, inputs, ValueRange{out}, maps,
             ArrayRef<IteratorType>{kPar, kPar},
             [&](OpBuilder &nb, Location loc, ValueRange a) {
               ImplicitLocOpBuilder ib(loc, nb);
               linalg::YieldOp::create(ib, ValueRange{fn(ib, a.drop_back())});
             })
      .getResult(0);
}

Value hymba::buildSilu(ImplicitLocOpBuilder &b, Value x) {
  Value neg = arith::NegFOp::create(b, x);
  Value e = math::ExpOp::create(b, neg);
  Value denom = arith::AddFOp::create(b, f32Const(b, x.getType(), 1.0), e);
  return arith::DivFOp::create(b, x, denom);
}

Value hymba::toReadOnlyBuffer(ImplicitLocOpBuilder &b, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  auto layout =
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, strides);
  auto memType =
      MemRefType::get(type.getShape(), type.getElementType(), layout);
  return bufferization::ToBufferOp::create(b, memType, tensor,
                                           /*read_only=*/true);
}

Value hymba::viewAt(ImplicitLocOpBuilder &b, Value bytes, int64_t offset,
                    MemRefType type) {
  Value shift = arith::ConstantIndexOp::create(b, offset);
  return memref::ViewOp::create(b, type, bytes, shift, ValueRange{});
}

Value hymba::indexConst(ImplicitLocOpBuilder &b, int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}

Value hymba::loadF32(ImplicitLocOpBuilder &b, Value mem, ValueRange idx) {
  return widenToF32(b, memref::LoadOp::create(b, mem, idx));
}

Value hymba::viewedBuffer(Value v) {
  Operation *def = v.getDefiningOp();
  if (auto view = dyn_cast_or_null<ViewLikeOpInterface>(def))
    return view.getViewSource();
  if (auto meta = dyn_cast_or_null<memref::ExtractStridedMetadataOp>(def))
    return meta.getSource();
  return Value();
}
