//===- NpyWriter.cpp - Write a float32 matrix as .npy ---------------------===//
#include "NpyWriter.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

bool hymba::writeNpy(const std::string &path, const std::vector<float> &data,
                     int64_t rows, int64_t cols, std::string &error) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows) + ", " + std::to_string(cols) +
                       "), }";
  // Magic (6) + version (2) + length (2) + header, padded to 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string tmp = path + ".tmp";
  FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f) {
    error = path + ": cannot write: " + std::strerror(errno);
    return false;
  }
  uint16_t len = uint16_t(header.size());
  bool ok =
      std::fwrite("\x93NUMPY\x01\x00", 1, 8, f) == 8 &&
      std::fwrite(&len, 2, 1, f) == 1 &&
      std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
      std::fwrite(data.data(), sizeof(float), data.size(), f) == data.size();
  ok &= std::fclose(f) == 0;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    error = path + ": cannot write: " + std::strerror(errno);
    return false;
  }
  return true;
}
