//===- GPUFuseIndependentLoops.cpp - Neighbouring loops share a kernel ----===//
//
// Every outermost scf.parallel becomes one kernel launch, and in a decode
// step the launches, not the work, dominate. Neighbouring loops that touch
// disjoint memory (RoPE on queries and on keys, the conv and the rotation
// of its neighbours, the KV-cache write and the merge) can run as one
// kernel: one flat loop over both item ranges, each item running the body
// of the loop it belongs to.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAGPUFUSEINDEPENDENTLOOPS
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;

namespace {
/// A region of memory: a root buffer and, when known, a byte range of it
/// (views of the parameter and state arenas at constant offsets).
struct Footprint {
  Value root;
  std::optional<std::pair<int64_t, int64_t>> bytes;

  bool overlaps(const Footprint &o) const {
    if (root != o.root)
      return false;
    if (!bytes || !o.bytes)
      return true;
    return bytes->first < o.bytes->second && o.bytes->first < bytes->second;
  }
};

Footprint footprintOf(Value v) {
  std::optional<std::pair<int64_t, int64_t>> bytes;
  for (Value source = hymba::viewedBuffer(v); source;
       v = source, source = hymba::viewedBuffer(v)) {
    // The first memref.view on the way to the buffer (an arena view at a
    // constant offset) gives the byte range; parts of it (subviews, casts)
    // keep that range.
    auto view = v.getDefiningOp<memref::ViewOp>();
    APInt shift;
    if (bytes || !view ||
        !matchPattern(view.getByteShift(), m_ConstantInt(&shift)) ||
        !view.getType().hasStaticShape() ||
        !view.getType().getElementType().isIntOrFloat())
      continue;
    int64_t size = view.getType().getNumElements() *
                   view.getType().getElementType().getIntOrFloatBitWidth() / 8;
    bytes = {{shift.getSExtValue(), shift.getSExtValue() + size}};
  }
  return {v, bytes};
}

/// What a loop reads and writes; nullopt when it has other side effects.
struct Accesses {
  SmallVector<Footprint> reads, writes;
};

std::optional<Accesses> accessesOf(scf::ParallelOp loop) {
  Accesses acc;
  WalkResult r = loop.getBody()->walk([&](Operation *op) {
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      acc.reads.push_back(footprintOf(load.getMemref()));
      return WalkResult::advance();
    }
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      acc.writes.push_back(footprintOf(store.getMemref()));
      return WalkResult::advance();
    }
    if (isMemoryEffectFree(op) || isa<memref::AllocaOp>(op) ||
        op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return WalkResult::advance();
    return WalkResult::interrupt();
  });
  if (r.wasInterrupted())
    return std::nullopt;
  return acc;
}

bool anyOverlap(ArrayRef<Footprint> a, ArrayRef<Footprint> b) {
  for (const Footprint &x : a)
    for (const Footprint &y : b)
      if (x.overlaps(y))
        return true;
  return false;
}

bool independent(const Accesses &a, const Accesses &b) {
  return !anyOverlap(a.writes, b.reads) && !anyOverlap(a.writes, b.writes) &&
         !anyOverlap(b.writes, a.reads);
}

/// A one-dimensional loop from 0 with step 1 (what the flattening leaves).
bool isFlat(scf::ParallelOp loop) {
  return loop.getNumLoops() == 1 && loop.getInitVals().empty() &&
         matchPattern(loop.getLowerBound()[0], m_Zero()) &&
         matchPattern(loop.getStep()[0], m_One());
}

/// The ops between `first` and `second` may move above `first`: they only
/// compute values or allocate (no frees, no reads or writes).
bool canHoistBetween(Operation *first, Operation *second) {
  for (Operation *op = first->getNextNode(); op != second;
       op = op->getNextNode())
    if (!isMemoryEffectFree(op) && !isa<memref::AllocOp, gpu::AllocOp>(op))
      return false;
  return true;
}

/// One loop over [0, nA + nB): items below nA run `a`'s body, the others
/// `b`'s body at index i - nA.
scf::ParallelOp fuse(scf::ParallelOp a, scf::ParallelOp b) {
  while (a->getNextNode() != b)
    a->getNextNode()->moveBefore(a);
  OpBuilder builder(a);
  Location loc = a.getLoc();
  Value nA = a.getUpperBound()[0], nB = b.getUpperBound()[0];
  Value total = arith::AddIOp::create(builder, loc, nA, nB);
  Value c0 = arith::ConstantIndexOp::create(builder, loc, 0);
  Value c1 = arith::ConstantIndexOp::create(builder, loc, 1);
  auto cloneBody = [](OpBuilder &ib, scf::ParallelOp from, Value iv) {
    IRMapping map;
    map.map(from.getInductionVars()[0], iv);
    for (Operation &op : from.getBody()->without_terminator())
      ib.clone(op, map);
  };
  auto fused = scf::ParallelOp::create(
      builder, loc, ValueRange{c0}, ValueRange{total}, ValueRange{c1},
      [&](OpBuilder &nb, Location l, ValueRange iv) {
        Value inA =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, iv[0], nA);
        scf::IfOp::create(
            nb, l, inA,
            [&](OpBuilder &tb, Location tl) {
              cloneBody(tb, a, iv[0]);
              scf::YieldOp::create(tb, tl);
            },
            [&](OpBuilder &eb, Location el) {
              cloneBody(eb, b, arith::SubIOp::create(eb, el, iv[0], nA));
              scf::YieldOp::create(eb, el);
            });
        scf::ReduceOp::create(nb, l);
      });
  a.erase();
  b.erase();
  return fused;
}

struct GPUFuseIndependentLoopsPass
    : hymba::impl::HymbaGPUFuseIndependentLoopsBase<
          GPUFuseIndependentLoopsPass> {
  void runOnOperation() override {
    SmallVector<Block *> blocks;
    getOperation()->walk([&](Block *block) {
      if (!block->getParentOp()->getParentOfType<scf::ParallelOp>() &&
          !isa<scf::ParallelOp>(block->getParentOp()))
        blocks.push_back(block);
    });
    for (Block *block : blocks) {
      scf::ParallelOp prev;
      for (Operation *op = &block->front(); op;) {
        Operation *next = op->getNextNode();
        auto loop = dyn_cast<scf::ParallelOp>(op);
        if (!loop) {
          // Anything that may touch memory ends the run of candidates.
          if (!isMemoryEffectFree(op) &&
              !isa<memref::AllocOp, gpu::AllocOp>(op))
            prev = nullptr;
          op = next;
          continue;
        }
        if (prev && isFlat(prev) && isFlat(loop) &&
            canHoistBetween(prev, loop)) {
          std::optional<Accesses> a = accessesOf(prev), b = accessesOf(loop);
          if (a && b && independent(*a, *b)) {
            prev = fuse(prev, loop);
            op = next;
            continue;
          }
        }
        prev = loop;
        op = next;
      }
    }
  }
};
} // namespace
