// RUN: not hymba-opt %s -split-input-file -hymba-lower-stateful-to-loops 2>&1 | FileCheck %s
// RUN: not hymba-opt %s -split-input-file -hymba-lower-stateful-to-loops=kernel-form=gpu 2>&1 | FileCheck %s

// The stateful ops are illegal after the pass (a ConversionTarget), so one
// that no pattern lowers fails the pass at its location instead of surviving
// to LLVM translation: here branches that are not one attention and one scan.
// CHECK: error: failed to legalize operation 'hymba.parallel_branches' that was explicitly marked illegal
func.func @not_a_hybrid_head(%a: memref<?x4xf32>) -> (memref<?x4xf32>, memref<?x4xf32>) {
  %r:2 = hymba.parallel_branches scan_tile(16) : memref<?x4xf32>, memref<?x4xf32> {
    hymba.yield %a : memref<?x4xf32>
  } {
    hymba.yield %a : memref<?x4xf32>
  }
  return %r#0, %r#1 : memref<?x4xf32>, memref<?x4xf32>
}

// -----

// The loops store into the op's buffers: an op still on tensors (no
// one-shot-bufferize before the pass) fails the pass, naming the op.
// CHECK: error: 'hymba.causal_conv1d' op is lowered to loops in its memref form only; run one-shot-bufferize first
func.func @tensor_form(%x: tensor<?x4xf32>, %w: tensor<4x1x3xf32>, %b: tensor<4xf32>,
                       %s: memref<2x4xf32>) -> tensor<?x4xf32> {
  %y = hymba.causal_conv1d %x, %w, %b, %s outs(%x : tensor<?x4xf32>)
      : tensor<?x4xf32>, tensor<4x1x3xf32>, tensor<4xf32>, memref<2x4xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// Every loop form is sized by a static state size: a scan whose a_log has a
// dynamic dim 1 is not lowered (it used to give loops with no state at all
// in the GPU form).
// CHECK: error: failed to legalize operation 'hymba.selective_scan' that was explicitly marked illegal
func.func @dynamic_state(%u: memref<?x8xf32>, %b: memref<?x?xf32>, %bias: memref<8xf32>,
                         %alog: memref<8x?xf32>, %ss: memref<8x?xf32>, %init: memref<?x8xf32>) {
  hymba.selective_scan %u, %u, %bias, %alog, %b, %b, %bias, %u, %ss outs(%init : memref<?x8xf32>)
      : memref<?x8xf32>, memref<?x8xf32>, memref<8xf32>, memref<8x?xf32>, memref<?x?xf32>,
        memref<?x?xf32>, memref<8xf32>, memref<?x8xf32>, memref<8x?xf32>
  return
}

// -----

// Nor is a fused pair whose scan has a dynamic channel count (it used to
// size a scratch buffer and a loop bound from the dynamic marker).
// CHECK: error: failed to legalize operation 'hymba.parallel_branches' that was explicitly marked illegal
func.func @dynamic_channels(%q: memref<?x8xf32>, %k: memref<?x4xf32>, %v: memref<?x16xf32>,
                 %kc: memref<7x4xf32>, %vc: memref<7x16xf32>, %pos: index,
                 %u: memref<?x?xf32>, %b: memref<?xf32>, %al: memref<?x4xf32>,
                 %B: memref<?x4xf32>, %ss: memref<?x4xf32>, %ia: memref<?x32xf32>, %iy: memref<?x?xf32>) {
  %r:2 = hymba.parallel_branches scan_tile(16) : memref<?x32xf32>, memref<?x?xf32> {
    hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%ia : memref<?x32xf32>)
        {num_heads = 2 : i64, num_kv_heads = 1 : i64, window = 4 : i64, num_meta = 3 : i64, scale = 0.5 : f32}
        : memref<?x8xf32>, memref<?x4xf32>, memref<?x16xf32>, memref<7x4xf32>, memref<7x16xf32>
    hymba.yield %ia : memref<?x32xf32>
  } {
    hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %ss outs(%iy : memref<?x?xf32>)
        : memref<?x?xf32>, memref<?x?xf32>, memref<?xf32>, memref<?x4xf32>, memref<?x4xf32>,
          memref<?x4xf32>, memref<?xf32>, memref<?x?xf32>, memref<?x4xf32>
    hymba.yield %iy : memref<?x?xf32>
  }
  return
}
