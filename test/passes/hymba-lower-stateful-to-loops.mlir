// RUN: hymba-opt %s -split-input-file -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" -hymba-lower-stateful-to-loops | FileCheck %s
// RUN: hymba-opt %s -split-input-file -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" -hymba-lower-stateful-to-loops=kernel-form=gpu | FileCheck %s --check-prefix=GPU
// RUN: not hymba-opt %s -split-input-file -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" -hymba-lower-stateful-to-loops=kernel-form=tpu 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: hymba-opt %s -split-input-file -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" -hymba-lower-stateful-to-loops=vector-width=0 | FileCheck %s --check-prefix=SCALAR
// BAD: for the --kernel-form option: Cannot find option named 'tpu'!

// State buffers become views of the state arena at their offsets.
// CHECK-LABEL: func @state
// CHECK:         %[[OFF:.*]] = arith.constant 128 : index
// CHECK:         memref.view %{{.*}}[%[[OFF]]][] : memref<?xi8> to memref<4x8xf32>
// CHECK-NOT:     hymba.state_buffer
func.func @state(%s: memref<?xi8>) -> memref<4x8xf32> {
  %b = hymba.state_buffer %s["layers.0.ssm_state"] {offset = 128 : i64} : memref<?xi8> -> memref<4x8xf32>
  return %b : memref<4x8xf32>
}

// -----

// Attention: parallel over (row, head), one online-softmax pass over the
// meta prefix and then the window; keys from the chunk or from the ring.
// (After one-shot-bufferize the init is the function's buffer argument,
// which the loops write: no allocation, no to_tensor.)
// CHECK-LABEL: func @attention
// CHECK-SAME:    %[[OUT:[^:]*]]: memref<?x12xf32>) -> memref<?x12xf32>
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C3:.+]] = arith.constant 3 : index
// CHECK-DAG:     %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG:     %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NOT:     memref.alloc
// CHECK:         scf.parallel (%[[T:.*]], %[[H:.*]]) = (%[[C0]], %[[C0]]) to (%{{.*}}, %[[C3]]) step (%[[C1]], %[[C1]])
// CHECK:           arith.cmpi uge, %{{.*}}, %[[C3]]
// CHECK:           arith.minui %{{.*}}, %[[C2]]
// CHECK:           scf.for {{.*}} iter_args(%{{.*}} = %[[NEGINF]], %{{.*}} = %[[ZERO]]) -> (f32, f32)
// CHECK:             arith.cmpi uge
// CHECK:             scf.if {{.*}} -> (f32)
// CHECK:             arith.remui
// CHECK:             arith.maximumf
// CHECK:             math.exp
// CHECK:             memref.store %{{.*}}, %[[OUT]]
// CHECK-NOT:     hymba.attention
// CHECK-NOT:     bufferization.to_tensor
// CHECK:         return %[[OUT]]
// GPU form: one item per output element, the accumulator in a register.
// GPU-LABEL: func @attention
// GPU-DAG:     %[[C0:.+]] = arith.constant 0 : index
// GPU-DAG:     %[[C2:.+]] = arith.constant 2 : index
// GPU-DAG:     %[[C3:.+]] = arith.constant 3 : index
// GPU-DAG:     %[[C4:.+]] = arith.constant 4 : index
// GPU:         scf.parallel (%[[T:.*]], %[[H:.*]], %[[D:.*]]) = (%[[C0]], %[[C0]], %[[C0]]) to (%{{.*}}, %[[C3]], %[[C4]])
// GPU:           scf.for {{.*}} iter_args(%{{.*}} = %cst{{.*}}, %{{.*}} = %cst{{.*}}, %{{.*}} = %cst{{.*}}) -> (f32, f32, f32)
// The q.k dot product keeps independent partial sums (head dim 2: two).
// GPU:               scf.for %{{.*}} = %[[C0]] to %[[C2]] step %[[C2]] iter_args({{.*}}) -> (f32, f32)
// GPU:             arith.maximumf
// GPU:           memref.store %{{.*}}, %{{.*}}[%[[T]], %{{.*}}] : memref<?x12xf32>
// GPU-NOT:     hymba.attention
func.func @attention(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>,
                     %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %pos: index, %init: tensor<?x12xf32>) -> tensor<?x12xf32> {
  %a = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<?x12xf32>)
      {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32}
      : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return %a : tensor<?x12xf32>
}

// -----

// A row tile (query_offset %t0): query row t is at %pos + %t0 + t, where
// its window and meta bounds start; keys at or after %pos still come from
// the chunk (row j - %pos), earlier ones from the cache.
// CHECK-LABEL: func @attention_row_tile
// CHECK-SAME:    %[[POS:[^:]*]]: index, %[[T0:[^:]*]]: index, %{{[^:]*}}: memref<?x12xf32>)
// CHECK:         %[[QPOS:.*]] = arith.addi %[[POS]], %[[T0]] : index
// CHECK:         scf.parallel (%[[T:.*]], %[[H:.*]]) =
// CHECK:           %[[I:.*]] = arith.addi %[[QPOS]], %[[T]] : index
// CHECK:           arith.cmpi uge, %[[I]], %{{.*}}
// CHECK:           scf.for %[[J:.*]] = {{.*}} iter_args
// CHECK:             arith.cmpi uge, %[[J]], %[[POS]] : index
// CHECK:               arith.subi %[[J]], %[[POS]] : index
// CHECK-NOT:     hymba.attention
// GPU-LABEL: func @attention_row_tile
// GPU-SAME:    %[[POS:[^:]*]]: index, %[[T0:[^:]*]]: index, %{{[^:]*}}: memref<?x12xf32>)
// GPU:         %[[QPOS:.*]] = arith.addi %[[POS]], %[[T0]] : index
// GPU:         scf.parallel (%[[T:.*]], %[[H:.*]], %[[D:.*]]) =
// GPU:           arith.addi %[[QPOS]], %[[T]] : index
// GPU-NOT:     hymba.attention
func.func @attention_row_tile(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>,
                              %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %pos: index,
                              %t0: index, %init: tensor<?x12xf32>) -> tensor<?x12xf32> {
  %a = hymba.attention %q, %k, %v, %kc, %vc at %pos query_offset(%t0) outs(%init : tensor<?x12xf32>)
      {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32}
      : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return %a : tensor<?x12xf32>
}

// -----

