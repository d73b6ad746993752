// A head tile of hymba.attention becomes the tile op's num_kv_heads, so it
// must be static: a tile size that does not divide the KV heads (here 2 of
// 3, whose last tile is 1 head) is refused with a message, not miscompiled.
//
// RUN: hymba-opt %s -transform-interpreter -verify-diagnostics

func.func @attention(%q: tensor<?x6xf32>, %k: tensor<?x6xf32>, %v: tensor<?x9xf32>,
                     %kc: memref<9x6xf32>, %vc: memref<9x9xf32>, %pos: index,
                     %init: tensor<?x9xf32>) -> tensor<?x9xf32> {
  // expected-error @below {{is tiled along heads with a static tile size only (one that divides num_kv_heads)}}
  // expected-error @below {{to tile operation}}
  // expected-error @below {{failed to generate tiling loops}}
  // expected-note @below {{when applied to this op}}
  %a = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<?x9xf32>)
      {num_heads = 3 : i64, num_kv_heads = 3 : i64, window = 0 : i64, num_meta = 0 : i64, scale = 0.5 : f32}
      : tensor<?x6xf32>, tensor<?x6xf32>, tensor<?x9xf32>, memref<9x6xf32>, memref<9x9xf32> -> tensor<?x9xf32>
  return %a : tensor<?x9xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %a = transform.structured.match ops{["hymba.attention"]} in %root
        : (!transform.any_op) -> !transform.any_op
    // expected-error @below {{transform.structured.tile_using_forall failed to apply}}
    %t, %f = transform.structured.tile_using_forall %a tile_sizes [0, 2]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
