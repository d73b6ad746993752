//===- NpyWriter.h - Write a float32 matrix as .npy -------------*- C++ -*-===//
#ifndef HYMBA_RUNTIME_NPYWRITER_H
#define HYMBA_RUNTIME_NPYWRITER_H

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::hymba {
/// Writes `data` ([rows, cols], row-major) to `path` atomically.
bool writeNpy(const std::string &path, const std::vector<float> &data,
              int64_t rows, int64_t cols, std::string &error);
} // namespace mlir::hymba

#endif // HYMBA_RUNTIME_NPYWRITER_H
