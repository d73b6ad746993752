//===- InitAll.h - Everything the Hymba tools register ----------*- C++ -*-===//
//
// hymba-opt, hymba-compile and the Python module see the same world: every
// upstream dialect, extension, pass and LLVM IR translation, plus the Hymba
// dialect and passes.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_INITALL_H
#define HYMBA_INITALL_H

#include "dialects/hymba/BufferizableOpInterfaceImpl.h"
#include "dialects/hymba/HymbaDialect.h"
#include "passes/Passes.h"
#include "passes/TilingInterfaceImpl.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

namespace mlir::hymba {

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

} // namespace mlir::hymba

#endif // HYMBA_INITALL_H
