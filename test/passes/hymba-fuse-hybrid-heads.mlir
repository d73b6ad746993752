// RUN: hymba-opt %s -split-input-file -hymba-fuse-hybrid-heads | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-fuse-hybrid-heads -hymba-lower-stateful-to-loops -hymba-lower-dense-to-linalg | FileCheck %s --check-prefix=LOWERED

// CHECK-LABEL: func @layer
// CHECK-SAME:    (%[[X:.*]]: tensor<?x4xf32>, %[[A:.*]]: tensor<?x8xf32>, %[[S:.*]]: tensor<?x8xf32>
// CHECK:         %[[H:.*]] = hymba.hybrid_merge %[[A]], %[[S]], %{{.*}}, %{{.*}}, %{{.*}} residual(%[[X]] : tensor<?x4xf32>)
// CHECK-NOT:     arith.addf
// CHECK:         return %[[H]]
// Lowered: one reduction for both norms, one element-wise generic, and the
// projection accumulating into the residual (no zero fill, no add).
// LOWERED-LABEL: func @layer
// LOWERED-SAME:    (%[[X:.*]]: tensor<?x4xf32>
// LOWERED:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<?x8xf32>) outs(%{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>)
// LOWERED:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]}
// LOWERED-COUNT-2:   math.rsqrt
// LOWERED:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} {{.*}} outs(%[[X]] : tensor<?x4xf32>)
// LOWERED-NOT:     arith.addf %{{.*}} : tensor
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

// The attention moves next to its layer's scan (the cache write after the
// scan) and both are marked; the lowering then runs them in one region.
// CHECK-LABEL: func @branches
// CHECK:         hymba.causal_conv1d
// CHECK-NEXT:    %[[ATT:.*]] = hymba.attention {{.*}} {hymba.fused_branches, num_heads = 2 : i64
// CHECK-NEXT:    %[[SSM:.*]] = hymba.selective_scan {{.*}} {hymba.fused_branches}
// CHECK-NEXT:    hymba.kv_cache_write
// CHECK:         hymba.hybrid_merge %[[ATT]], %[[SSM]]
// LOWERED-LABEL: func @branches
// LOWERED:         scf.parallel (%[[I:.*]]) = (%c0) to (%{{[0-9]+}}) step (%c1)
// LOWERED-NEXT:      %[[IS_ATT:.*]] = arith.cmpi ult, %[[I]], %{{.*}} : index
// LOWERED-NEXT:      scf.if %[[IS_ATT]] {
// LOWERED:             arith.maximumf
// LOWERED:           } else {
// LOWERED:             memref.subview
// LOWERED:             math.log1p
func.func @branches(%x: tensor<?x4xf32>, %q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x16xf32>,
                    %kc: memref<7x4xf32>, %vc: memref<7x16xf32>, %pos: index,
                    %cx: tensor<?x32xf32>, %cw: tensor<32x1x4xf32>, %cb: tensor<32xf32>, %cs: memref<3x32xf32>,
                    %b: tensor<32xf32>, %al: tensor<32x4xf32>, %B: tensor<?x4xf32>, %ss: memref<32x4xf32>,
                    %n: tensor<32xf32>, %o: tensor<4x32xf32>) -> tensor<?x4xf32> {
  %att = hymba.attention %q, %k, %v, %kc, %vc at %pos
      {num_heads = 2 : i64, num_kv_heads = 1 : i64, window = 4 : i64, num_meta = 3 : i64, scale = 0.5 : f32}
      : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x16xf32>, memref<7x4xf32>, memref<7x16xf32> -> tensor<?x32xf32>
  hymba.kv_cache_write %k, %v into %kc, %vc at %pos {window = 4 : i64, num_meta = 3 : i64}
      : tensor<?x4xf32>, tensor<?x16xf32>, memref<7x4xf32>, memref<7x16xf32>
  %u = hymba.causal_conv1d %cx, %cw, %cb, %cs : tensor<?x32xf32>, tensor<32x1x4xf32>, tensor<32xf32>, memref<3x32xf32> -> tensor<?x32xf32>
  %y = hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %ss
      : tensor<?x32xf32>, tensor<?x32xf32>, tensor<32xf32>, tensor<32x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<32xf32>, tensor<?x32xf32>, memref<32x4xf32> -> tensor<?x32xf32>
  %m = hymba.hybrid_merge %att, %y, %n, %n, %o {epsilon = 1.0e-6 : f32}
      : tensor<?x32xf32>, tensor<?x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<4x32xf32> -> tensor<?x4xf32>
  %h = arith.addf %x, %m : tensor<?x4xf32>
  return %h : tensor<?x4xf32>
}
