//===- ExecutableWriter.cpp - Link model code and append payload ----------===//
#include "hymba/Codegen/ExecutableWriter.h"
#include "dialects/hymba/HymbaOps.h"
#include "hymba/Codegen/OutputFile.h"
#include "hymba/Runtime/Payload.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <fcntl.h>
#include <linux/falloc.h>
#include <optional>
#include <unistd.h>

using namespace mlir::hymba;

namespace {
llvm::Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

void writeZeros(llvm::raw_ostream &os, uint64_t n) {
  static const char zeros[4096] = {};
  while (n) {
    uint64_t k = std::min<uint64_t>(n, sizeof(zeros));
    os.write(zeros, k);
    n -= k;
  }
}

/// Flushes `os`; a stream error becomes an llvm::Error and is cleared, so
/// that the stream's destructor does not abort the process.
llvm::Error finish(llvm::raw_fd_ostream &os, llvm::StringRef path) {
  os.flush();
  if (!os.has_error())
    return llvm::Error::success();
  std::error_code ec = os.error();
  os.clear_error();
  return fail(path + ": write failed: " + ec.message());
}

/// Links the model object with the runtime into `linked`.
llvm::Error link(const ExecutableSpec &spec, llvm::StringRef linked) {
  llvm::Expected<std::string> linker = findLinker();
  if (!linker)
    return linker.takeError();
  std::vector<llvm::StringRef> args = {*linker, spec.objectPath,
                                       spec.runtimeLib, "-lsentencepiece",
                                       "-lcpp-httplib", "-pthread"};
  for (const std::string &lib : spec.linkLibs)
    args.push_back(lib);
  appendRuntimeLinkFlags(args);
  args.insert(args.end(), {"-o", linked});
  llvm::Expected<TempPath> errFile = TempPath::create("hymba-link", "log");
  if (!errFile)
    return errFile.takeError();
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, errFile->str(),
                                                errFile->str()};
  std::string linkErr;
  int rc = llvm::sys::ExecuteAndWait(*linker, args, std::nullopt, redirects, 0,
                                     0, &linkErr);
  if (rc == 0)
    return llvm::Error::success();
  std::string log;
  if (auto buf = llvm::MemoryBuffer::getFile(errFile->str()))
    log = (*buf)->getBuffer().str();
  return fail("linking the executable with " + *linker + " failed: " + linkErr +
              "\n" + log);
}

/// The parameter block: every weight converted to its storage type at its
/// offset, zeros between. (Kept apart from the rest of the payload: how
/// weights are laid out is the code generator's business.)
llvm::Error writeParams(llvm::raw_ostream &os, const ExecutableSpec &spec,
                        const Checkpoint &ckpt,
                        const std::atomic<bool> *cancel = nullptr) {
  std::vector<char> buf;
  uint64_t written = 0, lastPct = 0;
  uint64_t total = uint64_t(std::max<int64_t>(spec.paramsBytes, 0));
  // A quantized tensor has two entries (values and scales), usually side by
  // side: it is quantized once, and kept here until its last entry is
  // written.
  struct Quantized {
    std::optional<QuantizedMatrix> matrix;
    int pending = 0;
  };
  // Keyed by everything the quantization depends on.
  auto key = [](const PackedWeight &w) {
    return llvm::formatv("{0}x{1}/{2}/{3}:{4}", w.rows, w.cols, w.quantBits,
                         w.quantGroup, w.name)
        .str();
  };
  llvm::StringMap<Quantized> quantized;
  for (const PackedWeight &w : spec.weights)
    if (w.quantBits != 0)
      ++quantized[key(w)].pending;
  for (const PackedWeight &w : spec.weights) {
    if (cancel && cancel->load(std::memory_order_relaxed))
      return fail("cancelled");
    const TensorInfo &t = ckpt.tensor(w.name);
    uint64_t bytes = uint64_t(w.bytes);
    if (w.offset < 0 || uint64_t(w.offset) < written ||
        t.numElements() != w.elements ||
        ((w.panel > 0 || w.quantBits > 0) && w.rows * w.cols != w.elements) ||
        uint64_t(w.offset) > total || bytes > total - uint64_t(w.offset))
      return fail("internal error: the weight layout does not fit '" + w.name +
                  "'");
    writeZeros(os, w.offset - written);
    if (w.quantBits == 0) {
      if (llvm::Error err = encodeWeight(t, w, buf))
        return err;
    } else {
      std::string k = key(w);
      Quantized &q = quantized[k];
      if (!q.matrix) {
        llvm::Expected<QuantizedMatrix> m = quantizeWeight(t, w);
        if (!m)
          return m.takeError();
        q.matrix = std::move(*m);
      }
      if (llvm::Error err = encodeWeight(t, w, buf, &*q.matrix))
        return err;
      if (--q.pending == 0)
        quantized.erase(k);
    }
    os.write(buf.data(), buf.size());
    // The tensor is in the stream now: keep the compiler's RSS at one
    // tensor, not the whole mapped checkpoint.
    ckpt.releasePages(t);
    written = w.offset + buf.size();
    uint64_t pct = 100 * written / std::max<uint64_t>(total, 1);
    if (spec.showProgress && pct >= lastPct + 5) {
      llvm::errs() << llvm::formatv("\r[hymba-compile] packing weights {0,3}%",
                                    pct);
      lastPct = pct;
    }
  }
  if (spec.showProgress)
    llvm::errs() << "\r[hymba-compile] packing weights 100%\n";
  writeZeros(os, total - written);
  return llvm::Error::success();
}

