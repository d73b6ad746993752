// RUN: hymba-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(hymba-gpu-fuse-independent-loops))' | FileCheck %s

// Two loops writing different buffers from the same input become one loop
// over both item ranges; the allocation between them moves above.
// CHECK-LABEL: func @independent
// CHECK-DAG:     %[[C4:.+]] = arith.constant 4 : index
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : index
// CHECK:         %[[A:.*]] = memref.alloc() : memref<8xf32>
// CHECK:         %[[B:.*]] = memref.alloc() : memref<4xf32>
// CHECK:         %[[N:.*]] = arith.addi %[[C8]], %[[C4]] : index
// CHECK:         scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%[[N]])
// CHECK:           %[[FIRST:.*]] = arith.cmpi ult, %[[I]], %[[C8]]
// CHECK:           scf.if %[[FIRST]] {
// CHECK:             memref.store %{{.*}}, %[[A]][%[[I]]]
// CHECK:           } else {
// CHECK:             %[[J:.*]] = arith.subi %[[I]], %[[C8]]
// CHECK:             memref.store %{{.*}}, %[[B]][%[[J]]]
// CHECK-NOT:     scf.parallel
func.func @independent(%x: memref<8xf32>) -> (memref<8xf32>, memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %a = memref.alloc() : memref<8xf32>
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %v = memref.load %x[%i] : memref<8xf32>
    memref.store %v, %a[%i] : memref<8xf32>
    scf.reduce
  }
  %b = memref.alloc() : memref<4xf32>
  scf.parallel (%j) = (%c0) to (%c4) step (%c1) {
    %v = memref.load %x[%j] : memref<8xf32>
    memref.store %v, %b[%j] : memref<4xf32>
    scf.reduce
  }
  return %a, %b : memref<8xf32>, memref<4xf32>
}

// -----

// The second loop reads what the first writes: two kernels.
// CHECK-LABEL: func @dependent
// CHECK:         scf.parallel
// CHECK:         scf.parallel
func.func @dependent(%x: memref<8xf32>, %a: memref<8xf32>, %b: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %v = memref.load %x[%i] : memref<8xf32>
    memref.store %v, %a[%i] : memref<8xf32>
    scf.reduce
  }
  scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
    %v = memref.load %a[%j] : memref<8xf32>
    memref.store %v, %b[%j] : memref<8xf32>
    scf.reduce
  }
  return
}

// -----

// Views of one state arena: disjoint byte ranges fuse (the first two
// loops), an overlapping range does not (the third loop reads bytes
// [64, 96) that the second writes).
// CHECK-LABEL: func @arena
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : index
// CHECK-DAG:     %[[C80:.+]] = arith.constant 80 : index
// CHECK:         %[[S2:.*]] = memref.view %{{.*}}[%[[C80]]][]
// CHECK:         scf.parallel
// CHECK:           scf.if
// CHECK:         scf.parallel (%[[I:.*]]) = (%[[C0]]) to (%[[C8]]) step (%[[C1]])
// CHECK-NEXT:      memref.load %[[S2]][%[[I]]]
// CHECK:         return
func.func @arena(%state: memref<?xi8>, %out: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %c80 = arith.constant 80 : index
  %f = arith.constant 1.0 : f32
  %s0 = memref.view %state[%c0][] : memref<?xi8> to memref<8xf32>
  %s1 = memref.view %state[%c64][] : memref<?xi8> to memref<8xf32>
  %s2 = memref.view %state[%c80][] : memref<?xi8> to memref<8xf32>
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %f, %s0[%i] : memref<8xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %f, %s1[%i] : memref<8xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %v = memref.load %s2[%i] : memref<8xf32>
    memref.store %v, %out[%i] : memref<8xf32>
    scf.reduce
  }
  return
}
