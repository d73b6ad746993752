// RUN: hymba-opt %s -split-input-file --hymba-vectorize-row-reductions=vector-width=8 | FileCheck %s
// RUN: hymba-opt %s -split-input-file --hymba-vectorize-row-reductions=vector-width=0 | FileCheck %s --check-prefix=OFF

// A sum of squares over rows of 40: per row, 4 partial sums of 8 lanes over
// columns [0, 32) (the squares on vectors), their sum and lanes added, the
// last 8 columns one at a time, then the total added to the output element.
// CHECK-LABEL: func @sum_of_squares
// CHECK-SAME:    (%[[X:.*]]: memref<?x40xf32>, %[[S:.*]]: memref<?xf32>)
// CHECK-DAG:     %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : vector<8xf32>
// CHECK-DAG:     %[[ROWS:.+]] = memref.dim %[[X]]
// CHECK:         scf.for %[[R:.*]] = %{{.*}} to %[[ROWS]]
// CHECK:           %[[END:.*]] = arith.constant 32 : index
// CHECK:           %[[STEP:.*]] = arith.constant 32 : index
// CHECK:           %[[P:.*]]:4 = scf.for %[[COL:.*]] = %{{.*}} to %[[END]] step %[[STEP]] iter_args(%[[A0:.*]] = %[[ZERO]], %[[A1:.*]] = %[[ZERO]], %[[A2:.*]] = %[[ZERO]], %[[A3:.*]] = %[[ZERO]])
// CHECK:             %[[K0:.*]] = arith.constant 0 : index
// CHECK:             %[[COL0:.*]] = arith.addi %[[COL]], %[[K0]] : index
// CHECK:             %[[V0:.*]] = vector.load %[[X]][%[[R]], %[[COL0]]] : memref<?x40xf32>, vector<8xf32>
// CHECK:             %[[SQ0:.*]] = arith.mulf %[[V0]], %[[V0]] : vector<8xf32>
// CHECK:             %[[N0:.*]] = arith.addf %[[A0]], %[[SQ0]] : vector<8xf32>
// CHECK:             %[[C8:.*]] = arith.constant 8 : index
// CHECK:             %[[COL8:.*]] = arith.addi %[[COL]], %[[C8]] : index
// CHECK:             %[[V1:.*]] = vector.load %[[X]][%[[R]], %[[COL8]]]
// CHECK:             arith.addf %[[A1]], %{{.*}} : vector<8xf32>
// CHECK:             arith.constant 16 : index
// CHECK:             arith.addf %[[A2]], %{{.*}} : vector<8xf32>
// CHECK:             arith.constant 24 : index
// CHECK:             arith.addf %[[A3]], %{{.*}} : vector<8xf32>
// CHECK:             scf.yield %[[N0]], %{{.*}}, %{{.*}}, %{{.*}}
// CHECK:           %[[T01:.*]] = arith.addf %[[P]]#0, %[[P]]#1 : vector<8xf32>
// CHECK:           %[[T012:.*]] = arith.addf %[[T01]], %[[P]]#2 : vector<8xf32>
// CHECK:           %[[T:.*]] = arith.addf %[[T012]], %[[P]]#3 : vector<8xf32>
// CHECK:           %[[LANES:.*]] = vector.reduction <add>, %[[T]] fastmath<reassoc> : vector<8xf32> into f32
// CHECK:           %[[C40:.*]] = arith.constant 40 : index
// CHECK:           %[[TAIL:.*]] = scf.for %[[C:.*]] = %{{.*}} to %[[C40]] step %{{.*}} iter_args(%[[ACC:.*]] = %[[LANES]]) -> (f32)
// CHECK:             %[[E:.*]] = memref.load %[[X]][%[[R]], %[[C]]] : memref<?x40xf32>
// CHECK:             %[[ESQ:.*]] = arith.mulf %[[E]], %[[E]] : f32
// CHECK:             arith.addf %[[ACC]], %[[ESQ]] : f32
// CHECK:           %[[OLD:.*]] = memref.load %[[S]][%[[R]]]
// CHECK:           %[[NEW:.*]] = arith.addf %[[OLD]], %[[TAIL]] : f32
// CHECK:           memref.store %[[NEW]], %[[S]][%[[R]]]
// CHECK-NOT:     linalg.generic
// OFF-LABEL: func @sum_of_squares
// OFF:         linalg.generic
func.func @sum_of_squares(%x: memref<?x40xf32>, %s: memref<?xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x40xf32>) outs(%s : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %sum = arith.addf %acc, %sq : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// Two inputs and two outputs (the branch norms' sums), a constant in the
// body (splatted) and a value from outside it (broadcast); the sum on the
// right of the add. Rows of 16 hold two vectors: two partial sums each.
// CHECK-LABEL: func @two_sums
// CHECK-SAME:    (%[[A:.*]]: memref<?x16xf32>, %[[B:.*]]: memref<?x16xf32>, %[[F:.*]]: f32,
// CHECK:         scf.for
// CHECK:           scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:             %[[VA:.*]] = vector.load %[[A]]
// CHECK:             %[[VB:.*]] = vector.load %[[B]]
// CHECK:             %[[HALF:.*]] = arith.constant dense<5.000000e-01> : vector<8xf32>
// CHECK:             arith.mulf %[[VA]], %[[HALF]] : vector<8xf32>
// CHECK:             %[[FV:.*]] = vector.broadcast %[[F]] : f32 to vector<8xf32>
// CHECK:             arith.mulf %[[VB]], %[[FV]] : vector<8xf32>
// CHECK:           vector.reduction <add>
// CHECK:           vector.reduction <add>
// CHECK:           memref.store
// CHECK:           memref.store
// CHECK-NOT:     linalg.generic
func.func @two_sums(%a: memref<?x16xf32>, %b: memref<?x16xf32>, %f: f32, %sa: memref<?xf32>, %sb: memref<?xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>,
                                   affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%a, %b : memref<?x16xf32>, memref<?x16xf32>) outs(%sa, %sb : memref<?xf32>, memref<?xf32>) {
  ^bb0(%x: f32, %y: f32, %accA: f32, %accB: f32):
    %h = arith.constant 0.5 : f32
    %xh = arith.mulf %x, %h : f32
    %yf = arith.mulf %y, %f : f32
    %na = arith.addf %accA, %xh : f32
    %nb = arith.addf %yf, %accB : f32
    linalg.yield %na, %nb : f32, f32
  }
  return
}

