//===- Pipeline.h - The stages from Hymba IR to machine code ----*- C++ -*-===//
//
//   hymba  --(Hymba passes)-->  hymba (optimized)
//          --(layout, lowering)-->  linalg/tensor + scf/memref
//          --(bufferize, loops, LLVM conversion)-->  LLVM dialect
//          --(outline OpenMP regions, translate, merge, O3, codegen)-->  object
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_CODEGEN_PIPELINE_H
#define HYMBA_CODEGEN_PIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir::hymba {

/// The CPU that generated code is compiled for (--target-cpu).
struct CPUTarget {
  std::string name;     // as asked: native, x86-64-v3, znver3, ...
  std::string cpu;      // the LLVM CPU name (native resolved)
  std::string features; // LLVM subtarget features, "+avx2,+fma,..."
  /// The features of `checkedCPUFeatures()` this target has: the generated
  /// code may use them, so the executable refuses a CPU that lacks one.
  std::vector<std::string> required;
  int64_t vectorBits = 128;     // widest vector registers: 128, 256, 512
  int64_t vectorRegisters = 16; // architectural vector registers

  /// Whether `feature` (a name of checkedCPUFeatures) is required, i.e.
  /// the target has it.
  bool has(llvm::StringRef feature) const {
    for (const std::string &f : required)
      if (f == feature)
        return true;
    return false;
  }

  /// f32 lanes per vector register.
  int64_t f32Lanes() const { return vectorBits / 32; }
  /// The projection kernel's panel width: two vector registers.
  int64_t weightPanel() const { return 2 * f32Lanes(); }
};

/// The features the executable checks at start-up (LLVM names; the runtime
/// reads the same names off CPUID).
const std::vector<std::string> &checkedCPUFeatures();

/// Resolves --target-cpu: "native" (the build machine), "x86-64-v2/v3/v4"
/// or any CPU name LLVM's X86 backend knows ("znver3", "skylake-avx512").
llvm::Expected<CPUTarget> resolveCPUTarget(llvm::StringRef name);

/// The features of `target.required` that this machine lacks (empty: the
/// build machine can run code for `target`).
std::vector<std::string> missingHostFeatures(const CPUTarget &target);

/// The CUDA toolkit to use: $CUDA_HOME, else /usr/local/cuda; an error when
/// ptxas is not there.
llvm::Expected<std::string> findCudaToolkit();

/// Writes the PTX of every kernel module to `dir`/<module>.ptx.
llvm::Error writeKernelPTX(mlir::ModuleOp module, llvm::StringRef dir);

/// Runs the passes `build` adds on `module` with the command-line
/// pass-manager options (--mlir-print-ir-after-all, reproducers) applied;
/// with --mlir-timing each pass is timed under `timing` (the caller's scope
/// for this stage).
mlir::LogicalResult
runPipeline(mlir::ModuleOp module,
            llvm::function_ref<void(mlir::OpPassManager &)> build,
            mlir::TimingScope &timing);

/// Translates an LLVM-dialect module to LLVM IR (each OpenMP region moved
/// into a function of its own first: OutlineParallelRegions.h), optimizes
/// it for `target` (identical functions merged, then O3: LLVMOptimize.h)
/// and writes an object file (or textual LLVM IR when `asIR`); with
/// --mlir-timing each step is timed under `timing`. The object also defines
/// `hymba_target_cpu` and `hymba_required_cpu_features` (C strings), which the
/// runtime checks against the CPU it runs on before it runs any generated code.
llvm::Error emitNative(mlir::ModuleOp module, const CPUTarget &target,
                       llvm::raw_pwrite_stream &os, bool asIR,
                       mlir::TimingScope &timing);

} // namespace mlir::hymba

#endif // HYMBA_CODEGEN_PIPELINE_H