/// The payload layout as JSON (see ExecutableSpec::layoutPath).
llvm::Error writeLayout(const ExecutableSpec &spec, const Checkpoint &ckpt,
                        llvm::StringRef program) {
  llvm::json::Array weights;
  for (const PackedWeight &w : spec.weights) {
    const TensorInfo &t = ckpt.tensor(w.name);
    weights.push_back(llvm::json::Object{{"name", w.name},
                                         {"offset", w.offset},
                                         {"elements", w.elements},
                                         {"shape", llvm::json::Array(t.shape)},
                                         {"storage", dtypeName(w.storage)},
                                         {"panel", w.panel},
                                         {"interleave", w.interleave},
                                         {"quant_bits", w.quantBits},
                                         {"quant_group", w.quantGroup},
                                         {"scales", w.scales},
                                         {"bytes", w.bytes},
                                         {"rows", w.rows},
                                         {"cols", w.cols}});
  }
  llvm::json::Object layout{
      {"program_bytes", int64_t(program.size())},
      {"program_sha256",
       llvm::toHex(llvm::SHA256::hash(llvm::arrayRefFromStringRef(program)),
                   /*LowerCase=*/true)},
      {"params_bytes", spec.paramsBytes},
      {"state_bytes", spec.stateBytes},
      {"metadata", spec.metadata},
      {"has_tokenizer", !ckpt.tokenizerPath().empty()},
      {"folded_meta", spec.foldedMeta},
      {"weights", std::move(weights)}};
  return writeOutputFile(spec.layoutPath, [&](llvm::raw_pwrite_stream &os) {
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(layout))) << "\n";
    return llvm::Error::success();
  });
}

/// Runs the finished program once to compute the meta-token prefix state.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
computePrefixState(const ExecutableSpec &spec, llvm::StringRef program) {
  llvm::Expected<TempPath> snapPath = TempPath::create("hymba-prefix", "state");
  if (!snapPath)
    return snapPath.takeError();
  if (spec.showProgress)
    llvm::errs() << "[hymba-compile] computing the meta-token prefix state\n";
  std::string runErr;
  llvm::StringRef runner =
      spec.prefixRunner.empty() ? program : llvm::StringRef(spec.prefixRunner);
  std::vector<llvm::StringRef> runArgs = {
      runner, "--hymba-internal-prefix-state", snapPath->str()};
  if (llvm::sys::ExecuteAndWait(runner, runArgs, std::nullopt, {}, 0, 0,
                                &runErr) != 0)
    return fail("computing the meta-token prefix state failed " + runErr);
  auto snap = llvm::MemoryBuffer::getFile(snapPath->str(), /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
  if (!snap || uint64_t((*snap)->getBufferSize()) != uint64_t(spec.stateBytes))
    return fail("the meta-token prefix state has the wrong size");
  return std::move(*snap);
}
} // namespace

llvm::Expected<std::string> mlir::hymba::findLinker() {
  for (const char *name : {"clang++-22", "clang++", "c++", "g++"})
    if (auto p = llvm::sys::findProgramByName(name))
      return *p;
  return fail("no C++ linker driver found (install clang-22 via "
              "scripts/setup.sh)");
}

