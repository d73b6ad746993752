// RUN: not hymba-opt %s -split-input-file -hymba-lower-dense-to-linalg 2>/dev/null | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-lower-dense-to-linalg -verify-diagnostics > /dev/null
// RUN: not hymba-opt %s -split-input-file -hymba-lower-dense-to-linalg=kernel-form=gpu 2>/dev/null | FileCheck %s --check-prefix=GPU
// RUN: not hymba-opt %s -split-input-file -hymba-lower-dense-to-linalg=kernel-form=gpu 2>&1 >/dev/null | FileCheck %s --check-prefix=GPUERR

// A weight becomes a read-only view of the parameter buffer.
// CHECK-LABEL: func @weight
// CHECK:         %[[OFF:.*]] = arith.constant 256 : index
// CHECK:         %[[V:.*]] = memref.view %{{.*}}[%[[OFF]]][] : memref<?xi8> to memref<6x4xbf16>
// CHECK:         bufferization.to_tensor %[[V]] restrict : memref<6x4xbf16> to tensor<6x4xbf16>
func.func @weight(%p: memref<?xi8>) -> tensor<6x4xbf16> {
  %w = hymba.weight %p["w"] {offset = 256 : i64} : memref<?xi8> -> tensor<6x4xbf16>
  return %w : tensor<6x4xbf16>
}

// -----

// x @ W^T: a matmul generic against the [out, in] weight, widened in the
// body (hymba-vectorize-linear finds it by these maps and this body).
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @linear
// CHECK:         %[[Z:.*]] = linalg.fill
// CHECK:         linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<6x4xbf16>) outs(%[[Z]] : tensor<?x6xf32>)
// CHECK:         ^bb0(%[[A:.*]]: f32, %[[B:.*]]: bf16, %[[ACC:.*]]: f32):
// CHECK:           %[[BW:.*]] = arith.extf %[[B]] : bf16 to f32
// CHECK:           %[[M:.*]] = arith.mulf %[[A]], %[[BW]]
// CHECK:           arith.addf %[[ACC]], %[[M]]
// GPU form: one item per output element (an all-parallel generic with no
// inputs, writing a fresh tensor), the dot product in a register over the
// read-only buffers of x and w.
// GPU-LABEL: func @linear
// GPU-SAME:    (%[[X:[^:]+]]: tensor<?x4xf32>, %[[W:[^:]+]]: tensor<6x4xbf16>)
// GPU-DAG:     %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only
// GPU-DAG:     %[[WB:.*]] = bufferization.to_buffer %[[W]] read_only
// GPU:         %[[EMPTY:.*]] = tensor.empty(%{{.*}}) : tensor<?x6xf32>
// GPU:         %[[Y:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} outs(%[[EMPTY]] : tensor<?x6xf32>)
// GPU:           %[[T:.*]] = linalg.index 0
// GPU:           %[[J:.*]] = linalg.index 1
// GPU:           %[[DOT:.*]] = scf.for %[[K:[^ ]*]] = %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32)
// GPU:             memref.load %[[XB]][%[[T]], %[[K]]]
// GPU:             memref.load %[[WB]][%[[J]], %[[K]]] : memref<6x4xbf16
// GPU:             arith.extf
// GPU:           linalg.yield %[[DOT]]
// GPU:         return %[[Y]]
// GPU-NOT:     bufferization.to_tensor
// GPU-NOT:     linalg.fill
func.func @linear(%x: tensor<?x4xf32>, %w: tensor<6x4xbf16>) -> tensor<?x6xf32> {
  %y = hymba.linear %x, %w : tensor<?x4xf32>, tensor<6x4xbf16> -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}

// -----

