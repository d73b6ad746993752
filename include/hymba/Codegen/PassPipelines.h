//===- PassPipelines.h - The driver's MLIR stages as pass pipelines -*- C++
//-*-===//
//
// Each stage of hymba-compile is a builder function over an OpPassManager
// with typed options. The driver calls them; hymba-opt registers their
// composition as hymba-cpu-pipeline / hymba-cuda-pipeline; the Python
// `pipelines` helpers print them. One source, so the three cannot drift.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_CODEGEN_PASSPIPELINES_H
#define HYMBA_CODEGEN_PASSPIPELINES_H

#include "hymba/Codegen/Pipeline.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir::hymba {

/// The options of the driver's MLIR stages; also those of the registered
/// pipelines, so that `hymba-opt --hymba-cpu-pipeline="..."` runs what
/// hymba-compile runs (the driver fills them from its flags).
struct PipelineOptions : mlir::PassPipelineOptions<PipelineOptions> {
  Option<bool> foldMetaTokens{*this, "fold-meta",
                              llvm::cl::desc("hymba-fold-meta-tokens"),
                              llvm::cl::init(true)};
  Option<bool> fuseHybridHeads{*this, "fuse",
                               llvm::cl::desc("hymba-fuse-hybrid-heads"),
                               llvm::cl::init(true)};
  Option<bool> tileSelectiveScan{
      *this, "tile-scan",
      llvm::cl::desc("hymba-tile-selective-scan (CPU target only)"),
      llvm::cl::init(true)};
  Option<bool> mergeFunctions{
      *this, "merge-functions",
      llvm::cl::desc("hymba-merge-equivalent-functions (CPU kernel form)"),
      llvm::cl::init(true)};
  Option<std::string> transformScript{
      *this, "transform-script",
      llvm::cl::desc("a transform-dialect file whose @__transform_main is "
                     "applied to the Hymba IR after hymba-fold-meta-tokens "
                     "(a schedule of one's own: tile the scan, ...)"),
      llvm::cl::init("")};
  Option<int64_t> weightPanel{
      *this, "weight-panel",
      llvm::cl::desc("hymba-pack-weights panel width: -1 = two vectors of "
                     "vector-width in the CPU kernel form on the CPU target "
                     "(none otherwise), 0 = off"),
      llvm::cl::init(-1)};
  Option<mlir::hymba::KernelForm> kernelForm{
      *this, "kernel-form", llvm::cl::desc("loop shapes of the lowering"),
      llvm::cl::init(mlir::hymba::KernelForm::CPU),
      llvm::cl::values(
          clEnumValN(mlir::hymba::KernelForm::CPU, "cpu", "CPU form"),
          clEnumValN(mlir::hymba::KernelForm::GPU, "gpu", "GPU form"))};
  Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("f32 lanes of the CPU's vector registers"),
      llvm::cl::init(8)};
  Option<int64_t> vectorRegisters{
      *this, "vector-registers",
      llvm::cl::desc("the CPU's architectural vector registers"),
      llvm::cl::init(16)};
  Option<int64_t> rowChunk{
      *this, "row-chunk",
      llvm::cl::desc("> 0: hymba-vectorize-linear's row chunk"),
      llvm::cl::init(0)};
  Option<bool> computeBF16{
      *this, "compute-bf16",
      llvm::cl::desc("projections multiply bf16 pairs (x rounded to bf16): "
                     "float weights panel-packed in pairs along K "
                     "(hymba-pack-weights interleave=2)"),
      llvm::cl::init(false)};
  Option<bool> bf16Dot{
      *this, "bf16-dot",
      llvm::cl::desc("the target has AVX512_BF16: bf16 pair projections use "
                     "its dot products (else f32 FMAs of the same sums)"),
      llvm::cl::init(false)};
  Option<bool> computeInt8{
      *this, "compute-int8",
      llvm::cl::desc("projections over int8 weights multiply int8 x "
                     "(quantized per group): int8 values panel-packed in "
                     "quads along K (hymba-pack-weights int8-interleave=4)"),
      llvm::cl::init(false)};
  Option<bool> vnni{
      *this, "vnni",
      llvm::cl::desc("the target has VNNI: int8 dot products use vpdpbusd "
                     "(else portable vector ops with the same sums)"),
      llvm::cl::init(false)};
  Option<bool> maddubs{
      *this, "maddubs",
      llvm::cl::desc("without vnni, the target has pmaddubsw (AVX2, or "
                     "AVX512BW with 16 lanes): int8 dot products use it and "
                     "pmaddwd (the same sums)"),
      llvm::cl::init(false)};
  Option<int64_t> prefetchDistance{
      *this, "prefetch-distance",
      llvm::cl::desc(
          "bytes ahead at which decode tiles prefetch quantized weight "
          "panels (0: none)"),
      llvm::cl::init(4096)};
  Option<int64_t> decodeStreams{
      *this, "decode-streams",
      llvm::cl::desc("panels a decode tile reads side by side, one weight "
                     "stream each (1: one panel per tile)"),
      llvm::cl::init(2)};
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("CUDA target: the GPU architecture"),
                           llvm::cl::init("sm_90")};
  Option<std::string> toolkit{
      *this, "toolkit", llvm::cl::desc("CUDA target: the CUDA toolkit root"),
      llvm::cl::init("")};

  bool gpuForm() const { return kernelForm == mlir::hymba::KernelForm::GPU; }
};