void mlir::hymba::appendRuntimeLinkFlags(std::vector<llvm::StringRef> &args) {
#ifdef HYMBA_RUNTIME_LINK_FLAGS
  llvm::SmallVector<llvm::StringRef> sanitizer;
  llvm::StringRef(HYMBA_RUNTIME_LINK_FLAGS).split(sanitizer, ' ');
  args.insert(args.end(), sanitizer.begin(), sanitizer.end());
#endif
  // Every malloc of the model code is checked (ModelAllocation.cpp); --wrap
  // applies to the calls of what is being linked only.
  args.insert(args.end(), {"-Wl,--wrap=malloc", "-lm"});
}

void mlir::hymba::addModelFacts(mlir::ModuleOp llvmModule,
                                const ExecutableSpec &spec) {
  uint64_t facts[kNumModelFacts] = {};
  facts[kFactMagic] = kModelFactsMagic;
  facts[kFactParamsBytes] = uint64_t(spec.paramsBytes);
  facts[kFactStateBytes] = uint64_t(spec.stateBytes);
  facts[kFactMetadataHash] =
      payloadHash(spec.metadata.data(), spec.metadata.size());
  facts[kFactFlags] = spec.programFoldsMeta ? kFactFolded : 0;
  llvm::SmallVector<int64_t> values;
  for (uint64_t f : facts)
    values.push_back(int64_t(f));
  mlir::OpBuilder b(llvmModule.getContext());
  b.setInsertionPointToEnd(llvmModule.getBody());
  auto i64 = b.getI64Type();
  mlir::LLVM::GlobalOp::create(
      b, llvmModule.getLoc(),
      mlir::LLVM::LLVMArrayType::get(i64, values.size()),
      /*isConstant=*/true, mlir::LLVM::Linkage::External, kModelFactsSymbol,
      b.getI64TensorAttr(values));
}

std::vector<PackedWeight> mlir::hymba::collectWeights(mlir::ModuleOp module) {
  std::vector<PackedWeight> out;
  llvm::StringSet<llvm::MallocAllocator> seen;
  module.walk([&](mlir::hymba::WeightOp w) {
    if (!w.getOffset() || !seen.insert(w.getSlotName()).second)
      return;
    auto type = llvm::cast<mlir::RankedTensorType>(w.getResult().getType());
    PackedWeight pw;
    pw.name = w.getName().str();
    pw.offset = *w.getOffset();
    pw.bytes = mlir::hymba::storageBytes(type);
    pw.elements = type.getNumElements();
    pw.storage = type.getElementType().isBF16() ? DType::BF16 : DType::F32;
    if (type.getRank() == 2) {
      pw.rows = type.getDimSize(0);
      pw.cols = type.getDimSize(1);
    }
    if (mlir::hymba::PanelsAttr panels = mlir::hymba::getPanels(type)) {
      pw.panel = panels.getWidth();
      pw.interleave = panels.getInterleave();
    }
    // Both parts of a quantized tensor: its format is on the dequantize.
    for (mlir::Operation *user : w->getUsers()) {
      auto dq = llvm::dyn_cast<mlir::hymba::DequantizeOp>(user);
      if (!dq)
        continue;
      auto values = llvm::cast<mlir::RankedTensorType>(dq.getValues().getType());
      pw.quantBits = values.getElementType().getIntOrFloatBitWidth();
      pw.quantGroup = dq.getGroupSize();
      pw.scales = w.getScales();
      // The checkpoint tensor has the values' shape, not the scales'.
      pw.rows = values.getDimSize(0);
      pw.cols = values.getDimSize(1);
      pw.elements = values.getNumElements();
    }
    out.push_back(pw);
  });
  llvm::sort(out, [](const PackedWeight &a, const PackedWeight &b) {
    return a.offset < b.offset;
  });
  return out;
}

mlir::hymba::ParamsWriter::ParamsWriter(const ExecutableSpec &spec,
                                        const Checkpoint &checkpoint,
                                        llvm::sys::fs::TempFile file)
    : spec(spec), checkpoint(checkpoint), file(std::move(file)) {
  // The thread prints no progress: its lines would cut into the driver's.
  this->spec.showProgress = false;
}

