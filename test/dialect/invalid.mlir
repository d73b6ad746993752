// RUN: hymba-opt %s -split-input-file -verify-diagnostics
// One case per verifier rule of every Hymba op.

func.func @case0(%p: memref<?xi8>) {
  // expected-error @+1 {{needs a non-empty checkpoint tensor name}}
  %0 = hymba.weight %p[""] : memref<?xi8> -> tensor<4xf32>
  return
}

// -----

func.func @case1(%p: memref<?xi8>) {
  // expected-error @+1 {{result must have a static shape}}
  %0 = hymba.weight %p["w"] : memref<?xi8> -> tensor<?xf32>
  return
}

// -----

func.func @panel_rank(%p: memref<?xi8>) {
  // expected-error @+1 {{only a [out, in] matrix can be stored in panels}}
  %0 = hymba.weight %p["w"] : memref<?xi8> -> tensor<4xf32, #hymba.panels<8>>
  return
}

// -----

func.func @panel_width(%p: memref<?xi8>) {
  // expected-error @+1 {{panel width must be positive, got 0}}
  %0 = hymba.weight %p["w"] : memref<?xi8> -> tensor<4x4xf32, #hymba.panels<0>>
  return
}

// -----

func.func @scales_type(%p: memref<?xi8>) {
  // expected-error @+1 {{scales of a quantized tensor must be a bf16 matrix, got 'tensor<4x4xf32>'}}
  %0 = hymba.weight %p["w"] {scales} : memref<?xi8> -> tensor<4x4xf32>
  return
}

// -----

func.func @quantized_rank(%p: memref<?xi8>) {
  // expected-error @+1 {{quantized values must be an [out, in] matrix}}
  %0 = hymba.weight %p["w"] : memref<?xi8> -> tensor<4xi8>
  return
}

// -----

func.func @i4_odd_panel(%p: memref<?xi8>) {
  // expected-error @+1 {{i4 panels pack two lanes per byte: the panel width must be even, got 5}}
  %0 = hymba.weight %p["w"] : memref<?xi8> -> tensor<4x4xi4, #hymba.panels<5>>
  return
}

// -----

func.func @dequantize_group(%q: tensor<4x8xi8>, %s: tensor<4x1xbf16>) {
  // expected-error @+1 {{group_size must be positive, got 0}}
  %0 = hymba.dequantize %q, %s {group_size = 0 : i64} : tensor<4x8xi8>, tensor<4x1xbf16> -> tensor<4x8xf32>
  return
}

// -----

func.func @dequantize_scales_shape(%q: tensor<4x40xi8>, %s: tensor<4x1xbf16>) {
  // expected-error @+1 {{scales must be [4, 2] (one per row and group of 32 inputs), got 'tensor<4x1xbf16>'}}
  %0 = hymba.dequantize %q, %s {group_size = 32 : i64} : tensor<4x40xi8>, tensor<4x1xbf16> -> tensor<4x40xf32>
  return
}

// -----

func.func @dequantize_interleaved_scales(%q: tensor<4x32xi8, #hymba.panels<16, interleave = 4>>, %s: tensor<4x1xbf16, #hymba.panels<16, interleave = 4>>) {
  // expected-error @+1 {{scales cannot be interleaved along K}}
  %0 = hymba.dequantize %q, %s {group_size = 32 : i64} : tensor<4x32xi8, #hymba.panels<16, interleave = 4>>, tensor<4x1xbf16, #hymba.panels<16, interleave = 4>> -> tensor<4x32xf32>
  return
}

// -----

func.func @dequantize_runs_straddle_groups(%q: tensor<4x36xi8, #hymba.panels<16, interleave = 4>>, %s: tensor<4x6xbf16, #hymba.panels<16>>) {
  // expected-error @+1 {{values interleaved by 4 along K need a group size that is a multiple of it, got 6}}
  %0 = hymba.dequantize %q, %s {group_size = 6 : i64} : tensor<4x36xi8, #hymba.panels<16, interleave = 4>>, tensor<4x6xbf16, #hymba.panels<16>> -> tensor<4x36xf32>
  return
}

// -----

func.func @dequantize_panel_widths(%q: tensor<4x32xi8, #hymba.panels<16>>, %s: tensor<4x1xbf16, #hymba.panels<32>>) {
  // expected-error @+1 {{values and scales must share one storage encoding}}
  %0 = hymba.dequantize %q, %s {group_size = 32 : i64} : tensor<4x32xi8, #hymba.panels<16>>, tensor<4x1xbf16, #hymba.panels<32>> -> tensor<4x32xf32>
  return
}

// -----

func.func @dequantize_encoding(%q: tensor<4x8xi8, #hymba.panels<16>>, %s: tensor<4x1xbf16>) {
  // expected-error @+1 {{values and scales must share one storage encoding}}
  %0 = hymba.dequantize %q, %s {group_size = 8 : i64} : tensor<4x8xi8, #hymba.panels<16>>, tensor<4x1xbf16> -> tensor<4x8xf32>
  return
}

