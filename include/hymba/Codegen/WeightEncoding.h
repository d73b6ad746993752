//===- WeightEncoding.h - Checkpoint tensors to parameter bytes -*- C++ -*-===//
//
// How one checkpoint tensor becomes its bytes in the executable's parameter
// block: converted to the storage float type, or quantized per group (the
// values or the scales of a `hymba.dequantize`), and laid out plain or in
// panels (#hymba.panels). The code generator reads exactly these layouts;
// python/hymba_tools/quantize.py and pack_payload.py mirror them bit for bit.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_CODEGEN_WEIGHTENCODING_H
#define HYMBA_CODEGEN_WEIGHTENCODING_H

#include "hymba/Import/SafeTensors.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::hymba {

/// One weight as the generated code expects it in the parameter block.
struct PackedWeight {
  std::string name;
  int64_t offset = 0;         // byte offset in the parameter block
  int64_t elements = 0;       // of the checkpoint tensor
  DType storage = DType::F32; // float element type (unquantized weights)
  /// > 0: a [rows, cols] matrix stored in panels of `panel` rows
  /// (#hymba.panels): element (r, c) at [r / panel][c][r % panel], the
  /// last panel zero-padded.
  int64_t panel = 0;
  /// > 1 (float panels, or int8 values): columns in groups of `interleave`, element
  /// (r, c) at [r / panel][c / interleave][r % panel][c % interleave], the
  /// last group zero-padded (#hymba.panels<W, interleave = F>).
  int64_t interleave = 1;
  int64_t rows = 0, cols = 0;
  /// 8 or 4: this entry holds the quantized values of the tensor (i8, or
  /// two i4 per byte); 0: not quantized.
  int64_t quantBits = 0;
  /// Set: this entry holds the bf16 scales of the tensor quantized with
  /// `quantBits`, one per row and group of `quantGroup` columns.
  bool scales = false;
  int64_t quantGroup = 0; // > 0 for both entries of a quantized tensor
  /// Bytes in the parameter block (padding included), from the IR type.
  int64_t bytes = 0;
};

/// Round-to-nearest symmetric quantization of a [rows, cols] matrix, per
/// group of `group` columns of a row (the last group may be shorter):
///   bits 8 (Q8_0-like): scale = amax / 127, values in [-127, 127];
///   bits 4 (Q4_0-like): scale = m / -8 with m the group's value of largest
///   magnitude (the first one on ties), values in [-8, 7], so m itself is
///   exact.
/// Each scale is rounded to bf16 away from zero *before* the values are
/// rounded against it (value = nearbyint(w / scale) in double precision,
/// ties to even), so the stored scale is the one the values were made for.
/// An all-zero group has scale 0 and values 0.
struct QuantizedMatrix {
  std::vector<int8_t> values;    // [rows, cols]
  std::vector<uint16_t> scales;  // [rows, groups], bf16 bits
};
QuantizedMatrix quantizeMatrix(const std::vector<float> &m, int64_t rows,
                               int64_t cols, int64_t bits, int64_t group);

/// The checkpoint tensor quantized as `w` (either part of a quantized
/// tensor) says. Fails, naming the tensor, on a non-finite value.
llvm::Expected<QuantizedMatrix> quantizeWeight(const TensorInfo &info,
                                               const PackedWeight &w);

/// Replaces `out` (reusing its storage) with `w`'s bytes in the parameter block
/// (exactly `w.bytes` of them). For a part of a quantized tensor,
/// `quantized` is quantizeWeight's result for it when the caller has it
/// (both parts come from one quantization); otherwise the tensor is
/// quantized here. Fails, naming the tensor, on a non-finite value in a
/// tensor that is to be quantized.
llvm::Error encodeWeight(const TensorInfo &info, const PackedWeight &w,
                         std::vector<char> &out,
                         const QuantizedMatrix *quantized = nullptr);

} // namespace mlir::hymba

#endif // HYMBA_CODEGEN_WEIGHTENCODING_H
