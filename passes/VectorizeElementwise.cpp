//===- VectorizeElementwise.cpp - Row-wise element-wise ops as vectors ----===//
//
// The element-wise linalg ops between the kernels (norms applied, residual
// adds, the SiLU gate, the copies out of the fused projection) reach
// convert-linalg-to-loops as scalar loops in the layer function. LLVM's loop
// vectorizer then versions each of them (runtime alias checks, a vector
// body, an interleaved epilogue and a scalar remainder), ten such loops a
// layer: for the 1.5B shape that is most of the 150k LLVM instructions of
// `hymba_layers`, and most of the compile time spent in LLVM. This pass
// emits them as vector loops of the target's width, which the loop
// vectorizer leaves alone, computing the same values.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAVECTORIZEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;

namespace {
/// How an operand of the op is read at (row, col).
enum class Access {
  RowCol, // [rows, width] through (d0, d1): a vector at [row, col]
  Row,    // [rows] through (d0): one value per row, broadcast
  Col,    // [width] through (d1): a vector at [col]
};

/// An element-wise op this pass rewrites: loops (parallel, parallel) on
/// buffers of a static row width; every output [rows, width] through
/// (d0, d1); inputs read as `Access` says; a body of scalar element-wise
/// ops.
struct RowwiseOp {
  linalg::GenericOp op;
  int64_t width = 0;
  SmallVector<Access> inputs;
};

/// The buffer a view is a view of (through subviews, casts, reshapes).
Value viewRoot(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// Whether `a` and `b` are the same buffer, or buffers that cannot overlap:
/// element i of an output may be written before element j > i of an input
/// is read, which only these two cases make safe.
bool sameOrDisjoint(Value a, Value b) {
  if (a == b)
    return true;
  Value ra = viewRoot(a), rb = viewRoot(b);
  auto isAlloc = [](Value v) {
    return v.getDefiningOp<memref::AllocOp>() ||
           v.getDefiningOp<memref::AllocaOp>();
  };
  return ra != rb && (isAlloc(ra) || isAlloc(rb));
}

std::optional<RowwiseOp> matchRowwise(linalg::GenericOp op, int64_t vl) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() != 2 ||
      op.getNumParallelLoops() != 2)
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  AffineMap rowCol = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap row = AffineMap::get(2, 0, getAffineDimExpr(0, ctx));
  AffineMap col = AffineMap::get(2, 0, getAffineDimExpr(1, ctx));
  // Vectors are loaded from and stored to unit-stride rows.
  auto memrefOf = [](Value v, int64_t rank) -> MemRefType {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || type.getRank() != rank || !type.isLastDimUnitStride() ||
        !type.getElementType().isIntOrFloat())
      return nullptr;
    return type;
  };
  RowwiseOp r;
  r.op = op;
  for (OpOperand &out : op.getDpsInitsMutable()) {
    MemRefType type = memrefOf(out.get(), 2);
    if (!type || op.getMatchingIndexingMap(&out) != rowCol ||
        ShapedType::isDynamic(type.getDimSize(1)) ||
        (r.width && r.width != type.getDimSize(1)))
      return std::nullopt;
    r.width = type.getDimSize(1);
  }
  if (r.width < vl)
    return std::nullopt;
  for (OpOperand *in : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(in);
    if (map == rowCol) {
      MemRefType type = memrefOf(in->get(), 2);
      if (!type || type.getDimSize(1) != r.width)
        return std::nullopt;
      r.inputs.push_back(Access::RowCol);
    } else if (map == row && memrefOf(in->get(), 1)) {
      r.inputs.push_back(Access::Row);
    } else if (map == col) {
      MemRefType type = memrefOf(in->get(), 1);
      if (!type || type.getDimSize(0) != r.width)
        return std::nullopt;
      r.inputs.push_back(Access::Col);
    } else {
      return std::nullopt;
    }
  }
  for (OpOperand &out : op.getDpsInitsMutable())
    for (OpOperand *in : op.getDpsInputOperands())
      if (!sameOrDisjoint(out.get(), in->get()))
        return std::nullopt;
  for (OpOperand &a : op.getDpsInitsMutable())
    for (OpOperand &b : op.getDpsInitsMutable())
      if (&a != &b && !sameOrDisjoint(a.get(), b.get()))
        return std::nullopt;
  Block &body = op.getRegion().front();
  for (Operation &inner : body.without_terminator())
    if (!hymba::isScalarElementwiseOp(inner))
      return std::nullopt;
  return r;
}

/// The body arguments of the op's one-value-per-row inputs, mapped to their
/// values at `rowIdx` (broadcast to `lanes` wide vectors unless 0): read
/// once per row, before the loops over its columns, where LLVM could not
/// hoist them (a store to an output may alias them, as far as it knows).
IRMapping readRowValues(ImplicitLocOpBuilder &b, const RowwiseOp &r,
                        Value rowIdx, int64_t lanes) {
  linalg::GenericOp op = r.op;
  IRMapping map;
  for (auto [arg, in, access] : llvm::zip(op.getRegion().front().getArguments(),
                                          op.getDpsInputOperands(), r.inputs)) {
    if (arg.use_empty() || access != Access::Row)
      continue;
    Value v = memref::LoadOp::create(b, in->get(), rowIdx);
    if (lanes)
      v = vector::BroadcastOp::create(b, VectorType::get({lanes}, v.getType()),
                                      v);
    map.map(arg, v);
  }
  return map;
}

