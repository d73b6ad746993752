//===- ModelAbi.h - C interface of the generated model code -----*- C++ -*-===//
//
// The compiled module exports hymba_start / hymba_continue with
// llvm.emit_c_interface, so they take MLIR memref descriptors by pointer and
// return the logits descriptor through the first argument. The logits buffer
// is malloc'ed by the model code; its owner frees `allocated`.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_RUNTIME_MODELABI_H
#define HYMBA_RUNTIME_MODELABI_H

#include <cstdint>

namespace mlir::hymba {

template <typename T, int Rank> struct MemRef {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

using ByteBuffer = MemRef<int8_t, 1>;
using IdBuffer = MemRef<int32_t, 1>;
using Logits = MemRef<float, 2>;

template <typename T> MemRef<T, 1> wrap(T *data, int64_t n) {
  return {data, data, 0, {n}, {1}};
}

} // namespace mlir::hymba

extern "C" {
// The logits of the chunk's last min(logitRows, ids) rows (ModelBuilder.h).
void _mlir_ciface_hymba_start(mlir::hymba::Logits *result,
                              mlir::hymba::ByteBuffer *params,
                              mlir::hymba::ByteBuffer *state,
                              mlir::hymba::IdBuffer *ids, int64_t logitRows);
void _mlir_ciface_hymba_continue(mlir::hymba::Logits *result,
                                 mlir::hymba::ByteBuffer *params,
                                 mlir::hymba::ByteBuffer *state,
                                 mlir::hymba::IdBuffer *ids, int64_t logitRows,
                                 int64_t position);
// Present only when hymba-fold-meta-tokens ran; weak so the runtime links
// either way.
__attribute__((weak)) void
_mlir_ciface_hymba_prefix(mlir::hymba::ByteBuffer *params,
                          mlir::hymba::ByteBuffer *state);
// The sizes and metadata checksum the model code was compiled for
// (Payload.h, ModelFact), added by the driver. Weak: a program without them
// links but refuses to run.
__attribute__((weak)) extern const uint64_t hymba_model_facts[];
}

#endif // HYMBA_RUNTIME_MODELABI_H
