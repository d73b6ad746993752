//===- MergeEquivalentFunctions.cpp - One body per kind of layer -------===//
//
// The model is built as one function per decoder layer, and the layers of
// one kind (global attention, a KV-group owner, a KV-group reader) lower to
// the same code except for where their weights and state live: the byte
// offsets of the memref.view ops into the parameter and state buffers. This
// pass keeps one function per kind and turns the integer constants that
// differ into arguments, so that everything after it (the conversion to the
// LLVM dialect, translation, O3, machine code) sees 3 layer bodies instead
// of 32; on the 1.5B model that was most of the compile time.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAMERGEEQUIVALENTFUNCTIONS
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;

namespace {
/// An operand that reads an integer constant: the `operand`-th operand of
/// the `op`-th op of a function's body (FunctionBody::ops).
using ConstantUse = std::pair<unsigned, unsigned>;

bool isConstant(Operation *op) {
  return op->hasTrait<OpTrait::ConstantLike>() && op->getNumResults() == 1 &&
         op->getNumRegions() == 0;
}

/// The constant attribute a value is defined by, or null.
Attribute constantOf(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def || !isConstant(def))
    return {};
  Attribute attr;
  return matchPattern(v, m_Constant(&attr)) ? attr : Attribute();
}

/// A function's ops in pre-order, constants left out: constants are
/// compared where they are used, since CSE may have merged equal constants
/// of one function and not of the other.
struct FunctionBody {
  explicit FunctionBody(func::FuncOp fn) : fn(fn) {
    fn.getBody().walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (!isConstant(op))
        ops.push_back(op);
    });
  }
  mutable func::FuncOp fn; // a handle: const-ness is the op list's
  SmallVector<Operation *> ops;
};

/// The shape of two ops without their operands: name, attributes and
/// properties, result types, regions, blocks and block argument types.
bool sameShape(Operation *a, Operation *b) {
  if (a->getName() != b->getName() ||
      a->getNumOperands() != b->getNumOperands() ||
      a->getResultTypes() != b->getResultTypes() ||
      a->getRawDictionaryAttrs() != b->getRawDictionaryAttrs() ||
      !a->getName().compareOpProperties(a->getPropertiesStorage(),
                                        b->getPropertiesStorage()) ||
      a->getNumSuccessors() != b->getNumSuccessors() ||
      a->getNumRegions() != b->getNumRegions())
    return false;
  for (auto [ra, rb] : llvm::zip(a->getRegions(), b->getRegions())) {
    if (ra.getBlocks().size() != rb.getBlocks().size())
      return false;
    for (auto [ba, bb] : llvm::zip(ra, rb))
      if (ba.getArgumentTypes() != bb.getArgumentTypes())
        return false;
  }
  return true;
}

/// Whether `other` computes what `repr` does up to the values of integer
/// constants; if so, adds to `uses` each operand of `repr` whose constant
/// differs in `other`.
bool equalUpToConstants(const FunctionBody &repr, const FunctionBody &other,
                        llvm::SetVector<ConstantUse> &uses) {
  if (repr.fn.getFunctionType() != other.fn.getFunctionType() ||
      repr.ops.size() != other.ops.size())
    return false;
  // Every value and block of `repr` to its counterpart in `other`.
  DenseMap<Value, Value> values;
  DenseMap<Block *, Block *> blocks;
  auto mapRegions = [&](Region &ra, Region &rb) {
    for (auto [ba, bb] : llvm::zip(ra, rb)) {
      blocks[&ba] = &bb;
      for (auto [va, vb] : llvm::zip(ba.getArguments(), bb.getArguments()))
        values[va] = vb;
    }
  };
  mapRegions(repr.fn.getBody(), other.fn.getBody());
  for (auto [a, b] : llvm::zip(repr.ops, other.ops)) {
    if (!sameShape(a, b))
      return false;
    for (auto [ra, rb] : llvm::zip(a->getResults(), b->getResults()))
      values[ra] = rb;
    for (auto [ra, rb] : llvm::zip(a->getRegions(), b->getRegions()))
      mapRegions(ra, rb);
  }
  // Operands, once every value is mapped (a branch may use a value defined
  // further down the walk).
  SmallVector<ConstantUse> differing;
  for (unsigned i = 0, e = repr.ops.size(); i < e; ++i) {
    Operation *a = repr.ops[i], *b = other.ops[i];
    for (unsigned k = 0, n = a->getNumOperands(); k < n; ++k) {
      Value va = a->getOperand(k), vb = b->getOperand(k);
      Attribute ca = constantOf(va), cb = constantOf(vb);
      if (ca || cb) {
        if (!ca || !cb)
          return false;
        if (ca == cb)
          continue;
        // Only integer and index scalars become arguments; other constants
        // (floats, vectors) must be equal.
        auto ia = dyn_cast<IntegerAttr>(ca), ib = dyn_cast<IntegerAttr>(cb);
        if (!ia || !ib || ia.getType() != ib.getType() ||
            va.getType() != vb.getType())
          return false;
        differing.push_back({i, k});
        continue;
      }
      if (values.lookup(va) != vb)
        return false;
    }
    for (auto [sa, sb] : llvm::zip(a->getSuccessors(), b->getSuccessors()))
      if (blocks.lookup(sa) != sb)
        return false;
  }
  uses.insert(differing.begin(), differing.end());
  return true;
}