/// The op's body at (row, col) on `lanes`-wide vectors (0: scalars): its
/// operands read (the per-row ones from `rowValues`), its ops cloned, its
/// results stored to the outputs.
void emitElements(ImplicitLocOpBuilder &b, const RowwiseOp &r,
                  const IRMapping &rowValues, Value rowIdx, Value col,
                  int64_t lanes) {
  linalg::GenericOp op = r.op;
  Block &body = op.getRegion().front();
  auto read = [&](Value buf, ValueRange idx) -> Value {
    if (!lanes)
      return memref::LoadOp::create(b, buf, idx);
    Type elem = cast<MemRefType>(buf.getType()).getElementType();
    return vector::LoadOp::create(b, VectorType::get({lanes}, elem), buf, idx);
  };
  IRMapping map = rowValues;
  for (auto [arg, in, access] :
       llvm::zip(body.getArguments(), op.getDpsInputOperands(), r.inputs)) {
    if (arg.use_empty() || access == Access::Row)
      continue;
    map.map(arg,
            read(in->get(), access == Access::RowCol ? ValueRange{rowIdx, col}
                                                     : ValueRange{col}));
  }
  // An output's old value, where the body reads it.
  for (auto [arg, out] :
       llvm::zip(body.getArguments().drop_front(op.getNumDpsInputs()),
                 op.getDpsInits()))
    if (!arg.use_empty())
      map.map(arg, read(out, {rowIdx, col}));
  hymba::cloneElementwiseOps(b, body, lanes, map);
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  for (auto [value, out] : llvm::zip(yield.getValues(), op.getDpsInits())) {
    Value v = map.lookupOrDefault(value);
    // A yielded value from outside the body is the same for every element.
    if (lanes && !isa<VectorType>(v.getType()))
      v = vector::BroadcastOp::create(b, VectorType::get({lanes}, v.getType()),
                                      v);
    if (lanes)
      vector::StoreOp::create(b, v, out, ValueRange{rowIdx, col});
    else
      memref::StoreOp::create(b, v, out, ValueRange{rowIdx, col});
  }
}

/// Rewrites `r` into a loop over rows holding a vector loop over the whole
/// vectors of the row and a scalar loop over its last columns.
void rewrite(const RowwiseOp &r, int64_t vl) {
  linalg::GenericOp op = r.op;
  ImplicitLocOpBuilder b(op.getLoc(), op);
  Value c0 = arith::ConstantIndexOp::create(b, 0);
  Value c1 = arith::ConstantIndexOp::create(b, 1);
  Value rows = memref::DimOp::create(b, op.getDpsInits()[0], 0);
  int64_t mainEnd = r.width / vl * vl;
  scf::ForOp::create(
      b, c0, rows, c1, ValueRange{},
      [&](OpBuilder &rb, Location loc, Value rowIdx, ValueRange) {
        ImplicitLocOpBuilder ib(loc, rb);
        IRMapping rowVectors = readRowValues(ib, r, rowIdx, vl);
        scf::ForOp::create(
            ib, c0, arith::ConstantIndexOp::create(ib, mainEnd),
            arith::ConstantIndexOp::create(ib, vl), ValueRange{},
            [&](OpBuilder &lb, Location l, Value col, ValueRange) {
              ImplicitLocOpBuilder eb(l, lb);
              emitElements(eb, r, rowVectors, rowIdx, col, vl);
              scf::YieldOp::create(eb);
            });
        if (mainEnd < r.width) {
          IRMapping rowScalars = readRowValues(ib, r, rowIdx, 0);
          scf::ForOp::create(
              ib, arith::ConstantIndexOp::create(ib, mainEnd),
              arith::ConstantIndexOp::create(ib, r.width), c1, ValueRange{},
              [&](OpBuilder &lb, Location l, Value col, ValueRange) {
                ImplicitLocOpBuilder eb(l, lb);
                emitElements(eb, r, rowScalars, rowIdx, col, 0);
                scf::YieldOp::create(eb);
              });
        }
        scf::YieldOp::create(ib);
      });
  op.erase();
}

struct VectorizeElementwisePass
    : hymba::impl::HymbaVectorizeElementwiseBase<VectorizeElementwisePass> {
  using Base::Base;
  void runOnOperation() override {
    if (vectorWidth < 2)
      return;
    SmallVector<RowwiseOp> found;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (auto r = matchRowwise(op, vectorWidth))
        found.push_back(*r);
    });
    for (const RowwiseOp &r : found)
      rewrite(r, vectorWidth);
  }
};
} // namespace
