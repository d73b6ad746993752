// A schedule of one's own for the Hymba ops, through the transform dialect:
// every hymba.selective_scan is tiled into channel tiles of 8 run in
// parallel (scf.forall) and each tile into time chunks of 4 rows run in
// order (scf.for; the state flows from chunk to chunk through ssm_state);
// every hymba.attention into tiles of 8 query rows x 1 KV head (with its
// grouped-query group of query heads) run in parallel, and each into tiles
// of 4 rows. The ops' TilingInterface is what the transform ops drive; an
// attention row tile carries its first row in `query_offset`.
//
//   hymba-compile CHECKPOINT -o model --transform-script=tile-schedule.mlir
//
// The script runs after the meta-token fold and before
// hymba-fuse-hybrid-heads, which then leaves the layers whose branches the
// script tiled unfused; hymba-tile-selective-scan skips scans that are
// tiles already. Scan tile sizes must divide the channel count, attention
// head tile sizes the KV head count.
//
// RUN: hymba-opt %S/Inputs/payload.mlir -transform-preload-library=transform-library-paths=%s -transform-interpreter | FileCheck %s
// RUN: %python %S/transform_script.py %hymba-compile-bin %pytools %s %t 2>&1 | FileCheck %s --check-prefix=E2E

// CHECK-LABEL: func @scan
// CHECK-SAME:    %[[SS:[^:]*]]: memref<16x4xf32>, %[[INIT:[^:]*]]: tensor<?x16xf32>)
// CHECK:         scf.forall (%[[I:.*]]) in (2) shared_outs(%[[O:.*]] = %[[INIT]])
// CHECK:           %[[C:.*]] = affine.apply #{{.*}}(%[[I]])
// CHECK:           %[[OT:.*]] = tensor.extract_slice %[[O]][0, %[[C]]]
// CHECK:           memref.subview %[[SS]][%[[C]], 0] [8, 4] [1, 1]
// CHECK:           scf.for %[[T:.*]] = %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[OT]]) -> (tensor<?x8xf32>)
// CHECK:             %[[DEST:.*]] = tensor.extract_slice %[[ACC]][%[[T]], 0]
// CHECK:             hymba.selective_scan {{.*}}, %{{.*}} outs(%[[DEST]] : tensor<?x8xf32>) : tensor<?x8xf32>, {{.*}}, memref<8x4xf32, strided<[4, 1], offset: ?>> -> tensor<?x8xf32>
// CHECK:           tensor.parallel_insert_slice
// CHECK-NOT:     hymba.selective_scan {{.*}} -> tensor<?x16xf32>

