//===- hymba-compile.cpp - HuggingFace Hymba checkpoint -> executable -----===//
//
//   hymba-compile CKPT_DIR [-o OUT] [--emit=hymba|linalg|llvm|obj|exe]
//
// Every stage writes its output atomically: on any error nothing (not even a
// partial file) is left at OUT.
//
//===----------------------------------------------------------------------===//

#include "dialects/hymba/HymbaDialect.h"
#include "hymba/Codegen/ExecutableWriter.h"
#include "hymba/Codegen/LibraryWriter.h"
#include "hymba/Codegen/OutputFile.h"
#include "hymba/Codegen/PassPipelines.h"
#include "hymba/Codegen/Pipeline.h"
#include "hymba/Import/Checkpoint.h"
#include "hymba/Import/ModelBuilder.h"
#include "hymba/InitAll.h"
#include "hymba/Runtime/Payload.h"
#include "passes/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <thread>

using namespace llvm;
using mlir::OpPassManager;
namespace hymba = mlir::hymba;

namespace {
// --help shows these groups only; every option LLVM and MLIR's libraries
// register besides goes under --help-hidden (see groupHelp).
cl::OptionCategory outputCat("Output options");
cl::OptionCategory targetCat("Target options");
cl::OptionCategory passesCat("Hymba pass options");
cl::OptionCategory debugCat("Debugging options");
cl::OptionCategory mlirCat("MLIR pass manager options (debugging)");

enum class Emit { Hymba, Linalg, PTX, LLVM, Obj, Exe, Lib };
enum class Target { CPU, CUDA };

cl::opt<std::string> checkpointDir(cl::Positional,
                                   cl::desc("<checkpoint directory>"),
                                   cl::cat(outputCat));
cl::opt<std::string> outputPath("o", cl::desc("output file ('-' for stdout)"),
                                cl::value_desc("path"), cl::init(""),
                                cl::cat(outputCat));
cl::opt<Emit> emit(
    "emit", cl::desc("stage to stop at"), cl::init(Emit::Exe),
    cl::values(clEnumValN(Emit::Hymba, "hymba", "Hymba dialect IR"),
               clEnumValN(Emit::Linalg, "linalg",
                          "linalg and loops on buffers (bufferized)"),
               clEnumValN(Emit::PTX, "ptx",
                          "PTX of every GPU kernel, one file each in the "
                          "directory -o (--target=cuda)"),
               clEnumValN(Emit::LLVM, "llvm", "LLVM IR"),
               clEnumValN(Emit::Obj, "obj", "object file of the model code"),
               clEnumValN(Emit::Exe, "exe", "self-contained executable"),
               clEnumValN(Emit::Lib, "lib",
                          "libNAME.a, libNAME.so, NAME.h (C API) and the "
                          "payload NAME.hymba in the directory -o (CPU)")),
    cl::cat(outputCat));
cl::opt<std::string>
    libName("lib-name",
            cl::desc("with --emit=lib, the NAME of the files (default: the "
                     "checkpoint directory's name as a C identifier)"),
            cl::value_desc("name"), cl::init(""), cl::cat(outputCat));
cl::opt<Target>
    target("target", cl::desc("hardware to compile for"), cl::init(Target::CPU),
           cl::values(clEnumValN(Target::CPU, "cpu", "the host CPU (default)"),
                      clEnumValN(Target::CUDA, "cuda", "an NVIDIA GPU")),
           cl::cat(targetCat));
cl::opt<std::string> targetCPU(
    "target-cpu",
    cl::desc("CPU the code is compiled for: native (default, the build "
             "machine), x86-64-v3 (AVX2), x86-64-v4 (AVX-512) or an LLVM CPU "
             "name (znver3, znver5, skylake-avx512, ...); the executable "
             "refuses to run on a CPU that lacks the target's features"),
    cl::init("native"), cl::cat(targetCat));
cl::opt<bool> printTarget(
    "print-target",
    cl::desc("print what --target-cpu resolves to (LLVM CPU, required "
             "features, vector shape), which --compute forms it has, and "
             "whether this machine can run its code; then exit (no "
             "checkpoint needed)"),
    cl::cat(targetCat));
cl::opt<std::string> cudaArch("cuda-arch",
                              cl::desc("GPU architecture for --target=cuda"),
                              cl::init("sm_90"), cl::cat(targetCat));
cl::opt<std::string> dtype(
    "dtype",
    cl::desc("weight storage in the executable: f32 (default), bf16, or "
             "int8/int4 (projections and embeddings quantized per group, "
             "bf16 scales; the rest f32); see --compute"),
    cl::init("f32"), cl::cat(targetCat));
cl::opt<std::string> compute(
    "compute",
    cl::desc("arithmetic of the projections: f32, bf16 (CPUs with "
             "AVX512_BF16: its dot products, inputs rounded to bf16, f32 "
             "sums; weights bf16), or int8 (CPUs with VNNI or AVX2; AVX512BW "
             "where the vectors are 512 bits; with "
             "--dtype=int8 or int4: integer dot products, inputs quantized "
             "to int8 per group like the weights, f32 sums of the groups). "
             "Default: int8 for --dtype=int8/int4 where the target CPU can "
             "run it, f32 otherwise"),
    cl::init("f32"), cl::cat(targetCat));
cl::opt<int64_t> quantGroup(
    "quant-group",
    cl::desc("inputs per quantization scale for --dtype=int8/int4 "
             "(default 32)"),
    cl::init(32), cl::cat(targetCat));
cl::opt<bool> noFoldMeta("no-fold-meta",
                         cl::desc("do not precompute the meta-token prefix"),
                         cl::cat(passesCat));
cl::opt<bool> noTileScan("no-tile-scan",
                         cl::desc("do not tile the selective scan"),
                         cl::cat(passesCat));
cl::opt<std::string> transformScript(
    "transform-script",
    cl::desc("apply this transform-dialect file's @__transform_main to the "
             "Hymba IR (after the meta-token fold, before the fusion): tile "
             "hymba.selective_scan with transform.structured.tile_using_forall, "
             "..."),
    cl::value_desc("file"), cl::cat(passesCat));
cl::opt<bool> noMergeLayers(
    "no-merge-layers",
    cl::desc("lower every decoder layer's function on its own instead of one "
             "per kind of layer (hymba-merge-equivalent-functions)"),
    cl::cat(passesCat));
cl::opt<bool> noFuse("no-fuse", cl::desc("do not fuse the hybrid heads"),
                     cl::cat(passesCat));
cl::opt<bool> noPackWeights(
    "no-pack-weights",
    cl::desc("keep projection weights in the checkpoint's [out, in] layout "
             "(dot-product kernels) instead of panels (outer-product GEMM "
             "kernels)"),
    cl::cat(passesCat));
cl::opt<std::string> payloadLayout(
    "payload-layout",
    cl::desc("with --emit=exe, also write the payload layout as JSON to this "
             "file (python/hymba_tools/pack_payload.py rebuilds the "
             "executable from its program part and a checkpoint)"),
    cl::value_desc("path"), cl::init(""), cl::cat(outputCat));
cl::opt<int64_t> linearRowChunk(
    "linear-row-chunk",
    cl::desc("rows per pass over the weights in CPU projections (testing: "
             "small values exercise the chunking on small prompts)"),
    cl::init(0), cl::cat(debugCat));
cl::opt<int64_t> decodeStreams(
    "decode-streams",
    cl::desc("weight panels a CPU decode step's projection tiles read side "
             "by side, one sequential stream each (default: the pipeline's, "
             "2; 1: one panel per tile; for A/B runs)"),
    cl::cat(debugCat));
cl::opt<int64_t> weightPrefetchDistance(
    "weight-prefetch-distance",
    cl::desc("bytes ahead at which a CPU decode step's projection tiles "
             "prefetch quantized (int8, int4) weight panels (default: "
             "the pipeline's, 4096; 0: no prefetches; for A/B runs)"),
    cl::cat(debugCat));
enum class KernelForm { Target, CPU, GPU };
cl::opt<KernelForm> kernelForm(
    "kernel-form",
    cl::desc("loop shapes the model is lowered to (default: the target's); "
             "--target=cpu --kernel-form=gpu runs the GPU lowering's loops "
             "on the CPU, which is how its numerics are tested without a GPU"),
    cl::init(KernelForm::Target),
    cl::values(clEnumValN(KernelForm::CPU, "cpu", "SIMD-friendly tiles"),
               clEnumValN(KernelForm::GPU, "gpu",
                          "one element per item, registers")),
    cl::cat(targetCat));
cl::opt<unsigned> jobs(
    "j",
    cl::desc("threads the compiler may use (default: the machine's cores); "
             "with 2 or more, the weights are converted while the code is "
             "lowered and generated, and MLIR runs passes in parallel. The "
             "output does not depend on it"),
    cl::value_desc("N"), cl::init(0), cl::cat(outputCat));
cl::alias jobsLong("jobs", cl::desc("alias for -j"), cl::aliasopt(jobs),
                   cl::cat(outputCat));
cl::opt<int64_t> maxSeqLen("max-seq-len",
                           cl::desc("tokens a sequence may hold (default: "
                                    "max_position_embeddings)"),
                           cl::init(0), cl::cat(targetCat));

/// Puts the options the mlir::register*CLOptions calls added (those not in
/// `before`) into their own group, and hides every option outside the
/// tool's groups. This is cl::HideUnrelatedOptions, except that it uses
/// cl::Hidden instead of cl::ReallyHidden so that --help-hidden still lists
/// LLVM's internal options.
void groupHelp(const StringSet<> &before) {
  const cl::OptionCategory *ours[] = {&outputCat, &targetCat, &passesCat,
                                      &debugCat, &mlirCat};
  for (auto &entry : cl::getRegisteredOptions()) {
    cl::Option *opt = entry.second;
    if (!before.contains(entry.first))
      opt->addCategory(mlirCat);
    bool related = false;
    for (const cl::OptionCategory *cat : opt->Categories)
      related |= llvm::is_contained(ours, cat) ||
                 cat->getName() == "Generic Options"; // --help, --version
    if (!related && opt->getOptionHiddenFlag() == cl::NotHidden)
      opt->setHiddenFlag(cl::Hidden);
  }
}

/// --target-cpu, resolved in main().
hymba::CPUTarget cpuTarget;

/// -j, or the machine's cores.
unsigned jobCount() {
  if (jobs > 0)
    return jobs;
  return std::max(1u, std::thread::hardware_concurrency());
}

/// --mlir-timing: the whole compilation, stage by stage (main()'s root).
mlir::TimingScope *timing;

/// Runs a stage's pass pipeline, timed as `name`.
mlir::LogicalResult runStage(StringRef name, mlir::ModuleOp module,
                             function_ref<void(OpPassManager &)> build) {
  mlir::TimingScope stage = timing->nest(name);
  return hymba::runPipeline(module, build, stage);
}

/// The runtime library next to this tool: <prefix>/bin/../lib.
std::string runtimeLibrary(StringRef name) {
  static int anchor;
  std::string exe = sys::fs::getMainExecutable("hymba-compile", &anchor);
  SmallString<256> p(sys::path::parent_path(sys::path::parent_path(exe)));
  sys::path::append(p, "lib", name);
  return std::string(p);
}

/// --lib-name, or the checkpoint directory's name made a C identifier.
std::string libraryName() {
  if (!libName.empty())
    return libName;
  std::string name =
      sys::path::filename(sys::path::remove_leading_dotslash(
                              StringRef(checkpointDir).rtrim('/')))
          .str();
  for (char &c : name)
    if (!isAlnum(c))
      c = '_';
  if (name.empty() || isDigit(name[0]))
    name = "model_" + name;
  return name;
}

int fail(const Twine &msg) {
  WithColor::error(errs(), "hymba-compile") << msg << "\n";
  return 1;
}

/// Writes `write`'s output to `path` (see OutputFile.h; "-" is stdout).
int writeOutput(StringRef path,
                function_ref<Error(raw_pwrite_stream &)> write) {
  if (Error e = hymba::writeOutputFile(path, write))
    return fail(toString(std::move(e)));
  return 0;
}
/// Progress lines for a person at a terminal; silent in pipes and tests.
void progress(const Twine &stage) {
  if (sys::Process::StandardErrIsDisplayed())
    errs() << "[hymba-compile] " << stage << "\n";
}

std::optional<hymba::WeightType> parseWeightType(StringRef name) {
  return llvm::StringSwitch<std::optional<hymba::WeightType>>(name)
      .Case("f32", hymba::WeightType::F32)
      .Case("bf16", hymba::WeightType::BF16)
      .Case("int8", hymba::WeightType::INT8)
      .Case("int4", hymba::WeightType::INT4)
      .Default(std::nullopt);
}

const char *weightTypeName(hymba::WeightType type) {
  switch (type) {
  case hymba::WeightType::F32:
    return "f32";
  case hymba::WeightType::BF16:
    return "bf16";
  case hymba::WeightType::INT8:
    return "int8";
  case hymba::WeightType::INT4:
    return "int4";
  }
  return "?";
}

std::string metadataFor(mlir::ModuleOp module, const hymba::ModelConfig &c,
                        const hymba::BuildOptions &o) {
  std::string s;
  raw_string_ostream os(s);
  os << "vocab_size=" << c.vocabSize << "\n"
     << "hidden_size=" << c.hiddenSize << "\n"
     << "num_layers=" << c.numLayers << "\n"
     << "num_meta_tokens=" << c.numMeta << "\n"
     << "max_seq_len=" << o.maxSeqLen << "\n"
     << "bos_token_id=" << c.bosTokenId << "\n"
     << "eos_token_id=" << c.eosTokenId << "\n"
     << "weight_dtype=" << weightTypeName(o.weightType) << "\n";
  if (compute != "f32")
    os << "compute=" << compute << "\n";
  if (o.weightType == hymba::WeightType::INT8 ||
      o.weightType == hymba::WeightType::INT4)
    os << "quant_group=" << o.quantGroup << "\n";
  return s;
}

/// A module fact (0 when absent), through the dialect's declared helper.
template <typename Helper>
int64_t moduleInt(mlir::ModuleOp module, Helper helper) {
  mlir::IntegerAttr attr = helper.getAttr(module);
  return attr ? attr.getInt() : 0;
}

mlir::hymba::HymbaDialect &hymbaDialect(mlir::ModuleOp module) {
  return *module.getContext()->getLoadedDialect<mlir::hymba::HymbaDialect>();
}

/// The executable's layout and metadata, read off the module.
hymba::ExecutableSpec executableSpec(mlir::ModuleOp module,
                                     const hymba::Checkpoint &ckpt,
                                     const hymba::BuildOptions &options,
                                     StringRef out) {
  hymba::ExecutableSpec spec;
  spec.outputPath = out.str();
  spec.weights = hymba::collectWeights(module);
  spec.paramsBytes =
      moduleInt(module, hymbaDialect(module).getParamsBytesAttrHelper());
  spec.stateBytes =
      moduleInt(module, hymbaDialect(module).getStateBytesAttrHelper());
  spec.metadata = metadataFor(module, ckpt.config(), options);
  spec.showProgress = sys::Process::StandardErrIsDisplayed();
  spec.layoutPath = payloadLayout;
  spec.programFoldsMeta =
      hymbaDialect(module).getMetaFoldedAttrHelper().isAttrPresent(module);
  spec.timing = timing;
  return spec;
}

/// From an LLVM-dialect module: --emit=llvm/obj output, or the executable
/// (object in a temporary file, linked with the runtime, payload appended).
/// `params`: the executable's weights, being written since compileModule
/// started it (--emit=exe).
int writeFromLLVMDialect(mlir::ModuleOp module, const hymba::Checkpoint &ckpt,
                         hymba::ExecutableSpec spec,
                         const hymba::CPUTarget &cpu = cpuTarget,
                         bool library = false,
                         hymba::ParamsWriter *params = nullptr) {
  hymba::addModelFacts(module, spec);
  if (emit == Emit::LLVM || emit == Emit::Obj)
    return writeOutput(spec.outputPath, [&](raw_pwrite_stream &os) -> Error {
      progress("generating native code");
      SmallString<0> buffer;
      raw_svector_ostream bos(buffer);
      if (Error e = hymba::emitNative(module, cpuTarget, bos,
                                      emit == Emit::LLVM, *timing))
        return e;
      os << buffer;
      return Error::success();
    });
  Expected<hymba::TempPath> objPath =
      hymba::TempPath::create("hymba-model", "o");
  if (!objPath)
    return fail(toString(objPath.takeError()));
  {
    progress("generating native code");
    std::error_code ec;
    raw_fd_ostream os(objPath->str(), ec);
    if (ec)
      return fail(objPath->str() + ": " + ec.message());
    if (Error e = hymba::emitNative(module, cpu, os, /*asIR=*/false, *timing)) {
      os.clear_error();
      return fail(toString(std::move(e)));
    }
    os.flush();
    if (os.has_error()) {
      std::string msg = os.error().message();
      os.clear_error();
      return fail(objPath->str() + ": write failed: " + msg);
    }
  }
  spec.objectPath = objPath->str().str();
  if (!sys::fs::exists(spec.runtimeLib))
    return fail("runtime library not found at " + spec.runtimeLib);
  progress("linking " + spec.outputPath);
  if (library) {
    if (Error e =
            hymba::writeLibrary(spec, ckpt, spec.outputPath, libraryName()))
      return fail(toString(std::move(e)));
    return 0;
  }
  if (Error e = hymba::writeExecutable(spec, ckpt, params))
    return fail(toString(std::move(e)));
  return 0;
}

/// The error for an integer flag given outside [lo, hi] (`unit` follows
/// hi), or nothing; a flag left out keeps its default.
std::optional<std::string> outsideRange(const cl::opt<int64_t> &flag,
                                        int64_t lo, int64_t hi,
                                        StringRef unit = "") {
  if (!flag.getNumOccurrences() || (flag >= lo && flag <= hi))
    return std::nullopt;
  return ("--" + flag.ArgStr + " must be between " + Twine(lo) + " and " +
          Twine(hi) + unit + ", got " + Twine(int64_t(flag)))
      .str();
}

/// Why --compute=int8 cannot be used with `weightType` and the other flags,
/// or nothing if it can. Integer dot products multiply int8 (or int4)
/// weights in panels (quads along K) by x quantized the same way, with
/// VNNI's vpdpbusd, or without VNNI with pmaddubsw and pmaddwd (AVX2, or
/// AVX512BW on 512-bit vectors).
std::optional<std::string> int8ComputeObstacle(hymba::WeightType weightType) {
  if (weightType != hymba::WeightType::INT8 &&
      weightType != hymba::WeightType::INT4)
    return "--compute=int8 multiplies integer weights: it needs "
           "--dtype=int8 or int4, got --dtype=" +
           dtype;
  if (target != Target::CPU || kernelForm == KernelForm::GPU)
    return std::string(
        "--compute=int8 is for --target=cpu in the CPU kernel form");
  if (noPackWeights)
    return std::string("--compute=int8 needs the weights in panels: it "
                       "cannot be combined with --no-pack-weights");
  // The same test as the pipeline's choice of instructions (applyCPUTarget).
  if (!hymba::hasVNNIDot(cpuTarget) && !hymba::hasMaddUbsDot(cpuTarget))
    return "--compute=int8 needs integer dot products: VNNI (AVX512_VNNI "
           "or AVX-VNNI) or pmaddubsw (AVX2; AVX512BW where the vectors are "
           "512 bits), and --target-cpu=" +
           targetCPU + " (" + cpuTarget.cpu +
           ") has neither: pick a CPU that has them (x86-64-v3, znver3, "
           "znver4, haswell, icelake-server) or use --compute=f32";
  if (quantGroup % 4 != 0)
    return "--compute=int8 reads inputs in runs of 4 that must not straddle "
           "two scales: --quant-group must be a multiple of 4, got " +
           std::to_string(int64_t(quantGroup));
  return std::nullopt;
}

/// --print-target: the resolved CPU target as `key: value` lines, one
/// fact per line (the tests and benchmarks read them instead of guessing
/// from /proc/cpuinfo what the compiler will do).
int printTargetReport(const hymba::CPUTarget &cpu) {
  raw_ostream &os = llvm::outs();
  os << "target-cpu: " << cpu.name << " (" << cpu.cpu << ")\n";
  os << "required features:";
  for (const std::string &f : cpu.required)
    os << " " << f;
  os << "\n";
  os << "vectors: " << cpu.vectorBits << " bits, " << cpu.f32Lanes()
     << " f32 lanes, " << cpu.vectorRegisters << " registers; weight panel "
     << cpu.weightPanel() << "\n";
  os << "compute f32: yes\n";
  os << "compute bf16: "
     << (hymba::hasBF16Dot(cpu) ? "yes (vdpbf16ps)" : "no (needs avx512bf16)")
     << "\n";
  bool vnni = hymba::hasVNNIDot(cpu), maddubs = hymba::hasMaddUbsDot(cpu);
  os << "compute int8: "
     << (vnni      ? "yes (vpdpbusd)"
         : maddubs ? (cpu.vectorBits == 512 ? "yes (pmaddubsw, avx512bw)"
                                            : "yes (pmaddubsw, avx2)")
                   : "no (needs VNNI, or pmaddubsw: avx2; avx512bw on "
                     "512-bit vectors)")
     << "\n";
  os << "default compute for --dtype=int8/int4: "
     << (vnni || maddubs ? "int8" : "f32") << "\n";
  std::vector<std::string> missing = hymba::missingHostFeatures(cpu);
  os << "runs on this machine: " << (missing.empty() ? "yes" : "no (lacks");
  for (const std::string &f : missing)
    os << " " << f;
  os << (missing.empty() ? "" : ")") << "\n";
  return 0;
}

/// The options of the MLIR stages: the driver's flags, `gpuForm` and `cpu`.
void setPipelineOptions(hymba::PipelineOptions &o, bool gpuForm,
                        const hymba::CPUTarget &cpu) {
  o.foldMetaTokens = !noFoldMeta;
  o.fuseHybridHeads = !noFuse;
  o.mergeFunctions = !noMergeLayers;
  o.tileSelectiveScan = !noTileScan;
  o.transformScript = transformScript;
  o.weightPanel = noPackWeights ? 0 : -1;
  o.computeBF16 = compute == "bf16";
  o.computeInt8 = compute == "int8";
  o.kernelForm =
      gpuForm ? mlir::hymba::KernelForm::GPU : mlir::hymba::KernelForm::CPU;
  o.rowChunk = linearRowChunk;
  o.chip = cudaArch;
  if (decodeStreams.getNumOccurrences())
    o.decodeStreams = decodeStreams;
  if (weightPrefetchDistance.getNumOccurrences())
    o.prefetchDistance = weightPrefetchDistance;
  hymba::applyCPUTarget(o, cpu);
}

/// Lowers a module (Hymba level, or linalg level when `lowered`) for the
/// CPU and writes it as --emit asks. `spec` comes from executableSpec on
/// the Hymba-level module (the layout is read off hymba.weight ops).
int writeCPUExecutable(mlir::ModuleOp module, const hymba::Checkpoint &ckpt,
                       hymba::ExecutableSpec spec, bool gpuForm,
                       bool foldedMeta, const hymba::CPUTarget &cpu,
                       bool lowered = false, bool library = false,
                       hymba::ParamsWriter *params = nullptr) {
  hymba::PipelineOptions stages;
  setPipelineOptions(stages, gpuForm, cpu);
  if (!lowered &&
      failed(runStage("lower to linalg", module, [&](OpPassManager &pm) {
        hymba::buildLowerToLinalgPipeline(pm, stages);
      })))
    return fail("lowering to linalg failed");
  progress("lowering to LLVM");
  if (failed(runStage("lower to LLVM", module, [&](OpPassManager &pm) {
        hymba::buildLowerToLLVMPipeline(pm, stages);
      })))
    return fail("lowering to LLVM failed");
  spec.runtimeLib = runtimeLibrary("libhymba_runtime.a");
  // scf.parallel became OpenMP calls.
  spec.linkLibs = {"-L/usr/lib/llvm-22/lib", "-lomp"};
  spec.foldedMeta = foldedMeta;
  return writeFromLLVMDialect(module, ckpt, spec, cpu, library, params);
}

/// The build machine, as the target of a program that must run here (the
/// meta-token prefix runner), with vectors no wider than a weight panel.
Expected<hymba::CPUTarget> hostTargetFor(int64_t weightPanel) {
  Expected<hymba::CPUTarget> host = hymba::resolveCPUTarget("native");
  if (host && weightPanel > 0)
    while (weightPanel % host->f32Lanes() != 0)
      host->vectorBits /= 2;
  return host;
}

/// Runs the stages after IR construction, stopping at --emit.
int compileModule(mlir::ModuleOp module, const hymba::Checkpoint &ckpt,
                  const hymba::BuildOptions &options, StringRef out) {
  auto printIR = [&](raw_pwrite_stream &os) -> Error {
    module.print(os);
    return Error::success();
  };
  bool gpuForm = kernelForm == KernelForm::Target
                     ? target == Target::CUDA
                     : kernelForm == KernelForm::GPU;
  progress("optimizing Hymba IR");
  hymba::PipelineOptions stages;
  setPipelineOptions(stages, gpuForm, cpuTarget);
  bool cuda = target == Target::CUDA;
  if (failed(runStage("Hymba passes", module, [&](OpPassManager &pm) {
        hymba::buildOptimizationPipeline(pm, stages, cuda);
      })))
    return fail("the Hymba optimization pipeline failed");
  if (emit == Emit::Hymba)
    return writeOutput(out, printIR);

  bool foldedMeta =
      hymbaDialect(module).getMetaFoldedAttrHelper().isAttrPresent(module);
  hymba::ExecutableSpec spec = executableSpec(module, ckpt, options, out);

  // The prefix state of a CUDA program (the build machine need not have a
  // GPU), of a GPU-form one, or of one for a CPU the build machine is not,
  // comes from a CPU-form build of the same Hymba module for the build
  // machine: the state layout is the same.
  std::vector<std::string> missing = hymba::missingHostFeatures(cpuTarget);
  hymba::TempPath runnerPath;
  if (foldedMeta && (gpuForm || target == Target::CUDA || !missing.empty()) &&
      (emit == Emit::Exe || emit == Emit::Lib)) {
    Expected<hymba::TempPath> tmp =
        hymba::TempPath::create("hymba-prefix-runner", "exe");
    if (!tmp)
      return fail(toString(tmp.takeError()));
    runnerPath = std::move(*tmp);
    mlir::OwningOpRef<mlir::ModuleOp> cpuModule = module.clone();
    progress("building the CPU program that computes the meta-token prefix");
    hymba::ExecutableSpec runner = spec;
    runner.outputPath = runnerPath.str().str();
    runner.showProgress = false;
    runner.layoutPath.clear();
    Expected<hymba::CPUTarget> host =
        hostTargetFor(hymba::weightPanel(stages, cuda));
    if (!host)
      return fail(toString(host.takeError()));
    if (int rc = writeCPUExecutable(*cpuModule, ckpt, runner, /*gpuForm=*/false,
                                    /*foldedMeta=*/false, *host))
      return rc;
  }

  // The weights of the executable are converted and written on a second
  // thread from here on, while the module is lowered, optimized and linked
  // (ParamsWriter): neither needs the other.
  std::unique_ptr<hymba::ParamsWriter> params;
  if (emit == Emit::Exe && jobCount() > 1) {
    Expected<std::unique_ptr<hymba::ParamsWriter>> started =
        hymba::ParamsWriter::start(spec, ckpt);
    if (!started)
      return fail(toString(started.takeError()));
    params = std::move(*started);
  }

  progress("lowering to linalg");
  if (failed(runStage("lower to linalg", module, [&](OpPassManager &pm) {
        hymba::buildLowerToLinalgPipeline(pm, stages);
      })))
    return fail("lowering to linalg failed");
  if (emit == Emit::Linalg)
    return writeOutput(out, printIR);

  spec.prefixRunner = runnerPath.str().str();
  if (target == Target::CPU) {
    if (emit == Emit::PTX)
      return fail("--emit=ptx needs --target=cuda");
    return writeCPUExecutable(module, ckpt, spec, gpuForm, foldedMeta,
                              cpuTarget, /*lowered=*/true,
                              /*library=*/emit == Emit::Lib, params.get());
  }
  Expected<std::string> toolkit = hymba::findCudaToolkit();
  if (!toolkit)
    return fail(toString(toolkit.takeError()));
  stages.toolkit = *toolkit;
  progress("lowering to GPU kernels for " + cudaArch);
  if (failed(runStage("lower to GPU kernels", module, [&](OpPassManager &pm) {
        hymba::buildGPUKernelsPipeline(pm, stages, emit == Emit::PTX);
      })))
    return fail("lowering to GPU kernels failed");
  if (emit == Emit::PTX) {
    if (out == "-")
      return fail("--emit=ptx writes one file per kernel: give -o DIR");
    if (Error e = hymba::writeKernelPTX(module, out))
      return fail(toString(std::move(e)));
    return 0;
  }
  progress("lowering the host code to LLVM");
  if (failed(runStage("lower the host code to LLVM", module,
                      hymba::buildGPUHostToLLVMPipeline)))
    return fail("lowering the host code to LLVM failed");
  spec.runtimeLib = runtimeLibrary("libhymba_runtime_cuda.a");
  spec.linkLibs = {"-ldl"};
  spec.foldedMeta = foldedMeta;
  return writeFromLLVMDialect(module, ckpt, spec, cpuTarget,
                              /*library=*/false, params.get());
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  hymba::ignoreFileSizeSignal();
  mlir::DialectRegistry registry;
  hymba::registerEverything(registry);
  StringSet<> before;
  for (auto &entry : cl::getRegisteredOptions())
    before.insert(entry.first);
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerAsmPrinterCLOptions();
  groupHelp(before);
  cl::ParseCommandLineOptions(argc, argv,
                              "hymba-compile: compile a HuggingFace Hymba "
                              "checkpoint into a self-contained executable\n");

  mlir::DefaultTimingManager timingManager;
  mlir::applyDefaultTimingManagerCLOptions(timingManager);
  mlir::TimingScope rootTiming = timingManager.getRootScope();
  timing = &rootTiming;

  std::optional<hymba::WeightType> weightType = parseWeightType(dtype);
  if (!weightType)
    return fail("--dtype must be f32, bf16, int8 or int4, got '" + dtype + "'");
  if (std::optional<std::string> bad = outsideRange(quantGroup, 1, 4096))
    return fail(*bad);
  if (std::optional<std::string> bad = outsideRange(decodeStreams, 1, 8))
    return fail(*bad);
  if (std::optional<std::string> bad =
          outsideRange(weightPrefetchDistance, 0, int64_t(1) << 20, " bytes"))
    return fail(*bad);
  Expected<hymba::CPUTarget> cpu = hymba::resolveCPUTarget(targetCPU);
  if (!cpu)
    return fail(toString(cpu.takeError()));
  cpuTarget = *cpu;
  if (printTarget)
    return printTargetReport(cpuTarget);
  if (checkpointDir.empty())
    return fail("no checkpoint directory given (hymba-compile DIR -o OUT; "
                "--help lists the options)");
  if (compute != "f32" && compute != "bf16" && compute != "int8")
    return fail("--compute must be f32, bf16 or int8, got '" + compute + "'");
  std::optional<std::string> noInt8 = int8ComputeObstacle(*weightType);
  // Left out, --compute is int8 wherever integer dot products can run: on
  // every host measured they prefill int8 and int4 weights 1.8-2.6x (VNNI)
  // and 1.3-1.5x (AVX2's pmaddubsw) and decode int4 1.08-1.6x (one thread)
  // faster than f32 compute, at a perplexity cost below 0.01% (README,
  // Compute precision); f32 elsewhere (CPUs without those instructions:
  // x86-64-v2, or AVX-512 without AVX512BW such as Knights Landing).
  if (!compute.getNumOccurrences())
    compute.setValue(noInt8 ? "f32" : "int8");
  if (compute == "int8" && noInt8)
    return fail(*noInt8);
  if (compute == "bf16") {
    // bf16 dot products read bf16 weights packed in pairs: bf16 storage (the
    // default with it), panels, the CPU kernel form, and a CPU that has them.
    if (dtype.getNumOccurrences() == 0)
      weightType = hymba::WeightType::BF16;
    if (*weightType != hymba::WeightType::BF16)
      return fail("--compute=bf16 multiplies bf16 weights: it cannot be "
                  "combined with --dtype=" +
                  dtype + " (use --dtype=bf16, or leave --dtype out)");
    if (target != Target::CPU || kernelForm == KernelForm::GPU)
      return fail("--compute=bf16 is for --target=cpu in the CPU kernel form");
    if (noPackWeights)
      return fail("--compute=bf16 needs the weights in panels: it cannot be "
                  "combined with --no-pack-weights");
    if (!hymba::hasBF16Dot(cpuTarget))
      return fail("--compute=bf16 needs a CPU with AVX512_BF16, and "
                  "--target-cpu=" +
                  targetCPU + " (" + cpuTarget.cpu +
                  ") lacks avx512bf16: pick a CPU that has it (znver4, "
                  "znver5, sapphirerapids, cooperlake) or use --compute=f32");
  }
  mlir::TimingScope reading = timing->nest("read the checkpoint");
  Expected<std::unique_ptr<hymba::Checkpoint>> ckpt =
      hymba::Checkpoint::open(checkpointDir);
  if (!ckpt)
    return fail(toString(ckpt.takeError()));
  reading.stop();
  const hymba::ModelConfig &config = (*ckpt)->config();

  hymba::BuildOptions options;
  options.weightType = *weightType;
  options.quantGroup = quantGroup;
  options.layerFunctions = target == Target::CPU;
  if (maxSeqLen < 0)
    return fail("--max-seq-len must be positive");
  options.maxSeqLen = maxSeqLen > 0 ? maxSeqLen : config.maxPositions;
  // KV caches grow with it; the cap keeps every size derived from it far
  // from overflowing (and the runtime refuses larger values too).
  if (options.maxSeqLen > hymba::kMaxSeqLenLimit)
    return fail((maxSeqLen > 0 ? "--max-seq-len " + Twine(maxSeqLen)
                               : checkpointDir +
                                     "/config.json: max_position_embeddings " +
                                     Twine(config.maxPositions) +
                                     " (the default --max-seq-len)") +
                " is more than the " + Twine(hymba::kMaxSeqLenLimit) +
                " tokens a sequence may hold; pass a smaller --max-seq-len");

  mlir::MLIRContext ctx(registry);
  // -j 1: one thread for everything, MLIR's function passes included.
  if (jobCount() == 1)
    ctx.disableMultithreading();
  mlir::TimingScope building = timing->nest("build the Hymba IR");
  mlir::OwningOpRef<mlir::ModuleOp> module =
      hymba::buildModel(ctx, config, options);
  if (failed(mlir::verify(*module)))
    return fail("internal error: the generated Hymba IR does not verify");
  building.stop();

  std::string out = outputPath;
  if (out.empty())
    out = emit == Emit::Exe ? "model" : "-";
  if (emit == Emit::Exe && out == "-")
    return fail("an executable cannot be written to stdout; use -o PATH");
  if (emit == Emit::Lib) {
    if (outputPath.empty() || out == "-")
      return fail("--emit=lib writes several files: give -o DIR");
    if (target != Target::CPU)
      return fail("--emit=lib is for --target=cpu (the CUDA runtime is not "
                  "packaged as a library yet)");
  }
  // Refuse unwritable outputs before the long part of the work.
  if (emit == Emit::Exe)
    if (Expected<hymba::OutputTarget> t = hymba::resolveOutput(out, false); !t)
      return fail(toString(t.takeError()));
  if (!payloadLayout.empty())
    if (Expected<hymba::OutputTarget> t =
            hymba::resolveOutput(payloadLayout, true);
        !t)
      return fail(toString(t.takeError()));
  return compileModule(*module, **ckpt, options, out);
}
