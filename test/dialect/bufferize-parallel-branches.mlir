// RUN: hymba-opt %s -split-input-file -hymba-fuse-hybrid-heads -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-fuse-hybrid-heads -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" -hymba-lower-stateful-to-loops | FileCheck %s --check-prefix=LOOPS
// RUN: hymba-opt %s -split-input-file -hymba-fuse-hybrid-heads -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" -hymba-lower-stateful-to-loops=kernel-form=gpu | FileCheck %s --check-prefix=GPU

// A fused layer under one-shot-bufferize: each region's result is its inner
// op's init, so the branch results are the inits' buffers themselves, in
// place. The only allocations are the three inits (conv, attention, scan);
// nothing is allocated or copied for the branch results.
// CHECK-LABEL: func @layer
// CHECK-NOT:     memref.copy
// CHECK:         %[[A_INIT:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x32xf32>
// CHECK-NEXT:    %[[U:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x32xf32>
// CHECK-NEXT:    hymba.causal_conv1d {{.*}} outs(%[[U]] : memref<?x32xf32>)
// CHECK-NEXT:    %[[Y_INIT:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x32xf32>
// CHECK-NEXT:    %[[ATT:.*]], %[[SSM:.*]] = hymba.parallel_branches scan_tile(16) : memref<?x32xf32>, memref<?x32xf32> {
// CHECK-NEXT:      hymba.attention {{.*}} outs(%[[A_INIT]] : memref<?x32xf32>)
// CHECK-NEXT:      hymba.yield %[[A_INIT]] : memref<?x32xf32>
// CHECK-NEXT:    } {
// CHECK-NEXT:      hymba.selective_scan %[[U]], %[[U]], {{.*}} outs(%[[Y_INIT]] : memref<?x32xf32>)
// CHECK-NEXT:      hymba.yield %[[Y_INIT]] : memref<?x32xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    hymba.kv_cache_write
// CHECK-NOT:     memref.alloc
// CHECK-NOT:     memref.copy
// CHECK:         return %[[ATT]], %[[SSM]] : memref<?x32xf32>, memref<?x32xf32>

// Its memref form lowers to the one parallel loop over both branches,
// which stores into the inits; the function returns the inits.
// LOOPS-LABEL: func @layer
// LOOPS-NOT:     memref.copy
// LOOPS:         %[[A_INIT:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x32xf32>
// LOOPS:         %[[U:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x32xf32>
// LOOPS:         %[[Y_INIT:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x32xf32>
// LOOPS:         scf.parallel
// LOOPS:           scf.if
// LOOPS:             memref.store %{{.*}}, %[[A_INIT]]
// LOOPS:           } else {
// LOOPS:             memref.subview %[[Y_INIT]]
// LOOPS-NOT:     hymba.parallel_branches
// LOOPS-NOT:     memref.copy
// LOOPS:         return %[[A_INIT]], %[[Y_INIT]] : memref<?x32xf32>, memref<?x32xf32>
// GPU form: one item per attention output element, then one per channel.
// GPU-LABEL: func @layer
// GPU:         %[[A_INIT:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x32xf32>
// GPU:         %[[U:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x32xf32>
// GPU:         %[[Y_INIT:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x32xf32>
// GPU:         %[[LANES:.*]] = arith.muli %{{.*}}, %{{.*}} : index
// GPU-NEXT:    %[[ITEMS:.*]] = arith.addi %[[LANES]], %{{.*}} : index
// GPU-NEXT:    scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%[[ITEMS]])
// GPU:           memref.store %{{.*}}, %[[A_INIT]]
// GPU:           memref.store %{{.*}}, %[[Y_INIT]]
// GPU-NOT:     hymba.parallel_branches
// GPU:         return %[[A_INIT]], %[[Y_INIT]] : memref<?x32xf32>, memref<?x32xf32>
func.func @layer(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x16xf32>,
                 %state: memref<?xi8>, %pos: index,
                 %cx: tensor<?x32xf32>, %cw: tensor<32x1x4xf32>, %cb: tensor<32xf32>,
                 %b: tensor<32xf32>, %al: tensor<32x4xf32>, %B: tensor<?x4xf32>)
    -> (tensor<?x32xf32>, tensor<?x32xf32>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %q, %c0 : tensor<?x8xf32>
  %kc = hymba.state_buffer %state["layers.0.k_cache"] {offset = 0 : i64} : memref<?xi8> -> memref<7x4xf32>
  %vc = hymba.state_buffer %state["layers.0.v_cache"] {offset = 112 : i64} : memref<?xi8> -> memref<7x16xf32>
  %cs = hymba.state_buffer %state["layers.0.conv_state"] {offset = 560 : i64} : memref<?xi8> -> memref<3x32xf32>
  %ss = hymba.state_buffer %state["layers.0.ssm_state"] {offset = 944 : i64} : memref<?xi8> -> memref<32x4xf32>
  %e0 = tensor.empty(%n) : tensor<?x32xf32>
  %att = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%e0 : tensor<?x32xf32>)
      {num_heads = 2 : i64, num_kv_heads = 1 : i64, window = 4 : i64, num_meta = 3 : i64, scale = 0.5 : f32}
      : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x16xf32>, memref<7x4xf32>, memref<7x16xf32> -> tensor<?x32xf32>
  hymba.kv_cache_write %k, %v into %kc, %vc at %pos {window = 4 : i64, num_meta = 3 : i64}
      : tensor<?x4xf32>, tensor<?x16xf32>, memref<7x4xf32>, memref<7x16xf32>
  %e1 = tensor.empty(%n) : tensor<?x32xf32>
  %u = hymba.causal_conv1d %cx, %cw, %cb, %cs outs(%e1 : tensor<?x32xf32>) : tensor<?x32xf32>, tensor<32x1x4xf32>, tensor<32xf32>, memref<3x32xf32> -> tensor<?x32xf32>
  %e2 = tensor.empty(%n) : tensor<?x32xf32>
  %y = hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %ss outs(%e2 : tensor<?x32xf32>)
      : tensor<?x32xf32>, tensor<?x32xf32>, tensor<32xf32>, tensor<32x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<32xf32>, tensor<?x32xf32>, memref<32x4xf32> -> tensor<?x32xf32>
  return %att, %y : tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// One init shared by both branches (as when CSE merges two tensor.empty):
