//===- Int8DotKernel.cpp - Integer dot products for quantized projections -===//
//
// vpdpbusd multiplies unsigned bytes by signed bytes. x and the weights are
// both signed (q in [-127, 127]). The weights are made unsigned by adding
// 128 (an xor of each byte's sign bit, folded into the instruction that
// loads them), and the extra 128 * sum(x) is taken back once per group:
//
//   sum_k q_x q_w = sum_k q_x (q_w + 128) - 128 sum_k q_x
//
// sum_k q_x is the same for every output of a row, so it is summed once per
// projection, before the tiles (buildGroupSums), instead of once per weight
// vector inside them: the inner loop is one xor-load and one vpdpbusd per
// 64 weight bytes. Both sums are exact in i32 (at most 255 * 127 * 4 per
// lane and instruction, the group's sum far below 2^24), so the only
// rounding is the f32 scaling of each group's sum.
//
// int4 weights become bytes without a sign extension: a nibble moved to the
// top of its byte (and the low nibble cleared) is the byte 16 q, in
// [-128, 112], and its sign flipped, 16 q + 128 in [0, 240]. So the sums are
// 16 times too large, which the weight scale takes back (/ 16, exact), and
// the correction is the same 128 sum(x): every product and sum is the same
// as for int8.
//
// Without VNNI (Form::MaddUbs), pmaddubsw multiplies the same unsigned by
// signed bytes into 16-bit sums of pairs, which saturate: 2 * 255 * 127
// does not fit. So that form keeps the unsigned operand small instead of
// biasing the weights:
//  - int8: the unsigned operand is |q_x| and the signed one q_w with q_x's
//    sign (psignb), q_x q_w = |q_x| (sign(q_x) q_w): a pair is at most
//    2 * 127 * 127, and there is no bias to take back;
//  - int4: the unsigned operand is the nibble's q + 8, in [0, 15] (the
//    nibble masked, its sign bit flipped), the signed one q_x: a pair is at
//    most 2 * 15 * 127; the bias is 8 sum(x), the scale has no 16.
// pmaddwd by ones adds the pairs into the 32-bit lanes vpdpbusd fills: the
// same integer sums (and so the same f32 results, bit for bit). int8 takes
// four instructions where vpdpbusd is one, against f32 compute's convert
// and FMA per 8 or 16 weights. int4's pairs are small enough to be added
// as they are: 8 of them, at most 8 * 2 * 15 * 127 = 30480, fit the 16-bit
// lane, so its quads accumulate with one 16-bit add (vpaddw) each, and one
// pmaddwd per 32 inputs (kMaxPairQuads) widens their sums: two
// instructions per quad instead of three.
//
//===----------------------------------------------------------------------===//

#include "Int8DotKernel.h"
#include "ActivationQuantization.h"
#include "LoweringUtils.h"
#include "WeightPrefetch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::hymba;

namespace {
/// Quads whose pmaddubsw pair sums of int4 weights (q + 8 in [0, 15]) by
/// x (|q_x| <= 127) a 16-bit lane holds: 8 * 2 * 15 * 127 = 30480 <= 32767.
constexpr int64_t kMaxPairQuads = 8;

Value splat(ImplicitLocOpBuilder &b, VectorType type, Attribute value) {
  return arith::ConstantOp::create(b, type,
                                   DenseElementsAttr::get(type, value));
}
} // namespace