// -----

// Left alone: a max (not a sum), a dynamic row width, a body that reads
// the accumulator elsewhere than in the final add, a sum of the
// accumulator with itself, a sum of another output's sum, a strided row
// (no vector loads), and rows narrower than a vector.
// CHECK-LABEL: func @not_row_sums
// CHECK-COUNT-7: linalg.generic
// CHECK-NOT:     vector.
func.func @not_row_sums(%x: memref<?x16xf32>, %y: memref<?x?xf32>, %s: memref<?xf32>, %s2: memref<?xf32>,
                        %z: memref<?x16xf32, strided<[32, 2]>>, %n: memref<?x4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x16xf32>) outs(%s : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%y : memref<?x?xf32>) outs(%s : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sum = arith.addf %acc, %a : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x16xf32>) outs(%s : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %p = arith.mulf %acc, %a : f32
    %sum = arith.addf %acc, %p : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x16xf32>) outs(%s : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sum = arith.addf %acc, %acc : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                                   affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x16xf32>) outs(%s, %s2 : memref<?xf32>, memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32, %acc2: f32):
    %s0 = arith.addf %acc, %a : f32
    %s1 = arith.addf %acc2, %s0 : f32
    linalg.yield %s0, %s1 : f32, f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%z : memref<?x16xf32, strided<[32, 2]>>) outs(%s : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sum = arith.addf %acc, %a : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%n : memref<?x4xf32>) outs(%s : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sum = arith.addf %acc, %a : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// A summand from outside the body (a count of the row's elements): the
// same vector in every step, the add's fast-math flags kept.
// CHECK-LABEL: func @count
// CHECK-SAME:    (%[[X:.*]]: memref<?x16xf32>, %[[S:.*]]: memref<?xf32>, %[[ONE:.*]]: f32)
// CHECK:           %[[V:.*]] = vector.broadcast %[[ONE]] : f32 to vector<8xf32>
// CHECK:           arith.addf %{{.*}}, %[[V]] fastmath<contract> : vector<8xf32>
// CHECK:           arith.addf %{{.*}}, %[[ONE]] fastmath<contract> : f32
// CHECK-NOT:     linalg.generic
func.func @count(%x: memref<?x16xf32>, %s: memref<?xf32>, %one: f32) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x16xf32>) outs(%s : memref<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sum = arith.addf %acc, %one fastmath<contract> : f32
    linalg.yield %sum : f32
  }
  return
}
