// RUN: hymba-opt %s -split-input-file -hymba-tile-selective-scan="channel-tile=16 time-chunk=32" | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-tile-selective-scan="channel-tile=16 time-chunk=0" | FileCheck %s --check-prefix=NOCHUNK

// CHECK-LABEL: func @scan
// CHECK-SAME:    (%[[U:.*]]: tensor<?x64xf32>, %{{.*}}, %{{.*}}, %[[AL:.*]]: tensor<64x4xbf16>, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[SS:.*]]: memref<64x4xf32>, %[[INIT:.*]]: tensor<?x64xf32>)
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK:         %[[ROWS:.*]] = tensor.dim %[[U]], %[[C0]]
// CHECK:         scf.forall (%[[C:.*]]) = (0) to (64) step (16) shared_outs(%[[O:.*]] = %[[INIT]]) -> (tensor<?x64xf32>)
// The tile's destination is its columns of the shared output, each time
// chunk's the chunk's rows of that (destination-passing style).
// CHECK:           %[[TILE:.*]] = tensor.extract_slice %[[O]][0, %[[C]]] [%[[ROWS]], 16] [1, 1]
// CHECK:           %[[UT:.*]] = tensor.extract_slice %[[U]][0, %[[C]]] [%[[ROWS]], 16] [1, 1] : tensor<?x64xf32> to tensor<?x16xf32>
// CHECK:           tensor.extract_slice %[[AL]][%[[C]], 0] [16, 4] [1, 1] : tensor<64x4xbf16> to tensor<16x4xbf16>
// CHECK:           %[[ST:.*]] = memref.subview %[[SS]][%[[C]], 0] [16, 4] [1, 1] : memref<64x4xf32> to memref<16x4xf32, strided<[4, 1], offset: ?>>
// CHECK:           %[[C32:.*]] = arith.constant 32 : index
// CHECK:           scf.for %[[T:.*]] = %{{.*}} to %[[ROWS]] step %[[C32]] iter_args(%[[ACC:.*]] = %[[TILE]]) -> (tensor<?x16xf32>)
// CHECK:             %[[N:.*]] = affine.min #{{.*}}(%[[T]])[%[[ROWS]]]
// CHECK:             %[[DEST:.*]] = tensor.extract_slice %[[ACC]][%[[T]], 0] [%[[N]], 16] [1, 1]
// CHECK:             tensor.extract_slice %[[UT]][%[[T]], 0] [%[[N]], 16] [1, 1] : tensor<?x16xf32> to tensor<?x16xf32>
// CHECK:             %[[PART:.*]] = hymba.selective_scan {{.*}} outs(%[[DEST]] : tensor<?x16xf32>) : tensor<?x16xf32>, tensor<?x16xf32>, tensor<16xf32>, tensor<16x4xbf16>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<16xf32>, tensor<?x16xf32>, memref<16x4xf32, strided<[4, 1], offset: ?>> -> tensor<?x16xf32>
// CHECK:             tensor.insert_slice %[[PART]] into %[[ACC]][%[[T]], 0] [%[[N]], 16] [1, 1]
// CHECK:           scf.forall.in_parallel
// CHECK:             tensor.parallel_insert_slice %{{.*}} into %[[O]][0, %[[C]]] [%[[ROWS]], 16] [1, 1]
// NOCHUNK-LABEL: func @scan
// NOCHUNK:         scf.forall
// NOCHUNK-NOT:     scf.for
// NOCHUNK:         hymba.selective_scan {{.*}} -> tensor<?x16xf32>
func.func @scan(%u: tensor<?x64xf32>, %dt: tensor<?x64xf32>, %b: tensor<64xf32>, %al: tensor<64x4xbf16>,
                %B: tensor<?x4xf32>, %C: tensor<?x4xf32>, %D: tensor<64xf32>, %z: tensor<?x64xf32>,
                %ss: memref<64x4xf32>, %init: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %y = hymba.selective_scan %u, %dt, %b, %al, %B, %C, %D, %z, %ss outs(%init : tensor<?x64xf32>)
      : tensor<?x64xf32>, tensor<?x64xf32>, tensor<64xf32>, tensor<64x4xbf16>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<64xf32>, tensor<?x64xf32>, memref<64x4xf32> -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// A scan one tile wide, or not a multiple of the tile, is left alone.
// CHECK-LABEL: func @untileable
// CHECK-NOT:     scf.forall
// CHECK:         hymba.selective_scan {{.*}} -> tensor<?x20xf32>
func.func @untileable(%u: tensor<?x20xf32>, %b: tensor<20xf32>, %al: tensor<20x4xf32>,
                      %B: tensor<?x4xf32>, %ss: memref<20x4xf32>, %init: tensor<?x20xf32>) -> tensor<?x20xf32> {
  %y = hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %ss outs(%init : tensor<?x20xf32>)
      : tensor<?x20xf32>, tensor<?x20xf32>, tensor<20xf32>, tensor<20x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<20xf32>, tensor<?x20xf32>, memref<20x4xf32> -> tensor<?x20xf32>
  return %y : tensor<?x20xf32>
}
