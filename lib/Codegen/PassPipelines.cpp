//===- PassPipelines.cpp - The driver's MLIR stages as pass pipelines -----===//
//
// The Hymba passes are added as typed passes with their option structs; the
// fixed runs of upstream passes between them are constant textual fragments
// of this file.
//
//===----------------------------------------------------------------------===//
#include "hymba/Codegen/PassPipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Transform/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using llvm::StringRef;
using mlir::OpPassManager;
using mlir::PassManager;

namespace mlir::hymba {
namespace {
/// Adds a fixed sequence of upstream passes. The fragments are constants of
/// this file, so a parse failure is a bug of the build (a pass missing from
/// the registry), not bad input.
void addUpstream(OpPassManager &pm, StringRef passes) {
  std::string error;
  llvm::raw_string_ostream os(error);
  if (mlir::failed(mlir::parsePassPipeline(passes, pm, os)))
    llvm::report_fatal_error(llvm::Twine("hymba pipeline: ") + error);
}

/// Tensors to buffers, identity layouts at function boundaries. The Hymba
/// ops with state bufferize through their BufferizableOpInterface models
/// (in place: each writes its init's buffer).
constexpr const char *kBufferize =
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map}";

/// Frees every buffer after its last use (those of the bufferization and
/// the scratch of the loop lowerings), then lowers what is left of the
/// bufferization dialect.
constexpr const char *kDeallocate =
    "buffer-deallocation-pipeline,convert-bufferization-to-memref";

/// The loop structure of the GPU kernel form: host copies as loops, every
/// loop nest one flat item space, independent neighbours merged. The GPU
/// pipeline maps it to kernels; a CPU run of the GPU form gives each loop
/// to a thread team.
void addGPUFormLoops(OpPassManager &pm) {
  pm.addPass(mlir::hymba::createHymbaGPUCopiesToLoops());
  addUpstream(pm, "convert-linalg-to-parallel-loops,scf-forall-to-parallel");
  OpPassManager &fn = pm.nest<mlir::func::FuncOp>();
  fn.addPass(mlir::hymba::createHymbaGPUFlattenParallelLoops());
  fn.addPass(mlir::hymba::createHymbaGPUFuseIndependentLoops());
}
} // namespace

int64_t weightPanel(const PipelineOptions &o, bool cuda) {
  if (o.weightPanel >= 0)
    return o.weightPanel;
  // The CPU projection kernel's layout: panels of two vector registers.
  return !cuda && !o.gpuForm() ? 2 * o.vectorWidth : 0;
}

bool hasVNNIDot(const CPUTarget &target) {
  // vpdpbusd on zmm needs AVX512_VNNI; on ymm AVX-VNNI (or AVX512_VNNI with
  // AVX512VL, which every AVX512_VNNI CPU has).
  return target.vectorBits == 512
             ? target.has("avx512vnni")
             : target.has("avxvnni") || target.has("avx512vnni");
}

bool hasMaddUbsDot(const CPUTarget &target) {
  // pmaddubsw and pmaddwd: AVX2 on ymm, AVX512BW on zmm.
  return target.has(target.vectorBits == 512 ? "avx512bw" : "avx2");
}

bool hasBF16Dot(const CPUTarget &target) { return target.has("avx512bf16"); }

void applyCPUTarget(PipelineOptions &o, const CPUTarget &target) {
  o.vectorWidth = target.f32Lanes();
  o.vectorRegisters = target.vectorRegisters;
  o.bf16Dot = hasBF16Dot(target);
  o.vnni = hasVNNIDot(target);
  // Without it, pmaddubsw and pmaddwd.
  o.maddubs = hasMaddUbsDot(target);
}

