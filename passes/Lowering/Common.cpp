//===- Common.cpp - Shared loop-lowering builders -------------------------===//
#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

Value hymba::cacheRow(ImplicitLocOpBuilder &b, Value p, int64_t window,
                      int64_t numMeta) {
  if (window == 0)
    return p;
  Value m = indexConst(b, numMeta);
  Value isMeta = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, p, m);
  Value ring = arith::AddIOp::create(
      b, m,
      arith::RemUIOp::create(b, arith::SubIOp::create(b, p, m),
                             indexConst(b, window)));
  return arith::SelectOp::create(b, isMeta, p, ring);
}

ValueRange hymba::chunkOrState(ImplicitLocOpBuilder &b, Value p, Value boundary,
                               ChunkRowRead fromChunk, RowRead fromState) {
  Value inChunk =
      arith::CmpIOp::create(b, arith::CmpIPredicate::uge, p, boundary);
  return scf::IfOp::create(
             b, inChunk,
             [&](OpBuilder &tb, Location l) {
               ImplicitLocOpBuilder eb(l, tb);
               scf::YieldOp::create(
                   eb, fromChunk(eb, arith::SubIOp::create(eb, p, boundary)));
             },
             [&](OpBuilder &tb, Location l) {
               ImplicitLocOpBuilder eb(l, tb);
               scf::YieldOp::create(eb, fromState(eb));
             })
      ->getResults();
}

void hymba::forRange(ImplicitLocOpBuilder &b, int64_t n,
                     function_ref<void(ImplicitLocOpBuilder &, Value)> body) {
  scf::ForOp::create(b, indexConst(b, 0), indexConst(b, n), indexConst(b, 1),
                     ValueRange{},
                     [&](OpBuilder &fb, Location l, Value i, ValueRange) {
                       ImplicitLocOpBuilder ib(l, fb);
                       body(ib, i);
                       scf::YieldOp::create(ib);
                     });
}
