// RUN: hymba-opt %s -split-input-file -hymba-pack-weights="panel=16" | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-pack-weights="panel=16" -hymba-pack-weights="panel=16" | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-pack-weights="panel=16" -hymba-assign-buffer-layout | FileCheck %s --check-prefix=LAYOUT
// RUN: not hymba-opt %s -split-input-file -hymba-pack-weights="panel=0" 2>&1 >/dev/null | FileCheck %s --check-prefix=BAD
// RUN: hymba-opt %s -split-input-file -hymba-pack-weights="panel=16 interleave=2" | FileCheck %s --check-prefix=PAIRS
// RUN: hymba-opt %s -split-input-file -hymba-pack-weights="panel=16 interleave=2" -hymba-assign-buffer-layout | FileCheck %s --check-prefix=PAIRLAYOUT
// RUN: not hymba-opt %s -split-input-file -hymba-pack-weights="panel=16 interleave=0" 2>&1 >/dev/null | FileCheck %s --check-prefix=BADPAIRS
// RUN: hymba-opt %s -split-input-file -hymba-pack-weights="panel=16 int8-interleave=4" | FileCheck %s --check-prefix=QUADS
// RUN: hymba-opt %s -split-input-file -hymba-pack-weights="panel=16 int8-interleave=4" -hymba-assign-buffer-layout | FileCheck %s --check-prefix=QUADLAYOUT
// BADPAIRS: hymba-pack-weights: interleave must be positive
// RUN: not hymba-opt %s -split-input-file -hymba-pack-weights="panel=5" 2>&1 >/dev/null | FileCheck %s --check-prefix=ODD
// ODD: error: 'hymba.weight' op holds i4 values, which panels pack two per byte: the panel width must be even, got 5
// BAD: hymba-pack-weights: panel must be positive

// Projection weights (and the embedding table the tied head shares) get
// panels; the norm weight, the conv weight and the meta rows do not.
// CHECK-LABEL: func @layer
// CHECK:         hymba.weight %{{.*}}["norm"] : memref<?xi8> -> tensor<32xf32>
// CHECK:         hymba.weight %{{.*}}["in_proj"] : memref<?xi8> -> tensor<45x32xbf16, #hymba.panels<16>>
// CHECK:         hymba.weight %{{.*}}["gate"] : memref<?xi8> -> tensor<40x32xbf16, #hymba.panels<16>>
// CHECK:         hymba.weight %{{.*}}["up"] : memref<?xi8> -> tensor<40x32xbf16, #hymba.panels<16>>
// CHECK:         hymba.weight %{{.*}}["down"] : memref<?xi8> -> tensor<32x40xbf16, #hymba.panels<16>>
// CHECK:         hymba.weight %{{.*}}["meta"] : memref<?xi8> -> tensor<3x32xbf16>
// CHECK:         hymba.weight %{{.*}}["embed"] : memref<?xi8> -> tensor<10x32xbf16, #hymba.panels<16>>
// CHECK:         hymba.linear %{{.*}} : tensor<?x32xf32>, tensor<45x32xbf16, #hymba.panels<16>> -> tensor<?x45xf32>
// interleave=2 (--compute=bf16): float weights in bf16 pairs along K.
// PAIRS-LABEL: func @layer
// PAIRS:         hymba.weight %{{.*}}["norm"] : memref<?xi8> -> tensor<32xf32>
// PAIRS:         hymba.weight %{{.*}}["in_proj"] : memref<?xi8> -> tensor<45x32xbf16, #hymba.panels<16, interleave = 2>>
// PAIRS:         hymba.weight %{{.*}}["down"] : memref<?xi8> -> tensor<32x40xbf16, #hymba.panels<16, interleave = 2>>
// PAIRS:         hymba.weight %{{.*}}["embed"] : memref<?xi8> -> tensor<10x32xbf16, #hymba.panels<16, interleave = 2>>
// The same bytes as plain panels when K is even: in_proj still takes
// 3 * 16 * 32 * 2 bytes.
// PAIRLAYOUT-LABEL: func @layer
// PAIRLAYOUT:         hymba.weight %{{.*}}["in_proj"] {offset = 128 : i64}
// PAIRLAYOUT:         hymba.weight %{{.*}}["gate"] {offset = 3200 : i64}
// A padded panel: 45 rows are 3 panels of 16 (3 * 16 * 32 * 2 bytes).
// LAYOUT-LABEL: func @layer
// LAYOUT:         hymba.weight %{{.*}}["norm"] {offset = 0 : i64}
// LAYOUT:         hymba.weight %{{.*}}["in_proj"] {offset = 128 : i64}
// LAYOUT:         hymba.weight %{{.*}}["gate"] {offset = 3200 : i64}
func.func @layer(%p: memref<?xi8>, %x: tensor<?x32xf32>, %ids: tensor<?xi32>)
    -> (tensor<?x32xf32>, tensor<?x45xf32>, tensor<?x32xf32>, tensor<?x10xf32>) {
  %norm = hymba.weight %p["norm"] : memref<?xi8> -> tensor<32xf32>
  %in = hymba.weight %p["in_proj"] : memref<?xi8> -> tensor<45x32xbf16>
  %g = hymba.weight %p["gate"] : memref<?xi8> -> tensor<40x32xbf16>
  %u = hymba.weight %p["up"] : memref<?xi8> -> tensor<40x32xbf16>
  %d = hymba.weight %p["down"] : memref<?xi8> -> tensor<32x40xbf16>
  %meta = hymba.weight %p["meta"] : memref<?xi8> -> tensor<3x32xbf16>
  %table = hymba.weight %p["embed"] : memref<?xi8> -> tensor<10x32xbf16>
  %h = hymba.rms_norm %x, %norm {epsilon = 1.0e-6 : f32} : tensor<?x32xf32>, tensor<32xf32> -> tensor<?x32xf32>
  %y = hymba.linear %h, %in : tensor<?x32xf32>, tensor<45x32xbf16> -> tensor<?x45xf32>
  %m = hymba.swiglu_mlp %h, %g, %u, %d : tensor<?x32xf32>, tensor<40x32xbf16>, tensor<40x32xbf16>, tensor<32x40xbf16> -> tensor<?x32xf32>
  %e = hymba.embed %table[%ids] : tensor<10x32xbf16>, tensor<?xi32> -> tensor<?x32xf32>
  %pm = hymba.prepend_meta %meta, %e : tensor<3x32xbf16>, tensor<?x32xf32> -> tensor<?x32xf32>
  %logits = hymba.linear %pm, %table : tensor<?x32xf32>, tensor<10x32xbf16> -> tensor<?x10xf32>
  return %m, %y, %pm, %logits : tensor<?x32xf32>, tensor<?x45xf32>, tensor<?x32xf32>, tensor<?x10xf32>
}

