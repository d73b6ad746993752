//===- Scan.h - hymba.selective_scan loop bodies ----------------*- C++ -*-===//
//
// The scan's operands as buffers and the two loop forms of a channel range
// (the vectorizable channel tile, the register-state channel), shared by
// the scan lowering and the parallel-branches lowering.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_PASSES_LOWERING_SCAN_H
#define HYMBA_PASSES_LOWERING_SCAN_H

#include "../LoweringUtils.h"

#include "dialects/hymba/HymbaOps.h"
#include "passes/Passes.h"

namespace mlir::hymba {

/// A scan operand read per time step ([T, d_state] B or C). With a norm
/// weight (the op's `norms`, set by hymba-fold-scan-norms) the row is
/// RMS-normalised as it is read (gamma set).
struct ScanRows {
  Value rows, gamma;
  float eps = 0.0f;
  ScanRows(Value operand, Value normWeight, FloatAttr epsilon);
};

/// The scan's operands (buffers: the op's memref form).
struct ScanBuffers {
  Value u, dt, bias, aLog;
  ScanRows b, c;
  Value d, z, state;
  explicit ScanBuffers(SelectiveScanOp op)
      : u(op.getU()), dt(op.getDt()), bias(op.getDtBias()), aLog(op.getALog()),
        b(op.getB(), op.getBNorm(), op.getNormEpsilonAttr()),
        c(op.getC(), op.getCNorm(), op.getNormEpsilonAttr()), d(op.getD()),
        z(op.getZ()), state(op.getSsmState()) {}
};

/// Per-tile scratch of the scan: state and A transposed ([d_state, tile]),
/// and delta, delta*u and the output accumulator ([tile]).
struct ScanScratch {
  Value h, a, delta, du, y;
};

/// The scan over a small static channel tile (what hymba-tile-selective-scan
/// produces): time outermost, channels innermost over contiguous data. The
/// tile's state and A = -exp(a_log) live transposed ([d_state, tile]) in
/// `scratch` for the whole chunk, so every inner loop is a unit-stride loop
/// over channels that LLVM vectorizes. CPU form only. A folded norm is
/// applied to B and C's row once per time step.
void lowerScanTileInto(ImplicitLocOpBuilder &b, const ScanBuffers &in,
                       int64_t tile, int64_t dState, Value out,
                       const ScanScratch &scratch);

/// lowerScanTileInto with heap scratch of its own, freed after the tile by
/// the deallocation pipeline.
void lowerScanTile(ImplicitLocOpBuilder &b, const ScanBuffers &in, int64_t tile,
                   int64_t dState, Value out);

/// Channel `c` of the scan: A = -exp(a_log[c]) (d_state values), dt_bias[c]
/// and D[c] in registers, and the time step that advances its state.
struct ScanChannel {
  Value c, bias, dSkip;
  SmallVector<Value> a;
  ScanChannel(ImplicitLocOpBuilder &b, const ScanBuffers &in, Value c,
              int64_t dState);
  /// The channel's d_state state values, read from / written to ssm_state.
  SmallVector<Value> loadState(ImplicitLocOpBuilder &b,
                               const ScanBuffers &in) const;
  void storeState(ImplicitLocOpBuilder &b, const ScanBuffers &in,
                  ValueRange h) const;
  /// Time step `t` from state `h`: writes out[t, c] and returns the new
  /// state. The body of emitScanChannel's time loop, and (with the state
  /// read and written around it) the scan's scalar implementation.
  SmallVector<Value> step(ImplicitLocOpBuilder &b, const ScanBuffers &in,
                          Value t, ValueRange h, Value out) const;
};

/// One channel of the scan with its state in registers: A = -exp(a_log) and
/// the d_state state values are SSA values (the state is loop-carried
/// through the time loop), read from ssm_state before the loop and written
/// back after it. This is the form for one GPU thread per channel, and the
/// fallback for wide untiled scans on the CPU.
void emitScanChannel(ImplicitLocOpBuilder &b, const ScanBuffers &in, Value c,
                     int64_t dState, Value out);

/// The scan operands restricted to channels [c0, c0 + tile).
ScanBuffers sliceChannels(ImplicitLocOpBuilder &b, const ScanBuffers &in,
                          Value c0, int64_t tile);

/// Whether the scan's channel count (u dim 1) and state size (a_log dim 1)
/// are static: every loop form is sized by them. (A tile of a tiling that
/// does not divide the channels has a dynamic count.)
bool hasStaticScanShape(SelectiveScanOp op);

/// The scan's loops built at `b` (CPU: the channel-tile form for small static
/// channel counts, else one register-state channel per item, the GPU form's
/// only one), storing into the op's init.
void buildScanLoops(ImplicitLocOpBuilder &b, SelectiveScanOp op,
                    KernelForm form);

} // namespace mlir::hymba

#endif // HYMBA_PASSES_LOWERING_SCAN_H
