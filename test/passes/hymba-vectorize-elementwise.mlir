// RUN: hymba-opt %s -split-input-file --hymba-vectorize-elementwise=vector-width=8 | FileCheck %s
// RUN: hymba-opt %s -split-input-file --hymba-vectorize-elementwise=vector-width=0 | FileCheck %s --check-prefix=OFF

// An RMS norm applied (the input, a per-row factor, a bf16 weight per
// column) on rows of 20: per row, the factor loaded and broadcast once; the
// body on vectors of 8 over columns [0, 16), the bf16 weight widened by
// bits; then the last 4 columns as scalars.
// CHECK-LABEL: func @norm_apply
// CHECK-SAME:    (%[[X:.*]]: memref<?x20xf32>, %[[F:.*]]: memref<?xf32>, %[[W:.*]]: memref<20xbf16>)
// CHECK:         %[[Y:.*]] = memref.alloc
// CHECK:         %[[ROWS:.+]] = memref.dim %[[Y]]
// CHECK:         scf.for %[[R:.*]] = %{{.*}} to %[[ROWS]]
// CHECK:           %[[FR:.*]] = memref.load %[[F]][%[[R]]] : memref<?xf32>
// CHECK:           %[[FV:.*]] = vector.broadcast %[[FR]] : f32 to vector<8xf32>
// CHECK:           %[[END:.*]] = arith.constant 16 : index
// CHECK:           %[[STEP:.*]] = arith.constant 8 : index
// CHECK:           scf.for %[[C:.*]] = %{{.*}} to %[[END]] step %[[STEP]]
// CHECK:             %[[XV:.*]] = vector.load %[[X]][%[[R]], %[[C]]] : memref<?x20xf32>, vector<8xf32>
// CHECK:             %[[WV:.*]] = vector.load %[[W]][%[[C]]] : memref<20xbf16>, vector<8xbf16>
// CHECK:             %[[N:.*]] = arith.mulf %[[XV]], %[[FV]] : vector<8xf32>
// CHECK:             %[[BITS:.*]] = arith.bitcast %[[WV]] : vector<8xbf16> to vector<8xi16>
// CHECK:             %[[WIDE:.*]] = arith.extui %[[BITS]] : vector<8xi16> to vector<8xi32>
// CHECK:             %[[SHIFTED:.*]] = arith.shli %[[WIDE]], %{{.*}} : vector<8xi32>
// CHECK:             %[[WF:.*]] = arith.bitcast %[[SHIFTED]] : vector<8xi32> to vector<8xf32>
// CHECK:             %[[P:.*]] = arith.mulf %[[N]], %[[WF]] : vector<8xf32>
// CHECK:             vector.store %[[P]], %[[Y]][%[[R]], %[[C]]] : memref<?x20xf32>, vector<8xf32>
// CHECK:           %[[FS:.*]] = memref.load %[[F]][%[[R]]] : memref<?xf32>
// CHECK:           %[[C20:.*]] = arith.constant 20 : index
// CHECK:           scf.for %[[T:.*]] = %{{.*}} to %[[C20]]
// CHECK:             %[[XS:.*]] = memref.load %[[X]][%[[R]], %[[T]]] : memref<?x20xf32>
// CHECK:             %[[WS:.*]] = memref.load %[[W]][%[[T]]] : memref<20xbf16>
// CHECK:             %[[NS:.*]] = arith.mulf %[[XS]], %[[FS]] : f32
// CHECK:             %[[WSF:.*]] = arith.extf %[[WS]] : bf16 to f32
// CHECK:             %[[PS:.*]] = arith.mulf %[[NS]], %[[WSF]] : f32
// CHECK:             memref.store %[[PS]], %[[Y]][%[[R]], %[[T]]] : memref<?x20xf32>
// CHECK-NOT:     linalg.generic
// OFF-LABEL: func @norm_apply
// OFF:         linalg.generic
func.func @norm_apply(%x: memref<?x20xf32>, %f: memref<?xf32>, %w: memref<20xbf16>) -> memref<?x20xf32> {
  %c0 = arith.constant 0 : index
  %rows = memref.dim %x, %c0 : memref<?x20xf32>
  %y = memref.alloc(%rows) : memref<?x20xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                                   affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %f, %w : memref<?x20xf32>, memref<?xf32>, memref<20xbf16>) outs(%y : memref<?x20xf32>) {
  ^bb0(%a: f32, %s: f32, %g: bf16, %o: f32):
    %n = arith.mulf %a, %s : f32
    %gw = arith.extf %g : bf16 to f32
    %r = arith.mulf %n, %gw : f32
    linalg.yield %r : f32
  }
  return %y : memref<?x20xf32>
}

// -----

