//===- VectorizeRowReductions.cpp - Row sums as vector loops --------------===//
//
// The RMS norms' sums of squares are linalg reductions over each row.
// convert-linalg-to-loops turns them into a scalar loop that loads and
// stores the row's accumulator at every element, which LLVM can neither
// keep in a register nor vectorize (it cannot prove the accumulator's
// buffer apart from the input's): one dependent add per element, serial, a
// few percent of a long prefill and more with two threads. This pass gives
// such a reduction vector partial sums in registers instead.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAVECTORIZEROWREDUCTIONS
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;

namespace {
/// Independent vector partial sums per output: enough adds in flight to
/// cover the add latency.
constexpr int64_t kPartials = 4;

/// A row reduction this pass rewrites: loops (parallel row, reduction
/// column) on buffers; every input an f32 [rows, K] read through (d0, d1)
/// with a static K; every output an f32 [rows] read through (d0); and the
/// body yields, for each output, out + e where e is built from the inputs
/// by element-wise ops only.
struct RowReduction {
  linalg::GenericOp op;
  int64_t width = 0;
  /// The summands e, one per output, and the fast-math flags of the adds
  /// that accumulate them.
  SmallVector<Value> terms;
  SmallVector<arith::FastMathFlags> flags;
};

bool isF32Memref(Value v, int64_t rank) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getRank() == rank && type.getElementType().isF32() &&
         type.isLastDimUnitStride();
}

std::optional<RowReduction> matchRowReduction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() != 2 ||
      op.getIteratorTypesArray() !=
          SmallVector<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::reduction} ||
      op.getNumDpsInputs() == 0)
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  AffineMap rowCol = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap row = AffineMap::get(2, 0, getAffineDimExpr(0, ctx));
  RowReduction r;
  r.op = op;
  // Inputs are read by vector loads: unit inner stride.
  for (OpOperand *in : op.getDpsInputOperands()) {
    if (!isF32Memref(in->get(), 2) || op.getMatchingIndexingMap(in) != rowCol)
      return std::nullopt;
    int64_t k = cast<MemRefType>(in->get().getType()).getDimSize(1);
    if (ShapedType::isDynamic(k) || (r.width && r.width != k))
      return std::nullopt;
    r.width = k;
  }
  for (OpOperand &out : op.getDpsInitsMutable())
    if (!isF32Memref(out.get(), 1) || op.getMatchingIndexingMap(&out) != row)
      return std::nullopt;
  Block &body = op.getRegion().front();
  auto outArgs = body.getArguments().drop_front(op.getNumDpsInputs());
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  // The accumulators and their sums: only the final adds may read them.
  llvm::SmallPtrSet<Value, 8> accumulated(outArgs.begin(), outArgs.end());
  SmallVector<Operation *> adds;
  for (auto [value, outArg] : llvm::zip(yield.getValues(), outArgs)) {
    auto add = value.getDefiningOp<arith::AddFOp>();
    if (!add || add->getBlock() != &body)
      return std::nullopt;
    Value term = add.getLhs() == outArg   ? add.getRhs()
                 : add.getRhs() == outArg ? add.getLhs()
                                          : Value();
    if (!term)
      return std::nullopt;
    r.terms.push_back(term);
    r.flags.push_back(add.getFastmath());
    accumulated.insert(value);
    adds.push_back(add);
  }
  // A summand is neither an accumulator nor a sum (out + out, or another
  // output's sum).
  for (Value term : r.terms)
    if (accumulated.contains(term))
      return std::nullopt;
  // Every other op is element-wise on scalars and reads no accumulator or
  // sum; a sum is used by the yield alone.
  for (Operation &inner : body.without_terminator()) {
    if (!hymba::isScalarElementwiseOp(inner))
      return std::nullopt;
    bool isAdd = llvm::is_contained(adds, &inner);
    if (isAdd && !inner.getResult(0).hasOneUse())
      return std::nullopt;
    for (Value operand : inner.getOperands())
      if (!isAdd && accumulated.contains(operand))
        return std::nullopt;
  }
  return r;
}

/// The summands at `col` of row `rowIdx`: the body's ops cloned on `lanes`
/// wide vectors (lanes == 0: scalars), inputs loaded at (row, col).
SmallVector<Value> emitTerms(ImplicitLocOpBuilder &b, const RowReduction &r,
                             Value rowIdx, Value col, int64_t lanes) {
  linalg::GenericOp op = r.op;
  Block &body = op.getRegion().front();
  IRMapping map;
  auto widen = [&](Type t) -> Type {
    return lanes ? VectorType::get({lanes}, t) : t;
  };
  for (auto [arg, in] :
       llvm::zip(body.getArguments(), op.getDpsInputOperands())) {
    SmallVector<Value, 2> idx = {rowIdx, col};
    Value v =
        lanes ? vector::LoadOp::create(
                    b, cast<VectorType>(widen(b.getF32Type())), in->get(), idx)
                    .getResult()
              : memref::LoadOp::create(b, in->get(), idx).getResult();
    map.map(arg, v);
  }
  // Every op but the accumulating adds.
  hymba::cloneElementwiseOps(b, body, lanes, map, [&](Operation &inner) {
    return llvm::is_contained(body.getTerminator()->getOperands(),
                              inner.getResult(0));
  });
  SmallVector<Value> terms;
  for (Value t : r.terms) {
    Value v = map.lookupOrDefault(t);
    // A summand from outside the body is the same for every element.
    if (lanes && !isa<VectorType>(v.getType()))
      v = vector::BroadcastOp::create(b, widen(v.getType()), v);
    terms.push_back(v);
  }
  return terms;
}