// CPU form with head dims the vector width divides (8 here). A chunk of at
// least 8 rows (prefill) has query-lane items: 8 query rows of every head of
// one KV head (here 2 heads, 1 KV head), one query per lane. The queries are
// packed transposed and scaled by 0.5; per block of 8 keys the K and V rows
// are packed once for both heads (no prefetch: prefill's keys are reused,
// not streamed); per head the 8 scores are 8 vectors (lanes = queries)
// accumulated by FMAs of a query column with a broadcast key element,
// masked, combined element-wise (a vmaxps tree, one exp per key), and p . V
// accumulates into the transposed output by FMAs of a key's weights with a
// broadcast value element. The rows are divided by their sums and stored
// back at the end.
// CHECK-LABEL: func @attention_vectors
// CHECK-SAME:    %[[OUT:[^:]*]]: memref<?x16xf32>) -> memref<?x16xf32>
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C4:.+]] = arith.constant 4 : index
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : index
// CHECK-DAG:     %[[C64:.+]] = arith.constant 64 : index
// CHECK-DAG:     %[[HALF:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG:     %[[NEGINF:.+]] = arith.constant dense<0xFF800000> : vector<8xf32>
// CHECK-DAG:     %[[LANES:.+]] = arith.constant dense<[0, 1, 2, 3, 4, 5, 6, 7]> : vector<8xi32>
// A chunk of 1 to 4 rows (decode) splits its keys instead: ceil(keys / 64)
// items, whose partial results (output, running max, sum: one row per split
// and query) are allocated before the loop.
// CHECK:         %[[ROWS:.*]] = memref.dim
// CHECK:         %[[NSPLIT:.*]] = arith.ceildivui %{{.*}}, %[[C64]] : index
// CHECK:         %[[SPLITS:.*]] = arith.select %[[ISSPLIT:.*]], %[[NSPLIT]], %[[C0]] : index
// CHECK:         %[[PO:.*]] = memref.alloc(%[[PROWS:.*]]) : memref<?x8xf32>
// CHECK:         %[[PM:.*]] = memref.alloc(%[[PROWS]]) : memref<?xf32>
// CHECK:         %[[PL:.*]] = memref.alloc(%[[PROWS]]) : memref<?xf32>
// CHECK:         %[[BLOCKS:.*]] = arith.ceildivui %[[ROWS]], %[[C4]] : index
// CHECK:         %[[LBLOCKS:.*]] = arith.ceildivui %[[ROWS]], %[[C8]] : index
// CHECK:         %[[FILLS:.*]] = arith.cmpi uge, %[[ROWS]], %[[C8]] : index
// CHECK:         %[[NOLANES:.*]] = arith.select %[[ISSPLIT]], %[[SPLITS]], %[[BLOCKS]] : index
// CHECK:         %[[ITEMS:.*]] = arith.select %[[FILLS]], %[[LBLOCKS]], %[[NOLANES]] : index
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[ITEMS]])
// CHECK:           scf.if
// CHECK:             %[[QT:.*]] = memref.alloc() : memref<16x8xf32>
// CHECK:             %[[OT:.*]] = memref.alloc() : memref<16x8xf32>
// CHECK:             %[[MB:.*]] = memref.alloc() : memref<2x8xf32>
// CHECK:             %[[LB:.*]] = memref.alloc() : memref<2x8xf32>
// CHECK:             %[[PT:.*]] = memref.alloc() : memref<8x8xf32>
// CHECK:             %[[KPL:.*]] = memref.alloc() : memref<8x8xf32>
// CHECK:             %[[VPL:.*]] = memref.alloc() : memref<8x8xf32>
// CHECK:             scf.for %[[R:.*]] = %{{.*}} to %[[C8]]
// CHECK:               %[[QX:.*]] = arith.mulf %{{.*}}, %[[HALF]] : f32
// CHECK:               memref.store %[[QX]], %[[QT]][%{{.*}}, %[[R]]]
// CHECK:             arith.addi %{{.*}}, %[[LANES]] : vector<8xi32>
// CHECK:             scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C8]] {
// CHECK:               scf.for %[[KEYL:.*]] = %{{.*}} to %[[C8]]
// CHECK:                 vector.store %{{.*}}, %[[KPL]][%[[KEYL]], %{{.*}}]
// CHECK:                 vector.store %{{.*}}, %[[VPL]][%[[KEYL]], %{{.*}}]
// CHECK-NOT:             memref.prefetch
// CHECK:               scf.for %[[HH:.*]] = %{{.*}} to %[[C2]]
// CHECK:                 scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:                   %[[QV:.*]] = vector.load %[[QT]]
// CHECK:                   memref.load %[[KPL]]
// CHECK-COUNT-8:           vector.fma %{{.*}}, %[[QV]], %{{.*}} : vector<8xf32>
// CHECK:                 arith.cmpi ule, %{{.*}} : vector<8xi32>
// CHECK:                 arith.select %{{.*}}, %{{.*}}, %[[NEGINF]] : vector<8xi1>, vector<8xf32>
// CHECK:                 vector.load %[[MB]][%[[HH]]
// CHECK:                 vector.load %[[LB]][%[[HH]]
// CHECK-COUNT-8:         arith.maxnumf {{.*}} fastmath<nnan> : vector<8xf32>
// CHECK:                 math.exp %{{.*}} : vector<8xf32>
// CHECK:                 %[[P0:.*]] = math.exp %{{.*}} : vector<8xf32>
// CHECK:                 vector.store %[[P0]], %[[PT]]
// CHECK:                 vector.store %{{.*}}, %[[MB]][%[[HH]]
// CHECK:                 vector.store %{{.*}}, %[[LB]][%[[HH]]
// CHECK:                 scf.for
// CHECK:                   vector.load %[[OT]]
// CHECK:                   scf.for %[[KEYP:.*]] = {{.*}} iter_args
// CHECK:                     %[[PK:.*]] = vector.load %[[PT]][%[[KEYP]], %{{.*}}]
// CHECK:                     memref.load %[[VPL]][%[[KEYP]], %{{.*}}]
// CHECK:                     vector.fma %{{.*}}, %[[PK]], %{{.*}} : vector<8xf32>
// CHECK:                   vector.store %{{.*}}, %[[OT]]
// CHECK:             arith.divf %{{.*}} : vector<8xf32>
// CHECK:             scf.for
// CHECK:               memref.load %[[OT]]
// CHECK:               memref.store %{{.*}}, %[[OUT]]
// A split item walks key numbers [64 s, min(64 s + 64, keys)) for every
// query of the chunk, its output accumulating in the partial rows. At its
// end each query's running max and summed partial sums are stored.
// CHECK:           } else {
// CHECK:             scf.if %[[ISSPLIT]] {
// CHECK:               %[[KLO:.*]] = arith.muli %{{.*}}, %[[C64]] : index
// CHECK:               %[[KEND:.*]] = arith.addi %[[KLO]], %[[C64]] : index
// CHECK:               arith.minui %[[KEND]], %{{.*}} : index
// CHECK:               vector.store %{{.*}}, %[[PO]][
// CHECK:               scf.for %{{.*}} = %[[KLO]] to %{{.*}} step %[[C8]] {
// CHECK:                 vector.store %{{.*}}, %[[PO]][
// CHECK:               memref.store %{{.*}}, %[[PM]][
// CHECK:               vector.reduction <add>
// CHECK:               memref.store %{{.*}}, %[[PL]][
// Chunks of 5 to 7 rows have flash-style items of 4 query rows x the heads
// of one KV head. The keys the item's queries see (meta prefix, then
// window) are walked in blocks of 8; per block each key's K and V rows (in
// the cache or in the chunk, chosen by a select of the buffer) are first
// packed into two 8-row scratch blocks, and the next block's rows
// prefetched. Per block and query the 8 scores are one vector: 8 dot
// products of packed K rows folded by shuffles (8 -> 4 -> 2 -> 1 lanes per
// key), masked to -inf where the query does not see the key, one max (a
// vmaxps tree: nnan) and one vector exp per block, the sum kept as 8
// partial sums; the block's weights and output corrections of the KV
// head's queries go to scratch, for p . V over the packed V rows with the
// queries together. The output rows accumulate in the result, each query's
// max and partial sums in scratch.
// CHECK:             } else {
// CHECK:             arith.ceildivui %[[ROWS]], %[[C4]] : index
// CHECK:             %[[M:.*]] = memref.alloc() : memref<8xf32>
// CHECK:             %[[L:.*]] = memref.alloc() : memref<8x8xf32>
// CHECK:             scf.for
// CHECK:               vector.store %{{.*}}, %[[OUT]]
// CHECK:             %[[KP:.*]] = memref.alloc() : memref<8x8xf32>
// CHECK:             %[[VP:.*]] = memref.alloc() : memref<8x8xf32>
// CHECK:             %[[P:.*]] = memref.alloc() : memref<8x8xf32>
// CHECK:             %[[CB:.*]] = memref.alloc() : memref<8xf32>
// CHECK:             scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C8]] {
// CHECK:               %[[KC:.*]] = memref.cast %{{.*}} : memref<5x8xf32> to memref<?x8xf32, strided<[?, 1], offset: ?>>
// CHECK:               scf.for %[[KEY:.*]] = %{{.*}} to %[[C8]]
// CHECK:                 arith.remui
// CHECK:               %[[KBUF:.*]] = arith.select %{{.*}}, %{{.*}}, %[[KC]] : memref<?x8xf32, strided<[?, 1], offset: ?>>
// CHECK:               %[[KROW:.*]] = vector.load %[[KBUF]]
// CHECK:               vector.store %[[KROW]], %[[KP]][%[[KEY]], %{{.*}}]
// CHECK:               vector.store %{{.*}}, %[[VP]][%[[KEY]], %{{.*}}]
// The same lane's key of the next block is prefetched: its K row, then its
// V row (one line each here: 8 floats).
// CHECK:               %[[NEXT:.*]] = arith.addi %{{.*}}, %[[C8]] : index
// CHECK:               arith.minui %[[NEXT]]
// CHECK:               memref.prefetch %{{.*}}[%[[NROW:.*]], %{{.*}}], read, locality<3>, data
// CHECK:               memref.prefetch %{{.*}}[%[[NROW]], %{{.*}}], read, locality<3>, data
// CHECK:             %[[VV:.*]] = arith.addi %{{.*}}, %[[LANES]] : vector<8xi32>
// CHECK:             scf.for
// CHECK:               arith.cmpi sle, %{{.*}} : vector<8xi32>
// CHECK-COUNT-8:       vector.load %[[KP]]
// CHECK-COUNT-4:       vector.shuffle %{{.*}} [0, 1, 2, 3, 8, 9, 10, 11] : vector<8xf32>, vector<8xf32>
// CHECK-COUNT-2:       vector.shuffle %{{.*}} [0, 1, 4, 5, 8, 9, 12, 13] : vector<8xf32>, vector<8xf32>
// CHECK:               vector.shuffle %{{.*}} [1, 3, 5, 7, 9, 11, 13, 15] : vector<8xf32>, vector<8xf32>
// CHECK:               %[[S:.*]] = arith.select %{{.*}}, %{{.*}}, %[[NEGINF]] : vector<8xi1>, vector<8xf32>
// CHECK:               memref.load %[[M]]
// CHECK:               vector.reduction <maxnumf>, %[[S]] fastmath<nnan> : vector<8xf32> into f32
// CHECK:               math.exp %{{.*}} : f32
// CHECK:               %[[PV:.*]] = math.exp %{{.*}} : vector<8xf32>
// CHECK:               %[[LOLD:.*]] = vector.load %[[L]]
// CHECK:               %[[LNEW:.*]] = vector.fma %[[LOLD]], %{{.*}}, %[[PV]]
// CHECK:               vector.store %[[LNEW]], %[[L]]
// CHECK:               vector.store %[[PV]], %[[P]][%[[QI:.*]], %{{.*}}]
// CHECK:               memref.store %{{.*}}, %[[CB]][%[[QI]]]
// Then p . V for the KV head's queries together, a register tile of its 2
// queries x 1 vector of value columns: each packed V vector, loaded once a
// key, feeds both queries' FMAs. The accumulators start as the output rows
// times each query's correction.
// CHECK:             scf.for
// CHECK:               memref.load %[[CB]]
// CHECK:               memref.load %[[CB]]
// CHECK:               vector.load %[[OUT]]
// CHECK:               arith.mulf
// CHECK:               vector.load %[[OUT]]
// CHECK:               arith.mulf
// CHECK:               scf.for %[[J:.*]] = %{{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>)
// CHECK:                 %[[VJ:.*]] = vector.load %[[VP]][%[[J]], %{{.*}}]
// CHECK:                 memref.load %[[P]][%{{.*}}, %[[J]]]
// CHECK:                 vector.fma %{{.*}}, %[[VJ]], %{{.*}}
// CHECK:                 memref.load %[[P]][%{{.*}}, %[[J]]]
// CHECK:                 vector.fma %{{.*}}, %[[VJ]], %{{.*}}
// CHECK:               vector.store %{{.*}}, %[[OUT]]
// CHECK:               vector.store %{{.*}}, %[[OUT]]
// Finally every output row is divided by its sum (its partial sums added).
// CHECK:           scf.for
// CHECK:             vector.reduction <add>, %{{.*}} fastmath<reassoc> : vector<8xf32> into f32
// CHECK:             arith.divf
// CHECK:             vector.store %{{.*}}, %[[OUT]]
// After the loop, a split chunk's queries combine their splits, one item
// per query (none when the chunk was not split): M, the largest running
// max, then the sums and outputs weighted by exp(m_s - M).
// CHECK:         scf.reduce
// CHECK:         %[[NQ:.*]] = arith.select %[[ISSPLIT]], %{{.*}}, %[[C0]] : index
// CHECK:         scf.parallel (%{{.*}}) = (%[[C0]]) to (%[[NQ]])
// CHECK:           scf.for %{{.*}} = %[[C0]] to %[[SPLITS]]
// CHECK:             memref.load %[[PM]]
// CHECK:             arith.maxnumf
// CHECK:           scf.for %{{.*}} = %[[C0]] to %[[SPLITS]]
// CHECK:             memref.load %[[PM]]
// CHECK:             math.exp
// CHECK:             memref.load %[[PL]]
// CHECK:             vector.load %[[PO]]
// CHECK:             vector.fma
// CHECK:           arith.divf
// CHECK:           vector.store %{{.*}}, %[[OUT]]
// vector-width=0 keeps the element-wise form.
// SCALAR-LABEL: func @attention_vectors
// SCALAR-NOT:     vector.
// SCALAR:         scf.for {{.*}} -> (f32, f32)
// SCALAR-NOT:     vector.
// SCALAR:         return
func.func @attention_vectors(%q: tensor<?x16xf32>, %k: tensor<?x8xf32>, %v: tensor<?x8xf32>,
                             %kc: memref<5x8xf32>, %vc: memref<5x8xf32>, %pos: index, %init: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %a = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<?x16xf32>)
      {num_heads = 2 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32}
      : tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>, memref<5x8xf32>, memref<5x8xf32> -> tensor<?x16xf32>
  return %a : tensor<?x16xf32>
}

