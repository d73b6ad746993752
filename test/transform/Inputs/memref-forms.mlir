// The memref forms (after one-shot-bufferize) of a selective scan (4
// channels, d_state 2) and of an attention (4 query heads in 2 KV heads,
// query/key head dim 2, value head dim 3, one meta token, a window of 8).
func.func @scan(%u: memref<?x4xf32>, %dt: memref<?x4xf32>, %bias: memref<4xbf16>,
                %alog: memref<4x2xf32>, %b: memref<?x2xf32>, %c: memref<?x2xf32>,
                %d: memref<4xbf16>, %z: memref<?x4xf32>, %ss: memref<4x2xf32>,
                %out: memref<?x4xf32>) {
  hymba.selective_scan %u, %dt, %bias, %alog, %b, %c, %d, %z, %ss outs(%out : memref<?x4xf32>)
      : memref<?x4xf32>, memref<?x4xf32>, memref<4xbf16>, memref<4x2xf32>, memref<?x2xf32>,
        memref<?x2xf32>, memref<4xbf16>, memref<?x4xf32>, memref<4x2xf32>
  return
}

func.func @attention(%q: memref<?x8xf32>, %k: memref<?x4xf32>, %v: memref<?x6xf32>,
                     %kc: memref<9x4xf32>, %vc: memref<9x6xf32>, %pos: index,
                     %out: memref<?x12xf32>) {
  hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%out : memref<?x12xf32>)
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, window = 8 : i64, num_meta = 1 : i64, scale = 0.5 : f32}
      : memref<?x8xf32>, memref<?x4xf32>, memref<?x6xf32>, memref<9x4xf32>, memref<9x6xf32>
  return
}
