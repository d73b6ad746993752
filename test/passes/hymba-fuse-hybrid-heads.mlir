// RUN: hymba-opt %s -split-input-file -hymba-fuse-hybrid-heads | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-fuse-hybrid-heads -hymba-lower-dense-to-linalg -convert-elementwise-to-linalg -hymba-unshare-fill-inits -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" -hymba-lower-stateful-to-loops | FileCheck %s --check-prefix=LOWERED

// CHECK-LABEL: func @layer
// CHECK-SAME:    (%[[X:.*]]: tensor<?x4xf32>, %[[A:.*]]: tensor<?x8xf32>, %[[S:.*]]: tensor<?x8xf32>
// CHECK:         %[[H:.*]] = hymba.hybrid_merge %[[A]], %[[S]], %{{.*}}, %{{.*}}, %{{.*}} residual(%[[X]] : tensor<?x4xf32>)
// CHECK-NOT:     arith.addf
// CHECK:         return %[[H]]
// Lowered: one reduction for both norms, one element-wise generic, and the
// projection accumulating into the residual (no zero fill, no add).
// LOWERED-LABEL: func @layer
// (After bufferization the residual's buffer is the projection's output.)
// LOWERED-SAME:    (%[[X:[^:]*]]: memref<?x4xf32>
// LOWERED-NOT:     memref.copy
// LOWERED:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : memref<?x8xf32>, memref<?x8xf32>) outs(%{{.*}}, %{{.*}} : memref<?xf32>, memref<?xf32>)
// LOWERED:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]}
// LOWERED-COUNT-2:   math.rsqrt
// LOWERED:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} {{.*}} outs(%[[X]] : memref<?x4xf32>)
// LOWERED-NOT:     linalg.generic
// LOWERED:         return %[[X]]
func.func @layer(%x: tensor<?x4xf32>, %a: tensor<?x8xf32>, %s: tensor<?x8xf32>, %n1: tensor<8xf32>,
                 %n2: tensor<8xf32>, %o: tensor<4x8xf32>) -> tensor<?x4xf32> {
  %m = hymba.hybrid_merge %a, %s, %n1, %n2, %o {epsilon = 1.0e-6 : f32}
      : tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %h = arith.addf %x, %m : tensor<?x4xf32>
  return %h : tensor<?x4xf32>
}

// -----

