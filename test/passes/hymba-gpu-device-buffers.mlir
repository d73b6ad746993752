// RUN: hymba-opt %s -split-input-file -hymba-gpu-device-buffers -verify-diagnostics | FileCheck %s

// Buffers that reach a kernel, a model function or a return move to device
// memory; host bookkeeping (ownership flags) stays a host allocation.
// CHECK-LABEL: func.func @model
// CHECK:         %[[B:.*]] = gpu.alloc  (%{{.*}}) : memref<?x8xf32>
// CHECK:         %[[R:.*]] = gpu.alloc  (%{{.*}}) : memref<?x8xf32>
// CHECK:         %[[FLAGS:.*]] = memref.alloc() : memref<2xi1>
// CHECK:         memref.store %{{.*}}, %[[FLAGS]][%{{.*}}] : memref<2xi1>
// CHECK:         gpu.launch_func  @kernels::@k
// CHECK:         gpu.dealloc  %[[B]] : memref<?x8xf32>
// CHECK:         memref.dealloc %[[FLAGS]] : memref<2xi1>
// CHECK:         return %[[R]]
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%a: memref<?x8xf32>, %b: memref<?x8xf32>) kernel {
      gpu.return
    }
  }
  func.func @model(%n: index) -> memref<?x8xf32> {
    %c1 = arith.constant 1 : index
    %c0 = arith.constant 0 : index
    %true = arith.constant true
    %b = memref.alloc(%n) : memref<?x8xf32>
    %r = memref.alloc(%n) : memref<?x8xf32>
    %flags = memref.alloc() : memref<2xi1>
    memref.store %true, %flags[%c0] : memref<2xi1>
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
        args(%b : memref<?x8xf32>, %r : memref<?x8xf32>)
    memref.dealloc %b : memref<?x8xf32>
    memref.dealloc %flags : memref<2xi1>
    return %r : memref<?x8xf32>
  }
}

// -----

// The host must never read a model buffer: only kernels do.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%a: memref<?x8xf32>) kernel {
      gpu.return
    }
  }
  func.func @reads_on_host(%a: memref<?x8xf32>) -> f32 {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
        args(%a : memref<?x8xf32>)
    %v = memref.subview %a[0, 0] [1, 8] [1, 1] : memref<?x8xf32> to memref<1x8xf32, strided<[8, 1]>>
    // expected-error @+1 {{accesses device memory from host code}}
    %x = memref.load %v[%c0, %c0] : memref<1x8xf32, strided<[8, 1]>>
    return %x : f32
  }
}
