//===- CpuCheck.cpp - Refuse CPUs the generated code cannot run on --------===//
//
// Code compiled for another CPU dies with SIGILL on the first instruction
// this one lacks, with no message. The model object names its target and
// the features it may use (the LLVM names of
// mlir::hymba::checkedCPUFeatures()); this file reads the same features off
// CPUID before any model code runs.
//
//===----------------------------------------------------------------------===//

#include "CpuCheck.h"

#include <cstdint>
#include <cstring>
#include <sstream>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

extern "C" {
extern const char hymba_target_cpu[];
extern const char hymba_required_cpu_features[];
}

namespace {
struct Feature {
  const char *name;
  bool present;
};

#if defined(__x86_64__) || defined(__i386__)
std::vector<Feature> hostFeatures() {
  unsigned a, b, c, d;
  unsigned c1 = 0, b7 = 0, c7 = 0, d7 = 0, a71 = 0;
  if (__get_cpuid(1, &a, &b, &c, &d))
    c1 = c;
  unsigned maxLeaf = __get_cpuid_max(0, nullptr);
  if (maxLeaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    b7 = b, c7 = c, d7 = d;
    __cpuid_count(7, 1, a, b, c, d);
    a71 = a;
  }
  // Register state the OS saves on context switches (XCR0).
  uint64_t xcr0 = 0;
  if (c1 & (1u << 27)) { // OSXSAVE
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (uint64_t(hi) << 32) | lo;
  }
  bool avxState = (xcr0 & 0x6) == 0x6;
  bool avx512State = avxState && (xcr0 & 0xe0) == 0xe0;
  bool amxState = (xcr0 & 0x60000) == 0x60000;
  auto bit = [](unsigned reg, int i) { return (reg >> i) & 1u; };
  return {
      {"sse4.2", bool(bit(c1, 20))},
      {"avx", bit(c1, 28) && avxState},
      {"avx2", bit(b7, 5) && avxState},
      {"fma", bit(c1, 12) && avxState},
      {"f16c", bit(c1, 29) && avxState},
      {"bmi", bool(bit(b7, 3))},
      {"bmi2", bool(bit(b7, 8))},
      {"avx512f", bit(b7, 16) && avx512State},
      {"avx512dq", bit(b7, 17) && avx512State},
      {"avx512cd", bit(b7, 28) && avx512State},
      {"avx512bw", bit(b7, 30) && avx512State},
      {"avx512vl", bit(b7, 31) && avx512State},
      {"avx512vnni", bit(c7, 11) && avx512State},
      {"avx512bf16", bit(a71, 5) && avx512State},
      {"avx512fp16", bit(d7, 23) && avx512State},
      {"avxvnni", bit(a71, 4) && avxState},
      {"amx-tile", bit(d7, 24) && amxState},
      {"amx-bf16", bit(d7, 22) && amxState},
      {"amx-int8", bit(d7, 25) && amxState},
  };
}
#else
std::vector<Feature> hostFeatures() { return {}; }
#endif
} // namespace

bool mlir::hymba::checkTargetCPU(std::string &error) {
  std::vector<Feature> host = hostFeatures();
  std::istringstream required(hymba_required_cpu_features);
  std::string name, missing;
  while (std::getline(required, name, ',')) {
    if (name.empty())
      continue;
    bool present = false, known = false;
    for (const Feature &f : host)
      if (name == f.name)
        known = true, present = f.present;
    if (!known || !present)
      missing += (missing.empty() ? "" : ", ") + name;
  }
  if (missing.empty())
    return true;
  std::string have;
  for (const Feature &f : host)
    if (f.present)
      have += (have.empty() ? "" : ", ") + std::string(f.name);
  error = std::string("this executable was compiled for CPU ") +
          hymba_target_cpu + ", which has features this CPU lacks: " +
          missing + " (this CPU has: " + (have.empty() ? "none" : have) +
          "); recompile with hymba-compile --target-cpu=native on this "
          "machine, or --target-cpu=x86-64-v3 for any AVX2 CPU";
  return false;
}
