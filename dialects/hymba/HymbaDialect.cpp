//===- HymbaDialect.cpp - The Hymba dialect -------------------------------===//
#include "hymba/Dialect/HymbaDialect.h"
#include "hymba/Dialect/HymbaOps.h"

using namespace mlir;
using namespace mlir::hymba;

#include "hymba/HymbaOpsDialect.cpp.inc"

void HymbaDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "hymba/HymbaOps.cpp.inc"
      >();
}
