//===- Passes.td - Hymba passes -----------------------------*- tablegen -*-===//
#ifndef HYMBA_PASSES
#define HYMBA_PASSES

include "mlir/Pass/PassBase.td"

// The loop shapes of the two lowering passes, one enum shared by both (and by
// the pipelines that pass it on).
def KernelFormOption
    : Option<"kernelForm", "kernel-form", "::mlir::hymba::KernelForm",
             /*default=*/"::mlir::hymba::KernelForm::CPU",
             "loop shapes of the lowering", [{::llvm::cl::values(
               clEnumValN(::mlir::hymba::KernelForm::CPU, "cpu",
                          "work items sized for a few threads with SIMD "
                          "inside"),
               clEnumValN(::mlir::hymba::KernelForm::GPU, "gpu",
                          "one output element, channel or row per item, "
                          "with accumulators and scan state in registers"))}]>;

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
  // Sets Hymba attributes even on a module without Hymba ops.
  let dependentDialects = ["::mlir::hymba::HymbaDialect"];
}

def HymbaPackWeights : Pass<"hymba-pack-weights", "ModuleOp"> {
  let summary = "Store projection weights panel-major (#hymba.panels)";
  let description = [{
    **Why.** A projection `y = x @ W^T` with W in PyTorch's `[out, in]`
    layout is either a dot product per output (reduction across vector
    lanes, one horizontal sum per output) or reads `W[n .. n+W, k]` with a
    stride of K elements. The register-tiled kernel that reaches the
    machine's GEMM rate is a sum of outer products: for each `k` it
    broadcasts `x[t, k]` for a few rows `t` and multiplies a vector of `W`
    consecutive output features. Stored in panels of `panel` output rows,
    K-major inside a panel, those features are contiguous and a panel is one
    forward sweep through memory (prefill reuses it from L1/L2, decode streams
    it at bandwidth). The weights are compile-time data, so the layout costs
    nothing at run time.

    **What.** Every `hymba.weight` whose uses are all projection weights
    (`hymba.linear`, `hymba.swiglu_mlp`, the `out_proj` of
    `hymba.hybrid_merge`) or embedding tables (`hymba.embed`, which a tied
    output head shares) gets the result encoding `#hymba.panels<panel>`. The
    logical type and every consumer stay as they were; the lowering reads the
    panel layout and `hymba-compile` writes the payload packed. The values
    and the scales of a quantized weight are packed together when every use
    of its `hymba.dequantize` qualifies (the scales become `[panels, groups,
    panel]`, one vector of scales per panel and group); the dequantized
    type stays plain. i4 values pack two lanes per byte, so they need an even
    `panel`. With `int8-interleave=4` int8 values are stored in quads along
    K (`#hymba.panels<panel, interleave = 4>`), the operand layout of the
    integer dot products, which then also quantize x (see
    hymba-vectorize-linear); a tensor whose K or group size is not a
    multiple of 4 keeps plain panels and f32 compute. int4 values are
    interleaved the same way (storage `[panels, K / 4, panel / 2, 4]` bytes,
    byte `[j, f]` holding input f of lanes j and j + panel / 2).

    **Invariants.** Runs before `hymba-assign-buffer-layout` (panel storage
    is padded to whole panels). All ops naming one tensor get the same
    encoding, or none does: a tensor with any other use (a norm, the conv,
    the meta rows) is left as it is. Idempotent. CPU kernel form only: the
    GPU lowering rejects packed weights.

    Before:
    ```mlir
    %w = hymba.weight %p["model.layers.0.mlp.up_proj.weight"] : memref<?xi8> -> tensor<45x32xf32>
    %y = hymba.linear %x, %w : tensor<?x32xf32>, tensor<45x32xf32> -> tensor<?x45xf32>
    ```
    After (`panel=16`):
    ```mlir
    %w = hymba.weight %p["model.layers.0.mlp.up_proj.weight"]
           : memref<?xi8> -> tensor<45x32xf32, #hymba.panels<16>>
    %y = hymba.linear %x, %w : tensor<?x32xf32>, tensor<45x32xf32, #hymba.panels<16>> -> tensor<?x45xf32>
    ```
  }];
  let options = [
    Option<"panel", "panel", "int64_t", /*default=*/"16",
           "output features per panel: the kernel's register tile width "
           "(hymba-compile: two vectors of the target, 16 for AVX2, 32 for "
           "AVX-512)">,
    Option<"interleave", "interleave", "int64_t", /*default=*/"1",
           "inputs (k) grouped in each lane of a panel row for dot-product "
           "instructions, on float weights: 1 = none, 2 = bf16 pairs "
           "(AVX512_BF16 vdpbf16ps, hymba-compile --compute=bf16)">,
    Option<"int8Interleave", "int8-interleave", "int64_t", /*default=*/"1",
           "the same for int8 and int4 quantized values: 4 = quads for VNNI's "
           "vpdpbusd (hymba-compile --compute=int8), applied where K and the "
           "group size are multiples of it (the scales stay plain panels)">
  ];
  // Sets Hymba attributes even on a module without Hymba ops.
  let dependentDialects = ["::mlir::hymba::HymbaDialect"];
}