/// Sets the options that depend on the CPU code is generated for.
void applyCPUTarget(PipelineOptions &options, const CPUTarget &target);

/// Which instructions --compute=int8's integer dot products have on
/// `target`'s vectors (applyCPUTarget's `vnni` and `maddubs`): VNNI's
/// vpdpbusd, or pmaddubsw + pmaddwd. With neither (x86-64-v2, or AVX-512
/// without AVX512BW such as Knights Landing, whose zmm code has no
/// pmaddubsw) only the slow portable form is left.
bool hasVNNIDot(const CPUTarget &target);
bool hasMaddUbsDot(const CPUTarget &target);
/// Whether --compute=bf16's dot products (AVX512_BF16's vdpbf16ps) run on
/// `target` (applyCPUTarget's `bf16Dot`).
bool hasBF16Dot(const CPUTarget &target);

/// The panel width hymba-pack-weights gets (0: not run): `weight-panel`
/// resolved for the target.
int64_t weightPanel(const PipelineOptions &options, bool cuda);

/// The stages, in order. `cuda`: the stage as it runs for --target=cuda.
void buildOptimizationPipeline(mlir::OpPassManager &pm,
                               const PipelineOptions &options, bool cuda);
/// The stateless ops to linalg on tensors, one-shot-bufferize, the ops with
/// state to loops on their buffers, deallocation: linalg and loops on
/// buffers, no Hymba op left.
void buildLowerToLinalgPipeline(mlir::OpPassManager &pm,
                                const PipelineOptions &options);
/// Loops (in the GPU form the GPU pipeline's loop structure, run by CPU
/// threads), OpenMP, LLVM dialect.
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm,
                              const PipelineOptions &options);
/// Bufferized loops -> GPU kernels -> NVVM -> a gpu.binary per kernel
/// module, as PTX (`ptx` true, for --emit=ptx) or as a fatbin.
void buildGPUKernelsPipeline(mlir::OpPassManager &pm,
                             const PipelineOptions &options, bool ptx);
/// The host side of a module with GPU kernels, down to the LLVM dialect.
void buildGPUHostToLLVMPipeline(mlir::OpPassManager &pm);

/// Every stage for one target, as hymba-compile runs them (registered as
/// hymba-cpu-pipeline and hymba-cuda-pipeline).
void buildCPUPipeline(mlir::OpPassManager &pm, const PipelineOptions &options);
void buildCUDAPipeline(mlir::OpPassManager &pm, const PipelineOptions &options);

/// Registers hymba-cpu-pipeline and hymba-cuda-pipeline.
void registerPipelines();

/// The textual form of what `build` adds to a module pass manager.
std::string pipelineText(mlir::MLIRContext *context,
                         llvm::function_ref<void(mlir::OpPassManager &)> build);

} // namespace mlir::hymba

#endif // HYMBA_CODEGEN_PASSPIPELINES_H
