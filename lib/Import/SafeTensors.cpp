//===- SafeTensors.cpp - Validating safetensors reader --------------------===//
#include "hymba/Import/SafeTensors.h"
#include "hymba/Import/InputFile.h"
#include "hymba/Import/JsonInteger.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <sys/mman.h>
#include <unistd.h>

using namespace mlir::hymba;

namespace {
/// Headers of real checkpoints are a few hundred KB; anything past this is
/// corruption, not a model.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
/// Bounds on a tensor's dimensions and elements: products of them cannot
/// overflow 64 bits, and a larger tensor would not fit any machine.
constexpr int64_t kMaxDim = int64_t(1) << 40;
constexpr int64_t kMaxElements = int64_t(1) << 40;

std::string render(const llvm::json::Array &a) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::json::Value(llvm::json::Array(a));
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

llvm::Error fail(llvm::StringRef path, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + msg);
}
} // namespace

llvm::StringRef mlir::hymba::dtypeName(DType t) {
  switch (t) {
  case DType::F32:
    return "F32";
  case DType::F16:
    return "F16";
  case DType::BF16:
    return "BF16";
  }
  llvm_unreachable("unknown dtype");
}

int64_t mlir::hymba::dtypeBytes(DType t) { return t == DType::F32 ? 4 : 2; }

int64_t TensorInfo::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

bool SafeTensorsFile::holds(const TensorInfo &t) const {
  llvm::StringRef bytes = buffer->getBuffer();
  return t.data >= bytes.begin() && t.data < bytes.end();
}

void SafeTensorsFile::releasePages(const TensorInfo &t) const {
  // Only a read-only file mapping may drop pages: anonymous memory would
  // lose its contents.
  if (buffer->getBufferKind() != llvm::MemoryBuffer::MemoryBuffer_MMap ||
      !holds(t))
    return;
  uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  uintptr_t begin = uintptr_t(t.data) / page * page;
  uintptr_t end = uintptr_t(t.data) + uintptr_t(t.numBytes);
  end = (end + page - 1) / page * page;
  // Pages shared with a neighbouring tensor are dropped too; reading that
  // tensor maps them again.
  (void)madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
}

llvm::Expected<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::open(llvm::StringRef path) {
  // Large files are mapped, so opening a 3 GB checkpoint costs no copy.
  auto buf = readRegularFile(path);
  if (!buf)
    return buf.takeError();
  return parse(std::move(*buf), path);
}

llvm::Expected<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::parse(std::unique_ptr<llvm::MemoryBuffer> buf,
                       llvm::StringRef path) {
  auto file = std::make_unique<SafeTensorsFile>();
  file->buffer = std::move(buf);
  llvm::StringRef bytes = file->buffer->getBuffer();
  if (bytes.size() < 8)
    return fail(path, llvm::formatv("file is {0} bytes, too short for a "
                                    "safetensors header",
                                    bytes.size()));
  uint64_t headerLen = llvm::support::endian::read64le(
      reinterpret_cast<const uint8_t *>(bytes.data()));
  if (headerLen > kMaxHeaderBytes)
    return fail(path, llvm::formatv("header length {0} is absurd (limit {1}); "
                                    "not a safetensors file?",
                                    headerLen, kMaxHeaderBytes));
  if (headerLen > bytes.size() - 8)
    return fail(path, llvm::formatv("header length {0} runs past the end of "
                                    "the {1}-byte file (truncated?)",
                                    headerLen, bytes.size()));
  llvm::StringRef headerText = bytes.substr(8, headerLen);
  uint64_t dataStart = 8 + headerLen;
  uint64_t dataSize = bytes.size() - dataStart;

  llvm::Expected<llvm::json::Value> header = llvm::json::parse(headerText);
  if (!header)
    return fail(path, "header is not valid JSON: " +
                          llvm::toString(header.takeError()));
  const llvm::json::Object *obj = header->getAsObject();
  if (!obj)
    return fail(path, "header is not a JSON object");

  struct Span {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Span> spans;
  for (const auto &kv : *obj) {
    llvm::StringRef name = kv.first;
    if (name == "__metadata__")
      continue;
    auto bad = [&](const llvm::Twine &msg) {
      return fail(path, "tensor '" + name + "': " + msg);
    };
    const llvm::json::Object *t = kv.second.getAsObject();
    if (!t)
      return bad("entry is not an object");
    std::optional<llvm::StringRef> dt = t->getString("dtype");
    if (!dt)
      return bad("missing 'dtype'");
    TensorInfo info;
    info.name = name.str();
    info.file = path.str();
    if (*dt == "F32")
      info.dtype = DType::F32;
    else if (*dt == "F16")
      info.dtype = DType::F16;
    else if (*dt == "BF16")
      info.dtype = DType::BF16;
    else
      return bad("unknown or unsupported dtype '" + *dt +
                 "' (expected BF16, F16 or F32)");
    const llvm::json::Array *shape = t->getArray("shape");
    if (!shape)
      return bad("missing 'shape' list");
    // Overflow-checked: [2^32, 2^32] must not wrap to 0 elements.
    int64_t elements = 1;
    for (const llvm::json::Value &d : *shape) {
      std::optional<int64_t> e = jsonInteger(d);
      if (!e || *e < 0 || *e > kMaxDim)
        return bad(llvm::formatv("shape entries must be integers in [0, {0}]",
                                 kMaxDim));
      if (__builtin_mul_overflow(elements, *e, &elements) ||
          elements > kMaxElements)
        return bad(llvm::formatv("shape {0} has more than {1} elements",
                                 render(*shape), kMaxElements));
      info.shape.push_back(*e);
    }
    if (elements == 0)
      return bad("shape " + render(*shape) +
                 " has no elements (no Hymba tensor is empty)");
    const llvm::json::Array *offs = t->getArray("data_offsets");
    std::optional<int64_t> begin, end;
    if (offs && offs->size() == 2) {
      begin = jsonInteger((*offs)[0]);
      end = jsonInteger((*offs)[1]);
    }
    if (!begin || !end || *begin < 0 || *end < 0)
      return bad("'data_offsets' must be two non-negative integers");
    if (*begin > *end)
      return bad(
          llvm::formatv("data_offsets [{0}, {1}] are reversed", *begin, *end));
    if (uint64_t(*end) > dataSize)
      return bad(llvm::formatv("data_offsets [{0}, {1}] run past the {2} data "
                               "bytes of the file (truncated?)",
                               *begin, *end, dataSize));
    int64_t expectBytes = elements * dtypeBytes(info.dtype); // < 2^43
    if (*end - *begin != expectBytes)
      return bad(llvm::formatv("holds {0} bytes but shape x {1} needs {2}",
                               *end - *begin, dtypeName(info.dtype),
                               expectBytes));
    info.data = bytes.data() + dataStart + *begin;
    info.numBytes = expectBytes;
    spans.push_back({uint64_t(*begin), uint64_t(*end), file->infos.size()});
    file->infos.push_back(std::move(info));
  }
  llvm::sort(spans, [](const Span &a, const Span &b) {
    return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
  });
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].begin < spans[i - 1].end)
      return fail(path, "tensors '" + file->infos[spans[i - 1].index].name +
                            "' and '" + file->infos[spans[i].index].name +
                            "' have overlapping data_offsets");
  return std::move(file);
}
