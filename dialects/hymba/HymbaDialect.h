//===- HymbaDialect.h - The Hymba dialect -----------------------*- C++ -*-===//
#ifndef HYMBA_DIALECTS_HYMBA_HYMBADIALECT_H
#define HYMBA_DIALECTS_HYMBA_HYMBADIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/Operation.h"

#include "dialects/hymba/HymbaOpsDialect.h.inc"

#endif // HYMBA_DIALECTS_HYMBA_HYMBADIALECT_H
