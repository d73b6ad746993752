//===- Pipeline.cpp - The stages from Hymba IR to machine code ------------===//
#include "hymba/Codegen/Pipeline.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/ExecutionEngine/OptUtils.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace mlir;

std::string hymba::hymbaOptimizationPipeline(const HymbaPassOptions &o) {
  std::string p = "cse,canonicalize,";
  if (o.foldMetaTokens)
    p += "hymba-fold-meta-tokens,";
  if (o.tileSelectiveScan)
    p += "hymba-tile-selective-scan,";
  if (o.fuseHybridHeads)
    p += "hymba-fuse-hybrid-heads,";
  return p + "hymba-assign-buffer-layout";
}

std::string hymba::lowerToLinalgPipeline() {
  return "hymba-lower-stateful-to-loops,"
         "hymba-lower-dense-to-linalg,convert-elementwise-to-linalg,"
         "canonicalize,cse";
}

std::string hymba::lowerToLLVMPipeline() {
  return "one-shot-bufferize{bufferize-function-boundaries "
         "function-boundary-type-conversion=identity-layout-map},"
         "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
         "hymba-vectorize-linear,convert-linalg-to-loops,scf-forall-to-parallel,"
         // Threads: scf.parallel -> OpenMP. The canonicalize is required to
         // inline memref.alloca_scope before the CFG conversion.
         "convert-scf-to-openmp,canonicalize,convert-scf-to-cf,expand-strided-metadata,"
         "lower-affine,convert-vector-to-llvm,finalize-memref-to-llvm,"
         "convert-math-to-llvm,"
         "convert-to-llvm,reconcile-unrealized-casts";
}

LogicalResult hymba::runPipeline(ModuleOp module, llvm::StringRef pipeline) {
  PassManager pm(module.getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    return failure();
  return pm.run(module);
}

llvm::Error hymba::emitNative(ModuleOp module, llvm::raw_pwrite_stream &os,
                              bool asIR) {
  auto fail = [](const llvm::Twine &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
  };
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  registerOpenMPDialectTranslation(*module.getContext());

  llvm::LLVMContext llvmCtx;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmCtx, "hymba_model");
  if (!llvmModule)
    return fail("cannot translate the model to LLVM IR");

  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string err;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target)
    return fail("no LLVM target for " + triple.str() + ": " + err);
  llvm::SubtargetFeatures features;
  for (const auto &kv : llvm::sys::getHostCPUFeatures())
    features.AddFeature(kv.first(), kv.second);
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), features.getString(), {},
      llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(tm->createDataLayout());

  auto optimize = makeOptimizingTransformer(3, 0, tm.get());
  if (llvm::Error e = optimize(llvmModule.get()))
    return e;
  if (asIR) {
    llvmModule->print(os, nullptr);
    return llvm::Error::success();
  }
  llvm::legacy::PassManager codegen;
  if (tm->addPassesToEmitFile(codegen, os, nullptr,
                              llvm::CodeGenFileType::ObjectFile))
    return fail("the host target cannot emit object files");
  codegen.run(*llvmModule);
  return llvm::Error::success();
}