// -----

func.func @dequantize_result(%q: tensor<4x8xi8>, %s: tensor<4x1xbf16>) {
  // expected-error @+1 {{result must be the plain f32 [out, in] tensor 4, 8, got 'tensor<8x4xf32>'}}
  %0 = hymba.dequantize %q, %s {group_size = 8 : i64} : tensor<4x8xi8>, tensor<4x1xbf16> -> tensor<8x4xf32>
  return
}

// -----

func.func @dequantize_parts(%p: memref<?xi8>) {
  %q = hymba.weight %p["w"] : memref<?xi8> -> tensor<4x8xi8>
  %s = hymba.weight %p["w"] : memref<?xi8> -> tensor<4x1xbf16>
  // expected-error @+1 {{scales come from a weight not marked `scales`}}
  %0 = hymba.dequantize %q, %s {group_size = 8 : i64} : tensor<4x8xi8>, tensor<4x1xbf16> -> tensor<4x8xf32>
  return
}

// -----

func.func @dequantize_values_type(%q: tensor<4x8xi16>, %s: tensor<4x1xbf16>) {
  // expected-error @+1 {{operand #0 must be 2D tensor of 8-bit signless integer or 4-bit signless integer values}}
  %0 = hymba.dequantize %q, %s {group_size = 8 : i64} : tensor<4x8xi16>, tensor<4x1xbf16> -> tensor<4x8xf32>
  return
}

// -----

func.func @foreign_encoding(%p: memref<?xi8>) {
  // expected-error @+1 {{result encoding must be #hymba.panels, got "rows"}}
  %0 = hymba.weight %p["w"] : memref<?xi8> -> tensor<4x4xf32, "rows">
  return
}

// -----

func.func @case2(%p: memref<?xi8>) {
  // expected-error @+1 {{offset must be non-negative}}
  %0 = hymba.weight %p["w"] {offset = -64 : i64} : memref<?xi8> -> tensor<4xf32>
  return
}

// -----

func.func @case3(%s: memref<?xi8>) {
  // expected-error @+1 {{needs a non-empty state buffer name}}
  %0 = hymba.state_buffer %s[""] : memref<?xi8> -> memref<4x4xf32>
  return
}

// -----

func.func @case4(%s: memref<?xi8>) {
  // expected-error @+1 {{state buffers must have a static shape}}
  %0 = hymba.state_buffer %s["x"] : memref<?xi8> -> memref<?x4xf32>
  return
}

// -----

func.func @case5(%s: memref<?xi8>) {
  // expected-error @+1 {{offset must be non-negative}}
  %0 = hymba.state_buffer %s["x"] {offset = -1 : i64} : memref<?xi8> -> memref<4x4xf32>
  return
}

// -----

func.func @case6(%t: tensor<10x4xf32>, %i: tensor<3xi32>) {
  // expected-error @+1 {{result row count is 2 but must be 3 (one row per id)}}
  %0 = hymba.embed %t[%i] : tensor<10x4xf32>, tensor<3xi32> -> tensor<2x4xf32>
  return
}

// -----

func.func @case7(%t: tensor<10x4xf32>, %i: tensor<?xi32>) {
  // expected-error @+1 {{result width is 5 but must be 4 (the embedding width)}}
  %0 = hymba.embed %t[%i] : tensor<10x4xf32>, tensor<?xi32> -> tensor<?x5xf32>
  return
}

// -----

func.func @case8(%m: tensor<3x4xf32>, %x: tensor<?x5xf32>) {
  // expected-error @+1 {{input width is 5 but must be 4 (the meta-token width)}}
  %0 = hymba.prepend_meta %m, %x : tensor<3x4xf32>, tensor<?x5xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @case9(%m: tensor<3x4xf32>, %x: tensor<?x4xf32>) {
  // expected-error @+1 {{result width is 6 but must be 4 (the meta-token width)}}
  %0 = hymba.prepend_meta %m, %x : tensor<3x4xf32>, tensor<?x4xf32> -> tensor<?x6xf32>
  return
}

// -----

func.func @case10(%m: tensor<3x4xf32>, %x: tensor<2x4xf32>) {
  // expected-error @+1 {{result row count is 4 but must be 5 (meta rows plus input rows)}}
  %0 = hymba.prepend_meta %m, %x : tensor<3x4xf32>, tensor<2x4xf32> -> tensor<4x4xf32>
  return
}

// -----

func.func @case11(%x: tensor<?x4xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{epsilon must be positive}}
  %0 = hymba.rms_norm %x, %w {epsilon = 0.0 : f32} : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @case12(%x: tensor<?x4xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{result type must equal the input type}}
  %0 = hymba.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : tensor<?x4xf32>, tensor<4xf32> -> tensor<3x4xf32>
  return
}

// -----

