// RUN: hymba-opt %s | hymba-opt | FileCheck %s
// RUN: hymba-opt %s --mlir-print-op-generic | hymba-opt | FileCheck %s

// CHECK-LABEL: func @params_and_state
func.func @params_and_state(%p: memref<?xi8>, %s: memref<?xi8>) -> (tensor<8x4xbf16>, memref<12x8xf32>) {
  // CHECK: hymba.weight %{{.*}}["model.memory_tokens"] : memref<?xi8> -> tensor<8x4xbf16>
  %w = hymba.weight %p["model.memory_tokens"] : memref<?xi8> -> tensor<8x4xbf16>
  // CHECK: hymba.state_buffer %{{.*}}["layers.0.k_cache"] {offset = 128 : i64} : memref<?xi8> -> memref<12x8xf32>
  %kc = hymba.state_buffer %s["layers.0.k_cache"] {offset = 128 : i64} : memref<?xi8> -> memref<12x8xf32>
  return %w, %kc : tensor<8x4xbf16>, memref<12x8xf32>
}

// Panel-stored weights keep their logical [out, in] shape.
// CHECK-LABEL: func @panels
func.func @panels(%p: memref<?xi8>, %x: tensor<?x4xf32>, %ids: tensor<?xi32>) -> (tensor<?x6xf32>, tensor<?x4xf32>) {
  // CHECK: %[[W:.*]] = hymba.weight %{{.*}}["lm_head.weight"] : memref<?xi8> -> tensor<6x4xbf16, #hymba.panels<16>>
  %w = hymba.weight %p["lm_head.weight"] : memref<?xi8> -> tensor<6x4xbf16, #hymba.panels<16>>
  // CHECK: hymba.linear %{{.*}}, %[[W]] : tensor<?x4xf32>, tensor<6x4xbf16, #hymba.panels<16>> -> tensor<?x6xf32>
  %y = hymba.linear %x, %w : tensor<?x4xf32>, tensor<6x4xbf16, #hymba.panels<16>> -> tensor<?x6xf32>
  // CHECK: hymba.embed %[[W]][%{{.*}}] : tensor<6x4xbf16, #hymba.panels<16>>, tensor<?xi32> -> tensor<?x4xf32>
  %e = hymba.embed %w[%ids] : tensor<6x4xbf16, #hymba.panels<16>>, tensor<?xi32> -> tensor<?x4xf32>
  return %y, %e : tensor<?x6xf32>, tensor<?x4xf32>
}