SmallVector<Value>
Int8DotKernel::accumulate(ImplicitLocOpBuilder &b, ArrayRef<Value> rows,
                          ArrayRef<Value> panels, ArrayRef<int64_t> laneOffsets,
                          Value k0, Value k1, ValueRange init) const {
  // Columns of the tile: lane j of panel q is column q * lanes + j.
  size_t m = rows.size(), lanes = laneOffsets.size(),
         nv = panels.size() * lanes, tile = m * nv;
  bool maddubs = form == Form::MaddUbs;
  // int4's pmaddubsw pairs accumulate in 16-bit lanes (the file comment).
  bool pairSums = maddubs && bits == 4;
  VectorType i32Vec = VectorType::get({vl}, b.getI32Type());
  VectorType byteVec = VectorType::get({4 * vl}, b.getI8Type());
  VectorType f32Vec = VectorType::get({vl}, b.getF32Type());
  VectorType quad = VectorType::get({4}, b.getI8Type());
  VectorType oneI32 = VectorType::get({1}, b.getI32Type());
  VectorType halfwords = VectorType::get({2 * vl}, b.getI16Type());
  auto intrinsic = [&](StringRef ymm, StringRef zmm) {
    return b.getStringAttr(vl == 16 ? zmm : ymm);
  };
  StringAttr vpdpbusd =
      intrinsic("llvm.x86.avx512.vpdpbusd.256", "llvm.x86.avx512.vpdpbusd.512");
  StringAttr pmaddubsw =
      intrinsic("llvm.x86.avx2.pmadd.ub.sw", "llvm.x86.avx512.pmaddubs.w.512");
  StringAttr pmaddwd =
      intrinsic("llvm.x86.avx2.pmadd.wd", "llvm.x86.avx512.pmaddw.d.512");
  Value zeros = splat(b, i32Vec, b.getI32IntegerAttr(0));
  // The bit that makes a weight byte unsigned: 0x80 in each byte (q + 128
  // as an unsigned byte is q with its sign flipped); for maddubs' int4,
  // 0x08 in each nibble (q + 8); none for maddubs' int8, whose weights
  // stay signed.
  Value signFlip;
  if (!maddubs || bits == 4)
    signFlip =
        splat(b, byteVec, b.getI8IntegerAttr(int8_t(maddubs ? 0x08 : 0x80)));
  VectorType wideVec = VectorType::get({4 * vl}, b.getI32Type());
  // int4: one nibble of each byte where the other form wants it, the other
  // one moved there by a 16-bit shift (which carries a nibble of the
  // neighbouring byte in, cleared by the same mask): the high nibbles
  // (& 0xf0) with the low ones shifted up, or for maddubs the low nibbles
  // (& 0x0f) with the high ones shifted down.
  Value nibbleMask, four, ones;
  if (bits == 4) {
    nibbleMask =
        splat(b, byteVec, b.getI8IntegerAttr(int8_t(maddubs ? 0x0f : 0xf0)));
    four = splat(b, halfwords, b.getI16IntegerAttr(4));
  }
  if (maddubs)
    ones = splat(b, halfwords, b.getI16IntegerAttr(1));
  // i4 rows hold 4 bytes for each of the panel's first W / 2 lanes.
  int64_t halfPanel = cast<MemRefType>(w.getType()).getDimSize(2) / 4;
  // The weight operand of lane vector j of panel p at quad row kq: the
  // unsigned bytes (int8 made unsigned, or one nibble half of the int4
  // byte vector shared with its partner), or maddubs' signed int8 bytes.
  auto weightBytes = [&](ImplicitLocOpBuilder &ib, Value p, Value kq,
                         llvm::DenseMap<int64_t, Value> &loaded, int64_t lane) {
    int64_t column = bits == 4 ? lane % halfPanel : lane;
    Value &raw = loaded[column];
    if (!raw) {
      raw = vector::LoadOp::create(ib, byteVec, w,
                                   ValueRange{p, kq, indexConst(ib, 4 * column)});
      if (rows.size() == 1)
        prefetchWeights(ib, w, p, kq, 4 * column, prefetchRows);
    }
    if (bits != 4)
      return maddubs ? raw
                     : arith::XOrIOp::create(ib, raw, signFlip).getResult();
    Value nibbles = raw;
    if (maddubs ? lane >= halfPanel : lane < halfPanel) {
      Value halves = vector::BitCastOp::create(ib, halfwords, raw);
      nibbles = vector::BitCastOp::create(
          ib, byteVec,
          maddubs ? arith::ShRUIOp::create(ib, halves, four).getResult()
                  : arith::ShLIOp::create(ib, halves, four).getResult());
    }
    return arith::XOrIOp::create(
               ib, arith::AndIOp::create(ib, nibbles, nibbleMask), signFlip)
        .getResult();
  };
  // pmaddwd by ones: the 32-bit sums of a vector of 16-bit pairs.
  auto widenPairs = [&](ImplicitLocOpBuilder &ib, Value pairs) -> Value {
    return LLVM::CallIntrinsicOp::create(ib, i32Vec, pmaddwd,
                                         ValueRange{pairs, ones})
        .getResult(0);
  };
  // x's quad broadcast to every lane (xs), as the dot product of each form
  // wants it: maddubs' int8 also takes |q_x| (xAbs) and, on zmm, where q_x
  // is negative (xNeg: AVX-512 has no psignb).
  struct XOperands {
    Value xs, xAbs, xNeg;
  };
  auto dot = [&](ImplicitLocOpBuilder &ib, Value acc, Value wq,
                 const XOperands &x) -> Value {
    switch (form) {
    case Form::VNNI:
      return LLVM::CallIntrinsicOp::create(ib, i32Vec, vpdpbusd,
                                           ValueRange{acc, wq, x.xs})
          .getResult(0);
    case Form::MaddUbs: {
      Value u = wq, s = x.xs;
      if (bits != 4) {
        u = x.xAbs;
        s = vl == 16
                ? arith::SelectOp::create(
                      ib, x.xNeg,
                      arith::SubIOp::create(
                          ib, splat(ib, byteVec, ib.getI8IntegerAttr(0)), wq),
                      wq)
                      .getResult()
                : LLVM::CallIntrinsicOp::create(
                      ib, byteVec, ib.getStringAttr("llvm.x86.avx2.psign.b"),
                      ValueRange{wq, x.xs})
                      .getResult(0);
      }
      Value pairs = LLVM::CallIntrinsicOp::create(ib, halfwords, pmaddubsw,
                                                  ValueRange{u, s})
                        .getResult(0);
      if (pairSums) // `acc` holds 16-bit pair sums
        return arith::AddIOp::create(ib, acc, pairs);
      return arith::AddIOp::create(ib, acc, widenPairs(ib, pairs));
    }
    case Form::Portable: {
      // Lane i gets products 4i .. 4i + 3: four strided shuffles.
      Value products =
          arith::MulIOp::create(ib, arith::ExtUIOp::create(ib, wideVec, wq),
                                arith::ExtSIOp::create(ib, wideVec, x.xs));
      Value sum = acc;
      for (int64_t j = 0; j < 4; ++j) {
        SmallVector<int64_t> lanes;
        for (int64_t i = 0; i < vl; ++i)
          lanes.push_back(4 * i + j);
        sum = arith::AddIOp::create(
            ib, sum, vector::ShuffleOp::create(ib, products, products, lanes));
      }
      return sum;
    }
    }
    llvm_unreachable("unknown Int8DotKernel::Form");
  };
  int64_t bias = biasShift(form, bits);
  Value c4 = indexConst(b, 4), cGroup = indexConst(b, group);

  // The tile's dot products over the quads of [lo, hi), each starting from
  // `zero`: i32 sums, or for pairSums 16-bit pair sums.
  auto quadSums = [&](ImplicitLocOpBuilder &gb, Value lo, Value hi,
                      Value zero) {
    SmallVector<Value> init(tile, zero);
    auto quads = scf::ForOp::create(
        gb, lo, hi, c4, init,
        [&](OpBuilder &qb, Location l, Value kk, ValueRange s) {
          ImplicitLocOpBuilder ib(l, qb);
          Value kq = arith::DivUIOp::create(ib, kk, c4);
          SmallVector<Value> ws, next(s.begin(), s.end());
          for (Value p : panels) {
            llvm::DenseMap<int64_t, Value> loaded;
            for (int64_t offset : laneOffsets)
              ws.push_back(weightBytes(ib, p, kq, loaded, offset));
          }
          for (size_t i = 0; i < m; ++i) {
            // x[row, kk .. kk + 3] as one i32 in every lane.
            Value bytes =
                vector::LoadOp::create(ib, quad, qx, ValueRange{rows[i], kk});
            Value word = vector::ExtractOp::create(
                ib, vector::BitCastOp::create(ib, oneI32, bytes),
                ArrayRef<int64_t>{0});
            XOperands x;
            x.xs = vector::BitCastOp::create(
                ib, byteVec, vector::BroadcastOp::create(ib, i32Vec, word));
            if (maddubs && bits != 4) {
              x.xAbs = math::AbsIOp::create(ib, x.xs);
              if (vl == 16)
                x.xNeg = arith::CmpIOp::create(
                    ib, arith::CmpIPredicate::slt, x.xs,
                    splat(ib, byteVec, ib.getI8IntegerAttr(0)));
            }
            for (size_t j = 0; j < nv; ++j)
              next[i * nv + j] = dot(ib, s[i * nv + j], ws[j], x);
          }
          scf::YieldOp::create(ib, next);
        });
    return SmallVector<Value>(quads.getResults());
  };
  // pairSums: the i32 sums of [lo, hi), its quads' pairs summed in 16 bits
  // kMaxPairQuads quads at a time.
  Value pairZeros =
      pairSums ? splat(b, halfwords, b.getI16IntegerAttr(0)) : Value();
  auto pairSumsOf = [&](ImplicitLocOpBuilder &gb, Value lo, Value hi) {
    auto widen = [&](ImplicitLocOpBuilder &wb, ArrayRef<Value> pairs,
                     ValueRange acc) {
      SmallVector<Value> out;
      for (size_t i = 0; i < pairs.size(); ++i) {
        Value wide = widenPairs(wb, pairs[i]);
        out.push_back(acc.empty() ? wide
                                  : arith::AddIOp::create(wb, acc[i], wide));
      }
      return out;
    };
    int64_t chunk = 4 * kMaxPairQuads;
    if (group <= chunk)
      return widen(gb, quadSums(gb, lo, hi, pairZeros), {});
    SmallVector<Value> init(tile, zeros);
    auto chunks = scf::ForOp::create(
        gb, lo, hi, indexConst(gb, chunk), init,
        [&](OpBuilder &cb, Location l, Value kc, ValueRange acc) {
          ImplicitLocOpBuilder ib(l, cb);
          Value end = arith::MinUIOp::create(
              ib, arith::AddIOp::create(ib, kc, indexConst(ib, chunk)), hi);
          scf::YieldOp::create(
              ib, widen(ib, quadSums(ib, kc, end, pairZeros), acc));
        });
    return SmallVector<Value>(chunks.getResults());
  };

  auto groups = scf::ForOp::create(
      b, k0, k1, cGroup, init,
      [&](OpBuilder &nb, Location loc, Value kg, ValueRange acc) {
        ImplicitLocOpBuilder gb(loc, nb);
        Value kEnd = arith::MinUIOp::create(
            gb, arith::AddIOp::create(gb, kg, cGroup), k1);
        // The group's integer sums: m x nv dot products.
        SmallVector<Value> sums =
            pairSums ? pairSumsOf(gb, kg, kEnd) : quadSums(gb, kg, kEnd, zeros);
        // Per group: take back the bias, convert, and add with the
        // product of both scales.
        Value g = arith::DivUIOp::create(gb, kg, cGroup);
        SmallVector<Value> weightScale;
        for (size_t j = 0; j < nv; ++j) {
          weightScale.push_back(widenBF16Exactly(
              gb, vector::LoadOp::create(
                      gb, VectorType::get({vl}, gb.getBF16Type()), scales,
                      ValueRange{panels[j / lanes], g,
                                 indexConst(gb, laneOffsets[j % lanes])})));
          if (bits == 4 && !maddubs) // sums of 16 q (see the file comment)
            weightScale.back() = arith::MulFOp::create(
                gb, weightScale.back(),
                splat(gb, f32Vec, gb.getF32FloatAttr(1.0f / 16)));
        }
        SmallVector<Value> next;
        for (size_t i = 0; i < m; ++i) {
          Value xs = vector::BroadcastOp::create(
              gb, f32Vec,
              memref::LoadOp::create(gb, sx, ValueRange{rows[i], g}));
          Value rowBias;
          if (bias >= 0)
            rowBias = vector::BroadcastOp::create(
                gb, i32Vec,
                arith::ShLIOp::create(
                    gb,
                    memref::LoadOp::create(gb, xSums, ValueRange{rows[i], g}),
                    arith::ConstantOp::create(gb, gb.getI32IntegerAttr(bias))));
          for (size_t j = 0; j < nv; ++j) {
            Value sum = sums[i * nv + j];
            if (rowBias)
              sum = arith::SubIOp::create(gb, sum, rowBias);
            Value exact = arith::SIToFPOp::create(gb, f32Vec, sum);
            next.push_back(vector::FMAOp::create(
                gb, exact, arith::MulFOp::create(gb, weightScale[j], xs),
                acc[i * nv + j]));
          }
        }
        scf::YieldOp::create(gb, next);
      });
  return SmallVector<Value>(groups.getResults());
}

