/*
** pi_ref.c: pi from n random points by hand: iteration i (1-based) draws
** two uniforms from stream i (set up in batches, as generated kernels do); per-block integer counts combined in block
** order, as par.preduce("+", ...) does. Env: N (10^8), SEED (42), REPS (5).
*/
#include "ref.h"

typedef struct pi { uint64_t seed; int64_t *count; } pi;

/* Stream states of iterations first.. first + BATCH - 1, set up together
** in a loop the compiler vectorises, as generated kernels do (kernel_rt.h's
** prt_batch); the same states as par_stream_init. */
#define BATCH 128
typedef struct batch { uint64_t k1, k2, hi[BATCH], lo[BATCH]; } batch;

static void fill(batch *b, int64_t first) {
  int j;
#pragma omp simd
  for (j = 0; j < BATCH; j++) {
    uint64_t i = (uint64_t)first + (uint64_t)j;
    b->hi[j] = par_mix_a(i ^ b->k1);
    b->lo[j] = par_mix_b(i ^ b->k2);
  }
}

static int block(void *ctx, int64_t lo, int64_t hi, int64_t b, int tid) {
  const pi *k = ctx;
  int64_t i, c = 0;
  batch s;
  pcg64 g = {0};
  (void)tid;
  s.k1 = par_mix_a(k->seed + 0x9e3779b97f4a7c15ULL);
  s.k2 = par_mix_b(k->seed + 0x6a09e667f3bcc909ULL);
  g.inc = ((par_u128)par_mix_b(k->seed ^ 0xa54ff53a5f1d36f1ULL) << 64
           | par_mix_a(k->seed ^ 0x510e527fade682d1ULL)) | 1;
  for (i = lo; i < hi; i++) {
    double x, y;
    int64_t j = (i - lo) % BATCH;
    if (j == 0) fill(&s, i + 1);
    g.state = ((par_u128)s.hi[j] << 64) | s.lo[j];
    x = pcg64_next_double(&g);
    y = pcg64_next_double(&g);
    c += (x * x + y * y < 1) ? 1 : 0;
  }
  k->count[b] = c;
  return 0;
}

int main(void) {
  int64_t n = ref_env("N", 100000000), nb = par_nblocks(n, PAR_BLOCK), j, total = 0;
  int reps = (int)ref_env("REPS", 5), k;
  pi p = {(uint64_t)ref_env("SEED", 42), NULL};
  double *times = malloc(sizeof(double) * (size_t)(reps > 0 ? reps : 1));
  p.count = malloc(sizeof(int64_t) * (size_t)nb);
  for (k = 0; k < reps; k++) {
    double t0 = ref_now();
    par_run(n, PAR_BLOCK, 0, block, &p);
    for (total = 0, j = 0; j < nb; j++) total += p.count[j];
    times[k] = ref_now() - t0;
  }
  printf("result %.17g\n", 4.0 * (double)total / (double)n);
  printf("time %.6f\n", ref_median(times, reps));
  return 0;
}