// A quantized weight: values and scales, read through hymba.dequantize.
// CHECK-LABEL: func @quantized
func.func @quantized(%p: memref<?xi8>, %x: tensor<?x40xf32>, %ids: tensor<?xi32>) -> (tensor<?x6xf32>, tensor<?x40xf32>) {
  // CHECK: %[[Q:.*]] = hymba.weight %{{.*}}["lm_head.weight"] : memref<?xi8> -> tensor<6x40xi4, #hymba.panels<16>>
  %q = hymba.weight %p["lm_head.weight"] : memref<?xi8> -> tensor<6x40xi4, #hymba.panels<16>>
  // CHECK: %[[S:.*]] = hymba.weight %{{.*}}["lm_head.weight"] {scales} : memref<?xi8> -> tensor<6x2xbf16, #hymba.panels<16>>
  %s = hymba.weight %p["lm_head.weight"] {scales} : memref<?xi8> -> tensor<6x2xbf16, #hymba.panels<16>>
  // CHECK: %[[W:.*]] = hymba.dequantize %[[Q]], %[[S]] {group_size = 32 : i64} : tensor<6x40xi4, #hymba.panels<16>>, tensor<6x2xbf16, #hymba.panels<16>> -> tensor<6x40xf32>
  %w = hymba.dequantize %q, %s {group_size = 32 : i64} : tensor<6x40xi4, #hymba.panels<16>>, tensor<6x2xbf16, #hymba.panels<16>> -> tensor<6x40xf32>
  // CHECK: hymba.linear %{{.*}}, %[[W]] : tensor<?x40xf32>, tensor<6x40xf32> -> tensor<?x6xf32>
  %y = hymba.linear %x, %w : tensor<?x40xf32>, tensor<6x40xf32> -> tensor<?x6xf32>
  // CHECK: hymba.embed %[[W]][%{{.*}}] : tensor<6x40xf32>, tensor<?xi32> -> tensor<?x40xf32>
  %e = hymba.embed %w[%ids] : tensor<6x40xf32>, tensor<?xi32> -> tensor<?x40xf32>
  // CHECK: hymba.weight %{{.*}}["w8"] : memref<?xi8> -> tensor<3x5xi8>
  %q8 = hymba.weight %p["w8"] : memref<?xi8> -> tensor<3x5xi8>
  %s8 = hymba.weight %p["w8"] {scales} : memref<?xi8> -> tensor<3x3xbf16>
  // CHECK: hymba.dequantize %{{.*}}, %{{.*}} {group_size = 2 : i64} : tensor<3x5xi8>, tensor<3x3xbf16> -> tensor<3x5xf32>
  %w8 = hymba.dequantize %q8, %s8 {group_size = 2 : i64} : tensor<3x5xi8>, tensor<3x3xbf16> -> tensor<3x5xf32>
  // int8 values in quads along K (--compute=int8), scales in plain panels.
  // CHECK: hymba.dequantize %{{.*}}, %{{.*}} {group_size = 32 : i64} : tensor<6x64xi8, #hymba.panels<16, interleave = 4>>, tensor<6x2xbf16, #hymba.panels<16>> -> tensor<6x64xf32>
  %q4 = hymba.weight %p["quads"] : memref<?xi8> -> tensor<6x64xi8, #hymba.panels<16, interleave = 4>>
  %s4 = hymba.weight %p["quads"] {scales} : memref<?xi8> -> tensor<6x2xbf16, #hymba.panels<16>>
  %w4 = hymba.dequantize %q4, %s4 {group_size = 32 : i64} : tensor<6x64xi8, #hymba.panels<16, interleave = 4>>, tensor<6x2xbf16, #hymba.panels<16>> -> tensor<6x64xf32>
  // int4 values in quads too (two lanes per byte).
  // CHECK: hymba.dequantize %{{.*}}, %{{.*}} {group_size = 32 : i64} : tensor<6x64xi4, #hymba.panels<16, interleave = 4>>, tensor<6x2xbf16, #hymba.panels<16>> -> tensor<6x64xf32>
  %n4 = hymba.weight %p["nibble-quads"] : memref<?xi8> -> tensor<6x64xi4, #hymba.panels<16, interleave = 4>>
  %ns4 = hymba.weight %p["nibble-quads"] {scales} : memref<?xi8> -> tensor<6x2xbf16, #hymba.panels<16>>
  %nw4 = hymba.dequantize %n4, %ns4 {group_size = 32 : i64} : tensor<6x64xi4, #hymba.panels<16, interleave = 4>>, tensor<6x2xbf16, #hymba.panels<16>> -> tensor<6x64xf32>
  return %y, %e : tensor<?x6xf32>, tensor<?x40xf32>
}

// CHECK-LABEL: func @embedding
func.func @embedding(%table: tensor<10x4xbf16>, %ids: tensor<?xi32>, %meta: tensor<3x4xf32>) -> tensor<?x4xf32> {
  // CHECK: hymba.embed %{{.*}}[%{{.*}}] : tensor<10x4xbf16>, tensor<?xi32> -> tensor<?x4xf32>
  %e = hymba.embed %table[%ids] : tensor<10x4xbf16>, tensor<?xi32> -> tensor<?x4xf32>
  // CHECK: hymba.prepend_meta %{{.*}}, %{{.*}} : tensor<3x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  %h = hymba.prepend_meta %meta, %e : tensor<3x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  return %h : tensor<?x4xf32>
}

// CHECK-LABEL: func @dense
func.func @dense(%x: tensor<?x4xf32>, %n: tensor<4xf16>, %w: tensor<6x4xbf16>,
                 %g: tensor<7x4xf32>, %u: tensor<7x4xf32>, %d: tensor<4x7xf32>, %pos: index)
    -> (tensor<?x4xf32>, tensor<?x6xf32>, tensor<?x6xf32>) {
  // CHECK: hymba.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.99999997E-7 : f32} : tensor<?x4xf32>, tensor<4xf16> -> tensor<?x4xf32>
  %a = hymba.rms_norm %x, %n {epsilon = 1.0e-6 : f32} : tensor<?x4xf32>, tensor<4xf16> -> tensor<?x4xf32>
  // CHECK: hymba.linear %{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<6x4xbf16> -> tensor<?x6xf32>
  %p = hymba.linear %a, %w : tensor<?x4xf32>, tensor<6x4xbf16> -> tensor<?x6xf32>
  // CHECK: hymba.rope %{{.*}} at %{{.*}} {base = 74534.83{{[0-9]*}} : f64, head_dim = 2 : i64} : tensor<?x6xf32> -> tensor<?x6xf32>
  %r = hymba.rope %p at %pos {head_dim = 2 : i64, base = 74534.83 : f64} : tensor<?x6xf32> -> tensor<?x6xf32>
  // CHECK: hymba.swiglu_mlp %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<7x4xf32>, tensor<7x4xf32>, tensor<4x7xf32> -> tensor<?x4xf32>
  %m = hymba.swiglu_mlp %a, %g, %u, %d : tensor<?x4xf32>, tensor<7x4xf32>, tensor<7x4xf32>, tensor<4x7xf32> -> tensor<?x4xf32>
  return %m, %p, %r : tensor<?x4xf32>, tensor<?x6xf32>, tensor<?x6xf32>
}

