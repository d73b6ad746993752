//===- HymbaOps.h - Hymba dialect operations --------------------*- C++ -*-===//
#ifndef HYMBA_DIALECTS_HYMBA_HYMBAOPS_H
#define HYMBA_DIALECTS_HYMBA_HYMBAOPS_H

#include "dialects/hymba/HymbaDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_ATTRDEF_CLASSES
#include "dialects/hymba/HymbaAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialects/hymba/HymbaOps.h.inc"

namespace mlir::hymba {
/// The `#hymba.panels` encoding of a weight tensor type, or null.
PanelsAttr getPanels(Type type);

/// How a weight type is laid out in the parameter buffer: `[ceil(N / W), K,
/// W]` for `tensor<N x K, #hymba.panels<W>>` (`[ceil(N / W), ceil(K / F),
/// W, F]` with `interleave = F`), otherwise the type itself
/// without encoding; i4 values become bytes (`[ceil(N / W), K, W / 2]` or
/// `[ceil(N * K / 2)]` of i8, see the definition).
RankedTensorType storageType(RankedTensorType type);

/// Bytes a weight of `type` occupies in the parameter buffer.
int64_t storageBytes(RankedTensorType type);
} // namespace mlir::hymba

#endif // HYMBA_DIALECTS_HYMBA_HYMBAOPS_H
