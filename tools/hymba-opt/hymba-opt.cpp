//===- hymba-opt.cpp - mlir-opt with the Hymba dialect and passes ---------===//
#include "hymba/Codegen/PassPipelines.h"
#include "hymba/InitAll.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::hymba::registerEverything(registry);
  mlir::hymba::registerPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Hymba optimizer driver\n", registry));
}
