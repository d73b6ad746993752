//===- WeightAccess.cpp - How lowerings read a weight's elements ----------===//
#include "WeightAccess.h"
#include "LoweringUtils.h"
#include "dialects/hymba/HymbaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::hymba;

namespace {
Value cIdx(ImplicitLocOpBuilder &b, int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}

Value readAt(ImplicitLocOpBuilder &b, Value shaped, ValueRange idx) {
  if (isa<MemRefType>(shaped.getType()))
    return memref::LoadOp::create(b, shaped, idx);
  return tensor::ExtractOp::create(b, shaped, idx);
}

/// Storage indices of element (n, k) of `w`'s values (or float data); for
/// i4 also the i1 "high nibble" flag.
std::pair<SmallVector<Value>, Value> dataIndex(ImplicitLocOpBuilder &b,
                                               const WeightSource &w, Value n,
                                               Value k) {
  if (w.panel == 0) {
    if (w.bits != 4)
      return {{n, k}, Value()};
    Value flat = arith::AddIOp::create(
        b, arith::MulIOp::create(b, n, cIdx(b, w.cols)), k);
    Value two = cIdx(b, 2);
    Value odd = arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                                      arith::RemUIOp::create(b, flat, two),
                                      cIdx(b, 0));
    return {{arith::DivUIOp::create(b, flat, two)}, odd};
  }
  Value width = cIdx(b, w.panel);
  Value p = arith::DivUIOp::create(b, n, width);
  Value lane = arith::RemUIOp::create(b, n, width);
  // i4: lanes j and j + W/2 share the byte of lane j.
  Value high;
  if (w.bits == 4) {
    Value half = cIdx(b, w.panel / 2);
    high = arith::CmpIOp::create(b, arith::CmpIPredicate::uge, lane, half);
    lane = arith::RemUIOp::create(b, lane, half);
  }
  if (w.interleave > 1) {
    Value f = cIdx(b, w.interleave);
    return {{p, arith::DivUIOp::create(b, k, f), lane,
             arith::RemUIOp::create(b, k, f)},
            high};
  }
  return {{p, k, lane}, high};
}

/// The scale storage indices of element (n, k).
SmallVector<Value> scaleIndex(ImplicitLocOpBuilder &b, const WeightSource &w,
                              Value n, Value k) {
  Value g = arith::DivUIOp::create(b, k, cIdx(b, w.group));
  if (w.panel == 0)
    return {n, g};
  Value width = cIdx(b, w.panel);
  return {arith::DivUIOp::create(b, n, width), g,
          arith::RemUIOp::create(b, n, width)};
}

Value dequantize(ImplicitLocOpBuilder &b, Value stored, Value highNibble,
                 Value scale) {
  return arith::MulFOp::create(b, unpackQuantized(b, stored, highNibble),
                               widenToF32(b, scale));
}
} // namespace

WeightSource hymba::weightSource(Value weight) {
  WeightSource w;
  auto logical = cast<RankedTensorType>(weight.getType());
  w.rows = logical.getDimSize(0);
  w.cols = logical.getDimSize(1);
  auto dequantize = weight.getDefiningOp<DequantizeOp>();
  w.data = dequantize ? dequantize.getValues() : weight;
  auto data = cast<ShapedType>(w.data.getType());
  if (!dequantize) {
    // A lowered float weight: [N, K], panels [P, K, W] or interleaved
    // panels [P, ceil(K / F), W, F].
    w.panel = data.getRank() >= 3 ? data.getDimSize(2) : 0;
    if (data.getRank() == 4)
      w.interleave = data.getDimSize(3);
    return w;
  }
  // The operands are storage tensors by now (lowerWeight), whose shapes say
  // the layout (storageType in HymbaDialect.cpp): i4 values are rank-1
  // bytes without panels, and half as wide as their scales with panels.
  w.scales = dequantize.getScales();
  w.group = dequantize.getGroupSize();
  auto scales = cast<ShapedType>(w.scales.getType());
  if (scales.getRank() == 3) {
    w.panel = scales.getDimSize(2);
    w.bits = data.getDimSize(2) == w.panel ? 8 : 4;
    // Values interleaved along K: [P, ceil(K / F), W (i4: W / 2), F].
    if (data.getRank() == 4)
      w.interleave = data.getDimSize(3);
  } else {
    w.bits = data.getRank() == 1 ? 4 : 8;
  }
  return w;
}

void hymba::appendWeightOperands(const WeightSource &w, unsigned numDims,
                                 AffineExpr n, AffineExpr k,
                                 SmallVectorImpl<Value> &operands,
                                 SmallVectorImpl<AffineMap> &maps) {
  MLIRContext *ctx = n.getContext();
  auto mapOf = [&](ArrayRef<AffineExpr> exprs) {
    return AffineMap::get(numDims, 0, exprs, ctx);
  };
  operands.push_back(w.data);
  if (w.panel == 0) {
    if (w.bits == 4)
      maps.push_back(mapOf({(n * w.cols + k).floorDiv(2)}));
    else
      maps.push_back(mapOf({n, k}));
  } else {
    AffineExpr lane = n % w.panel;
    if (w.bits == 4)
      lane = lane % (w.panel / 2);
    if (w.interleave > 1)
      maps.push_back(mapOf({n.floorDiv(w.panel), k.floorDiv(w.interleave),
                            lane, k % w.interleave}));
    else
      maps.push_back(mapOf({n.floorDiv(w.panel), k, lane}));
  }
  if (!w.quantized())
    return;
  operands.push_back(w.scales);
  if (w.panel == 0)
    maps.push_back(mapOf({n, k.floorDiv(w.group)}));
  else
    maps.push_back(
        mapOf({n.floorDiv(w.panel), k.floorDiv(w.group), n % w.panel}));
}

Value hymba::weightFromArguments(ImplicitLocOpBuilder &b, const WeightSource &w,
                                 ValueRange args, unsigned nDim,
                                 unsigned kDim) {
  if (!w.quantized())
    return widenToF32(b, args[0]);
  Value high;
  if (w.bits == 4) {
    Value n = linalg::IndexOp::create(b, nDim);
    Value k = linalg::IndexOp::create(b, kDim);
    high = dataIndex(b, w, n, k).second;
  }
  return dequantize(b, args[0], high, args[1]);
}

Value hymba::loadWeightElement(ImplicitLocOpBuilder &b, const WeightSource &w,
                               Value data, Value scales, Value n, Value k) {
  auto [idx, high] = dataIndex(b, w, n, k);
  Value stored = readAt(b, data, idx);
  if (!w.quantized())
    return widenToF32(b, stored);
  return dequantize(b, stored, high,
                    readAt(b, scales, scaleIndex(b, w, n, k)));
}

Value hymba::unpackQuantized(ImplicitLocOpBuilder &b, Value stored,
                             Value highNibble) {
  Value v = stored;
  if (highNibble) {
    // Shift the wanted nibble to the top of the byte, then sign-extend it
    // back down: (b << (high ? 0 : 4)) >> 4, arithmetic.
    Type i8 = b.getI8Type();
    Value four = arith::ConstantOp::create(b, b.getIntegerAttr(i8, 4));
    Value zero = arith::ConstantOp::create(b, b.getIntegerAttr(i8, 0));
    Value shift = arith::SelectOp::create(b, highNibble, zero, four);
    v = arith::ShRSIOp::create(b, arith::ShLIOp::create(b, v, shift), four);
  }
  return arith::SIToFPOp::create(b, b.getF32Type(), v);
}