/// Rewrites `r`: per row, up to kPartials vectors of partial sums per output
/// over the whole vector steps of the row, their lanes added, then the last
/// columns one at a time, then the sum added to the output's element. The
/// sums are reassociated (lanes, then partials, then the tail) where the
/// linalg op added the elements in order.
void rewrite(const RowReduction &r, int64_t vl) {
  linalg::GenericOp op = r.op;
  ImplicitLocOpBuilder b(op.getLoc(), op);
  auto vt = VectorType::get({vl}, b.getF32Type());
  Value c0 = arith::ConstantIndexOp::create(b, 0);
  Value c1 = arith::ConstantIndexOp::create(b, 1);
  Value rows = memref::DimOp::create(b, op.getDpsInputOperand(0)->get(), 0);
  // Fewer partial sums when the row holds fewer vectors.
  int64_t partials = std::clamp<int64_t>(r.width / vl, 1, kPartials);
  int64_t step = vl * partials;
  int64_t mainEnd = r.width / step * step;
  size_t outs = r.terms.size();
  Value zeros = arith::ConstantOp::create(
      b, vt, DenseElementsAttr::get(vt, b.getF32FloatAttr(0.0f)));
  scf::ForOp::create(
      b, c0, rows, c1, ValueRange{},
      [&](OpBuilder &rb, Location loc, Value rowIdx, ValueRange) {
        ImplicitLocOpBuilder ib(loc, rb);
        SmallVector<Value> init(outs * partials, zeros);
        auto vecLoop = scf::ForOp::create(
            ib, c0, arith::ConstantIndexOp::create(ib, mainEnd),
            arith::ConstantIndexOp::create(ib, step), init,
            [&](OpBuilder &lb, Location l, Value col, ValueRange accs) {
              ImplicitLocOpBuilder eb(l, lb);
              SmallVector<Value> next(accs);
              for (int64_t p = 0; p < partials; ++p) {
                Value c = arith::AddIOp::create(
                    eb, col, arith::ConstantIndexOp::create(eb, p * vl));
                SmallVector<Value> terms = emitTerms(eb, r, rowIdx, c, vl);
                for (size_t o = 0; o < outs; ++o)
                  next[o * partials + p] = arith::AddFOp::create(
                      eb, accs[o * partials + p], terms[o], r.flags[o]);
              }
              scf::YieldOp::create(eb, next);
            });
        SmallVector<Value> sums;
        for (size_t o = 0; o < outs; ++o) {
          Value v = vecLoop.getResult(o * partials);
          for (int64_t p = 1; p < partials; ++p)
            v = arith::AddFOp::create(ib, v,
                                      vecLoop.getResult(o * partials + p));
          sums.push_back(
              vector::ReductionOp::create(ib, vector::CombiningKind::ADD, v,
                                          arith::FastMathFlags::reassoc));
        }
        auto tail = scf::ForOp::create(
            ib, arith::ConstantIndexOp::create(ib, mainEnd),
            arith::ConstantIndexOp::create(ib, r.width), c1, sums,
            [&](OpBuilder &lb, Location l, Value col, ValueRange accs) {
              ImplicitLocOpBuilder eb(l, lb);
              SmallVector<Value> terms = emitTerms(eb, r, rowIdx, col, 0);
              SmallVector<Value> next;
              for (size_t o = 0; o < outs; ++o)
                next.push_back(
                    arith::AddFOp::create(eb, accs[o], terms[o], r.flags[o]));
              scf::YieldOp::create(eb, next);
            });
        for (auto [o, out] : llvm::enumerate(op.getDpsInits())) {
          Value old = memref::LoadOp::create(ib, out, ValueRange{rowIdx});
          memref::StoreOp::create(
              ib, arith::AddFOp::create(ib, old, tail.getResult(o)), out,
              ValueRange{rowIdx});
        }
        scf::YieldOp::create(ib);
      });
  op.erase();
}

struct VectorizeRowReductionsPass
    : hymba::impl::HymbaVectorizeRowReductionsBase<VectorizeRowReductionsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (vectorWidth < 2)
      return;
    SmallVector<RowReduction> found;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (auto r = matchRowReduction(op); r && r->width >= vectorWidth)
        found.push_back(*r);
    });
    for (const RowReduction &r : found)
      rewrite(r, vectorWidth);
  }
};
} // namespace
