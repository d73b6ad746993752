// RUN: hymba-opt %s -pass-pipeline='builtin.module(func.func(hymba-gpu-flatten-parallel-loops))' | FileCheck %s

// A [rows, 208] loop becomes one flat loop, row-major: consecutive items are
// consecutive columns. One-dimensional and nested loops are left alone.
// CHECK-LABEL: func @flatten
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C16:.+]] = arith.constant 16 : index
// CHECK-DAG:     %[[C208:.+]] = arith.constant 208 : index
// CHECK:         %[[N:.*]] = arith.muli %{{.*}}, %[[C208]]{{.*}} : index
// CHECK:         scf.parallel (%[[I:.*]]) = (%[[C0]]{{.*}}) to (%[[N]]) step (%[[C1]]{{.*}})
// CHECK-DAG:       %[[J:.*]] = arith.remsi %[[I]], %[[C208]]{{.*}} : index
// CHECK-DAG:       %[[T:.*]] = arith.divsi %[[I]], %[[C208]]{{.*}} : index
// CHECK:           memref.store %{{.*}}, %{{.*}}[%[[T]], %[[J]]] : memref<?x208xf32>
// CHECK:         scf.parallel (%{{.*}}) = (%[[C0]]) to (%[[C16]]) step (%[[C1]])
// CHECK-NOT:       arith.divsi
// CHECK:           scf.parallel (%{{.*}}, %{{.*}}) = (%[[C0]], %[[C0]]) to (%[[C2]], %[[C2]])
func.func @flatten(%out: memref<?x208xf32>, %rows: index, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %c208 = arith.constant 208 : index
  scf.parallel (%t, %j) = (%c0, %c0) to (%rows, %c208) step (%c1, %c1) {
    memref.store %x, %out[%t, %j] : memref<?x208xf32>
    scf.reduce
  }
  scf.parallel (%c) = (%c0) to (%c16) step (%c1) {
    scf.parallel (%a, %b) = (%c0, %c0) to (%c2, %c2) step (%c1, %c1) {
      memref.store %x, %out[%a, %b] : memref<?x208xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}
