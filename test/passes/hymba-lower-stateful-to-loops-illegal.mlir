// RUN: not hymba-opt %s -split-input-file -hymba-lower-stateful-to-loops 2>&1 | FileCheck %s

// The stateful ops are illegal after the pass (a ConversionTarget), so one
// that no pattern lowers fails the pass at its location instead of surviving
// to LLVM translation: here branches that are not one attention and one scan.
// CHECK: error: failed to legalize operation 'hymba.parallel_branches' that was explicitly marked illegal
func.func @not_a_hybrid_head(%a: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
  %r:2 = hymba.parallel_branches scan_tile(16) : tensor<?x4xf32>, tensor<?x4xf32> {
    hymba.yield %a : tensor<?x4xf32>
  } {
    hymba.yield %a : tensor<?x4xf32>
  }
  return %r#0, %r#1 : tensor<?x4xf32>, tensor<?x4xf32>
}