// A residual add in place (the output is the first input), with a constant
// (splat) and a value from outside the body (broadcast); a strided input
// with a unit inner stride; rows of 16: no scalar columns.
// CHECK-LABEL: func @residual_in_place
// CHECK-SAME:    (%[[X:.*]]: memref<?x16xf32>, %[[K:.*]]: f32)
// CHECK:         %[[D:.*]] = memref.subview
// CHECK:         scf.for %[[R:.*]] =
// CHECK:           scf.for %[[C:.*]] =
// CHECK-DAG:         %[[XV:.*]] = vector.load %[[X]][%[[R]], %[[C]]] : memref<?x16xf32>, vector<8xf32>
// CHECK-DAG:         %[[DV:.*]] = vector.load %[[D]][%[[R]], %[[C]]] : memref<?x16xf32, strided<[40, 1], offset: 8>>, vector<8xf32>
// CHECK-DAG:         %[[KV:.*]] = vector.broadcast %[[K]] : f32 to vector<8xf32>
// CHECK-DAG:         %[[TWO:.*]] = arith.constant dense<2.000000e+00> : vector<8xf32>
// CHECK:             %[[S:.*]] = arith.mulf %[[DV]], %[[KV]] : vector<8xf32>
// CHECK:             %[[T:.*]] = arith.mulf %[[S]], %[[TWO]] : vector<8xf32>
// CHECK:             %[[SUM:.*]] = arith.addf %[[XV]], %[[T]] : vector<8xf32>
// CHECK:             vector.store %[[SUM]], %[[X]][%[[R]], %[[C]]]
// CHECK-NOT:       memref.load
// CHECK-NOT:     linalg.generic
func.func @residual_in_place(%x: memref<?x16xf32>, %k: f32) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x16xf32>
  %buf = memref.alloc(%n) : memref<?x40xf32>
  %d = memref.subview %buf[0, 8] [%n, 16] [1, 1] : memref<?x40xf32> to memref<?x16xf32, strided<[40, 1], offset: 8>>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>,
                                   affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %d : memref<?x16xf32>, memref<?x16xf32, strided<[40, 1], offset: 8>>) outs(%x : memref<?x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %two = arith.constant 2.0 : f32
    %s = arith.mulf %b, %k : f32
    %t = arith.mulf %s, %two : f32
    %r = arith.addf %a, %t : f32
    linalg.yield %r : f32
  }
  memref.dealloc %buf : memref<?x40xf32>
  return
}

// -----

// Math ops, a compare and a select; the body reads its output's old value,
// which is loaded like an input.
// CHECK-LABEL: func @gate_reads_output
// CHECK:         %[[Y:.*]] = memref.alloc
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             %[[OLD:.*]] = vector.load %[[Y]][
// CHECK:             math.exp %{{.*}} : vector<8xf32>
// CHECK:             arith.select %{{.*}} : vector<8xi1>, vector<8xf32>
// CHECK:             arith.addf %[[OLD]], %{{.*}} : vector<8xf32>
// CHECK:             vector.store
// CHECK-NOT:     linalg.generic
func.func @gate_reads_output(%u: memref<?x8xf32>) -> memref<?x8xf32> {
  %c0 = arith.constant 0 : index
  %n = memref.dim %u, %c0 : memref<?x8xf32>
  %y = memref.alloc(%n) : memref<?x8xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%u : memref<?x8xf32>) outs(%y : memref<?x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %zero = arith.constant 0.0 : f32
    %e = math.exp %a : f32
    %pos = arith.cmpf ogt, %a, %zero : f32
    %v = arith.select %pos, %e, %a : f32
    %r = arith.addf %o, %v : f32
    linalg.yield %r : f32
  }
  return %y : memref<?x8xf32>
}

// -----

// Left to convert-linalg-to-loops: an output that is a shifted view of an
// input (element 8 would be written before it is read), an output and an
// input that are two arguments (which may overlap), a body reading
// linalg.index, a row narrower than a vector, a dynamic width.
// CHECK-LABEL: func @left_alone
// CHECK-COUNT-5: linalg.generic
func.func @left_alone(%buf: memref<?x24xf32>, %z: memref<?x24xf32>, %narrow: memref<?x4xf32>,
                      %dyn: memref<?x?xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%buf : memref<?x24xf32>) outs(%z : memref<?x24xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }
  %in = memref.subview %buf[0, 0] [4, 16] [1, 1] : memref<?x24xf32> to memref<4x16xf32, strided<[24, 1]>>
  %out = memref.subview %buf[0, 8] [4, 16] [1, 1] : memref<?x24xf32> to memref<4x16xf32, strided<[24, 1], offset: 8>>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%in : memref<4x16xf32, strided<[24, 1]>>) outs(%out : memref<4x16xf32, strided<[24, 1], offset: 8>>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      outs(%z : memref<?x24xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i32
    %f = arith.sitofp %ii : i32 to f32
    linalg.yield %f : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      outs(%narrow : memref<?x4xf32>) {
  ^bb0(%o: f32):
    %r = arith.addf %o, %o : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      outs(%dyn : memref<?x?xf32>) {
  ^bb0(%o: f32):
    %r = arith.addf %o, %o : f32
    linalg.yield %r : f32
  }
  return
}
