// Times one decode step's attention as hymba-opt lowers it (bench/attention.py
// builds it): one query row of Hymba-1.5B's shape (25 heads, 5 KV heads,
// head dims 64 / 128, window 1024, 128 meta tokens) against a KV cache
// holding positions [0, POS), the current key and value in the chunk.
//
//   ./harness POS LAYERS REPS   prints: pos=P layers=L min_ms=.. median_ms=..
//                               gbs=.. maxerr=..
//
// LAYERS distinct caches are cycled (one per layer, as a decode step reads
// them), so with the default 32 they come from memory, not the caches; one
// call per layer is one step. The first layer's output is checked against
// a double-precision softmax(q k^T / 8) v of the same values; a relative
// error above 1e-4 exits 1. The fastest step (min) and the median of REPS
// are reported; GB/s is the K and V bytes a step reads / the fastest step.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

enum { HEADS = 25, KV = 5, QD = 64, VD = 128, CAP = 1152 };

typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} Mem2F;

void _mlir_ciface_attention(Mem2F *q, Mem2F *k, Mem2F *v, Mem2F *kc, Mem2F *vc,
                            int64_t pos, Mem2F *out);

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float uniform(void) { // [-1, 1)
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((rng >> 40) & 0xFFFFFF) / (float)(1 << 23) - 1.0f;
}

// On 2 MB pages, as the executables' state arena.
static float *bigBuffer(size_t floats) {
  size_t huge = (size_t)2 << 20, bytes = floats * sizeof(float);
  char *raw = mmap(NULL, bytes + huge, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  float *p = (float *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
  madvise(p, bytes, MADV_HUGEPAGE);
  for (size_t i = 0; i < floats; ++i)
    p[i] = uniform();
  return p;
}

static Mem2F rows(float *p, int64_t n, int64_t width) {
  Mem2F m = {p, p, 0, {n, width}, {width, 1}};
  return m;
}

static int byTime(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

// Max relative error of `out` against float64 attention of layer 0.
static double check(const float *q, const float *k, const float *v,
                    const float *kc, const float *vc, int64_t pos,
                    const float *out) {
  static double score[CAP + 1];
  double maxErr = 0;
  for (int h = 0; h < HEADS; ++h) {
    int g = h / (HEADS / KV);
    double m = -INFINITY, sum = 0;
    for (int64_t j = 0; j <= pos; ++j) {
      const float *kr = j < pos ? kc + j * KV * QD : k;
      double s = 0;
      for (int d = 0; d < QD; ++d)
        s += (double)q[h * QD + d] * kr[g * QD + d];
      score[j] = s / 8.0;
      m = fmax(m, score[j]);
    }
    for (int64_t j = 0; j <= pos; ++j)
      sum += score[j] = exp(score[j] - m);
    for (int d = 0; d < VD; ++d) {
      double o = 0, mag = 0;
      for (int64_t j = 0; j <= pos; ++j) {
        const float *vr = j < pos ? vc + j * KV * VD : v;
        o += score[j] * vr[g * VD + d];
        mag += score[j] * fabs(vr[g * VD + d]);
      }
      double err = fabs(out[h * VD + d] - o / sum) / (mag / sum + 1e-30);
      maxErr = fmax(maxErr, err);
    }
  }
  return maxErr;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s POS LAYERS REPS\n", argv[0]);
    return 2;
  }
  int64_t pos = atoll(argv[1]);
  int layers = atoi(argv[2]), reps = atoi(argv[3]);
  // Positions [0, pos) sit in cache rows 0..pos-1 only below meta + window.
  if (pos < 0 || pos >= CAP || layers < 1 || reps < 1 || reps > 1000) {
    fprintf(stderr, "need 0 <= POS < %d, LAYERS >= 1, 1 <= REPS <= 1000\n",
            CAP);
    return 2;
  }
  float **kc = malloc(layers * sizeof(float *));
  float **vc = malloc(layers * sizeof(float *));
  for (int l = 0; l < layers; ++l) {
    kc[l] = bigBuffer((size_t)CAP * KV * QD);
    vc[l] = bigBuffer((size_t)CAP * KV * VD);
  }
  static float q[HEADS * QD], k[KV * QD], v[KV * VD], out[HEADS * VD];
  for (int i = 0; i < HEADS * QD; ++i)
    q[i] = uniform();
  for (int i = 0; i < KV * QD; ++i)
    k[i] = uniform();
  for (int i = 0; i < KV * VD; ++i)
    v[i] = uniform();
  Mem2F mq = rows(q, 1, HEADS * QD), mk = rows(k, 1, KV * QD),
        mv = rows(v, 1, KV * VD), mo = rows(out, 1, HEADS * VD);

  Mem2F kc0 = rows(kc[0], CAP, KV * QD), vc0 = rows(vc[0], CAP, KV * VD);
  _mlir_ciface_attention(&mq, &mk, &mv, &kc0, &vc0, pos, &mo);
  double maxErr = check(q, k, v, kc[0], vc[0], pos, out);
  if (!(maxErr <= 1e-4)) {
    fprintf(stderr, "attention output differs from float64: %g\n", maxErr);
    return 1;
  }

  double *times = malloc(reps * sizeof(double));
  for (int r = 0; r < reps; ++r) {
    double t = now();
    for (int l = 0; l < layers; ++l) {
      Mem2F mkc = rows(kc[l], CAP, KV * QD), mvc = rows(vc[l], CAP, KV * VD);
      _mlir_ciface_attention(&mq, &mk, &mv, &mkc, &mvc, pos, &mo);
    }
    times[r] = now() - t;
  }
  qsort(times, reps, sizeof(double), byTime);
  double bytes = (double)layers * pos * KV * (QD + VD) * sizeof(float);
  printf("pos=%lld layers=%d min_ms=%.3f median_ms=%.3f gbs=%.2f maxerr=%.2e\n",
         (long long)pos, layers, times[0] * 1e3, times[reps / 2] * 1e3,
         bytes / times[0] / 1e9, maxErr);
  return 0;
}
