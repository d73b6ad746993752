// RUN: hymba-opt %s -split-input-file -hymba-free-after-last-use | FileCheck %s

// Each buffer is freed right after its last use (through a view, inside a
// loop), before the next buffer is allocated, not at the end of the block.
// CHECK-LABEL: func @straight_line
// CHECK:         %[[A:.*]] = memref.alloc
// CHECK:         %[[V:.*]] = memref.subview %[[A]]
// CHECK:         linalg.fill {{.*}} outs(%[[V]]
// CHECK:         scf.for
// CHECK:           memref.load %[[A]]
// CHECK:         }
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK-NEXT:    %[[B:.*]] = memref.alloc
// CHECK-NEXT:    linalg.fill {{.*}} outs(%[[B]]
// CHECK-NEXT:    memref.copy %[[B]], %[[OUT:.*]] :
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK-NEXT:    %[[C:.*]] = memref.alloc
// CHECK-NEXT:    memref.dealloc %[[C]]
// CHECK-NEXT:    return
func.func @straight_line(%n: index, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  %a = memref.alloc(%n) : memref<?xf32>
  %v = memref.subview %a[0] [%n] [1] : memref<?xf32> to memref<?xf32, strided<[1]>>
  linalg.fill ins(%f : f32) outs(%v : memref<?xf32, strided<[1]>>)
  scf.for %i = %c0 to %n step %c1 {
    %x = memref.load %a[%i] : memref<?xf32>
    memref.store %x, %out[%i] : memref<?xf32>
  }
  %b = memref.alloc(%n) : memref<?xf32>
  linalg.fill ins(%f : f32) outs(%b : memref<?xf32>)
  memref.copy %b, %out : memref<?xf32> to memref<?xf32>
  %c = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %a : memref<?xf32>
  memref.dealloc %b : memref<?xf32>
  memref.dealloc %c : memref<?xf32>
  return
}

// -----

// An alias that an scf.if yields is followed to its later uses.
// CHECK-LABEL: func @yielded_alias
// CHECK:         %[[A:.*]] = memref.alloc
// CHECK:         %[[R:.*]] = scf.if
// CHECK:         %[[B:.*]] = memref.alloc
// CHECK:         memref.copy %[[R]], %[[B]]
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK:         memref.copy %[[B]]
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK-NEXT:    return
func.func @yielded_alias(%p: i1, %o: index, %out: memref<4xf32>) {
  %c4 = arith.constant 4 : index
  %a = memref.alloc() : memref<8xf32>
  %r = scf.if %p -> memref<4xf32, strided<[1], offset: ?>> {
    %s = memref.subview %a[%o] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1], offset: ?>>
    scf.yield %s : memref<4xf32, strided<[1], offset: ?>>
  } else {
    %s = memref.subview %a[%c4] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1], offset: ?>>
    scf.yield %s : memref<4xf32, strided<[1], offset: ?>>
  }
  %b = memref.alloc() : memref<4xf32>
  memref.copy %r, %b : memref<4xf32, strided<[1], offset: ?>> to memref<4xf32>
  memref.copy %b, %out : memref<4xf32> to memref<4xf32>
  memref.dealloc %a : memref<8xf32>
  memref.dealloc %b : memref<4xf32>
  return
}

// -----

// A buffer allocated in another block, or outside the function, stays
// freed where it was; an unused one is freed right after its allocation.
// CHECK-LABEL: func @other_blocks
// CHECK-SAME:    (%[[ARG:[a-z0-9]+]]: memref<4xf32>, %[[OUT:[a-z0-9]+]]: memref<4xf32>)
// CHECK:       ^bb1:
// CHECK-NEXT:    memref.copy %[[A:.*]], %[[OUT]]
// CHECK-NEXT:    %[[B:.*]] = memref.alloc
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK-NEXT:    memref.dealloc %[[ARG]]
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK-NEXT:    return
func.func @other_blocks(%arg: memref<4xf32>, %out: memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  cf.br ^bb1
^bb1:
  memref.copy %a, %out : memref<4xf32> to memref<4xf32>
  %b = memref.alloc() : memref<4xf32>
  memref.dealloc %arg : memref<4xf32>
  memref.dealloc %a : memref<4xf32>
  memref.dealloc %b : memref<4xf32>
  return
}
