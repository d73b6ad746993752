// A schedule of one's own for the Hymba ops, through the transform dialect:
// every hymba.selective_scan is tiled into channel tiles of 8 run in
// parallel (scf.forall) and each tile into time chunks of 4 rows run in
// order (scf.for; the state flows from chunk to chunk through ssm_state).
// The scan's TilingInterface is what the transform ops drive.
//
//   hymba-compile CHECKPOINT -o model --transform-script=tile-scan-schedule.mlir
//
// The script runs after the meta-token fold and before
// hymba-fuse-hybrid-heads, which then leaves the layers whose scan the
// script tiled unfused; hymba-tile-selective-scan skips scans that are
// tiles already. Tile sizes must divide the channel count.
//
// RUN: hymba-opt %S/Inputs/scan.mlir -transform-preload-library=transform-library-paths=%s -transform-interpreter | FileCheck %s
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

// E2E: schedule applied: scf.forall over scan tiles, no fused heads
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
    transform.yield
  }
}
