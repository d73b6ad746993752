//===- ExecutableWriter.cpp - Link model code and append payload ----------===//
#include "hymba/Codegen/ExecutableWriter.h"
#include "hymba/Dialect/HymbaOps.h"
#include "hymba/Runtime/Payload.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace hymba;

namespace {
llvm::Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

float bf16ToF32(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float f16ToF32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f,
           mant = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000 | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else { // subnormal: normalise
    int e = -1;
    do {
      mant <<= 1;
      ++e;
    } while (!(mant & 0x400));
    bits = sign | uint32_t(112 - e) << 23 | ((mant & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32ToBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffff) > 0x7f800000) // NaN stays NaN
    return uint16_t((bits >> 16) | 0x40);
  return uint16_t((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

/// Appends `info`'s values converted to `to` (exact when widening).
void convertInto(const TensorInfo &info, DType to, std::vector<char> &out) {
  int64_t n = info.numElements();
  out.resize(size_t(n) * dtypeBytes(to));
  if (info.dtype == to) {
    std::memcpy(out.data(), info.data, out.size());
    return;
  }
  auto srcAt = [&](int64_t i) -> float {
    if (info.dtype == DType::F32) {
      float f;
      std::memcpy(&f, info.data + 4 * i, 4);
      return f;
    }
    uint16_t h;
    std::memcpy(&h, info.data + 2 * i, 2);
    return info.dtype == DType::BF16 ? bf16ToF32(h) : f16ToF32(h);
  };
  if (to == DType::F32) {
    float *dst = reinterpret_cast<float *>(out.data());
    for (int64_t i = 0; i < n; ++i)
      dst[i] = srcAt(i);
  } else {
    uint16_t *dst = reinterpret_cast<uint16_t *>(out.data());
    for (int64_t i = 0; i < n; ++i)
      dst[i] = f32ToBF16(srcAt(i));
  }
}

/// `out` holds a [rows, cols] matrix of `bytes`-sized elements; rearranges
/// it into panels of `panel` rows (element (r, c) at [r / panel][c][r %
/// panel]) with the last panel zero-padded.
void packPanels(std::vector<char> &out, int64_t rows, int64_t cols,
                int64_t panel, size_t bytes) {
  int64_t panels = (rows + panel - 1) / panel;
  std::vector<char> packed(size_t(panels * panel * cols) * bytes, 0);
  for (int64_t r = 0; r < rows; ++r) {
    const char *src = out.data() + size_t(r * cols) * bytes;
    char *dst = packed.data() + size_t((r / panel) * cols * panel + r % panel) *
                                    bytes;
    for (int64_t c = 0; c < cols; ++c)
      std::memcpy(dst + size_t(c * panel) * bytes, src + size_t(c) * bytes,
                  bytes);
  }
  out.swap(packed);
}

llvm::Error writeZeros(llvm::raw_ostream &os, uint64_t n) {
  static const char zeros[4096] = {};
  while (n) {
    uint64_t k = std::min<uint64_t>(n, sizeof(zeros));
    os.write(zeros, k);
    n -= k;
  }
  return llvm::Error::success();
}

llvm::Expected<std::string> findLinker() {
  for (const char *name : {"clang++-22", "clang++", "c++", "g++"})
    if (auto p = llvm::sys::findProgramByName(name))
      return *p;
  return fail("no C++ linker driver found (install clang-22 via "
              "scripts/setup.sh)");
}
} // namespace

namespace {
/// The payload layout as JSON (see ExecutableSpec::layoutPath).
llvm::Error writeLayout(const hymba::ExecutableSpec &spec,
                        uint64_t programBytes, bool hasTokenizer) {
  llvm::json::Array weights;
  for (const hymba::PackedWeight &w : spec.weights)
    weights.push_back(
        llvm::json::Object{{"name", w.name},
                           {"offset", w.offset},
                           {"elements", w.elements},
                           {"storage", hymba::dtypeName(w.storage)},
                           {"panel", w.panel},
                           {"rows", w.rows},
                           {"cols", w.cols}});
  llvm::json::Object layout{{"program_bytes", int64_t(programBytes)},
                            {"params_bytes", spec.paramsBytes},
                            {"state_bytes", spec.stateBytes},
                            {"metadata", spec.metadata},
                            {"has_tokenizer", hasTokenizer},
                            {"folded_meta", spec.foldedMeta},
                            {"weights", std::move(weights)}};
  std::error_code ec;
  llvm::raw_fd_ostream os(spec.layoutPath, ec);
  if (ec)
    return fail(spec.layoutPath + ": " + ec.message());
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(layout))) << "\n";
  return llvm::Error::success();
}
} // namespace

int64_t PackedWeight::storageBytes() const {
  int64_t padded = panel > 0 ? (rows + panel - 1) / panel * panel * cols
                             : elements;
  return padded * int64_t(dtypeBytes(storage));
}

std::vector<PackedWeight> hymba::collectWeights(mlir::ModuleOp module) {
  std::vector<PackedWeight> out;
  llvm::StringSet<llvm::MallocAllocator> seen;
  module.walk([&](mlir::hymba::WeightOp w) {
    if (!w.getOffset() || !seen.insert(w.getName()).second)
      return;
    auto type = llvm::cast<mlir::RankedTensorType>(w.getResult().getType());
    PackedWeight pw;
    pw.name = w.getName().str();
    pw.offset = *w.getOffset();
    pw.elements = type.getNumElements();
    pw.storage = type.getElementType().isBF16() ? DType::BF16 : DType::F32;
    if (mlir::hymba::PanelsAttr panels = mlir::hymba::getPanels(type)) {
      pw.panel = panels.getWidth();
      pw.rows = type.getDimSize(0);
      pw.cols = type.getDimSize(1);
    }
    out.push_back(pw);
  });
  llvm::sort(out, [](const PackedWeight &a, const PackedWeight &b) {
    return a.offset < b.offset;
  });
  return out;
}

llvm::Error hymba::writeExecutable(const ExecutableSpec &spec,
                                   const Checkpoint &ckpt) {
  llvm::Expected<std::string> linker = findLinker();
  if (!linker)
    return linker.takeError();
  llvm::SmallString<128> linked;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("hymba-link", "exe", linked))
    return fail("cannot create a temporary file: " + ec.message());
  llvm::FileRemover removeLinked(linked);

  // Link: the generated object + the runtime (+ its SentencePiece and libm).
  std::vector<llvm::StringRef> args = {*linker, spec.objectPath,
                                       spec.runtimeLib, "-lsentencepiece"};
  for (const std::string &lib : spec.linkLibs)
    args.push_back(lib);
  args.insert(args.end(), {"-lm", "-o", linked});
  std::string linkErr;
  llvm::SmallString<128> errFile;
  llvm::sys::fs::createTemporaryFile("hymba-link", "log", errFile);
  llvm::FileRemover removeErr(errFile);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, errFile, errFile};
  int rc = llvm::sys::ExecuteAndWait(*linker, args, std::nullopt, redirects, 0,
                                     0, &linkErr);
  if (rc != 0) {
    std::string log;
    if (auto buf = llvm::MemoryBuffer::getFile(errFile))
      log = (*buf)->getBuffer().str();
    return fail("linking the executable with " + *linker +
                " failed: " + linkErr + "\n" + log);
  }