// CHECK-LABEL: func @hybrid_head
// CHECK-SAME:    %[[INIT:[^:]*]]: tensor<?x12xf32>, %[[INIT1:[^:]*]]: tensor<?x12xf32>, %[[INIT2:[^:]*]]: tensor<?x12xf32>, %[[BN:[^:]*]]: tensor<5xf32>, %[[CN:[^:]*]]: tensor<5xbf16>)
func.func @hybrid_head(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>,
                       %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %pos: index,
                       %x: tensor<?x12xf32>, %cw: tensor<12x1x4xf32>, %cb: tensor<12xf32>,
                       %cs: memref<3x12xf32>, %dt: tensor<?x12xf32>, %dtb: tensor<12xf32>,
                       %alog: tensor<12x5xf32>, %b: tensor<?x5xf32>, %c: tensor<?x5xf32>,
                       %d: tensor<12xf32>, %z: tensor<?x12xf32>, %ss: memref<12x5xf32>,
                       %n1: tensor<12xf32>, %n2: tensor<12xf32>, %o: tensor<4x12xf32>, %init: tensor<?x12xf32>, %init1: tensor<?x12xf32>, %init2: tensor<?x12xf32>,
                       %bn: tensor<5xf32>, %cn: tensor<5xbf16>) -> tensor<?x4xf32> {
  // CHECK: hymba.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} at %{{.*}} outs(%[[INIT]] : tensor<?x12xf32>) {num_heads = 3 : i64, num_kv_heads = 1 : i64, num_meta = 2 : i64, scale = 0.707106769 : f32, window = 3 : i64}
  // CHECK-SAME: : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  %att = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<?x12xf32>)
      {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.70710678 : f32}
      : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
  // CHECK: hymba.kv_cache_write %{{.*}}, %{{.*}} into %{{.*}}, %{{.*}} at %{{.*}} {num_meta = 2 : i64, window = 3 : i64}
  hymba.kv_cache_write %k, %v into %kc, %vc at %pos {window = 3 : i64, num_meta = 2 : i64}
      : tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32>
  // CHECK: hymba.causal_conv1d %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} outs(%[[INIT1]] : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<12x1x4xf32>, tensor<12xf32>, memref<3x12xf32> -> tensor<?x12xf32>
  %u = hymba.causal_conv1d %x, %cw, %cb, %cs outs(%init1 : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<12x1x4xf32>, tensor<12xf32>, memref<3x12xf32> -> tensor<?x12xf32>
  // CHECK: hymba.selective_scan %{{.*}} outs(%[[INIT2]] : tensor<?x12xf32>) : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  %y = hymba.selective_scan %u, %dt, %dtb, %alog, %b, %c, %d, %z, %ss outs(%init2 : tensor<?x12xf32>)
      : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>,
        tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  // CHECK: hymba.selective_scan %{{.*}}, %[[SS:[^ ]+]] norms(%[[BN]], %[[CN]] : tensor<5xf32>, tensor<5xbf16>) outs(%[[INIT2]] : tensor<?x12xf32>) {norm_epsilon = 9.99999997E-7 : f32} : tensor<?x12xf32>, {{.*}}, memref<12x5xf32> -> tensor<?x12xf32>
  %yn = hymba.selective_scan %u, %dt, %dtb, %alog, %b, %c, %d, %z, %ss norms(%bn, %cn : tensor<5xf32>, tensor<5xbf16>)
      outs(%init2 : tensor<?x12xf32>) {norm_epsilon = 1.0e-6 : f32}
      : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>,
        tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
  // CHECK: hymba.hybrid_merge %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.99999997E-7 : f32}
  %out = hymba.hybrid_merge %att, %y, %n1, %n2, %o {epsilon = 1.0e-6 : f32}
      : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12xf32>, tensor<4x12xf32> -> tensor<?x4xf32>
  // CHECK: hymba.hybrid_merge %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} residual(%{{.*}} : tensor<?x4xf32>) {epsilon = 9.99999997E-7 : f32}
  %fused = hymba.hybrid_merge %att, %y, %n1, %n2, %o residual(%out : tensor<?x4xf32>) {epsilon = 1.0e-6 : f32}
      : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12xf32>, tensor<4x12xf32> -> tensor<?x4xf32>
  return %fused : tensor<?x4xf32>
}

// A global layer: window 0, and the cache may hold any number of positions.
// CHECK-LABEL: func @global_attention
func.func @global_attention(%q: tensor<1x8xf32>, %k: tensor<1x8xf32>, %v: tensor<1x8xf32>,
                            %kc: memref<100x8xf32>, %vc: memref<100x8xf32>, %pos: index, %init: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // CHECK: hymba.attention {{.*}}window = 0 : i64
  %a = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<1x8xf32>)
      {num_heads = 2 : i64, num_kv_heads = 2 : i64, window = 0 : i64, num_meta = 0 : i64, scale = 0.5 : f32}
      : tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<100x8xf32>, memref<100x8xf32> -> tensor<1x8xf32>
  return %a : tensor<1x8xf32>
}

