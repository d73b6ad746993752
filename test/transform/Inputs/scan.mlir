// The payload of tile-scan-schedule.mlir's first RUN line: one scan over
// [T, 16] channels.
func.func @scan(%u: tensor<?x16xf32>, %b: tensor<16xf32>, %al: tensor<16x4xf32>,
                %B: tensor<?x4xf32>, %ss: memref<16x4xf32>, %init: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %y = hymba.selective_scan %u, %u, %b, %al, %B, %B, %b, %u, %ss outs(%init : tensor<?x16xf32>)
      : tensor<?x16xf32>, tensor<?x16xf32>, tensor<16xf32>, tensor<16x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<16xf32>, tensor<?x16xf32>, memref<16x4xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
