// RUN: hymba-opt %s -hymba-approximate-math | FileCheck %s

// exp, expm1, log and log1p become inline polynomials (no call, so the
// loop around them vectorizes); sin, cos, pow and rsqrt are left to the
// LLVM lowering.
// CHECK-LABEL: func @approximated
// CHECK-SAME:    (%[[X:.*]]: f32, %[[V:.*]]: vector<8xf32>)
// CHECK-NOT:     math.exp
// CHECK-NOT:     math.log
// CHECK:         math.fma
// CHECK:         arith.bitcast {{.*}} : vector<8xi32> to vector<8xf32>
// CHECK-NOT:     math.exp
// CHECK-NOT:     math.log
// CHECK:         %[[S:.*]] = math.sin %[[X]] : f32
// CHECK:         %[[R:.*]] = math.rsqrt %[[V]] : vector<8xf32>
// CHECK:         return
func.func @approximated(%x: f32, %v: vector<8xf32>) -> (f32, vector<8xf32>, f32, f32, f32, vector<8xf32>) {
  %e = math.exp %x : f32
  %ev = math.exp %v : vector<8xf32>
  %l = math.log1p %x : f32
  %m = math.expm1 %x : f32
  %s = math.sin %x : f32
  %r = math.rsqrt %v : vector<8xf32>
  return %e, %ev, %l, %m, %s, %r : f32, vector<8xf32>, f32, f32, f32, vector<8xf32>
}