  // Output: the linked program, then the payload, written to a temporary
  // file that only becomes `outputPath` when complete.
  llvm::Expected<llvm::sys::fs::TempFile> tmp =
      llvm::sys::fs::TempFile::create(spec.outputPath + ".tmp-%%%%%%", 0755);
  if (!tmp)
    return fail(spec.outputPath +
                ": cannot create: " + llvm::toString(tmp.takeError()));
  auto discard = [&](llvm::Error e) {
    llvm::consumeError(tmp->discard());
    return e;
  };
  llvm::raw_fd_ostream os(tmp->FD, /*shouldClose=*/false);
  auto program = llvm::MemoryBuffer::getFile(linked);
  if (!program)
    return discard(fail("cannot read the linked program"));
  os << (*program)->getBuffer();
  uint64_t pos = (*program)->getBufferSize();
  if (!spec.layoutPath.empty())
    if (llvm::Error e = writeLayout(spec, pos, !ckpt.tokenizerPath().empty()))
      return discard(std::move(e));
  auto padTo = [&](uint64_t align) {
    uint64_t pad = (align - pos % align) % align;
    (void)writeZeros(os, pad);
    pos += pad;
  };

  PayloadTrailer tr{};
  padTo(kPayloadAlignment);
  tr.paramsOffset = pos;
  tr.paramsBytes = spec.paramsBytes;
  std::vector<char> buf;
  uint64_t written = 0, lastPct = 0;
  for (const PackedWeight &w : spec.weights) {
    if (uint64_t(w.offset) < written)
      return discard(fail("internal error: overlapping weight layout"));
    (void)writeZeros(os, w.offset - written);
    convertInto(ckpt.tensor(w.name), w.storage, buf);
    if (w.panel > 0)
      packPanels(buf, w.rows, w.cols, w.panel, dtypeBytes(w.storage));
    os.write(buf.data(), buf.size());
    written = w.offset + buf.size();
    uint64_t pct = 100 * written / std::max<int64_t>(spec.paramsBytes, 1);
    if (spec.showProgress && pct >= lastPct + 5) {
      llvm::errs() << llvm::formatv("\r[hymba-compile] packing weights {0,3}%",
                                    pct);
      lastPct = pct;
    }
  }
  if (spec.showProgress)
    llvm::errs() << "\r[hymba-compile] packing weights 100%\n";
  (void)writeZeros(os, spec.paramsBytes - written);
  pos += spec.paramsBytes;

