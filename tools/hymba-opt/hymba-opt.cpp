//===- hymba-opt.cpp - mlir-opt with the Hymba dialect and passes ---------===//
#include "hymba/Dialect/HymbaDialect.h"
#include "hymba/Passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::hymba::registerHymbaPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<mlir::hymba::HymbaDialect>();

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Hymba optimizer driver\n", registry));
}
