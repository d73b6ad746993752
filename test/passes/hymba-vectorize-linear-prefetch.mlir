// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=16 vector-registers=32 prefetch-distance=4096" -cse | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=16 vector-registers=32" -cse | FileCheck %s --check-prefix=OFF

// prefetch-distance: a one-row (decode) tile of quantized weights
// prefetches its weight rows 4096 bytes ahead, one prefetch per 64-byte
// line; tiles of several rows and float (bf16, f32) panels get none.

#x = affine_map<(t, n, k) -> (t, k)>
#pw = affine_map<(t, n, k) -> (n floordiv 32, k, n mod 32)>
#y = affine_map<(t, n, k) -> (t, n)>

// bf16 panels: vectorized (the one-row tile's loop loads and widens the
// panel's two vectors per k), with no prefetch anywhere.
// CHECK-LABEL: func @bf16_panel
// CHECK-SAME:    %[[W:[a-z0-9]+]]: memref<2x64x32xbf16>
// CHECK-NOT:     memref.prefetch
// CHECK:         scf.parallel (%[[P:[a-z0-9]+]])
// CHECK-NOT:     memref.prefetch
// CHECK:         scf.for %[[K:[a-z0-9_]+]] = %{{.*}} iter_args
// CHECK-NEXT:      vector.load %[[W]][%[[P]], %[[K]], %[[C0:.+]]] : memref<2x64x32xbf16>, vector<16xbf16>
// CHECK-NEXT:      arith.extf
// CHECK-NEXT:      vector.load %[[W]][%[[P]], %[[K]], %{{.+}}] : memref<2x64x32xbf16>, vector<16xbf16>
// CHECK-NEXT:      arith.extf
// CHECK-NOT:     memref.prefetch
// CHECK:         return
// OFF-LABEL: func @bf16_panel
// OFF-NOT:   memref.prefetch
func.func @bf16_panel(%x: memref<?x64xf32>, %w: memref<2x64x32xbf16>, %y: memref<?x64xf32>) {
  linalg.generic {indexing_maps = [#x, #pw, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<2x64x32xbf16>) outs(%y : memref<?x64xf32>) {
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
#pw = affine_map<(t, n, k) -> (n floordiv 32, k, n mod 32)>
#y = affine_map<(t, n, k) -> (t, n)>

// CHECK-LABEL: func @f32_panel
// CHECK-NOT:   memref.prefetch
// CHECK:       return
func.func @f32_panel(%x: memref<?x64xf32>, %w: memref<2x64x32xf32>, %y: memref<?x64xf32>) {
  linalg.generic {indexing_maps = [#x, #pw, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x64xf32>, memref<2x64x32xf32>) outs(%y : memref<?x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#x = affine_map<(t, n, k) -> (t, k)>
#xs = affine_map<(t, n, k) -> (t, k floordiv 32)>
#w = affine_map<(t, n, k) -> (n floordiv 32, k floordiv 4, n mod 32, k mod 4)>
#ws = affine_map<(t, n, k) -> (n floordiv 32, k floordiv 32, n mod 32)>
#y = affine_map<(t, n, k) -> (t, n)>

// int8 quad rows are 32 x 4 = 128 bytes: 32 rows ahead, one prefetch per
// 64-byte weight vector.
// CHECK-LABEL: func @int8_dot
// CHECK:         %[[QUADS:.+]] = memref.collapse_shape
// CHECK:         scf.parallel (%[[P:[a-z0-9]+]])
// CHECK-NOT:     memref.prefetch
// CHECK:         scf.if
// CHECK-NOT:     memref.prefetch
// CHECK:         scf.if
// CHECK-NOT:     memref.prefetch
// CHECK:         scf.if
// CHECK-NEXT:      %[[C32:.+]] = arith.constant 32 : index
// CHECK:           %[[KQ:.+]] = arith.divui
// CHECK-NEXT:      vector.load %[[QUADS]][%[[P]], %[[KQ]], %[[C0:.+]]] : memref<2x16x128xi8>, vector<64xi8>
// CHECK-NEXT:      %[[AHEAD:.+]] = arith.addi %[[KQ]], %[[C32]] : index
// CHECK-NEXT:      memref.prefetch %[[QUADS]][%[[P]], %[[AHEAD]], %[[C0]]]
// CHECK:           vector.load %[[QUADS]][%[[P]], %[[KQ]], %[[C64:.+]]] : memref<2x16x128xi8>, vector<64xi8>
// CHECK-NEXT:      memref.prefetch %[[QUADS]][%[[P]], %[[AHEAD]], %[[C64]]]
// OFF-LABEL: func @int8_dot
// OFF-NOT:   memref.prefetch
func.func @int8_dot(%qx: memref<?x64xi8>, %sx: memref<?x2xf32>, %q: memref<2x16x32x4xi8>, %s: memref<2x2x32xbf16>, %y: memref<?x64xf32>) {
  linalg.generic {indexing_maps = [#x, #xs, #w, #ws, #y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%qx, %sx, %q, %s : memref<?x64xi8>, memref<?x2xf32>, memref<2x16x32x4xi8>, memref<2x2x32xbf16>)
      outs(%y : memref<?x64xf32>) {
  ^bb0(%a: i8, %as: f32, %b: i8, %bs: bf16, %acc: f32):
    %af = arith.sitofp %a : i8 to f32
    %xa = arith.mulf %af, %as : f32
    %bf = arith.sitofp %b : i8 to f32
    %bsf = arith.extf %bs : bf16 to f32
    %wb = arith.mulf %bf, %bsf : f32
    %m = arith.mulf %xa, %wb : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#x = affine_map<(t, n, k) -> (t, k)>
#q8 = affine_map<(t, n, k) -> (n floordiv 32, k, n mod 32)>
#qs = affine_map<(t, n, k) -> (n floordiv 32, k floordiv 32, n mod 32)>
#y = affine_map<(t, n, k) -> (t, n)>

// int8 weights, f32 compute: rows of 32 bytes, 128 rows ahead. The bf16
// scales (a 64-byte row per group of 32) are a second stream: the one-row
// tile prefetches them 128 / 32 = 4 groups ahead, one prefetch per group
// row; the multi-row tiles prefetch neither.
// CHECK-LABEL: func @int8_f32_compute
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: memref<2x64x32xi8>, %[[S:[a-z0-9]+]]: memref<2x2x32xbf16>
// CHECK:         scf.parallel (%[[P:[a-z0-9]+]])
// CHECK-NOT:     memref.prefetch
// CHECK:         scf.if
// CHECK-NOT:     memref.prefetch
// CHECK:         scf.if
// CHECK-NOT:     memref.prefetch
// CHECK:         scf.if
// CHECK-NOT:     memref.prefetch
// CHECK:         scf.if
// CHECK-NOT:     memref.prefetch
// CHECK:         scf.for %[[KG:[a-z0-9_]+]] = %{{.*}} step %[[C32:.+]] iter_args
// CHECK-NEXT:      %[[G:.+]] = arith.divui %[[KG]], %[[C32]] : index
// CHECK-NEXT:      %[[GA:.+]] = arith.addi %[[G]], %{{.+}} : index
// CHECK-NEXT:      memref.prefetch %[[S]][%[[P]], %[[GA]], %[[C0:.+]]], read, locality<3>, data
// CHECK-NEXT:      vector.load %[[S]][%[[P]], %[[G]], %[[C0]]]
// CHECK-NOT:       memref.prefetch %[[S]]
// Two 32-byte rows share a line: the chained loop (rows k .. k + 3 per
// step) prefetches rows k and k + 2 only, once per line; its tail, one row
// at a time, every row.
// CHECK:           scf.for %{{.*}} step %[[C4:.+]] iter_args
// CHECK-COUNT-2:     memref.prefetch %[[Q]]
// CHECK-NOT:         memref.prefetch
// CHECK:             scf.yield
// CHECK:           scf.for %{{.*}} step %[[C1:.+]] iter_args
// CHECK:             memref.prefetch %[[Q]]
// OFF-LABEL: func @int8_f32_compute
// OFF-NOT:   memref.prefetch
func.func @int8_f32_compute(%x: memref<?x64xf32>, %q: memref<2x64x32xi8>, %s: memref<2x2x32xbf16>, %y: memref<?x64xf32>) {
  linalg.generic {indexing_maps = [#x, #q8, #qs, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %q, %s : memref<?x64xf32>, memref<2x64x32xi8>, memref<2x2x32xbf16>) outs(%y : memref<?x64xf32>) {
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
