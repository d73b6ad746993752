// RUN: hymba-opt %s -hymba-vectorize-linear="vector-width=16 vector-registers=32 vnni=true" -cse | FileCheck %s
// RUN: hymba-opt %s -hymba-vectorize-linear="vector-width=8 vector-registers=16 vnni=true" -cse | FileCheck %s --check-prefix=YMM
// RUN: hymba-opt %s -hymba-vectorize-linear="vector-width=16 vnni=false" -cse | FileCheck %s --check-prefix=NOVNNI
// RUN: hymba-opt %s -hymba-vectorize-linear="vector-width=8 vector-registers=16 vnni=false maddubs=true" -cse | FileCheck %s --check-prefix=MADDYMM
// RUN: hymba-opt %s -hymba-vectorize-linear="vector-width=16 vector-registers=32 vnni=false maddubs=true" -cse | FileCheck %s --check-prefix=MADDZMM

// hymba-compile --compute=int8: x quantized per group of 32 (values and an
// f32 scale per row and group), int8 weights in panels of 32 outputs
// interleaved by 4 along K. The second panel holds 8 real outputs. The tile
// is integer: vpdpbusd of the sign-flipped weight vectors (q + 128,
// unsigned) against the x quad, one FMA per group with both scales after
// taking back 128 * sum(x), summed once per row and group before the tiles;
// no weight is converted to float per element.

// CHECK-LABEL: func @int8_dot
// CHECK-SAME:    (%[[QX:.*]]: memref<?x64xi8>, %[[SX:.*]]: memref<?x2xf32>, %[[Q:.*]]: memref<2x16x32x4xi8>, %[[S:.*]]: memref<2x2x32xbf16>, %[[Y:.*]]: memref<?x40xf32>)
// The group sums of x: one vector reduction per row and group (the group
// of 32 in one chunk of 32 lanes).
// CHECK:         %[[SUMS:.*]] = memref.alloc(%{{.*}}) : memref<?x2xi32>
// CHECK:         scf.for %[[T:.*]] = 
// CHECK:           scf.for %[[GS:.*]] = 
// CHECK:             %[[XSUM:.*]] = scf.for %{{.*}} iter_args(%[[XACC:.*]] = %{{.*}}) -> (i32)
// CHECK:               %[[XG:.*]] = vector.transfer_read %[[QX]][%[[T]], %{{.*}}], %{{.*}} {in_bounds = [true]} : memref<?x64xi8>, vector<32xi8>
// CHECK:               %[[XGW:.*]] = arith.extsi %[[XG]] : vector<32xi8> to vector<32xi32>
// CHECK:               vector.reduction <add>, %[[XGW]], %[[XACC]] : vector<32xi32> into i32
// CHECK:             memref.store %[[XSUM]], %[[SUMS]][%[[T]], %[[GS]]]
// CHECK:         %[[QUADS:.*]] = memref.collapse_shape %[[Q]] {{\[}}[0], [1], [2, 3]] : memref<2x16x32x4xi8> into memref<2x16x128xi8>
// CHECK:         scf.parallel (%[[P:.*]]) =
// Seven rows per tile: 7 x 2 f32 accumulators loaded from y, one group at a time.
// CHECK:           %[[FLIP:.*]] = arith.constant dense<-128> : vector<64xi8>
// CHECK:           scf.for %[[KG:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{(%[^,]+, ){13}%[^)]+}})
// CHECK:             scf.for %[[KK:.*]] = %[[KG]] to %{{.*}} step %{{.*}} iter_args({{(%[^,]+, ){13}%[^)]+}})
// CHECK:               %[[KQ:.*]] = arith.divui %[[KK]]
// CHECK:               %[[W0:.*]] = vector.load %[[QUADS]][%[[P]], %[[KQ]], %{{.*}}] : memref<2x16x128xi8>, vector<64xi8>
// CHECK:               %[[WU:.*]] = arith.xori %[[W0]], %[[FLIP]] : vector<64xi8>
// CHECK:               %[[XQ:.*]] = vector.load %[[QX]][%{{.*}}, %[[KK]]] : memref<?x64xi8>, vector<4xi8>
// CHECK:               %[[XW:.*]] = vector.bitcast %[[XQ]] : vector<4xi8> to vector<1xi32>
// CHECK:               %[[XS:.*]] = vector.extract %[[XW]][0] : i32 from vector<1xi32>
// CHECK:               %[[XB:.*]] = vector.broadcast %[[XS]] : i32 to vector<16xi32>
// CHECK:               %[[XV:.*]] = vector.bitcast %[[XB]] : vector<16xi32> to vector<64xi8>
// CHECK:               llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[WU]], %[[XV]]) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK:             %[[G:.*]] = arith.divui %[[KG]]
// CHECK:             vector.load %[[S]][%[[P]], %[[G]], %{{.*}}] : memref<2x2x32xbf16>, vector<16xbf16>
// CHECK:             %[[XSC:.*]] = memref.load %[[SX]][%{{.*}}, %[[G]]] : memref<?x2xf32>
// CHECK:             %[[RS:.*]] = memref.load %[[SUMS]][%{{.*}}, %[[G]]] : memref<?x2xi32>
// CHECK:             %[[BIAS:.*]] = arith.shli %[[RS]], %{{.*}} : i32
// CHECK:             %[[BIASV:.*]] = vector.broadcast %[[BIAS]] : i32 to vector<16xi32>
// CHECK:             %[[D:.*]] = arith.subi %{{.*}}, %[[BIASV]] : vector<16xi32>
// CHECK:             %[[F:.*]] = arith.sitofp %[[D]] : vector<16xi32> to vector<16xf32>
// CHECK:             vector.fma %[[F]],
// The partial second panel: one masked vector of 8 outputs.
// CHECK:           vector.maskedstore %[[Y]]
// CHECK-NOT:     linalg.generic
// CHECK:         memref.dealloc %[[SUMS]]

