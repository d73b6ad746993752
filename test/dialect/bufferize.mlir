// RUN: hymba-opt %s -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s

// The destination-style ops under one-shot-bufferize: each becomes its
// memref form writing its init's buffer (here the buffer of a tensor.empty),
// inputs are read in place (column slices become subviews, no copies), and
// the results are the init buffers.
// CHECK-LABEL: func @mamba
// CHECK-SAME:    (%[[X:[^:]*]]: memref<?x24xf32>, %[[W:[^:]*]]: memref<12x1x4xbf16>, %[[CB:[^:]*]]: memref<12xbf16>, %[[CS:[^:]*]]: memref<3x12xf32>,
// CHECK-SAME:     %[[AL:[^:]*]]: memref<12x5xf32>, %[[B:[^:]*]]: memref<?x5xf32>, %[[SS:[^:]*]]: memref<12x5xf32>)
// CHECK-NOT:     memref.copy
// CHECK:         %[[XS:.*]] = memref.subview %[[X]][0, 0] [%{{.*}}, 12] [1, 1]
// CHECK:         %[[U:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x12xf32>
// CHECK:         hymba.causal_conv1d %[[XS]], %[[W]], %[[CB]], %[[CS]] outs(%[[U]] : memref<?x12xf32>) : memref<?x12xf32, strided<[24, 1]>>, memref<12x1x4xbf16>, memref<12xbf16>, memref<3x12xf32>{{$}}
// CHECK:         %[[Z:.*]] = memref.subview %[[X]][0, 12] [%{{.*}}, 12] [1, 1]
// CHECK:         %[[Y:.*]] = memref.alloc(%{{.*}}) {{.*}}: memref<?x12xf32>
// CHECK:         hymba.selective_scan %[[U]], %[[U]], %[[CB]], %[[AL]], %[[B]], %[[B]], %[[CB]], %[[Z]], %[[SS]] outs(%[[Y]] : memref<?x12xf32>)
// CHECK-NOT:     memref.copy
// CHECK:         return %[[Y]] : memref<?x12xf32>
func.func @mamba(%x: tensor<?x24xf32>, %w: tensor<12x1x4xbf16>, %cb: tensor<12xbf16>,
                 %cs: memref<3x12xf32>, %alog: tensor<12x5xf32>, %b: tensor<?x5xf32>,
                 %ss: memref<12x5xf32>) -> tensor<?x12xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x24xf32>
  %xs = tensor.extract_slice %x[0, 0] [%n, 12] [1, 1] : tensor<?x24xf32> to tensor<?x12xf32>
  %e0 = tensor.empty(%n) : tensor<?x12xf32>
  %u = hymba.causal_conv1d %xs, %w, %cb, %cs outs(%e0 : tensor<?x12xf32>)
      : tensor<?x12xf32>, tensor<12x1x4xbf16>, tensor<12xbf16>, memref<3x12xf32> -> tensor<?x12xf32>
  %z = tensor.extract_slice %x[0, 12] [%n, 12] [1, 1] : tensor<?x24xf32> to tensor<?x12xf32>
  %e1 = tensor.empty(%n) : tensor<?x12xf32>
  %y = hymba.selective_scan %u, %u, %cb, %alog, %b, %b, %cb, %z, %ss outs(%e1 : tensor<?x12xf32>)
      : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xbf16>, tensor<12x5xf32>, tensor<?x5xf32>,
        tensor<?x5xf32>, tensor<12xbf16>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return %y : tensor<?x12xf32>
}

// An init that is still read later is not overwritten: the op writes a
// fresh buffer instead, without copying the init into it first (the op
// writes every element and never reads its init).
// CHECK-LABEL: func @attention_into_live_init
// CHECK-SAME:    %[[INIT:[^:]*]]: memref<?x12xf32>)
// CHECK-NOT:     memref.copy
// CHECK:         %[[FRESH:.*]] = memref.alloc
// CHECK:         hymba.attention {{.*}} outs(%[[FRESH]] : memref<?x12xf32>)
// CHECK:         return %[[FRESH]], %[[INIT]]
func.func @attention_into_live_init(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>,
                                    %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %pos: index,
                                    %init: tensor<?x12xf32>) -> (tensor<?x12xf32>, tensor<?x12xf32>) {
  %a = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<?x12xf32>)
      {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32}
      : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return %a, %init : tensor<?x12xf32>, tensor<?x12xf32>
}

// The KV-cache write reads its key and value in place (column slices of
// one projection become subviews, no copies) and writes only the caches.
// CHECK-LABEL: func @kv_cache_write
// CHECK-SAME:    (%[[KV:[^:]*]]: memref<?x6xf32>, %[[KC:[^:]*]]: memref<5x2xf32>, %[[VC:[^:]*]]: memref<5x4xf32>, %[[POS:[^:]*]]: index)
// CHECK-NOT:     memref.copy
// CHECK:         %[[K:.*]] = memref.subview %[[KV]][0, 0] [%{{.*}}, 2] [1, 1]
// CHECK:         %[[V:.*]] = memref.subview %[[KV]][0, 2] [%{{.*}}, 4] [1, 1]
// CHECK:         hymba.kv_cache_write %[[K]], %[[V]] into %[[KC]], %[[VC]] at %[[POS]] {num_meta = 2 : i64, window = 3 : i64} : memref<?x2xf32, strided<[6, 1]>>, memref<?x4xf32, strided<[6, 1], offset: 2>>, memref<5x2xf32>, memref<5x4xf32>{{$}}
// CHECK-NOT:     memref.copy
func.func @kv_cache_write(%kv: tensor<?x6xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %pos: index) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %kv, %c0 : tensor<?x6xf32>
  %k = tensor.extract_slice %kv[0, 0] [%n, 2] [1, 1] : tensor<?x6xf32> to tensor<?x2xf32>
  %v = tensor.extract_slice %kv[0, 2] [%n, 4] [1, 1] : tensor<?x6xf32> to tensor<?x4xf32>
  hymba.kv_cache_write %k, %v into %kc, %vc at %pos {window = 3 : i64, num_meta = 2 : i64}
      : tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32>
  return
}
