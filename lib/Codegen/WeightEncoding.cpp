//===- WeightEncoding.cpp - Checkpoint tensors to parameter bytes ---------===//
//
// See WeightEncoding.h. Everything here runs once per tensor at compile time,
// so it favours being obviously right over being fast.
//
//===----------------------------------------------------------------------===//

#include "hymba/Codegen/WeightEncoding.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir::hymba;

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

/// Round to nearest even (the checkpoint conversion of --dtype=bf16).
uint16_t f32ToBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffff) > 0x7f800000) // NaN stays NaN
    return uint16_t((bits >> 16) | 0x40);
  return uint16_t((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

/// The bf16 of smallest magnitude that is at least |d| in magnitude, with
/// d's sign: a scale that never makes a group's extreme value overflow.
uint16_t bf16AwayFromZero(double d) {
  double mag = std::fabs(d);
  float f = float(mag);
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits &= 0xffff0000u; // truncate: <= f
  if (double(bf16ToF32(uint16_t(bits >> 16))) < mag)
    bits += 0x10000u;
  return uint16_t(bits >> 16) | (d < 0 ? 0x8000 : 0);
}

/// Rearranges a [rows, cols] matrix of `Bytes`-sized elements, whose row r
/// is at `rowAt(r)`, into panels of `panel` rows with the columns in groups
/// of `interleave` (element (r, c) at [r / panel][c / interleave][r % panel]
/// [c % interleave]; interleave 1: [r / panel][c][r % panel]), the last
/// panel and column group zero-padded, into `out`. The element size is a
/// template argument so that each copy is one load and store, not a memcpy
/// call (1.5B: ~2 s saved). `out` keeps its storage when it is large enough,
/// so a caller that reuses it does not fault in fresh pages for every
/// tensor; every byte is written, padding included.
template <size_t Bytes, typename RowAt>
void packPanelsOf(RowAt rowAt, int64_t rows, int64_t cols, int64_t panel,
                  int64_t interleave, std::vector<char> &out) {
  int64_t panels = (rows + panel - 1) / panel;
  int64_t padded = (cols + interleave - 1) / interleave * interleave;
  out.resize(size_t(panels * panel * padded) * Bytes);
  for (int64_t r = 0; r < panels * panel; ++r) {
    const char *row = r < rows ? rowAt(r) : nullptr;
    char *dst = out.data() + size_t((r / panel) * padded * panel +
                                    (r % panel) * interleave) *
                                 Bytes;
    for (int64_t c = 0; c < padded; ++c) {
      char *at = dst + size_t((c / interleave) * panel * interleave +
                              c % interleave) *
                           Bytes;
      if (row && c < cols)
        std::memcpy(at, row + size_t(c) * Bytes, Bytes);
      else
        std::memset(at, 0, Bytes);
    }
  }
}

template <typename RowAt>
void packPanelsWith(RowAt rowAt, int64_t rows, int64_t cols, int64_t panel,
                    int64_t interleave, size_t bytes, std::vector<char> &out) {
  switch (bytes) {
  case 1:
    return packPanelsOf<1>(rowAt, rows, cols, panel, interleave, out);
  case 2:
    return packPanelsOf<2>(rowAt, rows, cols, panel, interleave, out);
  default:
    return packPanelsOf<4>(rowAt, rows, cols, panel, interleave, out);
  }
}

/// Panels of the row-major matrix at `src`.
void packPanels(const char *src, int64_t rows, int64_t cols, int64_t panel,
                int64_t interleave, size_t bytes, std::vector<char> &out) {
  packPanelsWith([&](int64_t r) { return src + size_t(r * cols) * bytes; },
                 rows, cols, panel, interleave, bytes, out);
}

/// Element i of a checkpoint tensor as f32 (exact for F16/BF16 sources).
float elementAsF32(const TensorInfo &info, int64_t i) {
  if (info.dtype == DType::F32) {
    float f;
    std::memcpy(&f, info.data + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, info.data + 2 * i, 2);
  return info.dtype == DType::BF16 ? bf16ToF32(h) : f16ToF32(h);
}

/// Elements [begin, begin + n) of a checkpoint tensor in storage type `to`
/// (F32, or BF16 rounded to nearest even) at `dst`.
void convertElements(const TensorInfo &info, int64_t begin, int64_t n, DType to,
                     char *dst) {
  for (int64_t i = 0; i < n; ++i) {
    float f = elementAsF32(info, begin + i);
    if (to == DType::F32) {
      std::memcpy(dst + 4 * i, &f, 4);
    } else {
      uint16_t h = f32ToBF16(f);
      std::memcpy(dst + 2 * i, &h, 2);
    }
  }
}

/// i4 values two per byte (see storageType in HymbaDialect.cpp): without
/// panels, row-major elements 2i (low nibble) and 2i + 1 in byte i; a panel
/// row of width W holds lanes j (low) and j + W/2 in byte j; interleaved by
/// F, byte [p][c / F][j][c % F] holds input c of lanes j and j + W/2.
std::vector<char> packNibbles(const std::vector<int8_t> &q, int64_t rows,
                              int64_t cols, int64_t panel,
                              int64_t interleave) {
  auto at = [&](int64_t r, int64_t c) -> uint8_t {
    return r < rows && c < cols ? uint8_t(q[size_t(r * cols + c)]) & 0xf : 0;
  };
  std::vector<char> out;
  if (panel == 0) {
    int64_t n = rows * cols;
    out.assign(size_t((n + 1) / 2), 0);
    for (int64_t i = 0; i < n; ++i)
      out[size_t(i / 2)] |= char((uint8_t(q[size_t(i)]) & 0xf) << (4 * (i % 2)));
    return out;
  }
  int64_t panels = (rows + panel - 1) / panel, half = panel / 2;
  int64_t f = interleave, runs = (cols + f - 1) / f;
  out.resize(size_t(panels * runs * half * f));
  char *dst = out.data();
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t run = 0; run < runs; ++run)
      for (int64_t j = 0; j < half; ++j)
        for (int64_t c = run * f; c < run * f + f; ++c)
          *dst++ =
              char(at(p * panel + j, c) | at(p * panel + j + half, c) << 4);
  return out;
}
} // namespace

namespace {
/// nearbyint(x) in the default rounding mode (to nearest, ties to even)
/// without a libm call: for |x| < 2^51, adding 1.5 * 2^52 leaves no
/// fraction bits, so the add itself rounds x to an integer, as nearbyint
/// does, and the subtraction is exact. (The quantizer rounds a value per
/// weight: 1.5G calls of nearbyint cost seconds.)
double roundToNearestEven(double x) {
  constexpr double kMagic = 6755399441055744.0; // 1.5 * 2^52
  if (!(std::fabs(x) < 0x1p51))
    return std::nearbyint(x);
  return (x + kMagic) - kMagic;
}

/// quantizeMatrix over rows given by `rowAt(r)` (cols floats each).
template <typename RowAt>
QuantizedMatrix quantizeRows(RowAt rowAt, int64_t rows, int64_t cols,
                             int64_t bits, int64_t group) {
  int64_t groups = (cols + group - 1) / group;
  double qmin = bits == 4 ? -8 : -127, qmax = bits == 4 ? 7 : 127;
  QuantizedMatrix out;
  out.values.resize(size_t(rows * cols));
  out.scales.resize(size_t(rows * groups));
  for (int64_t r = 0; r < rows; ++r) {
    const float *w = rowAt(r);
    for (int64_t g = 0; g < groups; ++g) {
      int64_t begin = g * group, end = std::min(cols, begin + group);
      // The value of largest magnitude, the first one on ties.
      double extreme = 0;
      for (int64_t c = begin; c < end; ++c)
        if (std::fabs(double(w[c])) > std::fabs(extreme))
          extreme = w[c];
      double d = bits == 4 ? extreme / -8.0 : std::fabs(extreme) / 127.0;
      uint16_t s = bf16AwayFromZero(d);
      out.scales[size_t(r * groups + g)] = s;
      double scale = bf16ToF32(s);
      for (int64_t c = begin; c < end; ++c) {
        double q = scale == 0 ? 0 : roundToNearestEven(double(w[c]) / scale);
        out.values[size_t(r * cols + c)] =
            int8_t(std::clamp(q, qmin, qmax));
      }
    }
  }
  return out;
}
} // namespace

QuantizedMatrix mlir::hymba::quantizeMatrix(const std::vector<float> &m,
                                            int64_t rows, int64_t cols,
                                            int64_t bits, int64_t group) {
  return quantizeRows([&](int64_t r) { return m.data() + r * cols; }, rows,
                      cols, bits, group);
}

namespace {
/// One part (values or scales) of a quantized tensor, laid out as `w` says.
void quantizedPart(const QuantizedMatrix &q, const PackedWeight &w,
                   std::vector<char> &out) {
  int64_t groups = (w.cols + w.quantGroup - 1) / w.quantGroup;
  if (w.scales) {
    const char *src = reinterpret_cast<const char *>(q.scales.data());
    if (w.panel > 0)
      packPanels(src, w.rows, groups, w.panel, 1, 2, out);
    else
      out.assign(src, src + q.scales.size() * 2);
  } else if (w.quantBits == 4) {
    out = packNibbles(q.values, w.rows, w.cols, w.panel, w.interleave);
  } else {
    const char *src = reinterpret_cast<const char *>(q.values.data());
    if (w.panel > 0)
      packPanels(src, w.rows, w.cols, w.panel, w.interleave, 1, out);
    else
      out.assign(src, src + q.values.size());
  }
}

/// The parameter bytes of an unquantized tensor.
void plainWeight(const TensorInfo &info, const PackedWeight &w,
                 std::vector<char> &out) {
  size_t bytes = size_t(dtypeBytes(w.storage));
  // A tensor already in its storage type is laid out straight from the
  // checkpoint.
  if (info.dtype == w.storage) {
    if (w.panel > 0)
      packPanels(info.data, w.rows, w.cols, w.panel, w.interleave, bytes, out);
    else
      out.assign(info.data, info.data + info.numBytes);
    return;
  }
  // Converted a row at a time, straight into place: no f32 copy of the
  // whole tensor.
  if (w.panel == 0) {
    out.resize(size_t(info.numElements()) * bytes);
    convertElements(info, 0, info.numElements(), w.storage, out.data());
    return;
  }
  std::vector<char> row(size_t(w.cols) * bytes);
  packPanelsWith(
      [&](int64_t r) {
        convertElements(info, r * w.cols, w.cols, w.storage, row.data());
        return row.data();
      },
      w.rows, w.cols, w.panel, w.interleave, bytes, out);
}
} // namespace

llvm::Expected<QuantizedMatrix>
mlir::hymba::quantizeWeight(const TensorInfo &info, const PackedWeight &w) {
  // Every value is checked before any is quantized; then each row is
  // widened to f32 as it is quantized (no f32 copy of the whole tensor).
  int64_t n = info.numElements();
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(elementAsF32(info, i)))
      return fail("tensor '" + w.name +
                  "' holds a non-finite value (inf or NaN), which cannot "
                  "be quantized");
  std::vector<float> row(size_t(w.cols));
  return quantizeRows(
      [&](int64_t r) {
        convertElements(info, r * w.cols, w.cols, DType::F32,
                        reinterpret_cast<char *>(row.data()));
        return row.data();
      },
      w.rows, w.cols, w.quantBits, w.quantGroup);
}

llvm::Error mlir::hymba::encodeWeight(const TensorInfo &info,
                                      const PackedWeight &w,
                                      std::vector<char> &out,
                                      const QuantizedMatrix *quantized) {
  if (w.quantBits == 0) {
    plainWeight(info, w, out);
  } else if (quantized) {
    quantizedPart(*quantized, w, out);
  } else {
    llvm::Expected<QuantizedMatrix> q = quantizeWeight(info, w);
    if (!q)
      return q.takeError();
    quantizedPart(*q, w, out);
  }
  if (int64_t(out.size()) != w.bytes)
    return fail("internal error: '" + w.name + "' encodes to " +
                llvm::Twine(uint64_t(out.size())) + " bytes, its slot has " +
                llvm::Twine(w.bytes));
  return llvm::Error::success();
}
