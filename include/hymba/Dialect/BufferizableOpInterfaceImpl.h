//===- BufferizableOpInterfaceImpl.h - Hymba ops in one-shot-bufferize -*- C++
//-*-===//
//
// The destination-style Hymba ops (hymba.attention, hymba.causal_conv1d,
// hymba.selective_scan) bufferize like linalg ops: the result is the init's
// buffer, the other tensor operands are read in place, and the op becomes
// its memref form (same op, memref operands, no result).
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_DIALECT_BUFFERIZABLEOPINTERFACEIMPL_H
#define HYMBA_DIALECT_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
namespace hymba {
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace hymba
} // namespace mlir

#endif // HYMBA_DIALECT_BUFFERIZABLEOPINTERFACEIMPL_H