// With AVX-VNNI's 8 lanes: 256-bit vpdpbusd, four weight vectors per panel.
// YMM-LABEL: func @int8_dot
// YMM:         llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"({{.*}}) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// YMM-NOT:     linalg.generic

// Without VNNI: the same integer sums, widened products added in quads.
// NOVNNI-LABEL: func @int8_dot
// NOVNNI-NOT:     llvm.call_intrinsic
// NOVNNI:         %[[WX:.*]] = arith.xori %{{.*}}, %{{.*}} : vector<64xi8>
// NOVNNI:         %[[U:.*]] = arith.extui %[[WX]] : vector<64xi8> to vector<64xi32>
// NOVNNI:         %[[W:.*]] = arith.extsi %{{.*}} : vector<64xi8> to vector<64xi32>
// NOVNNI:         %[[PR:.*]] = arith.muli %[[U]], %[[W]] : vector<64xi32>
// NOVNNI:         vector.shuffle %[[PR]], %[[PR]] [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60]
// NOVNNI:         vector.shuffle %[[PR]], %[[PR]] [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63]
// NOVNNI-NOT:     llvm.call_intrinsic
// NOVNNI-NOT:     linalg.generic

// Without VNNI, with AVX2 (maddubs=true): pmaddubsw of |x| by the weights
// given x's sign (psignb), its 16-bit pairs added into the i32 lanes by
// pmaddwd by ones. The weights keep their sign (no xor) and there is no
// bias to take back, so x gets no group sums either.
// MADDYMM-LABEL: func @int8_dot
// MADDYMM-NOT:     memref.alloc
// MADDYMM:         %[[ONES:.*]] = arith.constant dense<1> : vector<16xi16>
// MADDYMM:           scf.for %{{.*}} iter_args(
// MADDYMM:             %[[W:.*]] = vector.load %{{.*}} : memref<2x16x128xi8>, vector<32xi8>
// MADDYMM-NOT:         arith.xori
// MADDYMM:             %[[XV:.*]] = vector.bitcast %{{.*}} : vector<8xi32> to vector<32xi8>
// MADDYMM-NEXT:        %[[XA:.*]] = math.absi %[[XV]] : vector<32xi8>
// MADDYMM-NEXT:        %[[WS:.*]] = llvm.call_intrinsic "llvm.x86.avx2.psign.b"(%[[W]], %[[XV]])
// MADDYMM-NEXT:        %[[PAIRS:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[XA]], %[[WS]]) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// MADDYMM-NEXT:        %[[SUMS:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[PAIRS]], %[[ONES]]) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// MADDYMM-NEXT:        arith.addi %{{.*}}, %[[SUMS]] : vector<8xi32>
// MADDYMM-NOT:         arith.subi %{{.*}} : vector<8xi32>
// MADDYMM:             arith.sitofp %{{.*}} : vector<8xi32> to vector<8xf32>
// MADDYMM-NOT:     vpdpbusd
// MADDYMM-NOT:     linalg.generic