func.func @case13(%x: tensor<?x4xf32>, %w: tensor<5xf32>) {
  // expected-error @+1 {{weight length is 5 but must be 4 (the normalised width)}}
  %0 = hymba.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : tensor<?x4xf32>, tensor<5xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @case14(%x: tensor<?x4xf32>, %w: tensor<6x5xf32>) {
  // expected-error @+1 {{weight input width (dim 1) is 5 but must be 4 (the input width)}}
  %0 = hymba.linear %x, %w : tensor<?x4xf32>, tensor<6x5xf32> -> tensor<?x6xf32>
  return
}

// -----

func.func @case15(%x: tensor<2x4xf32>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{result row count is 3 but must be 2 (one row per input row)}}
  %0 = hymba.linear %x, %w : tensor<2x4xf32>, tensor<6x4xf32> -> tensor<3x6xf32>
  return
}

// -----

func.func @case16(%x: tensor<?x4xf32>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{result width is 7 but must be 6 (the weight's output rows)}}
  %0 = hymba.linear %x, %w : tensor<?x4xf32>, tensor<6x4xf32> -> tensor<?x7xf32>
  return
}

// -----

func.func @case17(%x: tensor<?x4xf32>, %w: tensor<6x4xi8>) {
  // expected-error @+1 {{operand #1 must be 2D tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %0 = hymba.linear %x, %w : tensor<?x4xf32>, tensor<6x4xi8> -> tensor<?x6xf32>
  return
}

// -----

func.func @case18(%x: tensor<?x6xf32>, %p: index) {
  // expected-error @+1 {{head_dim must be positive and even, got 3}}
  %0 = hymba.rope %x at %p {head_dim = 3 : i64, base = 10000.0 : f64} : tensor<?x6xf32> -> tensor<?x6xf32>
  return
}

// -----

func.func @case19(%x: tensor<?x6xf32>, %p: index) {
  // expected-error @+1 {{input width 6 is not a multiple of head_dim 4}}
  %0 = hymba.rope %x at %p {head_dim = 4 : i64, base = 10000.0 : f64} : tensor<?x6xf32> -> tensor<?x6xf32>
  return
}

// -----

func.func @case20(%x: tensor<?x6xf32>, %p: index) {
  // expected-error @+1 {{base must be greater than 1}}
  %0 = hymba.rope %x at %p {head_dim = 2 : i64, base = 0.5 : f64} : tensor<?x6xf32> -> tensor<?x6xf32>
  return
}

// -----

func.func @case21(%x: tensor<?x6xf32>, %p: index) {
  // expected-error @+1 {{result type must equal the input type}}
  %0 = hymba.rope %x at %p {head_dim = 2 : i64, base = 10000.0 : f64} : tensor<?x6xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @case22(%x: tensor<?x4xf32>, %g: tensor<7x4xf32>, %u: tensor<7x4xf32>, %d: tensor<4x7xf32>, %u2: tensor<8x4xf32>) {
  // expected-error @+1 {{gate and up weights must have the same shape}}
  %0 = hymba.swiglu_mlp %x, %g, %u2, %d : tensor<?x4xf32>, tensor<7x4xf32>, tensor<8x4xf32>, tensor<4x7xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @case23(%x: tensor<?x4xf32>, %g: tensor<7x5xf32>, %d: tensor<4x7xf32>) {
  // expected-error @+1 {{gate input width (dim 1) is 5 but must be 4 (the input width)}}
  %0 = hymba.swiglu_mlp %x, %g, %g, %d : tensor<?x4xf32>, tensor<7x5xf32>, tensor<7x5xf32>, tensor<4x7xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @case24(%x: tensor<?x4xf32>, %g: tensor<7x4xf32>, %u: tensor<7x4xf32>, %d: tensor<5x7xf32>) {
  // expected-error @+1 {{down output rows (dim 0) is 5 but must be 4 (the input width)}}
  %0 = hymba.swiglu_mlp %x, %g, %u, %d : tensor<?x4xf32>, tensor<7x4xf32>, tensor<7x4xf32>, tensor<5x7xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @case25(%x: tensor<?x4xf32>, %g: tensor<7x4xf32>, %u: tensor<7x4xf32>, %d: tensor<4x6xf32>) {
  // expected-error @+1 {{down input width (dim 1) is 6 but must be 7 (the intermediate width)}}
  %0 = hymba.swiglu_mlp %x, %g, %u, %d : tensor<?x4xf32>, tensor<7x4xf32>, tensor<7x4xf32>, tensor<4x6xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @case26(%x: tensor<?x4xf32>, %g: tensor<7x4xf32>, %u: tensor<7x4xf32>, %d: tensor<4x7xf32>) {
  // expected-error @+1 {{result type must equal the input type}}
  %0 = hymba.swiglu_mlp %x, %g, %u, %d : tensor<?x4xf32>, tensor<7x4xf32>, tensor<7x4xf32>, tensor<4x7xf32> -> tensor<3x4xf32>
  return
}

// -----

func.func @case27(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{num_heads and num_kv_heads must be positive}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<?x12xf32>) {num_heads = 0 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case28(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{num_heads (3) must be a multiple of num_kv_heads (2)}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<?x12xf32>) {num_heads = 3 : i64, num_kv_heads = 2 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case29(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{window must be 0 (global) or positive, got -1}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<?x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = -1 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case30(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{num_meta must be non-negative}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<?x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = -1 : i64, scale = 0.5 : f32} : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case31(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{scale must be positive}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<?x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.0 : f32} : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case32(%q: tensor<?x7xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{query width 7 is not divisible by 3 heads}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<?x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<?x7xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case33(%q: tensor<?x6xf32>, %k: tensor<?x3xf32>, %v: tensor<?x4xf32>, %kc: memref<5x3xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{key head dim is 3 but must be 2 (the query head dim)}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<?x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<?x6xf32>, tensor<?x3xf32>, tensor<?x4xf32>, memref<5x3xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case34(%q: tensor<3x6xf32>, %k: tensor<4x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<3x12xf32>) {
  // expected-error @+1 {{key row count is 4 but must be 3 (one key per query row)}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<3x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<3x6xf32>, tensor<4x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<3x12xf32>
  return
}

// -----

func.func @case35(%q: tensor<3x6xf32>, %k: tensor<3x2xf32>, %v: tensor<4x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<3x12xf32>) {
  // expected-error @+1 {{value row count is 4 but must be 3 (one value per query row)}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<3x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<3x6xf32>, tensor<3x2xf32>, tensor<4x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<3x12xf32>
  return
}

// -----

func.func @case36(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x4xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{k_cache width is 4 but must be 2 (the key width)}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<?x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x4xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case37(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x2xf32>, %p: index, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{v_cache width is 2 but must be 4 (the value width)}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<?x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x2xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case38(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<6x4xf32>, %p: index, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{v_cache rows is 6 but must be 5 (the k_cache rows)}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<?x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<6x4xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case39(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{k_cache rows is 5 but must be 6 (num_meta + window for a sliding-window ring)}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<?x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 4 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case40(%q: tensor<3x6xf32>, %k: tensor<3x2xf32>, %v: tensor<3x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<2x12xf32>) {
  // expected-error @+1 {{init row count is 2 but must be 3 (one row per query row)}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<2x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<3x6xf32>, tensor<3x2xf32>, tensor<3x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<2x12xf32>
  return
}

// -----

func.func @case41(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<?x6xf32>) {
  // expected-error @+1 {{init width is 6 but must be 12 (num_heads * value head dim)}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<?x6xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x6xf32>
  return
}

// -----

func.func @case42(%k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index) {
  // expected-error @+1 {{window must be 0 (global) or positive, got -2}}
  hymba.kv_cache_write %k, %v into %kc, %vc at %p {window = -2 : i64, num_meta = 2 : i64} : tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32>
  return
}

// -----

func.func @case43(%k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index) {
  // expected-error @+1 {{num_meta must be non-negative}}
  hymba.kv_cache_write %k, %v into %kc, %vc at %p {window = 3 : i64, num_meta = -2 : i64} : tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32>
  return
}

// -----

func.func @case44(%k: tensor<2x2xf32>, %v: tensor<3x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index) {
  // expected-error @+1 {{value row count is 3 but must be 2 (the key row count)}}
  hymba.kv_cache_write %k, %v into %kc, %vc at %p {window = 3 : i64, num_meta = 2 : i64} : tensor<2x2xf32>, tensor<3x4xf32>, memref<5x2xf32>, memref<5x4xf32>
  return
}

// -----

func.func @case45(%k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x3xf32>, %vc: memref<5x4xf32>, %p: index) {
  // expected-error @+1 {{k_cache width is 3 but must be 2 (the key width)}}
  hymba.kv_cache_write %k, %v into %kc, %vc at %p {window = 3 : i64, num_meta = 2 : i64} : tensor<?x2xf32>, tensor<?x4xf32>, memref<5x3xf32>, memref<5x4xf32>
  return
}

// -----

func.func @case46(%k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x5xf32>, %p: index) {
  // expected-error @+1 {{v_cache width is 5 but must be 4 (the value width)}}
  hymba.kv_cache_write %k, %v into %kc, %vc at %p {window = 3 : i64, num_meta = 2 : i64} : tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x5xf32>
  return
}

// -----

func.func @case47(%k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<4x4xf32>, %p: index) {
  // expected-error @+1 {{v_cache rows is 4 but must be 5 (the k_cache rows)}}
  hymba.kv_cache_write %k, %v into %kc, %vc at %p {window = 3 : i64, num_meta = 2 : i64} : tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<4x4xf32>
  return
}

// -----

func.func @case48(%k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index) {
  // expected-error @+1 {{k_cache rows is 5 but must be 4 (num_meta + window for a sliding-window ring)}}
  hymba.kv_cache_write %k, %v into %kc, %vc at %p {window = 2 : i64, num_meta = 2 : i64} : tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32>
  return
}

// -----

func.func @case49(%x: tensor<?x12xf32>, %w: tensor<11x1x4xf32>, %b: tensor<12xf32>, %s: memref<3x12xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{weight channels (dim 0) is 11 but must be 12 (the input width)}}
  %0 = hymba.causal_conv1d %x, %w, %b, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<11x1x4xf32>, tensor<12xf32>, memref<3x12xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case50(%x: tensor<?x12xf32>, %w: tensor<12x2x4xf32>, %b: tensor<12xf32>, %s: memref<3x12xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{weight dim 1 is 2 but must be 1 (depthwise conv)}}
  %0 = hymba.causal_conv1d %x, %w, %b, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<12x2x4xf32>, tensor<12xf32>, memref<3x12xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case51(%x: tensor<?x12xf32>, %w: tensor<12x1x?xf32>, %b: tensor<12xf32>, %s: memref<3x12xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{weight kernel size (dim 2) must be a static extent >= 1}}
  %0 = hymba.causal_conv1d %x, %w, %b, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<12x1x?xf32>, tensor<12xf32>, memref<3x12xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case52(%x: tensor<?x12xf32>, %w: tensor<12x1x4xf32>, %b: tensor<13xf32>, %s: memref<3x12xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{bias length is 13 but must be 12 (the input width)}}
  %0 = hymba.causal_conv1d %x, %w, %b, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<12x1x4xf32>, tensor<13xf32>, memref<3x12xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case53(%x: tensor<?x12xf32>, %w: tensor<12x1x4xf32>, %b: tensor<12xf32>, %s: memref<4x12xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{conv_state rows is 4 but must be 3 (kernel size - 1)}}
  %0 = hymba.causal_conv1d %x, %w, %b, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<12x1x4xf32>, tensor<12xf32>, memref<4x12xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case54(%x: tensor<?x12xf32>, %w: tensor<12x1x4xf32>, %b: tensor<12xf32>, %s: memref<3x11xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{conv_state width is 11 but must be 12 (the input width)}}
  %0 = hymba.causal_conv1d %x, %w, %b, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<12x1x4xf32>, tensor<12xf32>, memref<3x11xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case55(%x: tensor<?x12xf32>, %w: tensor<12x1x4xf32>, %b: tensor<12xf32>, %s: memref<3x12xf32>, %init: tensor<2x12xf32>) {
  // expected-error @+1 {{init shape must equal the input shape}}
  %0 = hymba.causal_conv1d %x, %w, %b, %s outs(%init : tensor<2x12xf32>) : tensor<?x12xf32>, tensor<12x1x4xf32>, tensor<12xf32>, memref<3x12xf32> -> tensor<2x12xf32>
  return
}

// -----

func.func @case56(%u: tensor<?x12xf32>, %dt: tensor<?x11xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{dt shape is 11 but must be 12 (the channel count)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<?x11xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case57(%u: tensor<3x12xf32>, %dt: tensor<4x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<3x5xf32>, %c: tensor<3x5xf32>, %d: tensor<12xf32>, %z: tensor<3x12xf32>, %s: memref<12x5xf32>, %init: tensor<3x12xf32>) {
  // expected-error @+1 {{dt row count is 4 but must be 3 (the row count of u)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<3x12xf32>) : tensor<3x12xf32>, tensor<4x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<12xf32>, tensor<3x12xf32>, memref<12x5xf32> -> tensor<3x12xf32>
  return
}

// -----

func.func @case58(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x13xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{z width is 13 but must be 12 (the channel count)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x13xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case59(%u: tensor<3x12xf32>, %dt: tensor<3x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<3x5xf32>, %c: tensor<3x5xf32>, %d: tensor<12xf32>, %z: tensor<2x12xf32>, %s: memref<12x5xf32>, %init: tensor<3x12xf32>) {
  // expected-error @+1 {{z row count is 2 but must be 3 (the row count of u)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<3x12xf32>) : tensor<3x12xf32>, tensor<3x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<12xf32>, tensor<2x12xf32>, memref<12x5xf32> -> tensor<3x12xf32>
  return
}

// -----

func.func @case60(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<11xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{dt_bias length is 11 but must be 12 (the channel count)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<?x12xf32>, tensor<11xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case61(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<10xf32>, %z: tensor<?x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{d length is 10 but must be 12 (the channel count)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<10xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case62(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<11x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{a_log rows is 11 but must be 12 (the channel count)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<11x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case63(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x4xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{b width is 4 but must be 5 (the state size, a_log dim 1)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x4xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case64(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x6xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{c width is 6 but must be 5 (the state size, a_log dim 1)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x6xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case65(%u: tensor<3x12xf32>, %dt: tensor<3x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<2x5xf32>, %c: tensor<3x5xf32>, %d: tensor<12xf32>, %z: tensor<3x12xf32>, %s: memref<12x5xf32>, %init: tensor<3x12xf32>) {
  // expected-error @+1 {{b row count is 2 but must be 3 (the row count of u)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<3x12xf32>) : tensor<3x12xf32>, tensor<3x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<2x5xf32>, tensor<3x5xf32>, tensor<12xf32>, tensor<3x12xf32>, memref<12x5xf32> -> tensor<3x12xf32>
  return
}

// -----

func.func @case66(%u: tensor<3x12xf32>, %dt: tensor<3x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<3x5xf32>, %c: tensor<4x5xf32>, %d: tensor<12xf32>, %z: tensor<3x12xf32>, %s: memref<12x5xf32>, %init: tensor<3x12xf32>) {
  // expected-error @+1 {{c row count is 4 but must be 3 (the row count of u)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<3x12xf32>) : tensor<3x12xf32>, tensor<3x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<3x5xf32>, tensor<4x5xf32>, tensor<12xf32>, tensor<3x12xf32>, memref<12x5xf32> -> tensor<3x12xf32>
  return
}

// -----

func.func @case67(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<13x5xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{ssm_state rows is 13 but must be 12 (the channel count)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<13x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case68(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<12x4xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{ssm_state width is 4 but must be 5 (the state size)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x4xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case69(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{result #0 must be 2D tensor of 32-bit float values}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12x1xf32>
  return
}

// -----

func.func @case70(%u: tensor<3x12xf32>, %dt: tensor<3x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<3x5xf32>, %c: tensor<3x5xf32>, %d: tensor<12xf32>, %z: tensor<3x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{init shape must equal the shape of u}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<?x12xf32>) : tensor<3x12xf32>, tensor<3x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<12xf32>, tensor<3x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case71(%a: tensor<?x12xf32>, %s: tensor<?x13xf32>, %n1: tensor<12xf32>, %n2: tensor<12xf32>, %o: tensor<4x12xf32>) {
  // expected-error @+1 {{attention and ssm branches must have the same type}}
  %0 = hymba.hybrid_merge %a, %s, %n1, %n2, %o {epsilon = 1.0e-6 : f32} : tensor<?x12xf32>, tensor<?x13xf32>, tensor<12xf32>, tensor<12xf32>, tensor<4x12xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @case72(%a: tensor<?x12xf32>, %s: tensor<?x12xf32>, %n1: tensor<11xf32>, %n2: tensor<12xf32>, %o: tensor<4x12xf32>) {
  // expected-error @+1 {{attention_norm length is 11 but must be 12 (the branch width)}}
  %0 = hymba.hybrid_merge %a, %s, %n1, %n2, %o {epsilon = 1.0e-6 : f32} : tensor<?x12xf32>, tensor<?x12xf32>, tensor<11xf32>, tensor<12xf32>, tensor<4x12xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @case73(%a: tensor<?x12xf32>, %s: tensor<?x12xf32>, %n1: tensor<12xf32>, %n2: tensor<13xf32>, %o: tensor<4x12xf32>) {
  // expected-error @+1 {{ssm_norm length is 13 but must be 12 (the branch width)}}
  %0 = hymba.hybrid_merge %a, %s, %n1, %n2, %o {epsilon = 1.0e-6 : f32} : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<13xf32>, tensor<4x12xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @case74(%a: tensor<?x12xf32>, %s: tensor<?x12xf32>, %n1: tensor<12xf32>, %n2: tensor<12xf32>, %o: tensor<4x11xf32>) {
  // expected-error @+1 {{out_proj input width (dim 1) is 11 but must be 12 (the branch width)}}
  %0 = hymba.hybrid_merge %a, %s, %n1, %n2, %o {epsilon = 1.0e-6 : f32} : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12xf32>, tensor<4x11xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @case75(%a: tensor<?x12xf32>, %s: tensor<?x12xf32>, %n1: tensor<12xf32>, %n2: tensor<12xf32>, %o: tensor<4x12xf32>) {
  // expected-error @+1 {{result width is 5 but must be 4 (out_proj rows)}}
  %0 = hymba.hybrid_merge %a, %s, %n1, %n2, %o {epsilon = 1.0e-6 : f32} : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12xf32>, tensor<4x12xf32> -> tensor<?x5xf32>
  return
}

// -----

func.func @case76(%a: tensor<3x12xf32>, %s: tensor<3x12xf32>, %n1: tensor<12xf32>, %n2: tensor<12xf32>, %o: tensor<4x12xf32>) {
  // expected-error @+1 {{result row count is 2 but must be 3 (one row per input row)}}
  %0 = hymba.hybrid_merge %a, %s, %n1, %n2, %o {epsilon = 1.0e-6 : f32} : tensor<3x12xf32>, tensor<3x12xf32>, tensor<12xf32>, tensor<12xf32>, tensor<4x12xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @case77(%a: tensor<?x12xf32>, %s: tensor<?x12xf32>, %n1: tensor<12xf32>, %n2: tensor<12xf32>, %o: tensor<4x12xf32>) {
  // expected-error @+1 {{epsilon must be positive}}
  %0 = hymba.hybrid_merge %a, %s, %n1, %n2, %o {epsilon = -1.0 : f32} : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12xf32>, tensor<4x12xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @merge_residual(%a: tensor<?x12xf32>, %n: tensor<12xf32>, %o: tensor<4x12xf32>, %r: tensor<?x5xf32>) {
  // expected-error @+1 {{residual type must equal the result type}}
  %0 = hymba.hybrid_merge %a, %a, %n, %n, %o residual(%r : tensor<?x5xf32>) {epsilon = 1.0e-6 : f32} : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12xf32>, tensor<4x12xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @branches_yield_type(%a: tensor<?x4xf32>, %b: tensor<?x8xf32>) {
  // expected-error @+1 {{the ssm region yields 'tensor<?x4xf32>' but the result is 'tensor<?x8xf32>'}}
  %r:2 = hymba.parallel_branches scan_tile(16) : tensor<?x4xf32>, tensor<?x8xf32> {
    hymba.yield %a : tensor<?x4xf32>
  } {
    hymba.yield %a : tensor<?x4xf32>
  }
  return
}

// -----

func.func @branches_yield_count(%a: tensor<?x4xf32>) {
  // expected-error @+1 {{the attention region must end in hymba.yield of one value}}
  %r:2 = hymba.parallel_branches scan_tile(16) : tensor<?x4xf32>, tensor<?x4xf32> {
    hymba.yield %a, %a : tensor<?x4xf32>, tensor<?x4xf32>
  } {
    hymba.yield %a : tensor<?x4xf32>
  }
  return
}

// -----

func.func @branches_tile(%a: tensor<?x4xf32>) {
  // expected-error @+1 {{attribute 'scan_tile' failed to satisfy constraint}}
  %r:2 = hymba.parallel_branches scan_tile(0) : tensor<?x4xf32>, tensor<?x4xf32> {
    hymba.yield %a : tensor<?x4xf32>
  } {
    hymba.yield %a : tensor<?x4xf32>
  }
  return
}

// -----

func.func @yield_outside(%a: tensor<?x4xf32>) {
  // expected-error @+1 {{expects parent op 'hymba.parallel_branches'}}
  hymba.yield %a : tensor<?x4xf32>
}

// -----

// Module facts are declared dialect attributes, checked where they appear.
// expected-error @+1 {{'hymba.params_bytes' must be an i64 >= 0, got "big"}}
module attributes {hymba.params_bytes = "big"} {
}

// -----

// expected-error @+1 {{'hymba.state_bytes' must be an i64 >= 0, got -1 : i64}}
module attributes {hymba.state_bytes = -1 : i64} {
}

// -----

module {
  // expected-error @+1 {{'hymba.meta_folded' is a module fact: only valid on builtin.module}}
  func.func @f() attributes {hymba.meta_folded = 5 : i64} {
    return
  }
}

// -----

// expected-error @+1 {{'hymba.model' entry 'vocab_size' must be an i64 >= 0, got 1.000000e+00 : f32}}
module attributes {hymba.model = {vocab_size = 1.0 : f32}} {
}

// -----

// Destination-passing style: the init is the result's buffer.
func.func @dps_mixed_forms(%x: memref<?x12xf32>, %w: tensor<12x1x4xf32>, %b: tensor<12xf32>, %s: memref<3x12xf32>, %init: memref<?x12xf32>) {
  // expected-error @+1 {{operand #1 is a tensor but the init is a memref (all tensors before bufferization, all memrefs after)}}
  hymba.causal_conv1d %x, %w, %b, %s outs(%init : memref<?x12xf32>) : memref<?x12xf32>, tensor<12x1x4xf32>, tensor<12xf32>, memref<3x12xf32>
  return
}

// -----

func.func @dps_tensor_without_result(%x: tensor<?x12xf32>, %w: tensor<12x1x4xf32>, %b: tensor<12xf32>, %s: memref<3x12xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{expected the number of tensor results (0) to be equal to the number of output tensors (1)}}
  hymba.causal_conv1d %x, %w, %b, %s outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<12x1x4xf32>, tensor<12xf32>, memref<3x12xf32>
  return
}

// -----

func.func @dps_buffer_with_result(%u: memref<?x12xf32>, %w: memref<12xf32>, %a: memref<12x5xf32>, %bc: memref<?x5xf32>, %s: memref<12x5xf32>, %init: memref<?x12xf32>) {
  // expected-error @+1 {{expected the number of tensor results (1) to be equal to the number of output tensors (0)}}
  %0 = hymba.selective_scan %u, %u, %w, %a, %bc, %bc, %w, %u, %s outs(%init : memref<?x12xf32>) : memref<?x12xf32>, memref<?x12xf32>, memref<12xf32>, memref<12x5xf32>, memref<?x5xf32>, memref<?x5xf32>, memref<12xf32>, memref<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case78(%q: tensor<2x6xf32>, %k: tensor<4x2xf32>, %v: tensor<4x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<2x12xf32>) {
  %t0 = arith.constant 3 : index
  // expected-error @+1 {{key row count 4 is less than query_offset + query rows (5): a query tile sees the chunk's keys up to its own row}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p query_offset(%t0) outs(%init : tensor<2x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<2x6xf32>, tensor<4x2xf32>, tensor<4x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<2x12xf32>
  return
}

// -----

func.func @case79(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<?x12xf32>) {
  %t0 = arith.constant -1 : index
  // expected-error @+1 {{query_offset must be non-negative, got -1}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p query_offset(%t0) outs(%init : tensor<?x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @case80(%q: tensor<2x6xf32>, %k: tensor<4x2xf32>, %v: tensor<3x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %t0: index, %init: tensor<2x12xf32>) {
  // expected-error @+1 {{value row count is 3 but must be 4 (one value per key row)}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p query_offset(%t0) outs(%init : tensor<2x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<2x6xf32>, tensor<4x2xf32>, tensor<3x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<2x12xf32>
  return
}

// -----

func.func @case81(%q: tensor<5x6xf32>, %k: tensor<4x2xf32>, %v: tensor<4x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %t0: index, %init: tensor<5x12xf32>) {
  // expected-error @+1 {{key row count 4 is less than query_offset + query rows (5)}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p query_offset(%t0) outs(%init : tensor<5x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32} : tensor<5x6xf32>, tensor<4x2xf32>, tensor<4x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<5x12xf32>
  return
}

// -----

func.func @case82(%k: tensor<?x2xf32>, %v: memref<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index) {
  // expected-error @+1 {{key and value must both be tensors (before bufferization) or both memrefs (after it)}}
  hymba.kv_cache_write %k, %v into %kc, %vc at %p {window = 3 : i64, num_meta = 2 : i64} : tensor<?x2xf32>, memref<?x4xf32>, memref<5x2xf32>, memref<5x4xf32>
  return
}

// -----

func.func @scan_norms_without_epsilon(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>, %wb: tensor<5xf32>, %wc: tensor<5xf32>) {
  // expected-error @+1 {{norm_epsilon must be set exactly when the b and c norm weights are}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s norms(%wb, %wc : tensor<5xf32>, tensor<5xf32>) outs(%init : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @scan_epsilon_without_norms(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{norm_epsilon must be set exactly when the b and c norm weights are}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s outs(%init : tensor<?x12xf32>) {norm_epsilon = 1.0e-6 : f32} : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @scan_one_norm(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>, %wb: tensor<5xf32>) {
  // expected-error @+1 {{b_norm and c_norm must be given together}}
  %0 = "hymba.selective_scan"(%u, %dt, %dtb, %al, %b, %c, %d, %z, %s, %init, %wb) <{norm_epsilon = 1.0e-6 : f32, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0>}> : (tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32>, tensor<?x12xf32>, tensor<5xf32>) -> tensor<?x12xf32>
  return
}

// -----

func.func @scan_norm_length(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>, %wb: tensor<5xf32>, %wc: tensor<4xf32>) {
  // expected-error @+1 {{c_norm length is 4 but must be 5 (the state size, a_log dim 1)}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s norms(%wb, %wc : tensor<5xf32>, tensor<4xf32>) outs(%init : tensor<?x12xf32>) {norm_epsilon = 1.0e-6 : f32} : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @scan_norm_epsilon_zero(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>, %wb: tensor<5xf32>, %wc: tensor<5xf32>) {
  // expected-error @+1 {{norm_epsilon must be positive}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s norms(%wb, %wc : tensor<5xf32>, tensor<5xf32>) outs(%init : tensor<?x12xf32>) {norm_epsilon = 0.0 : f32} : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @rms_norm_epsilon_nan(%x: tensor<?x4xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{epsilon must be positive and finite}}
  %0 = hymba.rms_norm %x, %w {epsilon = 0x7FC00000 : f32} : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @attention_scale_inf(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %p: index, %init: tensor<?x12xf32>) {
  // expected-error @+1 {{scale must be positive and finite}}
  %0 = hymba.attention %q, %k, %v, %kc, %vc at %p outs(%init : tensor<?x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0x7F800000 : f32} : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @scan_norm_epsilon_nan(%u: tensor<?x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>, %al: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>, %d: tensor<12xf32>, %z: tensor<?x12xf32>, %s: memref<12x5xf32>, %init: tensor<?x12xf32>, %wb: tensor<5xf32>, %wc: tensor<5xf32>) {
  // expected-error @+1 {{norm_epsilon must be positive and finite}}
  %0 = hymba.selective_scan %u, %dt, %dtb, %al, %b, %c, %d, %z, %s norms(%wb, %wc : tensor<5xf32>, tensor<5xf32>) outs(%init : tensor<?x12xf32>) {norm_epsilon = 0x7FC00000 : f32} : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  return
}
