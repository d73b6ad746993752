//===- JsonInteger.h - Integers from untrusted JSON -------------*- C++ -*-===//
#ifndef HYMBA_IMPORT_JSONINTEGER_H
#define HYMBA_IMPORT_JSONINTEGER_H

#include "llvm/Support/JSON.h"

#include <cstdint>
#include <optional>

namespace mlir::hymba {

/// `v` as an int64_t if it is an integer that fits. llvm::json's
/// getAsInteger converts a double of exactly 2^63 (e.g. written as
/// 9223372036854775807.3) to int64_t, which is undefined behaviour (found
/// by test/fuzz's config target): positive doubles are range-checked first.
inline std::optional<int64_t> jsonInteger(const llvm::json::Value &v) {
  std::optional<double> d = v.getAsNumber();
  if (!d)
    return std::nullopt;
  // Stored as an integer (or negative): getAsInteger is exact and safe.
  if (v.getAsUINT64() || *d < 0)
    return v.getAsInteger();
  if (!(*d < 9223372036854775808.0))
    return std::nullopt;
  return v.getAsInteger();
}

} // namespace mlir::hymba

#endif // HYMBA_IMPORT_JSONINTEGER_H
