//===- HymbaDialect.h - The Hymba dialect -----------------------*- C++ -*-===//
#ifndef HYMBA_DIALECT_HYMBADIALECT_H
#define HYMBA_DIALECT_HYMBADIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/Operation.h"

#include "hymba/HymbaOpsDialect.h.inc"

#endif // HYMBA_DIALECT_HYMBADIALECT_H