// -----

// With two KV heads a split item packs whole cache rows (both KV heads'
// columns: 16 of K, 16 of V per key), prefetching the next block's, and
// walks the queries KV head by KV head, each head's scores from its 8
// columns of the packed rows.
// CHECK-LABEL: func @attention_splits
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : index
// CHECK:         scf.parallel
// CHECK:           } else {
// CHECK:             scf.if
// CHECK:               %[[KP:.*]] = memref.alloc() : memref<8x16xf32>
// CHECK:               %[[VP:.*]] = memref.alloc() : memref<8x16xf32>
// CHECK:               scf.for
// CHECK:                 scf.for %[[KEY:.*]] = %[[C0]] to %[[C8]]
// CHECK:                   vector.store %{{.*}}, %[[KP]][%[[KEY]], %[[C0]]]
// CHECK:                   vector.store %{{.*}}, %[[KP]][%[[KEY]], %[[C8]]]
// CHECK:                   vector.store %{{.*}}, %[[VP]][%[[KEY]], %[[C0]]]
// CHECK:                   vector.store %{{.*}}, %[[VP]][%[[KEY]], %[[C8]]]
// The next block's whole rows are prefetched into L2 (locality 2), not L1:
// for Hymba they are 60 KB a block.
// CHECK:                   memref.prefetch {{.*}} locality<2>
// CHECK:                 scf.for %[[GL:.*]] = %[[C0]] to %[[C2]]
// CHECK:                   %[[KOFF:.*]] = arith.muli %[[GL]], %[[C8]] : index
// CHECK:                   vector.load %[[KP]][%[[C0]], %[[KOFF]]]
func.func @attention_splits(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %v: tensor<?x16xf32>,
                            %kc: memref<6x16xf32>, %vc: memref<6x16xf32>, %pos: index, %init: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %a = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<?x32xf32>)
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, window = 4 : i64, num_meta = 2 : i64, scale = 0.5 : f32}
      : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, memref<6x16xf32>, memref<6x16xf32> -> tensor<?x32xf32>
  return %a : tensor<?x32xf32>
}