// -----

// One tensor named twice: packed only if every use of every op naming it
// is a projection weight (both name one slot of the parameter buffer).
// CHECK-LABEL: func @shared_name
// CHECK:         hymba.weight %{{.*}}["w"] : memref<?xi8> -> tensor<4x4xf32>
// CHECK:         hymba.weight %{{.*}}["w"] : memref<?xi8> -> tensor<4x4xf32>
// CHECK-NOT:     #hymba.panels
func.func @shared_name(%p: memref<?xi8>, %x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<4x4xf32>) {
  %a = hymba.weight %p["w"] : memref<?xi8> -> tensor<4x4xf32>
  %y = hymba.linear %x, %a : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32>
  %b = hymba.weight %p["w"] : memref<?xi8> -> tensor<4x4xf32>
  return %y, %b : tensor<?x4xf32>, tensor<4x4xf32>
}

// -----

// A quantized projection weight: its values and its scales are packed
// together (the scales as [panels, groups, 16]); the dequantized weight the
// projection reads keeps its plain type. The scales have their own slot:
// values 20 x 40 i4 -> 2 panels * 40 * 8 bytes = 640 bytes at 0, scales
// (2 groups) at 640.
// CHECK-LABEL: func @quantized
// CHECK:         %[[Q:.*]] = hymba.weight %{{.*}}["q"] : memref<?xi8> -> tensor<20x40xi4, #hymba.panels<16>>
// CHECK:         %[[S:.*]] = hymba.weight %{{.*}}["q"] {scales} : memref<?xi8> -> tensor<20x2xbf16, #hymba.panels<16>>
// CHECK:         hymba.dequantize %[[Q]], %[[S]] {group_size = 32 : i64} : tensor<20x40xi4, #hymba.panels<16>>, tensor<20x2xbf16, #hymba.panels<16>> -> tensor<20x40xf32>
// LAYOUT-LABEL: func @quantized
// LAYOUT:         hymba.weight %{{.*}}["q"] {offset = 0 : i64}
// LAYOUT:         hymba.weight %{{.*}}["q"] {offset = 640 : i64, scales}
func.func @quantized(%p: memref<?xi8>, %x: tensor<?x40xf32>) -> tensor<?x20xf32> {
  %q = hymba.weight %p["q"] : memref<?xi8> -> tensor<20x40xi4>
  %s = hymba.weight %p["q"] {scales} : memref<?xi8> -> tensor<20x2xbf16>
  %w = hymba.dequantize %q, %s {group_size = 32 : i64} : tensor<20x40xi4>, tensor<20x2xbf16> -> tensor<20x40xf32>
  %y = hymba.linear %x, %w : tensor<?x40xf32>, tensor<20x40xf32> -> tensor<?x20xf32>
  return %y : tensor<?x20xf32>
}

// -----