void buildOptimizationPipeline(OpPassManager &pm, const PipelineOptions &o,
                               bool cuda) {
  pm.addPass(mlir::createCSEPass());
  pm.addPass(mlir::createCanonicalizerPass());
  if (o.foldMetaTokens)
    pm.addPass(mlir::hymba::createHymbaFoldMetaTokens());
  // A user's schedule runs on the whole ops, before the fusion wraps a
  // layer's attention and scan in one region (a branch that a script has
  // tiled is no longer one op, so the fusion leaves that layer alone) and
  // before the default scan tiling (which skips scans that are tiles).
  if (!o.transformScript.empty()) {
    mlir::transform::PreloadLibraryPassOptions library;
    library.transformLibraryPaths.push_back(o.transformScript);
    pm.addPass(mlir::transform::createPreloadLibraryPass(library));
    pm.addPass(mlir::transform::createInterpreterPass());
  }
  if (o.fuseHybridHeads)
    pm.addPass(mlir::hymba::createHymbaFuseHybridHeads());
  // On the GPU scan tiles are left to the kernel mapping.
  if (o.tileSelectiveScan && !cuda)
    pm.addPass(mlir::hymba::createHymbaTileSelectiveScan());
  if (int64_t panel = weightPanel(o, cuda); panel > 0)
    pm.addPass(mlir::hymba::createHymbaPackWeights(
        {panel, o.computeBF16 ? 2 : 1, o.computeInt8 ? 4 : 1}));
  pm.addPass(mlir::hymba::createHymbaAssignBufferLayout());
}

void buildLowerToLinalgPipeline(OpPassManager &pm, const PipelineOptions &o) {
  // A GPU-form scan thread normalises B and C's rows as it reads them.
  if (o.gpuForm())
    pm.addPass(mlir::hymba::createHymbaFoldScanNorms());
  // The stateless ops to linalg on tensors.
  pm.addPass(mlir::hymba::createHymbaLowerDenseToLinalg({o.kernelForm}));
  addUpstream(pm, "convert-elementwise-to-linalg");
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
  // Everything to buffers; then the ops with state, in their memref form,
  // to loops that store into their destinations.
  pm.addPass(mlir::hymba::createHymbaUnshareFillInits());
  addUpstream(pm, kBufferize);
  mlir::hymba::HymbaLowerStatefulToLoopsOptions stateful;
  stateful.kernelForm = o.kernelForm;
  if (!o.gpuForm())
    stateful.vectorWidth = o.vectorWidth;
  pm.addPass(mlir::hymba::createHymbaLowerStatefulToLoops(stateful));
  addUpstream(pm, kDeallocate);
}

void buildLowerToLLVMPipeline(OpPassManager &pm, const PipelineOptions &o) {
  if (o.gpuForm()) {
    addGPUFormLoops(pm);
  } else {
    mlir::hymba::HymbaVectorizeLinearOptions linear;
    linear.vectorWidth = o.vectorWidth;
    linear.vectorRegisters = o.vectorRegisters;
    if (o.rowChunk > 0)
      linear.rowChunk = o.rowChunk;
    linear.bf16Dot = o.bf16Dot;
    linear.vnni = o.vnni;
    linear.maddubs = o.maddubs;
    linear.prefetchDistance = o.prefetchDistance;
    linear.decodeStreams = o.decodeStreams;
    pm.addPass(mlir::hymba::createHymbaVectorizeLinear(linear));
    mlir::hymba::HymbaVectorizeRowReductionsOptions rowSums;
    rowSums.vectorWidth = o.vectorWidth;
    pm.addPass(mlir::hymba::createHymbaVectorizeRowReductions(rowSums));
    mlir::hymba::HymbaVectorizeElementwiseOptions elementwise;
    elementwise.vectorWidth = o.vectorWidth;
    pm.addPass(mlir::hymba::createHymbaVectorizeElementwise(elementwise));
    addUpstream(pm, "convert-linalg-to-loops,scf-forall-to-parallel");
    pm.addPass(mlir::hymba::createHymbaApproximateMath());
    // After the last pass that adds buffers. (Not in the GPU form: a free
    // between two loops would keep them from being fused into one.)
    pm.addPass(mlir::hymba::createHymbaFreeAfterLastUse());
    // From here on, one function per kind of layer instead of one per layer.
    if (o.mergeFunctions)
      pm.addPass(mlir::hymba::createHymbaMergeEquivalentFunctions());
  }
  // Threads: scf.parallel -> OpenMP. The canonicalize is required to inline
  // memref.alloca_scope before the CFG conversion.
  addUpstream(pm, "convert-scf-to-openmp,canonicalize,convert-scf-to-cf,"
                  "expand-strided-metadata,lower-affine,"
                  "convert-vector-to-llvm{enable-x86vector},"
                  "finalize-memref-to-llvm,convert-math-to-llvm,"
                  "convert-to-llvm,reconcile-unrealized-casts");
}

