//===- HymbaOps.td - Hymba dialect operations --------------*- tablegen -*-===//
//
// Every op documents its semantics against SPEC.md (shared/hymba) and checks
// its shapes in a C++ verifier (HymbaOps.cpp) with messages that name the
// offending operand.
//
//===----------------------------------------------------------------------===//

#ifndef HYMBA_OPS
#define HYMBA_OPS

include "HymbaDialect.td"
include "HymbaAttrs.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Hymba_Op<string mnemonic, list<Trait> traits = []>
    : Op<Hymba_Dialect, mnemonic, traits> {
  let hasVerifier = 1;
}

def Hymba_Activations : TensorRankOf<[F32], [2]>;
def Hymba_WeightMatrix : TensorRankOf<[F32, F16, BF16], [2]>;
def Hymba_WeightVector : TensorRankOf<[F32, F16, BF16], [1]>;
def Hymba_ByteBuffer : MemRefRankOf<[I8], [1]>;
def Hymba_StateMatrix : MemRefRankOf<[F32], [2]>;

// Operands of the destination-style ops (hymba.attention,
// hymba.causal_conv1d, hymba.selective_scan): tensors before bufferization,
// memrefs (of any layout) after it. The accessors return ShapedType.
class Hymba_TensorOrBuffer<list<Type> elts, int rank, string what>
    : AnyTypeOf<[TensorRankOf<elts, [rank]>, MemRefRankOf<elts, [rank]>],
                what, "::mlir::ShapedType">;
def Hymba_ActivationsOrBuffer
    : Hymba_TensorOrBuffer<[F32], 2, "2-D f32 tensor or memref">;
def Hymba_WeightMatrixOrBuffer
    : Hymba_TensorOrBuffer<[F32, F16, BF16], 2, "2-D float tensor or memref">;
def Hymba_WeightVectorOrBuffer
    : Hymba_TensorOrBuffer<[F32, F16, BF16], 1, "1-D float tensor or memref">;

// An op in destination-passing style: `outs(%init)` is the buffer its result
// is written into (every element, so the init's contents are never read).
// On tensors the op has one result of the init's type; on memrefs none. Its
// memory effects are those of its memref operands (C++: hymbaBufferEffects).
class Hymba_DPSOp<string mnemonic, list<Trait> traits = []>
    : Hymba_Op<mnemonic, traits # [
        DestinationStyleOpInterface,
        DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getInitMutable();
    }
    /// Whether this is the op's memref form (after bufferization). The
    /// state buffers make hasPureTensorSemantics() false in both forms.
    bool isBufferized() {
      return ::llvm::isa<::mlir::MemRefType>(getInit().getType());
    }
  }];
}

//===----------------------------------------------------------------------===//
// Parameters and state
//===----------------------------------------------------------------------===//

def Hymba_WeightOp : Hymba_Op<"weight", [Pure]> {
  let summary = "a checkpoint tensor, referenced by name inside the parameter buffer";
  let description = [{
    Names one tensor of the HuggingFace checkpoint (for example
    `model.layers.0.mamba.in_proj.weight`) without carrying its data. The
    result type gives the shape and the storage element type. The optional
    `offset` is the byte offset of the tensor in `params`; it is set by
    `hymba-assign-buffer-layout` and read by the lowering.

    A `#hymba.panels<W>` encoding on the result (set by
    `hymba-pack-weights`) keeps the logical shape and says the parameter
    buffer holds the matrix panel-major; consumers see the same `[out, in]`
    tensor either way.

    A quantized tensor is two weights with the same name: its integer
    values (`i8` or `i4`, two `i4` per byte) and, marked `scales`, one float
    scale per group of the reduction dimension. Only `hymba.dequantize`
    reads them (see there for the format).

    ```mlir
    %w = hymba.weight %params["model.layers.0.mamba.in_proj.weight"]
           : memref<?xi8> -> tensor<8960x1600xbf16>
    %p = hymba.weight %params["model.layers.0.mlp.up_proj.weight"]
           : memref<?xi8> -> tensor<5504x1600xbf16, #hymba.panels<32>>
    %q = hymba.weight %params["model.layers.0.mlp.down_proj.weight"]
           : memref<?xi8> -> tensor<1600x5504xi8>
    %s = hymba.weight %params["model.layers.0.mlp.down_proj.weight"] {scales}
           : memref<?xi8> -> tensor<1600x172xbf16>
    ```
  }];
  let arguments = (ins Hymba_ByteBuffer:$params, StrAttr:$name,
                       OptionalAttr<I64Attr>:$offset, UnitAttr:$scales);
  let results = (outs TensorOf<[F32, F16, BF16, I8, I<4>]>:$result);
  let extraClassDeclaration = [{
    /// The key of this tensor's slot in the parameter buffer: the checkpoint
    /// name, with `#scales` appended for the scales of a quantized tensor.
    std::string getSlotName() {
      return getScales() ? (getName() + "#scales").str() : getName().str();
    }
  }];
  let assemblyFormat = "$params `[` $name `]` attr-dict `:` type($params) `->` type($result)";
}

