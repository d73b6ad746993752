//===- FoldMetaTokens.cpp - Compute the meta-token prefix once ------------===//
//
// Everything in Hymba is causal, so the rows of the M meta tokens, and the
// KV/conv/SSM state they leave behind, do not depend on the prompt. This pass
// splits them out: @hymba_prefix runs the meta rows from position 0 and only
// fills the state; @hymba_start becomes a continuation at position M. The
// driver runs @hymba_prefix once at compile time and stores the state in the
// executable, so every prompt starts from it (DECISIONS.md 3: exact).
//
//===----------------------------------------------------------------------===//

#include "dialects/hymba/HymbaOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAFOLDMETATOKENS
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;
using namespace mlir::hymba;

namespace {
struct FoldMetaTokensPass
    : hymba::impl::HymbaFoldMetaTokensBase<FoldMetaTokensPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto start = module.lookupSymbol<func::FuncOp>("hymba_start");
    auto cont = module.lookupSymbol<func::FuncOp>("hymba_continue");
    if (!start || !cont || module.lookupSymbol("hymba_prefix"))
      return; // not an imported model, or already folded
    PrependMetaOp prepend;
    func::CallOp layersCall;
    start.walk([&](Operation *op) {
      if (auto p = dyn_cast<PrependMetaOp>(op))
        prepend = p;
      if (auto c = dyn_cast<func::CallOp>(op))
        layersCall = c;
    });
    if (!prepend || !layersCall)
      return; // no meta tokens: nothing to fold
    auto meta = prepend.getMeta().getDefiningOp<WeightOp>();
    if (!meta) {
      prepend.emitOpError("expected the meta rows to be a hymba.weight");
      return signalPassFailure();
    }
    int64_t numMeta = meta.getResult().getType().getDimSize(0);
    Location loc = start.getLoc();
    OpBuilder b(module.getContext());

    // @hymba_prefix(params, state): the meta rows from position 0.
    b.setInsertionPoint(start);
    auto bytes = start.getArgumentTypes()[0];
    auto prefix = func::FuncOp::create(b, loc, "hymba_prefix",
                                       b.getFunctionType({bytes, bytes}, {}));
    prefix->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    Block *body = prefix.addEntryBlock();
    b.setInsertionPointToStart(body);
    Value params = body->getArgument(0), state = body->getArgument(1);
    auto rowsType = cast<RankedTensorType>(prepend.getResult().getType());
    Value weight =
        WeightOp::create(b, meta.getLoc(), meta.getResult().getType(), params,
                         meta.getNameAttr(), IntegerAttr());
    Value none = tensor::EmptyOp::create(
        b, loc, ArrayRef<int64_t>{0, rowsType.getDimSize(1)},
        rowsType.getElementType());
    Value rows = PrependMetaOp::create(b, loc, rowsType, weight, none);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    func::CallOp::create(b, loc, layersCall.getCallee(),
                         layersCall.getResultTypes(),
                         ValueRange{params, state, rows, zero});
    func::ReturnOp::create(b, loc);

    // @hymba_start(params, state, ids, n) == @hymba_continue(..., n, M).
    start.getBody().front().clear();
    b.setInsertionPointToStart(&start.getBody().front());
    SmallVector<Value> args(start.getArguments().begin(),
                            start.getArguments().end());
    args.push_back(arith::ConstantIndexOp::create(b, loc, numMeta));
    auto call = func::CallOp::create(b, loc, cont, args);
    func::ReturnOp::create(b, loc, call.getResults());

    getContext()
        .getLoadedDialect<HymbaDialect>()
        ->getMetaFoldedAttrHelper()
        .setAttr(module, b.getI64IntegerAttr(numMeta));
  }
};
} // namespace