llvm::Expected<std::unique_ptr<mlir::hymba::ParamsWriter>>
mlir::hymba::ParamsWriter::start(const ExecutableSpec &spec,
                                 const Checkpoint &checkpoint) {
  llvm::Expected<OutputTarget> target =
      resolveOutput(spec.outputPath, /*allowSpecial=*/false);
  if (!target)
    return target.takeError();
  llvm::Expected<llvm::sys::fs::TempFile> tmp =
      llvm::sys::fs::TempFile::create(target->path + ".tmp-%%%%%%", 0755);
  if (!tmp)
    return fail(spec.outputPath +
                ": cannot create: " + llvm::toString(tmp.takeError()));
  std::unique_ptr<ParamsWriter> writer(
      new ParamsWriter(spec, checkpoint, std::move(*tmp)));
  writer->thread = std::thread([w = writer.get()] { w->run(); });
  return std::move(writer);
}

void mlir::hymba::ParamsWriter::run() {
  mlir::TimingScope untimed;
  mlir::TimingScope timing =
      spec.timing ? spec.timing->nest("write the parameters (thread)")
                  : std::move(untimed);
  llvm::raw_fd_ostream os(file->FD, /*shouldClose=*/false);
  llvm::Error e = writeParams(os, spec, checkpoint, &cancel);
  llvm::Error w = finish(os, spec.outputPath);
  if (e)
    failure = llvm::toString(std::move(e));
  if (w && !failure)
    failure = llvm::toString(std::move(w));
  llvm::consumeError(std::move(w));
}

llvm::Error mlir::hymba::ParamsWriter::wait() {
  if (thread.joinable())
    thread.join();
  if (failure)
    return fail(*failure);
  return llvm::Error::success();
}

mlir::hymba::ParamsWriter::~ParamsWriter() {
  cancel = true;
  llvm::consumeError(wait());
  if (file) // a no-op once writeExecutable kept it
    llvm::consumeError(file->discard());
}