// AVX512BW has no psignb: a select on x's sign (x = 0 multiplies by |x| =
// 0 whatever the weight).
// MADDZMM-LABEL: func @int8_dot
// MADDZMM:             %[[XV:.*]] = vector.bitcast %{{.*}} : vector<16xi32> to vector<64xi8>
// MADDZMM-NEXT:        %[[XA:.*]] = math.absi %[[XV]] : vector<64xi8>
// MADDZMM-NEXT:        %[[ZERO:.*]] = arith.constant dense<0> : vector<64xi8>
// MADDZMM-NEXT:        %[[NEG:.*]] = arith.cmpi slt, %[[XV]], %[[ZERO]] : vector<64xi8>
// MADDZMM-NEXT:        %[[MINUSW:.*]] = arith.subi %[[ZERO]], %[[W:.*]] : vector<64xi8>
// MADDZMM-NEXT:        %[[WS:.*]] = arith.select %[[NEG]], %[[MINUSW]], %[[W]] : vector<64xi1>, vector<64xi8>
// MADDZMM-NEXT:        %[[PAIRS:.*]] = llvm.call_intrinsic "llvm.x86.avx512.pmaddubs.w.512"(%[[XA]], %[[WS]]) : (vector<64xi8>, vector<64xi8>) -> vector<32xi16>
// MADDZMM-NEXT:        llvm.call_intrinsic "llvm.x86.avx512.pmaddw.d.512"(%[[PAIRS]], %{{.*}}) : (vector<32xi16>, vector<32xi16>) -> vector<16xi32>
// MADDZMM-NOT:     vpdpbusd
// MADDZMM-NOT:     linalg.generic

