// RUN: hymba-opt %s -hymba-gpu-copies-to-loops | FileCheck %s

// A host copy (meta rows into the joined buffer) becomes an element loop;
// a copy inside a kernel body stays.
// CHECK-LABEL: func @copies
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK:         %[[D0:.*]] = memref.dim %[[SRC:.*]], %[[C0]]
// CHECK:         %[[D1:.*]] = memref.dim %[[SRC]], %[[C1]]
// CHECK:         scf.parallel (%[[I:.*]], %[[J:.*]]) = (%[[C0]]{{.*}}, %[[C0]]{{.*}}) to (%[[D0]], %[[D1]])
// CHECK:           %[[V:.*]] = memref.load %[[SRC]][%[[I]], %[[J]]] : memref<5x32xf32>
// CHECK:           memref.store %[[V]], %{{.*}}[%[[I]], %[[J]]] : memref<5x32xf32, strided<[32, 1]>>
// CHECK:         gpu.launch
// CHECK:           memref.copy
// CHECK:           gpu.terminator
// CHECK-NOT:     memref.copy
func.func @copies(%meta: memref<5x32xf32>, %n: index) -> memref<?x32xf32> {
  %buf = memref.alloc(%n) : memref<?x32xf32>
  %rows = memref.subview %buf[0, 0] [5, 32] [1, 1] : memref<?x32xf32> to memref<5x32xf32, strided<[32, 1]>>
  memref.copy %meta, %rows : memref<5x32xf32> to memref<5x32xf32, strided<[32, 1]>>
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %a = memref.alloca() : memref<4xf32>
    %b = memref.alloca() : memref<4xf32>
    memref.copy %a, %b : memref<4xf32> to memref<4xf32>
    gpu.terminator
  }
  return %buf : memref<?x32xf32>
}