// A dequantized weight read by something else than a projection or an
// embedding lookup keeps both parts plain.
// CHECK-LABEL: func @quantized_other_use
// CHECK-NOT:     #hymba.panels
func.func @quantized_other_use(%p: memref<?xi8>, %x: tensor<?x40xf32>) -> (tensor<?x20xf32>, tensor<20x40xf32>) {
  %q = hymba.weight %p["q"] : memref<?xi8> -> tensor<20x40xi8>
  %s = hymba.weight %p["q"] {scales} : memref<?xi8> -> tensor<20x2xbf16>
  %w = hymba.dequantize %q, %s {group_size = 32 : i64} : tensor<20x40xi8>, tensor<20x2xbf16> -> tensor<20x40xf32>
  %y = hymba.linear %x, %w : tensor<?x40xf32>, tensor<20x40xf32> -> tensor<?x20xf32>
  return %y, %w : tensor<?x20xf32>, tensor<20x40xf32>
}

// -----

// int8-interleave=4 (--compute=int8): int8 values whose K and group size
// are multiples of 4 are stored in quads along K; their scales stay plain
// panels. K = 42 cannot be: plain panels. i4 values too are stored in quads,
// two lanes per byte.
// 20 x 40 i8 in quads: 2 panels * 10 quads * 16 * 4 = 1280 bytes, then the
// scales (2 * 2 * 16 * 2 = 128 bytes); odd: 2 * 42 * 16 + 128; i4 in quads:
// 2 panels * 10 quads * 8 * 4 = 640 bytes.
// Without the option: plain panels.
// CHECK-LABEL: func @int8_quads
// CHECK:         hymba.weight %{{.*}}["q"] : memref<?xi8> -> tensor<20x40xi8, #hymba.panels<16>>
// QUADS-LABEL: func @int8_quads
// QUADS:         %[[Q:.*]] = hymba.weight %{{.*}}["q"] : memref<?xi8> -> tensor<20x40xi8, #hymba.panels<16, interleave = 4>>
// QUADS:         %[[S:.*]] = hymba.weight %{{.*}}["q"] {scales} : memref<?xi8> -> tensor<20x2xbf16, #hymba.panels<16>>
// QUADS:         hymba.dequantize %[[Q]], %[[S]] {group_size = 32 : i64} : tensor<20x40xi8, #hymba.panels<16, interleave = 4>>, tensor<20x2xbf16, #hymba.panels<16>> -> tensor<20x40xf32>
// QUADS:         hymba.weight %{{.*}}["odd"] : memref<?xi8> -> tensor<20x42xi8, #hymba.panels<16>>
// QUADS:         hymba.weight %{{.*}}["nibbles"] : memref<?xi8> -> tensor<20x40xi4, #hymba.panels<16, interleave = 4>>
// QUADLAYOUT-LABEL: func @int8_quads
// QUADLAYOUT:      hymba.weight %{{.*}}["q"] {offset = 0 : i64}
// QUADLAYOUT:      hymba.weight %{{.*}}["q"] {offset = 1280 : i64, scales}
// QUADLAYOUT:      hymba.weight %{{.*}}["odd"] {offset = 1408 : i64}
// QUADLAYOUT:      hymba.weight %{{.*}}["odd"] {offset = 2752 : i64, scales}
// QUADLAYOUT:      hymba.weight %{{.*}}["nibbles"] {offset = 2880 : i64}
// QUADLAYOUT:      hymba.weight %{{.*}}["nibbles"] {offset = 3520 : i64, scales}
func.func @int8_quads(%p: memref<?xi8>, %x: tensor<?x40xf32>, %x2: tensor<?x42xf32>) -> (tensor<?x20xf32>, tensor<?x20xf32>, tensor<?x20xf32>) {
  %q = hymba.weight %p["q"] : memref<?xi8> -> tensor<20x40xi8>
  %s = hymba.weight %p["q"] {scales} : memref<?xi8> -> tensor<20x2xbf16>
  %w = hymba.dequantize %q, %s {group_size = 32 : i64} : tensor<20x40xi8>, tensor<20x2xbf16> -> tensor<20x40xf32>
  %y = hymba.linear %x, %w : tensor<?x40xf32>, tensor<20x40xf32> -> tensor<?x20xf32>
  %oq = hymba.weight %p["odd"] : memref<?xi8> -> tensor<20x42xi8>
  %os = hymba.weight %p["odd"] {scales} : memref<?xi8> -> tensor<20x2xbf16>
  %ow = hymba.dequantize %oq, %os {group_size = 32 : i64} : tensor<20x42xi8>, tensor<20x2xbf16> -> tensor<20x42xf32>
  %oy = hymba.linear %x2, %ow : tensor<?x42xf32>, tensor<20x42xf32> -> tensor<?x20xf32>
  %nq = hymba.weight %p["nibbles"] : memref<?xi8> -> tensor<20x40xi4>
  %ns = hymba.weight %p["nibbles"] {scales} : memref<?xi8> -> tensor<20x2xbf16>
  %nw = hymba.dequantize %nq, %ns {group_size = 32 : i64} : tensor<20x40xi4>, tensor<20x2xbf16> -> tensor<20x40xf32>
  %ny = hymba.linear %x, %nw : tensor<?x40xf32>, tensor<20x40xf32> -> tensor<?x20xf32>
  return %y, %oy, %ny : tensor<?x20xf32>, tensor<?x20xf32>, tensor<?x20xf32>
}
