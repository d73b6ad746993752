//===- HymbaDialect.td - The Hymba dialect -----------------*- tablegen -*-===//
//
// The Hymba dialect models NVIDIA's Hymba hybrid-head language models at the
// level a compiler engineer reasons about them: meta tokens, hybrid heads
// (attention and a selective-scan SSM fed by one projection), sliding-window
// attention with a visible meta-token prefix, cross-layer KV sharing, and the
// decode-time state that makes incremental generation possible.
//
//===----------------------------------------------------------------------===//

#ifndef HYMBA_DIALECT
#define HYMBA_DIALECT

include "mlir/IR/OpBase.td"

def Hymba_Dialect : Dialect {
  let name = "hymba";
  let cppNamespace = "::mlir::hymba";
  let useDefaultAttributePrinterParser = 1;
  let summary = "Ops for Hymba hybrid-head (attention + SSM) language models";
  let description = [{
    Compute ops take and return ranked tensors with float32 activations; weight
    operands may keep their storage type (bf16, f16 or f32) and are widened
    exactly where they are read. Sequences are two-dimensional `[rows, width]`
    tensors whose row count (the chunk length) is usually dynamic; multi-head
    tensors are flattened head-major (`head h` owns columns
    `[h*dim, (h+1)*dim)`), exactly as the checkpoint's projections lay them out.

    Weights never become attributes: `hymba.weight` names a checkpoint tensor
    inside an opaque parameter buffer. Decode-time state (KV caches, the conv
    window, the SSM state) is explicit: `hymba.state_buffer` names a memref in
    an opaque state buffer, and the ops that read or update state take it as an
    operand and declare their memory effects.

    Facts about the whole model live on the module as the dialect's
    discardable attributes, declared here and checked by the dialect's
    attribute verifier: `hymba.model` (a dictionary of the config's sizes
    and token ids, set by the importer), `hymba.params_bytes` and
    `hymba.state_bytes` (the parameter and state buffer sizes,
    `hymba-assign-buffer-layout`), `hymba.meta_folded` (the meta tokens
    `hymba-fold-meta-tokens` ran at compile time). Each is an i64 >= 0 (the
    model's entries too) and is only valid on a `builtin.module`.
  }];
  let discardableAttrs = (ins
    "::mlir::DictionaryAttr":$model,
    "::mlir::IntegerAttr":$params_bytes,
    "::mlir::IntegerAttr":$state_bytes,
    "::mlir::IntegerAttr":$meta_folded
  );
  let hasOperationAttrVerify = 1;
}

#endif // HYMBA_DIALECT
