// RUN: hymba-opt %s -hymba-assign-buffer-layout | FileCheck %s
// RUN: hymba-opt %s -hymba-assign-buffer-layout -hymba-assign-buffer-layout | FileCheck %s

// Each distinct name gets one 64-byte aligned slot in order of first use; a
// repeated name reuses its slot. 7 x f32 = 28 bytes rounds up to 64, and
// 3x40 x bf16 = 240 bytes rounds up to 256.

// CHECK: module attributes {hymba.params_bytes = 384 : i64, hymba.state_bytes = 128 : i64}
// CHECK-LABEL: func @layout
func.func @layout(%p: memref<?xi8>, %s: memref<?xi8>) {
  // CHECK: hymba.weight %{{.*}}["a"] {offset = 0 : i64}
  %a = hymba.weight %p["a"] : memref<?xi8> -> tensor<7xf32>
  // CHECK: hymba.weight %{{.*}}["b"] {offset = 64 : i64}
  %b = hymba.weight %p["b"] : memref<?xi8> -> tensor<3x40xbf16>
  // CHECK: hymba.weight %{{.*}}["a"] {offset = 0 : i64}
  %a2 = hymba.weight %p["a"] : memref<?xi8> -> tensor<7xf32>
  // CHECK: hymba.weight %{{.*}}["c"] {offset = 320 : i64}
  %c = hymba.weight %p["c"] : memref<?xi8> -> tensor<1xf16>
  // CHECK: hymba.state_buffer %{{.*}}["k"] {offset = 0 : i64}
  %k = hymba.state_buffer %s["k"] : memref<?xi8> -> memref<2x4xf32>
  // CHECK: hymba.state_buffer %{{.*}}["v"] {offset = 64 : i64}
  %v = hymba.state_buffer %s["v"] : memref<?xi8> -> memref<4x4xf32>
  return
}
