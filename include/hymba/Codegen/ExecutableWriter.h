//===- ExecutableWriter.h - Link model code and append payload --*- C++ -*-===//
#ifndef HYMBA_CODEGEN_EXECUTABLEWRITER_H
#define HYMBA_CODEGEN_EXECUTABLEWRITER_H

#include "hymba/Codegen/WeightEncoding.h"
#include "hymba/Import/Checkpoint.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mlir::hymba {

/// The parameter layout of a module after hymba-assign-buffer-layout.
std::vector<PackedWeight> collectWeights(mlir::ModuleOp module);

struct ExecutableSpec {
  std::string outputPath;
  std::string objectPath;            // model code
  std::string runtimeLib;            // libhymba_runtime.a (or the CUDA variant)
  std::vector<std::string> linkLibs; // after the runtime, e.g. -lomp
  std::vector<PackedWeight> weights;
  int64_t paramsBytes = 0;
  int64_t stateBytes = 0;
  std::string metadata; // key=value lines
  bool showProgress = false;
  /// The module has @hymba_prefix: run it once and store the state.
  bool foldedMeta = false;
  /// The program's first chunk starts after the meta tokens (their state is
  /// computed at compile time): it refuses to run without that state.
  bool programFoldsMeta = false;
  /// The executable that computes that state: empty for the program
  /// itself; a CPU build of the same model for GPU-form programs, which the
  /// build machine may not be able to run (the state layout is the same).
  std::string prefixRunner;
  /// When set, also write the payload layout there as JSON (program size,
  /// weight offsets and storage types, metadata): enough for
  /// python/hymba_tools/pack_payload.py to rebuild the executable from its
  /// program part and a checkpoint of the same shapes, e.g. on a GPU machine
  /// that has no LLVM (scripts/device-bundle.sh).
  std::string layoutPath;
  /// --mlir-timing: the linking, payload and prefix steps are timed under
  /// this scope when set.
  mlir::TimingScope *timing = nullptr;
};

/// Name of the constant the driver adds to the model code: the sizes and
/// metadata checksum the payload must match (Payload.h, ModelFact).
inline constexpr const char *kModelFactsSymbol = "hymba_model_facts";

/// The C++ driver that links model code with the runtime.
llvm::Expected<std::string> findLinker();

/// Appends what every link of model code with the runtime ends with: the
/// sanitizer runtime of an instrumented build, the malloc wrapper that
/// checks model-code allocations, and libm.
void appendRuntimeLinkFlags(std::vector<llvm::StringRef> &args);

/// Adds `kModelFactsSymbol` for `spec` to an LLVM-dialect module.
void addModelFacts(mlir::ModuleOp llvmModule, const ExecutableSpec &spec);

/// The parameter block of an executable (every weight converted to its
/// storage type), written on a thread of its own into the temporary file
/// that becomes the executable, while the caller generates the model code.
/// Converting and writing the weights (3 GB for the 1.5B shape in bf16) takes
/// about as long as LLVM's optimization and code generation, and neither
/// needs the other, so on two cores they overlap. The block goes at offset
/// 0; writeExecutable then inserts the linked program before it (ext4, XFS:
/// FALLOC_FL_INSERT_RANGE moves no data) or, where the file system cannot,
/// writes the block again after the program. The executable's bytes are the
/// same either way, and the same as without a ParamsWriter.
class ParamsWriter {
public:
  /// Starts the thread. Fails (without a thread) when `spec.outputPath`
  /// cannot be an executable or no temporary file can be made beside it.
  static llvm::Expected<std::unique_ptr<ParamsWriter>>
  start(const ExecutableSpec &spec, const Checkpoint &checkpoint);
  /// Stops the thread at its next tensor, waits for it, and removes the
  /// temporary file unless writeExecutable made it the executable.
  ~ParamsWriter();

private:
  friend llvm::Error writeExecutable(const ExecutableSpec &, const Checkpoint &,
                                     ParamsWriter *);
  ParamsWriter(const ExecutableSpec &spec, const Checkpoint &checkpoint,
               llvm::sys::fs::TempFile file);
  /// The thread's body.
  void run();
  /// Waits for the thread; its error, if it had one.
  llvm::Error wait();

  ExecutableSpec spec;
  const Checkpoint &checkpoint;
  std::optional<llvm::sys::fs::TempFile> file;
  std::atomic<bool> cancel{false};
  /// Written by the thread, read after it is joined.
  std::optional<std::string> failure;
  std::thread thread;
};

/// Links the model object with the runtime, then appends the converted
/// weights, the tokenizer and the metadata. Writes `outputPath` atomically
/// (OutputFile.h); it must be a regular file. Then writes `layoutPath`.
/// With `params` (started for the same spec), the weights are the ones it
/// converted.
llvm::Error writeExecutable(const ExecutableSpec &spec,
                            const Checkpoint &checkpoint,
                            ParamsWriter *params = nullptr);

} // namespace mlir::hymba

#endif // HYMBA_CODEGEN_EXECUTABLEWRITER_H
