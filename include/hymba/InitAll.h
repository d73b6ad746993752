//===- InitAll.h - Everything the Hymba tools register ----------*- C++ -*-===//
//
// hymba-opt, hymba-compile and the Python module see the same world: every
// upstream dialect, extension, pass and LLVM IR translation, plus the Hymba
// dialect and passes.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_INITALL_H
#define HYMBA_INITALL_H

#include "hymba/Dialect/BufferizableOpInterfaceImpl.h"
#include "hymba/Dialect/HymbaDialect.h"
#include "hymba/Dialect/TilingInterfaceImpl.h"
#include "hymba/Passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

namespace hymba {

/// Registers all passes (process-wide) and adds all dialects, extensions
/// and translations to `registry`.
inline void registerEverything(mlir::DialectRegistry &registry) {
  mlir::registerAllPasses();
  mlir::hymba::registerHymbaPasses();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<mlir::hymba::HymbaDialect>();
  mlir::hymba::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::hymba::registerTilingInterfaceExternalModels(registry);
}

} // namespace hymba

#endif // HYMBA_INITALL_H
