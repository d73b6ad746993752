// transform.structured.convert_to_loops on the Hymba ops: scf.for loops
// over each op's iteration domain (TilingInterface), and at each point the
// op's scalar implementation, which is the loop lowering's own body
// (passes/Lowering/): one time step of one scan channel, its state read
// from ssm_state and written back; one query row of each query head of one
// KV head of attention. No Hymba op is left.
//
// RUN: hymba-opt %S/Inputs/memref-forms.mlir -transform-preload-library=transform-library-paths=%s -transform-interpreter | FileCheck %s --implicit-check-not=hymba.

// Time outermost (the state of a channel flows from step to step through
// ssm_state), channels inside.
// CHECK-LABEL: func @scan
// CHECK-SAME:    %[[U:[^:]*]]: memref<?x4xf32>, %[[DT:[^:]*]]: memref<?x4xf32>, %[[BIAS:[^:]*]]: memref<4xbf16>, %[[ALOG:[^:]*]]: memref<4x2xf32>, %[[B:[^:]*]]: memref<?x2xf32>, %[[C:[^:]*]]: memref<?x2xf32>, %[[D:[^:]*]]: memref<4xbf16>, %[[Z:[^:]*]]: memref<?x4xf32>, %[[SS:[^:]*]]: memref<4x2xf32>, %[[OUT:[^:]*]]: memref<?x4xf32>)
// CHECK:         %[[ROWS:.*]] = memref.dim %[[U]]
// CHECK:         scf.for %[[T:.*]] = %{{.*}} to %[[ROWS]] step
// CHECK:           %[[CH:.*]] = arith.constant 4 : index
// CHECK:           scf.for %[[CC:.*]] = %{{.*}} to %[[CH]] step
// CHECK:             memref.load %[[BIAS]][%[[CC]]]
// CHECK:             memref.load %[[D]][%[[CC]]]
// CHECK:             %[[A0L:.*]] = memref.load %[[ALOG]][%[[CC]], %{{.*}}]
// CHECK:             %[[A0E:.*]] = math.exp %[[A0L]]
// CHECK:             %[[A0:.*]] = arith.negf %[[A0E]]
// CHECK:             %[[H0:.*]] = memref.load %[[SS]][%[[CC]], %[[N0:.*]]] :
// CHECK:             %[[H1:.*]] = memref.load %[[SS]][%[[CC]], %[[N1:.*]]] :
// CHECK:             memref.load %[[DT]][%[[T]], %[[CC]]]
// CHECK:             math.log1p
// CHECK:             %[[DELTA:.*]] = arith.select
// CHECK:             %[[UV:.*]] = memref.load %[[U]][%[[T]], %[[CC]]]
// CHECK:             %[[DU:.*]] = arith.mulf %[[DELTA]], %[[UV]]
// CHECK:             %[[B0:.*]] = memref.load %[[B]][%[[T]], %{{.*}}]
// CHECK:             memref.load %[[C]][%[[T]], %{{.*}}]
// CHECK:             %[[DA0:.*]] = arith.mulf %[[DELTA]], %[[A0]]
// CHECK:             %[[DECAY0:.*]] = math.exp %[[DA0]]
// CHECK:             %[[KEEP0:.*]] = arith.mulf %[[DECAY0]], %[[H0]]
// CHECK:             %[[IN0:.*]] = arith.mulf %[[DU]], %[[B0]]
// CHECK:             %[[NEW0:.*]] = arith.addf %[[KEEP0]], %[[IN0]]
// CHECK:             %[[KEEP1:.*]] = arith.mulf %{{.*}}, %[[H1]]
// CHECK:             %[[NEW1:.*]] = arith.addf %[[KEEP1]],
// CHECK:             memref.load %[[Z]][%[[T]], %[[CC]]]
// CHECK:             memref.store %{{.*}}, %[[OUT]][%[[T]], %[[CC]]]
// CHECK:             memref.store %[[NEW0]], %[[SS]][%[[CC]], %{{.*}}]
// CHECK:             memref.store %[[NEW1]], %[[SS]][%[[CC]], %{{.*}}]

// Query rows x KV heads; inside, the KV head's 2 query heads, each the
// (row, head) item of the CPU lowering: the output columns zeroed, an
// online-softmax walk over the meta key then the window (keys before
// `position` from the caches), the columns scaled by 1 / sum.
// CHECK-LABEL: func @attention
// CHECK-SAME:    %[[Q:[^:]*]]: memref<?x8xf32>, %[[K:[^:]*]]: memref<?x4xf32>, %[[V:[^:]*]]: memref<?x6xf32>, %[[KC:[^:]*]]: memref<9x4xf32>, %[[VC:[^:]*]]: memref<9x6xf32>, %[[POS:[^:]*]]: index, %[[AOUT:[^:]*]]: memref<?x12xf32>)
// CHECK:         %[[QROWS:.*]] = memref.dim %[[Q]]
// CHECK:         scf.for %[[R:.*]] = %{{.*}} to %[[QROWS]] step
// CHECK:           %[[KVH:.*]] = arith.constant 2 : index
// CHECK:           scf.for %[[G:.*]] = %{{.*}} to %[[KVH]] step
// CHECK:             %[[REP:.*]] = arith.constant 2 : index
// CHECK:             %[[FIRST:.*]] = arith.muli %[[G]], %[[REP]]
// CHECK:             scf.for %[[J:.*]] = %{{.*}} to %[[REP]] step
// CHECK:               %[[HEAD:.*]] = arith.addi %[[FIRST]], %[[J]]
// CHECK:               arith.addi %[[POS]], %[[R]]
// CHECK:               %[[THREE:.*]] = arith.constant 3 : index
// CHECK:               %[[OCOL:.*]] = arith.muli %[[HEAD]], %[[THREE]]
// CHECK:               scf.for
// CHECK:                 %[[ZC:.*]] = arith.addi %[[OCOL]],
// CHECK:                 memref.store %{{.*}}, %[[AOUT]][%[[R]], %[[ZC]]]
// CHECK:               scf.for {{.*}} iter_args
// CHECK:                 memref.load %[[Q]][%[[R]], %{{.*}}]
// CHECK:                 memref.load %[[K]]
// CHECK:                 memref.load %[[KC]]
// CHECK:                 math.exp
// CHECK:                 memref.load %[[V]]
// CHECK:                 memref.load %[[VC]]
// CHECK:               scf.for {{.*}} iter_args
// CHECK:               %[[INV:.*]] = arith.divf
// CHECK:               scf.for
// CHECK:                 %[[O:.*]] = memref.load %[[AOUT]][%[[R]], %[[OC:.*]]] :
// CHECK:                 %[[SCALED:.*]] = arith.mulf %[[O]], %[[INV]]
// CHECK:                 memref.store %[[SCALED]], %[[AOUT]][%[[R]], %[[OC]]]

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %ops = transform.structured.match ops{["hymba.selective_scan", "hymba.attention"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %loops = transform.structured.convert_to_loops %ops
        : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