// -----

// KV write: rows that later queries can see go to their ring rows; one
// item per (row, K column then V column).
// CHECK-LABEL: func @kv_write
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C6:.+]] = arith.constant 6 : index
// CHECK:         scf.parallel (%[[R:.*]], %[[COL:.*]]) = (%[[C0]], %[[C0]]) to (%{{.*}}, %[[C6]]) step (%[[C1]], %[[C1]])
// CHECK:           arith.ori
// CHECK:           scf.if
// CHECK:             arith.cmpi ult, %[[COL]], %[[C2]]
// CHECK:             memref.store %{{.*}}, %{{.*}}[%{{.*}}, %[[COL]]] : memref<5x2xf32>
// CHECK:             memref.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] : memref<5x4xf32>
// CHECK-NOT:     hymba.kv_cache_write
func.func @kv_write(%k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %pos: index) {
  hymba.kv_cache_write %k, %v into %kc, %vc at %pos {window = 3 : i64, num_meta = 2 : i64}
      : tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32>
  return
}

// -----

// The memref form (after one-shot-bufferize) reads its key and value
// buffers directly.
// CHECK-LABEL: func @kv_write_buffers
// CHECK-SAME:    (%[[K:[^:]*]]: memref<?x2xf32, strided<[6, 1]>>, %[[V:[^:]*]]: memref<?x4xf32, strided<[6, 1], offset: 2>>,
// CHECK-NOT:     bufferization.to_buffer
// CHECK:         scf.parallel
// CHECK:             memref.load %[[K]][
// CHECK:             memref.load %[[V]][
// CHECK-NOT:     hymba.kv_cache_write
func.func @kv_write_buffers(%k: memref<?x2xf32, strided<[6, 1]>>, %v: memref<?x4xf32, strided<[6, 1], offset: 2>>,
                            %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %pos: index) {
  hymba.kv_cache_write %k, %v into %kc, %vc at %pos {window = 3 : i64, num_meta = 2 : i64}
      : memref<?x2xf32, strided<[6, 1]>>, memref<?x4xf32, strided<[6, 1], offset: 2>>, memref<5x2xf32>, memref<5x4xf32>
  return
}

