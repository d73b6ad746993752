//===- HymbaAttrs.td - Hymba dialect attributes -------------*- tablegen -*-===//
#ifndef HYMBA_ATTRS
#define HYMBA_ATTRS

include "HymbaDialect.td"
include "mlir/IR/AttrTypeBase.td"

def Hymba_PanelsAttr : AttrDef<Hymba_Dialect, "Panels"> {
  let mnemonic = "panels";
  let summary = "tensor encoding: a weight stored as panels of output rows";
  let description = [{
    Encoding of a weight tensor `tensor<N x K x T, #hymba.panels<W>>` whose
    shape stays the logical PyTorch `[out, in]` shape while its storage is
    panel-major: element `(n, k)` lives at `[n floordiv W, k, n mod W]` of a
    `[ceil(N / W), K, W]` array, and the `ceil(N / W) * W - N` padding rows of
    the last panel are zero.

    `#hymba.panels<W, interleave = F>` (F > 1) also groups K by F: element
    `(n, k)` lives at `[n floordiv W, k floordiv F, n mod W, k mod F]` of a
    `[ceil(N / W), ceil(K / F), W, F]` array (K zero-padded to a multiple of
    F). A row of the panel then holds, for each of the W outputs, F
    consecutive inputs: the operand of the dot-product instructions that
    multiply F narrow pairs (or quads) and add them into one f32 or i32
    lane (AVX512_BF16 `vdpbf16ps`: F = 2; VNNI `vpdpbusd`: F = 4).

    Why: a projection `y = x @ W^T` computed as a sum of outer products reads,
    for each `k`, `W` consecutive output features; in this layout they are
    contiguous, and one panel streams through the kernel as a single forward
    sweep over memory. The weights are known at compile time, so the layout
    costs nothing at run time: `hymba-compile` writes the payload already
    packed (set by `hymba-pack-weights`).

    ```mlir
    %w = hymba.weight %params["model.layers.0.mlp.up_proj.weight"]
           : memref<?xi8> -> tensor<5504x1600xbf16, #hymba.panels<32>>
    ```
  }];
  let parameters = (ins "int64_t":$width,
                        DefaultValuedParameter<"int64_t", "1">:$interleave);
  let assemblyFormat =
      "`<` $width (`,` `interleave` `=` $interleave^)? `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Panels of the [rows, cols] matrix: ceil(rows / width).
    int64_t numPanels(int64_t rows) const {
      return (rows + getWidth() - 1) / getWidth();
    }
    /// Groups of `interleave` inputs of the [rows, cols] matrix.
    int64_t numInputGroups(int64_t cols) const {
      return (cols + getInterleave() - 1) / getInterleave();
    }
  }];
}

#endif // HYMBA_ATTRS
