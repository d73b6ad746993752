// RUN: hymba-opt %s -hymba-vectorize-linear="vector-width=16 vector-registers=32 vnni=true" -cse | FileCheck %s
// RUN: hymba-opt %s -hymba-vectorize-linear="vector-width=8 vector-registers=16 vnni=true" -cse | FileCheck %s --check-prefix=YMM
// RUN: hymba-opt %s -hymba-vectorize-linear="vector-width=16 vnni=false" -cse | FileCheck %s --check-prefix=NOVNNI

// hymba-compile --compute=int8: x quantized per group of 32 (values and an
// f32 scale per row and group), int8 weights in panels of 32 outputs
// interleaved by 4 along K. The second panel holds 8 real outputs. The tile
// is integer: vpdpbusd of the sign-flipped x quad against the weight
// vectors and against ones (the weights' sum), one FMA per group with both
// scales; no weight is converted to float per element.

// CHECK-LABEL: func @int8_dot
// CHECK-SAME:    (%[[QX:.*]]: memref<?x64xi8>, %[[SX:.*]]: memref<?x2xf32>, %[[Q:.*]]: memref<2x16x32x4xi8>, %[[S:.*]]: memref<2x2x32xbf16>, %[[Y:.*]]: memref<?x40xf32>)
// CHECK:         %[[QUADS:.*]] = memref.collapse_shape %[[Q]] {{\[}}[0], [1], [2, 3]] : memref<2x16x32x4xi8> into memref<2x16x128xi8>
// CHECK:         scf.parallel (%[[P:.*]]) =
// CHECK-DAG:       %[[FLIP:.*]] = arith.constant -2139062144 : i32
// CHECK-DAG:       %[[ONES:.*]] = arith.constant dense<1> : vector<64xi8>
// Six rows per tile: 6 x 2 f32 accumulators loaded from y, one group at a time.
// CHECK:           scf.for %[[KG:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{(%[^,]+, ){11}%[^)]+}})
// CHECK:             scf.for %[[KK:.*]] = %[[KG]] to %{{.*}} step %{{.*}} iter_args({{(%[^,]+, ){13}%[^)]+}})
// CHECK:               %[[KQ:.*]] = arith.divui %[[KK]]
// CHECK:               %[[W0:.*]] = vector.load %[[QUADS]][%[[P]], %[[KQ]], %{{.*}}] : memref<2x16x128xi8>, vector<64xi8>
// CHECK:               llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[ONES]], %[[W0]]) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK:               %[[XQ:.*]] = vector.load %[[QX]][%{{.*}}, %[[KK]]] : memref<?x64xi8>, vector<4xi8>
// CHECK:               %[[XW:.*]] = vector.bitcast %[[XQ]] : vector<4xi8> to vector<1xi32>
// CHECK:               %[[XS:.*]] = vector.extract %[[XW]][0] : i32 from vector<1xi32>
// CHECK:               %[[XU:.*]] = arith.xori %[[XS]], %[[FLIP]] : i32
// CHECK:               %[[XB:.*]] = vector.broadcast %[[XU]] : i32 to vector<16xi32>
// CHECK:               %[[XV:.*]] = vector.bitcast %[[XB]] : vector<16xi32> to vector<64xi8>
// CHECK:               llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[XV]], %[[W0]])
// CHECK:             %[[G:.*]] = arith.divui %[[KG]]
// CHECK:             %[[BIAS:.*]] = arith.shli %{{.*}}, %{{.*}} : vector<16xi32>
// CHECK:             vector.load %[[S]][%[[P]], %[[G]], %{{.*}}] : memref<2x2x32xbf16>, vector<16xbf16>
// CHECK:             %[[XSC:.*]] = memref.load %[[SX]][%{{.*}}, %[[G]]] : memref<?x2xf32>
// CHECK:             %[[D:.*]] = arith.subi %{{.*}}, %[[BIAS]] : vector<16xi32>
// CHECK:             %[[F:.*]] = arith.sitofp %[[D]] : vector<16xi32> to vector<16xf32>
// CHECK:             vector.fma %[[F]],
// The partial second panel: one masked vector of 8 outputs.
// CHECK:           vector.maskedstore %[[Y]]
// CHECK-NOT:     linalg.generic

// With AVX-VNNI's 8 lanes: 256-bit vpdpbusd, four weight vectors per panel.
// YMM-LABEL: func @int8_dot
// YMM:         llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"({{.*}}) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// YMM-NOT:     linalg.generic

// Without VNNI: the same integer sums, widened products added in quads.
// NOVNNI-LABEL: func @int8_dot
// NOVNNI-NOT:     llvm.call_intrinsic
// NOVNNI:         %[[U:.*]] = arith.extui %{{.*}} : vector<64xi8> to vector<64xi32>
// NOVNNI:         %[[W:.*]] = arith.extsi %{{.*}} : vector<64xi8> to vector<64xi32>
// NOVNNI:         %[[PR:.*]] = arith.muli %[[U]], %[[W]] : vector<64xi32>
// NOVNNI:         vector.shuffle %[[PR]], %[[PR]] [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60]
// NOVNNI:         vector.shuffle %[[PR]], %[[PR]] [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63]
// NOVNNI-NOT:     llvm.call_intrinsic
// NOVNNI-NOT:     linalg.generic

#x = affine_map<(t, n, k) -> (t, k)>
#xs = affine_map<(t, n, k) -> (t, k floordiv 32)>
#w = affine_map<(t, n, k) -> (n floordiv 32, k floordiv 4, n mod 32, k mod 4)>
#ws = affine_map<(t, n, k) -> (n floordiv 32, k floordiv 32, n mod 32)>
#y = affine_map<(t, n, k) -> (t, n)>
func.func @int8_dot(%qx: memref<?x64xi8>, %sx: memref<?x2xf32>, %q: memref<2x16x32x4xi8>, %s: memref<2x2x32xbf16>, %y: memref<?x40xf32>) {
  linalg.generic {indexing_maps = [#x, #xs, #w, #ws, #y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%qx, %sx, %q, %s : memref<?x64xi8>, memref<?x2xf32>, memref<2x16x32x4xi8>, memref<2x2x32xbf16>)
      outs(%y : memref<?x40xf32>) {
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
