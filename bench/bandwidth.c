// Memory read bandwidth: threads sum disjoint parts of a 1 GiB buffer
// (vectorized by the compiler). Prints GB/s. Built and run by bench/run.py.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  size_t n = (size_t)1 << 28; // floats: 1 GiB
  float *a = aligned_alloc(64, n * sizeof(float));
  memset(a, 1, n * sizeof(float)); // touch every page first
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    double t = omp_get_wtime();
    float total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (size_t i = 0; i < n; ++i)
      total += a[i];
    t = omp_get_wtime() - t;
    if (total == 42.0f)
      puts("");
    double gbs = n * sizeof(float) / t / 1e9;
    if (gbs > best)
      best = gbs;
  }
  printf("%.2f\n", best);
  free(a);
  return 0;
}
