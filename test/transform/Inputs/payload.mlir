// The payload of tile-schedule.mlir's first RUN line: one scan over [T, 16]
// channels, and one attention of 4 query heads in 2 grouped-query groups
// (head dim 2, value head dim 3) with a window of 6 and 3 meta tokens.
func.func @scan(%u: tensor<?x16xf32>, %b: tensor<16xf32>, %al: tensor<16x4xf32>,
                %B: tensor<?x4xf32>, %ss: memref<16x4xf32>, %init: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %y = hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %ss outs(%init : tensor<?x16xf32>)
      : tensor<?x16xf32>, tensor<?x16xf32>, tensor<16xf32>, tensor<16x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<16xf32>, tensor<?x16xf32>, memref<16x4xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

func.func @attention(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x6xf32>,
                     %kc: memref<9x4xf32>, %vc: memref<9x6xf32>, %pos: index,
                     %init: tensor<?x12xf32>) -> tensor<?x12xf32> {
  %a = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<?x12xf32>)
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, window = 6 : i64, num_meta = 3 : i64, scale = 0.5 : f32}
      : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x6xf32>, memref<9x4xf32>, memref<9x6xf32> -> tensor<?x12xf32>
  return %a : tensor<?x12xf32>
}