void buildGPUKernelsPipeline(OpPassManager &pm, const PipelineOptions &o,
                             bool ptx) {
  addGPUFormLoops(pm);
  // Each flat loop split into blocks of 256 threads (guards instead of min,
  // so every loop maps to blocks x threads).
  addUpstream(pm, "func.func(scf-parallel-loop-tiling{parallel-loop-tile-"
                  "sizes=256 no-min-max-bounds},gpu-map-parallel-loops,"
                  "convert-parallel-loops-to-gpu),"
                  "lower-affine,canonicalize,gpu-kernel-outlining");
  pm.addPass(mlir::hymba::createHymbaGPUDeviceBuffers());
  // Launches, allocations and frees chained on one stream; the host waits
  // only where a function returns.
  addUpstream(pm, "func.func(gpu-async-region),nvvm-attach-target{chip=" +
                      o.chip + " O=3}," +
                      "gpu.module(expand-strided-metadata,lower-affine,"
                      "convert-scf-to-cf,convert-gpu-to-nvvm,"
                      "reconcile-unrealized-casts),"
                      "gpu-module-to-binary{format=" +
                      (ptx ? "isa" : "fatbin") + " toolkit=" + o.toolkit + "}");
}

void buildGPUHostToLLVMPipeline(OpPassManager &pm) {
  addUpstream(pm, "convert-scf-to-cf,expand-strided-metadata,lower-affine,"
                  "gpu-to-llvm,finalize-memref-to-llvm,convert-math-to-llvm,"
                  "convert-to-llvm,reconcile-unrealized-casts");
}

void buildCPUPipeline(OpPassManager &pm, const PipelineOptions &o) {
  buildOptimizationPipeline(pm, o, /*cuda=*/false);
  buildLowerToLinalgPipeline(pm, o);
  buildLowerToLLVMPipeline(pm, o);
}

void buildCUDAPipeline(OpPassManager &pm, const PipelineOptions &o) {
  buildOptimizationPipeline(pm, o, /*cuda=*/true);
  buildLowerToLinalgPipeline(pm, o);
  buildGPUKernelsPipeline(pm, o, /*ptx=*/false);
  buildGPUHostToLLVMPipeline(pm);
}

void registerPipelines() {
  mlir::PassPipelineRegistration<PipelineOptions>(
      "hymba-cpu-pipeline",
      "What hymba-compile runs for --target=cpu, from Hymba IR to the LLVM "
      "dialect (the options are the driver's flags)",
      buildCPUPipeline);
  mlir::PassPipelineRegistration<PipelineOptions>(
      "hymba-cuda-pipeline",
      "What hymba-compile runs for --target=cuda, from Hymba IR to the LLVM "
      "dialect with a gpu.binary per kernel (set kernel-form=gpu, as the "
      "driver does)",
      buildCUDAPipeline);
}

std::string pipelineText(mlir::MLIRContext *context,
                         llvm::function_ref<void(OpPassManager &)> build) {
  PassManager pm(context, mlir::ModuleOp::getOperationName());
  build(pm);
  std::string text;
  llvm::raw_string_ostream os(text);
  pm.printAsTextualPipeline(os);
  return text;
}
} // namespace mlir::hymba