// -----

// Conv: taps over the chunk extended by the stored window, then the window
// is refreshed from the chunk's last rows. CPU form with vectors: one item
// per block of 8 channels (96 = 12 blocks); the block's 4 x 8 tap weights
// are one load (bf16, widened) split by shuffles; the last 3 extended rows
// ride in registers through the row loop (no scf.if choosing window or
// chunk), and after it they are the new window.
// CHECK-LABEL: func @conv(
// CHECK-DAG:     %[[C12:.+]] = arith.constant 12 : index
// CHECK-DAG:     memref.collapse_shape %{{.*}} {{\[\[}}0, 1, 2]] : memref<96x1x4xbf16> into memref<384xbf16>
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[C12]]) step
// CHECK:           vector.load %{{.*}} : memref<384xbf16>, vector<32xbf16>
// CHECK-COUNT-4:   vector.shuffle
// CHECK:           vector.load %{{.*}}[%[[CH:.*]]] : memref<96xbf16>, vector<8xbf16>
// CHECK:           vector.load %{{.*}}[%{{.*}}, %[[CH]]] : memref<3x96xf32>, vector<8xf32>
// CHECK:           %[[R:.*]]:3 = scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:             %[[XT:.*]] = vector.load %{{.*}}[%{{.*}}, %[[CH]]] : memref<?x96xf32>, vector<8xf32>
// CHECK-NOT:         scf.if
// CHECK:             math.exp %{{.*}} : vector<8xf32>
// CHECK:             vector.store %{{.*}}, %{{.*}}[%{{.*}}, %[[CH]]] : memref<?x96xf32>, vector<8xf32>
// CHECK:             scf.yield %{{.*}}, %{{.*}}, %[[XT]]
// CHECK:           vector.store %[[R]]#0, %{{.*}}[%{{.*}}, %[[CH]]] : memref<3x96xf32>, vector<8xf32>
// CHECK:           vector.store %[[R]]#1
// CHECK:           vector.store %[[R]]#2
// CHECK-NOT:     scf.parallel
// CHECK:         return
// Element by element (vector-width=0), and the GPU form: one item per (row,
// channel), each tap from the chunk or the window (scf.if), then the
// window update.
// SCALAR-LABEL: func @conv(
// SCALAR-DAG:     %[[C0:.+]] = arith.constant 0 : index
// SCALAR-DAG:     %[[C1:.+]] = arith.constant 1 : index
// SCALAR-DAG:     %[[C3:.+]] = arith.constant 3 : index
// SCALAR-DAG:     %[[C4:.+]] = arith.constant 4 : index
// SCALAR-DAG:     %[[C96:.+]] = arith.constant 96 : index
// SCALAR:         scf.parallel (%{{.*}}, %{{.*}}) = (%[[C0]], %[[C0]]) to (%{{.*}}, %[[C96]])
// SCALAR:           scf.for %{{.*}} = %[[C0]] to %[[C4]] step %[[C1]] iter_args
// SCALAR:             scf.if {{.*}} -> (f32)
// SCALAR:           math.exp
// SCALAR:         scf.parallel (%[[CH:.*]]) = (%[[C0]]) to (%[[C96]]) step (%[[C1]])
// SCALAR:           scf.for %[[ROW:.*]] = %[[C0]] to %[[C3]] step %[[C1]]
// SCALAR:             memref.store %{{.*}}, %{{.*}}[%[[ROW]], %[[CH]]] : memref<3x96xf32>
// GPU-LABEL: func @conv(
// GPU-NOT:     vector.
// GPU:         scf.parallel (%{{.*}}, %{{.*}}) =
// GPU:           scf.if {{.*}} -> (f32)
// GPU-NOT:     vector.
// GPU:         return
func.func @conv(%x: tensor<?x96xf32>, %w: tensor<96x1x4xbf16>, %b: tensor<96xbf16>, %s: memref<3x96xf32>, %init: tensor<?x96xf32>) -> tensor<?x96xf32> {
  %u = hymba.causal_conv1d %x, %w, %b, %s outs(%init : tensor<?x96xf32>) : tensor<?x96xf32>, tensor<96x1x4xbf16>, tensor<96xbf16>, memref<3x96xf32> -> tensor<?x96xf32>
  return %u : tensor<?x96xf32>
}

// -----

// A wide scan: parallel over channels, time sequential, the channel's
// d_state values carried in registers through the time loop.
// CHECK-LABEL: func @wide_scan
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[C3:.+]] = arith.constant 3 : index
// CHECK-DAG:     %[[C96:.+]] = arith.constant 96 : index
// CHECK:         scf.parallel (%[[C:.*]]) = (%[[C0]]) to (%[[C96]]) step (%[[C1]])
// CHECK-COUNT-4:   memref.load %{{.*}}[%[[C]], %c{{[0-3]}}] : memref<96x4xf32>
// CHECK:           %[[H:.*]]:4 = scf.for %[[T:.*]] = %[[C0]] to %{{.*}} step %[[C1]] iter_args({{.*}}) -> (f32, f32, f32, f32)
// CHECK:             math.log1p
// CHECK:             scf.yield %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : f32, f32, f32, f32
// CHECK:           memref.store %[[H]]#0, %{{.*}}[%[[C]], %[[C0]]] : memref<96x4xf32>
// CHECK:           memref.store %[[H]]#3, %{{.*}}[%[[C]], %[[C3]]] : memref<96x4xf32>
func.func @wide_scan(%u: tensor<?x96xf32>, %b: tensor<96xf32>, %al: tensor<96x4xf32>,
                     %B: tensor<?x4xf32>, %ss: memref<96x4xf32>, %init: tensor<?x96xf32>) -> tensor<?x96xf32> {
  %y = hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %ss outs(%init : tensor<?x96xf32>)
      : tensor<?x96xf32>, tensor<?x96xf32>, tensor<96xf32>, tensor<96x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<96xf32>, tensor<?x96xf32>, memref<96x4xf32> -> tensor<?x96xf32>
  return %y : tensor<?x96xf32>
}

// -----

