// RUN: hymba-opt %s -split-input-file -hymba-lower-dense-to-linalg | FileCheck %s

// A projection over int8 values interleaved by 4 (--compute=int8) multiplies
// x quantized per row and group of the weight's group size
// (passes/ActivationQuantization.h). x is viewed as [T, groups, group],
// zero-padded to whole groups, so the innermost loop of each generic stays
// within one group: the group maximum (the integer maximum of the sign-cleared
// bit patterns), the scales, then the values; the projection reads the values
// back as [T, K] and the scales per (t, k floordiv group).

// K = 12, groups of 8: padded to 16.
// CHECK-DAG: #[[ELEMENTS:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[GROUP:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[XSCALE:.+]] = affine_map<(d0, d1, d2) -> (d0, d2 floordiv 8)>
// CHECK-LABEL: func @padded
// CHECK-SAME:    %{{.+}}: memref<?xi8>, %[[X:[a-z0-9]+]]: tensor<?x12xf32>
// CHECK:         %[[PAD:.+]] = tensor.pad %[[X]] low[0, 0] high[0, 4]
// CHECK:         } : tensor<?x12xf32> to tensor<?x16xf32>
// CHECK:         %[[XG:.+]] = tensor.expand_shape %[[PAD]] {{\[}}[0], [1, 2]] output_shape [%{{.+}}, 2, 8] : tensor<?x16xf32> into tensor<?x2x8xf32>
// CHECK:         %[[BITS:.+]] = linalg.generic {indexing_maps = [#[[ELEMENTS]], #[[GROUP]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[XG]] : tensor<?x2x8xf32>) outs(%{{.+}} : tensor<?x2xi32>)
// CHECK:           %[[B:.+]] = arith.bitcast %{{.+}} : f32 to i32
// CHECK:           %[[MAG:.+]] = arith.andi %[[B]], %{{.+}} : i32
// CHECK:           arith.maxsi %{{.+}}, %[[MAG]] : i32
// CHECK:         %[[AMAX:.+]] = linalg.generic {{.+}} ins(%[[BITS]] : tensor<?x2xi32>) outs(%{{.+}} : tensor<?x2xf32>)
// CHECK:           arith.bitcast %{{.+}} : i32 to f32
// CHECK:         %[[SCALES:.+]] = linalg.generic {{.+}} ins(%[[AMAX]] : tensor<?x2xf32>)
// CHECK:           arith.divf
// CHECK:         %[[Q:.+]] = linalg.generic {indexing_maps = [#[[ELEMENTS]], #[[GROUP]], #[[ELEMENTS]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[XG]], %[[AMAX]] : tensor<?x2x8xf32>, tensor<?x2xf32>) outs(%{{.+}} : tensor<?x2x8xi8>)
// CHECK:           math.roundeven
// CHECK:           arith.fptosi %{{.+}} : f64 to i8
// CHECK:         %[[QROWS:.+]] = tensor.collapse_shape %[[Q]] {{\[}}[0], [1, 2]] : tensor<?x2x8xi8> into tensor<?x16xi8>
// CHECK:         %[[QX:.+]] = tensor.extract_slice %[[QROWS]][0, 0] [%{{.+}}, 12] [1, 1] : tensor<?x16xi8> to tensor<?x12xi8>
// CHECK:         linalg.generic {indexing_maps = [#{{.+}}, #[[XSCALE]], {{.+}}} ins(%[[QX]], %[[SCALES]], %{{.+}}, %{{.+}} : tensor<?x12xi8>, tensor<?x2xf32>,
func.func @padded(%p: memref<?xi8>, %x: tensor<?x12xf32>) -> tensor<?x6xf32> {
  %q = hymba.weight %p["w"] {offset = 0 : i64} : memref<?xi8> -> tensor<6x12xi8, #hymba.panels<4, interleave = 4>>
  %s = hymba.weight %p["w"] {offset = 128 : i64, scales} : memref<?xi8> -> tensor<6x2xbf16, #hymba.panels<4>>
  %w = hymba.dequantize %q, %s {group_size = 8 : i64} : tensor<6x12xi8, #hymba.panels<4, interleave = 4>>, tensor<6x2xbf16, #hymba.panels<4>> -> tensor<6x12xf32>
  %y = hymba.linear %x, %w : tensor<?x12xf32>, tensor<6x12xf32> -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}

// -----

// K = 16, groups of 8: whole groups, no padding and no slice.
// CHECK-LABEL: func @whole_groups
// CHECK-SAME:    %{{.+}}: memref<?xi8>, %[[X:[a-z0-9]+]]: tensor<?x16xf32>
// CHECK-NOT:     tensor.pad
// CHECK:         %[[XG:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2]] output_shape [%{{.+}}, 2, 8] : tensor<?x16xf32> into tensor<?x2x8xf32>
// CHECK:         %[[Q:.+]] = linalg.generic {{.+}} ins(%[[XG]], %{{.+}} : tensor<?x2x8xf32>, tensor<?x2xf32>) outs(%{{.+}} : tensor<?x2x8xi8>)
// CHECK:         %[[QX:.+]] = tensor.collapse_shape %[[Q]] {{\[}}[0], [1, 2]] : tensor<?x2x8xi8> into tensor<?x16xi8>
// CHECK-NOT:     tensor.extract_slice
// CHECK:         linalg.generic {{.+}} ins(%[[QX]], %{{.+}}, %{{.+}}, %{{.+}} : tensor<?x16xi8>, tensor<?x2xf32>,
func.func @whole_groups(%p: memref<?xi8>, %x: tensor<?x16xf32>) -> tensor<?x6xf32> {
  %q = hymba.weight %p["w"] {offset = 0 : i64} : memref<?xi8> -> tensor<6x16xi8, #hymba.panels<4, interleave = 4>>
  %s = hymba.weight %p["w"] {offset = 128 : i64, scales} : memref<?xi8> -> tensor<6x2xbf16, #hymba.panels<4>>
  %w = hymba.dequantize %q, %s {group_size = 8 : i64} : tensor<6x16xi8, #hymba.panels<4, interleave = 4>>, tensor<6x2xbf16, #hymba.panels<4>> -> tensor<6x16xf32>
  %y = hymba.linear %x, %w : tensor<?x16xf32>, tensor<6x16xf32> -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}
