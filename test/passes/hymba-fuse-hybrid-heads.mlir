// RUN: hymba-opt %s -split-input-file -hymba-fuse-hybrid-heads | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-fuse-hybrid-heads -hymba-lower-dense-to-linalg | FileCheck %s --check-prefix=LOWERED

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
// LOWERED:         linalg.generic {{.*}} outs(%[[X]] : tensor<?x4xf32>) attrs = {hymba.linear}
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