// A 16-channel tile: state transposed into scratch buffers, channels innermost.
// The GPU form keeps one register-state channel per item instead.
// GPU-LABEL: func @tile_scan
// GPU-DAG:     %[[C0:.+]] = arith.constant 0 : index
// GPU-DAG:     %[[C1:.+]] = arith.constant 1 : index
// GPU-DAG:     %[[C16:.+]] = arith.constant 16 : index
// GPU:         scf.parallel (%[[C:.*]]) = (%[[C0]]) to (%[[C16]]) step (%[[C1]])
// GPU:           scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32)
// GPU-NOT:     memref.alloca
// CHECK-LABEL: func @tile_scan
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[C4:.+]] = arith.constant 4 : index
// CHECK-DAG:     %[[C16:.+]] = arith.constant 16 : index
// CHECK-NOT:     scf.parallel
// The scratch is on the heap: a tile in a loop (time chunks, a transform
// script's tiling) would grow the stack every iteration.
// CHECK:         %[[H:.*]] = memref.alloc() : memref<4x16xf32>
// CHECK:         %[[A:.*]] = memref.alloc() : memref<4x16xf32>
// CHECK:         scf.for %[[T:.*]] = %[[C0]] to %{{.*}} step %[[C1]]
// CHECK:           scf.for %[[N:.*]] = %[[C0]] to %[[C4]] step %[[C1]]
// CHECK:             scf.for %[[C:.*]] = %[[C0]] to %[[C16]] step %[[C1]]
// CHECK:               memref.load %[[A]][%[[N]], %[[C]]]
// CHECK:               memref.store %{{.*}}, %[[H]][%[[N]], %[[C]]]
func.func @tile_scan(%u: tensor<?x16xf32>, %b: tensor<16xf32>, %al: tensor<16x4xf32>,
                     %B: tensor<?x4xf32>, %ss: memref<16x4xf32, strided<[4, 1], offset: ?>>, %init: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %y = hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %ss outs(%init : tensor<?x16xf32>)
      : tensor<?x16xf32>, tensor<?x16xf32>, tensor<16xf32>, tensor<16x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<16xf32>, tensor<?x16xf32>, memref<16x4xf32, strided<[4, 1], offset: ?>> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// A state of 16 (every Hymba checkpoint) and a tile of 32 channels: the
// state and A = -exp(A_log) move between [channels, 16] and the tile's
// [16, channels] scratch as 16 x 16 blocks, 16 row loads, 4 rounds of 16
// two-input shuffles, 16 row stores, once per block in and once out.
// A_log (bf16, contiguous rows) is read as rows of 16.
// CHECK-LABEL: func @tile_scan_blocks
// CHECK-SAME:    %[[AL:[a-z0-9]+]]: memref<32x16xbf16>
// CHECK-SAME:    %[[SS:[a-z0-9]+]]: memref<32x16xf32, strided<[16, 1], offset: ?>>
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C16:.+]] = arith.constant 16 : index
// CHECK:         %[[H:.*]] = memref.alloc() : memref<16x32xf32>
// CHECK:         %[[A:.*]] = memref.alloc() : memref<16x32xf32>
// CHECK:         scf.for %[[BLK:.*]] = %[[C0]] to %[[C2]] step %[[C1]]
// CHECK:           %[[CB:.*]] = arith.muli %[[BLK]], %[[C16]]
// CHECK:           %[[S0:.*]] = vector.load %[[SS]][%[[CB]], %[[C0]]] : memref<32x16xf32, strided<[16, 1], offset: ?>>, vector<16xf32>
// CHECK:           %[[AR:.*]] = vector.load %[[AL]][%[[CB]], %[[C0]]] : memref<32x16xbf16>, vector<16xbf16>
// CHECK:           %[[AW:.*]] = arith.extf %[[AR]] : vector<16xbf16> to vector<16xf32>
// CHECK:           %[[AE:.*]] = math.exp %[[AW]] : vector<16xf32>
// CHECK:           arith.negf %[[AE]] : vector<16xf32>
// CHECK-COUNT-15:  vector.load %[[AL]]
// CHECK:           vector.shuffle %[[S0]], %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23] : vector<16xf32>, vector<16xf32>
// CHECK-COUNT-127: vector.shuffle
// CHECK:           vector.store %{{.*}}, %[[H]][%[[C0]], %[[CB]]] : memref<16x32xf32>, vector<16xf32>
// CHECK:           vector.store %{{.*}}, %[[A]][%[[C0]], %[[CB]]] : memref<16x32xf32>, vector<16xf32>
// The time loop, then the state back by blocks.
// CHECK:         scf.for %[[T:.*]] = %[[C0]] to
// CHECK:         scf.for %[[BLK2:.*]] = %[[C0]] to %[[C2]] step %[[C1]]
// CHECK:           %[[CB2:.*]] = arith.muli %[[BLK2]], %[[C16]]
// CHECK:           vector.load %[[H]][%[[C0]], %[[CB2]]] : memref<16x32xf32>, vector<16xf32>
// CHECK-COUNT-64:  vector.shuffle
// CHECK:           vector.store %{{.*}}, %[[SS]][%[[CB2]], %[[C0]]] : memref<32x16xf32, strided<[16, 1], offset: ?>>, vector<16xf32>
// CHECK-NOT:       vector.shuffle
// CHECK:         return
func.func @tile_scan_blocks(%u: tensor<?x32xf32>, %b: tensor<32xf32>, %al: tensor<32x16xbf16>,
                     %B: tensor<?x16xf32>, %ss: memref<32x16xf32, strided<[16, 1], offset: ?>>, %init: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %y = hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %ss outs(%init : tensor<?x32xf32>)
      : tensor<?x32xf32>, tensor<?x32xf32>, tensor<32xf32>, tensor<32x16xbf16>, tensor<?x16xf32>,
        tensor<?x16xf32>, tensor<32xf32>, tensor<?x32xf32>, memref<32x16xf32, strided<[16, 1], offset: ?>> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// Fused hybrid head (hymba-fuse-hybrid-heads): in the GPU form one parallel
// loop whose first items are attention output elements and the rest scan
// channels.
// GPU-LABEL: func @fused
// GPU-DAG:     %[[C0:.+]] = arith.constant 0 : index
// GPU-DAG:     %[[C1:.+]] = arith.constant 1 : index
// GPU-DAG:     %[[C12:.+]] = arith.constant 12 : index
// GPU-DAG:     %[[C16:.+]] = arith.constant 16 : index
// GPU:         %[[LANES:.*]] = arith.muli %{{.*}}, %[[C12]] : index
// GPU:         %[[ITEMS:.*]] = arith.addi %[[LANES]], %[[C16]] : index
// GPU:         scf.parallel (%[[I:.*]]) = (%[[C0]]) to (%[[ITEMS]]) step (%[[C1]])
// GPU:           %[[ATT:.*]] = arith.cmpi ult, %[[I]], %[[LANES]]
// GPU:           scf.if %[[ATT]]
// GPU:             arith.maximumf
// GPU:           } else {
// GPU:             arith.subi %[[I]], %[[LANES]]
// GPU:             math.log1p
// GPU-NOT:     scf.parallel
// CHECK-LABEL: func @fused
// CHECK:         scf.parallel
// CHECK:           scf.if
// CHECK-NOT:     scf.parallel
func.func @fused(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>,
                 %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %pos: index,
                 %u: tensor<?x16xf32>, %b: tensor<16xf32>, %al: tensor<16x4xf32>,
                 %B: tensor<?x4xf32>, %ss: memref<16x4xf32>, %init: tensor<?x12xf32>, %init1: tensor<?x16xf32>) -> (tensor<?x12xf32>, tensor<?x16xf32>) {
  %r:2 = hymba.parallel_branches scan_tile(16) : tensor<?x12xf32>, tensor<?x16xf32> {
    %a = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<?x12xf32>)
        {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32}
        : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
    hymba.yield %a : tensor<?x12xf32>
  } {
    %y = hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %ss outs(%init1 : tensor<?x16xf32>)
        : tensor<?x16xf32>, tensor<?x16xf32>, tensor<16xf32>, tensor<16x4xf32>, tensor<?x4xf32>,
          tensor<?x4xf32>, tensor<16xf32>, tensor<?x16xf32>, memref<16x4xf32> -> tensor<?x16xf32>
    hymba.yield %y : tensor<?x16xf32>
  }
  return %r#0, %r#1 : tensor<?x12xf32>, tensor<?x16xf32>
}

