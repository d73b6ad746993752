//===- BufferizableOpInterfaceImpl.cpp - Hymba ops in one-shot-bufferize --===//
//
// External models, so that the dialect itself does not depend on the
// bufferization dialect; hymba-opt, hymba-compile and the Python module
// register them (InitAll.h).
//
//===----------------------------------------------------------------------===//
#include "dialects/hymba/BufferizableOpInterfaceImpl.h"
#include "dialects/hymba/HymbaOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;
using mlir::hymba::KVCacheWriteOp;
using mlir::hymba::ParallelBranchesOp;

namespace {
/// `op`'s operands, each tensor replaced by its buffer.
LogicalResult operandBuffers(RewriterBase &rewriter, Operation *op,
                             const BufferizationOptions &options,
                             BufferizationState &state,
                             SmallVectorImpl<Value> &buffers) {
  for (Value v : op->getOperands()) {
    if (!isa<TensorType>(v.getType())) {
      buffers.push_back(v);
      continue;
    }
    FailureOr<Value> buffer = getBuffer(rewriter, v, options, state);
    if (failed(buffer))
      return failure();
    buffers.push_back(*buffer);
  }
  return success();
}

/// A destination-style Hymba op: reads its inputs, writes every element of
/// its init (so the init's contents are not a read), result = init.
template <typename OpTy>
struct DestinationOpModel
    : DstBufferizableOpInterfaceExternalModel<DestinationOpModel<OpTy>, OpTy> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    return !cast<DestinationStyleOpInterface>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    if (cast<OpTy>(op).isBufferized())
      return success();
    SmallVector<Value> operands;
    if (failed(operandBuffers(rewriter, op, options, state, operands)))
      return failure();
    rewriter.setInsertionPoint(op);
    auto bufferOp = OpTy::create(
        rewriter, op->getLoc(), TypeRange{}, operands,
        cast<OpTy>(op).getProperties(),
        op->getDiscardableAttrDictionary().getValue());
    replaceOpWithBufferizedValues(rewriter, op, bufferOp.getInit());
    return success();
  }
};

/// An op that only reads its tensor operands.
template <typename Model, typename OpTy>
struct ReadingOpModel : BufferizableOpInterface::ExternalModel<Model, OpTy> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &,
                              const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &,
                               const AnalysisState &) const {
    return false;
  }
};

/// hymba.kv_cache_write: reads its key and value (their buffers, in place),
/// writes only the caches (memrefs already), has no result.
struct KVCacheWriteModel : ReadingOpModel<KVCacheWriteModel, KVCacheWriteOp> {
  AliasingValueList getAliasingValues(Operation *, OpOperand &,
                                      const AnalysisState &) const {
    return {};
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto write = cast<KVCacheWriteOp>(op);
    FailureOr<Value> key = getBuffer(rewriter, write.getKey(), options, state);
    FailureOr<Value> value =
        getBuffer(rewriter, write.getValue(), options, state);
    if (failed(key) || failed(value))
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      write.getKeyMutable().assign(*key);
      write.getValueMutable().assign(*value);
    });
    return success();
  }
};

