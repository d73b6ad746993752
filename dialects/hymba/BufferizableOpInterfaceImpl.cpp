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
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;
using mlir::hymba::KVCacheWriteOp;

namespace {
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
    for (Value v : op->getOperands()) {
      if (!isa<TensorType>(v.getType())) {
        operands.push_back(v);
        continue;
      }
      FailureOr<Value> buffer = getBuffer(rewriter, v, options, state);
      if (failed(buffer))
        return failure();
      operands.push_back(*buffer);
    }
    rewriter.setInsertionPoint(op);
    auto bufferOp = OpTy::create(
        rewriter, op->getLoc(), TypeRange{}, operands,
        cast<OpTy>(op).getProperties(),
        op->getDiscardableAttrDictionary().getValue());
    replaceOpWithBufferizedValues(rewriter, op, bufferOp.getInit());
    return success();
  }
};

/// hymba.kv_cache_write: reads its key and value (their buffers, in place),
/// writes only the caches (memrefs already), has no result.
struct KVCacheWriteModel
    : BufferizableOpInterface::ExternalModel<KVCacheWriteModel,
                                             KVCacheWriteOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &,
                              const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &,
                               const AnalysisState &) const {
    return false;
  }
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
} // namespace

void mlir::hymba::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, HymbaDialect *) {
    AttentionOp::attachInterface<DestinationOpModel<AttentionOp>>(*ctx);
    CausalConv1dOp::attachInterface<DestinationOpModel<CausalConv1dOp>>(*ctx);
    SelectiveScanOp::attachInterface<DestinationOpModel<SelectiveScanOp>>(
        *ctx);
    KVCacheWriteOp::attachInterface<KVCacheWriteModel>(*ctx);
  });
}
