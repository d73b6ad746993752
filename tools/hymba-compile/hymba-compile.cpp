//===- hymba-compile.cpp - HuggingFace Hymba checkpoint -> executable -----===//
//
//   hymba-compile CKPT_DIR [-o OUT] [--emit=hymba|linalg|llvm|obj|exe]
//
// Every stage writes its output atomically: on any error nothing (not even a
// partial file) is left at OUT.
//
//===----------------------------------------------------------------------===//

#include "hymba/Dialect/HymbaDialect.h"
#include "hymba/Import/Checkpoint.h"
#include "hymba/Import/ModelBuilder.h"
#include "hymba/Passes/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace {
enum class Emit { Hymba, Linalg, LLVM, Obj, Exe };

cl::opt<std::string> checkpointDir(cl::Positional, cl::Required,
                                   cl::desc("<checkpoint directory>"));
cl::opt<std::string> outputPath("o", cl::desc("output file ('-' for stdout)"),
                                cl::value_desc("path"), cl::init(""));
cl::opt<Emit> emit(
    "emit", cl::desc("stage to stop at"), cl::init(Emit::Exe),
    cl::values(clEnumValN(Emit::Hymba, "hymba", "Hymba dialect IR"),
               clEnumValN(Emit::Linalg, "linalg", "linalg/tensor IR"),
               clEnumValN(Emit::LLVM, "llvm", "LLVM IR"),
               clEnumValN(Emit::Obj, "obj", "object file of the model code"),
               clEnumValN(Emit::Exe, "exe", "self-contained executable")));
cl::opt<std::string> dtype("dtype",
                           cl::desc("weight storage in the executable: f32 "
                                    "(default) or bf16; compute is f32"),
                           cl::init("f32"));
cl::opt<int64_t> maxSeqLen("max-seq-len",
                           cl::desc("tokens a sequence may hold (default: "
                                    "max_position_embeddings)"),
                           cl::init(0));

int fail(const Twine &msg) {
  WithColor::error(errs(), "hymba-compile") << msg << "\n";
  return 1;
}

/// Writes `write`'s output to `path` atomically (or to stdout for "-").
int writeOutput(StringRef path,
                function_ref<LogicalResult(raw_ostream &)> write) {
  if (path == "-") {
    if (failed(write(outs())))
      return 1;
    outs().flush();
    return 0;
  }
  Expected<sys::fs::TempFile> tmp = sys::fs::TempFile::create(path + ".tmp-%%%%%%");
  if (!tmp)
    return fail(path + ": cannot create: " + toString(tmp.takeError()));
  {
    raw_fd_ostream os(tmp->FD, /*shouldClose=*/false);
    if (failed(write(os)) || (os.flush(), os.has_error())) {
      consumeError(tmp->discard());
      return 1;
    }
  }
  if (Error e = tmp->keep(path))
    return fail(path + ": cannot write: " + toString(std::move(e)));
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  mlir::registerPassManagerCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerAsmPrinterCLOptions();
  cl::ParseCommandLineOptions(argc, argv,
                              "hymba-compile: compile a HuggingFace Hymba "
                              "checkpoint into a self-contained executable\n");

  if (dtype != "f32" && dtype != "bf16")
    return fail("--dtype must be f32 or bf16, got '" + dtype + "'");
  Expected<std::unique_ptr<hymba::Checkpoint>> ckpt =
      hymba::Checkpoint::open(checkpointDir);
  if (!ckpt)
    return fail(toString(ckpt.takeError()));
  const hymba::ModelConfig &config = (*ckpt)->config();

  hymba::BuildOptions options;
  options.weightType =
      dtype == "bf16" ? hymba::WeightType::BF16 : hymba::WeightType::F32;
  options.maxSeqLen = maxSeqLen > 0 ? maxSeqLen : config.maxPositions;
  if (maxSeqLen < 0)
    return fail("--max-seq-len must be positive");

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::hymba::HymbaDialect>();
  mlir::MLIRContext ctx(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      hymba::buildModel(ctx, config, options);
  if (failed(mlir::verify(*module)))
    return fail("internal error: the generated Hymba IR does not verify");

  std::string out = outputPath;
  if (out.empty())
    out = emit == Emit::Exe ? "model" : "-";
  if (emit == Emit::Hymba)
    return writeOutput(out, [&](raw_ostream &os) {
      module->print(os);
      return mlir::success();
    });
  return fail("this --emit stage is not available yet");
}
