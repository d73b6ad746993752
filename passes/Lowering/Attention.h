//===- Attention.h - hymba.attention work items -----------------*- C++ -*-===//
//
// The code of one attention work item, shared by the attention lowering
// and the parallel-branches lowering (which runs the same items next to the
// scan's).
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_PASSES_LOWERING_ATTENTION_H
#define HYMBA_PASSES_LOWERING_ATTENTION_H

#include "dialects/hymba/HymbaOps.h"
#include "passes/Passes.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::hymba {

/// Lowers one hymba.attention: its operands as buffers, a fresh output, and
/// the code for one work item. Every item makes one pass over the visible
/// keys with an online softmax (running max m, running sum l). Keys at
/// positions >= `position` come from this chunk, earlier ones from the
/// cache. The CPU form's item is a (row, head) pair accumulating the output
/// row in memory; the GPU form's item is one output element (row, head,
/// value column) whose accumulator is a register, so a decode step has
/// heads * v_head_dim threads instead of heads.
struct AttentionLowering {
  int64_t heads, kvHeads, window, numMeta, qd, vd, rep;
  float scale;
  /// CPU form: f32 lanes of the vectors a head's q, k, v rows and output
  /// accumulator are read in (0: one element at a time).
  int64_t vl = 0;
  /// `pos`: absolute position of the chunk's first key row (rows before it
  /// are in the cache); `qpos`: that of the first query row (pos +
  /// query_offset: a row tile's queries start inside the chunk).
  Value q, k, v, kc, vc, pos, qpos, rows, out;

  AttentionLowering(ImplicitLocOpBuilder &b, AttentionOp op,
                    int64_t vectorWidth = 0);

  /// Absolute position and first columns of row `t`, head `h`.
  struct Item {
    Value t, i, qCol0, kCol0, vCol0, oCol0;
  };
  Item itemAt(ImplicitLocOpBuilder &ib, Value t, Value h) const;

