//===- Pipeline.h - The stages from Hymba IR to machine code ----*- C++ -*-===//
//
//   hymba  --(Hymba passes)-->  hymba (optimized)
//          --(layout, lowering)-->  linalg/tensor + scf/memref
//          --(bufferize, loops, LLVM conversion)-->  LLVM dialect
//          --(translate, O3, codegen)-->  object
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_CODEGEN_PIPELINE_H
#define HYMBA_CODEGEN_PIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace hymba {

/// The Hymba-level transformations the driver runs (all on by default).
struct HymbaPassOptions {
  bool foldMetaTokens = true;
  bool tileSelectiveScan = true;
  bool fuseHybridHeads = true;
};

/// Textual pass pipelines of each stage (inner lists, for parsePassPipeline).
std::string hymbaOptimizationPipeline(const HymbaPassOptions &options);
/// `gpuForm`: the register-accumulating loop shapes of the GPU target.
std::string lowerToLinalgPipeline(bool gpuForm);
/// `gpuForm`: the loop structure of the GPU pipeline, run by CPU threads.
/// `linearRowChunk` > 0 overrides hymba-vectorize-linear's row chunk.
std::string lowerToLLVMPipeline(bool gpuForm, int64_t linearRowChunk = 0);

/// The NVIDIA GPU target.
struct CudaOptions {
  std::string chip = "sm_90"; // --cuda-arch
  std::string toolkit;        // CUDA toolkit root (ptxas, libdevice)
};

/// Bufferized loops -> GPU kernels -> NVVM -> a gpu.binary per kernel
/// module, as PTX (`ptx` true, for --emit=ptx) or as a fatbin.
std::string lowerToGPUKernelsPipeline(const CudaOptions &options, bool ptx);
/// The host side of a module with GPU kernels, down to the LLVM dialect.
std::string lowerGPUHostToLLVMPipeline();

/// The CUDA toolkit to use: $CUDA_HOME, else /usr/local/cuda; an error when
/// ptxas is not there.
llvm::Expected<std::string> findCudaToolkit();

/// Writes the PTX of every kernel module to `dir`/<module>.ptx.
llvm::Error writeKernelPTX(mlir::ModuleOp module, llvm::StringRef dir);

/// Runs `pipeline` on `module` with the command-line pass-manager options
/// (--mlir-print-ir-after-all, --mlir-timing, reproducers) applied.
mlir::LogicalResult runPipeline(mlir::ModuleOp module,
                                llvm::StringRef pipeline);

/// Translates an LLVM-dialect module to LLVM IR, optimizes it at O3 for the
/// host CPU and writes an object file (or textual LLVM IR when `asIR`).
llvm::Error emitNative(mlir::ModuleOp module, llvm::raw_pwrite_stream &os,
                       bool asIR);

} // namespace hymba

#endif // HYMBA_CODEGEN_PIPELINE_H
