//===- CpuCheck.h - Refuse CPUs the generated code cannot run on -*- C++ -*-===//
#ifndef HYMBA_RUNTIME_CPUCHECK_H
#define HYMBA_RUNTIME_CPUCHECK_H

#include <string>

namespace mlir::hymba {

/// Compares the features the model code was compiled for (recorded in the
/// model object by hymba-compile --target-cpu) with this CPU's, read from
/// CPUID and XGETBV (a feature counts only if the OS saves its registers).
/// Returns false with a message naming the target and the missing features
/// when the generated code could fault with an illegal instruction here.
bool checkTargetCPU(std::string &error);

} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_CPUCHECK_H