// -----

// Folded B and C norms (`norms`, hymba-fold-scan-norms) are applied as each
// row is read inside the time loop, so they need no kernels of their own:
// per channel in the GPU form and the wide CPU form, once per time step in
// the CPU channel tile.
// GPU-LABEL: func @scan_norms
// GPU:         scf.parallel
// GPU:           scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32)
// GPU:             math.rsqrt
// GPU:             math.rsqrt
// GPU-NOT:     hymba.
// CHECK-LABEL: func @scan_norms
// CHECK-SAME:    %[[GB:[^:]+]]: memref<4xf32>, %[[GC:[^:]+]]: memref<4xbf16>
// CHECK:         scf.parallel
// CHECK:           scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32)
// CHECK:             math.rsqrt
// CHECK:             memref.load %[[GB]]
// CHECK:             math.rsqrt
// CHECK:             memref.load %[[GC]]
// CHECK-NOT:     hymba.
func.func @scan_norms(%u: tensor<?x96xf32>, %b: tensor<96xf32>, %al: tensor<96x4xf32>,
                      %B: tensor<?x4xf32>, %C: tensor<?x4xf32>, %g: tensor<4xf32>, %g2: tensor<4xbf16>,
                      %ss: memref<96x4xf32>, %init: tensor<?x96xf32>) -> tensor<?x96xf32> {
  %y = hymba.selective_scan %u, %u, %b, %al, %B, %C, %b, %u, %ss norms(%g, %g2 : tensor<4xf32>, tensor<4xbf16>)
      outs(%init : tensor<?x96xf32>) {norm_epsilon = 1.0e-6 : f32}
      : tensor<?x96xf32>, tensor<?x96xf32>, tensor<96xf32>, tensor<96x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<96xf32>, tensor<?x96xf32>, memref<96x4xf32> -> tensor<?x96xf32>
  return %y : tensor<?x96xf32>
}

// -----

// The CPU channel tile with folded norms: each time step first takes the
// 1/rms of its B and C rows (a loop over the state), then scales every
// element it reads by it and by the norm weight.
// CHECK-LABEL: func @tile_scan_norms
// CHECK-SAME:    %[[GB:[^:]+]]: memref<4xf32>
// CHECK:         scf.for %[[T:[^ ]+]] =
// CHECK:           scf.for {{.*}} iter_args({{.*}}) -> (f32)
// CHECK:           math.rsqrt
// CHECK:           scf.for {{.*}} iter_args({{.*}}) -> (f32)
// CHECK:           math.rsqrt
// CHECK:           scf.for %[[N:[^ ]+]] =
// CHECK:             memref.load %[[GB]][%[[N]]]
// CHECK-NOT:     hymba.
func.func @tile_scan_norms(%u: tensor<?x16xf32>, %b: tensor<16xf32>, %al: tensor<16x4xf32>,
                           %B: tensor<?x4xf32>, %C: tensor<?x4xf32>, %g: tensor<4xf32>,
                           %ss: memref<16x4xf32>, %init: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %y = hymba.selective_scan %u, %u, %b, %al, %B, %C, %b, %u, %ss norms(%g, %g : tensor<4xf32>, tensor<4xf32>)
      outs(%init : tensor<?x16xf32>) {norm_epsilon = 1.0e-6 : f32}
      : tensor<?x16xf32>, tensor<?x16xf32>, tensor<16xf32>, tensor<16x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<16xf32>, tensor<?x16xf32>, memref<16x4xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// CPU form, a scan tile that does not divide the channels (24 by 16): the
// branches are lowered one after the other, attention first.
// CHECK-LABEL: func @branches_untiled
// CHECK:         scf.parallel (%{{.*}}, %{{.*}}) =
// CHECK:           arith.maximumf
// CHECK:         memref.alloc() : memref<4x24xf32>
// CHECK-NOT:     hymba.
// CHECK:         return
func.func @branches_untiled(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>,
                            %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %pos: index,
                            %u: tensor<?x24xf32>, %b: tensor<24xf32>, %al: tensor<24x4xf32>,
                            %B: tensor<?x4xf32>, %ss: memref<24x4xf32>, %init: tensor<?x12xf32>, %init1: tensor<?x24xf32>) -> (tensor<?x12xf32>, tensor<?x24xf32>) {
  %r:2 = hymba.parallel_branches scan_tile(16) : tensor<?x12xf32>, tensor<?x24xf32> {
    %a = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<?x12xf32>)
        {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32}
        : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
    hymba.yield %a : tensor<?x12xf32>
  } {
    %y = hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %ss outs(%init1 : tensor<?x24xf32>)
        : tensor<?x24xf32>, tensor<?x24xf32>, tensor<24xf32>, tensor<24x4xf32>, tensor<?x4xf32>,
          tensor<?x4xf32>, tensor<24xf32>, tensor<?x24xf32>, memref<24x4xf32> -> tensor<?x24xf32>
    hymba.yield %y : tensor<?x24xf32>
  }
  return %r#0, %r#1 : tensor<?x12xf32>, tensor<?x24xf32>
}