// RMSNorm: a row reduction of squares, then scale by rsqrt(mean + eps) * w.
// CHECK-LABEL: func @rms_norm
// CHECK:         %[[WIDTH:.+]] = arith.constant 4.000000e+00 : f32
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK:           arith.divf %{{.*}}, %[[WIDTH]]
// CHECK:           math.rsqrt
// GPU form of a standalone norm: the sum of squares per row in a register,
// then an element-wise scale.
// GPU-LABEL: func @rms_norm
// GPU:         %[[INV:.*]] = linalg.generic {{.*}} iterator_types = ["parallel"]} outs(%{{.*}} : tensor<?xf32>)
// GPU:           scf.for {{.*}} iter_args({{.*}}) -> (f32)
// GPU:           math.rsqrt
// GPU:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %[[INV]], %{{.*}} : tensor<?x4xf32>, tensor<?xf32>, tensor<4xf32>)
// GPU-NOT:     bufferization.to_tensor
func.func @rms_norm(%x: tensor<?x4xf32>, %w: tensor<4xf32>) -> tensor<?x4xf32> {
  %y = hymba.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// RoPE: the inverse frequencies 1 / 10000^(2j/4) folded to constants; the
// cosine and sine of each (row, frequency) angle in one generic; then one
// element-wise generic reading the partner half and the angle tables.
// CHECK-LABEL: func @rope
// CHECK-SAME:    (%[[X:.*]]: tensor<?x8xf32>, %[[POS:.*]]: index)
// CHECK:         %[[INV:.*]] = arith.constant dense<[1.000000e+00, 0.00999999977]> : tensor<2xf32>
// CHECK:         %[[T:.*]]:2 = linalg.generic {{.*}} ins(%[[INV]] : tensor<2xf32>) outs(%{{.*}}, %{{.*}} : tensor<?x2xf32>, tensor<?x2xf32>)
// CHECK:         ^bb0(%[[F:[^:]*]]: f32,
// CHECK:           %[[ROW:.*]] = linalg.index 0
// CHECK:           arith.addi %[[POS]], %[[ROW]]
// CHECK:           %[[THETA:.*]] = arith.mulf %{{.*}}, %[[F]] : f32
// CHECK:           math.cos %[[THETA]]
// CHECK:           math.sin %[[THETA]]
// CHECK:         linalg.generic {{.*}} ins(%[[X]] : tensor<?x8xf32>)
// CHECK:           linalg.index 0
// CHECK:           linalg.index 1
// CHECK:           tensor.extract %[[X]]
// CHECK:           tensor.extract %[[T]]#0
// CHECK:           tensor.extract %[[T]]#1
// CHECK-NOT:       math.powf
// CHECK:         return
func.func @rope(%x: tensor<?x8xf32>, %p: index) -> tensor<?x8xf32> {
  %y = hymba.rope %x at %p {head_dim = 4 : i64, base = 10000.0 : f64} : tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// Embedding gather and the meta prefix.
// CHECK-LABEL: func @embed_meta
// CHECK:         linalg.generic
// CHECK:           arith.index_cast
// CHECK:           tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<10x4xbf16>
// CHECK:           arith.extf
// CHECK:         tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [3, 4] [1, 1]
// CHECK:         tensor.insert_slice %{{.*}} into %{{.*}}[3, 0] [%{{.*}}, 4] [1, 1]
func.func @embed_meta(%t: tensor<10x4xbf16>, %ids: tensor<?xi32>, %m: tensor<3x4xf32>) -> tensor<?x4xf32> {
  %e = hymba.embed %t[%ids] : tensor<10x4xbf16>, tensor<?xi32> -> tensor<?x4xf32>
  %h = hymba.prepend_meta %m, %e : tensor<3x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  return %h : tensor<?x4xf32>
}

// -----

// SwiGLU: gate and up matmuls, silu(gate) * up, down matmul.
// CHECK-LABEL: func @mlp
// CHECK-COUNT-2: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK:         linalg.generic
// CHECK:           math.exp
// CHECK:           arith.mulf
// CHECK:         iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-NOT:     hymba.swiglu_mlp
// GPU form: gate and up in one kernel (two register accumulators, silu(g)
// * u), then the down projection.
// GPU-LABEL: func @mlp
// GPU:         %[[ACT:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} outs(
// GPU:           scf.for {{.*}} iter_args({{.*}}) -> (f32, f32)
// GPU:           math.exp
// GPU:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} outs(
// GPU:           scf.for {{.*}} iter_args({{.*}}) -> (f32)
// GPU-NOT:     linalg.generic
// GPU:         return
func.func @mlp(%x: tensor<?x4xf32>, %g: tensor<7x4xf32>, %u: tensor<7x4xf32>, %d: tensor<4x7xf32>) -> tensor<?x4xf32> {
  %y = hymba.swiglu_mlp %x, %g, %u, %d : tensor<?x4xf32>, tensor<7x4xf32>, tensor<7x4xf32>, tensor<4x7xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// Merge as one epilogue: both sums of squares in one reduction, both norms
// and the mean in one element-wise generic, then the output projection.
// CHECK-LABEL: func @merge
// CHECK:         %[[HALF:.+]] = arith.constant 5.000000e-01 : f32
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<?x8xf32>) outs(%{{.*}}, %{{.*}} : tensor<?xf32>, tensor<?xf32>)
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]}
// CHECK:           math.rsqrt
// CHECK:           math.rsqrt
// CHECK:           arith.addf
// CHECK:           arith.mulf %{{.*}}, %[[HALF]]
// CHECK:         iterator_types = ["parallel", "parallel", "reduction"]
// GPU form: both norms, the mean and the projection (and the residual, when
// fused) in one kernel: per item, a dot product and a sum of squares per
// branch.
// GPU-LABEL: func @merge
// GPU:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} outs(
// GPU:           scf.for {{.*}} iter_args({{.*}}) -> (f32, f32)
// GPU:           math.rsqrt
// GPU:           scf.for {{.*}} iter_args({{.*}}) -> (f32, f32)
// GPU:           math.rsqrt
// GPU:           arith.mulf %{{.*}}, %cst
// GPU-NOT:     linalg.generic
// GPU:         return
func.func @merge(%a: tensor<?x8xf32>, %s: tensor<?x8xf32>, %n1: tensor<8xf32>, %n2: tensor<8xf32>,
                 %o: tensor<4x8xf32>) -> tensor<?x4xf32> {
  %y = hymba.hybrid_merge %a, %s, %n1, %n2, %o {epsilon = 1.0e-6 : f32}
      : tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// GPU form: an RMS norm feeding projections is folded into them (sum of
// squares in the same k loop, rsqrt applied to the dot products), and an
// MLP whose only user adds a residual accumulates into it.
// GPU-LABEL: func @norm_mlp_residual
// GPU-SAME:    (%[[X:[^:]+]]: tensor<?x4xf32>
// GPU:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} outs(
// GPU:           scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32)
// GPU:           math.rsqrt
// GPU:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<?x4xf32>) outs(
// GPU-NEXT:      ^bb0(%[[RES:.*]]: f32, %{{.*}}: f32):
// GPU:           %[[DOT:.*]] = scf.for {{.*}} iter_args({{.*}}) -> (f32)
// GPU:           arith.addf %[[RES]], %[[DOT]]
// GPU-NOT:     linalg.generic
// GPU-NOT:     hymba.
// GPU:         return
// CHECK-LABEL: func @norm_mlp_residual
// CHECK-COUNT-3: iterator_types = ["parallel", "parallel", "reduction"]
func.func @norm_mlp_residual(%x: tensor<?x4xf32>, %n: tensor<4xf32>, %g: tensor<7x4xf32>,
                             %u: tensor<7x4xf32>, %d: tensor<4x7xf32>) -> tensor<?x4xf32> {
  %h = hymba.rms_norm %x, %n {epsilon = 1.0e-6 : f32} : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %y = hymba.swiglu_mlp %h, %g, %u, %d : tensor<?x4xf32>, tensor<7x4xf32>, tensor<7x4xf32>, tensor<4x7xf32> -> tensor<?x4xf32>
  %r = arith.addf %x, %y : tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

func.func @unassigned(%p: memref<?xi8>) -> tensor<4xf32> {
  // expected-error @+1 {{has no offset; run -hymba-assign-buffer-layout first}}
  %w = hymba.weight %p["w"] : memref<?xi8> -> tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// Panel-stored weights (#hymba.panels<4>): the view has the storage shape
// [ceil(6 / 4), 4, 4]; the projection reads w[n, k] at [n floordiv 4, k,
// n mod 4] and the embedding lookup row r at [r / 4, c, r % 4].
// CHECK-DAG: #[[PW:.*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 4, d2, d1 mod 4)>
// CHECK-LABEL: func @packed
// CHECK:         %[[V:.*]] = memref.view %{{.*}}[%{{.*}}][] : memref<?xi8> to memref<2x4x4xbf16>
// CHECK:         %[[W:.*]] = bufferization.to_tensor %[[V]] restrict : memref<2x4x4xbf16> to tensor<2x4x4xbf16>
// CHECK:         linalg.generic {indexing_maps = [#{{.*}}, #[[PW]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%{{.*}}, %[[W]] : tensor<?x4xf32>, tensor<2x4x4xbf16>) outs(%{{.*}} : tensor<?x6xf32>)
// CHECK:         linalg.generic
// CHECK:           %[[ROW:.*]] = arith.index_cast
// CHECK:           %[[COL:.*]] = linalg.index 1
// CHECK:           %[[P:.*]] = arith.divui %[[ROW]], %[[C4:.*]] : index
// CHECK:           %[[R:.*]] = arith.remui %[[ROW]], %[[C4]] : index
// CHECK:           tensor.extract %[[W]][%[[P]], %[[COL]], %[[R]]] : tensor<2x4x4xbf16>
// Only the CPU kernel form reads panels.
// GPUERR: error: 'hymba.weight' op is stored in panels (hymba-pack-weights), a layout only the CPU kernel form reads
func.func @packed(%p: memref<?xi8>, %x: tensor<?x4xf32>, %ids: tensor<?xi32>) -> (tensor<?x6xf32>, tensor<?x4xf32>) {
  %w = hymba.weight %p["w"] {offset = 0 : i64} : memref<?xi8> -> tensor<6x4xbf16, #hymba.panels<4>>
  %y = hymba.linear %x, %w : tensor<?x4xf32>, tensor<6x4xbf16, #hymba.panels<4>> -> tensor<?x6xf32>
  %e = hymba.embed %w[%ids] : tensor<6x4xbf16, #hymba.panels<4>>, tensor<?xi32> -> tensor<?x4xf32>
  return %y, %e : tensor<?x6xf32>, tensor<?x4xf32>
}

// -----

// bf16 panels in pairs along K (#hymba.panels<4, interleave = 2>,
// --compute=bf16): the view is [ceil(6 / 4), ceil(5 / 2), 4, 2], w[n, k] is
// read at [n floordiv 4, k floordiv 2, n mod 4, k mod 2], and the product
// uses x rounded to bf16 (integer round to nearest even, NaN kept). The
// SwiGLU's intermediate width (5) is the down projection's K, which its
// storage ([1, 3, 4, 2]) no longer says.
// CHECK-DAG: #[[PAIR:.*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 4, d2 floordiv 2, d1 mod 4, d2 mod 2)>
// CHECK-LABEL: func @pairs
// CHECK:         %[[V:.*]] = memref.view %{{.*}}[%{{.*}}][] : memref<?xi8> to memref<2x3x4x2xbf16>
// CHECK:         %[[W:.*]] = bufferization.to_tensor %[[V]] restrict : memref<2x3x4x2xbf16> to tensor<2x3x4x2xbf16>
// CHECK:         linalg.generic {indexing_maps = [#{{.*}}, #[[PAIR]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%{{.*}}, %[[W]] : tensor<?x5xf32>, tensor<2x3x4x2xbf16>) outs(%{{.*}} : tensor<?x6xf32>)
// CHECK:         ^bb0(%[[XIN:.*]]: f32, %{{.*}}: bf16, %{{.*}}: f32):
// CHECK:           %[[BITS:.*]] = arith.bitcast %[[XIN]] : f32 to i32
// CHECK:           arith.addi %[[BITS]]
// CHECK:           %[[NAN:.*]] = arith.cmpf uno, %[[XIN]], %[[XIN]] : f32
// CHECK:           %[[SEL:.*]] = arith.select %[[NAN]]
// CHECK:           %[[XR:.*]] = arith.bitcast %[[SEL]] : i32 to f32
// CHECK:           arith.mulf %[[XR]], %{{.*}} : f32
// CHECK:         tensor.extract %{{.*}} : tensor<2x3x4x2xbf16>
// CHECK-LABEL: func @pairs_mlp
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<2x2x4x2xbf16>) outs(%{{.*}} : tensor<?x5xf32>)
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<?x5xf32>, tensor<1x3x4x2xbf16>) outs(%{{.*}} : tensor<?x4xf32>)
func.func @pairs(%p: memref<?xi8>, %x: tensor<?x5xf32>, %ids: tensor<?xi32>) -> (tensor<?x6xf32>, tensor<?x5xf32>) {
  %w = hymba.weight %p["w"] {offset = 0 : i64} : memref<?xi8> -> tensor<6x5xbf16, #hymba.panels<4, interleave = 2>>
  %y = hymba.linear %x, %w : tensor<?x5xf32>, tensor<6x5xbf16, #hymba.panels<4, interleave = 2>> -> tensor<?x6xf32>
  %e = hymba.embed %w[%ids] : tensor<6x5xbf16, #hymba.panels<4, interleave = 2>>, tensor<?xi32> -> tensor<?x5xf32>
  return %y, %e : tensor<?x6xf32>, tensor<?x5xf32>
}
func.func @pairs_mlp(%p: memref<?xi8>, %x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %g = hymba.weight %p["g"] {offset = 0 : i64} : memref<?xi8> -> tensor<5x4xbf16, #hymba.panels<4, interleave = 2>>
  %u = hymba.weight %p["u"] {offset = 64 : i64} : memref<?xi8> -> tensor<5x4xbf16, #hymba.panels<4, interleave = 2>>
  %d = hymba.weight %p["d"] {offset = 128 : i64} : memref<?xi8> -> tensor<4x5xbf16, #hymba.panels<4, interleave = 2>>
  %y = hymba.swiglu_mlp %x, %g, %u, %d : tensor<?x4xf32>, tensor<5x4xbf16, #hymba.panels<4, interleave = 2>>, tensor<5x4xbf16, #hymba.panels<4, interleave = 2>>, tensor<4x5xbf16, #hymba.panels<4, interleave = 2>> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// Quantized i8 panels: the projection's generic reads the values through the
// panel map and the scales through (n floordiv 4, k floordiv 8, n mod 4),
// and dequantizes in its body; nothing materializes the f32 weight.
// CHECK-DAG: #[[QV:.*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 4, d2, d1 mod 4)>
// CHECK-DAG: #[[QS:.*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 4, d2 floordiv 8, d1 mod 4)>
// CHECK-LABEL: func @quantized_i8
// CHECK:         %[[QVIEW:.*]] = memref.view %{{.*}}[%{{.*}}][] : memref<?xi8> to memref<2x12x4xi8>
// CHECK:         %[[Q:.*]] = bufferization.to_tensor %[[QVIEW]] restrict : memref<2x12x4xi8> to tensor<2x12x4xi8>
// CHECK:         %[[SVIEW:.*]] = memref.view %{{.*}}[%{{.*}}][] : memref<?xi8> to memref<2x2x4xbf16>
// CHECK:         %[[S:.*]] = bufferization.to_tensor %[[SVIEW]] restrict : memref<2x2x4xbf16> to tensor<2x2x4xbf16>
// CHECK-NOT:     hymba.dequantize
// CHECK:         linalg.generic {indexing_maps = [#{{.*}}, #[[QV]], #[[QS]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%{{.*}}, %[[Q]], %[[S]] : tensor<?x12xf32>, tensor<2x12x4xi8>, tensor<2x2x4xbf16>) outs(%{{.*}} : tensor<?x6xf32>)
// CHECK:         ^bb0(%[[XA:.*]]: f32, %[[QA:.*]]: i8, %[[SA:.*]]: bf16, %[[ACC:.*]]: f32):
// CHECK:           %[[QF:.*]] = arith.sitofp %[[QA]] : i8 to f32
// CHECK:           %[[SF:.*]] = arith.extf %[[SA]] : bf16 to f32
// CHECK:           %[[WF:.*]] = arith.mulf %[[QF]], %[[SF]] : f32
// CHECK:           %[[PR:.*]] = arith.mulf %[[XA]], %[[WF]] : f32
// CHECK:           arith.addf %[[ACC]], %[[PR]] : f32
// The embedding lookup dequantizes its row from the same storage.
// CHECK:         linalg.generic
// CHECK:           %[[EQ:.*]] = tensor.extract %[[Q]][{{.*}}] : tensor<2x12x4xi8>
// CHECK:           %[[ES:.*]] = tensor.extract %[[S]][{{.*}}] : tensor<2x2x4xbf16>
// CHECK:           arith.sitofp %[[EQ]] : i8 to f32
func.func @quantized_i8(%p: memref<?xi8>, %x: tensor<?x12xf32>, %ids: tensor<?xi32>) -> (tensor<?x6xf32>, tensor<?x12xf32>) {
  %q = hymba.weight %p["w"] {offset = 0 : i64} : memref<?xi8> -> tensor<6x12xi8, #hymba.panels<4>>
  %s = hymba.weight %p["w"] {offset = 128 : i64, scales} : memref<?xi8> -> tensor<6x2xbf16, #hymba.panels<4>>
  %w = hymba.dequantize %q, %s {group_size = 8 : i64} : tensor<6x12xi8, #hymba.panels<4>>, tensor<6x2xbf16, #hymba.panels<4>> -> tensor<6x12xf32>
  %y = hymba.linear %x, %w : tensor<?x12xf32>, tensor<6x12xf32> -> tensor<?x6xf32>
  %e = hymba.embed %w[%ids] : tensor<6x12xf32>, tensor<?xi32> -> tensor<?x12xf32>
  return %y, %e : tensor<?x6xf32>, tensor<?x12xf32>
}

// -----

// Quantized i4 without panels (the GPU form's layout): the values are a flat
// byte array, element (n, k) in byte (n * 5 + k) floordiv 2, its nibble
// chosen by the parity of n * 5 + k, sign-extended by a shift pair.
// CHECK-DAG: #[[Q4:.*]] = affine_map<(d0, d1, d2) -> ((d1 * 5 + d2) floordiv 2)>
// CHECK-LABEL: func @quantized_i4_plain
// CHECK:         memref.view %{{.*}}[%{{.*}}][] : memref<?xi8> to memref<8xi8>
// CHECK:         linalg.generic {indexing_maps = [#{{.*}}, #[[Q4]], #{{.*}}, #{{.*}}]
// CHECK:         ^bb0(%{{.*}}: f32, %[[QA:.*]]: i8, %{{.*}}: bf16, %{{.*}}: f32):
// CHECK:           %[[SH:.*]] = arith.select %{{.*}}, %{{.*}}, %{{.*}} : i8
// CHECK:           %[[UP:.*]] = arith.shli %[[QA]], %[[SH]] : i8
// CHECK:           %[[DOWN:.*]] = arith.shrsi %[[UP]], %{{.*}} : i8
// CHECK:           arith.sitofp %[[DOWN]] : i8 to f32
// GPU-LABEL: func @quantized_i4_plain
// GPU:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} outs(
// GPU:           memref.load %{{.*}}[%{{.*}}] : memref<8xi8, strided<[?], offset: ?>>
// GPU:           memref.load %{{.*}}[%{{.*}}, %{{.*}}] : memref<3x3xbf16, strided<[?, ?], offset: ?>>
// GPU:           arith.shrsi
func.func @quantized_i4_plain(%p: memref<?xi8>, %x: tensor<?x5xf32>) -> tensor<?x3xf32> {
  %q = hymba.weight %p["w"] {offset = 0 : i64} : memref<?xi8> -> tensor<3x5xi4>
  %s = hymba.weight %p["w"] {offset = 64 : i64, scales} : memref<?xi8> -> tensor<3x3xbf16>
  %w = hymba.dequantize %q, %s {group_size = 2 : i64} : tensor<3x5xi4>, tensor<3x3xbf16> -> tensor<3x5xf32>
  %y = hymba.linear %x, %w : tensor<?x5xf32>, tensor<3x5xf32> -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// Only projections and embedding lookups read quantized weights.
func.func @quantized_other_reader(%p: memref<?xi8>, %x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %q = hymba.weight %p["w"] {offset = 0 : i64} : memref<?xi8> -> tensor<2x4xi8>
  %s = hymba.weight %p["w"] {offset = 64 : i64, scales} : memref<?xi8> -> tensor<2x1xbf16>
  // expected-error @+1 {{'hymba.dequantize' op is read by}}
  %w = hymba.dequantize %q, %s {group_size = 4 : i64} : tensor<2x4xi8>, tensor<2x1xbf16> -> tensor<2x4xf32>
  %y = hymba.prepend_meta %w, %x : tensor<2x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// int8 values in quads along K (--compute=int8): x is quantized per row and
// group of 8 before the projection, as vectors of the group's 8 lanes: the
// group's absolute maximum, its scale (amax / C), its values
// (clamp(roundeven(x * C / amax), -127, 127) in f64). K = 20 leaves a last
// group of 4: its reads are padded and its writes masked (no in_bounds).
// The projection reads the int8 values and the scales.
// CHECK-LABEL: func @int8_dot
// CHECK-SAME:    (%{{.*}}: memref<?xi8>, %[[X:.*]]: tensor<?x20xf32>)
// CHECK-DAG:     %[[C:.*]] = arith.constant 126.984375 : f32
// CHECK-DAG:     %[[C64:.*]] = arith.constant dense<126.984375> : vector<8xf64>
// CHECK-DAG:     %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?x3xf32>
// CHECK-DAG:     %[[EQ:.*]] = tensor.empty(%{{.*}}) : tensor<?x20xi8>
// CHECK:         %[[QX:.*]]:2 = scf.for %[[T:.*]] = %{{.*}} iter_args(%{{.*}} = %[[E]], %{{.*}} = %[[EQ]])
// CHECK:           scf.for %[[G:.*]] = %{{.*}} iter_args(%[[SACC:.*]] = %{{.*}}, %{{.*}} = %{{.*}})
// CHECK:             %[[AMAX:.*]] = scf.for
// CHECK:               %[[V:.*]] = vector.transfer_read %[[X]][%[[T]], %{{.*}}], %{{.*}} : tensor<?x20xf32>, vector<8xf32>
// CHECK:               %[[ABS:.*]] = math.absf %[[V]] : vector<8xf32>
// CHECK:               vector.reduction <maximumf>, %[[ABS]], %{{.*}} : vector<8xf32> into f32
// CHECK:             %[[SCALE:.*]] = arith.divf %[[AMAX]], %[[C]] : f32
// CHECK:             %[[VALUES:.*]] = scf.for
// CHECK:               %[[XD:.*]] = arith.extf %{{.*}} : vector<8xf32> to vector<8xf64>
// CHECK:               %[[XC:.*]] = arith.mulf %[[XD]], %[[C64]] : vector<8xf64>
// CHECK:               %[[R:.*]] = arith.divf %[[XC]], %{{.*}} : vector<8xf64>
// CHECK:               math.roundeven
// CHECK:               %[[Q:.*]] = arith.fptosi %{{.*}} : vector<8xf64> to vector<8xi8>
// CHECK:               vector.transfer_write %[[Q]], %{{.*}}[%[[T]], %{{.*}}] : vector<8xi8>, tensor<?x20xi8>
// CHECK:             tensor.insert %[[SCALE]] into %[[SACC]][%[[T]], %[[G]]] : tensor<?x3xf32>
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[QX]]#1, %[[QX]]#0, %{{.*}}, %{{.*}} : tensor<?x20xi8>, tensor<?x3xf32>, tensor<2x5x4x4xi8>, tensor<2x3x4xbf16>)
func.func @int8_dot(%p: memref<?xi8>, %x: tensor<?x20xf32>) -> tensor<?x6xf32> {
  %q = hymba.weight %p["w"] {offset = 0 : i64} : memref<?xi8> -> tensor<6x20xi8, #hymba.panels<4, interleave = 4>>
  %s = hymba.weight %p["w"] {offset = 256 : i64, scales} : memref<?xi8> -> tensor<6x3xbf16, #hymba.panels<4>>
  %w = hymba.dequantize %q, %s {group_size = 8 : i64} : tensor<6x20xi8, #hymba.panels<4, interleave = 4>>, tensor<6x3xbf16, #hymba.panels<4>> -> tensor<6x20xf32>
  %y = hymba.linear %x, %w : tensor<?x20xf32>, tensor<6x20xf32> -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}