/// hymba.parallel_branches has no operands: like scf.execute_region, each
/// result is whatever its region yields. A fused layer's regions yield the
/// results of a destination-style attention and scan, whose buffers are
/// their inits (defined above the op), so declaring result i *equivalent*
/// to region i's yielded value lets one-shot-bufferize keep the whole chain
/// init -> branch op -> yield -> parallel_branches result in one buffer:
/// no allocation and no copy for the branch results. (Making the op itself
/// destination-style, with the inits as its operands, would say the same
/// thing twice, since the inner ops already carry them, and would need the
/// fusion to thread the inits through.) The bufferized op keeps its regions
/// and yields memrefs: it is then the memref form that
/// hymba-lower-stateful-to-loops lowers.
struct ParallelBranchesModel
    : BufferizableOpInterface::ExternalModel<ParallelBranchesModel,
                                             ParallelBranchesOp> {
  AliasingOpOperandList getAliasingOpOperands(Operation *op, Value value,
                                              const AnalysisState &) const {
    Region &region = op->getRegion(cast<OpResult>(value).getResultNumber());
    Operation *yield = region.front().getTerminator();
    return {{&yield->getOpOperand(0), BufferRelation::Equivalent}};
  }

  /// The results are the inner ops' destinations, which the analysis has
  /// already checked for writability.
  bool isWritable(Operation *, Value, const AnalysisState &) const {
    return true;
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto branches = cast<ParallelBranchesOp>(op);
    // The yields may or may not be bufferized yet: ask for the buffer type
    // of what each region yields (the inner op's init's type).
    SmallVector<Type> types;
    for (Region &region : op->getRegions()) {
      Value yielded = ParallelBranchesOp::yieldedValue(region);
      if (!isa<TensorType>(yielded.getType())) {
        types.push_back(yielded.getType());
        continue;
      }
      FailureOr<BufferLikeType> type =
          bufferization::getBufferType(yielded, options, state);
      if (failed(type))
        return failure();
      types.push_back(*type);
    }
    rewriter.setInsertionPoint(op);
    auto bufferOp = ParallelBranchesOp::create(
        rewriter, op->getLoc(), types, ValueRange{}, branches.getProperties(),
        op->getDiscardableAttrDictionary().getValue());
    for (auto [from, to] : llvm::zip(op->getRegions(), bufferOp->getRegions()))
      to.takeBody(from);
    replaceOpWithBufferizedValues(rewriter, op, bufferOp->getResults());
    return success();
  }
};

/// hymba.yield: its operand is (equivalent to) the parent's result of the
/// same region. In place always (as scf.yield): an out-of-place yield would
/// copy a branch result into a fresh buffer.
struct YieldModel : ReadingOpModel<YieldModel, hymba::YieldOp> {
  bool mustBufferizeInPlace(Operation *, OpOperand &,
                            const AnalysisState &) const {
    return true;
  }
  AliasingValueList getAliasingValues(Operation *op, OpOperand &,
                                      const AnalysisState &) const {
    unsigned region = op->getParentRegion()->getRegionNumber();
    return {{op->getParentOp()->getResult(region), BufferRelation::Equivalent,
             /*isDefinite=*/true}};
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    Value result =
        op->getParentOp()->getResult(op->getParentRegion()->getRegionNumber());
    SmallVector<Value> values;
    if (failed(operandBuffers(rewriter, op, options, state, values)))
      return failure();
    // A parent bufferized first took the yield's predicted buffer type;
    // should the actual buffer's layout differ, cast (never copy). (The
    // parent's verifier makes the yielded value the only one.)
    Value &yielded = values.front();
    if (auto want = dyn_cast<MemRefType>(result.getType());
        want && want != yielded.getType()) {
      if (!memref::CastOp::areCastCompatible(yielded.getType(), want))
        return op->emitOpError("yields a ")
               << yielded.getType() << " for a " << want << " result";
      rewriter.setInsertionPoint(op);
      yielded = memref::CastOp::create(rewriter, op->getLoc(), want, yielded);
    }
    replaceOpWithNewBufferizedOp<hymba::YieldOp>(rewriter, op, values);
    return success();
  }
};
} // namespace

void mlir::hymba::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, HymbaDialect *) {
    AttentionOp::attachInterface<DestinationOpModel<AttentionOp>>(*ctx);
    CausalConv1dOp::attachInterface<DestinationOpModel<CausalConv1dOp>>(*ctx);
    SelectiveScanOp::attachInterface<DestinationOpModel<SelectiveScanOp>>(
        *ctx);
    KVCacheWriteOp::attachInterface<KVCacheWriteModel>(*ctx);
    ParallelBranchesOp::attachInterface<ParallelBranchesModel>(*ctx);
    YieldOp::attachInterface<YieldModel>(*ctx);
  });
}
