// RUN: hymba-opt %s -hymba-unshare-fill-inits | FileCheck %s
// RUN: hymba-opt %s -hymba-unshare-fill-inits -one-shot-bufferize | FileCheck %s --check-prefix=BUF

// Two matmuls accumulate into one CSE'd zero tensor: the second gets a
// tensor.empty and fill of its own, the first keeps the original.
// CHECK-LABEL: func @two_writers
// CHECK:         %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?x8xf32>
// CHECK-NEXT:    %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E]] :
// CHECK-NEXT:    %[[A:.*]] = linalg.matmul {{.*}} outs(%[[Z]] :
// CHECK-NEXT:    %[[E2:.*]] = tensor.empty(%{{.*}}) : tensor<?x8xf32>
// CHECK-NEXT:    %[[Z2:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E2]] :
// CHECK-NEXT:    %[[B:.*]] = linalg.matmul {{.*}} outs(%[[Z2]] :
// CHECK-NEXT:    return %[[A]], %[[B]]
// Bufferized, each matmul's zeros are filled in its own buffer: no copy.
// BUF-LABEL: func @two_writers
// BUF-NOT:     memref.copy
// BUF:         return
func.func @two_writers(%t: index, %x: tensor<?x4xf32>, %w: tensor<4x8xf32>,
                       %v: tensor<4x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty(%t) : tensor<?x8xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<?x8xf32>) -> tensor<?x8xf32>
  %a = linalg.matmul ins(%x, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%z : tensor<?x8xf32>) -> tensor<?x8xf32>
  %b = linalg.matmul ins(%x, %v : tensor<?x4xf32>, tensor<4x8xf32>) outs(%z : tensor<?x8xf32>) -> tensor<?x8xf32>
  return %a, %b : tensor<?x8xf32>, tensor<?x8xf32>
}

// When the filled tensor is also read, every writer gets its own fill and
// the reader keeps the original; a writer in a nested region is left alone.
// CHECK-LABEL: func @writer_and_reader
// CHECK:         %[[Z:.*]] = linalg.fill
// CHECK-NEXT:    %[[E2:.*]] = tensor.empty() : tensor<8xf32>
// CHECK-NEXT:    %[[Z2:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E2]] :
// CHECK-NEXT:    %[[A:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<8xf32>) outs(%[[Z2]] :
// CHECK:         %[[B:.*]] = linalg.generic {{.*}} ins(%[[Z]] : tensor<8xf32>) outs(%[[A]] :
// CHECK:         scf.if
// CHECK-NOT:       linalg.fill
// CHECK:           linalg.generic {{.*}} outs(%[[Z]] :
// BUF-LABEL: func @writer_and_reader
// BUF-NOT:     memref.copy
// BUF:         scf.if
// BUF:           memref.copy
#id = affine_map<(i) -> (i)>
func.func @writer_and_reader(%x: tensor<8xf32>, %p: i1) -> (tensor<8xf32>, tensor<8xf32>) {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<8xf32>) outs(%z : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%z : tensor<8xf32>) outs(%a : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  %l = scf.if %p -> tensor<8xf32> {
    %c = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%b : tensor<8xf32>) outs(%z : tensor<8xf32>) {
    ^bb0(%in: f32, %out: f32):
      %s = arith.addf %in, %out : f32
      linalg.yield %s : f32
    } -> tensor<8xf32>
    scf.yield %c : tensor<8xf32>
  } else {
    scf.yield %b : tensor<8xf32>
  }
  return %b, %l : tensor<8xf32>, tensor<8xf32>
}
