// RUN: hymba-opt %s -hymba-assign-buffer-layout -verify-diagnostics

// Two uses of one name with different types cannot share a slot.
func.func @conflict(%p: memref<?xi8>) {
  %a = hymba.weight %p["a"] : memref<?xi8> -> tensor<7xf32>
  // expected-error @+1 {{uses 'a' as 'tensor<8xf32>' but an earlier use has type 'tensor<7xf32>'}}
  %b = hymba.weight %p["a"] : memref<?xi8> -> tensor<8xf32>
  return
}
