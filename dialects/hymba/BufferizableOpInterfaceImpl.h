//===- BufferizableOpInterfaceImpl.h - Hymba ops bufferized -----*- C++ -*-===//
//
// The destination-style Hymba ops (hymba.attention, hymba.causal_conv1d,
// hymba.selective_scan) bufferize like linalg ops: the result is the init's
// buffer, the other tensor operands are read in place, and the op becomes
// its memref form (same op, memref operands, no result).
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_DIALECTS_HYMBA_BUFFERIZABLEOPINTERFACEIMPL_H
#define HYMBA_DIALECTS_HYMBA_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::hymba {
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace mlir::hymba

#endif // HYMBA_DIALECTS_HYMBA_BUFFERIZABLEOPINTERFACEIMPL_H