def Hymba_DequantizeOp : Hymba_Op<"dequantize", [Pure]> {
  let summary = "a weight quantized per group along its reduction dimension";
  let description = [{
    `result[n, k] = float32(values[n, k]) * float32(scales[n, k floordiv
    group_size])`: symmetric, weight-only quantization with one scale per
    `group_size` consecutive inputs of an output row (llama.cpp's Q8_0 and
    Q4_0 idea; the last group of a row may be shorter). `values` are `i8`
    in `[-127, 127]` or `i4` in `[-8, 7]`; scales are bf16.

    The op names what a projection computes with; it is never materialized.
    Its users are projection weights (`hymba.linear`, `hymba.swiglu_mlp`,
    `hymba.hybrid_merge`'s output projection) and embedding tables, whose
    lowerings read `values` and `scales` directly and dequantize in
    registers inside their inner loops. `values` and `scales` share their
    storage encoding: both plain, or both `#hymba.panels<W>` (then the
    scales are stored `[ceil(N / W), groups, W]`, a vector of scales per
    panel and group).

    ```mlir
    %w = hymba.dequantize %q, %s {group_size = 32 : i64}
           : tensor<1600x5504xi8>, tensor<1600x172xbf16> -> tensor<1600x5504xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[I8, I<4>], [2]>:$values,
                       TensorRankOf<[BF16], [2]>:$scales, I64Attr:$group_size);
  let results = (outs TensorRankOf<[F32], [2]>:$result);
  let assemblyFormat = "$values `,` $scales attr-dict `:` type($values) `,` type($scales) `->` type($result)";
  let extraClassDeclaration = [{
    /// Groups per row: ceil(K / group_size).
    int64_t getNumGroups() {
      int64_t k = getValues().getType().getDimSize(1);
      return (k + getGroupSize() - 1) / getGroupSize();
    }
  }];
}

def Hymba_StateBufferOp : Hymba_Op<"state_buffer", [Pure]> {
  let summary = "a named decode-time state buffer inside the state arena";
  let description = [{
    Names one piece of the per-sequence state: a layer's KV cache, conv window
    or SSM state. The optional `offset` is its byte offset in `state`, set by
    `hymba-assign-buffer-layout`. The ops that use the buffer declare whether
    they read or write it, so the state flows through the IR explicitly.

    ```mlir
    %kc = hymba.state_buffer %state["layers.1.k_cache"] : memref<?xi8> -> memref<1152x320xf32>
    ```
  }];
  let arguments = (ins Hymba_ByteBuffer:$state, StrAttr:$name,
                       OptionalAttr<I64Attr>:$offset);
  let results = (outs Hymba_StateMatrix:$result);
  let assemblyFormat = "$state `[` $name `]` attr-dict `:` type($state) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Embedding and meta tokens
//===----------------------------------------------------------------------===//

def Hymba_EmbedOp : Hymba_Op<"embed", [Pure]> {
  let summary = "token embedding lookup";
  let description = [{
    `result[t, :] = float32(table[ids[t], :])`. Ids outside `[0, vocab)` are
    rejected by the runtime before the model runs.

    ```mlir
    %e = hymba.embed %table[%ids] : tensor<32001x1600xbf16>, tensor<?xi32> -> tensor<?x1600xf32>
    ```
  }];
  let arguments = (ins Hymba_WeightMatrix:$table, TensorRankOf<[I32], [1]>:$ids);
  let results = (outs Hymba_Activations:$result);
  let assemblyFormat = "$table `[` $ids `]` attr-dict `:` type($table) `,` type($ids) `->` type($result)";
}

def Hymba_PrependMetaOp : Hymba_Op<"prepend_meta", [Pure]> {
  let summary = "prepend the learned meta-token rows to an embedded prompt";
  let description = [{
    `result = concat(meta, x)` along rows: the `M` learned meta tokens come
    first, as raw parameters (no lookup, no scaling), then the `T` embedded
    tokens (SPEC.md 3.1). Positions of the concatenated sequence start at 0,
    so real token `t` sits at position `M + t`.

    ```mlir
    %h = hymba.prepend_meta %meta, %e : tensor<128x1600xbf16>, tensor<?x1600xf32> -> tensor<?x1600xf32>
    ```
  }];
  let arguments = (ins Hymba_WeightMatrix:$meta, Hymba_Activations:$input);
  let results = (outs Hymba_Activations:$result);
  let assemblyFormat = "$meta `,` $input attr-dict `:` type($meta) `,` type($input) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Dense building blocks
//===----------------------------------------------------------------------===//

def Hymba_RMSNormOp : Hymba_Op<"rms_norm", [Pure]> {
  let summary = "root-mean-square normalisation over the last dimension";
  let description = [{
    `y = w * (x * rsqrt(mean(x^2) + epsilon))`, rowwise (SPEC.md 3.2).

    ```mlir
    %y = hymba.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : tensor<?x1600xf32>, tensor<1600xbf16> -> tensor<?x1600xf32>
    ```
  }];
  let arguments = (ins Hymba_Activations:$input, Hymba_WeightVector:$weight,
                       F32Attr:$epsilon);
  let results = (outs Hymba_Activations:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)";
}

def Hymba_LinearOp : Hymba_Op<"linear", [Pure]> {
  let summary = "dense projection x @ W^T with a PyTorch [out, in] weight";
  let description = [{
    `y[t, o] = sum_i x[t, i] * float32(W[o, i])`. No bias: no Hymba projection
    that goes through this op has one.

    ```mlir
    %p = hymba.linear %x, %w : tensor<?x1600xf32>, tensor<8960x1600xbf16> -> tensor<?x8960xf32>
    ```
  }];
  let arguments = (ins Hymba_Activations:$input, Hymba_WeightMatrix:$weight);
  let results = (outs Hymba_Activations:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)";
}

def Hymba_RopeOp : Hymba_Op<"rope", [Pure]> {
  let summary = "rotary position embedding, half-rotation convention";
  let description = [{
    Applies RoPE to every head of `input` (`[rows, heads * head_dim]`). Row
    `r` has position `position + r`. With `inv_f_i = 1 / base^(2i/head_dim)`
    computed in float32 and `theta = pos * inv_f_i`:
    `out_i = u_i cos - u_{i+d/2} sin`, `out_{i+d/2} = u_{i+d/2} cos + u_i sin`
    (SPEC.md 3.4.1). `base` is the effective base: for `rope_type = "ntk"` the
    importer has already applied the static NTK rescaling.

    ```mlir
    %r = hymba.rope %q at %pos {head_dim = 64 : i64, base = 74534.828125 : f64} : tensor<?x1600xf32> -> tensor<?x1600xf32>
    ```
  }];
  let arguments = (ins Hymba_Activations:$input, Index:$position,
                       I64Attr:$head_dim, F64Attr:$base);
  let results = (outs Hymba_Activations:$result);
  let assemblyFormat = "$input `at` $position attr-dict `:` type($input) `->` type($result)";
}

def Hymba_SwiGLUMLPOp : Hymba_Op<"swiglu_mlp", [Pure]> {
  let summary = "SwiGLU feed-forward block: down(silu(gate(x)) * up(x))";
  let description = [{
    The dense MLP of every Hymba layer (SPEC.md 3.7), without biases.

    ```mlir
    %y = hymba.swiglu_mlp %x, %gate, %up, %down : tensor<?x1600xf32>, tensor<5504x1600xbf16>, tensor<5504x1600xbf16>, tensor<1600x5504xbf16> -> tensor<?x1600xf32>
    ```
  }];
  let arguments = (ins Hymba_Activations:$input, Hymba_WeightMatrix:$gate,
                       Hymba_WeightMatrix:$up, Hymba_WeightMatrix:$down);
  let results = (outs Hymba_Activations:$result);
  let assemblyFormat = [{
    $input `,` $gate `,` $up `,` $down attr-dict `:` type($input) `,`
    type($gate) `,` type($up) `,` type($down) `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// Hybrid head
//===----------------------------------------------------------------------===//

def Hymba_AttentionOp : Hymba_DPSOp<"attention"> {
  let summary = "grouped-query attention over the KV cache and the current chunk";
  let description = [{
    Causal multi-head attention for a chunk of `T` rows at absolute positions
    `position .. position+T-1` (meta tokens included in the numbering).

    * `query` is `[T, num_heads * head_dim]` (RoPE applied); `key` is
      `[T, num_kv_heads * head_dim]` and `value` `[T, num_kv_heads * v_head_dim]`:
      the chunk's own keys and values. Query head `h` uses KV head
      `h / (num_heads / num_kv_heads)`. The value head dim may differ from the
      query/key head dim (Hymba: 64 vs 128).
    * `k_cache` and `v_cache` hold the keys and values of earlier positions.
      They are only read here; `hymba.kv_cache_write` appends the chunk once
      every layer that shares the cache has attended. A layer that reuses
      another layer's KV (cross-layer sharing) passes the producer's chunk
      keys/values and caches.
    * `window = 0`: full causal attention; the cache keeps every position, so
      its capacity bounds the context. `window = W > 0`: query `i` sees key
      `j` iff `j <= i` and (`i - j <= W` or `j < num_meta`), so the meta-token
      prefix always stays visible (SPEC.md 3.4.4). The cache is then a ring of
      `num_meta + W` rows: position `p` lives in row `p` if `p < num_meta`,
      else in row `num_meta + (p - num_meta) mod W`.
    * Scores are scaled by `scale` (1/sqrt(head_dim) in Hymba).
    * `query_offset` (optional, default 0) makes the op a tile of query
      rows: query row `r` is then at absolute position
      `position + query_offset + r`, while the keys and values stay the
      whole chunk's (key row `r` at `position + r`), since a query sees the
      chunk's earlier keys too. The key and value row counts must then be at
      least the query rows (plus a constant offset); without it they equal
      the query rows.
    * `init` (`[T, num_heads * v_head_dim]`) is the destination: on tensors
      the result is `init` with every element written; on memrefs the op
      writes `init` and has no result (after one-shot-bufferize).

    ```mlir
    %a = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%e : tensor<?x3200xf32>)
           {num_heads = 25 : i64, num_kv_heads = 5 : i64, window = 1024 : i64,
            num_meta = 128 : i64, scale = 0.125 : f32}
           : tensor<?x1600xf32>, tensor<?x320xf32>, tensor<?x640xf32>,
             memref<1152x320xf32>, memref<1152x640xf32> -> tensor<?x3200xf32>
    // Query rows [%t0, %t0 + 4) of the same chunk, KV head 2's five query heads:
    %t = hymba.attention %q4, %k1, %v1, %kc1, %vc1 at %pos query_offset(%t0)
           outs(%e4 : tensor<4x640xf32>)
           {num_heads = 5 : i64, num_kv_heads = 1 : i64, window = 1024 : i64,
            num_meta = 128 : i64, scale = 0.125 : f32}
           : tensor<4x320xf32>, tensor<?x64xf32>, tensor<?x128xf32>,
             memref<1152x64xf32, strided<[320, 1], offset: 128>>,
             memref<1152x128xf32, strided<[640, 1], offset: 256>> -> tensor<4x640xf32>
    ```

    The op implements `TilingInterface` over (query row, KV head), both
    parallel. A point of the second dimension is a KV head with its group of
    `num_heads / num_kv_heads` query heads, so a tile always holds whole
    grouped-query groups: its query, init, key, value and cache columns are
    those of its KV heads. A row tile is the same op with `query_offset`
    advanced by the tile's first row. The head tile size must be static (it
    becomes `num_kv_heads`), i.e. divide `num_kv_heads`.
  }];
  let arguments = (ins Hymba_ActivationsOrBuffer:$query,
                       Hymba_ActivationsOrBuffer:$key,
                       Hymba_ActivationsOrBuffer:$value,
                       Hymba_StateMatrix:$k_cache, Hymba_StateMatrix:$v_cache,
                       Index:$position, Optional<Index>:$query_offset,
                       Hymba_ActivationsOrBuffer:$init, I64Attr:$num_heads,
                       I64Attr:$num_kv_heads, I64Attr:$window,
                       I64Attr:$num_meta, F32Attr:$scale);
  let results = (outs Optional<Hymba_Activations>:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $k_cache `,` $v_cache `at` $position
    (`query_offset` `(` $query_offset^ `)`)? `outs` `(` $init `:` type($init) `)` attr-dict
    `:` type($query) `,` type($key) `,` type($value) `,` type($k_cache) `,`
    type($v_cache) (`->` type($result)^)?
  }];
}

def Hymba_KVCacheWriteOp : Hymba_Op<"kv_cache_write",
    [DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "append a chunk's keys and values to a KV cache";
  let description = [{
    Stores row `r` of `key`/`value` (position `position + r`) into the cache
    row that `hymba.attention` documents for the same `window`/`num_meta`.
    For a sliding-window ring only the last `W` rows of a long chunk survive,
    which is all later queries can see. The op is placed after the last layer
    of a KV-sharing group has attended, so the group reads one consistent
    cache.

    `key` and `value` are tensors before one-shot-bufferize and memrefs
    after it (both of one kind); the op reads them and writes the caches,
    and has no result in either form.

    ```mlir
    hymba.kv_cache_write %k, %v into %kc, %vc at %pos {window = 1024 : i64, num_meta = 128 : i64}
      : tensor<?x320xf32>, tensor<?x640xf32>, memref<1152x320xf32>, memref<1152x640xf32>
    ```
  }];
  let arguments = (ins Hymba_ActivationsOrBuffer:$key,
                       Hymba_ActivationsOrBuffer:$value,
                       Hymba_StateMatrix:$k_cache, Hymba_StateMatrix:$v_cache,
                       Index:$position, I64Attr:$window, I64Attr:$num_meta);
  let assemblyFormat = [{
    $key `,` $value `into` $k_cache `,` $v_cache `at` $position attr-dict `:`
    type($key) `,` type($value) `,` type($k_cache) `,` type($v_cache)
  }];
}

def Hymba_CausalConv1dOp : Hymba_DPSOp<"causal_conv1d"> {
  let summary = "depthwise causal conv1d followed by SiLU, carrying its window";
  let description = [{
    `u[t, c] = silu(bias[c] + sum_k w[c, 0, k] * x[t - K + 1 + k, c])`: a
    cross-correlation whose last tap multiplies the current row (SPEC.md
    3.5.1). Rows before the chunk come from `conv_state` (`[K-1, channels]`,
    the last `K-1` inputs seen, oldest first; zeros for a fresh sequence). The
    op then stores the chunk's last `K-1` inputs back into `conv_state`.
    `init` (the input's shape) is the destination, as for `hymba.attention`.

    ```mlir
    %u = hymba.causal_conv1d %x, %w, %b, %cs outs(%e : tensor<?x3200xf32>)
           : tensor<?x3200xf32>, tensor<3200x1x4xbf16>, tensor<3200xbf16>, memref<3x3200xf32> -> tensor<?x3200xf32>
    ```
  }];
  let arguments = (ins Hymba_ActivationsOrBuffer:$input,
                       Hymba_TensorOrBuffer<[F32, F16, BF16], 3,
                         "3-D float tensor or memref">:$weight,
                       Hymba_WeightVectorOrBuffer:$bias,
                       Hymba_StateMatrix:$conv_state,
                       Hymba_ActivationsOrBuffer:$init);
  let results = (outs Optional<Hymba_Activations>:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `,` $conv_state
    `outs` `(` $init `:` type($init) `)` attr-dict `:` type($input) `,`
    type($weight) `,` type($bias) `,` type($conv_state) (`->` type($result)^)?
  }];
}

def Hymba_SelectiveScanOp : Hymba_DPSOp<"selective_scan",
    [AttrSizedOperandSegments]> {
  let summary = "Mamba-1 selective scan with softplus delta and SiLU gate";
  let description = [{
    Per channel `d` and state index `n` (SPEC.md 3.5.3), for each row `t`:
    ```
    delta  = softplus(dt[t,d] + dt_bias[d])      (identity above 20)
    A[d,n] = -exp(a_log[d,n])
    h[d,n] = exp(delta * A[d,n]) * h[d,n] + delta * B[t,n] * u[t,d]
    y[t,d] = (sum_n C[t,n] * h[d,n] + D[d] * u[t,d]) * silu(z[t,d])
    ```
    `h` starts from `ssm_state` (`[channels, d_state]`, zero for a fresh
    sequence) and the final state is stored back into it. `B` and `C` are
    shared by all channels. `init` (the shape of `u`) is the destination, as
    for `hymba.attention`.

    With `norms(%wb, %wc)` (set by `hymba-fold-scan-norms`) B and C are
    RMS-normalised rows with those weights and epsilon `norm_epsilon`: row `t`
    of B is read as `B[t,n] * rsqrt(mean_n(B[t,:]^2) + eps) * wb[n]`, and C
    likewise, so the norms cost no kernel and no buffer of their own.

    ```mlir
    %y = hymba.selective_scan %u, %dt, %dt_bias, %a_log, %B, %C, %D, %z, %ss
           outs(%e : tensor<?x3200xf32>)
           : tensor<?x3200xf32>, tensor<?x3200xf32>, tensor<3200xbf16>, tensor<3200x16xbf16>,
             tensor<?x16xf32>, tensor<?x16xf32>, tensor<3200xbf16>, tensor<?x3200xf32>,
             memref<3200x16xf32> -> tensor<?x3200xf32>
    ```
  }];
  let arguments = (ins Hymba_ActivationsOrBuffer:$u,
                       Hymba_ActivationsOrBuffer:$dt,
                       Hymba_WeightVectorOrBuffer:$dt_bias,
                       Hymba_WeightMatrixOrBuffer:$a_log,
                       Hymba_ActivationsOrBuffer:$b,
                       Hymba_ActivationsOrBuffer:$c,
                       Hymba_WeightVectorOrBuffer:$d,
                       Hymba_ActivationsOrBuffer:$z,
                       Hymba_StateMatrix:$ssm_state,
                       Hymba_ActivationsOrBuffer:$init,
                       Optional<Hymba_WeightVectorOrBuffer>:$b_norm,
                       Optional<Hymba_WeightVectorOrBuffer>:$c_norm,
                       OptionalAttr<F32Attr>:$norm_epsilon);
  let results = (outs Optional<Hymba_Activations>:$result);
  let assemblyFormat = [{
    $u `,` $dt `,` $dt_bias `,` $a_log `,` $b `,` $c `,` $d `,` $z `,` $ssm_state
    (`norms` `(` $b_norm^ `,` $c_norm `:` type($b_norm) `,` type($c_norm) `)`)?
    `outs` `(` $init `:` type($init) `)` attr-dict `:` type($u) `,` type($dt)
    `,` type($dt_bias) `,` type($a_log) `,` type($b) `,` type($c) `,` type($d)
    `,` type($z) `,` type($ssm_state) (`->` type($result)^)?
  }];
}

def Hymba_HybridMergeOp : Hymba_Op<"hybrid_merge", [Pure]> {
  let summary = "merge of the attention and SSM branches and the output projection";
  let description = [{
    `out = ((rms_norm(attn; w_attn) + rms_norm(ssm; w_ssm)) / 2) @ out_proj^T`
    (SPEC.md 3.6). The two norm weights are the paper's per-channel beta1 and
    beta2; the 1/2 is fixed. With a `residual` operand (set by
    `hymba-fuse-hybrid-heads`) the projection accumulates into it:
    `out = residual + ...`, the decoder layer's first residual add.

    ```mlir
    %o = hymba.hybrid_merge %attn, %ssm, %w1, %w2, %out_proj {epsilon = 1.0e-06 : f32}
           : tensor<?x3200xf32>, tensor<?x3200xf32>, tensor<3200xbf16>, tensor<3200xbf16>,
             tensor<1600x3200xbf16> -> tensor<?x1600xf32>
    %h = hymba.hybrid_merge %attn, %ssm, %w1, %w2, %out_proj residual(%x : tensor<?x1600xf32>)
           {epsilon = 1.0e-06 : f32} : ...
    ```
  }];
  let arguments = (ins Hymba_Activations:$attention, Hymba_Activations:$ssm,
                       Hymba_WeightVector:$attention_norm,
                       Hymba_WeightVector:$ssm_norm,
                       Hymba_WeightMatrix:$out_proj,
                       Optional<Hymba_Activations>:$residual, F32Attr:$epsilon);
  let results = (outs Hymba_Activations:$result);
  let assemblyFormat = [{
    $attention `,` $ssm `,` $attention_norm `,` $ssm_norm `,` $out_proj
    (`residual` `(` $residual^ `:` type($residual) `)`)? attr-dict
    `:` type($attention) `,` type($ssm) `,` type($attention_norm) `,`
    type($ssm_norm) `,` type($out_proj) `->` type($result)
  }];
}

def Hymba_ParallelBranchesOp : Hymba_Op<"parallel_branches",
    [RecursiveMemoryEffects]> {
  let summary = "a layer's attention and SSM branches, run side by side";
  let description = [{
    The two branches of a Hymba layer's hybrid head as one op: the
    `attention` region computes the attention branch and the `ssm` region the
    SSM branch, each a single block ending in `hymba.yield` of its result.
    The regions read values defined above and may touch state buffers; the
    op's memory effects are those of its regions. The branches are
    independent (`hymba-fuse-hybrid-heads` only builds the op when their
    declared memory effects do not conflict), so a lowering may run them in
    one parallel loop, as `hymba-lower-stateful-to-loops` does: the
    attention's work items followed by the scan's channel tiles of
    `scan_tile` channels (CPU form) or channels (GPU form).

    After `one-shot-bufferize` the regions yield memrefs (the inner ops'
    inits, bufferized in place: result `i` is equivalent to what region `i`
    yields) and the results are those memrefs.

    ```mlir
    %att, %ssm = hymba.parallel_branches scan_tile(16)
        : tensor<?x3200xf32>, tensor<?x3200xf32> {
      %a = hymba.attention ...
      hymba.yield %a : tensor<?x3200xf32>
    } {
      %y = hymba.selective_scan ...
      hymba.yield %y : tensor<?x3200xf32>
    }
    ```
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntPositive]>:$scan_tile);
  let results = (outs Hymba_ActivationsOrBuffer:$attention_result,
                      Hymba_ActivationsOrBuffer:$ssm_result);
  let regions = (region SizedRegion<1>:$attention, SizedRegion<1>:$ssm);
  let assemblyFormat = [{
    `scan_tile` `(` $scan_tile `)` attr-dict `:` type($attention_result) `,`
    type($ssm_result) $attention $ssm
  }];
  let extraClassDeclaration = [{
    /// The value `region` yields.
    static Value yieldedValue(Region &region);
  }];
}

def Hymba_YieldOp : Hymba_Op<"yield", [Pure, Terminator, ReturnLike,
    HasParent<"ParallelBranchesOp">]> {
  let summary = "the result of a hymba.parallel_branches region";
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
  let hasVerifier = 0;
}

#endif // HYMBA_OPS
