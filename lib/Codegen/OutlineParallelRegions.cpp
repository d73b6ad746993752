//===- OutlineParallelRegions.cpp - One function per OpenMP region --------===//
//
// The OpenMP translation outlines every omp.parallel of a function with
// LLVM's CodeExtractor, which scans the whole enclosing function for each
// region (CodeExtractorAnalysisCache). The model's layer stack is one
// function with one region per projection, scan and attention of every
// layer (~340 for 32 layers), so translating it was quadratic: ~40% of the
// 1.5B model's compile time. Moving each region into a small function of
// its own first (its captured values as arguments, constants cloned so the
// region's code is what it was) makes each extraction cheap. O3 inlines
// the small functions back; the outlined bodies are the same code.
//
//===----------------------------------------------------------------------===//

#include "hymba/Codegen/OutlineParallelRegions.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace {
/// Whether `v` is a constant expression: a constant, or a pure op on
/// constant expressions (the translation folds those into LLVM constants,
/// which regions use directly instead of capturing them).
bool isConstantExpr(Value v, llvm::DenseMap<Operation *, bool> &memo) {
  Operation *def = v.getDefiningOp();
  if (!def || def->getNumRegions() != 0 || !isMemoryEffectFree(def))
    return false;
  auto [it, inserted] = memo.try_emplace(def, false);
  if (!inserted)
    return it->second;
  bool constant = def->hasTrait<OpTrait::ConstantLike>();
  if (!constant && def->getNumOperands() != 0) {
    constant = true;
    for (Value operand : def->getOperands())
      constant = constant && isConstantExpr(operand, memo);
  }
  memo[def] = constant;
  return constant;
}

/// Appends the ops computing constant expression `v` to `ops`, operands
/// first, each once.
void collectConstantOps(Value v, llvm::SetVector<Operation *> &ops) {
  Operation *def = v.getDefiningOp();
  if (ops.contains(def))
    return;
  for (Value operand : def->getOperands())
    collectConstantOps(operand, ops);
  ops.insert(def);
}

void outline(omp::ParallelOp region, unsigned index,
             llvm::DenseMap<Operation *, bool> &memo) {
  auto parent = region->getParentOfType<LLVM::LLVMFuncOp>();
  llvm::SetVector<Value> used;
  for (Value v : region->getOperands())
    used.insert(v);
  getUsedValuesDefinedAbove(region->getRegions(), used);
  llvm::SetVector<Operation *> constants;
  SmallVector<Value> args;
  SmallVector<Type> argTypes;
  for (Value v : used) {
    if (isConstantExpr(v, memo)) {
      collectConstantOps(v, constants);
    } else {
      args.push_back(v);
      argTypes.push_back(v.getType());
    }
  }

  OpBuilder b(parent);
  Location loc = region.getLoc();
  MLIRContext *ctx = region.getContext();
  auto fn = LLVM::LLVMFuncOp::create(
      b, loc, (parent.getName() + "_region" + llvm::Twine(index)).str(),
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), argTypes),
      LLVM::Linkage::Internal);
  Block *entry = fn.addEntryBlock(b);
  IRMapping map;
  map.map(args, entry->getArguments());
  b.setInsertionPointToStart(entry);
  for (Operation *op : constants)
    b.clone(*op, map);
  b.clone(*region, map);
  LLVM::ReturnOp::create(b, loc, ValueRange{});

  b.setInsertionPoint(region);
  LLVM::CallOp::create(b, loc, fn, args);
  region.erase();
}
} // namespace

void hymba::outlineParallelRegions(ModuleOp module) {
  SmallVector<omp::ParallelOp> regions;
  module.walk([&](omp::ParallelOp op) {
    if (!op->getParentOfType<omp::ParallelOp>() &&
        op->getParentOfType<LLVM::LLVMFuncOp>())
      regions.push_back(op);
  });
  llvm::DenseMap<Operation *, bool> memo;
  unsigned index = 0;
  for (omp::ParallelOp region : regions)
    outline(region, index++, memo);
}