  tr.tokenizerOffset = pos;
  if (!ckpt.tokenizerPath().empty()) {
    auto tok = llvm::MemoryBuffer::getFile(ckpt.tokenizerPath());
    if (!tok)
      return discard(fail(ckpt.tokenizerPath() +
                          ": cannot read: " + tok.getError().message()));
    os << (*tok)->getBuffer();
    tr.tokenizerBytes = (*tok)->getBufferSize();
    pos += tr.tokenizerBytes;
  }
  tr.metadataOffset = pos;
  tr.metadataBytes = spec.metadata.size();
  os << spec.metadata;
  pos += spec.metadata.size();
  tr.stateBytes = spec.stateBytes;
  std::memcpy(tr.magic, kPayloadMagic, sizeof(tr.magic));
  os.write(reinterpret_cast<const char *>(&tr), sizeof(tr));
  pos += sizeof(tr);
  os.flush();
  if (os.has_error())
    return discard(
        fail(spec.outputPath + ": write failed: " + os.error().message()));

  if (!spec.foldedMeta) {
    if (llvm::Error e = tmp->keep(spec.outputPath))
      return fail(spec.outputPath +
                  ": cannot write: " + llvm::toString(std::move(e)));
    return llvm::Error::success();
  }

  // Folded meta tokens: the program is complete, so run it once (it cannot
  // run while open for writing: close it under a staging name) to compute
  // the prefix state, then append the state and a trailer that points at it.
  std::string staging = tmp->TmpName + ".run";
  if (llvm::Error e = tmp->keep(staging))
    return fail(staging + ": cannot write: " + llvm::toString(std::move(e)));
  llvm::FileRemover removeStaging(staging);
  llvm::SmallString<128> snapPath;
  llvm::sys::fs::createTemporaryFile("hymba-prefix", "state", snapPath);
  llvm::FileRemover removeSnap(snapPath);
  if (spec.showProgress)
    llvm::errs() << "[hymba-compile] computing the meta-token prefix state\n";
  std::string runErr;
  std::string runner = spec.prefixRunner.empty() ? staging : spec.prefixRunner;
  std::vector<llvm::StringRef> runArgs = {
      runner, "--hymba-internal-prefix-state", snapPath};
  if (llvm::sys::ExecuteAndWait(runner, runArgs, std::nullopt, {}, 0, 0,
                                &runErr) != 0)
    return fail("computing the meta-token prefix state failed " + runErr);
  auto snap = llvm::MemoryBuffer::getFile(snapPath);
  if (!snap || uint64_t((*snap)->getBufferSize()) != tr.stateBytes)
    return fail("the meta-token prefix state has the wrong size");
  {
    std::error_code ec;
    llvm::raw_fd_ostream app(staging, ec, llvm::sys::fs::OF_Append);
    if (ec)
      return fail(staging + ": " + ec.message());
    tr.stateSnapshotOffset = pos;
    tr.stateSnapshotBytes = (*snap)->getBufferSize();
    app << (*snap)->getBuffer();
    pos += tr.stateSnapshotBytes;
    tr.metadataOffset = pos;
    app << spec.metadata;
    app.write(reinterpret_cast<const char *>(&tr), sizeof(tr));
    app.close();
    if (app.has_error())
      return fail(spec.outputPath + ": write failed: " + app.error().message());
  }
  if (std::error_code ec = llvm::sys::fs::rename(staging, spec.outputPath))
    return fail(spec.outputPath + ": cannot write: " + ec.message());
  removeStaging.releaseFile();
  return llvm::Error::success();
}
