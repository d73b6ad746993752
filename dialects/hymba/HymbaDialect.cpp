//===- HymbaDialect.cpp - The Hymba dialect -------------------------------===//
#include "hymba/Dialect/HymbaDialect.h"
#include "hymba/Dialect/HymbaOps.h"

using namespace mlir;
using namespace mlir::hymba;

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include "hymba/HymbaOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "hymba/HymbaAttrs.cpp.inc"

LogicalResult
PanelsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                   int64_t width) {
  if (width <= 0)
    return emitError() << "panel width must be positive, got " << width;
  return success();
}

PanelsAttr mlir::hymba::getPanels(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor ? dyn_cast_or_null<PanelsAttr>(tensor.getEncoding())
                : PanelsAttr();
}

RankedTensorType mlir::hymba::storageType(RankedTensorType type) {
  PanelsAttr panels = getPanels(type);
  if (!panels)
    return type;
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  return RankedTensorType::get(
      {panels.numPanels(rows), cols, panels.getWidth()},
      type.getElementType());
}

int64_t mlir::hymba::storageBytes(RankedTensorType type) {
  return storageType(type).getNumElements() *
         int64_t(type.getElementTypeBitWidth() / 8);
}

void HymbaDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "hymba/HymbaAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "hymba/HymbaOps.cpp.inc"
      >();
}
