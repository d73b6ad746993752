// bf16 weights in pairs along K (#hymba.panels<32, interleave = 2> storage,
// --compute=bf16) multiplied by x rounded to bf16: the bf16 dot-product
// kernel (AVX512_BF16), or, without it, f32 FMAs of the same pairs.
// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=16 vector-registers=32" -cse | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=16 vector-registers=32 bf16-dot=false" -cse | FileCheck %s --check-prefix=EMU

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n floordiv 32, k floordiv 2, n mod 32, k mod 2)>
#y = affine_map<(t, n, k) -> (t, n)>

// N = 45: one full panel of 32 and a partial one; K = 37: 19 pairs, the
// last one padded.
// CHECK-LABEL: func @bf16_pairs
// CHECK-SAME:    (%[[X:.*]]: memref<?x37xf32>, %[[W:.*]]: memref<2x19x32x2xbf16>, %[[Y:.*]]: memref<?x45xf32>)
// The weight rows as 64 bf16 (32 pairs) per k pair.
// CHECK:         %[[WC:.*]] = memref.collapse_shape %[[W]] {{\[\[}}0], [1], [2, 3]] : memref<2x19x32x2xbf16> into memref<2x19x64xbf16>
// CHECK:         %[[C1:.+]] = arith.constant 1 : index
// x packed into bf16 pairs once: 16 pairs per vector step, then the tail.
// CHECK:         %[[P:.*]] = memref.alloc(%{{.*}}) : memref<?x19xi32>
// CHECK:         scf.parallel
// CHECK:           vector.load %[[X]][{{.*}}] : memref<?x37xf32>, vector<32xf32>
// CHECK:           vector.shuffle
// CHECK:           vector.store %{{.*}}, %[[P]][{{.*}}] : memref<?x19xi32>, vector<16xi32>
// CHECK:           %[[C16:.+]] = arith.constant 16 : index
// CHECK:           %[[C19:.+]] = arith.constant 19 : index
// CHECK:           scf.for %{{.*}} = %[[C16]] to %[[C19]] step %[[C1]]
// CHECK:             memref.store %{{.*}}, %[[P]]
// CHECK:         scf.parallel
// A 14-row tile: 28 accumulators, two weight vectors per pair, one
// broadcast pair per row, one dot product per accumulator.
// CHECK:           scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %[[C1]] iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-2:     vector.load %[[WC]][%{{.*}}, %[[K]], %{{.*}}] : memref<2x19x64xbf16>, vector<32xbf16>
// CHECK:             memref.load %[[P]][%{{.*}}, %[[K]]] : memref<?x19xi32>
// CHECK:             vector.broadcast %{{.*}} : i32 to vector<16xi32>
// CHECK:             vector.bitcast %{{.*}} : vector<16xi32> to vector<32xbf16>
// CHECK-COUNT-28:    x86vector.avx512.dot
// CHECK-NOT:         vector.fma
// CHECK:             scf.yield
// CHECK:         memref.dealloc %[[P]]
// CHECK-NOT:     linalg.generic
// Without AVX512_BF16: each dot is two FMAs (odd halves, then even).
// EMU-LABEL: func @bf16_pairs
// EMU-NOT:     x86vector.avx512.dot
// EMU:         scf.for %{{.*}} iter_args
// EMU:           arith.andi %{{.*}}, %cst{{.*}} : vector<16xi32>
// EMU:           arith.shli %{{.*}}, %cst{{.*}} : vector<16xi32>
// EMU-COUNT-2:   vector.fma
// EMU-NOT:     x86vector.avx512.dot
// EMU-NOT:     linalg.generic
func.func @bf16_pairs(%x: memref<?x37xf32>, %w: memref<2x19x32x2xbf16>, %y: memref<?x45xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x37xf32>, memref<2x19x32x2xbf16>) outs(%y : memref<?x45xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    // roundToBF16(a): integer round to nearest even, NaN kept.
    %bits = arith.bitcast %a : f32 to i32
    %c16 = arith.constant 16 : i32
    %c1 = arith.constant 1 : i32
    %c7fff = arith.constant 32767 : i32
    %mask = arith.constant -65536 : i32
    %quiet = arith.constant 4194304 : i32
    %sh = arith.shrui %bits, %c16 : i32
    %lsb = arith.andi %sh, %c1 : i32
    %inc = arith.addi %lsb, %c7fff : i32
    %sum = arith.addi %bits, %inc : i32
    %r = arith.andi %sum, %mask : i32
    %nan = arith.cmpf uno, %a, %a : f32
    %hi = arith.andi %bits, %mask : i32
    %qn = arith.ori %hi, %quiet : i32
    %sel = arith.select %nan, %qn, %r : i32
    %xr = arith.bitcast %sel : i32 to f32
    %bw = arith.extf %b : bf16 to f32
    %m = arith.mulf %xr, %bw : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n floordiv 32, k floordiv 2, n mod 32, k mod 2)>
#y = affine_map<(t, n, k) -> (t, n)>

// The same layout multiplied by x itself (not rounded to bf16) is not what
// the dot products compute: left to the generic lowering.
// CHECK-LABEL: func @unrounded
// EMU-LABEL: func @unrounded
// CHECK-NOT:     x86vector.avx512.dot
// CHECK:         linalg.generic
func.func @unrounded(%x: memref<?x37xf32>, %w: memref<2x19x32x2xbf16>, %y: memref<?x45xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x37xf32>, memref<2x19x32x2xbf16>) outs(%y : memref<?x45xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %bw = arith.extf %b : bf16 to f32
    %m = arith.mulf %a, %bw : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
