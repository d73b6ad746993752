//===- HymbaModule.cpp - Python bindings of hymba-mlir --------------------===//
//
// `import hymba_mlir`: build Hymba IR from a checkpoint or parse it, run any
// registered pass pipeline on it (Hymba passes, the driver's stage
// pipelines, upstream passes), inspect and print it. Meant for compiler
// research from Python: the same context, dialects and passes as hymba-opt
// and hymba-compile. Errors raise RuntimeError carrying MLIR's diagnostics.
//
//===----------------------------------------------------------------------===//

#include "dialects/hymba/HymbaDialect.h"
#include "hymba/Codegen/PassPipelines.h"
#include "hymba/Codegen/Pipeline.h"
#include "hymba/Import/Checkpoint.h"
#include "hymba/Import/ModelBuilder.h"
#include "hymba/InitAll.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/Support/raw_ostream.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <dlfcn.h>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace py = pybind11;

namespace {
/// One context for the process, with everything hymba-compile registers.
mlir::MLIRContext &context() {
  static mlir::MLIRContext *ctx = [] {
    mlir::DialectRegistry registry;
    mlir::hymba::registerEverything(registry);
    auto *c = new mlir::MLIRContext(registry);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *ctx;
}

/// Collects the diagnostics emitted while it lives.
class Diagnostics {
public:
  Diagnostics()
      : handler(&context(), [this](mlir::Diagnostic &d) {
          llvm::raw_string_ostream os(text);
          os << d.getLocation() << ": " << d << "\n";
          return mlir::success();
        }) {}
  [[noreturn]] void raise(const std::string &what) {
    throw std::runtime_error(text.empty() ? what : what + ":\n" + text);
  }

private:
  std::string text;
  mlir::ScopedDiagnosticHandler handler;
};

/// A module of Hymba (or lowered) IR owned by Python.
class Module {
public:
  explicit Module(mlir::OwningOpRef<mlir::ModuleOp> m) : module(std::move(m)) {}

  std::string str() const {
    std::string s;
    llvm::raw_string_ostream os(s);
    module.get().print(os);
    return s;
  }

  /// Runs a pass pipeline (the inner list, e.g. "cse,hymba-fuse-hybrid-heads"
  /// or a full "builtin.module(...)") in place.
  void run(const std::string &pipeline) {
    Diagnostics diags;
    mlir::PassManager pm(&context());
    std::string inner = pipeline;
    llvm::StringRef p(pipeline);
    if (p.consume_front("builtin.module(") && p.consume_back(")"))
      inner = p.str();
    std::string parseError;
    llvm::raw_string_ostream err(parseError);
    if (mlir::failed(mlir::parsePassPipeline(inner, pm, err)))
      throw std::invalid_argument("invalid pass pipeline '" + pipeline +
                                  "': " + parseError);
    if (mlir::failed(pm.run(*module)))
      diags.raise("pass pipeline '" + pipeline + "' failed");
  }

  void verify() {
    Diagnostics diags;
    if (mlir::failed(mlir::verify(*module)))
      diags.raise("the module does not verify");
  }

  /// How many ops of each name the module holds.
  std::map<std::string, int> opCounts() const {
    std::map<std::string, int> counts;
    module.get().walk([&](mlir::Operation *op) {
      ++counts[op->getName().getStringRef().str()];
    });
    return counts;
  }

  /// Integer attributes on the module (hymba.params_bytes, ...).
  std::map<std::string, int64_t> intAttributes() const {
    std::map<std::string, int64_t> attrs;
    for (mlir::NamedAttribute a : module.get()->getAttrs())
      if (auto i = llvm::dyn_cast<mlir::IntegerAttr>(a.getValue()))
        attrs[a.getName().str()] = i.getInt();
    return attrs;
  }

private:
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

Module parse(const std::string &text) {
  Diagnostics diags;
  mlir::OwningOpRef<mlir::ModuleOp> m =
      mlir::parseSourceString<mlir::ModuleOp>(text, &context());
  if (!m)
    diags.raise("cannot parse the IR");
  return Module(std::move(m));
}

Module importCheckpoint(const std::string &dir, const std::string &dtype,
                        int64_t maxSeqLen, int64_t quantGroup) {
  static const std::map<std::string, mlir::hymba::WeightType> kTypes = {
      {"f32", mlir::hymba::WeightType::F32},
      {"bf16", mlir::hymba::WeightType::BF16},
      {"int8", mlir::hymba::WeightType::INT8},
      {"int4", mlir::hymba::WeightType::INT4}};
  auto type = kTypes.find(dtype);
  if (type == kTypes.end())
    throw std::invalid_argument(
        "dtype must be 'f32', 'bf16', 'int8' or 'int4', got '" + dtype + "'");
  if (quantGroup < 1 || quantGroup > 4096)
    throw std::invalid_argument("quant_group must be between 1 and 4096");
  if (maxSeqLen < 0)
    throw std::invalid_argument("max_seq_len must be positive");
  llvm::Expected<std::unique_ptr<mlir::hymba::Checkpoint>> ckpt =
      mlir::hymba::Checkpoint::open(dir);
  if (!ckpt)
    throw std::runtime_error(llvm::toString(ckpt.takeError()));
  mlir::hymba::BuildOptions options;
  options.weightType = type->second;
  options.quantGroup = quantGroup;
  options.maxSeqLen =
      maxSeqLen > 0 ? maxSeqLen : (*ckpt)->config().maxPositions;
  Diagnostics diags;
  mlir::OwningOpRef<mlir::ModuleOp> m =
      mlir::hymba::buildModel(context(), (*ckpt)->config(), options);
  if (!m || mlir::failed(mlir::verify(*m)))
    diags.raise("internal error: the Hymba IR built from " + dir +
                " does not verify");
  return Module(std::move(m));
}

/// The kernel_form argument: "cpu" or "gpu".
mlir::hymba::KernelForm kernelForm(const std::string &form) {
  if (form != "cpu" && form != "gpu")
    throw std::invalid_argument("kernel_form must be 'cpu' or 'gpu', got '" +
                                form + "'");
  return form == "gpu" ? mlir::hymba::KernelForm::GPU
                       : mlir::hymba::KernelForm::CPU;
}
/// The text of a lowering stage for kernel form `form` and CPU `targetCPU`
/// (empty: the options' defaults).
std::string stagePipeline(const std::string &form, const std::string &targetCPU,
                          void (*build)(mlir::OpPassManager &,
                                        const mlir::hymba::PipelineOptions &)) {
  mlir::hymba::PipelineOptions o;
  o.kernelForm = kernelForm(form);
  if (!targetCPU.empty()) {
    llvm::Expected<mlir::hymba::CPUTarget> target =
        mlir::hymba::resolveCPUTarget(targetCPU);
    if (!target)
      throw std::invalid_argument(llvm::toString(target.takeError()));
    mlir::hymba::applyCPUTarget(o, *target);
  }
  return mlir::hymba::pipelineText(
      &context(), [&](mlir::OpPassManager &pm) { build(pm, o); });
}
} // namespace

PYBIND11_MODULE(hymba_mlir, m) {
  m.doc() = "hymba-mlir: Hymba IR from checkpoints, pass pipelines, printing";

  // `import hymba_mlir.runtime` runs compiled models: pure Python over the
  // C API (python-bindings/hymba_mlir/runtime.py, which the build copies
  // into hymba_mlir/ beside this module). A __path__ makes this extension a
  // package whose submodules live there.
  Dl_info self;
  if (dladdr(reinterpret_cast<void *>(&context), &self) && self.dli_fname) {
    std::string dir = self.dli_fname;
    dir = dir.substr(0, dir.find_last_of('/') + 1) + "hymba_mlir";
    py::list path;
    path.append(dir);
    m.attr("__path__") = path;
  }

  py::class_<Module>(m, "Module", "A module of Hymba or lowered IR")
      .def("__str__", &Module::str)
      .def("run", &Module::run, py::arg("pipeline"),
           "Run a pass pipeline in place, e.g. 'cse,hymba-fuse-hybrid-heads'")
      .def("verify", &Module::verify, "Raise RuntimeError if invalid")
      .def("op_counts", &Module::opCounts, "{op name: count}")
      .def("int_attributes", &Module::intAttributes,
           "Integer attributes of the module, e.g. hymba.state_bytes");

  m.def("parse", &parse, py::arg("text"), "Parse IR text into a Module");
  m.def("import_checkpoint", &importCheckpoint, py::arg("checkpoint_dir"),
        py::arg("dtype") = "f32", py::arg("max_seq_len") = 0,
        py::arg("quant_group") = 32,
        "Build Hymba IR from a HuggingFace checkpoint directory (what "
        "hymba-compile --emit=hymba prints before any pass); dtype is the "
        "weight storage: 'f32', 'bf16', 'int8' or 'int4' (projections "
        "quantized per quant_group inputs)");

  py::module_ pipelines = m.def_submodule(
      "pipelines", "The driver's stage pipelines, as pipeline strings");
  pipelines.def(
      "optimize",
      [](bool foldMeta, bool fuse, bool tileScan, int64_t weightPanel) {
        mlir::hymba::PipelineOptions o;
        o.foldMetaTokens = foldMeta;
        o.fuseHybridHeads = fuse;
        o.tileSelectiveScan = tileScan;
        o.weightPanel = weightPanel;
        return mlir::hymba::pipelineText(
            &context(), [&](mlir::OpPassManager &pm) {
              mlir::hymba::buildOptimizationPipeline(pm, o, /*cuda=*/false);
            });
      },
      py::arg("fold_meta") = true, py::arg("fuse") = true,
      py::arg("tile_scan") = true, py::arg("weight_panel") = 0,
      "The Hymba passes and the buffer layout (weight_panel > 0: projection "
      "weights in panels of that many rows, as hymba-compile does for CPUs)");
  pipelines.def(
      "lower_to_linalg",
      [](const std::string &form, const std::string &targetCPU) {
        return stagePipeline(form, targetCPU,
                             mlir::hymba::buildLowerToLinalgPipeline);
      },
      py::arg("kernel_form") = "cpu", py::arg("target_cpu") = "",
      "The lowering passes: dense ops to linalg, bufferization, the ops "
      "with state to loops on buffers (target_cpu: size the attention "
      "vectors for it, as hymba-compile does; empty: 8 f32 lanes)");
  pipelines.def(
      "lower_to_llvm",
      [](const std::string &form, const std::string &targetCPU) {
        return stagePipeline(form, targetCPU,
                             mlir::hymba::buildLowerToLLVMPipeline);
      },
      py::arg("kernel_form") = "cpu", py::arg("target_cpu") = "native",
      "Loops, OpenMP, LLVM dialect; projection tiles for target_cpu");
}