def HymbaLowerStatefulToLoops : Pass<"hymba-lower-stateful-to-loops", "ModuleOp"> {
  let summary = "Lower attention, KV-cache writes, the conv and the scan to loops on buffers";
  let description = [{
    **Why.** These ops read and update explicit decode-time state (KV caches,
    conv windows, SSM states). Their natural form is loops over buffers; the
    state stays in place in the state arena, with no copies.

    **What.** `hymba.state_buffer` becomes a `memref.view` of the state arena.
    `hymba.attention` becomes an `scf.parallel` over (row, head) with a
    one-pass online softmax over exactly the visible keys: the meta prefix
    `[0, min(M, lo))` and the window `[lo, i]` with `lo = max(i - W, 0)`; keys
    at positions `>= position` come from the chunk, earlier ones from the
    cache (ring row `M + (p - M) mod W` for sliding-window layers). When
    `vector-width` (or a power of two below it, at least 4) divides both head
    dims, the CPU form is flash-style: an item is a block of query rows x
    the heads of one KV head, and walks the keys any of them sees in blocks
    of vl (the vector's lanes). Each block's K and V rows are first packed
    side by side into two small scratch blocks (the chunk-or-cache choice
    and the ring row made once per key, not once per key and query). A
    chunk of at least vl rows (prefill) has query-lane items: vl rows, one
    query per lane, packed transposed (head dim x lanes, scaled) once per
    item. Per key block and head the scores are vl vectors (one per key)
    accumulated by FMAs of a query column with a broadcast key element, the
    online softmax is element-wise across them (a vmaxps tree without NaN
    checks, one exp per key), and `p . V` accumulates into a transposed
    output block by FMAs of a key's weights with a broadcast value element:
    both products are register-tiled outer products, every FMA a full
    vector, with no horizontal reduction (the rows are stored back and
    divided by their sums at the end). A chunk of 1 to 4 rows (decode)
    splits its keys instead: an item is a range of 64 keys for every query
    of the chunk, all KV heads, and packs whole cache rows in order (a
    decode step reads every cache row from memory once; whole rows stream,
    where one KV head's columns of each row, the pattern of a per-head
    item, read at about half the rate), prefetching the next block's rows
    into L2; a decode step has as many items as its context has ranges,
    not as many as KV heads (5 in Hymba: 3 and 2 on two threads). Per KV
    head and query the vl scores of a block are one vector (vl dot
    products folded by shuffles), masked, with one online-softmax step per
    block: a max taken without NaN checks (a score is NaN only with a NaN
    input, which makes the output NaN anyway), one vector exp, the sum
    kept as vl partial sums. `p . V` then runs for the KV head's queries
    together, a register tile of queries x value vectors (each packed V
    vector loaded once a key for all of them), accumulating unnormalized
    into the item's rows of partial results beside its running max and
    sum. A second parallel loop, one item per query, combines the ranges:
    the sums and outputs weighted by exp(m_s - max m). Chunks of 5 rows up
    to vl have block items of 4 query rows x one KV head's heads over all
    their keys, the same per-block steps into the output rows, the next
    block's rows (the head's columns) prefetched into L1. Otherwise it
    works element by element
    with the row in memory. q, k and v are read through the buffer types
    they come with; the vector form needs a unit inner stride visible in
    those types (every column slice of a projection output has one) and
    falls back to the element-wise form otherwise.
    `hymba.kv_cache_write` copies the rows later queries can still see.
    `hymba.causal_conv1d` and `hymba.selective_scan` become an `scf.parallel`
    over channels with the state read at the start and written at the end.
    The CPU scan tile keeps its state and A = -exp(A_log) state-major
    ([state, channels], channels in the vector lanes); with a state of 16
    and a tile of a multiple of 16 channels it moves them in and out of
    the channel-major buffers as 16 x 16 blocks transposed in registers
    (row loads, four rounds of shuffles, row stores), not element-wise
    (gathers), which in a one-token decode step cost as much as the step.
    The ops are destination-passing style (`outs(%init)`) and the pass
    lowers their memref form: it runs after `one-shot-bufferize`, which
    bufferizes them through their BufferizableOpInterface (in place where
    the analysis allows; it may still give an op a fresh init, or copy
    one), and the loops read the operands' buffers and store into the
    init. An op still on tensors fails the pass ("run one-shot-bufferize
    first").

    The KV write is one `scf.parallel` over (row, K then V column): the rows
    it keeps land in distinct cache rows.

    **Conv.** CPU form (`vector-width` > 1): one item per block of
    `vector-width` channels (the lanes). Its K tap weights come from one
    load of the block's contiguous K x lanes weights, split by shuffles;
    it walks the chunk's rows in order carrying the last K - 1 extended
    input rows in registers (first the stored window), so each input row is
    loaded once and no tap chooses between chunk and window; after the last
    row the carried rows are the new window, which the item stores. On the
    1.5B shape (3200 channels, int4 weights, Zen 4, one thread) this took
    the conv from 3.8% to 0.2% of a 256-token prefill's samples (prefill
    63-66 -> 68-73 tokens/s in 4 alternated rounds) and from 2.1% to 0.2%
    of a decode step's. The channels past the last full block, the GPU form
    and buffers without a unit inner stride keep the element-wise form:
    one item per (row, channel) summing its taps from the chunk or the
    window (an `scf.if`), then an `scf.parallel` over channels refreshing
    the window.

    **GPU form** (`kernel-form=gpu`). Attention items are single output
    elements (row, head, value column) whose softmax state and accumulator
    are loop-carried registers; the scan is one item per channel with its
    `d_state` values loop-carried through the time loop (registers). In
    both forms a scan's folded B and C norms (`norms`, from
    `hymba-fold-scan-norms`) are applied as each row is read. A fused hybrid
    head is one `scf.parallel` over the attention elements followed by the
    scan channels. The CPU form keeps (row, head) attention items and the
    vectorizable channel-tile scan.

    **Fused hybrid heads.** `hymba.parallel_branches` becomes one
    `scf.parallel` whose items are the attention's items and the scan's
    `scan_tile`-channel tiles (CPU; when the tile divides the channels, else
    the two branches are lowered one after the other) or channels (GPU,
    attention first). On the CPU the attention items are spread evenly
    among the tiles (item i of N is attention item floor(i A / N) when
    (i A) mod N < A): threads take contiguous ranges of items, and in a
    decode step after a long prompt one attention item costs many tiles. In its memref form (one-shot-bufferize bufferizes it in
    place: each region yields its inner op's init) the loops store into
    those inits, which replace the op's results (an init that
    one-shot-bufferize allocated inside a region, because the original one
    was still live, is moved above the loops first).

    **Invariants.** Every state buffer has an `offset`
    (`hymba-assign-buffer-layout`); the ops are bufferized. Program order of
    state reads and writes is preserved: lowering never moves ops.

    Before:
    ```mlir
    hymba.selective_scan %u, %dt, %bias, %alog, %B, %C, %D, %z, %ss outs(%out : memref<?x64xf32>) : ...
    ```
    After:
    ```mlir
    scf.parallel (%c) = (%c0) to (%c64) step (%c1) {
      scf.for %t = %c0 to %rows step %c1 {
        ... softplus, exp(delta * A), state update, C . h + D u, * silu(z)
        memref.store %y, %out[%t, %c] : memref<?x64xf32>
      }
    }
    ```
  }];
  let options = [
    KernelFormOption,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "CPU form: f32 lanes of the vectors an attention item reads its "
           "q, k and v rows in and keeps its output row in (the target's "
           "vector width; 0 = one element at a time). Head dims that no "
           "power of two >= 4 up to it divides stay scalar.">
  ];
  let dependentDialects = ["arith::ArithDialect", "math::MathDialect",
                           "memref::MemRefDialect", "scf::SCFDialect",
                           "vector::VectorDialect"];
}

def HymbaLowerDenseToLinalg : Pass<"hymba-lower-dense-to-linalg", "ModuleOp"> {
  let summary = "Lower the stateless Hymba ops to linalg on tensors";
  let description = [{
    **Why.** Projections, norms, RoPE, the MLP and the merge are dense,
    stateless tensor computations: linalg is where MLIR tiles, fuses,
    vectorizes and parallelizes them.

    **What.** `hymba.linear` becomes a `linalg.generic` matmul against the
    transposed [out, in] weight with the weight widened inside the body (a
    bf16 weight is read as bf16). `hymba.rms_norm` becomes a row reduction
    plus an element-wise generic; `hymba.rope` one element-wise generic that
    gathers the partner half with `tensor.extract`; `hymba.swiglu_mlp` and
    `hymba.hybrid_merge` their matmuls and element-wise glue;
    `hymba.embed` a gather; `hymba.prepend_meta` two `tensor.insert_slice`s.
    `hymba.weight` becomes a `memref.view` of the parameter buffer wrapped in
    `bufferization.to_tensor restrict` (read-only).

    **Quantized x** (int8 or int4 values in quads along K,
    `--compute=int8`). The projection's generic reads x quantized per row
    and group (int8 values and an f32 scale, ActivationQuantization.h),
    built before it as `scf.for` loops over rows and groups on tensors
    whose body reads the group as vectors of up to 32 lanes
    (`vector.transfer_read`): the group's `vector.reduction <maximumf>` of
    `|x|`, its scale, its values (f64 divide, `roundeven`, clamp,
    `fptosi`), written with `vector.transfer_write` and `tensor.insert`.
    Explicit vectors, not loops left to LLVM's vectorizer: its versioned
    loops at every projection made the 1.5B `--compute=int8` build take
    66 s instead of 42 s.

    **GPU form** (`kernel-form=gpu`). Every projection becomes one
    all-parallel `linalg.generic` over output elements (an `scf.parallel`
    after bufferization) whose dot product is an `scf.for` carried in a
    register (no zero fill, no accumulator buffer). An RMS norm feeding a
    projection is folded into it: the row's sum of squares is accumulated
    in the same k loop and `rsqrt` scales the finished dot products (the
    norm op is then dead). Gate and up are one kernel (`silu(g) * u`), the
    down projection accumulates into the residual when the MLP's only user
    adds one, and the hybrid merge (two norms, mean, projection, residual) is
    one kernel. A standalone norm is a per-row reduction loop plus an
    element-wise generic.

    **Invariants.** Every weight has an `offset`. The weight's `to_tensor`
    is `restrict` (no other tensor aliases the view) and not `writable`;
    run `cse` first so that one weight has one `to_tensor` per function.
    The GPU-form kernels read their tensor inputs through read-only
    `bufferization.to_buffer`s and write fresh tensors (`outs` of a
    `tensor.empty`): they bufferize like any linalg op.

    Before:
    ```mlir
    %y = hymba.linear %x, %w : tensor<?x32xf32>, tensor<208x32xbf16> -> tensor<?x208xf32>
    ```
    After:
    ```mlir
    %y = linalg.generic {indexing_maps = [(t,n,k)->(t,k), (t,n,k)->(n,k), (t,n,k)->(t,n)],
                         iterator_types = ["parallel", "parallel", "reduction"]}
           ins(%x, %w : ...) outs(%zero : tensor<?x208xf32>) {
      ^bb0(%a: f32, %b: bf16, %acc: f32):
        %bw = arith.extf %b : bf16 to f32
        ...
    ```
  }];
  let options = [
    KernelFormOption
  ];
  let dependentDialects = ["arith::ArithDialect", "bufferization::BufferizationDialect",
                           "linalg::LinalgDialect", "math::MathDialect",
                           "memref::MemRefDialect", "scf::SCFDialect",
                           "tensor::TensorDialect", "vector::VectorDialect"];
}