  /// Runs `body(j, carried)` for every key position j the query at absolute
  /// position i sees: the meta prefix [0, min(M, lo)) then the window
  /// [lo, i] with lo = max(i - W, 0). Returns the final carried values.
  using KeyBody = function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value,
                                                  ValueRange)>;
  SmallVector<Value> forEachVisibleKey(ImplicitLocOpBuilder &ib, Value i,
                                       ValueRange init, KeyBody body) const;

  /// `read(buffer, row)` on the row that holds key j: the chunk's key/value
  /// buffer or the cache (ring row), as one scf.if.
  using RowReader =
      function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value, Value)>;
  ValueRange atKey(ImplicitLocOpBuilder &kb, Value j, Value chunkBuf,
                   Value cacheBuf, RowReader read) const;

  /// scale * (q_row . k_j) for the item's head.
  Value score(ImplicitLocOpBuilder &kb, const Item &it, Value j) const;

  /// The online-softmax step for score s: (m', correction, p, l').
  struct SoftmaxStep {
    Value m, corr, p, l;
  };
  SoftmaxStep softmaxStep(ImplicitLocOpBuilder &kb, Value s, Value m,
                          Value l) const;

  /// CPU form, vectorized: query rows per item of the flash-style form.
  static constexpr int64_t rowBlock = 4;

  /// First visible window position of the query at absolute position i:
  /// max(i - W, 0) (0 without a window). `i` is an index, or a vector of
  /// i32 positions (one query per lane).
  Value windowStart(ImplicitLocOpBuilder &b, Value i) const;
  /// End of the visible meta prefix for window start `lo`: min(M, lo), of
  /// lo's type.
  Value metaEnd(ImplicitLocOpBuilder &b, Value lo) const;

  /// The online softmax's reference for a new running max (a scalar or a
  /// vector of f32) and the correction exp(m - reference) of the running
  /// sums: mNew, or 0 where no key has been seen yet (mNew = -inf), so that
  /// the corrections and weights there are 0, not exp(nan).
  std::pair<Value, Value> softmaxReference(ImplicitLocOpBuilder &b, Value m,
                                           Value mNew) const;

  /// CPU form, vectorized (flash-style), for chunks of fewer than vl rows
  /// but more than rowBlock: rows [t0, t0 + rowBlock) of every head of KV
  /// head `g`, over every key they see (walkKeys). The output rows
  /// accumulate in `out` and are divided by their sums at the end.
  void emitBlockItem(ImplicitLocOpBuilder &ib, Value t0, Value g) const;

  /// CPU form, vectorized, for chunks of at most rowBlock rows (decode):
  /// every query of the chunk over key numbers [split * keysPerSplit, +
  /// keysPerSplit) of chunkSpan. Its pack reads whole cache rows (every KV
  /// head) in order, which streams from memory at about twice the rate of
  /// one KV head's columns (a 256-byte piece of every 1280-byte row of
  /// Hymba's K cache, the pattern of a per-head item); the splits also give
  /// a decode step as many items as its context has key blocks, not 5. Its
  /// unnormalized output, running max and sum go to partO, partM and partL.
  void emitSplitItem(ImplicitLocOpBuilder &ib, Value split) const;

  /// After the items: a parallel loop over the chunk's queries (empty when
  /// it was not split), each query's output from the splits' partial
  /// results, the partial sums and outputs weighted by exp(m_s - max_s m_s).
  void emitSplitCombine(ImplicitLocOpBuilder &b) const;

  /// Keys per split item: four blocks of 16 (AVX-512) or eight of 8 keys,
  /// a few hundred KB of Hymba's K and V rows against the 13 KB of partial
  /// results every split writes.
  static constexpr int64_t keysPerSplit = 64;

  /// The i32 vector [0, 1, ..., vl - 1].
  Value laneIndices(ImplicitLocOpBuilder &b) const;

  /// The keys rows [t0, t0 + nr) see together: the meta prefix [0, n1)
  /// then the window from position a2, made disjoint; n keys in all.
  struct KeySpan {
    Value n1, a2, n;
  };
  KeySpan keySpan(ImplicitLocOpBuilder &b, Value t0, Value nr) const;

  /// Vectorized CPU form (set by the constructor): the key span of the
  /// chunk's rows, whether the chunk is split (an i1), the number of key
  /// splits (0 unless it is), queries per split (rows x heads), and the
  /// splits' partial results, one row per (split, query): output (x vd),
  /// running max, sum.
  KeySpan chunkSpan;
  Value splitChunk, splits, splitQueries, partO, partM, partL;

  /// What a flash-style item walks: the queries of rows [t0, t0 + nr) and of
  /// KV heads [g0, g0 + ng) (their heads' groups), over key numbers
  /// [kLo, kHi) of `span` (kLo a multiple of vl).
  struct KeyWalk {
    Value t0, nr, g0;
    int64_t ng;
    KeySpan span;
    Value kLo, kHi;
    bool prefetchNext;
  };

  /// The queries of a KeyWalk, KV head by KV head, each with its slot in the
  /// item's scratch (gl * nr * rep + qi for local KV head gl).
  struct QueryWalk {
    /// Slot, local KV head, number within its head's queries, row, head.
    struct Query {
      Value slot, gl, qi, t, h;
    };
    QueryWalk(const AttentionLowering &att, const KeyWalk &w);
    /// The query in `slot` (the inverse of forEach's numbering).
    Query at(ImplicitLocOpBuilder &b, Value slot) const;
    /// Query qi of local KV head gl.
    Query ofHead(ImplicitLocOpBuilder &b, Value gl, Value qi) const;
    /// fn(gl) for every local KV head (a loop unless there is one).
    void
    forEachHead(ImplicitLocOpBuilder &b,
                function_ref<void(ImplicitLocOpBuilder &, Value)> fn) const;
    /// fn for every query of local KV head gl (nr * rep of them).
    void forEachOf(
        ImplicitLocOpBuilder &b, Value gl,
        function_ref<void(ImplicitLocOpBuilder &, const Query &)> fn) const;
    /// Every query, KV head by KV head.
    void
    forEach(ImplicitLocOpBuilder &b,
            function_ref<void(ImplicitLocOpBuilder &, const Query &)> fn) const;
    const AttentionLowering &att;
    const KeyWalk &w;
  };

  /// Buffer row and first column of a query's output accumulator.
  using OutputAt = function_ref<std::pair<Value, Value>(
      ImplicitLocOpBuilder &, const QueryWalk::Query &)>;

  /// The flash-style key walk: keys in blocks of vl, per block the K and V
  /// rows of the walk's KV heads packed once into scratch read by each
  /// query, whose vl scores are one vector (dot products over the head dim
  /// folded by shuffles), masked to what the query sees, with one
  /// online-softmax step (max, vector exp, rescale) per block; p . V
  /// accumulates (unnormalized) into `oBuf` at outAt. Returns the scratch
  /// of every slot's running max and vl partial sums.
  std::pair<Value, Value> walkKeys(ImplicitLocOpBuilder &ib, const KeyWalk &w,
                                   Value oBuf, OutputAt outAt) const;

  /// p . V of a key block for the queries of local KV head gl: their
  /// weights in pBuf (query x key), their corrections in cBuf, the packed V
  /// rows in vPack; each query's accumulator (at outAt in oBuf) rescaled by
  /// its correction, then p . V added, a register tile of queries x value
  /// vectors at a time.
  void groupedPV(ImplicitLocOpBuilder &b, const QueryWalk &queries, Value gl,
                 Value pBuf, Value cBuf, Value vPack, Value oBuf,
                 OutputAt outAt) const;

  /// Chunk or cache rows (`m`) as one buffer type, so that a key's buffer
  /// is a select between the two.
  Value anyRows(ImplicitLocOpBuilder &b, Value m) const;

  /// Whether key number vi of `span` is in the chunk (else the cache), and
  /// its row there; key numbers past the span give its last key.
  std::pair<Value, Value> keyLocation(ImplicitLocOpBuilder &b,
                                      const KeySpan &span, Value vi) const;

  /// One prefetch per 64-byte line of the K columns [kCol0, + kWidth) and
  /// V columns [vCol0, + vWidth) of a key's rows.
  void prefetchRows(ImplicitLocOpBuilder &b, Value inChunk, Value row,
                    Value kCol0, Value vCol0, int64_t kWidth, int64_t vWidth,
                    int64_t locality) const;

  /// Copies keys [v0, v0 + vl) of `span` (key number, not position) into
  /// rows 0..vl-1 of the scratch blocks kPack (vl x kvGroups * qd) and vPack
  /// (vl x kvGroups * vd) from the chunk or the cache, the K columns from
  /// kCol0 and the V columns from vCol0; lanes past the span repeat its
  /// last key. With `prefetchNext`, also prefetches the same columns of the
  /// next block's rows (into L1 for one KV head's, into L2 for more).
  void packKeyBlock(ImplicitLocOpBuilder &kb, const KeySpan &span, Value v0,
                    Value kCol0, Value vCol0, int64_t kvGroups, Value kPack,
                    Value vPack, bool prefetchNext) const;

  /// CPU form, vectorized, for chunks of at least vl rows (prefill): rows
  /// [t0, t0 + vl) of every head of KV head `g`, one query per vector lane.
  /// The queries are packed transposed (head dim x lanes, scaled) once per
  /// item, the keys and values once per block of vl keys for all the
  /// group's heads; per block and head the scores are vl vectors (one per
  /// key, lanes = queries) accumulated by broadcast-key FMAs, the online
  /// softmax is element-wise across them (no horizontal reductions), and
  /// p . V accumulates into a transposed output block by broadcast-value
  /// FMAs. Every FMA of the two products feeds a full vector, where the
  /// block item's scores need a shuffle reduction per query and its p . V
  /// one chain per query. Defined in AttentionQueryLanes.cpp.
  void emitQueryLaneItem(ImplicitLocOpBuilder &ib, Value t0, Value g) const;

  /// Whether the chunk's queries fill vector lanes (rows >= vl): then the
  /// items are emitQueryLaneItem's, else emitBlockItem's.
  Value useQueryLanes(ImplicitLocOpBuilder &b) const;

  /// CPU form items: vectorized, row blocks (of vl rows when rows >= vl,
  /// else of rowBlock) x KV heads, or key splits (rows <= rowBlock); else
  /// rows x heads.
  Value itemCount(ImplicitLocOpBuilder &b) const;
  /// Item number -> emitQueryLaneItem, emitSplitItem or emitBlockItem
  /// (consecutive row blocks of one KV head are consecutive items), or
  /// emitItem.
  void emitItemAt(ImplicitLocOpBuilder &ib, Value item) const;

  /// CPU form: output row `t`, head `h`, accumulated in `out`.
  void emitItem(ImplicitLocOpBuilder &ib, Value t, Value h) const;

  /// GPU form: output element (row `t`, head `h`, value column `d`), its
  /// accumulator carried in a register through the key loop.
  void emitLane(ImplicitLocOpBuilder &ib, Value t, Value h, Value d) const;

  /// Items of the GPU form: rows * heads * vd.
  Value laneCount(ImplicitLocOpBuilder &b) const;
  /// Lane number -> (t, h, d), d fastest.
  void emitLaneAt(ImplicitLocOpBuilder &ib, Value lane) const;
};

/// The attention's loops (CPU: itemCount items; GPU: (row, head, value
/// column) items) built at `b`, storing into the op's init.
void buildAttentionLoops(ImplicitLocOpBuilder &b, AttentionOp op,
                         KernelForm form, int64_t vectorWidth);

} // namespace mlir::hymba

#endif // HYMBA_PASSES_LOWERING_ATTENTION_H
