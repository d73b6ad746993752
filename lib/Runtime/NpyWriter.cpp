//===- NpyWriter.cpp - Write a float32 matrix as .npy ---------------------===//
#include "NpyWriter.h"
#include "OutputFile.h"

#include <cstdint>

bool mlir::hymba::writeNpy(const std::string &path,
                           const std::vector<float> &data, int64_t rows,
                           int64_t cols, std::string &error) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows) + ", " + std::to_string(cols) +
                       "), }";
  // Magic (6) + version (2) + length (2) + header, padded to 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  uint16_t len = uint16_t(header.size());
  OutputPiece pieces[] = {{"\x93NUMPY\x01\x00", 8},
                          {&len, 2},
                          {header.data(), header.size()},
                          {data.data(), data.size() * sizeof(float)}};
  return writeOutputFile(path, pieces, 4, error);
}