/// Private functions whose every symbol use is a call (so that their
/// signature may change), in module order. One walk of the module for the
/// uses of all of them.
SmallVector<func::FuncOp> mergeCandidates(ModuleOp module) {
  std::optional<SymbolTable::UseRange> uses =
      SymbolTable::getSymbolUses(&module.getBodyRegion());
  if (!uses)
    return {}; // an unknown op might reference anything
  DenseSet<StringAttr> usedOtherwise;
  for (const SymbolTable::SymbolUse &u : *uses)
    if (!isa<func::CallOp>(u.getUser()))
      usedOtherwise.insert(u.getSymbolRef().getRootReference());
  SmallVector<func::FuncOp> out;
  for (auto fn : module.getOps<func::FuncOp>())
    if (fn.isPrivate() && !fn.isExternal() &&
        !usedOtherwise.contains(fn.getSymNameAttr()))
      out.push_back(fn);
  return out;
}

struct MergeEquivalentFunctionsPass
    : hymba::impl::HymbaMergeEquivalentFunctionsBase<
          MergeEquivalentFunctionsPass> {
  using Base::Base;

  /// Functions equal to a representative, with the constant uses of the
  /// representative that differ in at least one of them.
  struct Group {
    FunctionBody repr;
    SmallVector<FunctionBody> members;
    llvm::SetVector<ConstantUse> uses;
  };

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<Group> groups;
    for (func::FuncOp fn : mergeCandidates(module)) {
      FunctionBody body(fn);
      bool merged = false;
      for (Group &g : groups) {
        llvm::SetVector<ConstantUse> uses = g.uses;
        if (!equalUpToConstants(g.repr, body, uses) ||
            uses.size() > static_cast<size_t>(maxArguments))
          continue;
        g.uses = std::move(uses);
        g.members.push_back(std::move(body));
        merged = true;
        break;
      }
      if (!merged)
        groups.push_back({std::move(body), {}, {}});
    }
    for (Group &g : groups)
      if (!g.members.empty())
        merge(module, g);
  }

  /// The value of `repr`'s constant use `u` in `fn` (same op index).
  static Attribute constantAt(const FunctionBody &fn, ConstantUse u) {
    return constantOf(fn.ops[u.first]->getOperand(u.second));
  }

  /// Adds an argument to the representative per differing constant use,
  /// points every call of a member at it with the member's constants, and
  /// erases the members.
  void merge(ModuleOp module, Group &g) {
    func::FuncOp repr = g.repr.fn;
    // The constants of each function, read before the representative's
    // operands are replaced.
    DenseMap<Operation *, SmallVector<Attribute>> constants;
    auto record = [&](const FunctionBody &f) {
      SmallVector<Attribute> &values = constants[f.fn];
      for (ConstantUse u : g.uses)
        values.push_back(constantAt(f, u));
    };
    record(g.repr);
    for (const FunctionBody &m : g.members)
      record(m);

    unsigned first = repr.getNumArguments();
    SmallVector<unsigned> indices(g.uses.size(), first);
    SmallVector<Type> types;
    for (ConstantUse u : g.uses)
      types.push_back(g.repr.ops[u.first]->getOperand(u.second).getType());
    SmallVector<DictionaryAttr> attrs(g.uses.size());
    SmallVector<Location> locs(g.uses.size(), repr.getLoc());
    if (failed(repr.insertArguments(indices, types, attrs, locs)))
      return signalPassFailure();
    for (auto [i, u] : llvm::enumerate(g.uses))
      g.repr.ops[u.first]->setOperand(u.second,
                                      repr.getArgument(first + unsigned(i)));

    // Calls: the callee's constants appended to the arguments.
    DenseMap<StringAttr, Operation *> byName;
    byName[repr.getSymNameAttr()] = repr;
    for (const FunctionBody &m : g.members)
      byName[m.fn.getSymNameAttr()] = m.fn;
    module.walk([&](func::CallOp call) {
      Operation *callee = byName.lookup(call.getCalleeAttr().getAttr());
      if (!callee)
        return;
      OpBuilder b(call);
      SmallVector<Value> args(call.getOperands());
      for (Attribute c : constants[callee])
        args.push_back(
            arith::ConstantOp::create(b, call.getLoc(), cast<TypedAttr>(c)));
      call.setCallee(repr.getSymName());
      call->setOperands(args);
    });
    for (const FunctionBody &m : g.members)
      m.fn.erase();
  }
};
} // namespace