// A merge with another user stays unfused.
// LOWERED-LABEL: func @shared
// CHECK-LABEL: func @shared
// CHECK:         %[[M:.*]] = hymba.hybrid_merge
// CHECK-NOT:     residual
// CHECK:         arith.addf
func.func @shared(%x: tensor<?x4xf32>, %a: tensor<?x8xf32>, %n1: tensor<8xf32>, %o: tensor<4x8xf32>)
    -> (tensor<?x4xf32>, tensor<?x4xf32>) {
  %m = hymba.hybrid_merge %a, %a, %n1, %n1, %o {epsilon = 1.0e-6 : f32}
      : tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %h = arith.addf %m, %x : tensor<?x4xf32>
  return %h, %m : tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// The attention and its layer's scan become the regions of one
// hymba.parallel_branches at the scan's place; the cache write (it writes
// the cache the attention reads) moves after it, the conv (other state)
// stays before it. The lowering then runs both in one parallel region.
// CHECK-LABEL: func @branches
// CHECK:         %[[U:.*]] = hymba.causal_conv1d
// CHECK-NEXT:    %[[ATT:.*]], %[[SSM:.*]] = hymba.parallel_branches scan_tile(16) : tensor<?x32xf32>, tensor<?x32xf32> {
// CHECK-NEXT:      %[[A:.*]] = hymba.attention {{.*}} {num_heads = 2 : i64
// CHECK-NEXT:      hymba.yield %[[A]] : tensor<?x32xf32>
// CHECK-NEXT:    } {
// CHECK-NEXT:      %[[Y:.*]] = hymba.selective_scan %[[U]], %[[U]],
// CHECK-NEXT:      hymba.yield %[[Y]] : tensor<?x32xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    hymba.kv_cache_write
// CHECK-NEXT:    hymba.hybrid_merge %[[ATT]], %[[SSM]]
// LOWERED-LABEL: func @branches
// LOWERED-DAG:     %[[C0:.+]] = arith.constant 0 : index
// LOWERED-DAG:     %[[C1:.+]] = arith.constant 1 : index
// One parallel loop over the A attention items and the 2 scan tiles (32
// channels in tiles of 16), the attention items spread evenly over the N
// items: item i is attention item floor(i A / N) when (i A) mod N < A, else
// scan tile i - floor(i A / N) - 1.
// LOWERED:         arith.ceildivui
// LOWERED:         %[[SPLITS:.*]] = arith.select %[[ISSPLIT:.*]], %{{.*}}, %{{.*}} : index
// LOWERED:         %[[FEWER:.*]] = arith.select %[[ISSPLIT]], %[[SPLITS]], %{{.*}} : index
// LOWERED:         %[[A:.*]] = arith.select %{{.*}}, %{{.*}}, %[[FEWER]] : index
// LOWERED:         %[[N:.*]] = arith.addi %[[A]], %{{.*}} : index
// LOWERED:         scf.parallel (%[[I:.*]]) = (%[[C0]]) to (%[[N]]) step (%[[C1]])
// LOWERED-NEXT:      %[[IA:.*]] = arith.muli %[[I]], %[[A]] : index
// LOWERED-NEXT:      %[[ATT_IDX:.*]] = arith.divui %[[IA]], %[[N]] : index
// LOWERED-NEXT:      %[[R:.*]] = arith.remui %[[IA]], %[[N]] : index
// LOWERED-NEXT:      %[[IS_ATT:.*]] = arith.cmpi ult, %[[R]], %[[A]] : index
// LOWERED-NEXT:      scf.if %[[IS_ATT]] {
// LOWERED:             arith.remui %[[ATT_IDX]]
// LOWERED:             arith.maxnumf
// LOWERED:           } else {
// LOWERED:             %[[PLUS1:.*]] = arith.addi %[[ATT_IDX]], %[[C1]] : index
// LOWERED:             %[[TILE:.*]] = arith.subi %[[I]], %[[PLUS1]] : index
// LOWERED:             arith.muli %[[TILE]]
// LOWERED:             memref.subview
// LOWERED:             math.log1p
// After the loop, a decode chunk's attention combines its key splits.
// LOWERED:           scf.reduce
// LOWERED:         %[[NQ:.*]] = arith.select %[[ISSPLIT]], %{{.*}}, %{{.*}} : index
// LOWERED-NEXT:    scf.parallel (%{{.*}}) = (%[[C0]]) to (%[[NQ]])
// LOWERED:           math.exp
func.func @branches(%x: tensor<?x4xf32>, %q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x16xf32>,
                    %state: memref<?xi8>, %pos: index,
                    %cx: tensor<?x32xf32>, %cw: tensor<32x1x4xf32>, %cb: tensor<32xf32>,
                    %b: tensor<32xf32>, %al: tensor<32x4xf32>, %B: tensor<?x4xf32>,
                    %n: tensor<32xf32>, %o: tensor<4x32xf32>, %init: tensor<?x32xf32>, %init1: tensor<?x32xf32>, %init2: tensor<?x32xf32>) -> tensor<?x4xf32> {
  // Distinct named state: the buffers cannot alias.
  %kc = hymba.state_buffer %state["layers.0.k_cache"] {offset = 0 : i64} : memref<?xi8> -> memref<7x4xf32>
  %vc = hymba.state_buffer %state["layers.0.v_cache"] {offset = 112 : i64} : memref<?xi8> -> memref<7x16xf32>
  %cs = hymba.state_buffer %state["layers.0.conv_state"] {offset = 560 : i64} : memref<?xi8> -> memref<3x32xf32>
  %ss = hymba.state_buffer %state["layers.0.ssm_state"] {offset = 944 : i64} : memref<?xi8> -> memref<32x4xf32>
  %att = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<?x32xf32>)
      {num_heads = 2 : i64, num_kv_heads = 1 : i64, window = 4 : i64, num_meta = 3 : i64, scale = 0.5 : f32}
      : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x16xf32>, memref<7x4xf32>, memref<7x16xf32> -> tensor<?x32xf32>
  hymba.kv_cache_write %k, %v into %kc, %vc at %pos {window = 4 : i64, num_meta = 3 : i64}
      : tensor<?x4xf32>, tensor<?x16xf32>, memref<7x4xf32>, memref<7x16xf32>
  %u = hymba.causal_conv1d %cx, %cw, %cb, %cs outs(%init1 : tensor<?x32xf32>) : tensor<?x32xf32>, tensor<32x1x4xf32>, tensor<32xf32>, memref<3x32xf32> -> tensor<?x32xf32>
  %y = hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %ss outs(%init2 : tensor<?x32xf32>)
      : tensor<?x32xf32>, tensor<?x32xf32>, tensor<32xf32>, tensor<32x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<32xf32>, tensor<?x32xf32>, memref<32x4xf32> -> tensor<?x32xf32>
  %m = hymba.hybrid_merge %att, %y, %n, %n, %o {epsilon = 1.0e-6 : f32}
      : tensor<?x32xf32>, tensor<?x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<4x32xf32> -> tensor<?x4xf32>
  %h = arith.addf %x, %m : tensor<?x4xf32>
  return %h : tensor<?x4xf32>
}

// -----

// The scan's state is the cache the attention reads (their declared memory
// effects conflict), so they cannot run side by side: nothing is fused.
// CHECK-LABEL: func @conflict
// CHECK-NOT:     hymba.parallel_branches
// CHECK:         hymba.attention
// CHECK-NEXT:    hymba.kv_cache_write
// CHECK-NEXT:    hymba.selective_scan
// LOWERED-LABEL: func @conflict
func.func @conflict(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x16xf32>,
                    %kc: memref<32x4xf32>, %vc: memref<32x16xf32>, %pos: index,
                    %u: tensor<?x32xf32>, %b: tensor<32xf32>, %al: tensor<32x4xf32>, %B: tensor<?x4xf32>, %init: tensor<?x32xf32>, %init1: tensor<?x32xf32>)
    -> (tensor<?x32xf32>, tensor<?x32xf32>) {
  %att = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<?x32xf32>)
      {num_heads = 2 : i64, num_kv_heads = 1 : i64, window = 0 : i64, num_meta = 0 : i64, scale = 0.5 : f32}
      : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x16xf32>, memref<32x4xf32>, memref<32x16xf32> -> tensor<?x32xf32>
  hymba.kv_cache_write %k, %v into %kc, %vc at %pos {window = 0 : i64, num_meta = 0 : i64}
      : tensor<?x4xf32>, tensor<?x16xf32>, memref<32x4xf32>, memref<32x16xf32>
  %y = hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %kc outs(%init1 : tensor<?x32xf32>)
      : tensor<?x32xf32>, tensor<?x32xf32>, tensor<32xf32>, tensor<32x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<32xf32>, tensor<?x32xf32>, memref<32x4xf32> -> tensor<?x32xf32>
  return %att, %y : tensor<?x32xf32>, tensor<?x32xf32>
}