// A row tile of an attention: rows [%t0, %t0 + 2) of the chunk, with every
// key row of the chunk and a cache slice of one KV head.
// CHECK-LABEL: func @attention_row_tile
// CHECK-SAME:    %[[POS:[^:]*]]: index, %[[T0:[^:]*]]: index, %[[TINIT:[^:]*]]: tensor<2x4xf32>)
func.func @attention_row_tile(%q: tensor<2x4xf32>, %k: tensor<?x2xf32>, %v: tensor<?x2xf32>,
                              %kc: memref<6x2xf32, strided<[4, 1], offset: 2>>,
                              %vc: memref<6x2xf32, strided<[4, 1], offset: 2>>,
                              %pos: index, %t0: index, %init: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // CHECK: hymba.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} at %[[POS]] query_offset(%[[T0]]) outs(%[[TINIT]] : tensor<2x4xf32>)
  // CHECK-SAME: : tensor<2x4xf32>, tensor<?x2xf32>, tensor<?x2xf32>, memref<6x2xf32, strided<[4, 1], offset: 2>>, memref<6x2xf32, strided<[4, 1], offset: 2>> -> tensor<2x4xf32>
  %a = hymba.attention %q, %k, %v, %kc, %vc at %pos query_offset(%t0) outs(%init : tensor<2x4xf32>)
      {num_heads = 2 : i64, num_kv_heads = 1 : i64, window = 4 : i64, num_meta = 2 : i64, scale = 0.5 : f32}
      : tensor<2x4xf32>, tensor<?x2xf32>, tensor<?x2xf32>, memref<6x2xf32, strided<[4, 1], offset: 2>>,
        memref<6x2xf32, strided<[4, 1], offset: 2>> -> tensor<2x4xf32>
  return %a : tensor<2x4xf32>
}

