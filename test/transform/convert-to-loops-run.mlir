// The loops transform.structured.convert_to_loops makes of hymba.selective_scan
// and hymba.attention (their generateScalarImplementation) compute what
// hymba-lower-stateful-to-loops computes in both kernel forms: the same
// scan output and final ssm_state, the same attention output (keys before
// `position` read from the caches, a meta key and a window), printed by
// mlir-runner and compared digit for digit.
//
// DEFINE: %{lower} = hymba-opt --convert-linalg-to-loops --convert-scf-to-cf --math-expand-ops --convert-math-to-llvm --convert-math-to-libm --expand-strided-metadata --lower-affine --convert-arith-to-llvm --finalize-memref-to-llvm --convert-cf-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts
// RUN: hymba-opt %s -transform-preload-library=transform-library-paths=%S/convert-to-loops.mlir -transform-interpreter | %{lower} | %mlir-runner | grep -v base@ > %t.loops
// RUN: hymba-opt %s --hymba-lower-stateful-to-loops=kernel-form=cpu | %{lower} | %mlir-runner | grep -v base@ > %t.cpu
// RUN: hymba-opt %s --hymba-lower-stateful-to-loops=kernel-form=gpu | %{lower} | %mlir-runner | grep -v base@ > %t.gpu
// RUN: diff %t.loops %t.cpu
// RUN: diff %t.loops %t.gpu
// RUN: FileCheck %s < %t.loops

// Scan output [5, 4], state [4, 2], attention output [5, 12]: every value
// printed (no nan or inf).
// CHECK-COUNT-5: {{^ ?\[+(-?[0-9.e+-]+,? +){3}-?[0-9.e+-]+\]}}
// CHECK-COUNT-4: {{^ ?\[+-?[0-9.e+-]+, +-?[0-9.e+-]+\]}}
// CHECK-COUNT-5: {{^ ?\[+(-?[0-9.e+-]+,? +){11}-?[0-9.e+-]+\]}}
// CHECK-NOT: {{nan|inf}}

func.func private @printMemrefF32(memref<*xf32>)

func.func @fill(%m: memref<?x?xf32>, %seed: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = memref.dim %m, %c0 : memref<?x?xf32>
  %c = memref.dim %m, %c1 : memref<?x?xf32>
  scf.for %i = %c0 to %r step %c1 {
    scf.for %j = %c0 to %c step %c1 {
      %ii = arith.index_cast %i : index to i32
      %jj = arith.index_cast %j : index to i32
      %k = arith.constant 7 : i32
      %a = arith.muli %ii, %k : i32
      %b = arith.addi %a, %jj : i32
      %f = arith.sitofp %b : i32 to f32
      %s = math.sin %f : f32
      %v = arith.mulf %s, %seed : f32
      memref.store %v, %m[%i, %j] : memref<?x?xf32>
    }
  }
  return
}
func.func @scan() {
  %u = memref.alloc() : memref<5x4xf32>
  %dt = memref.alloc() : memref<5x4xf32>
  %z = memref.alloc() : memref<5x4xf32>
  %b = memref.alloc() : memref<5x2xf32>
  %c = memref.alloc() : memref<5x2xf32>
  %alog = memref.alloc() : memref<4x2xf32>
  %ss = memref.alloc() : memref<4x2xf32>
  %bias = memref.alloc() : memref<4xf32>
  %d = memref.alloc() : memref<4xf32>
  %out = memref.alloc() : memref<5x4xf32>
  %s1 = arith.constant 1.0 : f32
  %s2 = arith.constant 0.5 : f32
  %s3 = arith.constant 0.7 : f32
  %u2 = memref.cast %u : memref<5x4xf32> to memref<?x?xf32>
  %dt2 = memref.cast %dt : memref<5x4xf32> to memref<?x?xf32>
  %z2 = memref.cast %z : memref<5x4xf32> to memref<?x?xf32>
  %b2 = memref.cast %b : memref<5x2xf32> to memref<?x?xf32>
  %c2 = memref.cast %c : memref<5x2xf32> to memref<?x?xf32>
  %a2 = memref.cast %alog : memref<4x2xf32> to memref<?x?xf32>
  %ss2 = memref.cast %ss : memref<4x2xf32> to memref<?x?xf32>
  func.call @fill(%u2, %s1) : (memref<?x?xf32>, f32) -> ()
  func.call @fill(%dt2, %s2) : (memref<?x?xf32>, f32) -> ()
  func.call @fill(%z2, %s3) : (memref<?x?xf32>, f32) -> ()
  func.call @fill(%b2, %s2) : (memref<?x?xf32>, f32) -> ()
  func.call @fill(%c2, %s3) : (memref<?x?xf32>, f32) -> ()
  func.call @fill(%a2, %s2) : (memref<?x?xf32>, f32) -> ()
  func.call @fill(%ss2, %s2) : (memref<?x?xf32>, f32) -> ()
  %cst = arith.constant 0.1 : f32
  %cst2 = arith.constant 0.9 : f32
  linalg.fill ins(%cst : f32) outs(%bias : memref<4xf32>)
  linalg.fill ins(%cst2 : f32) outs(%d : memref<4xf32>)
  %ud = memref.cast %u : memref<5x4xf32> to memref<?x4xf32>
  %dtd = memref.cast %dt : memref<5x4xf32> to memref<?x4xf32>
  %zd = memref.cast %z : memref<5x4xf32> to memref<?x4xf32>
  %bd = memref.cast %b : memref<5x2xf32> to memref<?x2xf32>
  %cd = memref.cast %c : memref<5x2xf32> to memref<?x2xf32>
  %od = memref.cast %out : memref<5x4xf32> to memref<?x4xf32>
  hymba.selective_scan %ud, %dtd, %bias, %alog, %bd, %cd, %d, %zd, %ss outs(%od : memref<?x4xf32>)
      : memref<?x4xf32>, memref<?x4xf32>, memref<4xf32>, memref<4x2xf32>, memref<?x2xf32>,
        memref<?x2xf32>, memref<4xf32>, memref<?x4xf32>, memref<4x2xf32>
  %p = memref.cast %out : memref<5x4xf32> to memref<*xf32>
  func.call @printMemrefF32(%p) : (memref<*xf32>) -> ()
  %q = memref.cast %ss : memref<4x2xf32> to memref<*xf32>
  func.call @printMemrefF32(%q) : (memref<*xf32>) -> ()
  return
}

