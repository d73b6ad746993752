//===- TilingInterfaceImpl.h - Hymba ops under scf tiling -------*- C++ -*-===//
//
// TilingInterface for hymba.selective_scan and hymba.attention, so that
// scf::tileUsingSCF, the transform dialect
// (transform.structured.tile_using_forall / tile_using_for) and
// hymba-tile-selective-scan tile them like linalg ops, and
// transform.structured.convert_to_loops lowers their memref form to loops.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_PASSES_TILINGINTERFACEIMPL_H
#define HYMBA_PASSES_TILINGINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::hymba {
void registerTilingInterfaceExternalModels(DialectRegistry &registry);
} // namespace mlir::hymba

#endif // HYMBA_PASSES_TILINGINTERFACEIMPL_H