// Row tiles x KV heads in parallel: KV head %[[G]] owns query heads 2G, 2G+1
// (query columns 4G.., 4 wide; output columns 6G.., 6 wide), key columns
// 2G.. and value columns 3G.. of the chunk and the caches, every row.
// CHECK-LABEL: func @attention
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<?x8xf32>, %[[K:[^:]*]]: tensor<?x4xf32>, %[[V:[^:]*]]: tensor<?x6xf32>, %[[KC:[^:]*]]: memref<9x4xf32>, %[[VC:[^:]*]]: memref<9x6xf32>, %[[POS:[^:]*]]: index, %[[AINIT:[^:]*]]: tensor<?x12xf32>)
// CHECK:         scf.forall (%[[R:.*]], %[[G:.*]]) in (%{{.*}}, 2) shared_outs(%[[AO:.*]] = %[[AINIT]])
// CHECK:           %[[T0:.*]] = affine.apply #{{.*}}(%[[R]])
// CHECK:           %[[N:.*]] = affine.min #{{.*}}(%[[T0]])
// CHECK:           %[[C6:.*]] = arith.constant 6 : index
// CHECK:           %[[OC:.*]] = arith.muli %[[G]], %[[C6]] : index
// CHECK:           %[[AOT:.*]] = tensor.extract_slice %[[AO]][%[[T0]], %[[OC]]] [%[[N]], 6]
// CHECK:           %[[C4:.*]] = arith.constant 4 : index
// CHECK:           %[[QC:.*]] = arith.muli %[[G]], %[[C4]] : index
// CHECK:           %[[QT:.*]] = tensor.extract_slice %[[Q]][%[[T0]], %[[QC]]] [%[[N]], 4]
// CHECK:           %[[C2:.*]] = arith.constant 2 : index
// CHECK:           %[[KCOL:.*]] = arith.muli %[[G]], %[[C2]] : index
// CHECK:           %[[KT:.*]] = tensor.extract_slice %[[K]][0, %[[KCOL]]] [%{{.*}}, 2]
// CHECK:           %[[C3:.*]] = arith.constant 3 : index
// CHECK:           %[[VCOL:.*]] = arith.muli %[[G]], %[[C3]] : index
// CHECK:           %[[VT:.*]] = tensor.extract_slice %[[V]][0, %[[VCOL]]] [%{{.*}}, 3]
// CHECK:           %[[KCCOL:.*]] = arith.muli %[[G]], %{{.*}} : index
// CHECK:           %[[KCT:.*]] = memref.subview %[[KC]][0, %[[KCCOL]]] [9, 2] [1, 1]
// CHECK:           %[[VCCOL:.*]] = arith.muli %[[G]], %{{.*}} : index
// CHECK:           %[[VCT:.*]] = memref.subview %[[VC]][0, %[[VCCOL]]] [9, 3] [1, 1]
// Inside, 4-row tiles in order: query_offset = outer first row + inner.
// CHECK:           scf.for %[[T1:.*]] = %{{.*}} to %[[N]] step %{{.*}} iter_args(%[[AACC:.*]] = %[[AOT]]) -> (tensor<?x6xf32>)
// CHECK:             %[[OFF:.*]] = arith.addi %[[T0]], %[[T1]] : index
// CHECK:             %[[ADEST:.*]] = tensor.extract_slice %[[AACC]][%[[T1]], 0]
// CHECK:             %[[QTT:.*]] = tensor.extract_slice %[[QT]][%[[T1]], 0]
// CHECK:             %[[KTT:.*]] = tensor.extract_slice %[[KT]][0, 0]
// CHECK:             %[[VTT:.*]] = tensor.extract_slice %[[VT]][0, 0]
// CHECK:             %[[KCTT:.*]] = memref.subview %[[KCT]][0, 0]
// CHECK:             %[[VCTT:.*]] = memref.subview %[[VCT]][0, 0]
// CHECK:             hymba.attention %[[QTT]], %[[KTT]], %[[VTT]], %[[KCTT]], %[[VCTT]] at %[[POS]] query_offset(%[[OFF]]) outs(%[[ADEST]] : tensor<?x6xf32>)
// CHECK-SAME:          {num_heads = 2 : i64, num_kv_heads = 1 : i64, num_meta = 3 : i64, scale = 5.000000e-01 : f32, window = 6 : i64}
// CHECK-SAME:          : tensor<?x4xf32>, tensor<?x2xf32>, tensor<?x3xf32>, memref<9x2xf32, strided<[4, 1], offset: ?>>, memref<9x3xf32, strided<[6, 1], offset: ?>> -> tensor<?x6xf32>
// CHECK:           tensor.parallel_insert_slice %{{.*}} into %[[AO]][%[[T0]], %{{.*}}] [%[[N]], 6]
// CHECK-NOT:     hymba.attention {{.*}} -> tensor<?x12xf32>

// E2E: schedule applied: scf.forall over scan and attention tiles, attention row tiles with query_offset, no fused heads
// E2E: logits with the schedule vs the default build: rel diff {{.*}} PASS
// E2E: missing script: exit 1, names the file, no output: PASS

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(
      %root: !transform.any_op {transform.readonly}) {
    %scans = transform.structured.match ops{["hymba.selective_scan"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %tiles, %forall = transform.structured.tile_using_forall %scans
        tile_sizes [0, 8] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %chunks, %loop = transform.structured.tile_using_for %tiles
        tile_sizes [4, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %atts = transform.structured.match ops{["hymba.attention"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %att_tiles, %att_forall = transform.structured.tile_using_forall %atts
        tile_sizes [8, 1] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %att_rows, %att_loop = transform.structured.tile_using_for %att_tiles
        tile_sizes [4, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
