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

/// Rearranges a [rows, cols] matrix of `Bytes`-sized elements into panels
/// of `panel` rows (element (r, c) at [r / panel][c][r % panel]), the last
/// panel zero-padded. The element size is a template argument so that each
/// copy is one load and store, not a memcpy call (1.5B: ~2 s saved).
template <size_t Bytes>
std::vector<char> packPanelsOf(const char *src, int64_t rows, int64_t cols,
                               int64_t panel) {
  int64_t panels = (rows + panel - 1) / panel;
  std::vector<char> packed(size_t(panels * panel * cols) * Bytes, 0);
  for (int64_t r = 0; r < rows; ++r) {
    const char *row = src + size_t(r * cols) * Bytes;
    char *dst = packed.data() +
                size_t((r / panel) * cols * panel + r % panel) * Bytes;
    for (int64_t c = 0; c < cols; ++c)
      std::memcpy(dst + size_t(c * panel) * Bytes, row + size_t(c) * Bytes,
                  Bytes);
  }
  return packed;
}

std::vector<char> packPanels(const char *src, int64_t rows, int64_t cols,
                             int64_t panel, size_t bytes) {
  switch (bytes) {
  case 1:
    return packPanelsOf<1>(src, rows, cols, panel);
  case 2:
    return packPanelsOf<2>(src, rows, cols, panel);
  default:
    return packPanelsOf<4>(src, rows, cols, panel);
  }
}

/// i4 values two per byte (see storageType in HymbaDialect.cpp): without
/// panels, row-major elements 2i (low nibble) and 2i + 1 in byte i; a panel
/// row of width W holds lanes j (low) and j + W/2 in byte j.
std::vector<char> packNibbles(const std::vector<int8_t> &q, int64_t rows,
                              int64_t cols, int64_t panel) {
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
  out.resize(size_t(panels * cols * half));
  char *dst = out.data();
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t c = 0; c < cols; ++c)
      for (int64_t j = 0; j < half; ++j)
        *dst++ = char(at(p * panel + j, c) | at(p * panel + j + half, c) << 4);
  return out;
}
} // namespace

std::vector<float> hymba::tensorAsF32(const TensorInfo &info) {
  int64_t n = info.numElements();
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (info.dtype == DType::F32) {
      std::memcpy(&out[size_t(i)], info.data + 4 * i, 4);
      continue;
    }
    uint16_t h;
    std::memcpy(&h, info.data + 2 * i, 2);
    out[size_t(i)] = info.dtype == DType::BF16 ? bf16ToF32(h) : f16ToF32(h);
  }
  return out;
}

QuantizedMatrix hymba::quantizeMatrix(const std::vector<float> &m,
                                      int64_t rows, int64_t cols, int64_t bits,
                                      int64_t group) {
  int64_t groups = (cols + group - 1) / group;
  double qmin = bits == 4 ? -8 : -127, qmax = bits == 4 ? 7 : 127;
  QuantizedMatrix out;
  out.values.resize(size_t(rows * cols));
  out.scales.resize(size_t(rows * groups));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      int64_t begin = g * group, end = std::min(cols, begin + group);
      const float *w = m.data() + r * cols;
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
        double q = scale == 0 ? 0 : std::nearbyint(double(w[c]) / scale);
        out.values[size_t(r * cols + c)] =
            int8_t(std::clamp(q, qmin, qmax));
      }
    }
  }
  return out;
}

llvm::Error hymba::encodeWeight(const TensorInfo &info, const PackedWeight &w,
                                std::vector<char> &out) {
  // The f32 values only when they are needed: a tensor already stored in
  // its storage type is copied as it is.
  std::vector<float> f32;
  if (w.quantBits != 0 || info.dtype != w.storage)
    f32 = tensorAsF32(info);
  if (w.quantBits == 0) {
    std::vector<char> plain;
    if (info.dtype == w.storage) {
      plain.assign(info.data, info.data + info.numBytes);
    } else if (w.storage == DType::F32) {
      plain.resize(f32.size() * 4);
      std::memcpy(plain.data(), f32.data(), plain.size());
    } else {
      plain.resize(f32.size() * 2);
      for (size_t i = 0; i < f32.size(); ++i) {
        uint16_t h = f32ToBF16(f32[i]);
        std::memcpy(plain.data() + 2 * i, &h, 2);
      }
    }
    out = w.panel > 0 ? packPanels(plain.data(), w.rows, w.cols, w.panel,
                                   size_t(dtypeBytes(w.storage)))
                      : std::move(plain);
  } else {
    for (float v : f32)
      if (!std::isfinite(v))
        return fail("tensor '" + w.name +
                    "' holds a non-finite value (inf or NaN), which cannot "
                    "be quantized");
    QuantizedMatrix q =
        quantizeMatrix(f32, w.rows, w.cols, w.quantBits, w.quantGroup);
    int64_t groups = (w.cols + w.quantGroup - 1) / w.quantGroup;
    if (w.scales) {
      const char *src = reinterpret_cast<const char *>(q.scales.data());
      out = w.panel > 0 ? packPanels(src, w.rows, groups, w.panel, 2)
                        : std::vector<char>(src, src + q.scales.size() * 2);
    } else if (w.quantBits == 4) {
      out = packNibbles(q.values, w.rows, w.cols, w.panel);
    } else {
      const char *src = reinterpret_cast<const char *>(q.values.data());
      out = w.panel > 0 ? packPanels(src, w.rows, w.cols, w.panel, 1)
                        : std::vector<char>(src, src + q.values.size());
    }
  }
  if (int64_t(out.size()) != w.bytes)
    return fail("internal error: '" + w.name + "' encodes to " +
                llvm::Twine(uint64_t(out.size())) + " bytes, its slot has " +
                llvm::Twine(w.bytes));
  return llvm::Error::success();
}
