// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=8" -cse | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=8 row-chunk=8" -cse | FileCheck %s --check-prefix=CHUNK
// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=8 vector-registers=16 k-block=16" -cse | FileCheck %s --check-prefix=PANEL
// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=16 vector-registers=32" -cse | FileCheck %s --check-prefix=ZMM
// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=8 vector-registers=16 x-chunk-bytes=2000" -cse | FileCheck %s --check-prefix=XCHUNK
// RUN: hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=8 vector-registers=16 x-chunk-bytes=0" -cse | FileCheck %s --check-prefix=NOCHUNK
// RUN: not hymba-opt %s -split-input-file -hymba-vectorize-linear="row-chunk=6" 2>&1 >/dev/null | FileCheck %s --check-prefix=BAD
// RUN: not hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-registers=2" 2>&1 >/dev/null | FileCheck %s --check-prefix=BADREG
// RUN: not hymba-opt %s -split-input-file -hymba-vectorize-linear="vector-width=32" 2>&1 >/dev/null | FileCheck %s --check-prefix=BADPANEL
// BAD: row-chunk must be a positive multiple of 4
// BADREG: vector-registers at least 4
// BADPANEL: weight panel width 16 is not a multiple of the vector width 32

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>

// N = 10: 4-column blocks for 8 columns, 1x1 tiles for the last 2.
// K = 20: vector steps of 8 up to 16, then a scalar tail of 4.
// CHECK-LABEL: func @linear
// CHECK-SAME:    (%[[X:.*]]: memref<?x20xf32>, %[[W:.*]]: memref<10x20xbf16>, %[[Y:.*]]: memref<?x10xf32>)
// Rows 128 at a time (row-chunk), each chunk against every column block.
// CHECK:         %[[C0:.+]] = arith.constant 0 : index
// CHECK:         %[[ROWS:.*]] = memref.dim %[[X]], %[[C0]]
// CHECK:         %[[C128:.+]] = arith.constant 128 : index
// CHECK:         scf.for %[[R0:.*]] = %[[C0]] to %[[ROWS]] step %[[C128]]
// CHECK:           %[[R1:.*]] = arith.minui %{{.*}}, %[[ROWS]]
// CHECK:           %[[C1:.+]] = arith.constant 1 : index
// CHECK:           %[[C4:.+]] = arith.constant 4 : index
// CHECK:           %[[C8:.+]] = arith.constant 8 : index
// CHECK:           scf.parallel (%[[N:.*]]) = (%[[C0]]) to (%[[C8]]) step (%[[C4]])
// 4x4 tiles over full row blocks: 16 accumulators.
// CHECK:           scf.for %[[T:.*]] = %[[R0]] to %{{.*}} step %[[C4]]
// CHECK:             %[[C16:.+]] = arith.constant 16 : index
// CHECK:             scf.for %[[K:.*]] = %[[C0]] to %[[C16]] step %[[C8]] iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:               vector.load %[[X]][%{{.*}}, %[[K]]] : memref<?x20xf32>, vector<8xf32>
// CHECK:               %[[WV:.*]] = vector.load %[[W]][%{{.*}}, %[[K]]] : memref<10x20xbf16>, vector<8xbf16>
// CHECK:               arith.extf %[[WV]] : vector<8xbf16> to vector<8xf32>
// CHECK-COUNT-16:      vector.fma
// CHECK:             vector.reduction <add>
// CHECK:             %[[C20:.+]] = arith.constant 20 : index
// CHECK:             scf.for %{{.*}} = %[[C16]] to %[[C20]] step %[[C1]]
// CHECK:               math.fma
// CHECK-COUNT-16:    memref.store %{{.*}}, %[[Y]]
// The last T % 4 rows: 1x4 tiles (decode).
// CHECK:           scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C1]]
// CHECK:             %[[C16B:.+]] = arith.constant 16 : index
// CHECK:             scf.for %{{.*}} = %[[C0]] to %[[C16B]] step %[[C8]] iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// The last N % 4 columns, one at a time.
// CHECK:         %[[C10:.+]] = arith.constant 10 : index
// CHECK:         scf.parallel (%{{.*}}, %{{.*}}) = (%[[R0]], %[[C8]]) to (%[[R1]], %[[C10]]) step (%[[C1]], %[[C1]])
// CHUNK-LABEL: func @linear
// CHUNK:         %[[C0:.+]] = arith.constant 0 : index
// CHUNK:         %[[C8:.+]] = arith.constant 8 : index
// CHUNK:         scf.for %{{.*}} = %[[C0]] to %{{.*}} step %[[C8]]
// CHECK-NOT:     linalg.generic
func.func @linear(%x: memref<?x20xf32>, %w: memref<10x20xbf16>, %y: memref<?x10xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x20xf32>, memref<10x20xbf16>) outs(%y : memref<?x10xf32>) {
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

// Not projections, left alone: a body that is not acc + x * w, a weight
// map that is not (n, k), and an x without a unit minor stride.
// CHECK-LABEL: func @untouched
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT:     vector.fma
// PANEL-LABEL: func @untouched
// PANEL-COUNT-3: linalg.generic
#wt = affine_map<(t, n, k) -> (k, n)>
func.func @untouched(%x: memref<?x20xf32>, %xs: memref<?x20xf32, strided<[?, ?]>>, %w: memref<8x20xf32>,
                     %wt: memref<20x8xf32>, %y: memref<?x8xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x20xf32>, memref<8x20xf32>) outs(%y : memref<?x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.maximumf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#x, #wt, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wt : memref<?x20xf32>, memref<20x8xf32>) outs(%y : memref<?x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xs, %w : memref<?x20xf32, strided<[?, ?]>>, memref<8x20xf32>) outs(%y : memref<?x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Panel weights (#hymba.panels<16> storage [3, 32, 16] of a 45 x 32
// matrix): outer products. With 8 f32 lanes and 16 registers a tile is
// 6 rows x 2 vectors (12 accumulators + 2 weight vectors + 1 broadcast).
#x = affine_map<(t, n, k) -> (t, k)>
#pw = affine_map<(t, n, k) -> (n floordiv 16, k, n mod 16)>
#y = affine_map<(t, n, k) -> (t, n)>
// CHECK-LABEL: func @panel
// PANEL-LABEL: func @panel
// PANEL-SAME:    (%[[X:.*]]: memref<?x32xf32>, %[[W:.*]]: memref<3x32x16xbf16>, %[[Y:.*]]: memref<?x45xf32>)
// PANEL:         %[[C0:.*]] = arith.constant 0 : index
// The panels pass over x in chunks of whole tiles of rows, at most
// x-chunk-bytes (8 MiB) of x each: 8 MiB / (128 B x 6 rows) = 10922 tiles.
// PANEL:         %[[ROWS:.*]] = memref.dim %[[X]], %[[C0]]
// PANEL:         %[[STEP:.*]] = arith.constant 65532 : index
// PANEL:         scf.for %[[R0:.*]] = %[[C0]] to %[[ROWS]] step %[[STEP]] {
// PANEL:           %[[R1:.*]] = arith.minui %{{.*}}, %[[ROWS]] : index
// PANEL-DAG:       %[[C1:.*]] = arith.constant 1 : index
// PANEL-DAG:       %[[C3:.*]] = arith.constant 3 : index
// Threads take whole panels.
// PANEL:           scf.parallel (%[[P:.*]]) = (%[[C0]]) to (%[[C3]]) step (%[[C1]])
// k-block=16: the panel slice of one k block.
// PANEL:           scf.for %[[KB:.*]] = %[[C0]] to %[[C32:.*]] step %[[C16:.*]] {
// PANEL:             %[[KE:.*]] = arith.minui %{{.*}}, %[[C32]]
// Panels 0 and 1 are full.
// PANEL:             %[[FULL:.*]] = arith.cmpi ult, %[[P]], %[[C2:.*]] : index
// PANEL:             scf.if %[[FULL]] {
// PANEL:               arith.subi %[[R1]], %[[R0]] : index
// PANEL:               scf.for %[[T:.*]] = %[[R0]] to %{{.*}} step %[[C6:.*]] {
// The tile is loaded from y, accumulated over the k block in registers,
// and stored back.
// PANEL-COUNT-12:        vector.load %[[Y]]
// PANEL:                 scf.for %[[K:.*]] = %[[KB]] to %[[KE]] step %[[C1]] iter_args({{.*}}) -> ({{(vector<8xf32>, ){11}vector}}<8xf32>)
// PANEL:                   %[[W0:.*]] = vector.load %[[W]][%[[P]], %[[K]], %[[C0]]] : memref<3x32x16xbf16>, vector<8xbf16>
// PANEL:                   %[[W0F:.*]] = arith.extf %[[W0]] : vector<8xbf16> to vector<8xf32>
// PANEL:                   %[[W1:.*]] = vector.load %[[W]][%[[P]], %[[K]], %[[C8:.*]]] : memref<3x32x16xbf16>, vector<8xbf16>
// PANEL:                   %[[W1F:.*]] = arith.extf %[[W1]]
// PANEL:                   %[[XV:.*]] = memref.load %[[X]][%{{.*}}, %[[K]]]
// PANEL:                   %[[XB:.*]] = vector.broadcast %[[XV]] : f32 to vector<8xf32>
// PANEL:                   vector.fma %[[XB]], %[[W0F]]
// PANEL:                   vector.fma %[[XB]], %[[W1F]]
// PANEL-COUNT-5:           vector.broadcast
// PANEL:                   scf.yield
// PANEL-COUNT-12:        vector.store %{{.*}}, %[[Y]]
// The last T % 6 rows: tiles of 4, 2 and 1 rows, each when its bit is set.
// PANEL:               arith.andi %{{.*}}, %[[C4:.*]] : index
// PANEL:               scf.if
// PANEL:                 scf.for {{.*}} -> ({{(vector<8xf32>, ){7}vector}}<8xf32>)
// PANEL:               arith.andi %{{.*}}, %[[C2]] : index
// PANEL:               scf.if
// PANEL:                 scf.for {{.*}} -> ({{(vector<8xf32>, ){3}vector}}<8xf32>)
// The one-row tile (decode) keeps 4 independent accumulator sets (k, k+1,
// k+2, k+3) to hide the FMA latency, then the k % 4 tail in the first set,
// and sums the sets.
// PANEL:               arith.andi %{{.*}}, %[[C1]] : index
// PANEL:               scf.if
// PANEL:                 scf.for {{.*}} step %[[C4]] iter_args({{.*}}) -> ({{(vector<8xf32>, ){7}vector}}<8xf32>)
// PANEL-COUNT-8:           vector.fma
// PANEL:                 scf.for {{.*}} step %[[C1]] iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>)
// PANEL-COUNT-6:         arith.addf {{.*}} : vector<8xf32>
// Panel 2 holds columns 32..44: the second vector has 5 real lanes.
// PANEL:             } else {
// PANEL:               %[[MASK:.*]] = vector.constant_mask [5] : vector<8xi1>
// PANEL:               vector.maskedload %[[Y]][%{{.*}}, %{{.*}}], %[[MASK]]
// PANEL:               vector.maskedstore %[[Y]][%{{.*}}, %{{.*}}], %[[MASK]]
// PANEL-NOT:     linalg.generic
// A small x-chunk-bytes: 2000 / (128 B x 6 rows) = 2 tiles, chunks of 12
// rows; 0: no chunk loop, the panels take all rows at once.
// XCHUNK-LABEL: func @panel
// XCHUNK:         %[[ROWS:.*]] = memref.dim
// XCHUNK:         scf.for %[[R0:.*]] = %{{.*}} to %[[ROWS]] step %c12 {
// XCHUNK:           scf.parallel
// NOCHUNK-LABEL: func @panel
// NOCHUNK-NOT:     scf.for
// NOCHUNK:         scf.parallel
// AVX-512 registers: 16 lanes, a panel of 16 is one vector, tiles of
// (32 - 1 - 1) / 1 = 30 rows, one k block (256 > 32).
// ZMM-LABEL: func @panel
// ZMM:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c30
// ZMM:           scf.for {{.*}} -> ({{(vector<16xf32>, ){29}vector}}<16xf32>)
// ZMM:             vector.load %{{.*}} : memref<3x32x16xbf16>, vector<16xbf16>
// ZMM-COUNT-30:    vector.fma
func.func @panel(%x: memref<?x32xf32>, %w: memref<3x32x16xbf16>, %y: memref<?x45xf32>) {
  linalg.generic {indexing_maps = [#x, #pw, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x32xf32>, memref<3x32x16xbf16>) outs(%y : memref<?x45xf32>) {
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
#q8 = affine_map<(t, n, k) -> (n floordiv 16, k, n mod 16)>
#qs = affine_map<(t, n, k) -> (n floordiv 16, k floordiv 32, n mod 16)>
#y = affine_map<(t, n, k) -> (t, n)>

// Quantized i8 panels (group 32): the k block grows to a whole group (32 >
// k-block 16); per group the two scale vectors are loaded once and widened
// by hand (bits << 16); per k the i8 vectors are converted and used
// unscaled by every row of the tile, into the group's own sums; after the
// group each sum times its scale vector is added to the tile (no multiply
// per weight vector and k).
// Tiles have (16 - 2 * 2 - 3) / 2 = 4 rows: scales take registers too.
// PANEL-LABEL: func @quantized_i8
// PANEL-SAME:    (%[[X:.*]]: memref<?x40xf32>, %[[Q:.*]]: memref<2x40x16xi8>, %[[S:.*]]: memref<2x2x16xbf16>, %[[Y:.*]]: memref<?x20xf32>)
// PANEL:         scf.parallel (%[[P:.*]]) =
// PANEL:           scf.for %[[KB:.*]] = %{{.*}} to %{{.*}} step %[[C32:.*]] {
// PANEL:               scf.for %{{.*}} step %[[C4:.*]] {
// PANEL:                 scf.for %[[KG:.*]] = %[[KB]] to %{{.*}} step %[[C32]] iter_args(%[[ACC0:[^ ]*]] = {{.*}}) -> ({{(vector<8xf32>, ){7}vector}}<8xf32>)
// PANEL:                   %[[G:.*]] = arith.divui %[[KG]], %[[C32]]
// PANEL:                   %[[S0:.*]] = vector.load %[[S]][%[[P]], %[[G]], %{{.*}}] : memref<2x2x16xbf16>, vector<8xbf16>
// PANEL:                   %[[S0I:.*]] = arith.bitcast %[[S0]] : vector<8xbf16> to vector<8xi16>
// PANEL:                   %[[S0W:.*]] = arith.extui %[[S0I]] : vector<8xi16> to vector<8xi32>
// PANEL:                   %[[S0S:.*]] = arith.shli %[[S0W]], %{{.*}} : vector<8xi32>
// PANEL:                   %[[S0F:.*]] = arith.bitcast %[[S0S]] : vector<8xi32> to vector<8xf32>
// PANEL:                   vector.load %[[S]][%[[P]], %[[G]], %{{.*}}] : memref<2x2x16xbf16>, vector<8xbf16>
// PANEL:                   %[[SUMS:.*]]:8 = scf.for %[[K:[a-z0-9_]+]] = %[[KG]] to
// PANEL:                     %[[Q0:.*]] = vector.load %[[Q]][%[[P]], %[[K]], %{{.*}}] : memref<2x40x16xi8>, vector<8xi8>
// PANEL:                     %[[Q0F:.*]] = arith.sitofp %[[Q0]] : vector<8xi8> to vector<8xf32>
// PANEL:                     vector.load %[[Q]]
// PANEL:                     arith.sitofp
// PANEL-NOT:                 arith.mulf
// PANEL:                     vector.broadcast
// PANEL:                     vector.fma %{{.*}}, %[[Q0F]]
// PANEL-COUNT-7:             vector.fma
// PANEL:                   vector.fma %[[SUMS]]#0, %[[S0F]], %[[ACC0]] : vector<8xf32>
// PANEL-COUNT-7:           vector.fma %[[SUMS]]#
// PANEL-NOT:     linalg.generic
func.func @quantized_i8(%x: memref<?x40xf32>, %q: memref<2x40x16xi8>, %s: memref<2x2x16xbf16>, %y: memref<?x20xf32>) {
  linalg.generic {indexing_maps = [#x, #q8, #qs, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %q, %s : memref<?x40xf32>, memref<2x40x16xi8>, memref<2x2x16xbf16>) outs(%y : memref<?x20xf32>) {
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

// -----

#x = affine_map<(t, n, k) -> (t, k)>
#q4 = affine_map<(t, n, k) -> (n floordiv 16, k, (n mod 16) mod 8)>
#qs = affine_map<(t, n, k) -> (n floordiv 16, k floordiv 32, n mod 16)>
#y = affine_map<(t, n, k) -> (t, n)>

// Quantized i4 panels: one 8-byte row per k holds both lane vectors. One op
// isolates each nibble at a power of two (low: << 28 = lo * 2^28; high:
// & -16 = hi * 16), which the group's scale vectors carry instead (2^-28,
// 2^-4).
// PANEL-LABEL: func @quantized_i4
// PANEL-SAME:    (%{{.*}}: memref<?x40xf32>, %[[Q:.*]]: memref<2x40x8xi8>,
// PANEL:         %[[C28:.*]] = arith.constant dense<28> : vector<8xi32>
// PANEL:         %[[CM:.*]] = arith.constant dense<-16> : vector<8xi32>
// The scales are widened by hand (bf16 bits << 16) so that LLVM does not
// narrow the multiply by a power of two to bf16.
// PANEL:                   %[[RL:.*]] = arith.bitcast %{{.*}} : vector<8xbf16> to vector<8xi16>
// PANEL:                   %[[ZL:.*]] = arith.extui %[[RL]] : vector<8xi16> to vector<8xi32>
// PANEL:                   %[[UL:.*]] = arith.shli %[[ZL]], %{{.*}} : vector<8xi32>
// PANEL:                   %[[SL:.*]] = arith.bitcast %[[UL]] : vector<8xi32> to vector<8xf32>
// PANEL:                   %[[PL:.*]] = arith.constant dense<3.7252903E-9> : vector<8xf32>
// PANEL:                   arith.mulf %[[SL]], %[[PL]] : vector<8xf32>
// PANEL:                   %[[PH:.*]] = arith.constant dense<6.250000e-02> : vector<8xf32>
// PANEL:                   arith.mulf %{{.*}}, %[[PH]] : vector<8xf32>
// PANEL:                     %[[B:.*]] = vector.load %[[Q]][%{{.*}}, %{{.*}}, %{{.*}}] : memref<2x40x8xi8>, vector<8xi8>
// PANEL:                     %[[BI:.*]] = arith.extsi %[[B]] : vector<8xi8> to vector<8xi32>
// PANEL:                     %[[LO:.*]] = arith.shli %[[BI]], %[[C28]] : vector<8xi32>
// PANEL:                     %[[HI:.*]] = arith.andi %[[BI]], %[[CM]] : vector<8xi32>
// PANEL:                     arith.sitofp %[[LO]] : vector<8xi32> to vector<8xf32>
// PANEL:                     arith.sitofp %[[HI]] : vector<8xi32> to vector<8xf32>
// The one-row (decode) tile sums a group's unscaled products over its four
// chains, then scales the sum once: an FMA with the scale vector.
// PANEL:           scf.for {{.*}} step %c32 iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>) {
// PANEL:             %[[DS:.*]] = arith.bitcast %{{.*}} : vector<8xi32> to vector<8xf32>
// PANEL:             %[[DSL:.*]] = arith.mulf %[[DS]], %{{.*}} : vector<8xf32>
// PANEL:             scf.for {{.*}} step %c4 iter_args({{.*}}) -> ({{(vector<8xf32>, ){7}vector}}<8xf32>)
// PANEL:             scf.for {{.*}} step %c1 iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>)
// PANEL-COUNT-6:     arith.addf {{.*}} : vector<8xf32>
// PANEL:             vector.fma %{{.*}}, %[[DSL]], %{{.*}} : vector<8xf32>
// PANEL-NOT:     linalg.generic
// Without an even number of lane vectors per panel the nibble pairs do not
// split into whole vectors: the loops stay scalar.
// ZMM-LABEL: func @quantized_i4
// ZMM:         linalg.generic
func.func @quantized_i4(%x: memref<?x40xf32>, %q: memref<2x40x8xi8>, %s: memref<2x2x16xbf16>, %y: memref<?x20xf32>) {
  %c0 = arith.constant 0 : i8
  %c4 = arith.constant 4 : i8
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  linalg.generic {indexing_maps = [#x, #q4, #qs, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %q, %s : memref<?x40xf32>, memref<2x40x8xi8>, memref<2x2x16xbf16>) outs(%y : memref<?x20xf32>) {
  ^bb0(%a: f32, %b: i8, %c: bf16, %acc: f32):
    %n = linalg.index 1 : index
    %lane = arith.remui %n, %c16 : index
    %high = arith.cmpi uge, %lane, %c8 : index
    %sh = arith.select %high, %c0, %c4 : i8
    %up = arith.shli %b, %sh : i8
    %v = arith.shrsi %up, %c4 : i8
    %qf = arith.sitofp %v : i8 to f32
    %sf = arith.extf %c : bf16 to f32
    %w = arith.mulf %qf, %sf : f32
    %m = arith.mulf %a, %w : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}