// The hybrid head's branches side by side (hymba-fuse-hybrid-heads).
// CHECK-LABEL: func @parallel_branches
// CHECK:         %[[RA:.*]], %[[RS:.*]] = hymba.parallel_branches scan_tile(8) : tensor<?x12xf32>, tensor<?x12xf32> {
// CHECK-NEXT:      %[[A:.*]] = hymba.attention
// CHECK-NEXT:      hymba.yield %[[A]] : tensor<?x12xf32>
// CHECK-NEXT:    } {
// CHECK-NEXT:      %[[Y:.*]] = hymba.selective_scan
// CHECK-NEXT:      hymba.yield %[[Y]] : tensor<?x12xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[RA]], %[[RS]]
func.func @parallel_branches(%q: tensor<?x6xf32>, %k: tensor<?x2xf32>, %v: tensor<?x4xf32>,
                             %kc: memref<5x2xf32>, %vc: memref<5x4xf32>, %pos: index,
                             %u: tensor<?x12xf32>, %dtb: tensor<12xf32>, %alog: tensor<12x5xf32>,
                             %b: tensor<?x5xf32>, %ss: memref<12x5xf32>, %init: tensor<?x12xf32>, %init1: tensor<?x12xf32>) -> (tensor<?x12xf32>, tensor<?x12xf32>) {
  %r:2 = hymba.parallel_branches scan_tile(8) : tensor<?x12xf32>, tensor<?x12xf32> {
    %a = hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%init : tensor<?x12xf32>)
        {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32}
        : tensor<?x6xf32>, tensor<?x2xf32>, tensor<?x4xf32>, memref<5x2xf32>, memref<5x4xf32> -> tensor<?x12xf32>
    hymba.yield %a : tensor<?x12xf32>
  } {
    %y = hymba.selective_scan %u, %u, %dtb, %alog, %b, %b, %dtb, %u, %ss outs(%init1 : tensor<?x12xf32>)
        : tensor<?x12xf32>, tensor<?x12xf32>, tensor<12xf32>, tensor<12x5xf32>, tensor<?x5xf32>,
          tensor<?x5xf32>, tensor<12xf32>, tensor<?x12xf32>, memref<12x5xf32> -> tensor<?x12xf32>
    hymba.yield %y : tensor<?x12xf32>
  }
  return %r#0, %r#1 : tensor<?x12xf32>, tensor<?x12xf32>
}

// The module facts the importer and the layout pass set.
// CHECK-LABEL: module @facts attributes {hymba.meta_folded = 5 : i64, hymba.model = {num_layers = 2 : i64}, hymba.params_bytes = 1024 : i64, hymba.state_bytes = 0 : i64}
module @facts attributes {hymba.model = {num_layers = 2 : i64}, hymba.params_bytes = 1024 : i64,
                          hymba.state_bytes = 0 : i64, hymba.meta_folded = 5 : i64} {
}

// The memref form of the destination-style ops (what one-shot-bufferize
// makes of them): memref operands of any layout, the init written, no result.
// CHECK-LABEL: func @buffer_forms
// CHECK-SAME:    %[[OUT:[^:]*]]: memref<?x12xf32>)
// CHECK:         hymba.attention {{.*}} outs(%[[OUT]] : memref<?x12xf32>) {{.*}} : memref<?x6xf32, strided<[?, 1], offset: ?>>, memref<?x2xf32>, memref<?x4xf32>, memref<5x2xf32>, memref<5x4xf32>{{$}}
// CHECK:         hymba.causal_conv1d {{.*}} outs(%[[OUT]] : memref<?x12xf32>) : memref<?x12xf32>, memref<12x1x4xbf16>, memref<12xbf16>, memref<3x12xf32>{{$}}
// CHECK:         hymba.selective_scan {{.*}} outs(%[[OUT]] : memref<?x12xf32>) : memref<?x12xf32>, {{.*}}, memref<12x5xf32>{{$}}
func.func @buffer_forms(%q: memref<?x6xf32, strided<[?, 1], offset: ?>>, %k: memref<?x2xf32>,
                        %v: memref<?x4xf32>, %kc: memref<5x2xf32>, %vc: memref<5x4xf32>,
                        %pos: index, %x: memref<?x12xf32>, %cw: memref<12x1x4xbf16>,
                        %cb: memref<12xbf16>, %cs: memref<3x12xf32>, %alog: memref<12x5xf32>,
                        %b: memref<?x5xf32>, %ss: memref<12x5xf32>, %out: memref<?x12xf32>) {
  hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%out : memref<?x12xf32>)
      {num_heads = 3 : i64, num_kv_heads = 1 : i64, window = 3 : i64, num_meta = 2 : i64, scale = 0.5 : f32}
      : memref<?x6xf32, strided<[?, 1], offset: ?>>, memref<?x2xf32>, memref<?x4xf32>, memref<5x2xf32>, memref<5x4xf32>
  hymba.causal_conv1d %x, %cw, %cb, %cs outs(%out : memref<?x12xf32>)
      : memref<?x12xf32>, memref<12x1x4xbf16>, memref<12xbf16>, memref<3x12xf32>
  hymba.selective_scan %x, %x, %cb, %alog, %b, %b, %cb, %x, %ss outs(%out : memref<?x12xf32>)
      : memref<?x12xf32>, memref<?x12xf32>, memref<12xbf16>, memref<12x5xf32>, memref<?x5xf32>,
        memref<?x5xf32>, memref<12xbf16>, memref<?x12xf32>, memref<12x5xf32>
  return
}
