// RUN: hymba-opt %s -hymba-gpu-host-shared-allocs | FileCheck %s

// Host buffers become managed memory; allocations inside kernels stay.
// CHECK-LABEL: func @host
// CHECK:         %[[B:.*]] = gpu.alloc  host_shared (%{{.*}}) : memref<?x8xf32>
// CHECK:         gpu.launch
// CHECK:           memref.alloca() : memref<4xf32>
// CHECK:           memref.alloc() : memref<2xf32>
// CHECK:         %[[T0:.*]] = gpu.wait async
// CHECK:         %[[T1:.*]] = gpu.dealloc async [%[[T0]]] %[[B]] : memref<?x8xf32>
// CHECK:         gpu.wait [%[[T1]]]
// CHECK-NOT:     memref.dealloc
func.func @host(%n: index) {
  %c1 = arith.constant 1 : index
  %b = memref.alloc(%n) : memref<?x8xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %s = memref.alloca() : memref<4xf32>
    %t = memref.alloc() : memref<2xf32>
    gpu.terminator
  }
  memref.dealloc %b : memref<?x8xf32>
  return
}