// the scan writes it in place, the attention gets a fresh destination, which
// one-shot-bufferize allocates inside the attention region (an allocation,
// still no copy). The lowering moves it, with its size, above the loops.
// CHECK-LABEL: func @shared_init
// CHECK-SAME:    %[[INIT:[^:]*]]: memref<?x32xf32>)
// CHECK-NOT:     memref.copy
// CHECK:         hymba.parallel_branches scan_tile(16) : memref<?x32xf32>, memref<?x32xf32> {
// CHECK:           %[[FRESH:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x32xf32>
// CHECK-NEXT:      hymba.attention {{.*}} outs(%[[FRESH]] : memref<?x32xf32>)
// CHECK-NEXT:      hymba.yield %[[FRESH]] : memref<?x32xf32>
// CHECK-NEXT:    } {
// CHECK-NEXT:      hymba.selective_scan {{.*}} outs(%[[INIT]] : memref<?x32xf32>)
// CHECK-NEXT:      hymba.yield %[[INIT]] : memref<?x32xf32>
// CHECK-NEXT:    }
// CHECK-NOT:     memref.copy
// LOOPS-LABEL: func @shared_init
// LOOPS-SAME:    %[[INIT:[^:]*]]: memref<?x32xf32>)
// LOOPS-NOT:     memref.copy
// LOOPS:         %[[FRESH:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x32xf32>
// LOOPS:         scf.parallel
// LOOPS:           scf.if
// LOOPS:             memref.store %{{.*}}, %[[FRESH]]
// LOOPS:           } else {
// LOOPS:             memref.subview %[[INIT]]
// LOOPS-NOT:     memref.copy
// LOOPS:         return %[[FRESH]], %[[INIT]] : memref<?x32xf32>, memref<?x32xf32>
// GPU-LABEL: func @shared_init
// GPU-SAME:    %[[INIT:[^:]*]]: memref<?x32xf32>)
// GPU:         %[[FRESH:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x32xf32>
// GPU:         scf.parallel
// GPU:           memref.store %{{.*}}, %[[FRESH]]
// GPU:           memref.store %{{.*}}, %[[INIT]]
// GPU:         return %[[FRESH]], %[[INIT]] : memref<?x32xf32>, memref<?x32xf32>
func.func @shared_init(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x16xf32>,
                       %kc: memref<7x4xf32>, %vc: memref<7x16xf32>, %pos: index,
                       %u: tensor<?x32xf32>, %b: tensor<32xf32>, %al: tensor<32x4xf32>,
                       %B: tensor<?x4xf32>, %ss: memref<32x4xf32>, %init: tensor<?x32xf32>)
    -> (tensor<?x32xf32>, tensor<?x32xf32>) {
  %r:2 = hymba.parallel_branches scan_tile(16) : tensor<?x32xf32>, tensor<?x32xf32> {
    %a = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<?x32xf32>)
        {num_heads = 2 : i64, num_kv_heads = 1 : i64, window = 4 : i64, num_meta = 3 : i64, scale = 0.5 : f32}
        : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x16xf32>, memref<7x4xf32>, memref<7x16xf32> -> tensor<?x32xf32>
    hymba.yield %a : tensor<?x32xf32>
  } {
    %y = hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %ss outs(%init : tensor<?x32xf32>)
        : tensor<?x32xf32>, tensor<?x32xf32>, tensor<32xf32>, tensor<32x4xf32>, tensor<?x4xf32>,
          tensor<?x4xf32>, tensor<32xf32>, tensor<?x32xf32>, memref<32x4xf32> -> tensor<?x32xf32>
    hymba.yield %y : tensor<?x32xf32>
  }
  return %r#0, %r#1 : tensor<?x32xf32>, tensor<?x32xf32>
}