Value hymba::buildGroupSums(ImplicitLocOpBuilder &b, Value qx, int64_t group) {
  auto type = cast<MemRefType>(qx.getType());
  int64_t k = type.getDimSize(1), groups = (k + group - 1) / group;
  // The group is read as the activation quantization wrote it: vectors of
  // groupChunkLanes lanes, K's shorter last group padded with zeros (which
  // add nothing).
  int64_t lanes = groupChunkLanes(group);
  bool inBounds = k % group == 0;
  Type i32 = b.getI32Type();
  VectorType bytes = VectorType::get({lanes}, b.getI8Type());
  VectorType words = VectorType::get({lanes}, i32);
  Value c0 = indexConst(b, 0), c1 = indexConst(b, 1);
  Value rows = memref::DimOp::create(b, qx, c0);
  Value sums = memref::AllocOp::create(
      b, MemRefType::get({ShapedType::kDynamic, groups}, i32),
      ValueRange{rows});
  Value zero = arith::ConstantOp::create(b, b.getI32IntegerAttr(0));
  Value pad = arith::ConstantOp::create(b, b.getI8IntegerAttr(0));
  // Serial: T x K byte additions are the projection's cost divided by its
  // N outputs, less than a thread hand-off for a decode step.
  scf::ForOp::create(
      b, c0, rows, c1, ValueRange{},
      [&](OpBuilder &rb, Location loc, Value t, ValueRange) {
        ImplicitLocOpBuilder ib(loc, rb);
        scf::ForOp::create(
            ib, c0, indexConst(ib, groups), c1, ValueRange{},
            [&](OpBuilder &gb, Location l, Value g, ValueRange) {
              ImplicitLocOpBuilder vb(l, gb);
              Value k0 = arith::MulIOp::create(vb, g, indexConst(vb, group));
              auto chunks = scf::ForOp::create(
                  vb, c0, indexConst(vb, group / lanes), c1, ValueRange{zero},
                  [&](OpBuilder &cb, Location cl, Value c, ValueRange acc) {
                    ImplicitLocOpBuilder xb(cl, cb);
                    Value at = arith::AddIOp::create(
                        xb, k0,
                        arith::MulIOp::create(xb, c, indexConst(xb, lanes)));
                    Value v = vector::TransferReadOp::create(
                        xb, bytes, qx, ValueRange{t, at}, pad,
                        ArrayRef<bool>{inBounds});
                    scf::YieldOp::create(
                        xb, ValueRange{vector::ReductionOp::create(
                                xb, vector::CombiningKind::ADD,
                                arith::ExtSIOp::create(xb, words, v), acc[0])});
                  });
              memref::StoreOp::create(vb, chunks.getResult(0), sums,
                                      ValueRange{t, g});
              scf::YieldOp::create(vb);
            });
        scf::YieldOp::create(ib);
      });
  return sums;
}
