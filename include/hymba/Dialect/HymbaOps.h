//===- HymbaOps.h - Hymba dialect operations --------------------*- C++ -*-===//
#ifndef HYMBA_DIALECT_HYMBAOPS_H
#define HYMBA_DIALECT_HYMBAOPS_H

#include "hymba/Dialect/HymbaDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "hymba/HymbaOps.h.inc"

#endif // HYMBA_DIALECT_HYMBAOPS_H
