// RUN: hymba-opt %s -hymba-fold-scan-norms | FileCheck %s

// B and C normalised with one epsilon: the scan reads the norms' inputs and
// takes their weights; the norms, now unused, are gone.
// CHECK-LABEL: func.func @fold
// CHECK-SAME:    %[[B:[^:]+]]: tensor<?x4xf32>, %[[C:[^:]+]]: tensor<?x4xf32>, %[[WB:[^:]+]]: tensor<4xbf16>, %[[WC:[^:]+]]: tensor<4xbf16>
// CHECK-NOT:     hymba.rms_norm
// CHECK:         hymba.selective_scan %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %[[B]], %[[C]], %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} norms(%[[WB]], %[[WC]] : tensor<4xbf16>, tensor<4xbf16>) outs(%{{.*}}) {norm_epsilon = 9.99999997E-7 : f32}
// CHECK-NOT:     hymba.rms_norm
func.func @fold(%u: tensor<?x8xf32>, %b: tensor<?x4xf32>, %c: tensor<?x4xf32>,
                %wb: tensor<4xbf16>, %wc: tensor<4xbf16>, %bias: tensor<8xf32>,
                %alog: tensor<8x4xf32>, %ss: memref<8x4xf32>, %init: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %bn = hymba.rms_norm %b, %wb {epsilon = 1.0e-6 : f32} : tensor<?x4xf32>, tensor<4xbf16> -> tensor<?x4xf32>
  %cn = hymba.rms_norm %c, %wc {epsilon = 1.0e-6 : f32} : tensor<?x4xf32>, tensor<4xbf16> -> tensor<?x4xf32>
  %y = hymba.selective_scan %u, %u, %bias, %alog, %bn, %cn, %bias, %u, %ss outs(%init : tensor<?x8xf32>)
      : tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<8xf32>, tensor<?x8xf32>, memref<8x4xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// B and C are one norm's result: the norm is folded into both and erased
// once (it was freed, then read and erased again).
// CHECK-LABEL: func.func @same
// CHECK-SAME:    %[[B:[^:]+]]: tensor<?x4xf32>, %[[WB:[^:]+]]: tensor<4xf32>
// CHECK-NOT:     hymba.rms_norm
// CHECK:         hymba.selective_scan %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %[[B]], %[[B]], %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} norms(%[[WB]], %[[WB]] : tensor<4xf32>, tensor<4xf32>)
// CHECK-NOT:     hymba.rms_norm
func.func @same(%u: tensor<?x8xf32>, %b: tensor<?x4xf32>, %wb: tensor<4xf32>, %bias: tensor<8xf32>,
                %alog: tensor<8x4xf32>, %ss: memref<8x4xf32>, %init: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %bn = hymba.rms_norm %b, %wb {epsilon = 1.0e-6 : f32} : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %y = hymba.selective_scan %u, %u, %bias, %alog, %bn, %bn, %bias, %u, %ss outs(%init : tensor<?x8xf32>)
      : tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<8xf32>, tensor<?x8xf32>, memref<8x4xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// A norm with another user stays for it; the scan still folds it.
// CHECK-LABEL: func.func @shared
// CHECK:         %[[BN:.+]] = hymba.rms_norm
// CHECK-NOT:     hymba.rms_norm
// CHECK:         hymba.selective_scan {{.*}} norms(
// CHECK:         return %{{.*}}, %[[BN]]
func.func @shared(%u: tensor<?x8xf32>, %b: tensor<?x4xf32>, %c: tensor<?x4xf32>,
                  %wb: tensor<4xf32>, %wc: tensor<4xf32>, %bias: tensor<8xf32>,
                  %alog: tensor<8x4xf32>, %ss: memref<8x4xf32>, %init: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x4xf32>) {
  %bn = hymba.rms_norm %b, %wb {epsilon = 1.0e-6 : f32} : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %cn = hymba.rms_norm %c, %wc {epsilon = 1.0e-6 : f32} : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %y = hymba.selective_scan %u, %u, %bias, %alog, %bn, %cn, %bias, %u, %ss outs(%init : tensor<?x8xf32>)
      : tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<8xf32>, tensor<?x8xf32>, memref<8x4xf32> -> tensor<?x8xf32>
  return %y, %bn : tensor<?x8xf32>, tensor<?x4xf32>
}

// Different epsilons (the op has one), or a C that is not a norm: unchanged.
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-3: hymba.rms_norm
// CHECK-NOT:     norms(
// CHECK:         return
func.func @kept(%u: tensor<?x8xf32>, %b: tensor<?x4xf32>, %c: tensor<?x4xf32>,
                %wb: tensor<4xf32>, %wc: tensor<4xf32>, %bias: tensor<8xf32>,
                %alog: tensor<8x4xf32>, %ss: memref<8x4xf32>, %init: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %bn = hymba.rms_norm %b, %wb {epsilon = 1.0e-6 : f32} : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %cn = hymba.rms_norm %c, %wc {epsilon = 1.0e-5 : f32} : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %bn2 = hymba.rms_norm %b, %wc {epsilon = 1.0e-6 : f32} : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %y = hymba.selective_scan %u, %u, %bias, %alog, %bn, %cn, %bias, %u, %ss outs(%init : tensor<?x8xf32>)
      : tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<8xf32>, tensor<?x8xf32>, memref<8x4xf32> -> tensor<?x8xf32>
  %y2 = hymba.selective_scan %u, %u, %bias, %alog, %bn2, %c, %bias, %u, %ss outs(%init : tensor<?x8xf32>)
      : tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8x4xf32>, tensor<?x4xf32>,
        tensor<?x4xf32>, tensor<8xf32>, tensor<?x8xf32>, memref<8x4xf32> -> tensor<?x8xf32>
  return %y, %y2 : tensor<?x8xf32>, tensor<?x8xf32>
}
