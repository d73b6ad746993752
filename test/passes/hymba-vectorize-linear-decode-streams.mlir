// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=16 vector-registers=32 decode-streams=2 prefetch-distance=1024" -cse | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=16 vector-registers=32 prefetch-distance=1024" -cse | FileCheck %s --check-prefix=ONE

// decode-streams=2: a one-row x (a decode step) takes its own branch, in
// which each tile reads two panels side by side, i and i + H (H = full
// panels / 2), each a sequential stream of its own; panels past 2 H (a last
// full one, the partial one) are tiles of one panel. Other row counts keep
// the tiles of one panel. Without the option there is no such branch.

#x = affine_map<(t, n, k) -> (t, k)>
#pw = affine_map<(t, n, k) -> (n floordiv 32, k, n mod 32)>
#y = affine_map<(t, n, k) -> (t, n)>

// 170 columns: 5 full panels and a partial one; H = 2, so items 0 and 1
// read panels {0, 2} and {1, 3}, items 2 and 3 panels 4 and 5 (partial).
// CHECK-LABEL: func @f32_panels
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: memref<?x8xf32>, %[[W:[a-z0-9]+]]: memref<6x8x32xf32>, %[[Y:[a-z0-9]+]]: memref<?x170xf32>)
// CHECK:         %[[T:.+]] = memref.dim %[[X]], %[[C0:.+]] :
// CHECK:         %[[ROW1:.+]] = arith.cmpi eq, %[[T]], %[[C1:.+]] : index
// CHECK:         scf.if %[[ROW1]] {
// CHECK:           %[[C4:.+]] = arith.constant 4 : index
// CHECK:           scf.parallel (%[[I:.+]]) = (%[[C0]]) to (%[[C4]])
// CHECK:             %[[C2:.+]] = arith.constant 2 : index
// CHECK:             %[[GROUPED:.+]] = arith.cmpi ult, %[[I]], %[[C2]] : index
// CHECK:             scf.if %[[GROUPED]] {
// CHECK:               %[[P2:.+]] = arith.addi %[[I]], %[[C2]] : index
// Two chains of four accumulators (two lanes of two panels):
// CHECK:               scf.for %[[K:[a-z0-9]+]] = {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK-NEXT:            vector.load %[[W]][%[[I]], %[[K]], %{{.*}}] : memref<6x8x32xf32>, vector<16xf32>
// CHECK-NEXT:            vector.load %[[W]][%[[I]], %[[K]], %{{.*}}] : memref<6x8x32xf32>, vector<16xf32>
// CHECK-NEXT:            vector.load %[[W]][%[[P2]], %[[K]], %{{.*}}] : memref<6x8x32xf32>, vector<16xf32>
// CHECK-NEXT:            vector.load %[[W]][%[[P2]], %[[K]], %{{.*}}] : memref<6x8x32xf32>, vector<16xf32>
// CHECK-COUNT-4:         vector.fma
// CHECK:               vector.store {{.*}}, %[[Y]]
// CHECK-COUNT-3:       vector.store {{.*}}, %[[Y]]
// CHECK:             } else {
// CHECK:               %[[P:.+]] = arith.addi %[[I]], %[[C2]] : index
// CHECK:               %[[C5:.+]] = arith.constant 5 : index
// CHECK:               %[[FULL:.+]] = arith.cmpi ult, %[[P]], %[[C5]] : index
// CHECK:               scf.if %[[FULL]] {
// CHECK:                 vector.load %[[W]][%[[P]],
// CHECK:               } else {
// The partial panel's second vector holds 10 columns:
// CHECK:                 vector.constant_mask [10]
// CHECK:         } else {
// CHECK:           scf.parallel
// CHECK-NOT:       arith.cmpi eq, %[[T]]
// ONE-LABEL: func @f32_panels
// ONE-NOT:   arith.cmpi eq
// ONE:       scf.parallel
// ONE-NOT:   scf.parallel
// ONE:       return
func.func @f32_panels(%x: memref<?x8xf32>, %w: memref<6x8x32xf32>, %y: memref<?x170xf32>) {
  linalg.generic {indexing_maps = [#x, #pw, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x8xf32>, memref<6x8x32xf32>) outs(%y : memref<?x170xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#x = affine_map<(t, n, k) -> (t, k)>
#q8 = affine_map<(t, n, k) -> (n floordiv 32, k, n mod 32)>
#qs = affine_map<(t, n, k) -> (n floordiv 32, k floordiv 32, n mod 32)>
#y = affine_map<(t, n, k) -> (t, n)>

// Quantized: 4 full panels, all in pairs {i, i + 2} (no single-panel
// items); per group both panels' scales are prefetched and loaded, and
// each stream prefetches its own weight lines.
// CHECK-LABEL: func @int8_panels
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: memref<4x64x32xi8>, %[[S:[a-z0-9]+]]: memref<4x2x32xbf16>
// CHECK:         scf.if
// CHECK:           %[[C2:.+]] = arith.constant 2 : index
// CHECK:           scf.parallel (%[[I:.+]]) = (%{{.*}}) to (%[[C2]])
// CHECK-NOT:         scf.if
// CHECK:             %[[P2:.+]] = arith.addi %[[I]], %[[C2]] : index
// CHECK:             scf.for %[[KG:[a-z0-9]+]] =
// CHECK:               %[[G:.+]] = arith.divui %[[KG]]
// CHECK:               memref.prefetch %[[S]][%[[I]],
// CHECK:               vector.load %[[S]][%[[I]], %[[G]],
// CHECK:               vector.load %[[S]][%[[I]], %[[G]],
// CHECK:               memref.prefetch %[[S]][%[[P2]],
// CHECK:               vector.load %[[S]][%[[P2]], %[[G]],
// CHECK:               vector.load %[[S]][%[[P2]], %[[G]],
// CHECK:               scf.for %[[K:[a-z0-9]+]] =
// CHECK-NEXT:            vector.load %[[Q]][%[[I]], %[[K]], %{{.*}}] : memref<4x64x32xi8>, vector<16xi8>
// CHECK-NEXT:            %[[AHEAD:.+]] = arith.addi %[[K]], %{{.*}} : index
// CHECK-NEXT:            memref.prefetch %[[Q]][%[[I]], %[[AHEAD]], %{{.*}}]
// CHECK:                 vector.load %[[Q]][%[[P2]], %[[K]],
// CHECK-NEXT:            memref.prefetch %[[Q]][%[[P2]], %[[AHEAD]],
// ONE-LABEL: func @int8_panels
// ONE-NOT:   arith.cmpi eq
// ONE:       return
func.func @int8_panels(%x: memref<?x64xf32>, %q: memref<4x64x32xi8>, %s: memref<4x2x32xbf16>, %y: memref<?x128xf32>) {
  linalg.generic {indexing_maps = [#x, #q8, #qs, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %q, %s : memref<?x64xf32>, memref<4x64x32xi8>, memref<4x2x32xbf16>) outs(%y : memref<?x128xf32>) {
  ^bb0(%a: f32, %b: i8, %c: bf16, %acc: f32):
    %qf = arith.sitofp %b : i8 to f32
    %sf = arith.extf %c : bf16 to f32
    %w = arith.mulf %qf, %sf : f32
    %m = arith.mulf %a, %w : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}
