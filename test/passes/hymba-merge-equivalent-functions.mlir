// RUN: hymba-opt %s -split-input-file -hymba-merge-equivalent-functions | FileCheck %s
// RUN: hymba-opt %s -split-input-file -hymba-merge-equivalent-functions=max-arguments=1 | FileCheck %s --check-prefix=CAP

// Two layers that differ only in where their weights live: one body, the
// offsets become arguments, each call passes its own. The third layer's
// loop is different (a float constant differs), so it keeps its body.
// CHECK-LABEL: func.func private @layer_a(
// CHECK-SAME:      %[[P:.*]]: memref<?xi8>, %[[X:.*]]: memref<16xf32>, %[[OFF0:.*]]: index, %[[OFF1:.*]]: index)
// CHECK-DAG:     %[[C16:.*]] = arith.constant 16 : index
// CHECK:         memref.view %[[P]][%[[OFF0]]][] : memref<?xi8> to memref<16xf32>
// CHECK:         scf.for %{{.*}} = %{{.*}} to %[[C16]]
// CHECK:         memref.view %[[P]][%[[OFF1]]][] : memref<?xi8> to memref<16xf32>
// CHECK-NOT:   func.func private @layer_b
// CHECK-LABEL: func.func private @layer_c(
// CHECK-SAME:      %{{.*}}: memref<?xi8>, %{{.*}}: memref<16xf32>)
// CHECK-LABEL: func.func @stack
// CHECK-DAG:     %[[A0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[A1:.*]] = arith.constant 64 : index
// CHECK:         call @layer_a(%{{.*}}, %{{.*}}, %[[A0]], %[[A1]])
// CHECK-DAG:     %[[B0:.*]] = arith.constant 128 : index
// CHECK-DAG:     %[[B1:.*]] = arith.constant 192 : index
// CHECK:         call @layer_a(%{{.*}}, %{{.*}}, %[[B0]], %[[B1]])
// CHECK:         call @layer_c(%{{.*}}, %{{.*}}) :
// Two differing constants are over a cap of one: nothing is merged.
// CAP-LABEL: func.func private @layer_a(
// CAP-SAME:      %{{.*}}: memref<?xi8>, %{{.*}}: memref<16xf32>)
// CAP: func.func private @layer_b(
// CAP: call @layer_a(
// CAP: call @layer_b(
func.func private @layer_a(%p: memref<?xi8>, %x: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %two = arith.constant 2.0 : f32
  %w = memref.view %p[%c0][] : memref<?xi8> to memref<16xf32>
  scf.for %i = %c0 to %c16 step %c1 {
    %a = memref.load %w[%i] : memref<16xf32>
    %b = arith.mulf %a, %two : f32
    memref.store %b, %x[%i] : memref<16xf32>
  }
  %s = memref.view %p[%c64][] : memref<?xi8> to memref<16xf32>
  memref.copy %s, %x : memref<16xf32> to memref<16xf32>
  return
}
// Constants merged differently by CSE (here 16 is both the trip count and
// an offset) still compare at each use.
func.func private @layer_b(%p: memref<?xi8>, %x: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c192 = arith.constant 192 : index
  %c16 = arith.constant 16 : index
  %two = arith.constant 2.0 : f32
  %w = memref.view %p[%c128][] : memref<?xi8> to memref<16xf32>
  scf.for %i = %c0 to %c16 step %c1 {
    %a = memref.load %w[%i] : memref<16xf32>
    %b = arith.mulf %a, %two : f32
    memref.store %b, %x[%i] : memref<16xf32>
  }
  %s = memref.view %p[%c192][] : memref<?xi8> to memref<16xf32>
  memref.copy %s, %x : memref<16xf32> to memref<16xf32>
  return
}
func.func private @layer_c(%p: memref<?xi8>, %x: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 256 : index
  %three = arith.constant 3.0 : f32
  %w = memref.view %p[%c0][] : memref<?xi8> to memref<16xf32>
  scf.for %i = %c0 to %c16 step %c1 {
    %a = memref.load %w[%i] : memref<16xf32>
    %b = arith.mulf %a, %three : f32
    memref.store %b, %x[%i] : memref<16xf32>
  }
  %s = memref.view %p[%c64][] : memref<?xi8> to memref<16xf32>
  memref.copy %s, %x : memref<16xf32> to memref<16xf32>
  return
}
func.func @stack(%p: memref<?xi8>, %x: memref<16xf32>) {
  call @layer_a(%p, %x) : (memref<?xi8>, memref<16xf32>) -> ()
  call @layer_b(%p, %x) : (memref<?xi8>, memref<16xf32>) -> ()
  call @layer_c(%p, %x) : (memref<?xi8>, memref<16xf32>) -> ()
  return
}

// -----

// Public functions, and functions whose symbol is used other than by a call,
// keep their signatures: nothing is merged.
// CHECK-LABEL: func.func @entry_a(
// CHECK-SAME:      %{{.*}}: memref<?xi8>) -> memref<4xf32>
// CHECK-LABEL: func.func @entry_b(
// CHECK-LABEL: func.func private @taken_a(
// CHECK-SAME:      %{{.*}}: memref<?xi8>) -> memref<4xf32>
// CHECK-LABEL: func.func private @taken_b(
// CHECK-LABEL: func.func @user
// CHECK:         constant @taken_a
// CHECK:         call @taken_b(
func.func @entry_a(%p: memref<?xi8>) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %v = memref.view %p[%c0][] : memref<?xi8> to memref<4xf32>
  return %v : memref<4xf32>
}
func.func @entry_b(%p: memref<?xi8>) -> memref<4xf32> {
  %c16 = arith.constant 16 : index
  %v = memref.view %p[%c16][] : memref<?xi8> to memref<4xf32>
  return %v : memref<4xf32>
}
func.func private @taken_a(%p: memref<?xi8>) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %v = memref.view %p[%c0][] : memref<?xi8> to memref<4xf32>
  return %v : memref<4xf32>
}
func.func private @taken_b(%p: memref<?xi8>) -> memref<4xf32> {
  %c16 = arith.constant 16 : index
  %v = memref.view %p[%c16][] : memref<?xi8> to memref<4xf32>
  return %v : memref<4xf32>
}
func.func @user(%p: memref<?xi8>) -> memref<4xf32> {
  %f = func.constant @taken_a : (memref<?xi8>) -> memref<4xf32>
  %v = call @taken_b(%p) : (memref<?xi8>) -> memref<4xf32>
  return %v : memref<4xf32>
}