func.func @attention() {
  %q = memref.alloc() : memref<5x8xf32>
  %k = memref.alloc() : memref<5x4xf32>
  %v = memref.alloc() : memref<5x6xf32>
  %kc = memref.alloc() : memref<9x4xf32>
  %vc = memref.alloc() : memref<9x6xf32>
  %out = memref.alloc() : memref<5x12xf32>
  %s1 = arith.constant 1.0 : f32
  %s2 = arith.constant 0.5 : f32
  %s3 = arith.constant 0.7 : f32
  %q2 = memref.cast %q : memref<5x8xf32> to memref<?x?xf32>
  %k2 = memref.cast %k : memref<5x4xf32> to memref<?x?xf32>
  %v2 = memref.cast %v : memref<5x6xf32> to memref<?x?xf32>
  %kc2 = memref.cast %kc : memref<9x4xf32> to memref<?x?xf32>
  %vc2 = memref.cast %vc : memref<9x6xf32> to memref<?x?xf32>
  func.call @fill(%q2, %s1) : (memref<?x?xf32>, f32) -> ()
  func.call @fill(%k2, %s2) : (memref<?x?xf32>, f32) -> ()
  func.call @fill(%v2, %s3) : (memref<?x?xf32>, f32) -> ()
  func.call @fill(%kc2, %s3) : (memref<?x?xf32>, f32) -> ()
  func.call @fill(%vc2, %s1) : (memref<?x?xf32>, f32) -> ()
  %pos = arith.constant 6 : index
  %qd = memref.cast %q : memref<5x8xf32> to memref<?x8xf32>
  %kd = memref.cast %k : memref<5x4xf32> to memref<?x4xf32>
  %vd = memref.cast %v : memref<5x6xf32> to memref<?x6xf32>
  %od = memref.cast %out : memref<5x12xf32> to memref<?x12xf32>
  hymba.attention %qd, %kd, %vd, %kc, %vc at %pos outs(%od : memref<?x12xf32>)
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, window = 8 : i64, num_meta = 1 : i64, scale = 0.5 : f32}
      : memref<?x8xf32>, memref<?x4xf32>, memref<?x6xf32>, memref<9x4xf32>, memref<9x6xf32>
  %p = memref.cast %out : memref<5x12xf32> to memref<*xf32>
  func.call @printMemrefF32(%p) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  func.call @scan() : () -> ()
  func.call @attention() : () -> ()
  return
}