// -----

// 20 channels with 8 lanes: two vector blocks (channels 0-15), then the
// element-wise form for channels 16-19 (conv and window update).
// CHECK-LABEL: func @conv_odd_channels
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C16:.+]] = arith.constant 16 : index
// CHECK-DAG:     %[[C20:.+]] = arith.constant 20 : index
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[C2]]) step
// CHECK:           vector.load %{{.*}} : memref<80xf32>, vector<32xf32>
// CHECK:           scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:         scf.parallel (%{{.*}}, %{{.*}}) = (%{{.*}}, %[[C16]]) to (%{{.*}}, %[[C20]]) step
// CHECK:           scf.if {{.*}} -> (f32)
// CHECK:         scf.parallel (%{{.*}}) = (%[[C16]]) to (%[[C20]]) step
// CHECK:         return
func.func @conv_odd_channels(%x: memref<?x20xf32>, %w: memref<20x1x4xf32>, %b: memref<20xf32>,
                             %s: memref<3x20xf32>, %out: memref<?x20xf32>) {
  hymba.causal_conv1d %x, %w, %b, %s outs(%out : memref<?x20xf32>)
      : memref<?x20xf32>, memref<20x1x4xf32>, memref<20xf32>, memref<3x20xf32>
  return
}

// -----

// The memref form (after one-shot-bufferize): the loops read the operands'
// buffers as they are and store into the init; nothing is allocated and no
// tensor is made.
// CHECK-LABEL: func @conv_buffers
// CHECK-SAME:    %[[X:[^:]*]]: memref<?x96xf32, strided<[192, 1]>>, %{{[^:]*}}: memref<96x1x4xbf16>, %{{[^:]*}}: memref<96xbf16>, %[[S:[^:]*]]: memref<3x96xf32>, %[[OUT:[^:]*]]: memref<?x96xf32>)
// CHECK-NOT:     memref.alloc
// CHECK-NOT:     bufferization.
// CHECK:         scf.parallel (%{{.*}}) =
// CHECK:           vector.load %[[S]]
// CHECK:           scf.for
// CHECK:             vector.load %[[X]]
// CHECK:             vector.store %{{.*}}, %[[OUT]][%{{.*}}, %{{.*}}] : memref<?x96xf32>, vector<8xf32>
// CHECK:           vector.store %{{.*}}, %[[S]]
// CHECK-NOT:     hymba.causal_conv1d
func.func @conv_buffers(%x: memref<?x96xf32, strided<[192, 1]>>, %w: memref<96x1x4xbf16>, %b: memref<96xbf16>,
                        %s: memref<3x96xf32>, %out: memref<?x96xf32>) {
  hymba.causal_conv1d %x, %w, %b, %s outs(%out : memref<?x96xf32>)
      : memref<?x96xf32, strided<[192, 1]>>, memref<96x1x4xbf16>, memref<96xbf16>, memref<3x96xf32>
  return
}

// -----

// Attention on buffers: rows are read as vectors where their layout has a
// unit inner stride, and the output rows go straight into the init (the only
// buffers allocated before the loop are the key splits' partial results).
// CHECK-LABEL: func @attention_buffers
// CHECK-SAME:    %[[Q:[^:]*]]: memref<?x16xf32, strided<[?, 1], offset: ?>>, {{.*}}, %[[OUT:[^:]*]]: memref<?x16xf32>)
// CHECK:         memref.alloc({{.*}}) : memref<?x8xf32>
// CHECK:         memref.alloc({{.*}}) : memref<?xf32>
// CHECK:         memref.alloc({{.*}}) : memref<?xf32>
// CHECK-NOT:     memref.alloc
// CHECK:         scf.parallel
// CHECK:           vector.load %[[Q]]
// CHECK:           vector.store %{{.*}}, %[[OUT]]
// CHECK-NOT:     hymba.attention
func.func @attention_buffers(%q: memref<?x16xf32, strided<[?, 1], offset: ?>>, %k: memref<?x8xf32>, %v: memref<?x8xf32>,
                             %kc: memref<5x8xf32>, %vc: memref<5x8xf32>, %pos: index, %out: memref<?x16xf32>) {
  hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%out : memref<?x16xf32>)
      {num_heads = 2 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32}
      : memref<?x16xf32, strided<[?, 1], offset: ?>>, memref<?x8xf32>, memref<?x8xf32>, memref<5x8xf32>, memref<5x8xf32>
  return
}

// -----

// An A_log whose rows are strided (inner stride 2, known) is read element
// by element, not through the 16 x 16 block path's unit-stride view (which
// would read the wrong elements).
// CHECK-LABEL: func @tile_scan_strided
// CHECK-SAME:    %[[AL:[a-z0-9]+]]: memref<16x16xf32, strided<[32, 2]>>
// CHECK-NOT:     memref.reinterpret_cast
// CHECK:         memref.load %[[AL]][%{{.*}}, %{{.*}}] : memref<16x16xf32, strided<[32, 2]>>
// CHECK-NOT:     memref.reinterpret_cast
// CHECK:         return
func.func @tile_scan_strided(%u: tensor<?x16xf32>, %b: tensor<16xf32>, %al: memref<16x16xf32, strided<[32, 2]>>,
                             %B: tensor<?x16xf32>, %ss: memref<16x16xf32>, %init: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %alt = bufferization.to_tensor %al restrict : memref<16x16xf32, strided<[32, 2]>> to tensor<16x16xf32>
  %y = hymba.selective_scan %u, %u, %b, %alt, %B, %B, %b, %u, %ss outs(%init : tensor<?x16xf32>)
      : tensor<?x16xf32>, tensor<?x16xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<?x16xf32>,
        tensor<?x16xf32>, tensor<16xf32>, tensor<?x16xf32>, memref<16x16xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
