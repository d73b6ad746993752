//===- HymbaDialect.cpp - The Hymba dialect -------------------------------===//
#include "dialects/hymba/HymbaDialect.h"
#include "dialects/hymba/HymbaOps.h"

using namespace mlir;
using namespace mlir::hymba;

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include "dialects/hymba/HymbaOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/hymba/HymbaAttrs.cpp.inc"

LogicalResult PanelsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t width, int64_t interleave) {
  if (width <= 0)
    return emitError() << "panel width must be positive, got " << width;
  if (interleave <= 0)
    return emitError() << "panel interleave must be positive, got "
                       << interleave;
  return success();
}

PanelsAttr mlir::hymba::getPanels(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor ? dyn_cast_or_null<PanelsAttr>(tensor.getEncoding())
                : PanelsAttr();
}

RankedTensorType mlir::hymba::storageType(RankedTensorType type) {
  PanelsAttr panels = getPanels(type);
  // i4 values are stored two per byte: in a panel row, byte j holds lane j
  // (low nibble) and lane j + W/2 (high nibble), so that each half of the
  // row unpacks into whole vectors (interleaved: byte [j, f] holds input f
  // of the run of lanes j and j + W/2); without panels the row-major
  // elements 2i and 2i + 1 share byte i of a flat (rank-1) array.
  bool nibbles = type.getElementType().isInteger(4);
  Type byte = IntegerType::get(type.getContext(), 8);
  if (!panels) {
    if (!nibbles)
      return RankedTensorType::get(type.getShape(), type.getElementType());
    return RankedTensorType::get({(type.getNumElements() + 1) / 2}, byte);
  }
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  int64_t width = panels.getWidth();
  if (nibbles && panels.getInterleave() > 1)
    return RankedTensorType::get({panels.numPanels(rows),
                                  panels.numInputGroups(cols), width / 2,
                                  panels.getInterleave()},
                                 byte);
  if (nibbles)
    return RankedTensorType::get({panels.numPanels(rows), cols, width / 2},
                                 byte);
  // Interleaved: one more dimension, so that the storage type alone says
  // the layout to the lowerings (WeightAccess.h).
  if (int64_t f = panels.getInterleave(); f > 1)
    return RankedTensorType::get(
        {panels.numPanels(rows), panels.numInputGroups(cols), width, f},
        type.getElementType());
  return RankedTensorType::get({panels.numPanels(rows), cols, width},
                               type.getElementType());
}

int64_t mlir::hymba::storageBytes(RankedTensorType type) {
  RankedTensorType storage = storageType(type);
  return storage.getNumElements() *
         int64_t(storage.getElementTypeBitWidth() / 8);
}

namespace {
/// Whether `attr` is an i64 integer >= 0 (a size, a count or a token id).
bool isCount(Attribute attr) {
  auto i = dyn_cast<IntegerAttr>(attr);
  return i && i.getType().isInteger(64) && i.getInt() >= 0;
}
} // namespace

LogicalResult HymbaDialect::verifyOperationAttribute(Operation *op,
                                                     NamedAttribute attr) {
  StringRef name = attr.getName().strref();
  bool isModel = name == ModelAttrHelper::getNameStr();
  bool isFact = name == ParamsBytesAttrHelper::getNameStr() ||
                name == StateBytesAttrHelper::getNameStr() ||
                name == MetaFoldedAttrHelper::getNameStr();
  // Other hymba.* attributes (pass-local markers) are not module facts.
  if (!isModel && !isFact)
    return success();
  if (!isa<ModuleOp>(op))
    return op->emitError()
           << "'" << name << "' is a module fact: only valid on builtin.module";
  if (isFact && !isCount(attr.getValue()))
    return op->emitError() << "'" << name << "' must be an i64 >= 0, got "
                           << attr.getValue();
  if (isModel) {
    auto dict = dyn_cast<DictionaryAttr>(attr.getValue());
    if (!dict)
      return op->emitError() << "'" << name << "' must be a dictionary";
    for (NamedAttribute entry : dict)
      if (!isCount(entry.getValue()))
        return op->emitError()
               << "'" << name << "' entry '" << entry.getName().strref()
               << "' must be an i64 >= 0, got " << entry.getValue();
  }
  return success();
}

void HymbaDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/hymba/HymbaAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/hymba/HymbaOps.cpp.inc"
      >();
}
