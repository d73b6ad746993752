//===- Passes.h - Hymba pass declarations -----------------------*- C++ -*-===//
#ifndef HYMBA_PASSES_PASSES_H
#define HYMBA_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
namespace hymba {

#define GEN_PASS_DECL
#include "hymba/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "hymba/Passes.h.inc"

} // namespace hymba
} // namespace mlir

#endif // HYMBA_PASSES_PASSES_H
