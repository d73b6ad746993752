//===- Pipeline.cpp - The stages from Hymba IR to machine code ------------===//
#include "hymba/Codegen/Pipeline.h"
#include "hymba/Codegen/LLVMOptimize.h"
#include "hymba/Codegen/OutlineParallelRegions.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace mlir;

llvm::Expected<std::string> hymba::findCudaToolkit() {
  std::string root = "/usr/local/cuda";
  if (const char *env = std::getenv("CUDA_HOME"); env && *env)
    root = env;
  llvm::SmallString<256> ptxas(root);
  llvm::sys::path::append(ptxas, "bin", "ptxas");
  if (!llvm::sys::fs::can_execute(ptxas))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "--target=cuda needs the CUDA toolkit's ptxas, not found at " + ptxas +
            " (set CUDA_HOME to the toolkit root)");
  return root;
}

llvm::Error hymba::writeKernelPTX(ModuleOp module, llvm::StringRef dir) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return llvm::createStringError(ec, dir + ": " + ec.message());
  int count = 0;
  for (auto binary : module.getOps<gpu::BinaryOp>()) {
    for (Attribute a : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(a);
      llvm::SmallString<256> path(dir);
      llvm::sys::path::append(path, binary.getName() + ".ptx");
      std::error_code ec;
      llvm::raw_fd_ostream os(path, ec);
      if (ec)
        return llvm::createStringError(ec, path + ": " + ec.message());
      os << object.getObject().getValue();
      ++count;
    }
  }
  if (count == 0)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the model produced no GPU kernels");
  return llvm::Error::success();
}

LogicalResult
hymba::runPipeline(ModuleOp module,
                   llvm::function_ref<void(OpPassManager &)> build,
                   TimingScope &timing) {
  PassManager pm(module.getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  // --mlir-timing: each pass under the caller's stage.
  pm.enableTiming(timing);
  build(pm);
  return pm.run(module);
}

const std::vector<std::string> &hymba::checkedCPUFeatures() {
  static const std::vector<std::string> names = {
      "sse4.2",     "avx",        "avx2",       "fma",        "f16c",
      "bmi",        "bmi2",       "avx512f",    "avx512dq",   "avx512cd",
      "avx512bw",   "avx512vl",   "avx512vnni", "avx512bf16", "avx512fp16",
      "avxvnni",    "amx-tile",   "amx-bf16",   "amx-int8"};
  return names;
}

namespace {
llvm::Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// The host's target triple, with the X86 backend initialised.
llvm::Expected<const llvm::Target *> hostTarget(llvm::Triple &triple) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  triple = llvm::Triple(llvm::sys::getDefaultTargetTriple());
  std::string err;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target)
    return fail("no LLVM target for " + triple.str() + ": " + err);
  return target;
}

std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const llvm::Target *target, const llvm::Triple &triple,
                    const hymba::CPUTarget &cpu) {
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, cpu.cpu, cpu.features, {}, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
}
} // namespace

llvm::Expected<hymba::CPUTarget>
hymba::resolveCPUTarget(llvm::StringRef name) {
  llvm::Triple triple;
  llvm::Expected<const llvm::Target *> target = hostTarget(triple);
  if (!target)
    return target.takeError();
  CPUTarget t;
  t.name = name.str();
  if (name == "native") {
    t.cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures features;
    for (const auto &kv : llvm::sys::getHostCPUFeatures())
      features.AddFeature(kv.first(), kv.second);
    t.features = features.getString();
  } else {
    t.cpu = name.str();
  }
  std::unique_ptr<llvm::TargetMachine> tm =
      createTargetMachine(*target, triple, t);
  const llvm::MCSubtargetInfo *sti = tm ? tm->getMCSubtargetInfo() : nullptr;
  if (!sti || !sti->isCPUStringValid(t.cpu))
    return fail("--target-cpu: '" + name +
                "' is not a CPU LLVM knows (try native, x86-64-v3, "
                "x86-64-v4, znver3, skylake-avx512; `llc-22 "
                "-mcpu=help` lists all)");
  auto has = [&](llvm::StringRef f) {
    return sti->checkFeatures(("+" + f).str());
  };
  for (const std::string &f : checkedCPUFeatures())
    if (has(f))
      t.required.push_back(f);
  if (has("avx512f")) {
    t.vectorBits = 512;
    t.vectorRegisters = 32;
  } else if (has("avx")) {
    t.vectorBits = 256;
  }
  return t;
}

std::vector<std::string> hymba::missingHostFeatures(const CPUTarget &target) {
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  std::vector<std::string> missing;
  for (const std::string &f : target.required)
    if (!host.lookup(f))
      missing.push_back(f);
  return missing;
}

llvm::Error hymba::emitNative(ModuleOp module, const CPUTarget &cpu,
                              llvm::raw_pwrite_stream &os, bool asIR,
                              TimingScope &timing) {
  llvm::LLVMContext llvmCtx;
  TimingScope translating = timing.nest("translate to LLVM IR");
  outlineParallelRegions(module);
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmCtx, "hymba_model");
  if (!llvmModule)
    return fail("cannot translate the model to LLVM IR");
  translating.stop();

  llvm::Triple triple;
  llvm::Expected<const llvm::Target *> target = hostTarget(triple);
  if (!target)
    return target.takeError();
  std::unique_ptr<llvm::TargetMachine> tm =
      createTargetMachine(*target, triple, cpu);
  if (!tm)
    return fail("cannot create a code generator for CPU " + cpu.cpu);
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(tm->createDataLayout());

  // What the runtime checks before it runs any of this code.
  auto addString = [&](llvm::StringRef symbol, llvm::StringRef value) {
    auto *init = llvm::ConstantDataArray::getString(llvmCtx, value);
    new llvm::GlobalVariable(*llvmModule, init->getType(), /*isConstant=*/true,
                             llvm::GlobalValue::ExternalLinkage, init, symbol);
  };
  addString("hymba_target_cpu", cpu.name == "native"
                                    ? "native (" + cpu.cpu + ")"
                                    : cpu.cpu);
  addString("hymba_required_cpu_features", llvm::join(cpu.required, ","));

  if (llvm::Error e = optimizeModel(*llvmModule, *tm, timing))
    return e;
  if (asIR) {
    llvmModule->print(os, nullptr);
    return llvm::Error::success();
  }
  TimingScope codegenTimer = timing.nest("machine code");
  llvm::legacy::PassManager codegen;
  if (tm->addPassesToEmitFile(codegen, os, nullptr,
                              llvm::CodeGenFileType::ObjectFile))
    return fail("the target cannot emit object files");
  codegen.run(*llvmModule);
  return llvm::Error::success();
}
