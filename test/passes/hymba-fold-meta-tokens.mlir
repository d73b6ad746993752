// RUN: hymba-opt %s -hymba-fold-meta-tokens | FileCheck %s
// RUN: hymba-opt %s -hymba-fold-meta-tokens -hymba-fold-meta-tokens | FileCheck %s

// A two-function model in the importer's shape: @hymba_start prepends the
// meta rows and runs the layers from position 0.

// CHECK: module attributes {hymba.meta_folded = 3 : i64}
// CHECK-LABEL: func.func private @hymba_layers
func.func private @hymba_layers(%p: memref<?xi8>, %s: memref<?xi8>, %h: tensor<?x4xf32>, %pos: index) -> tensor<?x4xf32> {
  return %h : tensor<?x4xf32>
}

// The prefix: meta rows alone through the layers, from position 0.
// CHECK-LABEL: func.func @hymba_prefix(
// CHECK-SAME:    %[[P:.*]]: memref<?xi8>, %[[S:.*]]: memref<?xi8>) attributes {llvm.emit_c_interface}
// CHECK:         %[[W:.*]] = hymba.weight %[[P]]["model.memory_tokens"] : memref<?xi8> -> tensor<3x4xbf16>
// CHECK:         %[[NONE:.*]] = tensor.empty() : tensor<0x4xf32>
// CHECK:         %[[ROWS:.*]] = hymba.prepend_meta %[[W]], %[[NONE]]
// CHECK:         %[[C0:.*]] = arith.constant 0 : index
// CHECK:         call @hymba_layers(%[[P]], %[[S]], %[[ROWS]], %[[C0]])
// CHECK-NEXT:    return

// The first chunk is now a continuation at position M = 3: the start's
// arguments (params, state, ids, logit rows) with M appended.
// CHECK-LABEL: func.func @hymba_start(
// CHECK-SAME:    %[[SP:[^:]*]]: memref<?xi8>, %[[SS:[^:]*]]: memref<?xi8>, %[[IDS:[^:]*]]: tensor<?xi32>, %[[N:[^:]*]]: index)
// CHECK-NOT:     hymba.prepend_meta
// CHECK:         %[[M:.*]] = arith.constant 3 : index
// CHECK:         %[[R:.*]] = call @hymba_continue(%[[SP]], %[[SS]], %[[IDS]], %[[N]], %[[M]])
// CHECK-NEXT:    return %[[R]]
func.func @hymba_start(%p: memref<?xi8>, %s: memref<?xi8>, %ids: tensor<?xi32>, %rows: index) -> tensor<?x4xf32> attributes {llvm.emit_c_interface} {
  %t = hymba.weight %p["model.embed_tokens.weight"] : memref<?xi8> -> tensor<10x4xbf16>
  %e = hymba.embed %t[%ids] : tensor<10x4xbf16>, tensor<?xi32> -> tensor<?x4xf32>
  %m = hymba.weight %p["model.memory_tokens"] : memref<?xi8> -> tensor<3x4xbf16>
  %h = hymba.prepend_meta %m, %e : tensor<3x4xbf16>, tensor<?x4xf32> -> tensor<?x4xf32>
  %c0 = arith.constant 0 : index
  %o = call @hymba_layers(%p, %s, %h, %c0) : (memref<?xi8>, memref<?xi8>, tensor<?x4xf32>, index) -> tensor<?x4xf32>
  %c0_0 = arith.constant 0 : index
  %n = tensor.dim %ids, %c0_0 : tensor<?xi32>
  %want = arith.minui %rows, %n : index
  %all = tensor.dim %o, %c0_0 : tensor<?x4xf32>
  %first = arith.subi %all, %want : index
  %r = tensor.extract_slice %o[%first, 0] [%want, 4] [1, 1] : tensor<?x4xf32> to tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// CHECK-LABEL: func.func @hymba_continue
func.func @hymba_continue(%p: memref<?xi8>, %s: memref<?xi8>, %ids: tensor<?xi32>, %rows: index, %pos: index) -> tensor<?x4xf32> attributes {llvm.emit_c_interface} {
  %t = hymba.weight %p["model.embed_tokens.weight"] : memref<?xi8> -> tensor<10x4xbf16>
  %e = hymba.embed %t[%ids] : tensor<10x4xbf16>, tensor<?xi32> -> tensor<?x4xf32>
  %o = call @hymba_layers(%p, %s, %e, %pos) : (memref<?xi8>, memref<?xi8>, tensor<?x4xf32>, index) -> tensor<?x4xf32>
  return %o : tensor<?x4xf32>
}
