// RUN: not hymba-opt %s -split-input-file -hymba-lower-stateful-to-loops 2>&1 | FileCheck %s

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
