// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=8" -cse | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=8 row-chunk=8" -cse | FileCheck %s --check-prefix=CHUNK
// RUN: not hymba-opt %s -split-input-file -hymba-vectorize-linear="row-chunk=6" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: row-chunk must be a positive multiple of 4

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>

// N = 10: 4-column blocks for 8 columns, 1x1 tiles for the last 2.
// K = 20: vector steps of 8 up to 16, then a scalar tail of 4.
// CHECK-LABEL: func @linear
// CHECK-SAME:    (%[[X:.*]]: memref<?x20xf32>, %[[W:.*]]: memref<10x20xbf16>, %[[Y:.*]]: memref<?x10xf32>)
// Rows 128 at a time (row-chunk), each chunk against every column block.
// CHECK:         %[[ROWS:.*]] = memref.dim %[[X]], %c0
// CHECK:         scf.for %[[R0:.*]] = %c0 to %[[ROWS]] step %c128
// CHECK:           %[[R1:.*]] = arith.minui %{{.*}}, %[[ROWS]]
// CHECK:           scf.parallel (%[[N:.*]]) = (%c0) to (%c8) step (%c4)
// 4x4 tiles over full row blocks: 16 accumulators.
// CHECK:           scf.for %[[T:.*]] = %[[R0]] to %{{.*}} step %c4
// CHECK:             scf.for %[[K:.*]] = %c0 to %c16 step %c8 iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:               vector.load %[[X]][%{{.*}}, %[[K]]] : memref<?x20xf32>, vector<8xf32>
// CHECK:               %[[WV:.*]] = vector.load %[[W]][%{{.*}}, %[[K]]] : memref<10x20xbf16>, vector<8xbf16>
// CHECK:               arith.extf %[[WV]] : vector<8xbf16> to vector<8xf32>
// CHECK-COUNT-16:      vector.fma
// CHECK:             vector.reduction <add>
// CHECK:             scf.for %{{.*}} = %c16 to %c20 step %c1
// CHECK:               math.fma
// CHECK-COUNT-16:    memref.store %{{.*}}, %[[Y]]
// The last T % 4 rows: 1x4 tiles (decode).
// CHECK:           scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1
// CHECK:             scf.for %{{.*}} = %c0 to %c16 step %c8 iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// The last N % 4 columns, one at a time.
// CHECK:         scf.parallel (%{{.*}}, %{{.*}}) = (%[[R0]], %c8) to (%[[R1]], %c10) step (%c1, %c1)
// CHUNK-LABEL: func @linear
// CHUNK:         scf.for %{{.*}} = %c0 to %{{.*}} step %c8
// CHECK-NOT:     linalg.generic
func.func @linear(%x: memref<?x20xf32>, %w: memref<10x20xbf16>, %y: memref<?x10xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x20xf32>, memref<10x20xbf16>) outs(%y : memref<?x10xf32>)
      attrs = {hymba.linear} {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %bw = arith.extf %b : bf16 to f32
    %m = arith.mulf %a, %bw : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>

// Unmarked generics and operands without a unit minor stride are left alone.
// CHECK-LABEL: func @untouched
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT:     vector.fma
func.func @untouched(%x: memref<?x20xf32>, %xs: memref<?x20xf32, strided<[?, ?]>>, %w: memref<8x20xf32>, %y: memref<?x8xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x20xf32>, memref<8x20xf32>) outs(%y : memref<?x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xs, %w : memref<?x20xf32, strided<[?, ?]>>, memref<8x20xf32>) outs(%y : memref<?x8xf32>)
      attrs = {hymba.linear} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
