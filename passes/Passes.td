//===- Passes.td - Hymba passes -----------------------------*- tablegen -*-===//
#ifndef HYMBA_PASSES
#define HYMBA_PASSES

include "mlir/Pass/PassBase.td"

def HymbaAssignBufferLayout : Pass<"hymba-assign-buffer-layout", "ModuleOp"> {
  let summary = "Assign byte offsets to every named weight and state buffer";
  let description = [{
    **Why.** Weights and decode-time state are referenced by name
    (`hymba.weight %params["..."]`, `hymba.state_buffer %state["..."]`) so that
    the IR stays small and readable. Code generation needs byte offsets into
    the two opaque buffers instead; the driver needs the same table to pack
    the weights into the executable and to size the state arena.

    **What.** Every distinct name gets one 64-byte aligned slot, in order of
    first appearance; each op gets an `offset` attribute, and the module gets
    `hymba.params_bytes` and `hymba.state_bytes`.

    **Invariants.** All uses of one name must agree on the type; otherwise
    the pass fails. Running it twice yields the same layout.

    Before:
    ```mlir
    %w = hymba.weight %p["model.final_layernorm.weight"] : memref<?xi8> -> tensor<64xf32>
    ```
    After:
    ```mlir
    module attributes {hymba.params_bytes = 256 : i64, hymba.state_bytes = 0 : i64} {
      %w = hymba.weight %p["model.final_layernorm.weight"] {offset = 0 : i64} : memref<?xi8> -> tensor<64xf32>
    ```
  }];
}

#endif // HYMBA_PASSES