#x = affine_map<(t, n, k) -> (t, k)>
#xs = affine_map<(t, n, k) -> (t, k floordiv 32)>
#w = affine_map<(t, n, k) -> (n floordiv 32, k floordiv 4, n mod 32, k mod 4)>
#ws = affine_map<(t, n, k) -> (n floordiv 32, k floordiv 32, n mod 32)>
#y = affine_map<(t, n, k) -> (t, n)>
func.func @int8_dot(%qx: memref<?x64xi8>, %sx: memref<?x2xf32>, %q: memref<2x16x32x4xi8>, %s: memref<2x2x32xbf16>, %y: memref<?x40xf32>) {
  linalg.generic {indexing_maps = [#x, #xs, #w, #ws, #y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%qx, %sx, %q, %s : memref<?x64xi8>, memref<?x2xf32>, memref<2x16x32x4xi8>, memref<2x2x32xbf16>)
      outs(%y : memref<?x40xf32>) {
  ^bb0(%a: i8, %as: f32, %b: i8, %bs: bf16, %acc: f32):
    %af = arith.sitofp %a : i8 to f32
    %xa = arith.mulf %af, %as : f32
    %bf = arith.sitofp %b : i8 to f32
    %bsf = arith.extf %bs : bf16 to f32
    %wb = arith.mulf %bf, %bsf : f32
    %m = arith.mulf %xa, %wb : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}

// int4 weights (--dtype=int4 --compute=int8): one 64-byte load per quad row
// holds the quads of lanes j (low nibbles) and j + 16 (high nibbles). Each
// nibble becomes the signed byte 16 q: the high ones masked in place, the
// low ones shifted up by a 16-bit shift and masked; its sign flipped, the
// unsigned 16 q + 128. The weight scale takes the 16 back (* 1/16, exact).
// Six rows per tile (int4 keeps its unpacked halves in registers too).
// CHECK-LABEL: func @int4_dot
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: memref<2x16x16x4xi8>
// CHECK:         %[[QUADS:.*]] = memref.collapse_shape %[[Q]] {{\[}}[0], [1], [2, 3]] : memref<2x16x16x4xi8> into memref<2x16x64xi8>
// CHECK:         scf.parallel (%[[P:.*]]) =
// CHECK-DAG:       %[[FLIP:.*]] = arith.constant dense<-128> : vector<64xi8>
// CHECK-DAG:       %[[MASK:.*]] = arith.constant dense<-16> : vector<64xi8>
// CHECK-DAG:       %[[FOUR:.*]] = arith.constant dense<4> : vector<32xi16>
// CHECK:           scf.for %[[KG:[a-z0-9_]+]] = %{{.*}} iter_args({{(%[^,]+, ){11}%[^)]+}})
// CHECK:             scf.for %[[KK:[a-z0-9_]+]] = %[[KG]] to
// CHECK-NEXT:        %[[KQ:.*]] = arith.divui %[[KK]]
// CHECK-NEXT:        %[[RAW:.*]] = vector.load %[[QUADS]][%[[P]], %[[KQ]], %{{.*}}] : memref<2x16x64xi8>, vector<64xi8>
// CHECK-NEXT:        %[[HW:.*]] = vector.bitcast %[[RAW]] : vector<64xi8> to vector<32xi16>
// CHECK-NEXT:        %[[UP:.*]] = arith.shli %[[HW]], %[[FOUR]] : vector<32xi16>
// CHECK-NEXT:        %[[UPB:.*]] = vector.bitcast %[[UP]] : vector<32xi16> to vector<64xi8>
// CHECK-NEXT:        %[[LO:.*]] = arith.andi %[[UPB]], %[[MASK]] : vector<64xi8>
// CHECK-NEXT:        %[[LOU:.*]] = arith.xori %[[LO]], %[[FLIP]] : vector<64xi8>
// CHECK-NEXT:        %[[HI:.*]] = arith.andi %[[RAW]], %[[MASK]] : vector<64xi8>
// CHECK-NEXT:        %[[HIU:.*]] = arith.xori %[[HI]], %[[FLIP]] : vector<64xi8>
// CHECK:             llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[LOU]], %{{.*}})
// CHECK-NEXT:        llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[HIU]], %{{.*}})
// CHECK-NOT:         vector.load %[[QUADS]]
// CHECK:             scf.yield
// CHECK:           %[[SIXTEENTH:.*]] = arith.constant dense<6.250000e-02> : vector<16xf32>
// CHECK:           arith.mulf %{{.*}}, %[[SIXTEENTH]] : vector<16xf32>
// CHECK-NOT:     linalg.generic
// YMM-LABEL: func @int4_dot
// YMM:         llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"({{.*}}) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// YMM-NOT:     linalg.generic
// NOVNNI-LABEL: func @int4_dot
// NOVNNI-NOT:     llvm.call_intrinsic
// NOVNNI-NOT:     linalg.generic
// int4 with pmaddubsw: each nibble's q + 8 in [0, 15] (the low ones masked
// in place, the high ones shifted down by a 16-bit shift and masked; bit 3
// flipped) is the unsigned operand against x; the group's 8 sum(x) is
// taken back (x's group sums << 3) and the scale has no 16 to undo.
// MADDYMM-LABEL: func @int4_dot
// MADDYMM:         %[[SUMS4:.*]] = memref.alloc(%{{.*}}) : memref<?x2xi32>
// MADDYMM-DAG:       %[[EIGHT:.*]] = arith.constant dense<8> : vector<32xi8>
// MADDYMM-DAG:       %[[LOW:.*]] = arith.constant dense<15> : vector<32xi8>
// MADDYMM-DAG:       %[[FOUR:.*]] = arith.constant dense<4> : vector<16xi16>
// MADDYMM:             %[[RAW:.*]] = vector.load %{{.*}} : memref<2x16x64xi8>, vector<32xi8>
// MADDYMM-NEXT:        %[[LO:.*]] = arith.andi %[[RAW]], %[[LOW]] : vector<32xi8>
// MADDYMM-NEXT:        %[[LOU:.*]] = arith.xori %[[LO]], %[[EIGHT]] : vector<32xi8>
// MADDYMM:             %[[HW:.*]] = vector.bitcast %[[RAW]] : vector<32xi8> to vector<16xi16>
// MADDYMM-NEXT:        %[[DOWN:.*]] = arith.shrui %[[HW]], %[[FOUR]] : vector<16xi16>
// MADDYMM-NEXT:        %[[DOWNB:.*]] = vector.bitcast %[[DOWN]] : vector<16xi16> to vector<32xi8>
// MADDYMM-NEXT:        %[[HI:.*]] = arith.andi %[[DOWNB]], %[[LOW]] : vector<32xi8>
// MADDYMM-NEXT:        %[[HIU:.*]] = arith.xori %[[HI]], %[[EIGHT]] : vector<32xi8>
// MADDYMM:             %[[XV4:.*]] = vector.bitcast %{{.*}} : vector<8xi32> to vector<32xi8>
// MADDYMM-NEXT:        %[[PL:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[LOU]], %[[XV4]])
// MADDYMM-NEXT:        arith.addi %{{.*}}, %[[PL]] : vector<16xi16>
// MADDYMM:             %[[PH:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[HIU]], %[[XV4]])
// MADDYMM-NEXT:        arith.addi %{{.*}}, %[[PH]] : vector<16xi16>
// The group's pair sums, widened once (a group of 32 is one chunk).
// MADDYMM-NOT:         pmadd.wd
// MADDYMM:             scf.yield %{{.*}} : vector<16xi16>, vector<16xi16>, vector<16xi16>, vector<16xi16>
// MADDYMM-NEXT:      }
// MADDYMM-NEXT:      llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// MADDYMM:           %[[XS4:.*]] = memref.load %[[SUMS4]]
// MADDYMM-NEXT:      %[[THREE:.*]] = arith.constant 3 : i32
// MADDYMM-NEXT:      %[[BIAS4:.*]] = arith.shli %[[XS4]], %[[THREE]] : i32
// MADDYMM:           %[[BIASV4:.*]] = vector.broadcast %[[BIAS4]] : i32 to vector<8xi32>
// MADDYMM-NEXT:      arith.subi %{{.*}}, %[[BIASV4]] : vector<8xi32>
// MADDYMM-NOT:       0.0625
// MADDYMM:         memref.dealloc %[[SUMS4]]
#w4 = affine_map<(t, n, k) -> (n floordiv 32, k floordiv 4, (n mod 32) mod 16, k mod 4)>
func.func @int4_dot(%qx: memref<?x64xi8>, %sx: memref<?x2xf32>, %q: memref<2x16x16x4xi8>, %s: memref<2x2x32xbf16>, %y: memref<?x40xf32>) {
  linalg.generic {indexing_maps = [#x, #xs, #w4, #ws, #y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%qx, %sx, %q, %s : memref<?x64xi8>, memref<?x2xf32>, memref<2x16x16x4xi8>, memref<2x2x32xbf16>)
      outs(%y : memref<?x40xf32>) {
  ^bb0(%a: i8, %as: f32, %b: i8, %bs: bf16, %acc: f32):
    %af = arith.sitofp %a : i8 to f32
    %xa = arith.mulf %af, %as : f32
    %n = linalg.index 1 : index
    %c32 = arith.constant 32 : index
    %c16 = arith.constant 16 : index
    %lane = arith.remui %n, %c32 : index
    %high = arith.cmpi uge, %lane, %c16 : index
    %c4 = arith.constant 4 : i8
    %c0 = arith.constant 0 : i8
    %shift = arith.select %high, %c0, %c4 : i8
    %up = arith.shli %b, %shift : i8
    %v = arith.shrsi %up, %c4 : i8
    %bf = arith.sitofp %v : i8 to f32
    %bsf = arith.extf %bs : bf16 to f32
    %wb = arith.mulf %bf, %bsf : f32
    %m = arith.mulf %xa, %wb : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}

// Groups of 48 (--quant-group=48): pmaddubsw's int4 pairs are summed in
// 16-bit lanes 8 quads (32 inputs) at a time, at most 8 * 2 * 15 * 127 =
// 30480, so a group of more than 32 inputs is widened (pmaddwd by ones)
// chunk by chunk: a loop over chunks of 32 inside the group loop, the quad
// loop inside it. VNNI sums the whole group in one i32 loop.
// MADDYMM-LABEL: func @int4_dot_group48
// MADDYMM:           %[[C32:.*]] = arith.constant 32 : index
// MADDYMM:           %[[C48:.*]] = arith.constant 48 : index
// MADDYMM:           scf.for %[[KG:.*]] = %{{.*}} to %{{.*}} step %[[C48]] iter_args(
// MADDYMM:             %[[GEND:.*]] = arith.minui
// MADDYMM:             scf.for %[[KC:.*]] = %[[KG]] to %[[GEND]] step %[[C32]] iter_args({{.*}}) -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>)
// MADDYMM:               scf.for %{{.*}} = %[[KC]] to %{{.*}} step %{{.*}} iter_args({{.*}}) -> (vector<16xi16>, vector<16xi16>, vector<16xi16>, vector<16xi16>)
// MADDYMM:                 llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// MADDYMM:               llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// MADDYMM-NEXT:          arith.addi %{{.*}} : vector<8xi32>
// MADDYMM:             arith.sitofp %{{.*}} : vector<8xi32> to vector<8xf32>
// CHECK-LABEL: func @int4_dot_group48
// CHECK:           scf.for %[[KG48:.*]] = %{{.*}} to %{{.*}} step %[[G48:[a-z0-9_]+]] iter_args({{.*}}) -> (vector<16xf32>
// CHECK-NEXT:        arith.addi %[[KG48]], %[[G48]]
// CHECK-NEXT:        %[[END48:.*]] = arith.minui
// CHECK-NEXT:        scf.for %{{.*}} = %[[KG48]] to %[[END48]] step %{{.*}} iter_args({{.*}}) -> (vector<16xi32>
// CHECK:               llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-NOT:       pmadd
// CHECK:         return
#xs48 = affine_map<(t, n, k) -> (t, k floordiv 48)>
#ws48 = affine_map<(t, n, k) -> (n floordiv 32, k floordiv 48, n mod 32)>
func.func @int4_dot_group48(%qx: memref<?x96xi8>, %sx: memref<?x2xf32>, %q: memref<2x24x16x4xi8>, %s: memref<2x2x32xbf16>, %y: memref<?x40xf32>) {
  linalg.generic {indexing_maps = [#x, #xs48, #w4, #ws48, #y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%qx, %sx, %q, %s : memref<?x96xi8>, memref<?x2xf32>, memref<2x24x16x4xi8>, memref<2x2x32xbf16>)
      outs(%y : memref<?x40xf32>) {
  ^bb0(%a: i8, %as: f32, %b: i8, %bs: bf16, %acc: f32):
    %af = arith.sitofp %a : i8 to f32
    %xa = arith.mulf %af, %as : f32
    %n = linalg.index 1 : index
    %c32 = arith.constant 32 : index
    %c16 = arith.constant 16 : index
    %lane = arith.remui %n, %c32 : index
    %high = arith.cmpi uge, %lane, %c16 : index
    %c4 = arith.constant 4 : i8
    %c0 = arith.constant 0 : i8
    %shift = arith.select %high, %c0, %c4 : i8
    %up = arith.shli %b, %shift : i8
    %v = arith.shrsi %up, %c4 : i8
    %bf = arith.sitofp %v : i8 to f32
    %bsf = arith.extf %bs : bf16 to f32
    %wb = arith.mulf %bf, %bsf : f32
    %m = arith.mulf %xa, %wb : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}