def HymbaVectorizeLinear : Pass<"hymba-vectorize-linear", "ModuleOp"> {
  let summary = "Register-tiled vector code for the projections (x @ W^T)";
  let description = [{
    **Why.** Projections are nearly all of Hymba's arithmetic. In prefill
    they are GEMMs that reach the machine's rate only when operands are
    reused from registers; in decode every weight element is read once, so
    the weight must stream at memory bandwidth. Upstream
    `convert-linalg-to-loops` gives a scalar loop whose accumulator lives in
    memory, an order of magnitude slower.

    **Which ops.** Found by structure, not by name: a buffer-level
    `linalg.generic` with loops (t parallel, n parallel, k reduction), maps
    `x(t, k)`, `y(t, n)` and `w(n, k)` or the panel map
    `w(n floordiv W, k, n mod W)` (#hymba.panels storage), whose body adds
    `x * widen(w)` to `y`. Anything else is left alone.

    **Panel weights (the CPU default): outer products.** `scf.parallel` over
    the panels (each thread streams whole panels, which balances any thread
    count that divides the panel count); inside, `k-block` slices of K so the
    `k-block x W` panel slice stays in L1 while every row tile of x passes
    it. Every panel reads all of x; past a few MB of x (2048 rows of a
    K = 5504 input are 45 MB) x no longer stays in cache from one panel to
    the next and came from memory once per panel (0.73 of the rate at 512
    rows). So the panels pass over x in chunks of whole row tiles, at most
    `x-chunk-bytes` (8 MiB, a part of L3) of x each, and read the weights
    once per chunk instead. A register tile is `rows x (W / vector-width)`
    accumulators loaded
    from y; per k it loads `W / vector-width` weight vectors (bf16 widened
    in registers), broadcasts one x element per row and issues one
    `vector.fma` per accumulator; then stores the tile back. The row count
    comes from the register file: `rows = (vector-registers - nv - 1) / nv`
    for nv weight vectors (6 x 16 with AVX2's 16 ymm, 14 x 32 with AVX-512's
    32 zmm). The last `T % rows` rows run tiles of 8, 4, 2 and 1 rows (the
    decode step, without `decode-streams`, is one 1-row tile per panel); a
    1-row tile has too few accumulators to hide the FMA latency, so its k
    loop keeps 4 independent sets (k, k+1, k+2, k+3; 4 / S sets in a tile of
    S panels), summed before the store. Weight panels are zero-padded,
    so weight loads never need masks; the y columns of a last partial panel
    use `vector.maskedload` / `vector.maskedstore`. Quantized panels (int8,
    int4 weight storage, f32 compute): the weight vectors are unpacked in
    registers (sign-extending loads, a nibble shift or mask, a convert), the
    tile sums each group's unscaled products into fresh accumulators and
    adds each sum times its group's scale vector once per group: one FMA
    per accumulator and group instead of a multiply per weight vector and
    k, which took FMA-port slots from every row of the tile.

    **bf16 pairs (`#hymba.panels<W, interleave = 2>`, --compute=bf16).**
    Matched when the weight is the `[P, ceil(K / 2), W, 2]` bf16 storage read
    through `(n floordiv W, k floordiv 2, n mod W, k mod 2)` and the body
    multiplies x rounded to bf16 (the lowering's `roundToBF16`). x is packed
    once per projection into a `[T, ceil(K / 2)]` i32 buffer of bf16 pairs
    (round to nearest even, the pad input 0); the same micro-kernel then
    steps over pairs of k: one `memref.load` + `vector.broadcast` of a pair
    per row, `W / vector-width` loads of `2 * vector-width` bf16 per pair,
    and one `x86vector.avx512.dot` (`vdpbf16ps`) per accumulator. With
    `bf16-dot=false` each dot becomes two `vector.fma` of the widened odd
    and even halves, the order `vdpbf16ps` adds them in (the build machine's
    meta-prefix runner, when it lacks AVX512_BF16).

    **int8 x int8 (`--compute=int8`): integer dot products.** A projection
    whose x was quantized per group (int8 values and an f32 scale per row
    and group) and whose int8 weight panels are interleaved by 4 along K
    (`#hymba.panels<W, interleave = 4>`, body `acc + (sitofp(q_x) * s_x) *
    (sitofp(q_w) * extf(s_w))`) gets the same panel loops with an integer
    register tile (Int8DotKernel.h): per group, `rows x nv` i32 accumulators
    collect `vpdpbusd` (4 x vector-width multiply-adds each) of the weight
    vectors made unsigned (+128: an xor of the sign bits) against the x
    quads; then `128 * sum(q_x)` of the row's group, summed once per
    projection before the tiles (an i32 buffer [T, groups], freed after
    them), is taken back and each sum converted and added to the f32
    accumulators with one FMA by `s_x * s_w`. The weights are never widened
    to float. With `vnni=false maddubs=true` (AVX2 or AVX512BW without
    VNNI) the sums come from `pmaddubsw` + `pmaddwd` by ones, whose 16-bit
    pairs would saturate on the +128 weights: int8 multiplies `|q_x|` by
    the weights given x's sign (`psignb`; a select on zmm), which needs no
    bias or group sums; int4 multiplies the nibbles made `q + 8` (mask,
    xor) by `q_x` and takes back `8 * sum(q_x)`; its pairs (at most
    `2 * 15 * 127`) are summed in 16-bit lanes and widened by `pmaddwd`
    once per 32 inputs (8 quads: at most 30480), not once per quad. With
    `vnni=false` alone
    each vpdpbusd becomes widening multiplies and four strided shuffles.
    All three give the same integers, so the same f32 results.

    **Decode prefetch (`prefetch-distance`).** A one-row tile does a few
    instructions per cache line of weights and is bound by the lines in
    flight, which one sequential stream gets too few of from the hardware
    prefetcher. With `prefetch-distance=D` it issues one `memref.prefetch`
    per 64-byte line of weights, ceil(D / row bytes) rows ahead in its
    panel (past the panel's end: the next panel, which the thread reads
    next): per line of a row, or, where rows are shorter than a line (int8
    and int4 panels), on the rows of the chained k loop that start one. The f32 tile of int8 and int4 weights also prefetches its bf16
    scales, one 64-byte line per group row, as many groups ahead as the
    weight rows are. Multi-row tiles reuse each line for many rows and get
    none, and neither do float (f32, bf16) panels, which reach the read
    bandwidth without them (bf16 decode on Zen 4, two streams per tile:
    1.18x / 1.15x faster at 1 / 2 threads without prefetches).

    **Decode streams (`decode-streams`).** One thread reading one sequential
    stream does not reach the memory's read rate when it does more than a
    load per line: the hardware prefetcher runs a bounded distance ahead of
    each stream, and the out-of-order window covers few lines of a loop
    that unpacks and converts every weight vector. Two streams get twice
    the prefetcher's lines in flight. With `decode-streams=S > 1`, a
    one-row x (tested at run time: prefill chunks and decode steps share
    the code) takes its own branch: with H = (full panels) / S, item i < H
    of an `scf.parallel` is one tile over panels i, i + H, ..., i + (S - 1)
    H, all of K, `S x W / vector-width` accumulators per chain; the panels
    past S H (a last full one, the partial one) are items of one panel. A
    thread's static share of the items then reads S streams, each from its
    own part of the weight. Before, per panel p: `tile(p)`; after:
    `scf.if (T == 1) { scf.parallel i: tile(i, i + H) } else { ... }`. On
    the 1.5B shape at one thread (Zen 5) S = 2 raised decode from 12.3 to
    16-17 tokens/s with int8 weights, 7.3 to 8.2 bf16, 4.1 to 5.0-5.3 f32
    and 19.0 to 22 int4; S = 3 and 4 were no better than 2 beyond the noise
    (and need more registers than AVX2 has). The pipeline uses S = 2; the
    pass default is 1. Not applied to the integer dot-product tile.

    **Plain [N, K] weights: dot products.** An `scf.parallel` over blocks of
    4 output columns; 4x4 (rows x columns) tiles with 16 vector accumulators,
    1x4 tiles for the last `T % 4` rows and 1x1 tiles for the last `N % 4`
    columns; the reduction runs in steps of `vector-width`, then a
    `vector.reduction` and a scalar tail. Rows are processed `row-chunk` at a
    time. (Used when `hymba-pack-weights` did not run.)

    **Invariants.** Runs after bufferization. Operands whose minor dimension
    is not unit-stride are left to the generic lowering. y holds the initial
    value (zeros or a fused residual) and is accumulated into, as by the
    generic. Results equal the generic lowering up to float summation order
    (each output is summed in k order per k-block).

    Before:
    ```mlir
    linalg.generic {indexing_maps = [(t, n, k) -> (t, k),
                                     (t, n, k) -> (n floordiv 16, k, n mod 16),
                                     (t, n, k) -> (t, n)], ...}
        ins(%x, %w : memref<?x32xf32>, memref<3x32x16xbf16>) outs(%y : memref<?x45xf32>)
    ```
    After (`vector-width=8 vector-registers=16`: 6 x 16 tiles):
    ```mlir
    scf.for %r0 = %c0 to %rows step %c65532 {   // x chunks (8 MiB / 768 B)
      %r1 = arith.minui (%r0 + 65532), %rows
      scf.parallel (%p) = (%c0) to (%c3) step (%c1) {
        scf.for %kb = %c0 to %c32 step %c256 {
          scf.if %p < 2 {                      // full panels
            scf.for %t = %r0 to %r6 step %c6 {   // whole tiles of [r0, r1)
              12 x vector.load %y ...
              scf.for %k = %kb to %ke step %c1 iter_args(12 x vector<8xf32>) {
                2 x (vector.load %w[%p, %k, ..] : vector<8xbf16>, arith.extf)
                6 x (memref.load %x, vector.broadcast, 2 x vector.fma)
              }
              12 x vector.store
            }
            scf.if (rem & 4) {...}  scf.if (rem & 2) {...}  scf.if (rem & 1) {...}
          } else { ... vector.maskedload / vector.maskedstore for columns 32..44 }
        }
      }
    }
    ```
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector register (8 = AVX2, 16 = AVX-512)">,
    Option<"vectorRegisters", "vector-registers", "int64_t", /*default=*/"32",
           "architectural vector registers (16 = AVX2, 32 = AVX-512): sets "
           "the rows of a register tile">,
    Option<"kBlockSize", "k-block", "int64_t", /*default=*/"256",
           "reduction elements per panel slice (panel kernel): 256 x 32 f32 "
           "is 32 KB, an L1">,
    Option<"rowChunk", "row-chunk", "int64_t", /*default=*/"128",
           "dot kernel: rows of x per pass over the weights (a multiple of "
           "4): 128 rows of a 1600-wide f32 x are 800 KB, which stays in L2">,
    Option<"xChunkBytes", "x-chunk-bytes", "int64_t", /*default=*/"8388608",
           "panel kernel: bytes of x (rounded down to whole register tiles "
           "of rows) per pass over the panels; 0 = all rows in one pass. "
           "Every panel reads its chunk of x, which must stay in cache (L3) "
           "from one panel to the next">,
    Option<"bf16Dot", "bf16-dot", "bool", /*default=*/"true",
           "bf16 pair panels: AVX512_BF16 dot products "
           "(x86vector.avx512.dot); false: the same sums with f32 FMAs, for "
           "targets without AVX512_BF16">,
    Option<"vnni", "vnni", "bool", /*default=*/"true",
           "int8 dot-product projections use VNNI's vpdpbusd (AVX512_VNNI "
           "with vector-width=16, AVX-VNNI with 8); false: the same exact "
           "integer sums with portable vector ops, for targets without it">,
    Option<"maddubs", "maddubs", "bool", /*default=*/"false",
           "with vnni=false: the integer sums from pmaddubsw and pmaddwd "
           "(AVX2 with vector-width=8, AVX512BW with 16) instead of the "
           "portable vector ops">,
    Option<"prefetchDistance", "prefetch-distance", "int64_t",
           /*default=*/"0",
           "bytes ahead in its panel at which a one-row (decode) tile "
           "prefetches quantized weights; 0: no prefetches">,
    Option<"decodeStreams", "decode-streams", "int64_t", /*default=*/"1",
           "panels a one-row x (a decode step) reads side by side, each a "
           "sequential weight stream of its own; 1: one panel per tile">
  ];
  let dependentDialects = ["arith::ArithDialect", "LLVM::LLVMDialect",
                           "math::MathDialect", "memref::MemRefDialect",
                           "scf::SCFDialect", "vector::VectorDialect",
                           "x86vector::X86VectorDialect"];
}

def HymbaVectorizeRowReductions
    : Pass<"hymba-vectorize-row-reductions", "ModuleOp"> {
  let summary = "Row sums (the RMS norms' sums of squares) as vector loops";
  let description = [{
    **Why.** The RMS norms reduce each row to its sum of squares with a
    `linalg.generic` (parallel row, reduction column). Upstream
    `convert-linalg-to-loops` makes it a scalar loop that loads and stores
    the row's accumulator at every element; LLVM cannot keep it in a
    register (it cannot tell the accumulator's buffer from the input's), so
    the loop neither vectorizes nor overlaps its adds: one dependent add per
    element, outside any parallel region, about 4% of a 2048-token prefill
    on one thread and more on two.

    **What.** Rewrites every such reduction on buffers (every input an f32
    `[rows, K]` with a unit inner stride read through `(d0, d1)`, with a
    static K of at least `vector-width`; every output an f32 `[rows]`
    through `(d0)`; and a body that yields `out + e` per output with `e`
    built from the inputs by element-wise ops that read no accumulator)
    into a loop over rows holding up to 4 vector partial sums per output
    in registers (as many as the row has whole vectors): the body's ops
    cloned on vectors of `vector-width` lanes, the partial sums and then
    their lanes added, the remaining columns (fewer than one step of the
    partial sums) one at a time, and the total added to the output element.
    The adds keep the accumulating add's fast-math flags.

    **Invariants.** The sums are reassociated (lanes, partials, then the
    tail), which changes the last bits of a norm (the end-to-end suite
    checks the model against the float64 reference at 1e-4). Reductions of
    another shape, and bodies with other ops, are left to
    `convert-linalg-to-loops`. CPU pipeline only, after
    `hymba-vectorize-linear`.

    Before:
    ```mlir
    linalg.generic {indexing_maps = [(d0, d1) -> (d0, d1), (d0, d1) -> (d0)],
                    iterator_types = ["parallel", "reduction"]}
        ins(%x : memref<?x1600xf32>) outs(%s : memref<?xf32>) {
    ^bb0(%a: f32, %acc: f32):
      %sq = arith.mulf %a, %a : f32
      %sum = arith.addf %acc, %sq : f32
      linalg.yield %sum : f32
    }
    ```
    After:
    ```mlir
    scf.for %r = %c0 to %rows step %c1 {
      %p:4 = scf.for %c = %c0 to %c1600 step %c64 iter_args(...) {
        %v = vector.load %x[%r, %c] : memref<?x1600xf32>, vector<16xf32>
        %sq = arith.mulf %v, %v : vector<16xf32>
        ...  // 4 columns of 16, 4 partial sums
      }
      %t = vector.reduction <add>, %sum4 fastmath<reassoc> : vector<16xf32> into f32
      %tail = scf.for %c = %c1600 to %c1600 step %c1 iter_args(%t) ... // none here
      %old = memref.load %s[%r]
      memref.store (%old + %tail), %s[%r]
    }
    ```
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector (8 = AVX2, 16 = AVX-512; < 2 leaves the "
           "reductions alone)">
  ];
  let dependentDialects = ["arith::ArithDialect", "memref::MemRefDialect",
                           "scf::SCFDialect", "vector::VectorDialect"];
}

def HymbaVectorizeElementwise
    : Pass<"hymba-vectorize-elementwise", "ModuleOp"> {
  let summary = "Row-wise element-wise ops (norms applied, residual adds, "
                "gates, copies) as vector loops";
  let description = [{
    **Why.** Between the kernels, each layer applies its RMS norms, adds
    its residuals, gates the MLP and copies the attention's queries and
    keys out of the fused projection: about ten element-wise
    `linalg.generic` ops on `[rows, width]` buffers per layer. Upstream
    `convert-linalg-to-loops` makes them scalar loops, and LLVM's loop
    vectorizer then versions every one (runtime alias checks between its
    buffers, a vector body, an interleaved epilogue, a scalar remainder).
    For the 1.5B shape those copies were most of the ~150k LLVM
    instructions of the layer function, and most of the time the compiler
    spent in LLVM's optimizer and code generator. Emitted as vector loops
    here, the loop vectorizer leaves them alone and each op is a few dozen
    instructions.

    **What.** Rewrites every `linalg.generic` on buffers with two parallel
    loops whose outputs are `[rows, width]` buffers read through
    `(d0, d1)` with a unit inner stride and a static `width` of at least
    `vector-width`, whose inputs are read through `(d0, d1)` (same width,
    unit inner stride: a vector load), `(d0)` (one value per row: a load
    and a broadcast) or `(d1)` (`[width]`, unit stride: a vector load), and
    whose body holds only scalar element-wise ops (`arith`, `math`): per
    row, the body cloned on vectors of `vector-width` lanes over the row's
    whole vectors, then as it is over its last columns. Values from outside
    the body are broadcast; a bf16 -> f32 `arith.extf` widens by bits
    (exact).

    **Invariants.** Every element gets the same ops in the same order as
    in the scalar loop, so results are bit-identical. An output is the
    same buffer as each input and each other output, or provably disjoint
    from it (different roots, one of them an allocation); any other
    operand pair may overlap in part, and the op is left alone, as are ops
    with `linalg.index`, other maps, dynamic or narrow widths, and other
    body ops (`convert-linalg-to-loops` lowers them). CPU pipeline only,
    after `hymba-vectorize-row-reductions`.

    Before:
    ```mlir
    linalg.generic {indexing_maps = [(d0, d1) -> (d0, d1), (d0, d1) -> (d0),
                                     (d0, d1) -> (d1), (d0, d1) -> (d0, d1)],
                    iterator_types = ["parallel", "parallel"]}
        ins(%x, %rms, %w : memref<?x1600xf32>, memref<?xf32>, memref<1600xbf16>)
        outs(%y : memref<?x1600xf32>) {
    ^bb0(%a: f32, %s: f32, %g: bf16, %o: f32):
      %n = arith.mulf %a, %s : f32
      %gw = arith.extf %g : bf16 to f32
      %r = arith.mulf %n, %gw : f32
      linalg.yield %r : f32
    }
    ```
    After:
    ```mlir
    scf.for %r = %c0 to %rows step %c1 {
      scf.for %c = %c0 to %c1600 step %c16 {
        %a = vector.load %x[%r, %c] : memref<?x1600xf32>, vector<16xf32>
        %s = memref.load %rms[%r] : memref<?xf32>
        %sv = vector.broadcast %s : f32 to vector<16xf32>
        %g = vector.load %w[%c] : memref<1600xbf16>, vector<16xbf16>
        %n = arith.mulf %a, %sv : vector<16xf32>
        %gw = ... // bf16 bits << 16, bitcast to f32
        %v = arith.mulf %n, %gw : vector<16xf32>
        vector.store %v, %y[%r, %c] : memref<?x1600xf32>, vector<16xf32>
      }
      // 1600 is a whole number of vectors: no scalar loop
    }
    ```
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector (8 = AVX2, 16 = AVX-512; < 2 leaves the "
           "ops alone)">
  ];
  let dependentDialects = ["arith::ArithDialect", "memref::MemRefDialect",
                           "scf::SCFDialect", "vector::VectorDialect"];
}

def HymbaApproximateMath : Pass<"hymba-approximate-math", "ModuleOp"> {
  let summary = "Inline polynomial exp/expm1/log/log1p so CPU loops vectorize";
  let description = [{
    **Why.** `convert-math-to-llvm` turns `math.exp` and `math.log1p` into
    calls of libm's `expf`/`log1pf`. LLVM's loop vectorizer does not
    vectorize a loop whose body calls a function it has no vector variant
    of, so the selective scan's `exp(dt * A)` over `d_state`, the softplus of
    dt and the SiLU of the MLP and the gate ran one element per call: about
    a tenth of a 512-token prefill's time was spent inside `expf`.

    **What.** Applies upstream's polynomial approximations
    (`populateMathPolynomialApproximationPatterns`) to `exp`, `expm1`, `log`
    and `log1p`: range reduction plus a minimax polynomial, a few ulp of
    float32 over the whole range (inf, nan and underflow handled), built
    from arith/math ops that vectorize. Other math ops (sin, cos, pow of
    RoPE, rsqrt) keep their libm/LLVM lowering.

    **Invariants.** CPU pipeline only (NVVM has its own fast exp). The
    end-to-end suite checks the result against the float64 reference at
    1e-4.

    Before:
    ```mlir
    %e = math.exp %x : f32
    ```
    After:
    ```mlir
    %0 = arith.mulf %x, %cst_log2e ... %p = math.fma ... %e = arith.bitcast ... : i32 to f32
    ```
  }];
  let dependentDialects = ["arith::ArithDialect", "math::MathDialect",
                           "vector::VectorDialect"];
}

def HymbaMergeEquivalentFunctions
    : Pass<"hymba-merge-equivalent-functions", "ModuleOp"> {
  let summary = "One body for private functions that differ only in integer "
                "constants";
  let description = [{
    **Why.** The importer builds each decoder layer as a function of its own
    (`@hymba_layer_<i>`, called in order by `@hymba_layers`). Layers of one
    kind (global attention; a KV group's owner, which returns its chunk keys
    and values; a group's reader, which takes them) lower to the same loops
    and differ only in where their weights and state live: the byte offsets
    of their `memref.view`s into the parameter and state buffers. Without
    this pass the conversion to the LLVM dialect, the translation, O3 and
    instruction selection each handled every layer of the 1.5B model (32)
    separately, most of the compile time; after it they handle one function
    per kind (3).

    **What.** Private functions used only by `func.call` are compared in
    module order with the first function of each group found so far: same
    type, and op by op (pre-order, constants left out) the same names,
    attributes, properties, result and block argument types, with operands
    that correspond, or that are integer or index constants (compared at the
    use, so that CSE having merged constants differently does not matter).
    A function equal to a group's first up to such constants joins the
    group. The first function of each group with members gets one `index` or
    integer argument per constant use that differs in any member, in walk
    order, and keeps its name; every call of a member or of the first is
    pointed at it with its own constants appended; the members are erased.

    **Invariants.** Only integer and index scalar constants become
    arguments: floats, vectors, attributes and types must be equal, so loop
    shapes and vector types never become dynamic. A group takes a function
    only while the arguments stay at most `max-arguments`. Public functions
    (the entry points) and functions whose symbol is used other than by a
    call are left alone. Runs on buffers, after the projection and
    elementwise vectorization (whose loops were specialized for the layer's
    constant sizes) and before the conversion to the LLVM dialect.

    Before (two layers whose scale weights sit at different offsets):
    ```mlir
    func.func private @hymba_layer_1(%p: memref<?xi8>, %x: memref<?xf32>) {
      %c64 = arith.constant 64 : index
      %w = memref.view %p[%c64][] : memref<?xi8> to memref<16xf32>
      ...
    }
    func.func private @hymba_layer_3(%p: memref<?xi8>, %x: memref<?xf32>) {
      %c128 = arith.constant 128 : index
      %w = memref.view %p[%c128][] : memref<?xi8> to memref<16xf32>
      ...
    }
    call @hymba_layer_1(%p, %x) : (memref<?xi8>, memref<?xf32>) -> ()
    call @hymba_layer_3(%p, %x) : (memref<?xi8>, memref<?xf32>) -> ()
    ```
    After:
    ```mlir
    func.func private @hymba_layer_1(%p: memref<?xi8>, %x: memref<?xf32>,
                                     %off: index) {
      %w = memref.view %p[%off][] : memref<?xi8> to memref<16xf32>
      ...
    }
    %c64 = arith.constant 64 : index
    call @hymba_layer_1(%p, %x, %c64) : (memref<?xi8>, memref<?xf32>, index) -> ()
    %c128 = arith.constant 128 : index
    call @hymba_layer_1(%p, %x, %c128) : (memref<?xi8>, memref<?xf32>, index) -> ()
    ```
  }];
  let dependentDialects = ["mlir::arith::ArithDialect"];
  let options = [
    Option<"maxArguments", "max-arguments", "int64_t", /*default=*/"256",
           "the most constants of a group that may become arguments">,
  ];
}

def HymbaFreeAfterLastUse : Pass<"hymba-free-after-last-use", "ModuleOp"> {
  let summary = "Move each buffer's free right after its last use";
  let description = [{
    **Why.** The ownership-based deallocation of upstream's
    `buffer-deallocation-pipeline` frees a buffer at the end of the block
    that allocates it. A layer is one straight-line block, so every
    temporary of a layer stayed allocated until the layer returned (when
    all layers were one function, until the whole stack returned: a
    512-token prefill of the 1.5B model grew the heap by about 2 GB, each
    4 KB page a fresh zero-filled fault). Freed after its last use, a
    buffer's blocks are reused by the next temporaries while still in the
    cache (malloc hands the same blocks back).

    **What.** Moves every `memref.dealloc` of a `memref.alloc` of the same
    block to just after the last op of that block that uses the buffer or a
    value that may point into it: buffer-typed results of any op using one
    (views, casts, calls) or containing such a use (a loop or if that yields
    it), followed transitively.

    **Invariants.** A dealloc is only moved earlier, never past a use. It
    stays where it is when the buffer reaches another block through a
    branch, or when it frees a buffer allocated elsewhere (conditional frees
    of the ownership pipeline, function arguments).

    Before:
    ```mlir
    %a = memref.alloc(%n) : memref<?xf32>
    linalg.fill ins(%c : f32) outs(%a : memref<?xf32>)
    %b = memref.alloc(%n) : memref<?xf32>
    ...
    memref.dealloc %a : memref<?xf32>
    memref.dealloc %b : memref<?xf32>
    ```
    After:
    ```mlir
    %a = memref.alloc(%n) : memref<?xf32>
    linalg.fill ins(%c : f32) outs(%a : memref<?xf32>)
    memref.dealloc %a : memref<?xf32>
    %b = memref.alloc(%n) : memref<?xf32>
    ```
  }];
}

def HymbaUnshareFillInits : Pass<"hymba-unshare-fill-inits", "ModuleOp"> {
  let summary = "Give each op that writes into a filled tensor a fill of its own";
  let description = [{
    **Why.** CSE merges identical `linalg.fill`s of `tensor.empty`: every
    projection of the same output width, in every layer, then accumulates
    into one zero tensor. One-shot bufferization gives that tensor one
    buffer and, because each projection writes its init in place, copies it
    into a fresh buffer for every writer: a serial `memref.copy` of a
    `[T, N]` buffer per projection (in a 512-token prefill of the 1.5B
    model, megabytes per projection, on one thread while the other waits),
    and the shared buffer stays allocated across every layer.

    **What.** Runs on tensors, before bufferization. For every `linalg.fill`
    of a `tensor.empty`, each destination-style op of the same block that
    takes the filled tensor as an init (an `outs` operand) gets a clone of
    the `tensor.empty` and the fill, right before it. The first writer keeps
    the original when no other op reads it. Bufferization then writes the
    fill straight into each writer's buffer: no copy.

    **Invariants.** Values are unchanged (each writer still starts from the
    same constant). Reads of the filled tensor keep sharing it; writers in
    nested regions are left alone (the clone would run once per iteration).

    Before:
    ```mlir
    %e = tensor.empty(%t) : tensor<?x64xf32>
    %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<?x64xf32>) -> tensor<?x64xf32>
    %a = linalg.matmul ins(%x, %w : ...) outs(%z : tensor<?x64xf32>) -> tensor<?x64xf32>
    %b = linalg.matmul ins(%y, %v : ...) outs(%z : tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
    After:
    ```mlir
    %a = linalg.matmul ins(%x, %w : ...) outs(%z : tensor<?x64xf32>) -> tensor<?x64xf32>
    %e2 = tensor.empty(%t) : tensor<?x64xf32>
    %z2 = linalg.fill ins(%c0 : f32) outs(%e2 : tensor<?x64xf32>) -> tensor<?x64xf32>
    %b = linalg.matmul ins(%y, %v : ...) outs(%z2 : tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let dependentDialects = ["linalg::LinalgDialect", "tensor::TensorDialect"];
}

def HymbaFoldMetaTokens : Pass<"hymba-fold-meta-tokens", "ModuleOp"> {
  let summary = "Split the prompt-independent meta-token prefix out of @hymba_start";
  let description = [{
    **Why.** Hymba prepends M learned meta tokens (128 at 1.5B) to every
    prompt. Everything is causal, so their rows, and the KV entries, conv
    windows and SSM states they leave behind, never depend on the prompt.
    Computing them once per model instead of once per prompt cuts the first
    chunk from M + T rows to T: time to first token drops by about (T+M)/T.

    **What.** Adds `@hymba_prefix(params, state)`, exported with a C
    interface, which runs the meta rows through `@hymba_layers` from position
    0 and only updates `state`. Rewrites `@hymba_start` into a call of
    `@hymba_continue` at position M. Sets `hymba.meta_folded = M` on the
    module: `hymba-compile` then runs `@hymba_prefix` once at compile time
    (with the same generated code) and stores the state in the executable,
    whose runtime starts every sequence from that snapshot.

    **Invariants.** Exact (DECISIONS.md 3), not an approximation: the same
    code computes the same state, only earlier. A model without meta tokens
    is left unchanged. Idempotent.

    Before:
    ```mlir
    func.func @hymba_start(%p, %s, %ids) -> tensor<?x67xf32> {
      %h = hymba.prepend_meta %meta, %emb ...
      %o = call @hymba_layers(%p, %s, %h, %c0) ...
      %r = tensor.extract_slice %n[5, 0] [%T, 32] [1, 1] ...
    ```
    After:
    ```mlir
    func.func @hymba_prefix(%p, %s) {
      %h = hymba.prepend_meta %meta, %none : tensor<5x32xf32>, tensor<0x32xf32> -> tensor<?x32xf32>
      %o = call @hymba_layers(%p, %s, %h, %c0) ...
    }
    func.func @hymba_start(%p, %s, %ids) -> tensor<?x67xf32> {
      %r = call @hymba_continue(%p, %s, %ids, %c5) ...
    ```
  }];
  let dependentDialects = ["::mlir::hymba::HymbaDialect", "arith::ArithDialect", "func::FuncDialect",
                           "tensor::TensorDialect"];
}

def HymbaFoldScanNorms : Pass<"hymba-fold-scan-norms", "ModuleOp"> {
  let summary = "Fold the RMS norms of the scan's B and C into the scan";
  let description = [{
    **Why.** Hymba normalises the selective scan's B and C rows (`d_state`
    wide) with RMS norms of their own. Lowered separately, each norm is a
    kernel writing a `[T, d_state]` buffer that the scan reads right back.
    The GPU-form scan can normalise a row as it reads it instead (a loop
    over `d_state` in registers), and stating that in the IR lets every
    later pass, one-shot-bufferize included, see what the scan computes.

    **What.** A `hymba.selective_scan` on tensors whose B and C are both
    results of `hymba.rms_norm` with the same epsilon takes the norms'
    inputs as B and C, their weights as `norms(%wb, %wc)` and the epsilon as
    `norm_epsilon` (B and C may be one norm's result; it is folded into
    both); a norm left without users is erased. The driver runs it
    in the GPU kernel form only (`--kernel-form=gpu`, `--target=cuda`),
    where each channel is a thread of its own; the CPU form keeps the norms
    as kernels (its lowering handles a folded scan too, normalising each row
    once per tile and time step).

    **Invariants.** Exact: the scan's lowering applies the same formula as
    the norm's (`x * rsqrt(mean(x^2) + eps) * w`, the sum taken in `d_state`
    order). Scans already folded, in their memref form, or with B or C not
    produced by a norm, are left alone.

    Before:
    ```mlir
    %bn = hymba.rms_norm %b, %wb {epsilon = 1.0e-06 : f32} : ...
    %cn = hymba.rms_norm %c, %wc {epsilon = 1.0e-06 : f32} : ...
    %y = hymba.selective_scan %u, %dt, %bias, %alog, %bn, %cn, %D, %z, %ss outs(%e : ...) : ...
    ```
    After:
    ```mlir
    %y = hymba.selective_scan %u, %dt, %bias, %alog, %b, %c, %D, %z, %ss norms(%wb, %wc : ...)
           outs(%e : ...) {norm_epsilon = 1.0e-06 : f32} : ...
    ```
  }];
}

def HymbaTileSelectiveScan : Pass<"hymba-tile-selective-scan", "ModuleOp"> {
  let summary = "Tile the selective scan over channels and chunk it over time";
  let description = [{
    **Why.** The scan is sequential in time but every channel is independent
    (B and C are shared, the state is per channel). Tiles of channels are
    units of parallel work (threads on the CPU, thread blocks on a GPU), and a
    small static tile lets the loop lowering put channels innermost, keep the
    tile's state in a transposed stack buffer and vectorize across channels.
    Chunking time bounds the rows a tile touches at once.

    **What.** The scan's TilingInterface (iteration space (time, channel):
    channels parallel, time a `reduction` that only a sequential loop may
    tile, since the state flows from one chunk to the next through the
    buffer) with `scf::tileUsingSCF`: a `hymba.selective_scan` over `[T, E]`
    with `E` a multiple of `channel-tile` becomes an `scf.forall` over
    channel tiles writing its `[T, channel-tile]` results with
    `tensor.parallel_insert_slice`. Each tile scans slices of u, dt, z
    (columns), dt_bias, a_log, D (rows), a `memref.subview` of the state and
    its slice of the destination; with `time-chunk > 0` an `scf.for` over
    row chunks tiles it again. The transform dialect reaches the same
    interface (`transform.structured.tile_using_forall`, `tile_using_for`):
    `hymba-compile --transform-script` applies a schedule of one's own.

    **Invariants.** Exact: the per-channel recurrence and its order in time
    are unchanged. Scans that are already at most one tile wide, or whose
    width is not a multiple of the tile, are left alone.

    Before:
    ```mlir
    %y = hymba.selective_scan %u, %dt, ... , %ss : tensor<?x64xf32>, ... memref<64x4xf32> -> tensor<?x64xf32>
    ```
    After (channel-tile=16, time-chunk=32):
    ```mlir
    %y = scf.forall (%c) = (0) to (64) step (16) shared_outs(%o = %init) -> (tensor<?x64xf32>) {
      %st = memref.subview %ss[%c, 0] [16, 4] [1, 1] : memref<64x4xf32> to memref<16x4xf32, strided<[4, 1], offset: ?>>
      %o_c = tensor.extract_slice %o[0, %c] [%rows, 16] [1, 1] : ...
      %r = scf.for %t = %c0 to %rows step %c32 iter_args(%acc = %o_c) -> (tensor<?x16xf32>) {
        %n = affine.min ...
        %acc_t = tensor.extract_slice %acc[%t, 0] [%n, 16] [1, 1] : ...
        %part = hymba.selective_scan %u_c, %dt_c, ..., %st outs(%acc_t : tensor<?x16xf32>) : tensor<?x16xf32>, ... -> tensor<?x16xf32>
        ...
      }
      scf.forall.in_parallel { tensor.parallel_insert_slice %r into %o[0, %c] [%rows, 16] [1, 1] ... }
    }
    ```
  }];
  let options = [
    Option<"channelTile", "channel-tile", "int64_t", /*default=*/"16",
           "channels per tile (the vector width on the CPU)">,
    Option<"timeChunk", "time-chunk", "int64_t", /*default=*/"64",
           "rows per time chunk (0: the whole chunk at once)">
  ];
  let dependentDialects = ["affine::AffineDialect", "arith::ArithDialect",
                           "memref::MemRefDialect", "scf::SCFDialect",
                           "tensor::TensorDialect"];
}

def HymbaFuseHybridHeads : Pass<"hymba-fuse-hybrid-heads", "ModuleOp"> {
  let summary = "Fuse the hybrid head: branches in one parallel region, one merge epilogue";
  let description = [{
    **Why.** In every Hymba layer the attention and SSM branches come from one
    input projection and end in one merge: two RMSNorms, their mean, the
    output projection, then the residual add. Unfused, the merge result is
    materialised only to be added to the residual stream in a separate pass.

    The two branches are independent, yet lowered one after the other they
    cost two fork/joins per layer, which dominates small-model decode.

    **What.** (1) Each layer's `hymba.attention` and the layer's
    `hymba.selective_scan` (the next scan in the block) become the two
    regions of one `hymba.parallel_branches` at the scan's place;
    `hymba-lower-stateful-to-loops` lowers that op to one `scf.parallel`
    whose items are the attention's items and the scan's `scan-tile`-channel
    tiles, i.e. both branches in one parallel region.
    (2) `arith.addf(x, hymba.hybrid_merge(...))` (either
    operand order) becomes `hymba.hybrid_merge(...) residual(x)`. Its lowering is one fused
    epilogue: a single reduction generic for both norms' sums of squares, a
    single element-wise generic for both norms and the mean, and the output
    projection accumulating directly into the residual. The fused input
    projection needs no rewrite: the importer emits one `hymba.linear` whose
    column slices feed both branches and bufferize to views, not copies.

    **Invariants.** Moving the attention down to the scan is checked, not
    assumed: every op between them that uses the attention's result, or
    whose declared memory effects (`MemoryEffectOpInterface`) conflict with
    the attention's or with such an op's (a write to a buffer the other
    touches; state buffers with different names are disjoint, anything else
    may alias), moves after the new op in its order; the others stay before
    it. If the scan itself would have to follow the attention, nothing is
    fused. In a Hymba layer that moves exactly the KV-cache write. Only a
    merge whose result has no other user is fused. Results are unchanged up
    to float summation order (the residual is the accumulator's initial
    value instead of a later addend). Runs before
    `hymba-tile-selective-scan`, which leaves the scans inside
    `hymba.parallel_branches` alone.

    Before:
    ```mlir
    %att = hymba.attention %q, %k, %v, %kc, %vc at %pos {...}
    hymba.kv_cache_write %k, %v into %kc, %vc at %pos {...}
    %u = hymba.causal_conv1d ...          // ... the SSM chain ...
    %ssm = hymba.selective_scan %u, ...
    %m = hymba.hybrid_merge %att, %ssm, %w1, %w2, %out {epsilon = 1.0e-06 : f32} : ...
    %h = arith.addf %x, %m : tensor<?x1600xf32>
    ```
    After:
    ```mlir
    %u = hymba.causal_conv1d ...          // ... the SSM chain ...
    %att, %ssm = hymba.parallel_branches scan_tile(16) : tensor<?x3200xf32>, tensor<?x3200xf32> {
      %a = hymba.attention %q, %k, %v, %kc, %vc at %pos {...}
      hymba.yield %a : tensor<?x3200xf32>
    } {
      %y = hymba.selective_scan %u, ...
      hymba.yield %y : tensor<?x3200xf32>
    }
    hymba.kv_cache_write %k, %v into %kc, %vc at %pos {...}
    %h = hymba.hybrid_merge %att, %ssm, %w1, %w2, %out residual(%x : tensor<?x1600xf32>) {epsilon = 1.0e-06 : f32} : ...
    ```
  }];
  let options = [
    Option<"scanTile", "scan-tile", "int64_t", /*default=*/"16",
           "channels per scan work item of the CPU form's shared parallel "
           "loop (recorded on hymba.parallel_branches)">
  ];
  let dependentDialects = ["arith::ArithDialect"];
}

def HymbaGPUCopiesToLoops : Pass<"hymba-gpu-copies-to-loops", "ModuleOp"> {
  let summary = "Turn host-side buffer copies into parallel loops (kernels)";
  let description = [{
    **Why.** Bufferization materialises some tensor ops as `memref.copy`; for
    `hymba.prepend_meta` it copies the meta rows and the chunk into one
    buffer. On the host a `memref.copy` becomes a `memcpy` through host
    pointers, which device buffers do not have.

    **What.** Every `memref.copy` outside kernels becomes an `scf.parallel`
    over the copied shape that loads from the source and stores to the
    target. The GPU mapping then makes it a kernel like any other loop.

    **Invariants.** Runs on bufferized IR, before the parallel loops are
    mapped to the GPU. Source and target have the same shape (the copy's own
    verifier).

    Before:
    ```mlir
    memref.copy %meta, %rows : memref<5x32xf32> to memref<5x32xf32, strided<[32, 1]>>
    ```
    After:
    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%d0, %d1) step (%c1, %c1) {
      %v = memref.load %meta[%i, %j] : memref<5x32xf32>
      memref.store %v, %rows[%i, %j] : memref<5x32xf32, strided<[32, 1]>>
      scf.reduce
    }
    ```
  }];
  let dependentDialects = ["arith::ArithDialect", "memref::MemRefDialect",
                           "scf::SCFDialect"];
}

def HymbaGPUFlattenParallelLoops
    : Pass<"hymba-gpu-flatten-parallel-loops", "func::FuncOp"> {
  let summary = "Collapse every outermost scf.parallel into one dimension";
  let description = [{
    **Why.** `gpu-map-parallel-loops` maps the first dimension of a tiled
    `scf.parallel` to the threads of a block and the others to grid
    dimensions. For a `[rows, cols]` loop that puts rows on threads: in a
    decode step (one row) all but one thread of each block idle, and
    neighbouring threads read addresses a row apart.

    **What.** Each outermost multi-dimensional `scf.parallel` (outside
    kernels) is collapsed into one dimension, row-major
    (`scf::collapseParallelLoops`), so consecutive items, i.e. consecutive
    columns, go to consecutive threads and reads coalesce. The grid is then
    sized by the real item count when `scf-parallel-loop-tiling` splits the
    loop into blocks.

    **Invariants.** Loops already inside a `gpu.launch` and nested parallel
    loops are left alone. The body is unchanged apart from recovering the
    original indices with `divui`/`remui`.

    Before:
    ```mlir
    scf.parallel (%t, %j) = (%c0, %c0) to (%rows, %c208) step (%c1, %c1) { ... }
    ```
    After:
    ```mlir
    %n = arith.muli %rows, %c208 : index
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      %t = arith.divui %i, %c208 : index
      %j = arith.remui %i, %c208 : index
      ...
    }
    ```
  }];
  let dependentDialects = ["arith::ArithDialect", "scf::SCFDialect"];
}

def HymbaGPUFuseIndependentLoops
    : Pass<"hymba-gpu-fuse-independent-loops", "func::FuncOp"> {
  let summary = "Run neighbouring parallel loops on disjoint memory as one kernel";
  let description = [{
    **Why.** Each outermost `scf.parallel` becomes one kernel launch, and in
    a decode step of a small model the launches, not the arithmetic, take
    the time. Several neighbours in a Hymba layer touch disjoint memory:
    RoPE on the queries, RoPE on the keys and the causal conv; the
    conv-window update and the SSM input projection; the KV-cache write and
    the hybrid merge.

    **What.** Two consecutive flat loops (one dimension, from 0, step 1, as
    `hymba-gpu-flatten-parallel-loops` leaves them) become one loop over
    `nA + nB` items: items below `nA` run the first body, the others the
    second body at `i - nA`. Applied repeatedly, so runs of independent
    loops merge into one. Ops between the two (index arithmetic, views,
    allocations) move above the first.

    **Invariants.** Loops are fused only when neither writes memory the
    other reads or writes. Accesses are the loads and stores in the bodies,
    traced through views to their buffer; views of the parameter and state
    arenas at constant offsets are compared by byte range, anything else by
    buffer. A body with any other memory effect, or anything between the
    loops that frees, reads or writes memory, prevents the fusion.

    Before:
    ```mlir
    scf.parallel (%i) = (%c0) to (%n) step (%c1) { ... q ... }
    scf.parallel (%j) = (%c0) to (%m) step (%c1) { ... k ... }
    ```
    After:
    ```mlir
    %nm = arith.addi %n, %m : index
    scf.parallel (%i) = (%c0) to (%nm) step (%c1) {
      %first = arith.cmpi ult, %i, %n : index
      scf.if %first { ... q ... } else { %j = arith.subi %i, %n ... k ... }
    }
    ```
  }];
  let dependentDialects = ["arith::ArithDialect", "scf::SCFDialect"];
}

def HymbaGPUDeviceBuffers : Pass<"hymba-gpu-device-buffers", "ModuleOp"> {
  let summary = "Put the model's buffers in GPU memory; the host never touches them";
  let description = [{
    **Why.** After kernel outlining the host side of the model only
    allocates, launches kernels and frees. Its intermediate buffers must live
    in device memory, and proving that the host never dereferences one is
    what lets the runtime queue all work on one stream and synchronize only
    when it copies the logits back.

    **What.** Model functions are those that launch kernels, directly or
    through calls. In them, every `memref.alloc` whose buffer (or a view of
    it) reaches a kernel launch, a call to a model function or a return
    becomes a device `gpu.alloc`; its `memref.dealloc` becomes a
    `gpu.dealloc` (made asynchronous by `gpu-async-region`). Host
    bookkeeping buffers (buffer deallocation's ownership flags) stay on the
    host. Function arguments of model functions (parameters, state, token
    ids) are device buffers too: the runtime passes device pointers.

    **Invariants (checked).** No host operation of a model function reads or
    writes a device buffer; one that does is reported as an error naming the
    op. Runs after `gpu-kernel-outlining` and before `gpu-to-llvm`.

    Before:
    ```mlir
    %b = memref.alloc(%n) : memref<?x64xf32>
    gpu.launch_func @k::@k blocks in (%g, %c1, %c1) threads in (%c256, %c1, %c1) args(%b : memref<?x64xf32>)
    memref.dealloc %b : memref<?x64xf32>
    ```
    After:
    ```mlir
    %b = gpu.alloc  (%n) : memref<?x64xf32>
    gpu.launch_func @k::@k blocks in (%g, %c1, %c1) threads in (%c256, %c1, %c1) args(%b : memref<?x64xf32>)
    gpu.dealloc  %b : memref<?x64xf32>
    ```
  }];
  let dependentDialects = ["gpu::GPUDialect", "memref::MemRefDialect"];
}

#endif // HYMBA_PASSES
