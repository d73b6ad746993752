// Memory read bandwidth: OMP_NUM_THREADS threads sum disjoint parts of a
// buffer (vectorized by the compiler); prints the best GB/s of the passes.
//   ./bandwidth [GIB=1] [PASSES=5]
// Built and run by bench/machine.py.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  double gib = argc > 1 ? atof(argv[1]) : 1.0;
  int passes = argc > 2 ? atoi(argv[2]) : 5;
  size_t n = (size_t)(gib * (1 << 30)) / sizeof(float);
  if (n < 1024 || passes < 1) {
    fprintf(stderr, "usage: %s [GIB >= 4e-6] [PASSES >= 1]\n", argv[0]);
    return 2;
  }
  float *a = aligned_alloc(64, n * sizeof(float));
  if (!a) {
    fprintf(stderr, "bandwidth: cannot allocate %.2f GiB\n", gib);
    return 1;
  }
  // Touch every page first, on the threads that will read it.
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i)
    a[i] = 1.0f;
  double best = 0;
  for (int rep = 0; rep < passes; ++rep) {
    double t = omp_get_wtime();
    float total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (size_t i = 0; i < n; ++i)
      total += a[i];
    t = omp_get_wtime() - t;
    if (total == 42.0f) // keeps the sum alive
      puts("");
    double gbs = n * sizeof(float) / t / 1e9;
    if (gbs > best)
      best = gbs;
  }
  printf("%.2f\n", best);
  free(a);
  return 0;
}
