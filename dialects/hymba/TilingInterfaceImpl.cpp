//===- TilingInterfaceImpl.cpp - Hymba ops under scf tiling ---------------===//
//
// hymba.selective_scan's iteration space is (time, channel). Channels are
// independent (parallel). Time carries the state h; the state lives in the
// ssm_state buffer, which every scan reads at its start and writes at its
// end, so a scan over rows [t0, t0 + n) followed by one over the next rows
// equals one scan over both: time tiles in sequence (an scf.for) are exact.
// Time is therefore a `reduction` dimension: tile it only with a sequential
// loop, never with scf.forall.
//
//===----------------------------------------------------------------------===//
#include "hymba/Dialect/TilingInterfaceImpl.h"
#include "hymba/Dialect/HymbaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Interfaces/TilingInterface.h"

using namespace mlir;
using namespace mlir::hymba;

namespace {
/// `value`'s block at `offsets` of `sizes` (unit strides): an extract_slice
/// of a tensor or a subview of a memref (the state buffer).
Value sliceOf(OpBuilder &b, Location loc, Value value,
              ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
              SmallVectorImpl<Operation *> &slices) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  Operation *slice;
  if (isa<MemRefType>(value.getType()))
    slice = memref::SubViewOp::create(b, loc, value, offsets, sizes, strides);
  else
    slice = tensor::ExtractSliceOp::create(b, loc, value, offsets, sizes,
                                           strides);
  slices.push_back(slice);
  return slice->getResult(0);
}

struct SelectiveScanTiling
    : TilingInterface::ExternalModel<SelectiveScanTiling, SelectiveScanOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *) const {
    return {utils::IteratorType::reduction, utils::IteratorType::parallel};
  }

  SmallVector<Range> getIterationDomain(Operation *op, OpBuilder &b) const {
    auto scan = cast<SelectiveScanOp>(op);
    Location loc = op->getLoc();
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    OpFoldResult rows =
        isa<MemRefType>(scan.getU().getType())
            ? memref::getMixedSize(b, loc, scan.getU(), 0)
            : tensor::getMixedSize(b, loc, scan.getU(), 0);
    OpFoldResult channels = b.getIndexAttr(scan.getU().getType().getDimSize(1));
    return {Range{zero, rows, one}, Range{zero, channels, one}};
  }

  FailureOr<TilingResult>
  getTiledImplementation(Operation *op, OpBuilder &b,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes) const {
    auto scan = cast<SelectiveScanOp>(op);
    if (scan.isBufferized())
      return op->emitOpError("is tiled in its tensor form only");
    Location loc = op->getLoc();
    OpFoldResult t0 = offsets[0], c0 = offsets[1], zero = b.getIndexAttr(0);
    OpFoldResult n = sizes[0], ct = sizes[1];
    OpFoldResult dState = b.getIndexAttr(scan.getALog().getType().getDimSize(1));
    SmallVector<Operation *> slices;
    auto rowsCols = [&](Value v) {
      return sliceOf(b, loc, v, {t0, c0}, {n, ct}, slices);
    };
    auto rowsState = [&](Value v) {
      return sliceOf(b, loc, v, {t0, zero}, {n, dState}, slices);
    };
    auto channelRows = [&](Value v) {
      return sliceOf(b, loc, v, {c0, zero}, {ct, dState}, slices);
    };
    auto channelVector = [&](Value v) {
      return sliceOf(b, loc, v, {c0}, {ct}, slices);
    };
    Value init = rowsCols(scan.getInit());
    auto tiled = SelectiveScanOp::create(
        b, loc, init.getType(), rowsCols(scan.getU()), rowsCols(scan.getDt()),
        channelVector(scan.getDtBias()), channelRows(scan.getALog()),
        rowsState(scan.getB()), rowsState(scan.getC()),
        channelVector(scan.getD()), rowsCols(scan.getZ()),
        channelRows(scan.getSsmState()), init);
    tiled->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    return TilingResult{{tiled.getOperation()}, {tiled.getResult()}, slices};
  }

  LogicalResult getResultTilePosition(Operation *, OpBuilder &, unsigned,
                                      ArrayRef<OpFoldResult> offsets,
                                      ArrayRef<OpFoldResult> sizes,
                                      SmallVector<OpFoldResult> &resultOffsets,
                                      SmallVector<OpFoldResult> &resultSizes)
      const {
    resultOffsets.assign(offsets.begin(), offsets.end());
    resultSizes.assign(sizes.begin(), sizes.end());
    return success();
  }
};
} // namespace

void mlir::hymba::registerTilingInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, HymbaDialect *) {
    SelectiveScanOp::attachInterface<SelectiveScanTiling>(*ctx);
  });
}