llvm::Error mlir::hymba::writeExecutable(const ExecutableSpec &spec,
                                         const Checkpoint &ckpt,
                                         ParamsWriter *params) {
  // An executable must be a regular file: it is made executable, run once
  // (folded meta tokens) and renamed into place.
  llvm::Expected<OutputTarget> target =
      resolveOutput(spec.outputPath, /*allowSpecial=*/false);
  if (!target)
    return target.takeError();

  mlir::TimingScope untimed;
  mlir::TimingScope &timing = spec.timing ? *spec.timing : untimed;
  mlir::TimingScope linking = timing.nest("link");
  llvm::Expected<TempPath> linked = TempPath::create("hymba-link", "exe");
  if (!linked)
    return linked.takeError();
  if (llvm::Error e = link(spec, linked->str()))
    return e;
  linking.stop();
  auto program = llvm::MemoryBuffer::getFile(linked->str(), /*IsText=*/false,
                                             /*RequiresNullTerminator=*/false);
  if (!program)
    return fail("cannot read the linked program: " +
                program.getError().message());
  uint64_t programBytes = (*program)->getBufferSize();
  uint64_t paramsOffset = (programBytes + kPayloadAlignment - 1) /
                          kPayloadAlignment * kPayloadAlignment;
  // The linked program, then the payload, written to a temporary file (O_EXCL,
  // random name, beside the output; removed on errors and signals) that only
  // becomes the output when complete.
  std::optional<llvm::sys::fs::TempFile> ownTmp;
  llvm::sys::fs::TempFile *tmp = nullptr;
  // The parameter block is already in the file, after the program's place.
  bool paramsWritten = false;
  if (params) {
    mlir::TimingScope waiting = timing.nest("wait for the parameters");
    if (llvm::Error e = params->wait())
      return e;
    tmp = &*params->file;
    // Moves the block's extents up by the program's pages; where the file
    // system cannot (tmpfs, ...), the block is written again instead.
    if (::fallocate(tmp->FD, FALLOC_FL_INSERT_RANGE, 0, off_t(paramsOffset)) ==
        0)
      paramsWritten = true;
    else if (::ftruncate(tmp->FD, 0) != 0)
      return fail(spec.outputPath + ": cannot write: " + std::strerror(errno));
    if (::lseek(tmp->FD, 0, SEEK_SET) != 0)
      return fail(spec.outputPath + ": cannot write: " + std::strerror(errno));
  } else {
    llvm::Expected<llvm::sys::fs::TempFile> created =
        llvm::sys::fs::TempFile::create(target->path + ".tmp-%%%%%%", 0755);
    if (!created)
      return fail(spec.outputPath +
                  ": cannot create: " + llvm::toString(created.takeError()));
    ownTmp.emplace(std::move(*created));
    tmp = &*ownTmp;
  }
  // Whichever owns it, it is discarded on every error path below (a no-op
  // once kept).
  llvm::scope_exit discardTmp([&] { llvm::consumeError(tmp->discard()); });
  PayloadTrailer tr{};
  std::memcpy(tr.magic, kPayloadMagic, sizeof(tr.magic));
  llvm::Error e = llvm::Error::success();
  uint64_t pos = 0;
  {
    mlir::TimingScope writing = timing.nest("write the payload");
    llvm::raw_fd_ostream os(tmp->FD, /*shouldClose=*/false);
    os << (*program)->getBuffer();
    writeZeros(os, paramsOffset - programBytes);
    pos = paramsOffset;
    tr.paramsOffset = pos;
    tr.paramsBytes = spec.paramsBytes;
    if (paramsWritten)
      os.seek(pos + spec.paramsBytes);
    else
      e = writeParams(os, spec, ckpt);
    pos += spec.paramsBytes;
    tr.tokenizerOffset = pos;
    // The tokenizer as Checkpoint::open checked it (re-reading the path
    // could find another file).
    os << ckpt.tokenizerData();
    tr.tokenizerBytes = ckpt.tokenizerData().size();
    pos += tr.tokenizerBytes;
    tr.metadataOffset = pos;
    tr.metadataBytes = spec.metadata.size();
    os << spec.metadata;
    pos += spec.metadata.size();
    tr.stateBytes = spec.stateBytes;
    os.write(reinterpret_cast<const char *>(&tr), sizeof(tr));
    pos += sizeof(tr);
    llvm::Error w = finish(os, spec.outputPath);
    if (!e)
      e = std::move(w);
    else
      llvm::consumeError(std::move(w));
  }
  if (e)
    return e;

  if (spec.foldedMeta) {
    // Folded meta tokens: the program is complete, so run it once to
    // compute the prefix state (it cannot run while open for writing: keep
    // it under its unpredictable temporary name, still removed on errors and
    // signals), then append the state and a trailer that points at it.
    std::string staging = tmp->TmpName;
    if (llvm::Error k = tmp->keep())
      return fail(spec.outputPath +
                  ": cannot write: " + llvm::toString(std::move(k)));
    llvm::sys::RemoveFileOnSignal(staging);
    llvm::scope_exit removeStaging([&] {
      if (!staging.empty()) {
        llvm::sys::fs::remove(staging);
        llvm::sys::DontRemoveFileOnSignal(staging);
      }
    });
    mlir::TimingScope prefixTiming = timing.nest("compute the meta prefix");
    llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> snap =
        computePrefixState(spec, staging);
    prefixTiming.stop();
    if (!snap)
      return snap.takeError();
    int fd =
        ::open(staging.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return fail(staging + ": cannot reopen: " + std::strerror(errno));
    llvm::raw_fd_ostream app(fd, /*shouldClose=*/true);
    tr.stateSnapshotOffset = pos;
    tr.stateSnapshotBytes = (*snap)->getBufferSize();
    app << (*snap)->getBuffer();
    pos += tr.stateSnapshotBytes;
    tr.metadataOffset = pos;
    app << spec.metadata;
    app.write(reinterpret_cast<const char *>(&tr), sizeof(tr));
    if (llvm::Error w = finish(app, spec.outputPath))
      return w;
    app.close();
    if (std::error_code ec = llvm::sys::fs::rename(staging, target->path))
      return fail(spec.outputPath + ": cannot write: " + ec.message());
    llvm::sys::DontRemoveFileOnSignal(staging);
    staging.clear();
  } else if (llvm::Error k = tmp->keep(target->path)) {
    return fail(spec.outputPath +
                ": cannot write: " + llvm::toString(std::move(k)));
  }
  if (!spec.layoutPath.empty())
    return writeLayout(spec, ckpt, (*program)->getBuffer());
  return llvm::Error::success();
}
